/*
 * activations.h — the activation functions, one table row each.
 *
 * Every activation is a row {name, default parameter, forward, backward} of
 * RT_ACTIVATIONS below; the enum, the name lookup and the dispatch all
 * expand from it, so a new activation is one row plus its two kernels.
 *
 * Kernels work on whole row-major [rows x cols] arrays:
 *   forward(z, y):          y = f(z)
 *   backward(z, y, dy, dz): dz = dy * f'(z)   (the chain rule fused in; both
 *                           the input z and the output y are offered,
 *                           since f' is cheapest from one or the other)
 * Every elementwise kernel treats the array as flat; softmax alone works per
 * row (it is meant for the last layer, where training fuses it with the
 * crossentropy loss and never calls its backward). In-place use (y == z,
 * dz == dy) is allowed. `alpha` is the one parameter some rows take
 * (leaky_relu slope, elu alpha); rows that take none ignore it.
 *
 * Defaults follow tf.keras 2.x: leaky_relu slope 0.3 (the LeakyReLU layer's
 * default; tf.nn.leaky_relu would say 0.2, PyTorch 0.01), elu alpha 1, selu
 * with the self-normalising constants, gelu exact (erf form, Keras's
 * approximate=False), sigmoid 1/(1+e^-x), softplus ln(1+e^x). The
 * transcendental parts use mathf.h, so results are the same on every
 * machine. The derivative at a kink (relu at 0) is that of the left side, as
 * TensorFlow's.
 */
#ifndef MLP_ACTIVATIONS_H
#define MLP_ACTIVATIONS_H

#include <stdbool.h>

/*   enum tag     name          kernels     alpha  meaning */
#define RT_ACTIVATIONS(X) \
    X(LINEAR,      "linear",     linear,     0.0f,  "x") \
    X(SIGMOID,     "sigmoid",    sigmoid,    0.0f,  "1 / (1 + e^-x)") \
    X(TANH,        "tanh",       tanh,       0.0f,  "tanh x") \
    X(RELU,        "relu",       relu,       0.0f,  "max(x, 0)") \
    X(LEAKY_RELU,  "leaky_relu", leaky_relu, 0.3f,  "x > 0 ? x : alpha x") \
    X(ELU,         "elu",        elu,        1.0f,  "x > 0 ? x : alpha (e^x - 1)") \
    X(SELU,        "selu",       selu,       0.0f,  "scale * elu(x, 1.6733), scale 1.0507") \
    X(SOFTPLUS,    "softplus",   softplus,   0.0f,  "ln(1 + e^x)") \
    X(SOFTSIGN,    "softsign",   softsign,   0.0f,  "x / (1 + |x|)") \
    X(SWISH,       "swish",      swish,      0.0f,  "x sigmoid(x) (also called silu)") \
    X(GELU,        "gelu",       gelu,       0.0f,  "x Phi(x) = x (1 + erf(x / sqrt 2)) / 2") \
    X(SOFTMAX,     "softmax",    softmax,    0.0f,  "e^x / sum e^x over each row")

typedef enum {
#define RT_ACT_ENUM(tag, name, fn, alpha, doc) RT_ACT_##tag,
    RT_ACTIVATIONS(RT_ACT_ENUM)
#undef RT_ACT_ENUM
    RT_ACT_COUNT
} rt_act;

typedef void (*rt_act_forward_fn)(const float *z, float *y, int rows, int cols, float alpha);
typedef void (*rt_act_backward_fn)(const float *z, const float *y, const float *dy,
                                   float *dz, int rows, int cols, float alpha);

typedef struct rt_act_info {
    const char *name;
    float alpha;                 /* default parameter */
    const char *doc;             /* the formula, for help text */
    rt_act_forward_fn forward;
    rt_act_backward_fn backward;
} rt_act_info;

/* A user-defined activation (an `activation` declaration compiled to
 * expression kernels, or C functions bound through the FFI): what a dense
 * layer calls instead of a table row when its spec points at one. Both
 * work on a flat array of n values; backward gets z, the forward output y
 * and dy, and writes dz = dy * f'(z) (dz may alias dy). The struct and ctx
 * belong to the stdlib value that made them and must outlive every layer
 * that uses them. */
typedef struct rt_act_custom {
    const char *name;
    void (*forward)(void *ctx, const float *z, float *y, long n);
    void (*backward)(void *ctx, const float *z, const float *y, const float *dy, float *dz, long n);
    void *ctx;
} rt_act_custom;

/* The row of `act`; act must be valid (< RT_ACT_COUNT). */
const rt_act_info *rt_act_get(rt_act act);
/* Looks a name up (also "silu" for swish); false when unknown. */
bool rt_act_from_name(const char *name, rt_act *out);

#endif
