/*
 * model.c — models as values: the `model` construct (compiled into a call
 * of __model with the layers its body produced), summary(), and the model
 * handle's fields.
 *
 * A model draws its own initialisation stream from the interpreter's init
 * stream when it is made, so `net(relu)` twice gives two differently
 * initialised models, and the same script gives the same models. When the
 * first layer does not state its input shape the model is built at its
 * first fit, from the data's width.
 */
#include <stdio.h>
#include <string.h>
#include "std.h"

static void model_free(void *data)
{
    std_model *m = data;
    rt_model_free(m->m);
    rt_optim_free(m->opt);
    free(m->specs);
    free(m->name);
    free(m);
}

static void model_mark(mlp_vm *vm, void *data)
{
    mlp_mark(vm, ((std_model *)data)->history);
    mlp_mark(vm, ((std_model *)data)->opt_value);
}

/* "42,710" */
static void with_commas(long n, char *buf, size_t size)
{
    char digits[32];
    int len = snprintf(digits, sizeof digits, "%ld", n), j = 0;
    for (int i = 0; i < len && (size_t)j + 2 < size; i++) {
        if (i > 0 && (len - i) % 3 == 0) buf[j++] = ',';
        buf[j++] = digits[i];
    }
    buf[j] = 0;
}

static mlp_value model_tostring(mlp_vm *vm, void *data)
{
    const std_model *m = data;
    char buf[512], count[32];
    if (!m->m) {
        snprintf(buf, sizeof buf, "<model %s: %d layer%s, not built until its first fit>", m->name,
                 m->nspecs, m->nspecs == 1 ? "" : "s");
        return mlp_string_cstr(vm, buf);
    }
    size_t n = (size_t)snprintf(buf, sizeof buf, "<model %s: %d", m->name, rt_model_in(m->m));
    for (int i = 0; i < rt_model_nlayers(m->m) && n < sizeof buf; i++) {
        rt_layer_info info;
        rt_model_layer_info(m->m, i, &info);
        if (strcmp(info.kind, "dense") == 0)
            n += (size_t)snprintf(buf + n, sizeof buf - n, " -> %d", info.out);
    }
    long tr, nt;
    rt_model_param_counts(m->m, &tr, &nt);
    with_commas(tr + nt, count, sizeof count);
    if (n < sizeof buf) snprintf(buf + n, sizeof buf - n, ", %s params>", count);
    return mlp_string_cstr(vm, buf);
}

static bool model_get(mlp_vm *vm, mlp_value self, void *data, const char *field, mlp_value *out)
{
    std_model *m = data;
    long tr = 0, nt = 0;
    if (m->m) rt_model_param_counts(m->m, &tr, &nt);
    if (strcmp(field, "name") == 0) *out = mlp_string_cstr(vm, m->name);
    else if (strcmp(field, "history") == 0) *out = m->history;
    else if (strcmp(field, "built") == 0) *out = mlp_bool(m->m != NULL);
    else if (strcmp(field, "params") == 0) *out = mlp_number((double)(tr + nt));
    else if (strcmp(field, "trainable") == 0) *out = mlp_number((double)tr);
    else if (strcmp(field, "layers") == 0) return std_model_layers(vm, m, out);
    else return mlp_raise(vm, "model has no field '%s' (name, history, built, params, trainable, "
                          "layers)", field);
    return true;
}

const mlp_class std_model_class = {
    .name = "model", .free = model_free, .mark = model_mark, .get = model_get,
    .tostring = model_tostring, .fields = "name, history, built, params, trainable, layers",
};

bool std_model_build(mlp_vm *vm, std_model *m, int64_t features)
{
    if (m->m) return true;
    if (m->in_features == 0) {
        if (features <= 0)
            return mlp_raise(vm, "model %s is not built yet: give its first layer an input "
                             "shape (e.g. flatten(input=[28, 28])) or fit it first", m->name);
        m->in_features = (int)features;
    }
    rt_error err;
    rt_rng rng = m->rng;
    m->m = rt_model_create(m->specs, m->nspecs, m->in_features, &rng, std_host_of(vm)->pool, &err);
    if (!m->m) return mlp_raise(vm, "model %s: %s", m->name, err.msg);
    return true;
}

/* __layer(name, layers, v): one expression statement of a `model` body.
 * Checks v where the body says it (so an error points at that line) and
 * appends it to layers; nil (a print() in the body) is left out. */
static bool n_layer(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const char *name;
    if (!std_str_arg(vm, "model", "name", a[0], &name)) return false;
    if (!mlp_is_list(a[1])) return mlp_raise(vm, "model %s: expected a list of layers", name);
    *out = mlp_nil();
    mlp_value v = a[2], own;
    /* a script that defines its own __model (to see what a body produces)
     * gets every value as it is */
    if (mlp_get_global(vm, "__model", &own) && mlp_typeof(own) != MLP_T_NATIVE) {
        mlp_list_push(vm, a[1], v);
        return true;
    }
    if (mlp_is_nil(v)) return true;
    size_t k = mlp_list_len(a[1]);
    const std_layer *l = mlp_handle_data(v, &std_layer_class);
    if (!l) {
        mlp_value s = mlp_tostring(vm, v);
        return mlp_raise(vm, "model %s: layer %zu is %s %s, not a layer (dense, batchnorm, "
                         "dropout, flatten)", name, k + 1, mlp_type_name(v), mlp_cstr(s));
    }
    if (k > 0 && l->input) return mlp_raise(vm, "model %s: only the first layer takes input=", name);
    mlp_list_push(vm, a[1], v);
    return true;
}

/* __model(name, layers): what `model NAME(...) { ... }` returns. */
static bool n_model(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const char *name;
    if (!std_str_arg(vm, "model", "name", a[0], &name)) return false;
    if (!mlp_is_list(a[1])) return mlp_raise(vm, "model %s: expected a list of layers", name);
    std_model *m = calloc(1, sizeof *m);
    if (!m) return mlp_raise(vm, "out of memory");
    m->history = m->opt_value = mlp_nil();
    m->name = strdup(name);
    m->specs = calloc(mlp_list_len(a[1]) + 1, sizeof *m->specs);
    *out = mlp_handle(vm, &std_model_class, m);     /* owns m from here on */
    if (!m->name || !m->specs) return mlp_raise(vm, "out of memory");
    for (size_t i = 0; i < mlp_list_len(a[1]); i++) {
        mlp_value v = mlp_list_get(a[1], i);
        if (mlp_is_nil(v)) continue;   /* e.g. a print() in the body */
        const std_layer *l = mlp_handle_data(v, &std_layer_class);
        if (!l) {
            mlp_value s = mlp_tostring(vm, v);
            return mlp_raise(vm, "model %s: layer %d is %s %s, not a layer (dense, batchnorm, "
                             "dropout, flatten)", name, m->nspecs + 1, mlp_type_name(v),
                             mlp_cstr(s));
        }
        if (m->nspecs == 0) m->in_features = l->input;
        else if (l->input) return mlp_raise(vm, "model %s: only the first layer takes input=",
                                            name);
        m->specs[m->nspecs++] = l->spec;
    }
    if (m->nspecs == 0) return mlp_raise(vm, "model %s has no layers", name);
    std_random *r = &std_host_of(vm)->rnd;
    m->rng = rt_rng_derive(&r->init, r->models++);
    return m->in_features == 0 || std_model_build(vm, m, 0);
}

static bool n_summary(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_model *m = mlp_handle_data(a[0], &std_model_class);
    if (!m) return mlp_raise(vm, "summary: model must be a model, got %s", mlp_type_name(a[0]));
    if (!std_model_build(vm, m, 0)) return false;
    char line[256], count[32];
    const char *rule = "_________________________________________________________________\n";
    const char *dbl = "=================================================================\n";
    snprintf(line, sizeof line, "Model: \"%s\"\n", m->name);
    mlp_write(vm, line, strlen(line));
    mlp_write(vm, rule, strlen(rule));
    snprintf(line, sizeof line, " %-28s%-26s%s\n", "Layer (type)", "Output Shape", "Param #");
    mlp_write(vm, line, strlen(line));
    mlp_write(vm, dbl, strlen(dbl));
    int seen[RT_LAYER_COUNT] = {0};
    for (int i = 0; i < rt_model_nlayers(m->m); i++) {
        rt_layer_info info;
        rt_model_layer_info(m->m, i, &info);
        const rt_layer *l = rt_model_layer(m->m, i);
        char lname[96], shape[32];
        int k = seen[l->spec.kind]++;
        if (k) snprintf(lname, sizeof lname, "%s_%d (%s%s%s)", info.kind, k, info.kind,
                        info.activation ? ", " : "", info.activation ? info.activation : "");
        else snprintf(lname, sizeof lname, "%s (%s%s%s)", info.kind, info.kind,
                      info.activation ? ", " : "", info.activation ? info.activation : "");
        snprintf(shape, sizeof shape, "(None, %d)", info.out);
        with_commas(info.trainable + info.non_trainable, count, sizeof count);
        snprintf(line, sizeof line, " %-28s%-26s%s\n", lname, shape, count);
        mlp_write(vm, line, strlen(line));
    }
    mlp_write(vm, dbl, strlen(dbl));
    long tr, nt;
    rt_model_param_counts(m->m, &tr, &nt);
    static const char *const labels[] = { "Total", "Trainable", "Non-trainable" };
    const long counts[] = { tr + nt, tr, nt };
    for (int i = 0; i < 3; i++) {
        with_commas(counts[i], count, sizeof count);
        snprintf(line, sizeof line, "%s params: %s\n", labels[i], count);
        mlp_write(vm, line, strlen(line));
    }
    mlp_write(vm, rule, strlen(rule));
    return true;
}

static const mlp_native natives[] = {
    { "__layer", "name, layers, layer", n_layer,
      "__layer(name, layers, layer): checks and adds one layer of a `model` body" },
    { "__model", "name, layers", n_model,
      "__model(name, layers): builds a model (what a `model` declaration returns)" },
    { "summary", "m", n_summary,
      "summary(model): prints the layers, output shapes and parameter counts" },
};

bool std_open_model(mlp_vm *vm)
{
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
