/*
 * mathf.h — exp, log, tanh, erf and friends that give the same bits on
 * every machine.
 *
 * libm's expf/logf/tanhf differ between libm versions and architectures in
 * the last bit, and a last bit is enough to change a training run after a
 * few thousand steps. These are written with +, -, *, / and correctly
 * rounded sqrt only (no fused multiply-add: the build has
 * -ffp-contract=off, so every compiler rounds each operation the same way),
 * which IEEE 754 fixes exactly on x86-64 and aarch64 alike. Accuracy,
 * checked by tests/unit/test_mathf.c against double-precision libm over
 * many points: rt_expf, rt_logf within 1 ulp, rt_tanhf, rt_expm1f,
 * rt_log1pf within 2 ulp, rt_erff within 2e-7 absolute. Special values follow C99:
 * NaN in, NaN out; expf(-inf) = 0; logf(0) = -inf; logf(x<0) = NaN.
 *
 * The whole runtime calls these, never libm's transcendental functions.
 */
#ifndef MLP_MATHF_H
#define MLP_MATHF_H

float rt_expf(float x);
float rt_logf(float x);
float rt_tanhf(float x);
float rt_expm1f(float x);   /* e^x - 1, accurate near 0 */
float rt_log1pf(float x);   /* ln(1 + x), accurate near 0 */
float rt_erff(float x);
/* b^k for an integer k by repeated squaring (1/b^|k| for k < 0): the one
 * power that optimizer bias corrections (beta^t) use, built-in or written
 * in the language, so both round alike. */
double rt_powi(double b, long k);

/* ---- eight at a time ---------------------------------------------------------
 * rt_expf8_avx2(x) is rt_expf on each lane, bit for bit: the same operations
 * in the same order (separate multiplies and adds, never fused), vectorised.
 * Lanes whose result is not a normal float scaled by 2^k with k in
 * [-126, 127] (|x| beyond ~87, inf, NaN) are recomputed by rt_expf itself, so
 * the special cases are handled in one place. For kernels compiled with
 * __attribute__((target("avx2"))). */
#if defined(__x86_64__)
#include <immintrin.h>

/* y with the lanes set in `lanes` (a movemask) replaced by f of x's lane:
 * the eight-wide functions' way out for the inputs their reduction does
 * not cover. */
__attribute__((target("avx2")))
static inline __m256 rt_lanes8_scalar(__m256 x, __m256 y, int lanes, float (*f)(float))
{
    if (!lanes) return y;
    float xs[8], ys[8];
    _mm256_storeu_ps(xs, x);
    _mm256_storeu_ps(ys, y);
    for (int i = 0; i < 8; i++)
        if (lanes >> i & 1) ys[i] = f(xs[i]);
    return _mm256_loadu_ps(ys);
}

__attribute__((target("avx2")))
static inline __m256 rt_expf8_avx2(__m256 x)
{
    const __m256 shifter = _mm256_set1_ps(12582912.0f);
    __m256 kf = _mm256_sub_ps(_mm256_add_ps(_mm256_mul_ps(x, _mm256_set1_ps(1.4426950409e+00f)),
                                            shifter), shifter);
    __m256i k = _mm256_cvttps_epi32(kf);
    __m256 r = _mm256_sub_ps(_mm256_sub_ps(x, _mm256_mul_ps(kf, _mm256_set1_ps(6.9313812256e-01f))),
                             _mm256_mul_ps(kf, _mm256_set1_ps(9.0580006145e-06f)));
#define RT_EXPF8_STEP(c) p = _mm256_add_ps(_mm256_mul_ps(p, r), _mm256_set1_ps(c))
    __m256 p = _mm256_set1_ps(1.0f / 5040.0f);
    RT_EXPF8_STEP(1.0f / 720.0f);
    RT_EXPF8_STEP(1.0f / 120.0f);
    RT_EXPF8_STEP(1.0f / 24.0f);
    RT_EXPF8_STEP(1.0f / 6.0f);
    RT_EXPF8_STEP(0.5f);
#undef RT_EXPF8_STEP
    p = _mm256_add_ps(_mm256_mul_ps(_mm256_mul_ps(p, r), r), r);
    p = _mm256_add_ps(p, _mm256_set1_ps(1.0f));
    __m256 scale = _mm256_castsi256_ps(_mm256_slli_epi32(_mm256_add_epi32(k, _mm256_set1_epi32(127)), 23));
    __m256 y = _mm256_mul_ps(p, scale);
    /* k outside [-126, 127] (NaN and overflow convert to INT_MIN) */
    __m256i bad = _mm256_or_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(-126), k),
                                  _mm256_cmpgt_epi32(k, _mm256_set1_epi32(127)));
    return rt_lanes8_scalar(x, y, _mm256_movemask_ps(_mm256_castsi256_ps(bad)), rt_expf);
}

/* rt_logf8_avx2(x): rt_logf on each lane, bit for bit, likewise (the same
 * reduction to m in [sqrt(1/2), sqrt(2)) times 2^e and the same series,
 * separate multiplies and adds). Lanes that are not positive, normal and
 * finite (0, negatives, subnormals, inf, NaN) are recomputed by rt_logf. */
__attribute__((target("avx2")))
static inline __m256 rt_logf8_avx2(__m256 x)
{
    __m256i u = _mm256_castps_si256(x);
    __m256i e = _mm256_sub_epi32(_mm256_srli_epi32(u, 23), _mm256_set1_epi32(127));
    __m256 m = _mm256_castsi256_ps(_mm256_or_si256(_mm256_and_si256(u, _mm256_set1_epi32(0x007fffff)),
                                                   _mm256_set1_epi32(0x3f800000)));
    __m256 big = _mm256_cmp_ps(m, _mm256_set1_ps(1.41421356f), _CMP_GT_OQ);
    m = _mm256_blendv_ps(m, _mm256_mul_ps(m, _mm256_set1_ps(0.5f)), big);
    e = _mm256_sub_epi32(e, _mm256_castps_si256(big));            /* + 1 where big */
    __m256 ef = _mm256_cvtepi32_ps(e), f = _mm256_sub_ps(m, _mm256_set1_ps(1.0f));
    __m256 s = _mm256_div_ps(f, _mm256_add_ps(_mm256_set1_ps(2.0f), f));
    __m256 z = _mm256_mul_ps(s, s);
#define RT_LOGF8_STEP(c) R = _mm256_add_ps(_mm256_mul_ps(R, z), _mm256_set1_ps(c))
    __m256 R = _mm256_set1_ps(2.0f / 11.0f);
    RT_LOGF8_STEP(2.0f / 9.0f);
    RT_LOGF8_STEP(2.0f / 7.0f);
    RT_LOGF8_STEP(2.0f / 5.0f);
    RT_LOGF8_STEP(2.0f / 3.0f);
#undef RT_LOGF8_STEP
    R = _mm256_mul_ps(R, z);
    __m256 hfsq = _mm256_mul_ps(_mm256_mul_ps(_mm256_set1_ps(0.5f), f), f);
    __m256 t = _mm256_add_ps(_mm256_mul_ps(s, _mm256_add_ps(hfsq, R)),
                             _mm256_mul_ps(ef, _mm256_set1_ps(9.0580006145e-06f)));
    __m256 y = _mm256_sub_ps(_mm256_mul_ps(ef, _mm256_set1_ps(6.9313812256e-01f)),
                             _mm256_sub_ps(_mm256_sub_ps(hfsq, t), f));
    __m256 ok = _mm256_and_ps(_mm256_cmp_ps(x, _mm256_set1_ps(0x1p-126f), _CMP_GE_OQ),
                              _mm256_cmp_ps(x, _mm256_set1_ps(3.40282347e+38f), _CMP_LE_OQ));
    return rt_lanes8_scalar(x, y, ~_mm256_movemask_ps(ok) & 0xff, rt_logf);
}
#endif

/* rt_expf4_neon(x): the same for four lanes on aarch64 (the same separate
 * multiplies and adds: vmulq_f32 then vaddq_f32, never vfmaq_f32). vcvtq
 * saturates and turns NaN into 0 where x86 gives INT_MIN, so NaN lanes
 * are sent to rt_expf explicitly. */
#if defined(__aarch64__)
#include <arm_neon.h>

static inline float32x4_t rt_expf4_neon(float32x4_t x)
{
    const float32x4_t shifter = vdupq_n_f32(12582912.0f);
    float32x4_t kf = vsubq_f32(vaddq_f32(vmulq_f32(x, vdupq_n_f32(1.4426950409e+00f)), shifter),
                               shifter);
    int32x4_t k = vcvtq_s32_f32(kf);
    float32x4_t r = vsubq_f32(vsubq_f32(x, vmulq_f32(kf, vdupq_n_f32(6.9313812256e-01f))),
                              vmulq_f32(kf, vdupq_n_f32(9.0580006145e-06f)));
#define RT_EXPF4_STEP(c) p = vaddq_f32(vmulq_f32(p, r), vdupq_n_f32(c))
    float32x4_t p = vdupq_n_f32(1.0f / 5040.0f);
    RT_EXPF4_STEP(1.0f / 720.0f);
    RT_EXPF4_STEP(1.0f / 120.0f);
    RT_EXPF4_STEP(1.0f / 24.0f);
    RT_EXPF4_STEP(1.0f / 6.0f);
    RT_EXPF4_STEP(0.5f);
#undef RT_EXPF4_STEP
    p = vaddq_f32(vmulq_f32(vmulq_f32(p, r), r), r);
    p = vaddq_f32(p, vdupq_n_f32(1.0f));
    float32x4_t scale = vreinterpretq_f32_s32(vshlq_n_s32(vaddq_s32(k, vdupq_n_s32(127)), 23));
    float32x4_t y = vmulq_f32(p, scale);
    /* k outside [-126, 127], or x NaN */
    uint32x4_t bad = vorrq_u32(vorrq_u32(vcltq_s32(k, vdupq_n_s32(-126)), vcgtq_s32(k, vdupq_n_s32(127))),
                               vmvnq_u32(vceqq_f32(x, x)));
    if (vmaxvq_u32(bad)) {
        float xs[4], ys[4];
        uint32_t m[4];
        vst1q_f32(xs, x);
        vst1q_f32(ys, y);
        vst1q_u32(m, bad);
        for (int i = 0; i < 4; i++)
            if (m[i]) ys[i] = rt_expf(xs[i]);
        y = vld1q_f32(ys);
    }
    return y;
}
#endif

#endif
