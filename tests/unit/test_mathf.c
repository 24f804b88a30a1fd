/*
 * test_mathf.c — our exp/log/tanh/erf against double-precision libm.
 *
 * Error is measured in ulps of the float result: |ours - exact| / ulp(exact),
 * with `exact` the double libm value (accurate to far below a float ulp).
 * Points: a dense sweep of each domain plus every special value.
 */
#include <criterion/criterion.h>
#include <math.h>
#include "mathf.h"

static double ulp_of(double v)
{
    float f = (float)fabs(v);
    if (f < 0x1p-126f) return 0x1p-149;
    return (double)(nextafterf(f, INFINITY) - f);
}

static double ulp_err(float got, double exact)
{
    return fabs((double)got - exact) / ulp_of(exact);
}

/* Worst ulp error of f against ref over n points spread over [lo, hi]. */
static double sweep(float (*f)(float), double (*ref)(double), float lo, float hi, int n,
                    float *where)
{
    double worst = 0;
    for (int i = 0; i <= n; i++) {
        float x = lo + (hi - lo) * ((float)i / (float)n);
        double e = ulp_err(f(x), ref((double)x));
        if (e > worst) { worst = e; *where = x; }
    }
    return worst;
}

Test(mathf, expf_within_one_ulp)
{
    float at = 0;
    double w = sweep(rt_expf, exp, -87.0f, 88.7f, 400000, &at);
    cr_expect(w <= 1.0, "expf worst %.3f ulp at %a", w, at);
    w = sweep(rt_expf, exp, -1.0f, 1.0f, 200000, &at);
    cr_expect(w <= 1.0, "expf worst %.3f ulp at %a (near 0)", w, at);
}

Test(mathf, expf_special_values)
{
    cr_expect(rt_expf(0.0f) == 1.0f);
    cr_expect(isinf(rt_expf(89.0f)) && rt_expf(89.0f) > 0);
    cr_expect(isinf(rt_expf(INFINITY)));
    cr_expect(rt_expf(-INFINITY) == 0.0f);
    cr_expect(rt_expf(-200.0f) == 0.0f);
    cr_expect(isnan(rt_expf(NAN)));
    /* subnormal results: within an ulp of the subnormal grid */
    for (float x = -103.0f; x < -87.5f; x += 0.37f)
        cr_expect(fabs(rt_expf(x) - exp(x)) <= 0x1p-149 + ulp_of(exp(x)), "x=%g", x);
}

Test(mathf, logf_within_one_ulp)
{
    float at = 0;
    double w = sweep(rt_logf, log, 1e-30f, 10.0f, 100000, &at);
    cr_expect(w <= 1.0, "logf worst %.3f ulp at %a", w, at);
    w = sweep(rt_logf, log, 0.5f, 2.0f, 300000, &at);
    cr_expect(w <= 1.0, "logf worst %.3f ulp at %a (near 1)", w, at);
    w = sweep(rt_logf, log, 1.0f, 3e38f, 100000, &at);
    cr_expect(w <= 1.0, "logf worst %.3f ulp at %a (large)", w, at);
    /* powers of two and subnormals */
    for (int e = -149; e < 128; e++) {
        float x = ldexpf(1.0f, e);
        cr_expect(ulp_err(rt_logf(x), log(x)) <= 1.0, "log 2^%d", e);
        cr_expect(ulp_err(rt_logf(x * 1.37f), log((double)(x * 1.37f))) <= 1.0, "log 1.37*2^%d", e);
    }
}

Test(mathf, logf_special_values)
{
    cr_expect(rt_logf(1.0f) == 0.0f);
    cr_expect(isinf(rt_logf(0.0f)) && rt_logf(0.0f) < 0);
    cr_expect(isnan(rt_logf(-1.0f)));
    cr_expect(isnan(rt_logf(NAN)));
    cr_expect(isinf(rt_logf(INFINITY)));
}

Test(mathf, tanhf_within_two_ulp)
{
    float at = 0;
    double w = sweep(rt_tanhf, tanh, -12.0f, 12.0f, 400000, &at);
    cr_expect(w <= 2.0, "tanhf worst %.3f ulp at %a", w, at);
    w = sweep(rt_tanhf, tanh, -0.7f, 0.7f, 200000, &at);
    cr_expect(w <= 2.0, "tanhf worst %.3f ulp at %a (small)", w, at);
    cr_expect(rt_tanhf(1e-30f) == 1e-30f);
    cr_expect(rt_tanhf(100.0f) == 1.0f && rt_tanhf(-100.0f) == -1.0f);
    cr_expect(rt_tanhf(INFINITY) == 1.0f);
    cr_expect(isnan(rt_tanhf(NAN)));
}

Test(mathf, expm1f_log1pf_within_two_ulp)
{
    float at = 0;
    double w = sweep(rt_expm1f, expm1, -20.0f, 20.0f, 200000, &at);
    cr_expect(w <= 2.0, "expm1f worst %.3f ulp at %a", w, at);
    w = sweep(rt_expm1f, expm1, -1e-3f, 1e-3f, 100000, &at);
    cr_expect(w <= 2.0, "expm1f worst %.3f ulp at %a (tiny)", w, at);
    w = sweep(rt_log1pf, log1p, -0.999f, 50.0f, 200000, &at);
    cr_expect(w <= 2.0, "log1pf worst %.3f ulp at %a", w, at);
    w = sweep(rt_log1pf, log1p, -1e-3f, 1e-3f, 100000, &at);
    cr_expect(w <= 2.0, "log1pf worst %.3f ulp at %a (tiny)", w, at);
}

Test(mathf, erff_absolute_error)
{
    double worst = 0;
    for (int i = 0; i <= 200000; i++) {
        float x = -6.0f + 12.0f * (float)i / 200000.0f;
        double e = fabs((double)rt_erff(x) - erf(x));
        if (e > worst) worst = e;
    }
    cr_expect(worst <= 2e-7, "erff worst abs error %g", worst);
    cr_expect(rt_erff(0.0f) == 0.0f);
    cr_expect(rt_erff(10.0f) == 1.0f && rt_erff(-10.0f) == -1.0f);
}
