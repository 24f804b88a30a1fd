/*
 * control.h — internal to stdlib/: what steers a fit from one epoch to the
 * next (train.c): the learning-rate schedule (fit's lr=, a schedule value
 * made by step(), cosine(), ... or a number), early stopping
 * (early_stopping={...}) and the user's callback (on_epoch=fn(epoch, logs)).
 *
 * The state that carries from epoch to epoch (the plateau schedule's rate
 * and wait, early stopping's best value, wait and best weights, whether
 * the fit was stopped) lives in std_control; checkpoint.c saves and
 * restores it, so a resumed fit steers exactly as one that never stopped.
 * An optimizer value may carry a schedule as its lr (nn.c,
 * `Adam(lr=cosine(...))`); fit's lr=, when given, takes its place for
 * that fit. The callback value is borrowed from fit's arguments (rooted by the VM's
 * stack for the call); best weights are malloc'd and freed by
 * std_control_free.
 */
#ifndef MLP_CONTROL_H
#define MLP_CONTROL_H

#include "fit.h"
#include "schedule.h"
#include "std.h"

extern const mlp_class std_schedule_class;

/* The metrics fit records per epoch, which monitor= may name. */
enum { STD_MON_LOSS, STD_MON_ACC, STD_MON_VAL_LOSS, STD_MON_VAL_ACC };

typedef struct std_schedule {
    rt_schedule s;
    int monitor;               /* reduce_on_plateau's metric (STD_MON_*) */
} std_schedule;

/* "val_loss" for STD_MON_VAL_LOSS ...; the index of a name, or -1. */
const char *std_monitor_name(int mon);
int std_monitor_index(const char *name);

/* The schedule behind v, or NULL when v is not a schedule. */
const std_schedule *std_schedule_of(mlp_value v);
/* A new schedule value holding a copy of *s (checked first); false + error. */
bool std_schedule_value(mlp_vm *vm, const std_schedule *s, mlp_value *out);
/* str() of a schedule: "cosine(0.001, epochs=20, warmup=0)"; the length needed. */
size_t std_schedule_text(const std_schedule *s, char *buf, size_t size);

typedef struct std_control {
    std_schedule sched;        /* lr=: kind CONSTANT with lr 0 means none given */
    bool has_sched;
    rt_sched_state sst;
    bool es;                   /* early_stopping= given */
    int es_monitor;
    long es_patience;
    double es_min_delta;
    bool es_restore;
    double es_best;            /* minimised: maximised metrics are negated */
    long es_wait, es_best_epoch;
    float *best;               /* every parameter of the best epoch (es_restore) */
    long nbest;
    mlp_value callback;        /* on_epoch=, or nil */
    bool stopped;              /* early stopping or the callback ended the fit */
    bool failed;               /* the callback raised: its error is pending */
} std_control;

/* Reads fit's lr=, early_stopping= and on_epoch= (each may be nil);
 * opt_sched: the schedule the optimizer was given as its lr (NULL: a
 * number), which steers the fit when lr= is nil; has_val: fit has
 * validation data. false + mlp_raise. */
bool std_control_init(mlp_vm *vm, std_control *c, mlp_value lr, const std_schedule *opt_sched,
                      mlp_value es, mlp_value cb, bool has_val);
/* Text for the checkpoint configuration ("" when nothing is set). */
void std_control_describe(const std_control *c, char *buf, size_t size);
/* The rate of (0-based, whole-training) epoch e, or NAN without lr=. */
double std_control_lr(const std_control *c, long e);
/* After an epoch (s: its statistics, epoch numbered as printed):
 * plateau, early stopping, the callback. Sets c->stopped or c->failed. */
void std_control_epoch_end(mlp_vm *vm, std_control *c, rt_model *m, const rt_epoch_stats *s);
/* Replays the callback for an epoch done before a resume (its answer is
 * the checkpoint's business). false: it raised. */
bool std_control_replay(mlp_vm *vm, std_control *c, const rt_epoch_stats *s);
/* At the end of the fit: restore_best puts the best epoch's weights back. */
void std_control_finish(std_control *c, rt_model *m);
void std_control_free(std_control *c);

bool std_open_control(mlp_vm *vm);

#endif
