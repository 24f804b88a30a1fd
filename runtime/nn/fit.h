/*
 * fit.h — the training loop: epochs of shuffled mini-batches over a
 * dataset, with validation after each epoch (Keras's model.fit).
 *
 * Semantics (DESIGN.md): every epoch visits the training set in a fresh
 * order that depends only on (shuffle_seed, epoch); the last batch may be
 * short. An epoch's loss and accuracy are the running means over its
 * batches, each measured on the batch's forward pass in training mode and
 * weighted by the batch's size; val_loss / val_acc are measured after the
 * epoch in inference mode over the whole validation set.
 *
 * The loop knows nothing of how progress is shown: it calls on_batch after
 * every step (return false to stop at that batch boundary: Ctrl-C) and
 * on_epoch after every epoch. A non-finite batch loss stops the run with an
 * error naming the epoch and batch. Pixels stay uint8 in the dataset; when
 * the model's first dense layer takes compressed input (model.h) each batch
 * goes to it as bytes (rt_model_input_u8), else it
 * is scaled into one float batch buffer (rt_dataset_gather); the numbers
 * are the same either way. All buffers are allocated once per call.
 */
#ifndef MLP_FIT_H
#define MLP_FIT_H

#include <stdbool.h>
#include <stdint.h>
#include "dataset.h"
#include "losses.h"
#include "model.h"
#include "optimizers.h"
#include "rt_error.h"

typedef struct rt_epoch_stats {
    int epoch;                  /* 1-based */
    double loss, acc;           /* running means over the epoch's batches */
    double val_loss, val_acc;   /* NaN without validation data */
    double seconds;             /* wall time of the epoch, validation included */
    double lr;                  /* the caller's to fill (rt_fit leaves NaN) */
    double extra[16];           /* the caller's (further metrics); rt_fit leaves 0 */
} rt_epoch_stats;

typedef struct rt_fit_config {
    int epochs, batch;
    rt_loss loss;
    uint64_t shuffle_seed;
    /* epochs already run with this seed: epoch e of this call visits the
     * data in order number first_epoch + e - 1, so a fit that continues an
     * earlier one (or a checkpoint) sees the orders it would have seen */
    long first_epoch;
    const rt_dataset *validation;                 /* may be NULL */
    /* after each step: batch is 1-based, of nbatches; false stops the run */
    bool (*on_batch)(void *ud, int epoch, int batch, int nbatches, double loss, double acc);
    void (*on_epoch)(void *ud, const rt_epoch_stats *s);
    /* before each epoch (may be NULL): false ends the run there, done (early
     * stopping); a learning-rate schedule sets the epoch's rate here */
    bool (*on_epoch_begin)(void *ud, int epoch);
    void *ud;
} rt_fit_config;

typedef enum { RT_FIT_DONE, RT_FIT_STOPPED, RT_FIT_FAILED } rt_fit_status;

/* Trains m with opt. RT_FIT_FAILED fills err (bad shapes, non-finite
 * loss); RT_FIT_STOPPED when on_batch asked to stop (the model keeps the
 * updates made so far). */
rt_fit_status rt_fit(rt_model *m, rt_optim *opt, const rt_dataset *train,
                     const rt_fit_config *cfg, rt_error *err);

/* Inference-mode mean loss and accuracy over a whole dataset, in chunks of
 * `batch` rows. */
bool rt_evaluate(rt_model *m, const rt_dataset *ds, rt_loss loss, int batch,
                 double *mean_loss, double *accuracy, rt_error *err);

/* Checks that a dataset fits a model: features vs the model's input width,
 * classes vs its output width. */
bool rt_fit_check(const rt_model *m, const rt_dataset *ds, const char *what, rt_error *err);

#endif
