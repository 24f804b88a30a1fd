/*
 * test_optimizers.c — every row of the optimizer table (every dialect it
 * has) against
 *  (1) first steps worked out by hand (numbers in the comments), and
 *  (2) an independent reference: plain scalar float C written here from
 *      the documented update formulas (DESIGN.md; PyTorch's docs and the
 *      authors' code for the torch dialect), one function per optimizer
 *      in `refs[]`, run for three steps on a tiny tensor with non-trivial
 *      gradients, with the defaults and with each hyperparameter changed
 *      in turn (a boolean flipped, a 0 made 0.25, any other value
 *      halved), as ggml's test-backend-ops checks every op of a backend
 *      against the CPU one.
 * The tests iterate the table: a new row is run through every check here,
 * and fails until `refs[]` has a reference for it.
 *
 * Numerics of the reference: the per-element arithmetic is float, in the
 * order of the formula; scalars derived from hyperparameters (1 - beta1,
 * bias corrections, schedules) are computed in double and rounded to float
 * once, as optimizers.h documents. Where that leaves the reference in the
 * kernel's exact order the steps must agree bit for bit (`exact`); else
 * (Nadam's schedule through rt_expf, Adam's bias correction folded into
 * one scalar, ...) to a few float32 roundings of the weight.
 */
#include <criterion/criterion.h>
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "optimizers.h"

enum { N = 3, STEPS = 3 };
static const double G[STEPS][N] = {{0.5, -1.0, 0.02}, {-0.25, 2.0, 0.03}, {1.0, 0.7, -0.5}};
static const double W0[N] = {1.0, -2.0, 0.3};

/* Runs `steps` updates of the runtime optimizer on W0 with gradients G. */
static void run(rt_optim *o, int steps, float *w)
{
    float g[N];
    rt_param p = {.name = "w", .w = w, .g = g, .size = N, .shape = {1, {N}}, .trainable = true};
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
    /* Lion (keras, lr 0.001): c = 0.1*0.5 > 0, w = 1 - 0.001 = 0.999; then m = 0.01*0.5 =
     * 0.005, c = 0.9*0.005 + 0.1*(-0.25) = -0.0205 < 0, w = 0.999 + 0.001 = 1 */
    cr_expect(first_step("Lion", NULL, 1) == 0.999f);
    cr_expect(first_step("Lion", NULL, 2) == 1.0f);
    /* torch Lion, lr 1e-4, weight_decay 0.5: w = 1*(1 - 0.5e-4) - 1e-4 = 0.99985 */
    rt_error err;
    rt_optim *lion = rt_optim_create("Lion", "torch", &err);
    cr_assert(lion && rt_optim_set(lion, "weight_decay", 0.5));
    float w[N], g0 = 0, wz = 1;
    run(lion, 1, w);
    cr_expect(fabsf(w[0] - 0.99985f) < 1e-7, "%.9g", w[0]);
    /* sign(0) = 0: a zero gradient from zero momentum leaves w alone */
    rt_param z = {.w = &wz, .g = &g0, .size = 1, .trainable = true};
    rt_optim_reset(lion);
    cr_assert(rt_optim_set(lion, "weight_decay", 0));
    cr_assert(rt_optim_step(lion, &z, 1, &err));
    cr_expect(wz == 1.0f);
    rt_optim_free(lion);
}

/* ---- the independent reference, one function per optimizer ------------- */

typedef struct { float s0[N], s1[N], s2[N]; double prod; } state;

static double H(const rt_optim *o, const char *name)
{
    double v = 0;
    cr_assert(rt_optim_get(o, name, &v), "%s has no hyperparameter %s", rt_optim_name(o), name);
    return v;
}
static float HF(const rt_optim *o, const char *name) { return (float)H(o, name); }
/* 1 - h, a coefficient derived from a hyperparameter: double, rounded once */
static float one_minus(const rt_optim *o, const char *name) { return (float)(1.0 - H(o, name)); }
/* the L2 penalty of the torch dialect (0 where the row has none) */
static float l2(const rt_optim *o, bool torch)
{
    double v = 0;
    return torch && rt_optim_get(o, "weight_decay", &v) ? (float)v : 0.0f;
}

typedef void (*ref_fn)(const rt_optim *o, bool torch, state *st, float *w, const float *g, int t);

static void ref_sgd(const rt_optim *o, bool torch, state *st, float *w, const float *g0, int t)
{
    float lr = HF(o, "lr"), m = HF(o, "momentum"), wd = l2(o, torch);
    bool nest = H(o, "nesterov") != 0;
    for (int i = 0; i < N; i++) {
        float g = g0[i] + wd * w[i];
        if (!torch) {
            if (m == 0) w[i] -= lr * g;
            else {
                st->s0[i] = m * st->s0[i] - lr * g;
                w[i] += nest ? m * st->s0[i] - lr * g : st->s0[i];
            }
        } else {
            if (m != 0) {
                st->s0[i] = t == 1 ? g : m * st->s0[i] + one_minus(o, "dampening") * g;
                g = nest ? g + m * st->s0[i] : st->s0[i];
            }
            w[i] -= lr * g;
        }
    }
}

static void ref_adagrad(const rt_optim *o, bool torch, state *st, float *w, const float *g0, int t)
{
    float clr = torch ? (float)(H(o, "lr") / (1 + (t - 1) * H(o, "lr_decay"))) : HF(o, "lr");
    float eps = HF(o, "eps"), wd = l2(o, torch);
    for (int i = 0; i < N; i++) {
        float g = g0[i] + wd * w[i];
        if (t == 1) st->s0[i] = HF(o, "initial_accumulator");
        st->s0[i] += g * g;
        w[i] -= clr * g / (sqrtf(st->s0[i]) + eps);
    }
}

static void ref_rmsprop(const rt_optim *o, bool torch, state *st, float *w, const float *g0, int t)
{
    (void)t;
    const char *decay = torch ? "alpha" : "rho";
    float rho = HF(o, decay), c = one_minus(o, decay), mom = HF(o, "momentum");
    float lr = HF(o, "lr"), eps = HF(o, "eps"), wd = l2(o, torch);
    bool centered = H(o, "centered") != 0;
    for (int i = 0; i < N; i++) {
        float g = g0[i] + wd * w[i];
        st->s0[i] = rho * st->s0[i] + c * (g * g);
        float den = st->s0[i];
        if (centered) {
            st->s2[i] = rho * st->s2[i] + c * g;
            den -= st->s2[i] * st->s2[i];
        }
        if (torch) {
            float avg = sqrtf(den) + eps;
            if (mom > 0) { st->s1[i] = mom * st->s1[i] + g / avg; w[i] -= lr * st->s1[i]; }
            else w[i] -= lr * g / avg;
        } else if (mom != 0) {
            st->s1[i] = mom * st->s1[i] + lr * g / sqrtf(den + eps);
            w[i] -= st->s1[i];
        } else {
            w[i] -= lr * g / (sqrtf(den) + eps);
        }
    }
}

/* Adam and AdamW: the textbook form, bias corrections applied to m and v
 * (the kernels fold them into one scalar, hence not bit-exact). */
static void ref_adam(const rt_optim *o, bool torch, state *st, float *w, const float *g0, int t)
{
    bool adamw = strcmp(rt_optim_name(o), "AdamW") == 0;
    float b1 = HF(o, "beta1"), b2 = HF(o, "beta2"), c1 = one_minus(o, "beta1"), c2 = one_minus(o, "beta2");
    float lr = HF(o, "lr"), eps = HF(o, "eps"), wd = adamw ? 0.0f : l2(o, torch);
    float bc1 = (float)(1 - pow(H(o, "beta1"), t)), bc2 = (float)(1 - pow(H(o, "beta2"), t));
    for (int i = 0; i < N; i++) {
        if (adamw) w[i] *= 1.0f - lr * HF(o, "weight_decay");
        float g = g0[i] + wd * w[i];
        st->s0[i] = b1 * st->s0[i] + c1 * g;
        st->s1[i] = b2 * st->s1[i] + c2 * (g * g);
        float mhat = st->s0[i] / bc1;
        if (torch) w[i] -= lr * mhat / (sqrtf(st->s1[i] / bc2) + eps);
        else w[i] -= lr * sqrtf(bc2) * mhat / (sqrtf(st->s1[i]) + eps);  /* eps outside the correction */
    }
}

static void ref_nadam(const rt_optim *o, bool torch, state *st, float *w, const float *g0, int t)
{
    double b1d = H(o, "beta1"), decay = torch ? H(o, "momentum_decay") : 0.004;
    double mu = b1d * (1 - 0.5 * pow(0.96, decay * t)), mu1 = b1d * (1 - 0.5 * pow(0.96, decay * (t + 1)));
    if (t == 1) st->prod = 1;
    double prod = st->prod * mu, prod1 = prod * mu1;
    st->prod = prod;
    float b1 = HF(o, "beta1"), b2 = HF(o, "beta2"), c1 = one_minus(o, "beta1"), c2 = one_minus(o, "beta2");
    float lr = HF(o, "lr"), eps = HF(o, "eps"), wd = l2(o, torch);
    float cg = (float)((1 - mu) / (1 - prod)), cm = (float)(mu1 / (1 - prod1));
    float vc = (float)(1 - pow(H(o, "beta2"), t));
    for (int i = 0; i < N; i++) {
        float g = g0[i] + wd * w[i];
        st->s0[i] = b1 * st->s0[i] + c1 * g;
        st->s1[i] = b2 * st->s1[i] + c2 * (g * g);
        float den = sqrtf(st->s1[i] / vc) + eps;
        w[i] -= lr * (cg * g + cm * st->s0[i]) / den;
    }
}

static void ref_adadelta(const rt_optim *o, bool torch, state *st, float *w, const float *g0, int t)
{
    (void)t;
    float rho = HF(o, "rho"), c = one_minus(o, "rho"), eps = HF(o, "eps"), lr = HF(o, "lr");
    float wd = l2(o, torch);
    for (int i = 0; i < N; i++) {
        float g = g0[i] + wd * w[i];
        st->s0[i] = rho * st->s0[i] + c * (g * g);
        float u = sqrtf(st->s1[i] + eps) / sqrtf(st->s0[i] + eps) * g;
        st->s1[i] = rho * st->s1[i] + c * (u * u);
        w[i] -= lr * u;
    }
}

/* Lion (Chen et al. 2023, Algorithm 2; keras.optimizers.Lion; the
 * authors' PyTorch code, decoupled decay first): sign(0) = 0. */
static void ref_lion(const rt_optim *o, bool torch, state *st, float *w, const float *g, int t)
{
    (void)t;
    float lr = HF(o, "lr"), b1 = HF(o, "beta1"), b2 = HF(o, "beta2");
    float c1 = one_minus(o, "beta1"), c2 = one_minus(o, "beta2");
    float decay = torch ? (float)(1.0 - H(o, "lr") * H(o, "weight_decay")) : 1.0f;
    for (int i = 0; i < N; i++) {
        w[i] *= decay;
        float c = b1 * st->s0[i] + c1 * g[i];
        w[i] -= lr * (c > 0 ? 1.0f : c < 0 ? -1.0f : 0.0f);
        st->s0[i] = b2 * st->s0[i] + c2 * g[i];
    }
}

/* name, reference, bit-exact in {keras, torch} */
static const struct { const char *name; ref_fn step; bool exact[RT_DIALECT_COUNT]; } refs[] = {
    {"SGD", ref_sgd, {true, true}},
    {"Momentum", ref_sgd, {true, true}},
    {"AdaGrad", ref_adagrad, {true, true}},
    {"RMSprop", ref_rmsprop, {true, true}},
    {"Adam", ref_adam, {false, false}},
    {"AdamW", ref_adam, {false, false}},
    {"Nadam", ref_nadam, {false, false}},
    {"Adadelta", ref_adadelta, {true, true}},
    {"Lion", ref_lion, {true, true}},
};

static int find_ref(const char *name)
{
    for (size_t r = 0; r < sizeof refs / sizeof refs[0]; r++)
        if (strcmp(refs[r].name, name) == 0) return (int)r;
    return -1;
}

/* float32 roundings between a and b, as a count of ulps of the larger */
static double ulps(float a, float b)
{
    float big = fmaxf(fabsf(a), fabsf(b));
    float ulp = nextafterf(big, INFINITY) - big;
    return fabsf(a - b) / ulp;
}

/* Compares runtime and reference for STEPS steps: bit for bit when the
 * reference is exact for that dialect, else to a few float32 roundings. */
static void compare(rt_optim *o, const char *what)
{
    int r = find_ref(rt_optim_name(o));
    cr_assert(r >= 0, "%s: no reference implementation in refs[] (test_optimizers.c)", what);
    bool torch = rt_optim_dialect(o) == RT_DIALECT_TORCH;
    float w[N], wr[N], g[N];
    run(o, STEPS, w);
    state st;
    memset(&st, 0, sizeof st);
    for (int i = 0; i < N; i++) wr[i] = (float)W0[i];
    for (int t = 1; t <= STEPS; t++) {
        for (int i = 0; i < N; i++) g[i] = (float)G[t - 1][i];
        refs[r].step(o, torch, &st, wr, g, t);
    }
    double moved = 0;
    for (int i = 0; i < N; i++) moved = fmax(moved, fabs(wr[i] - W0[i]));
    cr_expect(moved > 0, "%s: the reference did not move", what);
    for (int i = 0; i < N; i++) {
        if (refs[r].exact[rt_optim_dialect(o)])
            cr_expect(memcmp(&w[i], &wr[i], sizeof(float)) == 0,
                      "%s: w[%d] = %.9g, the reference gives %.9g (must be bit-exact)", what, i,
                      w[i], wr[i]);
        else
            cr_expect(ulps(w[i], wr[i]) <= 8, "%s: w[%d] = %.9g, the reference gives %.9g (%.1f ulps)",
                      what, i, w[i], wr[i], ulps(w[i], wr[i]));
    }
}

/* Every row, every dialect it has: the defaults, then each hyperparameter
 * changed in turn. */
Test(optimizers, every_row_matches_its_reference)
{
    int checked = 0;
    for (int row = 0; row < rt_optim_count(); row++)
        for (int d = 0; d < RT_DIALECT_COUNT; d++) {
            if (!rt_optim_table_has(row, (rt_dialect)d)) continue;
            rt_error err;
            rt_optim *base = rt_optim_create(rt_optim_table_name(row), rt_dialect_name((rt_dialect)d), &err);
            cr_assert(base, "%s", err.msg);
            for (int h = -1; h < rt_optim_nhypers(base); h++) {
                rt_optim *o = rt_optim_clone(base, &err);
                cr_assert(o, "%s", err.msg);
                char what[128];
                snprintf(what, sizeof what, "%s/%s defaults", rt_optim_table_name(row),
                         rt_dialect_name((rt_dialect)d));
                if (h >= 0) {
                    double v = rt_optim_hyper_value(o, h);
                    double nv = rt_optim_hyper_is_bool(o, h) ? !v : v == 0 ? 0.25 : v / 2;
                    cr_assert(rt_optim_set(o, rt_optim_hyper_name(o, h), nv));
                    snprintf(what, sizeof what, "%s/%s %s=%g", rt_optim_table_name(row),
                             rt_dialect_name((rt_dialect)d), rt_optim_hyper_name(o, h), nv);
                }
                compare(o, what);
                checked++;
                rt_optim_free(o);
            }
            rt_optim_free(base);
        }
    cr_expect(checked >= 2 * rt_optim_count());
}

/* What every row must offer, whatever it is. */
Test(optimizers, every_row_is_complete)
{
    rt_error err;
    cr_assert(rt_optim_create("NoSuchOptimizer", NULL, &err) == NULL);
    for (int row = 0; row < rt_optim_count(); row++) {
        const char *name = rt_optim_table_name(row);
        cr_expect(strstr(err.msg, name), "'%s' missing from the unknown-name message: %s", name, err.msg);
        cr_expect(rt_optim_table_doc(row) && rt_optim_table_doc(row)[0], "%s has no doc", name);
        cr_expect(rt_optim_table_has(row, RT_DIALECT_KERAS), "%s: keras is the default dialect", name);
        for (int d = 0; d < RT_DIALECT_COUNT; d++) {
            if (!rt_optim_table_has(row, (rt_dialect)d)) continue;
            const char *dn = rt_dialect_name((rt_dialect)d);
            /* found by name in any case; canonical name; lr first */
            char lower[64];
            size_t n = strlen(name);
            cr_assert(n < sizeof lower);
            for (size_t i = 0; i <= n; i++) lower[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
            rt_optim *o = rt_optim_create(lower, dn, &err);
            cr_assert(o, "%s", err.msg);
            cr_expect(strcmp(rt_optim_name(o), name) == 0);
            cr_expect(rt_optim_dialect(o) == (rt_dialect)d);
            cr_expect(rt_optim_nhypers(o) > 0 && strcmp(rt_optim_hyper_name(o, 0), "lr") == 0,
                      "%s/%s: lr comes first (Adam(0.1) sets it)", name, dn);
            cr_expect(strstr(rt_optim_rule(o), "w "), "%s/%s: rule %s", name, dn, rt_optim_rule(o));
            char desc[512];
            rt_optim_describe(o, desc, sizeof desc);
            cr_expect(strncmp(desc, name, n) == 0 && desc[n] == '(', "%s", desc);
            cr_expect((d != RT_DIALECT_KERAS) == (strstr(desc, "dialect=") != NULL), "%s", desc);
            for (int h = 0; h < rt_optim_nhypers(o); h++) {
                const char *hn = rt_optim_hyper_name(o, h);
                cr_expect(rt_optim_hyper_doc(o, h) && rt_optim_hyper_doc(o, h)[0], "%s/%s %s: no doc",
                          name, dn, hn);
                char want[96];
                double v = rt_optim_hyper_value(o, h);
                if (rt_optim_hyper_is_bool(o, h)) snprintf(want, sizeof want, "%s=%s", hn, v ? "true" : "false");
                else snprintf(want, sizeof want, "%s=%g", hn, v);
                cr_expect(strstr(desc, want), "%s: describe lacks %s", desc, want);
            }
            /* a clone keeps changed hyperparameters */
            cr_assert(rt_optim_set(o, "lr", 0.125));
            rt_optim *c = rt_optim_clone(o, &err);
            double lr = 0;
            cr_expect(c && rt_optim_get(c, "lr", &lr) && lr == 0.125);
            rt_optim_free(c);
            rt_optim_free(o);
        }
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

/* A step split across a pool (rt_optim_step_pool) gives the bits of the
 * serial step, for every row and dialect, with parameters of awkward sizes
 * (the split cuts through them), a non-trainable one among them, and
 * gradients that change every step. */
Test(optimizers, pool_split_changes_no_bit)
{
    enum { NP = 4, STEPS_P = 4 };
    const long sizes[NP] = {39200, 50, 7, 20003};
    const bool trainable[NP] = {true, true, false, true};
    rt_pool *pools[3] = {NULL, rt_pool_create(2), rt_pool_create(3)};
    for (int i = 0; i < rt_optim_count(); i++)
        for (int d = 0; d < RT_DIALECT_COUNT; d++) {
            if (!rt_optim_table_has(i, (rt_dialect)d)) continue;
            float *w[3][NP], *g[NP];
            rt_optim *o[3];
            rt_param p[3][NP];
            for (int q = 0; q < NP; q++) {
                g[q] = malloc((size_t)sizes[q] * sizeof(float));
                for (int v = 0; v < 3; v++) w[v][q] = malloc((size_t)sizes[q] * sizeof(float));
            }
            for (int v = 0; v < 3; v++) {
                rt_error err;
                o[v] = rt_optim_create(rt_optim_table_name(i), rt_dialect_name((rt_dialect)d), &err);
                cr_assert(o[v], "%s", err.msg);
                for (int q = 0; q < NP; q++) {
                    for (long e = 0; e < sizes[q]; e++)
                        w[v][q][e] = (float)sin(0.37 * (double)e + q) * 0.5f;
                    p[v][q] = (rt_param){.name = "p", .w = w[v][q],
                                         .g = trainable[q] ? g[q] : NULL, .size = sizes[q],
                                         .shape = rt_shape_1d(sizes[q]),
                                         .trainable = trainable[q]};
                }
            }
            for (int t = 0; t < STEPS_P; t++) {
                for (int q = 0; q < NP; q++)
                    for (long e = 0; e < sizes[q]; e++)
                        g[q][e] = (float)cos(0.11 * (double)e * (t + 1) + q) * 0.1f;
                for (int v = 0; v < 3; v++) {
                    rt_error err;
                    cr_assert(rt_optim_step_pool(o[v], pools[v], p[v], NP, &err), "%s", err.msg);
                }
            }
            for (int v = 1; v < 3; v++)
                for (int q = 0; q < NP; q++)
                    cr_assert(memcmp(w[0][q], w[v][q], (size_t)sizes[q] * sizeof(float)) == 0,
                              "%s/%s: parameter %d differs with %d threads",
                              rt_optim_table_name(i), rt_dialect_name((rt_dialect)d), q,
                              rt_pool_threads(pools[v]));
            for (int v = 0; v < 3; v++) {
                rt_optim_free(o[v]);
                for (int q = 0; q < NP; q++) free(w[v][q]);
            }
            for (int q = 0; q < NP; q++) free(g[q]);
        }
    rt_pool_destroy(pools[1]);
    rt_pool_destroy(pools[2]);
}
