/*
 * deriv.c — symbolic differentiation and simplification (see deriv.h).
 *
 * The node kinds are one table, SYM_KINDS: tag, printed name, arity and
 * print precedence. Constructors (mk_*) simplify locally, so a derivative
 * never carries `1 * u` or `0 + v`; the result of sym_diff is built only
 * from constructors, hence already simplified.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "deriv.h"
#include "vm.h"

/* precedence: 1 comparison, 2 + -, 3 * /, 4 unary -, 5 **, 6 atoms/calls */
#define SYM_KINDS(X) \
    X(NUM, "", 0, 6) X(VAR, "x", 0, 6) X(NAME, "", 0, 6) \
    X(ADD, "+", 2, 2) X(SUB, "-", 2, 2) X(MUL, "*", 2, 3) X(DIV, "/", 2, 3) \
    X(POW, "**", 2, 5) X(NEG, "-", 1, 4) \
    X(LT, "<", 2, 1) X(LE, "<=", 2, 1) X(GT, ">", 2, 1) X(GE, ">=", 2, 1) \
    X(EQ, "==", 2, 1) X(NE, "!=", 2, 1) \
    X(EXP, "exp", 1, 6) X(LOG, "log", 1, 6) X(SQRT, "sqrt", 1, 6) X(ABS, "abs", 1, 6) \
    X(TANH, "tanh", 1, 6) X(SIGMOID, "sigmoid", 1, 6) X(SIGN, "sign", 1, 6) X(ERF, "erf", 1, 6) \
    X(MAX, "max", 2, 6) X(MIN, "min", 2, 6)

typedef enum {
#define X(t, s, ar, pr) S_##t,
    SYM_KINDS(X)
#undef X
    S_COUNT
} SymKind;

static const char *const kind_name[S_COUNT] = {
#define X(t, s, ar, pr) s,
    SYM_KINDS(X)
#undef X
};
static const int kind_arity[S_COUNT] = {
#define X(t, s, ar, pr) ar,
    SYM_KINDS(X)
#undef X
};
static const int kind_prec[S_COUNT] = {
#define X(t, s, ar, pr) pr,
    SYM_KINDS(X)
#undef X
};

struct Sym {
    SymKind k;
    double num;
    char *name;
    const Sym *a, *b;
};

struct SymArena {
    Sym **all;
    int n, cap;
};

SymArena *sym_arena_new(void) { return calloc(1, sizeof(SymArena)); }

void sym_arena_free(SymArena *a)
{
    if (!a) return;
    for (int i = 0; i < a->n; i++) {
        free(a->all[i]->name);
        free(a->all[i]);
    }
    free(a->all);
    free(a);
}

static Sym *node(SymArena *ar, SymKind k, const Sym *a, const Sym *b)
{
    if (ar->n == ar->cap) {
        ar->cap = ar->cap ? 2 * ar->cap : 64;
        Sym **p = realloc(ar->all, (size_t)ar->cap * sizeof *p);
        if (!p) abort();   /* out of memory: an internal failure, as ast.c */
        ar->all = p;
    }
    Sym *s = calloc(1, sizeof *s);
    if (!s) abort();
    s->k = k;
    s->a = a;
    s->b = b;
    ar->all[ar->n++] = s;
    return s;
}

static const Sym *num(SymArena *ar, double v)
{
    Sym *s = node(ar, S_NUM, NULL, NULL);
    s->num = v;
    return s;
}

static bool is_num(const Sym *s, double v) { return s->k == S_NUM && s->num == v; }

/* Structural equality (for x - x, and the y = f(x) reuse). */
static bool sym_eq(const Sym *x, const Sym *y)
{
    if (x == y) return true;
    if (!x || !y || x->k != y->k) return false;
    if (x->k == S_NUM) return memcmp(&x->num, &y->num, sizeof x->num) == 0;
    if (x->k == S_NAME) return strcmp(x->name, y->name) == 0;
    return sym_eq(x->a, y->a) && sym_eq(x->b, y->b);
}

/* Folds a constant operation in double: what the runtime's scalar part
 * would compute once anyway. */
static double fold(SymKind k, double x, double y)
{
    switch (k) {
    case S_ADD: return x + y;
    case S_SUB: return x - y;
    case S_MUL: return x * y;
    case S_DIV: return x / y;
    case S_POW: return pow(x, y);
    case S_NEG: return -x;
    default: return NAN;
    }
}

static const Sym *mk(SymArena *ar, SymKind k, const Sym *a, const Sym *b);

static const Sym *mk_neg(SymArena *ar, const Sym *a)
{
    if (a->k == S_NUM) return num(ar, -a->num);
    if (a->k == S_NEG) return a->a;
    return node(ar, S_NEG, a, NULL);
}

static const Sym *mk(SymArena *ar, SymKind k, const Sym *a, const Sym *b)
{
    bool ca = a && a->k == S_NUM, cb = b && b->k == S_NUM;
    switch (k) {
    case S_ADD:
        if (ca && cb) return num(ar, a->num + b->num);
        if (is_num(a, 0)) return b;
        if (is_num(b, 0)) return a;
        if (b->k == S_NEG) return mk(ar, S_SUB, a, b->a);
        break;
    case S_SUB:
        if (ca && cb) return num(ar, a->num - b->num);
        if (is_num(b, 0)) return a;
        if (is_num(a, 0)) return mk_neg(ar, b);
        if (sym_eq(a, b)) return num(ar, 0);
        if (b->k == S_NEG) return mk(ar, S_ADD, a, b->a);
        break;
    case S_MUL:
        if (ca && cb) return num(ar, a->num * b->num);
        if (is_num(a, 0) || is_num(b, 0)) return num(ar, 0);
        if (is_num(a, 1)) return b;
        if (is_num(b, 1)) return a;
        if (is_num(a, -1)) return mk_neg(ar, b);
        if (is_num(b, -1)) return mk_neg(ar, a);
        if (a->k == S_NEG) return mk_neg(ar, mk(ar, S_MUL, a->a, b));
        if (b->k == S_NEG) return mk_neg(ar, mk(ar, S_MUL, a, b->a));
        if (cb) return mk(ar, S_MUL, b, a);           /* constants first: 2 * x */
        if (ca && b->k == S_MUL && b->a->k == S_NUM)  /* 2 * (3 * x) = 6 * x */
            return mk(ar, S_MUL, num(ar, a->num * b->a->num), b->b);
        break;
    case S_DIV:
        if (ca && cb && b->num != 0) return num(ar, a->num / b->num);
        if (is_num(a, 0)) return num(ar, 0);
        if (is_num(b, 1)) return a;
        if (a->k == S_NEG) return mk_neg(ar, mk(ar, S_DIV, a->a, b));
        break;
    case S_POW:
        if (ca && cb) return num(ar, fold(S_POW, a->num, b->num));
        if (is_num(b, 1)) return a;
        if (is_num(b, 0)) return num(ar, 1);
        break;
    case S_NEG: return mk_neg(ar, a);
    default: break;
    }
    return node(ar, k, a, b);
}

/* ---- from the AST ----------------------------------------------------------- */

static bool bad(SymError *err, const Ast *n, const char *what, const char *fmt, const char *part)
{
    err->span = n->span;
    char tmp[200];
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(tmp, sizeof tmp, fmt, part);
#pragma GCC diagnostic pop
    snprintf(err->msg, sizeof err->msg, "%s: %s", what, tmp);
    return false;
}

static SymKind binary_kind(int op)
{
    switch (op) {
    case '+': return S_ADD;
    case '-': return S_SUB;
    case '*': return S_MUL;
    case '/': return S_DIV;
    case 'P': return S_POW;
    case '<': return S_LT;
    case 'L': return S_LE;
    case '>': return S_GT;
    case 'G': return S_GE;
    case 'E': return S_EQ;
    case 'N': return S_NE;
    default: return S_COUNT;
    }
}

static const char *op_text(int op)
{
    static char one[2];
    switch (op) {
    case 'E': return "==";
    case 'N': return "!=";
    case 'L': return "<=";
    case 'G': return ">=";
    case 'P': return "**";
    case 'n': return "not";
    default: one[0] = (char)op; one[1] = 0; return one;
    }
}

static const Sym *from_ast(SymArena *ar, const Ast *n, SymResolve resolve, void *ud,
                           const char *what, SymError *err)
{
    switch (n->kind) {
    case AST_NUM: return num(ar, n->num);
    case AST_NAME: {
        char msg[200] = "";
        switch (resolve(ud, n->str, msg, sizeof msg)) {
        case SYM_NAME_VAR: return node(ar, S_VAR, NULL, NULL);
        case SYM_NAME_KEEP: {
            Sym *s = node(ar, S_NAME, NULL, NULL);
            s->name = strdup(n->str);
            if (!s->name) abort();
            return s;
        }
        case SYM_NAME_BAD: bad(err, n, what, "%s", msg); return NULL;
        }
        return NULL;
    }
    case AST_UNARY: {
        if (n->op != '-') {
            bad(err, n, what, "'%s' is not an elementwise arithmetic operation", op_text(n->op));
            return NULL;
        }
        const Sym *a = from_ast(ar, n->a, resolve, ud, what, err);
        return a ? mk_neg(ar, a) : NULL;
    }
    case AST_BINARY: {
        SymKind k = binary_kind(n->op);
        if (k == S_COUNT) {
            bad(err, n, what, "cannot differentiate or fuse the operator '%s' (use + - * / ** "
                "and comparisons)", op_text(n->op));
            return NULL;
        }
        const Sym *a = from_ast(ar, n->a, resolve, ud, what, err);
        const Sym *b = a ? from_ast(ar, n->b, resolve, ud, what, err) : NULL;
        return b ? mk(ar, k, a, b) : NULL;
    }
    case AST_CALL: {
        if (n->a->kind != AST_NAME) {
            bad(err, n, what, "%s", "only the elementwise functions exp log sqrt abs tanh sigmoid "
                "sign erf max min may be called here");
            return NULL;
        }
        SymKind k = S_COUNT;
        for (int i = S_EXP; i < S_COUNT; i++)
            if (strcmp(kind_name[i], n->a->str) == 0) k = (SymKind)i;
        if (k == S_COUNT) {
            bad(err, n->a, what, "cannot differentiate or fuse the function '%s' (known: exp, log, "
                "sqrt, abs, tanh, sigmoid, sign, erf, max, min)", n->a->str);
            return NULL;
        }
        if (n->n != kind_arity[k]) {
            char m[80];
            snprintf(m, sizeof m, "%s takes %d argument%s here, got %d", kind_name[k], kind_arity[k],
                     kind_arity[k] == 1 ? "" : "s", n->n);
            bad(err, n, what, "%s", m);
            return NULL;
        }
        const Sym *args[2] = {NULL, NULL};
        for (int i = 0; i < n->n; i++) {
            if (n->list[i]->kind == AST_KWARG) {
                bad(err, n->list[i], what, "%s", "keyword arguments are not allowed here");
                return NULL;
            }
            args[i] = from_ast(ar, n->list[i], resolve, ud, what, err);
            if (!args[i]) return NULL;
        }
        return mk(ar, k, args[0], args[1]);
    }
    default:
        bad(err, n, what, "this %s is not an elementwise expression (numbers, names, + - * / **, "
            "comparisons and elementwise functions only)", ast_kind_name(n->kind));
        return NULL;
    }
}

Sym *sym_from_ast(SymArena *a, const Ast *n, SymResolve resolve, void *ud, const char *what,
                  SymError *err)
{
    return (Sym *)from_ast(a, n, resolve, ud, what, err);
}

/* ---- differentiation ---------------------------------------------------------- */

static bool has_var(const Sym *e)
{
    if (!e) return false;
    return e->k == S_VAR || has_var(e->a) || has_var(e->b);
}

static const Sym *d(SymArena *ar, const Sym *e)
{
    if (!has_var(e)) return num(ar, 0);
    const Sym *u = e->a, *v = e->b;
    const Sym *du = u ? d(ar, u) : NULL, *dv = v ? d(ar, v) : NULL;
    switch (e->k) {
    case S_VAR: return num(ar, 1);
    case S_ADD: return mk(ar, S_ADD, du, dv);
    case S_SUB: return mk(ar, S_SUB, du, dv);
    case S_NEG: return mk_neg(ar, du);
    case S_MUL: return mk(ar, S_ADD, mk(ar, S_MUL, du, v), mk(ar, S_MUL, u, dv));
    case S_DIV:   /* u'/v - u v'/v^2 */
        return mk(ar, S_SUB, mk(ar, S_DIV, du, v),
                  mk(ar, S_DIV, mk(ar, S_MUL, u, dv), mk(ar, S_MUL, v, v)));
    case S_POW:
        if (!has_var(v))            /* v u^(v-1) u' */
            return mk(ar, S_MUL, mk(ar, S_MUL, v, mk(ar, S_POW, u, mk(ar, S_SUB, v, num(ar, 1)))), du);
        if (!has_var(u))            /* u^v ln(u) v' */
            return mk(ar, S_MUL, mk(ar, S_MUL, e, mk(ar, S_LOG, u, NULL)), dv);
        /* u^v (v' ln u + v u'/u) */
        return mk(ar, S_MUL, e, mk(ar, S_ADD, mk(ar, S_MUL, dv, mk(ar, S_LOG, u, NULL)),
                                   mk(ar, S_DIV, mk(ar, S_MUL, v, du), u)));
    case S_EXP: return mk(ar, S_MUL, e, du);
    case S_LOG: return mk(ar, S_DIV, du, u);
    case S_SQRT: return mk(ar, S_DIV, du, mk(ar, S_MUL, num(ar, 2), e));
    case S_ABS: return mk(ar, S_MUL, mk(ar, S_SIGN, u, NULL), du);
    case S_TANH: return mk(ar, S_MUL, mk(ar, S_SUB, num(ar, 1), mk(ar, S_MUL, e, e)), du);
    case S_SIGMOID: return mk(ar, S_MUL, mk(ar, S_MUL, e, mk(ar, S_SUB, num(ar, 1), e)), du);
    case S_ERF:     /* 2/sqrt(pi) e^(-u^2) u' */
        return mk(ar, S_MUL, mk(ar, S_MUL, num(ar, 1.1283791670955126),
                                mk(ar, S_EXP, mk_neg(ar, mk(ar, S_MUL, u, u)), NULL)), du);
    case S_MAX:
        return mk(ar, S_ADD, mk(ar, S_MUL, mk(ar, S_GT, u, v), du), mk(ar, S_MUL, mk(ar, S_LE, u, v), dv));
    case S_MIN:
        return mk(ar, S_ADD, mk(ar, S_MUL, mk(ar, S_LT, u, v), du), mk(ar, S_MUL, mk(ar, S_GE, u, v), dv));
    default:    /* comparisons, sign: piecewise constant */
        return num(ar, 0);
    }
}

Sym *sym_diff(SymArena *a, const Sym *e) { return (Sym *)d(a, e); }

/* ---- printing ------------------------------------------------------------------ */

static void print(StrBuf *b, const Sym *e, int parent_prec, bool right)
{
    int p = kind_prec[e->k];
    if (e->k == S_NUM) {
        char buf[40];
        fmt_number(e->num, buf);
        bool neg = e->num < 0 || (e->num == 0 && signbit(e->num));
        if (neg && parent_prec >= 4) sb_printf(b, "(%s)", buf);
        else sb_addc(b, buf);
        return;
    }
    if (e->k == S_VAR) { sb_addc(b, "x"); return; }
    if (e->k == S_NAME) { sb_addc(b, e->name); return; }
    if (p == 6) {      /* a call */
        sb_printf(b, "%s(", kind_name[e->k]);
        print(b, e->a, 0, false);
        if (kind_arity[e->k] == 2) {
            sb_addc(b, ", ");
            print(b, e->b, 0, false);
        }
        sb_addc(b, ")");
        return;
    }
    /* parenthesise a lower-precedence child, and an equal one on the side
     * the operator does not associate to (a - (b - c), a ** b ** c is
     * right-associative, comparisons not at all) */
    bool paren = p < parent_prec || (p == parent_prec && (p == 1 || (p == 5 ? !right : right)));
    if (paren) sb_addc(b, "(");
    if (e->k == S_NEG) {
        sb_addc(b, "-");
        print(b, e->a, 4, true);
    } else {
        print(b, e->a, p, false);
        sb_printf(b, " %s ", kind_name[e->k]);
        print(b, e->b, p, true);
    }
    if (paren) sb_addc(b, ")");
}

char *sym_print(const Sym *e)
{
    StrBuf b = {0};
    print(&b, e, 0, false);
    if (!b.p) sb_addc(&b, "");
    return b.p;
}
