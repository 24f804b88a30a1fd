/*
 * test_gemm.c — rt_gemm_f32 is bit-identical to the reference chain.
 *
 * The contract (gemm.h) is bitwise, so the main checks are memcmp against
 * rt_gemm_ref_f32 over all four transposition cases, beta on and off,
 * shapes that hit every edge of the tiling (1x1x1, primes, k = 0, k longer
 * than one k chunk, the study network's shapes) and leading dimensions
 * larger than the rows (the padding must stay untouched). Each SIMD level
 * the machine has is forced in turn, and 1, 2 and 3 threads must agree.
 * A separate check in double precision shows the reference itself computes
 * the right numbers, so "identical to the reference" means "right".
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"
#include "gemm.h"
#include "pool.h"

/* A small deterministic generator (xorshift), independent of runtime/rng. */
static float rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    /* Uniform in [-1, 1) with a spread of exponents, so roundings differ. */
    float u = (float)((*s >> 40) & 0xffffff) / 16777216.0f * 2.0f - 1.0f;
    return (*s & 7) == 0 ? u * 1e-3f : u;
}

static float *rnd_matrix(long count, uint64_t *s)
{
    float *x = malloc((size_t)(count ? count : 1) * sizeof *x);
    cr_assert(x);
    for (long i = 0; i < count; i++) x[i] = rnd(s);
    return x;
}

typedef struct shape {
    int m, n, k;
} shape;

/* Shapes chosen to cross tile edges (scalar 4x8, AVX2 6x16, AVX-512 8x32),
 * the k chunk (256), and the study network (batch 100, 784-50-50-10). */
static const shape edge_shapes[] = {
    {1, 1, 1},    {1, 1, 7},    {7, 13, 5},   {5, 7, 13},   {6, 16, 3},
    {8, 32, 9},   {13, 17, 19}, {31, 37, 41}, {3, 97, 2},   {97, 3, 11},
    {12, 48, 1},  {33, 65, 300}, {9, 33, 600}, {2, 2, 513},  {17, 1, 257},
    {1, 40, 29},
};
static const shape study_shapes[] = {
    {100, 50, 784}, {784, 50, 100}, {100, 784, 50}, {100, 50, 50},
    {100, 10, 50},  {50, 50, 100},  {50, 10, 100},  {100, 50, 10},
    {10, 50, 100},
};

/* Runs one case on every SIMD level the machine has (NULL pool) and, on the
 * selected level, with each pool; compares whole C buffers, padding
 * included, with the reference. */
static void check_case(rt_pool **pools, int npools, bool ta, bool tb, shape s,
                       int pad, bool beta, uint64_t seed)
{
    int arows = ta ? s.k : s.m, acols = ta ? s.m : s.k;
    int brows = tb ? s.n : s.k, bcols = tb ? s.k : s.n;
    int lda = acols + pad, ldb = bcols + 2 * pad, ldc = s.n + pad;
    long csize = (long)s.m * ldc;
    float *a = rnd_matrix((long)arows * lda, &seed);
    float *b = rnd_matrix((long)brows * ldb, &seed);
    float *c0 = rnd_matrix(csize, &seed);
    float *ref = malloc((size_t)(csize ? csize : 1) * sizeof *ref);
    float *got = malloc((size_t)(csize ? csize : 1) * sizeof *got);
    cr_assert(ref && got);
    memcpy(ref, c0, (size_t)csize * sizeof *ref);
    rt_gemm_ref_f32(ta, tb, s.m, s.n, s.k, a, lda, b, ldb, beta, ref, ldc);

    for (int level = 0; level < RT_SIMD_COUNT; level++) {
        if (!rt_cpu_has((rt_simd)level)) continue;
        memcpy(got, c0, (size_t)csize * sizeof *got);
        rt_gemm_f32_simd(NULL, (rt_simd)level, ta, tb, s.m, s.n, s.k, a, lda, b, ldb,
                         beta, got, ldc);
        cr_assert(memcmp(got, ref, (size_t)csize * sizeof *got) == 0,
                  "%s: ta=%d tb=%d %dx%dx%d pad=%d beta=%d differs from reference",
                  rt_simd_name((rt_simd)level), ta, tb, s.m, s.n, s.k, pad, beta);
    }
    for (int q = 0; q < npools; q++) {
        memcpy(got, c0, (size_t)csize * sizeof *got);
        rt_gemm_f32(pools[q], ta, tb, s.m, s.n, s.k, a, lda, b, ldb, beta, got, ldc);
        cr_assert(memcmp(got, ref, (size_t)csize * sizeof *got) == 0,
                  "%d threads: ta=%d tb=%d %dx%dx%d pad=%d beta=%d differs from reference",
                  rt_pool_threads(pools[q]), ta, tb, s.m, s.n, s.k, pad, beta);
    }
    free(a);
    free(b);
    free(c0);
    free(ref);
    free(got);
}

static void check_shapes(const shape *shapes, int count, int pad)
{
    rt_pool *pools[3] = {rt_pool_create(1), rt_pool_create(2), rt_pool_create(3)};
    cr_assert(pools[0] && pools[1] && pools[2]);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < count; i++)
        for (int t = 0; t < 4; t++)
            for (int beta = 0; beta < 2; beta++)
                check_case(pools, 3, t & 1, t >> 1, shapes[i], pad, beta, seed + (uint64_t)i * 8 + (uint64_t)t * 2 + (uint64_t)beta);
    for (int q = 0; q < 3; q++) rt_pool_destroy(pools[q]);
}

Test(gemm, edge_shapes_all_layouts_bitwise)
{
    check_shapes(edge_shapes, (int)(sizeof edge_shapes / sizeof *edge_shapes), 0);
}

Test(gemm, leading_dimensions_larger_than_rows)
{
    /* Padding 3 (odd, breaks every alignment) and 16; padding must survive. */
    check_shapes(edge_shapes, (int)(sizeof edge_shapes / sizeof *edge_shapes), 3);
    check_shapes(edge_shapes, 6, 16);
}

Test(gemm, study_shapes_all_layouts_bitwise)
{
    check_shapes(study_shapes, (int)(sizeof study_shapes / sizeof *study_shapes), 0);
}

/* Every edge tile: m past one and two row tiles of 8, n past one and two
 * column panels (16 and 32 wide on AVX-512, whose edge tiles are k-masked
 * in place rather than run on a scratch tile), k within one chunk and
 * across two (the second chunk loads the partial sums back), all four
 * layouts, beta on and off, padded C (the padding must stay untouched). */
Test(gemm, every_edge_tile_bitwise)
{
    static const int ks[] = {5, 260};
    uint64_t seed = 0x243f6a8885a308d3ull;
    for (int m = 1; m <= 17; m++)
        for (int n = 1; n <= 70; n++)
            for (int ki = 0; ki < 2; ki++)
                for (int t = 0; t < 4; t++)
                    check_case(NULL, 0, t & 1, t >> 1, (shape){m, n, ks[ki]}, 3,
                               (m + n + t) % 2 == 0, seed++);
}

Test(gemm, k_zero_gives_beta_or_zero)
{
    float c[6] = {1, -2, 3, -4, 5, -6}, keep[6];
    memcpy(keep, c, sizeof c);
    float dummy = 7;
    rt_gemm_f32(NULL, false, false, 2, 3, 0, &dummy, 1, &dummy, 3, true, c, 3);
    cr_assert(memcmp(c, keep, sizeof c) == 0, "beta with k = 0 must keep C");
    rt_gemm_f32(NULL, true, true, 2, 3, 0, &dummy, 2, &dummy, 1, false, c, 3);
    for (int i = 0; i < 6; i++)
        cr_assert(c[i] == 0.0f && !signbit(c[i]), "k = 0 without beta gives +0");
}

Test(gemm, empty_m_or_n_touches_nothing)
{
    float c[4] = {1, 2, 3, 4}, a[4] = {1, 1, 1, 1};
    rt_gemm_f32(NULL, false, false, 0, 2, 2, a, 2, a, 2, false, c, 2);
    rt_gemm_f32(NULL, false, false, 2, 0, 2, a, 2, a, 2, false, c, 2);
    cr_assert(c[0] == 1 && c[1] == 2 && c[2] == 3 && c[3] == 4);
}

Test(gemm, signed_zeros_and_subnormals_bitwise)
{
    /* -0 products on a +0 start, subnormal products, cancellation to zero:
     * the places where a reordered or unfused sum would show. */
    enum { M = 7, N = 19, K = 9 };
    float a[M * K], b[K * N], c[M * N], ref[M * N];
    for (int i = 0; i < M * K; i++) a[i] = (i % 3 == 0) ? -0.0f : (i % 3 == 1 ? 1e-20f : -1.5f);
    for (int i = 0; i < K * N; i++) b[i] = (i % 4 == 0) ? 0.0f : (i % 4 == 1 ? 1e-20f : 1.5f);
    for (int level = 0; level < RT_SIMD_COUNT; level++) {
        if (!rt_cpu_has((rt_simd)level)) continue;
        for (int beta = 0; beta < 2; beta++) {
            for (int i = 0; i < M * N; i++) c[i] = ref[i] = (i & 1) ? -0.0f : 2.25f;
            rt_gemm_ref_f32(false, false, M, N, K, a, K, b, N, beta, ref, N);
            rt_gemm_f32_simd(NULL, (rt_simd)level, false, false, M, N, K, a, K, b, N, beta, c, N);
            cr_assert(memcmp(c, ref, sizeof c) == 0, "%s beta=%d", rt_simd_name((rt_simd)level), beta);
        }
    }
}

Test(gemm, reference_is_right_in_double)
{
    /* The reference against an independent double-precision product: the
     * float chain may differ by rounding only, bounded by k ulps of the sum
     * of |terms| (a standard forward error bound for recursive summation). */
    uint64_t seed = 12345;
    const shape shapes[] = {{7, 13, 5}, {100, 50, 784}, {31, 37, 41}, {1, 1, 1}};
    for (int si = 0; si < 4; si++)
        for (int t = 0; t < 4; t++) {
            shape s = shapes[si];
            bool ta = t & 1, tb = t >> 1;
            int lda = ta ? s.m : s.k, ldb = tb ? s.k : s.n;
            float *a = rnd_matrix((long)s.m * s.k, &seed);
            float *b = rnd_matrix((long)s.k * s.n, &seed);
            float *c = rnd_matrix((long)s.m * s.n, &seed);
            float *c0 = malloc((size_t)s.m * s.n * sizeof *c0);
            cr_assert(c0);
            memcpy(c0, c, (size_t)s.m * s.n * sizeof *c);
            rt_gemm_f32(NULL, ta, tb, s.m, s.n, s.k, a, lda, b, ldb, true, c, s.n);
            for (int i = 0; i < s.m; i++)
                for (int j = 0; j < s.n; j++) {
                    double sum = c0[(long)i * s.n + j], mag = fabs(sum);
                    for (int p = 0; p < s.k; p++) {
                        double x = ta ? a[(long)p * lda + i] : a[(long)i * lda + p];
                        double y = tb ? b[(long)j * ldb + p] : b[(long)p * ldb + j];
                        sum += x * y;
                        mag += fabs(x * y);
                    }
                    double err = fabs((double)c[(long)i * s.n + j] - sum);
                    cr_assert(err <= (s.k + 1) * 0x1p-24 * mag + 1e-30,
                              "c[%d][%d] = %.9g, double gives %.9g (ta=%d tb=%d %dx%dx%d)",
                              i, j, c[(long)i * s.n + j], sum, ta, tb, s.m, s.n, s.k);
                }
            free(a);
            free(b);
            free(c);
            free(c0);
        }
}

Test(gemm, simd_names_round_trip)
{
    for (int i = 0; i < RT_SIMD_COUNT; i++) {
        rt_simd got;
        cr_assert(rt_simd_parse(rt_simd_name((rt_simd)i), &got) && got == (rt_simd)i);
    }
    rt_simd dummy;
    cr_assert(!rt_simd_parse("avx1024", &dummy));
    cr_assert(rt_cpu_has(RT_SIMD_SCALAR), "the scalar path runs everywhere");
    cr_assert(rt_cpu_simd() <= rt_cpu_detect(), "MLP_SIMD can only lower the level");
}

Test(gemm, neon_and_x86_levels_are_separate_families)
{
    /* scalar everywhere; neon only on aarch64, the x86 levels never there */
#if defined(__aarch64__)
    cr_assert(rt_cpu_detect() == RT_SIMD_NEON && rt_cpu_has(RT_SIMD_NEON));
    cr_assert(!rt_cpu_has(RT_SIMD_AVX2) && !rt_cpu_has(RT_SIMD_AVX512));
#else
    cr_assert(!rt_cpu_has(RT_SIMD_NEON), "no NEON on %s", rt_simd_name(rt_cpu_detect()));
#endif
    rt_simd got;
    cr_assert(rt_simd_parse("neon", &got) && got == RT_SIMD_NEON);
    /* a level of the other family computes too, on the machine's best */
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {0.5f, -1, 2, 0.25f, 3, -0.125f};
    float c[4], ref[4];
    rt_gemm_ref_f32(false, false, 2, 2, 3, a, 3, b, 2, false, ref, 2);
#if defined(__aarch64__)
    rt_gemm_f32_simd(NULL, RT_SIMD_AVX2, false, false, 2, 2, 3, a, 3, b, 2, false, c, 2);
#else
    rt_gemm_f32_simd(NULL, RT_SIMD_NEON, false, false, 2, 2, 3, a, 3, b, 2, false, c, 2);
#endif
    cr_assert(memcmp(c, ref, sizeof c) == 0);
}

Test(gemm, unavailable_level_falls_back)
{
    /* Asking for a level beyond the machine's must still compute, with the
     * same bits (it runs the best level available). */
    float a[6] = {1, 2, 3, 4, 5, 6}, b[6] = {0.5f, -1, 2, 0.25f, 3, -0.125f};
    float c[4], ref[4];
    rt_gemm_ref_f32(false, false, 2, 2, 3, a, 3, b, 2, false, ref, 2);
    rt_gemm_f32_simd(NULL, RT_SIMD_AVX512, false, false, 2, 2, 3, a, 3, b, 2, false, c, 2);
    cr_assert(memcmp(c, ref, sizeof c) == 0);
    cr_assert(ref[0] == 1 * 0.5f + 2 * 2 + 3 * 3, "hand-computed: 13.5, got %g", ref[0]);
}

/* AVX-512's whole-row kernel (n <= 64, one thread): every n up to past 64
 * (1..70: each count of vectors, each last-vector mask, and n > 64 going
 * back to the tiles), m past every block of rows (8, 6 or 4 by the vector
 * count) up to 130, k from 1 to past the B^T buffer (256) and the tiled
 * path's k chunk, all four layouts, beta on and off, padded leading
 * dimensions (the padding must stay untouched). Each level is compared
 * with the reference, so scalar, AVX2 and AVX-512 agree. */
Test(gemm, whole_row_kernel_every_small_n_bitwise)
{
    static const int ms[] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 13, 17, 63, 65, 100, 101, 130};
    static const int ks[] = {1, 7, 16, 50};
    static const int long_ks[] = {100, 256, 257, 300};
    static const int long_ms[] = {1, 9, 100};
    uint64_t seed = 0x13198a2e03707344ull;
    for (int n = 1; n <= 70; n++)
        for (int t = 0; t < 4; t++) {
            for (int mi = 0; mi < (int)(sizeof ms / sizeof *ms); mi++)
                for (int ki = 0; ki < (int)(sizeof ks / sizeof *ks); ki++)
                    check_case(NULL, 0, t & 1, t >> 1, (shape){ms[mi], n, ks[ki]}, (mi + ki) % 3,
                               (mi + ki + n + t) % 2 == 0, seed++);
            for (int mi = 0; mi < (int)(sizeof long_ms / sizeof *long_ms); mi++)
                for (int ki = 0; ki < (int)(sizeof long_ks / sizeof *long_ks); ki++)
                    check_case(NULL, 0, t & 1, t >> 1, (shape){long_ms[mi], n, long_ks[ki]}, 3,
                               (mi + ki + n + t) % 2 == 0, seed++);
        }
}
