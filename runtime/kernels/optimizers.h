/*
 * optimizers.h — parameter update rules, one table row per optimizer.
 *
 * An optimizer is ONE row of the table in optimizers.c: its name, a
 * one-line doc and, per dialect, its hyperparameters (name, default, doc,
 * boolean or number), how many state slots each parameter needs, the update
 * rule as text, a once-per-step function that turns hyperparameters and
 * the step count into the step's scalar coefficients, and ONE fused update
 * kernel (a single pass over w, g and the state slots, its formula in a
 * comment). Everything that lists optimizers (messages, the stdlib's
 * globals, the REPL's :defaults and :help, LANGUAGE.md's tables, the unit
 * tests) iterates the table through the functions below.
 *
 * Dialects. `keras` (the default) is tf.keras 2.x before the 2.11 rewrite:
 * eps outside the square root, Adam's bias correction folded into the
 * step size, Keras's defaults (DESIGN.md lists them). `torch` is PyTorch's
 * torch.optim: its defaults (e.g. RMSprop lr 0.01, alpha 0.99, eps 1e-8;
 * Adam eps 1e-8 with bias-corrected m^/(sqrt(v^) + eps); SGD momentum
 * buffer b = mu b + g, w -= lr b) and its weight_decay (L2 added to g).
 * Names are matched without regard to case (the table's spelling is the
 * canonical one).
 *
 * Hyperparameters are doubles addressed by name (`lr`, `beta1`, ...; the
 * booleans such as nesterov are stored as 0 or 1 and printed true/false)
 * and may change between steps (a learning-rate schedule sets `lr` before
 * each step). rt_optim_describe
 * prints "Adam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-07)".
 *
 * State. The optimizer owns its state slots (allocated through rt_alloc on
 * the first step, sized from the parameters then; later steps must pass
 * parameters of the same sizes, else the step fails with an error).
 * rt_optim_reset forgets state and step count, for a fresh fit.
 *
 * Numerics: per-step coefficients (bias corrections, schedules) are
 * computed in double from the hyperparameters, rounded to float once; the
 * kernels are float, elementwise, in a fixed order: the same bits on every
 * machine and thread count.
 */
#ifndef MLP_OPTIMIZERS_H
#define MLP_OPTIMIZERS_H

#include <stdbool.h>
#include <stddef.h>
#include "pool.h"
#include "rt_error.h"
#include "tensor.h"

/* A trainable (or not) parameter as layers expose it: values, gradient. */
typedef struct rt_param {
    const char *name;       /* "kernel", "bias", "gamma", "moving_mean", ... */
    float *w;
    float *g;               /* NULL for non-trainable parameters */
    long size;
    rt_shape shape;         /* [in, out] for a kernel, [out] for a vector */
    bool trainable;
} rt_param;

typedef enum { RT_DIALECT_KERAS, RT_DIALECT_TORCH, RT_DIALECT_COUNT } rt_dialect;

typedef struct rt_optim rt_optim;

/* dialect: "keras", "torch" or NULL (keras). NULL + err on unknown names. */
rt_optim *rt_optim_create(const char *name, const char *dialect, rt_error *err);
void rt_optim_free(rt_optim *opt);
rt_optim *rt_optim_clone(const rt_optim *opt, rt_error *err);   /* hypers only, fresh state */

const char *rt_optim_name(const rt_optim *opt);        /* canonical spelling: "Adam" */
const char *rt_optim_doc(const rt_optim *opt);         /* one line; NULL if user-defined */
rt_dialect rt_optim_dialect(const rt_optim *opt);
const char *rt_dialect_name(rt_dialect d);

/* false when the optimizer has no hyperparameter of that name. */
bool rt_optim_set(rt_optim *opt, const char *hyper, double value);
bool rt_optim_get(const rt_optim *opt, const char *hyper, double *value);
int rt_optim_nhypers(const rt_optim *opt);
const char *rt_optim_hyper_name(const rt_optim *opt, int i);
double rt_optim_hyper_value(const rt_optim *opt, int i);
bool rt_optim_hyper_is_bool(const rt_optim *opt, int i);
const char *rt_optim_hyper_doc(const rt_optim *opt, int i);    /* NULL for user-defined ones */
/* "Adam(lr=0.001, beta1=0.9, ...)" into buf; returns the length it needed. */
size_t rt_optim_describe(const rt_optim *opt, char *buf, size_t size);
/* The update rule as text for people, one step per line (static). */
const char *rt_optim_rule(const rt_optim *opt);

/* One update of every trainable parameter (non-trainable ones skipped). */
bool rt_optim_step(rt_optim *opt, rt_param *params, int nparams, rt_error *err);
/* The same with a built-in rule's pass split across a pool (may be NULL)
 * when the parameters are big enough to repay it: the rules are
 * elementwise, so the bits are the same for any thread count. A
 * user-defined optimizer's step runs on the calling thread. */
bool rt_optim_step_pool(rt_optim *opt, rt_pool *pool, rt_param *params, int nparams,
                        rt_error *err);
long rt_optim_steps(const rt_optim *opt);
void rt_optim_reset(rt_optim *opt);

/* A user-defined optimizer (an `optimizer` declaration compiled to an
 * expression kernel, or a C update kernel bound through the FFI). The
 * optimizer made from it behaves as a table row does (hyperparameters by
 * name, describe, clone, reset, state slots allocated on the first step and
 * checked against the parameters' sizes), but a step calls `step` once
 * with every parameter: it computes its per-step scalars once and runs its
 * fused pass over each trainable parameter. slots[p * nslots + s] is state
 * slot s of parameter p (size 0 for non-trainable ones), filled at
 * allocation with slot_init(ctx, h, s). ctx is shared by clones: retain
 * and release count its users (either may be NULL). At most 7 hypers. */
typedef struct rt_optim_custom {
    const char *name;
    int nhypers;
    const char *const *hyper_names;
    const double *hyper_defaults;
    int nslots;
    void *ctx;
    double (*slot_init)(void *ctx, const double *h, int slot);
    bool (*step)(void *ctx, const double *h, long t, rt_param *params, int nparams,
                 float *const *slots, rt_error *err);
    void (*retain)(void *ctx);
    void (*release)(void *ctx);
} rt_optim_custom;

/* A new optimizer running `def` (borrowed: it must outlive the optimizer
 * and its clones, which the ctx's retain/release can ensure). */
rt_optim *rt_optim_create_custom(const rt_optim_custom *def, rt_error *err);
/* The definition behind an optimizer, or NULL for a table row. */
const rt_optim_custom *rt_optim_custom_def(const rt_optim *opt);

/* Checkpoints: everything a step leaves behind, so that a run can stop and
 * go on with the same bits. rt_optim_prepare allocates the state slots for
 * these parameters as the first step would (a no-op once they exist);
 * state i of rt_optim_nstate is slot i % nslots of parameter i / nslots
 * (size 0 for non-trainable ones). The scalar accumulators are the
 * running products some rules keep (e.g. Nadam's momentum schedule). */
bool rt_optim_prepare(rt_optim *opt, rt_param *params, int nparams, rt_error *err);
int rt_optim_nstate(const rt_optim *opt);
float *rt_optim_state(rt_optim *opt, int i, long *size);
void rt_optim_set_steps(rt_optim *opt, long t);
double *rt_optim_accs(rt_optim *opt, int *n);

/* The rows of the table, for help text, docs and tests. */
int rt_optim_count(void);
const char *rt_optim_table_name(int i);
const char *rt_optim_table_doc(int i);
bool rt_optim_table_has(int i, rt_dialect d);    /* false: no such dialect of row i */
/* The table as Markdown for lang/LANGUAGE.md (tables_doc.c); malloc'd,
 * the caller frees it; NULL when out of memory. */
char *rt_optim_markdown(void);

#endif
