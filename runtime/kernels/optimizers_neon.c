/*
 * optimizers_neon.c — the aarch64 bodies of the fused optimizer updates
 * that have AVX2 bodies in optimizers.c (keras Adam, RMSprop without
 * momentum or centering, SGD with and without momentum).
 *
 * Each does, lane by lane, the scalar loop's operations in its order: the
 * scalar loops are compiled with -ffp-contract=off, so every product and
 * sum rounds on its own; here vmulq_f32 then vaddq_f32 / vsubq_f32 (never
 * vfmaq_f32), vsqrtq_f32 and vdivq_f32, all correctly rounded per lane.
 * Elements are independent (no sum across them), so the bits are the
 * scalar loop's. Each returns how many elements it did (n - n % 4); the
 * scalar loop finishes.
 */
#if defined(__aarch64__)
#include <arm_neon.h>
#include "neon.h"

/* m = b1 m + c1 g;  v = b2 v + c2 (g g);  w -= lr_t m / (sqrt(v) + eps) */
long rt_neon_keras_adam(const float *k, float *w, const float *g, float *m, float *v, long n)
{
    const float32x4_t lr_t = vdupq_n_f32(k[0]), b1 = vdupq_n_f32(k[1]), c1 = vdupq_n_f32(k[2]);
    const float32x4_t b2 = vdupq_n_f32(k[3]), c2 = vdupq_n_f32(k[4]), eps = vdupq_n_f32(k[5]);
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t gi = vld1q_f32(g + i);
        float32x4_t mi = vaddq_f32(vmulq_f32(b1, vld1q_f32(m + i)), vmulq_f32(c1, gi));
        float32x4_t vi = vaddq_f32(vmulq_f32(b2, vld1q_f32(v + i)), vmulq_f32(c2, vmulq_f32(gi, gi)));
        float32x4_t step = vdivq_f32(vmulq_f32(lr_t, mi), vaddq_f32(vsqrtq_f32(vi), eps));
        vst1q_f32(m + i, mi);
        vst1q_f32(v + i, vi);
        vst1q_f32(w + i, vsubq_f32(vld1q_f32(w + i), step));
    }
    return i;
}

/* ms = rho ms + c (g g);  w -= lr g / (sqrt(ms) + eps) */
long rt_neon_keras_rmsprop(const float *k, float *w, const float *g, float *ms, long n)
{
    const float32x4_t lr = vdupq_n_f32(k[0]), rho = vdupq_n_f32(k[1]), c = vdupq_n_f32(k[2]);
    const float32x4_t eps = vdupq_n_f32(k[4]);
    long i = 0;
    for (; i + 4 <= n; i += 4) {
        float32x4_t gi = vld1q_f32(g + i);
        float32x4_t hi = vaddq_f32(vmulq_f32(rho, vld1q_f32(ms + i)), vmulq_f32(c, vmulq_f32(gi, gi)));
        float32x4_t step = vdivq_f32(vmulq_f32(lr, gi), vaddq_f32(vsqrtq_f32(hi), eps));
        vst1q_f32(ms + i, hi);
        vst1q_f32(w + i, vsubq_f32(vld1q_f32(w + i), step));
    }
    return i;
}

/* momentum 0: w -= lr g;  momentum, not Nesterov: v = m v - lr g; w += v */
long rt_neon_keras_sgd(const float *k, float *w, const float *g, float *v, long n)
{
    const float32x4_t lr = vdupq_n_f32(k[0]), m = vdupq_n_f32(k[1]);
    long i = 0;
    if (k[1] == 0.0f) {
        for (; i + 4 <= n; i += 4)
            vst1q_f32(w + i, vsubq_f32(vld1q_f32(w + i), vmulq_f32(lr, vld1q_f32(g + i))));
    } else if (k[2] == 0.0f) {
        for (; i + 4 <= n; i += 4) {
            float32x4_t vi = vsubq_f32(vmulq_f32(m, vld1q_f32(v + i)), vmulq_f32(lr, vld1q_f32(g + i)));
            vst1q_f32(v + i, vi);
            vst1q_f32(w + i, vaddq_f32(vld1q_f32(w + i), vi));
        }
    }
    return i;
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int rt_optimizers_neon_unused;
#endif
