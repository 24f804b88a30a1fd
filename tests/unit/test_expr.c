/*
 * test_expr.c — the expression kernels (runtime/expr.h) against naive
 * references, and the stdlib's scratch optimizers (stdlib/scratch.mlp,
 * compiled to those kernels) against the built-in table kernels
 * (runtime/optimizers.c) configured with the same formula: 100 steps on a
 * small problem, weights equal within 1e-6 relative.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "expr.h"
#include "mlp.h"
#include "mlp_stdlib.h"
#include "optimizers.h"
#include "std.h"

static void silent(void *ud, const char *s, size_t n) { (void)ud; (void)s; (void)n; }

/* ---- kernels against naive loops ------------------------------------------------- */

Test(expr, elementwise_matches_naive_loop_across_chunks)
{
    static const char *const arrs[] = {"a", "b", "out"};
    static const char *const scal[] = {"k"};
    rt_error err;
    rt_expr *e = rt_expr_compile("let s = k * 2\nout = (a * s - b / (1 + abs(a))) ** 2 + max(a, 0.5) * (b > 0)",
                                 3, arrs, 1, scal, &err);
    cr_assert(e, "%s", err.msg);
    enum { N = 1000 };          /* several full chunks and a tail */
    static float a[N], b[N], out[N];
    for (int i = 0; i < N; i++) { a[i] = (float)sin(i * 0.37) * 3; b[i] = (float)cos(i * 0.11) * 2; }
    double k = 0.75;
    rt_expr_run(e, &k, (float *[]){a, b, out}, N);
    for (int i = 0; i < N; i++) {
        float s = (float)(k * 2);
        float t = a[i] * s - b[i] / (1.0f + fabsf(a[i]));
        float want = t * t + (a[i] > 0.5f ? a[i] : 0.5f) * (b[i] > 0 ? 1.0f : 0.0f);
        cr_assert_eq(out[i], want, "i=%d: %.9g vs %.9g", i, out[i], want);
    }
    cr_assert(rt_expr_writes(e, 2) && !rt_expr_writes(e, 0));
    rt_expr_free(e);
}

Test(expr, statements_run_in_order_and_in_place)
{
    static const char *const arrs[] = {"m", "g"};
    rt_error err;
    rt_expr *e = rt_expr_compile("m = m * 0.5; m = m + g; g = m", 2, arrs, 0, NULL, &err);
    cr_assert(e, "%s", err.msg);
    float m[300], g[300];
    for (int i = 0; i < 300; i++) { m[i] = (float)i; g[i] = 1.0f; }
    rt_expr_run(e, NULL, (float *[]){m, g}, 300);
    for (int i = 0; i < 300; i++) {
        cr_assert_eq(m[i], (float)i * 0.5f + 1.0f);
        cr_assert_eq(g[i], m[i]);
    }
    rt_expr_free(e);
}

Test(expr, scalar_part_in_double_with_integer_powers)
{
    static const char *const names[] = {"b", "t"};
    double v, vals[] = {0.999, 7};
    cr_assert(rt_expr_eval_scalar("1 - b ** t", 2, names, vals, &v, NULL));
    double r = 1, bb = 0.999;     /* the built-ins' repeated squaring: 7 = 4 + 2 + 1 */
    r *= bb; bb *= bb; r *= bb; bb *= bb; r *= bb;
    cr_assert_eq(v, 1 - r);
}

Test(expr, errors_name_the_problem)
{
    static const char *const arrs[] = {"x"};
    rt_error err;
    cr_assert_null(rt_expr_compile("x = foo(x)", 1, arrs, 0, NULL, &err));
    cr_assert(strstr(err.msg, "unknown function 'foo'"), "%s", err.msg);
    cr_assert_null(rt_expr_compile("x = x + y", 1, arrs, 0, NULL, &err));
    cr_assert(strstr(err.msg, "unknown name 'y'"), "%s", err.msg);
    cr_assert_null(rt_expr_compile("x = (x + 1", 1, arrs, 0, NULL, &err));
    cr_assert(strstr(err.msg, "expected ')'"), "%s", err.msg);
}

/* ---- scratch.mlp against the built-ins ----------------------------------------------- */

enum { NW = 37, STEPS = 100 };

static rt_optim *scratch_optimizer(mlp_vm *vm, const char *expr)
{
    char src[256];
    snprintf(src, sizeof src, "import \"scratch\"\nlet __o = %s\n", expr);
    cr_assert_eq(mlp_run_source(vm, "t.mlp", src, strlen(src)), MLP_OK, "%s", expr);
    mlp_value v;
    cr_assert(mlp_get_global(vm, "__o", &v));
    rt_optim *o = std_optim_of(v);
    cr_assert(o);
    rt_error err;
    rt_optim *c = rt_optim_clone(o, &err);    /* ours: independent of the GC */
    cr_assert(c, "%s", err.msg);
    return c;
}

/* 100 steps on f(w) = sum (w - c)^2 / 2 + noise-free wobble: g = w - c + 0.3 sin(3 w) */
static void train(rt_optim *o, float *w)
{
    float g[NW];
    rt_param p[2] = {
        {.name = "w", .w = w, .g = g, .size = NW, .shape = {1, {NW}}, .trainable = true},
        {.name = "frozen", .w = NULL, .g = NULL, .size = 0, .trainable = false},
    };
    for (int i = 0; i < NW; i++) w[i] = (float)(0.1 * i - 1.5);
    for (int s = 0; s < STEPS; s++) {
        for (int i = 0; i < NW; i++) g[i] = (float)(w[i] - 0.05 * i + 0.3 * sin(3.0 * w[i]));
        rt_error err;
        cr_assert(rt_optim_step(o, p, 2, &err), "%s", err.msg);
    }
}

static void compare(const char *scratch, const char *builtin, const char *const *keys,
                    const double *vals, int nkeys)
{
    mlp_config cfg = {.write_out = silent, .write_err = silent};
    mlp_vm *vm = mlp_vm_new(&cfg);
    cr_assert(vm && mlp_stdlib_open(vm));
    rt_optim *ours = scratch_optimizer(vm, scratch);
    rt_error err;
    rt_optim *ref = rt_optim_create(builtin, "keras", &err);
    cr_assert(ref, "%s", err.msg);
    for (int i = 0; i < nkeys; i++) cr_assert(rt_optim_set(ref, keys[i], vals[i]), "%s", keys[i]);
    float a[NW], b[NW];
    train(ours, a);
    train(ref, b);
    double moved = 0;
    for (int i = 0; i < NW; i++) {
        double tol = 1e-6 * fabs((double)b[i]) + 1e-12;
        cr_assert(fabs((double)a[i] - (double)b[i]) <= tol, "%s vs %s, w[%d]: %.9g vs %.9g",
                  scratch, builtin, i, a[i], b[i]);
        moved += fabs(b[i] - (0.1 * i - 1.5));
    }
    cr_assert_gt(moved, 1e-3, "the weights must actually move");
    rt_optim_free(ours);
    rt_optim_free(ref);
    mlp_vm_free(vm);
}

Test(scratch, sgd_matches_builtin_sgd)
{
    compare("scratch.SGD", "SGD", (const char *[]){"lr"}, (double[]){0.01}, 1);
}
Test(scratch, sgd_with_lr_override)
{
    compare("scratch.SGD(lr=0.1)", "SGD", (const char *[]){"lr"}, (double[]){0.1}, 1);
}
Test(scratch, momentum_matches_builtin_momentum)
{
    compare("scratch.Momentum", "Momentum", (const char *[]){"lr", "momentum"}, (double[]){0.01, 0.9}, 2);
}
Test(scratch, adagrad_matches_builtin_with_zero_accumulator)
{
    compare("scratch.AdaGrad", "AdaGrad", (const char *[]){"lr", "initial_accumulator", "eps"},
            (double[]){0.01, 0.0, 1e-7}, 3);
}
Test(scratch, rmsprop_matches_builtin_with_rho_as_decay)
{
    compare("scratch.RMSprop", "RMSprop", (const char *[]){"lr", "rho", "eps"},
            (double[]){0.01, 0.99, 1e-7}, 3);
}
Test(scratch, rmsprop_override_as_in_the_issue)
{
    compare("scratch.RMSprop(lr=0.001)", "RMSprop", (const char *[]){"lr", "rho"},
            (double[]){0.001, 0.99}, 2);
}
Test(scratch, adam_matches_builtin_adam)
{
    compare("scratch.Adam", "Adam", NULL, NULL, 0);
}
Test(scratch, adam_with_overrides)
{
    compare("scratch.Adam(lr=0.01, beta1=0.8)", "Adam", (const char *[]){"lr", "beta1"},
            (double[]){0.01, 0.8}, 2);
}

/* ---- SIMD paths ------------------------------------------------------------------ */

/* Every operation, with a uniform on either side and arrays on both, over
 * lengths covering empty, sub-vector tails, one chunk and chunk tails, on
 * values with NaN, infinities, signed zeros, denormals and the ordinary:
 * the AVX2 path (where the machine has it) gives the scalar path's bits. */
Test(expr, simd_paths_give_the_same_bits)
{
    static const char *const ops2[] = {"+", "-", "*", "/", "**", "<", "<=", ">", ">=", "==", "!="};
    static const char *const fns2[] = {"max", "min"};
    static const char *const fns1[] = {"-", "exp", "log", "sqrt", "abs", "tanh", "sigmoid",
                                       "sign", "erf", "square"};
    char progs[64][96];
    int np = 0;
    for (size_t i = 0; i < sizeof ops2 / sizeof *ops2; i++) {
        snprintf(progs[np++], 96, "out = a %s b", ops2[i]);
        snprintf(progs[np++], 96, "out = k %s b; a = a %s k", ops2[i], ops2[i]);
    }
    for (size_t i = 0; i < sizeof fns2 / sizeof *fns2; i++) {
        snprintf(progs[np++], 96, "out = %s(a, b)", fns2[i]);
        snprintf(progs[np++], 96, "out = %s(k, b) + %s(b, k)", fns2[i], fns2[i]);
    }
    for (size_t i = 0; i < sizeof fns1 / sizeof *fns1; i++)
        snprintf(progs[np++], 96, "out = %s(a)", fns1[i]);
    /* an optimizer-shaped program, in place */
    snprintf(progs[np++], 96, "b = b * 0.9 + a * 0.1; out = out - k * b / (sqrt(out * out) + 1e-7)");
    static const float special[] = {0.0f, -0.0f, 1.0f, -1.0f, 0.5f, 2.0f, 1e-40f, -1e-40f,
                                    3e38f, -3e38f, 0.1f, 7.25f};
    const int nspecial = (int)(sizeof special / sizeof *special);
    static const long lens[] = {0, 1, 3, 7, 8, 9, 15, 16, 17, 255, 256, 257, 263, 512, 777};
    enum { N = 777 };
    static const char *const arrs[] = {"a", "b", "out"};
    static const char *const scal[] = {"k"};
    for (int p = 0; p < np; p++) {
        rt_error err;
        rt_expr *e = rt_expr_compile(progs[p], 3, arrs, 1, scal, &err);
        cr_assert(e, "%s: %s", progs[p], err.msg);
        for (size_t li = 0; li < sizeof lens / sizeof *lens; li++) {
            long n = lens[li];
            static float in[2][3][N], res[2][3][N];
            for (int i = 0; i < N; i++) {
                float x = (float)sin(i * 0.37) * 3, y = (float)cos(i * 0.11) * 2;
                if (i % 5 == 0) x = special[(i / 5) % nspecial];
                if (i % 7 == 0) y = special[(i / 7) % nspecial];
                if (i % 11 == 0) x = NAN;
                if (i % 13 == 0) y = i % 2 ? INFINITY : -INFINITY;
                if (i % 17 == 0) y = x;
                for (int s = 0; s < 2; s++) {
                    in[s][0][i] = x;
                    in[s][1][i] = y;
                    in[s][2][i] = 0.25f * (float)i;
                }
            }
            for (int k = 0; k < 3; k++) {
                double kk = k == 0 ? 0.75 : k == 1 ? -2.0 : 0.0;
                float uni[RT_EXPR_MAX_UNIFORMS];
                rt_expr_prepare(e, &kk, uni);
                for (int s = 0; s < 2; s++) {
                    memcpy(res[s], in[s], sizeof res[s]);
                    rt_expr_exec_simd(e, s ? RT_SIMD_AVX2 : RT_SIMD_SCALAR, uni,
                                      (float *[]){res[s][0], res[s][1], res[s][2]}, n);
                }
                cr_assert(memcmp(res[0], res[1], sizeof res[0]) == 0,
                          "%s: n=%ld k=%g: the paths differ", progs[p], n, kk);
            }
        }
        rt_expr_free(e);
    }
}
