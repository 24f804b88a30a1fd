/*
 * rowsparse.h — the products of a dense layer whose input is mostly zeros.
 *
 * Why it exists: MNIST pixels are about 81% zeros, and the first dense
 * layer of the study (784 -> 50) does 90% of an epoch's arithmetic in its
 * two products with the input: z = x W forward and dW = x^T dz backward.
 * Skipping the zero terms does a fifth of the work and, as shown below,
 * gives the very same bits as the dense GEMM.
 *
 * An rt_rowsparse holds a [rows x cols] float matrix as compressed rows
 * (CSR): row i's nonzeros are val[start[i] .. start[i+1]) at columns
 * col[...], in ascending column order. "Nonzero" means x != 0.0f, so NaN
 * counts as nonzero and both signed zeros as zero.
 *
 * Numerics, the reason the products can replace rt_gemm_f32 (gemm.h):
 * there each c[i][j] is the chain acc = +0; acc = fmaf(a[i][p], b[p][j], acc)
 * for p = 0..k-1. A term with a[i][p] = ±0 and b[p][j] finite adds ±0, and
 * acc + ±0 == acc bit for bit unless acc is itself a zero; and acc is never
 * -0 (under round-to-nearest a fused a*b + acc is -0 only when both a*b and
 * acc are -0, x + -x giving +0; acc starts at +0, so by induction it never
 * becomes -0, in either chain). So dropping zero terms leaves every chain,
 * hence every bit, unchanged. The one difference: 0 * inf and
 * 0 * NaN are NaN in the dense chain and skipped here; a model with
 * infinite weights has diverged anyway, and the training loop stops on the
 * non-finite loss that follows.
 *
 * Paths: each product and the byte packing have a scalar body (fmaf, the
 * portable path), an AVX2+FMA body and an AVX-512F body (vfmadd231ps
 * rounds exactly like fmaf); all run every chain in the same order, so
 * MLP_SIMD does not change a bit (test_rowsparse.c compares every path
 * the machine has over every tail). With a pool
 * (may be NULL) of several threads, a product big enough to repay the
 * hand-off is split into a few tasks per thread, S B by rows of the batch
 * and S^T D by bands of its output rows, each element computed whole by
 * one task: the thread count does not change a bit either.
 *
 * Memory: the arrays are rt_alloc'ed by rt_rowsparse_reserve for up to
 * `max_nnz` nonzeros (building gives up beyond that: the caller then uses
 * the dense GEMM) and freed by rt_rowsparse_release.
 */
#ifndef MLP_ROWSPARSE_H
#define MLP_ROWSPARSE_H

#include <stdbool.h>
#include <stdint.h>
#include "cpu.h"
#include "pool.h"
#include "rt_error.h"

/* Most tasks a product is split into (one cursor array each). */
#define RS_MAX_PARTS 8

typedef struct rt_rs_entry {
    int32_t row;
    float val;
} rt_rs_entry;

typedef struct rt_rowsparse {
    int rows, cols;             /* the matrix last built */
    int cap_rows;               /* start[] holds cap_rows + 1 entries */
    long max_nnz;               /* col[] and val[] hold this many */
    int32_t *start, *col;
    float *val;
    int32_t *cursor;            /* workspace: [RS_MAX_PARTS x (cap_rows + 1)] */
    /* workspace of S^T D: the same nonzeros by columns (CSC), built by the
     * product: column p's entries centry[cstart[p] .. cstart[p+1]), rows
     * ascending, each its row and value side by side (the sort scatters
     * one 8-byte entry per nonzero, not two 4-byte ones to two arrays);
     * cstart holds max_nnz + 3 entries */
    int32_t *cstart;
    rt_rs_entry *centry;
    /* workspace of S^T D by columns: D's rows copied to a stride of whole
     * 64-byte lines (cap_rows rows of up to 64 floats) */
    float *dpad;
    /* set by a packing that counted each column's nonzeros as it went
     * (the x86 byte packings of over 128 rows): cstart[p + 2] holds
     * column p's count, and S^T D's counting sort starts from its prefix
     * sums */
    bool counted;
    bool csc_ready;             /* the column form holds the matrix last built */
    /* set by the x86 byte packings of up to 128 rows (S^T D then needs
     * no column form): bit i of rbits[w * cols + p] is set when row
     * 64 w + i has a nonzero at column p; xb holds the packed rows' bytes
     * (row i at xb + i * cols; only the nonzero ones are sure to be
     * current), a value being (float)byte * xscale as in val[]. Both
     * arrays grow as needed (rbits_cap, xb_cap entries). */
    bool bits;
    float xscale;
    uint64_t *rbits;
    uint8_t *xb;
    long rbits_cap, xb_cap;
} rt_rowsparse;

/* Room for up to `rows` rows and `max_nnz` nonzeros (grows, never shrinks). */
bool rt_rowsparse_reserve(rt_rowsparse *s, int rows, long max_nnz, rt_error *err);
void rt_rowsparse_release(rt_rowsparse *s);

/* Compresses x [rows x cols] (row-major, contiguous). False, leaving s
 * unusable, when x has more than s->max_nnz nonzeros or more rows than
 * reserved: the caller falls back to dense arithmetic. */
bool rt_rowsparse_build(rt_rowsparse *s, rt_simd simd, const float *x, int rows, int cols);

/* The same for rows idx[0..rows) of a byte matrix base [? x cols], each
 * byte b standing for (float)b * scale: the floats rt_dataset_gather would
 * make, compressed without writing them out (MNIST batches this way skip a
 * 313 KB float buffer per step). marks: S^T D will be taken of this
 * matrix, so the x86 packings also mark what it wants (each column's rows
 * as bits and the batch's bytes, or each column's count); a forward-only
 * matrix (an evaluation's batch) skips that work. Either way S^T D gives
 * the same bits: without the marks it sorts the nonzeros by column first. */
bool rt_rowsparse_build_u8(rt_rowsparse *s, rt_simd simd, const uint8_t *base,
                           const int64_t *idx, int rows, int cols, float scale, bool marks);

/* c[rows x n] = S B (+ bias): B is [cols x n] row-major, c has row stride
 * ldc. Each c[i][j] is the fmaf chain over row i's nonzeros from +0 (the
 * dense GEMM's bits, see above), then + bias[j] when bias is not NULL
 * (rounded separately, as a GEMM followed by a bias pass). */
void rt_rowsparse_mm(const rt_rowsparse *s, rt_simd simd, rt_pool *pool, const float *b, int n,
                     const float *bias, float *c, int ldc);

/* Builds now the column form rt_rowsparse_tmm would build for its first
 * product on this matrix (where it uses one), so a pipeline can do it
 * ahead, on another thread, while other work runs; the products then skip
 * it. Building a new matrix into s drops it. */
void rt_rowsparse_prepare_tmm(rt_rowsparse *s, rt_simd simd);

/* c[cols x n] = S^T D: D is [rows x n] row-major, c row-major with stride n.
 * Each c[p][j] is the fmaf chain over the rows i with s[i][p] != 0 in
 * ascending i, from +0: the bits of rt_gemm_f32(trans_a) on the dense x.
 * Not const: the column counts a packing left (s->counted) are used up. */
void rt_rowsparse_tmm(rt_rowsparse *s, rt_simd simd, rt_pool *pool, const float *d, int n,
                      float *c);

#endif
