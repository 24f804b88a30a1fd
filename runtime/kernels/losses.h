/*
 * losses.h — losses with their fused gradients, and the accuracy metric.
 *
 * Each loss is a row of RT_LOSSES: name, the output activation it fuses
 * with, and its kernel. A kernel takes the network output p (after the
 * last activation) and the targets y, both row-major [n x c], returns the
 * batch-mean loss (accumulated in double, rows in order) and, when grad is
 * not NULL, writes the gradient the last layer needs:
 *
 *   crossentropy         p = softmax(z), y one-hot (or any distribution):
 *                        L = mean over rows of -sum_j y log clip(p, 1e-7, 1-1e-7)
 *                        grad = dL/dz = (p - y) / n      (fused with softmax)
 *   binary_crossentropy  p = sigmoid(z), y in {0, 1}:
 *                        L = mean over all n c values of
 *                            -(y log clip(p) + (1-y) log(1 - clip(p)))
 *                        grad = dL/dz = (p - y) / (n c)  (fused with sigmoid)
 *   mse                  L = mean over all n c values of (p - y)^2
 *                        grad = dL/dp = 2 (p - y) / (n c) (not fused: the
 *                        caller runs it through the activation's backward)
 *   torch_crossentropy   crossentropy as PyTorch's F.cross_entropy: the
 *                        same, without the clip (-y log p; p = 0 gives inf)
 *   mae                  L = mean over all n c values of |p - y|
 *                        grad = dL/dp = sign(p - y) / (n c) (not fused;
 *                        sign(0) = 0, as Keras's gradient of abs)
 *
 * The clipping (Keras's epsilon 1e-7) affects only the value; the fused
 * gradients are those of the unclipped loss, as Keras's are in practice.
 * A non-finite loss is returned as such; the caller decides what to say.
 *
 * rt_loss_correct counts correct predictions: argmax(p) == argmax(y) per
 * row (first maximum wins, as numpy/TF argmax) for crossentropy and mse;
 * for binary_crossentropy the mean over a row's outputs of
 * (p > 0.5) == (y > 0.5), Keras's binary_accuracy. Divide by n for accuracy.
 */
#ifndef MLP_LOSSES_H
#define MLP_LOSSES_H

#include <stdbool.h>
#include "activations.h"

/*   enum tag               name                   kernel               fused activation */
#define RT_LOSSES(X) \
    X(CROSSENTROPY,         "crossentropy",        crossentropy,        RT_ACT_SOFTMAX) \
    X(BINARY_CROSSENTROPY,  "binary_crossentropy", binary_crossentropy, RT_ACT_SIGMOID) \
    X(MSE,                  "mse",                 mse,                 RT_ACT_COUNT) \
    X(TORCH_CROSSENTROPY,   "torch_crossentropy",  torch_crossentropy,  RT_ACT_SOFTMAX) \
    X(MAE,                  "mae",                 mae,                 RT_ACT_COUNT)

typedef enum {
#define RT_LOSS_ENUM(tag, name, fn, act) RT_LOSS_##tag,
    RT_LOSSES(RT_LOSS_ENUM)
#undef RT_LOSS_ENUM
    RT_LOSS_COUNT
} rt_loss;

#define RT_CLIP_EPS 1e-7f

const char *rt_loss_name(rt_loss loss);
/* Also accepts "categorical_crossentropy", "bce", "mean_squared_error",
 * "mean_absolute_error". */
bool rt_loss_from_name(const char *name, rt_loss *out);
/* The output activation whose gradient the loss fuses (RT_ACT_COUNT: none). */
rt_act rt_loss_fused_act(rt_loss loss);

double rt_loss_eval(rt_loss loss, const float *p, const float *y, int n, int c, float *grad);
double rt_loss_correct(rt_loss loss, const float *p, const float *y, int n, int c);

#endif
