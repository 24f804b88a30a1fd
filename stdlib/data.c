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
    float *data;          /* TENSOR_FLOAT: [rows x cols], rt_alloc'd, owned */
    int64_t rows, cols;
    mlp_value source;     /* TENSOR_X / TENSOR_Y: the dataset handle viewed */
} std_tensor;

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
        for (int i = 0; i < ds->ndim; i++) mlp_list_push(vm, s, mlp_number(ds->dims[i]));
    } else if (t->kind == TENSOR_Y) {
        mlp_list_push(vm, s, mlp_number((double)ds->n));
        mlp_list_push(vm, s, mlp_number(ds->targets ? ds->outputs : ds->classes));
    } else {
        mlp_list_push(vm, s, mlp_number((double)t->rows));
        mlp_list_push(vm, s, mlp_number((double)t->cols));
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
        *out = (mlp_floats){ t->data, t->rows * t->cols, false };
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

const mlp_class std_tensor_class = {
    .name = "tensor", .free = tensor_free, .mark = tensor_mark, .get = tensor_get,
    .tostring = tensor_tostring, .fields = "shape", .floats = tensor_floats,
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
    return tensor_new(vm, (std_tensor){ TENSOR_FLOAT, data, rows, cols, mlp_nil() });
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
    if (t) { rows = t->rows; cols = t->cols; }
    else if (mlp_is_list(v) && mlp_list_len(v) > 0 && mlp_is_list(mlp_list_get(v, 0))) {
        rows = (int64_t)mlp_list_len(v);
        cols = (int64_t)mlp_list_len(mlp_list_get(v, 0));
    } else {
        return mlp_raise(vm, "%s: x must be a dataset, its .x, a tensor or a list of rows, got %s",
                         fn, mlp_type_name(v));
    }
    int dims[1] = { (int)cols };
    rt_error err;
    if (!rt_dataset_alloc(tmp, rows, 1, dims, false, 0, 0, &err))
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
    char buf[200], shape[64] = "";
    for (int i = 0, k = 0; i < ds->ndim; i++)
        k += snprintf(shape + k, sizeof shape - (size_t)k, "%s%d", i ? ", " : "", ds->dims[i]);
    if (ds->targets)
        snprintf(buf, sizeof buf, "<dataset: %lld examples of [%s], %d target%s>", (long long)ds->n,
                 shape, ds->outputs, ds->outputs == 1 ? "" : "s");
    else
        snprintf(buf, sizeof buf, "<dataset: %lld examples of [%s]%s, %d classes>", (long long)ds->n,
                 shape, ds->x_u8 ? " bytes" : "", ds->classes);
    return mlp_string_cstr(vm, buf);
}

const mlp_class std_dataset_class = {
    .name = "dataset", .free = dataset_free, .get = dataset_get, .tostring = dataset_tostring,
    .fields = "x, y, n, labels, features, classes, take, split, shuffle, normalize",
};

/* ---- methods: d.take(100) --------------------------------------------------- */

typedef struct std_method { mlp_value self, fn; } std_method;

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
        *out = tensor_new(vm, (std_tensor){ field[0] == 'x' ? TENSOR_X : TENSOR_Y, NULL, 0, 0,
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

static bool load_idxset(mlp_vm *vm, const char *fn, const char *kind, mlp_value *out)
{
    rt_dataset train = {0}, test = {0};
    rt_error err;
    if (!rt_mnist_load(kind, &train, &test, &err)) return mlp_raise(vm, "%s: %s", fn, err.msg);
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
    const char *path, *label = NULL, *task;
    if (!std_str_arg(vm, "load_csv", "path", a[0], &path) ||
        (!mlp_is_nil(a[1]) && !std_str_arg(vm, "load_csv", "label", a[1], &label)) ||
        !std_str_arg(vm, "load_csv", "task", a[2], &task))
        return false;
    bool regression = strcmp(task, "regression") == 0;
    if (!regression && strcmp(task, "classification") != 0)
        return mlp_raise(vm, "load_csv: task must be \"classification\" or \"regression\", got \"%s\"",
                         task);
    rt_dataset ds = {0};
    rt_error err;
    if (!(regression ? rt_csv_load_regression(path, label, &ds, &err)
                     : rt_csv_load(path, label, &ds, &err)))
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
    if (mlp_is_nil(a[3])) {   /* no seed given: draw one from the script's seed */
        rt_rng *r = &std_host_of(vm)->rnd.shuffle;
        seed = (long)(rt_rng_u32(r) >> 1);
    } else if (!std_int_arg(vm, kind, "seed", a[3], 0, __LONG_MAX__, &seed)) {
        return false;
    }
    rt_dataset ds = {0};
    rt_error err;
    if (!rt_synth(kind, size, (int)classes, noise, (uint64_t)seed, &ds, &err))
        return mlp_raise(vm, "%s: %s", kind, err.msg);
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
    if (!rt_dataset_take(ds, k, &part, &err)) return mlp_raise(vm, "take: %s", err.msg);
    *out = std_dataset_value(vm, &part);
    return !mlp_is_nil(*out);
}

/* split(d, 0.8) -> {train: first 80%, test: the rest} */
static bool n_split(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const rt_dataset *ds = dataset_arg(vm, "split", a[0]);
    double f;
    if (!ds || !std_num_arg(vm, "split", "fraction", a[1], &f)) return false;
    if (!(f > 0 && f < 1)) return mlp_raise(vm, "split: fraction must be in (0, 1), got %g", f);
    rt_dataset x = {0}, y = {0};
    rt_error err;
    if (!rt_dataset_split(ds, f, &x, &y, &err)) return mlp_raise(vm, "split: %s", err.msg);
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
        return mlp_raise(vm, "shuffle: %s", err.msg);
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
        return mlp_raise(vm, "normalize: %s", err.msg);
    }
    if (!mlp_is_record(a[0])) {
        *out = std_dataset_value(vm, &x);
        return !mlp_is_nil(*out);
    }
    return train_test_record(vm, &x, &y, out);
}

/* argmax(t): the index of the largest value of each row of a tensor. */
static bool n_argmax(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const std_tensor *t = mlp_handle_data(a[0], &std_tensor_class);
    if (!t || t->kind != TENSOR_FLOAT)
        return mlp_raise(vm, "argmax: x must be a tensor from predict(), got %s",
                         mlp_type_name(a[0]));
    *out = mlp_list_new(vm);
    for (int64_t r = 0; r < t->rows; r++) {
        const float *row = t->data + r * t->cols;
        int64_t best = 0;
        for (int64_t c = 1; c < t->cols; c++)
            if (row[c] > row[best]) best = c;
        mlp_list_push(vm, *out, mlp_number((double)best));
    }
    return true;
}

/* tolist(t): a tensor's values as a list of rows (float tensors, labels). */
static bool n_tolist(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const std_tensor *t = mlp_handle_data(a[0], &std_tensor_class);
    if (!t) return mlp_raise(vm, "tolist: x must be a tensor, got %s", mlp_type_name(a[0]));
    const rt_dataset *ds = tensor_dataset(t);
    int64_t rows = t->kind == TENSOR_FLOAT ? t->rows : ds->n;
    int64_t cols = t->kind == TENSOR_FLOAT ? t->cols
                   : t->kind == TENSOR_Y ? (ds->targets ? ds->outputs : ds->classes) : ds->features;
    if (rows * cols > 10000000)
        return mlp_raise(vm, "tolist: %lld values are too many for a list", (long long)(rows * cols));
    *out = mlp_list_new(vm);
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
    { "load_csv", "path, label=nil, task=\"classification\"", n_load_csv,
      "load_csv(path, label=\"col\", task=\"classification\"): a dataset from a CSV file with a "
      "header row; task=\"regression\" reads the label column as real-valued targets" },
    { "blobs", SYNTH_PARAMS, n_blobs, "blobs(n, classes, noise, seed): Gaussian clusters" },
    { "spirals", SYNTH_PARAMS, n_spirals, "spirals(n, classes, noise, seed): interleaved spirals" },
    { "moons", SYNTH_PARAMS, n_moons, "moons(n, classes, noise, seed): two half-moons" },
    { "xor", SYNTH_PARAMS, n_xor, "xor(n, classes, noise, seed): the four XOR quadrants" },
    { "circles", SYNTH_PARAMS, n_circles, "circles(n, classes, noise, seed): concentric circles" },
    { "take", "data, n", n_take, "take(data, n): the first n examples" },
    { "split", "data, fraction", n_split,
      "split(data, fraction): {train: the first fraction, test: the rest}" },
    { "shuffle", "data, seed", n_shuffle, "shuffle(data, seed): the examples in a seeded order" },
    { "normalize", "data", n_normalize,
      "normalize(data): standardise features (a {train, test} record uses train's statistics)" },
    { "argmax", "x", n_argmax, "argmax(x): the index of each row's largest value" },
    { "tolist", "x", n_tolist, "tolist(x): a tensor's values as a list of rows" },
};

bool std_open_data(mlp_vm *vm)
{
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
