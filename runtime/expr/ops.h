/*
 * ops.h — the elementwise operations: the one table (internal to
 * runtime/expr).
 *
 * Every operation an `activation` or `optimizer` body may use is one row of
 * EXPR_OPS, and everything about it is read from that row:
 *
 *   tag     OP_<tag> in op_t
 *   name    its name in kernel listings, and the function name when it is
 *           called as a function (`exp(x)`)
 *   spell   how the source writes it: the infix or prefix operator ("+",
 *           "**", "-" for negation), the function name, or "" for an
 *           operation the kernel compiler makes itself (never written)
 *   ar      arity (1 or 2)
 *   prec    precedence, for parsing and printing (EXPR_PREC_*): 1
 *           comparisons (they do not chain), 2 and 3 left-associative
 *           infix (+ -, * /), 4 prefix (unary -), 5 ** (right-associative,
 *           binding tighter than a prefix on its left: -x ** 2 is
 *           -(x ** 2)), 6 function calls, 0 never written
 *   f       the float32 kernel, an expression of x (and y)   (expr.c)
 *   d       the double kernel, the same                       (expr.c)
 *   deriv   the derivative, with the constructors of sym.c:
 *           E the node, U V its operands, DU DV their derivatives,
 *           ADD SUB MUL DIV POW NEG, F1(tag, u), F2(tag, u, v), NUM(v),
 *           ZERO (piecewise constant)                        (sym.c)
 *
 * So adding an elementwise function (or an operator at one of the levels)
 * is one row here (and its float and double kernels if they are new
 * functions): the kernel parser (expr.c), the
 * `activation`/`optimizer` checker (stdlib/ewise.c), the differentiator,
 * the printer and the messages listing the known functions all follow.
 * The order of the rows is the order in which messages list the functions.
 */
#ifndef MLP_EXPR_OPS_H
#define MLP_EXPR_OPS_H

/*   tag      name       spell      ar prec float kernel       double kernel     derivative */
#define EXPR_OPS(X) \
    X(ADD,     "+",       "+",       2, 2, x + y,               x + y,            ADD(DU, DV)) \
    X(SUB,     "-",       "-",       2, 2, x - y,               x - y,            SUB(DU, DV)) \
    X(MUL,     "*",       "*",       2, 3, x * y,               x * y,            ADD(MUL(DU, V), MUL(U, DV))) \
    X(DIV,     "/",       "/",       2, 3, x / y,               x / y,            SUB(DIV(DU, V), DIV(MUL(U, DV), MUL(V, V)))) \
    X(POW,     "**",      "**",      2, 5, pow_f(x, y),         pow_d(x, y),      D_POW) \
    X(LT,      "<",       "<",       2, 1, (float)(x < y),      (double)(x < y),  ZERO) \
    X(LE,      "<=",      "<=",      2, 1, (float)(x <= y),     (double)(x <= y), ZERO) \
    X(GT,      ">",       ">",       2, 1, (float)(x > y),      (double)(x > y),  ZERO) \
    X(GE,      ">=",      ">=",      2, 1, (float)(x >= y),     (double)(x >= y), ZERO) \
    X(EQ,      "==",      "==",      2, 1, (float)(x == y),     (double)(x == y), ZERO) \
    X(NE,      "!=",      "!=",      2, 1, (float)(x != y),     (double)(x != y), ZERO) \
    X(NEG,     "neg",     "-",       1, 4, -x,                  -x,               NEG(DU)) \
    X(EXP,     "exp",     "exp",     1, 6, rt_expf(x),          exp(x),           MUL(E, DU)) \
    X(LOG,     "log",     "log",     1, 6, rt_logf(x),          log(x),           DIV(DU, U)) \
    X(SQRT,    "sqrt",    "sqrt",    1, 6, sqrtf(x),            sqrt(x),          DIV(DU, MUL(NUM(2), E))) \
    X(ABS,     "abs",     "abs",     1, 6, fabsf(x),            fabs(x),          MUL(F1(SIGN, U), DU)) \
    X(TANH,    "tanh",    "tanh",    1, 6, rt_tanhf(x),         tanh(x),          MUL(SUB(NUM(1), MUL(E, E)), DU)) \
    X(SIGMOID, "sigmoid", "sigmoid", 1, 6, sigmoidf_(x),        sigmoid_d(x),     MUL(MUL(E, SUB(NUM(1), E)), DU)) \
    X(SIGN,    "sign",    "sign",    1, 6, signf_(x),           sign_d(x),        ZERO) \
    X(ERF,     "erf",     "erf",     1, 6, rt_erff(x),          erf(x),           /* 2/sqrt(pi) e^(-u^2) u' */ \
                                                                MUL(MUL(NUM(1.1283791670955126), F1(EXP, NEG(MUL(U, U)))), DU)) \
    X(MAX,     "max",     "max",     2, 6, maxf_(x, y),         max_d(x, y),      ADD(MUL(F2(GT, U, V), DU), MUL(F2(LE, U, V), DV))) \
    X(MIN,     "min",     "min",     2, 6, minf_(x, y),         min_d(x, y),      ADD(MUL(F2(LT, U, V), DU), MUL(F2(GE, U, V), DV))) \
    X(SQUARE,  "square",  "",        1, 0, x * x,               x * x,            MUL(MUL(NUM(2), U), DU)) \
    X(COPY,    "copy",    "",        1, 0, x,                   x,                DU)

enum { EXPR_PREC_CMP = 1, EXPR_PREC_ADD, EXPR_PREC_MUL, EXPR_PREC_NEG, EXPR_PREC_POW, EXPR_PREC_CALL };

typedef enum {
#define X(tag, name, spell, ar, prec, f, d, deriv) OP_##tag,
    EXPR_OPS(X)
#undef X
    OP_COUNT,
    /* leaves and scalar loads (parser, scalar code and symbolic trees only) */
    OP_NUM = OP_COUNT, OP_NAME, OP_VAR
} op_t;

#endif
