/*
 * pool.h — a small fixed thread pool, created once and reused.
 *
 * Work is expressed as `ntasks` independent tasks; task t is always the same
 * slice of the output whatever the thread count, so results never depend on
 * how many threads ran them. The pool size comes from MLP_THREADS (default:
 * the cores available to the process). A NULL pool runs everything on the
 * calling thread. The pool owns its threads; rt_pool_destroy joins them.
 */
#ifndef MLP_POOL_H
#define MLP_POOL_H

#include <stdatomic.h>
#include <stdbool.h>

typedef struct rt_pool rt_pool;
typedef void (*rt_task_fn)(void *ctx, int task);

/* nthreads <= 0: read MLP_THREADS (capped at 4 per available core), else use
 * the available cores. */
rt_pool *rt_pool_create(int nthreads);
void rt_pool_destroy(rt_pool *pool);
/* The threads a run may use now: all of them, or as the pool's core share
 * (below) allows at this moment. */
int rt_pool_threads(const rt_pool *pool);
/* The threads the pool has, whatever its share allows now. */
int rt_pool_size(const rt_pool *pool);
/* At most n threads per run from now on (n <= 0: no limit), by the same
 * means as a core share; for a caller that measures which count is faster
 * (the fit does: runtime/nn/thread_tuner.h). */
void rt_pool_limit(rt_pool *pool, int n);
/* Runs fn(ctx, t) for t in [0, ntasks) and returns when all are done. */
void rt_pool_run(rt_pool *pool, int ntasks, rt_task_fn fn, void *ctx);

/* A job in the background: rt_pool_spawn hands fn(ctx) to the first idle
 * worker and returns at once; rt_pool_join returns when it is done, running
 * it on the calling thread if no worker has started it yet (so a busy
 * machine never waits for a worker that has no CPU). Meanwhile the caller
 * may rt_pool_run as usual: a worker busy with the job just does not help.
 * With `after_run` the workers leave the job alone until the caller's next
 * rt_pool_run has finished, so they help with that run first (a pipeline
 * whose step starts with its biggest split product wants that).
 * One job at a time per pool (spawn joins the previous one first), spawned
 * and joined by the same thread; the job must not spawn. A NULL pool or a
 * pool of one thread runs fn inside rt_pool_spawn. The job must touch
 * nothing the caller touches until the join, which makes its results
 * independent of where and when it ran. */
typedef void (*rt_job_fn)(void *ctx);
void rt_pool_spawn(rt_pool *pool, rt_job_fn fn, void *ctx, bool after_run);
void rt_pool_join(rt_pool *pool);

/* Cores shared by several pools, in one process or (the struct then in
 * shared memory) in several: `busy` counts the pools at work now, `cores`
 * the CPUs they share. A pool given a share (rt_pool_share) uses in each
 * run or background job at most max(own, cores / busy) of its threads, so
 * the cores of a process whose work has ended go to those still at work
 * (mlp -j: the last points of a sweep get the idle workers' cores). The
 * pool must have been created with enough threads to use them. Results
 * never depend on it, as they never depend on the thread count. */
typedef struct rt_core_share {
    atomic_int busy;
    int cores;
} rt_core_share;
/* share NULL: all the pool's threads, always (the default). own >= 1. */
void rt_pool_share(rt_pool *pool, rt_core_share *share, int own);

#endif
