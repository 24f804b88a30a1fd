/*
 * rowsparse_neon.c — the aarch64 bodies of the row-sparse kernels (see
 * rowsparse.h for why the products give the dense GEMM's bits, and
 * neon.h).
 *
 * Summation order: as in the scalar bodies of rowsparse.c, S B computes
 * each c[i][j] as the fmaf chain over row i's nonzeros in ascending column
 * order from +0, then adds bias[j] separately; S^T D computes each c[p][j]
 * as the fmaf chain over the rows i with s[i][p] != 0, i ascending, from
 * +0. The vectors run across j (four columns per register) and vfmaq_f32
 * rounds once like fmaf, so every chain is the reference's, bit for bit;
 * the last n % 4 columns of a block use fmaf itself (the same fmadd).
 * S B keeps a block of up to 64 columns of one row in 16 registers; S^T D
 * reads and writes its output rows once per nonzero.
 *
 * Building: four floats (or bytes widened and scaled as (float)b * scale,
 * one rounding per lane, as rt_dataset_gather) are compared with zero,
 * the set lanes packed to the front by a table lookup (vqtbl1q_u8) and all
 * four lanes stored, the next store overwriting the lanes past the
 * nonzeros: rowsparse.c's RS_SPARE spare entries make that safe.
 */
#if defined(__aarch64__)
#include <arm_neon.h>
#include <math.h>
#include <string.h>
#include "neon.h"

#define Z 0xff      /* vqtbl1q_u8 gives 0 for an index past the table */
/* For a 4-bit mask of lanes, the bytes of those lanes in order, first. */
static const uint8_t pack_idx[16][16] = {
    {Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z},
    {0, 1, 2, 3, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z},
    {4, 5, 6, 7, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z},
    {0, 1, 2, 3, 4, 5, 6, 7, Z, Z, Z, Z, Z, Z, Z, Z},
    {8, 9, 10, 11, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z},
    {0, 1, 2, 3, 8, 9, 10, 11, Z, Z, Z, Z, Z, Z, Z, Z},
    {4, 5, 6, 7, 8, 9, 10, 11, Z, Z, Z, Z, Z, Z, Z, Z},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, Z, Z, Z, Z},
    {12, 13, 14, 15, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z, Z},
    {0, 1, 2, 3, 12, 13, 14, 15, Z, Z, Z, Z, Z, Z, Z, Z},
    {4, 5, 6, 7, 12, 13, 14, 15, Z, Z, Z, Z, Z, Z, Z, Z},
    {0, 1, 2, 3, 4, 5, 6, 7, 12, 13, 14, 15, Z, Z, Z, Z},
    {8, 9, 10, 11, 12, 13, 14, 15, Z, Z, Z, Z, Z, Z, Z, Z},
    {0, 1, 2, 3, 8, 9, 10, 11, 12, 13, 14, 15, Z, Z, Z, Z},
    {4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, Z, Z, Z, Z},
    {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15},
};
#undef Z

/* Bit l of the result set when lane l of the mask is. */
static inline unsigned lane_bits(uint32x4_t mask)
{
    const uint32x4_t bit = {1, 2, 4, 8};
    return vaddvq_u32(vandq_u32(mask, bit));
}

/* Packs the lanes of v (and their columns p + lane) named by m to val / col
 * at nnz; returns the new count. */
static inline long pack4(rt_rowsparse *s, long nnz, unsigned m, float32x4_t v, int p)
{
    const uint8x16_t idx = vld1q_u8(pack_idx[m]);
    const int32x4_t iota = {0, 1, 2, 3};
    int32x4_t cols = vaddq_s32(iota, vdupq_n_s32(p));
    vst1q_f32(s->val + nnz, vreinterpretq_f32_u8(vqtbl1q_u8(vreinterpretq_u8_f32(v), idx)));
    vst1q_s32(s->col + nnz, vreinterpretq_s32_u8(vqtbl1q_u8(vreinterpretq_u8_s32(cols), idx)));
    return nnz + __builtin_popcount(m);
}

bool rt_neon_rs_build(rt_rowsparse *s, const float *x, int rows, int cols)
{
    long nnz = 0, max = s->max_nnz;
    for (int i = 0; i < rows; i++) {
        s->start[i] = (int32_t)nnz;
        const float *xi = x + (long)i * cols;
        int p = 0;
        for (; p + 4 <= cols; p += 4) {
            float32x4_t v = vld1q_f32(xi + p);
            /* x != 0.0f: NaN counts, both zeros do not */
            unsigned m = ~lane_bits(vceqq_f32(v, vdupq_n_f32(0.0f))) & 0xfu;
            if (!m) continue;
            nnz = pack4(s, nnz, m, v, p);
            if (nnz > max) return false;
        }
        for (; p < cols; p++) {
            if (xi[p] == 0.0f) continue;
            if (nnz == max) return false;
            s->col[nnz] = p;
            s->val[nnz++] = xi[p];
        }
    }
    s->start[rows] = (int32_t)nnz;
    return true;
}

/* The four bytes' lanes of w (uint32) scaled: (float)b * scale per lane. */
static inline long pack_u32(rt_rowsparse *s, long nnz, uint32x4_t w, float32x4_t sc, int p)
{
    unsigned m = lane_bits(vtstq_u32(w, w));
    if (!m) return nnz;
    return pack4(s, nnz, m, vmulq_f32(vcvtq_f32_u32(w), sc), p);
}

bool rt_neon_rs_build_u8(rt_rowsparse *s, const uint8_t *base, const int64_t *idx, int rows,
                         int cols, float scale)
{
    long nnz = 0, max = s->max_nnz;
    const float32x4_t sc = vdupq_n_f32(scale);
    for (int i = 0; i < rows; i++) {
        s->start[i] = (int32_t)nnz;
        const uint8_t *xi = base + idx[i] * cols;
        if (i + 1 < rows)
            for (int o = 0; o < cols; o += 64) __builtin_prefetch(base + idx[i + 1] * cols + o);
        int p = 0;
        for (; p + 16 <= cols; p += 16) {
            uint8x16_t b = vld1q_u8(xi + p);
            if (vmaxvq_u8(b) == 0) continue;      /* 16 zero bytes: the borders */
            uint16x8_t lo = vmovl_u8(vget_low_u8(b)), hi = vmovl_u8(vget_high_u8(b));
            nnz = pack_u32(s, nnz, vmovl_u16(vget_low_u16(lo)), sc, p);
            nnz = pack_u32(s, nnz, vmovl_u16(vget_high_u16(lo)), sc, p + 4);
            nnz = pack_u32(s, nnz, vmovl_u16(vget_low_u16(hi)), sc, p + 8);
            nnz = pack_u32(s, nnz, vmovl_u16(vget_high_u16(hi)), sc, p + 12);
            if (nnz > max) return false;
        }
        for (; p < cols; p++) {
            if (xi[p] == 0) continue;
            if (nnz == max) return false;
            s->col[nnz] = p;
            s->val[nnz++] = (float)xi[p] * scale;
        }
    }
    s->start[rows] = (int32_t)nnz;
    return true;
}

enum { NRS_VEC = 4, NRS_BLOCK = 64 };

/* One row of S B for a block of nv vectors and rem (0..3) more columns;
 * inlined with nv constant so acc[] lives in registers. */
__attribute__((always_inline))
static inline void mm_row(int nv, int rem, const int32_t *col, const float *val, int32_t cnt,
                          const float *b, int n, const float *bias, float *c)
{
    float32x4_t acc[NRS_BLOCK / NRS_VEC];
    float t[NRS_VEC - 1] = {0.0f, 0.0f, 0.0f};
#pragma GCC unroll 16
    for (int v = 0; v < nv; v++) acc[v] = vdupq_n_f32(0.0f);
    for (int32_t k = 0; k < cnt; k++) {
        const float a = val[k], *bp = b + (long)col[k] * n;
        const float32x4_t av = vdupq_n_f32(a);
#pragma GCC unroll 16
        for (int v = 0; v < nv; v++) acc[v] = vfmaq_f32(acc[v], av, vld1q_f32(bp + NRS_VEC * v));
        for (int r = 0; r < rem; r++) t[r] = fmaf(a, bp[NRS_VEC * nv + r], t[r]);
    }
    if (bias) {
#pragma GCC unroll 16
        for (int v = 0; v < nv; v++) acc[v] = vaddq_f32(acc[v], vld1q_f32(bias + NRS_VEC * v));
        for (int r = 0; r < rem; r++) t[r] += bias[NRS_VEC * nv + r];
    }
#pragma GCC unroll 16
    for (int v = 0; v < nv; v++) vst1q_f32(c + NRS_VEC * v, acc[v]);
    for (int r = 0; r < rem; r++) c[NRS_VEC * nv + r] = t[r];
}

#define NRS_CASES(X) X(0) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8) \
                     X(9) X(10) X(11) X(12) X(13) X(14) X(15) X(16)

void rt_neon_rs_mm(const rt_rowsparse *s, const float *b, int n, const float *bias, float *c,
                   int ldc, int i0, int i1)
{
    for (int jb = 0; jb < n; jb += NRS_BLOCK) {
        int w = n - jb < NRS_BLOCK ? n - jb : NRS_BLOCK;
        int nv = w / NRS_VEC, rem = w % NRS_VEC;
        const float *bb = b + jb, *bias_b = bias ? bias + jb : NULL;
        for (int i = i0; i < i1; i++) {
            int32_t k0 = s->start[i], cnt = s->start[i + 1] - k0;
            float *ci = c + (long)i * ldc + jb;
            switch (nv) {
#define NRS_MM_CASE(NV) \
            case NV: mm_row(NV, rem, s->col + k0, s->val + k0, cnt, bb, n, bias_b, ci); break;
            NRS_CASES(NRS_MM_CASE)
#undef NRS_MM_CASE
            }
        }
    }
}

/* The first of row i's nonzeros with column >= p (columns ascend). */
static int32_t first_at(const rt_rowsparse *s, int i, int p)
{
    int32_t lo = s->start[i], hi = s->start[i + 1];
    while (lo < hi) {
        int32_t mid = lo + (hi - lo) / 2;
        if (s->col[mid] < p) lo = mid + 1;
        else hi = mid;
    }
    return lo;
}

void rt_neon_rs_tmm(const rt_rowsparse *s, const float *d, int n, float *c, int p0, int p1)
{
    for (int p = p0; p < p1; p++) memset(c + (long)p * n, 0, (size_t)n * sizeof *c);
    const int n4 = n - n % NRS_VEC;
    for (int i = 0; i < s->rows; i++) {
        const float *di = d + (long)i * n;
        for (int32_t k = first_at(s, i, p0); k < s->start[i + 1] && s->col[k] < p1; k++) {
            const float v = s->val[k];
            const float32x4_t av = vdupq_n_f32(v);
            float *cp = c + (long)s->col[k] * n;
            int j = 0;
            for (; j < n4; j += NRS_VEC)
                vst1q_f32(cp + j, vfmaq_f32(vld1q_f32(cp + j), av, vld1q_f32(di + j)));
            for (; j < n; j++) cp[j] = fmaf(v, di[j], cp[j]);
        }
    }
}
#else
/* ISO C wants a translation unit to declare something. */
typedef int rt_rowsparse_neon_unused;
#endif
