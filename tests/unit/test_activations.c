/*
 * test_activations.c — every activation's forward against a double libm
 * reference, and its derivative against central finite differences of that
 * reference (computed in double).
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "activations.h"

static double ref(rt_act a, double z)
{
    const double sa = 1.6732632423543772848, ss = 1.0507009873554804934;
    switch (a) {
    case RT_ACT_LINEAR: return z;
    case RT_ACT_SIGMOID: return 1 / (1 + exp(-z));
    case RT_ACT_TANH: return tanh(z);
    case RT_ACT_RELU: return z > 0 ? z : 0;
    case RT_ACT_LEAKY_RELU: return z > 0 ? z : 0.3 * z;
    case RT_ACT_ELU: return z > 0 ? z : expm1(z);
    case RT_ACT_SELU: return z > 0 ? ss * z : ss * sa * expm1(z);
    case RT_ACT_SOFTPLUS: return z > 30 ? z : log1p(exp(z));
    case RT_ACT_SOFTSIGN: return z / (1 + fabs(z));
    case RT_ACT_SWISH: return z / (1 + exp(-z));
    case RT_ACT_GELU: return 0.5 * z * (1 + erf(z / sqrt(2.0)));
    default: return NAN;
    }
}

enum { N = 2001 };

Test(activations, elementwise_forward_and_derivative)
{
    static float z[N], y[N], dy[N], dz[N];
    for (int a = 0; a < RT_ACT_COUNT; a++) {
        if (a == RT_ACT_SOFTMAX) continue;
        const rt_act_info *info = rt_act_get((rt_act)a);
        for (int i = 0; i < N; i++) {
            z[i] = -12.0f + 24.0f * (float)i / (N - 1);
            if (fabsf(z[i]) < 1e-3f) z[i] = 0.37f;          /* off the kinks */
            dy[i] = 0.5f + (float)(i % 7) * 0.25f;
        }
        info->forward(z, y, 1, N, info->alpha);
        info->backward(z, y, dy, dz, 1, N, info->alpha);
        double worst_f = 0, worst_d = 0;
        for (int i = 0; i < N; i++) {
            double r = ref((rt_act)a, z[i]);
            double ef = fabs(y[i] - r) / fmax(1.0, fabs(r));
            double h = 1e-6 * fmax(1.0, fabs(z[i]));
            double fd = (ref((rt_act)a, z[i] + h) - ref((rt_act)a, z[i] - h)) / (2 * h);
            double ed = fabs(dz[i] - dy[i] * fd) / fmax(1.0, fabs(dy[i] * fd));
            if (ef > worst_f) worst_f = ef;
            if (ed > worst_d) worst_d = ed;
        }
        cr_expect(worst_f < 1e-6, "%s forward: worst rel error %g", info->name, worst_f);
        cr_expect(worst_d < 2e-5, "%s derivative: worst rel error %g", info->name, worst_d);
    }
}

Test(activations, defaults_and_names)
{
    rt_act a;
    cr_expect(rt_act_from_name("relu", &a) && a == RT_ACT_RELU);
    cr_expect(rt_act_from_name("SiLU", &a) && a == RT_ACT_SWISH);
    cr_expect(!rt_act_from_name("relu6", &a));
    cr_expect(rt_act_get(RT_ACT_LEAKY_RELU)->alpha == 0.3f);
    cr_expect(rt_act_get(RT_ACT_ELU)->alpha == 1.0f);
    float z[3] = {-2, 0, 2}, y[3];
    rt_act_get(RT_ACT_LEAKY_RELU)->forward(z, y, 1, 3, 0.01f);   /* parameter honoured */
    cr_expect(y[0] == -0.02f && y[1] == 0.0f && y[2] == 2.0f);
}

Test(activations, softmax_rows_stable_and_jacobian)
{
    enum { R = 3, C = 5 };
    float z[R * C] = {1, 2, 3, 4, 5, -1000, 0, 1000, 999, 3, 0.5f, -0.25f, 0.1f, 0.2f, 0.3f};
    float y[R * C], dy[R * C], dz[R * C];
    const rt_act_info *sm = rt_act_get(RT_ACT_SOFTMAX);
    sm->forward(z, y, R, C, 0);
    for (int r = 0; r < R; r++) {
        double mx = -INFINITY, s = 0;
        for (int j = 0; j < C; j++) mx = fmax(mx, z[r * C + j]);
        for (int j = 0; j < C; j++) s += exp(z[r * C + j] - mx);
        for (int j = 0; j < C; j++) {
            double p = exp(z[r * C + j] - mx) / s;
            cr_expect(fabs(y[r * C + j] - p) < 1e-7, "row %d col %d: %g vs %g", r, j, y[r * C + j], p);
        }
    }
    /* Jacobian-vector product against finite differences of L = sum w . softmax(z) */
    for (int k = 0; k < R * C; k++) dy[k] = (float)((k * 37) % 11) / 11.0f - 0.4f;
    sm->backward(z, y, dy, dz, R, C, 0);
    for (int r = 0; r < R; r++)
        for (int j = 0; j < C; j++) {
            double h = 1e-4, lp = 0, lm = 0;
            for (int sgn = 0; sgn < 2; sgn++) {
                double zz[C], mx = -INFINITY, s = 0;
                for (int q = 0; q < C; q++) zz[q] = z[r * C + q];
                zz[j] += sgn ? -h : h;
                for (int q = 0; q < C; q++) mx = fmax(mx, zz[q]);
                for (int q = 0; q < C; q++) s += exp(zz[q] - mx);
                double l = 0;
                for (int q = 0; q < C; q++) l += dy[r * C + q] * exp(zz[q] - mx) / s;
                if (sgn) lm = l; else lp = l;
            }
            double fd = (lp - lm) / (2 * h);
            cr_expect(fabs(dz[r * C + j] - fd) < 1e-6, "softmax grad [%d,%d] %g vs %g", r, j,
                      dz[r * C + j], fd);
        }
}
