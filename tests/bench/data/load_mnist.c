/*
 * load_mnist.c — the loader side of tests/bench/data/run.sh.
 *
 *   load_mnist ROOT REPEATS   loads ROOT/mnist REPEATS times (train and test
 *                             on two threads, as mnist() does) and prints the
 *                             best wall time in seconds, then the peak
 *                             resident set (kB) and the bytes the two
 *                             datasets hold.
 *   load_mnist ROOT 0         same, one load, on one thread (train then test).
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include "idx.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

static size_t held(const rt_dataset *d)
{
    return (size_t)(d->n * d->features) + (size_t)d->n * sizeof(int32_t);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: load_mnist ROOT REPEATS\n");
        return 64;
    }
    int repeats = atoi(argv[2]);
    rt_datapath dp = { 0 };
    rt_error err;
    rt_datapath_add(&dp, argv[1], &err);
    const rt_idxset *set = rt_idxset_lookup("mnist");
    double best = 1e30;
    size_t bytes = 0;
    for (int r = 0; r < (repeats > 0 ? repeats : 1); r++) {
        rt_dataset tr, te;
        double t0 = now();
        bool ok;
        if (repeats > 0) {
            ok = rt_idxset_load(set, &dp, &tr, &te, &err);
        } else {
            char dir[4096], p[4][4200];
            snprintf(dir, sizeof dir, "%s/mnist", argv[1]);
            for (int k = 0; k < 4; k++) {
                char *q = rt_datapath_resolve(dir, set->files[k]);
                snprintf(p[k], sizeof p[k], "%s", q ? q : "missing");
                free(q);
            }
            ok = rt_idx_load_pair(p[0], p[1], 10, &tr, &err)
                 && rt_idx_load_pair(p[2], p[3], 10, &te, &err);
        }
        double t = now() - t0;
        if (!ok) {
            fprintf(stderr, "load_mnist: %s\n", err.msg);
            return 1;
        }
        if (t < best) best = t;
        bytes = held(&tr) + held(&te);
        rt_dataset_free(&tr);
        rt_dataset_free(&te);
    }
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("%.4f %ld %zu\n", best, ru.ru_maxrss, bytes);
    rt_datapath_free(&dp);
    return 0;
}
