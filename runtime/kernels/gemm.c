/*
 * gemm.c — C = op(A) op(B) (+ C), blocked, SIMD, threaded, and bit-exact.
 *
 * The numerics first (the contract of gemm.h): c[i][j] must be the fmaf
 * chain over p = 0..k-1 in order, starting from beta ? c[i][j] : 0. Every
 * kernel here is an "outer product" kernel: an MR x NR tile of C lives in
 * registers and each step p does acc[r][c] = fma(a[i+r][p], b[p][j+c],
 * acc[r][c]) for the whole tile. That is exactly the reference chain for
 * each element, only many elements at once; vectorising across i and j never
 * touches the order of the k sum. Blocking k into chunks of kc stores the
 * partial sums to C and reloads them: a float round-trips through memory
 * unchanged, so the chain continues bit-exactly. fma(x, y, z) rounds once,
 * like fmaf, on every path (vfmadd231ps and fmaf are both IEEE fusedMultiplyAdd),
 * and x*y == y*x exactly, so operand order inside the fma does not matter.
 * Hence scalar, AVX2 and AVX-512 agree to the bit, and so does any split of
 * C across threads (each element is computed whole by one task).
 *
 * Layout. A is never packed: the kernel broadcasts one A element per row
 * per step, and a broadcast is a scalar load wherever the element sits, so
 * one kernel serves A and A^T alike through MR row pointers and a step
 * stride (1 for A, lda for A^T). Rows past the edge of C repeat the last
 * valid row's pointer, so the kernel never reads out of bounds and their
 * (discarded) results cost only the edge tile's spare lanes. B is read in
 * place when its NR columns are contiguous and complete (B not transposed);
 * B^T and the ragged last column panel are packed into a zero-padded kc x NR
 * buffer on the stack, once per panel and reused for every row tile.
 *
 * The study's shapes (batch 100, 784-50-50-10) all fit in L2, so cache
 * blocking is modest: kc bounds the B panel a row sweep keeps hot in L1.
 * Threads split C by whole tiles, rows or columns, whichever has more.
 *
 * On AVX-512, a GEMM with n <= 64 that runs on one thread skips the tiles
 * for a whole-row kernel (gemm_rows_avx512, below the tile kernels): the
 * study's dense layers after the first (n = 50 and 10, k = 50, 100 and 10)
 * went from 27.3 to 21.2 us per training step for their six GEMMs (a
 * loop over the six shapes, best of 200; bench-epoch adam+relu 1 thread:
 * step p1 133 -> 127 us), since edge tiles (n = 50 = 32 + 18, m = 100 =
 * 12 x 8 + 4), per-panel packing and zmm lanes past n were most of it.
 */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "cpu.h"
#include "gemm.h"
#include "neon.h"

#if defined(__x86_64__) || defined(__i386__)
#include <immintrin.h>
#define GEMM_X86 1
#else
#define GEMM_X86 0
#endif

enum {
    GEMM_MR_MAX = 8,        /* largest tile over all paths */
    GEMM_NR_MAX = 32,
    GEMM_KC = 256,          /* k chunk: a kc x NR B panel stays in L1 */
};

/* Below this many flops a GEMM is cheaper on one thread than the hand-off
 * to the pool costs (about a microsecond each way). */
#define GEMM_PAR_MIN_FLOPS 300000.0

/*
 * A micro-kernel: the MR x NR tile at c (row stride ldc) becomes
 *   acc = (load ? tile : 0);  for p < kc: acc[r][x] = fma(arow[r][p*aps], b[p*bps + x], acc[r][x])
 * arow holds MR row pointers (valid to read, possibly repeated); b is a
 * packed panel of kc rows of NR floats (bps == NR; the SIMD kernels use the
 * constant so the unrolled loop addresses B by displacement). Each kernel
 * is inlined twice, for aps == 1 (A) and aps == lda (A^T): with the
 * constant 1 the unrolled broadcasts need no pointer arithmetic.
 */
typedef void gemm_ukernel(int kc, const float *const *arow, long aps,
                          const float *b, long bps, float *c, long ldc, bool load);

/* The same for a ragged edge tile: only rows < mb and columns < nb of C
 * are read (when load) and written. A path without one runs edge tiles
 * through a scratch tile instead (gemm_block). */
typedef void gemm_edge_ukernel(int kc, const float *const *arow, long aps,
                               const float *b, long bps, float *c, long ldc, bool load,
                               int mb, int nb);

typedef struct gemm_kernel {
    int mr, nr;
    gemm_ukernel *fn;
    gemm_edge_ukernel *edge;    /* NULL: edges through a scratch tile */
} gemm_kernel;

/* A SIMD level's kernels: `main` for full column panels, `tail` (narrower)
 * for a last panel of at most tail.nr columns, where main would waste lanes. */
typedef struct gemm_path {
    gemm_kernel main, tail;
} gemm_path;

/* ---- scalar: the portable path ----------------------------------------- */

enum { SC_MR = 4, SC_NR = 8 };

static void ukernel_scalar(int kc, const float *const *arow, long aps,
                           const float *b, long bps, float *c, long ldc, bool load)
{
    float t[SC_MR][SC_NR];
    for (int r = 0; r < SC_MR; r++)
        for (int x = 0; x < SC_NR; x++) t[r][x] = load ? c[r * ldc + x] : 0.0f;
    long off = 0;
    for (int p = 0; p < kc; p++, off += aps, b += bps)
        for (int r = 0; r < SC_MR; r++) {
            float y = arow[r][off];
            for (int x = 0; x < SC_NR; x++) t[r][x] = fmaf(y, b[x], t[r][x]);
        }
    for (int r = 0; r < SC_MR; r++)
        for (int x = 0; x < SC_NR; x++) c[r * ldc + x] = t[r][x];
}

#if GEMM_X86
/* ---- AVX2 + FMA: 6 x 16 ------------------------------------------------
 * 12 accumulators + 2 B vectors + 1 broadcast = 15 of the 16 ymm registers.
 * Per step: 2 loads and 6 broadcasts feed 12 FMAs, so the two FMA pipes,
 * not the load ports, set the pace; 12 independent chains cover the FMA
 * latency (4-5 cycles x 2 pipes). */

enum { AVX2_MR = 6, AVX2_NR = 16 };

#define AVX2_ROW_LOAD(r)                                                    \
    __m256 c##r##0 = load ? _mm256_loadu_ps(c + (r) * ldc) : _mm256_setzero_ps(), \
           c##r##1 = load ? _mm256_loadu_ps(c + (r) * ldc + 8) : _mm256_setzero_ps()
#define AVX2_ROW_STEP(r)                                                    \
    do {                                                                    \
        __m256 y = _mm256_broadcast_ss(a##r + off);                         \
        c##r##0 = _mm256_fmadd_ps(y, b0, c##r##0);                          \
        c##r##1 = _mm256_fmadd_ps(y, b1, c##r##1);                          \
    } while (0)
#define AVX2_ROW_STORE(r)                                                   \
    do {                                                                    \
        _mm256_storeu_ps(c + (r) * ldc, c##r##0);                           \
        _mm256_storeu_ps(c + (r) * ldc + 8, c##r##1);                       \
    } while (0)

/* The step loop, inlined twice so that A's step stride is the constant 1
 * for A (broadcasts then address a_r + off + constant after unrolling) and
 * a register for A^T. */
__attribute__((target("avx2,fma"), always_inline))
static inline void avx2_steps(int kc, const float *const *arow, long aps,
                              const float *b, float *c, long ldc, bool load)
{
    const float *a0 = arow[0], *a1 = arow[1], *a2 = arow[2],
                *a3 = arow[3], *a4 = arow[4], *a5 = arow[5];
    AVX2_ROW_LOAD(0); AVX2_ROW_LOAD(1); AVX2_ROW_LOAD(2);
    AVX2_ROW_LOAD(3); AVX2_ROW_LOAD(4); AVX2_ROW_LOAD(5);
    long off = 0;
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(b), b1 = _mm256_loadu_ps(b + 8);
        AVX2_ROW_STEP(0); AVX2_ROW_STEP(1); AVX2_ROW_STEP(2);
        AVX2_ROW_STEP(3); AVX2_ROW_STEP(4); AVX2_ROW_STEP(5);
        off += aps;
        b += AVX2_NR;
    }
    AVX2_ROW_STORE(0); AVX2_ROW_STORE(1); AVX2_ROW_STORE(2);
    AVX2_ROW_STORE(3); AVX2_ROW_STORE(4); AVX2_ROW_STORE(5);
}

__attribute__((target("avx2,fma")))
static void ukernel_avx2(int kc, const float *const *arow, long aps,
                         const float *b, long bps, float *c, long ldc, bool load)
{
    if (aps == 1) avx2_steps(kc, arow, 1, b, c, ldc, load);
    else avx2_steps(kc, arow, aps, b, c, ldc, load);
}

/* ---- AVX2 + FMA: 8 x 8, for the last <= 8 columns --------------------
 * On n = 50 the 6 x 16 tile would compute 64 columns for 50; finishing with
 * this one computes 56. Eight chains exactly cover FMA latency x pipes;
 * 1 load + 8 broadcasts per 8 FMAs make it slightly load-bound. */

enum { AVX2T_MR = 8, AVX2T_NR = 8 };

#define AVX2T_ROW_LOAD(r) \
    __m256 c##r = load ? _mm256_loadu_ps(c + (r) * ldc) : _mm256_setzero_ps()
#define AVX2T_ROW_STEP(r) \
    c##r = _mm256_fmadd_ps(_mm256_broadcast_ss(a##r + off), b0, c##r)

__attribute__((target("avx2,fma"), always_inline))
static inline void avx2_tail_steps(int kc, const float *const *arow, long aps,
                                   const float *b, float *c, long ldc, bool load)
{
    const float *a0 = arow[0], *a1 = arow[1], *a2 = arow[2], *a3 = arow[3],
                *a4 = arow[4], *a5 = arow[5], *a6 = arow[6], *a7 = arow[7];
    AVX2T_ROW_LOAD(0); AVX2T_ROW_LOAD(1); AVX2T_ROW_LOAD(2); AVX2T_ROW_LOAD(3);
    AVX2T_ROW_LOAD(4); AVX2T_ROW_LOAD(5); AVX2T_ROW_LOAD(6); AVX2T_ROW_LOAD(7);
    long off = 0;
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++) {
        __m256 b0 = _mm256_loadu_ps(b);
        AVX2T_ROW_STEP(0); AVX2T_ROW_STEP(1); AVX2T_ROW_STEP(2); AVX2T_ROW_STEP(3);
        AVX2T_ROW_STEP(4); AVX2T_ROW_STEP(5); AVX2T_ROW_STEP(6); AVX2T_ROW_STEP(7);
        off += aps;
        b += AVX2T_NR;
    }
    _mm256_storeu_ps(c, c0);           _mm256_storeu_ps(c + ldc, c1);
    _mm256_storeu_ps(c + 2 * ldc, c2); _mm256_storeu_ps(c + 3 * ldc, c3);
    _mm256_storeu_ps(c + 4 * ldc, c4); _mm256_storeu_ps(c + 5 * ldc, c5);
    _mm256_storeu_ps(c + 6 * ldc, c6); _mm256_storeu_ps(c + 7 * ldc, c7);
}

__attribute__((target("avx2,fma")))
static void ukernel_avx2_tail(int kc, const float *const *arow, long aps,
                              const float *b, long bps, float *c, long ldc, bool load)
{
    if (aps == 1) avx2_tail_steps(kc, arow, 1, b, c, ldc, load);
    else avx2_tail_steps(kc, arow, aps, b, c, ldc, load);
}

/* ---- AVX-512F: 8 x 32 ---------------------------------------------------
 * 16 zmm accumulators. Eight rows rather than the 14 that would fill the
 * register file keep the eight row pointers in general registers (14 would
 * spill them and add a load per broadcast) and waste fewer rows on the
 * study's m = 100 and n = 50/10 edges. Per step: 2 loads + 8 broadcasts for
 * 16 FMAs. */

enum { AVX512_MR = 8, AVX512_NR = 32 };

#define AVX512_ROW_LOAD(r)                                                  \
    __m512 c##r##0 = load ? _mm512_loadu_ps(c + (r) * ldc) : _mm512_setzero_ps(), \
           c##r##1 = load ? _mm512_loadu_ps(c + (r) * ldc + 16) : _mm512_setzero_ps()
#define AVX512_ROW_STEP(r)                                                  \
    do {                                                                    \
        __m512 y = _mm512_set1_ps(a##r[off]);                               \
        c##r##0 = _mm512_fmadd_ps(y, b0, c##r##0);                          \
        c##r##1 = _mm512_fmadd_ps(y, b1, c##r##1);                          \
    } while (0)
#define AVX512_ROW_STORE(r)                                                 \
    do {                                                                    \
        _mm512_storeu_ps(c + (r) * ldc, c##r##0);                           \
        _mm512_storeu_ps(c + (r) * ldc + 16, c##r##1);                      \
    } while (0)

__attribute__((target("avx512f"), always_inline))
static inline void avx512_steps(int kc, const float *const *arow, long aps,
                                const float *b, float *c, long ldc, bool load)
{
    const float *a0 = arow[0], *a1 = arow[1], *a2 = arow[2], *a3 = arow[3],
                *a4 = arow[4], *a5 = arow[5], *a6 = arow[6], *a7 = arow[7];
    AVX512_ROW_LOAD(0); AVX512_ROW_LOAD(1); AVX512_ROW_LOAD(2); AVX512_ROW_LOAD(3);
    AVX512_ROW_LOAD(4); AVX512_ROW_LOAD(5); AVX512_ROW_LOAD(6); AVX512_ROW_LOAD(7);
    long off = 0;
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        AVX512_ROW_STEP(0); AVX512_ROW_STEP(1); AVX512_ROW_STEP(2); AVX512_ROW_STEP(3);
        AVX512_ROW_STEP(4); AVX512_ROW_STEP(5); AVX512_ROW_STEP(6); AVX512_ROW_STEP(7);
        off += aps;
        b += AVX512_NR;
    }
    AVX512_ROW_STORE(0); AVX512_ROW_STORE(1); AVX512_ROW_STORE(2); AVX512_ROW_STORE(3);
    AVX512_ROW_STORE(4); AVX512_ROW_STORE(5); AVX512_ROW_STORE(6); AVX512_ROW_STORE(7);
}

__attribute__((target("avx512f")))
static void ukernel_avx512(int kc, const float *const *arow, long aps,
                           const float *b, long bps, float *c, long ldc, bool load)
{
    if (aps == 1) avx512_steps(kc, arow, 1, b, c, ldc, load);
    else avx512_steps(kc, arow, aps, b, c, ldc, load);
}

/* AVX-512 tail, 8 x 16: the last <= 16 columns (n = 50 -> 32 + 32 would
 * compute 64, 32 + 16 + 16 computes 64 too but n = 10 then costs 16, not 32). */
enum { AVX512T_MR = 8, AVX512T_NR = 16 };

#define AVX512T_ROW_LOAD(r) \
    __m512 c##r = load ? _mm512_loadu_ps(c + (r) * ldc) : _mm512_setzero_ps()
#define AVX512T_ROW_STEP(r) \
    c##r = _mm512_fmadd_ps(_mm512_set1_ps(a##r[off]), b0, c##r)

__attribute__((target("avx512f"), always_inline))
static inline void avx512_tail_steps(int kc, const float *const *arow, long aps,
                                     const float *b, float *c, long ldc, bool load)
{
    const float *a0 = arow[0], *a1 = arow[1], *a2 = arow[2], *a3 = arow[3],
                *a4 = arow[4], *a5 = arow[5], *a6 = arow[6], *a7 = arow[7];
    AVX512T_ROW_LOAD(0); AVX512T_ROW_LOAD(1); AVX512T_ROW_LOAD(2); AVX512T_ROW_LOAD(3);
    AVX512T_ROW_LOAD(4); AVX512T_ROW_LOAD(5); AVX512T_ROW_LOAD(6); AVX512T_ROW_LOAD(7);
    long off = 0;
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(b);
        AVX512T_ROW_STEP(0); AVX512T_ROW_STEP(1); AVX512T_ROW_STEP(2); AVX512T_ROW_STEP(3);
        AVX512T_ROW_STEP(4); AVX512T_ROW_STEP(5); AVX512T_ROW_STEP(6); AVX512T_ROW_STEP(7);
        off += aps;
        b += AVX512T_NR;
    }
    _mm512_storeu_ps(c, c0);           _mm512_storeu_ps(c + ldc, c1);
    _mm512_storeu_ps(c + 2 * ldc, c2); _mm512_storeu_ps(c + 3 * ldc, c3);
    _mm512_storeu_ps(c + 4 * ldc, c4); _mm512_storeu_ps(c + 5 * ldc, c5);
    _mm512_storeu_ps(c + 6 * ldc, c6); _mm512_storeu_ps(c + 7 * ldc, c7);
}

__attribute__((target("avx512f")))
static void ukernel_avx512_tail(int kc, const float *const *arow, long aps,
                                const float *b, long bps, float *c, long ldc, bool load)
{
    if (aps == 1) avx512_tail_steps(kc, arow, 1, b, c, ldc, load);
    else avx512_tail_steps(kc, arow, aps, b, c, ldc, load);
}

/* Edge tiles on AVX-512: the tile's columns are k-masked (a masked load
 * or store costs what a full one does here) and rows past mb are computed
 * on a repeated row pointer (gemm_block) but not stored, so C is read and
 * written in place: no scratch tile to clear, fill and copy back (at the
 * study's n = 50 and 10 and m = 100, more than half the tiles are edge
 * tiles). Every stored element is the same chain as in the full kernel. */
#define AVX512E_ROW_LOAD(r)                                                 \
    __m512 c##r##0 = load && (r) < mb ? _mm512_maskz_loadu_ps(m0, c + (r) * ldc) : _mm512_setzero_ps(), \
           c##r##1 = load && (r) < mb ? _mm512_maskz_loadu_ps(m1, c + (r) * ldc + 16) : _mm512_setzero_ps()
#define AVX512E_ROW_STORE(r)                                                \
    do {                                                                    \
        if ((r) < mb) {                                                     \
            _mm512_mask_storeu_ps(c + (r) * ldc, m0, c##r##0);              \
            _mm512_mask_storeu_ps(c + (r) * ldc + 16, m1, c##r##1);         \
        }                                                                   \
    } while (0)

__attribute__((target("avx512f"), always_inline))
static inline void avx512_edge_steps(int kc, const float *const *arow, long aps, const float *b,
                                     float *c, long ldc, bool load, int mb, __mmask16 m0,
                                     __mmask16 m1)
{
    const float *a0 = arow[0], *a1 = arow[1], *a2 = arow[2], *a3 = arow[3],
                *a4 = arow[4], *a5 = arow[5], *a6 = arow[6], *a7 = arow[7];
    AVX512E_ROW_LOAD(0); AVX512E_ROW_LOAD(1); AVX512E_ROW_LOAD(2); AVX512E_ROW_LOAD(3);
    AVX512E_ROW_LOAD(4); AVX512E_ROW_LOAD(5); AVX512E_ROW_LOAD(6); AVX512E_ROW_LOAD(7);
    long off = 0;
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(b), b1 = _mm512_loadu_ps(b + 16);
        AVX512_ROW_STEP(0); AVX512_ROW_STEP(1); AVX512_ROW_STEP(2); AVX512_ROW_STEP(3);
        AVX512_ROW_STEP(4); AVX512_ROW_STEP(5); AVX512_ROW_STEP(6); AVX512_ROW_STEP(7);
        off += aps;
        b += AVX512_NR;
    }
    AVX512E_ROW_STORE(0); AVX512E_ROW_STORE(1); AVX512E_ROW_STORE(2); AVX512E_ROW_STORE(3);
    AVX512E_ROW_STORE(4); AVX512E_ROW_STORE(5); AVX512E_ROW_STORE(6); AVX512E_ROW_STORE(7);
}

/* Lanes below n (0..16) of a 16-lane mask; n may be negative or past 16. */
static inline __mmask16 gemm_lanes16(int n)
{
    return n <= 0 ? 0 : n >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << n) - 1u);
}

__attribute__((target("avx512f")))
static void ukernel_avx512_edge(int kc, const float *const *arow, long aps, const float *b,
                                long bps, float *c, long ldc, bool load, int mb, int nb)
{
    __mmask16 m0 = gemm_lanes16(nb), m1 = gemm_lanes16(nb - 16);
    if (aps == 1) avx512_edge_steps(kc, arow, 1, b, c, ldc, load, mb, m0, m1);
    else avx512_edge_steps(kc, arow, aps, b, c, ldc, load, mb, m0, m1);
}

#define AVX512TE_ROW_LOAD(r) \
    __m512 c##r = load && (r) < mb ? _mm512_maskz_loadu_ps(m0, c + (r) * ldc) : _mm512_setzero_ps()
#define AVX512TE_ROW_STORE(r) \
    do { if ((r) < mb) _mm512_mask_storeu_ps(c + (r) * ldc, m0, c##r); } while (0)

__attribute__((target("avx512f"), always_inline))
static inline void avx512_tail_edge_steps(int kc, const float *const *arow, long aps,
                                          const float *b, float *c, long ldc, bool load, int mb,
                                          __mmask16 m0)
{
    const float *a0 = arow[0], *a1 = arow[1], *a2 = arow[2], *a3 = arow[3],
                *a4 = arow[4], *a5 = arow[5], *a6 = arow[6], *a7 = arow[7];
    AVX512TE_ROW_LOAD(0); AVX512TE_ROW_LOAD(1); AVX512TE_ROW_LOAD(2); AVX512TE_ROW_LOAD(3);
    AVX512TE_ROW_LOAD(4); AVX512TE_ROW_LOAD(5); AVX512TE_ROW_LOAD(6); AVX512TE_ROW_LOAD(7);
    long off = 0;
#pragma GCC unroll 4
    for (int p = 0; p < kc; p++) {
        __m512 b0 = _mm512_loadu_ps(b);
        AVX512T_ROW_STEP(0); AVX512T_ROW_STEP(1); AVX512T_ROW_STEP(2); AVX512T_ROW_STEP(3);
        AVX512T_ROW_STEP(4); AVX512T_ROW_STEP(5); AVX512T_ROW_STEP(6); AVX512T_ROW_STEP(7);
        off += aps;
        b += AVX512T_NR;
    }
    AVX512TE_ROW_STORE(0); AVX512TE_ROW_STORE(1); AVX512TE_ROW_STORE(2); AVX512TE_ROW_STORE(3);
    AVX512TE_ROW_STORE(4); AVX512TE_ROW_STORE(5); AVX512TE_ROW_STORE(6); AVX512TE_ROW_STORE(7);
}

__attribute__((target("avx512f")))
static void ukernel_avx512_tail_edge(int kc, const float *const *arow, long aps, const float *b,
                                     long bps, float *c, long ldc, bool load, int mb, int nb)
{
    __mmask16 m0 = gemm_lanes16(nb);
    if (aps == 1) avx512_tail_edge_steps(kc, arow, 1, b, c, ldc, load, mb, m0);
    else avx512_tail_edge_steps(kc, arow, aps, b, c, ldc, load, mb, m0);
}

/* ---- AVX-512 whole rows, for n <= 64 -----------------------------------
 * The study's small layers (n = 50 and 10, m = 100 or 50, k <= 100) spend
 * more on the tiled path's overhead than on FMAs: a B panel packed per
 * column panel, 8 row pointers per tile, and edge tiles on both sides
 * (n = 50 is 32 + 18 columns, m = 100 is 12 x 8 + 4 rows). Here a block of
 * GEMM_ROWS_R rows of C lives in registers whole (nv = ceil(n / 16) zmm
 * per row, the last one k-masked), B is read in place row after row
 * (B^T is first transposed into a k x n buffer), and each step p
 * broadcasts a[i][p] for the block's rows: acc = fma(a[i][p], b[p][j],
 * acc), p ascending from beta ? c : 0, the chain of every other kernel,
 * over all of k at once (the tiled path's k chunks only store and reload
 * it). Rows past m repeat the last row and are not stored.
 *
 * Measured (six study shapes, us, best of 200, Zen 4 one thread): tiles
 * 27.3; whole rows, zmm only, B^T transposed by scalar loads 23.5; last
 * <= 4 / <= 8 columns in an xmm / ymm 21.8; B^T by 16 x 16 register
 * blocks 21.2 (its 100x50x50 case 7.1 -> 6.0). Tried and dropped: B^T by
 * a gather per 16 floats (slower than scalar), 5 rows per block for
 * n = 33..64 (no unused rows at m = 100 or 50, but no faster: the FMAs
 * are already the limit, about one zmm per cycle). */
enum { GEMM_ROWS_NMAX = 64, GEMM_ROWS_KT_MAX = 256 };

/* One block of R rows: nf full zmm per row, then the last rem = n - 16 nf
 * columns in a vector of tw lanes, 4 (xmm), 8 (ymm) or 16 (zmm, k-masked):
 * Zen 4 runs a zmm FMA as two 256-bit halves, so n = 50's last 2 columns
 * in an xmm cost 1/8 of the row's FMA time, not 1/4. The narrow ones use
 * AVX's vector-masked loads and stores (lanes past rem read as 0, never
 * written). Every lane's arithmetic is the same fma either way. */
__attribute__((target("avx512f,avx2,fma"), always_inline))
static inline void rows_block(int nf, int tw, int R, int k, const float *const *arow, long aps,
                              const float *b, long bps, float *c, long ldc, bool load, int mb,
                              __mmask16 m16, __m256i m8, __m128i m4)
{
    __m512 acc[8][3], t16[8];
    __m256 t8[8];
    __m128 t4[8];
#pragma GCC unroll 8
    for (int r = 0; r < R; r++) {
        bool ld = load && r < mb;
        const float *cr = c + r * ldc, *ct = cr + 16 * nf;
#pragma GCC unroll 3
        for (int v = 0; v < nf; v++)
            acc[r][v] = ld ? _mm512_loadu_ps(cr + 16 * v) : _mm512_setzero_ps();
        if (tw == 16) t16[r] = ld ? _mm512_maskz_loadu_ps(m16, ct) : _mm512_setzero_ps();
        else if (tw == 8) t8[r] = ld ? _mm256_maskload_ps(ct, m8) : _mm256_setzero_ps();
        else t4[r] = ld ? _mm_maskload_ps(ct, m4) : _mm_setzero_ps();
    }
    long off = 0;
#pragma GCC unroll 2
    for (int p = 0; p < k; p++) {
        __m512 bv[3], b16 = _mm512_setzero_ps();
        __m256 b8 = _mm256_setzero_ps();
        __m128 b4 = _mm_setzero_ps();
#pragma GCC unroll 3
        for (int v = 0; v < nf; v++) bv[v] = _mm512_loadu_ps(b + 16 * v);
        if (tw == 16) b16 = _mm512_maskz_loadu_ps(m16, b + 16 * nf);
        else if (tw == 8) b8 = _mm256_maskload_ps(b + 16 * nf, m8);
        else b4 = _mm_maskload_ps(b + 16 * nf, m4);
#pragma GCC unroll 8
        for (int r = 0; r < R; r++) {
            __m512 y = _mm512_set1_ps(arow[r][off]);
#pragma GCC unroll 3
            for (int v = 0; v < nf; v++) acc[r][v] = _mm512_fmadd_ps(y, bv[v], acc[r][v]);
            if (tw == 16) t16[r] = _mm512_fmadd_ps(y, b16, t16[r]);
            else if (tw == 8) t8[r] = _mm256_fmadd_ps(_mm512_castps512_ps256(y), b8, t8[r]);
            else t4[r] = _mm_fmadd_ps(_mm512_castps512_ps128(y), b4, t4[r]);
        }
        off += aps;
        b += bps;
    }
#pragma GCC unroll 8
    for (int r = 0; r < R; r++)
        if (r < mb) {
            float *cr = c + r * ldc, *ct = cr + 16 * nf;
#pragma GCC unroll 3
            for (int v = 0; v < nf; v++) _mm512_storeu_ps(cr + 16 * v, acc[r][v]);
            if (tw == 16) _mm512_mask_storeu_ps(ct, m16, t16[r]);
            else if (tw == 8) _mm256_maskstore_ps(ct, m8, t8[r]);
            else _mm_maskstore_ps(ct, m4, t4[r]);
        }
}

typedef void gemm_rows_fn(int k, const float *const *arow, long aps, const float *b, long bps,
                          float *c, long ldc, bool load, int mb, __mmask16 m16, __m256i m8,
                          __m128i m4);

#define GEMM_ROWS_FN(NF, TW, R)                                                              \
    __attribute__((target("avx512f,avx2,fma")))                                            \
    static void rows_avx512_##NF##_##TW(int k, const float *const *arow, long aps,           \
                                        const float *b, long bps, float *c, long ldc,       \
                                        bool load, int mb, __mmask16 m16, __m256i m8,       \
                                        __m128i m4)                                         \
    {                                                                                      \
        if (aps == 1) rows_block(NF, TW, R, k, arow, 1, b, bps, c, ldc, load, mb, m16, m8, m4); \
        else rows_block(NF, TW, R, k, arow, aps, b, bps, c, ldc, load, mb, m16, m8, m4);     \
    }
GEMM_ROWS_FN(0, 4, 8)
GEMM_ROWS_FN(0, 8, 8)
GEMM_ROWS_FN(0, 16, 8)
GEMM_ROWS_FN(1, 4, 6)
GEMM_ROWS_FN(1, 8, 6)
GEMM_ROWS_FN(1, 16, 6)
GEMM_ROWS_FN(2, 4, 4)
GEMM_ROWS_FN(2, 8, 4)
GEMM_ROWS_FN(2, 16, 4)
GEMM_ROWS_FN(3, 4, 4)
GEMM_ROWS_FN(3, 8, 4)
GEMM_ROWS_FN(3, 16, 4)

/* dst[q][x] = src[x][q] for x < 16, q < min(kb, 16): the rows x >= nb
 * (past B's n) become zeros, columns q >= kb are not read nor rows q >= kb
 * written. The usual three rounds of shuffles: pairs, quads, 128-bit lanes
 * and 256-bit halves. */
__attribute__((target("avx512f")))
static void transpose16(const float *src, long lds, int nb, int kb, float *dst, long ldd)
{
    __mmask16 mk = gemm_lanes16(kb);
    __m512 r[16], t[16];
    for (int x = 0; x < 16; x++)
        r[x] = x < nb ? _mm512_maskz_loadu_ps(mk, src + x * lds) : _mm512_setzero_ps();
    for (int x = 0; x < 16; x += 2) {
        t[x] = _mm512_unpacklo_ps(r[x], r[x + 1]);
        t[x + 1] = _mm512_unpackhi_ps(r[x], r[x + 1]);
    }
    for (int x = 0; x < 16; x += 4) {
        r[x] = _mm512_shuffle_ps(t[x], t[x + 2], 0x44);
        r[x + 1] = _mm512_shuffle_ps(t[x], t[x + 2], 0xee);
        r[x + 2] = _mm512_shuffle_ps(t[x + 1], t[x + 3], 0x44);
        r[x + 3] = _mm512_shuffle_ps(t[x + 1], t[x + 3], 0xee);
    }
    for (int h = 0; h < 16; h += 8)
        for (int x = 0; x < 4; x++) {
            t[h + x] = _mm512_shuffle_f32x4(r[h + x], r[h + x + 4], 0x88);
            t[h + x + 4] = _mm512_shuffle_f32x4(r[h + x], r[h + x + 4], 0xdd);
        }
    for (int x = 0; x < 8; x++) {
        r[x] = _mm512_shuffle_f32x4(t[x], t[x + 8], 0x88);
        r[x + 8] = _mm512_shuffle_f32x4(t[x], t[x + 8], 0xdd);
    }
    for (int q = 0; q < 16 && q < kb; q++) _mm512_storeu_ps(dst + q * ldd, r[q]);
}

/* C = op(A) op(B) (+ C) for n <= GEMM_ROWS_NMAX on one thread; false (and
 * nothing done) where it does not apply: B^T with k past the buffer. */
__attribute__((target("avx512f,avx2,fma")))
static bool gemm_rows_avx512(bool ta, bool tb, int m, int n, int k, const float *a, long lda,
                             const float *b, long ldb, bool beta, float *c, long ldc)
{
    /* [full vectors][tail 4, 8, 16] and the rows per block: 8 x 1 .. 4 x 4
     * vectors, 8 to 16 accumulators */
    static gemm_rows_fn *const fns[4][3] = {
        {rows_avx512_0_4, rows_avx512_0_8, rows_avx512_0_16},
        {rows_avx512_1_4, rows_avx512_1_8, rows_avx512_1_16},
        {rows_avx512_2_4, rows_avx512_2_8, rows_avx512_2_16},
        {rows_avx512_3_4, rows_avx512_3_8, rows_avx512_3_16},
    };
    static const int rows[4] = {8, 6, 4, 4};
    _Alignas(64) float bt[GEMM_ROWS_KT_MAX * GEMM_ROWS_NMAX];
    if (n > GEMM_ROWS_NMAX || (tb && k > GEMM_ROWS_KT_MAX)) return false;
    int nf = (n - 1) / 16, rem = n - 16 * nf, R = rows[nf];
    int tw = rem <= 4 ? 0 : rem <= 8 ? 1 : 2;
    __mmask16 m16 = gemm_lanes16(rem);
    __m256i m8 = _mm256_cmpgt_epi32(_mm256_set1_epi32(rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    __m128i m4 = _mm_cmpgt_epi32(_mm_set1_epi32(rem), _mm_setr_epi32(0, 1, 2, 3));
    const float *bp = b;
    long bps = ldb;
    if (tb) {
        /* B is stored n x k: bt = its transpose, k rows of 16 (nf + 1),
         * by 16 x 16 blocks in registers (scalar, the strided side cost
         * more than the GEMM saved; a gather per 16, more still) */
        int np = 16 * (nf + 1);
        for (int x0 = 0; x0 < n; x0 += 16)
            for (int p0 = 0; p0 < k; p0 += 16)
                transpose16(b + (long)x0 * ldb + p0, ldb, n - x0, k - p0, bt + (long)p0 * np + x0, np);
        bp = bt;
        bps = np;
    }
    const long aps = ta ? lda : 1;
    const float *arow[8];
    for (int i = 0; i < m; i += R) {
        int mb = m - i < R ? m - i : R;
        for (int r = 0; r < R; r++) {
            long row = i + (r < mb ? r : mb - 1);
            arow[r] = ta ? a + row : a + row * lda;
        }
        fns[nf][tw](k, arow, aps, bp, bps, c + (long)i * ldc, ldc, beta, mb, m16, m8, m4);
    }
    return true;
}
#endif

/* One row per SIMD level (cpu.h); a level this build cannot target falls
 * back to the scalar kernel, which gives the same bits. */
static const gemm_path gemm_paths[RT_SIMD_COUNT] = {
    [RT_SIMD_SCALAR] = {{SC_MR, SC_NR, ukernel_scalar}, {SC_MR, SC_NR, ukernel_scalar}},
#if GEMM_X86
    [RT_SIMD_AVX2]   = {{AVX2_MR, AVX2_NR, ukernel_avx2},
                        {AVX2T_MR, AVX2T_NR, ukernel_avx2_tail}},
    [RT_SIMD_AVX512] = {{AVX512_MR, AVX512_NR, ukernel_avx512, ukernel_avx512_edge},
                        {AVX512T_MR, AVX512T_NR, ukernel_avx512_tail, ukernel_avx512_tail_edge}},
#else
    [RT_SIMD_AVX2]   = {{SC_MR, SC_NR, ukernel_scalar}, {SC_MR, SC_NR, ukernel_scalar}},
    [RT_SIMD_AVX512] = {{SC_MR, SC_NR, ukernel_scalar}, {SC_MR, SC_NR, ukernel_scalar}},
#endif
#if defined(__aarch64__)
    /* gemm_neon.c: vfmaq_f32 rounds like fmaf, the same chains */
    [RT_SIMD_NEON]   = {{NEON_GEMM_MR, NEON_GEMM_NR, rt_neon_gemm_8x12},
                        {NEON_GEMMT_MR, NEON_GEMMT_NR, rt_neon_gemm_8x4}},
#else
    [RT_SIMD_NEON]   = {{SC_MR, SC_NR, ukernel_scalar}, {SC_MR, SC_NR, ukernel_scalar}},
#endif
};
#define GEMM_FITS(mr, nr) ((int)(mr) <= (int)GEMM_MR_MAX && (int)(nr) <= (int)GEMM_NR_MAX)
#if defined(__aarch64__)
_Static_assert(GEMM_FITS(NEON_GEMM_MR, NEON_GEMM_NR) && GEMM_FITS(NEON_GEMMT_MR, NEON_GEMMT_NR),
               "neon tiles fit the scratch buffers");
#endif
_Static_assert(GEMM_FITS(SC_MR, SC_NR), "scalar tile fits the scratch buffers");
#if GEMM_X86
_Static_assert(GEMM_FITS(AVX2_MR, AVX2_NR) && GEMM_FITS(AVX2T_MR, AVX2T_NR),
               "avx2 tiles fit the scratch buffers");
_Static_assert(GEMM_FITS(AVX512_MR, AVX512_NR) && GEMM_FITS(AVX512T_MR, AVX512T_NR),
               "avx512 tiles fit the scratch buffers");
#endif

/* ---- the blocked driver ------------------------------------------------- */

typedef struct gemm_job {
    const gemm_path *path;
    bool ta, tb, beta;
    int m, n, k;
    const float *a, *b;
    float *c;
    long lda, ldb, ldc;
    int kc;             /* k chunk length (the last chunk may be shorter) */
    bool split_rows;    /* tasks own row ranges, else column ranges */
    int ntasks, tiles;  /* tiles along the split dimension */
} gemm_job;

/* Copies kb rows of nr floats (constant nr: the copy becomes a few vector
 * moves; a libc call per 32-byte row would cost more than the copy). */
#define GEMM_COPY_ROWS(nr)                                                  \
    for (int p = 0; p < kb; p++) memcpy(panel + (long)p * (nr), src + (long)p * g->ldb, (nr) * sizeof(float))

/* Copies B[k0 .. k0+kb) x [j .. j+nb) into panel (kb rows of nr floats),
 * zero-filling columns nb .. nr-1 so the kernel may read whole rows. */
static void pack_b(const gemm_job *g, int k0, int kb, int j, int nb, int nr, float *panel)
{
    if (g->tb) {
        /* B^T: row j of the stored matrix is column j of B; read it along. */
        for (int x = 0; x < nb; x++) {
            const float *src = g->b + (long)(j + x) * g->ldb + k0;
            for (int p = 0; p < kb; p++) panel[(long)p * nr + x] = src[p];
        }
        for (int p = 0; p < kb; p++)
            for (int x = nb; x < nr; x++) panel[(long)p * nr + x] = 0.0f;
        return;
    }
    const float *src = g->b + (long)k0 * g->ldb + j;
    if (nb == nr && nr == 8) { GEMM_COPY_ROWS(8); return; }
    if (nb == nr && nr == 16) { GEMM_COPY_ROWS(16); return; }
    if (nb == nr && nr == 32) { GEMM_COPY_ROWS(32); return; }
    for (int p = 0; p < kb; p++) {
        const float *s = src + (long)p * g->ldb;
        float *d = panel + (long)p * nr;
        int x = 0;
        for (; x < nb; x++) d[x] = s[x];
        for (; x < nr; x++) d[x] = 0.0f;
    }
}

/* Computes C[i0 .. i1) x [j0 .. j1) completely (all k). */
static void gemm_block(const gemm_job *g, int i0, int i1, int j0, int j1)
{
    _Alignas(64) float panel[GEMM_KC * GEMM_NR_MAX];
    _Alignas(64) float tile[GEMM_MR_MAX * GEMM_NR_MAX];
    const float *arow[GEMM_MR_MAX];
    const long aps = g->ta ? g->lda : 1;

    for (int k0 = 0; k0 < g->k; k0 += g->kc) {
        int kb = g->k - k0 < g->kc ? g->k - k0 : g->kc;
        bool load = g->beta || k0 > 0;      /* continue the chain in C */
        for (int j = j0; j < j1; ) {
            const gemm_kernel *kern = j1 - j <= g->path->tail.nr ? &g->path->tail : &g->path->main;
            const int mr = kern->mr, nr = kern->nr;
            int nb = j1 - j < nr ? j1 - j : nr;
            /* Packed even when B could be read in place: a contiguous
             * kc x nr panel is aligned (no split loads) and its L1
             * footprint is exactly its size, not kc scattered lines. */
            pack_b(g, k0, kb, j, nb, nr, panel);
            for (int i = i0; i < i1; i += mr) {
                int mb = i1 - i < mr ? i1 - i : mr;
                for (int r = 0; r < mr; r++) {
                    long row = i + (r < mb ? r : mb - 1);
                    arow[r] = g->ta ? g->a + (long)k0 * g->lda + row : g->a + row * g->lda + k0;
                }
                float *cp = g->c + (long)i * g->ldc + j;
                if (mb == mr && nb == nr) {
                    kern->fn(kb, arow, aps, panel, nr, cp, g->ldc, load);
                    continue;
                }
                if (kern->edge) {
                    kern->edge(kb, arow, aps, panel, nr, cp, g->ldc, load, mb, nb);
                    continue;
                }
                /* Ragged edge: run the full tile on a scratch copy, keep the
                 * valid part. Spare lanes start at 0 and are thrown away. */
                memset(tile, 0, (size_t)(mr * nr) * sizeof *tile);
                if (load)
                    for (int r = 0; r < mb; r++)
                        memcpy(tile + r * nr, cp + (long)r * g->ldc, (size_t)nb * sizeof *tile);
                kern->fn(kb, arow, aps, panel, nr, tile, nr, load);
                for (int r = 0; r < mb; r++)
                    memcpy(cp + (long)r * g->ldc, tile + r * nr, (size_t)nb * sizeof *tile);
            }
            j += nb;
        }
    }
}

static void gemm_task(void *ctx, int t)
{
    const gemm_job *g = ctx;
    int t0 = (int)((long)g->tiles * t / g->ntasks);
    int t1 = (int)((long)g->tiles * (t + 1) / g->ntasks);
    if (g->split_rows) {
        int mr = g->path->main.mr;
        int i1 = t1 * mr < g->m ? t1 * mr : g->m;
        gemm_block(g, t0 * mr, i1, 0, g->n);
    } else {
        int nr = g->path->main.nr;
        int j1 = t1 * nr < g->n ? t1 * nr : g->n;
        gemm_block(g, 0, g->m, t0 * nr, j1);
    }
}

/* Like rt_gemm_f32, with the SIMD level given (lowered to what the machine
 * supports). Declared in gemm.h for tests and benchmarks. */
void rt_gemm_f32_simd(rt_pool *pool, rt_simd simd, bool trans_a, bool trans_b,
                      int m, int n, int k, const float *a, int lda,
                      const float *b, int ldb, bool beta, float *c, int ldc)
{
    if (m <= 0 || n <= 0) return;
    if (k <= 0) {
        /* The empty chain: C keeps its value or becomes +0. */
        if (!beta)
            for (int i = 0; i < m; i++) memset(c + (long)i * ldc, 0, (size_t)n * sizeof *c);
        return;
    }
    if (simd < 0 || simd >= RT_SIMD_COUNT || !rt_cpu_has(simd)) simd = rt_cpu_detect();
    gemm_job g = {
        .path = &gemm_paths[simd], .ta = trans_a, .tb = trans_b, .beta = beta,
        .m = m, .n = n, .k = k, .a = a, .b = b, .c = c,
        .lda = lda, .ldb = ldb, .ldc = ldc,
    };
    /* Equal k chunks (784 -> 4 x 196, not 256+256+256+16). */
    int chunks = (k + GEMM_KC - 1) / GEMM_KC;
    g.kc = (k + chunks - 1) / chunks;

    int mr = g.path->main.mr, nr = g.path->main.nr;
    int mt = (m + mr - 1) / mr, nt = (n + nr - 1) / nr;
    int threads = rt_pool_threads(pool);
    if (threads <= 1 || 2.0 * m * n * k < GEMM_PAR_MIN_FLOPS) {
#if GEMM_X86
        if (simd == RT_SIMD_AVX512 &&
            gemm_rows_avx512(trans_a, trans_b, m, n, k, a, lda, b, ldb, beta, c, ldc))
            return;
#endif
        gemm_block(&g, 0, m, 0, n);
        return;
    }
    /* Split the dimension with more tiles; for B^T prefer columns, so each
     * packed B panel is built by one thread only. */
    g.split_rows = trans_b ? nt < threads : mt >= nt;
    g.tiles = g.split_rows ? mt : nt;
    g.ntasks = g.tiles < threads ? g.tiles : threads;
    rt_pool_run(pool, g.ntasks, gemm_task, &g);
}

void rt_gemm_f32(rt_pool *pool, bool trans_a, bool trans_b, int m, int n, int k,
                 const float *a, int lda, const float *b, int ldb,
                 bool beta, float *c, int ldc)
{
    rt_gemm_f32_simd(pool, rt_cpu_simd(), trans_a, trans_b, m, n, k,
                     a, lda, b, ldb, beta, c, ldc);
}

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
