/*
 * rowsparse.c — compressed rows and their two products (see rowsparse.h).
 *
 * Both products walk the nonzeros and, for each, update a whole row of
 * outputs: a broadcast of the nonzero times a row of the dense operand,
 * fused into accumulators. Per nonzero that is ceil(n/8) loads and FMAs,
 * against k*n/ (8 * 2 pipes) cycles per row for the dense GEMM; with 19%
 * nonzeros the product costs about a quarter of the dense one even at the
 * GEMM's peak. Columns are taken in blocks of up to 64 (8 ymm accumulators,
 * kept in registers: the block width is a compile-time constant in each
 * instance of the inlined body). S B masks the last vector of a block;
 * S^T D, which loads and stores its outputs once per nonzero, finishes a
 * block with 4-, 2- and 1-wide operations instead (masked stores are slow).
 *
 * Measured at the study's shape (100 x 784 batch, 19% nonzero, n = 50, one
 * core of this machine): build 20 us, S B 43 us, S^T D 74 us, against 110
 * and 114 us for the dense GEMMs. S B runs at the FMA pipes' rate (7 FMAs
 * per nonzero); S^T D by rows at the store port's (7 stores per nonzero).
 * So S^T D now goes by columns (build_csc, tmm_csc_*): a counting sort of
 * the nonzeros by column (a scatter per nonzero), then each output row
 * summed in registers and stored once. On MNIST batches (issue 18, a
 * microbenchmark of the three kernels, min of 25 epochs, AVX2): 57-60 us
 * against 67-72 us by rows, about 40% of it the sort; callgrind, one
 * training epoch: 306 M instructions (147 M of them the sort) against
 * 462 M. S B interleaves two rows (twice the
 * chains in flight: 38 -> 35 us); the AVX-512 bodies do the same with
 * 16-wide registers and k-masked tails, at the same speed on the
 * double-pumped Zen 4 this was measured on: S B is bound by reading W's
 * rows from L2 (157 KB), not by the FMAs.
 *
 * Issue 18, second round (study batches, 600 steps, AVX-512, thread CPU
 * time): the x86 byte packings count the columns as they pack, so the
 * sort is one scatter pass; the scatter writes one 8-byte entry (row,
 * value) per nonzero; a last vector of at most 8 lanes goes 256 bits wide.
 * S^T D with its sort 37.0 -> 29.6 ms, S B 21.9 -> 20.3 ms. Tried and
 * dropped: S B in bands of B's rows (to read each band from L1): 24-27 ms
 * for any band from 12 to 96 KB, so S B is not bound by L2; the scatter
 * in bands of columns: no faster.
 *
 * Issue 18, third round (a microbenchmark of the kernels on the study's
 * MNIST batches, 600 steps, one core of the 2-vCPU Zen 4, min of 10
 * epochs, us per step; A/B runs interleaved, the machine's speed drifts
 * by up to 30% between minutes). Before: packing 19-21, column sort 15,
 * S B 32, S^T D 31 (AVX2 path: 23, 15, 35, 33).
 *  - S^T D by columns reads D's rows from a copy at a stride of whole
 *    64-byte lines (pad_rows): three of the four loads per nonzero no
 *    longer straddle two lines. S^T D 31 -> 25.5 (AVX2 33 -> 27.5).
 *  - No column sort: the x86 byte packings of up to 128 rows mark each
 *    column's rows as bits (bits16 / bits8: an OR where they counted
 *    before) and keep the batch's bytes; S^T D walks each column's bits
 *    in ascending row order, the value (float)byte * scale as in val[]
 *    (tmm_bits_*). Packing 20.7 (same), sort 15 -> 0, S^T D 25.8 (same
 *    as from the column form); AVX2: 24 -> 25, 15 -> 0, 33 -> 30. Sparse
 *    work per step 97 -> 78 (AVX2 107 -> 90).
 *  - AVX-512: a last vector of exactly 8, 4, 2 or 1 columns is one plain
 *    load of that width, not vmaskmovps (n = 50 ends in 2): S B 32 -> 30,
 *    S^T D 28.5 -> 26. tmm_bits_avx512 indexes D's padded rows by a
 *    shift: 26.3 -> 24.9. S B four rows at a time (rows4_avx512): 30 ->
 *    28.5.
 *  - Packing: the image 8 rows ahead is prefetched into L2 as well (the
 *    one 4 ahead into L1): 20.5 -> 19.3 (AVX2: no change); S^T D's bytes
 *    are the blocks with ink stored from the register that has them, not
 *    a copy of each row: 21.1 -> 20.4.
 *  After: packing 18-19, S B 28.5, S^T D 25 (AVX2: 25, 34.5, 29): the
 *  sparse work per step 97 -> 72 us (AVX2 107 -> 89). One training
 *  epoch, 1 thread (bench-epoch, 3 epochs, interleaved with the build
 *  before, best of 3 medians): adam+relu 0.107 -> 0.093 s, sgd+sigmoid
 *  0.101 -> 0.086 s, rmsprop+relu 0.110 -> 0.093 s; the fastest tenth of
 *  the steps 166 -> 141, 157 -> 134, 163 -> 138 us.
 *  What bounds them now: S^T D runs each column's chain one nonzero at a
 *  time (4-cycle fma latency per nonzero against 3.5 cycles of fma
 *  throughput for n = 50) and about 20 instructions per nonzero, at 5.5
 *  cycles per nonzero (3.3 GHz); S B at 6 cycles per nonzero with 10
 *  instructions and 6 loads (two of its three 64-byte loads straddle
 *  lines); the fma floor of either is 3.5 cycles (16 us).
 *  Tried and dropped:
 *  - S^T D by rows into a band of output rows kept in L1 at a line
 *    stride (no sort; AVX-512 k-masks for the tail): 46-50 against 40
 *    for sort + columns at the best band (24 KB; 78 at 4 KB). Zen 4
 *    stores 32 bytes a cycle, so a load-fma-store of 200 bytes per
 *    nonzero is store-bound at about 7 cycles.
 *  - Two columns side by side in tmm_bits_avx512 (as cols2_avx512):
 *    26.2 against 25.8, and 26.3 against 24.8 once D is indexed by a
 *    shift (the extra loop exits cost more than the second chain saves).
 *    A table of the 256 byte values instead of the conversion per
 *    nonzero (3 instructions less): 28.2 against 26.3, again 26.4
 *    against 24.6 at the end (though 7% faster in two slow spells).
 *  - The plain 64-bit tail load in the AVX2 bodies (n = 50 ends in 2 of
 *    8): S B 34.5 -> 32.7, S^T D 30.1 -> 31.0 on this AMD machine (Intel
 *    masks loads cheaply); not worth an instance per tail there.
 *  - S B from a copy of W at a line stride: 30.3 without the copy's
 *    cost, 35 with it (32.5 before): the copy costs more than the split
 *    loads. S B with W's rows confined to L1 (a test of the bound, wrong
 *    results): 10% faster, so S B is still not L2-bound; its inner loop
 *    is 12 instructions per nonzero and two rows' chains; at n = 16 it
 *    takes 17 us, at 48 (aligned rows) 32, at 64 40 (a slow spell: 39 at
 *    n = 50): it scales with the loads' bytes.
 *  - In a one-thread fit, prefetching the next batch's first 8 or all 100
 *    images into L2 right after its step starts (fit.c): the steps' p10
 *    and median unchanged (168 / 180 us either way, a slow spell).
 *  - Packing: a byte per row and group of 8 columns (one store per group
 *    instead of ORing the row's bit into 8 or 16 words), transposed into
 *    the bits at the end 32 rows per movemask: slower, 18.3 -> 20.5
 *    (AVX2 25.1 -> 26.6).
 *  - Packing: k-masked stores of the compressed values and columns (only
 *    the lanes kept) instead of full ones: no faster (18.7 / 18.2).
 *  - Packing: the batch's images cost about 10 of its 20 us (20 -> 10
 *    when packed twice in a row); prefetching the whole next batch during
 *    a step: -1 us in the microbenchmark, nothing clear in the epoch;
 *    2 MB pages (the dataset already has them: dataset.c) and a
 *    prefetch distance of 2, 8 or 12 images instead of 4: no change.
 *
 * The cursor array is scratch of the products: two products on one
 * rt_rowsparse must not run at the same time.
 */
#include <math.h>
#include <string.h>
#include "neon.h"
#include "rowsparse.h"
#include "tensor.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define RS_X86 1
#else
#define RS_X86 0
#endif
/* aarch64: the NEON bodies are in rowsparse_neon.c */
#if defined(__aarch64__)
#define RS_NEON 1
#else
#define RS_NEON 0
#endif

/* RS_SPARE: entries past max_nnz that the packing stores may write (up to
 * four packs of eight (AVX2) or of sixteen (AVX-512) run before a block's
 * count is checked). */
enum { RS_BLOCK = 64, RS_VEC = 8, RS_SPARE = 64 };
/* Most rows whose columns the x86 byte packings mark as bits. */
enum { RS_BITS_MAX_ROWS = 128 };

bool rt_rowsparse_reserve(rt_rowsparse *s, int rows, long max_nnz, rt_error *err)
{
    if (rows <= s->cap_rows && max_nnz <= s->max_nnz) return true;
    rt_rowsparse_release(s);
    s->start = rt_alloc((size_t)(rows + 1) * sizeof *s->start);
    s->cursor = rt_alloc((size_t)RS_MAX_PARTS * (size_t)(rows + 1) * sizeof *s->cursor);
    s->col = rt_alloc((size_t)(max_nnz + RS_SPARE) * sizeof *s->col);
    s->val = rt_alloc((size_t)(max_nnz + RS_SPARE) * sizeof *s->val);
    s->cstart = rt_alloc((size_t)(max_nnz + 3) * sizeof *s->cstart);
    s->centry = rt_alloc((size_t)(max_nnz + 1) * sizeof *s->centry);
    s->dpad = rt_alloc((size_t)rows * RS_BLOCK * sizeof *s->dpad);
    if (!s->start || !s->cursor || !s->col || !s->val || !s->cstart || !s->centry || !s->dpad) {
        rt_rowsparse_release(s);
        return rt_fail(err, "out of memory for a sparse input of %ld values", max_nnz);
    }
    s->cap_rows = rows;
    s->max_nnz = max_nnz;
    return true;
}

void rt_rowsparse_release(rt_rowsparse *s)
{
    rt_free(s->start);
    rt_free(s->cursor);
    rt_free(s->col);
    rt_free(s->val);
    rt_free(s->cstart);
    rt_free(s->centry);
    rt_free(s->dpad);
    rt_free(s->rbits);
    rt_free(s->xb);
    memset(s, 0, sizeof *s);
}

/* ---- scalar bodies: the portable path and the definition ---------------- */

static bool build_scalar(rt_rowsparse *s, const float *x, int rows, int cols)
{
    long nnz = 0;
    for (int i = 0; i < rows; i++) {
        s->start[i] = (int32_t)nnz;
        const float *xi = x + (long)i * cols;
        for (int p = 0; p < cols; p++) {
            if (xi[p] == 0.0f) continue;
            if (nnz == s->max_nnz) return false;
            s->col[nnz] = p;
            s->val[nnz++] = xi[p];
        }
    }
    s->start[rows] = (int32_t)nnz;
    return true;
}

static bool build_u8_scalar(rt_rowsparse *s, const uint8_t *base, const int64_t *idx, int rows,
                            int cols, float scale)
{
    long nnz = 0;
    for (int i = 0; i < rows; i++) {
        s->start[i] = (int32_t)nnz;
        const uint8_t *xi = base + idx[i] * cols;
        for (int p = 0; p < cols; p++) {
            if (xi[p] == 0) continue;
            if (nnz == s->max_nnz) return false;
            s->col[nnz] = p;
            s->val[nnz++] = (float)xi[p] * scale;
        }
    }
    s->start[rows] = (int32_t)nnz;
    return true;
}

/* Rows [i0, i1) of S B (+ bias). */
static void mm_scalar(const rt_rowsparse *s, const float *b, int n, const float *bias,
                      float *c, int ldc, int i0, int i1)
{
    for (int i = i0; i < i1; i++) {
        float *ci = c + (long)i * ldc;
        for (int j = 0; j < n; j++) ci[j] = 0.0f;
        for (int32_t k = s->start[i]; k < s->start[i + 1]; k++) {
            const float v = s->val[k], *bp = b + (long)s->col[k] * n;
            for (int j = 0; j < n; j++) ci[j] = fmaf(v, bp[j], ci[j]);
        }
        if (bias)
            for (int j = 0; j < n; j++) ci[j] += bias[j];
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

/* Rows [p0, p1) of S^T D: for each, its terms in ascending i. */
static void tmm_scalar(const rt_rowsparse *s, const float *d, int n, float *c, int p0, int p1)
{
    for (int p = p0; p < p1; p++)
        for (int j = 0; j < n; j++) c[(long)p * n + j] = 0.0f;
    for (int i = 0; i < s->rows; i++) {
        const float *di = d + (long)i * n;
        for (int32_t k = first_at(s, i, p0); k < s->start[i + 1] && s->col[k] < p1; k++) {
            const float v = s->val[k];
            float *cp = c + (long)s->col[k] * n;
            for (int j = 0; j < n; j++) cp[j] = fmaf(v, di[j], cp[j]);
        }
    }
}

/* The nonzeros by columns (s->cstart, centry; see rowsparse.h), by a
 * counting sort: counts per column, their prefix sums, then the entries
 * scattered in row order, so each column lists its rows ascending. False
 * when cstart cannot hold the columns (a reservation with fewer nonzeros
 * than columns): S^T D then goes by rows. */
static bool build_csc(const rt_rowsparse *s)
{
    int cols = s->cols;
    if ((long)cols > s->max_nnz + 1) return false;
    /* restrict: the stores do not alias the lists read (without it the
     * loop bound was reloaded after every store) */
    int32_t *restrict cs = s->cstart;
    rt_rs_entry *restrict ce = s->centry;
    const int32_t *restrict col = s->col, *restrict start = s->start;
    const float *restrict val = s->val;
    /* cs[p + 2] counts column p (counted already if the packing did:
     * count_begin); after the prefix sum cs[p + 1] is where column p
     * starts, and the scatter advances it to where p ends */
    if (!s->counted) {
        long nnz = start[s->rows];
        memset(cs, 0, (size_t)(cols + 2) * sizeof *cs);
        for (long k = 0; k < nnz; k++) cs[col[k] + 2]++;
    }
    for (int p = 2; p <= cols + 1; p++) cs[p] += cs[p - 1];
    for (int i = 0; i < s->rows; i++) {
        const int32_t end = start[i + 1];
        for (int32_t k = start[i]; k < end; k++) {
            int32_t at = cs[col[k] + 1]++;
            ce[at] = (rt_rs_entry){i, val[k]};
        }
    }
    return true;
}

#if RS_X86
/* Where a packing counts column p's nonzeros (at [p + 2], the layout
 * build_csc's counting sort wants), zeroed; NULL when cstart cannot hold
 * the columns (build_csc then gives up anyway). Counting while packing
 * costs a vector add per 8 or 16 pixels with ink, against a load and a
 * store per nonzero in a pass of its own (a third of the sort's time). */
static int32_t *count_begin(rt_rowsparse *s, int cols)
{
    if ((long)cols > s->max_nnz + 1) return NULL;
    memset(s->cstart, 0, (size_t)(cols + 2) * sizeof *s->cstart);
    return s->cstart + 2;
}

/* Where the x86 byte packings mark each column's rows (s->rbits, see
 * rowsparse.h), zeroed, with room for the batch's bytes in s->xb; NULL
 * (the packing then counts columns instead) for more than 128 rows or
 * when the memory cannot be had. Both grow, never shrink. */
static uint64_t *bits_begin(rt_rowsparse *s, int rows, int cols)
{
    if (rows > RS_BITS_MAX_ROWS) return NULL;
    long nb = (long)(rows + 63) / 64 * cols, nx = (long)rows * cols;
    if (nb > s->rbits_cap) {
        rt_free(s->rbits);
        s->rbits = rt_alloc((size_t)nb * sizeof *s->rbits);
        s->rbits_cap = s->rbits ? nb : 0;
    }
    if (nx > s->xb_cap) {
        rt_free(s->xb);
        s->xb = rt_alloc((size_t)nx);
        s->xb_cap = s->xb ? nx : 0;
    }
    if (!s->rbits || !s->xb) return NULL;
    memset(s->rbits, 0, (size_t)nb * sizeof *s->rbits);
    return s->rbits;
}

/* What the x86 byte packings mark for S^T D, when it will be taken
 * (marks): each column's rows as bits (returned; S^T D then needs no sort),
 * else, past 128 rows, each column's count (*cnt). Both NULL: no marks. */
static uint64_t *marks_begin(rt_rowsparse *s, int rows, int cols, bool marks, int32_t **cnt)
{
    uint64_t *bits = marks ? bits_begin(s, rows, cols) : NULL;
    *cnt = marks && !bits ? count_begin(s, cols) : NULL;
    return bits;
}

/* ---- AVX2 + FMA bodies ------------------------------------------------------ */

/* Lanes below `rem` (1..8) set: the mask of a block's last vector. */
__attribute__((target("avx2")))
static inline __m256i lanes_below(int rem)
{
    return _mm256_cmpgt_epi32(_mm256_set1_epi32(rem), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
}

/* Finds the nonzeros eight at a time without a branch per vector (whether
 * a vector of pixels has ink is a coin toss the predictor keeps losing): a
 * compare gives a bit mask, pext turns it into the indices of the set lanes,
 * a permute packs those lanes to the front, and all eight lanes are stored,
 * the next vector overwriting the ones past the nonzeros. Hence the arrays'
 * RS_SPARE spare entries. */
__attribute__((target("avx2,bmi,bmi2")))
static bool build_avx2(rt_rowsparse *s, const float *x, int rows, int cols)
{
    long nnz = 0, max = s->max_nnz;
    const __m256 zero = _mm256_setzero_ps();
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    for (int i = 0; i < rows; i++) {
        s->start[i] = (int32_t)nnz;
        const float *xi = x + (long)i * cols;
        int p = 0;
        for (; p + RS_VEC <= cols; p += RS_VEC) {
            __m256 v = _mm256_loadu_ps(xi + p);
            unsigned m = (unsigned)_mm256_movemask_ps(_mm256_cmp_ps(v, zero, _CMP_NEQ_UQ));
            /* one byte per lane set in m, then the lane numbers of those bytes */
            uint64_t bytes = _pdep_u64(m, 0x0101010101010101ull) * 0xff;
            uint64_t lanes = _pext_u64(0x0706050403020100ull, bytes);
            __m256i perm = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)lanes));
            _mm256_storeu_ps(s->val + nnz, _mm256_permutevar8x32_ps(v, perm));
            _mm256_storeu_si256((__m256i *)(s->col + nnz),
                                _mm256_permutevar8x32_epi32(
                                    _mm256_add_epi32(iota, _mm256_set1_epi32(p)), perm));
            nnz += __builtin_popcount(m);
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

/* Packs the set lanes (bits of m) of the eight values v, and their columns
 * p + lane, to the front of val / col at nnz (all eight lanes stored: see
 * build_avx2); returns the new count. */
__attribute__((target("avx2,bmi,bmi2"), always_inline))
static inline long pack8(rt_rowsparse *s, long nnz, unsigned m, __m256 v, int p)
{
    const __m256i iota = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    uint64_t bytes = _pdep_u64(m, 0x0101010101010101ull) * 0xff;
    uint64_t lanes = _pext_u64(0x0706050403020100ull, bytes);
    __m256i perm = _mm256_cvtepu8_epi32(_mm_cvtsi64_si128((long long)lanes));
    _mm256_storeu_ps(s->val + nnz, _mm256_permutevar8x32_ps(v, perm));
    _mm256_storeu_si256((__m256i *)(s->col + nnz),
                        _mm256_permutevar8x32_epi32(_mm256_add_epi32(iota, _mm256_set1_epi32(p)), perm));
    return nnz + __builtin_popcount(m);
}

/* The same from bytes, 32 pixels per compare: a block of 32 zero bytes (the
 * image borders: a third of MNIST's pixels) costs one compare and a
 * predictable branch; otherwise its four groups of eight are widened to
 * int32, converted and scaled exactly as rt_dataset_gather does
 * ((float)byte * scale) and packed.
 * Images are picked at random from tens of megabytes, so each is a fresh
 * run of cache (and TLB) misses: the one RS_AHEAD rows on is prefetched
 * while this one is packed, far enough ahead to hide the memory latency,
 * and the one RS_FAR rows on into L2 only (more misses in flight than L1
 * has room for: 20.7 -> 18.9 us per study batch on the Zen 4). */
enum { RS_AHEAD = 4, RS_FAR = 8 };

/* cnt[0 .. 8) += 1 where the widened bytes w are nonzero. */
__attribute__((target("avx2"), always_inline))
static inline void count8(int32_t *cnt, __m256i w)
{
    __m256i set = _mm256_cmpgt_epi32(w, _mm256_setzero_si256());     /* -1 where ink */
    _mm256_storeu_si256((__m256i *)cnt,
                        _mm256_sub_epi32(_mm256_loadu_si256((const __m256i *)cnt), set));
}

/* bits[0 .. 8) |= bit where the widened bytes w are nonzero (the rows of
 * 8 columns, see bits_begin). */
__attribute__((target("avx2"), always_inline))
static inline void bits8(uint64_t *bits, __m256i w, __m256i bit)
{
    __m256i set = _mm256_cmpgt_epi32(w, _mm256_setzero_si256());     /* -1 where ink */
    __m256i lo = _mm256_cvtepi32_epi64(_mm256_castsi256_si128(set));
    __m256i hi = _mm256_cvtepi32_epi64(_mm256_extracti128_si256(set, 1));
    _mm256_storeu_si256((__m256i *)bits, _mm256_or_si256(_mm256_loadu_si256((const __m256i *)bits),
                                                         _mm256_and_si256(lo, bit)));
    _mm256_storeu_si256((__m256i *)(bits + 4),
                        _mm256_or_si256(_mm256_loadu_si256((const __m256i *)(bits + 4)),
                                        _mm256_and_si256(hi, bit)));
}

__attribute__((target("avx2,bmi,bmi2")))
static bool build_u8_avx2(rt_rowsparse *s, const uint8_t *base, const int64_t *idx, int rows,
                          int cols, float scale, bool marks)
{
    long nnz = 0, max = s->max_nnz;
    const __m256i zero = _mm256_setzero_si256();
    const __m256 sc = _mm256_set1_ps(scale);
    int32_t *cnt;
    uint64_t *bits = marks_begin(s, rows, cols, marks, &cnt);
    for (int i = 0; i < rows; i++) {
        s->start[i] = (int32_t)nnz;
        const uint8_t *xi = base + idx[i] * cols;
        uint64_t *bw = bits ? bits + (long)(i / 64) * cols : NULL;
        /* the row's bytes for S^T D: the blocks with ink are enough */
        uint8_t *xr = bits ? s->xb + (long)i * cols : NULL;
        const __m256i bit = _mm256_set1_epi64x((long long)(1ull << (i % 64)));
        for (int a = i == 0 ? 1 : RS_AHEAD; a <= RS_AHEAD && i + a < rows; a++) {
            const char *next = (const char *)(base + idx[i + a] * cols);
            for (int o = 0; o < cols; o += 64) _mm_prefetch(next + o, _MM_HINT_T0);
        }
        for (int a = i == 0 ? RS_AHEAD + 1 : RS_FAR; a <= RS_FAR && i + a < rows; a++) {
            const char *next = (const char *)(base + idx[i + a] * cols);
            for (int o = 0; o < cols; o += 64) _mm_prefetch(next + o, _MM_HINT_T2);
        }
        int p = 0;
        for (; p + 32 <= cols; p += 32) {
            __m256i b = _mm256_loadu_si256((const __m256i *)(xi + p));
            unsigned m = ~(unsigned)_mm256_movemask_epi8(_mm256_cmpeq_epi8(b, zero));
            if (!m) continue;
            if (xr) _mm256_storeu_si256((__m256i *)(xr + p), b);
            __m128i lo = _mm256_castsi256_si128(b), hi = _mm256_extracti128_si256(b, 1);
            __m256i w[4] = {_mm256_cvtepu8_epi32(lo), _mm256_cvtepu8_epi32(_mm_srli_si128(lo, 8)),
                            _mm256_cvtepu8_epi32(hi), _mm256_cvtepu8_epi32(_mm_srli_si128(hi, 8))};
#pragma GCC unroll 4
            for (int q = 0; q < 4; q++) {
                unsigned mq = m >> (8 * q) & 0xff;
                if (!mq) continue;
                nnz = pack8(s, nnz, mq, _mm256_mul_ps(_mm256_cvtepi32_ps(w[q]), sc), p + 8 * q);
                if (bw) bits8(bw + p + 8 * q, w[q], bit);
                else if (cnt) count8(cnt + p + 8 * q, w[q]);
            }
            if (nnz > max) return false;
        }
        for (; p + RS_VEC <= cols; p += RS_VEC) {
            __m128i b8 = _mm_loadl_epi64((const __m128i *)(xi + p));
            if (xr) _mm_storel_epi64((__m128i *)(xr + p), b8);
            __m256i b = _mm256_cvtepu8_epi32(b8);
            unsigned m = (unsigned)_mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(b, zero)));
            nnz = pack8(s, nnz, m, _mm256_mul_ps(_mm256_cvtepi32_ps(b), sc), p);
            if (bw) bits8(bw + p, b, bit);
            else if (cnt) count8(cnt + p, b);
            if (nnz > max) return false;
        }
        for (; p < cols; p++) {
            if (xi[p] == 0) continue;
            if (nnz == max) return false;
            if (bw) {
                bw[p] |= 1ull << (i % 64);
                xr[p] = xi[p];
            } else if (cnt) {
                cnt[p]++;
            }
            s->col[nnz] = p;
            s->val[nnz++] = (float)xi[p] * scale;
        }
    }
    s->start[rows] = (int32_t)nnz;
    s->counted = cnt != NULL;
    s->bits = bits != NULL;
    s->xscale = scale;
    return true;
}

/* One row of S B for columns [0, 8 nv) of the block at b / c, the last of
 * the nv vectors masked by `tail`. Inlined with nv constant, so acc[] lives
 * in registers. */
__attribute__((target("avx2,fma"), always_inline))
static inline void mm_row_avx2(int nv, __m256i tail, const int32_t *col, const float *val,
                               int32_t cnt, const float *b, int n, const float *bias, float *c)
{
    __m256 acc[RS_BLOCK / RS_VEC];
#pragma GCC unroll 8
    for (int v = 0; v < nv; v++) acc[v] = _mm256_setzero_ps();
    for (int32_t k = 0; k < cnt; k++) {
        const __m256 a = _mm256_broadcast_ss(val + k);
        const float *bp = b + (long)col[k] * n;
#pragma GCC unroll 8
        for (int v = 0; v < nv - 1; v++)
            acc[v] = _mm256_fmadd_ps(a, _mm256_loadu_ps(bp + RS_VEC * v), acc[v]);
        acc[nv - 1] = _mm256_fmadd_ps(a, _mm256_maskload_ps(bp + RS_VEC * (nv - 1), tail),
                                      acc[nv - 1]);
    }
    if (bias) {
#pragma GCC unroll 8
        for (int v = 0; v < nv - 1; v++)
            acc[v] = _mm256_add_ps(acc[v], _mm256_loadu_ps(bias + RS_VEC * v));
        acc[nv - 1] = _mm256_add_ps(acc[nv - 1],
                                    _mm256_maskload_ps(bias + RS_VEC * (nv - 1), tail));
    }
#pragma GCC unroll 8
    for (int v = 0; v < nv - 1; v++) _mm256_storeu_ps(c + RS_VEC * v, acc[v]);
    _mm256_maskstore_ps(c + RS_VEC * (nv - 1), tail, acc[nv - 1]);
}

/* One row i of D scattered into the rows of c that row i's nonzeros name:
 * nv full vectors, then `rem` (0..7) columns one by one. The tail avoids
 * masked stores, which cost a dozen cycles each on the AMD cores we run on. */
__attribute__((target("avx2,fma"), always_inline))
static inline void tmm_row_avx2(int nv, int rem, const int32_t *col, const float *val,
                                int32_t cnt, const float *d, int n, float *c)
{
    __m256 dv[RS_BLOCK / RS_VEC];
#pragma GCC unroll 8
    for (int v = 0; v < nv; v++) dv[v] = _mm256_loadu_ps(d + RS_VEC * v);
    for (int32_t k = 0; k < cnt; k++) {
        const __m256 a = _mm256_broadcast_ss(val + k);
        float *cp = c + (long)col[k] * n;
#pragma GCC unroll 8
        for (int v = 0; v < nv; v++)
            _mm256_storeu_ps(cp + RS_VEC * v,
                             _mm256_fmadd_ps(a, dv[v], _mm256_loadu_ps(cp + RS_VEC * v)));
        /* the 0..7 columns left: 4, 2 and 1 at a time, each lane still one fma */
        float *ct = cp + RS_VEC * nv;
        const float *dt = d + RS_VEC * nv;
        if (rem & 4) {
            _mm_storeu_ps(ct, _mm_fmadd_ps(_mm256_castps256_ps128(a), _mm_loadu_ps(dt),
                                           _mm_loadu_ps(ct)));
            ct += 4, dt += 4;
        }
        if (rem & 2) {
            /* 64-bit loads and store (declared may_alias in the headers) */
            __m128 cv = _mm_castsi128_ps(_mm_loadu_si64(ct));
            __m128 dw = _mm_castsi128_ps(_mm_loadu_si64(dt));
            _mm_storeu_si64(ct, _mm_castps_si128(_mm_fmadd_ps(_mm256_castps256_ps128(a), dw, cv)));
            ct += 2, dt += 2;
        }
        if (rem & 1) *ct = fmaf(val[k], *dt, *ct);
    }
}

/* Two output rows at once: out_a = sum over list a of val * m[idx] (+
 * bias), out_b likewise, each chain in its list's order exactly as
 * mm_row_avx2 runs it. Interleaving two independent rows doubles the
 * chains in flight: one row's nv accumulators wait on the FMA latency
 * (4 cycles per nonzero) while the pipes could retire two FMAs a cycle.
 * (S^T D by columns measured slower this way: its lists are shorter.) */
__attribute__((target("avx2,fma"), always_inline))
static inline void rows2_avx2(int nv, __m256i tail, const int32_t *ia, const float *va,
                              int32_t ca, const int32_t *ib, const float *vb, int32_t cb,
                              const float *m, int n, const float *bias, float *oa, float *ob)
{
    __m256 acc[RS_BLOCK / RS_VEC], bcc[RS_BLOCK / RS_VEC];
#pragma GCC unroll 8
    for (int v = 0; v < nv; v++) acc[v] = bcc[v] = _mm256_setzero_ps();
    int32_t both = ca < cb ? ca : cb, k = 0;
    for (; k < both; k++) {
        const __m256 a = _mm256_broadcast_ss(va + k), b = _mm256_broadcast_ss(vb + k);
        const float *pa = m + (long)ia[k] * n, *pb = m + (long)ib[k] * n;
#pragma GCC unroll 8
        for (int v = 0; v < nv - 1; v++) {
            acc[v] = _mm256_fmadd_ps(a, _mm256_loadu_ps(pa + RS_VEC * v), acc[v]);
            bcc[v] = _mm256_fmadd_ps(b, _mm256_loadu_ps(pb + RS_VEC * v), bcc[v]);
        }
        acc[nv - 1] = _mm256_fmadd_ps(a, _mm256_maskload_ps(pa + RS_VEC * (nv - 1), tail), acc[nv - 1]);
        bcc[nv - 1] = _mm256_fmadd_ps(b, _mm256_maskload_ps(pb + RS_VEC * (nv - 1), tail), bcc[nv - 1]);
    }
    for (int32_t ka = k; ka < ca; ka++) {
        const __m256 a = _mm256_broadcast_ss(va + ka);
        const float *pa = m + (long)ia[ka] * n;
#pragma GCC unroll 8
        for (int v = 0; v < nv - 1; v++)
            acc[v] = _mm256_fmadd_ps(a, _mm256_loadu_ps(pa + RS_VEC * v), acc[v]);
        acc[nv - 1] = _mm256_fmadd_ps(a, _mm256_maskload_ps(pa + RS_VEC * (nv - 1), tail), acc[nv - 1]);
    }
    for (int32_t kb = k; kb < cb; kb++) {
        const __m256 b = _mm256_broadcast_ss(vb + kb);
        const float *pb = m + (long)ib[kb] * n;
#pragma GCC unroll 8
        for (int v = 0; v < nv - 1; v++)
            bcc[v] = _mm256_fmadd_ps(b, _mm256_loadu_ps(pb + RS_VEC * v), bcc[v]);
        bcc[nv - 1] = _mm256_fmadd_ps(b, _mm256_maskload_ps(pb + RS_VEC * (nv - 1), tail), bcc[nv - 1]);
    }
    if (bias) {
#pragma GCC unroll 8
        for (int v = 0; v < nv - 1; v++) {
            __m256 bv = _mm256_loadu_ps(bias + RS_VEC * v);
            acc[v] = _mm256_add_ps(acc[v], bv);
            bcc[v] = _mm256_add_ps(bcc[v], bv);
        }
        __m256 bv = _mm256_maskload_ps(bias + RS_VEC * (nv - 1), tail);
        acc[nv - 1] = _mm256_add_ps(acc[nv - 1], bv);
        bcc[nv - 1] = _mm256_add_ps(bcc[nv - 1], bv);
    }
#pragma GCC unroll 8
    for (int v = 0; v < nv - 1; v++) {
        _mm256_storeu_ps(oa + RS_VEC * v, acc[v]);
        _mm256_storeu_ps(ob + RS_VEC * v, bcc[v]);
    }
    _mm256_maskstore_ps(oa + RS_VEC * (nv - 1), tail, acc[nv - 1]);
    _mm256_maskstore_ps(ob + RS_VEC * (nv - 1), tail, bcc[nv - 1]);
}

/* The instances: one per block width in vectors, selected by a switch. */
#define RS_CASES(X) X(1) X(2) X(3) X(4) X(5) X(6) X(7) X(8)

__attribute__((target("avx2,fma")))
static void mm_avx2(const rt_rowsparse *s, const float *b, int n, const float *bias,
                    float *c, int ldc, int i0, int i1)
{
    for (int jb = 0; jb < n; jb += RS_BLOCK) {
        int w = n - jb < RS_BLOCK ? n - jb : RS_BLOCK;
        int nv = (w + RS_VEC - 1) / RS_VEC;
        __m256i tail = lanes_below(w - RS_VEC * (nv - 1));
        const float *bb = b + jb, *bias_b = bias ? bias + jb : NULL;
        int i = i0;
        for (; i + 1 < i1; i += 2) {
            int32_t k0 = s->start[i], cnt = s->start[i + 1] - k0;
            int32_t k1 = s->start[i + 1], cnt1 = s->start[i + 2] - k1;
            float *ci = c + (long)i * ldc + jb;
            switch (nv) {
#define RS_MM2_CASE(NV) \
            case NV: rows2_avx2(NV, tail, s->col + k0, s->val + k0, cnt, s->col + k1, s->val + k1, \
                                cnt1, bb, n, bias_b, ci, ci + ldc); break;
            RS_CASES(RS_MM2_CASE)
#undef RS_MM2_CASE
            }
        }
        for (; i < i1; i++) {
            int32_t k0 = s->start[i], cnt = s->start[i + 1] - k0;
            float *ci = c + (long)i * ldc + jb;
            switch (nv) {
#define RS_MM_CASE(NV) \
            case NV: mm_row_avx2(NV, tail, s->col + k0, s->val + k0, cnt, bb, n, bias_b, ci); break;
            RS_CASES(RS_MM_CASE)
#undef RS_MM_CASE
            }
        }
    }
}

/* Each nonzero updates a row of c, and c (157 KB at the study's sizes) does
 * not fit in L1: updating it in nonzero order moved every touched line
 * between L1 and L2 and back, twice the cost of the arithmetic. So c is
 * done in bands of rows (pixels) that fit in L1 with room to spare, each
 * band zeroed just before use and finished before the next; per input row
 * a cursor remembers where the next band's nonzeros begin (columns ascend
 * within a row). Every c[p][j] still sums its terms in ascending i. */
enum { RS_BAND_BYTES = 24 * 1024 };

__attribute__((target("avx2,fma")))
static void tmm_avx2(const rt_rowsparse *s, const float *d, int n, float *c, int32_t *cursor,
                     int plo, int phi)
{
    for (int jb = 0; jb < n; jb += RS_BLOCK) {
        int w = n - jb < RS_BLOCK ? n - jb : RS_BLOCK;
        int nv = w / RS_VEC, rem = w % RS_VEC;
        int band = RS_BAND_BYTES / (w * (int)sizeof(float));
        band = band < 1 ? 1 : band;
        for (int i = 0; i < s->rows; i++) cursor[i] = plo ? first_at(s, i, plo) : s->start[i];
        for (int p0 = plo; p0 < phi; p0 += band) {
            int p1 = phi - p0 < band ? phi : p0 + band;
            for (int p = p0; p < p1; p++) memset(c + (long)p * n + jb, 0, (size_t)w * sizeof *c);
            for (int i = 0; i < s->rows; i++) {
                int32_t k0 = cursor[i], k1 = k0, end = s->start[i + 1];
                while (k1 < end && s->col[k1] < p1) k1++;
                cursor[i] = k1;
                if (k1 == k0) continue;
                const float *di = d + (long)i * n + jb;
                switch (nv) {
#define RS_TMM_CASE(NV) \
                case NV: tmm_row_avx2(NV, rem, s->col + k0, s->val + k0, k1 - k0, di, n, c + jb); break;
                RS_TMM_CASE(0) RS_CASES(RS_TMM_CASE)
#undef RS_TMM_CASE
                }
            }
        }
    }
}

/* S^T D by columns (CSC, build_csc): each output row p is the sum over the
 * rows i listed for p, ascending, kept in registers and stored once, so the
 * product runs at the FMA rate instead of the store port's (the row-wise
 * tmm_avx2 loads and stores c once per nonzero). Same chains, same bits. */
__attribute__((target("avx2,fma"), always_inline))
static inline void tmm_col_avx2(int nv, __m256i tail, const rt_rs_entry *e, int32_t cnt,
                                const float *d, int n, float *c)
{
    __m256 acc[RS_BLOCK / RS_VEC];
#pragma GCC unroll 8
    for (int v = 0; v < nv; v++) acc[v] = _mm256_setzero_ps();
    for (int32_t k = 0; k < cnt; k++) {
        const __m256 a = _mm256_broadcast_ss(&e[k].val);
        const float *dp = d + (long)e[k].row * n;
#pragma GCC unroll 8
        for (int v = 0; v < nv - 1; v++)
            acc[v] = _mm256_fmadd_ps(a, _mm256_loadu_ps(dp + RS_VEC * v), acc[v]);
        acc[nv - 1] = _mm256_fmadd_ps(a, _mm256_maskload_ps(dp + RS_VEC * (nv - 1), tail),
                                      acc[nv - 1]);
    }
#pragma GCC unroll 8
    for (int v = 0; v < nv - 1; v++) _mm256_storeu_ps(c + RS_VEC * v, acc[v]);
    _mm256_maskstore_ps(c + RS_VEC * (nv - 1), tail, acc[nv - 1]);
}

__attribute__((target("avx2,fma")))
static void tmm_csc_avx2(const rt_rowsparse *s, const float *d, int ldd, int n, float *c, int p0,
                         int p1)
{
    for (int jb = 0; jb < n; jb += RS_BLOCK) {
        int w = n - jb < RS_BLOCK ? n - jb : RS_BLOCK;
        int nv = (w + RS_VEC - 1) / RS_VEC;
        __m256i tail = lanes_below(w - RS_VEC * (nv - 1));
        const float *db = d + jb;
        for (int p = p0; p < p1; p++) {
            int32_t k0 = s->cstart[p], cnt = s->cstart[p + 1] - k0;
            float *cp = c + (long)p * n + jb;
            switch (nv) {
#define RS_TMMC_CASE(NV) \
            case NV: tmm_col_avx2(NV, tail, s->centry + k0, cnt, db, ldd, cp); break;
            RS_CASES(RS_TMMC_CASE)
#undef RS_TMMC_CASE
            }
        }
    }
}

/* Output rows [p0, p1) of S^T D from the byte packing's column bits, 8
 * lanes wide (see tmm_bits_avx512). */
__attribute__((target("avx2,fma,bmi"), always_inline))
static inline void tmm_bits_body_avx2(int nv, __m256i tail, const rt_rowsparse *s, const float *d,
                                      int ldd, int n, float *c, int p0, int p1)
{
    /* D's rows at the padded stride (pad_rows: n rounded up to 16), known
     * from nv: a shift instead of a multiply per nonzero */
    const int cols = s->cols, words = (s->rows + 63) / 64, ld = (nv + 1) / 2 * 16;
    (void)ldd;
    const float scale = s->xscale;
    for (int p = p0; p < p1; p++) {
        __m256 acc[RS_BLOCK / RS_VEC];
#pragma GCC unroll 8
        for (int v = 0; v < nv; v++) acc[v] = _mm256_setzero_ps();
        for (int w = 0; w < words; w++) {
            uint64_t m = s->rbits[(long)w * cols + p];
            const uint8_t *xc = s->xb + (long)64 * w * cols + p;
            const float *dw = d + (long)64 * w * ld;
            while (m) {
                const int r = __builtin_ctzll(m);
                m &= m - 1;
                const __m256 a = _mm256_set1_ps((float)xc[(long)r * cols] * scale);
                const float *dp = dw + (long)r * ld;
#pragma GCC unroll 8
                for (int v = 0; v < nv - 1; v++)
                    acc[v] = _mm256_fmadd_ps(a, _mm256_loadu_ps(dp + RS_VEC * v), acc[v]);
                acc[nv - 1] = _mm256_fmadd_ps(a, _mm256_maskload_ps(dp + RS_VEC * (nv - 1), tail),
                                              acc[nv - 1]);
            }
        }
        float *cp = c + (long)p * n;
#pragma GCC unroll 8
        for (int v = 0; v < nv - 1; v++) _mm256_storeu_ps(cp + RS_VEC * v, acc[v]);
        _mm256_maskstore_ps(cp + RS_VEC * (nv - 1), tail, acc[nv - 1]);
    }
}

__attribute__((target("avx2,fma,bmi")))
static void tmm_bits_avx2(const rt_rowsparse *s, const float *d, int ldd, int n, float *c, int p0,
                          int p1)
{
    int nv = (n + RS_VEC - 1) / RS_VEC;
    __m256i tail = lanes_below(n - RS_VEC * (nv - 1));
    switch (nv) {
#define RS_TMMB_CASE(NV) \
    case NV: tmm_bits_body_avx2(NV, tail, s, d, ldd, n, c, p0, p1); break;
    RS_CASES(RS_TMMB_CASE)
#undef RS_TMMB_CASE
    }
}

/* ---- AVX-512F bodies -------------------------------------------------------
 * The same chains sixteen lanes wide: a 50-wide output row is four
 * registers instead of seven, the block's last vector is masked with a k
 * register (cheap, unlike vmaskmovps), and with 32 registers two rows' (or
 * columns') accumulators fit at once, so twice the chains are in flight. */
enum { RS_VEC16 = 16 };

/* Lanes below `rem` (1..16). */
static inline __mmask16 lanes16_below(int rem) { return (__mmask16)((1u << rem) - 1u); }

/* One list into one output row, continuing the accumulators: acc[0 ..
 * nv - 1) are full 16-wide vectors, the block's last columns (`tail`) are
 * in acc[nv - 1] or, when they are at most eight (half), in the 8-wide
 * hacc. A half-width last vector is one 256-bit FMA instead of a 512-bit
 * one (n = 50: 3.5 vector widths per nonzero instead of 4); each lane is
 * still the one fma of its chain. */
/* The last columns of a row when they are at most eight: `half` is
 * rs512_half_kind(their count). Exactly 8, 4, 2 or 1 of them are one plain
 * load of that width, the others a masked one:
 * n = 50 ends in 2 columns, and a 64-bit load instead of vmaskmovps made S B
 * and S^T D 7% faster. */
enum { RS_HALF_NO, RS_HALF_MASK, RS_HALF_8, RS_HALF_4, RS_HALF_2, RS_HALF_1 };
static inline int rs512_half_kind(int rem)
{
    return rem > RS_VEC ? RS_HALF_NO : rem == 8 ? RS_HALF_8 : rem == 4 ? RS_HALF_4
         : rem == 2 ? RS_HALF_2 : rem == 1 ? RS_HALF_1 : RS_HALF_MASK;
}

__attribute__((target("avx2"), always_inline))
static inline __m256 rs512_half_load(int half, const float *q, __m256i htail)
{
    switch (half) {
    case RS_HALF_8: return _mm256_loadu_ps(q);
    /* (the upper lanes: whatever the cast leaves, in fact the zeros a VEX
     * load writes there; they are never stored) */
    case RS_HALF_4: return _mm256_castps128_ps256(_mm_loadu_ps(q));
    case RS_HALF_2:
        return _mm256_castps128_ps256(_mm_castsi128_ps(_mm_loadl_epi64((const __m128i *)q)));
    case RS_HALF_1: return _mm256_castps128_ps256(_mm_load_ss(q));
    default: return _mm256_maskload_ps(q, htail);
    }
}

#define RS512_STEP(acc, hacc, v, idx, m, n, nv, half, tail, htail) do { \
        const __m512 a_ = _mm512_set1_ps(v); \
        const float *p_ = (m) + (long)(idx) * (n); \
        _Pragma("GCC unroll 4") \
        for (int v_ = 0; v_ < (nv) - 1; v_++) \
            acc[v_] = _mm512_fmadd_ps(a_, _mm512_loadu_ps(p_ + RS_VEC16 * v_), acc[v_]); \
        if (half) \
            hacc = _mm256_fmadd_ps(_mm512_castps512_ps256(a_), \
                                   rs512_half_load(half, p_ + RS_VEC16 * ((nv) - 1), htail), hacc); \
        else \
            acc[(nv) - 1] = _mm512_fmadd_ps(a_, _mm512_maskz_loadu_ps(tail, p_ + RS_VEC16 * ((nv) - 1)), \
                                            acc[(nv) - 1]); \
    } while (0)

/* Two output rows: oa = sum over list a of val * m[idx] (+ bias), ob
 * likewise, each chain in its list's order (as rows2_avx2). ob may be
 * NULL (cb 0): one row. half: the last vector's `tail` lanes are at most
 * eight (htail: the same lanes as an AVX2 mask). */
__attribute__((target("avx512f,avx2,fma"), always_inline))
static inline void rows2_avx512(int nv, int half, __mmask16 tail, __m256i htail,
                                const int32_t *ia, const float *va, int32_t ca,
                                const int32_t *ib, const float *vb, int32_t cb,
                                const float *m, int n, const float *bias, float *oa, float *ob)
{
    __m512 acc[RS_BLOCK / RS_VEC16], bcc[RS_BLOCK / RS_VEC16];
    __m256 hacc = _mm256_setzero_ps(), hbcc = _mm256_setzero_ps();
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) acc[v] = bcc[v] = _mm512_setzero_ps();
    int32_t both = ca < cb ? ca : cb, k = 0;
    for (; k < both; k++) {
        RS512_STEP(acc, hacc, va[k], ia[k], m, n, nv, half, tail, htail);
        RS512_STEP(bcc, hbcc, vb[k], ib[k], m, n, nv, half, tail, htail);
    }
    for (int32_t ka = k; ka < ca; ka++)
        RS512_STEP(acc, hacc, va[ka], ia[ka], m, n, nv, half, tail, htail);
    for (int32_t kb = k; kb < cb; kb++)
        RS512_STEP(bcc, hbcc, vb[kb], ib[kb], m, n, nv, half, tail, htail);
    if (half) {         /* the stores below take the last vector from acc */
        acc[nv - 1] = _mm512_castps256_ps512(hacc);
        bcc[nv - 1] = _mm512_castps256_ps512(hbcc);
    }
    if (bias) {
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) {
            __m512 bv = _mm512_maskz_loadu_ps(v == nv - 1 ? tail : (__mmask16)0xffff,
                                              bias + RS_VEC16 * v);
            acc[v] = _mm512_add_ps(acc[v], bv);
            bcc[v] = _mm512_add_ps(bcc[v], bv);
        }
    }
#pragma GCC unroll 4
    for (int v = 0; v < nv - 1; v++) _mm512_storeu_ps(oa + RS_VEC16 * v, acc[v]);
    _mm512_mask_storeu_ps(oa + RS_VEC16 * (nv - 1), tail, acc[nv - 1]);
    if (!ob) return;
#pragma GCC unroll 4
    for (int v = 0; v < nv - 1; v++) _mm512_storeu_ps(ob + RS_VEC16 * v, bcc[v]);
    _mm512_mask_storeu_ps(ob + RS_VEC16 * (nv - 1), tail, bcc[nv - 1]);
}

/* Two output rows of S^T D from the column form: oa = sum over the
 * entries ea of val * m[row], ob likewise (ob may be NULL, cb 0), as
 * rows2_avx512 without the bias. */
__attribute__((target("avx512f,avx2,fma"), always_inline))
static inline void cols2_avx512(int nv, int half, __mmask16 tail, __m256i htail,
                                const rt_rs_entry *ea, int32_t ca, const rt_rs_entry *eb,
                                int32_t cb, const float *m, int n, float *oa, float *ob)
{
    __m512 acc[RS_BLOCK / RS_VEC16], bcc[RS_BLOCK / RS_VEC16];
    __m256 hacc = _mm256_setzero_ps(), hbcc = _mm256_setzero_ps();
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) acc[v] = bcc[v] = _mm512_setzero_ps();
    int32_t both = ca < cb ? ca : cb, k = 0;
    for (; k < both; k++) {
        RS512_STEP(acc, hacc, ea[k].val, ea[k].row, m, n, nv, half, tail, htail);
        RS512_STEP(bcc, hbcc, eb[k].val, eb[k].row, m, n, nv, half, tail, htail);
    }
    for (int32_t ka = k; ka < ca; ka++)
        RS512_STEP(acc, hacc, ea[ka].val, ea[ka].row, m, n, nv, half, tail, htail);
    for (int32_t kb = k; kb < cb; kb++)
        RS512_STEP(bcc, hbcc, eb[kb].val, eb[kb].row, m, n, nv, half, tail, htail);
    if (half) {
        acc[nv - 1] = _mm512_castps256_ps512(hacc);
        bcc[nv - 1] = _mm512_castps256_ps512(hbcc);
    }
#pragma GCC unroll 4
    for (int v = 0; v < nv - 1; v++) _mm512_storeu_ps(oa + RS_VEC16 * v, acc[v]);
    _mm512_mask_storeu_ps(oa + RS_VEC16 * (nv - 1), tail, acc[nv - 1]);
    if (!ob) return;
#pragma GCC unroll 4
    for (int v = 0; v < nv - 1; v++) _mm512_storeu_ps(ob + RS_VEC16 * v, bcc[v]);
    _mm512_mask_storeu_ps(ob + RS_VEC16 * (nv - 1), tail, bcc[nv - 1]);
}

/* The instances: block width in vectors x how the last is loaded when it
 * is half (rs512_half_kind; 0: it is not). */
#define RS512_HALVES(X, NV) X(NV, 0) X(NV, 1) X(NV, 2) X(NV, 3) X(NV, 4) X(NV, 5)
#define RS512_CASES(X) RS512_HALVES(X, 1) RS512_HALVES(X, 2) RS512_HALVES(X, 3) RS512_HALVES(X, 4)

/* A block of w columns: its vectors, the last one's lanes, and whether it
 * goes 8 wide. */
typedef struct rs512_block {
    int nv;
    int half;                   /* rs512_half_kind of the last vector's lanes */
    __mmask16 tail;
    __m256i htail;
} rs512_block;

__attribute__((target("avx512f,avx2")))
static inline rs512_block block512(int w)
{
    rs512_block k;
    k.nv = (w + RS_VEC16 - 1) / RS_VEC16;
    int rem = w - RS_VEC16 * (k.nv - 1);
    k.half = rs512_half_kind(rem);
    k.tail = lanes16_below(rem);
    k.htail = lanes_below(k.half ? rem : RS_VEC);
    return k;
}

/* Four output rows of S B (+ bias) side by side: out[r] = the sum over
 * list r (ix[r], vx[r], cx[r] entries) of val * m[idx], each chain in its
 * list's order as in rows2_avx512. Four rows' chains in flight instead of
 * two: S B at the study's shape 30.3 -> 28.4 us. */
__attribute__((target("avx512f,avx2,fma"), always_inline))
static inline void rows4_avx512(int nv, int half, __mmask16 tail, __m256i htail,
                                const int32_t *const *ix, const float *const *vx,
                                const int32_t *cx, const float *m, int n, const float *bias,
                                float *const *out)
{
    __m512 a0[RS_BLOCK / RS_VEC16], a1[RS_BLOCK / RS_VEC16], a2[RS_BLOCK / RS_VEC16],
        a3[RS_BLOCK / RS_VEC16];
    __m256 h0 = _mm256_setzero_ps(), h1 = h0, h2 = h0, h3 = h0;
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) a0[v] = a1[v] = a2[v] = a3[v] = _mm512_setzero_ps();
    int32_t all = cx[0];
    for (int r = 1; r < 4; r++) all = cx[r] < all ? cx[r] : all;
    int32_t k = 0;
    for (; k < all; k++) {
        RS512_STEP(a0, h0, vx[0][k], ix[0][k], m, n, nv, half, tail, htail);
        RS512_STEP(a1, h1, vx[1][k], ix[1][k], m, n, nv, half, tail, htail);
        RS512_STEP(a2, h2, vx[2][k], ix[2][k], m, n, nv, half, tail, htail);
        RS512_STEP(a3, h3, vx[3][k], ix[3][k], m, n, nv, half, tail, htail);
    }
    for (int32_t q = k; q < cx[0]; q++)
        RS512_STEP(a0, h0, vx[0][q], ix[0][q], m, n, nv, half, tail, htail);
    for (int32_t q = k; q < cx[1]; q++)
        RS512_STEP(a1, h1, vx[1][q], ix[1][q], m, n, nv, half, tail, htail);
    for (int32_t q = k; q < cx[2]; q++)
        RS512_STEP(a2, h2, vx[2][q], ix[2][q], m, n, nv, half, tail, htail);
    for (int32_t q = k; q < cx[3]; q++)
        RS512_STEP(a3, h3, vx[3][q], ix[3][q], m, n, nv, half, tail, htail);
    if (half) {
        a0[nv - 1] = _mm512_castps256_ps512(h0);
        a1[nv - 1] = _mm512_castps256_ps512(h1);
        a2[nv - 1] = _mm512_castps256_ps512(h2);
        a3[nv - 1] = _mm512_castps256_ps512(h3);
    }
#pragma GCC unroll 4
    for (int v = 0; v < nv; v++) {
        __mmask16 mk = v == nv - 1 ? tail : (__mmask16)0xffff;
        if (bias) {
            __m512 bv = _mm512_maskz_loadu_ps(mk, bias + RS_VEC16 * v);
            a0[v] = _mm512_add_ps(a0[v], bv);
            a1[v] = _mm512_add_ps(a1[v], bv);
            a2[v] = _mm512_add_ps(a2[v], bv);
            a3[v] = _mm512_add_ps(a3[v], bv);
        }
        _mm512_mask_storeu_ps(out[0] + RS_VEC16 * v, mk, a0[v]);
        _mm512_mask_storeu_ps(out[1] + RS_VEC16 * v, mk, a1[v]);
        _mm512_mask_storeu_ps(out[2] + RS_VEC16 * v, mk, a2[v]);
        _mm512_mask_storeu_ps(out[3] + RS_VEC16 * v, mk, a3[v]);
    }
}

/* Rows [i0, i1) of S B (+ bias), four rows at a time, the last one to
 * three two at a time. */
__attribute__((target("avx512f,avx2,fma")))
static void mm_avx512(const rt_rowsparse *s, const float *b, int n, const float *bias,
                      float *c, int ldc, int i0, int i1)
{
    for (int jb = 0; jb < n; jb += RS_BLOCK) {
        rs512_block k = block512(n - jb < RS_BLOCK ? n - jb : RS_BLOCK);
        const float *bb = b + jb, *bias_b = bias ? bias + jb : NULL;
        int i = i0;
        for (; i + 3 < i1; i += 4) {
            const int32_t *ix[4];
            const float *vx[4];
            int32_t cx[4];
            float *out[4];
            for (int r = 0; r < 4; r++) {
                int32_t k0 = s->start[i + r];
                ix[r] = s->col + k0;
                vx[r] = s->val + k0;
                cx[r] = s->start[i + r + 1] - k0;
                out[r] = c + (long)(i + r) * ldc + jb;
            }
            switch (k.nv * 8 + k.half) {
#define RS_MM4_512_CASE(NV, H) \
            case NV * 8 + H: rows4_avx512(NV, H, k.tail, k.htail, ix, vx, cx, bb, n, bias_b, out); \
                             break;
            RS512_CASES(RS_MM4_512_CASE)
#undef RS_MM4_512_CASE
            }
        }
        for (; i < i1; i += 2) {
            bool two = i + 1 < i1;
            int32_t k0 = s->start[i], cnt = s->start[i + 1] - k0;
            int32_t k1 = s->start[i + 1], cnt1 = two ? s->start[i + 2] - k1 : 0;
            float *ci = c + (long)i * ldc + jb, *ci1 = two ? ci + ldc : NULL;
            switch (k.nv * 8 + k.half) {
#define RS_MM512_CASE(NV, H) \
            case NV * 8 + H: rows2_avx512(NV, H, k.tail, k.htail, s->col + k0, s->val + k0, cnt, \
                                          s->col + k1, s->val + k1, cnt1, bb, n, bias_b, ci, ci1); \
                             break;
            RS512_CASES(RS_MM512_CASE)
#undef RS_MM512_CASE
            }
        }
    }
}

/* Output rows [p0, p1) of S^T D from the column form, two at a time. */
__attribute__((target("avx512f,avx2,fma")))
static void tmm_csc_avx512(const rt_rowsparse *s, const float *d, int ldd, int n, float *c, int p0,
                           int p1)
{
    for (int jb = 0; jb < n; jb += RS_BLOCK) {
        rs512_block k = block512(n - jb < RS_BLOCK ? n - jb : RS_BLOCK);
        const float *db = d + jb;
        for (int p = p0; p < p1; p += 2) {
            bool two = p + 1 < p1;
            int32_t k0 = s->cstart[p], cnt = s->cstart[p + 1] - k0;
            int32_t k1 = s->cstart[p + 1], cnt1 = two ? s->cstart[p + 2] - k1 : 0;
            float *cp = c + (long)p * n + jb, *cp1 = two ? cp + n : NULL;
            switch (k.nv * 8 + k.half) {
#define RS_TMM512_CASE(NV, H) \
            case NV * 8 + H: cols2_avx512(NV, H, k.tail, k.htail, s->centry + k0, cnt, \
                                          s->centry + k1, cnt1, db, ldd, cp, cp1); \
                             break;
            RS512_CASES(RS_TMM512_CASE)
#undef RS_TMM512_CASE
            }
        }
    }
}

/* Output rows [p0, p1) of S^T D from the x86 byte packings' marks
 * (s->bits): for each column p, the rows with a nonzero there are the set
 * bits of rbits[w cols + p], w = 0, 1, taken in ascending order, each
 * value (float)byte * scale as the packing made val[]: the terms and their
 * order are the column form's, without sorting the nonzeros by column
 * first (the sort's scatter took 15 us of the study's 90 us of sparse
 * work per step). */
__attribute__((target("avx512f,avx2,fma,bmi"), always_inline))
static inline void tmm_bits_body(int nv, int half, __mmask16 tail, __m256i htail,
                                 const rt_rowsparse *s, const float *d, int ldd, int n, float *c,
                                 int p0, int p1)
{
    const int cols = s->cols, words = (s->rows + 63) / 64;
    const float scale = s->xscale;
    for (int p = p0; p < p1; p++) {
        __m512 acc[RS_BLOCK / RS_VEC16];
        __m256 hacc = _mm256_setzero_ps();
#pragma GCC unroll 4
        for (int v = 0; v < nv; v++) acc[v] = _mm512_setzero_ps();
        for (int w = 0; w < words; w++) {
            uint64_t m = s->rbits[(long)w * cols + p];
            const uint8_t *xc = s->xb + (long)64 * w * cols + p;
            /* D's rows are at the padded stride 16 nv (pad_rows): a shift */
            const float *dw = d + (long)64 * w * (RS_VEC16 * nv);
            while (m) {
                const int r = __builtin_ctzll(m);
                m &= m - 1;
                const float v = (float)xc[(long)r * cols] * scale;
                RS512_STEP(acc, hacc, v, r, dw, RS_VEC16 * nv, nv, half, tail, htail);
            }
        }
        if (half) acc[nv - 1] = _mm512_castps256_ps512(hacc);
        float *cp = c + (long)p * n;
#pragma GCC unroll 4
        for (int v = 0; v < nv - 1; v++) _mm512_storeu_ps(cp + RS_VEC16 * v, acc[v]);
        _mm512_mask_storeu_ps(cp + RS_VEC16 * (nv - 1), tail, acc[nv - 1]);
    }
}

__attribute__((target("avx512f,avx2,fma,bmi")))
static void tmm_bits_avx512(const rt_rowsparse *s, const float *d, int ldd, int n, float *c,
                            int p0, int p1)
{
    rs512_block k = block512(n);
    switch (k.nv * 8 + k.half) {
#define RS_TMMB512_CASE(NV, H) \
    case NV * 8 + H: tmm_bits_body(NV, H, k.tail, k.htail, s, d, ldd, n, c, p0, p1); break;
    RS512_CASES(RS_TMMB512_CASE)
#undef RS_TMMB512_CASE
    }
}

/* bits[0 .. 16) |= bit in the lanes of m (the rows of 16 columns). */
__attribute__((target("avx512f"), always_inline))
static inline void bits16(uint64_t *bits, __mmask16 m, __m512i bit)
{
    __m512i lo = _mm512_loadu_si512((const void *)bits), hi = _mm512_loadu_si512((const void *)(bits + 8));
    _mm512_storeu_si512((void *)bits, _mm512_mask_or_epi64(lo, (__mmask8)m, lo, bit));
    _mm512_storeu_si512((void *)(bits + 8), _mm512_mask_or_epi64(hi, (__mmask8)(m >> 8), hi, bit));
}

/* build_u8_avx2 sixteen pixels per pack (a 64-byte block without ink
 * skipped at once, as the AVX2 body skips 32): the set lanes compressed to the
 * front of a register (vcompressps into a register, then a full store:
 * the store form of vcompress is slow on AMD), columns likewise. Values
 * are (float)byte * scale as everywhere. */
/* cnt[0 .. 16) += 1 in the lanes of m. */
__attribute__((target("avx512f"), always_inline))
static inline void count16(int32_t *cnt, __mmask16 m, __m512i one)
{
    __m512i c = _mm512_loadu_si512((const void *)cnt);
    _mm512_storeu_si512((void *)cnt, _mm512_mask_add_epi32(c, m, c, one));
}

__attribute__((target("avx512f")))
static bool build_u8_avx512(rt_rowsparse *s, const uint8_t *base, const int64_t *idx, int rows,
                            int cols, float scale, bool marks)
{
    long nnz = 0, max = s->max_nnz;
    const __m512 sc = _mm512_set1_ps(scale);
    const __m512i iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
    const __m512i one = _mm512_set1_epi32(1);
    int32_t *cnt;
    uint64_t *bits = marks_begin(s, rows, cols, marks, &cnt);
    for (int i = 0; i < rows; i++) {
        s->start[i] = (int32_t)nnz;
        const uint8_t *xi = base + idx[i] * cols;
        uint64_t *bw = bits ? bits + (long)(i / 64) * cols : NULL;
        /* the row's bytes for S^T D: the blocks with ink are enough */
        uint8_t *xr = bits ? s->xb + (long)i * cols : NULL;
        const __m512i bit = _mm512_set1_epi64((long long)(1ull << (i % 64)));
        for (int a = i == 0 ? 1 : RS_AHEAD; a <= RS_AHEAD && i + a < rows; a++) {
            const char *next = (const char *)(base + idx[i + a] * cols);
            for (int o = 0; o < cols; o += 64) _mm_prefetch(next + o, _MM_HINT_T0);
        }
        for (int a = i == 0 ? RS_AHEAD + 1 : RS_FAR; a <= RS_FAR && i + a < rows; a++) {
            const char *next = (const char *)(base + idx[i + a] * cols);
            for (int o = 0; o < cols; o += 64) _mm_prefetch(next + o, _MM_HINT_T2);
        }
        int p = 0;
        for (; p + 64 <= cols; p += 64) {
            __m512i b = _mm512_loadu_si512((const void *)(xi + p));
            unsigned m8 = _mm512_test_epi64_mask(b, b);     /* 8-byte groups with ink */
            if (!m8) continue;
            if (xr) _mm512_storeu_si512((void *)(xr + p), b);
#define RS512_GROUP(q) \
            if (m8 >> (2 * (q)) & 3) { \
                __m512i w = _mm512_cvtepu8_epi32(_mm512_extracti32x4_epi32(b, q)); \
                __mmask16 mq = _mm512_test_epi32_mask(w, w); \
                __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(w), sc); \
                _mm512_storeu_ps(s->val + nnz, _mm512_maskz_compress_ps(mq, v)); \
                _mm512_storeu_si512((void *)(s->col + nnz), \
                                    _mm512_maskz_compress_epi32( \
                                        mq, _mm512_add_epi32(iota, _mm512_set1_epi32(p + 16 * (q))))); \
                nnz += __builtin_popcount(mq); \
                if (bw) bits16(bw + p + 16 * (q), mq, bit); \
                else if (cnt) count16(cnt + p + 16 * (q), mq, one); \
            }
            RS512_GROUP(0) RS512_GROUP(1) RS512_GROUP(2) RS512_GROUP(3)
#undef RS512_GROUP
            if (nnz > max) return false;
        }
        for (; p + 16 <= cols; p += 16) {
            __m128i b16 = _mm_loadu_si128((const __m128i *)(xi + p));
            if (xr) _mm_storeu_si128((__m128i *)(xr + p), b16);
            __m512i w = _mm512_cvtepu8_epi32(b16);
            __mmask16 mq = _mm512_test_epi32_mask(w, w);
            __m512 v = _mm512_mul_ps(_mm512_cvtepi32_ps(w), sc);
            _mm512_storeu_ps(s->val + nnz, _mm512_maskz_compress_ps(mq, v));
            _mm512_storeu_si512((void *)(s->col + nnz),
                                _mm512_maskz_compress_epi32(mq, _mm512_add_epi32(iota, _mm512_set1_epi32(p))));
            nnz += __builtin_popcount(mq);
            if (bw) bits16(bw + p, mq, bit);
            else if (cnt) count16(cnt + p, mq, one);
            if (nnz > max) return false;
        }
        for (; p < cols; p++) {
            if (xi[p] == 0) continue;
            if (nnz == max) return false;
            if (bw) {
                bw[p] |= 1ull << (i % 64);
                xr[p] = xi[p];
            } else if (cnt) {
                cnt[p]++;
            }
            s->col[nnz] = p;
            s->val[nnz++] = (float)xi[p] * scale;
        }
    }
    s->start[rows] = (int32_t)nnz;
    s->counted = cnt != NULL;
    s->bits = bits != NULL;
    s->xscale = scale;
    return true;
}
#endif

/* ---- dispatch -------------------------------------------------------------- */

bool rt_rowsparse_build(rt_rowsparse *s, rt_simd simd, const float *x, int rows, int cols)
{
    if (rows > s->cap_rows) return false;
    s->rows = rows;
    s->cols = cols;
    s->counted = false;
    s->csc_ready = false;
    s->bits = false;
#if RS_X86
    if (simd >= RT_SIMD_AVX2 && rt_cpu_has(RT_SIMD_AVX2)) return build_avx2(s, x, rows, cols);
#endif
#if RS_NEON
    if (simd == RT_SIMD_NEON && rt_cpu_has(RT_SIMD_NEON)) return rt_neon_rs_build(s, x, rows, cols);
#endif
    (void)simd;
    return build_scalar(s, x, rows, cols);
}

/* A product split across the pool: S B by rows of the batch, S^T D by
 * bands of its output rows (pixels). Each output element is computed whole
 * by one task, its terms in the same order, so the split never changes a
 * bit. There are a few tasks per thread: the pool's caller runs whatever a
 * worker has not claimed, so small tasks let a busy machine's preempted
 * worker cost little (pool.c). */
typedef struct rs_job {
    const rt_rowsparse *s;
    bool avx2, avx512, neon, trans, csc;  /* csc: S^T D by columns (build_csc done) */
    bool bits;                  /* S^T D by columns from the packing's bits */
    const float *b, *bias;      /* B (or D) and the optional bias */
    int n, ldb, ldc, parts;     /* ldb: B's (D's) row stride */
    int band[RS_MAX_PARTS + 1]; /* S^T D: task t makes output rows band[t] .. band[t+1] */
    float *c;
} rs_job;

enum {
    RS_PAR_MIN = 100000,        /* fmas below which one thread is cheaper */
    RS_TASKS_PER_THREAD = 3,
};

static void rs_task(void *ctx, int t)
{
    const rs_job *g = ctx;
    const rt_rowsparse *s = g->s;
    if (g->trans) {
        int p0 = g->band[t], p1 = g->band[t + 1];
        if (p0 >= p1) return;
#if RS_X86
        if (g->bits) {
            if (g->avx512) tmm_bits_avx512(s, g->b, g->ldb, g->n, g->c, p0, p1);
            else tmm_bits_avx2(s, g->b, g->ldb, g->n, g->c, p0, p1);
            return;
        }
        if (g->csc) {
            if (g->avx512) tmm_csc_avx512(s, g->b, g->ldb, g->n, g->c, p0, p1);
            else tmm_csc_avx2(s, g->b, g->ldb, g->n, g->c, p0, p1);
            return;
        }
        if (g->avx2) {
            tmm_avx2(s, g->b, g->n, g->c, s->cursor + (long)t * (s->cap_rows + 1), p0, p1);
            return;
        }
#endif
#if RS_NEON
        if (g->neon) {
            rt_neon_rs_tmm(s, g->b, g->n, g->c, p0, p1);
            return;
        }
#endif
        tmm_scalar(s, g->b, g->n, g->c, p0, p1);
        return;
    }
    int i0 = (int)((long)s->rows * t / g->parts), i1 = (int)((long)s->rows * (t + 1) / g->parts);
#if RS_X86
    if (g->avx512) {
        mm_avx512(s, g->b, g->n, g->bias, g->c, g->ldc, i0, i1);
        return;
    }
    if (g->avx2) {
        mm_avx2(s, g->b, g->n, g->bias, g->c, g->ldc, i0, i1);
        return;
    }
#endif
#if RS_NEON
    if (g->neon) {
        rt_neon_rs_mm(s, g->b, g->n, g->bias, g->c, g->ldc, i0, i1);
        return;
    }
#endif
    mm_scalar(s, g->b, g->n, g->bias, g->c, g->ldc, i0, i1);
}

/* POPCNT for the band split's counts of the packing's bits: without it
 * GCC calls libgcc's bit-twiddling __popcountdi2 per word (a two-thread
 * profile of the study net: 0.39% of the samples there and 0.23% in
 * rs_run, about 2 us a step). The bits exist only after an AVX2 packing,
 * and every AVX2 machine has POPCNT. */
#if RS_X86
#define RS_POPCNT __attribute__((target("popcnt")))
#else
#define RS_POPCNT
#endif

/* Column p's nonzeros, from the column form or the packing's bits. */
RS_POPCNT static inline long col_count(const rs_job *g, int p)
{
    const rt_rowsparse *s = g->s;
    if (g->csc) return (long)s->cstart[p + 1] - s->cstart[p];
    long k = 0;
    for (int w = 0; w < (s->rows + 63) / 64; w++)
        k += __builtin_popcountll(s->rbits[(long)w * s->cols + p]);
    return k;
}

/* Bands of equal work instead of equal width: an image's border pixels are
 * mostly zero, its middle ones dense. A column costs its nonzeros plus
 * about one for its output row's store. Which task makes an output row
 * never changes its bits. */
RS_POPCNT static void balance_bands(rs_job *g, int cols)
{
    long total = (long)g->s->start[g->s->rows] + cols, before = 0;
    int p = 0;
    for (int t = 1; t < g->parts; t++) {
        long want = total * t / g->parts;
        for (; p < cols && before < want; p++) before += col_count(g, p) + 1;
        g->band[t] = p;
    }
}

/* S^T D by columns reads D's rows in whatever order the column lists name
 * them, four vectors per nonzero; at D's stride of n floats (n = 50: 200
 * bytes) three of those four loads straddle two cache lines. Copied first
 * (rows x n floats: a few hundred loads and stores) to rows of whole
 * 64-byte lines, none does: at the study's shape S^T D took 24 us instead
 * of 31 (AVX-512). The values are the same, so are the bits. */
static void pad_rows(rs_job *g)
{
    const rt_rowsparse *s = g->s;
    if (g->n > RS_BLOCK || !s->dpad) return;
    int ld = (g->n + 15) / 16 * 16;     /* whole lines of 16 floats */
    for (int i = 0; i < s->rows; i++)
        memcpy(s->dpad + (long)i * ld, g->b + (long)i * g->n, (size_t)g->n * sizeof(float));
    g->b = s->dpad;
    g->ldb = ld;
}

static void rs_run(rs_job *g, rt_simd simd, rt_pool *pool)
{
    if (g->n <= 0) return;
    g->avx2 = RS_X86 && simd >= RT_SIMD_AVX2 && rt_cpu_has(RT_SIMD_AVX2);
    g->avx512 = RS_X86 && simd >= RT_SIMD_AVX512 && rt_cpu_has(RT_SIMD_AVX512);
    g->neon = RS_NEON && simd == RT_SIMD_NEON && rt_cpu_has(RT_SIMD_NEON);
    long work = (long)g->s->start[g->s->rows] * g->n;
    int threads = rt_pool_threads(pool);
    g->parts = work < RS_PAR_MIN || threads <= 1 ? 1 : threads * RS_TASKS_PER_THREAD;
    if (g->parts > RS_MAX_PARTS) g->parts = RS_MAX_PARTS;
    if (g->trans) {
        /* the column form costs a scatter per nonzero and saves a load and
         * a store per nonzero and vector of outputs */
        /* the packing's bits, unless the column form was made already */
        g->bits = g->avx2 && g->s->bits && g->s->dpad && !g->s->csc_ready && g->n <= RS_BLOCK;
        g->csc = !g->bits && g->avx2 && (g->s->csc_ready || build_csc(g->s));
        if (g->csc || g->bits) pad_rows(g);
        int cols = g->s->cols > 0 ? g->s->cols : 1;
        if (g->parts > cols) g->parts = cols;
        int chunk = (cols + g->parts - 1) / g->parts;
        g->parts = (cols + chunk - 1) / chunk;
        for (int t = 0; t <= g->parts; t++) g->band[t] = t * chunk < cols ? t * chunk : cols;
        if ((g->csc || g->bits) && g->parts > 1) balance_bands(g, cols);
    } else {
        int rows = g->s->rows > 0 ? g->s->rows : 1;
        if (g->parts > rows) g->parts = rows;
    }
    rt_pool_run(pool, g->parts, rs_task, g);
}

bool rt_rowsparse_build_u8(rt_rowsparse *s, rt_simd simd, const uint8_t *base,
                           const int64_t *idx, int rows, int cols, float scale, bool marks)
{
    if (rows > s->cap_rows) return false;
    s->rows = rows;
    s->cols = cols;
    s->counted = false;
    s->csc_ready = false;
    s->bits = false;
#if RS_X86
    if (simd >= RT_SIMD_AVX512 && rt_cpu_has(RT_SIMD_AVX512))
        return build_u8_avx512(s, base, idx, rows, cols, scale, marks);
    if (simd >= RT_SIMD_AVX2 && rt_cpu_has(RT_SIMD_AVX2))
        return build_u8_avx2(s, base, idx, rows, cols, scale, marks);
#endif
#if RS_NEON
    if (simd == RT_SIMD_NEON && rt_cpu_has(RT_SIMD_NEON))
        return rt_neon_rs_build_u8(s, base, idx, rows, cols, scale);
#endif
    (void)simd;
    (void)marks;
    return build_u8_scalar(s, base, idx, rows, cols, scale);
}

void rt_rowsparse_prepare_tmm(rt_rowsparse *s, rt_simd simd)
{
    /* as rs_run decides: the column form serves the x86 SIMD paths, but
     * for the x86 byte packings' bits (which serve up to RS_BLOCK
     * outputs: wider products build the column form when they run) */
    bool avx2 = RS_X86 && simd >= RT_SIMD_AVX2 && rt_cpu_has(RT_SIMD_AVX2);
    if (avx2 && s->bits) return;
    s->csc_ready = avx2 && build_csc(s);
    if (avx2) s->counted = false;   /* build_csc turned the counts into offsets */
}

void rt_rowsparse_mm(const rt_rowsparse *s, rt_simd simd, rt_pool *pool, const float *b, int n,
                     const float *bias, float *c, int ldc)
{
    rs_job g = {.s = s, .trans = false, .b = b, .bias = bias, .n = n, .ldb = n, .ldc = ldc, .c = c};
    rs_run(&g, simd, pool);
}

void rt_rowsparse_tmm(rt_rowsparse *s, rt_simd simd, rt_pool *pool, const float *d, int n,
                      float *c)
{
    rs_job g = {.s = s, .trans = true, .b = d, .n = n, .ldb = n, .ldc = n, .c = c};
    rs_run(&g, simd, pool);
    s->counted = false;     /* build_csc turned the counts into offsets */
}
