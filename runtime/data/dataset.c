/* dataset.c — see dataset.h. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include "cpu.h"
#include "dataset.h"
#include "rowsparse.h"

#if defined(__x86_64__)
#include <immintrin.h>
#define DS_X86 1
#else
#define DS_X86 0
#endif
#if defined(__aarch64__)
#include <arm_neon.h>
#define DS_NEON 1
#else
#define DS_NEON 0
#endif

/* ---- splitmix64 ------------------------------------------------------------
 * The finaliser of Java's SplittableRandom: a Weyl sequence (state += golden
 * ratio) through two xor-shift-multiply rounds. 64-bit integer arithmetic
 * only, so it is bit-identical everywhere; good enough statistically (passes
 * BigCrush) for shuffling and toy data, which is all it is used for. */

rt_drng rt_drng_seed(uint64_t seed)
{
    rt_drng g = { seed };
    return g;
}

uint64_t rt_drng_next(rt_drng *g)
{
    uint64_t z = (g->state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double rt_drng_uniform(rt_drng *g)
{
    return (double)(rt_drng_next(g) >> 11) * 0x1.0p-53;
}

uint64_t rt_drng_below(rt_drng *g, uint64_t n)
{
    /* Accept only draws below the largest multiple of n, so every residue is
     * equally likely; (-n) % n is 2^64 mod n. Rejects with probability < n/2^64. */
    uint64_t limit = (uint64_t)0 - ((uint64_t)0 - n) % n;
    uint64_t r;
    do r = rt_drng_next(g); while (limit != 0 && r >= limit);
    return r % n;
}

void rt_drng_permutation(rt_drng *g, int64_t *idx, int64_t n)
{
    for (int64_t i = 0; i < n; i++) idx[i] = i;
    for (int64_t i = n - 1; i > 0; i--) {
        int64_t j = (int64_t)rt_drng_below(g, (uint64_t)i + 1);
        int64_t t = idx[i]; idx[i] = idx[j]; idx[j] = t;
    }
}

void rt_dataset_epoch_order(uint64_t seed, int64_t epoch, int64_t *idx, int64_t n)
{
    /* One splitmix64 step over (seed, epoch) gives the epoch's own seed:
     * nearby seeds and epochs land far apart in the generator's sequence. */
    rt_drng mix = rt_drng_seed(seed ^ ((uint64_t)epoch * 0xD1B54A32D192ED03ull));
    rt_drng g = rt_drng_seed(rt_drng_next(&mix));
    rt_drng_permutation(&g, idx, n);
}

/* ---- building and releasing --------------------------------------------- */

/* Training reads examples in random order from tens of megabytes (MNIST:
 * 47 MB), so with 4 KB pages nearly every example is a TLB miss on top of
 * its cache misses; large buffers are therefore aligned to 2 MB and offered
 * to the kernel as transparent huge pages before their first touch (a hint:
 * where THP is off nothing changes). */
enum { DS_HUGE = 2 << 20 };

void *rt_examples_alloc(size_t bytes, bool zeroed)
{
#ifdef MADV_HUGEPAGE
    if (bytes >= 2 * (size_t)DS_HUGE) {
        size_t round = (bytes + DS_HUGE - 1) / DS_HUGE * DS_HUGE;
        void *p = aligned_alloc(DS_HUGE, round);
        if (!p) return NULL;
        (void)madvise(p, round, MADV_HUGEPAGE);
        if (zeroed) memset(p, 0, bytes);
        return p;
    }
#endif
    return zeroed ? calloc(bytes ? bytes : 1, 1) : malloc(bytes ? bytes : 1);
}

bool rt_dataset_alloc(rt_dataset *ds, int64_t n, const rt_shape *shape,
                      bool u8, float x_scale, int classes, rt_error *err)
{
    memset(ds, 0, sizeof *ds);
    if (n < 0 || shape->ndim < 1 || shape->ndim > RT_MAX_DIMS || classes < 0)
        return rt_fail(err, "dataset: invalid shape (n %lld, %d axes, %d classes)",
                       (long long)n, shape->ndim, classes);
    int64_t f = 1;
    for (int i = 0; i < shape->ndim; i++) {
        if (shape->dims[i] <= 0)
            return rt_fail(err, "dataset: axis %d has size %lld", i, (long long)shape->dims[i]);
        f *= shape->dims[i];
        if (f > ((int64_t)1 << 40)) return rt_fail(err, "dataset: example too large");
    }
    ds->n = n;
    ds->shape = *shape;
    ds->features = f;
    ds->classes = classes;
    size_t cells = (size_t)n * (size_t)f;
    if (n > 0 && cells / (size_t)n != (size_t)f)
        return rt_fail(err, "dataset: %lld examples of %lld features do not fit in memory",
                       (long long)n, (long long)f);
    /* calloc(0, ...) may return NULL; allocate at least one element so that
     * "exactly one of x_u8/x_f32 is set" holds for empty sets too. */
    size_t cnt = cells ? cells : 1;
    if (u8) {
        ds->x_u8 = rt_examples_alloc(cnt, true);
        ds->x_scale = x_scale;
    } else {
        ds->x_f32 = cnt <= SIZE_MAX / sizeof(float) ? rt_examples_alloc(cnt * sizeof(float), true) : NULL;
        ds->x_scale = 1.0f;
    }
    if (classes > 0) ds->labels = calloc(n ? (size_t)n : 1, sizeof(int32_t));
    if ((!ds->x_u8 && !ds->x_f32) || (classes > 0 && !ds->labels)) {
        rt_dataset_free(ds);
        return rt_fail(err, "dataset: out of memory for %lld examples of %lld features",
                       (long long)n, (long long)f);
    }
    return true;
}

bool rt_dataset_set_class_names(rt_dataset *ds, const char *const *names,
                                rt_error *err)
{
    if (!names || ds->classes <= 0) return true;
    char **copy = calloc((size_t)ds->classes, sizeof *copy);
    if (!copy) return rt_fail(err, "dataset: out of memory for class names");
    for (int c = 0; c < ds->classes; c++) {
        copy[c] = strdup(names[c] ? names[c] : "");
        if (!copy[c]) {
            for (int k = 0; k < c; k++) free(copy[k]);
            free(copy);
            return rt_fail(err, "dataset: out of memory for class names");
        }
    }
    if (ds->class_names) {
        for (int c = 0; c < ds->classes; c++) free(ds->class_names[c]);
        free(ds->class_names);
    }
    ds->class_names = copy;
    return true;
}

void rt_dataset_free(rt_dataset *ds)
{
    if (!ds) return;
    free(ds->x_u8);
    free(ds->x_f32);
    free(ds->labels);
    free(ds->targets);
    if (ds->class_names) {
        for (int c = 0; c < ds->classes; c++) free(ds->class_names[c]);
        free(ds->class_names);
    }
    memset(ds, 0, sizeof *ds);
}

bool rt_dataset_alloc_targets(rt_dataset *ds, int outputs, rt_error *err)
{
    if (outputs < 1) return rt_fail(err, "dataset: targets need at least one output");
    ds->targets = calloc((size_t)(ds->n ? ds->n : 1) * (size_t)outputs, sizeof *ds->targets);
    if (!ds->targets) return rt_fail(err, "dataset: out of memory for targets");
    ds->outputs = outputs;
    return true;
}

/* ---- batches -------------------------------------------------------------- */

void rt_onehot(const int32_t *labels, int64_t n, int classes, float *out)
{
    memset(out, 0, (size_t)n * (size_t)classes * sizeof *out);
    for (int64_t i = 0; i < n; i++) out[i * classes + labels[i]] = 1.0f;
}

/* value = byte * x_scale: a multiply by contract (cheaper per pixel than a
 * divide; x * (1/255.f) may differ from x / 255.f in the last bit, and every
 * batch must agree on which). The int -> float conversion is exact, so the
 * vector body and the scalar one give the same floats. */
static void scale_row_scalar(const uint8_t *src, int64_t f, float s, float *dst)
{
    for (int64_t j = 0; j < f; j++) dst[j] = (float)src[j] * s;
}

#if DS_X86
/* 16 bytes per step; the next row (a random image, 784 bytes away from
 * nothing we have touched) is prefetched while this one converts: rows are
 * picked at random from a 47 MB array, so each is a fresh run of cache
 * misses otherwise. */
__attribute__((target("avx2")))
static void scale_rows_avx2(const rt_dataset *ds, const int64_t *idx, int64_t count, float *x)
{
    const int64_t f = ds->features;
    const __m256 s = _mm256_set1_ps(ds->x_scale);
    for (int64_t r = 0; r < count; r++) {
        const uint8_t *src = ds->x_u8 + idx[r] * f;
        float *dst = x + r * f;
        if (r + 1 < count) {
            const char *next = (const char *)(ds->x_u8 + idx[r + 1] * f);
            for (int64_t o = 0; o < f; o += 64) _mm_prefetch(next + o, _MM_HINT_T0);
        }
        int64_t j = 0;
        for (; j + 16 <= f; j += 16) {
            __m128i b = _mm_loadu_si128((const __m128i *)(src + j));
            __m256 lo = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(b));
            __m256 hi = _mm256_cvtepi32_ps(_mm256_cvtepu8_epi32(_mm_srli_si128(b, 8)));
            _mm256_storeu_ps(dst + j, _mm256_mul_ps(lo, s));
            _mm256_storeu_ps(dst + j + 8, _mm256_mul_ps(hi, s));
        }
        scale_row_scalar(src + j, f - j, ds->x_scale, dst + j);
    }
}
#endif

#if DS_NEON
/* The same on aarch64: bytes widened exactly, one rounding multiply per lane. */
static void scale_rows_neon(const rt_dataset *ds, const int64_t *idx, int64_t count, float *x)
{
    const int64_t f = ds->features;
    const float32x4_t s = vdupq_n_f32(ds->x_scale);
    for (int64_t r = 0; r < count; r++) {
        const uint8_t *src = ds->x_u8 + idx[r] * f;
        float *dst = x + r * f;
        if (r + 1 < count)
            for (int64_t o = 0; o < f; o += 64) __builtin_prefetch(ds->x_u8 + idx[r + 1] * f + o);
        int64_t j = 0;
        for (; j + 16 <= f; j += 16) {
            uint8x16_t b = vld1q_u8(src + j);
            uint16x8_t lo = vmovl_u8(vget_low_u8(b)), hi = vmovl_u8(vget_high_u8(b));
            vst1q_f32(dst + j, vmulq_f32(vcvtq_f32_u32(vmovl_u16(vget_low_u16(lo))), s));
            vst1q_f32(dst + j + 4, vmulq_f32(vcvtq_f32_u32(vmovl_u16(vget_high_u16(lo))), s));
            vst1q_f32(dst + j + 8, vmulq_f32(vcvtq_f32_u32(vmovl_u16(vget_low_u16(hi))), s));
            vst1q_f32(dst + j + 12, vmulq_f32(vcvtq_f32_u32(vmovl_u16(vget_high_u16(hi))), s));
        }
        scale_row_scalar(src + j, f - j, ds->x_scale, dst + j);
    }
}
#endif

/* The one-hot rows of a batch's labels (when asked and labelled), or its
 * target rows. */
static void gather_onehot(const rt_dataset *ds, const int64_t *idx, int64_t count, float *y_onehot)
{
    if (y_onehot && ds->targets) {
        for (int64_t r = 0; r < count; r++)
            memcpy(y_onehot + r * ds->outputs, ds->targets + idx[r] * ds->outputs,
                   (size_t)ds->outputs * sizeof *y_onehot);
    } else if (y_onehot && ds->labels && ds->classes > 0) {
        memset(y_onehot, 0, (size_t)count * (size_t)ds->classes * sizeof *y_onehot);
        for (int64_t r = 0; r < count; r++)
            y_onehot[r * ds->classes + ds->labels[idx[r]]] = 1.0f;
    }
}

void rt_dataset_gather(const rt_dataset *ds, const int64_t *idx, int64_t count,
                       float *x, float *y_onehot)
{
    const int64_t f = ds->features;
#if DS_X86
    if (ds->x_u8 && rt_cpu_simd() >= RT_SIMD_AVX2) {
        scale_rows_avx2(ds, idx, count, x);
    } else
#endif
#if DS_NEON
    if (ds->x_u8 && rt_cpu_simd() == RT_SIMD_NEON) {
        scale_rows_neon(ds, idx, count, x);
    } else
#endif
    for (int64_t r = 0; r < count; r++) {
        float *dst = x + r * f;
        if (ds->x_u8) scale_row_scalar(ds->x_u8 + idx[r] * f, f, ds->x_scale, dst);
        else memcpy(dst, ds->x_f32 + idx[r] * f, (size_t)f * sizeof *dst);
    }
    gather_onehot(ds, idx, count, y_onehot);
}

void rt_dataset_gather_labels(const rt_dataset *ds, const int64_t *idx, int64_t count, float *y_onehot)
{
    gather_onehot(ds, idx, count, y_onehot);
}

bool rt_dataset_gather_sparse(const rt_dataset *ds, const int64_t *idx, int64_t count,
                              rt_rowsparse *xs, float *y_onehot)
{
    if (!ds->x_u8 || count > xs->cap_rows || ds->features > INT32_MAX ||
        !rt_rowsparse_build_u8(xs, rt_cpu_simd(), ds->x_u8, idx, (int)count,
                               (int)ds->features, ds->x_scale, true))
        return false;
    gather_onehot(ds, idx, count, y_onehot);
    return true;
}

/* ---- copies ------------------------------------------------------------------ */

/* out <- examples [from, from + count) of ds, with the same shape, storage
 * kind and class names. */
static bool copy_range(const rt_dataset *ds, int64_t from, int64_t count,
                       rt_dataset *out, rt_error *err)
{
    if (!rt_dataset_alloc(out, count, &ds->shape, ds->x_u8 != NULL,
                          ds->x_scale, ds->labels ? ds->classes : 0, err))
        return false;
    out->classes = ds->classes;
    size_t f = (size_t)ds->features;
    if (ds->x_u8)
        memcpy(out->x_u8, ds->x_u8 + (size_t)from * f, (size_t)count * f);
    else
        memcpy(out->x_f32, ds->x_f32 + (size_t)from * f, (size_t)count * f * sizeof(float));
    if (ds->labels)
        memcpy(out->labels, ds->labels + from, (size_t)count * sizeof(int32_t));
    if (ds->targets) {
        if (!rt_dataset_alloc_targets(out, ds->outputs, err)) {
            rt_dataset_free(out);
            return false;
        }
        memcpy(out->targets, ds->targets + from * ds->outputs,
               (size_t)count * (size_t)ds->outputs * sizeof(float));
    }
    if (!rt_dataset_set_class_names(out, (const char *const *)ds->class_names, err)) {
        rt_dataset_free(out);
        return false;
    }
    return true;
}

bool rt_dataset_take(const rt_dataset *ds, int64_t n, rt_dataset *out, rt_error *err)
{
    memset(out, 0, sizeof *out);
    if (n < 0 || n > ds->n)
        return rt_fail(err, "take: asked for %lld examples, the data set has %lld",
                       (long long)n, (long long)ds->n);
    return copy_range(ds, 0, n, out, err);
}

bool rt_dataset_split(const rt_dataset *ds, double fraction, rt_dataset *a,
                      rt_dataset *b, rt_error *err)
{
    memset(a, 0, sizeof *a);
    memset(b, 0, sizeof *b);
    if (!(fraction > 0.0 && fraction < 1.0))
        return rt_fail(err, "split: fraction must be between 0 and 1 (exclusive), got %g",
                       fraction);
    int64_t na = (int64_t)floor(fraction * (double)ds->n + 0.5);
    if (na <= 0 || na >= ds->n)
        return rt_fail(err, "split: a fraction of %g of %lld examples leaves one part empty",
                       fraction, (long long)ds->n);
    if (!copy_range(ds, 0, na, a, err)) return false;
    if (!copy_range(ds, na, ds->n - na, b, err)) {
        rt_dataset_free(a);
        return false;
    }
    return true;
}

/* Out of place (a second copy of x for the moment of the shuffle): gathering
 * rows through the permutation is one sequential write pass, where cycling
 * rows in place would need a row-sized buffer and random writes anyway. */
bool rt_dataset_shuffle(rt_dataset *ds, uint64_t seed, rt_error *err)
{
    if (ds->n < 2) return true;
    size_t f = (size_t)ds->features;
    size_t row = ds->x_u8 ? f : f * sizeof(float);
    int64_t *perm = malloc((size_t)ds->n * sizeof *perm);
    unsigned char *nx = rt_examples_alloc((size_t)ds->n * row, false);
    int32_t *nl = ds->labels ? malloc((size_t)ds->n * sizeof *nl) : NULL;
    size_t trow = (size_t)ds->outputs * sizeof(float);
    float *nt = ds->targets ? malloc((size_t)ds->n * trow) : NULL;
    if (!perm || !nx || (ds->labels && !nl) || (ds->targets && !nt)) {
        free(perm); free(nx); free(nl); free(nt);
        return rt_fail(err, "shuffle: out of memory for %lld examples", (long long)ds->n);
    }
    rt_drng g = rt_drng_seed(seed);
    rt_drng_permutation(&g, perm, ds->n);
    const unsigned char *ox = ds->x_u8 ? (const unsigned char *)ds->x_u8
                                       : (const unsigned char *)ds->x_f32;
    for (int64_t i = 0; i < ds->n; i++) {
        memcpy(nx + (size_t)i * row, ox + (size_t)perm[i] * row, row);
        if (nl) nl[i] = ds->labels[perm[i]];
        if (nt) memcpy((char *)nt + (size_t)i * trow, (const char *)ds->targets + (size_t)perm[i] * trow, trow);
    }
    if (nt) { free(ds->targets); ds->targets = nt; }
    if (ds->x_u8) { free(ds->x_u8); ds->x_u8 = nx; }
    else          { free(ds->x_f32); ds->x_f32 = (float *)nx; }
    if (nl) { free(ds->labels); ds->labels = nl; }
    free(perm);
    return true;
}

/* ---- normalisation ---------------------------------------------------------- */

/* Element k as the training loop sees it: for bytes, the same float product
 * rt_dataset_gather forms, widened to double, so statistics describe exactly
 * the values a batch would hold. */
static double value_at(const rt_dataset *ds, size_t k)
{
    return ds->x_u8 ? (double)((float)ds->x_u8[k] * ds->x_scale) : (double)ds->x_f32[k];
}

bool rt_dataset_feature_stats(const rt_dataset *ds, double *mean, double *std,
                              rt_error *err)
{
    if (ds->n <= 0) return rt_fail(err, "normalize: the data set is empty");
    const size_t f = (size_t)ds->features, n = (size_t)ds->n;
    /* Two passes (mean, then squared deviations) in double: the one-pass
     * sum-of-squares formula cancels badly for features far from zero. Row
     * by row so memory is walked in order. */
    for (size_t j = 0; j < f; j++) mean[j] = 0.0, std[j] = 0.0;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < f; j++) mean[j] += value_at(ds, i * f + j);
    for (size_t j = 0; j < f; j++) mean[j] /= (double)n;
    for (size_t i = 0; i < n; i++)
        for (size_t j = 0; j < f; j++) {
            double d = value_at(ds, i * f + j) - mean[j];
            std[j] += d * d;
        }
    for (size_t j = 0; j < f; j++) std[j] = sqrt(std[j] / (double)n);
    return true;
}

bool rt_dataset_standardize(rt_dataset *ds, const double *mean, const double *std,
                            rt_error *err)
{
    const size_t f = (size_t)ds->features, cells = (size_t)ds->n * f;
    float *x = ds->x_f32;
    if (ds->x_u8) {
        x = malloc((cells ? cells : 1) * sizeof *x);
        if (!x) return rt_fail(err, "normalize: out of memory converting %lld examples to float",
                               (long long)ds->n);
    }
    for (size_t i = 0; i < cells; i++) {
        size_t j = i % f;
        double s = std[j] > 0.0 ? std[j] : 1.0;
        x[i] = (float)((value_at(ds, i) - mean[j]) / s);
    }
    if (ds->x_u8) {
        free(ds->x_u8);
        ds->x_u8 = NULL;
        ds->x_f32 = x;
        ds->x_scale = 1.0f;
    }
    return true;
}

bool rt_dataset_normalize(rt_dataset *train, rt_dataset *other, rt_error *err)
{
    if (other && other->features != train->features)
        return rt_fail(err, "normalize: the sets have %lld and %lld features",
                       (long long)train->features, (long long)other->features);
    size_t f = (size_t)train->features;
    double *mean = malloc((f ? f : 1) * sizeof *mean);
    double *std = malloc((f ? f : 1) * sizeof *std);
    bool ok = mean && std;
    if (!ok) rt_fail(err, "normalize: out of memory");
    ok = ok && rt_dataset_feature_stats(train, mean, std, err);
    ok = ok && rt_dataset_standardize(train, mean, std, err);
    ok = ok && (!other || rt_dataset_standardize(other, mean, std, err));
    free(mean);
    free(std);
    return ok;
}
