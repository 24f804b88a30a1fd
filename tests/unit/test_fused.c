/*
 * test_fused.c — the fused passes (fused.h) give the bits of the separate
 * ones: every SIMD level the machine has (scalar, avx2, avx512) against
 * the formulas written as plain loops, over every width up to past four
 * vectors of sixteen (so each block size, vector count and tail runs),
 * and a training step through the model against the layers run one by one.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "cpu.h"
#include "fused.h"
#include "layers.h"
#include "losses.h"
#include "mathf.h"
#include "model.h"

static uint32_t lcg(uint32_t *s) { return *s = *s * 1664525u + 1013904223u; }
static float uniform(uint32_t *s, float lo, float hi)
{
    return lo + (hi - lo) * ((float)(lcg(s) >> 8) / 16777216.0f);
}

static void same_bits(const float *got, const float *want, long n, const char *what, int level,
                      int d)
{
    for (long i = 0; i < n; i++)
        cr_assert(memcmp(&got[i], &want[i], sizeof(float)) == 0,
                  "%s (%s, width %d) differs at %ld: %a vs %a", what,
                  rt_simd_name((rt_simd)level), d, i, (double)got[i], (double)want[i]);
}

static const rt_simd levels[] = {RT_SIMD_SCALAR, RT_SIMD_AVX2, RT_SIMD_AVX512};
enum { NLEVELS = sizeof levels / sizeof levels[0] };

Test(fused, bn_grad_act_every_width_and_level)
{
    const rt_act acts[] = {RT_ACT_LINEAR, RT_ACT_RELU, RT_ACT_SIGMOID};
    const int rows[] = {1, 3, 10};
    for (int d = 1; d <= 70; d++)
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            int n = rows[r];
            long nd = (long)n * d;
            float *dy = malloc((size_t)nd * sizeof(float)), *xhat = malloc((size_t)nd * sizeof(float));
            float *z = malloc((size_t)nd * sizeof(float)), *y = malloc((size_t)nd * sizeof(float));
            float *dz = malloc((size_t)nd * sizeof(float)), *want = malloc((size_t)nd * sizeof(float));
            float *c = malloc((size_t)d * sizeof(float)), *sb = malloc((size_t)d * sizeof(float));
            float *sg = malloc((size_t)d * sizeof(float)), *db = malloc((size_t)d * sizeof(float));
            float *wdb = malloc((size_t)d * sizeof(float));
            cr_assert(dy && xhat && z && y && dz && want && c && sb && sg && db && wdb);
            uint32_t s = 7u + (uint32_t)(d * 31 + n);
            for (long k = 0; k < nd; k++) {
                dy[k] = uniform(&s, -1.0f, 1.0f);
                xhat[k] = uniform(&s, -3.0f, 3.0f);
                z[k] = uniform(&s, -2.0f, 2.0f);
                y[k] = uniform(&s, 0.0f, 1.0f);
            }
            z[0] = 0.0f;                       /* relu's kink from both sides */
            if (nd > 1) z[1] = -0.0f;
            if (nd > 2) dy[2] = -dy[2], z[2] = -1.0f;   /* a negative gradient times 0: -0 */
            for (int j = 0; j < d; j++) {
                c[j] = uniform(&s, 0.01f, 0.5f);
                sb[j] = uniform(&s, -2.0f, 2.0f);
                sg[j] = uniform(&s, -2.0f, 2.0f);
            }
            float p[RT_ACT_MAX_PARAMS];
            for (size_t a = 0; a < sizeof acts / sizeof acts[0]; a++) {
                rt_act_defaults(acts[a], p);
                cr_assert(rt_fused_grad_act_ok(acts[a], p));
                float fn = (float)n;
                for (int j = 0; j < d; j++) {
                    float acc = 0.0f;
                    for (int i = 0; i < n; i++) {
                        long at = (long)i * d + j;
                        float g = c[j] * (fn * dy[at] - sb[j] - xhat[at] * sg[j]);
                        if (acts[a] == RT_ACT_RELU) g = g * (z[at] > 0.0f ? 1.0f : 0.0f);
                        if (acts[a] == RT_ACT_SIGMOID) g = g * (y[at] * (1.0f - y[at]));
                        want[at] = g;
                        acc += g;
                    }
                    wdb[j] = acc;
                }
                for (int l = 0; l < NLEVELS; l++) {
                    if (!rt_cpu_has(levels[l])) continue;
                    memset(dz, 0xff, (size_t)nd * sizeof(float));
                    memset(db, 0xff, (size_t)d * sizeof(float));
                    cr_assert(rt_fused_bn_grad_act(levels[l], acts[a], p, dy, xhat, n, d, c, sb, sg,
                                                   z, acts[a] == RT_ACT_LINEAR ? NULL : y, dz, db));
                    same_bits(dz, want, nd, rt_act_get(acts[a])->name, (int)levels[l], d);
                    same_bits(db, wdb, d, "bias gradient", (int)levels[l], d);
                }
            }
            free(dy); free(xhat); free(z); free(y); free(dz); free(want);
            free(c); free(sb); free(sg); free(db); free(wdb);
        }
}

Test(fused, bn_grad_act_declines_what_it_does_not_cover)
{
    float p[RT_ACT_MAX_PARAMS];
    rt_act_defaults(RT_ACT_RELU, p);
    p[0] = 0.1f;                                        /* relu with a slope */
    cr_assert_not(rt_fused_grad_act_ok(RT_ACT_RELU, p));
    rt_act_defaults(RT_ACT_TANH, p);
    cr_assert_not(rt_fused_grad_act_ok(RT_ACT_TANH, p));
    float x = 1.0f;
    cr_assert_not(rt_fused_bn_grad_act(RT_SIMD_NEON, RT_ACT_LINEAR, p, &x, &x, 1, 1, &x, &x, &x,
                                       &x, NULL, &x, &x));
}

/* crossentropy in one pass against rt_loss_eval and rt_loss_correct:
 * the value to the bit, the gradient's bits, the count */
Test(fused, xent_is_eval_and_correct)
{
    const int rows[] = {1, 7, 100};
    for (int c = 2; c <= 35; c++)
        for (size_t r = 0; r < sizeof rows / sizeof rows[0]; r++) {
            int n = rows[r];
            long nc = (long)n * c;
            float *p = malloc((size_t)nc * sizeof(float)), *y = calloc((size_t)nc, sizeof(float));
            float *g = malloc((size_t)nc * sizeof(float)), *wg = malloc((size_t)nc * sizeof(float));
            cr_assert(p && y && g && wg);
            uint32_t s = 3u + (uint32_t)(c * 101 + n);
            for (int i = 0; i < n; i++) {
                float *pi = p + (long)i * c, *yi = y + (long)i * c, sum = 0.0f;
                for (int j = 0; j < c; j++) sum += pi[j] = uniform(&s, 0.0f, 1.0f);
                for (int j = 0; j < c; j++) pi[j] /= sum;
                switch (i % 6) {
                case 0: pi[c - 1] = pi[0] = 0.9f; break;          /* tied maxima: the first wins */
                case 1: pi[1] = 0.0f; yi[1] = 1.0f; break;         /* clipped (torch: inf) */
                case 2: pi[0] = NAN; break;                        /* NaN: argmax keeps 0 */
                case 3: yi[0] = 0.25f; yi[c - 1] = 0.75f; break;   /* two targets */
                default: break;
                }
                if (i % 6 != 1 && i % 6 != 3) yi[lcg(&s) % (uint32_t)c] = 1.0f;
            }
            for (int clip = 0; clip <= 1; clip++) {
                rt_loss loss = clip ? RT_LOSS_CROSSENTROPY : RT_LOSS_TORCH_CROSSENTROPY;
                double want = rt_loss_eval(loss, p, y, n, c, wg);
                double wcorrect = rt_loss_correct(loss, p, y, n, c);
                for (int l = 0; l < NLEVELS; l++) {
                    if (!rt_cpu_has(levels[l])) continue;
                    double correct = -1.0;
                    memset(g, 0xff, (size_t)nc * sizeof(float));
                    double got = rt_fused_xent(levels[l], clip, p, y, n, c, g, &correct);
                    cr_assert(memcmp(&got, &want, sizeof got) == 0, "%s c %d n %d: %a vs %a",
                              rt_simd_name(levels[l]), c, n, got, want);
                    cr_assert(correct == wcorrect, "correct %g vs %g", correct, wcorrect);
                    same_bits(g, wg, nc, "crossentropy gradient", (int)levels[l], c);
                    got = rt_fused_xent(levels[l], clip, p, y, n, c, NULL, NULL);
                    cr_assert(memcmp(&got, &want, sizeof got) == 0);
                }
            }
            free(p); free(y); free(g); free(wg);
        }
}

/* A training step's gradients through the model (fused where it can:
 * dense relu/sigmoid/linear before batchnorm, the crossentropy tail)
 * against the same layers run one at a time with the separate passes;
 * a relu with a slope and a tanh take the separate path in both. */
Test(fused, train_step_is_the_layers_one_by_one)
{
    enum { N = 23, IN = 5, NL = 11 };
    float rp[RT_ACT_MAX_PARAMS];
    rt_act_defaults(RT_ACT_RELU, rp);
    rt_layer_spec specs[NL] = {
        rt_spec_dense(19, RT_ACT_RELU, RT_INIT_GLOROT_UNIFORM),
        rt_spec_batchnorm(0.99f, 1e-3f),
        rt_spec_dense(17, RT_ACT_SIGMOID, RT_INIT_GLOROT_UNIFORM),
        rt_spec_batchnorm(0.9f, 1e-3f),
        rt_spec_dense(33, RT_ACT_LINEAR, RT_INIT_GLOROT_UNIFORM),
        rt_spec_batchnorm(0.9f, 1e-3f),
        rt_spec_dense(9, RT_ACT_RELU, RT_INIT_GLOROT_UNIFORM),
        rt_spec_batchnorm(0.9f, 1e-3f),
        rt_spec_dense(8, RT_ACT_TANH, RT_INIT_GLOROT_UNIFORM),
        rt_spec_batchnorm(0.9f, 1e-3f),
        rt_spec_dense(7, RT_ACT_SOFTMAX, RT_INIT_GLOROT_UNIFORM),
    };
    specs[6].act_params[0] = 0.1f;                     /* relu with a slope */
    float x[N * IN], y[N * 7];
    uint32_t s = 77;
    for (int k = 0; k < N * IN; k++) x[k] = uniform(&s, -2.0f, 2.0f);
    memset(y, 0, sizeof y);
    for (int i = 0; i < N; i++) y[i * 7 + (int)(lcg(&s) % 7u)] = 1.0f;
    rt_error err;
    rt_rng r1, r2;
    rt_rng_init(&r1, 4, RT_STREAM_INIT);
    rt_rng_init(&r2, 4, RT_STREAM_INIT);
    rt_model *m = rt_model_create(specs, NL, IN, &r1, NULL, &err);
    rt_model *ref = rt_model_create(specs, NL, IN, &r2, NULL, &err);
    cr_assert(m && ref, "%s", err.msg);
    double loss, correct;
    cr_assert(rt_model_train_step(m, NULL, x, y, N, RT_LOSS_CROSSENTROPY, &loss, &correct, &err),
              "%s", err.msg);
    /* the reference: forward, loss, backward layer by layer */
    cr_assert(rt_model_reserve(ref, N, &err));
    const float *h = x;
    for (int i = 0; i < NL; i++) h = rt_layer_forward(rt_model_layer(ref, i), h, N, true, NULL);
    float grad[N * 7];
    double wloss = rt_loss_eval(RT_LOSS_CROSSENTROPY, h, y, N, 7, grad);
    double wcorrect = rt_loss_correct(RT_LOSS_CROSSENTROPY, h, y, N, 7);
    rt_model_layer(ref, NL - 1)->skip_act_grad = true;
    const float *d = grad;
    for (int i = NL - 1; i >= 0; i--) d = rt_layer_backward(rt_model_layer(ref, i), d, N, i > 0, NULL);
    cr_assert(memcmp(&loss, &wloss, sizeof loss) == 0, "loss %a vs %a", loss, wloss);
    cr_assert(correct == wcorrect);
    rt_param *pm, *pr;
    int np = rt_model_params(m, &pm);
    cr_assert(np == rt_model_params(ref, &pr));
    for (int k = 0; k < np; k++) {
        same_bits(pm[k].w, pr[k].w, pm[k].size, pm[k].name, (int)rt_cpu_simd(), k);
        if (pm[k].trainable) same_bits(pm[k].g, pr[k].g, pm[k].size, pm[k].name, (int)rt_cpu_simd(), k);
    }
    for (int i = 0; i < NL; i++) {
        cr_assert_not(rt_model_layer(m, i)->skip_act_grad, "layer %d keeps a fused flag", i);
        cr_assert_not(rt_model_layer(m, i)->bias_grad_done, "layer %d keeps a fused flag", i);
    }
    rt_model_free(m);
    rt_model_free(ref);
}

/* softmax's last sweep divides eight at a time (activations.c): every
 * width against the row loop, rows with a huge entry whose others
 * underflow to 0 and a row of equal entries */
Test(fused, softmax_every_width)
{
    enum { R = 5 };
    for (int d = 1; d <= 40; d++) {
        float z[R * 40], y[R * 40], want[R * 40];
        uint32_t s = 50u + (uint32_t)d;
        for (int k = 0; k < R * d; k++) z[k] = uniform(&s, -8.0f, 8.0f);
        z[d - 1] = 100.0f;                       /* row 0: the rest underflow */
        for (int j = 0; j < d; j++) z[2 * d + j] = 0.5f;
        rt_act_get(RT_ACT_SOFTMAX)->forward(z, y, R, d, NULL);
        for (int r = 0; r < R; r++) {
            const float *zr = z + r * d;
            float *wr = want + r * d, mx = zr[0], sum = 0.0f;
            for (int j = 1; j < d; j++) mx = zr[j] > mx ? zr[j] : mx;
            for (int j = 0; j < d; j++) { wr[j] = rt_expf(zr[j] - mx); sum += wr[j]; }
            for (int j = 0; j < d; j++) wr[j] = wr[j] / sum;
        }
        same_bits(y, want, (long)R * d, "softmax", (int)rt_cpu_simd(), d);
    }
}

#if defined(__x86_64__)
/* eight floats from bit patterns u, u + step, ... through rt_logf8_avx2 */
__attribute__((target("avx2")))
static void log8_bits(uint32_t u, uint32_t step, float *x, float *y)
{
    for (int i = 0; i < 8; i++) {
        uint32_t b = u + (uint32_t)i * step;
        memcpy(&x[i], &b, sizeof b);
    }
    _mm256_storeu_ps(y, rt_logf8_avx2(_mm256_loadu_ps(x)));
}

/* rt_logf8_avx2 is rt_logf on every lane: every third float from 2^-30
 * to 2 (crossentropy's clipped probabilities lie in [1e-7, 1)), and a
 * sample of all bit patterns (negatives, zeros, subnormals, inf, NaN,
 * the largest) for the lanes it hands to rt_logf */
Test(fused, logf8_is_rt_logf_on_every_lane)
{
    if (!rt_cpu_has(RT_SIMD_AVX2)) return;
    float x[8], y[8];
    const uint32_t lo = 0x30800000u, hi = 0x40000000u;      /* 2^-30, 2 */
    for (uint32_t u = lo; u < hi; u += 24) {
        log8_bits(u, 3, x, y);
        for (int i = 0; i < 8; i++) {
            float w = rt_logf(x[i]);
            cr_assert(memcmp(&y[i], &w, sizeof w) == 0, "log(%a): %a vs %a", (double)x[i],
                      (double)y[i], (double)w);
        }
    }
    for (uint64_t u = 0; u <= 0xffffffffu; u += 8 * 65521u) {
        log8_bits((uint32_t)u, 65521u, x, y);
        for (int i = 0; i < 8; i++) {
            float w = rt_logf(x[i]);
            cr_assert(memcmp(&y[i], &w, sizeof w) == 0 || (isnan(y[i]) && isnan(w)),
                      "log(%a): %a vs %a", (double)x[i], (double)y[i], (double)w);
        }
    }
    const uint32_t special[8] = {0x00000000u, 0x80000000u, 0x7f800000u, 0xff800000u,
                                 0x7fc00000u, 0x00000001u, 0x7f7fffffu, 0xbf800000u};
    for (int i = 0; i < 8; i++) {
        log8_bits(special[i], 0, x, y);       /* 0, -0, inf, -inf, NaN, least, largest, -1 */
        float w = rt_logf(x[i]);
        cr_assert(memcmp(&y[i], &w, sizeof w) == 0, "log(%a): %a vs %a", (double)x[i],
                  (double)y[i], (double)w);
    }
}
#endif
