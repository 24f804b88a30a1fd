/*
 * vm.c — the bytecode interpreter.
 *
 * A register-cached stack machine: the hot loop keeps ip, sp, the frame's
 * base and constants in locals and writes them back (SYNC) only before an
 * operation that can allocate, call or fail, so the collector and error
 * reports see a consistent stack. Dispatch is computed goto under GCC and
 * Clang (a switch elsewhere); tracing swaps in a dispatch table whose every
 * entry prints the instruction first, so the untraced loop pays nothing.
 *
 * Calls. A positional call of a function without defaults or *rest whose
 * argument count matches pushes a frame directly. Every other call goes
 * through vm_bind_args, which maps positional and keyword arguments onto the
 * parameter list and names the function and parameter in its errors.
 * Natives run on the same stack (their bound arguments and result slot are
 * stack slots, hence GC roots). A native may call back into the VM
 * (mlp_call): that runs a nested loop until the frame it pushed returns.
 */
#include <ctype.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "error.h"
#include "opcodes.h"
#include "value.h"
#include "vm.h"

/* -DVM_COMPUTED_GOTO=0 builds the portable switch (to test it). */
#ifndef VM_COMPUTED_GOTO
#if defined(__GNUC__)
#define VM_COMPUTED_GOTO 1
#else
#define VM_COMPUTED_GOTO 0
#endif
#endif

/* ---- errors ---- */

/* A NaN's sign is meaningless and printf writes it ("-nan" for 0/0 on
 * x86): messages say "nan", as str() does. Rewrites the word -nan. */
static void plain_nan(char *m) {
    for (char *p = strstr(m, "-nan"); p; p = strstr(p + 1, "-nan")) {
        bool word = (p == m || !isalnum((unsigned char)p[-1])) && !isalnum((unsigned char)p[4]);
        if (word) memmove(p, p + 1, strlen(p + 1) + 1);
    }
}

/* The pending error: message, not yet located; io marks it an I/O error
 * (exit 74 rather than 70). */
static bool raise_v(mlp_vm *vm, bool io, const char *fmt, va_list ap) {
    vsnprintf(vm->err_msg, sizeof vm->err_msg, fmt, ap);
    plain_nan(vm->err_msg);
    vm->err_pending = true;
    vm->err_located = false;
    vm->err_compile = false;
    vm->err_io = io;
    return false;
}

bool mlp_raise(mlp_vm *vm, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    raise_v(vm, false, fmt, ap);
    va_end(ap);
    return false;
}

bool mlp_raise_io(mlp_vm *vm, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    raise_v(vm, true, fmt, ap);
    va_end(ap);
    return false;
}

void vm_guard_enter(mlp_vm *vm, VmGuard *g) {
    g->prev = vm->guard;
    g->nroots = vm->nroots;
    g->gc_paused = vm->gc_paused;
    g->nest = vm->nest;
    vm->guard = g;
}

void vm_guard_leave(mlp_vm *vm, VmGuard *g) { vm->guard = g->prev; }

void vm_guard_caught(mlp_vm *vm, VmGuard *g) {
    vm->nroots = g->nroots;
    vm->gc_paused = g->gc_paused;
    vm->nest = g->nest;
    vm->guard = g->prev;
}

_Noreturn void vm_throw(mlp_vm *vm, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(vm->err_msg, sizeof vm->err_msg, fmt, ap);
    va_end(ap);
    vm->err_pending = true;
    vm->err_located = false;
    vm->err_compile = false;
    vm->err_io = false;
    if (vm->guard) longjmp(vm->guard->jb, 1);
    fprintf(stderr, "mlp: error: %s\n", vm->err_msg);
    exit(70);
}

static void frame_loc(Frame *f, int *line, int *col) {
    ObjProto *p = f->cl->proto;
    long off = (long)(f->ip - p->code) - 1;
    if (off < 0) off = 0;
    if (off >= (long)p->count) off = (long)p->count - 1;
    *line = p->count ? p->lines[off] : 0;
    *col = p->count ? p->cols[off] : 0;
}

#define TRACE_KEEP 20

void vm_locate_error(mlp_vm *vm) {
    if (!vm->err_pending || vm->err_located) return;
    vm->err_located = true;
    StrBuf b = {0};
    if (vm->nframes == 0) {
        sb_printf(&b, "error: %s\n", vm->err_msg);
    } else {
        /* A run of identical frames (the same function at the same place:
         * deep recursion) is shown once and counted; of very many different
         * frames, the innermost and outermost TRACE_KEEP are shown. */
        int shown = 0, skipped = 0;
        for (int i = vm->nframes - 1; i >= 0; i--) {
            Frame *f = &vm->frames[i];
            ObjProto *p = f->cl->proto;
            int line, col;
            frame_loc(f, &line, &col);
            if (i == vm->nframes - 1) {
                err_format(&b, p->source->name, p->source->text, p->source->len, line, col,
                           vm->err_msg);
            }
            int same = 0;
            while (i - same - 1 >= 0) {
                Frame *g = &vm->frames[i - same - 1];
                int l2, c2;
                frame_loc(g, &l2, &c2);
                if (g->cl->proto != p || l2 != line || c2 != col) break;
                same++;
            }
            if (shown >= TRACE_KEEP && i - same >= TRACE_KEEP) { /* in the middle: counted */
                skipped += same + 1;
                i -= same;
                continue;
            }
            if (skipped) sb_printf(&b, "  ... %d more frames\n", skipped);
            skipped = 0;
            if (p->name) sb_printf(&b, "  at %.*s (%s:%d:%d)\n", (int)p->name->len,
                                   STR_CHARS(p->name), p->source->name, line, col);
            else sb_printf(&b, "  at %s (%s:%d:%d)\n", p->is_script ? "<script>" : "<fn>",
                           p->source->name, line, col);
            if (same) sb_printf(&b, "  ... the same frame %d more time%s\n", same, same == 1 ? "" : "s");
            shown++;
            i -= same;
        }
        if (skipped) sb_printf(&b, "  ... %d more frames\n", skipped);
    }
    free(vm->err_report);
    vm->err_report = b.p;
    vm->err_report_len = b.n;
}

void vm_clear_error(mlp_vm *vm) {
    vm->err_pending = false;
    vm->err_compile = false;
    vm->err_io = false;
    vm->err_located = false;
    vm->err_msg[0] = '\0';
    free(vm->err_report);
    vm->err_report = NULL;
    vm->err_report_len = 0;
}

void vm_print_error(mlp_vm *vm) {
    vm_locate_error(vm);
    if (vm->err_report && !vm->exiting) err_write(vm, vm->err_report, vm->err_report_len);
    vm_clear_error(vm);
}

/* ---- upvalues ----
 *
 * A closure reaches a variable of an enclosing function through an upvalue.
 * While that function's frame lives the upvalue is "open": it points at the
 * stack slot, so the function and every closure see one variable (the
 * stack never moves, vm.h). When the slot dies (its scope ends, the frame
 * returns, an error unwinds) the upvalue is "closed": the value moves into
 * the upvalue itself and loc points there, so closures keep it alive.
 *
 * The open upvalues form one list sorted by slot address, highest first:
 * capture finds an existing upvalue for a slot (two closures capturing
 * the same variable must share it) by walking only the slots above it,
 * and close_upvals closes a whole frame or scope by popping from the head. */

static ObjUpvalue *capture(mlp_vm *vm, Value *slot) {
    ObjUpvalue **link = &vm->open_upvals;
    while (*link && (*link)->loc > slot) link = &(*link)->next_open;
    if (*link && (*link)->loc == slot) return *link;
    ObjUpvalue *u = upvalue_new(vm, slot);
    u->next_open = *link;
    *link = u;
    return u;
}

static void close_upvals(mlp_vm *vm, Value *from) {
    while (vm->open_upvals && vm->open_upvals->loc >= from) {
        ObjUpvalue *u = vm->open_upvals;
        u->closed = *u->loc;
        u->loc = &u->closed;
        vm->open_upvals = u->next_open;
    }
}

/* ---- argument binding ---- */

bool vm_bind_args(mlp_vm *vm, const char *fname, Signature *sig, Value *args, int argc,
                  Value *kwv, int nkw, ObjList *kwnames, Value *out, ObjList **star_out) {
    int n = sig->n;
    int fixed = sig->star >= 0 ? sig->star : n; /* positional parameters */
    for (int i = 0; i < n; i++) out[i] = undef_val();
    *star_out = NULL;
    if (argc > fixed && sig->star < 0) {
        return vm_error(vm, "%s: too many arguments (takes %d, got %d)", fname, fixed, argc);
    }
    for (int i = 0; i < argc && i < fixed; i++) out[i] = args[i];
    if (sig->star >= 0) {
        int extra = argc > fixed ? argc - fixed : 0;
        ObjList *l = list_new(vm, (uint32_t)extra);
        for (int i = 0; i < extra; i++) l->items[i] = args[fixed + i];
        l->count = (uint32_t)extra;
        out[sig->star] = obj_val(MLP_T_LIST, l);
        *star_out = l;
    }
    for (int k = 0; k < nkw; k++) {
        ObjString *name = AS_STRING(kwnames->items[k]);
        int j = -1;
        for (int i = 0; i < n; i++)
            if (i != sig->star && str_eq(sig->names[i], name)) {
                j = i;
                break;
            }
        if (j < 0) {   /* name the ones it takes: the misspelling is usually plain then */
            char known[256] = "";
            for (int i = 0, at = 0; i < n && at < (int)sizeof known; i++)
                if (i != sig->star)
                    at += snprintf(known + at, sizeof known - (size_t)at, "%s%.*s", at ? ", " : "",
                                   (int)sig->names[i]->len, STR_CHARS(sig->names[i]));
            return vm_error(vm, "%s: unknown keyword argument '%.*s' (%s%s)", fname,
                            (int)name->len, STR_CHARS(name), known[0] ? "known: " : "",
                            known[0] ? known : "it takes no arguments");
        }
        if (!IS_UNDEF(out[j]))
            return vm_error(vm, "%s: argument '%.*s' given twice", fname, (int)name->len,
                            STR_CHARS(name));
        out[j] = kwv[k];
    }
    for (int i = 0; i < n; i++) {
        if (!IS_UNDEF(out[i])) continue;
        if (!sig->has_default[i])
            return vm_error(vm, "%s: missing argument '%.*s'", fname, (int)sig->names[i]->len,
                            STR_CHARS(sig->names[i]));
        if (sig->defaults) out[i] = sig->defaults[i];
    }
    return true;
}

static const char *fn_name(ObjProto *p, char *buf, size_t n) {
    if (p->name) snprintf(buf, n, "%.*s", (int)p->name->len, STR_CHARS(p->name));
    else snprintf(buf, n, "<fn>");
    return buf;
}

/* ---- calls ---- */

typedef enum { CALL_ERR, CALL_DONE, CALL_FRAME } CallResult;

static CallResult push_frame(mlp_vm *vm, ObjClosure *cl, Value *base) {
    if (vm->nframes >= VM_FRAMES_MAX || base + cl->proto->max_stack >= vm->stack_end) {
        vm_error(vm, "stack overflow (too deep recursion)");
        return CALL_ERR;
    }
    Frame *f = &vm->frames[vm->nframes++];
    f->cl = cl;
    f->ip = cl->proto->code;
    f->base = base;
    return CALL_FRAME;
}

/* The stack holds [callee, argc positional, nkw keyword values]; vm->sp is
 * just above them. Either pushes a frame, or calls a native / handle and
 * leaves its result in the callee slot (sp just above it). */
static CallResult call_value(mlp_vm *vm, int argc, int nkw, ObjList *kwnames) {
    Value *callee = vm->sp - argc - nkw - 1;
    Value *args = callee + 1;
    Value f = *callee;
    char nbuf[128];
    switch (f.type) {
    case MLP_T_FUNCTION: {
        ObjClosure *cl = AS_CLOSURE(f);
        ObjProto *p = cl->proto;
        if (p->simple && nkw == 0 && argc == p->sig.n) return push_frame(vm, cl, args);
        Value out[256];
        ObjList *star;
        if (args + p->sig.n + 1 >= vm->stack_end) {
            vm_error(vm, "stack overflow");
            return CALL_ERR;
        }
        if (!vm_bind_args(vm, fn_name(p, nbuf, sizeof nbuf), &p->sig, args, argc, args + argc,
                          nkw, kwnames, out, &star))
            return CALL_ERR;
        memcpy(args, out, sizeof(Value) * (size_t)p->sig.n);
        vm->sp = args + p->sig.n;
        return push_frame(vm, cl, args);
    }
    case MLP_T_NATIVE: {
        ObjNative *nat = AS_NATIVE(f);
        int n = argc;
        if (!nat->raw && !(nkw == 0 && argc == nat->sig.n && nat->sig.star < 0)) {
            /* (all positional and exactly as many as declared: already bound) */
            Value out[256];
            ObjList *star;
            if (args + nat->sig.n + 2 >= vm->stack_end) {
                vm_error(vm, "stack overflow");
                return CALL_ERR;
            }
            if (!vm_bind_args(vm, nat->def->name, &nat->sig, args, argc, args + argc, nkw,
                              kwnames, out, &star))
                return CALL_ERR;
            n = nat->sig.n;
            memcpy(args, out, sizeof(Value) * (size_t)n);
        } else if (nkw) {
            vm_error(vm, "%s: takes no keyword arguments", nat->def->name);
            return CALL_ERR;
        }
        Value *res = args + n;
        *res = mlp_nil();
        vm->sp = res + 1;
        bool ok = nat->def->fn(vm, args, n, res);
        if (!ok) {
            if (!vm->err_pending) vm_error(vm, "%s: failed", nat->def->name);
            return CALL_ERR;
        }
        *callee = *res;
        vm->sp = callee + 1;
        return CALL_DONE;
    }
    case MLP_T_HANDLE: {
        ObjHandle *h = AS_HANDLE(f);
        if (!h->cls->call) {
            vm_error(vm, "cannot call a %s", h->cls->name);
            return CALL_ERR;
        }
        Value kw = mlp_nil();
        if (nkw) {
            ObjRecord *r = rec_new(vm);
            kw = obj_val(MLP_T_RECORD, r);
            *vm->sp++ = kw; /* rooted while filled */
            for (int i = 0; i < nkw; i++) rec_set(vm, r, AS_STRING(kwnames->items[i]), args[argc + i]);
        }
        Value *res = vm->sp;
        *res = mlp_nil();
        vm->sp = res + 1;
        bool ok = h->cls->call(vm, h->data, args, argc, kw, res);
        if (!ok) {
            if (!vm->err_pending) vm_error(vm, "%s: call failed", h->cls->name);
            return CALL_ERR;
        }
        *callee = *res;
        vm->sp = callee + 1;
        return CALL_DONE;
    }
    default:
        vm_error(vm, "cannot call a %s", type_name(f));
        return CALL_ERR;
    }
}

/* ---- operators ---- */

/* len is a double: a range's length may pass 2^32 (exact to 2^53). */
static bool num_index(mlp_vm *vm, Value idx, double len, const char *what, int64_t *out) {
    if (!IS_NUM(idx)) return vm_error(vm, "%s index must be a number, not %s", what, type_name(idx));
    double d = idx.as.n;
    if (d != floor(d)) return vm_error(vm, "%s index must be an integer, got %g", what, d);
    if (d < 0) d += len;
    if (d < 0 || d >= len) {
        char a[32], b[32];
        fmt_number(idx.as.n, a);
        fmt_number(len, b);
        return vm_error(vm, "%s index %s out of range (length %s)", what, a, b);
    }
    *out = (int64_t)d;
    return true;
}

/* Byte offset of code point i in s. */
static size_t cp_offset(ObjString *s, int64_t i) {
    const char *p = STR_CHARS(s);
    size_t off = 0;
    while (i > 0 && off < s->len) {
        off += (size_t)utf8_len((unsigned char)p[off]);
        i--;
    }
    return off > s->len ? s->len : off;
}

static bool get_index(mlp_vm *vm, Value *slot) {
    Value o = slot[0], idx = slot[1];
    int64_t i;
    switch (o.type) {
    case MLP_T_LIST: {
        ObjList *l = AS_LIST(o);
        if (!num_index(vm, idx, l->count, "list", &i)) return false;
        slot[0] = l->items[i];
        return true;
    }
    case MLP_T_STRING: {
        ObjString *s = AS_STRING(o);
        double n = (double)utf8_count(STR_CHARS(s), s->len);
        if (!num_index(vm, idx, n, "string", &i)) return false;
        size_t a = cp_offset(s, i);
        size_t l = (size_t)utf8_len((unsigned char)STR_CHARS(s)[a]);
        if (a + l > s->len) l = s->len - a;
        slot[0] = obj_val(MLP_T_STRING, str_new(vm, STR_CHARS(s) + a, l));
        return true;
    }
    case MLP_T_RECORD: {
        if (idx.type != MLP_T_STRING)
            return vm_error(vm, "record key must be a string, not %s", type_name(idx));
        int32_t e = rec_find(AS_RECORD(o), AS_STRING(idx));
        if (e < 0)
            return vm_error(vm, "record has no field '%.*s'", (int)AS_STRING(idx)->len,
                            STR_CHARS(AS_STRING(idx)));
        slot[0] = AS_RECORD(o)->entries[e].val;
        return true;
    }
    case MLP_T_RANGE: {
        ObjRange *r = AS_RANGE(o);
        if (!num_index(vm, idx, range_len(r), "range", &i)) return false;
        slot[0] = mlp_number(r->start + (double)i * r->step);
        return true;
    }
    case MLP_T_HANDLE:
        if (AS_HANDLE(o)->cls->index) {
            ObjHandle *h = AS_HANDLE(o);
            Value out = mlp_nil();
            if (!h->cls->index(vm, o, h->data, idx, &out)) {
                if (!vm->err_pending) vm_error(vm, "cannot index a %s", h->cls->name);
                return false;
            }
            slot[0] = out;
            return true;
        }
        return vm_error(vm, "cannot index a %s", type_name(o));
    default: return vm_error(vm, "cannot index a %s", type_name(o));
    }
}

static bool set_index(mlp_vm *vm, Value *slot) {
    Value o = slot[0], idx = slot[1], v = slot[2];
    int64_t i;
    switch (o.type) {
    case MLP_T_LIST:
        if (!num_index(vm, idx, AS_LIST(o)->count, "list", &i)) return false;
        AS_LIST(o)->items[i] = v;
        return true;
    case MLP_T_RECORD:
        if (idx.type != MLP_T_STRING)
            return vm_error(vm, "record key must be a string, not %s", type_name(idx));
        rec_set(vm, AS_RECORD(o), AS_STRING(idx), v);
        return true;
    default: return vm_error(vm, "cannot assign to an element of a %s", type_name(o));
    }
}

static bool slice_bound(mlp_vm *vm, Value v, int64_t len, int64_t dflt, int64_t *out) {
    if (v.type == MLP_T_NIL) {
        *out = dflt;
        return true;
    }
    if (!IS_NUM(v) || v.as.n != floor(v.as.n))
        return vm_error(vm, "slice bounds must be integers, not %s", type_name(v));
    double d = v.as.n;
    if (d < 0) d += (double)len;
    if (d < 0) d = 0;
    if (d > (double)len) d = (double)len;
    *out = (int64_t)d;
    return true;
}

static bool do_slice(mlp_vm *vm, Value *slot) {
    Value o = slot[0];
    int64_t a, b;
    if (o.type == MLP_T_LIST) {
        ObjList *l = AS_LIST(o);
        if (!slice_bound(vm, slot[1], l->count, 0, &a) ||
            !slice_bound(vm, slot[2], l->count, l->count, &b))
            return false;
        uint32_t n = b > a ? (uint32_t)(b - a) : 0;
        ObjList *r = list_new(vm, n);
        if (n) memcpy(r->items, l->items + a, sizeof(Value) * n);
        r->count = n;
        slot[0] = obj_val(MLP_T_LIST, r);
        return true;
    }
    if (o.type == MLP_T_STRING) {
        ObjString *s = AS_STRING(o);
        int64_t n = (int64_t)utf8_count(STR_CHARS(s), s->len);
        if (!slice_bound(vm, slot[1], n, 0, &a) || !slice_bound(vm, slot[2], n, n, &b))
            return false;
        if (b < a) b = a;
        size_t x = cp_offset(s, a), y = cp_offset(s, b);
        slot[0] = obj_val(MLP_T_STRING, str_new(vm, STR_CHARS(s) + x, y - x));
        return true;
    }
    return vm_error(vm, "cannot slice a %s", type_name(o));
}

static const char *op_symbol(Opcode op) {
    switch (op) {
    case OP_ADD: case OP_ADD_K: case OP_ADD_LOCAL: return "+";
    case OP_SUB: return "-";
    case OP_MUL: return "*";
    case OP_DIV: return "/";
    case OP_MOD: return "%";
    case OP_POW: return "**";
    case OP_LT: case OP_JUMP_IF_NOT_LT: return "<";
    case OP_LE: case OP_JUMP_IF_NOT_LE: return "<=";
    case OP_GT: case OP_JUMP_IF_NOT_GT: return ">";
    case OP_GE: case OP_JUMP_IF_NOT_GE: return ">=";
    default: return "?";
    }
}

static double num_mod(double a, double b) {
    double m = fmod(a, b);
    if (m != 0 && ((m < 0) != (b < 0))) m += b;
    return m;
}

/* Arithmetic beyond number op number: string and list +, list * n.
 * slot[0] op slot[1] -> slot[0]. */
static bool arith_slow(mlp_vm *vm, Opcode op, Value *slot) {
    Value a = slot[0], b = slot[1];
    if (op == OP_ADD && a.type == MLP_T_STRING && b.type == MLP_T_STRING) {
        slot[0] = obj_val(MLP_T_STRING, str_concat(vm, AS_STRING(a), AS_STRING(b)));
        return true;
    }
    if (op == OP_ADD && a.type == MLP_T_LIST && b.type == MLP_T_LIST) {
        ObjList *x = AS_LIST(a), *y = AS_LIST(b);
        if ((double)x->count + y->count > LIST_MAX) list_too_long(vm, (double)x->count + y->count);
        ObjList *r = list_new(vm, x->count + y->count);
        if (x->count) memcpy(r->items, x->items, sizeof(Value) * x->count);
        if (y->count) memcpy(r->items + x->count, y->items, sizeof(Value) * y->count);
        r->count = x->count + y->count;
        slot[0] = obj_val(MLP_T_LIST, r);
        return true;
    }
    if (op == OP_MUL && (a.type == MLP_T_LIST || b.type == MLP_T_LIST) &&
        (IS_NUM(a) || IS_NUM(b))) {
        ObjList *x = a.type == MLP_T_LIST ? AS_LIST(a) : AS_LIST(b);
        double k = IS_NUM(a) ? a.as.n : b.as.n;
        if (k != floor(k) || k < 0)
            return vm_error(vm, "list * n needs a non-negative integer n, got %g", k);
        double total = x->count ? k * x->count : 0; /* [] * inf is [] */
        if (total > LIST_MAX) list_too_long(vm, total);
        ObjList *r = list_new(vm, (uint32_t)total);
        for (uint32_t i = 0; x->count && i < (uint32_t)k; i++)
            memcpy(r->items + (size_t)i * x->count, x->items, sizeof(Value) * x->count);
        r->count = (uint32_t)total;
        slot[0] = obj_val(MLP_T_LIST, r);
        return true;
    }
    if (op == OP_MUL && (a.type == MLP_T_STRING || b.type == MLP_T_STRING) &&
        (IS_NUM(a) || IS_NUM(b))) {
        ObjString *x = a.type == MLP_T_STRING ? AS_STRING(a) : AS_STRING(b);
        double k = IS_NUM(a) ? a.as.n : b.as.n;
        if (k != floor(k) || k < 0)
            return vm_error(vm, "string * n needs a non-negative integer n, got %g", k);
        if (k * x->len > 1e9) return vm_error(vm, "string * %g is too large", k);
        StrBuf sb = {0};
        for (uint32_t i = 0; i < (uint32_t)k; i++) sb_add(&sb, STR_CHARS(x), x->len);
        slot[0] = obj_val(MLP_T_STRING, str_new(vm, sb.p ? sb.p : "", sb.n));
        free(sb.p);
        return true;
    }
    if ((op == OP_ADD || op == OP_SUB || op == OP_MUL || op == OP_DIV) &&
        ((a.type == MLP_T_HANDLE && AS_HANDLE(a)->cls->arith) ||
         (b.type == MLP_T_HANDLE && AS_HANDLE(b)->cls->arith))) {
        ObjHandle *h = a.type == MLP_T_HANDLE && AS_HANDLE(a)->cls->arith ? AS_HANDLE(a) : AS_HANDLE(b);
        Value out = mlp_nil();
        if (!h->cls->arith(vm, op_symbol(op)[0], a, b, &out)) {
            if (!vm->err_pending) vm_error(vm, "cannot apply '%s' to %s and %s", op_symbol(op),
                                           type_name(a), type_name(b));
            return false;
        }
        slot[0] = out;
        return true;
    }
    return vm_error(vm, "cannot apply '%s' to %s and %s", op_symbol(op), type_name(a),
                    type_name(b));
}

/* a < b etc. for numbers and strings; *res gets the truth. */
static bool compare(mlp_vm *vm, Opcode op, Value a, Value b, bool *res) {
    int c;
    if (IS_NUM(a) && IS_NUM(b)) {
        double x = a.as.n, y = b.as.n;
        switch (op) {
        case OP_LT: case OP_JUMP_IF_NOT_LT: *res = x < y; break;
        case OP_LE: case OP_JUMP_IF_NOT_LE: *res = x <= y; break;
        case OP_GT: case OP_JUMP_IF_NOT_GT: *res = x > y; break;
        default: *res = x >= y; break;
        }
        return true;
    }
    if (a.type == MLP_T_STRING && b.type == MLP_T_STRING) {
        ObjString *x = AS_STRING(a), *y = AS_STRING(b);
        size_t n = x->len < y->len ? x->len : y->len;
        c = memcmp(STR_CHARS(x), STR_CHARS(y), n);
        if (c == 0) c = x->len < y->len ? -1 : x->len > y->len;
        switch (op) {
        case OP_LT: case OP_JUMP_IF_NOT_LT: *res = c < 0; break;
        case OP_LE: case OP_JUMP_IF_NOT_LE: *res = c <= 0; break;
        case OP_GT: case OP_JUMP_IF_NOT_GT: *res = c > 0; break;
        default: *res = c >= 0; break;
        }
        return true;
    }
    return vm_error(vm, "cannot compare %s and %s with '%s'", type_name(a), type_name(b),
                    op_symbol(op));
}

static bool get_field(mlp_vm *vm, Value *slot, ObjString *name) {
    Value o = *slot;
    switch (o.type) {
    case MLP_T_RECORD: {
        int32_t e = rec_find(AS_RECORD(o), name);
        if (e < 0)
            return vm_error(vm, "record has no field '%.*s'", (int)name->len, STR_CHARS(name));
        *slot = AS_RECORD(o)->entries[e].val;
        return true;
    }
    case MLP_T_MODULE: {
        ObjNamespace *ns = AS_MODULE(o)->ns;
        int g = ns_find(ns, STR_CHARS(name), name->len);
        if (g < 0 || IS_UNDEF(ns->values[g]))
            return vm_error(vm, "module '%.*s' has no member '%.*s'", (int)ns->name->len,
                            STR_CHARS(ns->name), (int)name->len, STR_CHARS(name));
        *slot = ns->values[g];
        return true;
    }
    case MLP_T_HANDLE: {
        ObjHandle *h = AS_HANDLE(o);
        if (!h->cls->get)
            return vm_error(vm, "%s has no field '%.*s'", h->cls->name, (int)name->len,
                            STR_CHARS(name));
        Value out = mlp_nil();
        const char *cname = str_cstr(vm, name);
        if (!h->cls->get(vm, o, h->data, cname, &out)) {
            if (!vm->err_pending)
                vm_error(vm, "%s has no field '%s'", h->cls->name, cname);
            return false;
        }
        *slot = out;
        return true;
    }
    default: {
        /* "a,b".split(","): the name is a builtin function; say how to call it */
        Value fnv;
        if ((o.type == MLP_T_STRING || o.type == MLP_T_LIST) &&
            mlp_get_global(vm, str_cstr(vm, name), &fnv) && fnv.type == MLP_T_NATIVE)
            return vm_error(vm, "cannot read field '%.*s' of a %s ('%.*s' is a function: "
                            "write %.*s(x, ...))", (int)name->len, STR_CHARS(name), type_name(o),
                            (int)name->len, STR_CHARS(name), (int)name->len, STR_CHARS(name));
        return vm_error(vm, "cannot read field '%.*s' of a %s", (int)name->len, STR_CHARS(name),
                        type_name(o));
    }
    }
}

/* ---- iteration ---- */

static bool for_prep(mlp_vm *vm, Value *s) {
    switch (s[0].type) {
    case MLP_T_RANGE: s[1] = mlp_number(AS_RANGE(s[0])->start); return true;
    case MLP_T_LIST:
    case MLP_T_STRING: s[1] = mlp_number(0); return true;
    case MLP_T_RECORD: {
        /* iterate over a snapshot of the keys */
        ObjRecord *r = AS_RECORD(s[0]);
        ObjList *l = list_new(vm, r->count);
        for (uint32_t i = 0; i < r->count; i++) l->items[i] = obj_val(MLP_T_STRING, r->entries[i].key);
        l->count = r->count;
        s[0] = obj_val(MLP_T_LIST, l);
        s[1] = mlp_number(0);
        return true;
    }
    case MLP_T_HANDLE: {
        /* a handle with len and index: iterate over a list of h[0], h[1], ... */
        ObjHandle *h = AS_HANDLE(s[0]);
        int64_t n;
        if (!h->cls->len || !h->cls->index)
            return vm_error(vm, "cannot iterate over a %s", type_name(s[0]));
        if (!h->cls->len(vm, h->data, &n)) return false;
        if (n > 100000000) return vm_error(vm, "cannot iterate over a %s of %lld items", h->cls->name, (long long)n);
        ObjList *l = list_new(vm, 0);
        s[1] = obj_val(MLP_T_LIST, l); /* rooted in the state slot while it fills */
        for (int64_t i = 0; i < n; i++) {
            Value x = mlp_nil();
            if (!h->cls->index(vm, s[0], h->data, mlp_number((double)i), &x)) return false;
            list_push(vm, l, x);
        }
        s[0] = s[1];
        s[1] = mlp_number(0);
        return true;
    }
    default: return vm_error(vm, "cannot iterate over a %s", type_name(s[0]));
    }
}

/* ---- the loop ---- */

static void trace_instr(mlp_vm *vm, Frame *f, uint8_t *ip, Value *sp) {
    StrBuf b = {0};
    sb_addc(&b, "          [");
    for (Value *v = f->base - 1; v < sp; v++) {
        if (v > f->base - 1) sb_addc(&b, ", ");
        if (!value_to_sb(vm, &b, *v, true)) vm_clear_error(vm);
    }
    sb_addc(&b, "]\n");
    disasm_instr(&b, f->cl->proto, (int)(ip - f->cl->proto->code));
    err_write(vm, b.p, b.n);
    free(b.p);
}

/* Operands. After a WIDE prefix (`wide` set until the next dispatch) each
 * is twice as wide: one byte becomes two, two become four. */
#define RAW_U16() (ip += 2, (uint32_t)(ip[-2] | (ip[-1] << 8)))
#define RAW_U32() (ip += 4, (uint32_t)ip[-4] | ((uint32_t)ip[-3] << 8) | ((uint32_t)ip[-2] << 16) | ((uint32_t)ip[-1] << 24))
#define READ_U8() (wide ? RAW_U16() : (uint32_t)*ip++)
#define READ_U16() (wide ? RAW_U32() : RAW_U16())
/* The loop keeps sp and ip in C locals. The collector finds its roots
 * through vm->sp (every slot below it is live) and an error is located
 * through frame->ip, so SYNC writes both back before anything that may
 * allocate (and so collect), call out or fail; LOAD_FRAME reloads the
 * cached frame after a call or return changed it. */
#define SYNC() (vm->sp = sp, frame->ip = ip)
/* A value copied as two 8-byte words (the type with its padding, then the
 * payload), not as one 16-byte move: arithmetic rewrites only a number's
 * payload, and a load that spans two smaller stores cannot take its bytes
 * from the store buffer, so it waits for them to reach the cache (a
 * store-forwarding stall: in fib(30) a fifth of the time went to one at
 * RETURN). Loads of either word then always find one store that covers
 * them. (The empty asm keeps GCC from merging the two loads into one
 * 16-byte load, which it otherwise does.) */
#define VCOPY(dst, src)                                  \
    do {                                                 \
        char *d_ = (char *)(dst);                        \
        const char *s_ = (const char *)(src);            \
        uint64_t w0_, w1_;                               \
        memcpy(&w0_, s_, 8);                             \
        memcpy(&w1_, s_ + 8, 8);                         \
        __asm__("" : "+r"(w0_), "+r"(w1_));              \
        memcpy(d_, &w0_, 8);                             \
        memcpy(d_ + 8, &w1_, 8);                         \
    } while (0)
#define LOAD_FRAME()                                  \
    do {                                              \
        frame = &vm->frames[vm->nframes - 1];         \
        ip = frame->ip;                               \
        base = frame->base;                           \
        consts = frame->cl->proto->consts;            \
        globals = frame->cl->proto->ns->values;       \
    } while (0)
#define THROW(...)                   \
    do {                             \
        SYNC();                      \
        vm_error(vm, __VA_ARGS__);   \
        goto error;                  \
    } while (0)
#define CHECK(expr)         \
    do {                    \
        SYNC();             \
        if (!(expr)) goto error; \
    } while (0)

#if VM_COMPUTED_GOTO
#define CASE(name) L_##name:
#define NEXT do { wide = 0; goto *dispatch[*ip++]; } while (0)
#else
#define CASE(name) case OP_##name:
#define NEXT continue /* the loop's top clears `wide` */
#endif

/* Runs until the frame count drops back to `stop`. */
static bool execute(mlp_vm *vm, int stop) {
    Frame *frame;
    uint8_t *ip;
    Value *base, *consts, *globals;
    Value *sp = vm->sp;
    int wide = 0; /* 1 while the instruction after a WIDE runs (see READ_U8) */
    LOAD_FRAME();
#if VM_COMPUTED_GOTO
    static const void *const labels[OP_COUNT] = {
#define OP(name, kind, eff, doc) &&L_##name,
        OPCODES(OP)
#undef OP
    };
    static const void *const traced[OP_COUNT] = {
#define OP(name, kind, eff, doc) &&L_TRACE,
        OPCODES(OP)
#undef OP
    };
    const void *const *dispatch = vm->cfg.trace ? traced : labels;
    NEXT;
L_TRACE:
    /* every entry of `traced` lands here after NEXT consumed the opcode:
     * step back so the trace (and then the real handler) sees it */
    ip--;
    SYNC();
    trace_instr(vm, frame, ip, sp);
    goto *labels[*ip++];
#else
    for (;;) {
        if (wide) wide--; /* WIDE sets 2: 1 for the next instruction, then 0 */
        if (vm->cfg.trace && !wide) {
            SYNC();
            trace_instr(vm, frame, ip, sp);
        }
        switch (*ip++) {
#endif

    CASE(CONST) { *sp++ = consts[READ_U16()]; NEXT; }
    CASE(NIL) { *sp++ = mlp_nil(); NEXT; }
    CASE(TRUE) { *sp++ = mlp_bool(true); NEXT; }
    CASE(FALSE) { *sp++ = mlp_bool(false); NEXT; }
    CASE(POP) { sp--; NEXT; }
    CASE(POPN) { sp -= READ_U8(); NEXT; }
    CASE(DUP) { sp[0] = sp[-1]; sp++; NEXT; }
    CASE(DUP2) { sp[0] = sp[-2]; sp[1] = sp[-1]; sp += 2; NEXT; }
    CASE(GET_LOCAL) { VCOPY(sp, &base[READ_U8()]); sp++; NEXT; }
    CASE(SET_LOCAL) { sp--; VCOPY(&base[READ_U8()], sp); NEXT; }
    CASE(GET_UPVAL) { *sp++ = *frame->cl->upvals[READ_U8()]->loc; NEXT; }
    CASE(SET_UPVAL) { *frame->cl->upvals[READ_U8()]->loc = *--sp; NEXT; }
    CASE(GET_GLOBAL) {
        uint32_t g = READ_U16();
        Value v = globals[g];
        if (IS_UNDEF(v)) {
            ObjNamespace *ns = frame->cl->proto->ns;
            for (uint32_t i = 0; i < ns->names->count; i++)
                if ((uint32_t)ns->names->entries[i].val.as.n == g) {
                    ObjString *n = ns->names->entries[i].key;
                    /* in the REPL a name no entry defined yet is just
                     * undefined: nothing promises a later definition */
                    if (vm->repl) THROW("undefined variable '%.*s'", (int)n->len, STR_CHARS(n));
                    THROW("undefined variable '%.*s' (used before its definition)", (int)n->len,
                          STR_CHARS(n));
                }
            THROW("undefined variable");
        }
        *sp++ = v;
        NEXT;
    }
    CASE(SET_GLOBAL) {
        uint32_t g = READ_U16();
        if (IS_UNDEF(globals[g])) {
            ObjNamespace *ns = frame->cl->proto->ns;
            for (uint32_t i = 0; i < ns->names->count; i++)
                if ((uint32_t)ns->names->entries[i].val.as.n == g) {
                    ObjString *n = ns->names->entries[i].key;
                    THROW("assignment to '%.*s' before its definition", (int)n->len, STR_CHARS(n));
                }
        }
        globals[g] = *--sp;
        NEXT;
    }
    CASE(DEF_GLOBAL) { globals[READ_U16()] = *--sp; NEXT; }
    CASE(GET_BUILTIN) {
        uint32_t g = READ_U16();
        *sp++ = vm->builtins->values[g];
        if (IS_UNDEF(sp[-1])) THROW("undefined builtin");
        NEXT;
    }
    CASE(GET_FIELD) {
        ObjString *name = AS_STRING(consts[READ_U16()]);
        Value o = sp[-1];
        if (o.type == MLP_T_RECORD) {
            ObjRecord *r = AS_RECORD(o);
            int32_t e = rec_find(r, name);
            if (e >= 0) {
                sp[-1] = r->entries[e].val;
                NEXT;
            }
        }
        CHECK(get_field(vm, sp - 1, name));
        NEXT;
    }
    CASE(SET_FIELD) {
        ObjString *name = AS_STRING(consts[READ_U16()]);
        Value o = sp[-2];
        if (o.type != MLP_T_RECORD) {
            THROW("cannot set field '%.*s' of a %s", (int)name->len, STR_CHARS(name),
                  type_name(o));
        }
        SYNC();
        rec_set(vm, AS_RECORD(o), name, sp[-1]);
        sp -= 2;
        NEXT;
    }
    CASE(GET_INDEX) {
        Value o = sp[-2], i = sp[-1];
        if (o.type == MLP_T_LIST && IS_NUM(i)) {
            ObjList *l = AS_LIST(o);
            double d = i.as.n;
            if (d >= 0 && d < l->count && d == (double)(uint32_t)d) {
                sp[-2] = l->items[(uint32_t)d];
                sp--;
                NEXT;
            }
        }
        CHECK(get_index(vm, sp - 2));
        sp--;
        NEXT;
    }
    CASE(SET_INDEX) {
        Value o = sp[-3], i = sp[-2];
        if (o.type == MLP_T_LIST && IS_NUM(i)) {
            ObjList *l = AS_LIST(o);
            double d = i.as.n;
            if (d >= 0 && d < l->count && d == (double)(uint32_t)d) {
                l->items[(uint32_t)d] = sp[-1];
                sp -= 3;
                NEXT;
            }
        }
        CHECK(set_index(vm, sp - 3));
        sp -= 3;
        NEXT;
    }
    CASE(SLICE) {
        CHECK(do_slice(vm, sp - 3));
        sp -= 2;
        NEXT;
    }
#define ARITH(NAME, EXPR)                                      \
    CASE(NAME) {                                               \
        if (IS_NUM(sp[-2]) && IS_NUM(sp[-1])) {                \
            double x = sp[-2].as.n, y = sp[-1].as.n;           \
            sp[-2].as.n = (EXPR);                              \
            sp--;                                              \
            NEXT;                                              \
        }                                                      \
        CHECK(arith_slow(vm, OP_##NAME, sp - 2));              \
        sp--;                                                  \
        NEXT;                                                  \
    }
    ARITH(ADD, x + y)
    ARITH(SUB, x - y)
    ARITH(MUL, x * y)
    ARITH(DIV, x / y)
    ARITH(MOD, num_mod(x, y))
    ARITH(POW, pow(x, y))
#undef ARITH
    CASE(ADD_K) {
        Value k = consts[READ_U16()];
        if (IS_NUM(sp[-1])) {
            sp[-1].as.n += k.as.n;
            NEXT;
        }
        if (sp[-1].type == MLP_T_HANDLE) { /* a tensor + 1 */
            sp[0] = k;
            sp++;
            CHECK(arith_slow(vm, OP_ADD, sp - 2));
            sp--;
            NEXT;
        }
        THROW("cannot apply '+' to %s and number", type_name(sp[-1]));
    }
    CASE(ADD_LOCAL) {
        Value *d = base + READ_U8();
        Value *src = base + READ_U8();
        if (IS_NUM(*d) && IS_NUM(*src)) {
            d->as.n += src->as.n;
            NEXT;
        }
        sp[0] = *d;
        sp[1] = *src;
        sp += 2;
        CHECK(arith_slow(vm, OP_ADD, sp - 2));
        *d = sp[-2];
        sp -= 2;
        NEXT;
    }
    CASE(NEG) {
        if (!IS_NUM(sp[-1])) THROW("cannot negate a %s", type_name(sp[-1]));
        sp[-1].as.n = -sp[-1].as.n;
        NEXT;
    }
    CASE(NOT) { sp[-1] = mlp_bool(!mlp_truthy(sp[-1])); NEXT; }
    CASE(EQ) {
        int r = values_equal(vm, sp[-2], sp[-1]);
        if (r < 0) {
            SYNC();
            goto error;
        }
        sp[-2] = mlp_bool(r);
        sp--;
        NEXT;
    }
    CASE(NE) {
        int r = values_equal(vm, sp[-2], sp[-1]);
        if (r < 0) {
            SYNC();
            goto error;
        }
        sp[-2] = mlp_bool(!r);
        sp--;
        NEXT;
    }
#define CMP(NAME, OPER)                                         \
    CASE(NAME) {                                                \
        Value a = sp[-2], b = sp[-1];                           \
        bool r;                                                 \
        if (IS_NUM(a) && IS_NUM(b)) r = a.as.n OPER b.as.n;     \
        else CHECK(compare(vm, OP_##NAME, a, b, &r));           \
        sp[-2] = mlp_bool(r);                                   \
        sp--;                                                   \
        NEXT;                                                   \
    }
    CMP(LT, <)
    CMP(LE, <=)
    CMP(GT, >)
    CMP(GE, >=)
#undef CMP
    /* Jumps: the offset counts from the end of the instruction (the
     * compiler patches it once the target is known, compile.c); forward
     * jumps add it, LOOP subtracts it. Only LOOP and the calls check for an
     * interrupt: every unbounded run passes through one of them, and the
     * straight-line instructions stay free of the test. */
    CASE(JUMP) {
        uint32_t off = READ_U16();
        ip += off;
        NEXT;
    }
    CASE(JUMP_IF_FALSE) {
        uint32_t off = READ_U16();
        if (!mlp_truthy(*--sp)) ip += off;
        NEXT;
    }
    CASE(AND) {
        uint32_t off = READ_U16();
        if (!mlp_truthy(sp[-1])) ip += off;
        else sp--;
        NEXT;
    }
    CASE(OR) {
        uint32_t off = READ_U16();
        if (mlp_truthy(sp[-1])) ip += off;
        else sp--;
        NEXT;
    }
#define CJUMP(NAME, OPER)                                       \
    CASE(JUMP_IF_NOT_##NAME) {                                  \
        uint32_t off = READ_U16();                              \
        Value a = sp[-2], b = sp[-1];                           \
        bool r;                                                 \
        if (IS_NUM(a) && IS_NUM(b)) r = a.as.n OPER b.as.n;     \
        else CHECK(compare(vm, OP_JUMP_IF_NOT_##NAME, a, b, &r)); \
        sp -= 2;                                                \
        if (!r) ip += off;                                      \
        NEXT;                                                   \
    }
    CJUMP(LT, <)
    CJUMP(LE, <=)
    CJUMP(GT, >)
    CJUMP(GE, >=)
#undef CJUMP
    CASE(JUMP_IF_NOT_EQ) {
        uint32_t off = READ_U16();
        int r = values_equal(vm, sp[-2], sp[-1]);
        if (r < 0) {
            SYNC();
            goto error;
        }
        sp -= 2;
        if (!r) ip += off;
        NEXT;
    }
    CASE(JUMP_IF_NOT_NE) {
        uint32_t off = READ_U16();
        int r = values_equal(vm, sp[-2], sp[-1]);
        if (r < 0) {
            SYNC();
            goto error;
        }
        r = !r;
        sp -= 2;
        if (!r) ip += off;
        NEXT;
    }
    CASE(LOOP) {
        uint32_t off = READ_U16();
        ip -= off;
        if (vm->interrupted) THROW("interrupted");
        NEXT;
    }
    CASE(CALL) {
        int argc = READ_U8();
        Value *callee = sp - argc - 1;
        if (vm->interrupted) THROW("interrupted");
        if (callee->type == MLP_T_FUNCTION) {
            ObjClosure *cl = AS_CLOSURE(*callee);
            ObjProto *p = cl->proto;
            if (p->simple && argc == p->sig.n) {
                if (vm->nframes >= VM_FRAMES_MAX || sp + p->max_stack >= vm->stack_end)
                    THROW("stack overflow (too deep recursion)");
                frame->ip = ip;
                frame = &vm->frames[vm->nframes++];
                frame->cl = cl;
                frame->base = callee + 1;
                ip = p->code;
                base = callee + 1;
                consts = p->consts;
                globals = p->ns->values;
                NEXT;
            }
        }
        SYNC();
        CallResult r = call_value(vm, argc, 0, NULL);
        if (r == CALL_ERR) goto error;
        sp = vm->sp;
        if (r == CALL_FRAME) LOAD_FRAME();
        NEXT;
    }
    CASE(CALL_KW) {
        int argc = READ_U8();
        ObjList *names = AS_LIST(consts[READ_U16()]);
        if (vm->interrupted) THROW("interrupted");
        SYNC();
        CallResult r = call_value(vm, argc, (int)names->count, names);
        if (r == CALL_ERR) goto error;
        sp = vm->sp;
        if (r == CALL_FRAME) LOAD_FRAME();
        NEXT;
    }
    CASE(CLOSURE) {
        ObjProto *p = (ObjProto *)consts[READ_U16()].as.o;
        SYNC();
        ObjClosure *cl = closure_new(vm, p);
        /* on the stack (and vm->sp past it) before capturing: capture
         * allocates upvalues, which may collect, and the half-built
         * closure must be a root by then */
        *sp++ = obj_val(MLP_T_FUNCTION, cl);
        vm->sp = sp;
        for (int i = 0; i < p->nupvals; i++) {
            UpvalDesc d = p->upvals[i];
            cl->upvals[i] = d.is_local ? capture(vm, base + d.index) : frame->cl->upvals[d.index];
        }
        NEXT;
    }
    CASE(CLOSE_UPVAL) {
        close_upvals(vm, sp - 1);
        sp--;
        NEXT;
    }
    CASE(CLOSE) {
        close_upvals(vm, base + READ_U8());
        NEXT;
    }
    CASE(RETURN_NIL) {
        *sp++ = mlp_nil();
        goto return_top;
    }
    CASE(RETURN) {
    return_top: {
        /* the callee sat at base[-1]: the result replaces it, and the
         * frame's slots are closed over first, since a later call reuses
         * them */
        Value result;
        VCOPY(&result, &sp[-1]);
        close_upvals(vm, base);
        vm->nframes--;
        sp = base - 1;
        VCOPY(sp, &result);
        sp++;
        if (vm->nframes == stop) {
            vm->sp = sp;
            return true;
        }
        LOAD_FRAME();
        NEXT;
    }
    }
    CASE(LIST) {
        int n = READ_U8();
        SYNC();
        ObjList *l = list_new(vm, (uint32_t)n);
        if (n) memcpy(l->items, sp - n, sizeof(Value) * (size_t)n);
        l->count = (uint32_t)n;
        sp -= n;
        *sp++ = obj_val(MLP_T_LIST, l);
        NEXT;
    }
    CASE(APPEND) {
        Value l = sp[-2];
        if (l.type != MLP_T_LIST) THROW("internal: APPEND to a %s", type_name(l));
        SYNC();
        list_push(vm, AS_LIST(l), sp[-1]);
        sp--;
        NEXT;
    }
    CASE(RECORD) {
        int n = READ_U8();
        SYNC();
        ObjRecord *r = rec_new(vm);
        *sp++ = obj_val(MLP_T_RECORD, r); /* rooted while filled */
        vm->sp = sp;
        for (int i = 0; i < n; i++) {
            Value *kv = sp - 1 - 2 * n + 2 * i;
            rec_set(vm, r, AS_STRING(kv[0]), kv[1]);
        }
        sp -= 2 * n + 1;
        *sp++ = obj_val(MLP_T_RECORD, r);
        NEXT;
    }
    CASE(INTERP) {
        int n = READ_U8();
        SYNC();
        StrBuf b = {0};
        for (int i = 0; i < n; i++)
            if (!value_to_sb(vm, &b, sp[i - n], false)) {
                free(b.p);
                goto error;
            }
        ObjString *s = str_new(vm, b.p ? b.p : "", b.n);
        free(b.p);
        sp -= n;
        *sp++ = obj_val(MLP_T_STRING, s);
        NEXT;
    }
    CASE(FOR_PREP) {
        int s = READ_U8();
        CHECK(for_prep(vm, base + s));
        NEXT;
    }
    CASE(FOR_NEXT) {
        Value *s = base + READ_U8();
        uint32_t off = READ_U16();
        switch (s[0].type) {
        case MLP_T_RANGE: {
            ObjRange *r = AS_RANGE(s[0]);
            double cur = s[1].as.n;
            if (r->step > 0 ? cur >= r->stop : cur <= r->stop) {
                ip += off;
                break;
            }
            s[2] = mlp_number(cur);
            s[1].as.n = cur + r->step;
            break;
        }
        case MLP_T_LIST: {
            ObjList *l = AS_LIST(s[0]);
            uint32_t i = (uint32_t)s[1].as.n;
            if (i >= l->count) {
                ip += off;
                break;
            }
            s[2] = l->items[i];
            s[1].as.n = i + 1;
            break;
        }
        default: { /* string, by code point */
            ObjString *str = AS_STRING(s[0]);
            size_t i = (size_t)s[1].as.n;
            if (i >= str->len) {
                ip += off;
                break;
            }
            size_t l = (size_t)utf8_len((unsigned char)STR_CHARS(str)[i]);
            if (i + l > str->len) l = str->len - i;
            SYNC();
            s[2] = obj_val(MLP_T_STRING, str_new(vm, STR_CHARS(str) + i, l));
            s[1].as.n = (double)(i + l);
            break;
        }
        }
        NEXT;
    }
    CASE(ARG_DEFAULT) {
        int s = READ_U8();
        uint32_t off = READ_U16();
        if (!IS_UNDEF(base[s])) ip += off;
        NEXT;
    }
    CASE(IMPORT) {
        ObjString *name = AS_STRING(consts[READ_U16()]);
        SYNC();
        bool ok;
        Value m = vm_import(vm, name, frame->cl->proto->source, &ok);
        if (!ok) goto error;
        sp = vm->sp;
        LOAD_FRAME();
        *sp++ = m;
        NEXT;
    }
    CASE(WIDE) {
        /* the next instruction reads its operands twice as wide */
#if VM_COMPUTED_GOTO
        wide = 1;
        goto *labels[*ip++];
#else
        wide = 2;
        continue;
#endif
    }
    CASE(ECHO) {
        Value v = sp[-1];
        if (v.type != MLP_T_NIL) {
            SYNC();
            StrBuf b = {0};
            if (!value_to_sb(vm, &b, v, true)) {
                free(b.p);
                goto error;
            }
            sb_add(&b, "\n", 1);
            mlp_write(vm, b.p, b.n);
            free(b.p);
        }
        sp--;
        NEXT;
    }
    CASE(IN) {
        bool r;
        CHECK(vm_contains(vm, sp[-2], sp[-1], &r));
        sp[-2] = mlp_bool(r);
        sp--;
        NEXT;
    }
    CASE(UNPACK) {
        int n = READ_U8();
        CHECK(vm_unpack(vm, sp[-1], n, sp - 1));
        sp += n - 1;
        NEXT;
    }
#if !VM_COMPUTED_GOTO
        default: THROW("internal: bad opcode %d", ip[-1]);
        }
    }
#endif

error:
    /* Located once, here, where the failing frame is still on the stack;
     * then only the frames this loop pushed are unwound (down to `stop`):
     * a native that called back into the VM (mlp_call) gets false and
     * returns it, and the loop below it unwinds its own frames in turn. */
    vm_locate_error(vm);
    /* unwind this loop's frames */
    if (vm->nframes > stop) {
        close_upvals(vm, vm->frames[stop].base - 1);
        vm->sp = vm->frames[stop].base - 1;
        vm->nframes = stop;
    }
    return false;
}

/* ---- entry points used by the API ---- */

bool vm_call_value(mlp_vm *vm, int argc, int nkw, ObjList *kwnames, Value *result) {
    if (vm->nest >= VM_NEST_MAX) return vm_error(vm, "stack overflow (too deep native re-entry)");
    Value *callee = vm->sp - argc - nkw - 1;
    int stop = vm->nframes;
    VmGuard g;
    vm_guard_enter(vm, &g);
    if (setjmp(g.jb)) {
        /* vm_throw from an allocation: the innermost frame's ip was synced
         * before the instruction that allocated, so the report points at it */
        vm_guard_caught(vm, &g);
        vm_locate_error(vm);
        close_upvals(vm, callee);
        vm->nframes = stop;
        vm->sp = callee;
        return false;
    }
    CallResult r = call_value(vm, argc, nkw, kwnames);
    if (r == CALL_ERR) {
        vm_guard_leave(vm, &g);
        vm->sp = callee;
        return false;
    }
    if (r == CALL_FRAME) {
        vm->nest++;
        bool ok = execute(vm, stop);
        vm->nest--;
        if (!ok) {
            vm_guard_leave(vm, &g);
            vm->sp = callee;
            return false;
        }
    }
    vm_guard_leave(vm, &g);
    *result = *callee;
    vm->sp = callee;
    return true;
}

bool vm_run_proto(mlp_vm *vm, ObjProto *p, Value *result) {
    Value *mark = vm->sp;
    *vm->sp++ = obj_val(MLP_T_HANDLE, p); /* root while the closure is made */
    ObjClosure *cl = closure_new(vm, p);
    vm->sp[-1] = obj_val(MLP_T_FUNCTION, cl);
    bool ok = vm_call_value(vm, 0, 0, NULL, result);
    vm->sp = mark;
    return ok;
}
