/*
 * clock.h — the monotonic clock in seconds, for what times itself (the
 * fit's epochs and thread tuner, the evaluation team, sweeps' progress).
 * Never part of a result: only what is printed as a duration or how work
 * is split may depend on it.
 */
#ifndef MLP_CLOCK_H
#define MLP_CLOCK_H

#include <time.h>

static inline double rt_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

#endif
