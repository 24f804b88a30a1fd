/*
 * model.h — a model is a list of layers plus the training step.
 *
 * Build one from layer specs (layers.h):
 *
 *     rt_layer_spec net[] = {
 *         rt_spec_flatten(2, (int[]){28, 28}),
 *         rt_spec_dense(50, RT_ACT_RELU, RT_INIT_GLOROT_UNIFORM),
 *         rt_spec_batchnorm(0.99f, 1e-3f),
 *         rt_spec_dense(10, RT_ACT_SOFTMAX, RT_INIT_GLOROT_UNIFORM),
 *     };
 *     rt_rng init;  rt_rng_init(&init, seed, RT_STREAM_INIT);
 *     rt_model *m = rt_model_create(net, 4, 784, &init, pool, &err);
 *     rt_optim *opt = rt_optim_create("Adam", NULL, &err);
 *     rt_model_train_step(m, opt, x, y, 100, RT_LOSS_CROSSENTROPY, &loss, &correct, &err);
 *
 * Inputs are float32 row-major [n x in_features] (a flatten first layer
 * states the per-sample shape, e.g. 28 x 28 = 784); targets [n x out]
 * (one-hot for crossentropy). The model draws its initial weights from the
 * caller's RNG (advancing it, so two models from one stream differ) and
 * derives its dropout streams from it.
 *
 * Losses and the last layer: crossentropy needs a last dense layer with
 * softmax (trained through the fused (p - y)/n gradient) or linear (then
 * its outputs are logits and the softmax is applied inside the loss);
 * binary_crossentropy likewise with sigmoid; mse takes any last layer.
 *
 * Memory: parameters are allocated at creation; every activation and
 * gradient buffer is allocated the first time a batch of that size (or
 * larger) is seen and reused afterwards, so steady-state training
 * allocates nothing. The model owns all of it; rt_model_free releases it.
 * The pool (may be NULL: serial) is borrowed, never freed by the model.
 *
 * Determinism: the results depend on the data, the seed and the order of
 * calls only, not on the pool's thread count or the SIMD path.
 */
#ifndef MLP_MODEL_H
#define MLP_MODEL_H

#include <stdbool.h>
#include "layers.h"
#include "losses.h"
#include "optimizers.h"
#include "pool.h"
#include "rng.h"
#include "rt_error.h"

typedef struct rt_model rt_model;

rt_model *rt_model_create(const rt_layer_spec *specs, int nspecs, int in_features,
                          rt_rng *rng, rt_pool *pool, rt_error *err);
void rt_model_free(rt_model *m);
void rt_model_set_pool(rt_model *m, rt_pool *pool);

int rt_model_in(const rt_model *m);     /* features per input sample */
int rt_model_out(const rt_model *m);    /* outputs per sample */

/* Per-layer summary (Keras's model.summary()). */
typedef struct rt_layer_info {
    const char *kind;                   /* "dense", ... */
    const char *activation;             /* dense: "relu", ...; others NULL */
    int out;                            /* output width per sample */
    long trainable, non_trainable;      /* parameter counts */
} rt_layer_info;
int rt_model_nlayers(const rt_model *m);
void rt_model_layer_info(const rt_model *m, int i, rt_layer_info *info);
void rt_model_param_counts(const rt_model *m, long *trainable, long *non_trainable);
/* Every parameter in layer order (kernel, bias, gamma, beta, moving_mean,
 * moving_variance ...); the array and the storage belong to the model. */
int rt_model_params(rt_model *m, rt_param **params);
/* The layers themselves, for inspection (layer i of rt_model_nlayers). */
rt_layer *rt_model_layer(rt_model *m, int i);

/* Sizes the buffers for batches of up to n rows now (optional: the first
 * step does it). */
bool rt_model_reserve(rt_model *m, int n, rt_error *err);

/* One step on a batch of n rows: forward in training mode, loss, backward,
 * optimizer update. *loss gets the batch-mean loss (non-finite values are
 * reported as they are; the update is still applied, as Keras does);
 * *correct the number of correct predictions (see losses.h). */
bool rt_model_train_step(rt_model *m, rt_optim *opt, const float *x, const float *y, int n,
                         rt_loss loss, double *loss_out, double *correct, rt_error *err);

/* What happens to the gradients between the backward pass and the
 * optimizer's step, in this order (Keras's optimizer arguments, 2.11 on):
 *   1. kernel penalties of dense layers (spec.l1, spec.l2; Keras's
 *      regularizers): g += l1 sign(w) + 2 l2 w, and the step's reported
 *      loss (and rt_model_evaluate's) includes l1 sum|w| + l2 sum w^2,
 *      measured on the weights the forward pass used;
 *   2. clipnorm: each trainable tensor's g scaled to norm <= clipnorm;
 *   3. global_clipnorm: every g scaled by clipnorm / max(norm, clipnorm),
 *      the norm taken over all trainable tensors together;
 *   4. clipvalue: each element clipped to [-clipvalue, clipvalue];
 *   5. weight_decay (decoupled, any optimizer): w -= lr wd w with the
 *      optimizer's current lr, before its step.
 * 0 turns a rule off; all start off. Norms are summed in double, tensors
 * and elements in order: the same bits on any thread count. */
typedef struct rt_grad_rules {
    double clipnorm, global_clipnorm, clipvalue, weight_decay;
} rt_grad_rules;
void rt_model_set_grad_rules(rt_model *m, const rt_grad_rules *rules);
/* The kernel penalties' current value (0 without l1/l2). */
double rt_model_penalty(const rt_model *m);

/* Byte input. Rows idx[0..n) of the byte matrix base [.. x input width],
 * each byte b standing for (float)b * scale, become the input of the next
 * rt_model_train_step or rt_model_evaluate, called with x = NULL for these
 * n rows, when the first layer that computes (after flatten) takes
 * compressed input (rt_layer_input_u8: a dense layer wide enough for the
 * sparse path; after rt_model_reserve): the results are bit for bit those
 * of the float batch. False otherwise: pass the batch as floats.
 * `training`: the batch is for rt_model_train_step (false: only a forward
 * pass follows, and the packing does less). */
bool rt_model_input_u8(rt_model *m, const uint8_t *base, const int64_t *idx, int n, float scale,
                       bool training);
/* The same in two halves (rt_layer_stage_u8): rt_model_stage_u8 may run on
 * another thread while this model runs a step or an evaluation on its
 * current input; rt_model_use_staged, once it is done, makes the staged
 * rows the next input. rt_model_stage_reserve (on the model's thread,
 * after rt_model_reserve) sizes the staging buffer. */
bool rt_model_stage_reserve(rt_model *m, rt_error *err);
bool rt_model_stage_u8(rt_model *m, const uint8_t *base, const int64_t *idx, int n, float scale,
                       bool training);
void rt_model_use_staged(rt_model *m);
/* Counts rt_model_stage_u8 calls: a pipeline that staged rows and finds
 * the count moved on before it used them (a callback evaluated the model
 * in between) must stage them again. */
unsigned rt_model_stage_seq(rt_model *m);
/* The pool the model's products run on (may be NULL). */
rt_pool *rt_model_pool(const rt_model *m);

/* Inference-mode outputs for n rows into out [n x out] (any n: processed
 * in chunks of the reserved batch size). */
bool rt_model_predict(rt_model *m, const float *x, int n, float *out, rt_error *err);

/* Inference-mode mean loss and accuracy over n rows. */
bool rt_model_evaluate(rt_model *m, const float *x, const float *y, int n, rt_loss loss,
                       double *mean_loss, double *accuracy, rt_error *err);

/* A shadow of m for inference on another thread (eval_team.h evaluates
 * whole batches side by side on the pool's threads, one shadow each): its
 * layers read m's parameters, never writing them, and own their buffers,
 * so shadows of one model may run rt_model_input_u8, rt_model_evaluate and
 * rt_model_predict at the same time as each other and as anything else
 * that only reads m. rt_model_shadow_rows (on m's thread: it sizes m's
 * buffers first if nothing has yet, as rt_model_evaluate on m would) gives
 * the rows a shadow for batches of up to n rows is made with, 0 on
 * failure; rt_model_evaluate on such a shadow splits a batch into the
 * chunks m would, so it gives m's bits. rt_model_shadow reads m only (any
 * thread, while nothing changes m). A shadow has no pool (its products run
 * on the calling thread) and does not train; m must outlive it, its
 * parameters unchanged while it runs. Freed by rt_model_free. */
int rt_model_shadow_rows(rt_model *m, int n, rt_error *err);
rt_model *rt_model_shadow(const rt_model *m, int rows, rt_error *err);

#endif
