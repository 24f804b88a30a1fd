/*
 * test_dataset.c — dataset operations checked against hand calculations:
 * take, split, shuffle, normalisation statistics, gather and one-hot, and
 * the data generator's determinism.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "dataset.h"

/* 4 examples of 3 features, float: row i is {i, 10*i, 5}; labels 0 1 2 0. */
static rt_dataset small_f32(void)
{
    rt_dataset ds;
    rt_error err;
    cr_assert(rt_dataset_alloc(&ds, 4, &(rt_shape){ 1, { 3 } }, false, 1.0f, 3, &err), "%s", err.msg);
    for (int i = 0; i < 4; i++) {
        ds.x_f32[3 * i] = (float)i;
        ds.x_f32[3 * i + 1] = 10.0f * i;
        ds.x_f32[3 * i + 2] = 5.0f;
        ds.labels[i] = i % 3;
    }
    cr_assert(rt_dataset_set_class_names(&ds, (const char *const[]){ "a", "b", "c" }, &err));
    return ds;
}

/* 5 examples of 2x2 bytes: example i has pixels 10i + {0,1,2,3}; scale 1/255. */
static rt_dataset small_u8(void)
{
    rt_dataset ds;
    rt_error err;
    cr_assert(rt_dataset_alloc(&ds, 5, &(rt_shape){ 2, { 2, 2 } }, true, 1.0f / 255.0f, 2, &err), "%s", err.msg);
    for (int i = 0; i < 5; i++) {
        for (int j = 0; j < 4; j++) ds.x_u8[4 * i + j] = (uint8_t)(10 * i + j);
        ds.labels[i] = i & 1;
    }
    return ds;
}

Test(dataset, alloc_shape_and_free_twice)
{
    rt_dataset ds = small_u8();
    cr_expect_eq(ds.features, 4);
    cr_expect_eq(ds.shape.ndim, 2);
    cr_expect_null(ds.x_f32);
    rt_dataset_free(&ds);
    rt_dataset_free(&ds);
    cr_expect_null(ds.x_u8);
    rt_error err;
    cr_expect_not(rt_dataset_alloc(&ds, 3, &(rt_shape){ 1, { 0 } }, false, 1.0f, 0, &err));
}

Test(dataset, onehot)
{
    int32_t lab[3] = { 2, 0, 1 };
    float y[9];
    rt_onehot(lab, 3, 3, y);
    const float want[9] = { 0, 0, 1,  1, 0, 0,  0, 1, 0 };
    cr_expect_arr_eq(y, want, sizeof want);
}

Test(dataset, gather_f32_and_u8)
{
    rt_dataset f = small_f32();
    int64_t idx[2] = { 3, 1 };
    float x[6], y[6];
    rt_dataset_gather(&f, idx, 2, x, y);
    const float wx[6] = { 3, 30, 5,  1, 10, 5 };
    const float wy[6] = { 1, 0, 0,  0, 1, 0 };
    cr_expect_arr_eq(x, wx, sizeof wx);
    cr_expect_arr_eq(y, wy, sizeof wy);
    rt_dataset_free(&f);

    rt_dataset u = small_u8();
    int64_t k[1] = { 4 };
    float xu[4], yu[2];
    rt_dataset_gather(&u, k, 1, xu, yu);
    for (int j = 0; j < 4; j++) cr_expect_float_eq(xu[j], (40 + j) / 255.0f, 1e-7);
    cr_expect_float_eq(yu[0], 1.0f, 0);   /* example 4 has label 0 */
    cr_expect_float_eq(yu[1], 0.0f, 0);
    rt_dataset_free(&u);
}

Test(dataset, take)
{
    rt_dataset f = small_f32(), t;
    rt_error err;
    cr_assert(rt_dataset_take(&f, 2, &t, &err), "%s", err.msg);
    cr_expect_eq(t.n, 2);
    cr_expect_eq(t.classes, 3);
    cr_expect_float_eq(t.x_f32[3], 1.0f, 0);
    cr_expect_eq(t.labels[1], 1);
    cr_expect_str_eq(t.class_names[2], "c");
    cr_expect_neq(t.x_f32, f.x_f32, "a copy, not a view");
    rt_dataset_free(&t);
    cr_expect_not(rt_dataset_take(&f, 5, &t, &err));
    cr_expect(strstr(err.msg, "take: asked for 5 examples, the data set has 4"), "%s", err.msg);
    rt_dataset_free(&f);
}

Test(dataset, split)
{
    rt_dataset u = small_u8(), a, b;
    rt_error err;
    cr_assert(rt_dataset_split(&u, 0.6, &a, &b, &err), "%s", err.msg);
    cr_expect_eq(a.n, 3);   /* round(0.6 * 5) */
    cr_expect_eq(b.n, 2);
    cr_expect_eq(a.x_u8[4], 10);
    cr_expect_eq(b.x_u8[0], 30);
    cr_expect_eq(b.labels[1], 0);
    cr_expect_eq(b.shape.ndim, 2);
    cr_expect_float_eq(b.x_scale, 1.0f / 255.0f, 0);
    rt_dataset_free(&a);
    rt_dataset_free(&b);
    cr_expect_not(rt_dataset_split(&u, 1.0, &a, &b, &err));
    cr_expect(strstr(err.msg, "between 0 and 1"), "%s", err.msg);
    cr_expect_not(rt_dataset_split(&u, 0.01, &a, &b, &err));
    cr_expect(strstr(err.msg, "empty"), "%s", err.msg);
    rt_dataset_free(&u);
}

Test(dataset, shuffle_is_a_permutation_and_deterministic)
{
    rt_dataset a = small_u8(), b = small_u8();
    rt_error err;
    cr_assert(rt_dataset_shuffle(&a, 42, &err));
    cr_assert(rt_dataset_shuffle(&b, 42, &err));
    cr_expect_arr_eq(a.x_u8, b.x_u8, 20);
    /* Rows stay whole and keep their labels: row r came from example
     * x_u8[4r] / 10, whose label is that example's parity. */
    int seen = 0;
    for (int r = 0; r < 5; r++) {
        int src = a.x_u8[4 * r] / 10;
        for (int j = 0; j < 4; j++) cr_expect_eq(a.x_u8[4 * r + j], 10 * src + j);
        cr_expect_eq(a.labels[r], src & 1);
        seen |= 1 << src;
    }
    cr_expect_eq(seen, 31);
    rt_dataset_free(&a);
    rt_dataset_free(&b);
}

Test(dataset, generator_reference_values)
{
    /* splitmix64 from seed 0: the first outputs as published with the
     * algorithm (Vigna's reference splitmix64.c). */
    rt_drng g = rt_drng_seed(0);
    cr_expect_eq(rt_drng_next(&g), 0xe220a8397b1dcdafull);
    cr_expect_eq(rt_drng_next(&g), 0x6e789e6aa1b965f4ull);
    cr_expect_eq(rt_drng_next(&g), 0x06c45d188009454full);
    for (int i = 0; i < 1000; i++) {
        cr_expect_lt(rt_drng_below(&g, 7), 7u);
        double u = rt_drng_uniform(&g);
        cr_expect(u >= 0.0 && u < 1.0);
    }
}

Test(dataset, permutation_is_uniform_enough)
{
    /* Each of the 6 orders of 3 items should come up ~1/6 of the time. */
    int count[3][3] = { { 0 } };
    rt_drng g = rt_drng_seed(7);
    int64_t p[3];
    for (int t = 0; t < 60000; t++) {
        rt_drng_permutation(&g, p, 3);
        for (int i = 0; i < 3; i++) count[i][p[i]]++;
    }
    for (int i = 0; i < 3; i++)
        for (int j = 0; j < 3; j++)
            cr_expect(abs(count[i][j] - 20000) < 600, "position %d value %d: %d", i, j,
                      count[i][j]);
}

Test(dataset, normalize_statistics_by_hand)
{
    /* Feature 0 is 0,1,2,3: mean 1.5, population variance
     * (2.25 + 0.25 + 0.25 + 2.25) / 4 = 1.25. Feature 1 is ten times that.
     * Feature 2 is constant 5: std 0, so it becomes 0, not NaN. */
    rt_dataset tr = small_f32();
    rt_dataset te = small_f32();
    te.x_f32[0] = 4.0f;
    double mean[3], std[3];
    rt_error err;
    cr_assert(rt_dataset_feature_stats(&tr, mean, std, &err));
    cr_expect_float_eq(mean[0], 1.5, 1e-12);
    cr_expect_float_eq(std[0], sqrt(1.25), 1e-12);
    cr_expect_float_eq(mean[1], 15.0, 1e-12);
    cr_expect_float_eq(std[1], 10.0 * sqrt(1.25), 1e-12);
    cr_expect_float_eq(std[2], 0.0, 0);
    cr_assert(rt_dataset_normalize(&tr, &te, &err), "%s", err.msg);
    cr_expect_float_eq(tr.x_f32[0], (float)(-1.5 / sqrt(1.25)), 1e-6);
    cr_expect_float_eq(tr.x_f32[10], (float)(15.0 / (10 * sqrt(1.25))), 1e-6);
    cr_expect_float_eq(tr.x_f32[2], 0.0f, 0);
    /* The test part uses the training statistics, not its own. */
    cr_expect_float_eq(te.x_f32[0], (float)((4.0 - 1.5) / sqrt(1.25)), 1e-6);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
}

Test(dataset, normalize_u8_converts_to_float)
{
    /* Pixel j of example i is (10i + j)/255: per-feature mean (20 + j)/255,
     * population std sqrt(mean of (10(i-2))^2) / 255 = sqrt(200)/255. */
    rt_dataset u = small_u8();
    rt_error err;
    cr_assert(rt_dataset_normalize(&u, NULL, &err), "%s", err.msg);
    cr_expect_null(u.x_u8);
    cr_assert_not_null(u.x_f32);
    cr_expect_float_eq(u.x_scale, 1.0f, 0);
    for (int i = 0; i < 5; i++)
        for (int j = 0; j < 4; j++)
            cr_expect_float_eq(u.x_f32[4 * i + j], (float)(10.0 * (i - 2) / sqrt(200.0)), 1e-5);
    rt_dataset_free(&u);
}

Test(dataset, normalize_feature_mismatch)
{
    rt_dataset f = small_f32(), u = small_u8();
    rt_error err;
    cr_expect_not(rt_dataset_normalize(&f, &u, &err));
    cr_expect(strstr(err.msg, "3 and 4 features"), "%s", err.msg);
    rt_dataset_free(&f);
    rt_dataset_free(&u);
}

Test(dataset, epoch_order)
{
    enum { N = 50 };
    int64_t a[N], b[N], c[N];
    rt_dataset_epoch_order(777, 3, a, N);
    rt_dataset_epoch_order(777, 3, b, N);
    rt_dataset_epoch_order(777, 4, c, N);
    cr_expect_arr_eq(a, b, sizeof a);
    cr_expect_neq(memcmp(a, c, sizeof a), 0, "epochs differ");
    int seen[N] = { 0 };
    for (int i = 0; i < N; i++) seen[a[i]]++;
    for (int i = 0; i < N; i++) cr_expect_eq(seen[i], 1);
}
