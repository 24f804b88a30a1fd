/*
 * fused.c — fused per-element passes of the narrow layers (see fused.h).
 *
 * rt_fused_bn_grad_act has three bodies: the scalar twin (the formulas of
 * the separate passes, element by element; on x86 it also does the
 * columns past the last whole vector of eight at the avx2 level), avx2
 * (eight features per vector, rows in order) and avx512 (sixteen, the
 * last vector of a block masked, so no scalar tail). Its per-feature sums
 * run in blocks of feature vectors side by side, each vector's chain
 * adding rows 0..n-1 in order. rt_fused_xent is one scalar loop over the
 * rows, with the gradient's divisions and the one-hot rows' logs eight at
 * a time at the avx2 and avx512 levels.
 */
#include <stdint.h>
#include "fused.h"
#include "losses.h"
#include "mathf.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define FUSED_X86 1
#else
#define FUSED_X86 0
#endif

/* ---- scalar twins ------------------------------------------------------------ */

/* columns [j0, d) of rt_fused_bn_grad_act, one column at a time */
static void bn_grad_act_scalar(rt_act act, const float *dy, const float *xhat, int n, int d, int j0,
                               const float *c, const float *dbeta, const float *dgamma,
                               const float *z, const float *y, float *dz, float *db)
{
    float fn = (float)n;
    for (int j = j0; j < d; j++) {
        float acc = 0.0f;
        for (int i = 0; i < n; i++) {
            long at = (long)i * d + j;
            float g = c[j] * (fn * dy[at] - dbeta[j] - xhat[at] * dgamma[j]);
            if (act == RT_ACT_RELU) g = g * (z[at] > 0.0f ? 1.0f : 0.0f);
            else if (act == RT_ACT_SIGMOID) g = g * (y[at] * (1.0f - y[at]));
            dz[at] = g;
            acc += g;
        }
        db[j] = acc;
    }
}

#if FUSED_X86
/* ---- avx2 ---------------------------------------------------------------------- */

/* grad[k] = (p[k] - y[k]) / fn, eight at a time; returns how many */
__attribute__((target("avx2")))
static long xent_grad_avx2(const float *p, const float *y, float *grad, long size, float fn)
{
    __m256 f = _mm256_set1_ps(fn);
    long k = 0;
    for (; k + 8 <= size; k += 8)
        _mm256_storeu_ps(grad + k, _mm256_div_ps(_mm256_sub_ps(_mm256_loadu_ps(p + k),
                                                               _mm256_loadu_ps(y + k)), f));
    return k;
}

/* q[k] = rt_logf(q[k]) for k < n, n % 8 == 0 */
__attribute__((target("avx2")))
static void logs_avx2(float *q, int n)
{
    for (int k = 0; k < n; k += 8) _mm256_storeu_ps(q + k, rt_logf8_avx2(_mm256_loadu_ps(q + k)));
}

/* G vectors of eight features (columns [0, 8G) of the pointers) */
__attribute__((target("avx2"), always_inline))
static inline void bn_grad_act_avx2_groups(int G, rt_act act, const float *dy, const float *xhat,
                                           int n, int d, const float *c, const float *dbeta,
                                           const float *dgamma, const float *z, const float *y,
                                           float *dz, float *db)
{
    __m256 fn = _mm256_set1_ps((float)n), one = _mm256_set1_ps(1.0f), acc[6];
    #pragma GCC unroll 6
    for (int g = 0; g < G; g++) acc[g] = _mm256_setzero_ps();
    for (int i = 0; i < n; i++)
        #pragma GCC unroll 6
        for (int g = 0; g < G; g++) {
            long at = (long)i * d + 8 * g;
            __m256 t = _mm256_sub_ps(_mm256_mul_ps(fn, _mm256_loadu_ps(dy + at)),
                                     _mm256_loadu_ps(dbeta + 8 * g));
            t = _mm256_sub_ps(t, _mm256_mul_ps(_mm256_loadu_ps(xhat + at),
                                               _mm256_loadu_ps(dgamma + 8 * g)));
            t = _mm256_mul_ps(_mm256_loadu_ps(c + 8 * g), t);
            if (act == RT_ACT_RELU)
                t = _mm256_mul_ps(t, _mm256_and_ps(one, _mm256_cmp_ps(_mm256_loadu_ps(z + at),
                                                                      _mm256_setzero_ps(),
                                                                      _CMP_GT_OQ)));
            else if (act == RT_ACT_SIGMOID) {
                __m256 yv = _mm256_loadu_ps(y + at);
                t = _mm256_mul_ps(t, _mm256_mul_ps(yv, _mm256_sub_ps(one, yv)));
            }
            _mm256_storeu_ps(dz + at, t);
            acc[g] = _mm256_add_ps(acc[g], t);
        }
    #pragma GCC unroll 6
    for (int g = 0; g < G; g++) _mm256_storeu_ps(db + 8 * g, acc[g]);
}

#define FUSED_BN_GROUPS(G, act, j) \
    bn_grad_act_avx2_groups(G, act, dy + j, xhat + j, n, d, c + j, dbeta + j, dgamma + j, \
                            z + j, y + j, dz + j, db + j)

/* columns [0, d8) in blocks of up to six vectors */
__attribute__((target("avx2"), always_inline))
static inline void bn_grad_act_avx2_act(rt_act act, const float *dy, const float *xhat, int n,
                                        int d, int d8, const float *c, const float *dbeta,
                                        const float *dgamma, const float *z, const float *y,
                                        float *dz, float *db)
{
    for (int j = 0; j < d8; j += 48) {
        switch ((d8 - j) / 8) {
        case 1: FUSED_BN_GROUPS(1, act, j); break;
        case 2: FUSED_BN_GROUPS(2, act, j); break;
        case 3: FUSED_BN_GROUPS(3, act, j); break;
        case 4: FUSED_BN_GROUPS(4, act, j); break;
        case 5: FUSED_BN_GROUPS(5, act, j); break;
        default: FUSED_BN_GROUPS(6, act, j); break;
        }
    }
}

__attribute__((target("avx2")))
static void bn_grad_act_avx2(rt_act act, const float *dy, const float *xhat, int n, int d, int d8,
                             const float *c, const float *dbeta, const float *dgamma,
                             const float *z, const float *y, float *dz, float *db)
{
    switch (act) {
    case RT_ACT_RELU:
        bn_grad_act_avx2_act(RT_ACT_RELU, dy, xhat, n, d, d8, c, dbeta, dgamma, z, y, dz, db);
        break;
    case RT_ACT_SIGMOID:
        bn_grad_act_avx2_act(RT_ACT_SIGMOID, dy, xhat, n, d, d8, c, dbeta, dgamma, z, y, dz, db);
        break;
    default:
        bn_grad_act_avx2_act(RT_ACT_LINEAR, dy, xhat, n, d, d8, c, dbeta, dgamma, z, y, dz, db);
        break;
    }
}
#undef FUSED_BN_GROUPS

/* ---- avx512: sixteen features per vector, the row's last vector masked ---------- */

static inline __mmask16 lanes(int left) { return left >= 16 ? 0xffff : (__mmask16)((1u << left) - 1); }

/* G vectors of sixteen features, the last one's lanes `last` */
__attribute__((target("avx512f"), always_inline))
static inline void bn_grad_act_avx512_groups(int G, __mmask16 last, rt_act act, const float *dy,
                                             const float *xhat, int n, int d, const float *c,
                                             const float *dbeta, const float *dgamma,
                                             const float *z, const float *y, float *dz, float *db)
{
    __m512 fn = _mm512_set1_ps((float)n), one = _mm512_set1_ps(1.0f);
    __m512 acc[4], cv[4], sb[4], sg[4];
    #pragma GCC unroll 4
    for (int g = 0; g < G; g++) {
        __mmask16 m = g == G - 1 ? last : 0xffff;
        acc[g] = _mm512_setzero_ps();
        cv[g] = _mm512_maskz_loadu_ps(m, c + 16 * g);
        sb[g] = _mm512_maskz_loadu_ps(m, dbeta + 16 * g);
        sg[g] = _mm512_maskz_loadu_ps(m, dgamma + 16 * g);
    }
    for (int i = 0; i < n; i++)
        #pragma GCC unroll 4
        for (int g = 0; g < G; g++) {
            __mmask16 m = g == G - 1 ? last : 0xffff;
            long at = (long)i * d + 16 * g;
            __m512 t = _mm512_sub_ps(_mm512_mul_ps(fn, _mm512_maskz_loadu_ps(m, dy + at)), sb[g]);
            t = _mm512_sub_ps(t, _mm512_mul_ps(_mm512_maskz_loadu_ps(m, xhat + at), sg[g]));
            t = _mm512_mul_ps(cv[g], t);
            if (act == RT_ACT_RELU)
                t = _mm512_mul_ps(t, _mm512_maskz_mov_ps(
                    _mm512_cmp_ps_mask(_mm512_maskz_loadu_ps(m, z + at), _mm512_setzero_ps(),
                                       _CMP_GT_OQ), one));
            else if (act == RT_ACT_SIGMOID) {
                __m512 yv = _mm512_maskz_loadu_ps(m, y + at);
                t = _mm512_mul_ps(t, _mm512_mul_ps(yv, _mm512_sub_ps(one, yv)));
            }
            _mm512_mask_storeu_ps(dz + at, m, t);
            acc[g] = _mm512_add_ps(acc[g], t);
        }
    #pragma GCC unroll 4
    for (int g = 0; g < G; g++) _mm512_mask_storeu_ps(db + 16 * g, g == G - 1 ? last : 0xffff, acc[g]);
}

#define FUSED_BN_GROUPS(G, act, j) \
    bn_grad_act_avx512_groups(G, lanes(d - j - 16 * (G - 1)), act, dy + j, xhat + j, n, d, c + j, \
                              dbeta + j, dgamma + j, z + j, y + j, dz + j, db + j)

/* all d columns in blocks of up to four vectors */
__attribute__((target("avx512f"), always_inline))
static inline void bn_grad_act_avx512_act(rt_act act, const float *dy, const float *xhat, int n,
                                          int d, const float *c, const float *dbeta,
                                          const float *dgamma, const float *z, const float *y,
                                          float *dz, float *db)
{
    for (int j = 0; j < d; j += 64) {
        switch ((d - j + 15) / 16) {
        case 1: FUSED_BN_GROUPS(1, act, j); break;
        case 2: FUSED_BN_GROUPS(2, act, j); break;
        case 3: FUSED_BN_GROUPS(3, act, j); break;
        default: FUSED_BN_GROUPS(4, act, j); break;
        }
    }
}

__attribute__((target("avx512f")))
static void bn_grad_act_avx512(rt_act act, const float *dy, const float *xhat, int n, int d,
                               const float *c, const float *dbeta, const float *dgamma,
                               const float *z, const float *y, float *dz, float *db)
{
    switch (act) {
    case RT_ACT_RELU:
        bn_grad_act_avx512_act(RT_ACT_RELU, dy, xhat, n, d, c, dbeta, dgamma, z, y, dz, db);
        break;
    case RT_ACT_SIGMOID:
        bn_grad_act_avx512_act(RT_ACT_SIGMOID, dy, xhat, n, d, c, dbeta, dgamma, z, y, dz, db);
        break;
    default:
        bn_grad_act_avx512_act(RT_ACT_LINEAR, dy, xhat, n, d, c, dbeta, dgamma, z, y, dz, db);
        break;
    }
}
#undef FUSED_BN_GROUPS

/* rt_fused_xent's scan of a row of up to 16 classes without a branch per
 * class (its scalar loop mispredicted on every new maximum and target:
 * 2.5 us for the study's 100 x 10 on fresh batches): the first maximum of
 * p and of y (reduce, then the first lane equal to it; -0 == +0, as the
 * loop's > ties them too), the targets y != 0 and the last of them. A row
 * with a NaN goes the scalar way (a vector max and the loop's > disagree
 * there): false. */
__attribute__((target("avx512f")))
static bool xent_row_scan16(const float *pi, const float *yi, int c, int *ip, int *iy,
                            int *targets, int *jt)
{
    const __mmask16 m = (__mmask16)((1u << c) - 1);
    const __m512 p = _mm512_maskz_loadu_ps(m, pi), y = _mm512_maskz_loadu_ps(m, yi);
    if (_mm512_mask_cmp_ps_mask(m, p, y, _CMP_UNORD_Q)) return false;
    const __m512 pmax = _mm512_set1_ps(_mm512_mask_reduce_max_ps(m, p));
    const __m512 ymax = _mm512_set1_ps(_mm512_mask_reduce_max_ps(m, y));
    *ip = __builtin_ctz(_mm512_mask_cmp_ps_mask(m, p, pmax, _CMP_EQ_OQ));
    *iy = __builtin_ctz(_mm512_mask_cmp_ps_mask(m, y, ymax, _CMP_EQ_OQ));
    const unsigned nz = _mm512_mask_cmp_ps_mask(m, y, _mm512_setzero_ps(), _CMP_NEQ_UQ);
    *targets = __builtin_popcount(nz);
    *jt = nz ? 31 - __builtin_clz(nz) : 0;
    return true;
}

#endif

/* ---- dispatch ------------------------------------------------------------------- */

/* Levels with a body here: scalar always, avx2 and avx512 on x86. */
static bool level_ok(rt_simd simd)
{
    return simd == RT_SIMD_SCALAR || (FUSED_X86 && (simd == RT_SIMD_AVX2 || simd == RT_SIMD_AVX512));
}

static bool plain_relu(const float *p) { return p[0] == 0.0f && p[1] == INFINITY && p[2] == 0.0f; }

bool rt_fused_grad_act_ok(rt_act act, const float *p)
{
    return act == RT_ACT_LINEAR || act == RT_ACT_SIGMOID || (act == RT_ACT_RELU && plain_relu(p));
}

static float clip_p(float p)
{
    return p < RT_CLIP_EPS ? RT_CLIP_EPS : p > 1.0f - RT_CLIP_EPS ? 1.0f - RT_CLIP_EPS : p;
}

double rt_fused_xent(rt_simd simd, bool clip, const float *p, const float *y, int n, int c,
                     float *grad, double *correct)
{
    long size = (long)n * c, k = 0;
    if (grad) {
        float fn = (float)n;
#if FUSED_X86
        if (simd == RT_SIMD_AVX2 || simd == RT_SIMD_AVX512) k = xent_grad_avx2(p, y, grad, size, fn);
#else
        (void)simd;
#endif
        for (; k < size; k++) grad[k] = (p[k] - y[k]) / fn;
    }
    /* Rows with one target (one-hot labels) leave their log to a vector
     * of eight rows' (crossentropy's clip keeps p positive and normal),
     * a chunk of rows at a time; the rest, and every row without the
     * vector, as rt_loss_eval: row -= y log(clip p) over the targets. */
    enum { CHUNK = 64 };
    bool vec = FUSED_X86 && clip && (simd == RT_SIMD_AVX2 || simd == RT_SIMD_AVX512);
    bool scan16 = FUSED_X86 && simd == RT_SIMD_AVX512 && c >= 1 && c <= 16;
    double total = 0.0, hits = 0.0;
    for (int i0 = 0; i0 < n; i0 += CHUNK) {
        int rows = n - i0 < CHUNK ? n - i0 : CHUNK;
        float q[CHUNK], w[CHUNK], rowv[CHUNK];
        bool one[CHUNK];
        for (int r = 0; r < rows; r++) {
            const float *pi = p + (long)(i0 + r) * c, *yi = y + (long)(i0 + r) * c;
            float row = 0.0f, bp = pi[0], by = yi[0];
            int ip = 0, iy = 0, targets = 0, jt = 0;
#if FUSED_X86
            if (!scan16 || !xent_row_scan16(pi, yi, c, &ip, &iy, &targets, &jt))
#else
            (void)scan16;
#endif
                for (int j = 0; j < c; j++) {
                    if (yi[j] != 0.0f) {
                        targets++;
                        jt = j;
                    }
                    if (pi[j] > bp) { bp = pi[j]; ip = j; }      /* the first maximum */
                    if (yi[j] > by) { by = yi[j]; iy = j; }
                }
            hits += ip == iy;
            one[r] = vec && targets == 1;
            q[r] = 1.0f;
            w[r] = 0.0f;
            if (one[r]) {
                q[r] = clip_p(pi[jt]);
                w[r] = yi[jt];
                continue;
            }
            for (int j = 0; targets && j < c; j++)
                if (yi[j] != 0.0f) row -= yi[j] * rt_logf(clip ? clip_p(pi[j]) : pi[j]);
            rowv[r] = row;
        }
#if FUSED_X86
        if (vec) {
            for (int r = rows; r < CHUNK; r++) q[r] = 1.0f;
            logs_avx2(q, (rows + 7) / 8 * 8);
        }
#endif
        for (int r = 0; r < rows; r++) {
            if (one[r]) rowv[r] = 0.0f - w[r] * q[r];
            total += rowv[r];
        }
    }
    if (correct) *correct = hits;
    return total / n;
}

bool rt_fused_bn_grad_act(rt_simd simd, rt_act act, const float *p, const float *dy,
                          const float *xhat, int n, int d, const float *c, const float *dbeta,
                          const float *dgamma, const float *z, const float *y, float *dz,
                          float *db)
{
    if (!level_ok(simd) || !rt_fused_grad_act_ok(act, p)) return false;
    if (!y) y = z;      /* linear: neither is read */
    int j0 = 0;
#if FUSED_X86
    if (simd == RT_SIMD_AVX512) {
        bn_grad_act_avx512(act, dy, xhat, n, d, c, dbeta, dgamma, z, y, dz, db);
        return true;
    }
    if (simd != RT_SIMD_SCALAR) {
        j0 = d - d % 8;
        if (j0) bn_grad_act_avx2(act, dy, xhat, n, d, j0, c, dbeta, dgamma, z, y, dz, db);
    }
#endif
    bn_grad_act_scalar(act, dy, xhat, n, d, j0, c, dbeta, dgamma, z, y, dz, db);
    return true;
}
