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

typedef struct rt_pool rt_pool;
typedef void (*rt_task_fn)(void *ctx, int task);

/* nthreads <= 0: read MLP_THREADS (capped at 4 per available core), else use
 * the available cores. */
rt_pool *rt_pool_create(int nthreads);
void rt_pool_destroy(rt_pool *pool);
int rt_pool_threads(const rt_pool *pool);
/* Runs fn(ctx, t) for t in [0, ntasks) and returns when all are done. */
void rt_pool_run(rt_pool *pool, int ntasks, rt_task_fn fn, void *ctx);

#endif
