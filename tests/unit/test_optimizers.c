/*
 * test_optimizers.c — every optimizer row (both dialects) against
 *  (1) first steps worked out by hand (numbers in the comments), and
 *  (2) an independent double-precision implementation of the documented
 *      update formulas (DESIGN.md; PyTorch's docs for the torch dialect),
 *      run for three steps on a tiny tensor with non-trivial gradients,
 *      with non-default hyperparameters where a branch depends on them.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "optimizers.h"

enum { N = 3, STEPS = 3 };
static const double G[STEPS][N] = {{0.5, -1.0, 0.02}, {-0.25, 2.0, 0.03}, {1.0, 0.7, -0.5}};
static const double W0[N] = {1.0, -2.0, 0.3};

/* Runs `steps` updates of the runtime optimizer on W0 with gradients G. */
static void run(rt_optim *o, int steps, float *w)
{
    float g[N];
    rt_param p = {.name = "w", .w = w, .g = g, .size = N, .ndim = 1, .shape = {N}, .trainable = true};
    for (int i = 0; i < N; i++) w[i] = (float)W0[i];
    for (int s = 0; s < steps; s++) {
        for (int i = 0; i < N; i++) g[i] = (float)G[s][i];
        rt_error err;
        cr_assert(rt_optim_step(o, &p, 1, &err), "%s", err.msg);
    }
}

static float first_step(const char *name, const char *dialect, int steps)
{
    rt_error err;
    rt_optim *o = rt_optim_create(name, dialect, &err);
    cr_assert(o, "%s", err.msg);
    float w[N];
    run(o, steps, w);
    rt_optim_free(o);
    return w[0];
}

Test(optimizers, hand_computed_first_steps)
{
    /* w = 1, g = 0.5 */
    cr_expect(fabsf(first_step("SGD", NULL, 1) - 0.995f) < 1e-7);          /* 1 - 0.01*0.5 */
    /* Momentum: v1 = -0.005, w1 = 0.995; v2 = 0.9 v1 - 0.01*(-0.25) = -0.002, w2 = 0.993 */
    cr_expect(fabsf(first_step("Momentum", NULL, 2) - 0.993f) < 1e-7);
    /* AdaGrad: h = 0.1 + 0.25 = 0.35; w = 1 - 0.001*0.5/(0.5916080+1e-7) = 0.99915485 */
    cr_expect(fabsf(first_step("AdaGrad", NULL, 1) - 0.99915485f) < 1e-7);
    /* RMSprop: h = 0.1*0.25 = 0.025; w = 1 - 0.001*0.5/(0.1581139+1e-7) = 0.99683772 */
    cr_expect(fabsf(first_step("RMSprop", NULL, 1) - 0.99683772f) < 1e-7);
    /* Adam: lr_t = 0.001*sqrt(0.001)/0.1 = 3.1622777e-4, m = 0.05, v = 2.5e-4:
     * w = 1 - 3.1622777e-4*0.05/(0.015811388+1e-7) = 0.99900000632 */
    cr_expect(fabsf(first_step("Adam", NULL, 1) - 0.9990000063f) < 1e-7);
    /* torch Adam: 0.001/0.1 * 0.05/(0.015811388/0.031622777 + 1e-8) = 0.001 */
    cr_expect(fabsf(first_step("Adam", "torch", 1) - 0.999f) < 1e-7);
    /* torch RMSprop: v = 0.01*0.25 = 0.0025; w = 1 - 0.01*0.5/(0.05+1e-8) = 0.9 */
    cr_expect(fabsf(first_step("RMSprop", "torch", 1) - 0.9f) < 1e-6);
    /* torch SGD lr 0.001: 1 - 0.0005 */
    cr_expect(fabsf(first_step("SGD", "torch", 1) - 0.9995f) < 1e-7);
}

/* ---- the independent double implementation ---------------------------- */

typedef struct { double s0[N], s1[N], s2[N], prod; } state;

static double H(const rt_optim *o, const char *name)
{
    double v = 0;
    cr_assert(rt_optim_get(o, name, &v), "no hyper %s", name);
    return v;
}

static void ref_step(const rt_optim *o, state *st, double *w, const double *g0, int t)
{
    const char *name = rt_optim_name(o);
    bool torch = rt_optim_dialect(o) == RT_DIALECT_TORCH;
    double lr = H(o, "lr");
    double wd = torch && strcmp(name, "AdamW") != 0 ? H(o, "weight_decay") : 0;
    if (t == 1) st->prod = 1;
    for (int i = 0; i < N; i++) {
        double g = g0[i] + wd * w[i];
        if (!strcmp(name, "SGD") || !strcmp(name, "Momentum")) {
            double m = H(o, "momentum"), nest = H(o, "nesterov");
            if (!torch) {
                if (m == 0) w[i] -= lr * g;
                else {
                    st->s0[i] = m * st->s0[i] - lr * g;
                    w[i] += nest ? m * st->s0[i] - lr * g : st->s0[i];
                }
            } else {
                if (m != 0) {
                    st->s0[i] = t == 1 ? g : m * st->s0[i] + (1 - H(o, "dampening")) * g;
                    g = nest ? g + m * st->s0[i] : st->s0[i];
                }
                w[i] -= lr * g;
            }
        } else if (!strcmp(name, "AdaGrad")) {
            if (t == 1) st->s0[i] = H(o, "initial_accumulator");
            double clr = torch ? lr / (1 + (t - 1) * H(o, "lr_decay")) : lr;
            st->s0[i] += g * g;
            w[i] -= clr * g / (sqrt(st->s0[i]) + H(o, "eps"));
        } else if (!strcmp(name, "RMSprop")) {
            double rho = torch ? H(o, "alpha") : H(o, "rho"), mom = H(o, "momentum"), eps = H(o, "eps");
            st->s0[i] = rho * st->s0[i] + (1 - rho) * g * g;
            double den = st->s0[i];
            if (H(o, "centered")) {
                st->s2[i] = rho * st->s2[i] + (1 - rho) * g;
                den -= st->s2[i] * st->s2[i];
            }
            if (torch) {
                double avg = sqrt(den) + eps;
                if (mom) { st->s1[i] = mom * st->s1[i] + g / avg; w[i] -= lr * st->s1[i]; }
                else w[i] -= lr * g / avg;
            } else if (mom) {
                st->s1[i] = mom * st->s1[i] + lr * g / sqrt(den + eps);
                w[i] -= st->s1[i];
            } else {
                w[i] -= lr * g / (sqrt(den) + eps);
            }
        } else if (!strcmp(name, "Adam") || !strcmp(name, "AdamW")) {
            double b1 = H(o, "beta1"), b2 = H(o, "beta2"), eps = H(o, "eps");
            if (!strcmp(name, "AdamW"))
                w[i] = torch ? w[i] * (1 - lr * H(o, "weight_decay")) : w[i] - lr * H(o, "weight_decay") * w[i];
            st->s0[i] = b1 * st->s0[i] + (1 - b1) * g;
            st->s1[i] = b2 * st->s1[i] + (1 - b2) * g * g;
            double bc1 = 1 - pow(b1, t), bc2 = 1 - pow(b2, t);
            if (torch) w[i] -= lr / bc1 * st->s0[i] / (sqrt(st->s1[i]) / sqrt(bc2) + eps);
            else w[i] -= lr * sqrt(bc2) / bc1 * st->s0[i] / (sqrt(st->s1[i]) + eps);
        } else if (!strcmp(name, "Nadam")) {
            double b1 = H(o, "beta1"), b2 = H(o, "beta2"), eps = H(o, "eps");
            double decay = torch ? H(o, "momentum_decay") : 0.004;
            double mu = b1 * (1 - 0.5 * pow(0.96, decay * t));
            double mu1 = b1 * (1 - 0.5 * pow(0.96, decay * (t + 1)));
            double prod = st->prod * mu, prod1 = prod * mu1;
            st->s0[i] = b1 * st->s0[i] + (1 - b1) * g;
            st->s1[i] = b2 * st->s1[i] + (1 - b2) * g * g;
            double den = sqrt(st->s1[i] / (1 - pow(b2, t))) + eps;
            w[i] -= lr * ((1 - mu) / (1 - prod) * g + mu1 / (1 - prod1) * st->s0[i]) / den;
            if (i == N - 1) st->prod = prod;
        } else if (!strcmp(name, "Adadelta")) {
            double rho = H(o, "rho"), eps = H(o, "eps");
            st->s0[i] = rho * st->s0[i] + (1 - rho) * g * g;
            double u = sqrt(st->s1[i] + eps) / sqrt(st->s0[i] + eps) * g;
            st->s1[i] = rho * st->s1[i] + (1 - rho) * u * u;
            w[i] -= lr * u;
        } else {
            cr_assert_fail("no reference for %s", name);
        }
    }
}

/* Compares runtime and reference for STEPS steps; tolerance relative to
 * the total movement of each weight (float kernels vs double). */
static void compare(rt_optim *o, const char *what)
{
    float w[N];
    run(o, STEPS, w);
    double wr[N], moved = 0;
    memcpy(wr, W0, sizeof wr);
    state st;
    memset(&st, 0, sizeof st);
    for (int t = 1; t <= STEPS; t++) ref_step(o, &st, wr, G[t - 1], t);
    for (int i = 0; i < N; i++) moved = fmax(moved, fabs(wr[i] - W0[i]));
    cr_expect(moved > 1e-5, "%s: the reference did not move", what);
    for (int i = 0; i < N; i++)
        cr_expect(fabs(w[i] - wr[i]) <= 2e-7 * fabs(wr[i]) + 1e-4 * moved + 1e-7,
                  "%s: w[%d] = %.9g, formula gives %.9g", what, i, w[i], wr[i]);
}

Test(optimizers, every_row_matches_its_formula)
{
    static const struct { const char *name, *dialect, *set; double value; } cases[] = {
        {"SGD", "keras", NULL, 0}, {"SGD", "keras", "momentum", 0.8},
        {"SGD", "keras", "nesterov", 1}, {"Momentum", "keras", NULL, 0},
        {"AdaGrad", "keras", NULL, 0}, {"RMSprop", "keras", NULL, 0},
        {"RMSprop", "keras", "momentum", 0.5}, {"RMSprop", "keras", "centered", 1},
        {"Adam", "keras", NULL, 0}, {"AdamW", "keras", NULL, 0}, {"Nadam", "keras", NULL, 0},
        {"Adadelta", "keras", "lr", 1.0},
        {"SGD", "torch", NULL, 0}, {"SGD", "torch", "momentum", 0.8}, {"SGD", "torch", "weight_decay", 0.1},
        {"Momentum", "torch", NULL, 0}, {"Momentum", "torch", "nesterov", 1},
        {"Momentum", "torch", "dampening", 0.3},
        {"AdaGrad", "torch", NULL, 0}, {"AdaGrad", "torch", "lr_decay", 0.5},
        {"RMSprop", "torch", NULL, 0}, {"RMSprop", "torch", "momentum", 0.5},
        {"RMSprop", "torch", "centered", 1}, {"Adam", "torch", NULL, 0},
        {"Adam", "torch", "weight_decay", 0.1}, {"AdamW", "torch", NULL, 0},
        {"Nadam", "torch", NULL, 0}, {"Adadelta", "torch", NULL, 0},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        rt_error err;
        rt_optim *o = rt_optim_create(cases[c].name, cases[c].dialect, &err);
        cr_assert(o, "%s", err.msg);
        if (cases[c].set) cr_assert(rt_optim_set(o, cases[c].set, cases[c].value));
        char what[128];
        snprintf(what, sizeof what, "%s/%s %s", cases[c].name, cases[c].dialect,
                 cases[c].set ? cases[c].set : "defaults");
        compare(o, what);
        rt_optim_free(o);
    }
}

Test(optimizers, design_formulas_over_many_steps)
{
    /* SGD, Momentum, AdaGrad, RMSprop, Adam (keras) for 50 steps of
     * pseudo-random gradients against DESIGN.md's formulas in double. */
    const char *names[] = {"SGD", "Momentum", "AdaGrad", "RMSprop", "Adam"};
    for (int k = 0; k < 5; k++) {
        rt_error err;
        rt_optim *o = rt_optim_create(names[k], NULL, &err);
        float w[N], g[N];
        double wd[N], s0[N] = {0}, s1[N] = {0};
        for (int i = 0; i < N; i++) wd[i] = w[i] = (float)W0[i];
        if (k == 2) for (int i = 0; i < N; i++) s0[i] = 0.1;
        rt_param p = {.w = w, .g = g, .size = N, .trainable = true};
        for (int t = 1; t <= 50; t++) {
            for (int i = 0; i < N; i++) g[i] = (float)(sin(t * 1.7 + i) * (1 + i));
            cr_assert(rt_optim_step(o, &p, 1, &err));
            for (int i = 0; i < N; i++) {
                double gi = g[i];
                switch (k) {
                case 0: wd[i] -= 0.01 * gi; break;
                case 1: s0[i] = 0.9 * s0[i] - 0.01 * gi; wd[i] += s0[i]; break;
                case 2: s0[i] += gi * gi; wd[i] -= 0.001 * gi / (sqrt(s0[i]) + 1e-7); break;
                case 3: s0[i] = 0.9 * s0[i] + 0.1 * gi * gi; wd[i] -= 0.001 * gi / (sqrt(s0[i]) + 1e-7); break;
                case 4:
                    s0[i] = 0.9 * s0[i] + 0.1 * gi;
                    s1[i] = 0.999 * s1[i] + 0.001 * gi * gi;
                    wd[i] -= 0.001 * sqrt(1 - pow(0.999, t)) / (1 - pow(0.9, t)) * s0[i] / (sqrt(s1[i]) + 1e-7);
                    break;
                }
            }
        }
        for (int i = 0; i < N; i++)
            cr_expect(fabs(w[i] - wd[i]) < 2e-6 * fmax(1, fabs(wd[i])), "%s w[%d] %.9g vs %.9g",
                      names[k], i, w[i], wd[i]);
        rt_optim_free(o);
    }
}

Test(optimizers, hyperparameters_by_name)
{
    rt_error err;
    rt_optim *o = rt_optim_create("adam", NULL, &err);
    cr_assert(o);
    char buf[256];
    rt_optim_describe(o, buf, sizeof buf);
    cr_expect(strcmp(buf, "Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-07)") == 0, "%s", buf);
    cr_expect(rt_optim_set(o, "lr", 0.1));
    cr_expect(!rt_optim_set(o, "learning_rate_typo", 1));
    double v;
    cr_expect(rt_optim_get(o, "lr", &v) && v == 0.1);
    cr_expect(rt_optim_nhypers(o) == 4 && strcmp(rt_optim_hyper_name(o, 2), "beta2") == 0);
    rt_optim *t = rt_optim_create("RMSprop", "torch", &err);
    rt_optim_describe(t, buf, sizeof buf);
    cr_expect(strstr(buf, "lr=0.01, alpha=0.99, eps=1e-08") && strstr(buf, "dialect=\"torch\""), "%s", buf);
    size_t need = rt_optim_describe(t, buf, 8);
    cr_expect(need > 8 && strlen(buf) == 7);
    cr_expect(rt_optim_create("Adamax", NULL, &err) == NULL && strstr(err.msg, "Adamax"));
    cr_expect(rt_optim_create("Adam", "jax", &err) == NULL && strstr(err.msg, "jax"));
    rt_optim_free(o);
    rt_optim_free(t);
}

Test(optimizers, lr_changes_between_steps_and_reset)
{
    rt_error err;
    rt_optim *o = rt_optim_create("SGD", NULL, &err);
    float w = 1, g = 1;
    rt_param p = {.w = &w, .g = &g, .size = 1, .trainable = true};
    rt_optim_step(o, &p, 1, &err);
    rt_optim_set(o, "lr", 0.5);
    rt_optim_step(o, &p, 1, &err);
    cr_expect(w == 1.0f - 0.01f - 0.5f);
    cr_expect(rt_optim_steps(o) == 2);
    rt_optim_reset(o);
    cr_expect(rt_optim_steps(o) == 0);
    /* non-trainable parameters are left alone */
    float frozen = 3;
    rt_param q[2] = {p, {.w = &frozen, .g = NULL, .size = 1, .trainable = false}};
    cr_expect(rt_optim_step(o, q, 2, &err));
    cr_expect(frozen == 3.0f);
    rt_optim_free(o);
}
