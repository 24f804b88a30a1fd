/*
 * test_layers.c — layer forward passes against naive double references and
 * every gradient (input and parameters; batchnorm in training mode) against
 * central finite differences of L = sum(r . y) computed in double.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "layers.h"

enum { B = 5, IN = 4, OUT = 3 };

static double act_ref(rt_act a, double z)
{
    switch (a) {
    case RT_ACT_SIGMOID: return 1 / (1 + exp(-z));
    case RT_ACT_TANH: return tanh(z);
    case RT_ACT_RELU: return z > 0 ? z : 0;
    case RT_ACT_ELU: return z > 0 ? z : expm1(z);
    default: return z;
    }
}

/* dense forward in double: y = act(x W + b) */
static void dense_ref(rt_act a, const double *x, const double *w, const double *b, double *y)
{
    for (int i = 0; i < B; i++)
        for (int j = 0; j < OUT; j++) {
            double s = 0;
            for (int p = 0; p < IN; p++) s += x[i * IN + p] * w[p * OUT + j];
            y[i * OUT + j] = act_ref(a, s + b[j]);
        }
}

static double dense_loss(rt_act a, const double *x, const double *w, const double *b, const float *r)
{
    double y[B * OUT], l = 0;
    dense_ref(a, x, w, b, y);
    for (int k = 0; k < B * OUT; k++) l += r[k] * y[k];
    return l;
}

/* Central difference of dense_loss in one entry of v (x, w or b). */
static double fd(rt_act a, double *x, double *w, double *b, const float *r, double *v, int k)
{
    double h = 1e-6, o = v[k];
    v[k] = o + h; double lp = dense_loss(a, x, w, b, r);
    v[k] = o - h; double lm = dense_loss(a, x, w, b, r);
    v[k] = o;
    return (lp - lm) / (2 * h);
}

static void check_dense(rt_act act)
{
    rt_layer l;
    rt_error err;
    rt_layer_spec spec = rt_spec_dense(OUT, act, RT_INIT_GLOROT_UNIFORM);
    cr_assert(rt_layer_setup(&l, &spec, IN, &err), "%s", err.msg);
    cr_assert(rt_layer_reserve(&l, B, &err));
    rt_rng rng;
    rt_rng_init(&rng, 9, 1);
    rt_layer_init(&l, &rng);
    float x[B * IN], r[B * OUT];
    double xd[B * IN], wd[IN * OUT], bd[OUT], yd[B * OUT];
    for (int k = 0; k < B * IN; k++) xd[k] = x[k] = rt_rng_uniform_range(&rng, -1.5f, 1.5f);
    for (int k = 0; k < B * OUT; k++) r[k] = rt_rng_uniform_range(&rng, -1, 1);
    for (int j = 0; j < OUT; j++) l.params[1].w[j] = rt_rng_uniform_range(&rng, -0.5f, 0.5f);
    for (int k = 0; k < IN * OUT; k++) wd[k] = l.params[0].w[k];
    for (int j = 0; j < OUT; j++) bd[j] = l.params[1].w[j];
    const float *y = rt_layer_forward(&l, x, B, true, NULL);
    dense_ref(act, xd, wd, bd, yd);
    for (int k = 0; k < B * OUT; k++) cr_expect(fabs(y[k] - yd[k]) < 1e-6, "forward %d", k);
    const float *dx = rt_layer_backward(&l, r, B, true, NULL);
    const char *an = rt_act_get(act)->name;
    for (int k = 0; k < B * IN; k++) {
        double want = fd(act, xd, wd, bd, r, xd, k);
        cr_expect(fabs(dx[k] - want) < 1e-5, "%s dx[%d] %g vs %g", an, k, dx[k], want);
    }
    for (int k = 0; k < IN * OUT; k++) {
        double want = fd(act, xd, wd, bd, r, wd, k);
        cr_expect(fabs(l.params[0].g[k] - want) < 1e-5, "%s dW[%d] %g vs %g", an, k, l.params[0].g[k], want);
    }
    for (int j = 0; j < OUT; j++) {
        double want = fd(act, xd, wd, bd, r, bd, j);
        cr_expect(fabs(l.params[1].g[j] - want) < 1e-5, "%s db[%d] %g vs %g", an, j, l.params[1].g[j], want);
    }
    rt_layer_release(&l);
}

Test(layers, dense_linear_gradients) { check_dense(RT_ACT_LINEAR); }
Test(layers, dense_sigmoid_gradients) { check_dense(RT_ACT_SIGMOID); }
Test(layers, dense_tanh_gradients) { check_dense(RT_ACT_TANH); }
Test(layers, dense_relu_gradients) { check_dense(RT_ACT_RELU); }
Test(layers, dense_elu_gradients) { check_dense(RT_ACT_ELU); }

/* batchnorm (training) in double: y = gamma (x - mean)/sqrt(var + eps) + beta */
static double bn_loss(const double *x, const double *g, const double *be, const float *r, double eps,
                      double *y_out)
{
    double l = 0;
    for (int j = 0; j < OUT; j++) {
        double m = 0, v = 0;
        for (int i = 0; i < B; i++) m += x[i * OUT + j];
        m /= B;
        for (int i = 0; i < B; i++) v += (x[i * OUT + j] - m) * (x[i * OUT + j] - m);
        v /= B;
        for (int i = 0; i < B; i++) {
            double y = g[j] * (x[i * OUT + j] - m) / sqrt(v + eps) + be[j];
            if (y_out) y_out[i * OUT + j] = y;
            l += r[i * OUT + j] * y;
        }
    }
    return l;
}

Test(layers, batchnorm_training_gradients_and_moving_stats)
{
    rt_layer l;
    rt_error err;
    rt_layer_spec spec = rt_spec_batchnorm(0.99f, 1e-3f);
    cr_assert(rt_layer_setup(&l, &spec, OUT, &err) && rt_layer_reserve(&l, B, &err));
    rt_rng rng;
    rt_rng_init(&rng, 4, 1);
    rt_layer_init(&l, &rng);
    float x[B * OUT], r[B * OUT];
    double xd[B * OUT], gd[OUT], bd[OUT], yd[B * OUT];
    for (int k = 0; k < B * OUT; k++) xd[k] = x[k] = rt_rng_uniform_range(&rng, -2, 3);
    for (int k = 0; k < B * OUT; k++) r[k] = rt_rng_uniform_range(&rng, -1, 1);
    for (int j = 0; j < OUT; j++) {
        gd[j] = l.params[0].w[j] = rt_rng_uniform_range(&rng, 0.5f, 1.5f);
        bd[j] = l.params[1].w[j] = rt_rng_uniform_range(&rng, -0.5f, 0.5f);
    }
    const float *y = rt_layer_forward(&l, x, B, true, NULL);
    bn_loss(xd, gd, bd, r, 1e-3, yd);
    for (int k = 0; k < B * OUT; k++) cr_expect(fabs(y[k] - yd[k]) < 2e-6, "forward %d: %g vs %g", k, y[k], yd[k]);
    /* moving = 0.99 moving + 0.01 batch, from mean 0 and variance 1 */
    for (int j = 0; j < OUT; j++) {
        double m = 0, v = 0;
        for (int i = 0; i < B; i++) m += xd[i * OUT + j];
        m /= B;
        for (int i = 0; i < B; i++) v += (xd[i * OUT + j] - m) * (xd[i * OUT + j] - m);
        v /= B;
        cr_expect(fabs(l.params[2].w[j] - 0.01 * m) < 1e-7);
        cr_expect(fabs(l.params[3].w[j] - (0.99 + 0.01 * v)) < 1e-6);
    }
    const float *dx = rt_layer_backward(&l, r, B, true, NULL);
    double h = 1e-6;
    double *vecs[3] = {xd, gd, bd};
    const float *got[3] = {dx, l.params[0].g, l.params[1].g};
    int sizes[3] = {B * OUT, OUT, OUT};
    for (int v = 0; v < 3; v++)
        for (int k = 0; k < sizes[v]; k++) {
            double o = vecs[v][k];
            vecs[v][k] = o + h; double lp = bn_loss(xd, gd, bd, r, 1e-3, NULL);
            vecs[v][k] = o - h; double lm = bn_loss(xd, gd, bd, r, 1e-3, NULL);
            vecs[v][k] = o;
            double want = (lp - lm) / (2 * h);
            cr_expect(fabs(got[v][k] - want) < 2e-5, "bn grad %d[%d]: %g vs %g", v, k, got[v][k], want);
        }
    /* inference uses the moving statistics */
    y = rt_layer_forward(&l, x, B, false, NULL);
    for (int i = 0; i < B; i++)
        for (int j = 0; j < OUT; j++) {
            double want = gd[j] * (xd[i * OUT + j] - l.params[2].w[j]) / sqrt(l.params[3].w[j] + 1e-3) + bd[j];
            cr_expect(fabs(y[i * OUT + j] - want) < 2e-6);
        }
    rt_layer_release(&l);
}

Test(layers, dropout_inverted_mask)
{
    enum { R = 200, W = 50 };
    static float x[R * W], dy[R * W];
    rt_layer l;
    rt_error err;
    rt_layer_spec spec = rt_spec_dropout(0.25f);
    cr_assert(rt_layer_setup(&l, &spec, W, &err) && rt_layer_reserve(&l, R, &err));
    rt_rng rng;
    rt_rng_init(&rng, 8, RT_STREAM_INIT);
    rt_layer_init(&l, &rng);
    for (int k = 0; k < R * W; k++) { x[k] = 1.0f + (float)(k % 5); dy[k] = 2.0f; }
    const float *y = rt_layer_forward(&l, x, R, true, NULL);
    const float *dx = rt_layer_backward(&l, dy, R, true, NULL);
    int kept = 0;
    for (int k = 0; k < R * W; k++) {
        bool keep = y[k] != 0.0f;
        kept += keep;
        cr_assert(y[k] == (keep ? x[k] * (1.0f / 0.75f) : 0.0f));
        cr_assert(dx[k] == (keep ? 2.0f * (1.0f / 0.75f) : 0.0f));       /* same mask backwards */
    }
    cr_expect(fabs(kept / (double)(R * W) - 0.75) < 0.015, "kept %d", kept);
    /* a new mask each step; inference passes through */
    static float first[R * W];
    memcpy(first, y, sizeof first);                   /* y is reused by the next forward */
    const float *y2 = rt_layer_forward(&l, x, R, true, NULL);
    int same = 0;
    for (int k = 0; k < R * W; k++) same += (y2[k] != 0) == (first[k] != 0);
    cr_expect(same < R * W);
    cr_expect(rt_layer_forward(&l, x, R, false, NULL) == x);
    rt_layer_release(&l);
}

Test(layers, flatten_is_a_view_and_init_names)
{
    rt_layer l;
    rt_error err;
    rt_layer_spec spec = rt_spec_flatten(3, (int[]){2, 3, 4});
    cr_assert(rt_layer_setup(&l, &spec, 24, &err));
    float x[48] = {0};
    cr_expect(rt_layer_forward(&l, x, 2, true, NULL) == x && l.out == 24);
    rt_layer_release(&l);
    rt_init i;
    cr_expect(rt_init_from_name("he_normal", &i) && i == RT_INIT_HE_NORMAL);
    cr_expect(!rt_init_from_name("orthogonal", &i));
}

Test(layers, he_initialisers_have_their_variance)
{
    enum { I = 400, O = 300 };
    rt_init kinds[2] = {RT_INIT_HE_UNIFORM, RT_INIT_HE_NORMAL};
    for (int t = 0; t < 2; t++) {
        rt_layer l;
        rt_error err;
        rt_layer_spec spec = rt_spec_dense(O, RT_ACT_RELU, kinds[t]);
        cr_assert(rt_layer_setup(&l, &spec, I, &err));
        rt_rng rng;
        rt_rng_init(&rng, 2, 1);
        rt_layer_init(&l, &rng);
        double s2 = 0, lim = t == 0 ? sqrt(6.0 / I) : 2 * sqrt(2.0 / I) / 0.87962566103423978;
        for (long k = 0; k < l.params[0].size; k++) {
            cr_assert(fabs(l.params[0].w[k]) <= lim + 1e-6);
            s2 += (double)l.params[0].w[k] * l.params[0].w[k];
        }
        double var = s2 / l.params[0].size;
        cr_expect(fabs(var / (2.0 / I) - 1) < 0.03, "%s variance %g", rt_init_name(kinds[t]), var);
        rt_layer_release(&l);
    }
}
