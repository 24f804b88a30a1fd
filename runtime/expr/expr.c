/*
 * expr.c — the expression kernel compiler and its chunked interpreter (see
 * expr.h).
 *
 * Three stages. A recursive-descent parser turns the text into a tree
 * (nodes in one growing array, indexes instead of pointers). The compiler
 * walks each statement's tree bottom-up: a node whose operands are all
 * scalar becomes a scalar instruction (double, run by prepare), anything
 * else a vector instruction whose operands are array variables, chunk
 * registers or uniforms (a scalar rounded to float). exec then runs the
 * vector instructions chunk by chunk; each instruction is a loop over the
 * chunk with the operand kinds resolved outside the loop, so the loops are
 * plain enough for the compiler to vectorise the arithmetic ones (with the
 * dynamic cost model, which allows the run-time alias checks; compiled once
 * per instruction set and chosen like the built-in kernels, see exec_avx2).
 *
 * The operations are one table, EXPR_OPS (ops.h): this file reads its
 * name, arity, float kernel and double kernel columns.
 */
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"
#include "expr.h"
#include "mathf.h"
#include "ops.h"

static float sigmoidf_(float x) { return 1.0f / (1.0f + rt_expf(-x)); }
static double sigmoid_d(double x) { return 1.0 / (1.0 + exp(-x)); }
static float signf_(float x) { return x > 0.0f ? 1.0f : x < 0.0f ? -1.0f : 0.0f; }
static double sign_d(double x) { return x > 0.0 ? 1.0 : x < 0.0 ? -1.0 : 0.0; }
static float maxf_(float x, float y) { return x > y ? x : y; }
static float minf_(float x, float y) { return x < y ? x : y; }
static double max_d(double x, double y) { return x > y ? x : y; }
static double min_d(double x, double y) { return x < y ? x : y; }

/* rt_powi in float, for per-element powers inside a kernel */
static float powi_f(float b, long k)
{
    bool inv = k < 0;
    unsigned long e = inv ? (unsigned long)-k : (unsigned long)k;
    float r = 1.0f;
    while (e) {
        if (e & 1) r *= b;
        b *= b;
        e >>= 1;
    }
    return inv ? 1.0f / r : r;
}
/* A power: integer exponents multiply; others are e^(y ln x) (NaN for a
 * negative base, as C's pow). */
static double pow_d(double x, double y)
{
    if (y == floor(y) && fabs(y) <= 1024) return rt_powi(x, (long)y);
    return pow(x, y);
}
static float pow_f(float x, float y)
{
    if (y == floorf(y) && fabsf(y) <= 64) return powi_f(x, (long)y);
    if (y == 0.5f) return sqrtf(x);
    return rt_expf(y * rt_logf(x));
}

static const char *const op_name[OP_COUNT] = {
#define X(tag, name, spell, ar, prec, f, d, deriv) name,
    EXPR_OPS(X)
#undef X
};
static const char *const op_spell[OP_COUNT] = {
#define X(tag, name, spell, ar, prec, f, d, deriv) spell,
    EXPR_OPS(X)
#undef X
};
static const int op_prec[OP_COUNT] = {
#define X(tag, name, spell, ar, prec, f, d, deriv) prec,
    EXPR_OPS(X)
#undef X
};
static const int op_arity[OP_COUNT] = {
#define X(tag, name, spell, ar, prec, f, d, deriv) ar,
    EXPR_OPS(X)
#undef X
};

enum { MAX_REGS = 32, MAX_SREGS = 256, MAX_UNIS = RT_EXPR_MAX_UNIFORMS, MAX_VINS = 256, MAX_NODES = 4096,
       MAX_NAMES = 64, MAX_ARRAYS = 16 };

/* ---- parsing --------------------------------------------------------------- */

typedef struct node {
    op_t op;
    int a, b;              /* children (node indexes), -1 if none */
    double num;            /* OP_NUM */
    char name[32];         /* OP_NAME */
} node;

typedef struct parser {
    const char *s, *p;
    node *nodes;
    int n;
    rt_error *err;
    bool failed;
} parser;

static void perr(parser *ps, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void perr(parser *ps, const char *fmt, ...)
{
    if (ps->failed) return;
    ps->failed = true;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rt_fail(ps->err, "expression kernel, at offset %d: %s", (int)(ps->p - ps->s), msg);
}

static void skip_ws(parser *ps)
{
    while (*ps->p == ' ' || *ps->p == '\t' || *ps->p == '\r') ps->p++;
}

static bool accept(parser *ps, const char *tok)
{
    skip_ws(ps);
    size_t n = strlen(tok);
    if (strncmp(ps->p, tok, n) != 0) return false;
    /* a one-character token must not be the first half of a two-character
     * one: '*' of '**', '<' of '<=', '=' of '==' */
    if (n == 1 && ((tok[0] == '*' && ps->p[1] == '*') ||
                   (strchr("<>=", tok[0]) && ps->p[1] == '=')))
        return false;
    ps->p += n;
    return true;
}

static int mk(parser *ps, op_t op, int a, int b)
{
    if (ps->n >= MAX_NODES) { perr(ps, "expression too long"); return -1; }
    node *nd = &ps->nodes[ps->n];
    memset(nd, 0, sizeof *nd);
    nd->op = op;
    nd->a = a;
    nd->b = b;
    return ps->n++;
}

static bool is_ident_start(char c) { return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_ident(char c) { return is_ident_start(c) || (c >= '0' && c <= '9'); }

static int parse_expr(parser *ps);
static int parse_unary(parser *ps);

static int parse_primary(parser *ps)
{
    skip_ws(ps);
    if (ps->failed) return -1;
    char c = *ps->p;
    if ((c >= '0' && c <= '9') || c == '.') {
        char *end;
        double v = strtod(ps->p, &end);
        if (end == ps->p) { perr(ps, "bad number"); return -1; }
        ps->p = end;
        int k = mk(ps, OP_NUM, -1, -1);
        if (k >= 0) ps->nodes[k].num = v;
        return k;
    }
    if (accept(ps, "(")) {
        int e = parse_expr(ps);
        if (!accept(ps, ")")) perr(ps, "expected ')'");
        return e;
    }
    if (!is_ident_start(c)) { perr(ps, "expected a number, a name or '('"); return -1; }
    const char *b = ps->p;
    while (is_ident(*ps->p)) ps->p++;
    size_t len = (size_t)(ps->p - b);
    if (len >= sizeof ps->nodes[0].name) { perr(ps, "name too long"); return -1; }
    if (accept(ps, "(")) {
        op_t op = OP_COUNT;
        for (int i = 0; i < OP_COUNT; i++)
            if (strlen(op_name[i]) == len && memcmp(op_name[i], b, len) == 0 && is_ident(op_name[i][0]))
                op = (op_t)i;
        if (op == OP_COUNT) { perr(ps, "unknown function '%.*s'", (int)len, b); return -1; }
        int x = parse_expr(ps), y = -1;
        if (op_arity[op] == 2) {
            if (!accept(ps, ",")) perr(ps, "%s takes two arguments", op_name[op]);
            y = parse_expr(ps);
        }
        if (!accept(ps, ")")) perr(ps, "expected ')' after the arguments of %s", op_name[op]);
        return mk(ps, op, x, y);
    }
    int k = mk(ps, OP_NAME, -1, -1);
    if (k >= 0) memcpy(ps->nodes[k].name, b, len);
    return k;
}

/* The operators come from the table (ops.h): the infix operator written
 * at ps->p is the longest spelling that matches there, so `**` is not
 * `*` twice and `<=` not `<`; -1 if there is none (not consumed). */
static int infix_at(parser *ps)
{
    skip_ws(ps);
    int best = -1;
    size_t blen = 0;
    for (int i = 0; i < OP_COUNT; i++) {
        size_t n = strlen(op_spell[i]);
        if (op_arity[i] == 2 && op_prec[i] >= EXPR_PREC_CMP && op_prec[i] < EXPR_PREC_CALL &&
            n > blen && strncmp(ps->p, op_spell[i], n) == 0) {
            best = i;
            blen = n;
        }
    }
    return best;
}

/* A primary, then `** unary` (right-associative, binding tighter than a
 * prefix operator on its left). */
static int parse_pow(parser *ps)
{
    int a = parse_primary(ps);
    int op = infix_at(ps);
    if (op < 0 || op_prec[op] != EXPR_PREC_POW) return a;
    ps->p += strlen(op_spell[op]);
    return mk(ps, (op_t)op, a, parse_unary(ps));
}

static int parse_unary(parser *ps)
{
    skip_ws(ps);
    for (int i = 0; i < OP_COUNT; i++)
        if (op_arity[i] == 1 && op_prec[i] == EXPR_PREC_NEG &&
            strncmp(ps->p, op_spell[i], strlen(op_spell[i])) == 0) {
            ps->p += strlen(op_spell[i]);
            return mk(ps, (op_t)i, parse_unary(ps), -1);
        }
    return parse_pow(ps);
}

/* The infix levels below the prefix one: left-associative, except that
 * comparisons do not chain. */
static int parse_binary(parser *ps, int prec)
{
    if (prec == EXPR_PREC_NEG) return parse_unary(ps);
    int a = parse_binary(ps, prec + 1);
    for (;;) {
        int op = infix_at(ps);
        if (op < 0 || op_prec[op] != prec) return a;
        ps->p += strlen(op_spell[op]);
        a = mk(ps, (op_t)op, a, parse_binary(ps, prec + 1));
        if (prec == EXPR_PREC_CMP) return a;
    }
}

static int parse_expr(parser *ps) { return parse_binary(ps, EXPR_PREC_CMP); }

/* ---- the compiled program -------------------------------------------------- */

typedef enum { K_ARR, K_REG, K_UNI } opnd_kind;
typedef struct { uint8_t kind; uint16_t idx; } opnd;

typedef struct { uint8_t op; int16_t dst, a, b; double num; } sins;     /* scalar */
typedef struct { uint8_t op; opnd dst, a, b; } vins;                   /* vector */

struct rt_expr {
    int narrays, nscalars;
    int nsregs;                 /* scalar registers: inputs first */
    sins *scode; int nscode;
    int16_t uni_src[MAX_UNIS]; int nunis;   /* uniform u = (float)sreg[uni_src[u]] */
    vins *vcode; int nvcode;
    int nregs;
    int last_let;               /* scalar register of the last scalar let (eval_scalar) */
    bool writes[MAX_ARRAYS];
    char names[MAX_ARRAYS + MAX_NAMES][32];  /* for listings: arrays then scalars */
};

/* A compiled value: a scalar register or a vector operand. */
typedef struct { bool vec; int sreg; opnd o; } val;

typedef struct sym { char name[32]; val v; } sym;

typedef struct comp {
    parser ps;
    rt_expr *e;
    sym syms[MAX_NAMES + MAX_ARRAYS]; int nsyms;
    int stmt_start;             /* first vector instruction of this statement (CSE window) */
    int scap, vcap;
} comp;

static bool cfail(comp *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static bool cfail(comp *c, const char *fmt, ...)
{
    if (c->ps.failed) return false;
    c->ps.failed = true;
    char msg[400];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    rt_fail(c->ps.err, "expression kernel: %s", msg);
    return false;
}

static int emit_s(comp *c, op_t op, int a, int b, double num)
{
    rt_expr *e = c->e;
    for (int i = 0; i < e->nscode; i++) {       /* scalars never change: CSE over all */
        sins *s = &e->scode[i];
        if (s->op == op && s->a == a && s->b == b && (op != OP_NUM || memcmp(&s->num, &num, sizeof num) == 0))
            return s->dst;
    }
    if (e->nsregs >= MAX_SREGS) { cfail(c, "too many scalar values"); return 0; }
    if (e->nscode == c->scap) {
        c->scap = c->scap ? 2 * c->scap : 16;
        sins *p = realloc(e->scode, (size_t)c->scap * sizeof *p);
        if (!p) { cfail(c, "out of memory"); return 0; }
        e->scode = p;
    }
    sins *s = &e->scode[e->nscode++];
    s->op = (uint8_t)op; s->a = (int16_t)a; s->b = (int16_t)b; s->num = num;
    s->dst = (int16_t)e->nsregs++;
    return s->dst;
}

static opnd uniform(comp *c, int sreg)
{
    rt_expr *e = c->e;
    for (int u = 0; u < e->nunis; u++)
        if (e->uni_src[u] == sreg) return (opnd){K_UNI, (uint16_t)u};
    if (e->nunis >= MAX_UNIS) { cfail(c, "too many scalars in the elementwise part"); return (opnd){K_UNI, 0}; }
    e->uni_src[e->nunis] = (int16_t)sreg;
    return (opnd){K_UNI, (uint16_t)e->nunis++};
}

static bool same(opnd x, opnd y) { return x.kind == y.kind && x.idx == y.idx; }

static opnd emit_v(comp *c, op_t op, opnd a, opnd b)
{
    rt_expr *e = c->e;
    for (int i = c->stmt_start; i < e->nvcode; i++) {
        vins *v = &e->vcode[i];
        if (v->op == op && same(v->a, a) && (op_arity[op] == 1 || same(v->b, b)) && v->dst.kind == K_REG)
            return v->dst;
    }
    if (e->nregs >= MAX_REGS) { cfail(c, "program needs more than %d chunk registers", MAX_REGS); return a; }
    if (e->nvcode == c->vcap) {
        c->vcap = c->vcap ? 2 * c->vcap : 16;
        vins *p = realloc(e->vcode, (size_t)c->vcap * sizeof *p);
        if (!p) { cfail(c, "out of memory"); return a; }
        e->vcode = p;
    }
    vins *v = &e->vcode[e->nvcode++];
    v->op = (uint8_t)op; v->a = a; v->b = b;
    v->dst = (opnd){K_REG, (uint16_t)e->nregs++};
    return v->dst;
}

static sym *lookup(comp *c, const char *name)
{
    for (int i = c->nsyms - 1; i >= 0; i--)
        if (strcmp(c->syms[i].name, name) == 0) return &c->syms[i];
    return NULL;
}

static opnd as_opnd(comp *c, val v) { return v.vec ? v.o : uniform(c, v.sreg); }

/* The value of node k. */
static val compile_node(comp *c, int k)
{
    val r = {false, 0, {K_REG, 0}};
    if (k < 0 || c->ps.failed) return r;
    node *nd = &c->ps.nodes[k];
    if (nd->op == OP_NUM) { r.sreg = emit_s(c, OP_NUM, -1, -1, nd->num); return r; }
    if (nd->op == OP_NAME) {
        sym *s = lookup(c, nd->name);
        if (!s) { cfail(c, "unknown name '%s'", nd->name); return r; }
        return s->v;
    }
    op_t op = nd->op;
    /* x ** k, k a literal integer or one half: multiplications or a root */
    if (op == OP_POW && nd->b >= 0) {
        node *bn = &c->ps.nodes[nd->b];
        bool neg = bn->op == OP_NEG && bn->a >= 0 && c->ps.nodes[bn->a].op == OP_NUM;
        if (bn->op == OP_NUM || neg) {
            double kx = neg ? -c->ps.nodes[bn->a].num : bn->num;
            val a = compile_node(c, nd->a);
            if (a.vec && kx == 2.0) { r.vec = true; r.o = emit_v(c, OP_SQUARE, a.o, a.o); return r; }
            if (a.vec && kx == 1.0) return a;
            if (a.vec && kx == 0.5) { r.vec = true; r.o = emit_v(c, OP_SQRT, a.o, a.o); return r; }
            val b = compile_node(c, nd->b);
            if (!a.vec) { r.sreg = emit_s(c, OP_POW, a.sreg, b.sreg, 0); return r; }
            r.vec = true;
            r.o = emit_v(c, OP_POW, a.o, uniform(c, b.sreg));
            return r;
        }
    }
    val a = compile_node(c, nd->a);
    val b = op_arity[op] == 2 ? compile_node(c, nd->b) : a;
    if (!a.vec && !b.vec) { r.sreg = emit_s(c, op, a.sreg, op_arity[op] == 2 ? b.sreg : -1, 0); return r; }
    r.vec = true;
    r.o = emit_v(c, op, as_opnd(c, a), as_opnd(c, b));
    return r;
}

static bool valid_name(const char *s)
{
    if (!is_ident_start(*s)) return false;
    while (*s && is_ident(*s)) s++;
    return *s == '\0';
}

static void add_sym(comp *c, const char *name, val v)
{
    if (c->nsyms >= (int)(sizeof c->syms / sizeof c->syms[0])) { cfail(c, "too many names"); return; }
    if (strlen(name) >= sizeof c->syms[0].name) { cfail(c, "name '%s' too long", name); return; }
    sym *s = &c->syms[c->nsyms++];
    strcpy(s->name, name);
    s->v = v;
}

/* NAME = expr | let NAME = expr */
static void compile_stmt(comp *c)
{
    parser *ps = &c->ps;
    rt_expr *e = c->e;
    skip_ws(ps);
    bool is_let = strncmp(ps->p, "let", 3) == 0 && (ps->p[3] == ' ' || ps->p[3] == '\t');
    if (is_let) ps->p += 3;
    skip_ws(ps);
    const char *b = ps->p;
    while (is_ident(*ps->p)) ps->p++;
    char name[32];
    size_t len = (size_t)(ps->p - b);
    if (len == 0 || len >= sizeof name) { perr(ps, "expected a name to assign"); return; }
    memcpy(name, b, len);
    name[len] = '\0';
    if (!accept(ps, "=")) { perr(ps, "expected '=' after '%s'", name); return; }
    int root = parse_expr(ps);
    if (ps->failed) return;
    c->stmt_start = e->nvcode;
    val v = compile_node(c, root);
    if (ps->failed) return;
    if (is_let) {
        if (lookup(c, name)) { cfail(c, "'%s' is already defined", name); return; }
        add_sym(c, name, v);
        if (!v.vec) e->last_let = v.sreg;
        return;
    }
    sym *s = lookup(c, name);
    if (!s) { cfail(c, "assignment to unknown name '%s'", name); return; }
    if (!s->v.vec || s->v.o.kind != K_ARR) { cfail(c, "'%s' cannot be assigned", name); return; }
    opnd dst = s->v.o;
    e->writes[dst.idx] = true;
    /* The statement's last instruction writes the array directly when it
     * made a fresh register; otherwise (a name, a scalar) copy. */
    if (v.vec && v.o.kind == K_REG && e->nvcode > c->stmt_start &&
        same(e->vcode[e->nvcode - 1].dst, v.o)) {
        e->vcode[e->nvcode - 1].dst = dst;
        e->nregs--;
        /* a later CSE hit on that register must not happen: new window */
        c->stmt_start = e->nvcode;
        return;
    }
    opnd src = as_opnd(c, v);
    c->stmt_start = e->nvcode;            /* no CSE for the copy */
    opnd r = emit_v(c, OP_COPY, src, src);
    if (!ps->failed) {
        e->vcode[e->nvcode - 1].dst = dst;
        (void)r;
        e->nregs--;
    }
}

rt_expr *rt_expr_compile(const char *text, int narrays, const char *const *arrays,
                         int nscalars, const char *const *scalars, rt_error *err)
{
    if (narrays > MAX_ARRAYS || nscalars > MAX_NAMES)
        return rt_fail(err, "expression kernel: too many variables"), NULL;
    comp c;
    memset(&c, 0, sizeof c);
    c.ps.s = c.ps.p = text;
    c.ps.err = err;
    c.ps.nodes = malloc(MAX_NODES * sizeof *c.ps.nodes);
    c.e = calloc(1, sizeof *c.e);
    if (!c.ps.nodes || !c.e) {
        free(c.ps.nodes);
        free(c.e);
        return rt_fail(err, "expression kernel: out of memory"), NULL;
    }
    rt_expr *e = c.e;
    e->narrays = narrays;
    e->nscalars = nscalars;
    e->nsregs = nscalars;
    for (int i = 0; i < narrays; i++) {
        if (!valid_name(arrays[i]) || strlen(arrays[i]) >= 32) { cfail(&c, "bad variable name"); break; }
        add_sym(&c, arrays[i], (val){true, 0, {K_ARR, (uint16_t)i}});
        strcpy(e->names[i], arrays[i]);
    }
    for (int i = 0; i < nscalars; i++) {
        if (!valid_name(scalars[i]) || strlen(scalars[i]) >= 32) { cfail(&c, "bad scalar name"); break; }
        add_sym(&c, scalars[i], (val){false, i, {K_REG, 0}});
        strcpy(e->names[MAX_ARRAYS + i], scalars[i]);
    }
    while (!c.ps.failed) {
        while (*c.ps.p == ' ' || *c.ps.p == '\t' || *c.ps.p == '\r' || *c.ps.p == '\n' || *c.ps.p == ';')
            c.ps.p++;
        if (!*c.ps.p) break;
        compile_stmt(&c);
        skip_ws(&c.ps);
        if (!c.ps.failed && *c.ps.p && *c.ps.p != ';' && *c.ps.p != '\n')
            perr(&c.ps, "unexpected '%c'", *c.ps.p);
    }
    free(c.ps.nodes);
    if (c.ps.failed) {
        rt_expr_free(e);
        return NULL;
    }
    return e;
}

void rt_expr_free(rt_expr *e)
{
    if (!e) return;
    free(e->scode);
    free(e->vcode);
    free(e);
}

int rt_expr_nuniforms(const rt_expr *e) { return e->nunis; }
bool rt_expr_writes(const rt_expr *e, int i) { return i >= 0 && i < e->narrays && e->writes[i]; }

/* ---- running ------------------------------------------------------------------ */

static void run_scalar(const rt_expr *e, const double *in, double *r)
{
    for (int i = 0; i < e->nscalars; i++) r[i] = in[i];
    for (int i = 0; i < e->nscode; i++) {
        const sins *s = &e->scode[i];
        double x = s->a >= 0 ? r[s->a] : 0.0, y = s->b >= 0 ? r[s->b] : 0.0;
        double v = 0.0;
        switch ((op_t)s->op) {
#define X(tag, name, spell, ar, prec, f, d, deriv) case OP_##tag: v = (d); break;
            EXPR_OPS(X)
#undef X
        case OP_NUM: v = s->num; break;
        default: break;
        }
        (void)y;
        r[s->dst] = v;
    }
}

void rt_expr_prepare(const rt_expr *e, const double *scalars, float *uniforms)
{
    double r[MAX_SREGS];
    run_scalar(e, scalars, r);
    for (int u = 0; u < e->nunis; u++) uniforms[u] = (float)r[e->uni_src[u]];
}

/* One instruction over a chunk of n elements. The operand kinds are
 * resolved before the loop (a uniform is a scalar y or x); a unary op
 * ignores B. */
#define LOOP_2(F) do { \
        if (ua) { const float x = *A; for (long i = 0; i < n; i++) { const float y = B[i]; D[i] = (F); } } \
        else if (ub) { const float y = *B; for (long i = 0; i < n; i++) { const float x = A[i]; D[i] = (F); } } \
        else for (long i = 0; i < n; i++) { const float x = A[i], y = B[i]; D[i] = (F); } \
    } while (0)
#define LOOP_1(F) do { (void)B; (void)ua; (void)ub;  for (long i = 0; i < n; i++) { const float x = A[i]; D[i] = (F); } } while (0)

#if defined(__GNUC__) && !defined(__clang__)
/* sqrtf sets errno on negative input, which stops GCC vectorising the
 * loops; the result (NaN) is the same either way. */
__attribute__((optimize("no-math-errno")))
#endif
static inline __attribute__((always_inline)) void run_chunk(const rt_expr *e, const float *uni, float *const *arr, long off, long n,
                             float (*regs)[RT_EXPR_CHUNK])
{
    for (int k = 0; k < e->nvcode; k++) {
        const vins *v = &e->vcode[k];
        const float *A, *B;
        bool ua = v->a.kind == K_UNI, ub = v->b.kind == K_UNI;
        A = v->a.kind == K_ARR ? arr[v->a.idx] + off : ua ? uni + v->a.idx : regs[v->a.idx];
        B = v->b.kind == K_ARR ? arr[v->b.idx] + off : ub ? uni + v->b.idx : regs[v->b.idx];
        float *D = v->dst.kind == K_ARR ? arr[v->dst.idx] + off : regs[v->dst.idx];
        switch ((op_t)v->op) {
#define X(tag, name, spell, ar, prec, f, d, deriv) \
        case OP_##tag: LOOP_##ar(f); break;
            EXPR_OPS(X)
#undef X
        default: break;
        }
    }
}

/* The chunk loop, compiled once per instruction set (exec_default,
 * exec_avx2) and chosen by MLP_SIMD as the built-in kernels are: the
 * instructions are elementwise, and vectorising an elementwise loop
 * (without -ffast-math, FMA contraction off) rounds each element exactly
 * as the scalar loop does, so the paths give the same bits; the AVX2
 * version does eight floats per instruction instead of SSE's four. */
#if defined(__GNUC__) && !defined(__clang__)
#define EXEC_ATTR(...) __attribute__((optimize("no-math-errno", "vect-cost-model=dynamic"), ##__VA_ARGS__))
#else
#define EXEC_ATTR(...) __attribute__((__VA_ARGS__))
#endif
#define EXEC_BODY \
    float regs[MAX_REGS][RT_EXPR_CHUNK]; \
    long off = 0; \
    /* full chunks with a constant trip count (vectorisable), then the tail */ \
    for (; off + RT_EXPR_CHUNK <= n; off += RT_EXPR_CHUNK) \
        run_chunk(e, uniforms, arrays, off, RT_EXPR_CHUNK, regs); \
    if (off < n) run_chunk(e, uniforms, arrays, off, n - off, regs);

EXEC_ATTR(noinline)
static void exec_default(const rt_expr *e, const float *uniforms, float *const *arrays, long n)
{
    EXEC_BODY
}

#if defined(__x86_64__) && defined(__GNUC__)
#define EXPR_AVX2 1
EXEC_ATTR(noinline, target("avx2"))
static void exec_avx2(const rt_expr *e, const float *uniforms, float *const *arrays, long n)
{
    EXEC_BODY
}
#else
#define EXPR_AVX2 0
#endif

void rt_expr_exec_simd(const rt_expr *e, rt_simd simd, const float *uniforms,
                       float *const *arrays, long n)
{
#if EXPR_AVX2
    if (simd >= RT_SIMD_AVX2 && rt_cpu_has(RT_SIMD_AVX2)) {
        exec_avx2(e, uniforms, arrays, n);
        return;
    }
#endif
    (void)simd;
    exec_default(e, uniforms, arrays, n);
}

void rt_expr_exec(const rt_expr *e, const float *uniforms, float *const *arrays, long n)
{
    rt_expr_exec_simd(e, rt_cpu_simd(), uniforms, arrays, n);
}

void rt_expr_run(const rt_expr *e, const double *scalars, float *const *arrays, long n)
{
    float uni[MAX_UNIS];
    rt_expr_prepare(e, scalars, uni);
    rt_expr_exec(e, uni, arrays, n);
}

/* ---- listings ------------------------------------------------------------------ */

static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(*len < size ? buf + *len : NULL, *len < size ? size - *len : 0, fmt, ap);
    va_end(ap);
    if (w > 0) *len += (size_t)w;
}

static void sreg_text(const rt_expr *e, int r, char *out, size_t size)
{
    if (r < e->nscalars) snprintf(out, size, "%s", e->names[MAX_ARRAYS + r]);
    else snprintf(out, size, "s%d", r);
}

static void opnd_text(const rt_expr *e, opnd o, char *out, size_t size)
{
    if (o.kind == K_ARR) snprintf(out, size, "%s[i]", e->names[o.idx]);
    else if (o.kind == K_REG) snprintf(out, size, "r%d", o.idx);
    else {
        char s[40];
        sreg_text(e, e->uni_src[o.idx], s, sizeof s);
        snprintf(out, size, "u%d(%s)", o.idx, s);
    }
}

size_t rt_expr_listing(const rt_expr *e, char *buf, size_t size)
{
    size_t len = 0;
    if (size) buf[0] = '\0';
    for (int i = 0; i < e->nscode; i++) {
        const sins *s = &e->scode[i];
        char d[40], a[40], b[40];
        sreg_text(e, s->dst, d, sizeof d);
        if (s->op == OP_NUM) { put(buf, size, &len, "  scalar %s = %.9g\n", d, s->num); continue; }
        sreg_text(e, s->a, a, sizeof a);
        if (op_arity[s->op] == 2) {
            sreg_text(e, s->b, b, sizeof b);
            put(buf, size, &len, "  scalar %s = %s %s %s\n", d, op_name[s->op], a, b);
        } else {
            put(buf, size, &len, "  scalar %s = %s %s\n", d, op_name[s->op], a);
        }
    }
    for (int i = 0; i < e->nvcode; i++) {
        const vins *v = &e->vcode[i];
        char d[48], a[48], b[48];
        opnd_text(e, v->dst, d, sizeof d);
        opnd_text(e, v->a, a, sizeof a);
        if (op_arity[v->op] == 2) {
            opnd_text(e, v->b, b, sizeof b);
            put(buf, size, &len, "  vector %s = %s %s %s\n", d, op_name[v->op], a, b);
        } else {
            put(buf, size, &len, "  vector %s = %s %s\n", d, op_name[v->op], a);
        }
    }
    return len;
}

bool rt_expr_eval_scalar(const char *text, int n, const char *const *names, const double *values,
                         double *out, rt_error *err)
{
    char *prog = malloc(strlen(text) + 16);
    if (!prog) return rt_fail(err, "out of memory");
    sprintf(prog, "let __v = %s", text);
    rt_expr *e = rt_expr_compile(prog, 0, NULL, n, names, err);
    free(prog);
    if (!e) return false;
    double r[MAX_SREGS];
    run_scalar(e, values, r);
    *out = r[e->last_let];
    rt_expr_free(e);
    return true;
}
