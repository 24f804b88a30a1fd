/*
 * test_fit_threads.c — rt_fit and rt_evaluate give the same bits with any
 * number of threads (issue 18): the batch pipeline (the next batch gathered
 * by a pool worker while a step runs, into a second buffer), the first
 * layer's products split across the pool and the optimizer's split pass
 * change where the work runs, never what it computes.
 *
 * The network is the study's at its real sizes (784-50-BN-50-BN-10, batch
 * 100), so every split threshold is crossed; the data are random bytes with
 * MNIST's sparsity, in a set whose size leaves a short last batch. A second
 * set makes half its rows dense, so some batches are too dense for the
 * compressed input and go as floats (the pipeline's fallback) while others
 * go as bytes; a third is the first one stored as floats. Each is fitted
 * with a NULL pool and with pools of 1, 2, 3 and 4 threads: every epoch's
 * metrics, the final weights and a later evaluation must match the NULL
 * pool's bit for bit.
 */
#include <criterion/criterion.h>
#include <string.h>
#include "cpu.h"
#include "fit.h"
#include "gemm.h"
#include "model.h"
#include "pool.h"
#include "rowsparse.h"

enum { IN = 784, ROWS = 650, VROWS = 230, CLASSES = 10, EPOCHS = 2, MAXE = 4 };

static uint32_t lcg(uint32_t *s) { return *s = *s * 1664525u + 1013904223u; }

/* dense_rows: rows with index % 2 == 0 below it are all ink */
static void make_set(rt_dataset *ds, int64_t n, uint32_t seed, int64_t dense_rows, bool u8)
{
    rt_error err;
    cr_assert(rt_dataset_alloc(ds, n, &(rt_shape){ 2, { 28, 28 } }, true, 1.0f / 255.0f, CLASSES, &err),
              "%s", err.msg);
    uint32_t s = seed;
    for (int64_t i = 0; i < n; i++) {
        bool dense = i < dense_rows && i % 2 == 0;
        for (int p = 0; p < IN; p++) {
            uint8_t v = (uint8_t)(lcg(&s) >> 24);
            ds->x_u8[i * IN + p] = dense || (lcg(&s) >> 24) < 48 ? (uint8_t)(v | 1) : 0;
        }
        ds->labels[i] = (int32_t)((lcg(&s) >> 8) % CLASSES);
    }
    if (u8) return;
    /* the same numbers as floats: a float set with the same labels */
    rt_dataset f = {0};
    cr_assert(rt_dataset_alloc(&f, n, &(rt_shape){ 2, { 28, 28 } }, false, 1.0f, CLASSES, &err), "%s", err.msg);
    int64_t *all = malloc((size_t)n * sizeof *all);
    float *y = malloc((size_t)n * CLASSES * sizeof *y);
    cr_assert(all && y);
    for (int64_t i = 0; i < n; i++) all[i] = i;
    rt_dataset_gather(ds, all, n, f.x_f32, y);
    memcpy(f.labels, ds->labels, (size_t)n * sizeof *f.labels);
    free(all);
    free(y);
    rt_dataset_free(ds);
    *ds = f;
}

typedef struct history {
    int epochs;
    double loss[MAXE], acc[MAXE], val_loss[MAXE], val_acc[MAXE];
} history;

static void note(void *ud, const rt_epoch_stats *s)
{
    history *h = ud;
    h->loss[h->epochs] = s->loss;
    h->acc[h->epochs] = s->acc;
    h->val_loss[h->epochs] = s->val_loss;
    h->val_acc[h->epochs] = s->val_acc;
    h->epochs++;
}

typedef struct result {
    history h;
    float *w;                   /* every parameter, concatenated */
    long nw;
    double eval_loss, eval_acc;
} result;

/* An on_batch callback that evaluates the model in the middle of the fit
 * (on its own data, through the same staging buffer the pipeline has the
 * next batch in). */
typedef struct meddle {
    rt_model *m;
    const rt_dataset *ds;
    int calls;
} meddle;

static meddle *meddler;
static bool flip_mode;      /* on_batch flips a core share instead (below) */
static bool flip_between(void *ud, int epoch, int batch, int nbatches, double loss, double acc);

static bool evaluate_between(void *ud, int epoch, int batch, int nbatches, double loss, double acc)
{
    (void)ud; (void)epoch; (void)batch; (void)nbatches; (void)loss; (void)acc;
    double l, a;
    rt_error err;
    cr_assert(rt_evaluate(meddler->m, meddler->ds, RT_LOSS_CROSSENTROPY, 100, &l, &a, &err),
              "%s", err.msg);
    meddler->calls++;
    return true;
}

static result train(rt_pool *pool, const rt_dataset *train_set, const rt_dataset *val)
{
    rt_layer_spec net[] = {
        rt_spec_flatten(2, (int[]){28, 28}),
        rt_spec_dense(50, RT_ACT_RELU, RT_INIT_GLOROT_UNIFORM),
        rt_spec_batchnorm(0.99f, 1e-3f),
        rt_spec_dense(50, RT_ACT_RELU, RT_INIT_GLOROT_UNIFORM),
        rt_spec_batchnorm(0.99f, 1e-3f),
        rt_spec_dense(CLASSES, RT_ACT_SOFTMAX, RT_INIT_GLOROT_UNIFORM),
    };
    rt_rng init;
    rt_rng_init(&init, 9, RT_STREAM_INIT);
    rt_error err;
    rt_model *m = rt_model_create(net, 6, IN, &init, pool, &err);
    cr_assert(m, "%s", err.msg);
    rt_optim *opt = rt_optim_create("Adam", NULL, &err);
    cr_assert(opt, "%s", err.msg);
    result r = {0};
    rt_fit_config cfg = {.epochs = EPOCHS, .batch = 100, .loss = RT_LOSS_CROSSENTROPY,
                         .shuffle_seed = 3, .validation = val, .on_epoch = note, .ud = &r.h};
    if (meddler) {
        meddler->m = m;
        cfg.on_batch = flip_mode ? flip_between : evaluate_between;
    }
    cr_assert_eq(rt_fit(m, opt, train_set, &cfg, &err), RT_FIT_DONE, "%s", err.msg);
    cr_assert_eq(r.h.epochs, EPOCHS);
    /* an evaluation with another batch size, on the training set */
    cr_assert(rt_evaluate(m, train_set, RT_LOSS_CROSSENTROPY, 64, &r.eval_loss, &r.eval_acc, &err),
              "%s", err.msg);
    rt_param *p;
    int np = rt_model_params(m, &p);
    for (int k = 0; k < np; k++) r.nw += p[k].size;
    r.w = malloc((size_t)r.nw * sizeof(float));
    cr_assert(r.w);
    long at = 0;
    for (int k = 0; k < np; k++) {
        memcpy(r.w + at, p[k].w, (size_t)p[k].size * sizeof(float));
        at += p[k].size;
    }
    rt_optim_free(opt);
    rt_model_free(m);
    return r;
}

static void same(const result *a, const result *b, const char *what, int threads)
{
    for (int e = 0; e < EPOCHS; e++) {
        cr_assert(a->h.loss[e] == b->h.loss[e] && a->h.acc[e] == b->h.acc[e],
                  "%s, %d threads: epoch %d's training metrics differ", what, threads, e + 1);
        cr_assert(memcmp(&a->h.val_loss[e], &b->h.val_loss[e], sizeof(double)) == 0 &&
                  memcmp(&a->h.val_acc[e], &b->h.val_acc[e], sizeof(double)) == 0,
                  "%s, %d threads: epoch %d's validation differs", what, threads, e + 1);
    }
    cr_assert(a->eval_loss == b->eval_loss && a->eval_acc == b->eval_acc,
              "%s, %d threads: the evaluation differs", what, threads);
    cr_assert_eq(a->nw, b->nw);
    cr_assert(memcmp(a->w, b->w, (size_t)a->nw * sizeof(float)) == 0,
              "%s, %d threads: the weights differ", what, threads);
}

static void check_set(const rt_dataset *tr, const rt_dataset *val, const char *what)
{
    result base = train(NULL, tr, val);
    cr_assert(base.h.acc[EPOCHS - 1] > 0.0, "%s: trained", what);
    for (int threads = 1; threads <= 4; threads++) {
        rt_pool *pool = rt_pool_create(threads);
        cr_assert(pool && rt_pool_threads(pool) == threads);
        result r = train(pool, tr, val);
        same(&base, &r, what, threads);
        free(r.w);
        rt_pool_destroy(pool);
    }
    free(base.w);
}

Test(fit_threads, sparse_bytes)
{
    rt_dataset tr = {0}, val = {0};
    make_set(&tr, ROWS, 11, 0, true);
    make_set(&val, VROWS, 12, 0, true);
    check_set(&tr, &val, "sparse bytes");
    rt_dataset_free(&tr);
    rt_dataset_free(&val);
}

Test(fit_threads, half_dense_bytes_fall_back_to_floats)
{
    rt_dataset tr = {0}, val = {0};
    make_set(&tr, ROWS, 21, ROWS * 76 / 100, true);   /* 38% dense rows: batches near the limit */
    make_set(&val, VROWS, 22, VROWS / 2, true);
    check_set(&tr, &val, "half dense bytes");
    rt_dataset_free(&tr);
    rt_dataset_free(&val);
}

Test(fit_threads, floats)
{
    rt_dataset tr = {0}, val = {0};
    make_set(&tr, ROWS, 11, 0, false);
    make_set(&val, VROWS, 12, 0, false);
    check_set(&tr, &val, "floats");
    rt_dataset_free(&tr);
    rt_dataset_free(&val);
}

/* The byte path and the float path of the same numbers agree too (the
 * pipeline stages bytes for one and floats for the other). */
Test(fit_threads, bytes_equal_floats_with_two_threads)
{
    rt_dataset b = {0}, bv = {0}, f = {0}, fv = {0};
    make_set(&b, ROWS, 11, 0, true);
    make_set(&bv, VROWS, 12, 0, true);
    make_set(&f, ROWS, 11, 0, false);
    make_set(&fv, VROWS, 12, 0, false);
    rt_pool *pool = rt_pool_create(2);
    result rb = train(pool, &b, &bv), rf = train(pool, &f, &fv);
    same(&rb, &rf, "bytes vs floats", 2);
    free(rb.w);
    free(rf.w);
    rt_pool_destroy(pool);
    rt_dataset_free(&b);
    rt_dataset_free(&bv);
    rt_dataset_free(&f);
    rt_dataset_free(&fv);
}

/* S^T D from a column form built ahead (rt_rowsparse_prepare_tmm, as the
 * pipeline stages it) and split into bands of equal work: ink only in the
 * middle columns, as in an image, so equal-work bands are far from equal
 * width. Every path and thread count gives the dense GEMM chain's bits; a
 * new build drops the staged form (the next product must not reuse it). */
Test(fit_threads, staged_column_form_and_balanced_bands)
{
    enum { R = 100, C = 784, N = 50 };
    float *x = calloc((size_t)R * C, sizeof *x), *d = malloc((size_t)R * N * sizeof *d);
    float *ref = malloc((size_t)C * N * sizeof *ref), *got = malloc((size_t)C * N * sizeof *got);
    float *x2 = calloc((size_t)R * C, sizeof *x2), *ref2 = malloc((size_t)C * N * sizeof *ref2);
    cr_assert(x && d && ref && got && x2 && ref2);
    uint32_t s = 77;
    for (int i = 0; i < R; i++)
        for (int p = 300; p < 480; p++)
            if ((lcg(&s) >> 24) < 128) x[(long)i * C + p] = (float)(lcg(&s) >> 24) / 255.0f + 0.001f;
    for (int i = 0; i < R; i++)
        for (int p = 0; p < 40; p++) x2[(long)i * C + p] = 0.5f;   /* other columns */
    for (long k = 0; k < (long)R * N; k++) d[k] = (float)((int)(lcg(&s) >> 20) - 2048) / 1024.0f;
    rt_gemm_ref_f32(true, false, C, N, R, x, C, d, N, false, ref, N);
    rt_gemm_ref_f32(true, false, C, N, R, x2, C, d, N, false, ref2, N);
    rt_rowsparse sp = {0};
    cr_assert(rt_rowsparse_reserve(&sp, R, (long)R * C / 2, NULL));
    for (int simd = 0; simd < RT_SIMD_COUNT; simd++) {
        if (!rt_cpu_has((rt_simd)simd)) continue;
        for (int threads = 1; threads <= 4; threads++) {
            rt_pool *pool = rt_pool_create(threads);
            cr_assert(rt_rowsparse_build(&sp, (rt_simd)simd, x, R, C));
            rt_rowsparse_prepare_tmm(&sp, (rt_simd)simd);
            memset(got, 0xff, (size_t)C * N * sizeof *got);
            rt_rowsparse_tmm(&sp, (rt_simd)simd, pool, d, N, got);
            cr_assert(memcmp(got, ref, (size_t)C * N * sizeof *got) == 0,
                      "staged S^T D, %s, %d threads", rt_simd_name((rt_simd)simd), threads);
            cr_assert(rt_rowsparse_build(&sp, (rt_simd)simd, x2, R, C));
            memset(got, 0xff, (size_t)C * N * sizeof *got);
            rt_rowsparse_tmm(&sp, (rt_simd)simd, pool, d, N, got);
            cr_assert(memcmp(got, ref2, (size_t)C * N * sizeof *got) == 0,
                      "S^T D after a rebuild, %s, %d threads", rt_simd_name((rt_simd)simd), threads);
            rt_pool_destroy(pool);
        }
    }
    rt_rowsparse_release(&sp);
    free(x); free(d); free(ref); free(got); free(x2); free(ref2);
}

/* A callback that evaluates the model between two steps replaces the
 * staged next batch; the fit must notice and gather it again, training
 * exactly as without the callback. */
Test(fit_threads, a_callback_evaluating_the_model_between_steps)
{
    rt_dataset tr = {0}, val = {0}, other = {0};
    make_set(&tr, ROWS, 11, 0, true);
    make_set(&val, VROWS, 12, 0, true);
    make_set(&other, 150, 13, 0, true);
    for (int threads = 1; threads <= 2; threads++) {
        rt_pool *pool = rt_pool_create(threads);
        result plain = train(pool, &tr, &val);
        meddle md = {.ds = &other};
        meddler = &md;
        result busy = train(pool, &tr, &val);
        meddler = NULL;
        cr_assert(md.calls == EPOCHS * ((ROWS + 99) / 100));
        same(&plain, &busy, "evaluating between steps", threads);
        free(plain.w);
        free(busy.w);
        rt_pool_destroy(pool);
    }
    rt_dataset_free(&tr);
    rt_dataset_free(&val);
    rt_dataset_free(&other);
}

/* A core share that changes its mind at every batch (as under mlp -j when
 * other workers start and end points): the pool runs some steps on one
 * thread, with the gathering of the next batch inline, and others on two,
 * and the fit's bits stay those of a fit without a pool. */
static rt_core_share flip_share;
static int flips;

static bool flip_between(void *ud, int epoch, int batch, int nbatches, double loss, double acc)
{
    (void)ud; (void)epoch; (void)nbatches; (void)loss; (void)acc;
    atomic_store(&flip_share.busy, batch % 3 == 0 ? 1 : 2);
    flips++;
    return true;
}

Test(fit_threads, a_core_share_changing_between_batches)
{
    rt_dataset tr = {0}, val = {0};
    make_set(&tr, ROWS, 21, 0, true);
    make_set(&val, VROWS, 22, 0, true);
    result base = train(NULL, &tr, &val);
    flip_share.cores = 2;
    atomic_init(&flip_share.busy, 2);
    rt_pool *pool = rt_pool_create(2);
    rt_pool_share(pool, &flip_share, 1);
    meddle md = {.ds = &val};
    meddler = &md;
    flip_mode = true;
    result r = train(pool, &tr, &val);
    flip_mode = false;
    meddler = NULL;
    cr_assert(flips == EPOCHS * ((ROWS + 99) / 100), "the share flipped %d times", flips);
    same(&base, &r, "a changing core share", 2);
    free(base.w);
    free(r.w);
    rt_pool_destroy(pool);
    rt_dataset_free(&tr);
    rt_dataset_free(&val);
}
