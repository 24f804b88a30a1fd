/*
 * test_thread_tuner.c — the fit's choice between one thread and all, fed
 * step times by hand: it takes the count whose median step is lower, goes
 * on with it for the run, measures again, ignores a single slow step and
 * the first step of each trial, and leaves the pool whole at the end.
 */
#include <criterion/criterion.h>
#include "pool.h"
#include "thread_tuner.h"

/* Feeds `steps` steps: each lasts one_s while the pool is limited to one
 * thread and all_s otherwise; returns the clock. */
static double feed(rt_thread_tuner *t, rt_pool *pool, double clock, int steps, double one_s,
                   double all_s)
{
    for (int i = 0; i < steps; i++) {
        clock += rt_pool_threads(pool) == 1 ? one_s : all_s;
        rt_tuner_step(t, clock);
    }
    return clock;
}

enum { PROBES = 2 * (RT_TUNER_PROBE + 1) };

Test(thread_tuner, keeps_the_faster_count_and_measures_again)
{
    rt_pool *pool = rt_pool_create(2);
    rt_thread_tuner t;
    double clock = 100.0;
    rt_tuner_begin(&t, pool, clock);
    cr_assert_eq(rt_pool_threads(pool), 1, "the first trial is on one thread");
    /* two threads twice as slow (the bad state): one thread wins */
    clock = feed(&t, pool, clock, PROBES, 100e-6, 200e-6);
    cr_assert_eq(rt_pool_threads(pool), 1);
    clock = feed(&t, pool, clock, 299, 100e-6, 200e-6);
    cr_assert_eq(rt_pool_threads(pool), 1, "still the run on the winner");
    /* the next cycle: now two threads are faster */
    clock = feed(&t, pool, clock, 1 + PROBES, 140e-6, 110e-6);
    cr_assert_eq(rt_pool_threads(pool), 2, "the pool got both threads back");
    rt_tuner_end(&t);
    cr_assert_eq(rt_pool_threads(pool), 2);
    rt_pool_destroy(pool);
}

Test(thread_tuner, a_median_is_not_swayed_by_one_long_step_or_the_switch)
{
    rt_pool *pool = rt_pool_create(2);
    rt_thread_tuner t;
    double clock = 0.0;
    rt_tuner_begin(&t, pool, clock);
    /* the first step of each trial (the switch) costs 10 ms: not counted */
    clock += 0.010;
    rt_tuner_step(&t, clock);
    /* one thread: 140 us, but one step lost its CPU for 5 ms */
    for (int i = 0; i < RT_TUNER_PROBE; i++) {
        clock += i == 3 ? 0.005 : 140e-6;
        rt_tuner_step(&t, clock);
    }
    cr_assert_eq(rt_pool_threads(pool), 2, "the second trial is on all threads");
    clock += 0.010;
    rt_tuner_step(&t, clock);
    for (int i = 0; i < RT_TUNER_PROBE; i++) {
        clock += i == 7 ? 0.004 : 150e-6;
        rt_tuner_step(&t, clock);
    }
    cr_assert_eq(rt_pool_threads(pool), 1, "one thread's median (140 us) beat 150 us");
    /* what happens between epochs is not a step */
    rt_tuner_resume(&t, clock + 5.0);
    rt_tuner_end(&t);
    cr_assert_eq(rt_pool_threads(pool), 2, "the end lifts the limit");
    rt_pool_destroy(pool);
}

Test(thread_tuner, off_without_threads)
{
    rt_thread_tuner t;
    rt_pool *one = rt_pool_create(1);
    rt_tuner_begin(&t, one, 0.0);
    cr_assert_null(t.pool);
    rt_tuner_step(&t, 1.0);
    rt_tuner_end(&t);
    cr_assert_eq(rt_pool_threads(one), 1);
    rt_pool_destroy(one);
    rt_tuner_begin(&t, NULL, 0.0);
    cr_assert_null(t.pool);
    rt_tuner_end(&t);
}
