/*
 * neon.h — the aarch64 Advanced SIMD bodies of the kernels (internal to
 * runtime/kernels; compiled only on aarch64, see the *_neon.c files).
 *
 * Each body gives exactly the bits of the scalar reference it replaces,
 * for the reason written beside it: where the reference rounds a fused
 * multiply-add once (fmaf: GEMM and the row-sparse products) the body uses
 * vfmaq_f32, which is IEEE fusedMultiplyAdd too; where the reference
 * rounds a product and a sum separately (everything else: the build has
 * -ffp-contract=off) the body uses vmulq_f32 then vaddq_f32 (or vsubq,
 * vdivq, vsqrtq: all correctly rounded per lane), never vfmaq. Vectors run
 * across independent elements only, so no sum changes its order.
 *
 * The bodies that live beside their AVX2 ones instead, in #if
 * defined(__aarch64__) blocks: e^x (rt_expf4_neon, mathf.h), relu, sigmoid,
 * linear and softmax's e^x (activations.c), the dense bias and batchnorm
 * passes (runtime/nn/layers.c) and the byte batch gather
 * (runtime/data/dataset.c). tests/aarch64/kernels.c checks them all.
 */
#ifndef MLP_NEON_H
#define MLP_NEON_H

#if defined(__aarch64__)
#include <stdbool.h>
#include <stdint.h>
#include "rowsparse.h"

/* GEMM micro-kernels (gemm.c's gemm_ukernel signature). */
enum { NEON_GEMM_MR = 8, NEON_GEMM_NR = 12, NEON_GEMMT_MR = 8, NEON_GEMMT_NR = 4 };
void rt_neon_gemm_8x12(int kc, const float *const *arow, long aps, const float *b, long bps,
                       float *c, long ldc, bool load);
void rt_neon_gemm_8x4(int kc, const float *const *arow, long aps, const float *b, long bps,
                      float *c, long ldc, bool load);

/* Row-sparse bodies (rowsparse.c's scalar bodies, same arguments). */
bool rt_neon_rs_build(rt_rowsparse *s, const float *x, int rows, int cols);
bool rt_neon_rs_build_u8(rt_rowsparse *s, const uint8_t *base, const int64_t *idx, int rows,
                         int cols, float scale);
void rt_neon_rs_mm(const rt_rowsparse *s, const float *b, int n, const float *bias, float *c,
                   int ldc, int i0, int i1);
void rt_neon_rs_tmm(const rt_rowsparse *s, const float *d, int n, float *c, int p0, int p1);

/* Optimizer bodies: the first n - n % 4 elements; return how many done. */
long rt_neon_keras_adam(const float *k, float *w, const float *g, float *m, float *v, long n);
long rt_neon_keras_rmsprop(const float *k, float *w, const float *g, float *ms, long n);
long rt_neon_keras_sgd(const float *k, float *w, const float *g, float *v, long n);
#endif

#endif
