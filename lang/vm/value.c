/*
 * value.c — the text form of values, equality, type names.
 *
 * Number formatting is the one place where "the same bytes on every
 * machine" is decided for printed numbers: it relies only on C's correctly
 * rounded %.*g / %.0f and strtod, never on locale-free tricks or on the
 * platform's default precision.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "value.h"
#include "vm.h"

int fmt_number(double x, char *buf) {
    if (isnan(x)) return snprintf(buf, 32, "nan");
    if (isinf(x)) return snprintf(buf, 32, x > 0 ? "inf" : "-inf");
    /* Integers below 1e16 are exact and print in full, without a point. */
    if (x == floor(x) && fabs(x) < 1e16) return snprintf(buf, 32, "%.0f", x);
    /* Otherwise the shortest %g precision that reads back to the same
     * double: 17 significant digits always do. */
    for (int p = 1; p <= 17; p++) {
        int n = snprintf(buf, 32, "%.*g", p, x);
        if (strtod(buf, NULL) == x) return n;
    }
    return snprintf(buf, 32, "%.17g", x);
}

void sb_add(StrBuf *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 64;
        while (nc < b->n + n + 1) nc *= 2;
        char *p = (char *)realloc(b->p, nc);
        if (!p && b->vm) vm_throw(b->vm, "out of memory (asked for %zu bytes of text)", nc);
        if (!p) abort();
        b->p = p;
        b->cap = nc;
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
    b->p[b->n] = '\0';
}

void sb_addc(StrBuf *b, const char *s) { sb_add(b, s, strlen(s)); }

void sb_printf(StrBuf *b, const char *fmt, ...) {
    char tmp[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n < 0) return;
    if ((size_t)n < sizeof tmp) {
        sb_add(b, tmp, (size_t)n);
        return;
    }
    char *big = (char *)malloc((size_t)n + 1);
    if (!big) abort();
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    sb_add(b, big, (size_t)n);
    free(big);
}

static void quote_string(StrBuf *b, const char *s, size_t n) {
    sb_add(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        switch (c) {
        case '"': sb_add(b, "\\\"", 2); break;
        case '\\': sb_add(b, "\\\\", 2); break;
        case '\n': sb_add(b, "\\n", 2); break;
        case '\t': sb_add(b, "\\t", 2); break;
        case '\r': sb_add(b, "\\r", 2); break;
        case '\0': sb_add(b, "\\0", 2); break;
        default: sb_add(b, &c, 1);
        }
    }
    sb_add(b, "\"", 1);
}

static bool is_ident(const char *s, size_t n) {
    if (n == 0) return false;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        bool ok = c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                  (i > 0 && c >= '0' && c <= '9');
        if (!ok) return false;
    }
    return true;
}

static bool is_container(Value v) { return v.type == MLP_T_LIST || v.type == MLP_T_RECORD; }

static uint32_t container_count(Value v) {
    return v.type == MLP_T_LIST ? AS_LIST(v)->count : AS_RECORD(v)->count;
}

/* The explicit stack of the walks below: one entry per open container, so
 * nesting costs heap, never C stack. Up to MLP_MAX_VALUE_DEPTH entries. */
typedef struct WalkEntry {
    Value a, b;   /* b: the other side, for equality */
    uint32_t i;   /* next element */
} WalkEntry;

typedef struct Walk {
    WalkEntry *e;
    int n, cap;
} Walk;

static bool walk_push(mlp_vm *vm, Walk *w, Value a, Value b) {
    if (w->n == MLP_MAX_VALUE_DEPTH) {
        if (vm) vm_error(vm, "value nested too deeply (more than %d levels)", MLP_MAX_VALUE_DEPTH);
        return false;
    }
    if (w->n == w->cap) {
        int nc = w->cap ? w->cap * 4 : 16;
        if (nc > MLP_MAX_VALUE_DEPTH) nc = MLP_MAX_VALUE_DEPTH;
        WalkEntry *p = (WalkEntry *)realloc(w->e, sizeof(WalkEntry) * (size_t)nc);
        if (!p) {
            if (vm) vm_error(vm, "out of memory");
            return false;
        }
        w->e = p;
        w->cap = nc;
    }
    w->e[w->n].a = a;
    w->e[w->n].b = b;
    w->e[w->n].i = 0;
    w->n++;
    return true;
}

/* str() of a value that is not a list or record. */
static void scalar_to_sb(mlp_vm *vm, StrBuf *b, Value v, bool quote) {
    char num[32];
    switch (v.type) {
    case MLP_T_NIL: sb_addc(b, "nil"); return;
    case MLP_T_BOOL: sb_addc(b, v.as.b ? "true" : "false"); return;
    case MLP_T_NUMBER: sb_add(b, num, (size_t)fmt_number(v.as.n, num)); return;
    case MLP_T_STRING: {
        ObjString *s = AS_STRING(v);
        if (quote) quote_string(b, STR_CHARS(s), s->len);
        else sb_add(b, STR_CHARS(s), s->len);
        return;
    }
    case MLP_T_RANGE: {
        ObjRange *r = AS_RANGE(v);
        char a[32], c[32], d[32];
        fmt_number(r->start, a);
        fmt_number(r->stop, c);
        fmt_number(r->step, d);
        if (r->step == 1) sb_printf(b, "range(%s, %s)", a, c);
        else sb_printf(b, "range(%s, %s, %s)", a, c, d);
        return;
    }
    case MLP_T_FUNCTION: {
        ObjString *n = AS_CLOSURE(v)->proto->name;
        if (n) sb_printf(b, "<fn %.*s>", (int)n->len, STR_CHARS(n));
        else sb_addc(b, "<fn>");
        return;
    }
    case MLP_T_NATIVE: sb_printf(b, "<native %s>", AS_NATIVE(v)->def->name); return;
    case MLP_T_MODULE: {
        ObjString *n = AS_MODULE(v)->ns->name;
        sb_printf(b, "<module %.*s>", (int)n->len, STR_CHARS(n));
        return;
    }
    case MLP_T_HANDLE: {
        ObjHandle *h = AS_HANDLE(v);
        if (h->cls->tostring) {
            Value s = h->cls->tostring(vm, h->data);
            if (s.type == MLP_T_STRING) sb_add(b, STR_CHARS(AS_STRING(s)), AS_STRING(s)->len);
        } else {
            sb_printf(b, "<%s>", h->cls->name);
        }
        return;
    }
    default: sb_addc(b, "<undefined>"); return;
    }
}

static void open_container(StrBuf *b, Value v) { sb_addc(b, v.type == MLP_T_LIST ? "[" : "{"); }

/* The containers on the walk's path, as a set: open addressing with
 * linear probing and backward-shift deletion, so asking whether a
 * container is its own ancestor costs O(1), not O(depth). */
typedef struct PathSet { const void **k; size_t cap; } PathSet;

static size_t path_slot(const PathSet *s, const void *p) {
    return (size_t)(((uintptr_t)p >> 4) * 0x9E3779B97F4A7C15ull) & (s->cap - 1);
}

static bool path_has(const PathSet *s, const void *p) {
    for (size_t i = path_slot(s, p); s->k[i]; i = (i + 1) & (s->cap - 1))
        if (s->k[i] == p) return true;
    return false;
}

static void path_add(PathSet *s, const void *p) {
    size_t i = path_slot(s, p);
    while (s->k[i]) i = (i + 1) & (s->cap - 1);
    s->k[i] = p;
}

static void path_del(PathSet *s, const void *p) {
    size_t i = path_slot(s, p);
    while (s->k[i] != p) i = (i + 1) & (s->cap - 1);
    /* shift later entries of the same run back over the hole */
    for (size_t j = (i + 1) & (s->cap - 1); s->k[j]; j = (j + 1) & (s->cap - 1)) {
        size_t h = path_slot(s, s->k[j]);
        if (((j - h) & (s->cap - 1)) >= ((j - i) & (s->cap - 1))) {
            s->k[i] = s->k[j];
            i = j;
        }
    }
    s->k[i] = NULL;
}

/* One pass of value_to_sb: 1 done, 0 deeper than MLP_MAX_VALUE_DEPTH (no
 * error raised), -1 out of memory (raised). With `cycles`, a container met
 * again inside itself prints as [...] / {...}, as Python does; the path
 * is kept as a set for that (PathSet), which only this second pass needs:
 * it runs when a first pass without it went too deep (a cycle always does). */
static int to_sb(mlp_vm *vm, StrBuf *b, Value v, bool quote, bool cycles) {
    Walk w = {0};
    PathSet path = {0};
    if (cycles) {
        /* a power of two at least 4x the longest path: short probe runs */
        for (path.cap = 1; path.cap < 4 * (size_t)MLP_MAX_VALUE_DEPTH; path.cap <<= 1) {}
        path.k = (const void **)calloc(path.cap, sizeof *path.k);
        if (!path.k) return vm ? (vm_error(vm, "out of memory"), -1) : -1;
        path_add(&path, v.as.o);
    }
    if (!walk_push(vm, &w, v, v)) {
        free(path.k);
        return -1;
    }
    open_container(b, v);
    int r = 1;
    while (w.n > 0) {
        WalkEntry *top = &w.e[w.n - 1];
        Value c = top->a;
        if (top->i >= container_count(c)) {
            sb_addc(b, c.type == MLP_T_LIST ? "]" : "}");
            if (cycles) path_del(&path, c.as.o);
            w.n--;
            continue;
        }
        uint32_t i = top->i++;
        if (i) sb_addc(b, ", ");
        Value x;
        if (c.type == MLP_T_LIST) {
            x = AS_LIST(c)->items[i];
        } else {
            RecEntry *e = &AS_RECORD(c)->entries[i];
            ObjString *k = e->key;
            if (is_ident(STR_CHARS(k), k->len)) sb_add(b, STR_CHARS(k), k->len);
            else quote_string(b, STR_CHARS(k), k->len);
            sb_addc(b, ": ");
            x = e->val;
        }
        if (!is_container(x)) {
            scalar_to_sb(vm, b, x, true);
            continue;
        }
        if (cycles && path_has(&path, x.as.o)) {
            sb_addc(b, x.type == MLP_T_LIST ? "[...]" : "{...}");
            continue;
        }
        if (w.n == MLP_MAX_VALUE_DEPTH) {
            r = 0;
            break;
        }
        if (!walk_push(vm, &w, x, x)) {
            r = -1;
            break;
        }
        if (cycles) path_add(&path, x.as.o);
        open_container(b, x);
    }
    free(w.e);
    free(path.k);
    return r;
}

/* Iterative, so any nesting up to MLP_MAX_VALUE_DEPTH prints in full. */
bool value_to_sb(mlp_vm *vm, StrBuf *b, Value v, bool quote) {
    if (!b->vm) b->vm = vm;
    if (!is_container(v)) {
        scalar_to_sb(vm, b, v, quote);
        return true;
    }
    size_t start = b->n;
    int r = to_sb(vm, b, v, quote, false);
    if (r == 0) {
        b->n = start;
        r = to_sb(vm, b, v, quote, true);
    }
    if (r == 0) {
        if (vm) vm_error(vm, "value nested too deeply (more than %d levels)", MLP_MAX_VALUE_DEPTH);
        if (b->p) b->p[start] = '\0';
        b->n = start;
    }
    return r == 1;
}

static bool scalar_equal(Value a, Value b) {
    switch (a.type) {
    case MLP_T_NIL: return true;
    case MLP_T_BOOL: return a.as.b == b.as.b;
    case MLP_T_NUMBER: return a.as.n == b.as.n;
    case MLP_T_STRING: return str_eq(AS_STRING(a), AS_STRING(b));
    case MLP_T_RANGE: {
        ObjRange *x = AS_RANGE(a), *y = AS_RANGE(b);
        return x->start == y->start && x->stop == y->stop && x->step == y->step;
    }
    default: return a.as.o == b.as.o;
    }
}

/* Iterative, depth-first, stopping at the first difference. */
int values_equal(mlp_vm *vm, Value a, Value b) {
    if (a.type != b.type) return 0;
    if (!is_container(a)) return scalar_equal(a, b);
    if (a.as.o == b.as.o) return 1;
    if (container_count(a) != container_count(b)) return 0;
    Walk w = {0};
    int r = 1;
    if (!walk_push(vm, &w, a, b)) return -1;
    while (w.n > 0) {
        WalkEntry *top = &w.e[w.n - 1];
        if (top->i >= container_count(top->a)) {
            w.n--;
            continue;
        }
        uint32_t i = top->i++;
        Value x, y;
        if (top->a.type == MLP_T_LIST) {
            x = AS_LIST(top->a)->items[i];
            y = AS_LIST(top->b)->items[i];
        } else {
            RecEntry *e = &AS_RECORD(top->a)->entries[i];
            int32_t k = rec_find(AS_RECORD(top->b), e->key);
            if (k < 0) {
                r = 0;
                break;
            }
            x = e->val;
            y = AS_RECORD(top->b)->entries[k].val;
        }
        if (x.type != y.type) {
            r = 0;
            break;
        }
        if (!is_container(x)) {
            if (!scalar_equal(x, y)) {
                r = 0;
                break;
            }
            continue;
        }
        if (x.as.o == y.as.o) continue;
        if (container_count(x) != container_count(y)) {
            r = 0;
            break;
        }
        if (!walk_push(vm, &w, x, y)) {
            r = -1;
            break;
        }
    }
    free(w.e);
    return r;
}

const char *type_name(Value v) {
    static const char *const names[] = {
        [MLP_T_NIL] = "nil",       [MLP_T_BOOL] = "bool",      [MLP_T_NUMBER] = "number",
        [MLP_T_STRING] = "string", [MLP_T_LIST] = "list",      [MLP_T_RECORD] = "record",
        [MLP_T_RANGE] = "range",   [MLP_T_FUNCTION] = "function", [MLP_T_NATIVE] = "function",
        [MLP_T_MODULE] = "module", [MLP_T_HANDLE] = "handle",  [MLP_T_UNDEF] = "undefined",
    };
    _Static_assert(sizeof names / sizeof names[0] == MLP_T_UNDEF + 1, "one name per type");
    if (v.type == MLP_T_HANDLE) return AS_HANDLE(v)->cls->name;
    return names[v.type];
}

const char *mlp_type_name(mlp_value v) { return type_name(v); }
bool mlp_equal(mlp_value a, mlp_value b) { return values_equal(NULL, a, b) == 1; }
