/*
 * activations.c — forward and derivative kernels (see activations.h).
 *
 * Each elementwise activation is written once as a scalar pair
 * NAME_f(z, alpha) and NAME_d(z, y, alpha) = f'(z), and ELEMENTWISE(NAME)
 * stamps out the array kernels. The derivative is taken from whichever of z
 * and y gives it exactly and cheaply (sigmoid from y, relu from z).
 */
#include <math.h>
#include <string.h>
#include <strings.h>
#include "activations.h"
#include "cpu.h"
#include "mathf.h"

#define ELEMENTWISE(NAME)                                                          \
    static void NAME##_fwd(const float *z, float *y, int rows, int cols, const float *a) \
    {                                                                              \
        long n = (long)rows * cols;                                                \
        for (long i = 0; i < n; i++) y[i] = NAME##_f(z[i], a);                     \
    }                                                                              \
    static void NAME##_bwd(const float *z, const float *y, const float *dy,        \
                           float *dz, int rows, int cols, const float *a)                 \
    {                                                                              \
        long n = (long)rows * cols;                                                \
        for (long i = 0; i < n; i++) dz[i] = dy[i] * NAME##_d(z[i], y[i], a);      \
    }

#if defined(__x86_64__)
#define ACT_X86 1
/* The vector loops with the scalar pair for the last n % 8 elements; the
 * path is chosen by rt_cpu_simd() (MLP_SIMD=scalar forces the pair) and
 * NAME_vec_ok(params) (false: the vector pair does not cover these
 * parameters, the scalar pair does all). */
#define ELEMENTWISE_SIMD(NAME)                                                     \
    __attribute__((target("avx2")))                                                \
    static long NAME##_fwd_avx2(const float *z, float *y, long n, const float *a)         \
    {                                                                              \
        long i = 0;                                                                \
        for (; i + 8 <= n; i += 8)                                                 \
            _mm256_storeu_ps(y + i, NAME##_f8(_mm256_loadu_ps(z + i), a));         \
        return i;                                                                  \
    }                                                                              \
    __attribute__((target("avx2")))                                                \
    static long NAME##_bwd_avx2(const float *z, const float *y, const float *dy,   \
                                float *dz, long n, const float *a)                        \
    {                                                                              \
        long i = 0;                                                                \
        for (; i + 8 <= n; i += 8)                                                 \
            _mm256_storeu_ps(dz + i, _mm256_mul_ps(_mm256_loadu_ps(dy + i),        \
                             NAME##_d8(_mm256_loadu_ps(z + i), _mm256_loadu_ps(y + i), a))); \
        return i;                                                                  \
    }                                                                              \
    static void NAME##_fwd(const float *z, float *y, int rows, int cols, const float *a) \
    {                                                                              \
        long n = (long)rows * cols;                                                \
        long i = rt_cpu_simd() >= RT_SIMD_AVX2 && NAME##_vec_ok(a)                 \
                     ? NAME##_fwd_avx2(z, y, n, a) : 0;                      \
        for (; i < n; i++) y[i] = NAME##_f(z[i], a);                               \
    }                                                                              \
    static void NAME##_bwd(const float *z, const float *y, const float *dy,        \
                           float *dz, int rows, int cols, const float *a)                 \
    {                                                                              \
        long n = (long)rows * cols;                                                \
        long i = rt_cpu_simd() >= RT_SIMD_AVX2 && NAME##_vec_ok(a)                 \
                     ? NAME##_bwd_avx2(z, y, dy, dz, n, a) : 0;              \
        for (; i < n; i++) dz[i] = dy[i] * NAME##_d(z[i], y[i], a);                \
    }
#else
#define ACT_X86 0
#endif

#if defined(__aarch64__)
#define ACT_NEON 1
/* The same on aarch64, four at a time (NAME_f4, NAME_d4 below), when
 * rt_cpu_simd() is neon: the vector pair does what the scalar pair does,
 * operation for operation (dy * f' rounds the product once, like the
 * scalar loop), so every element gets the same bits. */
#define ELEMENTWISE_SIMD(NAME)                                                     \
    static void NAME##_fwd(const float *z, float *y, int rows, int cols, const float *a) \
    {                                                                              \
        long n = (long)rows * cols, i = 0;                                         \
        if (rt_cpu_simd() == RT_SIMD_NEON && NAME##_vec_ok(a))                     \
            for (; i + 4 <= n; i += 4) vst1q_f32(y + i, NAME##_f4(vld1q_f32(z + i), a)); \
        for (; i < n; i++) y[i] = NAME##_f(z[i], a);                               \
    }                                                                              \
    static void NAME##_bwd(const float *z, const float *y, const float *dy,        \
                           float *dz, int rows, int cols, const float *a)          \
    {                                                                              \
        long n = (long)rows * cols, i = 0;                                         \
        if (rt_cpu_simd() == RT_SIMD_NEON && NAME##_vec_ok(a))                     \
            for (; i + 4 <= n; i += 4)                                             \
                vst1q_f32(dz + i, vmulq_f32(vld1q_f32(dy + i),                     \
                          NAME##_d4(vld1q_f32(z + i), vld1q_f32(y + i), a)));      \
        for (; i < n; i++) dz[i] = dy[i] * NAME##_d(z[i], y[i], a);                \
    }
#else
#define ACT_NEON 0
#endif

#if !ACT_X86 && !ACT_NEON
#define ELEMENTWISE_SIMD(NAME) ELEMENTWISE(NAME)
#endif

static float linear_f(float z, const float *a) { (void)a; return z; }
static float linear_d(float z, float y, const float *a) { (void)z; (void)y; (void)a; return 1.0f; }

static float sigmoid_f(float z, const float *a) { (void)a; return 1.0f / (1.0f + rt_expf(-z)); }
static float sigmoid_d(float z, float y, const float *a) { (void)z; (void)a; return y * (1.0f - y); }

static float tanh_f(float z, const float *a) { (void)a; return rt_tanhf(z); }
static float tanh_d(float z, float y, const float *a) { (void)z; (void)a; return 1.0f - y * y; }

/* relu with Keras's parameters a = {alpha, max_value, threshold}:
 *   y = (z > threshold ? z : 0), clipped to [0, max_value] if max_value is
 *       finite, minus alpha max(threshold - z, 0)
 * (keras.activations.relu, step by step). With the defaults {0, inf, 0}
 * that is z > 0 ? z : 0, bit for bit. f' is the sum of the parts' slopes,
 * the left side's at a kink (0 at z = 0 plain, alpha at z = threshold). */
static float relu_f(float z, const float *a)
{
    float alpha = a[0], maxv = a[1], thr = a[2];
    float x = z > thr ? z : 0.0f;
    if (maxv < INFINITY) x = x < 0.0f ? 0.0f : x > maxv ? maxv : x;
    if (alpha != 0.0f) x -= alpha * (thr - z > 0.0f ? thr - z : 0.0f);
    return x;
}
static float relu_d(float z, float y, const float *a)
{
    (void)y;
    float alpha = a[0], maxv = a[1], thr = a[2];
    float x = z > thr ? z : 0.0f;
    float d = z > thr ? 1.0f : 0.0f;
    if (maxv < INFINITY && (x < 0.0f || x > maxv)) d = 0.0f;
    if (alpha != 0.0f && !(z > thr)) d += alpha;
    return d;
}
static inline bool linear_vec_ok(const float *a) { (void)a; return true; }
static inline bool sigmoid_vec_ok(const float *a) { (void)a; return true; }
/* the vector relu is the plain one */
static inline bool relu_vec_ok(const float *a) { return a[0] == 0.0f && a[1] == INFINITY && a[2] == 0.0f; }

#if ACT_X86
__attribute__((target("avx2")))
static inline __m256 linear_f8(__m256 z, const float *a) { (void)a; return z; }
__attribute__((target("avx2")))
static inline __m256 linear_d8(__m256 z, __m256 y, const float *a)
{
    (void)z; (void)y; (void)a;
    return _mm256_set1_ps(1.0f);
}
/* 1 / (1 + e^-z); negation flips the sign bit, exactly as -z does */
__attribute__((target("avx2")))
static inline __m256 sigmoid_f8(__m256 z, const float *a)
{
    (void)a;
    __m256 e = rt_expf8_avx2(_mm256_xor_ps(z, _mm256_set1_ps(-0.0f)));
    return _mm256_div_ps(_mm256_set1_ps(1.0f), _mm256_add_ps(_mm256_set1_ps(1.0f), e));
}
__attribute__((target("avx2")))
static inline __m256 sigmoid_d8(__m256 z, __m256 y, const float *a)
{
    (void)z; (void)a;
    return _mm256_mul_ps(y, _mm256_sub_ps(_mm256_set1_ps(1.0f), y));
}
/* z > 0 ? z : +0 (NaN and -0 give +0, as the comparison does in C) */
__attribute__((target("avx2")))
static inline __m256 relu_f8(__m256 z, const float *a)
{
    (void)a;
    return _mm256_and_ps(z, _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GT_OQ));
}
__attribute__((target("avx2")))
static inline __m256 relu_d8(__m256 z, __m256 y, const float *a)
{
    (void)y; (void)a;
    return _mm256_and_ps(_mm256_set1_ps(1.0f), _mm256_cmp_ps(z, _mm256_setzero_ps(), _CMP_GT_OQ));
}
#endif

#if ACT_NEON
static inline float32x4_t linear_f4(float32x4_t z, const float *a) { (void)a; return z; }
static inline float32x4_t linear_d4(float32x4_t z, float32x4_t y, const float *a)
{
    (void)z; (void)y; (void)a;
    return vdupq_n_f32(1.0f);
}
/* 1 / (1 + e^-z); vnegq flips the sign bit, exactly as -z does */
static inline float32x4_t sigmoid_f4(float32x4_t z, const float *a)
{
    (void)a;
    return vdivq_f32(vdupq_n_f32(1.0f), vaddq_f32(vdupq_n_f32(1.0f), rt_expf4_neon(vnegq_f32(z))));
}
static inline float32x4_t sigmoid_d4(float32x4_t z, float32x4_t y, const float *a)
{
    (void)z; (void)a;
    return vmulq_f32(y, vsubq_f32(vdupq_n_f32(1.0f), y));
}
/* z > 0 ? z : +0 (NaN and -0 give +0: the compare is false, the and clears) */
static inline float32x4_t relu_f4(float32x4_t z, const float *a)
{
    (void)a;
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(z), vcgtzq_f32(z)));
}
static inline float32x4_t relu_d4(float32x4_t z, float32x4_t y, const float *a)
{
    (void)y; (void)a;
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(vdupq_n_f32(1.0f)), vcgtzq_f32(z)));
}
#endif

static float leaky_relu_f(float z, const float *a) { return z > 0.0f ? z : a[0] * z; }
static float leaky_relu_d(float z, float y, const float *a) { (void)y; return z > 0.0f ? 1.0f : a[0]; }

/* elu: for z <= 0, y = a (e^z - 1), so f' = a e^z = y + a. */
static float elu_f(float z, const float *a) { return z > 0.0f ? z : a[0] * rt_expm1f(z); }
static float elu_d(float z, float y, const float *a) { return z > 0.0f ? 1.0f : y + a[0]; }

/* The constants of Klambauer et al. (2017), as Keras. */
#define SELU_ALPHA 1.67326324235437728481f
#define SELU_SCALE 1.05070098735548049342f
static float selu_f(float z, const float *a)
{
    (void)a;
    return z > 0.0f ? SELU_SCALE * z : SELU_SCALE * (SELU_ALPHA * rt_expm1f(z));
}
static float selu_d(float z, float y, const float *a)
{
    (void)a;
    return z > 0.0f ? SELU_SCALE : y + SELU_SCALE * SELU_ALPHA;
}

/* softplus: written so e^x never overflows and small results keep their
 * precision; f' is the sigmoid. */
static float softplus_f(float z, const float *a)
{
    (void)a;
    return z > 0.0f ? z + rt_log1pf(rt_expf(-z)) : rt_log1pf(rt_expf(z));
}
static float softplus_d(float z, float y, const float *a) { (void)y; return sigmoid_f(z, a); }

static float softsign_f(float z, const float *a) { (void)a; return z / (1.0f + fabsf(z)); }
static float softsign_d(float z, float y, const float *a)
{
    (void)y; (void)a;
    float d = 1.0f + fabsf(z);
    return 1.0f / (d * d);
}

/* swish: f = z s(z), f' = s + z s (1 - s) = s (1 + z (1 - s)). */
static float swish_f(float z, const float *a) { return z * sigmoid_f(z, a); }
static float swish_d(float z, float y, const float *a)
{
    (void)y;
    float s = sigmoid_f(z, a);
    return s * (1.0f + z * (1.0f - s));
}

/* gelu (exact): f = z Phi(z), f' = Phi(z) + z phi(z), phi the normal density. */
static float gelu_f(float z, const float *a)
{
    (void)a;
    return 0.5f * z * (1.0f + rt_erff(z * 0.70710678118654752f));
}
static float gelu_d(float z, float y, const float *a)
{
    (void)y; (void)a;
    float cdf = 0.5f * (1.0f + rt_erff(z * 0.70710678118654752f));
    float pdf = 0.39894228040143268f * rt_expf(-0.5f * z * z);
    return cdf + z * pdf;
}

ELEMENTWISE_SIMD(linear)
ELEMENTWISE_SIMD(sigmoid)
ELEMENTWISE(tanh)
ELEMENTWISE_SIMD(relu)
ELEMENTWISE(leaky_relu)
ELEMENTWISE(elu)
ELEMENTWISE(selu)
ELEMENTWISE(softplus)
ELEMENTWISE(softsign)
ELEMENTWISE(swish)
ELEMENTWISE(gelu)

/* softmax per row, shifted by the row maximum so no e^x overflows; the
 * row sum runs left to right (fixed order). */
#if ACT_X86
/* y[i] = e^y[i] over the whole array, eight at a time; returns how many. */
__attribute__((target("avx2")))
static long exp_inplace_avx2(float *y, long n)
{
    long i = 0;
    for (; i + 8 <= n; i += 8) _mm256_storeu_ps(y + i, rt_expf8_avx2(_mm256_loadu_ps(y + i)));
    return i;
}

/* softmax's last sweep: per row the sum left to right, then the
 * divisions eight at a time (the scalar loop's divss, 1000 of them for the
 * study's 100 x 10, were half of softmax's time; measured on the 2-core
 * AVX-512 machine per training step: 2.0 -> 1.3 us) */
__attribute__((target("avx2")))
static void normalize_rows_avx2(float *y, int rows, int cols)
{
    for (int r = 0; r < rows; r++) {
        float *yr = y + (long)r * cols, sum = 0.0f;
        for (int j = 0; j < cols; j++) sum += yr[j];
        __m256 s = _mm256_set1_ps(sum);
        int j = 0;
        for (; j + 8 <= cols; j += 8) _mm256_storeu_ps(yr + j, _mm256_div_ps(_mm256_loadu_ps(yr + j), s));
        for (; j < cols; j++) yr[j] = yr[j] / sum;
    }
}
#endif

/* In three sweeps so the exponentials, the expensive part, run over the
 * whole array at once (rows of 10 are too short to vectorise one by one):
 * shifted inputs z - max, their e^x, then the row sums left to right and
 * the division. Each element sees the same operations as in a row loop. */
static void softmax_fwd(const float *z, float *y, int rows, int cols, const float *a)
{
    (void)a;
    for (int r = 0; r < rows; r++) {
        const float *zr = z + (long)r * cols;
        float *yr = y + (long)r * cols;
        float mx = zr[0];
        for (int j = 1; j < cols; j++) mx = zr[j] > mx ? zr[j] : mx;
        for (int j = 0; j < cols; j++) yr[j] = zr[j] - mx;
    }
    long n = (long)rows * cols, i = 0;
    bool vec = false;
#if ACT_X86
    vec = rt_cpu_simd() >= RT_SIMD_AVX2;
    if (vec) i = exp_inplace_avx2(y, n);
#endif
#if ACT_NEON
    if (rt_cpu_simd() == RT_SIMD_NEON)
        for (; i + 4 <= n; i += 4) vst1q_f32(y + i, rt_expf4_neon(vld1q_f32(y + i)));
#endif
    for (; i < n; i++) y[i] = rt_expf(y[i]);
#if ACT_X86
    if (vec) {
        normalize_rows_avx2(y, rows, cols);
        return;
    }
#endif
    (void)vec;
    for (int r = 0; r < rows; r++) {
        float *yr = y + (long)r * cols, sum = 0.0f;
        for (int j = 0; j < cols; j++) sum += yr[j];
        for (int j = 0; j < cols; j++) yr[j] = yr[j] / sum;
    }
}

/* Jacobian-vector product of softmax: dz_j = y_j (dy_j - sum_k dy_k y_k). */
static void softmax_bwd(const float *z, const float *y, const float *dy, float *dz,
                        int rows, int cols, const float *a)
{
    (void)z; (void)a;
    for (int r = 0; r < rows; r++) {
        const float *yr = y + (long)r * cols, *dyr = dy + (long)r * cols;
        float *dzr = dz + (long)r * cols;
        float dot = 0.0f;
        for (int j = 0; j < cols; j++) dot += dyr[j] * yr[j];
        for (int j = 0; j < cols; j++) dzr[j] = yr[j] * (dyr[j] - dot);
    }
}

static const rt_act_info table[RT_ACT_COUNT] = {
#define RT_ACT_ROW(tag, nm, fn, prm, dc) [RT_ACT_##tag] = {nm, prm, dc, fn##_fwd, fn##_bwd},
    RT_ACTIVATIONS(RT_ACT_ROW)
#undef RT_ACT_ROW
};

const rt_act_info *rt_act_get(rt_act act) { return &table[act]; }

bool rt_act_from_name(const char *name, rt_act *out)
{
    if (!name) return false;
    if (strcasecmp(name, "silu") == 0) { *out = RT_ACT_SWISH; return true; }
    for (int i = 0; i < RT_ACT_COUNT; i++)
        if (strcasecmp(name, table[i].name) == 0) { *out = (rt_act)i; return true; }
    return false;
}

int rt_act_nparams(rt_act act)
{
    int n = 0;
    while (n < RT_ACT_MAX_PARAMS && table[act].params[n].name) n++;
    return n;
}

void rt_act_defaults(rt_act act, float p[RT_ACT_MAX_PARAMS])
{
    int n = rt_act_nparams(act);
    for (int i = 0; i < RT_ACT_MAX_PARAMS; i++) p[i] = i < n ? table[act].params[i].value : 0.0f;
}

int rt_act_param_index(rt_act act, const char *name)
{
    for (int i = 0; name && i < rt_act_nparams(act); i++)
        if (strcmp(table[act].params[i].name, name) == 0) return i;
    return -1;
}
