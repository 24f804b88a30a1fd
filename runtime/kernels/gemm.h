/*
 * gemm.h — single-precision matrix multiply, the one kernel that dominates
 * training time.
 *
 *   C[m x n] = op(A) * op(B) + (beta ? C : 0),   op(X) = X or X^T
 *
 * A is m x k (or k x m when trans_a), B is k x n (or n x k when trans_b),
 * all row-major with leading dimensions lda, ldb, ldc (in elements).
 *
 * Determinism contract (DESIGN.md): every c[i][j] is computed as the chain
 *   acc = beta ? c[i][j] : 0;  for p = 0..k-1: acc = fmaf(a[i][p], b[p][j], acc)
 * in that order, whichever SIMD path runs and however many threads share the
 * work (threads split C by blocks of rows/columns, never the k sum). So the
 * scalar path, AVX2 and AVX-512 give bit-identical results.
 *
 * The SIMD path is rt_cpu_simd() (cpu.h: detected, MLP_SIMD may lower it).
 * A NULL pool, or a GEMM too small to repay the hand-off, runs on the
 * calling thread. m, n <= 0 do nothing; k == 0 sets C to beta ? C : 0.
 * C must not overlap A or B.
 */
#ifndef MLP_GEMM_H
#define MLP_GEMM_H

#include <stdbool.h>
#include "cpu.h"
#include "pool.h"

void rt_gemm_f32(rt_pool *pool, bool trans_a, bool trans_b, int m, int n, int k,
                 const float *a, int lda, const float *b, int ldb,
                 bool beta, float *c, int ldc);

/* rt_gemm_f32 on a chosen SIMD path instead of rt_cpu_simd(); a level the
 * machine lacks is replaced by the best it has. For tests (every path must
 * give the same bits) and benchmarks. */
void rt_gemm_f32_simd(rt_pool *pool, rt_simd simd, bool trans_a, bool trans_b,
                      int m, int n, int k, const float *a, int lda,
                      const float *b, int ldb, bool beta, float *c, int ldc);

/* The straightforward triple loop with the same summation order: the
 * reference the fast kernel is tested against. */
void rt_gemm_ref_f32(bool trans_a, bool trans_b, int m, int n, int k,
                     const float *a, int lda, const float *b, int ldb,
                     bool beta, float *c, int ldc);

#endif
