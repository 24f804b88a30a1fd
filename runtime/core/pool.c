/*
 * pool.c — the fixed thread pool behind rt_pool_run.
 *
 * Shape of a run. The caller writes the job (fn, ctx, first task) and then
 * publishes one 64-bit word, `claim`: the job's generation number, its task
 * count and the next unclaimed task index. Workers notice the new
 * generation and, like the caller, take tasks one at a time by a
 * compare-and-swap that bumps the index. The caller keeps taking tasks
 * until none is left unclaimed, so it never waits for a worker that has not
 * started: a worker that is asleep, or preempted by another process, simply
 * finds the job finished when it gets a CPU again. The caller waits only
 * for tasks a worker has actually claimed, which is why the callers split
 * their work into more tasks than threads (a claimed task is small, so a
 * worker preempted in the middle of one costs little on average). Which
 * thread runs task t is left to chance; what task t computes is not (the
 * promise in pool.h), so results never depend on scheduling.
 *
 * Why a worker cannot run a task of the wrong job. A claim is a CAS from
 * the exact word (gen, n, t) the worker read to (gen, n, t + 1). It
 * succeeds only if no one claimed task t in between, so job `gen` was
 * unfinished from the worker's read of the word to its CAS, and the caller
 * rewrites the job fields only after its job is finished: the fields the
 * worker read in between belonged to job `gen`. (The previous design made
 * the caller wait until no straggler of the last job was still looking at
 * the fields, and a straggler preempted at that point stalled the caller
 * for a scheduler time slice: milliseconds, on a step of 200 microseconds.)
 * The fields are atomics, read relaxed, because a straggler may read them
 * while the caller rewrites them; its CAS then fails and it drops what it
 * read.
 *
 * Why this is cheap: the study network issues thousands of products a
 * second, each tens of microseconds, so a run must cost far less. Idle
 * workers first spin on the word (a hand-off then costs a cache-line
 * transfer, well under a microsecond), pausing for a few microseconds and
 * then calling sched_yield on every turn, and after RT_POOL_SPIN_NS of
 * idleness sleep on a condition variable, so an idle interpreter does not
 * burn a core. The yields matter on a busy machine: measured with another
 * process hogging one of two cores, a worker that pause-spun took CPU time
 * from its own caller and made training 1.6x slower than one thread; one
 * that yields leaves the core to whoever else wants it.
 *
 * A run started while another is in progress (a task calling rt_pool_run,
 * or a second thread sharing the pool) cannot use the workers; it runs its
 * tasks inline on the calling thread instead of deadlocking. Same results,
 * only less parallel.
 *
 * The background job (rt_pool_spawn) lives beside the claim word in one
 * state word, `bg`: EMPTY -> POSTED (spawn) -> RUNNING (claimed by a CAS,
 * by a worker or by the joining caller) -> DONE -> EMPTY (join); a job
 * spawned `after_run` is HELD until the caller's next rt_pool_run ends,
 * then POSTED (workers look only for POSTED; the join claims either). Whoever
 * wins the CAS runs it, so it runs once; the caller claiming it at the
 * join runs it inline rather than wait for a worker that has not begun. An
 * idle worker looks for a job of tasks first (the caller waits on those)
 * and then for the background job, and sleeps only when neither is there.
 *
 * A pool given a core share (rt_pool_share) or a limit (rt_pool_limit)
 * sets, before each run or spawn, how many workers are enlisted: workers past that number treat
 * new jobs as not theirs and soon sleep, so they take no CPU from the
 * other processes of the share; with no worker enlisted the caller runs
 * everything inline, as a pool of one thread does.
 */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <time.h>
#include "pool.h"

/* How long an idle worker spins before sleeping: long enough to bridge the
 * gap between consecutive products of a training step, short enough not to
 * steal a core from other processes for long. */
#define RT_POOL_SPIN_NS 300000L
/* Pause-spins (about 40 ns each) before the spin turns into yields. */
#define RT_POOL_PAUSE_SPINS 256
/* Upper bound on MLP_THREADS, a guard against typos like 1000000. */
#define RT_POOL_MAX_THREADS 256
/* MLP_THREADS gives at most this many threads per CPU the process may use. */
#define RT_POOL_THREADS_PER_CPU 4
/* Tasks per published job (the width of the word's count and index
 * fields); a larger run is published as several jobs in turn. */
#define RT_POOL_JOB_TASKS 0xffff

/* The claim word: generation << 32 | task count << 16 | next index. */
static inline uint64_t word_make(uint32_t gen, int n, int next)
{
    return (uint64_t)gen << 32 | (uint64_t)n << 16 | (uint64_t)next;
}
static inline uint32_t word_gen(uint64_t w) { return (uint32_t)(w >> 32); }
static inline int word_n(uint64_t w) { return (int)(w >> 16 & 0xffff); }
static inline int word_next(uint64_t w) { return (int)(w & 0xffff); }

typedef struct worker_arg {
    struct rt_pool *pool;
    int index;                  /* 0 .. nthreads - 2 */
} worker_arg;

struct rt_pool {
    int nthreads;               /* workers + the calling thread */
    pthread_t *workers;         /* nthreads - 1 of them */
    worker_arg *args;

    rt_core_share *share;       /* NULL: every worker, always */
    int own;                    /* threads the share always leaves us */
    atomic_int enlisted;        /* workers 0 .. enlisted - 1 may take work */
    atomic_int limit;           /* rt_pool_limit; 0: none */

    /* The current job, written by the owner of `busy` before it publishes
     * `claim`, rewritten only once every task of the job is done. */
    _Atomic(rt_task_fn) fn;
    _Atomic(void *) ctx;
    atomic_int first;           /* task number of index 0 of this job */

    _Atomic uint64_t claim;     /* see word_make */
    atomic_int done;            /* tasks finished in this job */
    atomic_int busy;            /* 1 while some thread owns the workers */
    atomic_int sleepers;        /* workers blocked on `wake` */
    atomic_bool stop;           /* set once, by rt_pool_destroy */
    atomic_int started;         /* workers that have reached worker_main */

    /* The background job: fn and ctx are written before bg becomes
     * POSTED and rewritten only after the join saw it DONE. */
    _Atomic(rt_job_fn) bg_fn;
    _Atomic(void *) bg_ctx;
    atomic_int bg;              /* BG_* */

    pthread_mutex_t lock;
    pthread_cond_t wake;
};

enum { BG_EMPTY, BG_HELD, BG_POSTED, BG_RUNNING, BG_DONE };

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

/* Claims and runs tasks of job `gen` until none is left unclaimed or a
 * newer job has replaced it (see the header note for why the fields read
 * here are the job's own when the CAS succeeds). */
static void drain(rt_pool *p, uint32_t gen)
{
    uint64_t w = atomic_load_explicit(&p->claim, memory_order_acquire);
    for (;;) {
        if (word_gen(w) != gen || word_next(w) >= word_n(w)) return;
        rt_task_fn fn = atomic_load_explicit(&p->fn, memory_order_relaxed);
        void *ctx = atomic_load_explicit(&p->ctx, memory_order_relaxed);
        int first = atomic_load_explicit(&p->first, memory_order_relaxed);
        if (!atomic_compare_exchange_weak_explicit(&p->claim, &w, w + 1, memory_order_acquire,
                                                   memory_order_acquire))
            continue;                   /* w now holds the current word */
        fn(ctx, first + word_next(w));
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
        w = atomic_load_explicit(&p->claim, memory_order_acquire);
    }
}

/* Something for idle worker `me`: a job newer than `seen` or a background
 * job to claim while it is enlisted, or the pool stopping. */
static bool work_waiting(rt_pool *p, int me, uint32_t g, uint32_t seen)
{
    if (atomic_load(&p->stop)) return true;
    return me < atomic_load_explicit(&p->enlisted, memory_order_relaxed) &&
           (g != seen || atomic_load(&p->bg) == BG_POSTED);
}

/* Runs the background job if it is in state `from` (POSTED for a worker,
 * also HELD for the joining caller) and this thread claims it. */
static void run_bg(rt_pool *p, int from)
{
    int expect = from;
    if (atomic_load_explicit(&p->bg, memory_order_relaxed) != from ||
        !atomic_compare_exchange_strong(&p->bg, &expect, BG_RUNNING))
        return;
    rt_job_fn fn = atomic_load_explicit(&p->bg_fn, memory_order_relaxed);
    void *ctx = atomic_load_explicit(&p->bg_ctx, memory_order_relaxed);
    fn(ctx);
    atomic_store_explicit(&p->bg, BG_DONE, memory_order_release);
}

/* Blocks until work_waiting; returns the current generation. */
static uint32_t wait_for_job(rt_pool *p, int me, uint32_t seen)
{
    long deadline = 0;
    for (int spins = 0;; spins++) {
        uint32_t g = word_gen(atomic_load_explicit(&p->claim, memory_order_acquire));
        if (work_waiting(p, me, g, seen)) return g;
        /* Briefly pause-spin, then yield on every turn: alone on its core
         * the worker still answers within a microsecond or two, but on a
         * core shared with another process (or with our own caller) it
         * gives the CPU away instead of burning the slice it competes for. */
        if (spins < RT_POOL_PAUSE_SPINS) cpu_relax();
        else sched_yield();
        /* Reading the clock costs ~20 ns: do it only now and then. */
        if ((spins & 15) == 15) {
            long t = now_ns();
            if (!deadline) deadline = t + RT_POOL_SPIN_NS;
            else if (t > deadline) break;
        }
    }
    /* Sleep. sleepers++ and the re-check of the words are ordered against
     * the caller's publication and its read of sleepers (all seq_cst), so
     * either we see the new job here or the caller sees us and signals
     * under the lock. */
    pthread_mutex_lock(&p->lock);
    atomic_fetch_add(&p->sleepers, 1);
    uint32_t g;
    while (!work_waiting(p, me, g = word_gen(atomic_load(&p->claim)), seen))
        pthread_cond_wait(&p->wake, &p->lock);
    atomic_fetch_sub(&p->sleepers, 1);
    pthread_mutex_unlock(&p->lock);
    return g;
}

static void *worker_main(void *arg)
{
    const worker_arg *a = arg;
    rt_pool *p = a->pool;
    uint32_t seen = 0;
    atomic_fetch_add(&p->started, 1);
    for (;;) {
        uint32_t g = wait_for_job(p, a->index, seen);
        if (atomic_load(&p->stop)) return NULL;
        if (g != seen) drain(p, g);
        seen = g;
        run_bg(p, BG_POSTED);
    }
}

/* MLP_THREADS if it is a positive integer, else the CPUs this process may
 * run on (which respects taskset/cgroup limits, unlike the core count).
 * MLP_THREADS is capped at RT_POOL_THREADS_PER_CPU threads per such CPU:
 * beyond that threads only wait for each other (results never depend on
 * the count, so the cap changes speed alone). */
static int default_threads(void)
{
    int cpus = 1;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) == 0 && CPU_COUNT(&set) >= 1)
        cpus = CPU_COUNT(&set);
    if (cpus > RT_POOL_MAX_THREADS) cpus = RT_POOL_MAX_THREADS;
    const char *s = getenv("MLP_THREADS");
    if (s && *s) {
        char *end;
        errno = 0;
        long v = strtol(s, &end, 10);
        if (!errno && *end == '\0' && v >= 1) {
            long cap = (long)cpus * RT_POOL_THREADS_PER_CPU;
            if (cap > RT_POOL_MAX_THREADS) cap = RT_POOL_MAX_THREADS;
            return (int)(v > cap ? cap : v);
        }
    }
    return cpus;
}

rt_pool *rt_pool_create(int nthreads)
{
    if (nthreads <= 0) nthreads = default_threads();
    if (nthreads > RT_POOL_MAX_THREADS) nthreads = RT_POOL_MAX_THREADS;
    rt_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->workers = calloc((size_t)nthreads, sizeof *p->workers);
    p->args = calloc((size_t)nthreads, sizeof *p->args);
    if (!p->workers || !p->args) {
        free(p->workers);
        free(p->args);
        free(p);
        return NULL;
    }
    atomic_init(&p->fn, NULL);
    atomic_init(&p->ctx, NULL);
    atomic_init(&p->first, 0);
    atomic_init(&p->claim, word_make(0, 0, 0));
    atomic_init(&p->done, 0);
    atomic_init(&p->busy, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->stop, false);
    atomic_init(&p->started, 0);
    atomic_init(&p->bg_fn, NULL);
    atomic_init(&p->bg_ctx, NULL);
    atomic_init(&p->bg, BG_EMPTY);
    atomic_init(&p->enlisted, nthreads - 1);
    atomic_init(&p->limit, 0);
    pthread_mutex_init(&p->lock, NULL);
    pthread_cond_init(&p->wake, NULL);
    /* If the system refuses a thread, run with the ones we got: a smaller
     * pool computes the same results. */
    p->nthreads = 1;
    for (int i = 0; i < nthreads - 1; i++) {
        p->args[i] = (worker_arg){p, i};
        if (pthread_create(&p->workers[i], NULL, worker_main, &p->args[i]) != 0) break;
        p->nthreads++;
    }
    /* Returns once every worker runs our code. A sweep fork()s right
     * after a point's pool is made (a nested sweep at once), and a thread
     * still starting may hold a lock of the C library's or a sanitizer's
     * at that instant, which the child would then wait for forever: ASan's
     * allocator (GCC 12) has no fork handler, and 6 of 12 runs of
     * tests/lang/sweep/sweep_nested_recursion.mlp hung under ASan with four
     * side by side, a child in calloc from pthread_getattr_np. Started,
     * a worker only spins, yields or sleeps until it is given work. */
    while (atomic_load(&p->started) < p->nthreads - 1) sched_yield();
    return p;
}

static void wake_sleepers(rt_pool *p)
{
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->lock);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->lock);
    }
}

/* Publishes word w and wakes the sleeping workers, if any. */
static void publish(rt_pool *p, uint64_t w)
{
    atomic_store(&p->claim, w);
    wake_sleepers(p);
}

void rt_pool_destroy(rt_pool *pool)
{
    if (!pool) return;
    rt_pool_join(pool);
    uint32_t gen = word_gen(atomic_load(&pool->claim));
    pthread_mutex_lock(&pool->lock);
    atomic_store(&pool->stop, true);
    atomic_store(&pool->claim, word_make(gen + 1, 0, 0));
    pthread_cond_broadcast(&pool->wake);
    pthread_mutex_unlock(&pool->lock);
    for (int i = 0; i < pool->nthreads - 1; i++)
        pthread_join(pool->workers[i], NULL);
    pthread_cond_destroy(&pool->wake);
    pthread_mutex_destroy(&pool->lock);
    free(pool->workers);
    free(pool->args);
    free(pool);
}

int rt_pool_size(const rt_pool *pool) { return pool ? pool->nthreads : 1; }

void rt_pool_share(rt_pool *pool, rt_core_share *share, int own)
{
    if (!pool) return;
    pool->share = share;
    pool->own = own < 1 ? 1 : own;
}

int rt_pool_threads(const rt_pool *p)
{
    if (!p) return 1;
    int n = p->nthreads;
    if (p->share) {
        int busy = atomic_load_explicit(&p->share->busy, memory_order_relaxed);
        int fair = busy > 0 ? p->share->cores / busy : p->share->cores;
        n = fair > p->own ? fair : p->own;
        if (n > p->nthreads) n = p->nthreads;
    }
    int limit = atomic_load_explicit(&p->limit, memory_order_relaxed);
    return limit > 0 && limit < n ? limit : n;
}

void rt_pool_limit(rt_pool *pool, int n)
{
    if (pool) atomic_store_explicit(&pool->limit, n > 0 ? n : 0, memory_order_relaxed);
}

/* Threads this run may use, and the workers enlisted accordingly. Called
 * by the owner of the pool between its runs (busy is 0 or ours). */
static int enlist(rt_pool *p)
{
    int n = rt_pool_threads(p);
    atomic_store_explicit(&p->enlisted, n - 1, memory_order_relaxed);
    return n;
}

void rt_pool_run(rt_pool *pool, int ntasks, rt_task_fn fn, void *ctx)
{
    if (ntasks <= 0) return;
    int expect = 0;
    if (!pool || pool->nthreads == 1 || ntasks == 1 ||
        !atomic_compare_exchange_strong(&pool->busy, &expect, 1)) {
        for (int t = 0; t < ntasks; t++) fn(ctx, t);
        return;
    }
    if (enlist(pool) == 1) {
        for (int t = 0; t < ntasks; t++) fn(ctx, t);
        atomic_store_explicit(&pool->busy, 0, memory_order_release);
        return;
    }
    for (int first = 0; first < ntasks; first += RT_POOL_JOB_TASKS) {
        int n = ntasks - first < RT_POOL_JOB_TASKS ? ntasks - first : RT_POOL_JOB_TASKS;
        /* The previous job is finished (we waited for it), so no worker
         * can claim from the word until we publish the new one. */
        uint32_t gen = word_gen(atomic_load_explicit(&pool->claim, memory_order_relaxed)) + 1;
        atomic_store_explicit(&pool->fn, fn, memory_order_relaxed);
        atomic_store_explicit(&pool->ctx, ctx, memory_order_relaxed);
        atomic_store_explicit(&pool->first, first, memory_order_relaxed);
        atomic_store_explicit(&pool->done, 0, memory_order_relaxed);
        publish(pool, word_make(gen, n, 0));
        drain(pool, gen);
        /* Every task is claimed; wait only for those a worker is running. */
        for (unsigned spins = 0;
             atomic_load_explicit(&pool->done, memory_order_acquire) != n; spins++)
            backoff(spins);
    }
    int held = BG_HELD;     /* a job spawned after_run: the workers may take it now */
    if (atomic_load_explicit(&pool->bg, memory_order_relaxed) == BG_HELD &&
        atomic_compare_exchange_strong(&pool->bg, &held, BG_POSTED))
        wake_sleepers(pool);
    atomic_store_explicit(&pool->busy, 0, memory_order_release);
}

void rt_pool_spawn(rt_pool *pool, rt_job_fn fn, void *ctx, bool after_run)
{
    if (!pool || pool->nthreads == 1) {
        fn(ctx);
        return;
    }
    rt_pool_join(pool);
    if (enlist(pool) == 1) {
        fn(ctx);
        return;
    }
    atomic_store_explicit(&pool->bg_fn, fn, memory_order_relaxed);
    atomic_store_explicit(&pool->bg_ctx, ctx, memory_order_relaxed);
    atomic_store(&pool->bg, after_run ? BG_HELD : BG_POSTED);
    if (!after_run) wake_sleepers(pool);
}

void rt_pool_join(rt_pool *pool)
{
    if (!pool || atomic_load_explicit(&pool->bg, memory_order_acquire) == BG_EMPTY) return;
    run_bg(pool, BG_HELD);              /* not started yet: run it here */
    run_bg(pool, BG_POSTED);
    for (unsigned spins = 0; atomic_load_explicit(&pool->bg, memory_order_acquire) != BG_DONE;
         spins++)
        backoff(spins);
    atomic_store_explicit(&pool->bg, BG_EMPTY, memory_order_relaxed);
}
