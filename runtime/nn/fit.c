/*
 * fit.c — see fit.h. The loop itself is short; the care is in keeping the
 * metrics' arithmetic in a fixed order (doubles summed batch by batch) so a
 * run prints the same digits on every machine.
 *
 * Batches are gathered one ahead (a pipeline of two): while the model runs
 * a step on batch i, a pool worker gathers batch i + 1 into the other of
 * two buffer slots (the pool's background job; its bytes compressed into
 * the first layer's staging buffer, rt_model_stage_u8, with the column
 * form of the backward product). A training step's first product split
 * across the pool (the first layer's forward) comes before the job (the
 * job is spawned `after_run`), so the worker helps with that product, then
 * gathers while the caller goes through the small layers, then helps with
 * the first layer's weight gradient. The job is joined right after the step,
 * before any callback runs, so nothing else ever sees it. What a batch
 * holds does not depend on where or when it was gathered: the results are
 * the same bits with any number of threads. With one thread each batch is
 * gathered right before its step, straight into the first layer's input
 * (rt_model_input_u8), as it always was: gathered ahead into a second
 * buffer it would only crowd the step's data out of the cache.
 *
 * What two threads get from this, and why not more (issue 18, fifth
 * round; clock marks around the step's phases, the study net with Adam +
 * relu, 3 epochs, us per step). One thread: first layer forward 30, the
 * small layers forward and back 35, the first layer's weight gradient
 * (S^T dz) 25, Adam 21, the gather 22. Two threads: 22, 35, 32, 23, and
 * the worker's gather takes 53-57, not 22: it runs beside the caller's
 * small layers, and the same packing on the second vCPU takes 18-25 us
 * while the first one idles but 31-93 while it computes. S^T dz then runs
 * mostly on the caller, over bytes the worker packed: per nonzero 7.4 ns
 * for the thread that did not pack against 2.5 for the one that did (each
 * of the column walk's byte reads misses to the other core's cache; 2.5
 * and 2.8 once both had read the bytes). Gathering on the caller instead,
 * right before the step, was worse (step p10 160-168 against 103-112).
 * The lead is in what the threads share, not in idle time: a split of the
 * pixels per thread that holds from the packing through S^T dz and Adam
 * would keep those bytes, bits and Adam rows on one core.
 *
 * The validation pass (and rt_evaluate) goes otherwise: with two threads
 * or more, each takes whole batches on a forward pass of its own
 * (eval_team.h), and the batches' results are summed here in batch order;
 * the fit's thread tuner lifts its limit for it (thread_tuner.h). With one
 * thread, or too few batches to repay the threads' own buffers, batch by
 * batch on the model, pipelined as above.
 */
#include <math.h>
#include "clock.h"
#include "eval_team.h"
#include "fit.h"
#include "tensor.h"
#include "thread_tuner.h"

/* Two classes into one output unit: the target is the label, 0 or 1. */
static bool binary(const rt_model *m, const rt_dataset *ds)
{
    return !ds->targets && ds->classes == 2 && rt_model_out(m) == 1;
}

bool rt_fit_check(const rt_model *m, const rt_dataset *ds, const char *what, rt_error *err)
{
    if (ds->features != rt_model_in(m))
        return rt_fail(err, "%s has %lld features per example but the model's input takes %d",
                       what, (long long)ds->features, rt_model_in(m));
    if (ds->targets && ds->outputs != rt_model_out(m))
        return rt_fail(err, "%s has %d target%s per example but the model's last layer has %d "
                       "unit%s", what, ds->outputs, ds->outputs == 1 ? "" : "s", rt_model_out(m),
                       rt_model_out(m) == 1 ? "" : "s");
    if (ds->classes > 0 && ds->classes != rt_model_out(m) && !binary(m, ds))
        return rt_fail(err, "%s has %d classes but the model's last layer has %d unit%s%s",
                       what, ds->classes, rt_model_out(m), rt_model_out(m) == 1 ? "" : "s",
                       ds->classes == 2 ? " (a single unit, e.g. dense(1, sigmoid), takes 2 classes "
                                          "as 0/1)" : "");
    if (!ds->labels && !ds->targets)
        return rt_fail(err, "%s has no labels to train on", what);
    if (ds->n == 0)
        return rt_fail(err, "%s is empty", what);
    return true;
}

/* Batch buffers for one call: row indexes, and two slots of scaled inputs
 * and one-hot targets (the batch a step uses, the one gathered meanwhile).
 * Byte data go to the model compressed, so their input slots are allocated
 * only if a batch turns out too dense for that (rows * features floats
 * each: a big evaluation batch would otherwise hold them for nothing). */
typedef struct batch_buf {
    int64_t *idx;           /* the training order */
    int64_t *rows;          /* an evaluation's row numbers: two slots of a batch */
    float *x[2], *y[2];
    int nrows;
    int64_t features;
    rt_eval_team *team;     /* an evaluation by whole batches: its threads' own */
} batch_buf;

/* The input slot s, allocated on first use (on the caller's thread). */
static bool batch_x(batch_buf *b, int s, rt_error *err)
{
    if (!b->x[s]) b->x[s] = rt_alloc((size_t)b->nrows * (size_t)b->features * sizeof(float));
    return b->x[s] ? true : rt_fail(err, "out of memory for a batch of %d rows", b->nrows);
}

/* classes: the widest target row (the model's outputs, or a data set's
 * one-hot width when wider: binary sets are gathered one-hot, then folded);
 * floats: some data set is stored as floats (its input slots are needed) */
static bool batch_alloc(batch_buf *b, int64_t idx_n, int rows, int64_t features, int classes,
                        bool floats, rt_error *err)
{
    b->nrows = rows;
    b->features = features;
    b->idx = idx_n ? rt_alloc((size_t)idx_n * sizeof *b->idx) : NULL;
    b->rows = rt_alloc((size_t)rows * 2 * sizeof *b->rows);
    for (int s = 0; s < 2; s++) {
        b->y[s] = rt_alloc((size_t)rows * (size_t)classes * sizeof(float));
        if (floats && !batch_x(b, s, err)) return false;
    }
    if ((idx_n && !b->idx) || !b->rows || !b->y[0] || !b->y[1])
        return rt_fail(err, "out of memory for a batch of %d rows", rows);
    return true;
}

static void batch_free(batch_buf *b)
{
    rt_free(b->idx);
    rt_free(b->rows);
    for (int s = 0; s < 2; s++) {
        rt_free(b->x[s]);
        rt_free(b->y[s]);
    }
    rt_eval_team_free(b->team);
}

/* One batch of the pipeline: rows idx[0..n) of ds into slot `slot`. */
typedef struct gather_job {
    rt_model *m;
    const rt_dataset *ds;
    batch_buf *b;
    const int64_t *idx;
    int n, slot;
    bool training;      /* stage the backward product's column form too */
    bool direct;        /* no pipeline: bytes straight into the model's input */
    bool staged;        /* out: the rows went to the model's staging buffer */
    bool unslotted;     /* out: they need floats and the slot has no buffer yet */
    unsigned seq;       /* out: the staging's rt_model_stage_seq */
} gather_job;

/* Forms a batch: staged in the model as bytes when the data are bytes and
 * the first layer takes them (rt_model_stage_u8), else as floats in
 * b->x[slot]; the targets in b->y[slot]. Either way the same numbers reach
 * the model. Touches only the slot and the staging buffer: it may run on a
 * worker while the model runs a step on the other slot. */
static void gather_run(void *ctx)
{
    gather_job *g = ctx;
    const rt_dataset *ds = g->ds;
    float *y = g->b->y[g->slot];
    if (g->direct)
        g->staged = ds->x_u8 && rt_model_input_u8(g->m, ds->x_u8, g->idx, g->n, ds->x_scale,
                                                  g->training);
    else
        g->staged = ds->x_u8 && rt_model_stage_u8(g->m, ds->x_u8, g->idx, g->n, ds->x_scale,
                                                  g->training);
    g->seq = rt_model_stage_seq(g->m);
    g->unslotted = !g->staged && !g->b->x[g->slot];
    if (g->unslotted) return;           /* gather_take allocates, then gathers */
    if (g->staged)
        rt_dataset_gather_labels(ds, g->idx, g->n, y);
    else
        rt_dataset_gather(ds, g->idx, g->n, g->b->x[g->slot], y);
    if (binary(g->m, ds))   /* one-hot [n x 2] -> the label [n x 1], in place */
        for (int i = 0; i < g->n; i++) y[i] = y[2 * i + 1];
}

/* The inputs of a gathered batch, for the step about to run on it, in *x:
 * NULL when they are the model's (staged bytes, now made its input).
 * Staged rows that something else has replaced since (a callback that
 * evaluated the model) are gathered again first. False: out of memory. */
static bool gather_take(gather_job *g, const float **x, rt_error *err)
{
    if (g->staged && rt_model_stage_seq(g->m) != g->seq) gather_run(g);
    if (g->unslotted) {
        if (!batch_x(g->b, g->slot, err)) return false;
        gather_run(g);
    }
    *x = g->staged ? NULL : g->b->x[g->slot];
    if (g->staged && !g->direct) rt_model_use_staged(g->m);
    return true;
}

/* Starts gathering batch `bi` (rows idx[0..n)) into slot bi % 2, on a
 * worker if the model's pool has one free; `after_run`: once the step's
 * first split product is done (pool.h), the workers helping with it.
 * Without workers (one thread) it gathers at once, directly. */
static void gather_start(gather_job *jobs, rt_model *m, const rt_dataset *ds, batch_buf *b,
                         int bi, const int64_t *idx, int n, bool training, bool after_run)
{
    gather_job *g = &jobs[bi & 1];
    rt_pool *pool = rt_model_pool(m);
    *g = (gather_job){ .m = m, .ds = ds, .b = b, .idx = idx, .n = n, .slot = bi & 1,
                       .training = training, .direct = rt_pool_size(pool) <= 1 };
    rt_pool_spawn(pool, gather_run, g, after_run);
}
static int y_width(const rt_model *m, const rt_dataset *ds)
{
    return ds->classes > rt_model_out(m) ? ds->classes : rt_model_out(m);
}

/* Starts gathering batch bi of an evaluation (rows in order; their numbers
 * in b->rows' slot bi % 2). */
static bool eval_start(gather_job *jobs, rt_model *m, const rt_dataset *ds, batch_buf *b,
                       int bi, int batch, rt_error *err)
{
    int64_t start = (int64_t)bi * batch;
    int n = (int)(ds->n - start < batch ? ds->n - start : batch);
    int64_t *rows = b->rows + (long)(bi & 1) * batch;
    for (int i = 0; i < n; i++) rows[i] = start + i;
    if (rt_pool_size(rt_model_pool(m)) > 1 && !rt_model_stage_reserve(m, err)) return false;
    gather_start(jobs, m, ds, b, bi, rows, n, false, false);
    return true;
}

/* Starts gathering training batch bi (its rows in the epoch's order). */
static void train_start(gather_job *jobs, rt_model *m, const rt_dataset *ds, batch_buf *b,
                        int bi, int batch)
{
    int64_t start = (int64_t)bi * batch;
    int n = (int)(ds->n - start < batch ? ds->n - start : batch);
    gather_start(jobs, m, ds, b, bi, b->idx + start, n, true, true);
}

/* The evaluation by whole batches (eval_team.h): each thread of the pool
 * takes whole batches, with a forward pass of its own and no split
 * products; the batches' results are summed here in batch order as the
 * serial loop below sums them, so the same bits come out. */
static bool evaluate_whole(rt_model *m, const rt_dataset *ds, rt_loss loss, int batch,
                           int threads, batch_buf *b, double *mean_loss, double *accuracy,
                           rt_error *err)
{
    const int nbatches = (int)((ds->n + batch - 1) / batch);
    double *l = rt_alloc((size_t)nbatches * 2 * sizeof *l);
    if (!l) return rt_fail(err, "out of memory for the results of %d batches", nbatches);
    double *a = l + nbatches;
    bool ok = rt_eval_team_run(&b->team, m, ds, loss, batch, y_width(m, ds), binary(m, ds),
                               threads, l, a, err);
    double loss_sum = 0, acc_sum = 0;
    for (int bi = 0; ok && bi < nbatches; bi++) {
        int64_t start = (int64_t)bi * batch;
        int n = (int)(ds->n - start < batch ? ds->n - start : batch);
        loss_sum += l[bi] * n;
        acc_sum += a[bi] * n;
    }
    rt_free(l);
    if (!ok) return false;
    *mean_loss = loss_sum / (double)ds->n;
    *accuracy = ds->targets ? NAN : acc_sum / (double)ds->n;   /* no classes, no accuracy */
    return true;
}

/* An evaluation of ds: by whole batches when the pool has threads for it
 * (evaluate_whole; measured in eval_team.c), else batch by batch on the
 * model itself, as it always was. runs: how many evaluations of these
 * data the caller will make (a fit's epochs), which decides whether the
 * threads' own buffers pay. */
static bool evaluate_with(rt_model *m, const rt_dataset *ds, rt_loss loss, int batch, int runs,
                          batch_buf *b, double *mean_loss, double *accuracy, rt_error *err)
{
    double loss_sum = 0, acc_sum = 0;
    const int nbatches = (int)((ds->n + batch - 1) / batch);
    rt_pool *pool = rt_model_pool(m);
    rt_pool_join(pool);
    int threads = rt_eval_team_threads(m, nbatches, (long)nbatches * runs);
    if (threads > 1)
        return evaluate_whole(m, ds, loss, batch, threads, b, mean_loss, accuracy, err);
    gather_job jobs[2];
    const bool ahead = rt_pool_size(pool) > 1;    /* else each batch right before use */
    if (ahead && !eval_start(jobs, m, ds, b, 0, batch, err)) return false;
    rt_pool_join(pool);
    for (int bi = 0; bi < nbatches; bi++) {
        gather_job *g = &jobs[bi & 1];
        const float *x;
        if ((!ahead && !eval_start(jobs, m, ds, b, bi, batch, err)) || !gather_take(g, &x, err))
            return false;
        if (ahead && bi + 1 < nbatches && !eval_start(jobs, m, ds, b, bi + 1, batch, err))
            return false;
        double l, a;
        bool ok = rt_model_evaluate(m, x, b->y[g->slot], g->n, loss, &l, &a, err);
        rt_pool_join(pool);
        if (!ok) return false;
        loss_sum += l * g->n;
        acc_sum += a * g->n;
    }
    *mean_loss = loss_sum / (double)ds->n;
    *accuracy = ds->targets ? NAN : acc_sum / (double)ds->n;   /* no classes, no accuracy */
    return true;
}

bool rt_evaluate(rt_model *m, const rt_dataset *ds, rt_loss loss, int batch,
                 double *mean_loss, double *accuracy, rt_error *err)
{
    if (!rt_fit_check(m, ds, "the evaluation data", err)) return false;
    batch_buf b = {0};
    /* by whole batches the threads have float batches of their own */
    int nbatches = (int)((ds->n + batch - 1) / batch);
    bool floats = !ds->x_u8 && rt_eval_team_threads(m, nbatches, nbatches) < 2;
    bool ok = batch_alloc(&b, 0, batch, ds->features, y_width(m, ds), floats, err) &&
              evaluate_with(m, ds, loss, batch, 1, &b, mean_loss, accuracy, err);
    batch_free(&b);
    return ok;
}

rt_fit_status rt_fit(rt_model *m, rt_optim *opt, const rt_dataset *train,
                     const rt_fit_config *cfg, rt_error *err)
{
    if (!rt_fit_check(m, train, "the training data", err)) return RT_FIT_FAILED;
    if (cfg->validation && !rt_fit_check(m, cfg->validation, "the validation data", err))
        return RT_FIT_FAILED;
    const int batch = cfg->batch;
    int classes = y_width(m, train);
    if (cfg->validation && y_width(m, cfg->validation) > classes)
        classes = y_width(m, cfg->validation);
    const int nbatches = (int)((train->n + batch - 1) / batch);
    batch_buf b = {0};
    rt_pool *pool = rt_model_pool(m);
    gather_job jobs[2];
    /* The pipeline's shape follows the pool's size, not the threads its
     * core share allows at the moment (which may change between batches):
     * a batch gathered ahead goes to the staging slot, never straight into
     * the input the current step reads. */
    const bool ahead = rt_pool_size(pool) > 1;
    rt_thread_tuner tuner;
    rt_tuner_begin(&tuner, pool, rt_seconds());
    rt_fit_status status = RT_FIT_FAILED;
    bool floats = !train->x_u8 || (cfg->validation && !cfg->validation->x_u8);
    if (!batch_alloc(&b, train->n, batch, train->features, classes, floats, err) ||
        !rt_model_reserve(m, batch, err))
        goto done;

    for (int epoch = 1; epoch <= cfg->epochs; epoch++) {
        if (cfg->on_epoch_begin && !cfg->on_epoch_begin(cfg->ud, epoch)) break;
        double t0 = rt_seconds();
        rt_dataset_epoch_order(cfg->shuffle_seed, cfg->first_epoch + epoch - 1, b.idx, train->n);
        double loss_sum = 0, correct_sum = 0;
        int64_t seen = 0;
        if (ahead) {
            if (!rt_model_stage_reserve(m, err)) goto done;
            train_start(jobs, m, train, &b, 0, batch);
            rt_pool_join(pool);
        }
        rt_tuner_resume(&tuner, rt_seconds());
        for (int bi = 0; bi < nbatches; bi++) {
            gather_job *g = &jobs[bi & 1];
            const float *x;
            if (!ahead) train_start(jobs, m, train, &b, bi, batch);   /* runs here */
            if (!gather_take(g, &x, err)) goto done;
            int n = g->n;
            if (ahead && bi + 1 < nbatches) train_start(jobs, m, train, &b, bi + 1, batch);
            double loss, correct;
            bool ok = rt_model_train_step(m, opt, x, b.y[g->slot], n, cfg->loss, &loss, &correct,
                                          err);
            rt_pool_join(pool);
            rt_tuner_step(&tuner, rt_seconds());
            if (!ok) goto done;
            if (!isfinite(loss)) {
                rt_fail(err, "the loss became %s at epoch %d, batch %d of %d "
                        "(the run diverged; try a lower learning rate)",
                        isnan(loss) ? "nan" : "inf", epoch, bi + 1, nbatches);
                goto done;
            }
            loss_sum += loss * n;
            correct_sum += correct;
            seen += n;
            if (cfg->on_batch &&
                !cfg->on_batch(cfg->ud, epoch, bi + 1, nbatches, loss_sum / (double)seen,
                               correct_sum / (double)seen)) {
                status = RT_FIT_STOPPED;
                goto done;
            }
        }
        rt_epoch_stats s = { .epoch = epoch, .loss = loss_sum / (double)seen,
                             .acc = train->targets ? NAN : correct_sum / (double)seen,
                             .val_loss = NAN, .val_acc = NAN, .lr = NAN };
        rt_tuner_pause(&tuner);     /* its verdict is on training steps (thread_tuner.h) */
        if (cfg->validation &&
            !evaluate_with(m, cfg->validation, cfg->loss, batch, cfg->epochs, &b, &s.val_loss,
                           &s.val_acc, err))
            goto done;
        s.seconds = rt_seconds() - t0;
        if (cfg->on_epoch) cfg->on_epoch(cfg->ud, &s);
    }
    status = RT_FIT_DONE;
done:
    rt_pool_join(pool);
    rt_tuner_end(&tuner);
    batch_free(&b);
    return status;
}
