/*
 * test_rowsparse.c — the sparse-input products must give the dense GEMM's
 * bits exactly (rowsparse.h explains why they can), on every SIMD path, for
 * widths that exercise every tail and more than one column block; the
 * compressed form must list exactly the nonzeros; building must give up
 * past its capacity; and a dense layer must train to the same bits whether
 * its input takes the sparse path or not.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "fit.h"
#include "gemm.h"
#include "layers.h"
#include "model.h"
#include "pool.h"
#include "rowsparse.h"
#include "tensor.h"

/* A small deterministic generator (independent of the runtime's). */
static uint32_t lcg(uint32_t *s) { return *s = *s * 1664525u + 1013904223u; }
static float unit(uint32_t *s) { return (float)(lcg(s) >> 8) / 16777216.0f; }

/* x: rows x cols with about `density` nonzeros, some of them -0.0 and
 * exact byte fractions like MNIST's. */
static void sparse_fill(float *x, long size, float density, uint32_t *s)
{
    for (long k = 0; k < size; k++) {
        float u = unit(s);
        if (u < density) x[k] = (float)(lcg(s) % 255 + 1) / 255.0f;
        else x[k] = (lcg(s) & 7) == 0 ? -0.0f : 0.0f;
        if (u < density / 3) x[k] = -x[k];
    }
}

static void fill(float *v, long size, uint32_t *s)
{
    for (long k = 0; k < size; k++) v[k] = unit(s) - 0.5f;
}

static const rt_simd paths[] = {RT_SIMD_SCALAR, RT_SIMD_AVX2, RT_SIMD_AVX512, RT_SIMD_NEON};

static void check_products(int rows, int cols, int n, float density, uint32_t seed)
{
    uint32_t s = seed;
    float *x = rt_alloc((size_t)rows * cols * sizeof(float));
    float *b = rt_alloc((size_t)cols * n * sizeof(float));
    float *d = rt_alloc((size_t)rows * n * sizeof(float));
    float *bias = rt_alloc((size_t)n * sizeof(float));
    float *ref = rt_alloc((size_t)rows * n * sizeof(float));
    float *tref = rt_alloc((size_t)cols * n * sizeof(float));
    float *got = rt_alloc((size_t)rows * n * sizeof(float));
    float *tgot = rt_alloc((size_t)cols * n * sizeof(float));
    sparse_fill(x, (long)rows * cols, density, &s);
    fill(b, (long)cols * n, &s);
    fill(d, (long)rows * n, &s);
    fill(bias, n, &s);
    /* The definition: the dense chains, then the bias in its own rounding. */
    rt_gemm_ref_f32(false, false, rows, n, cols, x, cols, b, n, false, ref, n);
    rt_gemm_ref_f32(true, false, cols, n, rows, x, cols, d, n, false, tref, n);
    rt_rowsparse sp = {0};
    cr_assert(rt_rowsparse_reserve(&sp, rows, (long)rows * cols, NULL));
    for (size_t pi = 0; pi < sizeof paths / sizeof paths[0]; pi++) {
        rt_simd simd = paths[pi];
        cr_assert(rt_rowsparse_build(&sp, simd, x, rows, cols));
        /* exactly the nonzeros, in row-major order */
        long k = 0;
        for (int i = 0; i < rows; i++) {
            cr_assert_eq(sp.start[i], k);
            for (int p = 0; p < cols; p++)
                if (x[(long)i * cols + p] != 0.0f) {
                    cr_assert_eq(sp.col[k], p);
                    cr_assert_eq(sp.val[k], x[(long)i * cols + p]);
                    k++;
                }
        }
        cr_assert_eq(sp.start[rows], k);
        memset(got, 0xff, (size_t)rows * n * sizeof(float));
        rt_rowsparse_mm(&sp, simd, NULL, b, n, NULL, got, n);
        cr_assert(memcmp(got, ref, (size_t)rows * n * sizeof(float)) == 0,
                  "S B differs from the GEMM chain (%s, %dx%dx%d)", rt_simd_name(simd), rows, cols, n);
        rt_rowsparse_mm(&sp, simd, NULL, b, n, bias, got, n);
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < n; j++) {
                float want = ref[(long)i * n + j] + bias[j];
                cr_assert(memcmp(&got[(long)i * n + j], &want, sizeof want) == 0,
                          "S B + bias at %d,%d (%s)", i, j, rt_simd_name(simd));
            }
        memset(tgot, 0xff, (size_t)cols * n * sizeof(float));
        rt_rowsparse_tmm(&sp, simd, NULL, d, n, tgot);
        cr_assert(memcmp(tgot, tref, (size_t)cols * n * sizeof(float)) == 0,
                  "S^T D differs from the GEMM chain (%s, %dx%dx%d)", rt_simd_name(simd), rows, cols, n);
        /* split across threads (rows, bands): still the same bits */
        for (int threads = 2; threads <= 3; threads++) {
            rt_pool *pool = rt_pool_create(threads);
            memset(got, 0xff, (size_t)rows * n * sizeof(float));
            memset(tgot, 0xff, (size_t)cols * n * sizeof(float));
            rt_rowsparse_mm(&sp, simd, pool, b, n, NULL, got, n);
            rt_rowsparse_tmm(&sp, simd, pool, d, n, tgot);
            cr_assert(memcmp(got, ref, (size_t)rows * n * sizeof(float)) == 0,
                      "S B with %d threads (%s)", threads, rt_simd_name(simd));
            cr_assert(memcmp(tgot, tref, (size_t)cols * n * sizeof(float)) == 0,
                      "S^T D with %d threads (%s)", threads, rt_simd_name(simd));
            rt_pool_destroy(pool);
        }
    }
    rt_rowsparse_release(&sp);
    rt_free(x); rt_free(b); rt_free(d); rt_free(bias);
    rt_free(ref); rt_free(tref); rt_free(got); rt_free(tgot);
}

Test(rowsparse, products_equal_gemm_bits_for_every_tail)
{
    /* n from 1 to 70 covers every tail of 8 and of 16 (AVX-512: a last
     * vector of at most 8 lanes goes 8 wide) and two column blocks of 64 */
    for (int n = 1; n <= 70; n++) check_products(7, 37, n, 0.3f, 100u + (uint32_t)n);
}

Test(rowsparse, products_at_the_study_shape)
{
    check_products(100, 784, 50, 0.19f, 7u);
    check_products(100, 784, 10, 0.19f, 8u);
    check_products(33, 200, 130, 0.5f, 9u);
}

Test(rowsparse, empty_and_full_rows)
{
    check_products(5, 64, 16, 0.0f, 1u);    /* all zeros: c is +0 everywhere */
    check_products(5, 64, 16, 1.0f, 2u);    /* no zeros at all */
}

Test(rowsparse, gives_up_past_capacity)
{
    float x[4 * 16];
    for (int k = 0; k < 64; k++) x[k] = (float)(k % 3);     /* 42 nonzeros */
    rt_rowsparse sp = {0};
    cr_assert(rt_rowsparse_reserve(&sp, 4, 41, NULL));
    for (size_t pi = 0; pi < sizeof paths / sizeof paths[0]; pi++) {
        cr_assert_not(rt_rowsparse_build(&sp, paths[pi], x, 4, 16));
        cr_assert_not(rt_rowsparse_build(&sp, paths[pi], x, 5, 16), "more rows than reserved");
    }
    cr_assert(rt_rowsparse_reserve(&sp, 4, 42, NULL));
    for (size_t pi = 0; pi < sizeof paths / sizeof paths[0]; pi++)
        cr_assert(rt_rowsparse_build(&sp, paths[pi], x, 4, 16));
    rt_rowsparse_release(&sp);
}

/* Trains one dense layer a few steps on inputs that are sparse (taking the
 * compressed path) and returns its kernel; the same with the zeros replaced
 * by tiny values would differ, so instead the reference runs the same
 * arithmetic through the dense GEMM by hand. */
Test(rowsparse, dense_layer_uses_it_with_the_same_bits)
{
    enum { N = 20, IN = 96, OUT = 12 };
    uint32_t s = 5;
    rt_layer l;
    rt_error err;
    rt_layer_spec spec = rt_spec_dense(OUT, RT_ACT_RELU, RT_INIT_GLOROT_UNIFORM);
    cr_assert(rt_layer_setup(&l, &spec, IN, &err), "%s", err.msg);
    cr_assert(rt_layer_reserve(&l, N, &err), "%s", err.msg);
    rt_rng rng;
    rt_rng_init(&rng, 3, RT_STREAM_INIT);
    rt_layer_init(&l, &rng);
    float *bias = l.params[1].w;
    for (int j = 0; j < OUT; j++) bias[j] = 0.01f * (float)(j - 6);
    float x[N * IN], dy[N * OUT], z[N * OUT], dw[IN * OUT];
    sparse_fill(x, N * IN, 0.2f, &s);
    fill(dy, N * OUT, &s);
    const float *y = rt_layer_forward(&l, x, N, true, NULL);
    cr_assert(l.x_sparse, "a 20%%-dense input of width 96 takes the sparse path");
    rt_gemm_ref_f32(false, false, N, OUT, IN, x, IN, l.params[0].w, OUT, false, z, OUT);
    for (int k = 0; k < N * OUT; k++) {
        float zk = z[k] + bias[k % OUT], want = zk > 0.0f ? zk : 0.0f;
        cr_assert(memcmp(&y[k], &want, sizeof want) == 0, "forward at %d", k);
    }
    rt_layer_backward(&l, dy, N, false, NULL);
    float dz[N * OUT];
    for (int k = 0; k < N * OUT; k++) {
        float zk = z[k] + bias[k % OUT];
        dz[k] = dy[k] * (zk > 0.0f ? 1.0f : 0.0f);
    }
    rt_gemm_ref_f32(true, false, IN, OUT, N, x, IN, dz, OUT, false, dw, OUT);
    cr_assert(memcmp(l.params[0].g, dw, sizeof dw) == 0, "kernel gradient");
    /* a dense input of the same width takes the GEMM */
    for (int k = 0; k < N * IN; k++) x[k] = unit(&s) + 0.5f;
    rt_layer_forward(&l, x, N, true, NULL);
    cr_assert_not(l.x_sparse);
    rt_layer_release(&l);
}

/* rt_fit on a byte dataset takes the compressed-input path (batches never
 * written out as floats); training the same batches through float steps by
 * hand must give the very same weights and metrics. */

enum { FN = 64, FF = 80, FC = 3, FB = 10 };

static rt_model *fit_model(void)
{
    rt_layer_spec net[] = {
        rt_spec_flatten(2, (int[]){8, 10}),
        rt_spec_dense(9, RT_ACT_RELU, RT_INIT_GLOROT_UNIFORM),
        rt_spec_batchnorm(0.99f, 1e-3f),
        rt_spec_dense(FC, RT_ACT_SOFTMAX, RT_INIT_GLOROT_UNIFORM),
    };
    rt_rng rng;
    rt_rng_init(&rng, 42, RT_STREAM_INIT);
    rt_error err;
    rt_model *m = rt_model_create(net, 4, FF, &rng, NULL, &err);
    cr_assert(m, "%s", err.msg);
    return m;
}

static double last_acc, last_val;
static void note_epoch(void *ud, const rt_epoch_stats *s)
{
    (void)ud;
    last_acc = s->acc;
    last_val = s->val_acc;
}

Test(rowsparse, fit_on_bytes_equals_float_steps)
{
    rt_dataset ds = {0};
    rt_error err;
    cr_assert(rt_dataset_alloc(&ds, FN, &(rt_shape){ 2, { 8, 10 } }, true, 1.0f / 255.0f, FC, &err));
    uint32_t s = 23;
    for (long k = 0; k < (long)FN * FF; k++)
        ds.x_u8[k] = (lcg(&s) >> 24) < 200 ? 0 : (uint8_t)(lcg(&s) >> 24);
    for (int i = 0; i < FN; i++) ds.labels[i] = (int32_t)(lcg(&s) >> 8) % FC;

    rt_model *a = fit_model(), *b = fit_model();
    rt_optim *oa = rt_optim_create("Adam", NULL, &err), *ob = rt_optim_create("Adam", NULL, &err);
    rt_fit_config cfg = {.epochs = 2, .batch = FB, .loss = RT_LOSS_CROSSENTROPY,
                         .shuffle_seed = 5, .validation = &ds, .on_epoch = note_epoch};
    cr_assert_eq(rt_fit(a, oa, &ds, &cfg, &err), RT_FIT_DONE, "%s", err.msg);
    int64_t first[FB];
    for (int i = 0; i < FB; i++) first[i] = i;
    cr_assert(rt_model_input_u8(a, ds.x_u8, first, FB, ds.x_scale, true), "the first dense layer takes byte input");

    /* the same epochs by hand, as floats */
    int64_t order[FN];
    float x[FB * FF], y[FB * FC];
    double seen_correct = 0;
    for (int e = 0; e < 2; e++) {
        rt_dataset_epoch_order(5, e, order, FN);
        seen_correct = 0;
        for (int at = 0; at < FN; at += FB) {
            int n = FN - at < FB ? FN - at : FB;
            rt_dataset_gather(&ds, order + at, n, x, y);
            double l, c;
            cr_assert(rt_model_train_step(b, ob, x, y, n, RT_LOSS_CROSSENTROPY, &l, &c, &err), "%s", err.msg);
            seen_correct += c;
        }
    }
    cr_assert_eq(last_acc, seen_correct / FN, "epoch accuracy");
    rt_param *pa, *pb;
    int na = rt_model_params(a, &pa), nb = rt_model_params(b, &pb);
    cr_assert_eq(na, nb);
    for (int k = 0; k < na; k++)
        cr_assert(memcmp(pa[k].w, pb[k].w, (size_t)pa[k].size * sizeof(float)) == 0,
                  "parameter %d (%s) differs", k, pa[k].name);
    static float xall[FN * FF], yall[FN * FC];
    int64_t all[FN];
    for (int i = 0; i < FN; i++) all[i] = i;
    rt_dataset_gather(&ds, all, FN, xall, yall);
    double l, acc;
    cr_assert(rt_model_evaluate(b, xall, yall, FN, RT_LOSS_CROSSENTROPY, &l, &acc, &err), "%s", err.msg);
    cr_assert_eq(acc, last_val, "validation accuracy");
    rt_optim_free(oa);
    rt_optim_free(ob);
    rt_model_free(a);
    rt_model_free(b);
    rt_dataset_free(&ds);
}

/* Packing bytes: every SIMD path lists exactly the scalar path's nonzeros
 * and values, for every width up to past two 64-byte blocks (each tail of
 * 8, 16, 32 and 64), densities from none to full, rows picked out of order
 * and repeated; and each gives up exactly when the scalar path does, near
 * the capacity. */
Test(rowsparse, byte_packing_is_the_same_on_every_path)
{
    enum { NIMG = 9, MAXC = 200 };
    static uint8_t base[NIMG * MAXC];
    const int64_t idx[] = {3, 0, 8, 8, 5, 1, 7};
    const int rows = (int)(sizeof idx / sizeof *idx);
    const float densities[] = {0.0f, 0.05f, 0.19f, 0.5f, 0.9f, 1.0f};
    uint32_t seed = 11;
    for (int cols = 1; cols <= MAXC; cols++)
        for (size_t di = 0; di < sizeof densities / sizeof *densities; di++) {
            for (int k = 0; k < NIMG * cols; k++)
                base[k] = unit(&seed) < densities[di] ? (uint8_t)(lcg(&seed) % 255 + 1) : 0;
            long total = 0;
            for (int i = 0; i < rows; i++)
                for (int p = 0; p < cols; p++) total += base[idx[i] * cols + p] != 0;
            /* capacities: plenty, exactly enough, one short */
            long caps[] = {(long)rows * cols, total, total - 1};
            for (int ci = 0; ci < 3; ci++) {
                if (caps[ci] < 1) continue;
                rt_rowsparse ref = {0};
                cr_assert(rt_rowsparse_reserve(&ref, rows, caps[ci], NULL));
                bool ok_ref = rt_rowsparse_build_u8(&ref, RT_SIMD_SCALAR, base, idx, rows, cols,
                                                    1.0f / 255.0f, true);
                cr_assert_eq(ok_ref, total <= caps[ci]);
                for (size_t pi = 1; pi < sizeof paths / sizeof paths[0]; pi++) {
                    rt_rowsparse sp = {0};
                    cr_assert(rt_rowsparse_reserve(&sp, rows, caps[ci], NULL));
                    /* with and without S^T D's marks: the same rows */
                    bool ok = rt_rowsparse_build_u8(&sp, paths[pi], base, idx, rows, cols,
                                                    1.0f / 255.0f, (ci + pi) % 2 == 0);
                    cr_assert_eq(ok, ok_ref, "%s cols=%d cap=%ld", rt_simd_name(paths[pi]), cols,
                                 caps[ci]);
                    if (ok) {
                        cr_assert(memcmp(sp.start, ref.start, (size_t)(rows + 1) * sizeof *sp.start) == 0);
                        cr_assert(memcmp(sp.col, ref.col, (size_t)total * sizeof *sp.col) == 0,
                                  "%s cols=%d: columns differ", rt_simd_name(paths[pi]), cols);
                        cr_assert(memcmp(sp.val, ref.val, (size_t)total * sizeof *sp.val) == 0,
                                  "%s cols=%d: values differ", rt_simd_name(paths[pi]), cols);
                    }
                    rt_rowsparse_release(&sp);
                }
                rt_rowsparse_release(&ref);
            }
        }
}

/* The x86 byte packings count each column's nonzeros as they go, and S^T D
 * starts its column sort from those counts: on every path, for every width
 * up to two 64-byte blocks and densities from none to full, S^T D after a
 * byte packing gives the dense GEMM's bits, also when run twice on one
 * packing (the counts are used up by the first) and after a float build
 * on the same matrix (which does not count). */
Test(rowsparse, column_counts_from_byte_packing_give_the_gemm_bits)
{
    enum { NIMG = 7, MAXC = 140, N = 19 };
    static uint8_t base[NIMG * MAXC];
    static float x[NIMG * MAXC], d[NIMG * N], ref[MAXC * N], got[MAXC * N];
    const int64_t idx[] = {2, 0, 6, 6, 4, 1};
    const int rows = (int)(sizeof idx / sizeof *idx);
    const float densities[] = {0.0f, 0.19f, 0.6f, 1.0f};
    const float scale = 1.0f / 255.0f;
    uint32_t seed = 23;
    fill(d, (long)rows * N, &seed);
    for (int cols = 1; cols <= MAXC; cols += cols < 70 ? 1 : 7)
        for (size_t di = 0; di < sizeof densities / sizeof *densities; di++) {
            for (int k = 0; k < NIMG * cols; k++)
                base[k] = unit(&seed) < densities[di] ? (uint8_t)(lcg(&seed) % 255 + 1) : 0;
            for (int i = 0; i < rows; i++)
                for (int p = 0; p < cols; p++)
                    x[(long)i * cols + p] = (float)base[idx[i] * cols + p] * scale;
            rt_gemm_ref_f32(true, false, cols, N, rows, x, cols, d, N, false, ref, N);
            size_t bytes = (size_t)cols * N * sizeof(float);
            for (size_t pi = 0; pi < sizeof paths / sizeof paths[0]; pi++) {
                rt_rowsparse sp = {0};
                cr_assert(rt_rowsparse_reserve(&sp, rows, (long)rows * cols, NULL));
                cr_assert(rt_rowsparse_build_u8(&sp, paths[pi], base, idx, rows, cols, scale, true));
                for (int again = 0; again < 2; again++) {
                    memset(got, 0xff, bytes);
                    rt_rowsparse_tmm(&sp, paths[pi], NULL, d, N, got);
                    cr_assert(memcmp(got, ref, bytes) == 0, "%s cols=%d density=%g run %d",
                              rt_simd_name(paths[pi]), cols, (double)densities[di], again);
                }
                cr_assert(rt_rowsparse_build(&sp, paths[pi], x, rows, cols));
                memset(got, 0xff, bytes);
                rt_rowsparse_tmm(&sp, paths[pi], NULL, d, N, got);
                cr_assert(memcmp(got, ref, bytes) == 0, "%s cols=%d after a float build",
                          rt_simd_name(paths[pi]), cols);
                rt_rowsparse_release(&sp);
            }
        }
}

/* The AVX-512 byte packing of up to 128 rows marks each column's rows as
 * bits (one 64-bit word per 64 rows), and S^T D sums the columns from
 * those instead of sorting the nonzeros by column: on every path, for
 * batches around the word boundaries and past 128 rows, widths with every
 * tail and both sides of the 64 outputs the bits serve, 1 to 3 threads,
 * with and without the pipeline's rt_rowsparse_prepare_tmm, run twice on
 * one packing, S^T D gives the dense GEMM's bits. */
Test(rowsparse, column_bits_from_byte_packing_give_the_gemm_bits)
{
    enum { NIMG = 140, MAXC = 130, MAXN = 70 };
    static uint8_t base[NIMG * MAXC];
    static float x[NIMG * MAXC], d[NIMG * MAXN], ref[MAXC * MAXN], got[MAXC * MAXN];
    static int64_t idx[NIMG];
    const int rowss[] = {1, 2, 63, 64, 65, 100, 127, 128, 129, 140};
    const int colss[] = {1, 16, 17, 64, 65, 130};
    const int ns[] = {1, 7, 8, 9, 16, 17, 24, 25, 50, 64, 65, 70};
    const float densities[] = {0.0f, 0.19f, 0.6f, 1.0f};
    const float scale = 1.0f / 255.0f;
    uint32_t seed = 31;
    rt_pool *pools[3] = {NULL, rt_pool_create(2), rt_pool_create(3)};
    for (size_t ri = 0; ri < sizeof rowss / sizeof *rowss; ri++)
        for (size_t ci = 0; ci < sizeof colss / sizeof *colss; ci++)
            for (size_t di = 0; di < sizeof densities / sizeof *densities; di++) {
                const int rows = rowss[ri], cols = colss[ci];
                for (int k = 0; k < NIMG * cols; k++)
                    base[k] = unit(&seed) < densities[di] ? (uint8_t)(lcg(&seed) % 255 + 1) : 0;
                /* rows out of order, some repeated */
                for (int i = 0; i < rows; i++) idx[i] = (int64_t)((i * 37 + 5) % NIMG);
                for (int i = 0; i < rows; i++)
                    for (int p = 0; p < cols; p++)
                        x[(long)i * cols + p] = (float)base[idx[i] * cols + p] * scale;
                for (size_t ni = 0; ni < sizeof ns / sizeof *ns; ni++) {
                    const int n = ns[ni];
                    fill(d, (long)rows * n, &seed);
                    rt_gemm_ref_f32(true, false, cols, n, rows, x, cols, d, n, false, ref, n);
                    size_t bytes = (size_t)cols * n * sizeof(float);
                    for (size_t pi = 0; pi < sizeof paths / sizeof paths[0]; pi++)
                        for (int th = 0; th < 3; th++)
                            /* prep 0: packed for S^T D; 1: and its column form made
                             * ahead; 2: packed for a forward pass only */
                            for (int prep = 0; prep < 3; prep++) {
                                rt_rowsparse sp = {0};
                                cr_assert(rt_rowsparse_reserve(&sp, rows, (long)rows * cols, NULL));
                                cr_assert(rt_rowsparse_build_u8(&sp, paths[pi], base, idx, rows, cols,
                                                                scale, prep < 2));
                                if (prep == 1) rt_rowsparse_prepare_tmm(&sp, paths[pi]);
                                /* a forward-only packing leaves S^T D nothing to start from */
                                if (prep == 2) cr_assert(!sp.bits && !sp.counted);
                                for (int again = 0; again < 2; again++) {
                                    memset(got, 0xff, bytes);
                                    rt_rowsparse_tmm(&sp, paths[pi], pools[th], d, n, got);
                                    cr_assert(memcmp(got, ref, bytes) == 0,
                                              "%s rows=%d cols=%d n=%d density=%g threads=%d prep=%d run %d",
                                              rt_simd_name(paths[pi]), rows, cols, n,
                                              (double)densities[di], th + 1, prep, again);
                                }
                                rt_rowsparse_release(&sp);
                            }
                }
            }
    rt_pool_destroy(pools[1]);
    rt_pool_destroy(pools[2]);
}
