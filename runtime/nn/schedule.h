/*
 * schedule.h — learning-rate schedules: the rate of each epoch.
 *
 * A schedule is plain data (rt_schedule) plus, for reduce_on_plateau, a
 * small state (rt_sched_state) that the caller keeps, saves in checkpoints
 * and feeds with the monitored value after each epoch. Epochs are counted
 * from 0 over the whole training with one optimizer (a fit that goes on
 * from an earlier one goes on in its schedule too). Rates per epoch e:
 *
 *   constant(lr)                    lr
 *   step(lr, every, gamma)          lr gamma^floor(e / every)       (torch StepLR)
 *   exponential(lr, rate)           lr rate^e                       (torch ExponentialLR)
 *   cosine(lr, epochs, warmup)      e < warmup: lr (e + 1) / warmup (linear warm-up);
 *                                   then lr (1 + cos(pi min(e - warmup, T) / T)) / 2,
 *                                   T = epochs - warmup (0 from epoch `epochs` on)
 *   piecewise(at[], value[])        value[i] for the last i with at[i] <= e (at[0] = 0)
 *   plateau(lr, factor, patience,   starts at lr; after an epoch whose value is not
 *           min_delta, min_lr)      below best - min_delta, wait += 1, and when
 *                                   wait reaches patience the rate becomes
 *                                   max(rate factor, min_lr) and wait 0 (Keras's
 *                                   ReduceLROnPlateau, no cooldown); values are
 *                                   minimised (the caller negates a maximised one)
 *
 * Rates are computed in double; the optimizer rounds them as it rounds any lr.
 */
#ifndef MLP_SCHEDULE_H
#define MLP_SCHEDULE_H

#include <stdbool.h>
#include <stddef.h>
#include "rt_error.h"

#define RT_SCHEDULES(X) \
    X(CONSTANT,    "constant") \
    X(STEP,        "step") \
    X(EXPONENTIAL, "exponential") \
    X(COSINE,      "cosine") \
    X(PIECEWISE,   "piecewise") \
    X(PLATEAU,     "reduce_on_plateau")

typedef enum {
#define RT_SCHED_ENUM(tag, name) RT_SCHED_##tag,
    RT_SCHEDULES(RT_SCHED_ENUM)
#undef RT_SCHED_ENUM
    RT_SCHED_COUNT
} rt_sched_kind;

enum { RT_SCHED_MAX_PIECES = 32 };

typedef struct rt_schedule {
    rt_sched_kind kind;
    double lr;                      /* the first epoch's rate (piecewise: value[0]) */
    long every;                     /* step */
    double gamma;                   /* step */
    double rate;                    /* exponential */
    long epochs, warmup;            /* cosine */
    int npieces;                    /* piecewise */
    long at[RT_SCHED_MAX_PIECES];
    double value[RT_SCHED_MAX_PIECES];
    double factor, min_delta, min_lr;   /* plateau */
    long patience;
} rt_schedule;

typedef struct rt_sched_state {
    double lr, best;                /* plateau: the current rate, the best value seen */
    long wait;                      /* epochs since the best */
} rt_sched_state;

const char *rt_schedule_name(rt_sched_kind kind);
/* false + err naming what is wrong ("step: gamma must be positive, got -1"). */
bool rt_schedule_check(const rt_schedule *s, rt_error *err);
/* "step(0.1, every=10, gamma=0.5)" into buf; returns the length needed. */
size_t rt_schedule_describe(const rt_schedule *s, char *buf, size_t size);
void rt_schedule_start(const rt_schedule *s, rt_sched_state *st);
double rt_schedule_lr(const rt_schedule *s, const rt_sched_state *st, long epoch);
/* plateau: after each epoch, the monitored value (to minimise); others: no-op */
void rt_schedule_observe(const rt_schedule *s, rt_sched_state *st, double value);

#endif
