/*
 * plugin.c — a tiny C plugin for mlp's FFI (examples/ffi.mlp).
 *
 * `make` builds it as build/examples/ffi/libplugin.so. It holds the three
 * kinds of function an mlp script can bind with `extern`:
 *
 *   activations   a forward/derivative pair, bound with
 *                 `activation NAME = extern fwd, grad`:
 *                   void fwd(const float *x, float *y, int64_t n)        y = f(x)
 *                   void grad(const float *x, const float *y, const float *dy,
 *                             float *dx, int64_t n)                      dx = dy f'(x)
 *   an optimizer  an update kernel, bound with
 *                 `optimizer NAME(h1=d1, ...) = extern update`:
 *                   void update(float *w, const float *g, float *state..., int64_t n,
 *                               double h1, ..., [int64_t t])
 *   plain calls   anything else, called from the script with numbers,
 *                 strings and tensors (a tensor is a float array plus its
 *                 length).
 *
 * The activations and optimizers re-implement built-in ones with the same
 * float operations in the same order (runtime/activations.c,
 * runtime/optimizers.c follow DESIGN.md's formulas), so training with them
 * gives the built-ins' results bit for bit: the example checks exactly
 * that. Built, like everything here, with -ffp-contract=off, so no compiler
 * fuses a multiply and an add behind our back; and with -O3
 * -fno-math-errno, so the loops are vectorised (sqrtf's errno would keep
 * plug_adam scalar: twice as slow an epoch) without changing a bit.
 */
#include <math.h>
#include <stdint.h>

/* Exported functions need prototypes under -Wmissing-prototypes; a real
 * plugin would put these in its header. */
void plug_relu(const float *x, float *y, int64_t n);
void plug_relu_grad(const float *x, const float *y, const float *dy, float *dx, int64_t n);
void plug_softsign(const float *x, float *y, int64_t n);
void plug_softsign_grad(const float *x, const float *y, const float *dy, float *dx, int64_t n);
void plug_momentum(float *w, const float *g, float *v, int64_t n, double lr, double momentum);
void plug_sgd_decay(float *w, const float *g, int64_t n, float lr, float decay, int32_t t);
void plug_adam(float *w, const float *g, float *m, float *v, int64_t n, double lr, double beta1,
               double beta2, double eps, int64_t t);
double plug_sum(const float *x, int64_t n);
void plug_scale(float *x, int64_t n, double k);

/* relu: max(x, 0); the derivative at the kink is the left side's, 0. The
 * derivative multiplies (dy * 1 or dy * 0) rather than selecting dy, so a
 * negative dy gives -0 as the built-in's does. */
void plug_relu(const float *x, float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void plug_relu_grad(const float *x, const float *y, const float *dy, float *dx, int64_t n)
{
    (void)y;
    for (int64_t i = 0; i < n; i++) dx[i] = dy[i] * (x[i] > 0.0f ? 1.0f : 0.0f);
}

/* softsign: x / (1 + |x|), f'(x) = 1 / (1 + |x|)^2. */
void plug_softsign(const float *x, float *y, int64_t n)
{
    for (int64_t i = 0; i < n; i++) y[i] = x[i] / (1.0f + fabsf(x[i]));
}

void plug_softsign_grad(const float *x, const float *y, const float *dy, float *dx, int64_t n)
{
    (void)y;
    for (int64_t i = 0; i < n; i++) {
        float d = 1.0f + fabsf(x[i]);
        dx[i] = dy[i] * (1.0f / (d * d));
    }
}

/* Momentum (Keras SGD with momentum): v = m v - lr g; w += v. The
 * hyperparameters arrive as doubles and are rounded to float once. */
void plug_momentum(float *w, const float *g, float *v, int64_t n, double lr, double momentum)
{
    float l = (float)lr, m = (float)momentum;
    for (int64_t i = 0; i < n; i++) {
        v[i] = m * v[i] - l * g[i];
        w[i] += v[i];
    }
}

/* SGD with a time-based decay of the step size, and no state:
 *   w -= lr / (1 + decay (t - 1)) g        (t = 1 on the first step)
 * Its hyperparameters come as float and t as int, which `extern` allows
 * too (decay = 0 is plain SGD to the bit). */
void plug_sgd_decay(float *w, const float *g, int64_t n, float lr, float decay, int32_t t)
{
    float lr_t = lr / (1.0f + decay * (float)(t - 1));
    for (int64_t i = 0; i < n; i++) w[i] -= lr_t * g[i];
}

/* b^t by squaring, in double. */
static double power(double b, int64_t t)
{
    double r = 1.0;
    for (; t > 0; t >>= 1, b *= b)
        if (t & 1) r *= b;
    return r;
}

/* Adam as Keras 2.x: the bias corrections folded into the step size,
 *   lr_t = lr sqrt(1 - b2^t) / (1 - b1^t)            (double, then float)
 *   m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;  w -= lr_t m / (sqrt(v) + eps) */
void plug_adam(float *w, const float *g, float *m, float *v, int64_t n, double lr, double beta1,
               double beta2, double eps, int64_t t)
{
    float lr_t = (float)(lr * sqrt(1.0 - power(beta2, t)) / (1.0 - power(beta1, t)));
    float b1 = (float)beta1, c1 = (float)(1.0 - beta1), b2 = (float)beta2, c2 = (float)(1.0 - beta2);
    float e = (float)eps;
    for (int64_t i = 0; i < n; i++) {
        m[i] = b1 * m[i] + c1 * g[i];
        v[i] = b2 * v[i] + c2 * (g[i] * g[i]);
        w[i] -= lr_t * m[i] / (sqrtf(v[i]) + e);
    }
}

/* The sum of a tensor, in double. */
double plug_sum(const float *x, int64_t n)
{
    double s = 0.0;
    for (int64_t i = 0; i < n; i++) s += x[i];
    return s;
}

/* x *= k in place. */
void plug_scale(float *x, int64_t n, double k)
{
    for (int64_t i = 0; i < n; i++) x[i] = (float)(x[i] * k);
}
