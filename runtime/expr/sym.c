/*
 * sym.c — symbolic elementwise expressions (see sym.h).
 *
 * The operations, their spelling, precedence and derivative rules are the
 * rows of EXPR_OPS (ops.h). Constructors (rt_sym_op) simplify locally, so
 * a derivative never carries `1 * u` or `0 + v`; the result of
 * rt_sym_diff is built only from constructors, hence already simplified.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ops.h"
#include "sym.h"

static const char *const op_spell[OP_COUNT] = {
#define X(tag, name, spell, ar, prec, f, d, deriv) spell,
    EXPR_OPS(X)
#undef X
};
static const int op_arity[OP_COUNT] = {
#define X(tag, name, spell, ar, prec, f, d, deriv) ar,
    EXPR_OPS(X)
#undef X
};
static const int op_prec[OP_COUNT] = {
#define X(tag, name, spell, ar, prec, f, d, deriv) prec,
    EXPR_OPS(X)
#undef X
};
enum { PREC_CALL = EXPR_PREC_CALL, PREC_NEG = EXPR_PREC_NEG, PREC_POW = EXPR_PREC_POW,
       PREC_CMP = EXPR_PREC_CMP };

struct rt_sym {
    op_t k;                 /* an operation, OP_NUM, OP_VAR or OP_NAME */
    double num;
    char *name;
    const rt_sym *a, *b;
};

struct rt_sym_arena {
    rt_sym **all;
    int n, cap;
};

rt_sym_arena *rt_sym_arena_new(void) { return calloc(1, sizeof(rt_sym_arena)); }

void rt_sym_arena_free(rt_sym_arena *a)
{
    if (!a) return;
    for (int i = 0; i < a->n; i++) {
        free(a->all[i]->name);
        free(a->all[i]);
    }
    free(a->all);
    free(a);
}

static rt_sym *node(rt_sym_arena *ar, op_t k, const rt_sym *a, const rt_sym *b)
{
    if (ar->n == ar->cap) {
        ar->cap = ar->cap ? 2 * ar->cap : 64;
        rt_sym **p = realloc(ar->all, (size_t)ar->cap * sizeof *p);
        if (!p) abort();   /* out of memory: an internal failure, as the compiler's arenas */
        ar->all = p;
    }
    rt_sym *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->k = k;
    s->a = a;
    s->b = b;
    ar->all[ar->n++] = s;
    return s;
}

const rt_sym *rt_sym_num(rt_sym_arena *ar, double v)
{
    rt_sym *s = node(ar, OP_NUM, NULL, NULL);
    s->num = v;
    return s;
}

const rt_sym *rt_sym_var(rt_sym_arena *ar) { return node(ar, OP_VAR, NULL, NULL); }

const rt_sym *rt_sym_name(rt_sym_arena *ar, const char *name)
{
    rt_sym *s = node(ar, OP_NAME, NULL, NULL);
    s->name = strdup(name);
    if (!s->name) abort();
    return s;
}

/* ---- the table, by spelling ------------------------------------------------------ */

int rt_sym_op_find(const char *spell, int arity, bool call)
{
    for (int i = 0; i < OP_COUNT; i++)
        if (op_prec[i] && (op_prec[i] == PREC_CALL) == call && op_arity[i] == arity &&
            strcmp(op_spell[i], spell) == 0)
            return i;
    return -1;
}

int rt_sym_fn_arity(const char *name)
{
    for (int i = 0; i < OP_COUNT; i++)
        if (op_prec[i] == PREC_CALL && strcmp(op_spell[i], name) == 0) return op_arity[i];
    return -1;
}

static size_t join(char *buf, size_t size, const char *sep, bool calls)
{
    size_t len = 0;
    if (size) buf[0] = '\0';
    for (int i = 0; i < OP_COUNT; i++) {
        bool want = calls ? op_prec[i] == PREC_CALL
                          : op_arity[i] == 2 && op_prec[i] > PREC_CMP && op_prec[i] < PREC_CALL;
        if (!want) continue;
        int w = snprintf(len < size ? buf + len : NULL, len < size ? size - len : 0, "%s%s",
                         len ? sep : "", op_spell[i]);
        if (w > 0) len += (size_t)w;
    }
    return len;
}

size_t rt_sym_fn_names(char *buf, size_t size, const char *sep) { return join(buf, size, sep, true); }
size_t rt_sym_arith_ops(char *buf, size_t size, const char *sep) { return join(buf, size, sep, false); }

/* ---- simplifying constructors -------------------------------------------------- */

static bool is_num(const rt_sym *s, double v) { return s->k == OP_NUM && s->num == v; }

/* Structural equality (for x - x). */
static bool sym_eq(const rt_sym *x, const rt_sym *y)
{
    if (x == y) return true;
    if (!x || !y || x->k != y->k) return false;
    if (x->k == OP_NUM) return memcmp(&x->num, &y->num, sizeof x->num) == 0;
    if (x->k == OP_NAME) return strcmp(x->name, y->name) == 0;
    return sym_eq(x->a, y->a) && sym_eq(x->b, y->b);
}

static const rt_sym *mk(rt_sym_arena *ar, op_t k, const rt_sym *a, const rt_sym *b);

static const rt_sym *mk_neg(rt_sym_arena *ar, const rt_sym *a)
{
    if (a->k == OP_NUM) return rt_sym_num(ar, -a->num);
    if (a->k == OP_NEG) return a->a;
    return node(ar, OP_NEG, a, NULL);
}

/* The algebra the constructors apply; constants fold in double (what the
 * kernel's scalar part would compute once anyway; a power folds with C's
 * pow). An operation with no rule here is built as written. */
static const rt_sym *mk(rt_sym_arena *ar, op_t k, const rt_sym *a, const rt_sym *b)
{
    bool ca = a && a->k == OP_NUM, cb = b && b->k == OP_NUM;
    switch (k) {
    case OP_ADD:
        if (ca && cb) return rt_sym_num(ar, a->num + b->num);
        if (is_num(a, 0)) return b;
        if (is_num(b, 0)) return a;
        if (b->k == OP_NEG) return mk(ar, OP_SUB, a, b->a);
        break;
    case OP_SUB:
        if (ca && cb) return rt_sym_num(ar, a->num - b->num);
        if (is_num(b, 0)) return a;
        if (is_num(a, 0)) return mk_neg(ar, b);
        if (sym_eq(a, b)) return rt_sym_num(ar, 0);
        if (b->k == OP_NEG) return mk(ar, OP_ADD, a, b->a);
        break;
    case OP_MUL:
        if (ca && cb) return rt_sym_num(ar, a->num * b->num);
        if (is_num(a, 0) || is_num(b, 0)) return rt_sym_num(ar, 0);
        if (is_num(a, 1)) return b;
        if (is_num(b, 1)) return a;
        if (is_num(a, -1)) return mk_neg(ar, b);
        if (is_num(b, -1)) return mk_neg(ar, a);
        if (a->k == OP_NEG) return mk_neg(ar, mk(ar, OP_MUL, a->a, b));
        if (b->k == OP_NEG) return mk_neg(ar, mk(ar, OP_MUL, a, b->a));
        if (cb) return mk(ar, OP_MUL, b, a);           /* constants first: 2 * x */
        if (ca && b->k == OP_MUL && b->a->k == OP_NUM)  /* 2 * (3 * x) = 6 * x */
            return mk(ar, OP_MUL, rt_sym_num(ar, a->num * b->a->num), b->b);
        break;
    case OP_DIV:
        if (ca && cb && b->num != 0) return rt_sym_num(ar, a->num / b->num);
        if (is_num(a, 0)) return rt_sym_num(ar, 0);
        if (is_num(b, 1)) return a;
        if (a->k == OP_NEG) return mk_neg(ar, mk(ar, OP_DIV, a->a, b));
        break;
    case OP_POW:
        if (ca && cb) return rt_sym_num(ar, pow(a->num, b->num));
        if (is_num(b, 1)) return a;
        if (is_num(b, 0)) return rt_sym_num(ar, 1);
        break;
    case OP_NEG: return mk_neg(ar, a);
    default: break;
    }
    return node(ar, k, a, b);
}

const rt_sym *rt_sym_op(rt_sym_arena *ar, int op, const rt_sym *a, const rt_sym *b)
{
    return mk(ar, (op_t)op, a, op_arity[op] == 2 ? b : NULL);
}

/* ---- differentiation ---------------------------------------------------------- */

static bool has_var(const rt_sym *e)
{
    if (!e) return false;
    return e->k == OP_VAR || has_var(e->a) || has_var(e->b);
}

static const rt_sym *d(rt_sym_arena *ar, const rt_sym *e);

/* d(u ** v), by which side holds the variable */
static const rt_sym *d_pow(rt_sym_arena *ar, const rt_sym *e, const rt_sym *u, const rt_sym *v,
                           const rt_sym *du, const rt_sym *dv)
{
    if (!has_var(v))            /* v u^(v-1) u' */
        return mk(ar, OP_MUL, mk(ar, OP_MUL, v, mk(ar, OP_POW, u, mk(ar, OP_SUB, v, rt_sym_num(ar, 1)))), du);
    if (!has_var(u))            /* u^v ln(u) v' */
        return mk(ar, OP_MUL, mk(ar, OP_MUL, e, mk(ar, OP_LOG, u, NULL)), dv);
    /* u^v (v' ln u + v u'/u) */
    return mk(ar, OP_MUL, e, mk(ar, OP_ADD, mk(ar, OP_MUL, dv, mk(ar, OP_LOG, u, NULL)),
                                mk(ar, OP_DIV, mk(ar, OP_MUL, v, du), u)));
}

/* The constructors the table's derivative column is written with. */
#define E e
#define U u
#define V v
#define DU du
#define DV dv
#define ADD(p, q) mk(ar, OP_ADD, (p), (q))
#define SUB(p, q) mk(ar, OP_SUB, (p), (q))
#define MUL(p, q) mk(ar, OP_MUL, (p), (q))
#define DIV(p, q) mk(ar, OP_DIV, (p), (q))
#define POW(p, q) mk(ar, OP_POW, (p), (q))
#define NEG(p) mk_neg(ar, (p))
#define F1(tag, p) mk(ar, OP_##tag, (p), NULL)
#define F2(tag, p, q) mk(ar, OP_##tag, (p), (q))
#define NUM(x) rt_sym_num(ar, (x))
#define ZERO rt_sym_num(ar, 0)
#define D_POW d_pow(ar, e, u, v, du, dv)

static const rt_sym *d(rt_sym_arena *ar, const rt_sym *e)
{
    if (!has_var(e)) return rt_sym_num(ar, 0);
    const rt_sym *u = e->a, *v = e->b;
    const rt_sym *du = u ? d(ar, u) : NULL, *dv = v ? d(ar, v) : NULL;
    switch (e->k) {
    case OP_VAR: return rt_sym_num(ar, 1);
#define X(tag, name, spell, ar_, prec, f, d_, deriv) case OP_##tag: return deriv;
        EXPR_OPS(X)
#undef X
    default: return rt_sym_num(ar, 0);
    }
}

#undef E
#undef U
#undef V
#undef DU
#undef DV
#undef ADD
#undef SUB
#undef MUL
#undef DIV
#undef POW
#undef NEG
#undef F1
#undef F2
#undef NUM
#undef ZERO
#undef D_POW

const rt_sym *rt_sym_diff(rt_sym_arena *ar, const rt_sym *e) { return d(ar, e); }

/* ---- printing ------------------------------------------------------------------ */

typedef struct { char *p; size_t n, cap; } text;

static void add(text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (w < 0) return;
    if (t->n + (size_t)w + 1 > t->cap) {
        size_t nc = t->cap ? t->cap * 2 : 64;
        while (nc < t->n + (size_t)w + 1) nc *= 2;
        char *p = realloc(t->p, nc);
        if (!p) abort();
        t->p = p;
        t->cap = nc;
    }
    va_start(ap, fmt);
    vsnprintf(t->p + t->n, t->cap - t->n, fmt, ap);
    va_end(ap);
    t->n += (size_t)w;
}

/* The shortest text that reads back as the same double, integers below
 * 1e16 without a point: the same text the language's str() gives, so the
 * kernel shows the numbers as the script wrote them. */
static void number(char *buf, double x)
{
    if (isnan(x)) { snprintf(buf, 32, "nan"); return; }
    if (isinf(x)) { snprintf(buf, 32, x > 0 ? "inf" : "-inf"); return; }
    if (x == floor(x) && fabs(x) < 1e16) { snprintf(buf, 32, "%.0f", x); return; }
    for (int p = 1; p <= 17; p++) {
        snprintf(buf, 32, "%.*g", p, x);
        if (strtod(buf, NULL) == x) return;
    }
    snprintf(buf, 32, "%.17g", x);
}

static void print(text *b, const rt_sym *e, int parent_prec, bool right)
{
    if (e->k == OP_NUM) {
        char buf[40];
        number(buf, e->num);
        bool neg = e->num < 0 || (e->num == 0 && signbit(e->num));
        if (neg && parent_prec >= PREC_NEG) add(b, "(%s)", buf);
        else add(b, "%s", buf);
        return;
    }
    if (e->k == OP_VAR) { add(b, "x"); return; }
    if (e->k == OP_NAME) { add(b, "%s", e->name); return; }
    int p = op_prec[e->k];
    if (p == PREC_CALL) {
        add(b, "%s(", op_spell[e->k]);
        print(b, e->a, 0, false);
        if (op_arity[e->k] == 2) {
            add(b, ", ");
            print(b, e->b, 0, false);
        }
        add(b, ")");
        return;
    }
    /* parenthesise a lower-precedence child, and an equal one on the side
     * the operator does not associate to (a - (b - c), a ** b ** c is
     * right-associative, comparisons not at all) */
    bool paren = p < parent_prec ||
                 (p == parent_prec && (p == PREC_CMP || (p == PREC_POW ? !right : right)));
    if (paren) add(b, "(");
    if (op_arity[e->k] == 1) {
        add(b, "%s", op_spell[e->k]);
        print(b, e->a, p, true);
    } else {
        print(b, e->a, p, false);
        add(b, " %s ", op_spell[e->k]);
        print(b, e->b, p, true);
    }
    if (paren) add(b, ")");
}

char *rt_sym_print(const rt_sym *e)
{
    text b = {0};
    print(&b, e, 0, false);
    if (!b.p) add(&b, "%s", "");
    return b.p;
}
