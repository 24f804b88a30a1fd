/*
 * layers.c — the layer kinds' kernels (see layers.h).
 *
 * Each kind provides <kind>_setup/_reserve/_init/_forward/_backward; the
 * table at the bottom, expanded from RT_LAYER_KINDS, dispatches to them.
 * Loops over the batch keep the feature index innermost, so per-feature
 * sums accumulate rows in order 0..n-1 (deterministic) while the compiler
 * can still vectorise across features.
 *
 * The per-feature passes of dense and batchnorm (bias add, bias gradient,
 * batch statistics, normalisation and its gradient) run over a [n x d]
 * batch with the feature index innermost; each has an AVX2 body for the
 * features in whole vectors of eight (columns [0, d8)) and the scalar loop
 * for the rest (the scalar loop alone when MLP_SIMD=scalar). Vectorising
 * across features leaves every per-feature sum in row order and every
 * element's operations as written, so both give the same bits.
 */
#include <math.h>
#include <string.h>
#include <strings.h>
#include "cpu.h"
#include "fused.h"
#include "gemm.h"
#include "layers.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define LAYERS_X86 1
#else
#define LAYERS_X86 0
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#define LAYERS_NEON 1
#else
#define LAYERS_NEON 0
#endif

typedef struct layer_ops {
    const char *name;
    bool (*setup)(rt_layer *l, rt_error *err);
    bool (*reserve)(rt_layer *l, int cap, rt_error *err);
    void (*init)(rt_layer *l, rt_rng *rng);
    const float *(*forward)(rt_layer *l, const float *x, int n, bool training, rt_pool *pool);
    const float *(*backward)(rt_layer *l, const float *dy, int n, bool need_dx, rt_pool *pool);
} layer_ops;

/* ---- spec helpers -------------------------------------------------------- */

rt_layer_spec rt_spec_flatten(int ndims, const int *dims)
{
    rt_layer_spec s = {.kind = RT_LAYER_FLATTEN, .in_shape.ndim = ndims};
    for (int i = 0; i < ndims && i < RT_MAX_DIMS; i++) s.in_shape.dims[i] = dims[i];
    return s;
}

rt_layer_spec rt_spec_dense(int units, rt_act act, rt_init init)
{
    rt_layer_spec s = {.kind = RT_LAYER_DENSE, .units = units, .act = act, .init = init};
    for (int i = 0; i < RT_ACT_MAX_PARAMS; i++) s.act_params[i] = NAN;
    return s;
}

rt_layer_spec rt_spec_batchnorm_torch(float momentum, float eps)
{
    rt_layer_spec s = rt_spec_batchnorm(momentum, eps);
    s.torch = true;
    return s;
}

rt_layer_spec rt_spec_batchnorm(float momentum, float eps)
{
    return (rt_layer_spec){.kind = RT_LAYER_BATCHNORM, .momentum = momentum, .eps = eps};
}

rt_layer_spec rt_spec_dropout(float rate)
{
    return (rt_layer_spec){.kind = RT_LAYER_DROPOUT, .rate = rate};
}

static const char *const init_names[RT_INIT_COUNT] = {
#define RT_INIT_NAME(tag, name) [RT_INIT_##tag] = name,
    RT_INITS(RT_INIT_NAME)
#undef RT_INIT_NAME
};

const char *rt_init_name(rt_init init) { return init_names[init]; }

bool rt_init_from_name(const char *name, rt_init *out)
{
    for (int i = 0; i < RT_INIT_COUNT; i++)
        if (name && strcasecmp(name, init_names[i]) == 0) { *out = (rt_init)i; return true; }
    return false;
}

/* ---- shared helpers ------------------------------------------------------ */

/* Adds a parameter of `rows` x `cols` (rows 0: a vector) with its gradient. */
static bool add_param(rt_layer *l, const char *name, int rows, int cols, bool trainable,
                      rt_error *err)
{
    rt_param *p = &l->params[l->nparams];
    p->name = name;
    p->shape = rows ? rt_shape_2d(rows, cols) : rt_shape_1d(cols);
    p->size = (long)(rows ? rows : 1) * cols;
    p->trainable = trainable;
    p->w = rt_alloc((size_t)p->size * sizeof(float));
    p->g = trainable ? rt_alloc((size_t)p->size * sizeof(float)) : NULL;
    l->nparams++;
    if (!p->w || (trainable && !p->g))
        return rt_fail(err, "%s: out of memory for parameter %s", rt_layer_kind_name(l->spec.kind), name);
    return true;
}

/* Replaces *buf with a zeroed buffer of `count` floats. */
static bool regrow(float **buf, long count, rt_error *err)
{
    rt_free(*buf);
    *buf = rt_alloc((size_t)count * sizeof(float));
    return *buf ? true : rt_fail(err, "out of memory for a layer buffer of %ld floats", count);
}

/* ---- per-feature passes ---------------------------------------------------- */

/* Features [0, d8) go to the AVX2 bodies, [d8, d) to the scalar loops
 * (on aarch64 the NEON bodies take [0, d - d % 4)). */
static int vec_cols(int d)
{
    if (LAYERS_NEON) return rt_cpu_simd() == RT_SIMD_NEON ? d - d % 4 : 0;
    return LAYERS_X86 && rt_cpu_simd() >= RT_SIMD_AVX2 ? d - d % 8 : 0;
}

/* z[i][j] += b[j] */
static void add_bias_scalar(float *z, const float *b, int n, int d, int j0)
{
    for (int i = 0; i < n; i++)
        for (int j = j0; j < d; j++) z[(long)i * d + j] += b[j];
}

/* The column sums of the scalar loops keep W = 4, 2 or 1 columns' sums in
 * locals (a sum kept in s[j] would wait for store forwarding at every row,
 * since s might alias x): columns j .. j+W-1 of rows 0..n-1, in row order. */
#define LAYERS_BY_COLUMNS(body, j, j0, d, ...)                               \
    do {                                                                     \
        int j = (j0);                                                        \
        for (; j + 4 <= (d); j += 4) body(4, __VA_ARGS__);                   \
        for (; j + 2 <= (d); j += 2) body(2, __VA_ARGS__);                   \
        for (; j < (d); j++) body(1, __VA_ARGS__);                           \
    } while (0)

static inline __attribute__((always_inline)) void col_sums_cols(int W, const float *x, int n, int d, float *s)
{
    float a[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < n; i++)
#pragma GCC unroll 4
        for (int c = 0; c < W; c++) a[c] += x[(long)i * d + c];
#pragma GCC unroll 4
    for (int c = 0; c < W; c++) s[c] = a[c];
}

/* s[j] = sum over rows i = 0..n-1 of x[i][j], from +0 */
static void col_sums_scalar(const float *x, int n, int d, int j0, float *s)
{
    LAYERS_BY_COLUMNS(col_sums_cols, j, j0, d, x + j, n, d, s + j);
}

/* ss = sum over rows of (x - mean)^2, columns as col_sums_cols */
static inline __attribute__((always_inline)) void sq_dev_cols(int W, const float *x, int n, int d,
                                                              const float *mean, float *ss)
{
    float a[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < n; i++)
#pragma GCC unroll 4
        for (int c = 0; c < W; c++) {
            float t = x[(long)i * d + c] - mean[c];
            a[c] += t * t;
        }
#pragma GCC unroll 4
    for (int c = 0; c < W; c++) ss[c] = a[c];
}

/* batchnorm training statistics: mean = sum x / n, then
 * ss = sum (x - mean)^2 (the caller divides by n) */
static void bn_stats_scalar(const float *x, int n, int d, int j0, float *mean, float *ss)
{
    col_sums_scalar(x, n, d, j0, mean);
    for (int j = j0; j < d; j++) mean[j] /= (float)n;
    LAYERS_BY_COLUMNS(sq_dev_cols, j, j0, d, x + j, n, d, mean + j, ss + j);
}

/* xhat = (x - mean) inv;  y = gamma xhat + beta */
static void bn_normalize_scalar(const float *x, int n, int d, int j0, const float *mean,
                                const float *inv, const float *gamma, const float *beta,
                                float *xhat, float *y)
{
    for (int i = 0; i < n; i++)
        for (int j = j0; j < d; j++) {
            long at = (long)i * d + j;
            xhat[at] = (x[at] - mean[j]) * inv[j];
            y[at] = gamma[j] * xhat[at] + beta[j];
        }
}

/* dbeta = sum dy;  dgamma = sum dy xhat, columns as col_sums_cols */
static inline __attribute__((always_inline)) void param_grads_cols(int W, const float *dy,
                                                                   const float *xhat, int n, int d,
                                                                   float *dbeta, float *dgamma)
{
    float sb[4] = {0.0f, 0.0f, 0.0f, 0.0f}, sg[4] = {0.0f, 0.0f, 0.0f, 0.0f};
    for (int i = 0; i < n; i++)
#pragma GCC unroll 4
        for (int c = 0; c < W; c++) {
            long at = (long)i * d + c;
            sb[c] += dy[at];
            sg[c] += dy[at] * xhat[at];
        }
#pragma GCC unroll 4
    for (int c = 0; c < W; c++) {
        dbeta[c] = sb[c];
        dgamma[c] = sg[c];
    }
}

static void bn_param_grads_scalar(const float *dy, const float *xhat, int n, int d, int j0,
                                  float *dbeta, float *dgamma)
{
    LAYERS_BY_COLUMNS(param_grads_cols, j, j0, d, dy + j, xhat + j, n, d, dbeta + j, dgamma + j);
}

/* dx = c (n dy - dbeta - xhat dgamma), c = gamma inv / n per feature */
static void bn_input_grad_scalar(const float *dy, const float *xhat, int n, int d, int j0,
                                 const float *c, const float *dbeta, const float *dgamma,
                                 float *dx)
{
    float fn = (float)n;
    for (int i = 0; i < n; i++)
        for (int j = j0; j < d; j++) {
            long at = (long)i * d + j;
            dx[at] = c[j] * (fn * dy[at] - dbeta[j] - xhat[at] * dgamma[j]);
        }
}

#if LAYERS_X86
/* The AVX2 bodies of the passes above for features [0, d8), d8 % 8 == 0:
 * one vector of eight features at a time, rows in order. */
__attribute__((target("avx2")))
static void add_bias_avx2(float *z, const float *b, int n, int d, int d8)
{
    for (int j = 0; j < d8; j += 8) {
        __m256 bj = _mm256_loadu_ps(b + j);
        for (int i = 0; i < n; i++) {
            float *zi = z + (long)i * d + j;
            _mm256_storeu_ps(zi, _mm256_add_ps(_mm256_loadu_ps(zi), bj));
        }
    }
}

/* The column sums below run G groups of eight features side by side (up
 * to 6, d = 50's 48): each group's chain still adds the rows in order, but
 * the chains are independent, so their adds overlap instead of each
 * waiting out the add latency row after row as one group at a time did.
 * An always-inline body per G (constant: the accumulators stay in
 * registers) and a switch to pick it. */
#define LAYERS_GMAX 6
#define LAYERS_BY_GROUPS(body, j, d8, ...)                                   \
    for (int j = 0; j < (d8); j += 8 * LAYERS_GMAX) {                        \
        switch (((d8) - j) / 8) {                                            \
        case 1: body(1, __VA_ARGS__); break;                                 \
        case 2: body(2, __VA_ARGS__); break;                                 \
        case 3: body(3, __VA_ARGS__); break;                                 \
        case 4: body(4, __VA_ARGS__); break;                                 \
        case 5: body(5, __VA_ARGS__); break;                                 \
        default: body(LAYERS_GMAX, __VA_ARGS__); break;                      \
        }                                                                    \
    }

/* acc[g] = the sums of rows 0..n-1 (from +0, in order) of features
 * 8g..8g+7: the column sums, and batchnorm's first pass. */
__attribute__((target("avx2"), always_inline))
static inline void col_sums_regs(int G, const float *x, int n, int d, __m256 *acc)
{
    #pragma GCC unroll 6
    for (int g = 0; g < G; g++) acc[g] = _mm256_setzero_ps();
    for (int i = 0; i < n; i++)
        #pragma GCC unroll 6
        for (int g = 0; g < G; g++)
            acc[g] = _mm256_add_ps(acc[g], _mm256_loadu_ps(x + (long)i * d + 8 * g));
}

__attribute__((target("avx2"), always_inline))
static inline void col_sums_groups(int G, const float *x, int n, int d, float *s)
{
    __m256 acc[LAYERS_GMAX];
    col_sums_regs(G, x, n, d, acc);
    #pragma GCC unroll 6
    for (int g = 0; g < G; g++) _mm256_storeu_ps(s + 8 * g, acc[g]);
}

__attribute__((target("avx2")))
static void col_sums_avx2(const float *x, int n, int d, int d8, float *s)
{
    LAYERS_BY_GROUPS(col_sums_groups, j, d8, x + j, n, d, s + j);
}

__attribute__((target("avx2"), always_inline))
static inline void bn_stats_groups(int G, const float *x, int n, int d, float *mean, float *ss)
{
    __m256 fn = _mm256_set1_ps((float)n), acc[LAYERS_GMAX], sq[LAYERS_GMAX];
    col_sums_regs(G, x, n, d, acc);
    #pragma GCC unroll 6
    for (int g = 0; g < G; g++) {
        acc[g] = _mm256_div_ps(acc[g], fn);
        sq[g] = _mm256_setzero_ps();
    }
    for (int i = 0; i < n; i++)
        #pragma GCC unroll 6
        for (int g = 0; g < G; g++) {
            __m256 c = _mm256_sub_ps(_mm256_loadu_ps(x + (long)i * d + 8 * g), acc[g]);
            sq[g] = _mm256_add_ps(sq[g], _mm256_mul_ps(c, c));
        }
    #pragma GCC unroll 6
    for (int g = 0; g < G; g++) {
        _mm256_storeu_ps(mean + 8 * g, acc[g]);
        _mm256_storeu_ps(ss + 8 * g, sq[g]);
    }
}

__attribute__((target("avx2")))
static void bn_stats_avx2(const float *x, int n, int d, int d8, float *mean, float *ss)
{
    LAYERS_BY_GROUPS(bn_stats_groups, j, d8, x + j, n, d, mean + j, ss + j);
}

__attribute__((target("avx2")))
static void bn_normalize_avx2(const float *x, int n, int d, int d8, const float *mean,
                              const float *inv, const float *gamma, const float *beta,
                              float *xhat, float *y)
{
    for (int j = 0; j < d8; j += 8) {
        __m256 m = _mm256_loadu_ps(mean + j), iv = _mm256_loadu_ps(inv + j);
        __m256 g = _mm256_loadu_ps(gamma + j), b = _mm256_loadu_ps(beta + j);
        for (int i = 0; i < n; i++) {
            long at = (long)i * d + j;
            __m256 h = _mm256_mul_ps(_mm256_sub_ps(_mm256_loadu_ps(x + at), m), iv);
            _mm256_storeu_ps(xhat + at, h);
            _mm256_storeu_ps(y + at, _mm256_add_ps(_mm256_mul_ps(g, h), b));
        }
    }
}

__attribute__((target("avx2"), always_inline))
static inline void bn_param_grads_groups(int G, const float *dy, const float *xhat, int n, int d,
                                         float *dbeta, float *dgamma)
{
    __m256 sb[LAYERS_GMAX], sg[LAYERS_GMAX];
    #pragma GCC unroll 6
    for (int g = 0; g < G; g++) sb[g] = sg[g] = _mm256_setzero_ps();
    for (int i = 0; i < n; i++)
        #pragma GCC unroll 6
        for (int g = 0; g < G; g++) {
            long at = (long)i * d + 8 * g;
            __m256 t = _mm256_loadu_ps(dy + at);
            sb[g] = _mm256_add_ps(sb[g], t);
            sg[g] = _mm256_add_ps(sg[g], _mm256_mul_ps(t, _mm256_loadu_ps(xhat + at)));
        }
    #pragma GCC unroll 6
    for (int g = 0; g < G; g++) {
        _mm256_storeu_ps(dbeta + 8 * g, sb[g]);
        _mm256_storeu_ps(dgamma + 8 * g, sg[g]);
    }
}

__attribute__((target("avx2")))
static void bn_param_grads_avx2(const float *dy, const float *xhat, int n, int d, int d8,
                                float *dbeta, float *dgamma)
{
    LAYERS_BY_GROUPS(bn_param_grads_groups, j, d8, dy + j, xhat + j, n, d, dbeta + j, dgamma + j);
}

__attribute__((target("avx2")))
static void bn_input_grad_avx2(const float *dy, const float *xhat, int n, int d, int d8,
                               const float *c, const float *dbeta, const float *dgamma,
                               float *dx)
{
    __m256 fn = _mm256_set1_ps((float)n);
    for (int j = 0; j < d8; j += 8) {
        __m256 cj = _mm256_loadu_ps(c + j), sb = _mm256_loadu_ps(dbeta + j);
        __m256 sg = _mm256_loadu_ps(dgamma + j);
        for (int i = 0; i < n; i++) {
            long at = (long)i * d + j;
            __m256 t = _mm256_sub_ps(_mm256_mul_ps(fn, _mm256_loadu_ps(dy + at)), sb);
            t = _mm256_sub_ps(t, _mm256_mul_ps(_mm256_loadu_ps(xhat + at), sg));
            _mm256_storeu_ps(dx + at, _mm256_mul_ps(cj, t));
        }
    }
}
#define PASS(name, d8, ...) do { if (d8) name##_avx2(__VA_ARGS__); } while (0)
#elif LAYERS_NEON
/* The NEON bodies for features [0, d4), d4 % 4 == 0: the AVX2 bodies'
 * operations four features at a time, rows in order, each product and sum
 * rounded on its own (vmulq then vaddq, never vfmaq), as the scalar loops. */
static void add_bias_neon(float *z, const float *b, int n, int d, int d4)
{
    for (int j = 0; j < d4; j += 4) {
        float32x4_t bj = vld1q_f32(b + j);
        for (int i = 0; i < n; i++) {
            float *zi = z + (long)i * d + j;
            vst1q_f32(zi, vaddq_f32(vld1q_f32(zi), bj));
        }
    }
}

static void col_sums_neon(const float *x, int n, int d, int d4, float *s)
{
    for (int j = 0; j < d4; j += 4) {
        float32x4_t acc = vdupq_n_f32(0.0f);
        for (int i = 0; i < n; i++) acc = vaddq_f32(acc, vld1q_f32(x + (long)i * d + j));
        vst1q_f32(s + j, acc);
    }
}

static void bn_stats_neon(const float *x, int n, int d, int d4, float *mean, float *ss)
{
    float32x4_t fn = vdupq_n_f32((float)n);
    for (int j = 0; j < d4; j += 4) {
        float32x4_t acc = vdupq_n_f32(0.0f);
        for (int i = 0; i < n; i++) acc = vaddq_f32(acc, vld1q_f32(x + (long)i * d + j));
        float32x4_t mj = vdivq_f32(acc, fn), sq = vdupq_n_f32(0.0f);
        for (int i = 0; i < n; i++) {
            float32x4_t c = vsubq_f32(vld1q_f32(x + (long)i * d + j), mj);
            sq = vaddq_f32(sq, vmulq_f32(c, c));
        }
        vst1q_f32(mean + j, mj);
        vst1q_f32(ss + j, sq);
    }
}

static void bn_normalize_neon(const float *x, int n, int d, int d4, const float *mean,
                              const float *inv, const float *gamma, const float *beta,
                              float *xhat, float *y)
{
    for (int j = 0; j < d4; j += 4) {
        float32x4_t m = vld1q_f32(mean + j), iv = vld1q_f32(inv + j);
        float32x4_t g = vld1q_f32(gamma + j), b = vld1q_f32(beta + j);
        for (int i = 0; i < n; i++) {
            long at = (long)i * d + j;
            float32x4_t h = vmulq_f32(vsubq_f32(vld1q_f32(x + at), m), iv);
            vst1q_f32(xhat + at, h);
            vst1q_f32(y + at, vaddq_f32(vmulq_f32(g, h), b));
        }
    }
}

static void bn_param_grads_neon(const float *dy, const float *xhat, int n, int d, int d4,
                                float *dbeta, float *dgamma)
{
    for (int j = 0; j < d4; j += 4) {
        float32x4_t sb = vdupq_n_f32(0.0f), sg = vdupq_n_f32(0.0f);
        for (int i = 0; i < n; i++) {
            long at = (long)i * d + j;
            float32x4_t g = vld1q_f32(dy + at);
            sb = vaddq_f32(sb, g);
            sg = vaddq_f32(sg, vmulq_f32(g, vld1q_f32(xhat + at)));
        }
        vst1q_f32(dbeta + j, sb);
        vst1q_f32(dgamma + j, sg);
    }
}

static void bn_input_grad_neon(const float *dy, const float *xhat, int n, int d, int d4,
                               const float *c, const float *dbeta, const float *dgamma,
                               float *dx)
{
    float32x4_t fn = vdupq_n_f32((float)n);
    for (int j = 0; j < d4; j += 4) {
        float32x4_t cj = vld1q_f32(c + j), sb = vld1q_f32(dbeta + j);
        float32x4_t sg = vld1q_f32(dgamma + j);
        for (int i = 0; i < n; i++) {
            long at = (long)i * d + j;
            float32x4_t t = vsubq_f32(vmulq_f32(fn, vld1q_f32(dy + at)), sb);
            t = vsubq_f32(t, vmulq_f32(vld1q_f32(xhat + at), sg));
            vst1q_f32(dx + at, vmulq_f32(cj, t));
        }
    }
}
#define PASS(name, d8, ...) do { if (d8) name##_neon(__VA_ARGS__); } while (0)
#else
#define PASS(name, d8, ...) do { (void)(d8); } while (0)
#endif

/* ---- flatten: a view, no arithmetic -------------------------------------- */

static bool flatten_setup(rt_layer *l, rt_error *err)
{
    long n = 1;
    for (int i = 0; i < l->spec.in_shape.ndim; i++) {
        if (l->spec.in_shape.dims[i] <= 0)
            return rt_fail(err, "flatten: input dimension %d must be positive, got %lld", i,
                           (long long)l->spec.in_shape.dims[i]);
        n *= (long)l->spec.in_shape.dims[i];
    }
    if (l->spec.in_shape.ndim > 0 && n != l->in) {
        char s[96];
        return rt_fail(err, "flatten: input shape %s has %ld values per sample, the data has %d",
                       rt_shape_str(&l->spec.in_shape, s, sizeof s), n, l->in);
    }
    l->out = l->in;
    return true;
}
static bool flatten_reserve(rt_layer *l, int cap, rt_error *err) { (void)l; (void)cap; (void)err; return true; }
static void flatten_init(rt_layer *l, rt_rng *rng) { (void)l; (void)rng; }
static const float *flatten_forward(rt_layer *l, const float *x, int n, bool training, rt_pool *pool)
{
    (void)l; (void)n; (void)training; (void)pool;
    return x;
}
static const float *flatten_backward(rt_layer *l, const float *dy, int n, bool need_dx, rt_pool *pool)
{
    (void)l; (void)n; (void)need_dx; (void)pool;
    return dy;
}

/* ---- dense ----------------------------------------------------------------- */

enum { DENSE_KERNEL, DENSE_BIAS };

/* The sparse-input path (rowsparse.h) is tried for inputs at least this
 * wide, and taken when at most half the batch's inputs are nonzero: below
 * that the product costs well under the dense GEMM, and the compressed copy
 * then fits in the space of half the batch. Narrow inputs (hidden layers,
 * 2-feature toy sets) are not worth the scan. Which path runs never changes
 * a bit (rowsparse.h), only the time. */
enum { SPARSE_MIN_IN = 64 };

/* A dense GEMM is handed to the pool only from this many flops on. Measured
 * on the study (2 cores shared with other work): passing the pool to its
 * products of 0.1 to 1.5 MFLOP each made training 1.8x slower in wall time
 * than one thread, the hand-offs costing more than the halved work saves;
 * wide layers (784-512: 8 MFLOP per product at batch 100) still split.
 * (The sparse first-layer products once followed the same rule: on an idle
 * machine, giving the study's to the pool of that time, which woke its
 * workers per product, made the whole study 11% slower for 63% more CPU.) */
#define DENSE_PAR_MIN_FLOPS 4e6
static rt_pool *pool_for(rt_pool *pool, double flops)
{
    return flops >= DENSE_PAR_MIN_FLOPS ? pool : NULL;
}
/* The first layer's sparse products split from this many flops (counting
 * the nonzeros' terms alone). The study's (batch 100 of MNIST into 50
 * units: about 1.5 MFLOP each) split since the batch pipeline (fit.c):
 * there a worker is awake and between jobs at every step, so a hand-off
 * costs a cache-line transfer, not a wake-up (issue 18). Measured on the
 * 2-core AVX-512 machine whenever both cores were free: a training step
 * of 118 us with two threads against 176 us with one. */
#define SPARSE_PAR_MIN_FLOPS 1e6
static rt_pool *pool_sp(rt_pool *pool, double flops)
{
    return flops >= SPARSE_PAR_MIN_FLOPS ? pool : NULL;
}
static long sparse_max_nnz(int cap, int in) { return (long)cap * in / 2; }

static bool dense_setup(rt_layer *l, rt_error *err)
{
    if (l->spec.units <= 0)
        return rt_fail(err, "dense: units must be a positive integer, got %d", l->spec.units);
    if ((unsigned)l->spec.act >= RT_ACT_COUNT)
        return rt_fail(err, "dense: unknown activation %d", (int)l->spec.act);
    if ((unsigned)l->spec.init >= RT_INIT_COUNT)
        return rt_fail(err, "dense: unknown initializer %d", (int)l->spec.init);
    l->out = l->spec.units;
    rt_act_defaults(l->spec.act, l->act_params);
    for (int i = 0; i < RT_ACT_MAX_PARAMS; i++)
        if (!isnan(l->spec.act_params[i])) l->act_params[i] = l->spec.act_params[i];
    return add_param(l, "kernel", l->in, l->out, true, err) &&
           add_param(l, "bias", 0, l->out, true, err);
}

static bool dense_reserve(rt_layer *l, int cap, rt_error *err)
{
    long o = (long)cap * l->out;
    bool act = l->spec.act != RT_ACT_LINEAR || l->spec.custom;
    if (!regrow(&l->z, o, err) || !regrow(&l->aux, o, err) ||
        !regrow(&l->dx, (long)cap * l->in, err))
        return false;
    if (l->in >= SPARSE_MIN_IN &&
        !rt_rowsparse_reserve(&l->xs, cap, sparse_max_nnz(cap, l->in), err))
        return false;
    if (l->xs_next.max_nnz > 0 && !rt_layer_stage_reserve(l, err)) return false;
    if (act) return regrow(&l->y, o, err);
    return true;
}

static void dense_init(rt_layer *l, rt_rng *rng)
{
    rt_param *k = &l->params[DENSE_KERNEL];
    double fan_in = l->in, fan_out = l->out;
    switch (l->spec.init) {
    case RT_INIT_GLOROT_UNIFORM:
    case RT_INIT_HE_UNIFORM: {
        double lim = l->spec.init == RT_INIT_GLOROT_UNIFORM ? sqrt(6.0 / (fan_in + fan_out))
                                                            : sqrt(6.0 / fan_in);
        for (long i = 0; i < k->size; i++)
            k->w[i] = rt_rng_uniform_range(rng, (float)-lim, (float)lim);
        break;
    }
    case RT_INIT_HE_NORMAL: {
        /* Keras's VarianceScaling: a normal truncated at 2 sigma, its
         * stddev divided by 0.8796 (the truncated one's) so the variance
         * stays 2 / fan_in. */
        float sd = (float)(sqrt(2.0 / fan_in) / 0.87962566103423978);
        for (long i = 0; i < k->size; i++) k->w[i] = sd * rt_rng_truncated_normal(rng);
        break;
    }
    case RT_INIT_TORCH_LINEAR: {
        /* kaiming_uniform(a = sqrt 5): gain sqrt(2 / (1 + 5)), bound
         * gain sqrt(3 / fan_in) = 1 / sqrt(fan_in); the bias likewise */
        float lim = (float)(1.0 / sqrt(fan_in));
        for (long i = 0; i < k->size; i++) k->w[i] = rt_rng_uniform_range(rng, -lim, lim);
        for (int j = 0; j < l->out; j++)
            l->params[DENSE_BIAS].w[j] = rt_rng_uniform_range(rng, -lim, lim);
        return;
    }
    case RT_INIT_ZEROS:
    case RT_INIT_COUNT:
        memset(k->w, 0, (size_t)k->size * sizeof(float));
        break;
    }
    memset(l->params[DENSE_BIAS].w, 0, (size_t)l->out * sizeof(float));
}

bool rt_layer_input_u8(rt_layer *l, const uint8_t *base, const int64_t *idx, int n, float scale,
                       bool training)
{
    l->xs_loaded = 0;
    if (l->spec.kind != RT_LAYER_DENSE || l->xs.max_nnz <= 0 || n > l->xs.cap_rows ||
        !rt_rowsparse_build_u8(&l->xs, rt_cpu_simd(), base, idx, n, l->in, scale, training))
        return false;
    l->xs_loaded = n;
    return true;
}

bool rt_layer_has_input(const rt_layer *l, int n) { return n > 0 && l->xs_loaded == n; }

bool rt_layer_stage_reserve(rt_layer *l, rt_error *err)
{
    if (l->spec.kind != RT_LAYER_DENSE || l->xs.max_nnz <= 0) return true;
    return rt_rowsparse_reserve(&l->xs_next, l->xs.cap_rows, l->xs.max_nnz, err);
}

bool rt_layer_stage_u8(rt_layer *l, const uint8_t *base, const int64_t *idx, int n, float scale,
                       bool training)
{
    l->xs_staged = 0;
    l->stage_seq++;
    if (l->spec.kind != RT_LAYER_DENSE || l->xs_next.max_nnz <= 0 || n > l->xs_next.cap_rows ||
        !rt_rowsparse_build_u8(&l->xs_next, rt_cpu_simd(), base, idx, n, l->in, scale, training))
        return false;
    if (training) rt_rowsparse_prepare_tmm(&l->xs_next, rt_cpu_simd());
    l->xs_staged = n;
    return true;
}

void rt_layer_use_staged(rt_layer *l)
{
    rt_rowsparse t = l->xs;
    l->xs = l->xs_next;
    l->xs_next = t;
    l->xs_loaded = l->xs_staged;
    l->xs_staged = 0;
}

static const float *dense_forward(rt_layer *l, const float *x, int n, bool training, rt_pool *pool)
{
    (void)training;
    int in = l->in, out = l->out;
    const float *w = l->params[DENSE_KERNEL].w, *b = l->params[DENSE_BIAS].w;
    rt_simd simd = rt_cpu_simd();
    l->x = x;
    /* z = x W, then + b: the order Keras's matmul + bias_add rounds in. */
    /* x == NULL: the input is in l->xs already (rt_layer_input_u8); else
     * compress it if it is mostly zeros, which replaces what xs held */
    if (x) l->xs_loaded = 0;
    l->x_sparse = !x || (in >= SPARSE_MIN_IN && rt_rowsparse_build(&l->xs, simd, x, n, in));
    if (l->x_sparse) {
        rt_rowsparse_mm(&l->xs, simd, pool_sp(pool, 2.0 * l->xs.start[n] * out), w, out, b,
                        l->z, out);
    } else {
        rt_gemm_f32(pool_for(pool, 2.0 * n * in * out), false, false, n, out, in, x, in, w, out,
                    false, l->z, out);
        int d8 = vec_cols(out);
        PASS(add_bias, d8, l->z, b, n, out, d8);
        add_bias_scalar(l->z, b, n, out, d8);
    }
    if (l->spec.custom) {                /* user-defined: one flat elementwise kernel */
        l->spec.custom->forward(l->spec.custom->ctx, l->z, l->y, (long)n * out);
        return l->y;
    }
    if (l->spec.act == RT_ACT_LINEAR) return l->z;
    rt_act_get(l->spec.act)->forward(l->z, l->y, n, out, l->act_params);
    return l->y;
}

static const float *dense_backward(rt_layer *l, const float *dy, int n, bool need_dx, rt_pool *pool)
{
    int in = l->in, out = l->out;
    const float *dz = dy;
    if (!l->skip_act_grad && l->spec.custom) {
        l->spec.custom->backward(l->spec.custom->ctx, l->z, l->y, dy, l->aux, (long)n * out);
        dz = l->aux;
    } else if (!l->skip_act_grad && l->spec.act != RT_ACT_LINEAR) {
        rt_act_get(l->spec.act)->backward(l->z, l->y, dy, l->aux, n, out, l->act_params);
        dz = l->aux;
    }
    /* dW = x^T dz;  db = sum over rows of dz (rows in order);  dx = dz W^T */
    if (l->x_sparse)
        rt_rowsparse_tmm(&l->xs, rt_cpu_simd(), pool_sp(pool, 2.0 * l->xs.start[n] * out), dz,
                         out, l->params[DENSE_KERNEL].g);
    else
        rt_gemm_f32(pool_for(pool, 2.0 * n * in * out), true, false, in, out, n, l->x, in, dz,
                    out, false, l->params[DENSE_KERNEL].g, out);
    float *db = l->params[DENSE_BIAS].g;
    int d8 = vec_cols(out);
    if (!l->bias_grad_done) {
        PASS(col_sums, d8, dz, n, out, d8, db);
        col_sums_scalar(dz, n, out, d8, db);
    }
    if (!need_dx) return NULL;
    rt_gemm_f32(pool_for(pool, 2.0 * n * in * out), false, true, n, in, out, dz, out,
                l->params[DENSE_KERNEL].w, out, false, l->dx, in);
    return l->dx;
}

/* ---- batchnorm ------------------------------------------------------------ */

enum { BN_GAMMA, BN_BETA, BN_MOVING_MEAN, BN_MOVING_VAR };

static bool batchnorm_setup(rt_layer *l, rt_error *err)
{
    float m = l->spec.momentum, e = l->spec.eps;
    if (!(m >= 0.0f && m <= 1.0f))
        return rt_fail(err, "batchnorm: momentum must be in [0, 1], got %g", (double)m);
    if (!(e > 0.0f))
        return rt_fail(err, "batchnorm: epsilon must be positive, got %g", (double)e);
    l->out = l->in;
    return add_param(l, "gamma", 0, l->out, true, err) &&
           add_param(l, "beta", 0, l->out, true, err) &&
           add_param(l, "moving_mean", 0, l->out, false, err) &&
           add_param(l, "moving_variance", 0, l->out, false, err) &&
           regrow(&l->mean, l->out, err) && regrow(&l->inv, l->out, err);
}

static bool batchnorm_reserve(rt_layer *l, int cap, rt_error *err)
{
    long o = (long)cap * l->out;
    return regrow(&l->y, o, err) && regrow(&l->aux, o, err) && regrow(&l->dx, o, err);
}

static void batchnorm_init(rt_layer *l, rt_rng *rng)
{
    (void)rng;
    for (int j = 0; j < l->out; j++) {
        l->params[BN_GAMMA].w[j] = 1.0f;
        l->params[BN_BETA].w[j] = 0.0f;
        l->params[BN_MOVING_MEAN].w[j] = 0.0f;
        l->params[BN_MOVING_VAR].w[j] = 1.0f;
    }
}

static const float *batchnorm_forward(rt_layer *l, const float *x, int n, bool training,
                                      rt_pool *pool)
{
    (void)pool;
    int d = l->out;
    const float *gamma = l->params[BN_GAMMA].w, *beta = l->params[BN_BETA].w;
    float *mm = l->params[BN_MOVING_MEAN].w, *mv = l->params[BN_MOVING_VAR].w;
    float *mean = l->mean, *inv = l->inv, *xhat = l->aux;
    float eps = l->spec.eps, mom = l->spec.momentum;
    int d8 = vec_cols(d);
    if (training) {
        /* batch mean, then the biased variance mean((x - mean)^2) */
        PASS(bn_stats, d8, x, n, d, d8, mean, inv);
        bn_stats_scalar(x, n, d, d8, mean, inv);
        for (int j = 0; j < d; j++) {
            float var = inv[j] / (float)n;
            if (l->spec.torch) {   /* PyTorch: momentum weighs the batch; unbiased variance */
                float uvar = n > 1 ? inv[j] / (float)(n - 1) : var;
                mm[j] = (1.0f - mom) * mm[j] + mom * mean[j];
                mv[j] = (1.0f - mom) * mv[j] + mom * uvar;
            } else {
                mm[j] = mm[j] * mom + mean[j] * (1.0f - mom);
                mv[j] = mv[j] * mom + var * (1.0f - mom);
            }
            inv[j] = 1.0f / sqrtf(var + eps);
        }
    } else {
        for (int j = 0; j < d; j++) {
            mean[j] = mm[j];
            inv[j] = 1.0f / sqrtf(mv[j] + eps);
        }
    }
    /* xhat = (x - mean) / sqrt(var + eps);  y = gamma xhat + beta */
    PASS(bn_normalize, d8, x, n, d, d8, mean, inv, gamma, beta, xhat, l->y);
    bn_normalize_scalar(x, n, d, d8, mean, inv, gamma, beta, xhat, l->y);
    return l->y;
}

/* Training-mode gradient through the batch statistics:
 *   dx = gamma inv / n * (n dy - sum dy - xhat sum(dy xhat));
 * the factor gamma inv / n per feature, in l->mean (free in the backward
 * pass). */
static const float *bn_grad_factor(rt_layer *l, int n)
{
    float fn = (float)n, *c = l->mean;
    for (int j = 0; j < l->out; j++) c[j] = l->params[BN_GAMMA].w[j] * l->inv[j] / fn;
    return c;
}

static const float *batchnorm_backward(rt_layer *l, const float *dy, int n, bool need_dx,
                                       rt_pool *pool)
{
    (void)pool;
    int d = l->out;
    const float *xhat = l->aux;
    float *dgamma = l->params[BN_GAMMA].g, *dbeta = l->params[BN_BETA].g;
    int d8 = vec_cols(d);
    PASS(bn_param_grads, d8, dy, xhat, n, d, d8, dbeta, dgamma);
    bn_param_grads_scalar(dy, xhat, n, d, d8, dbeta, dgamma);
    if (!need_dx) return NULL;
    const float *c = bn_grad_factor(l, n);
    PASS(bn_input_grad, d8, dy, xhat, n, d, d8, c, dbeta, dgamma, l->dx);
    bn_input_grad_scalar(dy, xhat, n, d, d8, c, dbeta, dgamma, l->dx);
    return l->dx;
}

const float *rt_layer_backward_bn_act(rt_layer *l, const float *dy, int n, rt_layer *prev)
{
    if (l->spec.kind != RT_LAYER_BATCHNORM || prev->spec.kind != RT_LAYER_DENSE ||
        prev->spec.custom || !rt_fused_grad_act_ok(prev->spec.act, prev->act_params))
        return NULL;
    rt_simd simd = rt_cpu_simd();
    if (simd == RT_SIMD_NEON) return NULL;      /* the separate passes have NEON bodies */
    batchnorm_backward(l, dy, n, false, NULL);  /* dgamma, dbeta */
    int d = l->out;
    const float *c = bn_grad_factor(l, n);
    if (!rt_fused_bn_grad_act(simd, prev->spec.act, prev->act_params, dy, l->aux, n, d, c,
                              l->params[BN_BETA].g, l->params[BN_GAMMA].g, prev->z, prev->y,
                              l->dx, prev->params[DENSE_BIAS].g))
        return NULL;
    return l->dx;
}

/* ---- dropout ---------------------------------------------------------------- */

static bool dropout_setup(rt_layer *l, rt_error *err)
{
    if (!(l->spec.rate >= 0.0f && l->spec.rate < 1.0f))
        return rt_fail(err, "dropout: rate must be in [0, 1), got %g", (double)l->spec.rate);
    l->out = l->in;
    return true;
}

static bool dropout_reserve(rt_layer *l, int cap, rt_error *err)
{
    long o = (long)cap * l->out;
    return regrow(&l->y, o, err) && regrow(&l->aux, o, err) && regrow(&l->dx, o, err);
}

static void dropout_init(rt_layer *l, rt_rng *rng)
{
    /* The mask stream: keyed by two draws of the init stream, so each model
     * built from one seed gets its own masks, reproducibly. */
    uint64_t sub = (uint64_t)rt_rng_u32(rng) << 32 | rt_rng_u32(rng);
    l->rng = rt_rng_derive(rng, sub);
}

static const float *dropout_forward(rt_layer *l, const float *x, int n, bool training,
                                    rt_pool *pool)
{
    (void)pool;
    if (!training || l->spec.rate == 0.0f) {
        l->masked = false;            /* backward passes dy through */
        return x;
    }
    l->masked = true;
    long size = (long)n * l->out;
    float rate = l->spec.rate, scale = 1.0f / (1.0f - rate);
    for (long i = 0; i < size; i++) {
        l->aux[i] = rt_rng_uniform(&l->rng) >= rate ? scale : 0.0f;
        l->y[i] = x[i] * l->aux[i];
    }
    return l->y;
}

static const float *dropout_backward(rt_layer *l, const float *dy, int n, bool need_dx,
                                     rt_pool *pool)
{
    (void)pool;
    if (!need_dx) return NULL;
    if (!l->masked) return dy;
    long size = (long)n * l->out;
    for (long i = 0; i < size; i++) l->dx[i] = dy[i] * l->aux[i];
    return l->dx;
}

/* ---- the table ---------------------------------------------------------------- */

static const layer_ops ops[RT_LAYER_COUNT] = {
#define RT_LAYER_ROW(tag, nm, fn) \
    [RT_LAYER_##tag] = {nm, fn##_setup, fn##_reserve, fn##_init, fn##_forward, fn##_backward},
    RT_LAYER_KINDS(RT_LAYER_ROW)
#undef RT_LAYER_ROW
};

const char *rt_layer_kind_name(rt_layer_kind kind)
{
    return (unsigned)kind < RT_LAYER_COUNT ? ops[kind].name : "?";
}

bool rt_layer_setup(rt_layer *l, const rt_layer_spec *spec, int in, rt_error *err)
{
    memset(l, 0, sizeof *l);
    l->spec = *spec;
    l->in = in;
    if ((unsigned)spec->kind >= RT_LAYER_COUNT)
        return rt_fail(err, "unknown layer kind %d", (int)spec->kind);
    if (in <= 0) return rt_fail(err, "%s: input width must be positive, got %d", ops[spec->kind].name, in);
    return ops[spec->kind].setup(l, err);
}

void rt_layer_init(rt_layer *l, rt_rng *rng) { ops[l->spec.kind].init(l, rng); }

bool rt_layer_reserve(rt_layer *l, int cap, rt_error *err)
{
    if (cap <= l->cap) return true;
    if (!ops[l->spec.kind].reserve(l, cap, err)) return false;
    l->cap = cap;
    return true;
}

const float *rt_layer_forward(rt_layer *l, const float *x, int n, bool training, rt_pool *pool)
{
    return ops[l->spec.kind].forward(l, x, n, training, pool);
}

const float *rt_layer_backward(rt_layer *l, const float *dy, int n, bool need_dx, rt_pool *pool)
{
    return ops[l->spec.kind].backward(l, dy, n, need_dx, pool);
}

void rt_layer_release(rt_layer *l)
{
    for (int i = 0; i < l->nparams; i++) {
        rt_free(l->params[i].w);
        rt_free(l->params[i].g);
    }
    rt_free(l->z); rt_free(l->y); rt_free(l->dx); rt_free(l->aux);
    rt_free(l->mean); rt_free(l->inv);
    rt_rowsparse_release(&l->xs);
    rt_rowsparse_release(&l->xs_next);
    memset(l, 0, sizeof *l);
}

bool rt_layer_shadow(rt_layer *s, const rt_layer *l, rt_error *err)
{
    /* the description, nothing of the state: every buffer starts NULL */
    memset(s, 0, sizeof *s);
    s->spec = l->spec;
    s->in = l->in;
    s->out = l->out;
    s->nparams = l->nparams;
    for (int p = 0; p < l->nparams; p++) {
        s->params[p] = l->params[p];
        s->params[p].g = NULL;
    }
    memcpy(s->act_params, l->act_params, sizeof s->act_params);
    /* batchnorm's per-feature buffers come with its setup, not its reserve */
    if (l->spec.kind == RT_LAYER_BATCHNORM)
        return regrow(&s->mean, s->out, err) && regrow(&s->inv, s->out, err);
    return true;
}

void rt_layer_shadow_release(rt_layer *s)
{
    s->nparams = 0;             /* the parameters are the original's */
    rt_layer_release(s);
}
