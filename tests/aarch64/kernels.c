/*
 * kernels.c — every SIMD kernel against the scalar reference, bit for bit,
 * over many shapes and tails; built for the host (build/kernel-check) and
 * for aarch64 (build/aarch64/kernel-check, run under qemu-aarch64 by
 * tests/aarch64/run.sh).
 *
 *   kernel-check OUT     checks, then writes every kernel's output to OUT
 *
 * Two kinds of check:
 *  - in this process, where a kernel takes its SIMD level as an argument
 *    (GEMM, the row-sparse build and products) or the vector body can be
 *    called directly (e^x four or eight lanes at a time): the machine's
 *    path (rt_cpu_simd()) against the scalar path and, for GEMM, against
 *    the plain triple loop; each shape counts as one check;
 *  - across processes, for the kernels that read rt_cpu_simd() themselves
 *    (activations and their derivatives, softmax, losses, the optimizer
 *    updates, and GEMM and the products again): OUT holds all their
 *    outputs, and run.sh compares the files written at MLP_SIMD=neon and
 *    scalar under qemu with those written on x86-64 (AVX2 and scalar)
 *    byte for byte.
 * Inputs come from a fixed LCG and include signed zeros, subnormals and
 * values where the vector bodies leave their fast path.
 * Ends with "N passed, N failed"; exit 1 on any failure.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "activations.h"
#include "cpu.h"
#include "dataset.h"
#include "gemm.h"
#include "layers.h"
#include "losses.h"
#include "mathf.h"
#include "optimizers.h"
#include "pool.h"
#include "rng.h"
#include "rowsparse.h"

static long passed, failed;
static FILE *out;

static uint32_t seed = 12345;
static uint32_t lcg(void) { return seed = seed * 1664525u + 1013904223u; }
static float uniform(float lo, float hi) { return lo + (hi - lo) * ((float)(lcg() >> 8) / 16777216.0f); }

/* Mostly uniform in [-2, 2], sometimes a signed zero or a subnormal. */
static float value(void)
{
    uint32_t r = lcg() >> 24;
    if (r < 8) return 0.0f;
    if (r < 12) return -0.0f;
    if (r < 14) return uniform(-1.0f, 1.0f) * 1e-39f;
    return uniform(-2.0f, 2.0f);
}

static void fill(float *x, long n)
{
    for (long i = 0; i < n; i++) x[i] = value();
}

static void check(bool ok, const char *what, int a, int b, int c, int d)
{
    if (ok) {
        passed++;
        return;
    }
    failed++;
    if (failed <= 20) printf("FAIL %s (%d, %d, %d, %d) on %s\n", what, a, b, c, d, rt_simd_name(rt_cpu_simd()));
}

/* Writes floats, every NaN as one pattern: which NaN an invalid operation
 * makes (its sign) differs between x86-64 and aarch64, and printing does
 * not show it; everything else must match bit for bit. */
static void dump(const void *p, size_t bytes)
{
    const float *f = p;
    for (size_t i = 0; i < bytes / 4; i++) {
        float x = isnan(f[i]) ? NAN : f[i];
        fwrite(&x, 4, 1, out);
    }
}

/* ---- GEMM ---------------------------------------------------------------- */

static void gemm_case(rt_pool *pool, bool ta, bool tb, bool beta, int m, int n, int k)
{
    int lda = (ta ? m : k) + 1, ldb = (tb ? k : n) + 2, ldc = n + 1;
    long asz = (long)(ta ? k : m) * lda, bsz = (long)(tb ? n : k) * ldb, csz = (long)m * ldc;
    float *a = malloc((size_t)asz * 4), *b = malloc((size_t)bsz * 4);
    float *c = malloc((size_t)csz * 4), *cs = malloc((size_t)csz * 4), *cr = malloc((size_t)csz * 4);
    fill(a, asz);
    fill(b, bsz);
    fill(c, csz);
    memcpy(cs, c, (size_t)csz * 4);
    memcpy(cr, c, (size_t)csz * 4);
    rt_gemm_f32(pool, ta, tb, m, n, k, a, lda, b, ldb, beta, c, ldc);
    rt_gemm_f32_simd(NULL, RT_SIMD_SCALAR, ta, tb, m, n, k, a, lda, b, ldb, beta, cs, ldc);
    rt_gemm_ref_f32(ta, tb, m, n, k, a, lda, b, ldb, beta, cr, ldc);
    /* the padding past n in each row of C must stay as it was, too */
    check(memcmp(c, cs, (size_t)csz * 4) == 0 && memcmp(c, cr, (size_t)csz * 4) == 0,
          ta ? (tb ? "gemm AT BT" : "gemm AT B") : (tb ? "gemm A BT" : "gemm A B"), m, n, k, beta);
    dump(c, (size_t)csz * 4);
    free(a), free(b), free(c), free(cs), free(cr);
}

static void gemm_all(rt_pool *pool)
{
    static const int ns[] = {1, 2, 3, 4, 5, 7, 8, 9, 11, 12, 13, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 48, 49, 50, 64, 65};
    static const int ks[] = {1, 2, 5, 33};
    for (int t = 0; t < 8; t++)
        for (int m = 1; m <= 17; m++)
            for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
                for (size_t ki = 0; ki < sizeof ks / sizeof ks[0]; ki++)
                    gemm_case(NULL, t & 1, t & 2, t & 4, m, ns[ni], ks[ki]);
    /* k chunks (GEMM_KC = 256) and the study's shapes, on one and two threads */
    static const int big[][3] = {{1, 12, 257}, {8, 4, 256}, {9, 13, 513}, {100, 50, 784},
                                 {100, 10, 50}, {50, 784, 100}, {784, 50, 100}, {50, 10, 100}};
    for (size_t i = 0; i < sizeof big / sizeof big[0]; i++)
        for (int t = 0; t < 4; t++) {
            gemm_case(NULL, t & 1, t & 2, false, big[i][0], big[i][1], big[i][2]);
            gemm_case(pool, t & 1, t & 2, true, big[i][0], big[i][1], big[i][2]);
        }
}

/* ---- row-sparse build and products ------------------------------------- */

static bool same_sparse(const rt_rowsparse *x, const rt_rowsparse *y, int rows)
{
    long nnz = x->start[rows];
    return y->start[rows] == nnz &&
           memcmp(x->start, y->start, (size_t)(rows + 1) * 4) == 0 &&
           memcmp(x->col, y->col, (size_t)nnz * 4) == 0 &&
           memcmp(x->val, y->val, (size_t)nnz * 4) == 0;
}

static void rowsparse_case(rt_pool *pool, int rows, int cols, int n)
{
    rt_simd simd = rt_cpu_simd();
    long size = (long)rows * cols;
    float *x = malloc((size_t)size * 4);
    uint8_t *bytes = malloc((size_t)size);
    int64_t *idx = malloc((size_t)rows * 8);
    for (long i = 0; i < size; i++) {
        uint32_t r = lcg() >> 24;
        bytes[i] = r < 150 ? 0 : (uint8_t)(lcg() >> 24);
        x[i] = r < 140 ? (r & 1 ? -0.0f : 0.0f) : value();
    }
    for (int i = 0; i < rows; i++) idx[i] = rows - 1 - i;
    rt_rowsparse s = {0}, r = {0};
    if (!rt_rowsparse_reserve(&s, rows, size, NULL) || !rt_rowsparse_reserve(&r, rows, size, NULL)) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    bool ok = rt_rowsparse_build(&s, simd, x, rows, cols) && rt_rowsparse_build(&r, RT_SIMD_SCALAR, x, rows, cols);
    check(ok && same_sparse(&s, &r, rows), "rowsparse build", rows, cols, 0, 0);
    /* too many nonzeros for the capacity: both refuse */
    if (s.start[rows] > 0) {
        rt_rowsparse t = {0};
        rt_rowsparse_reserve(&t, rows, s.start[rows] - 1, NULL);
        check(!rt_rowsparse_build(&t, simd, x, rows, cols), "rowsparse build over capacity", rows, cols, 0, 0);
        rt_rowsparse_release(&t);
    }
    dump(s.col, (size_t)s.start[rows] * 4);
    dump(s.val, (size_t)s.start[rows] * 4);

    float *b = malloc((size_t)cols * n * 4), *d = malloc((size_t)rows * n * 4), *bias = malloc((size_t)n * 4);
    float *c = malloc((size_t)rows * (n + 3) * 4), *cs = malloc((size_t)rows * (n + 3) * 4);
    float *t = malloc((size_t)cols * n * 4), *ts = malloc((size_t)cols * n * 4);
    fill(b, (long)cols * n);
    fill(d, (long)rows * n);
    fill(bias, n);
    for (int withbias = 0; withbias < 2; withbias++) {
        memset(c, 0x7f, (size_t)rows * (n + 3) * 4);
        memset(cs, 0x7f, (size_t)rows * (n + 3) * 4);
        rt_rowsparse_mm(&s, simd, pool, b, n, withbias ? bias : NULL, c, n + 3);
        rt_rowsparse_mm(&r, RT_SIMD_SCALAR, NULL, b, n, withbias ? bias : NULL, cs, n + 3);
        check(memcmp(c, cs, (size_t)rows * (n + 3) * 4) == 0, "rowsparse S B", rows, cols, n, withbias);
        dump(c, (size_t)rows * (n + 3) * 4);
    }
    rt_rowsparse_tmm(&s, simd, pool, d, n, t);
    rt_rowsparse_tmm(&r, RT_SIMD_SCALAR, NULL, d, n, ts);
    check(memcmp(t, ts, (size_t)cols * n * 4) == 0, "rowsparse S^T D", rows, cols, n, 0);
    dump(t, (size_t)cols * n * 4);

    float scale = 1.0f / 255.0f;
    ok = rt_rowsparse_build_u8(&s, simd, bytes, idx, rows, cols, scale, true) &&
         rt_rowsparse_build_u8(&r, RT_SIMD_SCALAR, bytes, idx, rows, cols, scale, true);
    check(ok && same_sparse(&s, &r, rows), "rowsparse build_u8", rows, cols, 0, 0);
    dump(s.val, (size_t)s.start[rows] * 4);
    /* S^T D straight after a byte packing (AVX-512: from its column bits) */
    memset(t, 0x7f, (size_t)cols * n * 4);
    rt_rowsparse_tmm(&s, simd, pool, d, n, t);
    rt_rowsparse_tmm(&r, RT_SIMD_SCALAR, NULL, d, n, ts);
    check(memcmp(t, ts, (size_t)cols * n * 4) == 0, "rowsparse S^T D after build_u8", rows, cols, n, 0);
    rt_rowsparse_release(&s);
    rt_rowsparse_release(&r);
    free(x), free(bytes), free(idx), free(b), free(d), free(bias), free(c), free(cs), free(t), free(ts);
}

static void rowsparse_all(rt_pool *pool)
{
    static const int rows[] = {1, 3, 9};
    static const int ns[] = {1, 2, 3, 4, 5, 7, 8, 9, 12, 13, 16, 17, 31, 32, 33, 50, 63, 64, 65, 68, 100, 129};
    for (size_t ri = 0; ri < sizeof rows / sizeof rows[0]; ri++)
        for (int cols = 1; cols <= 70; cols += cols < 36 ? 1 : 11)
            for (size_t ni = 0; ni < sizeof ns / sizeof ns[0]; ni++)
                rowsparse_case(NULL, rows[ri], cols, ns[ni]);
    rowsparse_case(pool, 100, 784, 50);
    rowsparse_case(pool, 37, 100, 10);
    /* batches of more than 64 rows (two words of column bits) and of more
     * than 128 (none) */
    rowsparse_case(NULL, 64, 100, 50);
    rowsparse_case(pool, 65, 90, 17);
    rowsparse_case(NULL, 128, 70, 64);
    rowsparse_case(pool, 129, 80, 33);
}

/* ---- a batch of bytes gathered as floats ------------------------------------- */

static void gather_all(void)
{
    for (int f = 1; f <= 40; f++) {
        rt_dataset ds = {0};
        rt_error err;
        if (!rt_dataset_alloc(&ds, 12, &(rt_shape){ 1, { f } }, true, 1.0f / 255.0f, 3, &err)) {
            printf("FAIL dataset: %s\n", err.msg);
            failed++;
            return;
        }
        for (long k = 0; k < 12L * f; k++) ds.x_u8[k] = (uint8_t)(lcg() >> 24);
        for (int i = 0; i < 12; i++) ds.labels[i] = i % 3;
        int64_t idx[7] = {11, 3, 3, 0, 7, 5, 1};
        float x[7 * 40], y[7 * 3];
        rt_dataset_gather(&ds, idx, 7, x, y);
        for (int k = 0; k < 7 * f; k++)
            check(x[k] == (float)ds.x_u8[idx[k / f] * f + k % f] * (1.0f / 255.0f), "gather", f, k, 0, 0);
        dump(x, (size_t)7 * f * 4);
        rt_dataset_free(&ds);
    }
}

/* ---- e^x vector bodies ----------------------------------------------------- */

static void expf_lanes(void)
{
    enum { NX = 4096 + 16 };
    static float xs[NX];
    for (int i = 0; i < 4096; i++) xs[i] = uniform(-110.0f, 95.0f);
    const float special[16] = {0.0f, -0.0f, 88.37f, 88.38f, 88.7228394f, 88.73f, -87.33f, -87.34f,
                               -103.9f, -104.0f, INFINITY, -INFINITY, NAN, 1e-30f, -1e-30f, -NAN};
    memcpy(xs + 4096, special, sizeof special);
#if defined(__aarch64__)
    if (rt_cpu_simd() == RT_SIMD_NEON)
        for (int i = 0; i < NX; i += 4) {
            float got[4];
            vst1q_f32(got, rt_expf4_neon(vld1q_f32(xs + i)));
            for (int k = 0; k < 4; k++) {
                float want = rt_expf(xs[i + k]);
                check(memcmp(&got[k], &want, 4) == 0, "expf4 lane", i + k, 0, 0, 0);
            }
        }
#endif
    /* through the kernels that use it (softmax rows of 1, 3, 4, 5, ...) */
    for (int cols = 1; cols <= 12; cols++) {
        int rows = NX / cols;
        float *y = malloc((size_t)rows * cols * 4);
        rt_act_get(RT_ACT_SOFTMAX)->forward(xs, y, rows, cols, NULL);
        dump(y, (size_t)rows * cols * 4);
        free(y);
    }
}

/* ---- activations, losses --------------------------------------------------- */

static void activations_all(void)
{
    enum { MAXN = 45 };
    float z[MAXN * 3], dy[MAXN * 3], y[MAXN * 3], dz[MAXN * 3];
    for (int a = 0; a < RT_ACT_COUNT; a++) {
        const rt_act_info *info = rt_act_get((rt_act)a);
        float p[RT_ACT_MAX_PARAMS];
        rt_act_defaults((rt_act)a, p);
        for (int n = 1; n <= MAXN; n++) {
            fill(z, 3L * n);
            fill(dy, 3L * n);
            z[0] = 95.0f;
            if (n > 2) z[2] = -95.0f;
            if (n > 4) z[4] = NAN;
            info->forward(z, y, 3, n, p);
            dump(y, (size_t)n * 12);
            info->backward(z, y, dy, dz, 3, n, p);
            dump(dz, (size_t)n * 12);
        }
    }
    float pr[30 * 7], yv[30 * 7], grad[30 * 7];
    for (int l = 0; l < RT_LOSS_COUNT; l++)
        for (int c = 1; c <= 7; c++) {
            for (int i = 0; i < 30 * c; i++) {
                pr[i] = uniform(0.0f, 1.0f);
                yv[i] = (lcg() >> 31) ? 1.0f : 0.0f;
            }
            float v = (float)rt_loss_eval((rt_loss)l, pr, yv, 30, c, grad);
            dump(&v, sizeof v);
            dump(grad, (size_t)30 * c * 4);
        }
}

/* ---- layers: dense's bias passes, batchnorm's per-feature passes --------- */

static void layer_case(rt_layer_spec spec, int in, int n, bool with_rng)
{
    rt_layer l;
    rt_error err;
    if (!rt_layer_setup(&l, &spec, in, &err) || !rt_layer_reserve(&l, n, &err)) {
        printf("FAIL layer setup: %s\n", err.msg);
        failed++;
        return;
    }
    rt_rng rng;
    rt_rng_init(&rng, 2, RT_STREAM_INIT);
    rt_layer_init(&l, with_rng ? &rng : NULL);
    for (int p = 0; p < l.nparams; p++) fill(l.params[p].w, l.params[p].size);
    float *x = malloc((size_t)n * in * 4), *dy = malloc((size_t)n * l.out * 4);
    fill(x, (long)n * in);
    fill(dy, (long)n * l.out);
    dump(rt_layer_forward(&l, x, n, true, NULL), (size_t)n * l.out * 4);
    const float *dx = rt_layer_backward(&l, dy, n, true, NULL);
    dump(dx, (size_t)n * in * 4);
    for (int p = 0; p < l.nparams; p++) {
        dump(l.params[p].w, (size_t)l.params[p].size * 4);
        if (l.params[p].g) dump(l.params[p].g, (size_t)l.params[p].size * 4);
    }
    rt_layer_release(&l);
    free(x), free(dy);
}

static void layers_all(void)
{
    for (int d = 1; d <= 21; d++)
        for (int n = 1; n <= 9; n += 4) {
            layer_case(rt_spec_dense(d, RT_ACT_RELU, RT_INIT_GLOROT_UNIFORM), 3, n, true);
            layer_case(rt_spec_batchnorm(0.99f, 1e-3f), d, n, false);
        }
}

/* ---- optimizers --------------------------------------------------------- */

static void optimizer_case(const char *name, const char *dialect, const char *hyper, double value, long n)
{
    rt_error err;
    rt_optim *o = rt_optim_create(name, dialect, &err);
    if (!o) return;
    if (hyper && !rt_optim_set(o, hyper, value)) {
        rt_optim_free(o);
        return;
    }
    float *w = malloc((size_t)n * 4), *g = malloc((size_t)n * 4);
    fill(w, n);
    rt_param prm = {.name = "w", .w = w, .g = g, .size = n, .shape = {1, {n}}, .trainable = true};
    for (int step = 0; step < 4; step++) {
        fill(g, n);
        if (!rt_optim_step(o, &prm, 1, &err)) {
            printf("FAIL %s: %s\n", name, err.msg);
            failed++;
            break;
        }
        dump(w, (size_t)n * 4);
    }
    for (int i = 0; i < rt_optim_nstate(o); i++) {
        long size;
        float *st = rt_optim_state(o, i, &size);
        dump(st, (size_t)size * 4);
    }
    rt_optim_free(o);
    free(w), free(g);
}

static void optimizers_all(void)
{
    static const char *const dialects[] = {"keras", "torch"};
    static const struct { const char *hyper; double value; } variants[] = {
        {NULL, 0}, {"momentum", 0.9}, {"nesterov", 1}, {"centered", 1}, {"weight_decay", 0.01},
    };
    for (int r = 0; r < rt_optim_count(); r++)
        for (int d = 0; d < 2; d++)
            for (size_t v = 0; v < sizeof variants / sizeof variants[0]; v++)
                for (long n = 1; n <= 37; n += n < 18 ? 1 : 19)
                    optimizer_case(rt_optim_table_name(r), dialects[d], variants[v].hyper,
                                   variants[v].value, n);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: kernel-check OUT\n");
        return 64;
    }
    out = fopen(argv[1], "wb");
    if (!out) {
        perror(argv[1]);
        return 74;
    }
    rt_pool *pool = rt_pool_create(2);
    gemm_all(pool);
    rowsparse_all(pool);
    expf_lanes();
    gather_all();
    activations_all();
    layers_all();
    optimizers_all();
    rt_pool_destroy(pool);
    if (fclose(out) != 0) {
        perror(argv[1]);
        return 74;
    }
    printf("kernel-check (%s): %ld passed, %ld failed\n", rt_simd_name(rt_cpu_simd()), passed, failed);
    return failed ? 1 : 0;
}
