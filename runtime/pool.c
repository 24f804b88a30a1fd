/*
 * pool.c — for now every task runs on the calling thread; the threaded pool
 * keeps this interface.
 */
#include <stdlib.h>
#include "pool.h"

struct rt_pool { int nthreads; };

rt_pool *rt_pool_create(int nthreads)
{
    rt_pool *p = malloc(sizeof *p);
    if (p) p->nthreads = 1;
    (void)nthreads;
    return p;
}

void rt_pool_destroy(rt_pool *pool) { free(pool); }

int rt_pool_threads(const rt_pool *pool) { return pool ? pool->nthreads : 1; }

void rt_pool_run(rt_pool *pool, int ntasks, rt_task_fn fn, void *ctx)
{
    (void)pool;
    for (int t = 0; t < ntasks; t++) fn(ctx, t);
}
