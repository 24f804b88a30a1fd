/*
 * nn.c — activations, losses, optimizers and layers as language values.
 *
 * The names come from the runtime's tables (activations.h, losses.h,
 * optimizers.h, layers.h): adding a row there adds a global here, with no
 * edit to this file. Activations and optimizers are callable to override
 * their parameters: `leaky_relu(alpha=0.1)`, `Adam(lr=0.1)`,
 * `opt(lr=0.1)` on a variable holding one, `RMSprop(dialect="torch")`.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "control.h"
#include "std.h"

/* ---- activations ---------------------------------------------------------- */

static mlp_value activation_value(mlp_vm *vm, rt_act act, const float *params)
{
    std_activation *a = malloc(sizeof *a);
    if (!a) { mlp_raise(vm, "out of memory"); return mlp_nil(); }
    a->act = act;
    memcpy(a->params, params, sizeof a->params);
    a->custom = NULL;
    return mlp_handle(vm, &std_activation_class, a);
}

/* "alpha, max_value, threshold" */
static void param_names(rt_act act, char *buf, size_t size)
{
    const rt_act_info *info = rt_act_get(act);
    size_t n = 0;
    buf[0] = '\0';
    for (int i = 0; i < rt_act_nparams(act) && n < size; i++)
        n += (size_t)snprintf(buf + n, size - n, "%s%s", i ? ", " : "", info->params[i].name);
}

static bool set_param(mlp_vm *vm, const rt_act_info *info, float *p, bool *given, int i, mlp_value v)
{
    double x;
    const char *pname = info->params[i].name;
    if (given[i]) return mlp_raise(vm, "%s: %s given twice", info->name, pname);
    if (!std_num_arg(vm, info->name, pname, v, &x)) return false;
    if (isnan(x)) return mlp_raise(vm, "%s: %s must be a number, got nan", info->name, pname);
    p[i] = (float)x;
    given[i] = true;
    return true;
}

/* relu(alpha=0.1), leaky_relu(0.2): a new activation value with the given
 * parameters, positional ones in the row's order. Only the parameters the
 * row has are accepted; an activation without any takes no arguments. */
static bool activation_call(mlp_vm *vm, void *data, mlp_value *args, int nargs,
                            mlp_value kwargs, mlp_value *out)
{
    const std_activation *a = data;
    if (a->custom) return mlp_raise(vm, "%s: a user-defined activation takes no parameters", a->custom->name);
    const rt_act_info *info = rt_act_get(a->act);
    int np = rt_act_nparams(a->act);
    size_t nkw = mlp_is_record(kwargs) ? mlp_record_len(kwargs) : 0;
    if (np == 0 && (nargs > 0 || nkw > 0))
        return mlp_raise(vm, "%s takes no arguments: it is an activation (use it as dense(n, %s)), "
                         "not a function of numbers", info->name, info->name);
    char names[128];
    param_names(a->act, names, sizeof names);
    if (nargs > np)
        return mlp_raise(vm, "%s: takes at most %d positional argument%s (%s), got %d", info->name, np,
                         np == 1 ? "" : "s", names, nargs);
    float p[RT_ACT_MAX_PARAMS];
    bool given[RT_ACT_MAX_PARAMS] = {false};
    memcpy(p, a->params, sizeof p);
    for (int i = 0; i < nargs; i++)
        if (!set_param(vm, info, p, given, i, args[i])) return false;
    for (size_t k = 0; k < nkw; k++) {
        mlp_value key, v;
        mlp_record_entry(kwargs, k, &key, &v);
        int i = rt_act_param_index(a->act, mlp_cstr(key));
        if (i < 0)
            return mlp_raise(vm, "%s: unknown parameter '%s' (it has %s)", info->name, mlp_cstr(key), names);
        if (!set_param(vm, info, p, given, i, v)) return false;
    }
    *out = activation_value(vm, a->act, p);
    return true;
}

/* "relu", "relu(alpha=0.1, max_value=6)": the parameters that differ from
 * the defaults. */
static void activation_text(const std_activation *a, char *buf, size_t size)
{
    if (a->custom) {
        snprintf(buf, size, "%s", a->custom->name);
        return;
    }
    const rt_act_info *info = rt_act_get(a->act);
    char num[32];
    size_t n = (size_t)snprintf(buf, size, "%s", info->name);
    const char *sep = "(";
    for (int i = 0; i < rt_act_nparams(a->act) && n < size; i++) {
        if (a->params[i] == info->params[i].value) continue;
        n += (size_t)snprintf(buf + n, size - n, "%s%s=%s", sep, info->params[i].name,
                              std_float_text(a->params[i], num));
        sep = ", ";
    }
    if (*sep == ',' && n < size) snprintf(buf + n, size - n, ")");
}

static mlp_value activation_tostring(mlp_vm *vm, void *data)
{
    char buf[160];
    activation_text(data, buf, sizeof buf);
    return mlp_string_cstr(vm, buf);
}

const mlp_class std_activation_class = {
    .name = "activation", .free = free, .call = activation_call,
    .tostring = activation_tostring,
};

/* ---- losses --------------------------------------------------------------- */

static mlp_value loss_tostring(mlp_vm *vm, void *data)
{
    return mlp_string_cstr(vm, rt_loss_name(*(rt_loss *)data));
}

const mlp_class std_loss_class = { .name = "loss", .free = free, .tostring = loss_tostring };

/* ---- optimizers ------------------------------------------------------------ */

/* The handle's data (std.h): the optimizer, and the schedule given as its
 * lr (malloc'd) or NULL. */
typedef struct std_optimizer {
    rt_optim *o;
    std_schedule *sched;
} std_optimizer;

static void optimizer_free(void *data)
{
    std_optimizer *h = data;
    rt_optim_free(h->o);
    free(h->sched);
    free(h);
}

static const mlp_class std_optimizer_class;

mlp_value std_optimizer_new(mlp_vm *vm, rt_optim *o, const std_schedule *sched)
{
    std_optimizer *h = malloc(sizeof *h);
    std_schedule *s = sched ? malloc(sizeof *s) : NULL;
    if (!h || (sched && !s)) {
        free(h);
        free(s);
        rt_optim_free(o);
        mlp_raise(vm, "out of memory");
        return mlp_nil();
    }
    if (s) *s = *sched;
    *h = (std_optimizer){ o, s };
    return mlp_handle(vm, &std_optimizer_class, h);
}

rt_optim *std_optim_of(mlp_value v)
{
    std_optimizer *h = mlp_handle_data(v, &std_optimizer_class);
    return h ? h->o : NULL;
}

const std_schedule *std_optim_schedule(mlp_value v)
{
    std_optimizer *h = mlp_handle_data(v, &std_optimizer_class);
    return h ? h->sched : NULL;
}

static bool no_schedule_here(mlp_vm *vm, const char *name, const char *key, mlp_value v)
{
    return mlp_raise(vm, "%s: %s must be a number, got a schedule (a schedule can only be an "
                     "optimizer's lr)", name, key);
}

/* Applies name=value to h; "dialect" is handled by the caller. lr may be a
 * schedule: the optimizer's lr becomes its first rate, and fit sets the
 * rate of each epoch (control.h); a number there drops a schedule. */
static bool optimizer_set(mlp_vm *vm, std_optimizer *h, const char *key, mlp_value v)
{
    rt_optim *o = h->o;
    const char *name = rt_optim_name(o);
    const std_schedule *sched = std_schedule_of(v);
    double x;
    if (sched && strcmp(key, "lr") != 0) return no_schedule_here(vm, name, key, v);
    if (sched) x = sched->s.lr;
    else if (mlp_is_bool(v)) x = mlp_as_bool(v);
    else if (!std_num_arg(vm, name, key, v, &x)) return false;
    if (!sched && strcmp(key, "lr") == 0 && !(x > 0 && isfinite(x)) && rt_optim_get(o, "lr", &(double){ 0 }))
        return mlp_raise(vm, "%s: lr must be a positive number or a schedule, got %g", name, x);
    if (rt_optim_set(o, key, x)) {
        if (strcmp(key, "lr") == 0) {
            free(h->sched);
            h->sched = NULL;
            if (sched && !(h->sched = malloc(sizeof *h->sched)))
                return mlp_raise(vm, "out of memory");
            if (sched) *h->sched = *sched;
        }
        return true;
    }
    char known[256] = "";
    for (int i = 0; i < rt_optim_nhypers(o); i++) {
        if (i) strncat(known, ", ", sizeof known - strlen(known) - 1);
        strncat(known, rt_optim_hyper_name(o, i), sizeof known - strlen(known) - 1);
    }
    if (sched) return mlp_raise(vm, "%s: has no lr to take a schedule (it has %s)", name, known);
    return mlp_raise(vm, "%s: unknown hyperparameter '%s' (it has %s)", name, key, known);
}

/* Adam(lr=0.1), Adam(0.1), Adam(lr=cosine(0.001, epochs=20)),
 * opt(dialect="torch"): a new optimizer value with the overrides applied
 * (a schedule given as lr before is kept unless lr is given again);
 * changing the dialect starts from that dialect's defaults and re-applies
 * the overrides given here. */
static bool optimizer_call(mlp_vm *vm, void *data, mlp_value *args, int nargs,
                           mlp_value kwargs, mlp_value *out)
{
    const std_optimizer *base = data;
    const char *name = rt_optim_name(base->o);
    rt_error err;
    rt_optim *o = NULL;
    const std_schedule *keep = base->sched;
    mlp_value d;
    if (mlp_is_record(kwargs) && mlp_record_get(kwargs, "dialect", &d)) {
        const char *dialect;
        if (rt_optim_custom_def(base->o))
            return mlp_raise(vm, "%s: an optimizer written in the language has no dialect "
                             "(dialect= is for the built-in ones)", name);
        if (!std_str_arg(vm, name, "dialect", d, &dialect)) return false;
        o = rt_optim_create(name, dialect, &err);
        keep = NULL;
    } else {
        o = rt_optim_clone(base->o, &err);
    }
    if (!o) return mlp_raise(vm, "%s: %s", name, err.msg);
    *out = std_optimizer_new(vm, o, keep);   /* owns o from here on */
    std_optimizer *h = mlp_handle_data(*out, &std_optimizer_class);
    if (!h) return false;
    if (nargs > 1) return mlp_raise(vm, "%s: takes at most 1 positional argument (lr)", name);
    if (nargs == 1 && !optimizer_set(vm, h, "lr", args[0])) return false;
    for (size_t i = 0; mlp_is_record(kwargs) && i < mlp_record_len(kwargs); i++) {
        mlp_value k, v;
        mlp_record_entry(kwargs, i, &k, &v);
        if (strcmp(mlp_cstr(k), "dialect") != 0 && !optimizer_set(vm, h, mlp_cstr(k), v))
            return false;
    }
    return true;
}

/* text is "Name(h1=v1, lr=v2, ...)": the same with lr=<schedule> in buf. */
static void with_schedule(const char *text, const std_schedule *s, char *buf, size_t size)
{
    const char *at = strstr(text, "(lr=");
    if (!at) at = strstr(text, ", lr=");
    if (!at) {
        snprintf(buf, size, "%s", text);
        return;
    }
    at += *at == '(' ? 1 : 2;
    const char *end = at + strcspn(at, ",)");
    char sched[512];
    std_schedule_text(s, sched, sizeof sched);
    snprintf(buf, size, "%.*slr=%s%s", (int)(at - text), text, sched, end);
}

static mlp_value optimizer_tostring(mlp_vm *vm, void *data)
{
    const std_optimizer *h = data;
    char buf[512], full[1024];   /* describe names a dialect other than keras itself */
    rt_optim_describe(h->o, buf, sizeof buf);
    if (!h->sched) return mlp_string_cstr(vm, buf);
    with_schedule(buf, h->sched, full, sizeof full);
    return mlp_string_cstr(vm, full);
}

static bool hyper_is_bool(const rt_optim *o, const char *name)
{
    for (int i = 0; i < rt_optim_nhypers(o); i++)
        if (strcmp(rt_optim_hyper_name(o, i), name) == 0) return rt_optim_hyper_is_bool(o, i);
    return false;
}

static bool optimizer_get(mlp_vm *vm, mlp_value self, void *data, const char *field, mlp_value *out)
{
    const std_optimizer *h = data;
    double x;
    if (strcmp(field, "name") == 0) *out = mlp_string_cstr(vm, rt_optim_name(h->o));
    else if (strcmp(field, "dialect") == 0)
        *out = mlp_string_cstr(vm, rt_dialect_name(rt_optim_dialect(h->o)));
    else if (h->sched && strcmp(field, "lr") == 0)
        return std_schedule_value(vm, h->sched, out);   /* the schedule as given */
    else if (rt_optim_get(h->o, field, &x))
        *out = hyper_is_bool(h->o, field) ? mlp_bool(x != 0.0) : mlp_number(x);
    else return mlp_raise(vm, "%s has no hyperparameter '%s'", rt_optim_name(h->o), field);
    return true;
}

static const mlp_class std_optimizer_class = {
    .name = "optimizer", .free = optimizer_free, .get = optimizer_get,
    .call = optimizer_call, .tostring = optimizer_tostring, .fields = "name, dialect, lr",
};

rt_optim *std_optimizer_value(mlp_vm *vm, const char *fn, const char *arg, mlp_value v)
{
    rt_optim *o = std_optim_of(v);
    if (!o) mlp_raise(vm, "%s: %s must be an optimizer (e.g. Adam, SGD(lr=0.1)), got %s", fn,
                      arg, mlp_type_name(v));
    return o;
}

/* The hyperparameters that differ from the defaults, for tables (a
 * schedule given as lr always). */
static void optimizer_short(const std_optimizer *h, char *buf, size_t size)
{
    const rt_optim *o = h->o;
    rt_optim *def = rt_optim_create(rt_optim_name(o), rt_dialect_name(rt_optim_dialect(o)), NULL);
    size_t n = (size_t)snprintf(buf, size, "%s", rt_optim_name(o));
    const char *sep = "(";
    for (int i = 0; i < rt_optim_nhypers(o) && n < size; i++) {
        const char *hn = rt_optim_hyper_name(o, i);
        double v = rt_optim_hyper_value(o, i), d;
        if (h->sched && strcmp(hn, "lr") == 0) {
            char sched[512];
            std_schedule_text(h->sched, sched, sizeof sched);
            n += (size_t)snprintf(buf + n, size - n, "%slr=%s", sep, sched);
            sep = ", ";
            continue;
        }
        if (!def || (rt_optim_get(def, hn, &d) && d == v)) continue;
        if (rt_optim_hyper_is_bool(o, i))
            n += (size_t)snprintf(buf + n, size - n, "%s%s=%s", sep, hn, v != 0.0 ? "true" : "false");
        else
            n += (size_t)snprintf(buf + n, size - n, "%s%s=%.9g", sep, hn, v);
        sep = ", ";
    }
    if (*sep == ',' && n < size) snprintf(buf + n, size - n, ")");
    rt_optim_free(def);
}

mlp_value std_short_text(mlp_vm *vm, mlp_value v)
{
    const std_optimizer *h = mlp_handle_data(v, &std_optimizer_class);
    if (!h) return mlp_tostring(vm, v);
    char buf[768];
    optimizer_short(h, buf, sizeof buf);
    return mlp_string_cstr(vm, buf);
}

/* Binds every optimizer name to its value in `dialect`: dialect("torch")
 * makes `Adam` mean PyTorch's Adam for the rest of the script. */
bool std_bind_optimizers(mlp_vm *vm, rt_dialect dialect)
{
    /* `crossentropy` is the dialect's: PyTorch's has no probability clip */
    rt_loss *ce = malloc(sizeof *ce);
    if (!ce) return mlp_raise(vm, "out of memory");
    *ce = dialect == RT_DIALECT_TORCH ? RT_LOSS_TORCH_CROSSENTROPY : RT_LOSS_CROSSENTROPY;
    mlp_set_global(vm, "crossentropy", mlp_handle(vm, &std_loss_class, ce));
    for (int i = 0; i < rt_optim_count(); i++) {
        if (!rt_optim_table_has(i, dialect)) continue;   /* keeps its other dialect's value */
        rt_error err;
        rt_optim *o = rt_optim_create(rt_optim_table_name(i), rt_dialect_name(dialect), &err);
        if (!o) return mlp_raise(vm, "dialect: %s", err.msg);
        mlp_value v = std_optimizer_new(vm, o, NULL);
        if (mlp_is_nil(v)) return false;
        mlp_set_global(vm, rt_optim_name(o), v);
    }
    return true;
}

/* ---- layers ----------------------------------------------------------------- */

static mlp_value layer_tostring(mlp_vm *vm, void *data)
{
    const std_layer *l = data;
    const rt_layer_spec *s = &l->spec;
    char buf[256], atext[160], n1[32], n2[32];
    switch (s->kind) {
    case RT_LAYER_DENSE: {
        std_activation act = {s->act, {0}, s->custom};
        memcpy(act.params, s->act_params, sizeof act.params);
        activation_text(&act, atext, sizeof atext);
        int k = snprintf(buf, sizeof buf, "dense(%d, %s", s->units, atext);
        if (s->l1 != 0) k += snprintf(buf + k, sizeof buf - (size_t)k, ", l1=%s", std_float_text(s->l1, n1));
        if (s->l2 != 0) k += snprintf(buf + k, sizeof buf - (size_t)k, ", l2=%s", std_float_text(s->l2, n2));
        snprintf(buf + k, sizeof buf - (size_t)k, ")");
        break;
    }
    case RT_LAYER_DROPOUT: snprintf(buf, sizeof buf, "dropout(%.9g)", s->rate); break;
    case RT_LAYER_BATCHNORM:
        snprintf(buf, sizeof buf, "batchnorm(momentum=%s, eps=%s%s)", std_float_text(s->momentum, n1),
                 std_float_text(s->eps, n2), s->torch ? ", dialect=\"torch\"" : "");
        break;
    default: snprintf(buf, sizeof buf, "%s()", rt_layer_kind_name(s->kind)); break;
    }
    return mlp_string_cstr(vm, buf);
}

const mlp_class std_layer_class = { .name = "layer", .free = free, .tostring = layer_tostring };

static bool layer_value(mlp_vm *vm, rt_layer_spec spec, int input, mlp_value *out)
{
    std_layer *l = malloc(sizeof *l);
    if (!l) return mlp_raise(vm, "out of memory");
    l->spec = spec;
    l->input = input;
    *out = mlp_handle(vm, &std_layer_class, l);
    return true;
}

/* input=[28, 28] or input=784: the shape of one example. */
static bool input_shape(mlp_vm *vm, const char *fn, mlp_value v, int *ndims, int dims[RT_MAX_DIMS])
{
    long d;
    if (mlp_is_number(v)) {
        if (!std_int_arg(vm, fn, "input", v, 1, 1L << 30, &d)) return false;
        *ndims = 1;
        dims[0] = (int)d;
        return true;
    }
    if (!mlp_is_list(v) || mlp_list_len(v) == 0 || mlp_list_len(v) > RT_MAX_DIMS)
        return mlp_raise(vm, "%s: input must be a list of 1 to %d sizes, e.g. [28, 28]", fn,
                         RT_MAX_DIMS);
    *ndims = (int)mlp_list_len(v);
    for (int i = 0; i < *ndims; i++) {
        if (!std_int_arg(vm, fn, "input", mlp_list_get(v, (size_t)i), 1, 1L << 30, &d))
            return false;
        dims[i] = (int)d;
    }
    return true;
}

/* Values per example of a shape, or 0 (after raising) when there are more
 * than an input may have (2^30, the limit of a single size). Each size is
 * at most 2^30, so four of them cannot overflow 64 bits before the check. */
static int shape_size(mlp_vm *vm, const char *fn, int ndims, const int *dims)
{
    int64_t n = 1;
    for (int i = 0; i < ndims; i++) n *= dims[i];
    if (n > (INT64_C(1) << 30)) {
        char shape[96] = "";
        for (int i = 0, k = 0; i < ndims; i++)
            k += snprintf(shape + k, sizeof shape - (size_t)k, "%s%d", i ? ", " : "", dims[i]);
        mlp_raise(vm, "%s: input [%s] has %lld values per example; at most %lld are supported",
                  fn, shape, (long long)n, (long long)(INT64_C(1) << 30));
        return 0;
    }
    return (int)n;
}

static bool n_flatten(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    int ndims = 0, dims[RT_MAX_DIMS];
    if (!mlp_is_nil(a[0]) && !input_shape(vm, "flatten", a[0], &ndims, dims)) return false;
    int size = ndims ? shape_size(vm, "flatten", ndims, dims) : 0;
    if (ndims && !size) return false;
    return layer_value(vm, rt_spec_flatten(ndims, dims), size, out);
}

static bool n_dense(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    long units;
    if (!std_int_arg(vm, "dense", "units", a[0], 1, 1L << 24, &units)) return false;
    static const std_activation linear = { RT_ACT_LINEAR, {0.0f}, NULL };
    const std_activation *act =
        mlp_is_nil(a[1]) ? &linear : mlp_handle_data(a[1], &std_activation_class);
    if (!act) {
        mlp_value s = mlp_tostring(vm, a[1]);
        return mlp_raise(vm, "dense: activation must be an activation (relu, sigmoid, ...), "
                         "got %s %s", mlp_type_name(a[1]), mlp_cstr(s));
    }
    const char *iname = std_host_of(vm)->dialect == RT_DIALECT_TORCH ? "torch_linear"
                                                                      : "glorot_uniform";
    rt_init init;
    if (!mlp_is_nil(a[2]) && !std_str_arg(vm, "dense", "init", a[2], &iname)) return false;
    if (!rt_init_from_name(iname, &init)) {
        char known[128] = "";
        for (int i = 0; i < RT_INIT_COUNT; i++) {
            if (i) strncat(known, ", ", sizeof known - strlen(known) - 1);
            strncat(known, rt_init_name((rt_init)i), sizeof known - strlen(known) - 1);
        }
        return mlp_raise(vm, "dense: unknown init '%s' (%s)", iname, known);
    }
    int ndims = 0, dims[RT_MAX_DIMS];
    if (!mlp_is_nil(a[3]) && !input_shape(vm, "dense", a[3], &ndims, dims)) return false;
    double l1, l2;
    if (!std_num_arg(vm, "dense", "l1", a[4], &l1) || !std_num_arg(vm, "dense", "l2", a[5], &l2))
        return false;
    if (!(l1 >= 0 && isfinite(l1)) || !(l2 >= 0 && isfinite(l2)))
        return mlp_raise(vm, "dense: %s must be 0 (none) or positive, got %g",
                         !(l1 >= 0 && isfinite(l1)) ? "l1" : "l2", !(l1 >= 0 && isfinite(l1)) ? l1 : l2);
    rt_layer_spec s = rt_spec_dense((int)units, act->act, init);
    s.l1 = (float)l1;
    s.l2 = (float)l2;
    memcpy(s.act_params, act->params, sizeof s.act_params);
    s.custom = act->custom;
    int size = ndims ? shape_size(vm, "dense", ndims, dims) : 0;
    if (ndims && !size) return false;
    return layer_value(vm, s, size, out);
}

/* batchnorm(momentum=, eps=, dialect=): Keras's semantics and defaults
 * (0.99, 0.001), or under the torch dialect PyTorch's BatchNorm1d (0.1,
 * 1e-5; momentum weighs the new batch; unbiased moving variance). */
static bool n_batchnorm(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    rt_dialect d = std_host_of(vm)->dialect;
    if (!mlp_is_nil(a[2])) {
        const char *name;
        if (!std_str_arg(vm, "batchnorm", "dialect", a[2], &name)) return false;
        if (strcmp(name, "keras") == 0) d = RT_DIALECT_KERAS;
        else if (strcmp(name, "torch") == 0) d = RT_DIALECT_TORCH;
        else return mlp_raise(vm, "batchnorm: unknown dialect '%s' (use \"keras\" or \"torch\")", name);
    }
    bool torch = d == RT_DIALECT_TORCH;
    double momentum = torch ? 0.1 : 0.99, eps = torch ? 1e-5 : 0.001;
    if ((!mlp_is_nil(a[0]) && !std_num_arg(vm, "batchnorm", "momentum", a[0], &momentum)) ||
        (!mlp_is_nil(a[1]) && !std_num_arg(vm, "batchnorm", "eps", a[1], &eps)))
        return false;
    if (!(momentum >= 0 && momentum <= 1))
        return mlp_raise(vm, "batchnorm: momentum must be in [0, 1], got %g", momentum);
    if (!(eps > 0)) return mlp_raise(vm, "batchnorm: eps must be positive, got %g", eps);
    return layer_value(vm, torch ? rt_spec_batchnorm_torch((float)momentum, (float)eps)
                                 : rt_spec_batchnorm((float)momentum, (float)eps), 0, out);
}

static bool n_dropout(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    double rate;
    if (!std_num_arg(vm, "dropout", "rate", a[0], &rate)) return false;
    if (!(rate >= 0 && rate < 1))
        return mlp_raise(vm, "dropout: rate must be in [0, 1), got %g", rate);
    return layer_value(vm, rt_spec_dropout((float)rate), 0, out);
}

static const mlp_native natives[] = {
    { "flatten", "input=nil", n_flatten,
      "flatten(input=[28, 28]): flattens each example; input gives the shape of one example" },
    { "dense", "units, act=nil, init=nil, input=nil, l1=0, l2=0", n_dense,
      "dense(units, act=linear, init=\"glorot_uniform\" (torch dialect: \"torch_linear\"), l1=0, "
      "l2=0): a fully connected layer; l1, l2 penalise its kernel (added to the loss)" },
    { "batchnorm", "momentum=nil, eps=nil, dialect=nil", n_batchnorm,
      "batchnorm(momentum=0.99, eps=0.001): batch normalisation (Keras defaults; torch dialect: "
      "momentum=0.1, eps=1e-05 with PyTorch's meaning)" },
    { "dropout", "rate", n_dropout, "dropout(rate): inverted dropout while training" },
};

/* :help lines for the activations, losses and optimizers, which are values
 * rather than natives. */
static void describe_values(mlp_vm *vm)
{
    char doc[512];
    for (int i = 0; i < RT_ACT_COUNT; i++) {
        const rt_act_info *info = rt_act_get((rt_act)i);
        snprintf(doc, sizeof doc, "%s: activation %s (dense(n, act=%s))", info->name,
                 info->doc ? info->doc : "", info->name);
        mlp_set_doc(vm, info->name, doc);
    }
    mlp_set_doc(vm, "silu", "silu: the activation swish");
    for (int i = 0; i < RT_LOSS_COUNT; i++) {
        const char *name = rt_loss_name((rt_loss)i);
        snprintf(doc, sizeof doc, "%s: loss for fit(..., loss=%s)", name, name);
        mlp_set_doc(vm, name, doc);
    }
    for (int i = 0; i < rt_optim_count(); i++) {
        rt_error err;
        rt_optim *o = rt_optim_create(rt_optim_table_name(i), rt_dialect_name(RT_DIALECT_KERAS), &err);
        if (!o) continue;
        const char *name = rt_optim_name(o);
        int k = snprintf(doc, sizeof doc, "%s: optimizer for fit(..., optimizer=%s); %s(", name, name, name);
        for (int h = 0; h < rt_optim_nhypers(o) && k > 0 && (size_t)k < sizeof doc; h++) {
            char num[32];
            std_float_text((float)rt_optim_hyper_value(o, h), num);
            k += snprintf(doc + k, sizeof doc - (size_t)k, "%s%s=%s", h ? ", " : "",
                          rt_optim_hyper_name(o, h), num);
        }
        if (k > 0 && (size_t)k < sizeof doc)
            snprintf(doc + k, sizeof doc - (size_t)k, ") makes one with other hyperparameters");
        mlp_set_doc(vm, name, doc);
        rt_optim_free(o);
    }
}

bool std_open_nn(mlp_vm *vm)
{
    for (int i = 0; i < RT_ACT_COUNT; i++) {
        float p[RT_ACT_MAX_PARAMS];
        rt_act_defaults((rt_act)i, p);
        mlp_set_global(vm, rt_act_get((rt_act)i)->name, activation_value(vm, (rt_act)i, p));
    }
    mlp_value swish;
    if (mlp_get_global(vm, "swish", &swish)) mlp_set_global(vm, "silu", swish);
    for (int i = 0; i < RT_LOSS_COUNT; i++) {
        rt_loss *l = malloc(sizeof *l);
        if (!l) return false;
        *l = (rt_loss)i;
        mlp_set_global(vm, rt_loss_name(*l), mlp_handle(vm, &std_loss_class, l));
    }
    if (!std_bind_optimizers(vm, RT_DIALECT_KERAS) ||
        !mlp_register(vm, natives, sizeof natives / sizeof natives[0]))
        return false;
    describe_values(vm);
    return true;
}
