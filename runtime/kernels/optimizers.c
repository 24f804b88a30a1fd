/*
 * optimizers.c — the optimizer table and its fused update kernels (see
 * optimizers.h).
 *
 * The table at the end of this file is the one list of optimizers: a row
 * is {name, one-line doc, and per dialect: hyperparameters (name, default,
 * doc, boolean or number), state slots, the update rule as text,
 * coefficient function, update kernel}. Everything else is derived from
 * it: name lookup and the "known: ..." message, describe, the REPL's
 * `:defaults` and `:help`, the stdlib's globals, the generated tables in
 * lang/LANGUAGE.md (rt_optim_markdown) and the unit tests, which iterate
 * the rows. Adding an optimizer is one row plus its kernel.
 *
 * The coefficient function runs once per step: it reads the
 * hyperparameters h[] (in the dialect's order), the step number t (1 on
 * the first step) and a few doubles of optimizer-wide state (acc[], for
 * running products such as Nadam's momentum schedule), and writes the
 * float scalars k[] the kernel uses. The kernel is one pass over a
 * parameter tensor. Below, each kernel's comment gives its formula with g
 * the gradient, w the weight, s0, s1, s2 the state slots.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include "mathf.h"
#include "cpu.h"
#include "optimizers.h"
#include "tensor.h"

enum { MAX_HYPERS = 7, MAX_SLOTS = 3, MAX_COEFS = 12, MAX_ACC = 2 };

typedef void (*coef_fn)(const double *h, long t, double *acc, float *k);
typedef void (*update_fn)(const float *k, float *w, const float *g, float *const *s, long n);

typedef struct {
    const char *name;
    double value;                     /* the default */
    const char *doc;                  /* one line, for :defaults and LANGUAGE.md */
    bool boolean;                     /* printed true/false, stored 0 or 1 */
} hyper_def;

/* An optimizer in one dialect. A row whose dialect has no coef does not
 * exist in that dialect (rt_optim_create says so). */
typedef struct optim_variant {
    hyper_def hypers[MAX_HYPERS];     /* terminated by a NULL name */
    int nslots;
    const char *slot0_init;           /* hyper whose value fills slot 0 at start; NULL: 0 */
    const char *rule;                 /* the update rule for people, one step per line */
    coef_fn coef;
    update_fn update;
} optim_variant;

typedef struct optim_row {
    const char *name;
    const char *doc;                  /* one line: what it is, where it comes from */
    optim_variant dialect[RT_DIALECT_COUNT];
} optim_row;

struct rt_optim {
    const optim_row *row;
    rt_dialect dialect;
    const optim_variant *v;           /* &row->dialect[dialect] */
    int nhypers;
    double h[MAX_HYPERS];
    long t;
    double acc[MAX_ACC];
    /* per-parameter state, allocated on the first step */
    int nparams;
    long *sizes;
    float **slots;                    /* nparams * nslots arrays */
    /* a user-defined optimizer: its definition and a row of its own */
    const rt_optim_custom *custom;
    optim_row *own_row;
};

/* b^t by repeated squaring: exact-order double arithmetic, no libm pow. */
/* ---- SIMD bodies ---------------------------------------------------------- */

#if defined(__x86_64__) && defined(__GNUC__)
#include <immintrin.h>
/* AVX2 body of keras Adam for the first n - n % 8 elements: the same
 * operations in the same order as the scalar loop (IEEE mul, add, sqrt,
 * div are exact-rounded per lane, no FMA), so the bits are identical; it
 * exists because sqrtf's errno handling keeps the compiler from
 * vectorising the scalar loop. Returns how many elements it did. */
__attribute__((target("avx2")))
static long keras_adam_avx2(const float *k, float *w, const float *g, float *m, float *v, long n)
{
    __m256 lr_t = _mm256_set1_ps(k[0]), b1 = _mm256_set1_ps(k[1]), c1 = _mm256_set1_ps(k[2]);
    __m256 b2 = _mm256_set1_ps(k[3]), c2 = _mm256_set1_ps(k[4]), eps = _mm256_set1_ps(k[5]);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 gi = _mm256_loadu_ps(g + i);
        __m256 mi = _mm256_add_ps(_mm256_mul_ps(b1, _mm256_loadu_ps(m + i)), _mm256_mul_ps(c1, gi));
        __m256 vi = _mm256_add_ps(_mm256_mul_ps(b2, _mm256_loadu_ps(v + i)),
                                  _mm256_mul_ps(c2, _mm256_mul_ps(gi, gi)));
        __m256 step = _mm256_div_ps(_mm256_mul_ps(lr_t, mi), _mm256_add_ps(_mm256_sqrt_ps(vi), eps));
        _mm256_storeu_ps(m + i, mi);
        _mm256_storeu_ps(v + i, vi);
        _mm256_storeu_ps(w + i, _mm256_sub_ps(_mm256_loadu_ps(w + i), step));
    }
    return i;
}

/* The same for keras RMSprop without momentum or centering. */
__attribute__((target("avx2")))
static long keras_rmsprop_avx2(const float *k, float *w, const float *g, float *ms, long n)
{
    __m256 lr = _mm256_set1_ps(k[0]), rho = _mm256_set1_ps(k[1]), c = _mm256_set1_ps(k[2]);
    __m256 eps = _mm256_set1_ps(k[4]);
    long i = 0;
    for (; i + 8 <= n; i += 8) {
        __m256 gi = _mm256_loadu_ps(g + i);
        __m256 hi = _mm256_add_ps(_mm256_mul_ps(rho, _mm256_loadu_ps(ms + i)),
                                  _mm256_mul_ps(c, _mm256_mul_ps(gi, gi)));
        __m256 step = _mm256_div_ps(_mm256_mul_ps(lr, gi), _mm256_add_ps(_mm256_sqrt_ps(hi), eps));
        _mm256_storeu_ps(ms + i, hi);
        _mm256_storeu_ps(w + i, _mm256_sub_ps(_mm256_loadu_ps(w + i), step));
    }
    return i;
}

/* keras SGD without momentum, w -= lr g, and with (non-Nesterov) momentum,
 * v = m v - lr g; w += v: the scalar loops' operations lane by lane. */
__attribute__((target("avx2")))
static long keras_sgd_avx2(const float *k, float *w, const float *g, float *v, long n)
{
    __m256 lr = _mm256_set1_ps(k[0]), m = _mm256_set1_ps(k[1]);
    long i = 0;
    if (k[1] == 0.0f) {
        for (; i + 8 <= n; i += 8)
            _mm256_storeu_ps(w + i, _mm256_sub_ps(_mm256_loadu_ps(w + i),
                                                  _mm256_mul_ps(lr, _mm256_loadu_ps(g + i))));
    } else if (k[2] == 0.0f) {
        for (; i + 8 <= n; i += 8) {
            __m256 vi = _mm256_sub_ps(_mm256_mul_ps(m, _mm256_loadu_ps(v + i)),
                                      _mm256_mul_ps(lr, _mm256_loadu_ps(g + i)));
            _mm256_storeu_ps(v + i, vi);
            _mm256_storeu_ps(w + i, _mm256_add_ps(_mm256_loadu_ps(w + i), vi));
        }
    }
    return i;
}

/* AVX2 is used when the CPU has it and MLP_SIMD does not ask for scalar
 * (the results are the same either way; the switch lets tests prove it).
 * rt_cpu_simd() reads the environment once, not on every step. */
static bool use_avx2(void) { return rt_cpu_simd() >= RT_SIMD_AVX2; }
#elif defined(__aarch64__)
/* aarch64: the same hooks run the NEON bodies of optimizers_neon.c (same
 * operations, same order, four lanes); MLP_SIMD=scalar turns them off. */
#include "neon.h"
static long keras_adam_avx2(const float *k, float *w, const float *g, float *m, float *v, long n)
{
    return rt_neon_keras_adam(k, w, g, m, v, n);
}
static long keras_rmsprop_avx2(const float *k, float *w, const float *g, float *ms, long n)
{
    return rt_neon_keras_rmsprop(k, w, g, ms, n);
}
static long keras_sgd_avx2(const float *k, float *w, const float *g, float *v, long n)
{
    return rt_neon_keras_sgd(k, w, g, v, n);
}
static bool use_avx2(void) { return rt_cpu_simd() == RT_SIMD_NEON; }
#else
static long keras_adam_avx2(const float *k, float *w, const float *g, float *m, float *v, long n)
{
    (void)k; (void)w; (void)g; (void)m; (void)v; (void)n;
    return 0;
}
static long keras_rmsprop_avx2(const float *k, float *w, const float *g, float *ms, long n)
{
    (void)k; (void)w; (void)g; (void)ms; (void)n;
    return 0;
}
static long keras_sgd_avx2(const float *k, float *w, const float *g, float *v, long n)
{
    (void)k; (void)w; (void)g; (void)v; (void)n;
    return 0;
}
static bool use_avx2(void) { return false; }
#endif

/* ---- SGD and Momentum --------------------------------------------------- */

enum { KSGD_LR, KSGD_MOMENTUM, KSGD_NESTEROV };
static void keras_sgd_coef(const double *h, long t, double *acc, float *k)
{
    (void)t; (void)acc;
    k[0] = (float)h[KSGD_LR]; k[1] = (float)h[KSGD_MOMENTUM]; k[2] = (float)h[KSGD_NESTEROV];
}
/* keras SGD:  m = 0:  w -= lr g
 *             else:   s0 = m s0 - lr g;  w += s0   (nesterov: w += m s0 - lr g) */
static void keras_sgd_update(const float *k, float *w, const float *g, float *const *s, long n)
{
    float lr = k[0], m = k[1];
    float *v = s[0];
    long i0 = use_avx2() ? keras_sgd_avx2(k, w, g, v, n) : 0;
    if (m == 0.0f) {
        for (long i = i0; i < n; i++) w[i] -= lr * g[i];
    } else if (k[2] != 0.0f) {
        for (long i = i0; i < n; i++) {
            v[i] = m * v[i] - lr * g[i];
            w[i] += m * v[i] - lr * g[i];
        }
    } else {
        for (long i = i0; i < n; i++) {
            v[i] = m * v[i] - lr * g[i];
            w[i] += v[i];
        }
    }
}

enum { TSGD_LR, TSGD_MOMENTUM, TSGD_DAMPENING, TSGD_NESTEROV, TSGD_WD };
static void torch_sgd_coef(const double *h, long t, double *acc, float *k)
{
    (void)acc;
    k[0] = (float)h[TSGD_LR]; k[1] = (float)h[TSGD_MOMENTUM];
    k[2] = (float)(1.0 - h[TSGD_DAMPENING]); k[3] = (float)h[TSGD_NESTEROV];
    k[4] = (float)h[TSGD_WD]; k[5] = t == 1 ? 1.0f : 0.0f;
}
/* torch SGD:  d = g + wd w;  if mu != 0: s0 = (first step ? d : mu s0 + (1-dampening) d),
 *             d = nesterov ? d + mu s0 : s0;   w -= lr d */
static void torch_sgd_update(const float *k, float *w, const float *g, float *const *s, long n)
{
    float lr = k[0], mu = k[1], undamp = k[2], wd = k[4];
    bool nesterov = k[3] != 0.0f, first = k[5] != 0.0f;
    float *b = s[0];
    for (long i = 0; i < n; i++) {
        float d = g[i] + wd * w[i];
        if (mu != 0.0f) {
            b[i] = first ? d : mu * b[i] + undamp * d;
            d = nesterov ? d + mu * b[i] : b[i];
        }
        w[i] -= lr * d;
    }
}

/* ---- AdaGrad ------------------------------------------------------------ */

enum { KADAGRAD_LR, KADAGRAD_INIT, KADAGRAD_EPS };
static void keras_adagrad_coef(const double *h, long t, double *acc, float *k)
{
    (void)t; (void)acc;
    k[0] = (float)h[KADAGRAD_LR]; k[1] = (float)h[KADAGRAD_EPS]; k[2] = 0.0f; k[3] = 0.0f;
}
enum { TADAGRAD_LR, TADAGRAD_LR_DECAY, TADAGRAD_WD, TADAGRAD_INIT, TADAGRAD_EPS };
static void torch_adagrad_coef(const double *h, long t, double *acc, float *k)
{
    (void)acc;
    k[0] = (float)(h[TADAGRAD_LR] / (1.0 + (double)(t - 1) * h[TADAGRAD_LR_DECAY]));
    k[1] = (float)h[TADAGRAD_EPS]; k[2] = (float)h[TADAGRAD_WD];
}
/* AdaGrad (both dialects; keras has wd = 0, s0 starting at 0.1):
 *   d = g + wd w;  s0 += d^2;  w -= lr d / (sqrt(s0) + eps) */
static void adagrad_update(const float *k, float *w, const float *g, float *const *s, long n)
{
    float lr = k[0], eps = k[1], wd = k[2];
    float *h = s[0];
    for (long i = 0; i < n; i++) {
        float d = g[i] + wd * w[i];
        h[i] += d * d;
        w[i] -= lr * d / (sqrtf(h[i]) + eps);
    }
}

/* ---- RMSprop ------------------------------------------------------------ */

enum { KRMS_LR, KRMS_RHO, KRMS_MOMENTUM, KRMS_EPS, KRMS_CENTERED };
static void keras_rmsprop_coef(const double *h, long t, double *acc, float *k)
{
    (void)t; (void)acc;
    k[0] = (float)h[KRMS_LR]; k[1] = (float)h[KRMS_RHO]; k[2] = (float)(1.0 - h[KRMS_RHO]);
    k[3] = (float)h[KRMS_MOMENTUM]; k[4] = (float)h[KRMS_EPS]; k[5] = (float)h[KRMS_CENTERED];
}
/* keras RMSprop:  s0 = rho s0 + (1-rho) g^2;  den = s0  (centered: s2 = rho s2 + (1-rho) g,
 *                 den = s0 - s2^2)
 *   momentum = 0: w -= lr g / (sqrt(den) + eps)
 *   momentum > 0: s1 = momentum s1 + lr g / sqrt(den + eps);  w -= s1
 * (with momentum Keras calls TF's fused ApplyRMSProp, which puts eps inside
 * the root; we follow it.) */
static void keras_rmsprop_update(const float *k, float *w, const float *g, float *const *s, long n)
{
    float lr = k[0], rho = k[1], one_m_rho = k[2], mom = k[3], eps = k[4];
    bool centered = k[5] != 0.0f;
    float *ms = s[0], *mo = s[1], *mg = s[2];
    if (!centered && mom == 0.0f) {          /* the common case, kept branch-free */
        long i0 = use_avx2() ? keras_rmsprop_avx2(k, w, g, ms, n) : 0;
        for (long i = i0; i < n; i++) {
            ms[i] = rho * ms[i] + one_m_rho * (g[i] * g[i]);
            w[i] -= lr * g[i] / (sqrtf(ms[i]) + eps);
        }
        return;
    }
    for (long i = 0; i < n; i++) {
        ms[i] = rho * ms[i] + one_m_rho * (g[i] * g[i]);
        float den = ms[i];
        if (centered) {
            mg[i] = rho * mg[i] + one_m_rho * g[i];
            den = ms[i] - mg[i] * mg[i];
        }
        if (mom != 0.0f) {
            mo[i] = mom * mo[i] + lr * g[i] / sqrtf(den + eps);
            w[i] -= mo[i];
        } else {
            w[i] -= lr * g[i] / (sqrtf(den) + eps);
        }
    }
}

enum { TRMS_LR, TRMS_ALPHA, TRMS_EPS, TRMS_WD, TRMS_MOMENTUM, TRMS_CENTERED };
static void torch_rmsprop_coef(const double *h, long t, double *acc, float *k)
{
    (void)t; (void)acc;
    k[0] = (float)h[TRMS_LR]; k[1] = (float)h[TRMS_ALPHA]; k[2] = (float)(1.0 - h[TRMS_ALPHA]);
    k[3] = (float)h[TRMS_MOMENTUM]; k[4] = (float)h[TRMS_EPS]; k[5] = (float)h[TRMS_CENTERED];
    k[6] = (float)h[TRMS_WD];
}
/* torch RMSprop:  d = g + wd w;  s0 = alpha s0 + (1-alpha) d^2;
 *   avg = sqrt(s0) + eps  (centered: s2 = alpha s2 + (1-alpha) d, avg = sqrt(s0 - s2^2) + eps)
 *   momentum > 0: s1 = momentum s1 + d / avg;  w -= lr s1
 *   else:         w -= lr d / avg */
static void torch_rmsprop_update(const float *k, float *w, const float *g, float *const *s, long n)
{
    float lr = k[0], al = k[1], one_m_al = k[2], mom = k[3], eps = k[4], wd = k[6];
    bool centered = k[5] != 0.0f;
    float *v = s[0], *buf = s[1], *ga = s[2];
    for (long i = 0; i < n; i++) {
        float d = g[i] + wd * w[i];
        v[i] = al * v[i] + one_m_al * (d * d);
        float avg;
        if (centered) {
            ga[i] = al * ga[i] + one_m_al * d;
            avg = sqrtf(v[i] - ga[i] * ga[i]) + eps;
        } else {
            avg = sqrtf(v[i]) + eps;
        }
        if (mom != 0.0f) {
            buf[i] = mom * buf[i] + d / avg;
            w[i] -= lr * buf[i];
        } else {
            w[i] -= lr * d / avg;
        }
    }
}

/* ---- Adam and AdamW ----------------------------------------------------- */


enum { KADAM_LR, KADAM_B1, KADAM_B2, KADAM_EPS };
static void keras_adam_coef(const double *h, long t, double *acc, float *k)
{
    (void)acc;
    double b1 = h[KADAM_B1], b2 = h[KADAM_B2];
    k[0] = (float)(h[KADAM_LR] * sqrt(1.0 - rt_powi(b2, t)) / (1.0 - rt_powi(b1, t)));
    k[1] = (float)b1; k[2] = (float)(1.0 - b1); k[3] = (float)b2; k[4] = (float)(1.0 - b2);
    k[5] = (float)h[KADAM_EPS]; k[6] = 0.0f;
}
enum { KADAMW_LR, KADAMW_WD, KADAMW_B1, KADAMW_B2, KADAMW_EPS };
static void keras_adamw_coef(const double *h, long t, double *acc, float *k)
{
    double ah[] = {h[KADAMW_LR], h[KADAMW_B1], h[KADAMW_B2], h[KADAMW_EPS]};
    keras_adam_coef(ah, t, acc, k);
    k[6] = (float)(h[KADAMW_LR] * h[KADAMW_WD]);
}
/* keras Adam (AdamW: first w -= lr wd w, Keras 2.11's decoupled decay):
 *   lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)
 *   s0 = b1 s0 + (1-b1) g;  s1 = b2 s1 + (1-b2) g^2;  w -= lr_t s0 / (sqrt(s1) + eps) */
static void keras_adam_update(const float *k, float *w, const float *g, float *const *s, long n)
{
    float lr_t = k[0], b1 = k[1], c1 = k[2], b2 = k[3], c2 = k[4], eps = k[5], lrwd = k[6];
    float *m = s[0], *v = s[1];
    if (lrwd != 0.0f)
        for (long i = 0; i < n; i++) w[i] -= lrwd * w[i];
    long i0 = use_avx2() ? keras_adam_avx2(k, w, g, m, v, n) : 0;
    for (long i = i0; i < n; i++) {
        m[i] = b1 * m[i] + c1 * g[i];
        v[i] = b2 * v[i] + c2 * (g[i] * g[i]);
        w[i] -= lr_t * m[i] / (sqrtf(v[i]) + eps);
    }
}

enum { TADAM_LR, TADAM_B1, TADAM_B2, TADAM_EPS, TADAM_WD };
static void torch_adam_coef(const double *h, long t, double *acc, float *k)
{
    (void)acc;
    double b1 = h[TADAM_B1], b2 = h[TADAM_B2];
    k[0] = (float)(h[TADAM_LR] / (1.0 - rt_powi(b1, t)));
    k[1] = (float)b1; k[2] = (float)(1.0 - b1); k[3] = (float)b2; k[4] = (float)(1.0 - b2);
    k[5] = (float)h[TADAM_EPS]; k[6] = (float)sqrt(1.0 - rt_powi(b2, t));
    k[7] = (float)h[TADAM_WD];          /* L2: added to the gradient */
}
enum { TADAMW_LR, TADAMW_B1, TADAMW_B2, TADAMW_EPS, TADAMW_WD };
static void torch_adamw_coef(const double *h, long t, double *acc, float *k)
{
    double ah[] = {h[TADAMW_LR], h[TADAMW_B1], h[TADAMW_B2], h[TADAMW_EPS], 0.0};
    torch_adam_coef(ah, t, acc, k);
    k[7] = -(float)(h[TADAMW_LR] * h[TADAMW_WD]);   /* < 0 marks decoupled decay */
}
/* torch Adam:   d = g + wd w;  s0 = b1 s0 + (1-b1) d;  s1 = b2 s1 + (1-b2) d^2
 *               w -= (lr / (1-b1^t)) s0 / (sqrt(s1) / sqrt(1-b2^t) + eps)
 * torch AdamW:  w *= 1 - lr wd first, then the same with d = g. */
static void torch_adam_update(const float *k, float *w, const float *g, float *const *s, long n)
{
    float step = k[0], b1 = k[1], c1 = k[2], b2 = k[3], c2 = k[4], eps = k[5], sbc2 = k[6];
    float wd = k[7] > 0.0f ? k[7] : 0.0f, decay = k[7] < 0.0f ? 1.0f + k[7] : 1.0f;
    float *m = s[0], *v = s[1];
    for (long i = 0; i < n; i++) {
        if (decay != 1.0f) w[i] *= decay;
        float d = g[i] + wd * w[i];
        m[i] = b1 * m[i] + c1 * d;
        v[i] = b2 * v[i] + c2 * (d * d);
        w[i] -= step * m[i] / (sqrtf(v[i]) / sbc2 + eps);
    }
}

/* ---- Nadam -------------------------------------------------------------- */

/* The momentum schedule of Dozat's Nadam as Keras and PyTorch use it:
 * mu_t = b1 (1 - 0.5 * 0.96^(decay t)), decay 0.004 (ln 0.96 below). */
static double nadam_mu(double b1, double decay, long t)
{
    return b1 * (1.0 - 0.5 * (double)rt_expf((float)(decay * (double)t * -0.040821994520255166)));
}

enum { KNADAM_LR, KNADAM_B1, KNADAM_B2, KNADAM_EPS };
static void keras_nadam_coef(const double *h, long t, double *acc, float *k)
{
    double b1 = h[KNADAM_B1], b2 = h[KNADAM_B2];
    double mu_t = nadam_mu(b1, 0.004, t), mu_next = nadam_mu(b1, 0.004, t + 1);
    if (t == 1) acc[0] = 1.0;                      /* Keras's m_cache starts at 1 */
    double sched_new = acc[0] * mu_t, sched_next = sched_new * mu_next;
    acc[0] = sched_new;
    k[0] = (float)h[KNADAM_LR]; k[1] = (float)b1; k[2] = (float)(1.0 - b1);
    k[3] = (float)b2; k[4] = (float)(1.0 - b2); k[5] = (float)h[KNADAM_EPS];
    k[6] = (float)((1.0 - mu_t) / (1.0 - sched_new));
    k[7] = (float)(mu_next / (1.0 - sched_next));
    k[8] = (float)(1.0 / (1.0 - rt_powi(b2, t)));
}
/* keras Nadam (P_t = mu_1 ... mu_t):  s0 = b1 s0 + (1-b1) g;  s1 = b2 s1 + (1-b2) g^2
 *   m_bar = (1-mu_t)/(1-P_t) g + mu_{t+1}/(1-P_{t+1}) s0
 *   w -= lr m_bar / (sqrt(s1 / (1 - b2^t)) + eps) */
static void keras_nadam_update(const float *k, float *w, const float *g, float *const *s, long n)
{
    float lr = k[0], b1 = k[1], c1 = k[2], b2 = k[3], c2 = k[4], eps = k[5];
    float cg = k[6], cm = k[7], vcorr = k[8];
    float *m = s[0], *v = s[1];
    for (long i = 0; i < n; i++) {
        m[i] = b1 * m[i] + c1 * g[i];
        v[i] = b2 * v[i] + c2 * (g[i] * g[i]);
        float mbar = cg * g[i] + cm * m[i];
        w[i] -= lr * mbar / (sqrtf(v[i] * vcorr) + eps);
    }
}

enum { TNADAM_LR, TNADAM_B1, TNADAM_B2, TNADAM_EPS, TNADAM_WD, TNADAM_MDECAY };
static void torch_nadam_coef(const double *h, long t, double *acc, float *k)
{
    double b1 = h[TNADAM_B1], b2 = h[TNADAM_B2], lr = h[TNADAM_LR];
    double mu_t = nadam_mu(b1, h[TNADAM_MDECAY], t), mu_next = nadam_mu(b1, h[TNADAM_MDECAY], t + 1);
    if (t == 1) acc[0] = 1.0;                      /* torch's mu_product starts at 1 */
    acc[0] *= mu_t;
    k[0] = (float)(lr * (1.0 - mu_t) / (1.0 - acc[0]));
    k[1] = (float)b1; k[2] = (float)(1.0 - b1); k[3] = (float)b2; k[4] = (float)(1.0 - b2);
    k[5] = (float)h[TNADAM_EPS];
    k[6] = (float)(lr * mu_next / (1.0 - acc[0] * mu_next));
    k[7] = (float)(1.0 / (1.0 - rt_powi(b2, t)));
    k[8] = (float)h[TNADAM_WD];
}
/* torch NAdam:  d = g + wd w;  s0 = b1 s0 + (1-b1) d;  s1 = b2 s1 + (1-b2) d^2
 *   den = sqrt(s1 / (1 - b2^t)) + eps
 *   w -= lr (1-mu_t)/(1-P_t) d / den + lr mu_{t+1}/(1-P_t mu_{t+1}) s0 / den */
static void torch_nadam_update(const float *k, float *w, const float *g, float *const *s, long n)
{
    float cg = k[0], b1 = k[1], c1 = k[2], b2 = k[3], c2 = k[4], eps = k[5];
    float cm = k[6], vcorr = k[7], wd = k[8];
    float *m = s[0], *v = s[1];
    for (long i = 0; i < n; i++) {
        float d = g[i] + wd * w[i];
        m[i] = b1 * m[i] + c1 * d;
        v[i] = b2 * v[i] + c2 * (d * d);
        float den = sqrtf(v[i] * vcorr) + eps;
        w[i] -= cg * d / den;
        w[i] -= cm * m[i] / den;
    }
}

/* ---- Adadelta ----------------------------------------------------------- */

enum { ADADELTA_LR, ADADELTA_RHO, ADADELTA_EPS, ADADELTA_WD };
static void adadelta_coef(const double *h, long t, double *acc, float *k)
{
    (void)t; (void)acc;
    k[0] = (float)h[ADADELTA_LR]; k[1] = (float)h[ADADELTA_RHO];
    k[2] = (float)(1.0 - h[ADADELTA_RHO]); k[3] = (float)h[ADADELTA_EPS];
    k[4] = 0.0f;
}
static void torch_adadelta_coef(const double *h, long t, double *acc, float *k)
{
    adadelta_coef(h, t, acc, k);
    k[4] = (float)h[ADADELTA_WD];
}
/* Adadelta (Zeiler; both dialects, keras with wd = 0; eps sits inside both
 * roots by the method's definition):
 *   d = g + wd w;  s0 = rho s0 + (1-rho) d^2
 *   u = sqrt(s1 + eps) / sqrt(s0 + eps) d;  s1 = rho s1 + (1-rho) u^2;  w -= lr u */
static void adadelta_update(const float *k, float *w, const float *g, float *const *s, long n)
{
    float lr = k[0], rho = k[1], c = k[2], eps = k[3], wd = k[4];
    float *acc = s[0], *accu = s[1];
    for (long i = 0; i < n; i++) {
        float d = g[i] + wd * w[i];
        acc[i] = rho * acc[i] + c * (d * d);
        float u = sqrtf(accu[i] + eps) / sqrtf(acc[i] + eps) * d;
        accu[i] = rho * accu[i] + c * (u * u);
        w[i] -= lr * u;
    }
}

/* ---- Lion --------------------------------------------------------------- */

enum { LION_LR, LION_B1, LION_B2, LION_WD };
static void lion_coef(const double *h, long t, double *acc, float *k)
{
    (void)t; (void)acc;
    k[0] = (float)h[LION_LR]; k[1] = (float)h[LION_B1]; k[2] = (float)(1.0 - h[LION_B1]);
    k[3] = (float)h[LION_B2]; k[4] = (float)(1.0 - h[LION_B2]);
    k[5] = 1.0f;
}
static void torch_lion_coef(const double *h, long t, double *acc, float *k)
{
    lion_coef(h, t, acc, k);
    k[5] = (float)(1.0 - h[LION_LR] * h[LION_WD]);
}
/* Lion (Chen et al. 2023; keras.optimizers.Lion in Keras 3, and the
 * authors' PyTorch code with its decoupled weight decay):
 *   w *= 1 - lr wd  (torch; keras has no decay)
 *   c = b1 s0 + (1-b1) g;  w -= lr sign(c);  s0 = b2 s0 + (1-b2) g
 * sign(0) = 0, and a NaN stays NaN (so divergence is seen). */
static void lion_update(const float *k, float *w, const float *g, float *const *s, long n)
{
    float lr = k[0], b1 = k[1], c1 = k[2], b2 = k[3], c2 = k[4], decay = k[5];
    float *m = s[0];
    for (long i = 0; i < n; i++) {
        if (decay != 1.0f) w[i] *= decay;
        float c = b1 * m[i] + c1 * g[i];
        w[i] -= lr * (c > 0.0f ? 1.0f : c < 0.0f ? -1.0f : c);
        m[i] = b2 * m[i] + c2 * g[i];
    }
}

/* ---- the table ----------------------------------------------------------- */

/* Hyperparameters several rows share, with their docs. */
#define LR(x)       {"lr", x, "learning rate (step size)", false}
#define EPS(x)      {"eps", x, "added to the denominator so it is never 0", false}
#define BETA1(x)    {"beta1", x, "decay rate of the running mean of g (first moment)", false}
#define BETA2(x)    {"beta2", x, "decay rate of the running mean of g^2 (second moment)", false}
#define MOMENTUM(x) {"momentum", x, "momentum factor (0: none)", false}
#define NESTEROV    {"nesterov", 0, "use Nesterov momentum", true}
#define CENTERED    {"centered", 0, "normalise by the centred second moment (its variance)", true}
#define L2(x)       {"weight_decay", x, "L2 penalty: weight_decay*w is added to g", false}
#define DECOUPLED(x) {"weight_decay", x, "decoupled decay: w *= 1 - lr*weight_decay first", false}

static const optim_row table[] = {
    /* keras: tf.keras 2.x (optimizer_v2) defaults, AdamW as Keras 2.11
     * defines it; torch: torch.optim defaults (SGD's lr as in torch >= 2.2;
     * Momentum = SGD with momentum 0.9). */
    {"SGD", "stochastic gradient descent, with optional (Nesterov) momentum", {
        [RT_DIALECT_KERAS] = {{LR(0.01), MOMENTUM(0), NESTEROV}, 1, NULL,
            "momentum = 0: w -= lr*g\n"
            "else: v = momentum*v - lr*g; w += v  (nesterov: w += momentum*v - lr*g)",
            keras_sgd_coef, keras_sgd_update},
        [RT_DIALECT_TORCH] = {{LR(0.001), MOMENTUM(0),
                {"dampening", 0, "dampening of the momentum: b = momentum*b + (1-dampening)*d", false},
                NESTEROV, L2(0)}, 1, NULL,
            "d = g + weight_decay*w\n"
            "momentum != 0: b = (first step ? d : momentum*b + (1-dampening)*d); "
            "d = nesterov ? d + momentum*b : b\n"
            "w -= lr*d",
            torch_sgd_coef, torch_sgd_update}}},
    {"Momentum", "SGD with momentum 0.9 (classical momentum)", {
        [RT_DIALECT_KERAS] = {{LR(0.01), MOMENTUM(0.9), NESTEROV}, 1, NULL,
            "momentum = 0: w -= lr*g\n"
            "else: v = momentum*v - lr*g; w += v  (nesterov: w += momentum*v - lr*g)",
            keras_sgd_coef, keras_sgd_update},
        [RT_DIALECT_TORCH] = {{LR(0.001), MOMENTUM(0.9),
                {"dampening", 0, "dampening of the momentum: b = momentum*b + (1-dampening)*d", false},
                NESTEROV, L2(0)}, 1, NULL,
            "d = g + weight_decay*w\n"
            "momentum != 0: b = (first step ? d : momentum*b + (1-dampening)*d); "
            "d = nesterov ? d + momentum*b : b\n"
            "w -= lr*d",
            torch_sgd_coef, torch_sgd_update}}},
    {"AdaGrad", "per-weight step sizes shrinking with the sum of squared gradients (Duchi et al. 2011)", {
        [RT_DIALECT_KERAS] = {{LR(0.001),
                {"initial_accumulator", 0.1, "starting value of the sum of squares h", false},
                EPS(1e-7)}, 1, "initial_accumulator",
            "h += g^2  (h starts at initial_accumulator)\n"
            "w -= lr*g / (sqrt(h) + eps)",
            keras_adagrad_coef, adagrad_update},
        [RT_DIALECT_TORCH] = {{LR(0.01),
                {"lr_decay", 0, "step t uses lr / (1 + (t-1)*lr_decay)", false}, L2(0),
                {"initial_accumulator", 0, "starting value of the sum of squares h", false},
                EPS(1e-10)}, 1, "initial_accumulator",
            "d = g + weight_decay*w; clr = lr / (1 + (t-1)*lr_decay)\n"
            "h += d^2  (h starts at initial_accumulator)\n"
            "w -= clr*d / (sqrt(h) + eps)",
            torch_adagrad_coef, adagrad_update}}},
    {"RMSprop", "steps divided by a running root mean square of the gradient (Hinton 2012)", {
        [RT_DIALECT_KERAS] = {{LR(0.001),
                {"rho", 0.9, "decay rate of the running mean of g^2", false},
                MOMENTUM(0), EPS(1e-7), CENTERED}, 3, NULL,
            "h = rho*h + (1-rho)*g^2  (centered: den = h - mg^2, "
            "mg = rho*mg + (1-rho)*g; else den = h)\n"
            "momentum = 0: w -= lr*g / (sqrt(den) + eps)\n"
            "else: v = momentum*v + lr*g / sqrt(den + eps); w -= v",
            keras_rmsprop_coef, keras_rmsprop_update},
        [RT_DIALECT_TORCH] = {{LR(0.01),
                {"alpha", 0.99, "decay rate of the running mean of d^2", false},
                EPS(1e-8), L2(0), MOMENTUM(0), CENTERED}, 3, NULL,
            "d = g + weight_decay*w; h = alpha*h + (1-alpha)*d^2\n"
            "avg = sqrt(h) + eps  (centered: mg = alpha*mg + (1-alpha)*d, "
            "avg = sqrt(h - mg^2) + eps)\n"
            "momentum > 0: b = momentum*b + d/avg; w -= lr*b\n"
            "else: w -= lr*d/avg",
            torch_rmsprop_coef, torch_rmsprop_update}}},
    {"Adam", "bias-corrected running first and second moments (Kingma and Ba 2015)", {
        [RT_DIALECT_KERAS] = {{LR(0.001), BETA1(0.9), BETA2(0.999), EPS(1e-7)}, 2, NULL,
            "t += 1; m = beta1*m + (1-beta1)*g; v = beta2*v + (1-beta2)*g^2\n"
            "w -= lr*sqrt(1-beta2^t)/(1-beta1^t) * m / (sqrt(v) + eps)",
            keras_adam_coef, keras_adam_update},
        [RT_DIALECT_TORCH] = {{LR(0.001), BETA1(0.9), BETA2(0.999), EPS(1e-8), L2(0)}, 2, NULL,
            "d = g + weight_decay*w; m = beta1*m + (1-beta1)*d; "
            "v = beta2*v + (1-beta2)*d^2\n"
            "w -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)",
            torch_adam_coef, torch_adam_update}}},
    {"AdamW", "Adam with decoupled weight decay (Loshchilov and Hutter 2019)", {
        [RT_DIALECT_KERAS] = {{LR(0.001),
                {"weight_decay", 0.004, "decoupled decay: w -= lr*weight_decay*w first", false},
                BETA1(0.9), BETA2(0.999), EPS(1e-7)}, 2, NULL,
            "w -= lr*weight_decay*w; then as Adam:\n"
            "t += 1; m = beta1*m + (1-beta1)*g; v = beta2*v + (1-beta2)*g^2\n"
            "w -= lr*sqrt(1-beta2^t)/(1-beta1^t) * m / (sqrt(v) + eps)",
            keras_adamw_coef, keras_adam_update},
        [RT_DIALECT_TORCH] = {{LR(0.001), BETA1(0.9), BETA2(0.999), EPS(1e-8),
                DECOUPLED(0.01)}, 2, NULL,
            "w *= 1 - lr*weight_decay; m = beta1*m + (1-beta1)*g; "
            "v = beta2*v + (1-beta2)*g^2\n"
            "w -= lr/(1-beta1^t) * m / (sqrt(v)/sqrt(1-beta2^t) + eps)",
            torch_adamw_coef, torch_adam_update}}},
    {"Nadam", "Adam with Nesterov momentum and Dozat's momentum schedule (Dozat 2016)", {
        [RT_DIALECT_KERAS] = {{LR(0.001), BETA1(0.9), BETA2(0.999), EPS(1e-7)}, 2, NULL,
            "mu_t = beta1*(1 - 0.5*0.96^(0.004*t)); P_t = mu_1*...*mu_t\n"
            "m = beta1*m + (1-beta1)*g; v = beta2*v + (1-beta2)*g^2\n"
            "m_bar = (1-mu_t)/(1-P_t)*g + mu_(t+1)/(1-P_(t+1))*m\n"
            "w -= lr*m_bar / (sqrt(v/(1-beta2^t)) + eps)",
            keras_nadam_coef, keras_nadam_update},
        [RT_DIALECT_TORCH] = {{LR(0.002), BETA1(0.9), BETA2(0.999), EPS(1e-8), L2(0),
                {"momentum_decay", 0.004, "mu_t = beta1*(1 - 0.5*0.96^(momentum_decay*t))", false}},
            2, NULL,
            "mu_t = beta1*(1 - 0.5*0.96^(momentum_decay*t)); P_t = mu_1*...*mu_t\n"
            "d = g + weight_decay*w; m = beta1*m + (1-beta1)*d; "
            "v = beta2*v + (1-beta2)*d^2\n"
            "den = sqrt(v/(1-beta2^t)) + eps\n"
            "w -= lr*(1-mu_t)/(1-P_t)*d/den + lr*mu_(t+1)/(1-P_t*mu_(t+1))*m/den",
            torch_nadam_coef, torch_nadam_update}}},
    {"Adadelta", "steps scaled by running means of squared gradients and updates (Zeiler 2012)", {
        [RT_DIALECT_KERAS] = {{LR(0.001),
                {"rho", 0.95, "decay rate of both running means", false}, EPS(1e-7)}, 2, NULL,
            "s = rho*s + (1-rho)*g^2; u = sqrt(d + eps)/sqrt(s + eps) * g\n"
            "d = rho*d + (1-rho)*u^2; w -= lr*u",
            adadelta_coef, adadelta_update},
        [RT_DIALECT_TORCH] = {{LR(1.0),
                {"rho", 0.9, "decay rate of both running means", false}, EPS(1e-6), L2(0)},
            2, NULL,
            "d = g + weight_decay*w; s = rho*s + (1-rho)*d^2\n"
            "u = sqrt(a + eps)/sqrt(s + eps) * d; a = rho*a + (1-rho)*u^2; "
            "w -= lr*u",
            torch_adadelta_coef, adadelta_update}}},
    {"Lion", "the sign of an interpolated momentum, one state slot (Chen et al. 2023)", {
        [RT_DIALECT_KERAS] = {{LR(0.001),
                {"beta1", 0.9, "weight of the momentum against g in the step's sign", false},
                {"beta2", 0.99, "decay rate of the momentum m", false}}, 1, NULL,
            "c = beta1*m + (1-beta1)*g; w -= lr*sign(c)  (sign(0) = 0)\n"
            "m = beta2*m + (1-beta2)*g",
            lion_coef, lion_update},
        [RT_DIALECT_TORCH] = {{LR(1e-4),
                {"beta1", 0.9, "weight of the momentum against g in the step's sign", false},
                {"beta2", 0.99, "decay rate of the momentum m", false}, DECOUPLED(0)}, 1, NULL,
            "w *= 1 - lr*weight_decay\n"
            "c = beta1*m + (1-beta1)*g; w -= lr*sign(c)  (sign(0) = 0)\n"
            "m = beta2*m + (1-beta2)*g",
            torch_lion_coef, lion_update}}},
};
enum { NROWS = sizeof table / sizeof table[0] };

static const char *const dialect_names[RT_DIALECT_COUNT] = {"keras", "torch"};

const char *rt_optim_rule(const rt_optim *o)
{
    return o->v->rule ? o->v->rule : "(no formula recorded)";
}

const char *rt_dialect_name(rt_dialect d) { return dialect_names[d]; }
int rt_optim_count(void) { return NROWS; }
const char *rt_optim_table_name(int i) { return table[i].name; }
const char *rt_optim_table_doc(int i) { return table[i].doc; }
bool rt_optim_table_has(int i, rt_dialect d) { return table[i].dialect[d].coef != NULL; }

/* The names in the table, "SGD, Momentum, ..." (static). */
static const char *known_names(void)
{
    static char buf[512];
    if (!buf[0]) {
        size_t len = 0;
        for (int i = 0; i < NROWS && len < sizeof buf; i++)
            len += (size_t)snprintf(buf + len, sizeof buf - len, "%s%s", i ? ", " : "",
                                    table[i].name);
    }
    return buf;
}

rt_optim *rt_optim_create(const char *name, const char *dialect, rt_error *err)
{
    rt_dialect d = RT_DIALECT_KERAS;
    if (dialect) {
        int i = 0;
        while (i < RT_DIALECT_COUNT && strcasecmp(dialect, dialect_names[i]) != 0) i++;
        if (i == RT_DIALECT_COUNT)
            return rt_fail(err, "optimizer %s: unknown dialect '%s' (use \"keras\" or \"torch\")",
                           name ? name : "?", dialect), NULL;
        d = (rt_dialect)i;
    }
    const optim_row *row = NULL;
    for (int i = 0; i < NROWS && !row; i++)
        if (name && strcasecmp(name, table[i].name) == 0) row = &table[i];
    if (!row)
        return rt_fail(err, "unknown optimizer '%s' (known: %s)", name ? name : "(null)",
                       known_names()), NULL;
    if (!row->dialect[d].coef)
        return rt_fail(err, "optimizer %s has no %s dialect", row->name, dialect_names[d]), NULL;
    rt_optim *o = rt_alloc(sizeof *o);
    if (!o) return rt_fail(err, "optimizer %s: out of memory", row->name), NULL;
    o->row = row;
    o->dialect = d;
    o->v = &row->dialect[d];
    while (o->nhypers < MAX_HYPERS && o->v->hypers[o->nhypers].name) {
        o->h[o->nhypers] = o->v->hypers[o->nhypers].value;
        o->nhypers++;
    }
    return o;
}
void rt_optim_reset(rt_optim *o)
{
    if (o->slots)
        for (int i = 0; i < o->nparams * o->v->nslots; i++) rt_free(o->slots[i]);
    rt_free(o->slots);
    rt_free(o->sizes);
    o->slots = NULL;
    o->sizes = NULL;
    o->nparams = 0;
    o->t = 0;
    o->acc[0] = o->acc[1] = 0.0;
}

void rt_optim_free(rt_optim *o)
{
    if (!o) return;
    rt_optim_reset(o);
    if (o->custom && o->custom->release) o->custom->release(o->custom->ctx);
    rt_free(o->own_row);
    rt_free(o);
}

/* A user-defined optimizer gets a row of its own (name and hypers from
 * the definition, no table kernels), so every accessor works unchanged;
 * rt_optim_step calls the definition's step instead of the row's kernel. */
rt_optim *rt_optim_create_custom(const rt_optim_custom *def, rt_error *err)
{
    if (def->nhypers > MAX_HYPERS)
        return rt_fail(err, "optimizer %s: at most %d hyperparameters, got %d", def->name,
                       MAX_HYPERS, def->nhypers), NULL;
    rt_optim *o = rt_alloc(sizeof *o);
    optim_row *row = rt_alloc(sizeof *row);
    if (!o || !row) {
        rt_free(o);
        rt_free(row);
        return rt_fail(err, "optimizer %s: out of memory", def->name), NULL;
    }
    row->name = def->name;
    optim_variant *v = &row->dialect[RT_DIALECT_KERAS];
    for (int i = 0; i < def->nhypers; i++) {
        v->hypers[i].name = def->hyper_names[i];
        v->hypers[i].value = def->hyper_defaults[i];
        o->h[i] = def->hyper_defaults[i];
    }
    v->nslots = def->nslots;
    o->row = o->own_row = row;
    o->dialect = RT_DIALECT_KERAS;
    o->v = v;
    o->nhypers = def->nhypers;
    o->custom = def;
    if (def->retain) def->retain(def->ctx);
    return o;
}

const rt_optim_custom *rt_optim_custom_def(const rt_optim *o) { return o->custom; }

rt_optim *rt_optim_clone(const rt_optim *o, rt_error *err)
{
    if (o->custom) {
        rt_optim *u = rt_optim_create_custom(o->custom, err);
        if (u) memcpy(u->h, o->h, sizeof u->h);
        return u;
    }
    rt_optim *c = rt_optim_create(o->row->name, dialect_names[o->dialect], err);
    if (c) memcpy(c->h, o->h, sizeof c->h);
    return c;
}

const char *rt_optim_name(const rt_optim *o) { return o->row->name; }
const char *rt_optim_doc(const rt_optim *o) { return o->row->doc; }
rt_dialect rt_optim_dialect(const rt_optim *o) { return o->dialect; }
int rt_optim_nhypers(const rt_optim *o) { return o->nhypers; }
const char *rt_optim_hyper_name(const rt_optim *o, int i) { return o->v->hypers[i].name; }
bool rt_optim_hyper_is_bool(const rt_optim *o, int i) { return o->v->hypers[i].boolean; }
const char *rt_optim_hyper_doc(const rt_optim *o, int i) { return o->v->hypers[i].doc; }
double rt_optim_hyper_value(const rt_optim *o, int i) { return o->h[i]; }
long rt_optim_steps(const rt_optim *o) { return o->t; }

static int find_hyper(const rt_optim *o, const char *name)
{
    for (int i = 0; i < o->nhypers; i++)
        if (name && strcmp(name, o->v->hypers[i].name) == 0) return i;
    return -1;
}

bool rt_optim_set(rt_optim *o, const char *hyper, double value)
{
    int i = find_hyper(o, hyper);
    if (i < 0) return false;
    o->h[i] = o->v->hypers[i].boolean ? (value != 0.0) : value;
    return true;
}

bool rt_optim_get(const rt_optim *o, const char *hyper, double *value)
{
    int i = find_hyper(o, hyper);
    if (i < 0) return false;
    *value = o->h[i];
    return true;
}

/* Appends to buf like snprintf, counting the length it would need. */
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void put(char *buf, size_t size, size_t *len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int w = vsnprintf(*len < size ? buf + *len : NULL, *len < size ? size - *len : 0, fmt, ap);
    va_end(ap);
    if (w > 0) *len += (size_t)w;
}

size_t rt_optim_describe(const rt_optim *o, char *buf, size_t size)
{
    size_t len = 0;
    if (size) buf[0] = '\0';
    put(buf, size, &len, "%s(", o->row->name);
    for (int i = 0; i < o->nhypers; i++)
        if (o->v->hypers[i].boolean)
            put(buf, size, &len, "%s%s=%s", i ? ", " : "", o->v->hypers[i].name,
                o->h[i] != 0.0 ? "true" : "false");
        else
            put(buf, size, &len, "%s%s=%g", i ? ", " : "", o->v->hypers[i].name, o->h[i]);
    if (o->dialect != RT_DIALECT_KERAS)
        put(buf, size, &len, ", dialect=\"%s\"", dialect_names[o->dialect]);
    put(buf, size, &len, ")");
    return len;
}

/* Allocates the state slots on the first step, sized from the params. */
static bool allocate_state(rt_optim *o, rt_param *params, int n, rt_error *err)
{
    int ns = o->v->nslots;
    o->sizes = rt_alloc((size_t)n * sizeof *o->sizes);
    o->slots = rt_alloc((size_t)(n * ns + 1) * sizeof *o->slots);
    if (!o->sizes || !o->slots) goto oom;
    o->nparams = n;
    double init0 = 0.0;
    if (o->v->slot0_init) rt_optim_get(o, o->v->slot0_init, &init0);
    float init = (float)init0;
    for (int p = 0; p < n; p++) {
        o->sizes[p] = params[p].trainable ? params[p].size : 0;
        for (int s = 0; s < ns; s++) {
            float *a = rt_alloc((size_t)o->sizes[p] * sizeof(float));
            if (!a) goto oom;
            o->slots[p * ns + s] = a;
            if (o->custom && o->custom->slot_init)
                init = (float)o->custom->slot_init(o->custom->ctx, o->h, s);
            if ((s == 0 || o->custom) && init != 0.0f)
                for (long i = 0; i < o->sizes[p]; i++) a[i] = init;
        }
    }
    return true;
oom:
    rt_optim_reset(o);
    return rt_fail(err, "%s: out of memory for optimizer state", o->row->name);
}

/* A step split across a pool: the trainable values of all parameters, in
 * order, cut into chunks (whole blocks of STEP_BLOCK), each task updating
 * its chunk parameter by parameter. Every value's update reads and writes
 * that value's w, g and slots alone, so the cut changes no bit. */
enum {
    STEP_PAR_MIN = 16384,       /* values below which one thread is cheaper */
    STEP_BLOCK = 64,
    STEP_TASKS_PER_THREAD = 2,
};

typedef struct step_job {
    const rt_optim *o;
    const float *k;
    rt_param *params;
    int n;
    long chunk, total;
} step_job;

static void step_task(void *ctx, int t)
{
    const step_job *j = ctx;
    const rt_optim *o = j->o;
    int ns = o->v->nslots;
    long lo = (long)t * j->chunk, hi = lo + j->chunk < j->total ? lo + j->chunk : j->total;
    long at = 0;                        /* where parameter p starts in the concatenation */
    for (int p = 0; p < j->n && at < hi; p++) {
        const rt_param *q = &j->params[p];
        if (!q->trainable || q->size <= 0) continue;
        long a = lo > at ? lo - at : 0, b = hi - at < q->size ? hi - at : q->size;
        if (a < b) {
            float *sl[MAX_SLOTS];
            for (int s = 0; s < ns; s++) sl[s] = o->slots[p * ns + s] + a;
            o->v->update(j->k, q->w + a, q->g + a, sl, b - a);
        }
        at += q->size;
    }
}

bool rt_optim_step(rt_optim *o, rt_param *params, int n, rt_error *err)
{
    return rt_optim_step_pool(o, NULL, params, n, err);
}

bool rt_optim_step_pool(rt_optim *o, rt_pool *pool, rt_param *params, int n, rt_error *err)
{
    if (!o->slots && !allocate_state(o, params, n, err)) return false;
    if (n != o->nparams)
        return rt_fail(err, "%s: stepped with %d parameters, its state was made for %d "
                       "(reset the optimizer to train another model)", o->row->name, n, o->nparams);
    for (int p = 0; p < n; p++)
        if ((params[p].trainable ? params[p].size : 0) != o->sizes[p])
            return rt_fail(err, "%s: parameter %d (%s) has %ld values, its state has %ld "
                           "(reset the optimizer to train another model)", o->row->name, p,
                           params[p].name ? params[p].name : "?", params[p].size, o->sizes[p]);
    o->t++;
    if (o->custom) return o->custom->step(o->custom->ctx, o->h, o->t, params, n, o->slots, err);
    float k[MAX_COEFS] = {0};
    o->v->coef(o->h, o->t, o->acc, k);
    int ns = o->v->nslots;
    long total = 0;
    for (int p = 0; p < n; p++)
        if (params[p].trainable && params[p].size > 0) total += params[p].size;
    int threads = rt_pool_threads(pool);
    if (threads > 1 && total >= STEP_PAR_MIN) {
        long tasks = (long)threads * STEP_TASKS_PER_THREAD;
        long blocks = (total + STEP_BLOCK - 1) / STEP_BLOCK;
        step_job j = {.o = o, .k = k, .params = params, .n = n, .total = total,
                      .chunk = (blocks + tasks - 1) / tasks * STEP_BLOCK};
        rt_pool_run(pool, (int)((total + j.chunk - 1) / j.chunk), step_task, &j);
        return true;
    }
    for (int p = 0; p < n; p++)
        if (params[p].trainable && params[p].size > 0)
            o->v->update(k, params[p].w, params[p].g, o->slots + p * ns, params[p].size);
    return true;
}

/* ---- state for checkpoints ------------------------------------------------ */

bool rt_optim_prepare(rt_optim *o, rt_param *params, int nparams, rt_error *err)
{
    if (o->slots) {
        if (o->nparams != nparams)
            return rt_fail(err, "%s: state for %d parameters, the model has %d", o->row->name,
                           o->nparams, nparams);
        return true;
    }
    return allocate_state(o, params, nparams, err);
}

int rt_optim_nstate(const rt_optim *o) { return o->slots ? o->nparams * o->v->nslots : 0; }

float *rt_optim_state(rt_optim *o, int i, long *size)
{
    *size = o->sizes[i / o->v->nslots];
    return o->slots[i];
}

void rt_optim_set_steps(rt_optim *o, long t) { o->t = t; }

double *rt_optim_accs(rt_optim *o, int *n)
{
    *n = MAX_ACC;
    return o->acc;
}
