/*
 * pool.c — the fixed thread pool behind rt_pool_run.
 *
 * Shape of a run. The caller publishes a job (fn, ctx, ntasks), resets the
 * shared task counter and bumps the generation number; workers notice the new
 * generation and, like the caller, claim task indices with one atomic
 * fetch-add each until the counter passes ntasks. The caller then waits until
 * every task has reported done. Which thread runs task t is left to chance;
 * what task t computes is not (that is the caller's promise in pool.h), so
 * results never depend on scheduling.
 *
 * Why this is cheap: the study network issues thousands of GEMMs a second,
 * each a few microseconds of work, so a run must cost far less than that.
 * Idle workers first spin on the generation number (a hand-off then costs a
 * cache-line transfer, well under a microsecond) and only after
 * RT_POOL_SPIN_NS of idleness go to sleep on a condition variable, so an idle
 * interpreter does not burn a core.
 *
 * Two subtleties:
 *  - A worker may still be inside a job (about to find the counter
 *    exhausted) when the caller wants to publish the next one. Workers hold
 *    `active` while they look at the job fields; the caller first makes the
 *    generation odd ("fields in flux", no worker enters), waits for
 *    active == 0, rewrites the fields, and makes the generation even again.
 *  - A run started while another is in progress (a task calling
 *    rt_pool_run, or a second thread sharing the pool) cannot use the
 *    workers; it runs its tasks inline on the calling thread instead of
 *    deadlocking. Same results, only less parallel.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>
#include "pool.h"

/* How long an idle worker spins before sleeping: long enough to bridge the
 * gap between consecutive GEMMs of a training step, short enough not to
 * steal a core from other processes for long. */
#define RT_POOL_SPIN_NS 200000L
/* Upper bound on MLP_THREADS, a guard against typos like 1000000. */
#define RT_POOL_MAX_THREADS 256

struct rt_pool {
    int nthreads;               /* workers + the calling thread */
    pthread_t *workers;         /* nthreads - 1 of them */

    /* The current job; written only by the owner of `busy` while
     * active == 0, read by workers after they observe `gen`. */
    rt_task_fn fn;
    void *ctx;
    int ntasks;

    atomic_uint gen;            /* odd while the job fields are rewritten */
    atomic_int next;            /* next unclaimed task index */
    atomic_int done;            /* tasks finished in this job */
    atomic_int active;          /* workers currently looking at the job */
    atomic_int busy;            /* 1 while some thread owns the workers */
    atomic_int sleepers;        /* workers blocked on `wake` */
    atomic_bool stop;           /* set once, by rt_pool_destroy */

    pthread_mutex_t lock;
    pthread_cond_t wake;
};

/* A polite busy-wait step: tells the core we are spinning (saves power and
 * frees the sibling hyperthread where there is one). */
static inline void cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

/* Waiting on another thread: spin briefly (it is usually running and
 * about to finish), then yield on every turn. On an oversubscribed machine
 * the thread we wait for may be preempted; spinning on would burn our whole
 * time slice while it waits for a CPU. */
static void backoff(unsigned spins)
{
    if (spins < 512) cpu_relax();
    else sched_yield();
}

static long now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000L + ts.tv_nsec;
}

/* Claims and runs tasks of the current job until none are left. */
static void drain(rt_pool *p)
{
    int n = p->ntasks;
    for (;;) {
        int t = atomic_fetch_add_explicit(&p->next, 1, memory_order_relaxed);
        if (t >= n) return;
        p->fn(p->ctx, t);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
}

/* Blocks until the generation differs from `seen` or the pool stops. */
static unsigned wait_for_job(rt_pool *p, unsigned seen)
{
    long deadline = 0;
    for (int spins = 0;; spins++) {
        unsigned g = atomic_load_explicit(&p->gen, memory_order_acquire);
        if (g != seen || atomic_load(&p->stop)) return g;
        cpu_relax();
        /* Reading the clock costs ~20 ns: do it only now and then. */
        if ((spins & 255) == 255) {
            long t = now_ns();
            if (!deadline) deadline = t + RT_POOL_SPIN_NS;
            else if (t > deadline) break;
        }
    }
    /* Sleep. sleepers++ and the re-check of gen are ordered against the
     * caller's gen++ and its read of sleepers (all seq_cst), so either we see
     * the new job here or the caller sees us and signals under the lock. */
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->sleepers, 1);
    unsigned g;
    while ((g = atomic_load(&p->gen)) == seen && !atomic_load(&p->stop))
        pthread_cond_wait(&p->wake, &p->lock);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->lock);
    return g;
}

static void *worker_main(void *arg)
{
    rt_pool *p = arg;
    unsigned seen = 0;
    for (;;) {
        unsigned g = wait_for_job(p, seen);
        if (atomic_load(&p->stop)) return NULL;
        /* Announce ourselves before touching the job, then check that it is
         * still the published job we were woken for (see the header note):
         * an odd generation means the caller is rewriting the fields. */
        atomic_fetch_add(&p->active, 1);
        if ((g & 1u) == 0 && atomic_load(&p->gen) == g) drain(p);
        atomic_fetch_sub_explicit(&p->active, 1, memory_order_release);
        seen = g;
    }
}

/* MLP_THREADS if it is a positive integer, else the CPUs this process may
 * run on (which respects taskset/cgroup limits, unlike the core count). */
static int default_threads(void)
{
    const char *s = getenv("MLP_THREADS");
    if (s && *s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (!errno && *end == '\0' && v >= 1)
            return v > RT_POOL_MAX_THREADS ? RT_POOL_MAX_THREADS : (int)v;
    }
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0) {
        int n = CPU_COUNT(&set);
        if (n >= 1) return n > RT_POOL_MAX_THREADS ? RT_POOL_MAX_THREADS : n;
    }
    return 1;
}

rt_pool *rt_pool_create(int nthreads)
{
    if (nthreads <= 0) nthreads = default_threads();
    if (nthreads > RT_POOL_MAX_THREADS) nthreads = RT_POOL_MAX_THREADS;
    rt_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->workers = calloc((size_t)nthreads, sizeof *p->workers);
    if (!p->workers) {
        free(p);
        return NULL;
    }
    atomic_init(&p->gen, 0);
    atomic_init(&p->next, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->active, 0);
    atomic_init(&p->busy, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->stop, false);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    /* If the system refuses a thread, run with the ones we got: a smaller
     * pool computes the same results. */
    p->nthreads = 1;
    for (int i = 0; i < nthreads - 1; i++) {
        if (pthread_create(&p->workers[i], NULL, worker_main, p) != 0) break;
        p->nthreads++;
    }
    return p;
}

void rt_pool_destroy(rt_pool *pool)
{
    if (!pool) return;
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->stop, true);
    atomic_fetch_add(&pool->gen, 1);
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->nthreads - 1; i++)
        pthread_join(pool->workers[i], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool->workers);
    free(pool);
}

int rt_pool_threads(const rt_pool *pool) { return pool ? pool->nthreads : 1; }

void rt_pool_run(rt_pool *pool, int ntasks, rt_task_fn fn, void *ctx)
{
    if (ntasks <= 0) return;
    int expect = 0;
    if (!pool || pool->nthreads == 1 || ntasks == 1 ||
        !atomic_compare_exchange_strong(&pool->busy, &expect, 1)) {
        for (int t = 0; t < ntasks; t++) fn(ctx, t);
        return;
    }
    /* Odd generation: the fields are in flux, no worker may enter. Then
     * wait for stragglers of the previous job to let go of them. */
    atomic_fetch_add(&pool->gen, 1);
    for (unsigned spins = 0; atomic_load(&pool->active) != 0; spins++)
        backoff(spins);
    pool->fn = fn;
    pool->ctx = ctx;
    pool->ntasks = ntasks;
    atomic_store_explicit(&pool->next, 0, memory_order_relaxed);
    atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
    atomic_fetch_add(&pool->gen, 1);    /* even again: publishes the fields */
    if (atomic_load(&pool->sleepers) > 0) {
        pthread_mutex_lock(&pool->lock);
        pthread_cond_broadcast(&pool->wake);
        pthread_mutex_unlock(&pool->lock);
    }
    drain(pool);
    /* Our share is done; the rest is at most one task per worker. */
    for (unsigned spins = 0;
         atomic_load_explicit(&pool->done, memory_order_acquire) != ntasks; spins++)
        backoff(spins);
    atomic_store_explicit(&pool->busy, 0, memory_order_release);
}
