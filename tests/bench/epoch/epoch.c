/*
 * epoch.c — benchmark driver: trains the study's network (784-50-BN-50-BN-10,
 * batch 100) on MNIST with the runtime alone and prints, per epoch, the
 * training seconds, the test pass seconds, loss and accuracies; finally the
 * median training epoch and peak memory.
 *
 *   bench-epoch DATA_DIR OPT ACT EPOCHS [THREADS]
 *
 * Pixels stay uint8 in memory and are scaled to [0, 1] per batch (as the
 * language's fit loop does), labels are one-hot per batch. The IDX files
 * are read with zlib's gzread here; the data loader module replaces this
 * in the language.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zlib.h>
#include "model.h"
#include "tensor.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Reads an IDX file's payload (after a header of `skip` bytes). */
static uint8_t *read_idx(const char *dir, const char *name, long skip, long count)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    gzFile f = gzopen(path, "rb");
    if (!f) { fprintf(stderr, "bench: cannot open %s\n", path); return NULL; }
    uint8_t head[16];
    uint8_t *buf = malloc((size_t)count);
    if (!buf || gzread(f, head, (unsigned)skip) != skip ||
        gzread(f, buf, (unsigned)count) != count) {
        fprintf(stderr, "bench: %s is shorter than expected\n", path);
        free(buf);
        buf = NULL;
    }
    gzclose(f);
    return buf;
}

/* v / 255 for every byte value: the same floats as dividing, by lookup. */
static float unit[256];

static void batch(const uint8_t *img, const uint8_t *lab, const int32_t *idx, int n,
                  float *x, float *y)
{
    memset(y, 0, (size_t)n * 10 * sizeof(float));
    for (int i = 0; i < n; i++) {
        const uint8_t *src = img + (long)idx[i] * 784;
        for (int j = 0; j < 784; j++) x[(long)i * 784 + j] = unit[src[j]];
        y[i * 10 + lab[idx[i]]] = 1.0f;
    }
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
    enum { NTR = 60000, NTE = 10000, B = 100 };
    for (int v = 0; v < 256; v++) unit[v] = (float)v / 255.0f;
    uint8_t *xtr = read_idx(dir, "train-images-idx3-ubyte.gz", 16, (long)NTR * 784);
    uint8_t *ytr = read_idx(dir, "train-labels-idx1-ubyte.gz", 8, NTR);
    uint8_t *xte = read_idx(dir, "t10k-images-idx3-ubyte.gz", 16, (long)NTE * 784);
    uint8_t *yte = read_idx(dir, "t10k-labels-idx1-ubyte.gz", 8, NTE);
    if (!xtr || !ytr || !xte || !yte) return 74;

    rt_act act;
    rt_error err;
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
    rt_rng init, shuf;
    rt_rng_init(&init, 0, RT_STREAM_INIT);
    rt_rng_init(&shuf, 0, RT_STREAM_SHUFFLE);
    rt_model *m = rt_model_create(net, 6, 784, &init, pool, &err);
    rt_optim *opt = m ? rt_optim_create(optname, NULL, &err) : NULL;
    if (!m || !opt) { fprintf(stderr, "bench: %s\n", err.msg); return 70; }
    int32_t *idx = malloc(NTR * sizeof *idx);
    float *x = rt_alloc((size_t)B * 784 * sizeof(float)), *y = rt_alloc((size_t)B * 10 * sizeof(float));
    float *ex = rt_alloc((size_t)B * 784 * sizeof(float)), *ey = rt_alloc((size_t)B * 10 * sizeof(float));
    int32_t eidx[B];
    double *times = calloc((size_t)epochs, sizeof *times);
    char desc[256];
    rt_optim_describe(opt, desc, sizeof desc);
    printf("# mlp runtime %s act=%s threads=%d\n", desc, actname, rt_pool_threads(pool));
    for (int i = 0; i < NTR; i++) idx[i] = i;
    double acc = 0, test_acc = 0;
    for (int e = 0; e < epochs; e++) {
        double t0 = now(), loss_sum = 0, correct = 0;
        rt_rng_shuffle(&shuf, idx, NTR);
        for (int at = 0; at < NTR; at += B) {
            batch(xtr, ytr, idx + at, B, x, y);
            double l, c;
            if (!rt_model_train_step(m, opt, x, y, B, RT_LOSS_CROSSENTROPY, &l, &c, &err)) {
                fprintf(stderr, "bench: %s\n", err.msg);
                return 70;
            }
            loss_sum += l * B;
            correct += c;
        }
        double t1 = now();
        /* test pass in inference mode, batch by batch from uint8 */
        double tc = 0;
        for (int at = 0; at < NTE; at += B) {
            for (int i = 0; i < B; i++) eidx[i] = at + i;
            batch(xte, yte, eidx, B, ex, ey);
            double l, a;
            rt_model_evaluate(m, ex, ey, B, RT_LOSS_CROSSENTROPY, &l, &a, &err);
            tc += a * B;
        }
        double t2 = now();
        times[e] = t1 - t0;
        acc = correct / NTR;
        test_acc = tc / NTE;
        printf("ep %2d loss %.4f acc %.4f val_acc %.4f  train %.4fs eval %.4fs\n", e + 1,
               loss_sum / NTR, acc, test_acc, t1 - t0, t2 - t1);
    }
    qsort(times, (size_t)epochs, sizeof *times, cmp);
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("FINAL mlp opt=%s act=%s train_acc=%.4f test_acc=%.4f median_train=%.4fs "
           "peak_rss=%.0fMB runtime_peak=%.2fMB\n", optname, actname, acc, test_acc,
           times[epochs / 2], (double)ru.ru_maxrss / 1024.0, (double)rt_mem_peak() / 1048576.0);
    rt_free(x); rt_free(y); rt_free(ex); rt_free(ey);
    free(idx); free(times); free(xtr); free(ytr); free(xte); free(yte);
    rt_optim_free(opt);
    rt_model_free(m);
    rt_pool_destroy(pool);
    return 0;
}
