/*
 * compile.c — one pass over the AST, emitting bytecode.
 *
 * Scopes and variables follow clox: locals are stack slots numbered from the
 * frame base; a name used by an inner function becomes an upvalue; locals
 * leaving scope are popped, or closed if something captured them. Globals
 * are namespace slots fixed before compilation (see compile.h).
 *
 * Every instruction records the line and column of the node it came from
 * (cur_line/cur_col, set by at()), which is what runtime errors report.
 * The compiler tracks the stack depth with the opcode table's stack effects
 * to give each function its max_stack.
 *
 * Specialisations that pay in the VM: `x + 1` with a constant number uses
 * ADD_K; a comparison used as an `if`/`while` condition compiles into one
 * compare-and-jump; `for` loops keep their state in hidden locals, so ranges
 * iterate without allocating.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "compile.h"
#include "desugar.h"
#include "error.h"
#include "gc.h"
#include "opcodes.h"
#include "parse.h"

#define MAX_LOCALS 65535  /* a slot is a WIDE operand at most (two bytes) */
#define MAX_UPVALS 250
#define MAX_CONSTS 16777215 /* far beyond realistic; a WIDE operand holds 4 bytes */

typedef struct Local {
    const char *name;
    size_t len;
    int depth;
    bool captured;
} Local;

typedef struct Loop {
    struct Loop *outer;
    int scope_depth;        /* locals deeper than this belong to the body */
    int start;              /* LOOP target (while: the condition) */
    int *jumps;             /* break (kind 0) and continue (kind 1) jumps to patch */
    char *kinds;
    int njumps, cap;
    bool is_for;
} Loop;

typedef struct FnComp {
    struct FnComp *enclosing;
    ObjProto *p;
    Local *locals;          /* grown by add_local */
    int nlocals, lcap;
    int scope_depth;
    UpvalDesc upvals[MAX_UPVALS + 1];
    int depth, maxdepth;
    Loop *loop;
    bool toplevel;
    uint32_t *khash;        /* constant index + 1 by hash (add_const) */
    uint32_t kcap, nkeyed;
    bool too_many_consts;   /* reported once */
    bool too_many_locals;   /* reported once */
    /* Forward jumps are emitted before their distance is known: two-byte
     * offsets at first; when one does not fit, the function is compiled
     * again with every forward jump WIDE (four bytes). */
    bool wide_jumps;
    bool jump_overflow;
} FnComp;

typedef struct Compiler {
    mlp_vm *vm;
    ObjSource *src;
    ObjNamespace *ns;
    FnComp *fn;
    CompileOpts opts;
    int nerrors;
    int shown;              /* errors printed (a recompiled function repeats its errors) */
    int cur_line, cur_col;
} Compiler;

static void compile_expr(Compiler *c, Ast *n);
static void compile_stmt(Compiler *c, Ast *n);
static void compile_block(Compiler *c, Ast *n);
static void compile_chain(Compiler *c, Ast *n);

const char *const op_names[OP_COUNT] = {
#define OP(name, kind, eff, doc) #name,
    OPCODES(OP)
#undef OP
};
const unsigned char opk_count[] = {
#define X(kind, count, w1, w2) count,
    OPERAND_KINDS(X)
#undef X
};
const unsigned char opk_width[][2] = {
#define X(kind, count, w1, w2) {w1, w2},
    OPERAND_KINDS(X)
#undef X
};
const unsigned char op_kind[OP_COUNT] = {
#define OP(name, kind, eff, doc) OPK_##kind,
    OPCODES(OP)
#undef OP
};
enum {
#define X(kind, count, w1, w2) OPK_BYTES_##kind = w1 + w2,
    OPERAND_KINDS(X)
#undef X
};
const unsigned char op_operand_bytes[OP_COUNT] = {
#define OP(name, kind, eff, doc) OPK_BYTES_##kind,
    OPCODES(OP)
#undef OP
};
const signed char op_stack_effect[OP_COUNT] = {
#define OP(name, kind, eff, doc) eff,
    OPCODES(OP)
#undef OP
};

static void error_at(Compiler *c, Span s, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void error_at(Compiler *c, Span s, const char *fmt, ...) {
    c->nerrors++;
    if (c->nerrors <= c->shown) return; /* printed in the first attempt (WIDE retry) */
    c->shown = c->nerrors;
    if (c->opts.quiet || c->nerrors > ERR_MAX + 1) return;
    if (c->nerrors == ERR_MAX + 1) {
        err_print(c->vm, c->src->name, NULL, 0, s.line, s.col,
                  "too many errors (stopping after " ERR_MAX_TEXT ")");
        return;
    }
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    err_print(c->vm, c->src->name, c->src->text, c->src->len, s.line, s.col, msg);
}

static void at(Compiler *c, Ast *n) {
    c->cur_line = n->span.line;
    c->cur_col = n->span.col;
}

/* ---- emitting ---- */

static void emit_byte(Compiler *c, uint8_t b) {
    ObjProto *p = c->fn->p;
    if (p->count == p->cap) {
        uint32_t nc = p->cap < 64 ? 64 : p->cap * 2;
        p->code = GC_GROW(c->vm, uint8_t, p->code, p->cap, nc);
        p->lines = GC_GROW(c->vm, int32_t, p->lines, p->cap, nc);
        p->cols = GC_GROW(c->vm, int32_t, p->cols, p->cap, nc);
        p->cap = nc;
    }
    p->code[p->count] = b;
    p->lines[p->count] = c->cur_line;
    p->cols[p->count] = c->cur_col;
    p->count++;
}

static void adjust(Compiler *c, int effect) {
    c->fn->depth += effect;
    if (c->fn->depth > c->fn->maxdepth) c->fn->maxdepth = c->fn->depth;
}

/* Emits op with its table stack effect (or `effect` for OP_VAR ones). */
static void emit_op_eff(Compiler *c, Opcode op, int effect) {
    emit_byte(c, (uint8_t)op);
    adjust(c, op_stack_effect[op] == OP_VAR ? effect : op_stack_effect[op]);
}
static void emit_op(Compiler *c, Opcode op) { emit_op_eff(c, op, 0); }
/* Emits op and its operands (as many as its kind has), with the WIDE
 * prefix when one does not fit its narrow width, or when `wide`. Returns
 * the offset of the last operand (a jump's, to patch). */
static int emit_ins(Compiler *c, Opcode op, int effect, uint32_t a, uint32_t b, bool wide) {
    int kind = op_kind[op], n = opk_count[kind];
    uint32_t v[2] = {a, b};
    for (int i = 0; i < n; i++)
        if (v[i] >> (8 * opk_width[kind][i])) wide = true;
    if (wide) emit_op(c, OP_WIDE);
    emit_op_eff(c, op, effect);
    int last = 0;
    for (int i = 0; i < n; i++) {
        last = (int)c->fn->p->count;
        for (int j = 0; j < opk_width[kind][i] * (wide ? 2 : 1); j++)
            emit_byte(c, (uint8_t)(v[i] >> (8 * j)));
    }
    return last;
}
static void emit_op1(Compiler *c, Opcode op, int a) { emit_ins(c, op, 0, (uint32_t)a, 0, false); }
static void emit_op2(Compiler *c, Opcode op, int a) { emit_ins(c, op, 0, (uint32_t)a, 0, false); }

/* The constants of a function are deduplicated through an open-addressing
 * hash of their indexes (numbers by bits, so 0 and -0 stay apart and NaN
 * never matches; strings by content), so adding one is O(1), not a search
 * of all the others. */
static bool const_key(Value v, uint32_t *h) {
    if (v.type == MLP_T_NUMBER) {
        uint64_t bits;
        memcpy(&bits, &v.as.n, sizeof bits);
        bits *= 0x9E3779B97F4A7C15ull;
        *h = (uint32_t)(bits >> 32);
        return v.as.n == v.as.n;
    }
    if (v.type == MLP_T_STRING) {
        *h = str_hash(AS_STRING(v));
        return true;
    }
    return false; /* functions, keyword-name lists: never shared */
}

static bool const_same(Value k, Value v) {
    if (k.type != v.type) return false;
    if (v.type == MLP_T_NUMBER) return k.as.n == v.as.n && (1 / k.as.n == 1 / v.as.n);
    return str_eq(AS_STRING(k), AS_STRING(v));
}

static void khash_put(FnComp *f, uint32_t h, uint32_t index) {
    uint32_t mask = f->kcap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask)
        if (f->khash[i] == 0) {
            f->khash[i] = index + 1;
            return;
        }
}

static int add_const(Compiler *c, Value v) {
    FnComp *f = c->fn;
    ObjProto *p = f->p;
    uint32_t h = 0;
    bool keyed = const_key(v, &h);
    if (keyed && f->kcap) {
        uint32_t mask = f->kcap - 1;
        for (uint32_t i = h & mask; f->khash[i]; i = (i + 1) & mask)
            if (const_same(p->consts[f->khash[i] - 1], v)) return (int)(f->khash[i] - 1);
    }
    if (p->nconsts >= MAX_CONSTS) {
        if (!f->too_many_consts) {
            Span s = {c->cur_line, c->cur_col, 0, 0};
            error_at(c, s, "too many constants in one function (at most %d)", MAX_CONSTS);
        }
        f->too_many_consts = true;
        return 0;
    }
    if (p->nconsts == p->constcap) {
        uint32_t nc = p->constcap < 8 ? 8 : p->constcap * 2;
        p->consts = GC_GROW(c->vm, Value, p->consts, p->constcap, nc);
        p->constcap = nc;
    }
    p->consts[p->nconsts] = v;
    if (keyed) {
        if (2 * (f->nkeyed + 1) > f->kcap) { /* keep the table at most half full */
            uint32_t old = f->kcap;
            uint32_t *ot = f->khash;
            f->kcap = old ? old * 2 : 64;
            f->khash = (uint32_t *)calloc(f->kcap, sizeof(uint32_t));
            if (!f->khash) abort();
            for (uint32_t i = 0; i < old; i++)
                if (ot[i]) {
                    uint32_t hh = 0;
                    const_key(p->consts[ot[i] - 1], &hh);
                    khash_put(f, hh, ot[i] - 1);
                }
            free(ot);
        }
        khash_put(f, h, p->nconsts);
        f->nkeyed++;
    }
    return (int)p->nconsts++;
}

static int str_const(Compiler *c, const char *s, size_t len) {
    return add_const(c, obj_val(MLP_T_STRING, str_new(c->vm, s, len)));
}

/* A forward jump to patch: the offset of its operand, JUMP_WIDE set when
 * that operand is four bytes. */
#define JUMP_WIDE (1 << 30)

/* Emits a forward jump (slot: the first operand of FOR_NEXT/ARG_DEFAULT). */
static int emit_fwd(Compiler *c, Opcode op, int effect, uint32_t slot) {
    bool has_slot = opk_count[op_kind[op]] == 2;
    bool wide = c->fn->wide_jumps || (has_slot && slot > 255);
    int at_ = has_slot ? emit_ins(c, op, effect, slot, 0, wide) : emit_ins(c, op, effect, 0, 0, wide);
    return wide ? at_ | JUMP_WIDE : at_;
}
static int emit_jump(Compiler *c, Opcode op) { return emit_fwd(c, op, 0, 0); }

static void patch_jump(Compiler *c, int handle) {
    int at_ = handle & ~JUMP_WIDE, width = handle & JUMP_WIDE ? 4 : 2;
    uint32_t dist = c->fn->p->count - (uint32_t)at_ - (uint32_t)width;
    if (width == 2 && dist > 0xFFFF) c->fn->jump_overflow = true; /* compiled again, WIDE */
    for (int j = 0; j < width; j++) c->fn->p->code[at_ + j] = (uint8_t)(dist >> (8 * j));
}

static void emit_loop(Compiler *c, int start) {
    /* the distance back from the end of this instruction to `start` */
    uint32_t dist = c->fn->p->count + 3 - (uint32_t)start;
    if (dist > 0xFFFF) dist = c->fn->p->count + 6 - (uint32_t)start; /* WIDE LOOP: 2 + 4 */
    emit_ins(c, OP_LOOP, 0, dist, 0, dist > 0xFFFF);
}

/* ---- scopes and variables ---- */

static int add_local(Compiler *c, Span s, const char *name, size_t len) {
    FnComp *f = c->fn;
    if (f->nlocals >= MAX_LOCALS) {
        if (!f->too_many_locals)
            error_at(c, s, "too many local variables in one function (at most %d)", MAX_LOCALS);
        f->too_many_locals = true;
        return f->nlocals - 1;
    }
    if (f->nlocals == f->lcap) {
        f->lcap = f->lcap ? f->lcap * 2 : 64;
        f->locals = (Local *)realloc(f->locals, sizeof(Local) * (size_t)f->lcap);
        if (!f->locals) abort();
    }
    Local *l = &f->locals[f->nlocals];
    l->name = name;
    l->len = len;
    l->depth = f->scope_depth;
    l->captured = false;
    return f->nlocals++;
}

static void begin_scope(Compiler *c) { c->fn->scope_depth++; }

/* Emits the pops/closes for locals deeper than `depth` (without forgetting
 * them: break/continue/return jump out of scopes that still exist). */
static void pop_locals_above(Compiler *c, int depth) {
    FnComp *f = c->fn;
    int pending = 0;
    for (int i = f->nlocals - 1; i >= 0 && f->locals[i].depth > depth; i--) {
        if (f->locals[i].captured) {
            if (pending) emit_ins(c, OP_POPN, -pending, (uint32_t)pending, 0, false);
            pending = 0;
            emit_op(c, OP_CLOSE_UPVAL);
        } else {
            pending++;
        }
    }
    if (pending == 1) emit_op(c, OP_POP);
    else if (pending) emit_ins(c, OP_POPN, -pending, (uint32_t)pending, 0, false);
}

static void end_scope(Compiler *c) {
    FnComp *f = c->fn;
    f->scope_depth--;
    pop_locals_above(c, f->scope_depth);
    while (f->nlocals > 0 && f->locals[f->nlocals - 1].depth > f->scope_depth) f->nlocals--;
}

static int resolve_local(FnComp *f, const char *name, size_t len) {
    for (int i = f->nlocals - 1; i >= 0; i--) {
        Local *l = &f->locals[i];
        if (l->len == len && memcmp(l->name, name, len) == 0) return i;
    }
    return -1;
}

static int add_upval(Compiler *c, FnComp *f, Span s, int index, bool is_local) {
    ObjProto *p = f->p;
    for (int i = 0; i < p->nupvals; i++)
        if (f->upvals[i].index == index && f->upvals[i].is_local == is_local) return i;
    if (p->nupvals >= MAX_UPVALS) {
        error_at(c, s, "too many captured variables in one function");
        return 0;
    }
    f->upvals[p->nupvals].index = (uint16_t)index;
    f->upvals[p->nupvals].is_local = is_local;
    return p->nupvals++;
}

/* A name that is a local of an enclosing function: the enclosing local is
 * marked captured (its scope then ends with CLOSE_UPVAL instead of POP,
 * vm.c), and every function between it and the use gets an upvalue, each
 * one naming either a local slot of the function just outside
 * (is_local) or an upvalue of that function, so CLOSURE can fill a new
 * closure's upvalues from the frame it is created in. */
static int resolve_upval(Compiler *c, FnComp *f, Span s, const char *name, size_t len) {
    if (!f->enclosing) return -1;
    int l = resolve_local(f->enclosing, name, len);
    if (l >= 0) {
        f->enclosing->locals[l].captured = true;
        return add_upval(c, f, s, l, true);
    }
    int u = resolve_upval(c, f->enclosing, s, name, len);
    if (u >= 0) return add_upval(c, f, s, u, false);
    return -1;
}

typedef enum VarKind { V_LOCAL, V_UPVAL, V_GLOBAL, V_BUILTIN, V_NONE } VarKind;

static VarKind resolve(Compiler *c, Span s, const char *name, size_t len, int *idx) {
    if ((*idx = resolve_local(c->fn, name, len)) >= 0) return V_LOCAL;
    if ((*idx = resolve_upval(c, c->fn, s, name, len)) >= 0) return V_UPVAL;
    if ((*idx = ns_find(c->ns, name, len)) >= 0) return V_GLOBAL;
    if ((*idx = ns_find(c->vm->builtins, name, len)) >= 0) return V_BUILTIN;
    if (c->opts.repl) {
        *idx = ns_slot(c->vm, c->ns, str_new(c->vm, name, len));
        return V_GLOBAL;
    }
    return V_NONE;
}

static void emit_get_var(Compiler *c, Span s, const char *name, size_t len) {
    int idx;
    switch (resolve(c, s, name, len, &idx)) {
    case V_LOCAL: emit_op1(c, OP_GET_LOCAL, idx); break;
    case V_UPVAL: emit_op1(c, OP_GET_UPVAL, idx); break;
    case V_GLOBAL: emit_op2(c, OP_GET_GLOBAL, idx); break;
    case V_BUILTIN: emit_op2(c, OP_GET_BUILTIN, idx); break;
    case V_NONE:
        error_at(c, s, "undefined variable '%.*s'", (int)len, name);
        emit_op(c, OP_NIL);
        break;
    }
}

static void emit_set_var(Compiler *c, Span s, const char *name, size_t len) {
    int idx;
    switch (resolve(c, s, name, len, &idx)) {
    case V_LOCAL: emit_op1(c, OP_SET_LOCAL, idx); break;
    case V_UPVAL: emit_op1(c, OP_SET_UPVAL, idx); break;
    case V_GLOBAL: emit_op2(c, OP_SET_GLOBAL, idx); break;
    case V_BUILTIN:
        error_at(c, s, "cannot assign to builtin '%.*s' (declare it with let first)", (int)len, name);
        emit_op(c, OP_POP);
        break;
    case V_NONE:
        error_at(c, s, "assignment to undeclared variable '%.*s' (declare it with let)", (int)len,
                 name);
        emit_op(c, OP_POP);
        break;
    }
}

/* Declares `name` with the value on top of the stack: a global at the top
 * level of a chunk, else a new local (the value's slot). */
static void define_var(Compiler *c, Span s, const char *name, size_t len) {
    if (c->fn->toplevel && c->fn->scope_depth == 0) {
        int g = ns_slot(c->vm, c->ns, str_new(c->vm, name, len));
        emit_op2(c, OP_DEF_GLOBAL, g);
        return;
    }
    add_local(c, s, name, len);
}

/* ---- functions ---- */

/* Starts compiling f's body again, every forward jump WIDE: one of them
 * did not fit two bytes. Errors the first attempt printed are counted again
 * but not printed twice (error_at). */
static void restart_wide(Compiler *c, FnComp *f, int nerrors) {
    ObjProto *p = f->p;
    p->count = 0;
    p->nconsts = 0;
    p->nupvals = 0;
    p->sig.star = -1;
    p->simple = true;
    if (f->kcap) memset(f->khash, 0, sizeof(uint32_t) * f->kcap);
    f->nkeyed = 0;
    f->nlocals = 0;
    f->scope_depth = 0;
    f->depth = f->maxdepth = 0;
    f->loop = NULL;
    f->too_many_consts = f->too_many_locals = false;
    f->wide_jumps = true;
    f->jump_overflow = false;
    c->nerrors = nerrors;
}

static void compile_function(Compiler *c, Ast *fn, Ast **params, int nparams, Ast *body) {
    mlp_vm *vm = c->vm;
    FnComp f;
    memset(&f, 0, sizeof f);
    f.enclosing = c->fn;
    f.p = proto_new(vm, c->src, c->ns);
    /* Keep the new prototype reachable from its parent at once. */
    int k = add_const(c, obj_val(MLP_T_HANDLE, f.p));
    if (fn && fn->str) f.p->name = str_new(vm, fn->str, fn->len);
    c->fn = &f;
    Signature *sig = &f.p->sig;
    sig->n = nparams;
    sig->names = GC_ALLOC(vm, ObjString *, nparams);
    sig->has_default = GC_ALLOC(vm, bool, nparams);
    int nerrors = c->nerrors;
again:
    for (int i = 0; i < nparams; i++) {
        Ast *p = params[i];
        for (int j = 0; j < i; j++)
            if (params[j]->len == p->len && memcmp(params[j]->str, p->str, p->len) == 0)
                error_at(c, p->span, "parameter '%s' declared twice", p->str);
        sig->names[i] = str_new(vm, p->str, p->len);
        sig->has_default[i] = p->a != NULL;
        if (p->op) {
            if (sig->star >= 0) error_at(c, p->span, "only one *parameter is allowed");
            sig->star = i;
            f.p->simple = false;
        }
        if (p->a) f.p->simple = false;
        add_local(c, p->span, p->str, p->len);
    }
    f.depth = f.maxdepth = nparams;
    begin_scope(c);
    /* defaults: evaluated in the callee, at each call that omits them */
    for (int i = 0; i < nparams; i++) {
        Ast *p = params[i];
        if (!p->a) continue;
        at(c, p->a);
        int j = emit_fwd(c, OP_ARG_DEFAULT, 0, (uint32_t)i);
        compile_expr(c, p->a);
        emit_op1(c, OP_SET_LOCAL, i);
        patch_jump(c, j);
    }
    for (int i = 0; i < body->n; i++) compile_stmt(c, body->list[i]);
    Span end = {body->span.end_line, body->span.end_col, 0, 0};
    c->cur_line = end.line;
    c->cur_col = end.col;
    emit_op(c, OP_RETURN_NIL);
    if (f.jump_overflow && !f.wide_jumps) {
        restart_wide(c, &f, nerrors);
        goto again;
    }
    f.p->max_stack = f.maxdepth + 8;
    f.p->upvals = GC_ALLOC(vm, UpvalDesc, f.p->nupvals);
    if (f.p->nupvals) memcpy(f.p->upvals, f.upvals, sizeof(UpvalDesc) * (size_t)f.p->nupvals);
    free(f.khash);
    free(f.locals);
    c->fn = f.enclosing;
    emit_op2(c, OP_CLOSURE, k);
}

/* ---- expressions ---- */

static bool is_num(Ast *n) { return n->kind == AST_NUM; }

static void compile_call(Compiler *c, Ast *n) {
    compile_expr(c, n->a);
    int npos = 0, nkw = 0;
    for (int i = 0; i < n->n; i++) {
        Ast *arg = n->list[i];
        if (arg->kind == AST_KWARG) {
            for (int j = 0; j < i; j++)
                if (n->list[j]->kind == AST_KWARG && n->list[j]->len == arg->len &&
                    memcmp(n->list[j]->str, arg->str, arg->len) == 0)
                    error_at(c, arg->span, "keyword argument '%s' given twice", arg->str);
            compile_expr(c, arg->a);
            nkw++;
        } else {
            if (nkw) error_at(c, arg->span, "positional argument after keyword arguments");
            compile_expr(c, arg);
            npos++;
        }
    }
    if (npos + nkw > 255) error_at(c, n->span, "too many arguments in one call (at most 255)");
    at(c, n);
    if (nkw == 0) {
        emit_op_eff(c, OP_CALL, -npos);
        emit_byte(c, (uint8_t)npos);
        return;
    }
    /* keyword names as one constant list */
    ObjList *names = list_new(c->vm, (uint32_t)nkw);
    int k = add_const(c, obj_val(MLP_T_LIST, names));
    for (int i = 0; i < n->n; i++)
        if (n->list[i]->kind == AST_KWARG)
            list_push(c->vm, names, obj_val(MLP_T_STRING, str_new(c->vm, n->list[i]->str,
                                                                   n->list[i]->len)));
    emit_ins(c, OP_CALL_KW, -(npos + nkw), (uint32_t)npos, (uint32_t)k, false);
}

static Opcode binary_op(int op) {
    switch (op) {
    case '+': return OP_ADD;
    case '-': return OP_SUB;
    case '*': return OP_MUL;
    case '/': return OP_DIV;
    case '%': return OP_MOD;
    case 'P': return OP_POW;
    case 'E': return OP_EQ;
    case 'N': return OP_NE;
    case '<': return OP_LT;
    case 'L': return OP_LE;
    case '>': return OP_GT;
    default: return OP_GE;
    }
}

/* One operator of a chain, its left operand already on the stack. */
static void compile_operator(Compiler *c, Ast *n) {
    if (n->kind != AST_BINARY) {
        at(c, n);
        int j = emit_jump(c, n->kind == AST_AND ? OP_AND : OP_OR);
        compile_expr(c, n->b);
        patch_jump(c, j);
        return;
    }
    if (n->op == '+' && is_num(n->b)) {
        at(c, n);
        emit_op2(c, OP_ADD_K, add_const(c, mlp_number(n->b->num)));
        return;
    }
    if (n->op == '-' && is_num(n->b)) {
        at(c, n);
        emit_op2(c, OP_ADD_K, add_const(c, mlp_number(-n->b->num)));
        return;
    }
    compile_expr(c, n->b);
    at(c, n);
    if (n->op == 'i' || n->op == 'I') { /* in, not in */
        emit_op(c, OP_IN);
        if (n->op == 'I') emit_op(c, OP_NOT);
        return;
    }
    emit_op(c, binary_op(n->op));
}

/* A binary operator, `and` or `or`, with the chain of them down its left
 * operands (`1 + 2 + 3 + ...` nests to the left): compiled with a loop over
 * that chain, so its length costs no C stack (parse.h, PARSE_MAX_DEPTH). */
static void compile_chain(Compiler *c, Ast *n) {
    Ast *one[16], **spine = one;
    int count = 0, cap = 16;
    for (Ast *m = n; m->kind == AST_BINARY || m->kind == AST_AND || m->kind == AST_OR; m = m->a) {
        if (count == cap) {
            cap *= 2;
            Ast **g = (Ast **)malloc(sizeof(Ast *) * (size_t)cap);
            if (!g) abort();
            memcpy(g, spine, sizeof(Ast *) * (size_t)count);
            if (spine != one) free(spine);
            spine = g;
        }
        spine[count++] = m;
    }
    compile_expr(c, spine[count - 1]->a);
    for (int i = count - 1; i >= 0; i--) compile_operator(c, spine[i]);
    if (spine != one) free(spine);
}

static void compile_expr(Compiler *c, Ast *n) {
    at(c, n);
    switch (n->kind) {
    case AST_NUM: emit_op2(c, OP_CONST, add_const(c, mlp_number(n->num))); break;
    case AST_STR: emit_op2(c, OP_CONST, str_const(c, n->str, n->len)); break;
    case AST_INTERP:
        for (int i = 0; i < n->n; i++) compile_expr(c, n->list[i]);
        at(c, n);
        emit_op_eff(c, OP_INTERP, 1 - n->n);
        emit_byte(c, (uint8_t)n->n);
        if (n->n > 255) error_at(c, n->span, "too many interpolations in one string");
        break;
    case AST_TRUE: emit_op(c, OP_TRUE); break;
    case AST_FALSE: emit_op(c, OP_FALSE); break;
    case AST_NIL: emit_op(c, OP_NIL); break;
    case AST_NAME: emit_get_var(c, n->span, n->str, n->len); break;
    case AST_LIST:
        if (n->n <= 255) {
            for (int i = 0; i < n->n; i++) compile_expr(c, n->list[i]);
            at(c, n);
            emit_op_eff(c, OP_LIST, 1 - n->n);
            emit_byte(c, (uint8_t)n->n);
        } else {
            emit_op_eff(c, OP_LIST, 1);
            emit_byte(c, 0);
            for (int i = 0; i < n->n; i++) {
                compile_expr(c, n->list[i]);
                emit_op(c, OP_APPEND);
            }
        }
        break;
    case AST_RECORD: {
        int chunk = n->n <= 255 ? n->n : 0;
        for (int i = 0; i < chunk; i++) {
            Ast *f = n->list[i];
            for (int j = 0; j < i; j++)
                if (n->list[j]->len == f->len && memcmp(n->list[j]->str, f->str, f->len) == 0)
                    error_at(c, f->span, "field '%s' given twice in a record", f->str);
            at(c, f);
            emit_op2(c, OP_CONST, str_const(c, f->str, f->len));
            compile_expr(c, f->a);
        }
        at(c, n);
        emit_op_eff(c, OP_RECORD, 1 - 2 * chunk);
        emit_byte(c, (uint8_t)chunk);
        for (int i = chunk; i < n->n; i++) {
            Ast *f = n->list[i];
            emit_op(c, OP_DUP);
            compile_expr(c, f->a);
            at(c, f);
            emit_op2(c, OP_SET_FIELD, str_const(c, f->str, f->len));
        }
        break;
    }
    case AST_FUNC: compile_function(c, n, n->list, n->n, n->a); break;
    case AST_UNARY:
        compile_expr(c, n->a);
        at(c, n);
        emit_op(c, n->op == '-' ? OP_NEG : OP_NOT);
        break;
    case AST_BINARY:
    case AST_AND:
    case AST_OR: compile_chain(c, n); break;
    case AST_CALL: compile_call(c, n); break;
    case AST_INDEX:
        compile_expr(c, n->a);
        compile_expr(c, n->b);
        at(c, n);
        emit_op(c, OP_GET_INDEX);
        break;
    case AST_SLICE:
        compile_expr(c, n->a);
        if (n->b) compile_expr(c, n->b);
        else emit_op(c, OP_NIL);
        if (n->c) compile_expr(c, n->c);
        else emit_op(c, OP_NIL);
        at(c, n);
        emit_op(c, OP_SLICE);
        break;
    case AST_FIELD:
        compile_expr(c, n->a);
        at(c, n);
        emit_op2(c, OP_GET_FIELD, str_const(c, n->str, n->len));
        break;
    case AST_SWEEP:             /* __sweep(...) (desugar.h) */
        desugar_sweep(n);
        compile_expr(c, n);
        break;
    default:
        error_at(c, n->span, "internal: not an expression (%s)", ast_kind_name(n->kind));
        emit_op(c, OP_NIL);
    }
}

/* Compiles a condition; returns the jump to patch for "false". */
static int compile_cond(Compiler *c, Ast *n) {
    if (n->kind == AST_BINARY && strchr("ENL<G>", n->op) && n->op != 0) {
        compile_expr(c, n->a);
        compile_expr(c, n->b);
        at(c, n);
        Opcode op;
        switch (n->op) {
        case '<': op = OP_JUMP_IF_NOT_LT; break;
        case 'L': op = OP_JUMP_IF_NOT_LE; break;
        case '>': op = OP_JUMP_IF_NOT_GT; break;
        case 'G': op = OP_JUMP_IF_NOT_GE; break;
        case 'E': op = OP_JUMP_IF_NOT_EQ; break;
        default: op = OP_JUMP_IF_NOT_NE; break;
        }
        return emit_jump(c, op);
    }
    compile_expr(c, n);
    return emit_jump(c, OP_JUMP_IF_FALSE);
}

/* ---- statements ---- */

static void compile_assign(Compiler *c, Ast *n) {
    Ast *t = n->a;
    Opcode op = n->op == '=' ? OP_POP : binary_op(n->op);
    switch (t->kind) {
    case AST_NAME:
        if (n->op == '+' && n->b->kind == AST_NAME) {
            /* local += local: one instruction */
            int d = resolve_local(c->fn, t->str, t->len);
            int src = resolve_local(c->fn, n->b->str, n->b->len);
            if (d >= 0 && src >= 0) {
                at(c, n);
                emit_ins(c, OP_ADD_LOCAL, 0, (uint32_t)d, (uint32_t)src, false);
                break;
            }
        }
        if (n->op != '=') {
            emit_get_var(c, t->span, t->str, t->len);
            if (n->op == '+' && is_num(n->b)) {
                at(c, n);
                emit_op2(c, OP_ADD_K, add_const(c, mlp_number(n->b->num)));
            } else {
                compile_expr(c, n->b);
                at(c, n);
                emit_op(c, op);
            }
        } else {
            compile_expr(c, n->b);
        }
        at(c, t);
        emit_set_var(c, t->span, t->str, t->len);
        break;
    case AST_INDEX:
        compile_expr(c, t->a);
        compile_expr(c, t->b);
        if (n->op != '=') {
            emit_op(c, OP_DUP2);
            at(c, t);
            emit_op(c, OP_GET_INDEX);
            compile_expr(c, n->b);
            at(c, n);
            emit_op(c, op);
        } else {
            compile_expr(c, n->b);
        }
        at(c, t);
        emit_op(c, OP_SET_INDEX);
        break;
    case AST_FIELD: {
        compile_expr(c, t->a);
        int k = str_const(c, t->str, t->len);
        if (n->op != '=') {
            emit_op(c, OP_DUP);
            at(c, t);
            emit_op2(c, OP_GET_FIELD, k);
            compile_expr(c, n->b);
            at(c, n);
            emit_op(c, op);
        } else {
            compile_expr(c, n->b);
        }
        at(c, t);
        emit_op2(c, OP_SET_FIELD, k);
        break;
    }
    default: break; /* the parser already reported it */
    }
}

static void loop_jump(Compiler *c, Loop *l, int kind) {
    if (l->njumps == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 8;
        l->jumps = (int *)realloc(l->jumps, sizeof(int) * (size_t)l->cap);
        l->kinds = (char *)realloc(l->kinds, (size_t)l->cap);
        if (!l->jumps || !l->kinds) abort();
    }
    int depth = c->fn->depth;
    pop_locals_above(c, l->scope_depth);
    l->jumps[l->njumps] = emit_jump(c, OP_JUMP);
    l->kinds[l->njumps++] = (char)kind;
    c->fn->depth = depth; /* the code after a jump is reached with the old depth */
}

static void patch_loop(Compiler *c, Loop *l, int kind) {
    for (int i = 0; i < l->njumps; i++)
        if (l->kinds[i] == kind) patch_jump(c, l->jumps[i]);
}

static void compile_while(Compiler *c, Ast *n) {
    Loop l = {0};
    l.outer = c->fn->loop;
    l.scope_depth = c->fn->scope_depth;
    l.start = (int)c->fn->p->count;
    c->fn->loop = &l;
    int exit = compile_cond(c, n->a);
    compile_block(c, n->b);
    patch_loop(c, &l, 1);
    at(c, n);
    emit_loop(c, l.start);
    patch_jump(c, exit);
    patch_loop(c, &l, 0);
    c->fn->loop = l.outer;
    free(l.jumps);
    free(l.kinds);
}

static void compile_for(Compiler *c, Ast *n) {
    begin_scope(c);
    compile_expr(c, n->a);
    at(c, n);
    int s = add_local(c, n->span, "(iter)", 6);
    emit_op(c, OP_NIL);
    add_local(c, n->span, "(state)", 7);
    emit_op(c, OP_NIL);
    int var = add_local(c, n->span, n->str, n->len);
    emit_op1(c, OP_FOR_PREP, s);
    Loop l = {0};
    l.outer = c->fn->loop;
    l.scope_depth = c->fn->scope_depth;
    l.start = (int)c->fn->p->count;
    l.is_for = true;
    c->fn->loop = &l;
    int exit = emit_fwd(c, OP_FOR_NEXT, 0, (uint32_t)s);
    compile_block(c, n->b);
    patch_loop(c, &l, 1);
    at(c, n);
    if (c->fn->locals[var].captured) emit_op1(c, OP_CLOSE, var);
    emit_loop(c, l.start);
    patch_jump(c, exit);
    patch_loop(c, &l, 0);
    c->fn->loop = l.outer;
    free(l.jumps);
    free(l.kinds);
    end_scope(c);
}

static void compile_if(Compiler *c, Ast *n) {
    int else_j = compile_cond(c, n->a);
    compile_block(c, n->b);
    if (n->c) {
        int end_j = emit_jump(c, OP_JUMP);
        patch_jump(c, else_j);
        if (n->c->kind == AST_IF) compile_if(c, n->c);
        else compile_block(c, n->c);
        patch_jump(c, end_j);
    } else {
        patch_jump(c, else_j);
    }
}

static void compile_block(Compiler *c, Ast *n) {
    begin_scope(c);
    for (int i = 0; i < n->n; i++) compile_stmt(c, n->list[i]);
    end_scope(c);
}

/* The name an import binds: the file stem of the module name. */
static void module_stem(const char *s, size_t len, const char **stem, size_t *slen) {
    const char *b = s;
    for (size_t i = 0; i < len; i++)
        if (s[i] == '/') b = s + i + 1;
    size_t n = len - (size_t)(b - s);
    if (n > 4 && memcmp(b + n - 4, ".mlp", 4) == 0) n -= 4;
    *stem = b;
    *slen = n;
}

static bool valid_ident(const char *s, size_t n) {
    if (n == 0 || (s[0] >= '0' && s[0] <= '9')) return false;
    for (size_t i = 0; i < n; i++)
        if (!(s[i] == '_' || (s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
              (s[i] >= '0' && s[i] <= '9')))
            return false;
    return true;
}

/* ---- destructuring and comprehensions ---- */

/* let [a, b] = value: OP_UNPACK leaves the values in order; at the top level
 * they are popped into globals (last first), elsewhere they stay as the
 * new locals' slots. */
static void compile_unpack(Compiler *c, Ast *n) {
    for (int i = 0; i < n->n; i++)
        for (int j = 0; j < i; j++)
            if (n->list[j]->len == n->list[i]->len &&
                memcmp(n->list[j]->str, n->list[i]->str, n->list[i]->len) == 0)
                error_at(c, n->list[i]->span, "'%s' appears twice in one pattern", n->list[i]->str);
    if (n->n > 255) {
        error_at(c, n->span, "too many names in one pattern (at most 255)");
        return;
    }
    compile_expr(c, n->a);
    at(c, n);
    emit_op_eff(c, OP_UNPACK, n->n - 1);
    emit_byte(c, (uint8_t)n->n);
    if (c->fn->toplevel && c->fn->scope_depth == 0) {
        for (int i = n->n - 1; i >= 0; i--) define_var(c, n->list[i]->span, n->list[i]->str, n->list[i]->len);
        return;
    }
    for (int i = 0; i < n->n; i++) add_local(c, n->list[i]->span, n->list[i]->str, n->list[i]->len);
}

/* The body of a comprehension (parser.y): append the value to the list in
 * the local (comp), or set (comp)[key] = value for a record. */
static void compile_compadd(Compiler *c, Ast *n) {
    emit_get_var(c, n->span, "(comp)", 6);
    if (n->b) {
        compile_expr(c, n->b);
        compile_expr(c, n->a);
        at(c, n);
        emit_op(c, OP_SET_INDEX);
        return;
    }
    compile_expr(c, n->a);
    at(c, n);
    emit_op(c, OP_APPEND);
    emit_op(c, OP_POP);
}

static void compile_stmt(Compiler *c, Ast *n) {
    at(c, n);
    switch (n->kind) {
    case AST_LET:
        compile_expr(c, n->a);
        at(c, n);
        define_var(c, n->span, n->str, n->len);
        break;
    case AST_ASSIGN: compile_assign(c, n); break;
    case AST_EXPR:
        compile_expr(c, n->a);
        at(c, n);
        emit_op(c, OP_POP);
        break;
        break;
    case AST_IF: compile_if(c, n); break;
    case AST_WHILE: compile_while(c, n); break;
    case AST_FOR: compile_for(c, n); break;
    case AST_BREAK:
    case AST_CONTINUE:
        if (!c->fn->loop) {
            error_at(c, n->span, "'%s' outside a loop", n->kind == AST_BREAK ? "break" : "continue");
            break;
        }
        loop_jump(c, c->fn->loop, n->kind == AST_BREAK ? 0 : 1);
        break;
    case AST_RETURN: {
        if (c->fn->toplevel) {
            error_at(c, n->span, "'return' outside a function");
            break;
        }
        int depth = c->fn->depth;
        if (n->a) {
            compile_expr(c, n->a);
            at(c, n);
            emit_op(c, OP_RETURN);
        } else {
            emit_op(c, OP_RETURN_NIL);
        }
        c->fn->depth = depth;
        break;
    }
    case AST_MODEL:             /* a function returning __model(...) (desugar.h) */
        desugar_model(n);
        compile_stmt(c, n);
        break;
    case AST_FNDECL: {
        Ast *f = n->a;
        bool local = !(c->fn->toplevel && c->fn->scope_depth == 0);
        /* a local function may call itself: declare before compiling */
        if (local) {
            emit_op(c, OP_NIL);
            int slot = add_local(c, n->span, f->str, f->len);
            compile_function(c, f, f->list, f->n, f->a);
            at(c, n);
            emit_op1(c, OP_SET_LOCAL, slot);
        } else {
            compile_function(c, f, f->list, f->n, f->a);
            at(c, n);
            define_var(c, n->span, f->str, f->len);
        }
        break;
    }
    case AST_IMPORT: {
        const char *stem;
        size_t slen;
        module_stem(n->str, n->len, &stem, &slen);
        if (n->a) stem = n->a->str, slen = n->a->len; /* import "x" as y */
        if (!valid_ident(stem, slen)) {
            error_at(c, n->span, "cannot import \"%s\": '%.*s' is not a valid name", n->str,
                     (int)slen, stem);
            break;
        }
        emit_op2(c, OP_IMPORT, str_const(c, n->str, n->len));
        define_var(c, n->span, stem, slen);
        break;
    }
    case AST_ACTDECL:
    case AST_OPTDECL:
    case AST_EXTERN: {
        /* extension declarations: a call of a stdlib native (desugar.h) */
        DeclError err;
        Ast *call = desugar_decl(c->vm, n, &err);
        if (!call) {
            error_at(c, err.span, "%s", err.msg);
            break;
        }
        compile_expr(c, call);
        at(c, n);
        define_var(c, n->span, n->str, n->len);
        ast_free(call);
        break;
    }
    case AST_BLOCK: break; /* an error placeholder */
    case AST_SCOPE: compile_block(c, n->a); break;
    case AST_UNPACK: compile_unpack(c, n); break;
    case AST_COMPADD: compile_compadd(c, n); break;
    default: error_at(c, n->span, "internal: not a statement (%s)", ast_kind_name(n->kind));
    }
}

/* Top-level names of a chunk get their global slots first. */
static void predeclare(Compiler *c, Ast *root) {
    for (int i = 0; i < root->n; i++) {
        Ast *n = root->list[i];
        const char *name = NULL;
        size_t len = 0;
        if (n->kind == AST_LET) name = n->str, len = n->len;
        else if (n->kind == AST_FNDECL || n->kind == AST_MODEL) name = n->a->str, len = n->a->len;
        else if (n->kind == AST_ACTDECL || n->kind == AST_OPTDECL || n->kind == AST_EXTERN)
            name = n->str, len = n->len;
        else if (n->kind == AST_IMPORT && n->a) name = n->a->str, len = n->a->len;
        else if (n->kind == AST_IMPORT) module_stem(n->str, n->len, &name, &len);
        else if (n->kind == AST_UNPACK)
            for (int j = 0; j < n->n; j++)
                ns_slot(c->vm, c->ns, str_new(c->vm, n->list[j]->str, n->list[j]->len));
        if (name && len) ns_slot(c->vm, c->ns, str_new(c->vm, name, len));
    }
}

ObjProto *compile_chunk(mlp_vm *vm, Ast *root, ObjSource *src, ObjNamespace *ns,
                        CompileOpts opts, int *nerrors) {
    /* No collection while compiling: the prototypes under construction,
     * their constants and strings are reachable only from C locals here,
     * so the collector could not see them (compile.h). */
    vm->gc_paused++;
    Compiler c;
    memset(&c, 0, sizeof c);
    c.vm = vm;
    c.src = src;
    c.ns = ns;
    c.opts = opts;
    FnComp f;
    memset(&f, 0, sizeof f);
    f.p = proto_new(vm, src, ns);
    f.p->name = NULL;
    f.p->is_script = true;
    f.toplevel = true;
    c.fn = &f;
    predeclare(&c, root);
again:;
    int last = root->n - 1;
    for (int i = 0; i < root->n; i++) {
        Ast *n = root->list[i];
        if (opts.repl && i == last && n->kind == AST_EXPR) {
            compile_expr(&c, n->a);
            at(&c, n);
            emit_op(&c, OP_ECHO);
        } else {
            compile_stmt(&c, n);
        }
    }
    emit_op(&c, OP_RETURN_NIL);
    if (f.jump_overflow && !f.wide_jumps) {
        restart_wide(&c, &f, 0);
        goto again;
    }
    f.p->max_stack = f.maxdepth + 8;
    free(f.khash);
    free(f.locals);
    vm->gc_paused--;
    if (nerrors) *nerrors = c.nerrors;
    return c.nerrors ? NULL : f.p;
}

static void compile_oom(void *vm) { vm_throw((mlp_vm *)vm, "out of memory"); }

ObjProto *compile_source(mlp_vm *vm, const char *name, const char *src, size_t len,
                         ObjNamespace *ns, CompileOpts opts, mlp_status *status) {
    int nerr = 0;
    bool incomplete = false;
    Ast *root = parse_source(vm, name, src, len, opts.quiet, &nerr, &incomplete);
    if (!root) {
        *status = parse_out_of_memory() ? MLP_RUNTIME_ERROR
                  : incomplete          ? MLP_INCOMPLETE
                                        : MLP_COMPILE_ERROR;
        return NULL;
    }
    vm->gc_paused++;
    ObjSource *s = source_new(vm, name, src, len);
    vm->gc_paused--;
    /* the tree code's memory while compiling: out of memory is a runtime
     * error, as for the VM's (the callers hold a guard) */
    AstMem mem = {.fail = compile_oom, .ud = vm};
    ast_mem_enter(&mem);
    ObjProto *p = compile_chunk(vm, root, s, ns, opts, &nerr);
    ast_mem_leave(&mem);
    ast_free(root);
    if (mem.oom) vm_throw(vm, "out of memory"); /* p is the collector's */
    *status = p ? MLP_OK : MLP_COMPILE_ERROR;
    return p;
}
