/*
 * thread_tuner.h — whether one fit trains faster on one thread or on all
 * of the pool's, measured as the fit goes.
 *
 * More threads are not always faster on one fit. Its threads hand the
 * batch, the gradients and the weights from core to core at every step,
 * and on a virtual machine whose CPUs the host has placed far apart (a
 * state that lasts a whole run or longer) a step then costs about twice
 * what it costs on one thread. Measured here (study network, Adam + relu,
 * 2 vCPUs, rounds alternated): an epoch 0.069-0.084 s on two threads in
 * the good state, 0.146-0.193 s in the bad one, 0.092 s on one thread; two
 * separate one-thread processes side by side never showed it, so it is the
 * sharing. So the fit keeps measuring: it times a few steps on one thread
 * and a few on all, goes on with the faster for a few hundred steps, and
 * measures again. Results never depend on it (they never depend on the
 * thread count); only the speed does.
 */
#ifndef MLP_THREAD_TUNER_H
#define MLP_THREAD_TUNER_H

#include "pool.h"

enum { RT_TUNER_PROBE = 10 };   /* steps timed per trial */

typedef struct rt_thread_tuner {
    rt_pool *pool;          /* NULL: off (no pool, or a pool of one thread) */
    int phase;              /* TUNE_* in thread_tuner.c */
    int left;               /* steps left in the phase */
    bool skip;              /* the phase's first step (the switch's own cost) is not timed */
    int threads;            /* the phase's limit on the pool (0: all) */
    int n;                  /* steps timed in this trial */
    double last;            /* when the previous step ended */
    double one[RT_TUNER_PROBE], all[RT_TUNER_PROBE];
} rt_thread_tuner;

/* The times are seconds on a monotonic clock (the caller's, so a test can
 * feed its own). Starts measuring the fit that runs on `pool`. */
void rt_tuner_begin(rt_thread_tuner *t, rt_pool *pool, double now);
/* Between the steps of two epochs: rt_tuner_pause gives the pool all its
 * threads (the verdict is about training steps, whose threads share
 * written data; the validation pass by whole batches shares none,
 * eval_team.h), rt_tuner_resume the phase's count back. Steps are timed
 * from the resume (what came between, an epoch's validation say, is not a
 * step's). */
void rt_tuner_pause(rt_thread_tuner *t);
void rt_tuner_resume(rt_thread_tuner *t, double now);
/* After every step: times it, and may change how many threads the pool
 * uses from the next step on (rt_pool_limit). */
void rt_tuner_step(rt_thread_tuner *t, double now);
/* The fit is over: the pool is left with all its threads again. */
void rt_tuner_end(rt_thread_tuner *t);

#endif
