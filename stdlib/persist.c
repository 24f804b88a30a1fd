/*
 * persist.c — keeping what was trained: save_model(), load_model(), a
 * model's weights as values (m.layers) and set_weights().
 *
 * Files are safetensors (runtime/nn/safetensors.h). Tensor names follow
 * Keras: layers of one kind are numbered from 1 in model order
 * ("dense_1", "dense_2", "batchnorm_1") and each parameter is
 * "<layer>.<param>" with the runtime's parameter names: dense_1.kernel
 * [in, out] (x W + b, Keras's layout; PyTorch's Linear.weight is its
 * transpose), dense_1.bias [out], batchnorm_1.gamma, .beta, .moving_mean,
 * .moving_variance [out]. Flatten and dropout have none. The metadata
 * holds what rebuilds the model: "format" = "mlp", "mlp.version",
 * "mlp.name", "mlp.input" (features per sample) and "mlp.layers", a JSON
 * list of layer specs ({"kind": "dense", "units": 50, "activation":
 * "relu", "init": "glorot_uniform"}, ...). A file written by other tools
 * loads when it has that metadata and those tensor names.
 */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "control.h"
#include "std.h"
#include "safetensors.h"

/* "dense_2" for layer i of a built model: its kind, numbered from 1. */
static void layer_name(const rt_model *m, int i, char *buf, size_t size)
{
    const rt_layer *l = rt_model_layer((rt_model *)m, i);
    int k = 1;
    for (int j = 0; j < i; j++)
        if (rt_model_layer((rt_model *)m, j)->spec.kind == l->spec.kind) k++;
    snprintf(buf, size, "%s_%d", rt_layer_kind_name(l->spec.kind), k);
}

/* A float hyperparameter as the shortest decimal that reads back as it
 * (0.99, not 0.99000001): printed with 15 digits, that decimal's double. */
static json_t *real(float x)
{
    char buf[32];
    return json_real(strtod(std_float_text(x, buf), NULL));
}

/* The layer specs as JSON text (caller frees), or NULL + error. */
static char *specs_json(mlp_vm *vm, const char *fn, const std_model *m)
{
    json_t *list = json_array();
    for (int i = 0; list && i < m->nspecs; i++) {
        const rt_layer_spec *s = &m->specs[i];
        json_t *o = json_object();
        json_object_set_new(o, "kind", json_string(rt_layer_kind_name(s->kind)));
        switch (s->kind) {
        case RT_LAYER_FLATTEN: {
            json_t *d = json_array();
            for (int k = 0; k < s->ndims; k++) json_array_append_new(d, json_integer(s->dims[k]));
            json_object_set_new(o, "input", d);
            break;
        }
        case RT_LAYER_DENSE:
            if (s->custom) {
                json_decref(o);
                json_decref(list);
                mlp_raise(vm, "%s: layer %d uses the user-defined activation '%s', which a "
                          "file cannot hold (built-in activations only)", fn, i + 1,
                          s->custom->name);
                return NULL;
            }
            json_object_set_new(o, "units", json_integer(s->units));
            json_object_set_new(o, "activation", json_string(rt_act_get(s->act)->name));
            /* the parameters given (NaN: the activation's default) by name */
            for (int k = 0; k < RT_ACT_MAX_PARAMS; k++) {
                const char *pn = rt_act_get(s->act)->params[k].name;
                if (pn && !isnan(s->act_params[k]))
                    json_object_set_new(o, pn, real(s->act_params[k]));
            }
            json_object_set_new(o, "init", json_string(rt_init_name(s->init)));
            if (s->l1 != 0) json_object_set_new(o, "l1", real(s->l1));
            if (s->l2 != 0) json_object_set_new(o, "l2", real(s->l2));
            break;
        case RT_LAYER_BATCHNORM:
            json_object_set_new(o, "momentum", real(s->momentum));
            json_object_set_new(o, "eps", real(s->eps));
            if (s->torch) json_object_set_new(o, "torch", json_true());
            break;
        case RT_LAYER_DROPOUT:
            json_object_set_new(o, "rate", real(s->rate));
            break;
        default:
            break;
        }
        json_array_append_new(list, o);
    }
    char *text = list ? json_dumps(list, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15))
                      : NULL;
    json_decref(list);
    if (!text) mlp_raise(vm, "%s: out of memory", fn);
    return text;
}

int std_weight_tensors(std_model *m, rt_st_tensor **out)
{
    rt_param *params;
    int np = rt_model_params(m->m, &params);
    /* the tensors, then their names, in one block */
    enum { NAME = 80 };
    rt_st_tensor *ts = calloc(1, ((size_t)np + 1) * (sizeof *ts + NAME));
    if (!ts) return -1;
    char *names = (char *)(ts + np + 1);
    int k = 0;
    for (int i = 0; i < rt_model_nlayers(m->m); i++) {
        const rt_layer *l = rt_model_layer(m->m, i);
        char ln[48];
        layer_name(m->m, i, ln, sizeof ln);
        for (int p = 0; p < l->nparams; p++, k++) {
            const rt_param *q = &l->params[p];
            snprintf(names + k * NAME, NAME, "%s.%s", ln, q->name);
            ts[k].name = names + k * NAME;
            ts[k].data = q->w;
            ts[k].ndim = q->ndim;
            for (int d = 0; d < q->ndim; d++) ts[k].shape[d] = q->shape[d];
        }
    }
    *out = ts;
    return k;
}

bool std_model_meta(mlp_vm *vm, const char *fn, std_model *m, rt_st_meta meta[4], char **owned)
{
    char *layers = specs_json(vm, fn, m);
    if (!layers) return false;
    char *input = malloc(32);
    if (!input) {
        free(layers);
        return mlp_raise(vm, "%s: out of memory", fn);
    }
    snprintf(input, 32, "%d", rt_model_in(m->m));
    /* one owned block would need a copy; two strings, freed together */
    owned[0] = layers;
    owned[1] = input;
    meta[0] = (rt_st_meta){ "mlp.version", MLP_VERSION };
    meta[1] = (rt_st_meta){ "mlp.name", m->name };
    meta[2] = (rt_st_meta){ "mlp.input", input };
    meta[3] = (rt_st_meta){ "mlp.layers", layers };
    return true;
}

/* save_model(m, path) */
/* "mlp.training": the optimizer (name, dialect, every hyperparameter) and
 * the loss the model last trained with, so that a loaded model trains on
 * with them. NULL when it never trained, or with a user-defined optimizer
 * (which a file cannot hold). malloc'd. */
/* A learning-rate schedule as {"kind": "step", "lr": 0.1, "every": 5,
 * "gamma": 0.5} (each kind's own parameters, schedule.h). */
static json_t *schedule_json(const std_schedule *sc)
{
    const rt_schedule *s = &sc->s;
    json_t *j = json_pack("{s:s,s:f}", "kind", rt_schedule_name(s->kind), "lr", s->lr);
    if (!j) return NULL;
    switch (s->kind) {
    case RT_SCHED_STEP:
        json_object_set_new(j, "every", json_integer(s->every));
        json_object_set_new(j, "gamma", json_real(s->gamma));
        break;
    case RT_SCHED_EXPONENTIAL: json_object_set_new(j, "rate", json_real(s->rate)); break;
    case RT_SCHED_COSINE:
        json_object_set_new(j, "epochs", json_integer(s->epochs));
        json_object_set_new(j, "warmup", json_integer(s->warmup));
        break;
    case RT_SCHED_PIECEWISE: {
        json_t *p = json_array();
        for (int i = 0; i < s->npieces; i++)
            json_array_append_new(p, json_pack("[I,f]", (json_int_t)s->at[i], s->value[i]));
        json_object_set_new(j, "pieces", p);
        break;
    }
    case RT_SCHED_PLATEAU:
        json_object_set_new(j, "monitor", json_string(std_monitor_name(sc->monitor)));
        json_object_set_new(j, "factor", json_real(s->factor));
        json_object_set_new(j, "patience", json_integer(s->patience));
        json_object_set_new(j, "min_delta", json_real(s->min_delta));
        json_object_set_new(j, "min_lr", json_real(s->min_lr));
        break;
    default: break;
    }
    return j;
}

/* The schedule of schedule_json's form; false when it is not one. */
static bool schedule_from_json(json_t *j, std_schedule *out)
{
    const char *kind = json_string_value(json_object_get(j, "kind"));
    *out = (std_schedule){ .s = { .kind = RT_SCHED_COUNT } };
    for (int k = 0; kind && k < RT_SCHED_COUNT; k++)
        if (strcmp(kind, rt_schedule_name((rt_sched_kind)k)) == 0) out->s.kind = (rt_sched_kind)k;
    rt_schedule *s = &out->s;
    if (s->kind == RT_SCHED_COUNT || s->kind == RT_SCHED_CONSTANT) return false;
    s->lr = json_number_value(json_object_get(j, "lr"));
    s->every = (long)json_integer_value(json_object_get(j, "every"));
    s->gamma = json_number_value(json_object_get(j, "gamma"));
    s->rate = json_number_value(json_object_get(j, "rate"));
    s->epochs = (long)json_integer_value(json_object_get(j, "epochs"));
    s->warmup = (long)json_integer_value(json_object_get(j, "warmup"));
    s->factor = json_number_value(json_object_get(j, "factor"));
    s->patience = (long)json_integer_value(json_object_get(j, "patience"));
    s->min_delta = json_number_value(json_object_get(j, "min_delta"));
    s->min_lr = json_number_value(json_object_get(j, "min_lr"));
    json_t *p = json_object_get(j, "pieces");
    if (s->kind == RT_SCHED_PIECEWISE) {
        size_t n = json_array_size(p);
        if (n < 1 || n > RT_SCHED_MAX_PIECES) return false;
        for (size_t i = 0; i < n; i++) {
            json_t *e = json_array_get(p, i);
            if (!json_is_integer(json_array_get(e, 0)) || !json_is_number(json_array_get(e, 1)))
                return false;
            s->at[i] = (long)json_integer_value(json_array_get(e, 0));
            s->value[i] = json_number_value(json_array_get(e, 1));
        }
        s->npieces = (int)n;
        s->lr = s->value[0];
    }
    if (s->kind == RT_SCHED_PLATEAU &&
        (out->monitor = std_monitor_index(json_string_value(json_object_get(j, "monitor")))) < 0)
        return false;
    rt_error err;
    return rt_schedule_check(s, &err);
}

static char *training_json(std_model *m)
{
    const rt_optim *o = std_optim_of(m->opt_value);
    if (!o || rt_optim_custom_def(o)) return NULL;
    json_t *opt = json_pack("{s:s,s:s}", "name", rt_optim_name(o), "dialect",
                            rt_dialect_name(rt_optim_dialect(o)));
    for (int i = 0; opt && i < rt_optim_nhypers(o); i++)
        json_object_set_new(opt, rt_optim_hyper_name(o, i), json_real(rt_optim_hyper_value(o, i)));
    const std_schedule *sched = std_optim_schedule(m->opt_value);
    if (opt && sched) json_object_set_new(opt, "lr_schedule", schedule_json(sched));
    json_t *t = json_pack("{s:o}", "optimizer", opt);
    if (t && m->loss_plus1)
        json_object_set_new(t, "loss", json_string(rt_loss_name((rt_loss)(m->loss_plus1 - 1))));
    char *text = t ? json_dumps(t, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(t);
    return text;
}

/* The optimizer value and loss of "mlp.training" into m; false + message. */
static bool training_from(mlp_vm *vm, const char *text, std_model *m, char *err, size_t size)
{
    json_t *t = json_loads(text, 0, NULL), *opt = json_object_get(t, "optimizer");
    const char *name = json_string_value(json_object_get(opt, "name"));
    const char *dialect = json_string_value(json_object_get(opt, "dialect"));
    const char *loss = json_string_value(json_object_get(t, "loss"));
    rt_error e;
    rt_optim *o = name ? rt_optim_create(name, dialect, &e) : NULL;
    bool ok = o != NULL;
    if (!name) snprintf(err, size, "training configuration: no optimizer name");
    else if (!o) snprintf(err, size, "training configuration: %.200s", e.msg);
    const char *key;
    json_t *v;
    std_schedule sched;
    json_t *js = json_object_get(opt, "lr_schedule");
    if (ok && js && !schedule_from_json(js, &sched)) {
        snprintf(err, size, "training configuration: %s's lr_schedule is not a valid schedule",
                 rt_optim_name(o));
        ok = false;
    }
    json_object_foreach(opt, key, v) {
        if (!ok || strcmp(key, "name") == 0 || strcmp(key, "dialect") == 0 ||
            strcmp(key, "lr_schedule") == 0)
            continue;
        if (!json_is_number(v) || !rt_optim_set(o, key, json_number_value(v))) {
            snprintf(err, size, "training configuration: %s has no hyperparameter '%s'",
                     rt_optim_name(o), key);
            ok = false;
        }
    }
    rt_loss l;
    if (ok && loss && !rt_loss_from_name(loss, &l)) {
        snprintf(err, size, "training configuration: unknown loss '%s'", loss);
        ok = false;
    }
    if (ok) {
        m->opt_value = std_optimizer_new(vm, o, js ? &sched : NULL);   /* owns o */
        if (loss) m->loss_plus1 = (int)l + 1;
    } else {
        rt_optim_free(o);
    }
    json_decref(t);
    return ok;
}

static bool n_save_model(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_model *m = mlp_handle_data(a[0], &std_model_class);
    const char *path;
    if (!m) return mlp_raise(vm, "save_model: m must be a model, got %s", mlp_type_name(a[0]));
    if (!std_str_arg(vm, "save_model", "path", a[1], &path)) return false;
    if (!std_model_build(vm, m, 0)) return false;
    rt_st_meta meta[6] = { { "format", "mlp" } };
    char *owned[2];
    if (!std_model_meta(vm, "save_model", m, meta + 1, owned)) return false;
    char *training = training_json(m);
    if (training) meta[5] = (rt_st_meta){ "mlp.training", training };
    rt_st_tensor *ts;
    int k = std_weight_tensors(m, &ts);
    rt_error err = { 0 };
    bool ok = k >= 0 && rt_st_write(path, ts, k, meta, training ? 6 : 5, &err);
    free(training);
    if (k < 0) snprintf(err.msg, sizeof err.msg, "out of memory");
    if (k >= 0) free(ts);
    free(owned[0]);
    free(owned[1]);
    if (!ok) return (err.io ? mlp_raise_io : mlp_raise)(vm, "save_model: %s", err.msg);
    (void)n;
    *out = mlp_nil();
    return true;
}

/* One spec from its JSON object; false + message in err. */
static bool spec_from_json(json_t *o, int i, rt_layer_spec *s, char *err, size_t size)
{
    const char *kind = json_string_value(json_object_get(o, "kind"));
    if (!kind) return snprintf(err, size, "layer %d has no kind", i + 1), false;
    if (strcmp(kind, "flatten") == 0) {
        json_t *d = json_object_get(o, "input");
        int dims[RT_MAX_DIMS], nd = (int)json_array_size(d);
        if (!json_is_array(d) || nd < 1 || nd > RT_MAX_DIMS)
            return snprintf(err, size, "layer %d (flatten): bad input", i + 1), false;
        for (int k = 0; k < nd; k++) {
            json_int_t v = json_integer_value(json_array_get(d, (size_t)k));
            if (v < 1 || v > 1 << 24)
                return snprintf(err, size, "layer %d (flatten): bad input", i + 1), false;
            dims[k] = (int)v;
        }
        *s = rt_spec_flatten(nd, dims);
    } else if (strcmp(kind, "dense") == 0) {
        json_int_t units = json_integer_value(json_object_get(o, "units"));
        const char *act = json_string_value(json_object_get(o, "activation"));
        const char *init = json_string_value(json_object_get(o, "init"));
        rt_act a;
        rt_init in = RT_INIT_GLOROT_UNIFORM;
        if (units < 1 || units > 1 << 24)
            return snprintf(err, size, "layer %d (dense): bad units", i + 1), false;
        if (!act || !rt_act_from_name(act, &a))
            return snprintf(err, size, "layer %d (dense): unknown activation '%s'", i + 1,
                            act ? act : "(none)"), false;
        if (init && !rt_init_from_name(init, &in))
            return snprintf(err, size, "layer %d (dense): unknown init '%s'", i + 1, init), false;
        *s = rt_spec_dense((int)units, a, in);
        for (int k = 0; k < RT_ACT_MAX_PARAMS; k++) {
            const char *pn = rt_act_get(a)->params[k].name;
            json_t *v = pn ? json_object_get(o, pn) : NULL;
            if (json_is_number(v)) s->act_params[k] = (float)json_number_value(v);
        }
        json_t *l1 = json_object_get(o, "l1"), *l2 = json_object_get(o, "l2");
        if (json_is_number(l1)) s->l1 = (float)json_number_value(l1);
        if (json_is_number(l2)) s->l2 = (float)json_number_value(l2);
        if (!(s->l1 >= 0) || !(s->l2 >= 0))
            return snprintf(err, size, "layer %d (dense): l1 and l2 must be 0 or more", i + 1), false;
    } else if (strcmp(kind, "batchnorm") == 0) {
        *s = rt_spec_batchnorm((float)json_number_value(json_object_get(o, "momentum")),
                               (float)json_number_value(json_object_get(o, "eps")));
        s->torch = json_is_true(json_object_get(o, "torch"));
    } else if (strcmp(kind, "dropout") == 0) {
        *s = rt_spec_dropout((float)json_number_value(json_object_get(o, "rate")));
    } else {
        return snprintf(err, size, "layer %d: unknown kind '%s'", i + 1, kind), false;
    }
    return true;
}

static const char *shape_text(int ndim, const int64_t *shape, char *buf, size_t size)
{
    size_t n = (size_t)snprintf(buf, size, "[");
    for (int d = 0; d < ndim && n < size; d++)
        n += (size_t)snprintf(buf + n, size - n, "%s%lld", d ? ", " : "", (long long)shape[d]);
    if (n < size) snprintf(buf + n, size - n, "]");
    return buf;
}

bool std_weights_from_file(mlp_vm *vm, const char *fn, const char *path, std_model *m,
                           const rt_st_file *f, const char *skip)
{
    int used = 0;
    for (int i = 0; i < rt_model_nlayers(m->m); i++) {
        const rt_layer *l = rt_model_layer(m->m, i);
        char ln[48], name[96], want[64], got[64];
        layer_name(m->m, i, ln, sizeof ln);
        for (int p = 0; p < l->nparams; p++) {
            const rt_param *q = &l->params[p];
            snprintf(name, sizeof name, "%s.%s", ln, q->name);
            const rt_st_tensor *t = rt_st_find(f, name);
            int64_t shape[2] = { q->shape[0], q->shape[1] };
            if (!t)
                return mlp_raise(vm, "%s: %s has no tensor '%s' (the model's layers need it)", fn,
                                 path, name);
            bool same = t->ndim == q->ndim;
            for (int d = 0; same && d < q->ndim; d++) same = t->shape[d] == shape[d];
            if (!same)
                return mlp_raise(vm, "%s: %s: tensor '%s' is %s, the model needs %s", fn, path,
                                 name, shape_text(t->ndim, t->shape, got, sizeof got),
                                 shape_text(q->ndim, shape, want, sizeof want));
            memcpy(q->w, t->data, sizeof(float) * (size_t)q->size);
            used++;
        }
    }
    if (used != f->ntensors)
        for (int i = 0; i < f->ntensors; i++) {
            bool known = skip && strncmp(f->tensors[i].name, skip, strlen(skip)) == 0;
            for (int j = 0; !known && j < rt_model_nlayers(m->m); j++) {
                char ln[48];
                layer_name(m->m, j, ln, sizeof ln);
                size_t len = strlen(ln);
                known = strncmp(f->tensors[i].name, ln, len) == 0 && f->tensors[i].name[len] == '.';
            }
            if (!known)
                return mlp_raise(vm, "%s: %s: tensor '%s' belongs to no layer of the model", fn,
                                 path, f->tensors[i].name);
        }
    return true;
}

/* load_model(path): the model a file describes, with its weights. */
static bool n_load_model(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const char *path;
    if (!std_str_arg(vm, "load_model", "path", a[0], &path)) return false;
    rt_st_file f;
    rt_error err;
    if (!rt_st_read(path, &f, &err)) return mlp_raise(vm, "load_model: %s", err.msg);
    const char *layers = rt_st_meta_get(&f, "mlp.layers");
    const char *input = rt_st_meta_get(&f, "mlp.input");
    const char *name = rt_st_meta_get(&f, "mlp.name");
    json_error_t je;
    json_t *list = layers ? json_loads(layers, 0, &je) : NULL;
    char msg[256] = "";
    long in = input ? strtol(input, NULL, 10) : 0;
    if (!json_is_array(list) || json_array_size(list) == 0 || json_array_size(list) > 10000)
        snprintf(msg, sizeof msg, "no model description (metadata \"mlp.layers\": a JSON list of "
                 "layers)");
    else if (in < 1 || in > 1 << 30)
        snprintf(msg, sizeof msg, "no input width (metadata \"mlp.input\")");

    std_model *m = msg[0] ? NULL : calloc(1, sizeof *m);
    if (!msg[0] && !m) snprintf(msg, sizeof msg, "out of memory");
    if (msg[0]) {
        json_decref(list);
        rt_st_free(&f);
        return mlp_raise(vm, "load_model: %s: %s", path, msg);
    }
    m->history = m->opt_value = mlp_nil();
    m->name = strdup(name ? name : "loaded");
    m->specs = calloc(json_array_size(list) + 1, sizeof *m->specs);
    *out = mlp_handle(vm, &std_model_class, m);    /* owns m from here on */
    bool ok = m->name && m->specs;
    if (!ok) snprintf(msg, sizeof msg, "out of memory");
    for (size_t i = 0; ok && i < json_array_size(list); i++) {
        ok = spec_from_json(json_array_get(list, i), (int)i, &m->specs[i], msg, sizeof msg);
        m->nspecs += ok;
    }
    json_decref(list);
    if (!ok) {
        rt_st_free(&f);
        return mlp_raise(vm, "load_model: %s: %s", path, msg);
    }
    /* a loaded model is a new model: it takes the next init stream (its
     * dropout streams come from it), as `net()` would */
    std_random *r = &std_host_of(vm)->rnd;
    m->rng = rt_rng_derive(&r->init, r->models++);
    m->in_features = (int)in;
    const char *training = rt_st_meta_get(&f, "mlp.training");
    mlp_push_root(vm, *out);   /* the optimizer value made below may collect */
    bool tok = !training || training_from(vm, training, m, msg, sizeof msg);
    mlp_pop_root(vm);
    if (!tok) {
        rt_st_free(&f);
        return mlp_raise(vm, "load_model: %s: %s", path, msg);
    }
    /* a checkpoint (train.c) loads as its model: its optimizer state is skipped */
    ok = std_model_build(vm, m, 0) &&
         std_weights_from_file(vm, "load_model", path, m, &f, "optimizer.");
    rt_st_free(&f);
    (void)n;
    return ok;
}

/* m.layers: one record per layer, its weights as tensors (copies). */
bool std_model_layers(mlp_vm *vm, std_model *m, mlp_value *out)
{
    if (!std_model_build(vm, m, 0)) return false;
    *out = mlp_list_new(vm);
    mlp_push_root(vm, *out);
    for (int i = 0; i < rt_model_nlayers(m->m); i++) {
        const rt_layer *l = rt_model_layer(m->m, i);
        char ln[48];
        layer_name(m->m, i, ln, sizeof ln);
        mlp_value rec = mlp_record_new(vm);
        mlp_list_push(vm, *out, rec);
        mlp_record_set(vm, rec, "name", mlp_string_cstr(vm, ln));
        mlp_record_set(vm, rec, "kind", mlp_string_cstr(vm, rt_layer_kind_name(l->spec.kind)));
        mlp_record_set(vm, rec, "units", mlp_number(l->out));
        for (int p = 0; p < l->nparams; p++) {
            const rt_param *q = &l->params[p];
            float *copy = rt_alloc(sizeof(float) * (size_t)q->size);
            if (!copy) {
                mlp_pop_root(vm);
                return mlp_raise(vm, "model %s: out of memory", m->name);
            }
            memcpy(copy, q->w, sizeof(float) * (size_t)q->size);
            int rows = q->ndim == 2 ? q->shape[0] : 1, cols = q->ndim == 2 ? q->shape[1] : q->shape[0];
            mlp_record_set(vm, rec, q->name, std_tensor_value(vm, copy, rows, cols));
        }
    }
    mlp_pop_root(vm);
    return true;
}

/* The floats of a tensor, a list of numbers or a list of rows, into dst[size]. */
static bool floats_into(mlp_vm *vm, const char *what, mlp_value v, float *dst, long size)
{
    const mlp_class *cls = &std_tensor_class;
    void *t = mlp_handle_data(v, cls);
    if (t) {
        mlp_floats fl;
        if (!cls->floats(vm, t, &fl)) return false;
        bool ok = fl.len == size;
        if (ok) memcpy(dst, fl.data, sizeof(float) * (size_t)size);
        if (fl.copy) free(fl.data);
        return ok ? true : mlp_raise(vm, "set_weights: %s needs %ld values, the tensor has %lld",
                                     what, size, (long long)fl.len);
    }
    if (!mlp_is_list(v))
        return mlp_raise(vm, "set_weights: %s must be a tensor or a list, got %s", what,
                         mlp_type_name(v));
    long k = 0;
    for (size_t i = 0; i < mlp_list_len(v); i++) {
        mlp_value row = mlp_list_get(v, i);
        size_t inner = mlp_is_list(row) ? mlp_list_len(row) : 1;
        for (size_t j = 0; j < inner; j++) {
            mlp_value x = mlp_is_list(row) ? mlp_list_get(row, j) : row;
            if (!mlp_is_number(x))
                return mlp_raise(vm, "set_weights: %s must hold numbers, got %s", what,
                                 mlp_type_name(x));
            if (k < size) dst[k] = (float)mlp_as_number(x);
            k++;
        }
    }
    return k == size ? true
                     : mlp_raise(vm, "set_weights: %s needs %ld values, got %ld", what, size, k);
}

/* The keyword arguments of set_weights, in its params string's order. */
static const char *const weight_names[] = {
    "kernel", "bias", "gamma", "beta", "moving_mean", "moving_variance",
};
enum { NWEIGHT_NAMES = sizeof weight_names / sizeof weight_names[0] };

/* set_weights(m, layer, kernel=, bias=, ...): layer is an index into
 * m.layers or a name ("dense_1"). All values are checked before any is
 * written. */
static bool n_set_weights(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_model *m = mlp_handle_data(a[0], &std_model_class);
    if (!m) return mlp_raise(vm, "set_weights: m must be a model, got %s", mlp_type_name(a[0]));
    if (!std_model_build(vm, m, 0)) return false;
    int nl = rt_model_nlayers(m->m), li = -1;
    char ln[48];
    if (mlp_is_string(a[1])) {
        for (int i = 0; i < nl && li < 0; i++) {
            layer_name(m->m, i, ln, sizeof ln);
            if (strcmp(ln, mlp_cstr(a[1])) == 0) li = i;
        }
        if (li < 0) return mlp_raise(vm, "set_weights: the model has no layer '%s'", mlp_cstr(a[1]));
    } else {
        long i;
        if (!std_int_arg(vm, "set_weights", "layer", a[1], 0, nl - 1, &i)) return false;
        li = (int)i;
    }
    rt_layer *l = rt_model_layer(m->m, li);
    layer_name(m->m, li, ln, sizeof ln);
    /* a[2..]: the weights by name, nil where not given */
    float *staged[RT_LAYER_MAX_PARAMS] = { 0 };
    bool ok = true, any = false;
    for (int w = 0; ok && w < NWEIGHT_NAMES; w++) {
        if (mlp_is_nil(a[2 + w])) continue;
        any = true;
        int p = 0;
        while (p < l->nparams && strcmp(l->params[p].name, weight_names[w]) != 0) p++;
        if (p == l->nparams) {
            char have[128] = "";
            for (int q = 0; q < l->nparams; q++)
                snprintf(have + strlen(have), sizeof have - strlen(have), "%s%s", q ? ", " : "",
                         l->params[q].name);
            ok = mlp_raise(vm, "set_weights: layer %s has no weights '%s' (it has: %s)", ln,
                           weight_names[w], l->nparams ? have : "none");
            break;
        }
        char what[96];
        snprintf(what, sizeof what, "%s.%s", ln, l->params[p].name);
        staged[p] = malloc(sizeof(float) * (size_t)l->params[p].size);
        ok = staged[p] ? floats_into(vm, what, a[2 + w], staged[p], l->params[p].size)
                       : mlp_raise(vm, "set_weights: out of memory");
    }
    if (ok && !any) ok = mlp_raise(vm, "set_weights: name the weights to set, e.g. kernel=t");
    for (int p = 0; p < l->nparams; p++) {
        if (ok && staged[p])
            memcpy(l->params[p].w, staged[p], sizeof(float) * (size_t)l->params[p].size);
        free(staged[p]);
    }
    (void)n;
    (void)out;
    return ok;
}

static const mlp_native natives[] = {
    { "save_model", "m, path", n_save_model,
      "save_model(m, path): writes the model's layers and weights as a safetensors file" },
    { "load_model", "path", n_load_model,
      "load_model(path): the model a safetensors file from save_model describes, weights loaded" },
    { "set_weights", "m, layer, kernel=nil, bias=nil, gamma=nil, beta=nil, moving_mean=nil, "
      "moving_variance=nil", n_set_weights,
      "set_weights(m, layer, kernel=, bias=, ...): overwrites a layer's weights (layer: index "
      "into m.layers or a name like \"dense_1\")" },
};

bool std_open_persist(mlp_vm *vm)
{
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
