/*
 * gemm.c — matrix multiply. For now the reference order only; the blocked
 * SIMD kernel replaces rt_gemm_f32 with the same summation order.
 */
#include <math.h>
#include "gemm.h"

void rt_gemm_ref_f32(bool trans_a, bool trans_b, int m, int n, int k,
                     const float *a, int lda, const float *b, int ldb,
                     bool beta, float *c, int ldc)
{
    for (int i = 0; i < m; i++)
        for (int j = 0; j < n; j++) {
            float acc = beta ? c[(long)i * ldc + j] : 0.0f;
            for (int p = 0; p < k; p++) {
                float x = trans_a ? a[(long)p * lda + i] : a[(long)i * lda + p];
                float y = trans_b ? b[(long)j * ldb + p] : b[(long)p * ldb + j];
                acc = fmaf(x, y, acc);
            }
            c[(long)i * ldc + j] = acc;
        }
}

void rt_gemm_f32(rt_pool *pool, bool trans_a, bool trans_b, int m, int n, int k,
                 const float *a, int lda, const float *b, int ldb,
                 bool beta, float *c, int ldc)
{
    (void)pool;
    rt_gemm_ref_f32(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc);
}
