/*
 * checkpoint.h — internal to stdlib/: fit's checkpoints (train.c).
 *
 * A checkpoint is everything that makes the rest of a fit come out as if it
 * had never stopped, taken at an epoch boundary: the model's weights, the
 * optimizer's state (step count, accumulators, slot arrays), every layer's
 * random stream (dropout masks), the data-order seed and position, and the
 * epochs' statistics so far (the history, which a resumed fit prints
 * again). It is a safetensors file like save_model's (load_model reads it
 * as the model; its optimizer tensors are named "optimizer.state.<i>"),
 * with "format" = "mlp-checkpoint", the fit's configuration in "ckpt.fit"
 * (a resume under another configuration is refused, but in a point of a
 * sweep's halving, which may resume a fit for more epochs) and the rest in
 * "ckpt.state" (JSON; doubles as C hex-float text, exact). Written
 * atomically: a kill during a write leaves the previous checkpoint.
 */
#ifndef MLP_CHECKPOINT_H
#define MLP_CHECKPOINT_H

#include "control.h"
#include "fit.h"
#include "std.h"

/* The fit's control state (control.h) goes in "ckpt.state" too: the
 * plateau schedule's rate, best and wait, early stopping's best, wait and
 * best epoch, whether the fit was stopped; early stopping's best weights
 * are one flat tensor "optimizer.best_weights" (under "optimizer." so that
 * load_model, which reads the model's weights, passes over it). */
typedef struct std_ckpt {
    long done;                 /* epochs of this fit completed */
    rt_epoch_stats *stats;     /* their statistics [done] (malloc'd) */
    std_control *ctl;          /* borrowed; may be NULL */
} std_ckpt;

/* The fit's configuration as text, to refuse resuming a different fit. */
void std_ckpt_config(char *buf, size_t size, const rt_optim *opt, const rt_dataset *train,
                     long epochs, long batch, rt_loss loss);

bool std_ckpt_save(mlp_vm *vm, const char *path, std_model *m, const char *config,
                   const std_ckpt *c);
/* Restores m (weights, layer streams, m->opt state, shuffle seed, epochs
 * run) and fills *c; m->opt must be the fit's optimizer. */
bool std_ckpt_load(mlp_vm *vm, const char *path, std_model *m, const char *config, std_ckpt *c);

#endif
