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
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include "control.h"
#include "layer_spec.h"
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

/* Every layer kind is a native whose parameter list, argument checks,
 * printed form and :help line come from its fields (layer_spec.h); nothing
 * below names a kind or a field. */

/* The native's default for a field is nil (then the table's default, which
 * may depend on the dialect) unless it is one number in every dialect:
 * "l1=0", so l1=nil is an error as any non-number is. */
static bool field_nil_default(const rt_layer_field *f)
{
    if (f->flags & RT_LF_REQUIRED) return false;
    return !((f->type == RT_LF_INT || f->type == RT_LF_FLOAT) && rt_layer_field_fixed_default(f));
}

/* The default of f in dialect d as the script would write it. */
static const char *field_default_text(const rt_layer_field *f, rt_dialect d, char buf[32])
{
    switch (f->type) {
    case RT_LF_ACT: return rt_act_get((rt_act)f->def[d])->name;
    case RT_LF_INIT: snprintf(buf, 32, "\"%s\"", rt_init_name((rt_init)f->def[d])); return buf;
    case RT_LF_DIALECT: return "nil";
    default: return std_float_text((float)f->def[d], buf);
    }
}

/* The value of field f of s, as the printed form shows it. */
static void field_text(const rt_layer_spec *s, const rt_layer_field *f, char *buf, size_t size)
{
    double v = f->type == RT_LF_SHAPE ? 0 : rt_layer_field_get(s, f);
    char num[32];
    switch (f->type) {
    case RT_LF_INT: snprintf(buf, size, "%d", (int)v); break;
    case RT_LF_FLOAT:
        if (f->flags & RT_LF_PRINT_G9) snprintf(buf, size, "%.9g", v);
        else snprintf(buf, size, "%s", std_float_text((float)v, num));
        break;
    case RT_LF_ACT: {
        std_activation act = {(rt_act)v, {0}, s->custom};
        memcpy(act.params, s->act_params, sizeof act.params);
        activation_text(&act, buf, size);
        break;
    }
    case RT_LF_INIT: snprintf(buf, size, "\"%s\"", rt_init_name((rt_init)v)); break;
    case RT_LF_DIALECT:
        snprintf(buf, size, "\"%s\"", rt_dialect_name(v != 0 ? RT_DIALECT_TORCH : RT_DIALECT_KERAS));
        break;
    case RT_LF_SHAPE: rt_shape_str(rt_layer_field_shape(s, f), buf, size); break;
    }
}

/* "dense(3, relu, l1=0.01)": the fields in order, positional ones as their
 * value, zeros of the fields that omit them left out. */
static void layer_text(const rt_layer_spec *s, char *buf, size_t size)
{
    int nf;
    const rt_layer_field *fs = rt_layer_fields(s->kind, &nf);
    char val[160];
    size_t n = (size_t)snprintf(buf, size, "%s(", rt_layer_kind_name(s->kind));
    const char *sep = "";
    for (int i = 0; i < nf && n < size; i++) {
        const rt_layer_field *f = &fs[i];
        if (f->offset < 0 || (f->flags & RT_LF_NOPRINT)) continue;
        if ((f->flags & RT_LF_OMIT_ZERO) && rt_layer_field_get(s, f) == 0) continue;
        field_text(s, f, val, sizeof val);
        if (f->flags & RT_LF_POSITIONAL) n += (size_t)snprintf(buf + n, size - n, "%s%s", sep, val);
        else n += (size_t)snprintf(buf + n, size - n, "%s%s=%s", sep, f->name, val);
        sep = ", ";
    }
    if (n < size) snprintf(buf + n, size - n, ")");
}

static mlp_value layer_tostring(mlp_vm *vm, void *data)
{
    char buf[256];
    layer_text(&((const std_layer *)data)->spec, buf, sizeof buf);
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
static bool input_shape(mlp_vm *vm, const char *fn, const rt_layer_field *f, mlp_value v,
                        rt_shape *shape)
{
    long d;
    if (mlp_is_number(v)) {
        if (!std_int_arg(vm, fn, f->name, v, (long)f->lo, (long)f->hi, &d)) return false;
        *shape = rt_shape_1d(d);
        return true;
    }
    if (!mlp_is_list(v) || mlp_list_len(v) == 0 || mlp_list_len(v) > RT_MAX_DIMS)
        return mlp_raise(vm, "%s: %s must be a list of 1 to %d sizes, e.g. %s", fn, f->name,
                         RT_MAX_DIMS, f->example);
    shape->ndim = (int)mlp_list_len(v);
    for (int i = 0; i < shape->ndim; i++) {
        if (!std_int_arg(vm, fn, f->name, mlp_list_get(v, (size_t)i), (long)f->lo, (long)f->hi, &d))
            return false;
        shape->dims[i] = d;
    }
    return true;
}

/* Values per example of a shape, or 0 (after raising) when there are more
 * than the field allows (2^30 for an input, the limit of a single size).
 * Each size is at most 2^30, so four of them cannot overflow 64 bits before
 * the check. */
static int shape_size(mlp_vm *vm, const char *fn, const rt_layer_field *f, const rt_shape *shape)
{
    int64_t n = rt_shape_size(shape), max = (int64_t)f->hi;
    if (n > max) {
        char text[96];
        mlp_raise(vm, "%s: %s %s has %lld values per example; at most %lld are supported",
                  fn, f->name, rt_shape_str(shape, text, sizeof text), (long long)n, (long long)max);
        return 0;
    }
    return (int)n;
}

/* The dialect a kind's defaults come from: its dialect= argument when it
 * has one and it is given, else the script's. */
static bool layer_dialect(mlp_vm *vm, const char *fn, const rt_layer_field *f, mlp_value v,
                          rt_dialect *d)
{
    *d = std_host_of(vm)->dialect;
    if (!f || mlp_is_nil(v)) return true;
    const char *name;
    if (!std_str_arg(vm, fn, f->name, v, &name)) return false;
    if (strcmp(name, "keras") == 0) *d = RT_DIALECT_KERAS;
    else if (strcmp(name, "torch") == 0) *d = RT_DIALECT_TORCH;
    else return mlp_raise(vm, "%s: unknown %s '%s' (use \"keras\" or \"torch\")", fn, f->name, name);
    return true;
}

/* Reads argument v of field f into s (numbers into *num, checked later). */
static bool field_read(mlp_vm *vm, const char *fn, const rt_layer_field *f, mlp_value v,
                       rt_layer_spec *s, double *num, rt_shape *shape)
{
    long k;
    switch (f->type) {
    case RT_LF_INT:
        if (!std_int_arg(vm, fn, f->name, v, (long)f->lo, (long)f->hi, &k)) return false;
        rt_layer_field_set(s, f, (double)k);
        return true;
    case RT_LF_FLOAT: return std_num_arg(vm, fn, f->name, v, num);
    case RT_LF_ACT: {
        const std_activation *act = mlp_handle_data(v, &std_activation_class);
        if (!act) {
            mlp_value t = mlp_tostring(vm, v);
            return mlp_raise(vm, "%s: activation must be an activation (relu, sigmoid, ...), "
                             "got %s %s", fn, mlp_type_name(v), mlp_cstr(t));
        }
        rt_layer_field_set(s, f, act->act);
        memcpy(s->act_params, act->params, sizeof s->act_params);
        s->custom = act->custom;
        return true;
    }
    case RT_LF_INIT: {
        const char *name;
        rt_init init;
        if (!std_str_arg(vm, fn, f->name, v, &name)) return false;
        if (!rt_init_from_name(name, &init)) {
            char known[128] = "";
            for (int i = 0; i < RT_INIT_COUNT; i++) {
                if (i) strncat(known, ", ", sizeof known - strlen(known) - 1);
                strncat(known, rt_init_name((rt_init)i), sizeof known - strlen(known) - 1);
            }
            return mlp_raise(vm, "%s: unknown %s '%s' (%s)", fn, f->name, name, known);
        }
        rt_layer_field_set(s, f, init);
        return true;
    }
    case RT_LF_SHAPE: return input_shape(vm, fn, f, v, shape);
    case RT_LF_DIALECT: return true;   /* read first, by layer_dialect */
    }
    return true;
}

/* A layer value of `kind` from the native's arguments a[] (one per field):
 * the dialect first (the defaults follow it), then every field in order,
 * then the ranges of the numbers, then the input's size. */
static bool layer_new(mlp_vm *vm, rt_layer_kind kind, mlp_value *a, mlp_value *out)
{
    const char *fn = rt_layer_kind_name(kind);
    int nf;
    const rt_layer_field *fs = rt_layer_fields(kind, &nf);
    const rt_layer_field *df = rt_layer_dialect_field(kind);
    rt_dialect d;
    if (!layer_dialect(vm, fn, df, df ? a[df - fs] : mlp_nil(), &d)) return false;
    rt_layer_spec s = rt_layer_spec_default(kind, d);
    double num[RT_LAYER_MAX_FIELDS];
    bool given[RT_LAYER_MAX_FIELDS] = {false};
    rt_shape in = { 0 };
    const rt_layer_field *shape = NULL;
    for (int i = 0; i < nf; i++) {
        if (mlp_is_nil(a[i]) && field_nil_default(&fs[i])) continue;
        if (!field_read(vm, fn, &fs[i], a[i], &s, &num[i], &in)) return false;
        given[i] = true;
        if (fs[i].type == RT_LF_SHAPE) shape = &fs[i];
    }
    for (int i = 0; i < nf; i++) {
        if (!given[i] || fs[i].type != RT_LF_FLOAT) continue;
        if (!rt_layer_field_in_range(&fs[i], num[i]))
            return mlp_raise(vm, "%s: %s must be %s, got %g", fn, fs[i].name, fs[i].range, num[i]);
        rt_layer_field_set(&s, &fs[i], num[i]);
    }
    int size = 0;
    if (shape) {
        if (!(size = shape_size(vm, fn, shape, &in))) return false;
        if (shape->offset >= 0) rt_layer_field_set_shape(&s, shape, &in);
    }
    return layer_value(vm, s, size, out);
}

#define LAYER_NATIVE(tag, kname, fn) \
    static bool n_##fn(mlp_vm *vm, mlp_value *a, int n, mlp_value *out) \
    { return layer_new(vm, RT_LAYER_##tag, a, out); }
RT_LAYER_KINDS(LAYER_NATIVE)
#undef LAYER_NATIVE

/* The natives' parameter lists and :help lines, made once from the table
 * (mlp_register keeps pointers to them, so they live as long as the
 * program): "dense(units, act=linear, init=\"glorot_uniform\" (torch
 * dialect: \"torch_linear\"), l1=0, l2=0): a fully connected layer; ...".
 * A default that depends on the dialect is shown for keras, with torch's
 * beside it, or, in a kind with a dialect= of its own, listed at the end. */
static mlp_native natives[RT_LAYER_COUNT];
static char native_params[RT_LAYER_COUNT][160], native_docs[RT_LAYER_COUNT][400];
static pthread_once_t natives_once = PTHREAD_ONCE_INIT;

static void make_natives(void)
{
    static const mlp_native_fn fns[RT_LAYER_COUNT] = {
#define LAYER_FN(tag, kname, fn) [RT_LAYER_##tag] = n_##fn,
        RT_LAYER_KINDS(LAYER_FN)
#undef LAYER_FN
    };
    for (int k = 0; k < RT_LAYER_COUNT; k++) {
        int nf;
        const rt_layer_field *fs = rt_layer_fields((rt_layer_kind)k, &nf);
        bool own_dialect = rt_layer_dialect_field((rt_layer_kind)k) != NULL;
        char *p = native_params[k], *doc = native_docs[k], num[32], num2[32], torch[160] = "";
        size_t np = 0, nd, nt = 0, pz = sizeof native_params[k], dz = sizeof native_docs[k];
        nd = (size_t)snprintf(doc, dz, "%s(", rt_layer_kind_name((rt_layer_kind)k));
        for (int i = 0, shown = 0; i < nf; i++) {
            const rt_layer_field *f = &fs[i];
            const char *sep = i ? ", " : "";
            if (f->flags & RT_LF_REQUIRED) np += (size_t)snprintf(p + np, pz - np, "%s%s", sep, f->name);
            else np += (size_t)snprintf(p + np, pz - np, "%s%s=%s", sep, f->name,
                                        field_nil_default(f) ? "nil" : field_default_text(f, 0, num));
            if (f->flags & RT_LF_NODOC) continue;
            sep = shown++ ? ", " : "";
            if (f->flags & RT_LF_REQUIRED)
                nd += (size_t)snprintf(doc + nd, dz - nd, "%s%s", sep, f->name);
            else if (f->type == RT_LF_SHAPE)
                nd += (size_t)snprintf(doc + nd, dz - nd, "%s%s=%s", sep, f->name, f->example);
            else
                nd += (size_t)snprintf(doc + nd, dz - nd, "%s%s=%s", sep, f->name,
                                       field_default_text(f, RT_DIALECT_KERAS, num));
            if (f->flags & RT_LF_REQUIRED || f->type == RT_LF_SHAPE || rt_layer_field_fixed_default(f))
                continue;
            field_default_text(f, RT_DIALECT_TORCH, num2);
            if (own_dialect)
                nt += (size_t)snprintf(torch + nt, sizeof torch - nt, "%s%s=%s", nt ? ", " : "",
                                       f->name, num2);
            else
                nd += (size_t)snprintf(doc + nd, dz - nd, " (torch dialect: %s)", num2);
        }
        nd += (size_t)snprintf(doc + nd, dz - nd, "): %s", rt_layer_kind_doc((rt_layer_kind)k));
        if (own_dialect)
            snprintf(doc + nd, dz - nd, " (Keras defaults; torch dialect: %s with PyTorch's meaning)",
                     torch);
        natives[k] = (mlp_native){ rt_layer_kind_name((rt_layer_kind)k), p, fns[k], doc };
    }
}

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
    pthread_once(&natives_once, make_natives);
    if (!std_bind_optimizers(vm, RT_DIALECT_KERAS) || !mlp_register(vm, natives, RT_LAYER_COUNT))
        return false;
    describe_values(vm);
    return true;
}
