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
#include "std.h"

/* ---- activations ---------------------------------------------------------- */

static mlp_value activation_value(mlp_vm *vm, rt_act act, float alpha)
{
    std_activation *a = malloc(sizeof *a);
    if (!a) { mlp_raise(vm, "out of memory"); return mlp_nil(); }
    a->act = act;
    a->alpha = alpha;
    a->custom = NULL;
    return mlp_handle(vm, &std_activation_class, a);
}

static bool activation_call(mlp_vm *vm, void *data, mlp_value *args, int nargs,
                            mlp_value kwargs, mlp_value *out)
{
    const std_activation *a = data;
    if (a->custom) return mlp_raise(vm, "%s: a user-defined activation takes no parameters", a->custom->name);
    const char *name = rt_act_get(a->act)->name;
    double alpha = a->alpha;
    if (nargs > 1) return mlp_raise(vm, "%s: takes at most 1 positional argument (alpha)", name);
    if (nargs == 1 && !std_num_arg(vm, name, "alpha", args[0], &alpha)) return false;
    for (size_t i = 0; mlp_is_record(kwargs) && i < mlp_record_len(kwargs); i++) {
        mlp_value k, v;
        mlp_record_entry(kwargs, i, &k, &v);
        if (strcmp(mlp_cstr(k), "alpha") != 0)
            return mlp_raise(vm, "%s: unknown keyword argument '%s'", name, mlp_cstr(k));
        if (!std_num_arg(vm, name, "alpha", v, &alpha)) return false;
    }
    *out = activation_value(vm, a->act, (float)alpha);
    return true;
}

static mlp_value activation_tostring(mlp_vm *vm, void *data)
{
    const std_activation *a = data;
    if (a->custom) return mlp_string_cstr(vm, a->custom->name);
    const rt_act_info *info = rt_act_get(a->act);
    char buf[96], num[32];
    if (a->alpha == info->alpha || isnan(a->alpha))
        snprintf(buf, sizeof buf, "%s", info->name);
    else
        snprintf(buf, sizeof buf, "%s(alpha=%s)", info->name, std_float_text(a->alpha, num));
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

static void optimizer_free(void *data) { rt_optim_free(data); }

static mlp_value optimizer_value(mlp_vm *vm, rt_optim *o)
{
    return mlp_handle(vm, &std_optimizer_class, o);
}

/* Applies name=value to o; "dialect" is handled by the caller. */
static bool optimizer_set(mlp_vm *vm, rt_optim *o, const char *key, mlp_value v)
{
    const char *name = rt_optim_name(o);
    double x;
    if (mlp_is_bool(v)) x = mlp_as_bool(v);
    else if (!std_num_arg(vm, name, key, v, &x)) return false;
    if (rt_optim_set(o, key, x)) return true;
    char known[256] = "";
    for (int i = 0; i < rt_optim_nhypers(o); i++) {
        if (i) strncat(known, ", ", sizeof known - strlen(known) - 1);
        strncat(known, rt_optim_hyper_name(o, i), sizeof known - strlen(known) - 1);
    }
    return mlp_raise(vm, "%s: unknown hyperparameter '%s' (it has %s)", name, key, known);
}

/* Adam(lr=0.1), Adam(0.1), opt(dialect="torch"): a new optimizer value with
 * the overrides applied; changing the dialect starts from that dialect's
 * defaults and re-applies the overrides given here. */
static bool optimizer_call(mlp_vm *vm, void *data, mlp_value *args, int nargs,
                           mlp_value kwargs, mlp_value *out)
{
    const rt_optim *base = data;
    const char *name = rt_optim_name(base);
    rt_error err;
    rt_optim *o = NULL;
    mlp_value d;
    if (mlp_is_record(kwargs) && mlp_record_get(kwargs, "dialect", &d)) {
        const char *dialect;
        if (!std_str_arg(vm, name, "dialect", d, &dialect)) return false;
        o = rt_optim_create(name, dialect, &err);
    } else {
        o = rt_optim_clone(base, &err);
    }
    if (!o) return mlp_raise(vm, "%s: %s", name, err.msg);
    *out = optimizer_value(vm, o);   /* owns o from here on */
    if (nargs > 1) return mlp_raise(vm, "%s: takes at most 1 positional argument (lr)", name);
    if (nargs == 1 && !optimizer_set(vm, o, "lr", args[0])) return false;
    for (size_t i = 0; mlp_is_record(kwargs) && i < mlp_record_len(kwargs); i++) {
        mlp_value k, v;
        mlp_record_entry(kwargs, i, &k, &v);
        if (strcmp(mlp_cstr(k), "dialect") != 0 && !optimizer_set(vm, o, mlp_cstr(k), v))
            return false;
    }
    return true;
}

static mlp_value optimizer_tostring(mlp_vm *vm, void *data)
{
    char buf[512];
    size_t n = rt_optim_describe(data, buf, sizeof buf);
    if (rt_optim_dialect(data) != RT_DIALECT_KERAS && n + 24 < sizeof buf) {
        /* "Adam(lr=...)" -> "Adam(lr=..., dialect=torch)" */
        snprintf(buf + n - 1, sizeof buf - n + 1, ", dialect=\"%s\")",
                 rt_dialect_name(rt_optim_dialect(data)));
    }
    return mlp_string_cstr(vm, buf);
}

static bool optimizer_get(mlp_vm *vm, mlp_value self, void *data, const char *field, mlp_value *out)
{
    double x;
    if (strcmp(field, "name") == 0) *out = mlp_string_cstr(vm, rt_optim_name(data));
    else if (strcmp(field, "dialect") == 0)
        *out = mlp_string_cstr(vm, rt_dialect_name(rt_optim_dialect(data)));
    else if (rt_optim_get(data, field, &x)) *out = mlp_number(x);
    else return mlp_raise(vm, "%s has no hyperparameter '%s'", rt_optim_name(data), field);
    return true;
}

const mlp_class std_optimizer_class = {
    .name = "optimizer", .free = optimizer_free, .get = optimizer_get,
    .call = optimizer_call, .tostring = optimizer_tostring, .fields = "name, dialect, lr",
};

rt_optim *std_optimizer_value(mlp_vm *vm, const char *fn, const char *arg, mlp_value v)
{
    rt_optim *o = mlp_handle_data(v, &std_optimizer_class);
    if (!o) mlp_raise(vm, "%s: %s must be an optimizer (e.g. Adam, SGD(lr=0.1)), got %s", fn,
                      arg, mlp_type_name(v));
    return o;
}

/* The hyperparameters that differ from the defaults, for tables. */
static void optimizer_short(const rt_optim *o, char *buf, size_t size)
{
    rt_optim *def = rt_optim_create(rt_optim_name(o), rt_dialect_name(rt_optim_dialect(o)), NULL);
    size_t n = (size_t)snprintf(buf, size, "%s", rt_optim_name(o));
    const char *sep = "(";
    for (int i = 0; def && i < rt_optim_nhypers(o) && n < size; i++) {
        double v = rt_optim_hyper_value(o, i), d;
        if (rt_optim_get(def, rt_optim_hyper_name(o, i), &d) && d == v) continue;
        n += (size_t)snprintf(buf + n, size - n, "%s%s=%.9g", sep, rt_optim_hyper_name(o, i), v);
        sep = ", ";
    }
    if (*sep == ',' && n < size) snprintf(buf + n, size - n, ")");
    rt_optim_free(def);
}

mlp_value std_short_text(mlp_vm *vm, mlp_value v)
{
    rt_optim *o = mlp_handle_data(v, &std_optimizer_class);
    if (!o) return mlp_tostring(vm, v);
    char buf[256];
    optimizer_short(o, buf, sizeof buf);
    return mlp_string_cstr(vm, buf);
}

/* Binds every optimizer name to its value in `dialect`: dialect("torch")
 * makes `Adam` mean PyTorch's Adam for the rest of the script. */
bool std_bind_optimizers(mlp_vm *vm, rt_dialect dialect)
{
    for (int i = 0; i < rt_optim_count(); i++) {
        rt_error err;
        rt_optim *o = rt_optim_create(rt_optim_table_name(i), rt_dialect_name(dialect), &err);
        if (!o) return mlp_raise(vm, "dialect: %s", err.msg);
        mlp_set_global(vm, rt_optim_name(o), optimizer_value(vm, o));
    }
    return true;
}

/* ---- layers ----------------------------------------------------------------- */

static mlp_value layer_tostring(mlp_vm *vm, void *data)
{
    const std_layer *l = data;
    const rt_layer_spec *s = &l->spec;
    char buf[128], n1[32], n2[32];
    switch (s->kind) {
    case RT_LAYER_DENSE:
        snprintf(buf, sizeof buf, "dense(%d, %s)", s->units,
                 s->custom ? s->custom->name : rt_act_get(s->act)->name);
        break;
    case RT_LAYER_DROPOUT: snprintf(buf, sizeof buf, "dropout(%.9g)", s->rate); break;
    case RT_LAYER_BATCHNORM:
        snprintf(buf, sizeof buf, "batchnorm(momentum=%s, eps=%s)", std_float_text(s->momentum, n1),
                 std_float_text(s->eps, n2));
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
    static const std_activation linear = { RT_ACT_LINEAR, 0.0f, NULL };
    const std_activation *act =
        mlp_is_nil(a[1]) ? &linear : mlp_handle_data(a[1], &std_activation_class);
    if (!act) {
        mlp_value s = mlp_tostring(vm, a[1]);
        return mlp_raise(vm, "dense: activation must be an activation (relu, sigmoid, ...), "
                         "got %s %s", mlp_type_name(a[1]), mlp_cstr(s));
    }
    const char *iname;
    rt_init init;
    if (!std_str_arg(vm, "dense", "init", a[2], &iname)) return false;
    if (!rt_init_from_name(iname, &init))
        return mlp_raise(vm, "dense: unknown init '%s' (glorot_uniform, he_uniform, he_normal, "
                         "zeros)", iname);
    int ndims = 0, dims[RT_MAX_DIMS];
    if (!mlp_is_nil(a[3]) && !input_shape(vm, "dense", a[3], &ndims, dims)) return false;
    rt_layer_spec s = rt_spec_dense((int)units, act->act, init);
    s.act_alpha = act->alpha;
    s.custom = act->custom;
    int size = ndims ? shape_size(vm, "dense", ndims, dims) : 0;
    if (ndims && !size) return false;
    return layer_value(vm, s, size, out);
}

static bool n_batchnorm(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    double momentum, eps;
    if (!std_num_arg(vm, "batchnorm", "momentum", a[0], &momentum) ||
        !std_num_arg(vm, "batchnorm", "eps", a[1], &eps))
        return false;
    if (!(momentum >= 0 && momentum <= 1))
        return mlp_raise(vm, "batchnorm: momentum must be in [0, 1], got %g", momentum);
    if (!(eps > 0)) return mlp_raise(vm, "batchnorm: eps must be positive, got %g", eps);
    return layer_value(vm, rt_spec_batchnorm((float)momentum, (float)eps), 0, out);
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
    { "dense", "units, act=nil, init=\"glorot_uniform\", input=nil", n_dense,
      "dense(units, act=linear, init=\"glorot_uniform\"): a fully connected layer" },
    { "batchnorm", "momentum=0.99, eps=0.001", n_batchnorm,
      "batchnorm(momentum=0.99, eps=0.001): batch normalisation (Keras defaults)" },
    { "dropout", "rate", n_dropout, "dropout(rate): inverted dropout while training" },
};

bool std_open_nn(mlp_vm *vm)
{
    for (int i = 0; i < RT_ACT_COUNT; i++) {
        const rt_act_info *info = rt_act_get((rt_act)i);
        mlp_set_global(vm, info->name, activation_value(vm, (rt_act)i, info->alpha));
    }
    mlp_value swish;
    if (mlp_get_global(vm, "swish", &swish)) mlp_set_global(vm, "silu", swish);
    for (int i = 0; i < RT_LOSS_COUNT; i++) {
        rt_loss *l = malloc(sizeof *l);
        if (!l) return false;
        *l = (rt_loss)i;
        mlp_set_global(vm, rt_loss_name(*l), mlp_handle(vm, &std_loss_class, l));
    }
    return std_bind_optimizers(vm, RT_DIALECT_KERAS) && mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
