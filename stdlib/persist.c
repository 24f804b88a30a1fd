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
#include "layer_spec.h"
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

/* One spec as its JSON object: "kind", then every field the spec keeps,
 * under its key (layer_spec.h), a dense layer's activation parameters
 * after the activation; fields that omit zeros are left out when 0. */
json_t *std_spec_json(const rt_layer_spec *s)
{
    int nf;
    const rt_layer_field *fs = rt_layer_fields(s->kind, &nf);
    json_t *o = json_object();
    json_object_set_new(o, "kind", json_string(rt_layer_kind_name(s->kind)));
    for (int i = 0; i < nf; i++) {
        const rt_layer_field *f = &fs[i];
        if (f->offset < 0) continue;
        if (f->type == RT_LF_SHAPE ? rt_layer_field_shape(s, f)->ndim == 0
                                   : (f->flags & RT_LF_OMIT_ZERO) && rt_layer_field_get(s, f) == 0)
            continue;   /* a shape not given is unknown; zeros some fields leave out */
        switch (f->type) {
        case RT_LF_INT: json_object_set_new(o, f->key, json_integer((int)rt_layer_field_get(s, f))); break;
        case RT_LF_FLOAT: json_object_set_new(o, f->key, real((float)rt_layer_field_get(s, f))); break;
        case RT_LF_ACT: {
            const rt_act_info *info = rt_act_get((rt_act)rt_layer_field_get(s, f));
            json_object_set_new(o, f->key, json_string(info->name));
            /* the parameters given (NaN: the activation's default) by name */
            for (int k = 0; k < RT_ACT_MAX_PARAMS; k++)
                if (info->params[k].name && !isnan(s->act_params[k]))
                    json_object_set_new(o, info->params[k].name, real(s->act_params[k]));
            break;
        }
        case RT_LF_INIT:
            json_object_set_new(o, f->key, json_string(rt_init_name((rt_init)rt_layer_field_get(s, f))));
            break;
        case RT_LF_SHAPE: {
            json_t *d = json_array();
            const rt_shape *shape = rt_layer_field_shape(s, f);
            for (int k = 0; k < shape->ndim; k++) json_array_append_new(d, json_integer(shape->dims[k]));
            json_object_set_new(o, f->key, d);
            break;
        }
        case RT_LF_DIALECT: json_object_set_new(o, f->key, json_true()); break;
        }
    }
    return o;
}

/* The layer specs as JSON text (caller frees), or NULL + error. */
static char *specs_json(mlp_vm *vm, const char *fn, const std_model *m)
{
    json_t *list = json_array();
    for (int i = 0; list && i < m->nspecs; i++) {
        const rt_layer_spec *s = &m->specs[i];
        if (s->custom) {
            json_decref(list);
            mlp_raise(vm, "%s: layer %d uses the user-defined activation '%s', which a "
                      "file cannot hold (built-in activations only)", fn, i + 1, s->custom->name);
            return NULL;
        }
        json_array_append_new(list, std_spec_json(s));
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
            ts[k].shape = q->shape;
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

/* One field of layer i's JSON object o into s; false + message in err.
 * A missing key keeps the field's (Keras) default, or for a shape leaves
 * it unknown (so does an empty list, which earlier versions wrote for
 * flatten() without input= and then could not read); a required field
 * must be there. Numbers must lie in the field's range, as the
 * constructor checks them. */
static bool field_from_json(json_t *o, int i, const rt_layer_field *f, rt_layer_spec *s,
                            char *err, size_t size)
{
    const char *kind = rt_layer_kind_name(s->kind);
    json_t *v = json_object_get(o, f->key);
    if (!v && !(f->flags & RT_LF_REQUIRED)) return true;
    switch (f->type) {
    case RT_LF_INT: {
        json_int_t x = json_integer_value(v);
        if (!json_is_integer(v) || !rt_layer_field_in_range(f, (double)x)) break;
        rt_layer_field_set(s, f, (double)x);
        return true;
    }
    case RT_LF_FLOAT: {
        double x = json_number_value(v);
        if (!json_is_number(v)) break;
        if (!rt_layer_field_in_range(f, x))
            return snprintf(err, size, "layer %d (%s): %s must be %s, got %g", i + 1, kind, f->key,
                            f->range, x), false;
        rt_layer_field_set(s, f, x);
        return true;
    }
    case RT_LF_ACT: {
        const char *name = json_string_value(v);
        rt_act a;
        if (!name || !rt_act_from_name(name, &a))
            return snprintf(err, size, "layer %d (%s): unknown activation '%s'", i + 1, kind,
                            name ? name : "(none)"), false;
        rt_layer_field_set(s, f, a);
        for (int k = 0; k < RT_ACT_MAX_PARAMS; k++) {
            const char *pn = rt_act_get(a)->params[k].name;
            json_t *p = pn ? json_object_get(o, pn) : NULL;
            if (json_is_number(p)) s->act_params[k] = (float)json_number_value(p);
        }
        return true;
    }
    case RT_LF_INIT: {
        const char *name = json_string_value(v);
        rt_init init;
        if (!name || !rt_init_from_name(name, &init))
            return snprintf(err, size, "layer %d (%s): unknown init '%s'", i + 1, kind,
                            name ? name : "(none)"), false;
        rt_layer_field_set(s, f, init);
        return true;
    }
    case RT_LF_SHAPE: {
        rt_shape shape = { .ndim = (int)json_array_size(v) };
        if (!json_is_array(v) || shape.ndim > RT_MAX_DIMS) break;
        for (int k = 0; k < shape.ndim; k++) {
            json_t *d = json_array_get(v, (size_t)k);
            if (!json_is_integer(d) || !rt_layer_field_in_range(f, (double)json_integer_value(d)))
                return snprintf(err, size, "layer %d (%s): bad %s", i + 1, kind, f->key), false;
            shape.dims[k] = json_integer_value(d);
        }
        if ((double)rt_shape_size(&shape) > f->hi) break;
        rt_layer_field_set_shape(s, f, &shape);
        return true;
    }
    case RT_LF_DIALECT: rt_layer_field_set(s, f, json_is_true(v)); return true;
    }
    return snprintf(err, size, "layer %d (%s): bad %s", i + 1, kind, f->key), false;
}

bool std_spec_from_json(json_t *o, int i, rt_layer_spec *s, char *err, size_t size)
{
    const char *kind = json_string_value(json_object_get(o, "kind"));
    rt_layer_kind k;
    if (!kind) return snprintf(err, size, "layer %d has no kind", i + 1), false;
    if (!rt_layer_kind_from_name(kind, &k))
        return snprintf(err, size, "layer %d: unknown kind '%s'", i + 1, kind), false;
    int nf;
    const rt_layer_field *fs = rt_layer_fields(k, &nf);
    *s = rt_layer_spec_default(k, RT_DIALECT_KERAS);
    for (int j = 0; j < nf; j++)
        if (fs[j].offset >= 0 && !field_from_json(o, i, &fs[j], s, err, size)) return false;
    return true;
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
            if (!t)
                return mlp_raise(vm, "%s: %s has no tensor '%s' (the model's layers need it)", fn,
                                 path, name);
            if (!rt_shape_eq(&t->shape, &q->shape))
                return mlp_raise(vm, "%s: %s: tensor '%s' is %s, the model needs %s", fn, path,
                                 name, rt_shape_str(&t->shape, got, sizeof got),
                                 rt_shape_str(&q->shape, want, sizeof want));
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
        ok = std_spec_from_json(json_array_get(list, i), (int)i, &m->specs[i], msg, sizeof msg);
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
            /* a kernel [in, out], a bias or a batchnorm vector [out]: as in the file */
            mlp_record_set(vm, rec, q->name, std_tensor_of_shape(vm, copy, q->shape));
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
