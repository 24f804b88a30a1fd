/*
 * test_eval_team.c — an evaluation by whole batches on the pool's threads
 * (eval_team.h, issue 18) gives the serial pass's bits.
 *
 * The reference is computed here, independently of fit.c and the team:
 * every row gathered as floats, the batches of `batch` rows run through
 * rt_model_evaluate one by one on the model without a pool, each batch's
 * mean loss and accuracy weighted by its rows and summed in batch order in
 * double (fit.h's definition). rt_evaluate must give exactly those bits
 * with no pool and with pools of 1, 2 and 3 threads, for batch counts odd
 * and even, a short last batch, one batch, a batch of one row; for byte
 * data (the shadows' own compressed input), bytes too dense to compress
 * (floats per thread), float data, two classes into one sigmoid unit
 * (the targets folded), regression targets, a kernel penalty, and a model
 * whose buffers are smaller than the batch (several chunks per batch).
 * The model is left as it was, and a fit's validation gives the same
 * epochs with a thread tuner that had limited the pool to one thread.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include "eval_team.h"
#include "fit.h"
#include "model.h"
#include "pool.h"
#include "thread_tuner.h"

enum { IN = 784, CLASSES = 10, N = 3337 };

static uint32_t lcg(uint32_t *s) { return *s = *s * 1664525u + 1013904223u; }

/* n rows of MNIST-like bytes; rows below dense_rows with an even index are
 * all ink. classes 0: regression, `outputs` targets per row. */
static void make_set(rt_dataset *ds, int64_t n, uint32_t seed, int64_t dense_rows, bool u8,
                     int classes, int outputs)
{
    rt_error err;
    cr_assert(rt_dataset_alloc(ds, n, &(rt_shape){ 2, { 28, 28 } }, u8, u8 ? 1.0f / 255.0f : 1.0f,
                               classes, &err), "%s", err.msg);
    uint32_t s = seed;
    for (int64_t i = 0; i < n; i++) {
        bool dense = i < dense_rows && i % 2 == 0;
        for (int p = 0; p < IN; p++) {
            uint8_t v = (uint8_t)(lcg(&s) >> 24);
            uint8_t b = dense || (lcg(&s) >> 24) < 48 ? (uint8_t)(v | 1) : 0;
            if (u8) ds->x_u8[i * IN + p] = b;
            else ds->x_f32[i * IN + p] = (float)b / 255.0f;
        }
        if (classes) ds->labels[i] = (int32_t)((lcg(&s) >> 8) % (uint32_t)classes);
    }
    if (classes) return;
    cr_assert(rt_dataset_alloc_targets(ds, outputs, &err), "%s", err.msg);
    for (int64_t k = 0; k < n * outputs; k++)
        ds->targets[k] = (float)((int)(lcg(&s) >> 22) - 512) / 256.0f;
}

/* 784-50-BN-50-BN-out (the study's), trained a few steps without a pool so
 * that the weights and the moving statistics are not their initial ones;
 * its buffers sized for `cap` rows. */
static rt_model *make_model(int out, rt_act last, rt_loss loss, float l2, int cap,
                            const rt_act_custom *custom)
{
    rt_layer_spec net[] = {
        rt_spec_flatten(2, (int[]){28, 28}),
        rt_spec_dense(50, RT_ACT_RELU, RT_INIT_GLOROT_UNIFORM),
        rt_spec_batchnorm(0.9f, 1e-3f),
        rt_spec_dense(50, RT_ACT_RELU, RT_INIT_GLOROT_UNIFORM),
        rt_spec_batchnorm(0.9f, 1e-3f),
        rt_spec_dense(out, last, RT_INIT_GLOROT_UNIFORM),
    };
    net[1].l2 = l2;
    net[3].custom = custom;
    rt_rng init;
    rt_rng_init(&init, 5, RT_STREAM_INIT);
    rt_error err;
    rt_model *m = rt_model_create(net, 6, IN, &init, NULL, &err);
    cr_assert(m, "%s", err.msg);
    rt_optim *opt = rt_optim_create("Adam", NULL, &err);
    cr_assert(opt, "%s", err.msg);
    float *x = malloc((size_t)cap * IN * sizeof *x), *y = calloc((size_t)cap * out, sizeof *y);
    cr_assert(x && y);
    uint32_t s = 99;
    for (int step = 0; step < 5; step++) {
        for (long k = 0; k < (long)cap * IN; k++)
            x[k] = (lcg(&s) >> 24) < 48 ? (float)(lcg(&s) >> 24) / 255.0f : 0.0f;
        for (int i = 0; i < cap; i++) y[(long)i * out + (out > 1 ? (int)(lcg(&s) >> 8) % out : 0)] = 1.0f;
        double l, c;
        cr_assert(rt_model_train_step(m, opt, x, y, cap, loss, &l, &c, &err), "%s", err.msg);
        memset(y, 0, (size_t)cap * out * sizeof *y);
    }
    free(x);
    free(y);
    rt_optim_free(opt);
    return m;
}

/* The definition, computed directly (see the top note). */
static void reference(rt_model *m, const rt_dataset *ds, rt_loss loss, int batch, double *ml,
                      double *acc)
{
    int out = rt_model_out(m);
    int w = ds->targets ? ds->outputs : ds->classes > out ? ds->classes : out;
    bool fold = !ds->targets && ds->classes == 2 && out == 1;
    float *x = malloc((size_t)ds->n * IN * sizeof *x), *y = malloc((size_t)ds->n * w * sizeof *y);
    int64_t *all = malloc((size_t)ds->n * sizeof *all);
    cr_assert(x && y && all);
    for (int64_t i = 0; i < ds->n; i++) all[i] = i;
    rt_dataset_gather(ds, all, ds->n, x, y);
    rt_pool *pool = rt_model_pool(m);
    rt_model_set_pool(m, NULL);
    double ls = 0, as = 0;
    for (int64_t start = 0; start < ds->n; start += batch) {
        int k = (int)(ds->n - start < batch ? ds->n - start : batch);
        float *yk = y + start * w;
        if (fold)
            for (int i = 0; i < k; i++) yk[i] = yk[2 * i + 1];
        double l, a;
        rt_error err;
        cr_assert(rt_model_evaluate(m, x + start * IN, yk, k, loss, &l, &a, &err), "%s", err.msg);
        ls += l * k;
        as += a * k;
    }
    rt_model_set_pool(m, pool);
    *ml = ls / (double)ds->n;
    *acc = ds->targets ? NAN : as / (double)ds->n;
    free(x);
    free(y);
    free(all);
}

static bool same_bits(double a, double b) { return memcmp(&a, &b, sizeof a) == 0; }

/* Every parameter's bytes, to see that an evaluation leaves them alone. */
static float *snapshot(rt_model *m, long *count)
{
    rt_param *p;
    int np = rt_model_params(m, &p);
    *count = 0;
    for (int k = 0; k < np; k++) *count += p[k].size;
    float *w = malloc((size_t)*count * sizeof *w);
    cr_assert(w);
    long at = 0;
    for (int k = 0; k < np; k++) {
        memcpy(w + at, p[k].w, (size_t)p[k].size * sizeof *w);
        at += p[k].size;
    }
    return w;
}

/* by_team: the evaluations go by whole batches with 2 or 3 threads, so
 * none of them touches even the model's staging buffer (the serial
 * pipeline stages its batches there) */
static void check_with(rt_model *m, const rt_dataset *ds, rt_loss loss, const char *what,
                       bool by_team)
{
    /* batch counts 34 (the last of 37 rows), 33 (9), 477 (5), 102 (4), 3337,
     * then 2, 1 and 1: too few to make a team for, the serial pass */
    static const int batches[] = {100, 104, 7, 33, 1, 1669, N, 5000};
    int teams = 0;
    long nw;
    float *before = snapshot(m, &nw);
    unsigned seq = rt_model_stage_seq(m);
    for (size_t b = 0; b < sizeof batches / sizeof *batches; b++) {
        int batch = batches[b];
        double rl, ra;
        reference(m, ds, loss, batch, &rl, &ra);
        cr_assert(isfinite(rl), "%s: a finite loss", what);
        for (int threads = 0; threads <= 3; threads++) {
            rt_pool *pool = threads ? rt_pool_create(threads) : NULL;
            cr_assert(!threads || rt_pool_threads(pool) == threads);
            rt_model_set_pool(m, pool);
            int nb = (N + batch - 1) / batch;
            teams += rt_eval_team_threads(m, nb, nb) > 1;
            double l, a;
            rt_error err;
            cr_assert(rt_evaluate(m, ds, loss, batch, &l, &a, &err), "%s", err.msg);
            cr_assert(same_bits(l, rl) && same_bits(a, ra),
                      "%s, batch %d, %d threads: loss %.17g acc %.17g, want %.17g %.17g", what,
                      batch, threads, l, a, rl, ra);
            rt_model_set_pool(m, NULL);
            rt_pool_destroy(pool);
        }
    }
    long nw2;
    float *after = snapshot(m, &nw2);
    cr_assert(nw == nw2 && memcmp(before, after, (size_t)nw * sizeof *before) == 0,
              "%s: the evaluations changed the model", what);
    cr_assert(!by_team || rt_model_stage_seq(m) == seq, "%s: the model's staging was used", what);
    cr_assert(by_team ? teams == 5 * 2 : teams == 0, "%s: %d evaluations by whole batches", what,
              teams);
    free(before);
    free(after);
}

static void check(rt_model *m, const rt_dataset *ds, rt_loss loss, const char *what)
{
    check_with(m, ds, loss, what, true);
}

/* The shape of most tests here: a data set (make_set's arguments after n),
 * a model (make_model's), and check() on them. */
typedef struct eval_case {
    uint32_t seed;
    int64_t dense_rows;
    bool u8;
    int classes, outputs;       /* the data set's */
    int out;                    /* the model's last layer */
    rt_act last;
    rt_loss loss;
    float l2;
    int cap;
    const char *what;
} eval_case;

static void check_case(eval_case c)
{
    rt_dataset ds = {0};
    make_set(&ds, N, c.seed, c.dense_rows, c.u8, c.classes, c.outputs);
    rt_model *m = make_model(c.out, c.last, c.loss, c.l2, c.cap, NULL);
    check(m, &ds, c.loss, c.what);
    rt_model_free(m);
    rt_dataset_free(&ds);
}

Test(eval_team, sparse_bytes)
{
    check_case((eval_case){ .seed = 11, .u8 = true, .classes = CLASSES, .out = CLASSES,
                            .last = RT_ACT_SOFTMAX, .loss = RT_LOSS_CROSSENTROPY, .cap = 100,
                            .what = "sparse bytes" });
}

/* Some batches too dense to compress: those go as floats, on each thread
 * its own float batch. */
Test(eval_team, half_dense_bytes)
{
    check_case((eval_case){ .seed = 21, .dense_rows = N / 2, .u8 = true, .classes = CLASSES,
                            .out = CLASSES, .last = RT_ACT_SOFTMAX,
                            .loss = RT_LOSS_CROSSENTROPY, .cap = 100,
                            .what = "half dense bytes" });
}

Test(eval_team, floats_with_a_penalty)
{
    check_case((eval_case){ .seed = 31, .classes = CLASSES, .out = CLASSES,
                            .last = RT_ACT_LINEAR, .loss = RT_LOSS_CROSSENTROPY, .l2 = 1e-3f,
                            .cap = 100, .what = "floats, logits, l2" });
}

Test(eval_team, two_classes_into_one_unit)
{
    check_case((eval_case){ .seed = 41, .u8 = true, .classes = 2, .out = 1,
                            .last = RT_ACT_SIGMOID, .loss = RT_LOSS_BINARY_CROSSENTROPY,
                            .cap = 100, .what = "binary" });
}

Test(eval_team, regression_targets)
{
    check_case((eval_case){ .seed = 51, .u8 = true, .outputs = 3, .out = 3,
                            .last = RT_ACT_LINEAR, .loss = RT_LOSS_MSE, .cap = 100,
                            .what = "regression" });
}

/* Buffers for 32 rows: a batch of 100 is evaluated in chunks of 32 (and
 * as floats: the byte input holds one chunk), on the shadows too. */
Test(eval_team, buffers_smaller_than_the_batch)
{
    check_case((eval_case){ .seed = 61, .u8 = true, .classes = CLASSES, .out = CLASSES,
                            .last = RT_ACT_SOFTMAX, .loss = RT_LOSS_CROSSENTROPY, .cap = 32,
                            .what = "chunks of 32" });
}

/* A user-defined activation's code need not be thread-safe: such a model
 * is evaluated serially, with the same bits. */
static void c_relu(void *ctx, const float *z, float *y, long n)
{
    (void)ctx;
    for (long i = 0; i < n; i++) y[i] = z[i] > 0.0f ? z[i] : 0.0f;
}
static void c_relu_grad(void *ctx, const float *z, const float *y, const float *dy, float *dz,
                        long n)
{
    (void)ctx; (void)y;
    for (long i = 0; i < n; i++) dz[i] = z[i] > 0.0f ? dy[i] : 0.0f;
}

Test(eval_team, a_user_activation_stays_on_one_thread)
{
    static const rt_act_custom relu = {"c_relu", c_relu, c_relu_grad, NULL};
    rt_dataset ds = {0};
    make_set(&ds, N, 71, 0, true, CLASSES, 0);
    rt_model *m = make_model(CLASSES, RT_ACT_SOFTMAX, RT_LOSS_CROSSENTROPY, 0, 100, &relu);
    rt_pool *pool = rt_pool_create(2);
    rt_model_set_pool(m, pool);
    cr_assert_eq(rt_eval_team_threads(m, 100, 100), 1);
    rt_model_set_pool(m, NULL);
    rt_pool_destroy(pool);
    check_with(m, &ds, RT_LOSS_CROSSENTROPY, "user activation", false);
    rt_model_free(m);
    rt_dataset_free(&ds);
}

Test(eval_team, threads_it_would_use)
{
    rt_model *m = make_model(CLASSES, RT_ACT_SOFTMAX, RT_LOSS_CROSSENTROPY, 0, 10, NULL);
    cr_assert_eq(rt_eval_team_threads(m, 100, 100), 1, "no pool");
    rt_pool *pool = rt_pool_create(3);
    rt_model_set_pool(m, pool);
    cr_assert_eq(rt_eval_team_threads(m, 100, 100), 3);
    cr_assert_eq(rt_eval_team_threads(m, 2, 60), 2, "no more threads than batches");
    cr_assert_eq(rt_eval_team_threads(m, 1, 30), 1, "one batch");
    cr_assert_eq(rt_eval_team_threads(m, 31, 31), 1, "too few batches to pay");
    cr_assert_eq(rt_eval_team_threads(m, 8, 32), 3, "enough over the team's life");
    rt_pool_limit(pool, 1);
    cr_assert_eq(rt_eval_team_threads(m, 100, 100), 1, "a limit");
    rt_pool_limit(pool, 0);
    static rt_core_share share = { .cores = 2 };
    atomic_store(&share.busy, 2);
    rt_pool_share(pool, &share, 1);
    cr_assert_eq(rt_eval_team_threads(m, 100, 100), 1, "a core share of one");
    rt_model_set_pool(m, NULL);
    rt_pool_destroy(pool);
    rt_model_free(m);
}

/* A shadow computes its model's bits, reads its parameters as they are
 * now, and does not train. */
Test(eval_team, shadow)
{
    rt_model *m = make_model(CLASSES, RT_ACT_SOFTMAX, RT_LOSS_CROSSENTROPY, 0, 100, NULL);
    rt_error err;
    cr_assert_eq(rt_model_shadow_rows(m, 60, &err), 60);
    cr_assert_eq(rt_model_shadow_rows(m, 500, &err), 100, "m's chunks");
    rt_model *s = rt_model_shadow(m, 60, &err);
    cr_assert(s, "%s", err.msg);
    enum { R = 60 };
    float *x = malloc((size_t)R * IN * sizeof *x), *y = calloc((size_t)R * CLASSES, sizeof *y);
    float *pm = malloc((size_t)R * CLASSES * sizeof *pm), *ps = malloc((size_t)R * CLASSES * sizeof *ps);
    cr_assert(x && y && pm && ps);
    uint32_t seed = 5;
    for (long k = 0; k < (long)R * IN; k++)
        x[k] = (lcg(&seed) >> 24) < 60 ? (float)(lcg(&seed) >> 24) / 255.0f : 0.0f;
    for (int round = 0; round < 2; round++) {
        cr_assert(rt_model_predict(m, x, R, pm, &err), "%s", err.msg);
        cr_assert(rt_model_predict(s, x, R, ps, &err), "%s", err.msg);
        cr_assert(memcmp(pm, ps, (size_t)R * CLASSES * sizeof *pm) == 0, "round %d", round);
        rt_param *p;
        int np = rt_model_params(m, &p);
        for (int k = 0; k < np; k++) p[k].w[0] += 0.25f;    /* the shadow sees the change */
    }
    for (int i = 0; i < R; i++) y[i * CLASSES + i % CLASSES] = 1.0f;
    double l, c;
    cr_assert(!rt_model_train_step(s, NULL, x, y, R, RT_LOSS_CROSSENTROPY, &l, &c, &err));
    cr_assert(strstr(err.msg, "shadow"), "%s", err.msg);
    free(x); free(y); free(pm); free(ps);
    rt_model_free(s);
    rt_model_free(m);
}

/* The validation pass goes by whole batches even while the tuner had the
 * pool on one thread for the training steps; pause/resume give the
 * limit back. */
Test(eval_team, the_tuner_pauses_for_validation)
{
    rt_pool *pool = rt_pool_create(2);
    rt_thread_tuner t;
    rt_tuner_begin(&t, pool, 0.0);
    cr_assert_eq(rt_pool_threads(pool), 1, "the first trial is on one thread");
    rt_tuner_pause(&t);
    cr_assert_eq(rt_pool_threads(pool), 2, "paused: all threads");
    rt_tuner_resume(&t, 1.0);
    cr_assert_eq(rt_pool_threads(pool), 1, "resumed: the trial's one thread");
    rt_tuner_end(&t);
    cr_assert_eq(rt_pool_threads(pool), 2);
    rt_pool_destroy(pool);
}

/* A fit's validation: every epoch's val_loss/val_acc the same bits with
 * no pool and with 1, 2, 3 threads (1101 rows: 12 batches, the last of one
 * row; 36 over the fit, enough for a team). */
typedef struct vals { int n; double l[4], a[4]; } vals;
static void note(void *ud, const rt_epoch_stats *s)
{
    vals *v = ud;
    v->l[v->n] = s->val_loss;
    v->a[v->n] = s->val_acc;
    v->n++;
}

Test(eval_team, fit_validation_any_threads)
{
    rt_dataset tr = {0}, val = {0};
    make_set(&tr, 250, 81, 0, true, CLASSES, 0);
    make_set(&val, 1101, 82, 0, true, CLASSES, 0);
    vals base = {0};
    for (int threads = 0; threads <= 3; threads++) {
        rt_pool *pool = threads ? rt_pool_create(threads) : NULL;
        rt_model *m = make_model(CLASSES, RT_ACT_SOFTMAX, RT_LOSS_CROSSENTROPY, 0, 100, NULL);
        rt_model_set_pool(m, pool);
        rt_error err;
        rt_optim *opt = rt_optim_create("SGD", NULL, &err);
        cr_assert(opt, "%s", err.msg);
        vals v = {0};
        rt_fit_config cfg = {.epochs = 3, .batch = 100, .loss = RT_LOSS_CROSSENTROPY,
                             .shuffle_seed = 1, .validation = &val, .on_epoch = note, .ud = &v};
        cr_assert_eq(rt_fit(m, opt, &tr, &cfg, &err), RT_FIT_DONE, "%s", err.msg);
        cr_assert_eq(v.n, 3);
        if (!threads) base = v;
        for (int e = 0; e < 3; e++)
            cr_assert(same_bits(v.l[e], base.l[e]) && same_bits(v.a[e], base.a[e]),
                      "%d threads, epoch %d", threads, e + 1);
        rt_optim_free(opt);
        rt_model_free(m);
        rt_pool_destroy(pool);
    }
    rt_dataset_free(&tr);
    rt_dataset_free(&val);
}

/* The team itself, run directly on 1, 2 and 3 threads, twice (kept
 * between runs, as a fit keeps it): each batch's loss and accuracy are
 * those of rt_model_evaluate on that batch; a team for 1 or 2 threads is
 * remade for more. */
Test(eval_team, each_batch_as_rt_model_evaluate)
{
    rt_dataset ds = {0};
    make_set(&ds, 1001, 91, 200, true, CLASSES, 0);    /* some batches as floats */
    rt_model *m = make_model(CLASSES, RT_ACT_SOFTMAX, RT_LOSS_CROSSENTROPY, 0, 100, NULL);
    enum { B = 100, NB = 11 };
    float *x = malloc((size_t)B * IN * sizeof *x), *y = malloc((size_t)B * CLASSES * sizeof *y);
    int64_t idx[B];
    double rl[NB], ra[NB], l[NB], a[NB];
    cr_assert(x && y);
    for (int bi = 0; bi < NB; bi++) {
        int k = bi < NB - 1 ? B : 1;
        for (int i = 0; i < k; i++) idx[i] = (int64_t)bi * B + i;
        rt_dataset_gather(&ds, idx, k, x, y);
        rt_error err;
        cr_assert(rt_model_evaluate(m, x, y, k, RT_LOSS_CROSSENTROPY, &rl[bi], &ra[bi], &err));
    }
    rt_eval_team *team = NULL;
    for (int threads = 1; threads <= 3; threads++) {
        rt_pool *pool = rt_pool_create(threads);
        rt_model_set_pool(m, pool);
        for (int round = 0; round < 2; round++) {
            memset(l, 0xff, sizeof l);
            memset(a, 0xff, sizeof a);
            rt_error err;
            cr_assert(rt_eval_team_run(&team, m, &ds, RT_LOSS_CROSSENTROPY, B, CLASSES, false,
                                       threads, l, a, &err), "%s", err.msg);
            for (int bi = 0; bi < NB; bi++)
                cr_assert(same_bits(l[bi], rl[bi]) && same_bits(a[bi], ra[bi]),
                          "%d threads, round %d, batch %d", threads, round, bi);
        }
        rt_model_set_pool(m, NULL);
        rt_pool_destroy(pool);
    }
    rt_eval_team_free(team);
    free(x);
    free(y);
    rt_model_free(m);
    rt_dataset_free(&ds);
}
