/*
 * data.c — datasets and tensors as values, and the natives that make them:
 * mnist(), fashion_mnist(), load_csv(), the synthetic sets (one native per
 * row of the runtime's synth table), take/split/shuffle/normalize, and the
 * few tensor helpers a script needs (argmax, tolist).
 *
 * A dataset handle owns one rt_dataset (pixels stay uint8). `d.x` and `d.y`
 * are tensor views of it: they keep the dataset alive (mark) and copy
 * nothing. Operations never change a dataset: take, split, shuffle and
 * normalize return new ones, so a set shared by several sweep points stays
 * the same for all of them. Each operation is also a method:
 * `d.take(100)` is `take(d, 100)`.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "csv.h"
#include "idx.h"
#include "std.h"
#include "synth.h"
#include "tensor.h"

/* ---- tensors -------------------------------------------------------------- */

typedef enum { TENSOR_FLOAT, TENSOR_X, TENSOR_Y } tensor_kind;

typedef struct std_tensor {
    tensor_kind kind;
    float *data;          /* TENSOR_FLOAT: its values, row-major, rt_alloc'd, owned */
    rt_shape shape;       /* TENSOR_FLOAT: [n] or [rows, cols] */
    mlp_value source;     /* TENSOR_X / TENSOR_Y: the dataset handle viewed */
} std_tensor;

/* A float tensor as a matrix: [n] is one row of n values. */
static bool t_vector(const std_tensor *t) { return t->kind == TENSOR_FLOAT && t->shape.ndim == 1; }
static int64_t t_rows(const std_tensor *t) { return t->shape.ndim == 2 ? t->shape.dims[0] : 1; }
static int64_t t_cols(const std_tensor *t) { return t->shape.dims[t->shape.ndim - 1]; }

static void tensor_free(void *p)
{
    std_tensor *t = p;
    rt_free(t->data);
    free(t);
}

static void tensor_mark(mlp_vm *vm, void *p) { mlp_mark(vm, ((std_tensor *)p)->source); }

static const rt_dataset *tensor_dataset(const std_tensor *t)
{
    std_dataset *d = mlp_handle_data(t->source, &std_dataset_class);
    return d ? &d->ds : NULL;
}

/* The shape as a list: [rows, cols] or [n, dims...] for a view of x. */
static mlp_value tensor_shape(mlp_vm *vm, const std_tensor *t)
{
    mlp_value s = mlp_list_new(vm);
    mlp_push_root(vm, s);
    const rt_dataset *ds = tensor_dataset(t);
    if (t->kind == TENSOR_X) {
        mlp_list_push(vm, s, mlp_number((double)ds->n));
        for (int i = 0; i < ds->shape.ndim; i++) mlp_list_push(vm, s, mlp_number((double)ds->shape.dims[i]));
    } else if (t->kind == TENSOR_Y) {
        mlp_list_push(vm, s, mlp_number((double)ds->n));
        mlp_list_push(vm, s, mlp_number(ds->targets ? ds->outputs : ds->classes));
    } else {
        for (int i = 0; i < t->shape.ndim; i++) mlp_list_push(vm, s, mlp_number((double)t->shape.dims[i]));
    }
    mlp_pop_root(vm);
    return s;
}

static bool tensor_get(mlp_vm *vm, mlp_value self, void *p, const char *field, mlp_value *out)
{
    if (strcmp(field, "shape") == 0) { *out = tensor_shape(vm, p); return true; }
    return mlp_raise(vm, "tensor has no field '%s' (shape)", field);
}

static mlp_value tensor_tostring(mlp_vm *vm, void *p)
{
    const std_tensor *t = p;
    mlp_value shape = tensor_shape(vm, t);
    mlp_push_root(vm, shape);
    mlp_value s = mlp_tostring(vm, shape);
    char buf[160];
    snprintf(buf, sizeof buf, "<tensor %s%s>", mlp_cstr(s),
             t->kind == TENSOR_X && tensor_dataset(t)->x_u8 ? " of bytes scaled to [0, 1]"
             : t->kind == TENSOR_Y && !tensor_dataset(t)->targets ? " one-hot" : "");
    mlp_pop_root(vm);
    return mlp_string_cstr(vm, buf);
}

/* The values for C code (an extern's `tensor` parameter): a float tensor
 * lends its own storage; the views of a dataset are copies (pixels scaled,
 * labels one-hot), since datasets never change. */
static bool tensor_floats(mlp_vm *vm, void *p, mlp_floats *out)
{
    const std_tensor *t = p;
    if (t->kind == TENSOR_FLOAT) {
        *out = (mlp_floats){ t->data, rt_shape_size(&t->shape), false };
        return true;
    }
    const rt_dataset *ds = tensor_dataset(t);
    int64_t cols = t->kind == TENSOR_Y ? (ds->targets ? ds->outputs : ds->classes) : ds->features,
            len = ds->n * cols;
    float *c = malloc((size_t)(len ? len : 1) * sizeof *c);
    if (!c) return mlp_raise(vm, "out of memory copying a %lld-value tensor", (long long)len);
    for (int64_t i = 0; i < len; i++)
        c[i] = t->kind == TENSOR_Y && ds->targets ? ds->targets[i]
             : t->kind == TENSOR_Y ? (float)(ds->labels && ds->labels[i / cols] == i % cols)
             : ds->x_u8 ? ds->x_u8[i] * ds->x_scale : ds->x_f32[i];
    *out = (mlp_floats){ c, len, true };
    return true;
}

static bool tensor_len(mlp_vm *vm, void *p, int64_t *out);
static bool tensor_index(mlp_vm *vm, mlp_value self, void *p, mlp_value i, mlp_value *out);
static bool tensor_arith(mlp_vm *vm, int op, mlp_value a, mlp_value b, mlp_value *out);

const mlp_class std_tensor_class = {
    .name = "tensor", .free = tensor_free, .mark = tensor_mark, .get = tensor_get,
    .tostring = tensor_tostring, .fields = "shape", .floats = tensor_floats,
    .len = tensor_len, .index = tensor_index, .arith = tensor_arith,
};

static mlp_value tensor_new(mlp_vm *vm, std_tensor t)
{
    std_tensor *p = malloc(sizeof *p);
    if (!p) { rt_free(t.data); mlp_raise(vm, "out of memory"); return mlp_nil(); }
    *p = t;
    return mlp_handle(vm, &std_tensor_class, p);
}

mlp_value std_tensor_value(mlp_vm *vm, float *data, int rows, int cols)
{
    return std_tensor_of_shape(vm, data, rt_shape_2d(rows, cols));
}

mlp_value std_tensor_of_shape(mlp_vm *vm, float *data, rt_shape shape)
{
    return tensor_new(vm, (std_tensor){ TENSOR_FLOAT, data, shape, mlp_nil() });
}

/* The rows of x for predict(): a dataset's own x (no copy) or a copy of a
 * float tensor or a list of rows into *tmp. */
bool std_tensor_dataset(mlp_vm *vm, const char *fn, mlp_value v, rt_dataset *tmp,
                        const rt_dataset **out)
{
    const std_tensor *t = mlp_handle_data(v, &std_tensor_class);
    if (t && t->kind == TENSOR_X) { *out = tensor_dataset(t); return true; }
    int64_t rows, cols;
    if (t && t->kind == TENSOR_Y)
        return mlp_raise(vm, "%s: x must be inputs (a dataset's .x), not its labels (.y)", fn);
    if (t) { rows = t_rows(t); cols = t_cols(t); }
    else if (mlp_is_list(v) && mlp_list_len(v) > 0 && mlp_is_list(mlp_list_get(v, 0))) {
        rows = (int64_t)mlp_list_len(v);
        cols = (int64_t)mlp_list_len(mlp_list_get(v, 0));
    } else if (mlp_is_list(v)) {
        return mlp_raise(vm, "%s: x must be a dataset, its .x, a tensor or a list of rows, got %s "
                         "(one example is a list of one row: [[1, 2]])", fn,
                         mlp_list_len(v) ? "a list of numbers, not of rows" : "an empty list");
    } else {
        return mlp_raise(vm, "%s: x must be a dataset, its .x, a tensor or a list of rows, got %s",
                         fn, mlp_type_name(v));
    }
    rt_error err;
    if (!rt_dataset_alloc(tmp, rows, &(rt_shape){ 1, { cols } }, false, 0, 0, &err))
        return mlp_raise(vm, "%s: %s", fn, err.msg);
    for (int64_t r = 0; r < rows; r++) {
        mlp_value row = t ? mlp_nil() : mlp_list_get(v, (size_t)r);
        if (!t && (!mlp_is_list(row) || (int64_t)mlp_list_len(row) != cols))
            return mlp_raise(vm, "%s: row %lld of x is not a list of %lld numbers", fn,
                             (long long)r, (long long)cols);
        for (int64_t c = 0; c < cols; c++) {
            double x;
            if (t) x = t->data[r * cols + c];
            else if (!std_num_arg(vm, fn, "x", mlp_list_get(row, (size_t)c), &x)) return false;
            tmp->x_f32[r * cols + c] = (float)x;
        }
    }
    *out = tmp;
    return true;
}

/* ---- datasets --------------------------------------------------------------- */

static void dataset_free(void *p)
{
    std_dataset *d = p;
    rt_dataset_free(&d->ds);
    free(d);
}

mlp_value std_dataset_value(mlp_vm *vm, rt_dataset *ds)
{
    std_dataset *d = malloc(sizeof *d);
    if (!d) { rt_dataset_free(ds); mlp_raise(vm, "out of memory"); return mlp_nil(); }
    d->ds = *ds;
    memset(ds, 0, sizeof *ds);
    return mlp_handle(vm, &std_dataset_class, d);
}

static const char *const methods[] = { "take", "split", "shuffle", "normalize" };

static bool dataset_get(mlp_vm *vm, mlp_value self, void *p, const char *field, mlp_value *out);

static mlp_value dataset_tostring(mlp_vm *vm, void *p)
{
    const rt_dataset *ds = &((std_dataset *)p)->ds;
    char buf[200], shape[64];
    rt_shape_str(&ds->shape, shape, sizeof shape);
    if (ds->targets)
        snprintf(buf, sizeof buf, "<dataset: %lld example%s of %s, %d target%s>",
                 (long long)ds->n, ds->n == 1 ? "" : "s", shape, ds->outputs,
                 ds->outputs == 1 ? "" : "s");
    else
        snprintf(buf, sizeof buf, "<dataset: %lld example%s of %s%s, %d class%s>", (long long)ds->n,
                 ds->n == 1 ? "" : "s", shape, ds->x_u8 ? " bytes" : "", ds->classes,
                 ds->classes == 1 ? "" : "es");
    return mlp_string_cstr(vm, buf);
}

const mlp_class std_dataset_class = {
    .name = "dataset", .free = dataset_free, .get = dataset_get, .tostring = dataset_tostring,
    .fields = "x, y, n, labels, features, classes, take, split, shuffle, normalize",
};

/* ---- methods: d.take(100) --------------------------------------------------- */

static void method_mark(mlp_vm *vm, void *p)
{
    std_method *m = p;
    mlp_mark(vm, m->self);
    mlp_mark(vm, m->fn);
}

static bool method_call(mlp_vm *vm, void *p, mlp_value *args, int nargs, mlp_value kwargs,
                        mlp_value *out)
{
    std_method *m = p;
    mlp_value argv[8];
    if (nargs > 7) return mlp_raise(vm, "too many arguments");
    argv[0] = m->self;
    for (int i = 0; i < nargs; i++) argv[i + 1] = args[i];
    return mlp_call(vm, m->fn, nargs + 1, argv, kwargs, out);
}

const mlp_class std_method_class = { .name = "method", .free = free, .mark = method_mark,
                                     .call = method_call };

static bool dataset_get(mlp_vm *vm, mlp_value self, void *p, const char *field, mlp_value *out)
{
    const rt_dataset *ds = &((std_dataset *)p)->ds;
    if (strcmp(field, "x") == 0 || strcmp(field, "y") == 0) {
        *out = tensor_new(vm, (std_tensor){ field[0] == 'x' ? TENSOR_X : TENSOR_Y, NULL, { 0 },
                                            self });
    } else if (strcmp(field, "n") == 0) {
        *out = mlp_number((double)ds->n);
    } else if (strcmp(field, "labels") == 0) {
        *out = mlp_list_new(vm);
        mlp_push_root(vm, *out);   /* a get hook's *out is not rooted */
        for (int64_t i = 0; ds->labels && i < ds->n; i++)
            mlp_list_push(vm, *out, mlp_number(ds->labels[i]));
        mlp_pop_root(vm);
    } else if (strcmp(field, "features") == 0) {
        *out = mlp_number((double)ds->features);
    } else if (strcmp(field, "classes") == 0) {
        *out = mlp_list_new(vm);
        mlp_push_root(vm, *out);
        for (int i = 0; i < ds->classes; i++) {
            char num[16];
            snprintf(num, sizeof num, "%d", i);
            const char *name = ds->class_names ? ds->class_names[i] : num;
            mlp_list_push(vm, *out, mlp_string_cstr(vm, name));
        }
        mlp_pop_root(vm);
    } else {
        for (size_t i = 0; i < sizeof methods / sizeof methods[0]; i++) {
            if (strcmp(field, methods[i]) != 0) continue;
            std_method *m = malloc(sizeof *m);
            if (!m) return mlp_raise(vm, "out of memory");
            m->self = self;
            m->fn = mlp_nil();
            *out = mlp_handle(vm, &std_method_class, m);
            mlp_get_global(vm, methods[i], &m->fn);
            return true;
        }
        return mlp_raise(vm, "dataset has no field '%s' (x, y, n, labels, features, classes, take, "
                         "split, shuffle, normalize)", field);
    }
    return true;
}

/* ---- natives ---------------------------------------------------------------- */

static const rt_dataset *dataset_arg(mlp_vm *vm, const char *fn, mlp_value v)
{
    std_dataset *d = mlp_handle_data(v, &std_dataset_class);
    if (!d) {
        mlp_raise(vm, "%s: data must be a dataset, got %s", fn, mlp_type_name(v));
        return NULL;
    }
    return &d->ds;
}

/* A runtime error as this native's error. The data runtime names the
 * operation itself ("split: ...", "moons: ...", "mnist: ..."), with the
 * same name the script called, so fn goes in front only of a message that
 * does not already start with it (or with alt, the set's own name). */
static bool raise_rt(mlp_vm *vm, const char *fn, const char *alt, const rt_error *err)
{
    const char *names[2] = { fn, alt };
    for (int i = 0; i < 2; i++) {
        size_t n = names[i] ? strlen(names[i]) : 0;
        if (n && strncmp(err->msg, names[i], n) == 0 && (err->msg[n] == ':' || err->msg[n] == ' '))
            return mlp_raise(vm, "%s", err->msg);
    }
    return mlp_raise(vm, "%s: %s", fn, err->msg);
}

/* {train: ..., test: ..., classes: [...]} from two loaded parts. */
static bool train_test_record(mlp_vm *vm, rt_dataset *train, rt_dataset *test, mlp_value *out)
{
    *out = mlp_record_new(vm);
    mlp_value v = std_dataset_value(vm, train);
    if (mlp_is_nil(v)) { rt_dataset_free(test); return false; }
    mlp_record_set(vm, *out, "train", v);
    v = std_dataset_value(vm, test);
    if (mlp_is_nil(v)) return false;
    mlp_record_set(vm, *out, "test", v);
    mlp_value classes;
    if (!dataset_get(vm, v, mlp_handle_data(v, &std_dataset_class), "classes", &classes))
        return false;
    mlp_record_set(vm, *out, "classes", classes);
    return true;
}

/* Polled by a download: Ctrl-C stops it. */
static bool download_cancelled(void *vm)
{
    return mlp_interrupted(vm);
}

/* rt_mnist_load, with downloads that Ctrl-C can stop. */
static bool load_set(mlp_vm *vm, const char *kind, rt_dataset *train, rt_dataset *test,
                     rt_error *err)
{
    const rt_idxset *set = rt_idxset_lookup(kind);
    if (!set) return rt_mnist_load(kind, train, test, err);
    rt_datapath dp;
    if (!rt_datapath_from_env(&dp, err)) return false;
    dp.download.cancelled = download_cancelled;
    dp.download.cancel_ctx = vm;
    bool ok = rt_idxset_load(set, &dp, train, test, err);
    rt_datapath_free(&dp);
    if (!ok && mlp_interrupted(vm)) return rt_fail(err, "interrupted");
    return ok;
}

static bool load_idxset(mlp_vm *vm, const char *fn, const char *kind, mlp_value *out)
{
    rt_dataset train = {0}, test = {0};
    rt_error err;
    if (!load_set(vm, kind, &train, &test, &err)) return raise_rt(vm, fn, kind, &err);
    return train_test_record(vm, &train, &test, out);
}

static bool n_mnist(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    return load_idxset(vm, "mnist", "mnist", out);
}

static bool n_fashion_mnist(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    return load_idxset(vm, "fashion_mnist", "fashion-mnist", out);
}

static bool n_load_csv(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const char *path, *label = NULL, *labels = "auto", *task;
    if (!std_str_arg(vm, "load_csv", "path", a[0], &path) ||
        (!mlp_is_nil(a[1]) && !std_str_arg(vm, "load_csv", "label", a[1], &label)) ||
        (!mlp_is_nil(a[2]) && !std_str_arg(vm, "load_csv", "labels", a[2], &labels)) ||
        !std_str_arg(vm, "load_csv", "task", a[3], &task))
        return false;
    bool regression = strcmp(task, "regression") == 0;
    if (!regression && strcmp(task, "classification") != 0)
        return mlp_raise(vm, "load_csv: task must be \"classification\" or \"regression\", got \"%s\"",
                         task);
    static const char *const modes[] = { "auto", "index", "names" };
    int mode = -1;
    for (int i = 0; i < 3; i++)
        if (strcmp(labels, modes[i]) == 0) mode = i;
    if (mode < 0)
        return mlp_raise(vm, "load_csv: labels must be \"auto\", \"index\" or \"names\", "
                         "got \"%s\"", labels);
    if (mode != 0 && !label)
        return mlp_raise(vm, "load_csv: labels=\"%s\" needs label= (the label column)", labels);
    if (mode != 0 && regression)
        return mlp_raise(vm, "load_csv: labels= is for classes; task=\"regression\" reads real-valued "
                         "targets");
    _Static_assert(RT_CSV_LABELS_AUTO == 0 && RT_CSV_LABELS_INDEX == 1 &&
                   RT_CSV_LABELS_NAMES == 2, "modes[] follows rt_csv_labels");
    rt_dataset ds = {0};
    rt_error err;
    if (!(regression ? rt_csv_load_regression(path, label, &ds, &err)
                     : rt_csv_load_labels(path, label, (rt_csv_labels)mode, &ds, &err)))
        return mlp_raise(vm, "load_csv: %s", err.msg);
    *out = std_dataset_value(vm, &ds);
    return !mlp_is_nil(*out);
}

/* One native for every synthetic kind: the kind is the native's own name,
 * found from the table below by the function pointer's row. */
static bool synth(mlp_vm *vm, const char *kind, mlp_value *a, mlp_value *out)
{
    long size, classes, seed;
    double noise;
    if (!std_int_arg(vm, kind, "n", a[0], 1, 1L << 28, &size) ||
        !std_int_arg(vm, kind, "classes", a[1], 2, 1000, &classes) ||
        !std_num_arg(vm, kind, "noise", a[2], &noise))
        return false;
    /* The runtime reads a negative noise as "the default"; a script that
     * writes noise=-1 made a mistake. */
    if (!(noise >= 0))
        return mlp_raise(vm, "%s: noise must be a finite number >= 0, got %g", kind, noise);
    if (mlp_is_nil(a[3])) {   /* no seed given: draw one from the script's seed */
        rt_rng *r = &std_host_of(vm)->rnd.shuffle;
        seed = (long)(rt_rng_u32(r) >> 1);
    } else if (!std_int_arg(vm, kind, "seed", a[3], 0, __LONG_MAX__, &seed)) {
        return false;
    }
    rt_dataset ds = {0};
    rt_error err;
    if (!rt_synth(kind, size, (int)classes, noise, (uint64_t)seed, &ds, &err))
        return raise_rt(vm, kind, NULL, &err);
    *out = std_dataset_value(vm, &ds);
    return !mlp_is_nil(*out);
}

/* sine(n, noise, seed): the regression set (synth.h). */
static bool n_sine(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    long size, seed;
    double noise;
    if (!std_int_arg(vm, "sine", "n", a[0], 1, 1L << 28, &size) ||
        !std_num_arg(vm, "sine", "noise", a[1], &noise))
        return false;
    if (!(noise >= 0)) return mlp_raise(vm, "sine: noise must be 0 or more, got %g", noise);
    if (mlp_is_nil(a[2])) {   /* as the other synthetic sets */
        rt_rng *r = &std_host_of(vm)->rnd.shuffle;
        seed = (long)(rt_rng_u32(r) >> 1);
    } else if (!std_int_arg(vm, "sine", "seed", a[2], 0, __LONG_MAX__, &seed)) {
        return false;
    }
    rt_dataset ds = {0};
    rt_error err;
    if (!rt_synth_sine(size, noise, (uint64_t)seed, &ds, &err))
        return mlp_raise(vm, "sine: %s", err.msg);
    *out = std_dataset_value(vm, &ds);
    return !mlp_is_nil(*out);
}

#define SYNTH_NATIVE(name) \
    static bool n_##name(mlp_vm *vm, mlp_value *a, int n, mlp_value *out) \
    { return synth(vm, #name, a, out); }
SYNTH_NATIVE(blobs)
SYNTH_NATIVE(spirals)
SYNTH_NATIVE(moons)
SYNTH_NATIVE(xor)
SYNTH_NATIVE(circles)

static bool n_take(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const rt_dataset *ds = dataset_arg(vm, "take", a[0]);
    long k;
    if (!ds || !std_int_arg(vm, "take", "n", a[1], 1, (long)ds->n, &k)) return false;
    rt_dataset part = {0};
    rt_error err;
    if (!rt_dataset_take(ds, k, &part, &err)) return raise_rt(vm, "take", NULL, &err);
    *out = std_dataset_value(vm, &part);
    return !mlp_is_nil(*out);
}

/* split and argmax are also core builtins for strings and lists
 * (lang/vm/builtins_*.c). The core native is kept as the builtin
 * "__core_NAME" before this file's table replaces the name, and is called
 * for the arguments that are not this file's. */
static void keep_core(mlp_vm *vm, const char *name)
{
    mlp_value f;
    char hidden[64];
    snprintf(hidden, sizeof hidden, "__core_%s", name);
    if (mlp_get_global(vm, name, &f)) mlp_set_global(vm, hidden, f);
}

static bool call_core(mlp_vm *vm, const char *name, mlp_value *args, int n, mlp_value *out)
{
    mlp_value f;
    char hidden[64];
    snprintf(hidden, sizeof hidden, "__core_%s", name);
    if (!mlp_get_global(vm, hidden, &f)) return mlp_raise(vm, "%s: no core builtin", name);
    return mlp_call(vm, f, n, args, mlp_nil(), out);
}

/* split(d, 0.8) -> {train: first 80%, test: the rest}; split(s, sep) of a
 * string is the core's */
static bool n_split(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    if (mlp_is_string(a[0])) {
        mlp_value args[2] = { a[0], mlp_is_nil(a[2]) ? a[1] : a[2] };
        return call_core(vm, "split", args, 2, out);
    }
    const rt_dataset *ds = dataset_arg(vm, "split", a[0]);
    double f;
    if (!ds || !std_num_arg(vm, "split", "fraction", a[1], &f)) return false;
    if (!(f > 0 && f < 1)) return mlp_raise(vm, "split: fraction must be in (0, 1), got %g", f);
    rt_dataset x = {0}, y = {0};
    rt_error err;
    if (!rt_dataset_split(ds, f, &x, &y, &err)) return raise_rt(vm, "split", NULL, &err);
    return train_test_record(vm, &x, &y, out);
}

static bool n_shuffle(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const rt_dataset *ds = dataset_arg(vm, "shuffle", a[0]);
    long seed;
    if (!ds || !std_int_arg(vm, "shuffle", "seed", a[1], 0, __LONG_MAX__, &seed)) return false;
    rt_dataset copy = {0};
    rt_error err;
    if (!rt_dataset_take(ds, ds->n, &copy, &err) || !rt_dataset_shuffle(&copy, (uint64_t)seed, &err)) {
        rt_dataset_free(&copy);
        return raise_rt(vm, "shuffle", NULL, &err);
    }
    *out = std_dataset_value(vm, &copy);
    return !mlp_is_nil(*out);
}

/* normalize(d): a dataset standardised by its own statistics, or a
 * {train, test} record standardised by the training part's. */
static bool n_normalize(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    mlp_value trv = a[0], tev = mlp_nil();
    if (mlp_is_record(a[0])) {
        if (!mlp_record_get(a[0], "train", &trv))
            return mlp_raise(vm, "normalize: the record has no 'train' dataset");
        mlp_record_get(a[0], "test", &tev);
    }
    const rt_dataset *tr = dataset_arg(vm, "normalize", trv);
    const rt_dataset *te = mlp_is_nil(tev) ? NULL : dataset_arg(vm, "normalize", tev);
    if (!tr || (!mlp_is_nil(tev) && !te)) return false;
    rt_dataset x = {0}, y = {0};
    rt_error err;
    if (!rt_dataset_take(tr, tr->n, &x, &err) || (te && !rt_dataset_take(te, te->n, &y, &err)) ||
        !rt_dataset_normalize(&x, te ? &y : NULL, &err)) {
        rt_dataset_free(&x);
        rt_dataset_free(&y);
        return raise_rt(vm, "normalize", NULL, &err);
    }
    if (!mlp_is_record(a[0])) {
        *out = std_dataset_value(vm, &x);
        return !mlp_is_nil(*out);
    }
    return train_test_record(vm, &x, &y, out);
}

/* ---- tensors as values: t[i], len, for, + - * /, sum, mean, argmax ---- */

/* Shape and values of any tensor kind; *data is t's own storage (*owned
 * false) or an rt_alloc'd copy the caller frees (views of a dataset). */
static bool tensor_values(mlp_vm *vm, const std_tensor *t, float **data, int64_t *rows,
                          int64_t *cols, bool *owned)
{
    if (t->kind == TENSOR_FLOAT) {
        *data = t->data, *rows = t_rows(t), *cols = t_cols(t), *owned = false;
        return true;
    }
    const rt_dataset *ds = tensor_dataset(t);
    *rows = ds->n;
    *cols = t->kind == TENSOR_Y ? ds->classes : ds->features;
    float *c = rt_alloc((size_t)(*rows * *cols > 0 ? *rows * *cols : 1) * sizeof *c);
    if (!c) return mlp_raise(vm, "out of memory copying a tensor");
    for (int64_t i = 0; i < *rows * *cols; i++)
        c[i] = t->kind == TENSOR_Y ? (float)(ds->labels && ds->labels[i / *cols] == i % *cols)
             : ds->x_u8 ? ds->x_u8[i] * ds->x_scale : ds->x_f32[i];
    *data = c, *owned = true;
    return true;
}

static mlp_value tensor_of(mlp_vm *vm, float *data, int64_t rows, int64_t cols, bool vector)
{
    rt_shape shape = vector ? rt_shape_1d(cols) : rt_shape_2d(rows, cols);
    return tensor_new(vm, (std_tensor){ TENSOR_FLOAT, data, shape, mlp_nil() });
}

static bool tensor_len(mlp_vm *vm, void *p, int64_t *out)
{
    const std_tensor *t = p;
    if (t->kind != TENSOR_FLOAT) *out = tensor_dataset(t)->n;
    else *out = t->shape.dims[0];
    return true;
}

/* t[i]: a row (a 1-D tensor, a copy) of a 2-D tensor, a number of a 1-D one. */
static bool tensor_index(mlp_vm *vm, mlp_value self, void *p, mlp_value iv, mlp_value *out)
{
    const std_tensor *t = p;
    int64_t n;
    tensor_len(vm, p, &n);
    if (!mlp_is_number(iv) || mlp_as_number(iv) != floor(mlp_as_number(iv)))
        return mlp_raise(vm, "a tensor index must be an integer, got %s", mlp_type_name(iv));
    double d = mlp_as_number(iv);
    if (d < 0) d += (double)n;
    if (d < 0 || d >= (double)n)
        return mlp_raise(vm, "index %g out of range for a tensor of length %lld", mlp_as_number(iv),
                         (long long)n);
    int64_t i = (int64_t)d;
    if (t_vector(t)) {
        *out = mlp_number(t->data[i]);
        return true;
    }
    int64_t cols = t->kind == TENSOR_FLOAT ? t_cols(t)
                 : t->kind == TENSOR_Y ? tensor_dataset(t)->classes : tensor_dataset(t)->features;
    float *row = rt_alloc((size_t)(cols ? cols : 1) * sizeof *row);
    if (!row) return mlp_raise(vm, "out of memory");
    if (t->kind == TENSOR_FLOAT) {
        memcpy(row, t->data + i * cols, (size_t)cols * sizeof *row);
    } else {
        const rt_dataset *ds = tensor_dataset(t);
        for (int64_t c = 0; c < cols; c++)
            row[c] = t->kind == TENSOR_Y ? (float)(ds->labels && ds->labels[i] == c)
                   : ds->x_u8 ? ds->x_u8[i * cols + c] * ds->x_scale : ds->x_f32[i * cols + c];
    }
    *out = tensor_of(vm, row, 1, cols, true);
    return !mlp_is_nil(*out);
}

static const char *shape_text(const std_tensor *t, int64_t rows, int64_t cols, char buf[64])
{
    if (t_vector(t)) snprintf(buf, 64, "[%lld]", (long long)cols);
    else snprintf(buf, 64, "[%lld, %lld]", (long long)rows, (long long)cols);
    return buf;
}

/* a op b, elementwise, in float: tensor with tensor of the same shape, or
 * with a number on either side. */
static bool tensor_arith(mlp_vm *vm, int op, mlp_value a, mlp_value b, mlp_value *out)
{
    const std_tensor *ta = mlp_handle_data(a, &std_tensor_class);
    const std_tensor *tb = mlp_handle_data(b, &std_tensor_class);
    if ((!ta && !mlp_is_number(a)) || (!tb && !mlp_is_number(b)))
        return mlp_raise(vm, "cannot apply '%c' to %s and %s (a tensor takes numbers and tensors of its shape)",
                         op, mlp_type_name(a), mlp_type_name(b));
    float *da = NULL, *db = NULL;
    int64_t ra = 0, ca = 0, rb = 0, cb = 0;
    bool oa = false, ob = false;
    if (ta && !tensor_values(vm, ta, &da, &ra, &ca, &oa)) return false;
    if (tb && !tensor_values(vm, tb, &db, &rb, &cb, &ob)) {
        if (oa) rt_free(da);
        return false;
    }
    const std_tensor *shape = ta ? ta : tb;
    int64_t rows = ta ? ra : rb, cols = ta ? ca : cb;
    bool ok = true;
    if (ta && tb && (ra != rb || ca != cb || t_vector(ta) != t_vector(tb))) {
        char s1[64], s2[64];
        ok = mlp_raise(vm, "tensor shapes differ: %s %c %s", shape_text(ta, ra, ca, s1), op,
                       shape_text(tb, rb, cb, s2));
    }
    float *r = ok ? rt_alloc((size_t)(rows * cols > 0 ? rows * cols : 1) * sizeof *r) : NULL;
    if (ok && !r) ok = mlp_raise(vm, "out of memory");
    if (ok) {
        float ka = ta ? 0 : (float)mlp_as_number(a), kb = tb ? 0 : (float)mlp_as_number(b);
        for (int64_t i = 0; i < rows * cols; i++) {
            float x = ta ? da[i] : ka, y = tb ? db[i] : kb;
            r[i] = op == '+' ? x + y : op == '-' ? x - y : op == '*' ? x * y : x / y;
        }
    }
    if (oa) rt_free(da);
    if (ob) rt_free(db);
    if (!ok) return false;
    *out = tensor_of(vm, r, rows, cols, t_vector(shape));
    return !mlp_is_nil(*out);
}

/* sum/mean/argmax of a tensor: axis nil (all values; argmax of a 2-D
 * tensor: each row's), 0 (down the columns) or 1 (along each row). */
typedef enum { RED_SUM, RED_MEAN, RED_ARGMAX } reduce_kind;

static bool tensor_reduce(mlp_vm *vm, const char *fn, reduce_kind k, mlp_value x, mlp_value axis,
                          mlp_value *out)
{
    const std_tensor *t = mlp_handle_data(x, &std_tensor_class);
    if (!t) return mlp_raise(vm, "%s: x must be a list or a tensor, got %s", fn, mlp_type_name(x));
    bool vector = t_vector(t);
    int ax = -1;
    if (!mlp_is_nil(axis)) {
        if (!mlp_is_number(axis) || (mlp_as_number(axis) != 0 && mlp_as_number(axis) != 1) ||
            (vector && mlp_as_number(axis) != 0))
            return mlp_raise(vm, "%s: argument 'axis' must be nil, 0 or 1 (0 for a 1-D tensor)", fn);
        ax = (int)mlp_as_number(axis);
    }
    if (vector) ax = -1;
    else if (k == RED_ARGMAX && ax < 0) ax = 1;
    float *d;
    int64_t rows, cols;
    bool owned;
    if (!tensor_values(vm, t, &d, &rows, &cols, &owned)) return false;
    if (ax < 0) {
        int64_t n = rows * cols, best = 0;
        double s = 0;
        for (int64_t i = 0; i < n; i++) {
            s += d[i];
            if (d[i] > d[best]) best = i;
        }
        if (owned) rt_free(d);
        if (n == 0 && k != RED_SUM) return mlp_raise(vm, "%s: the tensor is empty", fn);
        *out = mlp_number(k == RED_SUM ? s : k == RED_MEAN ? s / (double)n : (double)best);
        return true;
    }
    int64_t outer = ax == 1 ? rows : cols, inner = ax == 1 ? cols : rows;
    if (inner == 0 && k != RED_SUM) {
        if (owned) rt_free(d);
        return mlp_raise(vm, "%s: the tensor is empty along axis %d", fn, ax);
    }
    if (k == RED_ARGMAX) { /* a list of indexes, as argmax has always given */
        *out = mlp_list_new(vm);
        for (int64_t o = 0; o < outer; o++) {
            int64_t best = 0;
            for (int64_t i = 1; i < inner; i++) {
                float v = ax == 1 ? d[o * cols + i] : d[i * cols + o];
                float bv = ax == 1 ? d[o * cols + best] : d[best * cols + o];
                if (v > bv) best = i;
            }
            mlp_list_push(vm, *out, mlp_number((double)best));
        }
        if (owned) rt_free(d);
        return true;
    }
    float *r = rt_alloc((size_t)(outer ? outer : 1) * sizeof *r);
    if (!r) {
        if (owned) rt_free(d);
        return mlp_raise(vm, "out of memory");
    }
    for (int64_t o = 0; o < outer; o++) {
        double s = 0;
        for (int64_t i = 0; i < inner; i++) s += ax == 1 ? d[o * cols + i] : d[i * cols + o];
        r[o] = (float)(k == RED_MEAN ? s / (double)inner : s);
    }
    if (owned) rt_free(d);
    *out = tensor_of(vm, r, 1, outer, true);
    return !mlp_is_nil(*out);
}

static bool tensor_argmax(mlp_vm *vm, mlp_value x, mlp_value axis, mlp_value *out)
{
    return tensor_reduce(vm, "argmax", RED_ARGMAX, x, axis, out);
}

/* tensor(xs): a float tensor from a list of numbers (1-D) or of rows */
static bool n_tensor(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    if (mlp_handle_data(a[0], &std_tensor_class)) { /* a float copy */
        const std_tensor *t = mlp_handle_data(a[0], &std_tensor_class);
        float *d;
        int64_t rows, cols;
        bool owned;
        if (!tensor_values(vm, t, &d, &rows, &cols, &owned)) return false;
        float *c = owned ? d : rt_alloc((size_t)(rows * cols > 0 ? rows * cols : 1) * sizeof *c);
        if (!c) return mlp_raise(vm, "out of memory");
        if (!owned) memcpy(c, d, (size_t)(rows * cols) * sizeof *c);
        *out = tensor_of(vm, c, rows, cols, t_vector(t));
        return !mlp_is_nil(*out);
    }
    if (!mlp_is_list(a[0]))
        return mlp_raise(vm, "tensor: argument 'xs' must be a list of numbers or of rows, got %s",
                         mlp_type_name(a[0]));
    size_t rows = mlp_list_len(a[0]);
    bool vector = rows == 0 || !mlp_is_list(mlp_list_get(a[0], 0));
    size_t cols = vector ? rows : mlp_list_len(mlp_list_get(a[0], 0));
    if (vector) rows = 1;
    if ((double)rows * (double)cols > 1e9) return mlp_raise(vm, "tensor: too many values");
    float *d = rt_alloc((rows * cols > 0 ? rows * cols : 1) * sizeof *d);
    if (!d) return mlp_raise(vm, "out of memory");
    for (size_t r = 0; r < rows; r++) {
        mlp_value row = vector ? a[0] : mlp_list_get(a[0], r);
        if (!mlp_is_list(row) || mlp_list_len(row) != cols) {
            rt_free(d);
            return mlp_raise(vm, "tensor: row %zu is not a list of %zu numbers", r, cols);
        }
        for (size_t c = 0; c < cols; c++) {
            mlp_value v = mlp_list_get(row, c);
            if (!mlp_is_number(v)) {
                rt_free(d);
                return vector ? mlp_raise(vm, "tensor: element %zu is a %s, not a number", c, mlp_type_name(v))
                              : mlp_raise(vm, "tensor: element [%zu][%zu] is a %s, not a number", r, c, mlp_type_name(v));
            }
            d[r * cols + c] = (float)mlp_as_number(v);
        }
    }
    *out = tensor_of(vm, d, (int64_t)rows, (int64_t)cols, vector);
    return !mlp_is_nil(*out);
}

/* sum(xs, start=0, axis=nil): lists and ranges are the core's */
static bool n_sum(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    if (!mlp_handle_data(a[0], &std_tensor_class)) return call_core(vm, "sum", a, 2, out);
    if (!mlp_is_number(a[1]))
        return mlp_raise(vm, "sum: argument 'start' must be a number, got %s", mlp_type_name(a[1]));
    if (!tensor_reduce(vm, "sum", RED_SUM, a[0], a[2], out)) return false;
    if (mlp_as_number(a[1]) == 0) return true;
    if (mlp_is_number(*out)) {
        *out = mlp_number(mlp_as_number(*out) + mlp_as_number(a[1]));
        return true;
    }
    return tensor_arith(vm, '+', *out, a[1], out);
}

/* mean(xs, axis=nil): of a list of numbers, or of a tensor */
static bool n_mean(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    if (mlp_is_list(a[0])) {
        size_t len = mlp_list_len(a[0]);
        if (len == 0) return mlp_raise(vm, "mean: the list is empty");
        double s = 0;
        for (size_t i = 0; i < len; i++) {
            mlp_value v = mlp_list_get(a[0], i);
            if (!mlp_is_number(v))
                return mlp_raise(vm, "mean: element %zu is a %s, not a number", i, mlp_type_name(v));
            s += mlp_as_number(v);
        }
        *out = mlp_number(s / (double)len);
        return true;
    }
    return tensor_reduce(vm, "mean", RED_MEAN, a[0], a[1], out);
}

/* argmax(t): the index of the largest value of each row of a tensor. */
static bool n_argmax(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    if (mlp_is_list(a[0]) || mlp_typeof(a[0]) == MLP_T_RANGE) return call_core(vm, "argmax", a, 1, out);
    return tensor_argmax(vm, a[0], a[1], out);
}

/* tolist(t): a tensor's values as a list of rows (float tensors, labels). */
static bool n_tolist(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const std_tensor *t = mlp_handle_data(a[0], &std_tensor_class);
    if (!t) return mlp_raise(vm, "tolist: x must be a tensor, got %s", mlp_type_name(a[0]));
    const rt_dataset *ds = tensor_dataset(t);
    int64_t rows = t->kind == TENSOR_FLOAT ? t_rows(t) : ds->n;
    int64_t cols = t->kind == TENSOR_FLOAT ? t_cols(t)
                   : t->kind == TENSOR_Y ? (ds->targets ? ds->outputs : ds->classes) : ds->features;
    if (rows * cols > 10000000)
        return mlp_raise(vm, "tolist: %lld values are too many for a list", (long long)(rows * cols));
    *out = mlp_list_new(vm);
    if (t_vector(t)) {
        for (int64_t c = 0; c < cols; c++) mlp_list_push(vm, *out, mlp_number(t->data[c]));
        return true;
    }
    for (int64_t r = 0; r < rows; r++) {
        mlp_value row = mlp_list_new(vm);
        mlp_list_push(vm, *out, row);
        for (int64_t c = 0; c < cols; c++) {
            double x;
            if (t->kind == TENSOR_FLOAT) x = t->data[r * cols + c];
            else if (t->kind == TENSOR_Y && ds->targets) x = ds->targets[r * cols + c];
            else if (t->kind == TENSOR_Y) x = ds->labels && ds->labels[r] == c;
            else x = ds->x_u8 ? ds->x_u8[r * cols + c] * ds->x_scale : ds->x_f32[r * cols + c];
            mlp_list_push(vm, row, mlp_number(x));
        }
    }
    return true;
}

#define SYNTH_PARAMS "n=200, classes=2, noise=0.1, seed=nil"
static const mlp_native natives[] = {
    { "mnist", "", n_mnist,
      "mnist(): {train, test, classes}: 60,000 / 10,000 handwritten digits, x in [0, 1]" },
    { "fashion_mnist", "", n_fashion_mnist,
      "fashion_mnist(): {train, test, classes}: 60,000 / 10,000 clothing images" },
    { "sine", "n=200, noise=0.1, seed=nil", n_sine,
      "sine(n, noise, seed): regression data, x in [-3, 3), target sin(x) + noise" },
    { "load_csv", "path, label=nil, labels=nil, task=\"classification\"", n_load_csv,
      "load_csv(path, label=\"col\", labels=\"auto\"|\"index\"|\"names\", task=\"classification\"): "
      "a dataset from a CSV file with a header row; task=\"regression\" reads the label column "
      "as real-valued targets" },
    { "blobs", SYNTH_PARAMS, n_blobs, "blobs(n, classes, noise, seed): Gaussian clusters" },
    { "spirals", SYNTH_PARAMS, n_spirals, "spirals(n, classes, noise, seed): interleaved spirals" },
    { "moons", SYNTH_PARAMS, n_moons, "moons(n, classes, noise, seed): two half-moons" },
    { "xor", SYNTH_PARAMS, n_xor, "xor(n, classes, noise, seed): the four XOR quadrants" },
    { "circles", SYNTH_PARAMS, n_circles, "circles(n, classes, noise, seed): concentric circles" },
    { "take", "data, n", n_take, "take(data, n): the first n examples" },
    { "split", "data, fraction=nil, sep=nil", n_split,
      "split(data, fraction): {train: the first fraction, test: the rest}; split(s, sep=nil) of a string: its pieces" },
    { "shuffle", "data, seed", n_shuffle, "shuffle(data, seed): the examples in a seeded order" },
    { "normalize", "data", n_normalize,
      "normalize(data): standardise features (a {train, test} record uses train's statistics)" },
    { "argmax", "x, axis=nil", n_argmax,
      "argmax(x, axis=nil): of a 2-D tensor, a list of each row's largest index (axis=0: each column's); of a 1-D tensor or a list, the index of its first largest number" },
    { "tolist", "x", n_tolist, "tolist(x): a tensor's values as a list of rows (a 1-D tensor: a list of numbers)" },
    { "tensor", "xs", n_tensor,
      "tensor(xs): a float32 tensor from a list of numbers (1-D) or a list of rows (2-D), or a copy of a tensor" },
    { "sum", "xs, start=0, axis=nil", n_sum,
      "sum(xs, start=0, axis=nil): start + the numbers of a list or range; of a tensor: all values (axis=0: each column's, axis=1: each row's, as a 1-D tensor)" },
    { "mean", "xs, axis=nil", n_mean,
      "mean(xs, axis=nil): the mean of a list of numbers or of a tensor's values (axis as for sum)" },
};

bool std_open_data(mlp_vm *vm)
{
    keep_core(vm, "split");
    keep_core(vm, "argmax");
    keep_core(vm, "sum");
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
