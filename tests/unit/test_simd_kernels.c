/*
 * test_simd_kernels.c — the vectorised bodies must give the bits of the
 * scalar definitions. The kernels run on the machine's path (AVX2 here,
 * unless MLP_SIMD=scalar), and each test recomputes the result with plain
 * scalar C written from the formula in the kernel's comment, element by
 * element, so a vector body that reorders, fuses or drops an operation
 * fails. Lengths are odd so the scalar tails run too.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "activations.h"
#include "cpu.h"
#include "dataset.h"
#include "layers.h"
#include "mathf.h"
#include "optimizers.h"
#include "rowsparse.h"
#include "tensor.h"

static uint32_t lcg(uint32_t *s) { return *s = *s * 1664525u + 1013904223u; }
static float uniform(uint32_t *s, float lo, float hi)
{
    return lo + (hi - lo) * ((float)(lcg(s) >> 8) / 16777216.0f);
}

static void assert_same_bits(const float *got, const float *want, long n, const char *what)
{
    for (long i = 0; i < n; i++)
        cr_assert(memcmp(&got[i], &want[i], sizeof(float)) == 0,
                  "%s differs at %ld: %a vs %a", what, i, (double)got[i], (double)want[i]);
}

#if defined(__x86_64__)
__attribute__((target("avx2")))
static void exp8(const float *x, float *y)
{
    _mm256_storeu_ps(y, rt_expf8_avx2(_mm256_loadu_ps(x)));
}

Test(simd, expf8_is_rt_expf_on_every_lane)
{
    if (!rt_cpu_has(RT_SIMD_AVX2)) cr_skip_test("no AVX2 here");
    /* a sweep over the whole range, the edges of the fast path and specials */
    float xs[4096 + 16];
    uint32_t s = 1;
    for (int i = 0; i < 4096; i++) xs[i] = uniform(&s, -110.0f, 95.0f);
    const float special[16] = {0.0f, -0.0f, 88.37f, 88.38f, 88.7228394f, 88.73f, -87.33f, -87.34f,
                               -103.9f, -104.0f, INFINITY, -INFINITY, NAN, 1e-30f, -1e-30f, 0.5f};
    memcpy(xs + 4096, special, sizeof special);
    for (int i = 0; i < 4096 + 16; i += 8) {
        float got[8];
        exp8(xs + i, got);
        for (int k = 0; k < 8; k++) {
            float want = rt_expf(xs[i + k]);
            if (isnan(want)) cr_assert(isnan(got[k]), "expf(%a) should be NaN", (double)xs[i + k]);
            else cr_assert(memcmp(&got[k], &want, sizeof want) == 0, "expf(%a): %a vs %a",
                           (double)xs[i + k], (double)got[k], (double)want);
        }
    }
}
#endif

#if defined(__aarch64__)
Test(simd, expf4_is_rt_expf_on_every_lane)
{
    float xs[4096 + 16];
    uint32_t s = 1;
    for (int i = 0; i < 4096; i++) xs[i] = uniform(&s, -110.0f, 95.0f);
    const float special[16] = {0.0f, -0.0f, 88.37f, 88.38f, 88.7228394f, 88.73f, -87.33f, -87.34f,
                               -103.9f, -104.0f, INFINITY, -INFINITY, NAN, 1e-30f, -1e-30f, 0.5f};
    memcpy(xs + 4096, special, sizeof special);
    for (int i = 0; i < 4096 + 16; i += 4) {
        float got[4];
        vst1q_f32(got, rt_expf4_neon(vld1q_f32(xs + i)));
        for (int k = 0; k < 4; k++) {
            float want = rt_expf(xs[i + k]);
            if (isnan(want)) cr_assert(isnan(got[k]), "expf(%a) should be NaN", (double)xs[i + k]);
            else cr_assert(memcmp(&got[k], &want, sizeof want) == 0, "expf(%a): %a vs %a",
                           (double)xs[i + k], (double)got[k], (double)want);
        }
    }
}
#endif

enum { N = 7, D = 13 };    /* 91 elements: 11 vectors and a tail of 3 */

static void inputs(float *z, float *dy, uint32_t seed)
{
    uint32_t s = seed;
    for (int i = 0; i < N * D; i++) {
        z[i] = uniform(&s, -6.0f, 6.0f);
        dy[i] = uniform(&s, -1.0f, 1.0f);
    }
    z[3] = 0.0f; z[4] = -0.0f; z[5] = 95.0f; z[6] = -95.0f;   /* kinks and exp's slow lanes */
}

Test(simd, relu_sigmoid_linear_match_their_formulas)
{
    float z[N * D], dy[N * D], y[N * D], dz[N * D], wy[N * D], wdz[N * D];
    inputs(z, dy, 3);
    const rt_act acts[] = {RT_ACT_RELU, RT_ACT_SIGMOID, RT_ACT_LINEAR};
    for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
        const rt_act_info *info = rt_act_get(acts[a]);
        float p[RT_ACT_MAX_PARAMS];
        rt_act_defaults(acts[a], p);
        info->forward(z, y, N, D, p);
        info->backward(z, y, dy, dz, N, D, p);
        for (int i = 0; i < N * D; i++) {
            switch (acts[a]) {
            case RT_ACT_RELU:
                wy[i] = z[i] > 0.0f ? z[i] : 0.0f;
                wdz[i] = dy[i] * (z[i] > 0.0f ? 1.0f : 0.0f);
                break;
            case RT_ACT_SIGMOID:
                wy[i] = 1.0f / (1.0f + rt_expf(-z[i]));
                wdz[i] = dy[i] * (wy[i] * (1.0f - wy[i]));
                break;
            default:
                wy[i] = z[i];
                wdz[i] = dy[i] * 1.0f;
            }
        }
        assert_same_bits(y, wy, N * D, info->name);
        assert_same_bits(dz, wdz, N * D, info->name);
    }
}

Test(simd, softmax_matches_the_row_loop)
{
    float z[N * D], dy[N * D], y[N * D], want[N * D];
    inputs(z, dy, 4);
    z[20] = 120.0f;     /* a row whose other entries underflow to the slow lanes */
    rt_act_get(RT_ACT_SOFTMAX)->forward(z, y, N, D, NULL);   /* no parameters */
    for (int r = 0; r < N; r++) {
        const float *zr = z + r * D;
        float *wr = want + r * D, mx = zr[0], sum = 0.0f;
        for (int j = 1; j < D; j++) mx = zr[j] > mx ? zr[j] : mx;
        for (int j = 0; j < D; j++) { wr[j] = rt_expf(zr[j] - mx); sum += wr[j]; }
        for (int j = 0; j < D; j++) wr[j] = wr[j] / sum;
    }
    assert_same_bits(y, want, N * D, "softmax");
    /* in place, as the model's loss link uses it */
    memcpy(y, z, sizeof z);
    rt_act_get(RT_ACT_SOFTMAX)->forward(y, y, N, D, NULL);
    assert_same_bits(y, want, N * D, "softmax in place");
}

/* Batchnorm in training mode against the formulas of layers.h, written
 * as the plain loops (rows in order for every per-feature sum). */
Test(simd, batchnorm_passes_match_the_plain_loops)
{
    float x[N * D], dy[N * D];
    inputs(x, dy, 5);
    rt_layer l;
    rt_error err;
    rt_layer_spec spec = rt_spec_batchnorm(0.99f, 1e-3f);
    cr_assert(rt_layer_setup(&l, &spec, D, &err), "%s", err.msg);
    cr_assert(rt_layer_reserve(&l, N, &err));
    rt_layer_init(&l, NULL);
    uint32_t s = 9;
    for (int j = 0; j < D; j++) {
        l.params[0].w[j] = uniform(&s, 0.5f, 1.5f);     /* gamma */
        l.params[1].w[j] = uniform(&s, -0.5f, 0.5f);    /* beta */
    }
    float gamma[D], beta[D], mean[D], var[D], inv[D], xhat[N * D], y[N * D];
    float mm[D], mv[D], dbeta[D], dgamma[D], dx[N * D];
    memcpy(gamma, l.params[0].w, sizeof gamma);
    memcpy(beta, l.params[1].w, sizeof beta);
    for (int j = 0; j < D; j++) {
        float sum = 0.0f, ss = 0.0f;
        for (int i = 0; i < N; i++) sum += x[i * D + j];
        mean[j] = sum / (float)N;
        for (int i = 0; i < N; i++) {
            float c = x[i * D + j] - mean[j];
            ss += c * c;
        }
        var[j] = ss / (float)N;
        mm[j] = 0.0f * 0.99f + mean[j] * (1.0f - 0.99f);
        mv[j] = 1.0f * 0.99f + var[j] * (1.0f - 0.99f);
        inv[j] = 1.0f / sqrtf(var[j] + 1e-3f);
        for (int i = 0; i < N; i++) {
            xhat[i * D + j] = (x[i * D + j] - mean[j]) * inv[j];
            y[i * D + j] = gamma[j] * xhat[i * D + j] + beta[j];
        }
        dbeta[j] = dgamma[j] = 0.0f;
        for (int i = 0; i < N; i++) {
            dbeta[j] += dy[i * D + j];
            dgamma[j] += dy[i * D + j] * xhat[i * D + j];
        }
        float c = gamma[j] * inv[j] / (float)N;
        for (int i = 0; i < N; i++)
            dx[i * D + j] = c * ((float)N * dy[i * D + j] - dbeta[j] - xhat[i * D + j] * dgamma[j]);
    }
    const float *got = rt_layer_forward(&l, x, N, true, NULL);
    assert_same_bits(got, y, N * D, "batchnorm y");
    assert_same_bits(l.params[2].w, mm, D, "moving mean");
    assert_same_bits(l.params[3].w, mv, D, "moving variance");
    const float *gdx = rt_layer_backward(&l, dy, N, true, NULL);
    assert_same_bits(l.params[0].g, dgamma, D, "dgamma");
    assert_same_bits(l.params[1].g, dbeta, D, "dbeta");
    assert_same_bits(gdx, dx, N * D, "batchnorm dx");
    rt_layer_release(&l);
}

/* dense with a narrow input (the GEMM path): bias pass and bias gradient */
Test(simd, dense_bias_and_bias_gradient)
{
    enum { IN = 3 };
    float x[N * IN], dy[N * D], z[N * D], db[D];
    uint32_t s = 11;
    for (int k = 0; k < N * IN; k++) x[k] = uniform(&s, -1.0f, 1.0f);
    for (int k = 0; k < N * D; k++) dy[k] = uniform(&s, -1.0f, 1.0f);
    rt_layer l;
    rt_error err;
    rt_layer_spec spec = rt_spec_dense(D, RT_ACT_LINEAR, RT_INIT_GLOROT_UNIFORM);
    cr_assert(rt_layer_setup(&l, &spec, IN, &err), "%s", err.msg);
    cr_assert(rt_layer_reserve(&l, N, &err));
    rt_rng rng;
    rt_rng_init(&rng, 2, RT_STREAM_INIT);
    rt_layer_init(&l, &rng);
    for (int j = 0; j < D; j++) l.params[1].w[j] = uniform(&s, -1.0f, 1.0f);
    const float *w = l.params[0].w, *b = l.params[1].w;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D; j++) {
            float acc = 0.0f;
            for (int p = 0; p < IN; p++) acc = fmaf(x[i * IN + p], w[p * D + j], acc);
            z[i * D + j] = acc + b[j];
        }
    for (int j = 0; j < D; j++) {
        db[j] = 0.0f;
        for (int i = 0; i < N; i++) db[j] += dy[i * D + j];
    }
    assert_same_bits(rt_layer_forward(&l, x, N, true, NULL), z, N * D, "z = x W + b");
    rt_layer_backward(&l, dy, N, false, NULL);
    assert_same_bits(l.params[1].g, db, D, "bias gradient");
    rt_layer_release(&l);
}

Test(simd, keras_sgd_with_and_without_momentum)
{
    enum { P = 37 };
    const double moms[] = {0.0, 0.9};
    for (int mi = 0; mi < 2; mi++) {
        float w[P], g[P], want[P], v[P] = {0};
        uint32_t s = 13;
        for (int k = 0; k < P; k++) { w[k] = want[k] = uniform(&s, -1, 1); g[k] = uniform(&s, -1, 1); }
        rt_error err;
        rt_optim *opt = rt_optim_create("SGD", NULL, &err);
        cr_assert(opt);
        cr_assert(rt_optim_set(opt, "momentum", moms[mi]));
        rt_param prm = {.name = "w", .w = w, .g = g, .size = P, .shape = {1, {P}}, .trainable = true};
        for (int step = 0; step < 3; step++) {
            cr_assert(rt_optim_step(opt, &prm, 1, &err), "%s", err.msg);
            float lr = 0.01f, m = (float)moms[mi];
            for (int k = 0; k < P; k++) {
                if (m == 0.0f) { want[k] -= lr * g[k]; continue; }
                v[k] = m * v[k] - lr * g[k];
                want[k] += v[k];
            }
        }
        assert_same_bits(w, want, P, moms[mi] == 0.0 ? "SGD" : "SGD momentum");
        rt_optim_free(opt);
    }
}

/* The byte batch compressed directly equals the float batch compressed. */
Test(simd, gather_sparse_equals_gather_then_build)
{
    enum { ROWS = 9, F = 77 };
    rt_dataset ds = {0};
    rt_error err;
    cr_assert(rt_dataset_alloc(&ds, 20, &(rt_shape){ 1, { F } }, true, 1.0f / 255.0f, 3, &err), "%s", err.msg);
    uint32_t s = 17;
    for (long k = 0; k < 20L * F; k++) ds.x_u8[k] = (lcg(&s) >> 24) < 180 ? 0 : (uint8_t)(lcg(&s) >> 24);
    for (int i = 0; i < 20; i++) ds.labels[i] = i % 3;
    int64_t idx[ROWS] = {19, 3, 3, 0, 7, 12, 5, 18, 1};
    float x[ROWS * F], y[ROWS * 3], y2[ROWS * 3];
    rt_dataset_gather(&ds, idx, ROWS, x, y);
    rt_rowsparse a = {0}, b = {0};
    cr_assert(rt_rowsparse_reserve(&a, ROWS, ROWS * F, NULL));
    cr_assert(rt_rowsparse_reserve(&b, ROWS, ROWS * F, NULL));
    cr_assert(rt_rowsparse_build(&a, rt_cpu_simd(), x, ROWS, F));
    cr_assert(rt_dataset_gather_sparse(&ds, idx, ROWS, &b, y2));
    long nnz = a.start[ROWS];
    cr_assert_eq(b.start[ROWS], nnz);
    cr_assert(memcmp(a.start, b.start, (ROWS + 1) * sizeof(int32_t)) == 0);
    cr_assert(memcmp(a.col, b.col, (size_t)nnz * sizeof(int32_t)) == 0);
    assert_same_bits(b.val, a.val, nnz, "compressed values");
    assert_same_bits(y2, y, ROWS * 3, "one-hot labels");
    /* too dense for the capacity: refused, so the caller gathers floats */
    rt_rowsparse c = {0};
    cr_assert(rt_rowsparse_reserve(&c, ROWS, nnz - 1, NULL));
    cr_assert_not(rt_dataset_gather_sparse(&ds, idx, ROWS, &c, y2));
    rt_rowsparse_release(&a);
    rt_rowsparse_release(&b);
    rt_rowsparse_release(&c);
    rt_dataset_free(&ds);
}

/* Batchnorm's per-feature sums (statistics, parameter gradients) and
 * dense's bias gradient at every width from 1 to 110: the AVX2 bodies run
 * up to six groups of eight features side by side and the scalar tails
 * up to four sums at once, so every group count, two passes of groups
 * (d8 > 48) and every tail length (0..7) must give the plain loops' bits. */
Test(simd, per_feature_sums_every_width)
{
    enum { R = 9 };
    for (int d = 1; d <= 110; d++) {
        long nd = (long)R * d;
        float *x = malloc((size_t)nd * sizeof *x), *dy = malloc((size_t)nd * sizeof *dy);
        float *xhat = malloc((size_t)nd * sizeof *xhat), *dx = malloc((size_t)nd * sizeof *dx);
        float *mean = malloc((size_t)d * sizeof *mean), *inv = malloc((size_t)d * sizeof *inv);
        float *dbeta = malloc((size_t)d * sizeof *dbeta), *dgamma = malloc((size_t)d * sizeof *dgamma);
        cr_assert(x && dy && xhat && dx && mean && inv && dbeta && dgamma);
        uint32_t s = 100u + (uint32_t)d;
        for (long k = 0; k < nd; k++) {
            x[k] = uniform(&s, -3.0f, 3.0f);
            dy[k] = uniform(&s, -1.0f, 1.0f);
        }
        rt_layer l;
        rt_error err;
        rt_layer_spec spec = rt_spec_batchnorm(0.99f, 1e-3f);
        cr_assert(rt_layer_setup(&l, &spec, d, &err), "%s", err.msg);
        cr_assert(rt_layer_reserve(&l, R, &err));
        rt_layer_init(&l, NULL);          /* gamma 1, beta 0 */
        for (int j = 0; j < d; j++) {
            float sum = 0.0f, ss = 0.0f;
            for (int i = 0; i < R; i++) sum += x[i * d + j];
            mean[j] = sum / (float)R;
            for (int i = 0; i < R; i++) {
                float c = x[i * d + j] - mean[j];
                ss += c * c;
            }
            inv[j] = 1.0f / sqrtf(ss / (float)R + 1e-3f);
            dbeta[j] = dgamma[j] = 0.0f;
            for (int i = 0; i < R; i++) {
                xhat[i * d + j] = (x[i * d + j] - mean[j]) * inv[j];
                dbeta[j] += dy[i * d + j];
                dgamma[j] += dy[i * d + j] * xhat[i * d + j];
            }
            float c = 1.0f * inv[j] / (float)R;
            for (int i = 0; i < R; i++)
                dx[i * d + j] = c * ((float)R * dy[i * d + j] - dbeta[j] - xhat[i * d + j] * dgamma[j]);
        }
        const float *got = rt_layer_forward(&l, x, R, true, NULL);
        for (long k = 0; k < nd; k++) xhat[k] = xhat[k] * 1.0f + 0.0f;     /* y = gamma xhat + beta */
        assert_same_bits(got, xhat, nd, "batchnorm y");
        const float *gdx = rt_layer_backward(&l, dy, R, true, NULL);
        assert_same_bits(l.params[0].g, dgamma, d, "dgamma");
        assert_same_bits(l.params[1].g, dbeta, d, "dbeta");
        assert_same_bits(gdx, dx, nd, "batchnorm dx");
        rt_layer_release(&l);

        /* dense: the bias gradient is the column sums of dy, rows in order */
        rt_layer_spec dspec = rt_spec_dense(d, RT_ACT_LINEAR, RT_INIT_GLOROT_UNIFORM);
        cr_assert(rt_layer_setup(&l, &dspec, 2, &err), "%s", err.msg);
        cr_assert(rt_layer_reserve(&l, R, &err));
        rt_rng rng;
        rt_rng_init(&rng, 2, RT_STREAM_INIT);
        rt_layer_init(&l, &rng);
        float xin[2 * R];
        for (int k = 0; k < 2 * R; k++) xin[k] = uniform(&s, -1.0f, 1.0f);
        rt_layer_forward(&l, xin, R, true, NULL);
        rt_layer_backward(&l, dy, R, false, NULL);
        for (int j = 0; j < d; j++) {
            dbeta[j] = 0.0f;
            for (int i = 0; i < R; i++) dbeta[j] += dy[i * d + j];
        }
        assert_same_bits(l.params[1].g, dbeta, d, "bias gradient");
        rt_layer_release(&l);
        free(x); free(dy); free(xhat); free(dx); free(mean); free(inv); free(dbeta); free(dgamma);
    }
}
