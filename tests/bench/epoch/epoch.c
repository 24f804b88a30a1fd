/*
 * epoch.c — benchmark driver: trains the study's network (784-50-BN-50-BN-10,
 * batch 100) on MNIST with the runtime alone, through rt_fit exactly as the
 * language's fit() does (pixels kept as bytes, batches gathered straight
 * into the first layer's compressed input, validation on the 10,000 test
 * images after each epoch), and prints per epoch the training seconds, the
 * validation seconds, loss and accuracies; finally the median training
 * epoch, the user CPU seconds of the whole run and peak memory.
 *
 *   bench-epoch DATA_DIR OPT ACT EPOCHS [THREADS]
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <time.h>
#include "fit.h"
#include "idx.h"
#include "model.h"
#include "tensor.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Timing marks kept by the fit callbacks: per epoch, and per step (the
 * time between two batches' callbacks, the first batch of each epoch left
 * out). On a machine shared with other work the epoch times measure the
 * share of the CPUs this process got as much as its speed; the fastest
 * tenth of the steps (p10) is what the code does when it has its cores. */
typedef struct marks {
    double epoch_start, train_end, last_batch;
    double *train_s;
    double *step_s;
    long nsteps, cap;
} marks;

static bool on_batch(void *ud, int epoch, int batch, int nbatches, double loss, double acc)
{
    (void)epoch; (void)loss; (void)acc;
    marks *mk = ud;
    double t = now();
    if (batch > 1 && mk->nsteps < mk->cap) mk->step_s[mk->nsteps++] = t - mk->last_batch;
    mk->last_batch = t;
    if (batch == nbatches) mk->train_end = t;
    return true;
}

static void on_epoch(void *ud, const rt_epoch_stats *s)
{
    marks *mk = ud;
    double t = now();
    mk->train_s[s->epoch - 1] = mk->train_end - mk->epoch_start;
    printf("ep %2d loss %.4f acc %.4f val_acc %.4f  train %.4fs eval %.4fs\n", s->epoch, s->loss,
           s->acc, s->val_acc, mk->train_end - mk->epoch_start, t - mk->train_end);
    fflush(stdout);
    mk->epoch_start = t;
}

/* CPU seconds (user + system) of the whole process so far. */
static double cpu_seconds(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec +
           (double)ru.ru_stime.tv_sec + 1e-6 * (double)ru.ru_stime.tv_usec;
}

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
    if (argc < 5) {
        fprintf(stderr, "usage: %s DATA_DIR sgd|adam|rmsprop sigmoid|relu EPOCHS [THREADS]\n", argv[0]);
        return 64;
    }
    const char *dir = argv[1], *optname = argv[2], *actname = argv[3];
    int epochs = atoi(argv[4]), threads = argc > 5 ? atoi(argv[5]) : 0;
    if (epochs < 1) { fprintf(stderr, "bench: EPOCHS must be positive\n"); return 64; }
    char p[4][1024];
    const char *names[4] = {"train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz",
                            "t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"};
    for (int i = 0; i < 4; i++) snprintf(p[i], sizeof p[i], "%s/%s", dir, names[i]);
    rt_error err;
    rt_dataset train = {0}, test = {0};
    if (!rt_idx_load_pair(p[0], p[1], 10, &train, &err) ||
        !rt_idx_load_pair(p[2], p[3], 10, &test, &err)) {
        fprintf(stderr, "bench: %s\n", err.msg);
        return 74;
    }
    rt_act act;
    if (!rt_act_from_name(actname, &act)) { fprintf(stderr, "unknown activation %s\n", actname); return 64; }
    rt_layer_spec net[] = {
        rt_spec_flatten(2, (int[]){28, 28}),
        rt_spec_dense(50, act, RT_INIT_GLOROT_UNIFORM),
        rt_spec_batchnorm(0.99f, 1e-3f),
        rt_spec_dense(50, act, RT_INIT_GLOROT_UNIFORM),
        rt_spec_batchnorm(0.99f, 1e-3f),
        rt_spec_dense(10, RT_ACT_SOFTMAX, RT_INIT_GLOROT_UNIFORM),
    };
    rt_pool *pool = rt_pool_create(threads);
    rt_rng init;
    rt_rng_init(&init, 0, RT_STREAM_INIT);
    rt_model *m = rt_model_create(net, 6, 784, &init, pool, &err);
    rt_optim *opt = m ? rt_optim_create(optname, NULL, &err) : NULL;
    if (!m || !opt) { fprintf(stderr, "bench: %s\n", err.msg); return 70; }
    char desc[256];
    rt_optim_describe(opt, desc, sizeof desc);
    printf("# mlp runtime %s act=%s threads=%d simd=%s\n", desc, actname, rt_pool_threads(pool),
           rt_simd_name(rt_cpu_simd()));
    marks mk = {.epoch_start = now(), .train_s = calloc((size_t)epochs, sizeof(double)),
                .cap = 1000L * epochs};
    mk.step_s = calloc((size_t)mk.cap, sizeof(double));
    rt_fit_config cfg = {.epochs = epochs, .batch = 100, .loss = RT_LOSS_CROSSENTROPY,
                         .shuffle_seed = 0, .validation = &test, .on_batch = on_batch,
                         .on_epoch = on_epoch, .ud = &mk};
    double fit_wall = now(), fit_cpu = cpu_seconds();
    if (rt_fit(m, opt, &train, &cfg, &err) != RT_FIT_DONE) { fprintf(stderr, "bench: %s\n", err.msg); return 70; }
    /* CPUs the fit kept busy on average (perf stat's "CPUs utilized") */
    double fit_cpus = (cpu_seconds() - fit_cpu) / (now() - fit_wall);
    double acc, test_acc, l;
    rt_evaluate(m, &train, RT_LOSS_CROSSENTROPY, 100, &l, &acc, &err);
    rt_evaluate(m, &test, RT_LOSS_CROSSENTROPY, 100, &l, &test_acc, &err);
    qsort(mk.train_s, (size_t)epochs, sizeof(double), cmp);
    qsort(mk.step_s, (size_t)mk.nsteps, sizeof(double), cmp);
    double p1 = mk.nsteps ? mk.step_s[mk.nsteps / 100] : 0;
    double p10 = mk.nsteps ? mk.step_s[mk.nsteps / 10] : 0, p50 = mk.nsteps ? mk.step_s[mk.nsteps / 2] : 0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("FINAL mlp opt=%s act=%s eval_train_acc=%.4f test_acc=%.4f median_train=%.4fs "
           "step_p1=%.1fus step_p10=%.1fus step_p50=%.1fus fit_cpus=%.2f user=%.2fs peak_rss=%.0fMB runtime_peak=%.2fMB\n",
           optname, actname, acc, test_acc, mk.train_s[epochs / 2], 1e6 * p1, 1e6 * p10, 1e6 * p50, fit_cpus,
           (double)ru.ru_utime.tv_sec + 1e-6 * (double)ru.ru_utime.tv_usec,
           (double)ru.ru_maxrss / 1024.0, (double)rt_mem_peak() / 1048576.0);
    free(mk.train_s);
    free(mk.step_s);
    rt_optim_free(opt);
    rt_model_free(m);
    rt_pool_destroy(pool);
    rt_dataset_free(&train);
    rt_dataset_free(&test);
    return 0;
}
