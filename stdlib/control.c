/*
 * control.c — learning-rate schedules as values, early stopping and the
 * on_epoch callback (control.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "control.h"

static const char *const monitors[] = { "loss", "acc", "val_loss", "val_acc" };
enum { NMONITORS = 4 };

const char *std_monitor_name(int mon) { return mon >= 0 && mon < NMONITORS ? monitors[mon] : "?"; }

int std_monitor_index(const char *name)
{
    for (int i = 0; name && i < NMONITORS; i++)
        if (strcmp(name, monitors[i]) == 0) return i;
    return -1;
}

static bool monitor_arg(mlp_vm *vm, const char *fn, mlp_value v, int *out)
{
    const char *name;
    if (!std_str_arg(vm, fn, "monitor", v, &name)) return false;
    for (int i = 0; i < NMONITORS; i++)
        if (strcmp(name, monitors[i]) == 0) { *out = i; return true; }
    return mlp_raise(vm, "%s: monitor must be one of loss, acc, val_loss, val_acc, got \"%s\"", fn,
                     name);
}

static bool maximised(int mon) { return mon == STD_MON_ACC || mon == STD_MON_VAL_ACC; }

/* The monitored metric as a value to minimise. */
static double monitored(const rt_epoch_stats *s, int mon)
{
    const double v[NMONITORS] = { s->loss, s->acc, s->val_loss, s->val_acc };
    return maximised(mon) ? -v[mon] : v[mon];
}

/* ---- schedules as values --------------------------------------------------- */

size_t std_schedule_text(const std_schedule *s, char *buf, size_t size)
{
    size_t k = rt_schedule_describe(&s->s, buf, size);
    if (s->s.kind == RT_SCHED_PLATEAU && k + 2 < size)   /* name the monitor too */
        k = k - 1 + (size_t)snprintf(buf + k - 1, size - (k - 1), ", monitor=\"%s\")",
                                     monitors[s->monitor]);
    return k;
}

static mlp_value schedule_tostring(mlp_vm *vm, void *data)
{
    char buf[1024];
    std_schedule_text(data, buf, sizeof buf);
    return mlp_string_cstr(vm, buf);
}

static bool schedule_get(mlp_vm *vm, mlp_value self, void *data, const char *field,
                         mlp_value *out)
{
    const std_schedule *s = data;
    if (strcmp(field, "kind") == 0) *out = mlp_string_cstr(vm, rt_schedule_name(s->s.kind));
    else if (strcmp(field, "lr") == 0) *out = mlp_number(s->s.lr);
    else return mlp_raise(vm, "schedule has no field '%s' (kind, lr)", field);
    return true;
}

/* sched(epoch): the rate of that epoch (0-based), for plotting or a test;
 * reduce_on_plateau answers its starting rate. */
static bool schedule_call(mlp_vm *vm, void *data, mlp_value *args, int nargs, mlp_value kwargs,
                          mlp_value *out)
{
    const std_schedule *s = data;
    long e;
    if (nargs != 1 || !mlp_is_nil(kwargs))
        return mlp_raise(vm, "%s: a schedule takes one argument, the epoch (from 0)",
                         rt_schedule_name(s->s.kind));
    if (!std_int_arg(vm, rt_schedule_name(s->s.kind), "epoch", args[0], 0, 1L << 30, &e))
        return false;
    rt_sched_state st;
    rt_schedule_start(&s->s, &st);
    *out = mlp_number(rt_schedule_lr(&s->s, &st, e));
    return true;
}

const mlp_class std_schedule_class = {
    .name = "schedule", .free = free, .get = schedule_get, .call = schedule_call,
    .tostring = schedule_tostring, .fields = "kind, lr",
};

const std_schedule *std_schedule_of(mlp_value v)
{
    return mlp_handle_data(v, &std_schedule_class);
}

bool std_schedule_value(mlp_vm *vm, const std_schedule *s, mlp_value *out)
{
    rt_error err;
    if (!rt_schedule_check(&s->s, &err)) return mlp_raise(vm, "%s", err.msg);
    std_schedule *h = malloc(sizeof *h);
    if (!h) return mlp_raise(vm, "out of memory");
    *h = *s;
    *out = mlp_handle(vm, &std_schedule_class, h);
    return true;
}

static bool lr_arg(mlp_vm *vm, const char *fn, mlp_value v, double *out)
{
    return std_num_arg(vm, fn, "lr", v, out);
}

static bool n_step(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_schedule s = { .s = { .kind = RT_SCHED_STEP } };
    if (!lr_arg(vm, "step", a[0], &s.s.lr) ||
        !std_int_arg(vm, "step", "every", a[1], 1, 1L << 30, &s.s.every) ||
        !std_num_arg(vm, "step", "gamma", a[2], &s.s.gamma))
        return false;
    return std_schedule_value(vm, &s, out);
}

static bool n_exponential(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_schedule s = { .s = { .kind = RT_SCHED_EXPONENTIAL } };
    if (!lr_arg(vm, "exponential", a[0], &s.s.lr) ||
        !std_num_arg(vm, "exponential", "rate", a[1], &s.s.rate))
        return false;
    return std_schedule_value(vm, &s, out);
}

static bool n_cosine(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_schedule s = { .s = { .kind = RT_SCHED_COSINE } };
    if (!lr_arg(vm, "cosine", a[0], &s.s.lr) ||
        !std_int_arg(vm, "cosine", "epochs", a[1], 1, 1L << 30, &s.s.epochs) ||
        !std_int_arg(vm, "cosine", "warmup", a[2], 0, 1L << 30, &s.s.warmup))
        return false;
    return std_schedule_value(vm, &s, out);
}

/* piecewise([[0, 0.1], [10, 0.01], ...]): from each epoch on, its rate. */
static bool n_piecewise(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_schedule s = { .s = { .kind = RT_SCHED_PIECEWISE } };
    size_t k = mlp_is_list(a[0]) ? mlp_list_len(a[0]) : 0;
    if (k == 0 || k > RT_SCHED_MAX_PIECES)
        return mlp_raise(vm, "piecewise: pieces must be a list of 1 to %d [epoch, lr] pairs, "
                         "e.g. [[0, 0.1], [10, 0.01]]", RT_SCHED_MAX_PIECES);
    for (size_t i = 0; i < k; i++) {
        mlp_value p = mlp_list_get(a[0], i);
        if (!mlp_is_list(p) || mlp_list_len(p) != 2)
            return mlp_raise(vm, "piecewise: piece %zu must be an [epoch, lr] pair", i + 1);
        if (!std_int_arg(vm, "piecewise", "epoch", mlp_list_get(p, 0), 0, 1L << 30, &s.s.at[i]) ||
            !std_num_arg(vm, "piecewise", "lr", mlp_list_get(p, 1), &s.s.value[i]))
            return false;
    }
    s.s.npieces = (int)k;
    s.s.lr = s.s.value[0];
    return std_schedule_value(vm, &s, out);
}

static bool n_reduce_on_plateau(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const char *fn = "reduce_on_plateau";
    std_schedule s = { .s = { .kind = RT_SCHED_PLATEAU } };
    if (!lr_arg(vm, fn, a[0], &s.s.lr) || !monitor_arg(vm, fn, a[1], &s.monitor) ||
        !std_num_arg(vm, fn, "factor", a[2], &s.s.factor) ||
        !std_int_arg(vm, fn, "patience", a[3], 0, 1L << 30, &s.s.patience) ||
        !std_num_arg(vm, fn, "min_delta", a[4], &s.s.min_delta) ||
        !std_num_arg(vm, fn, "min_lr", a[5], &s.s.min_lr))
        return false;
    return std_schedule_value(vm, &s, out);
}

/* ---- a fit's control --------------------------------------------------------- */

static bool needs_validation(mlp_vm *vm, const char *what, int mon, bool has_val)
{
    if (has_val || (mon != STD_MON_VAL_LOSS && mon != STD_MON_VAL_ACC)) return true;
    return mlp_raise(vm, "fit: %s monitors '%s', which needs validation data (validation=)", what,
                     monitors[mon]);
}

static bool early_stopping_arg(mlp_vm *vm, std_control *c, mlp_value es, bool has_val)
{
    if (!mlp_is_record(es))
        return mlp_raise(vm, "fit: early_stopping must be a record such as {monitor: \"val_loss\", "
                         "patience: 5, restore_best: true}, got %s", mlp_type_name(es));
    c->es = true;
    c->es_monitor = STD_MON_VAL_LOSS;
    for (size_t i = 0; i < mlp_record_len(es); i++) {
        mlp_value k, v;
        mlp_record_entry(es, i, &k, &v);
        const char *key = mlp_cstr(k);
        bool ok;
        if (strcmp(key, "monitor") == 0) ok = monitor_arg(vm, "fit: early_stopping", v, &c->es_monitor);
        else if (strcmp(key, "patience") == 0)
            ok = std_int_arg(vm, "fit: early_stopping", "patience", v, 0, 1L << 30, &c->es_patience);
        else if (strcmp(key, "min_delta") == 0) {
            ok = std_num_arg(vm, "fit: early_stopping", "min_delta", v, &c->es_min_delta);
            if (ok && !(c->es_min_delta >= 0))
                ok = mlp_raise(vm, "fit: early_stopping: min_delta must be 0 or more, got %g",
                               c->es_min_delta);
        } else if (strcmp(key, "restore_best") == 0) {
            ok = mlp_is_bool(v) ? (c->es_restore = mlp_as_bool(v), true)
                 : mlp_raise(vm, "fit: early_stopping: restore_best must be true or false, got %s",
                             mlp_type_name(v));
        } else
            ok = mlp_raise(vm, "fit: early_stopping has no setting '%s' (monitor, patience, "
                           "min_delta, restore_best)", key);
        if (!ok) return false;
    }
    if (c->es_restore && !has_val)
        return mlp_raise(vm, "fit: early_stopping with restore_best needs validation data "
                         "(validation=): the best epoch is judged on data the fit does not train on");
    return needs_validation(vm, "early_stopping", c->es_monitor, has_val);
}

bool std_control_init(mlp_vm *vm, std_control *c, mlp_value lr, const std_schedule *opt_sched,
                      mlp_value es, mlp_value cb, bool has_val)
{
    *c = (std_control){ .callback = mlp_nil(), .es_best = INFINITY };
    if (mlp_is_number(lr)) {
        c->sched.s = (rt_schedule){ .kind = RT_SCHED_CONSTANT, .lr = mlp_as_number(lr) };
        if (!(c->sched.s.lr > 0 && isfinite(c->sched.s.lr)))
            return mlp_raise(vm, "fit: lr must be a positive number or a schedule, got %g",
                             c->sched.s.lr);
        c->has_sched = true;
    } else if (!mlp_is_nil(lr) || opt_sched) {
        /* fit's lr= first; else the schedule the optimizer was given */
        const std_schedule *s = mlp_is_nil(lr) ? opt_sched : mlp_handle_data(lr, &std_schedule_class);
        if (!s)
            return mlp_raise(vm, "fit: lr must be a number or a schedule (step, exponential, cosine, "
                             "piecewise, reduce_on_plateau), got %s", mlp_type_name(lr));
        c->sched = *s;
        c->has_sched = true;
        if (s->s.kind == RT_SCHED_PLATEAU &&
            !needs_validation(vm, "reduce_on_plateau", s->monitor, has_val))
            return false;
    }
    if (c->has_sched) rt_schedule_start(&c->sched.s, &c->sst);
    if (!mlp_is_nil(es) && !early_stopping_arg(vm, c, es, has_val)) return false;
    if (!mlp_is_nil(cb)) {
        if (!mlp_is_callable(cb))
            return mlp_raise(vm, "fit: on_epoch must be a function fn(epoch, logs), got %s",
                             mlp_type_name(cb));
        c->callback = cb;
    }
    return true;
}

void std_control_describe(const std_control *c, char *buf, size_t size)
{
    size_t k = 0;
    buf[0] = 0;
    if (c->has_sched) {
        k += (size_t)snprintf(buf, size, " lr=");
        if (k < size) k += rt_schedule_describe(&c->sched.s, buf + k, size - k);
    }
    if (c->es && k < size)
        snprintf(buf + k, size - k, " early_stopping=%s/%ld/%.9g/%d", monitors[c->es_monitor],
                 c->es_patience, c->es_min_delta, c->es_restore);
}

double std_control_lr(const std_control *c, long e)
{
    return c->has_sched ? rt_schedule_lr(&c->sched.s, &c->sst, e) : NAN;
}

static void snapshot(std_control *c, rt_model *m)
{
    rt_param *p;
    int np = rt_model_params(m, &p);
    long total = 0;
    for (int i = 0; i < np; i++) total += p[i].size;
    if (!c->best) {
        c->best = malloc((size_t)total * sizeof *c->best + 1);
        if (!c->best) return;   /* no snapshot: restore_best keeps the last weights */
        c->nbest = total;
    }
    long at = 0;
    for (int i = 0; i < np; i++) {
        memcpy(c->best + at, p[i].w, (size_t)p[i].size * sizeof(float));
        at += p[i].size;
    }
}

static bool call_back(mlp_vm *vm, std_control *c, const rt_epoch_stats *s, mlp_value *res)
{
    mlp_value logs = mlp_record_new(vm);
    mlp_push_root(vm, logs);
    mlp_record_set(vm, logs, "loss", mlp_number(s->loss));
    mlp_record_set(vm, logs, "acc", mlp_number(s->acc));
    if (!isnan(s->val_loss)) {
        mlp_record_set(vm, logs, "val_loss", mlp_number(s->val_loss));
        mlp_record_set(vm, logs, "val_acc", mlp_number(s->val_acc));
    }
    mlp_record_set(vm, logs, "lr", mlp_number(s->lr));
    mlp_value argv[2] = { mlp_number(s->epoch), logs };
    bool ok = mlp_call(vm, c->callback, 2, argv, mlp_nil(), res);
    mlp_pop_root(vm);
    return ok;
}

void std_control_epoch_end(mlp_vm *vm, std_control *c, rt_model *m, const rt_epoch_stats *s)
{
    if (c->has_sched) rt_schedule_observe(&c->sched.s, &c->sst, monitored(s, c->sched.monitor));
    if (c->es) {
        double v = monitored(s, c->es_monitor);
        if (v - c->es_min_delta < c->es_best) {
            c->es_best = v;
            c->es_best_epoch = s->epoch;
            c->es_wait = 0;
            if (c->es_restore) snapshot(c, m);
        } else if (++c->es_wait >= c->es_patience) {
            c->stopped = true;
        }
    }
    if (!mlp_is_nil(c->callback)) {
        mlp_value res = mlp_nil();
        if (!call_back(vm, c, s, &res)) c->failed = true;
        else if (mlp_is_string(res) && strcmp(mlp_cstr(res), "stop") == 0) c->stopped = true;
    }
}

bool std_control_replay(mlp_vm *vm, std_control *c, const rt_epoch_stats *s)
{
    mlp_value res;
    return mlp_is_nil(c->callback) || call_back(vm, c, s, &res);
}

void std_control_finish(std_control *c, rt_model *m)
{
    if (!c->es_restore || !c->best) return;
    rt_param *p;
    int np = rt_model_params(m, &p);
    long at = 0;
    for (int i = 0; i < np; i++) {
        memcpy(p[i].w, c->best + at, (size_t)p[i].size * sizeof(float));
        at += p[i].size;
    }
}

void std_control_free(std_control *c)
{
    free(c->best);
    c->best = NULL;
}

static const mlp_native natives[] = {
    { "step", "lr, every, gamma=0.1", n_step,
      "step(lr, every, gamma=0.1): a schedule, lr * gamma^floor(epoch / every) (for the lr of fit or an optimizer)" },
    { "exponential", "lr, rate", n_exponential,
      "exponential(lr, rate): a schedule, lr * rate^epoch (for the lr of fit or an optimizer)" },
    { "cosine", "lr, epochs, warmup=0", n_cosine,
      "cosine(lr, epochs, warmup=0): a schedule, linear warm-up then cosine decay to 0 at "
      "`epochs` (for the lr of fit or an optimizer)" },
    { "piecewise", "pieces", n_piecewise,
      "piecewise([[0, 0.1], [10, 0.01]]): a schedule, constant from each epoch on (for the lr of fit or an optimizer)" },
    { "reduce_on_plateau", "lr, monitor=\"val_loss\", factor=0.1, patience=10, min_delta=0, "
      "min_lr=0", n_reduce_on_plateau,
      "reduce_on_plateau(lr, monitor=\"val_loss\", factor=0.1, patience=10): a schedule that "
      "multiplies the rate by factor after patience epochs without improvement (for the lr of fit or an optimizer)" },
};

bool std_open_control(mlp_vm *vm)
{
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
