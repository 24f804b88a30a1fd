/*
 * test_pool.c — the thread pool runs every task exactly once, per run,
 * however many threads, runs and nesting levels; it starts and stops
 * cleanly (ASan/TSan see no leak or race).
 */
#include <criterion/criterion.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "pool.h"

enum { MAX_TASKS = 4096 };

typedef struct counts {
    atomic_int hits[MAX_TASKS];
    rt_pool *pool;        /* for nested runs */
    int inner;            /* tasks per nested run, 0 for none */
    atomic_int inner_hits;
} counts;

static void count_task(void *ctx, int t)
{
    counts *c = ctx;
    atomic_fetch_add(&c->hits[t], 1);
    if (c->inner) {
        counts *sub = calloc(1, sizeof *sub);
        cr_assert(sub);
        rt_pool_run(c->pool, c->inner, count_task, sub);
        for (int i = 0; i < c->inner; i++) cr_assert(atomic_load(&sub->hits[i]) == 1);
        atomic_fetch_add(&c->inner_hits, c->inner);
        free(sub);
    }
}

static void expect_once(counts *c, int ntasks)
{
    for (int t = 0; t < ntasks; t++)
        cr_assert(atomic_load(&c->hits[t]) == 1, "task %d ran %d times", t, atomic_load(&c->hits[t]));
    for (int t = ntasks; t < MAX_TASKS; t++) cr_assert(atomic_load(&c->hits[t]) == 0);
}

Test(pool, every_task_runs_exactly_once)
{
    const int sizes[] = {1, 2, 3, 7, 64, 1000, MAX_TASKS};
    for (int nt = 1; nt <= 4; nt++) {
        rt_pool *pool = rt_pool_create(nt);
        cr_assert(pool);
        cr_assert(rt_pool_threads(pool) == nt);
        for (int s = 0; s < 7; s++) {
            counts *c = calloc(1, sizeof *c);
            cr_assert(c);
            rt_pool_run(pool, sizes[s], count_task, c);
            expect_once(c, sizes[s]);
            free(c);
        }
        rt_pool_destroy(pool);
    }
}

Test(pool, null_pool_and_zero_tasks)
{
    counts *c = calloc(1, sizeof *c);
    cr_assert(c);
    rt_pool_run(NULL, 10, count_task, c);
    expect_once(c, 10);
    cr_assert(rt_pool_threads(NULL) == 1);
    rt_pool *pool = rt_pool_create(2);
    rt_pool_run(pool, 0, count_task, c);        /* must not run anything */
    rt_pool_run(pool, -3, count_task, c);
    expect_once(c, 10);
    rt_pool_destroy(pool);
    rt_pool_destroy(NULL);
    free(c);
}

Test(pool, many_repeated_runs)
{
    /* Back-to-back runs are where a stale worker could grab a task of the
     * next job; thousands of tiny runs give it the chance. */
    rt_pool *pool = rt_pool_create(3);
    counts *c = calloc(1, sizeof *c);
    cr_assert(pool && c);
    for (int r = 0; r < 20000; r++) {
        int n = 1 + r % 5;
        rt_pool_run(pool, n, count_task, c);
        for (int t = 0; t < n; t++) {
            cr_assert(atomic_load(&c->hits[t]) == 1, "run %d task %d", r, t);
            atomic_store(&c->hits[t], 0);
        }
    }
    free(c);
    rt_pool_destroy(pool);
}

Test(pool, nested_runs_complete)
{
    rt_pool *pool = rt_pool_create(2);
    counts *c = calloc(1, sizeof *c);
    cr_assert(pool && c);
    c->pool = pool;
    c->inner = 5;
    for (int r = 0; r < 50; r++) {
        rt_pool_run(pool, 8, count_task, c);
        for (int t = 0; t < 8; t++) {
            cr_assert(atomic_load(&c->hits[t]) == 1);
            atomic_store(&c->hits[t], 0);
        }
    }
    cr_assert(atomic_load(&c->inner_hits) == 50 * 8 * 5);
    free(c);
    rt_pool_destroy(pool);
}

Test(pool, create_destroy_cycles)
{
    /* Includes destroying right after creation (workers maybe not yet
     * waiting) and after a sleep-inducing idle gap being skipped. */
    for (int i = 0; i < 50; i++) {
        rt_pool *pool = rt_pool_create(1 + i % 4);
        cr_assert(pool);
        if (i & 1) {
            counts *c = calloc(1, sizeof *c);
            rt_pool_run(pool, 33, count_task, c);
            expect_once(c, 33);
            free(c);
        }
        rt_pool_destroy(pool);
    }
}

Test(pool, workers_wake_after_sleeping)
{
    /* Idle longer than the spin budget so workers sleep, then run again. */
    rt_pool *pool = rt_pool_create(2);
    for (int r = 0; r < 3; r++) {
        struct timespec ts = {0, 5 * 1000 * 1000};
        nanosleep(&ts, NULL);
        counts *c = calloc(1, sizeof *c);
        rt_pool_run(pool, 100, count_task, c);
        expect_once(c, 100);
        free(c);
    }
    rt_pool_destroy(pool);
}

Test(pool, default_size_is_positive)
{
    rt_pool *pool = rt_pool_create(0);
    cr_assert(pool);
    cr_assert(rt_pool_threads(pool) >= 1);
    rt_pool_destroy(pool);
}

Test(pool, mlp_threads_sets_the_default)
{
    /* Criterion runs each test in its own process, so this stays local. */
    setenv("MLP_THREADS", "3", 1);
    rt_pool *pool = rt_pool_create(0);
    cr_assert(pool && rt_pool_threads(pool) == 3);
    rt_pool_destroy(pool);
    setenv("MLP_THREADS", "zero", 1);          /* not a number: use the cores */
    pool = rt_pool_create(0);
    cr_assert(pool && rt_pool_threads(pool) >= 1);
    rt_pool_destroy(pool);
}

typedef struct bytes_ctx {
    _Atomic unsigned char *hits;
} bytes_ctx;

static void byte_task(void *ctx, int t)
{
    bytes_ctx *b = ctx;
    atomic_fetch_add(&b->hits[t], 1);
}

Test(pool, runs_larger_than_one_published_job)
{
    /* The claim word holds 16-bit task counts: a bigger run goes out as
     * several jobs in turn, each task still run exactly once. */
    enum { N = 3 * 65535 + 17 };
    bytes_ctx b = {calloc(N, 1)};
    cr_assert(b.hits);
    rt_pool *pool = rt_pool_create(2);
    for (int r = 0; r < 2; r++) {
        rt_pool_run(pool, N, byte_task, &b);
        for (int t = 0; t < N; t++) {
            cr_assert(atomic_load(&b.hits[t]) == 1, "run %d task %d ran %d times", r, t,
                      atomic_load(&b.hits[t]));
            atomic_store(&b.hits[t], 0);
        }
    }
    rt_pool_destroy(pool);
    free((void *)b.hits);
}

/* ---- the background job (rt_pool_spawn / rt_pool_join) ---- */

typedef struct bg_ctx {
    atomic_int runs;
    atomic_int started;          /* set by the job as it begins */
    pthread_t ran_on;
    counts *c;                   /* when set, the job also checks a run's tasks */
} bg_ctx;

static void bg_job(void *ctx)
{
    bg_ctx *b = ctx;
    b->ran_on = pthread_self();
    atomic_store(&b->started, 1);
    atomic_fetch_add(&b->runs, 1);
}

Test(pool, background_job_runs_once_per_spawn)
{
    for (int nt = 1; nt <= 4; nt++) {
        rt_pool *pool = rt_pool_create(nt);
        for (int r = 0; r < 5000; r++) {
            bg_ctx b = {0};
            rt_pool_spawn(pool, bg_job, &b, false);
            if (r % 3 == 0) {           /* a run of tasks meanwhile */
                counts *c = calloc(1, sizeof *c);
                cr_assert(c);
                rt_pool_run(pool, 1 + r % 7, count_task, c);
                expect_once(c, 1 + r % 7);
                free(c);
            }
            rt_pool_join(pool);
            cr_assert(atomic_load(&b.runs) == 1, "threads %d, spawn %d ran %d times", nt, r,
                      atomic_load(&b.runs));
        }
        rt_pool_join(pool);             /* nothing spawned: returns at once */
        rt_pool_destroy(pool);
    }
}

Test(pool, background_job_without_workers_runs_at_spawn)
{
    bg_ctx b = {0};
    rt_pool_spawn(NULL, bg_job, &b, false);
    cr_assert(atomic_load(&b.runs) == 1);
    rt_pool_join(NULL);
    rt_pool *pool = rt_pool_create(1);
    rt_pool_spawn(pool, bg_job, &b, false);
    cr_assert(atomic_load(&b.runs) == 2);
    cr_assert(pthread_equal(b.ran_on, pthread_self()));
    rt_pool_join(pool);
    rt_pool_destroy(pool);
}

Test(pool, background_job_runs_on_an_idle_worker)
{
    /* Given time, an idle worker takes the job while the caller does
     * nothing (5 s is far beyond any scheduling delay, even on a loaded
     * machine); also after the workers fell asleep. */
    rt_pool *pool = rt_pool_create(2);
    for (int r = 0; r < 2; r++) {
        if (r) nanosleep(&(struct timespec){0, 5 * 1000 * 1000}, NULL);
        bg_ctx b = {0};
        rt_pool_spawn(pool, bg_job, &b, false);
        for (int i = 0; i < 5000 && !atomic_load(&b.started); i++)
            nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
        rt_pool_join(pool);
        cr_assert(atomic_load(&b.runs) == 1);
        cr_assert(!pthread_equal(b.ran_on, pthread_self()), "round %d ran on the caller", r);
    }
    rt_pool_destroy(pool);
}

Test(pool, spawn_joins_the_previous_job_and_destroy_joins_the_last)
{
    rt_pool *pool = rt_pool_create(3);
    bg_ctx a = {0}, b = {0};
    rt_pool_spawn(pool, bg_job, &a, false);
    rt_pool_spawn(pool, bg_job, &b, false);    /* joins a first */
    cr_assert(atomic_load(&a.runs) == 1);
    rt_pool_destroy(pool);              /* joins b */
    cr_assert(atomic_load(&b.runs) == 1);
}

static void bg_run_tasks(void *ctx)
{
    bg_ctx *b = ctx;
    /* A job's own rt_pool_run may find the workers owned by the caller:
     * then it runs inline; either way each task once. */
    rt_pool_run(b->c->pool, 40, count_task, b->c);
    atomic_fetch_add(&b->runs, 1);
}

Test(pool, background_job_may_run_tasks)
{
    rt_pool *pool = rt_pool_create(3);
    for (int r = 0; r < 500; r++) {
        counts *c = calloc(1, sizeof *c), *d = calloc(1, sizeof *d);
        cr_assert(c && d);
        c->pool = pool;
        bg_ctx b = {.c = c};
        rt_pool_spawn(pool, bg_run_tasks, &b, false);
        rt_pool_run(pool, 9, count_task, d);
        rt_pool_join(pool);
        expect_once(c, 40);
        expect_once(d, 9);
        cr_assert(atomic_load(&b.runs) == 1);
        free(c);
        free(d);
    }
    rt_pool_destroy(pool);
}

Test(pool, a_job_spawned_after_run_waits_for_the_next_run)
{
    rt_pool *pool = rt_pool_create(2);
    for (int r = 0; r < 3; r++) {
        bg_ctx b = {0};
        rt_pool_spawn(pool, bg_job, &b, true);
        /* held: no worker starts it, however long we wait */
        nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
        cr_assert(atomic_load(&b.started) == 0, "round %d: a held job started", r);
        if (r == 2) {                   /* never released: the join runs it here */
            rt_pool_join(pool);
            cr_assert(atomic_load(&b.runs) == 1);
            cr_assert(pthread_equal(b.ran_on, pthread_self()));
            break;
        }
        counts *c = calloc(1, sizeof *c);
        cr_assert(c);
        rt_pool_run(pool, 1 + r, count_task, c);  /* one task runs inline: no release */
        if (r == 0) {
            nanosleep(&(struct timespec){0, 20 * 1000 * 1000}, NULL);
            cr_assert(atomic_load(&b.started) == 0, "an inline run released the job");
            rt_pool_run(pool, 4, count_task, c);
        }
        for (int i = 0; i < 5000 && !atomic_load(&b.started); i++)
            nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
        rt_pool_join(pool);
        cr_assert(atomic_load(&b.runs) == 1);
        cr_assert(!pthread_equal(b.ran_on, pthread_self()), "round %d ran on the caller", r);
        free(c);
    }
    rt_pool_destroy(pool);
}

/* Tasks that record which threads ran them; task 0 waits up to wait_ms
 * for some other task to run on another thread, so a run that may use a
 * worker does (an enlisted worker takes a task within 5 s even on a loaded
 * machine; within 2 ms usually, which the rounds that expect none use). */
typedef struct where_ctx {
    pthread_t caller;
    int wait_ms;
    atomic_int on_caller, elsewhere;
} where_ctx;

static void where_task(void *ctx, int t)
{
    where_ctx *w = ctx;
    if (pthread_equal(pthread_self(), w->caller)) atomic_fetch_add(&w->on_caller, 1);
    else atomic_fetch_add(&w->elsewhere, 1);
    if (t == 0)
        for (int i = 0; i < w->wait_ms && !atomic_load(&w->elsewhere); i++)
            nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
}

static int run_where(rt_pool *pool, int ntasks)
{
    where_ctx w = {.caller = pthread_self(), .wait_ms = 5000};
    rt_pool_run(pool, ntasks, where_task, &w);
    cr_assert(atomic_load(&w.on_caller) + atomic_load(&w.elsewhere) == ntasks);
    return atomic_load(&w.elsewhere);
}

/* The same when no worker may take part: a short wait per round. */
static int run_where_none(rt_pool *pool, int ntasks)
{
    where_ctx w = {.caller = pthread_self(), .wait_ms = 2};
    rt_pool_run(pool, ntasks, where_task, &w);
    cr_assert(atomic_load(&w.on_caller) + atomic_load(&w.elsewhere) == ntasks);
    return atomic_load(&w.elsewhere);
}

Test(pool, a_core_share_lends_idle_cores_and_takes_them_back)
{
    /* Two processes' worth of pools on 2 cores, one thread each of their
     * own: while both are busy this pool runs every task on its caller
     * (the other core is the other's), once alone it uses both threads,
     * and again only its own when the other is busy again. The background
     * job follows the same rule. */
    rt_core_share share = {.cores = 2};
    atomic_init(&share.busy, 2);
    rt_pool *pool = rt_pool_create(2);
    rt_pool_share(pool, &share, 1);
    cr_assert(rt_pool_threads(pool) == 1 && rt_pool_size(pool) == 2);
    for (int r = 0; r < 50; r++) cr_assert(run_where_none(pool, 8) == 0, "round %d used a worker", r);
    bg_ctx b = {0};
    rt_pool_spawn(pool, bg_job, &b, false);
    cr_assert(atomic_load(&b.runs) == 1, "a job with no core to spare runs at the spawn");
    cr_assert(pthread_equal(b.ran_on, pthread_self()));
    rt_pool_join(pool);

    atomic_store(&share.busy, 1);
    cr_assert(rt_pool_threads(pool) == 2);
    cr_assert(run_where(pool, 8) > 0, "alone, the pool did not use its second thread");
    bg_ctx c = {0};
    rt_pool_spawn(pool, bg_job, &c, false);
    for (int i = 0; i < 5000 && !atomic_load(&c.started); i++)
        nanosleep(&(struct timespec){0, 1000 * 1000}, NULL);
    rt_pool_join(pool);
    cr_assert(!pthread_equal(c.ran_on, pthread_self()), "alone, the job stayed on the caller");

    atomic_store(&share.busy, 2);
    for (int r = 0; r < 50; r++) cr_assert(run_where_none(pool, 8) == 0, "round %d used a worker", r);
    /* the own part is a floor: 4 cores, 3 busy, own 2 -> still 2 threads */
    share.cores = 4;
    atomic_store(&share.busy, 3);
    rt_pool_share(pool, &share, 2);
    cr_assert(run_where(pool, 8) > 0);
    rt_pool_destroy(pool);
}

/* A sweep forks right after a point's pool is made. A worker still
 * starting at that instant may hold a lock of the C library's or of a
 * sanitizer's (ASan's allocator has no fork handler in GCC 12), and the
 * child, which allocates and starts threads of its own, then waits for it
 * forever: under ASan this hung in a few of every 100 forks before
 * rt_pool_create waited for its workers. Each child must exit within 20 s.
 * (Not under TSan's stand-in runner: TSan does not support threads started
 * after a multithreaded fork.) */
#ifndef TSAN_CRITERION_SHIM_H
Test(pool, a_fork_right_after_create_does_not_hang_the_child)
{
    for (int round = 0; round < 60; round++) {
        rt_pool *p = rt_pool_create(4);
        cr_assert(p != NULL);
        pid_t pid = fork();
        cr_assert(pid >= 0);
        if (pid == 0) {
            alarm(20);          /* a hung child dies by SIGALRM */
            void *x = calloc(1, 152);
            rt_pool *q = rt_pool_create(3);
            rt_pool_destroy(q);
            free(x);
            _exit(0);
        }
        int status = 0;
        cr_assert_eq(waitpid(pid, &status, 0), pid);
        cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
                  "round %d: the child %s", round,
                  WIFSIGNALED(status) ? "hung (killed by its alarm)" : "failed");
        rt_pool_destroy(p);
    }
}
#endif
