/*
 * test_activations.c — every activation's forward against a double libm
 * reference, and its derivative against central finite differences of that
 * reference (computed in double), with the default parameters and, for
 * every row that has parameters, with each changed in turn (the test
 * iterates the table's parameter lists). relu's reference is Keras's
 * keras.activations.relu written out.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "activations.h"

static double ref(rt_act a, double z, const float *p)
{
    const double sa = 1.6732632423543772848, ss = 1.0507009873554804934;
    switch (a) {
    case RT_ACT_LINEAR: return z;
    case RT_ACT_SIGMOID: return 1 / (1 + exp(-z));
    case RT_ACT_TANH: return tanh(z);
    case RT_ACT_RELU: {
        /* keras: x = x * (x > threshold) (or relu(x)); clip(x, 0, max_value) if
         * max_value is given; x -= alpha * relu(threshold - x) */
        double alpha = p[0], maxv = p[1], thr = p[2], x = z > thr ? z : 0;
        if (!isinf(maxv)) x = fmin(fmax(x, 0), maxv);
        return x - alpha * fmax(thr - z, 0);
    }
    case RT_ACT_LEAKY_RELU: return z > 0 ? z : p[0] * z;
    case RT_ACT_ELU: return z > 0 ? z : p[0] * expm1(z);
    case RT_ACT_SELU: return z > 0 ? ss * z : ss * sa * expm1(z);
    case RT_ACT_SOFTPLUS: return z > 30 ? z : log1p(exp(z));
    case RT_ACT_SOFTSIGN: return z / (1 + fabs(z));
    case RT_ACT_SWISH: return z / (1 + exp(-z));
    case RT_ACT_GELU: return 0.5 * z * (1 + erf(z / sqrt(2.0)));
    default: return NAN;
    }
}

enum { N = 2001 };

/* true when z is within 1e-3 of a kink of the row (0, and relu's
 * threshold and max_value), where finite differences mean nothing */
static bool near_kink(rt_act a, const float *p, float z)
{
    if (fabsf(z) < 1e-3f) return true;
    return a == RT_ACT_RELU && (fabsf(z - p[2]) < 1e-3f || fabsf(z - p[1]) < 1e-3f);
}

static void check_row(rt_act a, const float *p, const char *what)
{
    static float z[N], y[N], dy[N], dz[N];
    const rt_act_info *info = rt_act_get(a);
    cr_assert(!isnan(ref(a, 0.5, p)), "%s: no reference in ref() (test_activations.c)", what);
    for (int i = 0; i < N; i++) {
        z[i] = -12.0f + 24.0f * (float)i / (N - 1);
        if (near_kink(a, p, z[i])) z[i] = 0.37f;        /* off the kinks */
        dy[i] = 0.5f + (float)(i % 7) * 0.25f;
    }
    info->forward(z, y, 1, N, p);
    info->backward(z, y, dy, dz, 1, N, p);
    double worst_f = 0, worst_d = 0;
    for (int i = 0; i < N; i++) {
        double r = ref(a, z[i], p);
        double ef = fabs(y[i] - r) / fmax(1.0, fabs(r));
        double h = 1e-6 * fmax(1.0, fabs(z[i]));
        double fd = (ref(a, z[i] + h, p) - ref(a, z[i] - h, p)) / (2 * h);
        double ed = fabs(dz[i] - dy[i] * fd) / fmax(1.0, fabs(dy[i] * fd));
        if (ef > worst_f) worst_f = ef;
        if (ed > worst_d) worst_d = ed;
    }
    cr_expect(worst_f < 1e-6, "%s forward: worst rel error %g", what, worst_f);
    cr_expect(worst_d < 2e-5, "%s derivative: worst rel error %g", what, worst_d);
}

Test(activations, elementwise_forward_and_derivative)
{
    for (int a = 0; a < RT_ACT_COUNT; a++) {
        if (a == RT_ACT_SOFTMAX) continue;
        float p[RT_ACT_MAX_PARAMS];
        rt_act_defaults((rt_act)a, p);
        check_row((rt_act)a, p, rt_act_get((rt_act)a)->name);
    }
}

/* Every parameter of every row changed in turn (0 -> 0.25, inf -> 2.5,
 * else halved), then all at once. */
Test(activations, every_parameter_is_honoured)
{
    int checked = 0;
    for (int a = 0; a < RT_ACT_COUNT; a++) {
        const rt_act_info *info = rt_act_get((rt_act)a);
        int np = rt_act_nparams((rt_act)a);
        float all[RT_ACT_MAX_PARAMS];
        rt_act_defaults((rt_act)a, all);
        for (int i = 0; i < np; i++) {
            float p[RT_ACT_MAX_PARAMS], v = info->params[i].value;
            rt_act_defaults((rt_act)a, p);
            p[i] = all[i] = v == 0.0f ? 0.25f : isinf(v) ? 2.5f : v * 0.5f;
            cr_expect(info->params[i].doc && info->params[i].doc[0], "%s.%s: no doc", info->name,
                      info->params[i].name);
            cr_expect(rt_act_param_index((rt_act)a, info->params[i].name) == i);
            char what[64];
            snprintf(what, sizeof what, "%s(%s=%g)", info->name, info->params[i].name, (double)p[i]);
            check_row((rt_act)a, p, what);
            checked++;
        }
        if (np > 1) check_row((rt_act)a, all, info->name);
    }
    cr_expect(checked >= 5, "relu has 3 parameters, leaky_relu and elu 1 each");
}

/* relu with Keras's parameters at a few points worked out by hand. */
Test(activations, relu_parameters_by_hand)
{
    float z[6] = {-2, -0.5f, 0.5f, 1, 3, 8}, y[6], dy[6] = {1, 1, 1, 1, 1, 1}, dz[6];
    /* alpha 0.1, max_value 6, threshold 1: x > 1 ? min(x, 6) : 0, minus 0.1 (1 - x) below 1 */
    float p[RT_ACT_MAX_PARAMS] = {0.1f, 6.0f, 1.0f};
    const rt_act_info *relu = rt_act_get(RT_ACT_RELU);
    relu->forward(z, y, 1, 6, p);
    relu->backward(z, y, dy, dz, 1, 6, p);
    const float want[6] = {-0.3f, -0.15f, -0.05f, 0.0f, 3.0f, 6.0f};
    const float wantd[6] = {0.1f, 0.1f, 0.1f, 0.1f, 1.0f, 0.0f};  /* at z = threshold: the left slope */
    for (int i = 0; i < 6; i++) {
        cr_expect(fabsf(y[i] - want[i]) < 1e-6f, "relu(%g) = %g, want %g", (double)z[i], (double)y[i],
                  (double)want[i]);
        cr_expect(dz[i] == wantd[i], "relu'(%g) = %g, want %g", (double)z[i], (double)dz[i],
                  (double)wantd[i]);
    }
    cr_expect(rt_act_nparams(RT_ACT_TANH) == 0 && rt_act_param_index(RT_ACT_TANH, "alpha") == -1);
    cr_expect(rt_act_param_index(RT_ACT_RELU, "max_value") == 1);
}

Test(activations, defaults_and_names)
{
    rt_act a;
    cr_expect(rt_act_from_name("relu", &a) && a == RT_ACT_RELU);
    cr_expect(rt_act_from_name("SiLU", &a) && a == RT_ACT_SWISH);
    cr_expect(!rt_act_from_name("relu6", &a));
    cr_expect(rt_act_get(RT_ACT_LEAKY_RELU)->params[0].value == 0.3f);
    cr_expect(rt_act_get(RT_ACT_ELU)->params[0].value == 1.0f);
    float z[3] = {-2, 0, 2}, y[3], slope[RT_ACT_MAX_PARAMS] = {0.01f};
    rt_act_get(RT_ACT_LEAKY_RELU)->forward(z, y, 1, 3, slope);   /* parameter honoured */
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
