/*
 * fit.c — see fit.h. The loop itself is short; the care is in keeping the
 * metrics' arithmetic in a fixed order (doubles summed batch by batch) so a
 * run prints the same digits on every machine.
 */
#include <math.h>
#include <time.h>
#include "fit.h"
#include "tensor.h"

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

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

/* Batch buffers for one call: row indexes, scaled inputs, one-hot targets. */
typedef struct batch_buf {
    int64_t *idx;
    float *x, *y;
} batch_buf;

/* classes: the widest target row (the model's outputs, or a data set's
 * one-hot width when wider: binary sets are gathered one-hot, then folded) */
static bool batch_alloc(batch_buf *b, int64_t idx_n, int rows, int64_t features, int classes,
                        rt_error *err)
{
    b->idx = rt_alloc((size_t)idx_n * sizeof *b->idx);
    b->x = rt_alloc((size_t)rows * (size_t)features * sizeof(float));
    b->y = rt_alloc((size_t)rows * (size_t)classes * sizeof(float));
    if (!b->idx || !b->x || !b->y)
        return rt_fail(err, "out of memory for a batch of %d rows", rows);
    return true;
}

static void batch_free(batch_buf *b)
{
    rt_free(b->idx);
    rt_free(b->x);
    rt_free(b->y);
}

/* Forms a batch: handed to the model as bytes when the data are bytes and
 * the first layer takes them (returns NULL: see rt_model_input_u8), else as
 * floats in b->x (returned). Either way the same numbers reach the model. */
static const float *gather(rt_model *m, const rt_dataset *ds, const int64_t *idx, int n,
                           batch_buf *b)
{
    const float *x = b->x;
    if (ds->x_u8 && rt_model_input_u8(m, ds->x_u8, idx, n, ds->x_scale)) {
        rt_dataset_gather_labels(ds, idx, n, b->y);
        x = NULL;
    } else {
        rt_dataset_gather(ds, idx, n, b->x, b->y);
    }
    if (binary(m, ds))   /* one-hot [n x 2] -> the label [n x 1], in place */
        for (int i = 0; i < n; i++) b->y[i] = b->y[2 * i + 1];
    return x;
}
static int y_width(const rt_model *m, const rt_dataset *ds)
{
    return ds->classes > rt_model_out(m) ? ds->classes : rt_model_out(m);
}

static bool evaluate_with(rt_model *m, const rt_dataset *ds, rt_loss loss, int batch,
                          batch_buf *b, double *mean_loss, double *accuracy, rt_error *err)
{
    double loss_sum = 0, acc_sum = 0;
    for (int64_t start = 0; start < ds->n; start += batch) {
        int n = (int)(ds->n - start < batch ? ds->n - start : batch);
        for (int i = 0; i < n; i++) b->idx[i] = start + i;
        const float *x = gather(m, ds, b->idx, n, b);
        double l, a;
        if (!rt_model_evaluate(m, x, b->y, n, loss, &l, &a, err)) return false;
        loss_sum += l * n;
        acc_sum += a * n;
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
    bool ok = batch_alloc(&b, batch, batch, ds->features, y_width(m, ds), err) &&
              evaluate_with(m, ds, loss, batch, &b, mean_loss, accuracy, err);
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
    rt_fit_status status = RT_FIT_FAILED;
    if (!batch_alloc(&b, train->n, batch, train->features, classes, err) ||
        !rt_model_reserve(m, batch, err))
        goto done;

    for (int epoch = 1; epoch <= cfg->epochs; epoch++) {
        if (cfg->on_epoch_begin && !cfg->on_epoch_begin(cfg->ud, epoch)) break;
        double t0 = now_seconds();
        rt_dataset_epoch_order(cfg->shuffle_seed, cfg->first_epoch + epoch - 1, b.idx, train->n);
        double loss_sum = 0, correct_sum = 0;
        int64_t seen = 0;
        for (int bi = 0; bi < nbatches; bi++) {
            int64_t start = (int64_t)bi * batch;
            int n = (int)(train->n - start < batch ? train->n - start : batch);
            const float *x = gather(m, train, b.idx + start, n, &b);
            double loss, correct;
            if (!rt_model_train_step(m, opt, x, b.y, n, cfg->loss, &loss, &correct, err))
                goto done;
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
        if (cfg->validation &&
            !evaluate_with(m, cfg->validation, cfg->loss, batch, &b, &s.val_loss, &s.val_acc, err))
            goto done;
        s.seconds = now_seconds() - t0;
        if (cfg->on_epoch) cfg->on_epoch(cfg->ud, &s);
    }
    status = RT_FIT_DONE;
done:
    batch_free(&b);
    return status;
}
