/*
 * test_rng.c — Philox known answers, stream independence, reproducibility,
 * and the samplers' distributions.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "rng.h"

/* Known-answer vectors of Philox4x32-10 from the Random123 distribution
 * (kat_vectors): counter, key -> output. */
Test(rng, philox_known_answers)
{
    static const struct { uint32_t ctr[4], key[2], out[4]; } kat[] = {
        {{0, 0, 0, 0}, {0, 0}, {0x6627e8d5, 0xe169c58d, 0xbc57ac4c, 0x9b00dbd8}},
        {{0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff}, {0xffffffff, 0xffffffff},
         {0x408f276d, 0x41c83b0e, 0xa20bc7c6, 0x6d5451fd}},
        {{0x243f6a88, 0x85a308d3, 0x13198a2e, 0x03707344}, {0xa4093822, 0x299f31d0},
         {0xd16cfe09, 0x94fdcceb, 0x5001e420, 0x24126ea1}},
    };
    for (size_t i = 0; i < sizeof kat / sizeof kat[0]; i++) {
        uint32_t out[4];
        rt_philox4x32(kat[i].ctr, kat[i].key, out);
        for (int j = 0; j < 4; j++)
            cr_expect(out[j] == kat[i].out[j], "kat %zu word %d: %08x != %08x", i, j,
                      out[j], kat[i].out[j]);
    }
}

Test(rng, same_seed_same_stream_reproduces)
{
    rt_rng a, b;
    rt_rng_init(&a, 777, RT_STREAM_INIT);
    rt_rng_init(&b, 777, RT_STREAM_INIT);
    for (int i = 0; i < 1000; i++) cr_assert(rt_rng_u32(&a) == rt_rng_u32(&b));
}

Test(rng, saved_state_restores_by_value)
{
    rt_rng a;
    rt_rng_init(&a, 5, 9);
    for (int i = 0; i < 7; i++) rt_rng_normal(&a);      /* mid-block, spare pending */
    rt_rng saved = a;
    float first[50];
    for (int i = 0; i < 50; i++) first[i] = i % 2 ? rt_rng_normal(&a) : rt_rng_uniform(&a);
    a = saved;
    for (int i = 0; i < 50; i++) {
        float v = i % 2 ? rt_rng_normal(&a) : rt_rng_uniform(&a);
        cr_assert(memcmp(&v, &first[i], sizeof v) == 0, "draw %d differs after restore", i);
    }
}

Test(rng, streams_are_independent)
{
    /* Drawing from one stream does not move another, and different stream
     * ids / seeds give different, uncorrelated sequences. */
    rt_rng s1, s2, s2_alone;
    rt_rng_init(&s1, 42, RT_STREAM_SHUFFLE);
    rt_rng_init(&s2, 42, RT_STREAM_DROPOUT);
    rt_rng_init(&s2_alone, 42, RT_STREAM_DROPOUT);
    for (int i = 0; i < 333; i++) rt_rng_u32(&s1);
    for (int i = 0; i < 100; i++) cr_assert(rt_rng_u32(&s2) == rt_rng_u32(&s2_alone));

    rt_rng a, b, c;
    rt_rng_init(&a, 42, 1);
    rt_rng_init(&b, 42, 2);
    rt_rng_init(&c, 43, 1);
    int same_ab = 0, same_ac = 0;
    double sab = 0;
    const int n = 20000;
    for (int i = 0; i < n; i++) {
        uint32_t x = rt_rng_u32(&a), y = rt_rng_u32(&b), z = rt_rng_u32(&c);
        same_ab += x == y;
        same_ac += x == z;
        sab += ((double)x / 4294967296.0 - 0.5) * ((double)y / 4294967296.0 - 0.5);
    }
    cr_expect(same_ab < 3 && same_ac < 3);
    double corr = sab / n / (1.0 / 12);
    cr_expect(fabs(corr) < 0.03, "correlation %g", corr);

    rt_rng d1 = rt_rng_derive(&a, 1), d2 = rt_rng_derive(&a, 2);
    cr_expect(d1.stream != d2.stream && d1.stream != a.stream);
}

Test(rng, uniform_moments)
{
    rt_rng r;
    rt_rng_init(&r, 1, 1);
    const int n = 200000;
    double s = 0, s2 = 0;
    float lo = 1, hi = 0;
    for (int i = 0; i < n; i++) {
        float u = rt_rng_uniform(&r);
        s += u; s2 += (double)u * u;
        if (u < lo) lo = u;
        if (u > hi) hi = u;
    }
    cr_expect(lo >= 0.0f && hi < 1.0f);
    cr_expect(fabs(s / n - 0.5) < 0.005);
    cr_expect(fabs(s2 / n - s / n * (s / n) - 1.0 / 12) < 0.002);
}

Test(rng, normal_moments)
{
    rt_rng r;
    rt_rng_init(&r, 2, 1);
    const int n = 200000;
    double s = 0, s2 = 0, s4 = 0;
    int tails = 0;
    for (int i = 0; i < n; i++) {
        double z = rt_rng_normal(&r);
        s += z; s2 += z * z; s4 += z * z * z * z;
        tails += fabs(z) > 1.959964;
    }
    double mean = s / n, var = s2 / n - mean * mean;
    cr_expect(fabs(mean) < 0.01, "mean %g", mean);
    cr_expect(fabs(var - 1) < 0.015, "var %g", var);
    cr_expect(fabs(s4 / n - 3) < 0.08, "4th moment %g", s4 / n);
    cr_expect(fabs((double)tails / n - 0.05) < 0.003, "tails %g", (double)tails / n);
    for (int i = 0; i < 10000; i++) cr_assert(fabsf(rt_rng_truncated_normal(&r)) <= 2.0f);
}

Test(rng, below_is_unbiased_and_in_range)
{
    rt_rng r;
    rt_rng_init(&r, 3, 1);
    /* n = 3 * 2^30: plain modulo would give 0..2^30-1 twice the mass. */
    uint32_t n = 3u << 30;
    long low = 0, total = 300000;
    for (long i = 0; i < total; i++) {
        uint32_t v = rt_rng_below(&r, n);
        cr_assert(v < n);
        low += v < (1u << 30);
    }
    cr_expect(fabs((double)low / total - 1.0 / 3) < 0.005, "%g", (double)low / total);
    int counts[7] = {0};
    for (int i = 0; i < 70000; i++) counts[rt_rng_below(&r, 7)]++;
    for (int i = 0; i < 7; i++) cr_expect(abs(counts[i] - 10000) < 500, "bucket %d: %d", i, counts[i]);
    cr_expect(rt_rng_below(&r, 1) == 0);
}

Test(rng, shuffle_is_a_uniform_permutation)
{
    rt_rng r;
    rt_rng_init(&r, 4, RT_STREAM_SHUFFLE);
    /* every element of a 4-permutation lands in each slot 1/4 of the time */
    int pos[4][4] = {{0}};
    for (int t = 0; t < 40000; t++) {
        int32_t idx[4] = {0, 1, 2, 3};
        rt_rng_shuffle(&r, idx, 4);
        int seen = 0;
        for (int i = 0; i < 4; i++) { pos[idx[i]][i]++; seen |= 1 << idx[i]; }
        cr_assert(seen == 15);
    }
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) cr_expect(abs(pos[a][b] - 10000) < 400);
}
