/*
 * thread_tuner.c — one thread or all, timed (see thread_tuner.h).
 *
 * A cycle: RT_TUNER_PROBE steps on one thread, as many on all, each trial's
 * first step left out (it pays for the switch: the pipeline's background
 * gather changes hands); then TUNE_RUN_STEPS on whichever had the lower
 * median step (a median, so a step that lost its CPU to another process
 * does not decide). Trying the slower count costs at most 11 of 322 steps.
 */
#include <stddef.h>
#include "thread_tuner.h"

enum { TUNE_ONE, TUNE_ALL, TUNE_RUN };
enum { TUNE_RUN_STEPS = 300 };

static double median(double *v, int n)
{
    for (int i = 1; i < n; i++)     /* insertion sort: n is 10 */
        for (int j = i; j > 0 && v[j - 1] > v[j]; j--) {
            double x = v[j];
            v[j] = v[j - 1];
            v[j - 1] = x;
        }
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

static void enter(rt_thread_tuner *t, int phase, int threads)
{
    t->phase = phase;
    t->left = phase == TUNE_RUN ? TUNE_RUN_STEPS : RT_TUNER_PROBE;
    t->skip = phase != TUNE_RUN;
    t->n = 0;
    t->threads = threads;
    rt_pool_limit(t->pool, threads);
}

void rt_tuner_begin(rt_thread_tuner *t, rt_pool *pool, double now)
{
    *t = (rt_thread_tuner){0};
    if (rt_pool_size(pool) <= 1) return;
    t->pool = pool;
    t->last = now;
    enter(t, TUNE_ONE, 1);
}

void rt_tuner_pause(rt_thread_tuner *t)
{
    if (t->pool) rt_pool_limit(t->pool, 0);
}

void rt_tuner_resume(rt_thread_tuner *t, double now)
{
    if (!t->pool) return;
    t->last = now;
    rt_pool_limit(t->pool, t->threads);
}

void rt_tuner_step(rt_thread_tuner *t, double now)
{
    if (!t->pool) return;
    double dt = now - t->last;
    t->last = now;
    if (t->skip) {
        t->skip = false;
        return;
    }
    if (t->phase == TUNE_ONE) t->one[t->n++] = dt;
    else if (t->phase == TUNE_ALL) t->all[t->n++] = dt;
    if (--t->left > 0) return;
    if (t->phase == TUNE_ONE) enter(t, TUNE_ALL, 0);
    else if (t->phase == TUNE_ALL)
        enter(t, TUNE_RUN, median(t->one, RT_TUNER_PROBE) < median(t->all, RT_TUNER_PROBE) ? 1 : 0);
    else enter(t, TUNE_ONE, 1);
}

void rt_tuner_end(rt_thread_tuner *t)
{
    if (t->pool) rt_pool_limit(t->pool, 0);
    t->pool = NULL;
}
