/*
 * bench_gemm.c — GFLOP/s of rt_gemm_f32 and of OpenBLAS at the study's
 * shapes (see run.sh, which compiles and runs this and prints the ratios).
 *
 * For each shape: our kernel on 1 and 2 threads and OpenBLAS cblas_sgemm
 * on 1 thread (the core it picked is reported), plus the pool hand-off
 * cost. Output is one line per shape, "name|m n k op|ours1|ours2|blas",
 * for run.sh to tabulate. The machine is shared, so the three are timed in
 * alternating batches and each figure is the best batch.
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cblas.h>
#include "gemm.h"
#include "pool.h"

/* Not in every cblas.h. */
void openblas_set_num_threads(int num_threads);
char *openblas_get_corename(void);

typedef struct bench_shape {
    const char *name;   /* the network operation it stands for */
    int m, n, k;
    bool ta, tb;
} bench_shape;

/* The study network 784-50-50-10 at batch 100: forward Y = X W, backward
 * dW = X^T dY and dX = dY W^T; then the big one's other layouts. */
static const bench_shape shapes[] = {
    {"fwd1  X*W1",      100, 50, 784, false, false},
    {"fwd2  H1*W2",     100, 50, 50, false, false},
    {"fwd3  H2*W3",     100, 10, 50, false, false},
    {"dW1   X^T*dY1",   784, 50, 100, true, false},
    {"dX1   dY1*W1^T",  100, 784, 50, false, true},
    {"dW2   H1^T*dY2",  50, 50, 100, true, false},
    {"dX2   dY2*W2^T",  100, 50, 50, false, true},
    {"dW3   H2^T*dY3",  50, 10, 100, true, false},
    {"dX3   dY3*W3^T",  100, 50, 10, false, true},
    {"fwd1^T W1^T*X^T", 50, 100, 784, true, true},
    {"NT    100x50x784", 100, 50, 784, false, true},
    {"TN    100x50x784", 100, 50, 784, true, false},
};
enum { NSHAPES = sizeof shapes / sizeof shapes[0] };

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

typedef struct operands {
    float *a, *b, *c;
} operands;

static operands make_operands(const bench_shape *s)
{
    operands o = {
        malloc(sizeof(float) * s->m * s->k),
        malloc(sizeof(float) * s->k * s->n),
        malloc(sizeof(float) * s->m * s->n),
    };
    if (!o.a || !o.b || !o.c) {
        fprintf(stderr, "bench_gemm: out of memory\n");
        exit(1);
    }
    /* 64-bit products: i * 104729 overflows int at the study's shapes, and
     * GCC compiled that undefined behaviour into an endless loop. */
    for (size_t i = 0; i < (size_t)s->m * s->k; i++) o.a[i] = (float)((i * 7919u) % 1000) / 1000.0f - 0.5f;
    for (size_t i = 0; i < (size_t)s->k * s->n; i++) o.b[i] = (float)((i * 104729u) % 1000) / 1000.0f - 0.5f;
    memset(o.c, 0, sizeof(float) * s->m * s->n);
    return o;
}

static void free_operands(operands o)
{
    free(o.a);
    free(o.b);
    free(o.c);
}

/* One multiply; pool NULL with blas true means OpenBLAS. */
static void run_once(const bench_shape *s, operands o, rt_pool *pool, bool blas)
{
    int lda = s->ta ? s->m : s->k, ldb = s->tb ? s->k : s->n;
    if (blas)
        cblas_sgemm(CblasRowMajor, s->ta ? CblasTrans : CblasNoTrans,
                    s->tb ? CblasTrans : CblasNoTrans, s->m, s->n, s->k, 1.0f,
                    o.a, lda, o.b, ldb, 0.0f, o.c, s->n);
    else
        rt_gemm_f32(pool, s->ta, s->tb, s->m, s->n, s->k, o.a, lda, o.b, ldb, false, o.c, s->n);
}

/* GFLOP/s of our kernel on pools one and two and of OpenBLAS, timed in
 * alternating batches of ~20 ms (best of 9 each), so that a change in the
 * machine's load during the run hits all three alike. */
static void gflops3(const bench_shape *s, rt_pool *one, rt_pool *two, double out[3])
{
    operands o = make_operands(s);
    double flop = 2.0 * s->m * s->n * s->k;
    /* BENCH_QUICK (a smoke run in make test): one repetition, one batch */
    const char *q = getenv("BENCH_QUICK");
    bool quick = q && strcmp(q, "1") == 0;
    int reps = 1;
    while (!quick) {
        double t0 = now();
        for (int r = 0; r < reps; r++) run_once(s, o, one, false);
        if (now() - t0 > 0.02 || reps > (1 << 24)) break;
        reps *= 2;
    }
    double best[3] = {1e30, 1e30, 1e30};
    for (int b = 0; b < (quick ? 1 : 9); b++)
        for (int w = 0; w < 3; w++) {
            double t0 = now();
            for (int r = 0; r < reps; r++) run_once(s, o, w == 1 ? two : one, w == 2);
            double t = (now() - t0) / reps;
            if (t < best[w]) best[w] = t;
        }
    for (int w = 0; w < 3; w++) out[w] = flop / best[w] * 1e-9;
    free_operands(o);
}

static void empty_task(void *ctx, int t)
{
    (void)ctx;
    (void)t;
}

/* Wall time of a run of two empty tasks, i.e. the pool's hand-off cost. */
static double dispatch_ns(rt_pool *pool)
{
    const int reps = 2000;
    double best = 1e30;
    for (int b = 0; b < 5; b++) {
        double t0 = now();
        for (int r = 0; r < reps; r++) rt_pool_run(pool, 2, empty_task, NULL);
        double t = (now() - t0) / reps;
        if (t < best) best = t;
    }
    return best * 1e9;
}

int main(void)
{
    openblas_set_num_threads(1);
    rt_pool *one = rt_pool_create(1), *two = rt_pool_create(2);
    if (!one || !two) return 1;
    printf("# simd %s, pool hand-off (2 empty tasks, 2 threads) %.0f ns; OpenBLAS core %s\n",
           rt_simd_name(rt_cpu_simd()), dispatch_ns(two), openblas_get_corename());
    for (int i = 0; i < NSHAPES; i++) {
        const bench_shape *s = &shapes[i];
        double g[3];
        gflops3(s, one, two, g);
        printf("%s|%d %d %d %c%c|%.2f|%.2f|%.2f\n", s->name, s->m, s->n, s->k,
               s->ta ? 'T' : 'N', s->tb ? 'T' : 'N', g[0], g[1], g[2]);
    }
    rt_pool_destroy(one);
    rt_pool_destroy(two);
    return 0;
}
