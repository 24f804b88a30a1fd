/*
 * activations.h — the activation functions, one table row each.
 *
 * Every activation is ONE row {name, kernels, parameters, formula} of
 * RT_ACTIVATIONS below, plus its scalar pair (forward f, derivative f') in
 * activations.c; the enum, the name lookup, the dispatch, the stdlib's
 * globals and their argument checking, and LANGUAGE.md's table
 * (rt_act_markdown) all expand from it.
 *
 * Kernels work on whole row-major [rows x cols] arrays:
 *   forward(z, y):          y = f(z)
 *   backward(z, y, dy, dz): dz = dy * f'(z)   (the chain rule fused in; both
 *                           the input z and the output y are offered,
 *                           since f' is cheapest from one or the other)
 * Every elementwise kernel treats the array as flat; softmax alone works per
 * row (it is meant for the last layer, where training fuses it with the
 * crossentropy loss and never calls its backward). In-place use (y == z,
 * dz == dy) is allowed. `p` holds the row's parameters in its order
 * (RT_ACT_MAX_PARAMS floats; rows with fewer ignore the rest).
 *
 * Parameters and defaults follow tf.keras 2.x: relu(alpha, max_value,
 * threshold) as keras.activations.relu (max_value none: +inf here),
 * leaky_relu slope 0.3 (the LeakyReLU layer's
 * default; tf.nn.leaky_relu would say 0.2, PyTorch 0.01), elu alpha 1, selu
 * with the self-normalising constants, gelu exact (erf form, Keras's
 * approximate=False), sigmoid 1/(1+e^-x), softplus ln(1+e^x). The
 * transcendental parts use mathf.h, so results are the same on every
 * machine. The derivative at a kink (relu at 0) is that of the left side, as
 * TensorFlow's.
 */
#ifndef MLP_ACTIVATIONS_H
#define MLP_ACTIVATIONS_H

#include <math.h>
#include <stdbool.h>

enum { RT_ACT_MAX_PARAMS = 3 };

/* A parameter of an activation: name, default, meaning. */
typedef struct rt_act_param {
    const char *name;
    float value;
    const char *doc;
} rt_act_param;

/* How a row writes its parameters (in parentheses, so the X macro sees one
 * argument): RT_ACT_PARAMS(RT_ACT_P("alpha", 0.3f, "..."), ...). */
#define RT_ACT_P(name, value, doc) {name, value, doc}
#define RT_ACT_PARAMS(...) {__VA_ARGS__}
#define RT_ACT_NONE {{NULL, 0.0f, NULL}}

/*   enum tag     name          kernels     parameters, meaning */
#define RT_ACTIVATIONS(X) \
    X(LINEAR,      "linear",     linear,     RT_ACT_NONE,  "x") \
    X(SIGMOID,     "sigmoid",    sigmoid,    RT_ACT_NONE,  "1 / (1 + e^-x)") \
    X(TANH,        "tanh",       tanh,       RT_ACT_NONE,  "tanh x") \
    X(RELU,        "relu",       relu, \
      RT_ACT_PARAMS(RT_ACT_P("alpha", 0.0f, "slope below threshold"), \
                    RT_ACT_P("max_value", INFINITY, "outputs are capped here (inf: no cap)"), \
                    RT_ACT_P("threshold", 0.0f, "inputs up to here give 0 (or the alpha slope)")), \
      "max(x, 0); with parameters (x > threshold ? x : 0) clipped to [0, max_value], " \
      "minus alpha max(threshold - x, 0)") \
    X(LEAKY_RELU,  "leaky_relu", leaky_relu, \
      RT_ACT_PARAMS(RT_ACT_P("alpha", 0.3f, "slope for x <= 0")), "x > 0 ? x : alpha x") \
    X(ELU,         "elu",        elu, \
      RT_ACT_PARAMS(RT_ACT_P("alpha", 1.0f, "the value approached as x -> -inf is -alpha")), \
      "x > 0 ? x : alpha (e^x - 1)") \
    X(SELU,        "selu",       selu,       RT_ACT_NONE,  "scale * elu(x, 1.6733), scale 1.0507") \
    X(SOFTPLUS,    "softplus",   softplus,   RT_ACT_NONE,  "ln(1 + e^x)") \
    X(SOFTSIGN,    "softsign",   softsign,   RT_ACT_NONE,  "x / (1 + |x|)") \
    X(SWISH,       "swish",      swish,      RT_ACT_NONE,  "x sigmoid(x) (also called silu)") \
    X(GELU,        "gelu",       gelu,       RT_ACT_NONE,  "x Phi(x) = x (1 + erf(x / sqrt 2)) / 2") \
    X(SOFTMAX,     "softmax",    softmax,    RT_ACT_NONE,  "e^x / sum e^x over each row")

typedef enum {
#define RT_ACT_ENUM(tag, name, fn, params, doc) RT_ACT_##tag,
    RT_ACTIVATIONS(RT_ACT_ENUM)
#undef RT_ACT_ENUM
    RT_ACT_COUNT
} rt_act;

typedef void (*rt_act_forward_fn)(const float *z, float *y, int rows, int cols, const float *p);
typedef void (*rt_act_backward_fn)(const float *z, const float *y, const float *dy,
                                   float *dz, int rows, int cols, const float *p);

typedef struct rt_act_info {
    const char *name;
    rt_act_param params[RT_ACT_MAX_PARAMS];   /* a NULL name ends the list */
    const char *doc;             /* the formula, for help text */
    rt_act_forward_fn forward;
    rt_act_backward_fn backward;
} rt_act_info;

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
/* How many parameters the row has; its defaults into p (the rest 0). */
int rt_act_nparams(rt_act act);
void rt_act_defaults(rt_act act, float p[RT_ACT_MAX_PARAMS]);
/* The index of the parameter called name, or -1. */
int rt_act_param_index(rt_act act, const char *name);
/* The table as Markdown for lang/LANGUAGE.md (tables_doc.c); malloc'd. */
char *rt_act_markdown(void);

#endif
