/*
 * gemm_neon.c — the aarch64 GEMM micro-kernels (see gemm.c and neon.h).
 *
 * Summation order, the same argument as gemm.c's: an MR x NR tile of C
 * lives in registers and each step p does acc[r][x] = fma(a[r][p],
 * b[p][x], acc[r][x]) for the whole tile, p ascending. vfmaq_f32 rounds
 * once, like fmaf (both IEEE fusedMultiplyAdd, and the scalar kernel's
 * fmaf compiles to the same fmadd on aarch64), and x*y == y*x exactly, so
 * every element of C is the reference chain bit for bit; the vectors run
 * across columns only. kc blocking stores and reloads partial sums
 * unchanged.
 *
 * 8 x 12: 24 accumulators + 3 B vectors + 1 broadcast = 28 of the 32
 * vector registers; per step 3 loads and 8 broadcast loads feed 24 FMAs.
 * The 8 x 4 tail serves a last panel of at most 4 columns (n = 50 is
 * 4 x 12 + 2).
 */
#if defined(__aarch64__)
#include <arm_neon.h>
#include "neon.h"

#define N12_LOAD(r)                                                            \
    float32x4_t c##r##0 = load ? vld1q_f32(c + (r) * ldc) : vdupq_n_f32(0.0f),      \
                c##r##1 = load ? vld1q_f32(c + (r) * ldc + 4) : vdupq_n_f32(0.0f),  \
                c##r##2 = load ? vld1q_f32(c + (r) * ldc + 8) : vdupq_n_f32(0.0f)
#define N12_STEP(r)                                                            \
    do {                                                                       \
        float32x4_t y = vld1q_dup_f32(a##r + off);                             \
        c##r##0 = vfmaq_f32(c##r##0, y, b0);                                   \
        c##r##1 = vfmaq_f32(c##r##1, y, b1);                                   \
        c##r##2 = vfmaq_f32(c##r##2, y, b2);                                   \
    } while (0)
#define N12_STORE(r)                                                           \
    do {                                                                       \
        vst1q_f32(c + (r) * ldc, c##r##0);                                     \
        vst1q_f32(c + (r) * ldc + 4, c##r##1);                                 \
        vst1q_f32(c + (r) * ldc + 8, c##r##2);                                 \
    } while (0)

__attribute__((always_inline))
static inline void steps_8x12(int kc, const float *const *arow, long aps, const float *b,
                              float *c, long ldc, bool load)
{
    const float *a0 = arow[0], *a1 = arow[1], *a2 = arow[2], *a3 = arow[3],
                *a4 = arow[4], *a5 = arow[5], *a6 = arow[6], *a7 = arow[7];
    N12_LOAD(0); N12_LOAD(1); N12_LOAD(2); N12_LOAD(3);
    N12_LOAD(4); N12_LOAD(5); N12_LOAD(6); N12_LOAD(7);
    long off = 0;
#pragma GCC unroll 2
    for (int p = 0; p < kc; p++) {
        float32x4_t b0 = vld1q_f32(b), b1 = vld1q_f32(b + 4), b2 = vld1q_f32(b + 8);
        N12_STEP(0); N12_STEP(1); N12_STEP(2); N12_STEP(3);
        N12_STEP(4); N12_STEP(5); N12_STEP(6); N12_STEP(7);
        off += aps;
        b += NEON_GEMM_NR;
    }
    N12_STORE(0); N12_STORE(1); N12_STORE(2); N12_STORE(3);
    N12_STORE(4); N12_STORE(5); N12_STORE(6); N12_STORE(7);
}

void rt_neon_gemm_8x12(int kc, const float *const *arow, long aps, const float *b, long bps,
                       float *c, long ldc, bool load)
{
    (void)bps;
    if (aps == 1) steps_8x12(kc, arow, 1, b, c, ldc, load);
    else steps_8x12(kc, arow, aps, b, c, ldc, load);
}

#define N4_LOAD(r) float32x4_t c##r = load ? vld1q_f32(c + (r) * ldc) : vdupq_n_f32(0.0f)
#define N4_STEP(r) c##r = vfmaq_f32(c##r, vld1q_dup_f32(a##r + off), b0)

__attribute__((always_inline))
static inline void steps_8x4(int kc, const float *const *arow, long aps, const float *b,
                             float *c, long ldc, bool load)
{
    const float *a0 = arow[0], *a1 = arow[1], *a2 = arow[2], *a3 = arow[3],
                *a4 = arow[4], *a5 = arow[5], *a6 = arow[6], *a7 = arow[7];
    N4_LOAD(0); N4_LOAD(1); N4_LOAD(2); N4_LOAD(3);
    N4_LOAD(4); N4_LOAD(5); N4_LOAD(6); N4_LOAD(7);
    long off = 0;
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++) {
        float32x4_t b0 = vld1q_f32(b);
        N4_STEP(0); N4_STEP(1); N4_STEP(2); N4_STEP(3);
        N4_STEP(4); N4_STEP(5); N4_STEP(6); N4_STEP(7);
        off += aps;
        b += NEON_GEMMT_NR;
    }
    vst1q_f32(c, c0);           vst1q_f32(c + ldc, c1);
    vst1q_f32(c + 2 * ldc, c2); vst1q_f32(c + 3 * ldc, c3);
    vst1q_f32(c + 4 * ldc, c4); vst1q_f32(c + 5 * ldc, c5);
    vst1q_f32(c + 6 * ldc, c6); vst1q_f32(c + 7 * ldc, c7);
}

void rt_neon_gemm_8x4(int kc, const float *const *arow, long aps, const float *b, long bps,
                      float *c, long ldc, bool load)
{
    (void)bps;
    if (aps == 1) steps_8x4(kc, arow, 1, b, c, ldc, load);
    else steps_8x4(kc, arow, aps, b, c, ldc, load);
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int rt_gemm_neon_unused;
#endif
