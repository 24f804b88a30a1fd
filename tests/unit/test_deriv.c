/*
 * test_deriv.c — the derivatives derived for `activation` declarations
 * (runtime/expr/sym.c, reached through the compiler and stdlib/ewise.c) against central finite differences of the
 * forward expression, both evaluated in double through the kernel
 * language (runtime/expr.h), at points away from kinks. Includes the
 * built-in activations written by hand. Then the errors: an expression the
 * differentiator cannot handle names the part and its position.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "desugar.h"
#include "expr.h"
#include "mlp.h"
#include "mlp_stdlib.h"
#include "parse.h"
#include "sym.h"

typedef struct { char err[2048]; size_t n; } sink;
static void to_sink(void *ud, const char *s, size_t n)
{
    sink *k = ud;
    if (k->n + n < sizeof k->err) { memcpy(k->err + k->n, s, n); k->n += n; k->err[k->n] = 0; }
}

/* Desugars `activation f(x) = expr`; the forward and derivative texts. */
static bool derive(const char *expr, char **fwd, char **der, DeclError *serr)
{
    sink k = {0};
    mlp_config cfg = {.write_out = to_sink, .write_err = to_sink, .ud = &k};
    mlp_vm *vm = mlp_vm_new(&cfg);
    cr_assert(vm && mlp_stdlib_open(vm));
    char src[512];
    snprintf(src, sizeof src, "activation f(x) = %s\n", expr);
    int nerr = 0;
    bool inc = false;
    Ast *root = parse_source(vm, "t.mlp", src, strlen(src), false, &nerr, &inc);
    cr_assert(root, "parse failed: %s: %s", expr, k.err);
    Ast *call = desugar_decl(vm, root->list[0], serr);
    bool ok = call != NULL;
    if (ok) {
        *fwd = strdup(call->list[1]->str);
        *der = strdup(call->list[2]->str);
    }
    ast_free(call);
    ast_free(root);
    mlp_vm_free(vm);
    return ok;
}

static double eval(const char *text, double x)
{
    static const char *const names[] = {"x"};
    double v;
    rt_error err;
    cr_assert(rt_expr_eval_scalar(text, 1, names, &x, &v, &err), "%s: %s", text, err.msg);
    return v;
}

static const char *const exprs[] = {
    "x * sigmoid(x)",                                        /* swish */
    "1 / (1 + exp(-x))",                                     /* sigmoid */
    "tanh(x)",                                               /* tanh */
    "max(x, 0)",                                             /* relu */
    "max(x, 0.3 * x)",                                       /* leaky_relu */
    "log(1 + exp(x))",                                       /* softplus */
    "x / (1 + abs(x))",                                      /* softsign */
    "(x > 0) * x + (x <= 0) * (exp(x) - 1)",                 /* elu */
    "1.0507 * ((x > 0) * x + (x <= 0) * 1.6733 * (exp(x) - 1))",   /* selu */
    "x * (1 + erf(x / sqrt(2))) / 2",                        /* gelu */
    "x ** 3 - 2 * x",
    "sqrt(x * x + 1)",
    "exp(-x ** 2)",
    "(x * x + 1) ** (x / 3)",
    "2 ** x",
    "min(x, 1) * log(x * x + 2)",
    "(x + 1) / (x * x + 1)",
    "tanh(sigmoid(x) * 3)",
    "-x / (2 - sigmoid(-x)) ** 2",
};

Test(deriv, matches_finite_differences)
{
    static const double pts[] = {-2.3, -0.7, 0.4, 1.3, 2.9};
    int checked = 0;
    for (size_t i = 0; i < sizeof exprs / sizeof exprs[0]; i++) {
        char *f, *d;
        DeclError serr;
        cr_assert(derive(exprs[i], &f, &d, &serr), "%s: %s", exprs[i], serr.msg);
        for (size_t j = 0; j < sizeof pts / sizeof pts[0]; j++) {
            double x = pts[j], h = 1e-6;
            double fd = (eval(f, x + h) - eval(f, x - h)) / (2 * h);
            double got = eval(d, x);
            cr_assert(fabs(got - fd) <= 1e-6 * (1 + fabs(fd)),
                      "d/dx %s at %g: derived %s = %.12g, finite difference %.12g", exprs[i], x, d,
                      got, fd);
            checked++;
        }
        free(f);
        free(d);
    }
    cr_assert_geq(checked, 15 * 5);
}

Test(deriv, simplifies)
{
    char *f, *d;
    DeclError serr;
    cr_assert(derive("3 * x + 0 * exp(x)", &f, &d, &serr));
    cr_assert_str_eq(f, "3 * x");
    cr_assert_str_eq(d, "3");
    free(f); free(d);
    cr_assert(derive("max(x, 0)", &f, &d, &serr));
    cr_assert_str_eq(d, "x > 0");
    free(f); free(d);
    cr_assert(derive("x ** 2", &f, &d, &serr));
    cr_assert_str_eq(d, "2 * x");
    free(f); free(d);
}

static void expect_error(const char *expr, const char *part, int col)
{
    char *f = NULL, *d = NULL;
    DeclError serr;
    cr_assert_not(derive(expr, &f, &d, &serr), "%s should not differentiate", expr);
    cr_assert(strstr(serr.msg, part), "%s: message '%s' should name %s", expr, serr.msg, part);
    cr_assert_eq(serr.span.col, col, "%s: column %d, want %d", expr, serr.span.col, col);
}

Test(deriv, errors_name_the_part)
{
    /* "activation f(x) = " is 18 characters: the expression starts at column 19 */
    expect_error("x * floor(x)", "'floor'", 23);
    expect_error("x + y", "unknown name 'y'", 23);
    expect_error("x % 2", "'%'", 21);
    expect_error("[x]", "list", 19);
}

/* Every function row of the operation table (runtime/expr/ops.h), found
 * through the list the messages print: its derivative rule against finite
 * differences, so a new row is checked without a new test. The points
 * are away from the kinks of abs, sign, max, min and inside log's and
 * sqrt's domain. */
Test(deriv, every_table_function)
{
    char names[400];
    rt_sym_fn_names(names, sizeof names, " ");
    int n = 0;
    for (char *save = NULL, *fn = strtok_r(names, " ", &save); fn; fn = strtok_r(NULL, " ", &save)) {
        char expr[80];
        if (rt_sym_fn_arity(fn) == 2) snprintf(expr, sizeof expr, "%s(x * x, 0.5 * x + 1)", fn);
        else snprintf(expr, sizeof expr, "%s(x * x + 0.5)", fn);
        char *f, *d;
        DeclError serr;
        cr_assert(derive(expr, &f, &d, &serr), "%s: %s", expr, serr.msg);
        static const double pts[] = {-1.7, -0.3, 0.6, 2.2};
        for (size_t j = 0; j < sizeof pts / sizeof pts[0]; j++) {
            double x = pts[j], h = 1e-6;
            double fd = (eval(f, x + h) - eval(f, x - h)) / (2 * h);
            double got = eval(d, x);
            cr_assert(fabs(got - fd) <= 1e-5 * (1 + fabs(fd)), "d/dx %s at %g: %s = %.12g, finite difference %.12g",
                      expr, x, d, got, fd);
        }
        free(f);
        free(d);
        n++;
    }
    cr_assert_geq(n, 10);
}
