/*
 * test_synth.c — the synthetic sets: reproducible, exactly balanced, and
 * each lying on the geometry it promises (checked with noise 0 against the
 * formulas), plus the machine-independent log/sin/cos against libm.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "synth.h"

static rt_dataset make(const char *kind, int64_t n, int classes, double noise, uint64_t seed)
{
    rt_dataset ds;
    rt_error err;
    cr_assert(rt_synth(kind, n, classes, noise, seed, &ds, &err), "%s", err.msg);
    return ds;
}

Test(synth, own_log_sin_cos_agree_with_libm)
{
    for (double x = 1e-300; x < 1e300; x *= 3.7)
        cr_expect(fabs(rt_synth_log(x) - log(x)) <= 4e-16 * fmax(1.0, fabs(log(x))),
                  "log(%g): %.17g vs %.17g", x, rt_synth_log(x), log(x));
    for (double x = 0.5; x < 2.0; x += 0.001)
        cr_expect(fabs(rt_synth_log(x) - log(x)) <= 1e-16 + 4e-16 * fabs(log(x)));
    for (double x = -30.0; x <= 30.0; x += 0.0137) {
        cr_expect(fabs(rt_synth_sin(x) - sin(x)) < 1e-14, "sin(%g)", x);
        cr_expect(fabs(rt_synth_cos(x) - cos(x)) < 1e-14, "cos(%g)", x);
    }
}

Test(synth, reproducible_and_seed_dependent)
{
    const char *kinds[] = { "blobs", "spirals", "moons", "xor", "circles" };
    for (int k = 0; k < 5; k++) {
        rt_dataset a = make(kinds[k], 300, 0, 0.1, 5);
        rt_dataset b = make(kinds[k], 300, 0, 0.1, 5);
        rt_dataset c = make(kinds[k], 300, 0, 0.1, 6);
        cr_expect_eq(memcmp(a.x_f32, b.x_f32, 600 * sizeof(float)), 0, "%s", kinds[k]);
        cr_expect_eq(memcmp(a.labels, b.labels, 300 * sizeof(int32_t)), 0);
        cr_expect_neq(memcmp(a.x_f32, c.x_f32, 600 * sizeof(float)), 0, "%s", kinds[k]);
        rt_dataset_free(&a);
        rt_dataset_free(&b);
        rt_dataset_free(&c);
    }
}

Test(synth, shape_and_exact_balance)
{
    const char *kinds[] = { "blobs", "spirals", "circles" };
    for (int k = 0; k < 3; k++) {
        rt_dataset ds = make(kinds[k], 101, 3, -1, 1);
        cr_expect_eq(ds.n, 101);
        cr_expect_eq(ds.shape.ndim, 1);
        cr_expect_eq(ds.shape.dims[0], 2);
        cr_expect_eq(ds.features, 2);
        cr_expect_eq(ds.classes, 3);
        cr_expect_str_eq(ds.class_names[2], "2");
        int count[3] = { 0 };
        for (int i = 0; i < 101; i++) count[ds.labels[i]]++;
        cr_expect(count[0] == 34 && count[1] == 34 && count[2] == 33, "%s: %d %d %d",
                  kinds[k], count[0], count[1], count[2]);
        rt_dataset_free(&ds);
    }
    rt_dataset m = make("moons", 10, 0, -1, 1);
    cr_expect_eq(m.classes, 2);
    rt_dataset_free(&m);
    rt_dataset b = make("blobs", 9, 0, -1, 1);
    cr_expect_eq(b.classes, 3);
    rt_dataset_free(&b);
}

Test(synth, blobs_geometry_and_noise)
{
    /* noise 0: every point of a class sits on its centre, inside [-10, 10]^2. */
    rt_dataset z = make("blobs", 40, 4, 0.0, 3);
    for (int i = 4; i < 40; i++) {
        cr_expect_float_eq(z.x_f32[2 * i], z.x_f32[2 * (i % 4)], 0);
        cr_expect_float_eq(z.x_f32[2 * i + 1], z.x_f32[2 * (i % 4) + 1], 0);
        cr_expect(fabsf(z.x_f32[2 * i]) <= 10.0f);
    }
    /* noise 2: the spread around each class's own sample mean is a normal
     * with std 2 (the polar method's output); 20000 samples give the std
     * to about 0.5%, so 3% is a safe bound that still catches a wrong scale. */
    rt_dataset n = make("blobs", 40000, 2, 2.0, 3);
    for (int c = 0; c < 2; c++) {
        double s = 0, s2 = 0;
        int cnt = 0;
        for (int i = c; i < 40000; i += 2) {
            double d = n.x_f32[2 * i];
            s += d;
            s2 += d * d;
            cnt++;
        }
        double mean = s / cnt, sd = sqrt(s2 / cnt - mean * mean);
        cr_expect(fabs(sd - 2.0) < 0.06, "class %d: std %g", c, sd);
    }
    rt_dataset_free(&z);
    rt_dataset_free(&n);
}

Test(synth, moons_on_their_half_circles)
{
    rt_dataset ds = make("moons", 200, 2, 0.0, 9);
    for (int i = 0; i < 200; i++) {
        double x = ds.x_f32[2 * i], y = ds.x_f32[2 * i + 1];
        if (ds.labels[i] == 0) {
            cr_expect(fabs(x * x + y * y - 1.0) < 1e-6 && y >= -1e-7, "(%g, %g)", x, y);
        } else {
            double u = 1.0 - x, v = 0.5 - y;
            cr_expect(fabs(u * u + v * v - 1.0) < 1e-6 && v >= -1e-7, "(%g, %g)", x, y);
        }
    }
    rt_dataset_free(&ds);
}

Test(synth, circles_on_their_rings)
{
    rt_dataset ds = make("circles", 300, 3, 0.0, 2);
    for (int i = 0; i < 300; i++) {
        double r = hypot(ds.x_f32[2 * i], ds.x_f32[2 * i + 1]);
        cr_expect(fabs(r - (ds.labels[i] + 1) / 3.0) < 1e-6, "r %g class %d", r, ds.labels[i]);
    }
    rt_dataset_free(&ds);
}

Test(synth, xor_quadrants)
{
    rt_dataset ds = make("xor", 400, 2, 0.0, 4);
    int quad[4] = { 0 };
    for (int i = 0; i < 400; i++) {
        float x = ds.x_f32[2 * i], y = ds.x_f32[2 * i + 1];
        cr_expect((x * y > 0) == (ds.labels[i] == 0), "(%g, %g) class %d", x, y, ds.labels[i]);
        cr_expect(fabsf(x) <= 1.0f && fabsf(y) <= 1.0f);
        quad[(x > 0) * 2 + (y > 0)]++;
    }
    for (int q = 0; q < 4; q++) cr_expect(quad[q] > 60, "quadrant %d has %d", q, quad[q]);
    rt_dataset_free(&ds);
}

Test(synth, spirals_radius_grows_along_the_arm)
{
    rt_dataset ds = make("spirals", 90, 3, 0.0, 1);
    for (int i = 0; i < 90; i++) {
        double r = hypot(ds.x_f32[2 * i], ds.x_f32[2 * i + 1]);
        cr_expect(fabs(r - (i / 3) / 30.0) < 1e-6, "example %d: r %g", i, r);
    }
    rt_dataset_free(&ds);
}

Test(synth, errors)
{
    rt_dataset ds;
    rt_error err;
    cr_expect_not(rt_synth("moons", 100, 3, 0.1, 1, &ds, &err));
    cr_expect_str_eq(err.msg, "moons: classes must be 2, got 3");
    cr_expect_not(rt_synth("swirls", 100, 2, 0.1, 1, &ds, &err));
    cr_expect(strstr(err.msg, "unknown synthetic data set 'swirls'"), "%s", err.msg);
    cr_expect_not(rt_synth("blobs", 2, 3, 0.1, 1, &ds, &err));
    cr_expect(strstr(err.msg, "n must be at least"), "%s", err.msg);
    cr_expect_not(rt_synth("circles", 10, 2, NAN, 1, &ds, &err));
    cr_expect(strstr(err.msg, "noise"), "%s", err.msg);
    cr_expect_null(ds.x_f32);
    const char *name, *doc;
    int k = 0;
    while (rt_synth_kind(k, &name, &doc)) k++;
    cr_expect_eq(k, 5);
}
