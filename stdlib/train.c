/*
 * train.c — fit(), evaluate(), predict() and the history a fit returns.
 *
 * The loop itself is the runtime's (fit.h); this file turns arguments into
 * its configuration, shows progress and keeps the history. Progress goes
 * to stdout like Keras's: with verbose=1 a live bar on a terminal;
 * verbose=2 one line per epoch (with timings only on a terminal), so
 * output that is not a terminal never varies between runs. With verbose=1
 * off a terminal, one line per epoch with its seconds goes to stderr
 * instead (as Keras's verbose=2 does in a log), unless MLP_PROGRESS=0 or
 * in a -j worker (the parent reports finished points).
 *
 * Ctrl-C: the batch callback polls mlp_interrupted(); the run stops at the
 * batch boundary, the model keeps its updates and `model.history` the
 * epochs completed, and the interrupt then surfaces as the usual
 * "interrupted" error.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "checkpoint.h"
#include "clock.h"
#include "control.h"
#include "metrics.h"
#include "fit.h"
#include "parallel.h"
#include "std.h"

/* ---- histories ------------------------------------------------------------ */

/* One column per metric, in std.h's order. */
enum { H_LOSS = STD_H_LOSS, H_ACC = STD_H_ACC, H_VAL_LOSS = STD_H_VAL_LOSS,
       H_VAL_ACC = STD_H_VAL_ACC, H_SECONDS = STD_H_SECONDS, H_LR = STD_H_LR,
       H_COUNT = STD_H_COUNT };
const char *const std_history_names[H_COUNT] = {
    "loss", "acc", "val_loss", "val_acc", "seconds", "lr",
};
#define history_names std_history_names

static void history_free(void *data)
{
    std_history *h = data;
    for (int c = 0; c < H_COUNT; c++) free(h->col[c]);
    for (int c = 0; c < h->nextra; c++) free(h->xcol[c]);
    free(h);
}

static bool history_push(std_history *h, const rt_epoch_stats *s)
{
    if (h->n == h->cap) {
        int cap = h->cap ? 2 * h->cap : 16;
        for (int c = 0; c < H_COUNT; c++) {
            double *p = realloc(h->col[c], (size_t)cap * sizeof *p);
            if (!p) return false;
            h->col[c] = p;
        }
        for (int c = 0; c < h->nextra; c++) {
            double *p = realloc(h->xcol[c], (size_t)cap * sizeof *p);
            if (!p) return false;
            h->xcol[c] = p;
        }
        h->cap = cap;
    }
    for (int c = 0; c < h->nextra; c++) h->xcol[c][h->n] = s->extra[c];
    const double row[H_COUNT] = { s->loss, s->acc, s->val_loss, s->val_acc, s->seconds, s->lr };
    for (int c = 0; c < H_COUNT; c++) h->col[c][h->n] = row[c];
    h->n++;
    return true;
}

static mlp_value number_list(mlp_vm *vm, const double *xs, int n)
{
    mlp_value list = mlp_list_new(vm);
    mlp_push_root(vm, list);
    for (int i = 0; i < n; i++) mlp_list_push(vm, list, mlp_number(xs[i]));
    mlp_pop_root(vm);
    return list;
}

static bool history_get(mlp_vm *vm, mlp_value self, void *data, const char *field, mlp_value *out)
{
    std_history *h = data;
    for (int c = 0; c < H_COUNT; c++)
        if (strcmp(field, history_names[c]) == 0) {
            *out = number_list(vm, h->col[c], h->n);
            return true;
        }
    for (int c = 0; c < h->nextra; c++)
        if (strcmp(field, h->extra_names[c]) == 0) {
            *out = number_list(vm, h->xcol[c], h->n);
            return true;
        }
    if (strcmp(field, "epochs") == 0) { *out = mlp_number(h->n); return true; }
    return mlp_raise(vm, "history has no field '%s' (loss, acc, val_loss, val_acc, seconds, "
                     "lr, epochs)", field);
}

/* The last epoch, as Keras prints it. */
static mlp_value history_tostring(mlp_vm *vm, void *data)
{
    std_history *h = data;
    char buf[256];
    if (h->n == 0) return mlp_string_cstr(vm, "<history: no epochs>");
    int i = h->n - 1;
    int k = snprintf(buf, sizeof buf, "<history: %d epoch%s - loss: %.4f", h->n,
                     h->n == 1 ? "" : "s", h->col[H_LOSS][i]);
    if (!isnan(h->col[H_ACC][i]))
        k += snprintf(buf + k, sizeof buf - (size_t)k, " - acc: %.4f", h->col[H_ACC][i]);
    if (!isnan(h->col[H_VAL_LOSS][i]))
        k += snprintf(buf + k, sizeof buf - (size_t)k, " - val_loss: %.4f", h->col[H_VAL_LOSS][i]);
    if (!isnan(h->col[H_VAL_ACC][i]))
        k += snprintf(buf + k, sizeof buf - (size_t)k, " - val_acc: %.4f", h->col[H_VAL_ACC][i]);
    snprintf(buf + k, sizeof buf - (size_t)k, ">");
    return mlp_string_cstr(vm, buf);
}

mlp_value std_history_value(mlp_vm *vm, int n, double *const col[STD_H_COUNT])
{
    std_history *h = calloc(1, sizeof *h);
    if (!h) { mlp_raise(vm, "out of memory"); return mlp_nil(); }
    for (int c = 0; c < H_COUNT && n > 0; c++) {
        h->col[c] = malloc((size_t)n * sizeof *h->col[c]);
        if (!h->col[c]) {
            history_free(h);
            mlp_raise(vm, "out of memory");
            return mlp_nil();
        }
        memcpy(h->col[c], col[c], (size_t)n * sizeof *h->col[c]);
    }
    h->n = h->cap = n;
    return mlp_handle(vm, &std_history_class, h);
}

const mlp_class std_history_class = {
    .name = "history", .free = history_free, .get = history_get,
    .tostring = history_tostring, .fields = "loss, acc, val_loss, val_acc, seconds, lr, epochs",
};

/* ---- progress ------------------------------------------------------------- */

typedef struct fit_run {
    mlp_vm *vm;
    std_history *history;
    int epochs, verbose;
    bool tty, epoch_lines;
    double epoch_start, last_draw;
    bool oom;
    /* checkpoints: every `every` epochs to `ckpt` (NULL: none); a resumed
     * fit's epochs are numbered on from the checkpoint's `ck.done` */
    std_model *model;
    const char *ckpt;
    long every, offset;
    std_ckpt ck;
    char config[1024];
    bool ckpt_failed;
    std_control ctl;          /* lr=, early_stopping=, on_epoch= (control.h) */
    std_metrics ms;           /* metrics= */
    const rt_dataset *train, *val;
} fit_run;

static void say(mlp_vm *vm, const char *s) { mlp_write(vm, s, strlen(s)); }

/* "Epoch 3/30  412/600 [====================>.........] ETA: 0.2s - loss: ..." */
static void draw_bar(fit_run *r, int epoch, int batch, int nbatches, double loss, double acc)
{
    char bar[31], line[256];
    int fill = (int)(30L * batch / nbatches);
    for (int i = 0; i < 30; i++) bar[i] = i < fill ? '=' : (i == fill ? '>' : '.');
    bar[30] = 0;
    double t = rt_seconds() - r->epoch_start;
    int k = snprintf(line, sizeof line, "\rEpoch %d/%d  %d/%d [%s] ETA: %.1fs - loss: %.4f",
                     epoch, r->epochs, batch, nbatches, bar, t * (nbatches - batch) / batch, loss);
    if (!(r->train && r->train->targets))   /* regression: no accuracy */
        k += snprintf(line + k, sizeof line - (size_t)k, " - acc: %.4f", acc);
    snprintf(line + k, sizeof line - (size_t)k, "\033[K");
    say(r->vm, line);
}

static bool on_batch(void *ud, int epoch, int batch, int nbatches, double loss, double acc)
{
    fit_run *r = ud;
    if (batch == 1) r->epoch_start = rt_seconds();
    if (r->verbose == 1 && r->tty) {
        double t = rt_seconds();
        if (t - r->last_draw > 0.1 || batch == nbatches) {
            r->last_draw = t;
            draw_bar(r, epoch, batch, nbatches, loss, acc);
        }
    }
    return !mlp_interrupted(r->vm) && !r->ckpt_failed;
}

static void on_epoch(void *ud, const rt_epoch_stats *s)
{
    fit_run *r = ud;
    if (!history_push(r->history, s)) r->oom = true;
    if (r->verbose == 1 && !r->tty && r->epoch_lines) {
        /* Keras's verbose=2, where logs go: stdout stays as it was. */
        fprintf(stderr, "Epoch %d/%d - %.2fs - loss: %.4f - acc: %.4f", s->epoch, r->epochs,
                s->seconds, s->loss, s->acc);
        if (!isnan(s->val_loss))
            fprintf(stderr, " - val_loss: %.4f - val_acc: %.4f", s->val_loss, s->val_acc);
        fputc('\n', stderr);
        fflush(stderr);
    }
    if (r->verbose == 0 || (r->verbose == 1 && !r->tty)) return;
    char line[1024];
    int k;
    if (r->tty)
        k = snprintf(line, sizeof line, "\rEpoch %d/%d  [==============================] %.1fs "
                     "- loss: %.4f", s->epoch, r->epochs, s->seconds, s->loss);
    else
        k = snprintf(line, sizeof line, "Epoch %d/%d - loss: %.4f", s->epoch, r->epochs, s->loss);
    if (!isnan(s->acc))   /* NaN: regression, no accuracy */
        k += snprintf(line + k, sizeof line - (size_t)k, " - acc: %.4f", s->acc);
    int nm = r->history->nextra / 2;
    for (int i = 0; i < nm; i++)
        k += snprintf(line + k, sizeof line - (size_t)k, " - %s: %.4f",
                      r->history->extra_names[i], s->extra[i]);
    if (!isnan(s->val_loss))
        k += snprintf(line + k, sizeof line - (size_t)k, " - val_loss: %.4f", s->val_loss);
    if (!isnan(s->val_acc))
        k += snprintf(line + k, sizeof line - (size_t)k, " - val_acc: %.4f", s->val_acc);
    for (int i = nm; i < 2 * nm && !isnan(s->val_loss); i++)
        k += snprintf(line + k, sizeof line - (size_t)k, " - %s: %.4f",
                      r->history->extra_names[i], s->extra[i]);
    snprintf(line + k, sizeof line - (size_t)k, "%s\n", r->tty ? "\033[K" : "");
    say(r->vm, line);
}

/* rt_fit numbers the epochs of each call from 1: a resumed fit's go on
 * from the checkpoint's. Keeps every epoch's statistics for the next
 * checkpoint and writes one every `every` epochs and after the last. */
static void on_epoch_checkpointed(void *ud, const rt_epoch_stats *s)
{
    fit_run *r = ud;
    rt_epoch_stats t = *s;
    t.epoch += (int)r->offset;
    double lr;
    if (rt_optim_get(r->model->opt, "lr", &lr)) t.lr = lr;
    for (int i = 0; i < r->ms.n; i++) t.extra[r->ms.n + i] = NAN;
    if (r->ms.n && !r->ctl.failed &&
        (!std_metrics_measure(r->vm, "fit", &r->ms, r->model->m, r->train, t.extra) ||
         (r->val && !std_metrics_measure(r->vm, "fit", &r->ms, r->model->m, r->val,
                                         t.extra + r->ms.n)))) {
        r->ctl.failed = true;   /* the error is pending; the fit ends */
        return;
    }
    on_epoch(ud, &t);
    std_control_epoch_end(r->vm, &r->ctl, r->model->m, &t);
    if (r->ctl.failed || !r->ckpt || r->ckpt_failed) return;
    rt_epoch_stats *grown = realloc(r->ck.stats, (size_t)(r->ck.done + 1) * sizeof *grown);
    if (!grown) {
        r->oom = r->ckpt_failed = true;
        return;
    }
    r->ck.stats = grown;
    r->ck.stats[r->ck.done++] = t;
    if (t.epoch % r->every == 0 || t.epoch == r->epochs || r->ctl.stopped)
        r->ckpt_failed = !std_ckpt_save(r->vm, r->ckpt, r->model, r->config, &r->ck);
}

/* Before each epoch: the schedule's rate (epochs counted over the whole
 * training with this optimizer), or the end of the fit when early stopping
 * or the callback asked for it. */
static bool on_epoch_begin(void *ud, int epoch)
{
    fit_run *r = ud;
    if (r->ctl.stopped || r->ctl.failed) return false;
    double lr = std_control_lr(&r->ctl, r->model->epochs_run + r->offset + epoch - 1);
    if (!isnan(lr)) rt_optim_set(r->model->opt, "lr", lr);
    return true;
}

/* weight_decay=, clipnorm=, clipvalue=, global_clipnorm= (model.h). */
static bool grad_rules_arg(mlp_vm *vm, const mlp_value *a, rt_grad_rules *g)
{
    static const char *const names[] = { "weight_decay", "clipnorm", "clipvalue",
                                         "global_clipnorm" };
    double *dst[] = { &g->weight_decay, &g->clipnorm, &g->clipvalue, &g->global_clipnorm };
    for (int i = 0; i < 4; i++) {
        if (!std_num_arg(vm, "fit", names[i], a[i], dst[i])) return false;
        if (!(*dst[i] >= 0 && isfinite(*dst[i])))
            return mlp_raise(vm, "fit: %s must be 0 (off) or positive, got %g", names[i], *dst[i]);
    }
    if (g->clipnorm > 0 && g->global_clipnorm > 0)
        return mlp_raise(vm, "fit: give clipnorm (each tensor) or global_clipnorm (all tensors "
                         "together), not both");
    return true;
}

/* ---- natives -------------------------------------------------------------- */

static std_model *model_arg(mlp_vm *vm, const char *fn, mlp_value v)
{
    std_model *m = mlp_handle_data(v, &std_model_class);
    if (!m) mlp_raise(vm, "%s: model must be a model (call a `model` declaration), got %s", fn,
                      mlp_type_name(v));
    return m;
}

static const rt_dataset *data_arg(mlp_vm *vm, const char *fn, const char *arg, mlp_value v)
{
    std_dataset *d = mlp_handle_data(v, &std_dataset_class);
    if (!d) {
        mlp_raise(vm, "%s: %s must be a dataset (e.g. mnist().train), got %s", fn, arg,
                  mlp_type_name(v));
        return NULL;
    }
    return &d->ds;
}

/* The loss a fit or evaluate without loss= uses: mse for real-valued
 * targets, binary_crossentropy for two classes into one unit, else
 * crossentropy. */
static rt_loss default_loss(mlp_vm *vm, const std_model *m, const rt_dataset *ds)
{
    if (ds->targets) return RT_LOSS_MSE;
    if (ds->classes == 2 && m->m && rt_model_out(m->m) == 1) return RT_LOSS_BINARY_CROSSENTROPY;
    return std_host_of(vm)->dialect == RT_DIALECT_TORCH ? RT_LOSS_TORCH_CROSSENTROPY
                                                        : RT_LOSS_CROSSENTROPY;
}

static bool loss_arg(mlp_vm *vm, const char *fn, mlp_value v, rt_loss *out)
{
    *out = RT_LOSS_CROSSENTROPY;
    if (mlp_is_nil(v)) return true;
    rt_loss *l = mlp_handle_data(v, &std_loss_class);
    if (l) { *out = *l; return true; }
    if (mlp_is_string(v) && rt_loss_from_name(mlp_cstr(v), out)) return true;
    return mlp_raise(vm, "%s: loss must be a loss (crossentropy, binary_crossentropy, mse, mae, torch_crossentropy), got %s",
                     fn, mlp_type_name(v));
}

/* fit(model, data, optimizer=, loss=, epochs=, batch=, validation=, verbose=) */
static bool n_fit(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_model *m = model_arg(vm, "fit", a[0]);
    const rt_dataset *train = m ? data_arg(vm, "fit", "data", a[1]) : NULL;
    if (!train) return false;
    mlp_value opt_given = a[2];
    if (mlp_is_nil(a[2])) a[2] = m->opt_value;   /* nil before the first fit or load */
    if (mlp_is_nil(a[2])) mlp_get_global(vm, "Adam", &a[2]);
    rt_optim *proto = std_optimizer_value(vm, "fit", "optimizer", a[2]);
    rt_loss loss;
    long epochs, batch, verbose;
    if (!proto || !loss_arg(vm, "fit", a[3], &loss) ||
        !std_int_arg(vm, "fit", "epochs", a[4], 1, 1L << 30, &epochs) ||
        !std_int_arg(vm, "fit", "batch", a[5], 1, 1L << 24, &batch) ||
        !std_int_arg(vm, "fit", "verbose", a[7], 0, 2, &verbose))
        return false;
    const rt_dataset *val = NULL;
    if (!mlp_is_nil(a[6]) && !(val = data_arg(vm, "fit", "validation", a[6]))) return false;
    if (!std_model_build(vm, m, train->features)) return false;
    if (mlp_is_nil(a[3])) loss = m->loss_plus1 ? (rt_loss)(m->loss_plus1 - 1) : default_loss(vm, m, train);
    m->loss_plus1 = (int)loss + 1;
    if ((loss == RT_LOSS_CROSSENTROPY || loss == RT_LOSS_TORCH_CROSSENTROPY) &&
        rt_model_out(m->m) == 1)
        return mlp_raise(vm, "fit: crossentropy needs one output unit per class; a single unit "
                         "takes binary_crossentropy (with dense(1, sigmoid)) or mse");
    rt_grad_rules rules;
    std_control ctl;
    std_metrics ms;
    if (!std_metrics_arg(vm, "fit", a[18], &ms) || !grad_rules_arg(vm, a + 12, &rules) ||
        !std_control_init(vm, &ctl, a[11], std_optim_schedule(a[2]), a[16], a[17], val != NULL))
        return false;
    /* the optimizer's own schedule steers this fit (fit's lr= not given) */
    bool opt_sched = mlp_is_nil(a[11]) && std_optim_schedule(a[2]) != NULL;

    const char *ckpt = NULL, *resume = NULL;
    long every = 1;
    if ((!mlp_is_nil(a[8]) && !std_str_arg(vm, "fit", "checkpoint", a[8], &ckpt)) ||
        !std_int_arg(vm, "fit", "every", a[9], 1, 1L << 30, &every))
        return false;
    if (mlp_is_bool(a[10])) {
        /* resume=true: from the checkpoint file when there is one */
        if (!ckpt) return mlp_raise(vm, "fit: resume=true needs checkpoint= (the file to go on from)");
        if (mlp_as_bool(a[10]) && access(ckpt, F_OK) == 0) resume = ckpt;
    } else if (!mlp_is_nil(a[10]) && !std_str_arg(vm, "fit", "resume", a[10], &resume)) {
        return false;
    }

    std_history *h = calloc(1, sizeof *h);
    if (!h) return mlp_raise(vm, "out of memory");
    *out = mlp_handle(vm, &std_history_class, h);
    m->history = *out;
    h->nextra = 2 * ms.n;
    for (int i = 0; i < ms.n; i++) {
        snprintf(h->extra_names[i], sizeof h->extra_names[i], "%s", ms.names[i]);
        snprintf(h->extra_names[ms.n + i], sizeof h->extra_names[i], "val_%s", ms.names[i]);
    }

    /* Training goes on from the last fit (optimizer state, data order)
     * unless another optimizer is given: then it starts afresh. The seed is
     * drawn either way, so what later fits draw does not depend on it. */
    rt_error err;
    std_host *host = std_host_of(vm);
    uint64_t shuffle_seed = (uint64_t)rt_rng_u32(&host->rnd.shuffle) << 32 |
                            rt_rng_u32(&host->rnd.shuffle);
    if (!m->opt || (!mlp_is_nil(opt_given) && !mlp_equal(opt_given, m->opt_value))) {
        rt_optim *opt = rt_optim_clone(proto, &err);
        if (!opt) return mlp_raise(vm, "fit: %s", err.msg);
        rt_optim_free(m->opt);
        m->opt = opt;
        m->opt_value = a[2];
        m->shuffle_seed = shuffle_seed;
        m->epochs_run = 0;
        m->has_opt_sst = false;
    }
    /* a plateau in the optimizer's lr goes on from the last fit, as its state does */
    if (opt_sched && m->has_opt_sst) ctl.sst = m->opt_sst;
    if ((rules.weight_decay > 0 || ctl.has_sched) && !rt_optim_get(m->opt, "lr", &(double){ 0 })) {
        std_control_free(&ctl);
        return mlp_raise(vm, "fit: %s needs an optimizer with an lr, %s has none",
                         ctl.has_sched ? "lr=" : "weight_decay", rt_optim_name(m->opt));
    }
    fit_run run = { .vm = vm, .history = h, .epochs = (int)epochs, .verbose = (int)verbose,
                    .tty = host->tty, .epoch_lines = host->epoch_lines && !par_silent(vm),
                    .model = m, .ckpt = ckpt, .every = every, .ctl = ctl,
                    .ms = ms, .train = train, .val = val };
    run.ck.ctl = &run.ctl;
    std_ckpt_config(run.config, sizeof run.config, m->opt, train, epochs, batch, loss);
    {
        char extra[512];
        size_t k = strlen(run.config);
        std_control_describe(&run.ctl, extra, sizeof extra);
        snprintf(run.config + k, sizeof run.config - k, "%s", extra);
        if (rules.weight_decay > 0 || rules.clipnorm > 0 || rules.clipvalue > 0 ||
            rules.global_clipnorm > 0) {
            k = strlen(run.config);
            snprintf(run.config + k, sizeof run.config - k, " rules=%.9g/%.9g/%.9g/%.9g",
                     rules.weight_decay, rules.clipnorm, rules.clipvalue, rules.global_clipnorm);
        }
    }
    bool replay_ok = true;
    if (resume) {
        if (!std_ckpt_load(vm, resume, m, run.config, &run.ck)) {
            std_control_free(&run.ctl);
            return false;
        }
        for (long e = 0; e < run.ck.done && replay_ok; e++) {
            rt_epoch_stats t = run.ck.stats[e];
            on_epoch(&run, &t);
            replay_ok = std_control_replay(vm, &run.ctl, &t);
        }
        run.offset = run.ck.done;
    }
    rt_fit_config cfg = { .epochs = (int)(epochs - run.offset), .batch = (int)batch,
                          .loss = loss, .shuffle_seed = m->shuffle_seed,
                          .first_epoch = m->epochs_run + run.offset, .validation = val,
                          .on_batch = on_batch, .on_epoch = on_epoch_checkpointed,
                          .on_epoch_begin = on_epoch_begin, .ud = &run };
    rt_model_set_grad_rules(m->m, &rules);
    rt_fit_status st = cfg.epochs > 0 && replay_ok && !run.ctl.stopped
                       ? rt_fit(m->m, m->opt, train, &cfg, &err) : RT_FIT_DONE;
    rt_model_set_grad_rules(m->m, NULL);
    m->epochs_run += h->n;
    free(run.ck.stats);
    m->opt_sst = run.ctl.sst;
    m->has_opt_sst = opt_sched;
    if (st == RT_FIT_DONE && replay_ok && !run.ctl.failed) std_control_finish(&run.ctl, m->m);
    std_control_free(&run.ctl);
    if (!replay_ok || run.ctl.failed) return false;   /* the callback's error is pending */
    if (st == RT_FIT_STOPPED && verbose && host->tty) say(vm, "\n");
    if (run.oom) return mlp_raise(vm, "fit: out of memory");
    if (run.ckpt_failed) return false;   /* the checkpoint's error is pending */
    if (st == RT_FIT_FAILED) return mlp_raise(vm, "fit: %s", err.msg);
    if (st == RT_FIT_STOPPED)
        return mlp_raise(vm, "interrupted: fit stopped after %d complete epoch%s; the model "
                         "keeps its training and model.history the epochs so far",
                         h->n, h->n == 1 ? "" : "s");
    return true;
}

static bool n_evaluate(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_model *m = model_arg(vm, "evaluate", a[0]);
    const rt_dataset *ds = m ? data_arg(vm, "evaluate", "data", a[1]) : NULL;
    rt_loss loss;
    long batch;
    if (!ds || !loss_arg(vm, "evaluate", a[2], &loss) ||
        !std_int_arg(vm, "evaluate", "batch", a[3], 1, 1L << 24, &batch) ||
        !std_model_build(vm, m, ds->features))
        return false;
    if (mlp_is_nil(a[2]))
        loss = m->loss_plus1 ? (rt_loss)(m->loss_plus1 - 1) : default_loss(vm, m, ds);
    double l, acc;
    rt_error err;
    if (!rt_evaluate(m->m, ds, loss, (int)batch, &l, &acc, &err))
        return mlp_raise(vm, "evaluate: %s", err.msg);
    std_metrics ms;
    double vals[STD_MAX_METRICS];
    if (!std_metrics_arg(vm, "evaluate", a[4], &ms) ||
        !std_metrics_measure(vm, "evaluate", &ms, m->m, ds, vals))
        return false;
    *out = mlp_record_new(vm);
    mlp_push_root(vm, *out);
    mlp_record_set(vm, *out, "loss", mlp_number(l));
    if (!ds->targets) mlp_record_set(vm, *out, "acc", mlp_number(acc));
    for (int i = 0; i < ms.n; i++) mlp_record_set(vm, *out, ms.names[i], mlp_number(vals[i]));
    mlp_pop_root(vm);
    return true;
}

/* predict(model, x): x is a dataset, a dataset's .x, or a list of rows. */
static bool n_predict(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_model *m = model_arg(vm, "predict", a[0]);
    if (!m) return false;
    rt_dataset tmp = {0};
    const rt_dataset *ds = NULL;
    std_dataset *d = mlp_handle_data(a[1], &std_dataset_class);
    if (d) ds = &d->ds;
    else if (!std_tensor_dataset(vm, "predict", a[1], &tmp, &ds)) return false;
    bool ok = false;
    rt_error err;
    float *x = NULL, *y = NULL;
    int64_t *idx = NULL;
    int rows = (int)ds->n;
    if (!std_model_build(vm, m, ds->features)) goto done;
    if (ds->features != rt_model_in(m->m)) {
        mlp_raise(vm, "predict: x has %lld features per example but the model's input takes %d",
                  (long long)ds->features, rt_model_in(m->m));
        goto done;
    }
    x = rt_alloc((size_t)rows * (size_t)ds->features * sizeof *x);
    y = rt_alloc((size_t)rows * (size_t)rt_model_out(m->m) * sizeof *y);
    idx = rt_alloc((size_t)rows * sizeof *idx);
    if (!x || !y || !idx) { mlp_raise(vm, "predict: out of memory"); goto done; }
    for (int i = 0; i < rows; i++) idx[i] = i;
    rt_dataset_gather(ds, idx, rows, x, NULL);
    if (!rt_model_predict(m->m, x, rows, y, &err)) { mlp_raise(vm, "predict: %s", err.msg); goto done; }
    *out = std_tensor_value(vm, y, rows, rt_model_out(m->m));
    y = NULL;
    ok = true;
done:
    rt_free(x);
    rt_free(y);
    rt_free(idx);
    rt_dataset_free(&tmp);
    return ok;
}

static const mlp_native natives[] = {
    { "fit", "m, data, optimizer=nil, loss=nil, epochs=1, batch=32, validation=nil, verbose=1, "
             "checkpoint=nil, every=1, resume=nil, lr=nil, weight_decay=0, clipnorm=0, "
             "clipvalue=0, global_clipnorm=0, early_stopping=nil, on_epoch=nil, metrics=nil",
      n_fit, "fit(model, data, optimizer=Adam, loss=crossentropy, epochs=1, batch=32, "
      "validation=nil, verbose=1, checkpoint=nil, every=1, resume=nil, lr=nil, weight_decay=0, "
      "clipnorm=0, clipvalue=0, global_clipnorm=0, early_stopping=nil, on_epoch=nil, "
      "metrics=nil): trains, "
      "going on from the model's last fit unless another optimizer is given; returns a history "
      "(loss, acc, val_loss, val_acc, seconds, lr per epoch)" },
    { "evaluate", "m, data, loss=nil, batch=100, metrics=nil", n_evaluate,
      "evaluate(model, data, metrics=nil): {loss, acc, and each metric} in inference mode (no acc "
      "for real-valued targets)" },
    { "predict", "m, x", n_predict,
      "predict(model, x): the model's outputs (a tensor) for a dataset, data.x or a list of rows" },
};

bool std_open_train(mlp_vm *vm)
{
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
