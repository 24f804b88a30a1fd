/* synth.c — see synth.h. */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "synth.h"

#define PI 3.14159265358979323846
#define LN2 0.69314718055994530942

/* ---- machine-independent log, sin, cos ---------------------------------------
 * Only + - * / and exact operations (frexp, nearbyint), in a fixed order,
 * so every IEEE-754 machine gets the same bits. */

double rt_synth_log(double x)
{
    /* x = m * 2^e with m in [sqrt(1/2), sqrt(2)); ln m = 2 atanh(s),
     * s = (m-1)/(m+1), |s| < 0.172, so the odd series s + s^3/3 + ...
     * reaches double precision within 14 terms. */
    int e;
    double m = frexp(x, &e);
    if (m < 0.70710678118654752440) { m *= 2.0; e--; }
    double s = (m - 1.0) / (m + 1.0), s2 = s * s, term = s, sum = 0.0;
    for (int k = 0; k < 14; k++) {
        sum += term / (double)(2 * k + 1);
        term *= s2;
    }
    return 2.0 * sum + (double)e * LN2;
}

/* sin of r in [-pi, pi] by its Taylor series. At |r| = pi the terms
 * pi^(2k+1)/(2k+1)! fall below 1e-17 from k = 14 on; 30 leave a margin. */
static double sin_reduced(double r)
{
    double r2 = r * r, term = r, sum = 0.0;
    for (int k = 1; k < 30; k++) {
        sum += term;
        term *= -r2 / (double)((2 * k) * (2 * k + 1));
    }
    return sum;
}

double rt_synth_sin(double x)
{
    double k = nearbyint(x / (2.0 * PI));
    return sin_reduced(x - k * (2.0 * PI));
}

double rt_synth_cos(double x)
{
    return rt_synth_sin(x + PI / 2.0);
}

/* A standard normal deviate by Marsaglia's polar method (rejection, then
 * u * sqrt(-2 ln s / s)); the second deviate of each pair is dropped to keep
 * the generator's state a single integer. */
static double normal(rt_drng *g)
{
    double u, v, s;
    do {
        u = 2.0 * rt_drng_uniform(g) - 1.0;
        v = 2.0 * rt_drng_uniform(g) - 1.0;
        s = u * u + v * v;
    } while (s >= 1.0 || s == 0.0);
    return u * sqrt(-2.0 * rt_synth_log(s) / s);
}

/* ---- the generators ---------------------------------------------------------
 * Each fills point i (x[2i], x[2i+1]) of class c = i % classes; j = i /
 * classes is its rank within the class and m the class's size. */

typedef struct gen_ctx {
    rt_drng *g;
    int classes;
    double noise;
    double centres[64][2];   /* blobs only; classes <= 64 there */
} gen_ctx;

typedef void (*gen_fn)(gen_ctx *c, int cls, int64_t j, int64_t m, float *xy);

static void gen_blobs(gen_ctx *c, int cls, int64_t j, int64_t m, float *xy)
{
    xy[0] = (float)(c->centres[cls][0] + c->noise * normal(c->g));
    xy[1] = (float)(c->centres[cls][1] + c->noise * normal(c->g));
}

static void gen_spirals(gen_ctx *c, int cls, int64_t j, int64_t m, float *xy)
{
    double r = (double)j / (double)m;
    double t = 2.0 * PI * cls / c->classes + 4.0 * r + c->noise * normal(c->g);
    xy[0] = (float)(r * rt_synth_sin(t));
    xy[1] = (float)(r * rt_synth_cos(t));
}

static void gen_moons(gen_ctx *c, int cls, int64_t j, int64_t m, float *xy)
{
    double t = PI * rt_drng_uniform(c->g);
    double px = rt_synth_cos(t), py = rt_synth_sin(t);
    if (cls == 1) { px = 1.0 - px; py = 0.5 - py; }
    xy[0] = (float)(px + c->noise * normal(c->g));
    xy[1] = (float)(py + c->noise * normal(c->g));
}

static void gen_xor(gen_ctx *c, int cls, int64_t j, int64_t m, float *xy)
{
    /* |u|, |v| uniform in (0, 1]; class 0 takes equal signs, class 1
     * opposite ones, the quadrant chosen by a coin. */
    double u = 1.0 - rt_drng_uniform(c->g), v = 1.0 - rt_drng_uniform(c->g);
    double su = (rt_drng_next(c->g) >> 63) ? -1.0 : 1.0;
    double sv = cls == 0 ? su : -su;
    xy[0] = (float)(su * u + c->noise * normal(c->g));
    xy[1] = (float)(sv * v + c->noise * normal(c->g));
}

static void gen_circles(gen_ctx *c, int cls, int64_t j, int64_t m, float *xy)
{
    double r = (double)(cls + 1) / c->classes, t = 2.0 * PI * rt_drng_uniform(c->g);
    xy[0] = (float)(r * rt_synth_cos(t) + c->noise * normal(c->g));
    xy[1] = (float)(r * rt_synth_sin(t) + c->noise * normal(c->g));
}

typedef struct synth_kind {
    const char *name;
    gen_fn fn;
    int default_classes;
    int min_classes, max_classes;
    double default_noise;
    const char *doc;
} synth_kind;

static const synth_kind kinds[] = {
    { "blobs",   gen_blobs,   3, 1, 64,   1.0,  "Gaussian clusters around random centres" },
    { "spirals", gen_spirals, 3, 2, 1000, 0.2,  "interleaved spiral arms" },
    { "moons",   gen_moons,   2, 2, 2,    0.1,  "two interleaving half circles" },
    { "xor",     gen_xor,     2, 2, 2,    0.0,  "the four quadrants, class = sign(x) != sign(y)" },
    { "circles", gen_circles, 2, 2, 1000, 0.05, "concentric rings" },
};
enum { NKINDS = sizeof kinds / sizeof *kinds };

bool rt_synth_kind(int i, const char **name, const char **doc)
{
    if (i < 0 || i >= NKINDS) return false;
    if (name) *name = kinds[i].name;
    if (doc) *doc = kinds[i].doc;
    return true;
}

bool rt_synth(const char *kind, int64_t n, int classes, double noise,
              uint64_t seed, rt_dataset *out, rt_error *err)
{
    memset(out, 0, sizeof *out);
    const synth_kind *k = NULL;
    for (int i = 0; i < NKINDS; i++)
        if (kind && strcmp(kinds[i].name, kind) == 0) k = &kinds[i];
    if (!k)
        return rt_fail(err, "unknown synthetic data set '%s' (known: blobs, spirals, "
                       "moons, xor, circles)", kind ? kind : "(null)");
    if (classes <= 0) classes = k->default_classes;
    if (noise < 0.0) noise = k->default_noise;
    if (classes < k->min_classes || classes > k->max_classes) {
        if (k->min_classes == k->max_classes)
            return rt_fail(err, "%s: classes must be %d, got %d", k->name,
                           k->min_classes, classes);
        return rt_fail(err, "%s: classes must be between %d and %d, got %d", k->name,
                       k->min_classes, k->max_classes, classes);
    }
    if (n < classes)
        return rt_fail(err, "%s: n must be at least the number of classes (%d), got %lld",
                       k->name, classes, (long long)n);
    if (!isfinite(noise) || noise > 1e6)
        return rt_fail(err, "%s: noise must be a finite number >= 0, got %g", k->name, noise);

    if (!rt_dataset_alloc(out, n, &(rt_shape){ 1, { 2 } }, false, 1.0f, classes, err)) return false;
    char names[1000][12];
    const char *ptrs[1000];
    for (int c = 0; c < classes; c++) {
        snprintf(names[c], sizeof names[c], "%d", c);
        ptrs[c] = names[c];
    }
    if (!rt_dataset_set_class_names(out, ptrs, err)) {
        rt_dataset_free(out);
        return false;
    }

    rt_drng g = rt_drng_seed(seed);
    gen_ctx ctx = { &g, classes, noise, {{0}} };
    if (k->fn == gen_blobs)
        for (int c = 0; c < classes; c++) {
            ctx.centres[c][0] = 20.0 * rt_drng_uniform(&g) - 10.0;
            ctx.centres[c][1] = 20.0 * rt_drng_uniform(&g) - 10.0;
        }
    for (int64_t i = 0; i < n; i++) {
        int c = (int)(i % classes);
        int64_t m = n / classes + (c < n % classes ? 1 : 0);
        out->labels[i] = c;
        k->fn(&ctx, c, i / classes, m, out->x_f32 + 2 * i);
    }
    return true;
}

bool rt_synth_sine(int64_t n, double noise, uint64_t seed, rt_dataset *out, rt_error *err)
{
    memset(out, 0, sizeof *out);
    if (n < 1) return rt_fail(err, "n must be at least 1, got %lld", (long long)n);
    if (noise < 0) noise = 0.1;
    if (!rt_dataset_alloc(out, n, &(rt_shape){ 1, { 1 } }, false, 1.0f, 0, err)) return false;
    if (!rt_dataset_alloc_targets(out, 1, err)) {
        rt_dataset_free(out);
        return false;
    }
    rt_drng g = rt_drng_seed(seed);
    for (int64_t i = 0; i < n; i++) {
        double x = 6.0 * rt_drng_uniform(&g) - 3.0;
        out->x_f32[i] = (float)x;
        out->targets[i] = (float)(rt_synth_sin(x) + noise * normal(&g));
    }
    return true;
}
