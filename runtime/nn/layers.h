/*
 * layers.h — the layer kinds: flatten, dense, batchnorm, dropout.
 *
 * A layer is described by an rt_layer_spec (plain data, made with the
 * rt_spec_* helpers) and lives as an rt_layer inside a model. Each kind is
 * one row of RT_LAYER_KINDS, whose kernels (in layers.c) are:
 *   setup     check the spec against the input width, size the parameters
 *   init      initial values from an RNG stream
 *   forward   y = layer(x) for n rows, training or inference mode
 *   backward  from dL/dy: parameter gradients (overwritten, not summed)
 *             and, when asked, dL/dx
 * and whose spec fields (the constructor's arguments, with their defaults
 * per dialect, ranges and docs) are its list in layer_spec.h.
 * Activations are fused into dense (and are the only nonlinearity).
 *
 * Data layout: a batch is row-major [n x width], n <= the capacity the
 * layer was reserved for. A dense layer whose input is mostly zeros keeps
 * it compressed (l->xs, rowsparse.h) and skips the zero terms, with the
 * same bits as the dense arithmetic. Such a layer also takes its input as
 * bytes, compressed straight from a byte matrix (rt_layer_input_u8), and is
 * then run with x == NULL for those rows (flatten passes NULL on). forward returns a pointer to the output, which
 * may be a layer buffer or, for flatten and inference-mode dropout, the
 * input itself (no copy); backward returns dL/dx likewise. Pointers stay
 * valid until the next call on that layer.
 *
 * Memory: every buffer and parameter is allocated by rt_layer_setup /
 * rt_layer_reserve through rt_alloc and freed by rt_layer_release; the
 * forward and backward passes never allocate.
 *
 * Semantics (DESIGN.md, Keras 2.x): dense kernel [in x out] initialised
 * glorot_uniform by default (U(-l, l), l = sqrt(6 / (in + out))), he_uniform
 * (l = sqrt(6 / in)), he_normal (truncated normal, stddev
 * sqrt(2 / in) / 0.8796, as Keras's VarianceScaling), zeros; bias zeros;
 * torch_linear is PyTorch's nn.Linear default (kaiming_uniform with
 * a = sqrt 5, which is U(-1/sqrt(in), 1/sqrt(in)), and the bias drawn from
 * the same range after the kernel); z = x W + b. Batchnorm: gamma 1, beta 0, moving mean 0, moving variance
 * 1; training normalises with the batch mean and biased batch variance
 * and updates moving = moving * momentum + batch * (1 - momentum);
 * inference uses the moving statistics. With spec.torch (PyTorch's
 * BatchNorm1d), momentum is the weight of the new batch instead,
 * moving = (1 - momentum) * moving + momentum * batch, and the moving
 * variance takes the unbiased batch variance (times n / (n - 1)); the
 * normalisation itself is the same. Dropout is inverted (kept units
 * scaled by 1/(1 - rate)) with its mask drawn from the layer's own RNG
 * stream; inference passes the input through.
 *
 * Determinism: sums over the batch (bias gradient, batch statistics) run
 * row 0 to n-1 for every feature, never split across threads; the GEMMs go
 * through rt_gemm_f32, whose results do not depend on the pool. The
 * per-feature passes have AVX2 bodies giving the scalar loops' bits.
 *
 * Threads: a dense layer hands the pool to a product only from 4 MFLOP on
 * (layers.c says why); the study's layers stay on the calling thread.
 */
#ifndef MLP_LAYERS_H
#define MLP_LAYERS_H

#include <stdbool.h>
#include "activations.h"
#include "optimizers.h"
#include "pool.h"
#include "rng.h"
#include "rowsparse.h"
#include "rt_error.h"
#include "tensor.h"

/*   enum tag    name         kernels */
#define RT_LAYER_KINDS(X) \
    X(FLATTEN,   "flatten",   flatten) \
    X(DENSE,     "dense",     dense) \
    X(BATCHNORM, "batchnorm", batchnorm) \
    X(DROPOUT,   "dropout",   dropout)

typedef enum {
#define RT_LAYER_ENUM(tag, name, fn) RT_LAYER_##tag,
    RT_LAYER_KINDS(RT_LAYER_ENUM)
#undef RT_LAYER_ENUM
    RT_LAYER_COUNT
} rt_layer_kind;

#define RT_INITS(X) \
    X(GLOROT_UNIFORM, "glorot_uniform") \
    X(HE_UNIFORM,     "he_uniform") \
    X(HE_NORMAL,      "he_normal") \
    X(ZEROS,          "zeros") \
    X(TORCH_LINEAR,   "torch_linear")

typedef enum {
#define RT_INIT_ENUM(tag, name) RT_INIT_##tag,
    RT_INITS(RT_INIT_ENUM)
#undef RT_INIT_ENUM
    RT_INIT_COUNT
} rt_init;

typedef struct rt_layer_spec {
    rt_layer_kind kind;
    rt_shape in_shape;             /* flatten: the input shape of one sample (ndim 0: not given) */
    int units;                     /* dense */
    rt_act act;                    /* dense */
    float act_params[RT_ACT_MAX_PARAMS];  /* dense: activation parameters (NaN: the default) */
    const rt_act_custom *custom;   /* dense: a user-defined activation instead of act (borrowed) */
    rt_init init;                  /* dense kernel */
    float l1, l2;                  /* dense: kernel penalties l1 sum|w| + l2 sum w^2 (0: none) */
    float momentum, eps;           /* batchnorm */
    bool torch;                    /* batchnorm: PyTorch's BatchNorm1d (see below) */
    float rate;                    /* dropout */
} rt_layer_spec;

rt_layer_spec rt_spec_flatten(int ndims, const int *dims);
rt_layer_spec rt_spec_dense(int units, rt_act act, rt_init init);
rt_layer_spec rt_spec_batchnorm(float momentum, float eps);   /* Keras: 0.99, 1e-3 */
rt_layer_spec rt_spec_batchnorm_torch(float momentum, float eps);   /* PyTorch: 0.1, 1e-5 */
rt_layer_spec rt_spec_dropout(float rate);

const char *rt_layer_kind_name(rt_layer_kind kind);
const char *rt_init_name(rt_init init);
bool rt_init_from_name(const char *name, rt_init *out);

enum { RT_LAYER_MAX_PARAMS = 4 };

typedef struct rt_layer {
    rt_layer_spec spec;
    int in, out;                    /* features per sample */
    rt_param params[RT_LAYER_MAX_PARAMS];
    int nparams;
    int cap;                        /* rows the buffers hold */
    bool skip_act_grad;             /* backward's dy is already dL/dz (fused loss) */
    bool bias_grad_done;            /* dense: ... and the bias gradient is summed (fused.h) */
    bool masked;                    /* dropout: the last forward applied a mask */
    rt_rng rng;                     /* dropout's stream */
    /* buffers, owned; which are used depends on the kind */
    const float *x;                 /* the last forward's input (borrowed) */
    float *z, *y, *dx, *aux;        /* [cap x out] (dx: [cap x in]) */
    float *mean, *inv;              /* batchnorm: [out] (backward reuses mean as scratch) */
    float act_params[RT_ACT_MAX_PARAMS];  /* resolved activation parameters */
    rt_rowsparse xs;                /* dense: the last input, compressed, when */
    bool x_sparse;                  /* ... it was mostly zeros (rowsparse.h) */
    int xs_loaded;                  /* rows rt_layer_input_u8 put in xs for the next forward, or 0 */
    rt_rowsparse xs_next;           /* dense: the staged input (rt_layer_stage_u8) */
    int xs_staged;                  /* rows staged in xs_next, or 0 */
    unsigned stage_seq;             /* counts rt_layer_stage_u8 calls */
} rt_layer;

/* Checks spec against the input width `in` and allocates the parameters;
 * l->out is the output width afterwards. */
bool rt_layer_setup(rt_layer *l, const rt_layer_spec *spec, int in, rt_error *err);
/* Initial parameter values, drawing from rng (dense kernels in row-major
 * order); also seeds the layer's dropout stream from rng. */
void rt_layer_init(rt_layer *l, rt_rng *rng);
/* Sizes the buffers for batches of up to cap rows (grows, never shrinks). */
bool rt_layer_reserve(rt_layer *l, int cap, rt_error *err);
const float *rt_layer_forward(rt_layer *l, const float *x, int n, bool training, rt_pool *pool);
/* Byte input for a dense layer that keeps its input compressed: rows
 * idx[0..n) of the byte matrix base [.. x l->in], each byte b standing for
 * (float)b * scale, become the input of the next forward, which is then
 * called with x == NULL and these n rows (the bits of the float batch).
 * False, and nothing changes, when the layer does not take compressed
 * input, n exceeds the reserved rows or the rows are not sparse enough:
 * pass floats instead. `training`: a backward pass follows (the packing
 * then also marks what its weight gradient wants; see rt_rowsparse_build_u8). */
bool rt_layer_input_u8(rt_layer *l, const uint8_t *base, const int64_t *idx, int n, float scale,
                       bool training);
/* Whether the next forward may be called with x == NULL for n rows. */
bool rt_layer_has_input(const rt_layer *l, int n);
/* The same in two halves, for a pipeline that prepares the next batch
 * while a step runs: rt_layer_stage_u8 compresses the rows into a second
 * buffer (xs_next), with the column form of the backward product when
 * `training`, and touches nothing else of the layer, so it may run on
 * another thread during a forward or backward pass; rt_layer_use_staged
 * then makes them the input of the next forward, as rt_layer_input_u8
 * would have. rt_layer_stage_reserve sizes the buffer (false: out of
 * memory); stage_u8 fails as input_u8 does. */
bool rt_layer_stage_reserve(rt_layer *l, rt_error *err);
bool rt_layer_stage_u8(rt_layer *l, const uint8_t *base, const int64_t *idx, int n, float scale,
                       bool training);
void rt_layer_use_staged(rt_layer *l);
const float *rt_layer_backward(rt_layer *l, const float *dy, int n, bool need_dx, rt_pool *pool);
/* The backward of batchnorm layer l (with dx) fused with the activation
 * backward and bias gradient of `prev`, the dense layer before it
 * (fused.h): returns dL/dz for prev, after which prev's backward must run
 * with skip_act_grad and bias_grad_done set; NULL, and nothing done, when
 * the pair is not one the fused kernel covers (run the two apart). */
const float *rt_layer_backward_bn_act(rt_layer *l, const float *dy, int n, rt_layer *prev);
void rt_layer_release(rt_layer *l);
/* A shadow of layer l for inference-mode forward passes on another thread
 * (model.h, rt_model_shadow): its parameters are l's very storage, read
 * only (their gradients NULL), and its buffers its own, none reserved yet
 * (rt_layer_reserve). It computes l's bits. rt_layer_shadow_release frees
 * what it owns, never the parameters; call it also after a failure. */
bool rt_layer_shadow(rt_layer *s, const rt_layer *l, rt_error *err);
void rt_layer_shadow_release(rt_layer *s);

#endif
