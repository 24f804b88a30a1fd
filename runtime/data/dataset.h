/*
 * dataset.h — a labelled set of examples held in memory, and what a training
 * loop does with it: take, split, normalise, shuffle, gather a batch.
 *
 * An rt_dataset is n examples of one shape (an rt_shape of 1 to RT_MAX_DIMS
 * axes, `features` = their product) stored row-major, example after example, in
 * exactly one of two forms:
 *
 *   x_u8  != NULL: bytes, value = x_u8[i] * x_scale. Images stay like this
 *                  (MNIST is 47 MB of pixels instead of 188 MB of floats) and
 *                  are scaled only when a batch is formed;
 *   x_f32 != NULL: float32 features (CSV files, synthetic sets, anything
 *                  normalised).
 *
 * labels[i] is the class of example i, in [0, classes); classes is 0 and
 * labels NULL for a set without labels. A regression set has real-valued
 * targets instead: targets[i * outputs + j] (float32), classes 0, labels
 * NULL; batches get its rows as they are where a classification set gets
 * one-hot rows. class_names, when not NULL, holds
 * `classes` strings ("0".."9" for digits, "Sandal" ... for Fashion-MNIST,
 * the CSV label strings in order of first appearance).
 *
 * Ownership: a dataset owns every buffer it points to (allocated with
 * malloc); rt_dataset_free releases them all and leaves a zeroed struct, so
 * freeing twice is harmless. Operations that make new datasets copy: the
 * results never share storage with their source and each must be freed.
 * A zero-initialised rt_dataset (`rt_dataset ds = {0};`) is a valid empty
 * set. Every function that can fail takes an rt_error * and leaves its output
 * zeroed on failure.
 *
 * Randomness (shuffle, and the synthetic sets in synth.h) comes from the
 * small generator below, private to the data modules and independent of the
 * training RNG: splitmix64 (Steele, Lea, Flood 2014), integer arithmetic only,
 * so a seed gives the same order on every machine and compiler.
 */
#ifndef MLP_DATASET_H
#define MLP_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "rt_error.h"
#include "tensor.h"

typedef struct rt_dataset {
    int64_t n;                        /* examples */
    rt_shape shape;                   /* of one example, e.g. [28, 28] (1..4 axes) */
    int64_t features;                 /* its size, rt_shape_size(&shape) */
    uint8_t *x_u8;                    /* bytes, value = x_u8 * x_scale ... */
    float x_scale;                    /* ... e.g. 1/255 for images */
    float *x_f32;                     /* ... or float features; exactly one set */
    int classes;                      /* labels in [0, classes); 0: no labels */
    int32_t *labels;                  /* class per example, or NULL */
    char **class_names;               /* `classes` names, or NULL */
    int outputs;                      /* regression: targets per example ... */
    float *targets;                   /* ... [n x outputs], or NULL */
} rt_dataset;

/* Gives ds (which has no labels) room for `outputs` targets per example,
 * zero-filled. */
bool rt_dataset_alloc_targets(rt_dataset *ds, int outputs, rt_error *err);

/* ---- the data generator (splitmix64) ---------------------------------- */

typedef struct rt_drng { uint64_t state; } rt_drng;

/* Seeds the generator; every seed (0 included) gives a distinct stream. */
rt_drng rt_drng_seed(uint64_t seed);
/* The next 64 random bits. */
uint64_t rt_drng_next(rt_drng *g);
/* Uniform double in [0, 1) with 53 random bits. */
double rt_drng_uniform(rt_drng *g);
/* Uniform integer in [0, n), n >= 1, without modulo bias (rejection). */
uint64_t rt_drng_below(rt_drng *g, uint64_t n);
/* idx[0..n) becomes a uniformly random permutation of 0..n-1 (Fisher-Yates
 * from the top, drawing rt_drng_below(i + 1) for i = n-1 .. 1). Meant for a
 * training loop's per-epoch order: seed it from the run's seed and epoch. */
void rt_drng_permutation(rt_drng *g, int64_t *idx, int64_t n);
/* The example order of one training epoch: a permutation of 0..n-1 that
 * depends only on (seed, epoch), so epoch 7 comes out the same whether or
 * not epochs 0..6 ran in this process (sweeps, resumed runs). */
void rt_dataset_epoch_order(uint64_t seed, int64_t epoch, int64_t *idx, int64_t n);

/* ---- building and releasing ---------------------------------------------- */

/* Makes an empty-featured dataset of n examples with the given shape and
 * storage (u8 with x_scale, or f32), zero-filled; labels allocated (zeros)
 * when classes > 0. For loaders and generators. */
bool rt_dataset_alloc(rt_dataset *ds, int64_t n, const rt_shape *shape,
                      bool u8, float x_scale, int classes, rt_error *err);
/* Gives the dataset a copy of `names` (classes entries). */
bool rt_dataset_set_class_names(rt_dataset *ds, const char *const *names,
                                rt_error *err);
void rt_dataset_free(rt_dataset *ds);

/* Room for `bytes` of example data (zero-filled when asked), freed with
 * free(): what the loaders give x_u8 / x_f32. Large buffers come 2 MB
 * aligned and marked for transparent huge pages, since training reads
 * examples in random order and 4 KB pages make each one a TLB miss too.
 * NULL when out of memory. */
void *rt_examples_alloc(size_t bytes, bool zeroed);

/* ---- operations ----------------------------------------------------------- */

/* Forms a batch: rows idx[0..count) of x as float32 (scaled) into
 * x[count x features], and, when y_onehot is not NULL and the set has labels,
 * their one-hot rows into y_onehot[count x classes]. Indices must be in
 * [0, n) (checked by the caller: this runs once per batch). */
void rt_dataset_gather(const rt_dataset *ds, const int64_t *idx, int64_t count,
                       float *x, float *y_onehot);
/* Only the one-hot label rows of that batch (nothing when the set has no
 * labels). */
void rt_dataset_gather_labels(const rt_dataset *ds, const int64_t *idx, int64_t count, float *y_onehot);
/* The same batch compressed for a dense first layer (rowsparse.h) instead
 * of written out as floats: the nonzero (float)byte * x_scale values, the
 * floats rt_dataset_gather would make. False (nothing usable in xs; gather
 * floats instead) unless the set is stored as bytes, count fits xs and the
 * batch is sparse enough for it. */
struct rt_rowsparse;
bool rt_dataset_gather_sparse(const rt_dataset *ds, const int64_t *idx, int64_t count,
                              struct rt_rowsparse *xs, float *y_onehot);
/* out[i*classes + c] = (labels[i] == c) for i < n. */
void rt_onehot(const int32_t *labels, int64_t n, int classes, float *out);

/* A copy of the first n examples (n > ds->n is an error naming both). */
bool rt_dataset_take(const rt_dataset *ds, int64_t n, rt_dataset *out,
                     rt_error *err);
/* Copies of the first round(fraction * n) examples into a and the rest into
 * b; fraction in (0, 1) and both parts must be non-empty. Shuffle first for a
 * random split. */
bool rt_dataset_split(const rt_dataset *ds, double fraction, rt_dataset *a,
                      rt_dataset *b, rt_error *err);
/* Reorders the examples (and labels) by rt_drng_permutation seeded with
 * `seed`, in place. */
bool rt_dataset_shuffle(rt_dataset *ds, uint64_t seed, rt_error *err);

/* Per-feature mean and standard deviation of ds (population variance,
 * divided by n, computed in double with two passes; scaled values for u8
 * sets). mean and std hold ds->features entries. */
bool rt_dataset_feature_stats(const rt_dataset *ds, double *mean, double *std,
                              rt_error *err);
/* x <- (x - mean) / std per feature, converting a u8 set to f32 (the bytes
 * are freed). A feature whose std is 0 (a constant pixel) is divided by 1
 * instead, so it becomes 0 rather than NaN. */
bool rt_dataset_standardize(rt_dataset *ds, const double *mean,
                            const double *std, rt_error *err);
/* Statistics from `train`, applied to train and (if not NULL) `other`, which
 * must have the same features: the usual "fit the scaler on the training
 * part" step. */
bool rt_dataset_normalize(rt_dataset *train, rt_dataset *other, rt_error *err);

#endif
