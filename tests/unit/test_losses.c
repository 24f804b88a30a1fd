/*
 * test_losses.c — loss values against double computations, fused gradients
 * against finite differences of loss(activation(z)) in double, accuracy.
 */
#include <criterion/criterion.h>
#include <math.h>
#include "activations.h"
#include "losses.h"

enum { N = 4, C = 3 };
static const float Z[N * C] = {0.2f, -1.3f, 0.7f, 2.0f, 0.1f, -0.5f, -0.3f, -0.3f, 0.9f, 1.5f, 1.6f, -2.0f};
static const float Y1[N * C] = {0, 0, 1, 1, 0, 0, 0, 1, 0, 0, 1, 0};          /* one-hot */
static const float YB[N * C] = {1, 0, 1, 1, 0, 0, 0, 1, 1, 0, 1, 0};          /* multi-label */

/* The loss of (activation of) logits zz in double. */
static double loss_of(rt_loss loss, const double *zz, const float *y)
{
    double total = 0;
    for (int i = 0; i < N; i++) {
        double mx = -INFINITY, s = 0;
        for (int j = 0; j < C; j++) mx = fmax(mx, zz[i * C + j]);
        for (int j = 0; j < C; j++) s += exp(zz[i * C + j] - mx);
        for (int j = 0; j < C; j++) {
            double t = y[i * C + j], z = zz[i * C + j];
            if (loss == RT_LOSS_CROSSENTROPY) total -= t * (z - mx - log(s));
            else if (loss == RT_LOSS_BINARY_CROSSENTROPY) {
                double p = 1 / (1 + exp(-z));
                total -= t * log(p) + (1 - t) * log(1 - p);
            } else total += (z - t) * (z - t);
        }
    }
    return loss == RT_LOSS_CROSSENTROPY ? total / N : total / (N * C);
}

static void check(rt_loss loss, rt_act act, const float *y)
{
    float p[N * C], g[N * C];
    if (act == RT_ACT_COUNT) for (int k = 0; k < N * C; k++) p[k] = Z[k];
    else rt_act_get(act)->forward(Z, p, N, C, NULL);   /* softmax, sigmoid: no parameters */
    double v = rt_loss_eval(loss, p, y, N, C, g);
    double zz[N * C];
    for (int k = 0; k < N * C; k++) zz[k] = Z[k];
    double ref = loss_of(loss, zz, y);
    cr_expect(fabs(v - ref) < 1e-6 * fmax(1, fabs(ref)), "%s value %.9g vs %.9g", rt_loss_name(loss), v, ref);
    for (int k = 0; k < N * C; k++) {
        double h = 1e-5, o = zz[k];
        zz[k] = o + h; double lp = loss_of(loss, zz, y);
        zz[k] = o - h; double lm = loss_of(loss, zz, y);
        zz[k] = o;
        double fd = (lp - lm) / (2 * h);
        cr_expect(fabs(g[k] - fd) < 1e-6, "%s grad[%d] %g vs %g", rt_loss_name(loss), k, g[k], fd);
    }
}

Test(losses, crossentropy_fused_with_softmax) { check(RT_LOSS_CROSSENTROPY, RT_ACT_SOFTMAX, Y1); }
Test(losses, binary_crossentropy_fused_with_sigmoid) { check(RT_LOSS_BINARY_CROSSENTROPY, RT_ACT_SIGMOID, YB); }
Test(losses, mse_gradient_on_outputs) { check(RT_LOSS_MSE, RT_ACT_COUNT, YB); }

Test(losses, clipping_bounds_the_value)
{
    float p[2] = {0.0f, 1.0f}, y[2] = {1.0f, 0.0f}, g[2];
    double v = rt_loss_eval(RT_LOSS_CROSSENTROPY, p, y, 1, 2, g);
    cr_expect(fabs(v - -log(1e-7)) < 1e-4, "%g", v);          /* -log(1e-7) = 16.118 */
    cr_expect(g[0] == -1.0f && g[1] == 1.0f);
    double b = rt_loss_eval(RT_LOSS_BINARY_CROSSENTROPY, p, y, 1, 2, NULL);
    /* the upper clip bound is float(1 - 1e-7), so 1 - it is 1.19e-7, not 1e-7 */
    double hi = (double)(1.0f - 1e-7f);
    double want = -(log((double)1e-7f) + log(1.0 - hi)) / 2;
    cr_expect(fabs(b - want) < 1e-4, "%g vs %g", b, want);
}

Test(losses, accuracy_counts)
{
    /* argmax, first maximum wins on ties */
    float p[3 * 3] = {0.1f, 0.7f, 0.2f, 0.4f, 0.4f, 0.2f, 0.3f, 0.3f, 0.4f};
    float y[3 * 3] = {0, 1, 0, 0, 1, 0, 0, 0, 1};
    cr_expect(rt_loss_correct(RT_LOSS_CROSSENTROPY, p, y, 3, 3) == 2.0);
    /* binary: per-output threshold 0.5, averaged over a row's outputs */
    float pb[2 * 2] = {0.6f, 0.4f, 0.2f, 0.9f}, yb[2 * 2] = {1, 1, 0, 1};
    cr_expect(rt_loss_correct(RT_LOSS_BINARY_CROSSENTROPY, pb, yb, 2, 2) == 1.5);
    rt_loss l;
    cr_expect(rt_loss_from_name("categorical_crossentropy", &l) && l == RT_LOSS_CROSSENTROPY);
    cr_expect(rt_loss_from_name("mse", &l) && l == RT_LOSS_MSE);
    cr_expect(!rt_loss_from_name("hinge", &l));
}
