/* metrics.c — metrics as names and natives (metrics.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "metrics.h"
#include "fit.h"
#include "scores.h"

enum { M_MAE, M_TOPK, M_PRECISION, M_RECALL, M_F1 };

bool std_metrics_arg(mlp_vm *vm, const char *fn, mlp_value v, std_metrics *out)
{
    memset(out, 0, sizeof *out);
    if (mlp_is_nil(v)) return true;
    if (!mlp_is_list(v) || mlp_list_len(v) > STD_MAX_METRICS)
        return mlp_raise(vm, "%s: metrics must be a list of at most %d names such as [\"mae\", "
                         "\"top_5\", \"f1\"], got %s", fn, STD_MAX_METRICS, mlp_type_name(v));
    for (size_t i = 0; i < mlp_list_len(v); i++) {
        const char *name;
        if (!std_str_arg(vm, fn, "metrics", mlp_list_get(v, i), &name)) return false;
        int kind = -1, k = 0;
        char *end;
        if (strcmp(name, "mae") == 0) kind = M_MAE;
        else if (strcmp(name, "precision") == 0) kind = M_PRECISION;
        else if (strcmp(name, "recall") == 0) kind = M_RECALL;
        else if (strcmp(name, "f1") == 0) kind = M_F1;
        else if (strncmp(name, "top_", 4) == 0 && (k = (int)strtol(name + 4, &end, 10)) >= 1 &&
                 *end == 0 && k <= 1000)
            kind = M_TOPK;
        if (kind < 0 || strlen(name) >= sizeof out->names[0])
            return mlp_raise(vm, "%s: unknown metric \"%s\" (mae, top_K such as top_5, precision, "
                             "recall, f1)", fn, name);
        snprintf(out->names[out->n], sizeof out->names[0], "%s", name);
        out->kind[out->n] = kind;
        out->k[out->n++] = k;
    }
    return true;
}

bool std_metrics_measure(mlp_vm *vm, const char *fn, const std_metrics *ms, rt_model *m,
                         const rt_dataset *ds, double *vals)
{
    if (ms->n == 0) return true;
    rt_error err;
    int out = rt_model_out(m);
    for (int i = 0; i < ms->n; i++)
        if (ms->kind[i] != M_MAE && !ds->labels)
            return mlp_raise(vm, "%s: metric \"%s\" needs class labels; the data has real-valued "
                             "targets (use \"mae\")", fn, ms->names[i]);
    float *p = rt_metrics_outputs(m, ds, &err);
    if (!p) return mlp_raise(vm, "%s: %s", fn, err.msg);
    int c = ds->classes;
    double *cm = NULL, *sc = NULL;
    bool ok = true;
    for (int i = 0; i < ms->n && ok; i++) {
        switch (ms->kind[i]) {
        case M_MAE: vals[i] = rt_metrics_mae(p, out, ds); break;
        case M_TOPK: vals[i] = rt_metrics_topk(p, out, ds, ms->k[i]); break;
        default:
            if (!cm) {
                cm = malloc((size_t)c * (size_t)c * sizeof *cm);
                sc = malloc(3 * (size_t)c * sizeof *sc);
                if (!cm || !sc) { ok = mlp_raise(vm, "%s: out of memory", fn); break; }
                rt_metrics_confusion(p, out, ds, cm);
                rt_metrics_scores(cm, c, sc, sc + c, sc + 2 * c);
            }
            {
                const double *s = sc + (ms->kind[i] - M_PRECISION) * c;
                double sum = 0;
                for (int j = 0; j < c; j++) sum += s[j];
                vals[i] = sum / c;
            }
        }
    }
    free(cm);
    free(sc);
    rt_free(p);
    return ok;
}

/* ---- natives ------------------------------------------------------------------ */

static bool model_data(mlp_vm *vm, const char *fn, mlp_value *a, std_model **m,
                       const rt_dataset **ds)
{
    *m = mlp_handle_data(a[0], &std_model_class);
    std_dataset *d = mlp_handle_data(a[1], &std_dataset_class);
    if (!*m) return mlp_raise(vm, "%s: m must be a model, got %s", fn, mlp_type_name(a[0]));
    if (!d) return mlp_raise(vm, "%s: data must be a dataset, got %s", fn, mlp_type_name(a[1]));
    *ds = &d->ds;
    if (!std_model_build(vm, *m, (*ds)->features)) return false;
    if (!(*ds)->labels)
        return mlp_raise(vm, "%s: the data has no class labels", fn);
    rt_error err;
    if (!rt_fit_check((*m)->m, *ds, "the data", &err)) return mlp_raise(vm, "%s: %s", fn, err.msg);
    return true;
}

static mlp_value number_row(mlp_vm *vm, const double *xs, int n)
{
    mlp_value row = mlp_list_new(vm);
    mlp_push_root(vm, row);
    for (int i = 0; i < n; i++) mlp_list_push(vm, row, mlp_number(xs[i]));
    mlp_pop_root(vm);
    return row;
}

/* The confusion matrix and the per-class scores, as one computation. */
static bool confusion(mlp_vm *vm, const char *fn, mlp_value *a, double **cm, int *classes)
{
    std_model *m;
    const rt_dataset *ds;
    if (!model_data(vm, fn, a, &m, &ds)) return false;
    rt_error err;
    float *p = rt_metrics_outputs(m->m, ds, &err);
    if (!p) return mlp_raise(vm, "%s: %s", fn, err.msg);
    *classes = ds->classes;
    *cm = malloc((size_t)ds->classes * (size_t)ds->classes * sizeof **cm);
    if (*cm) rt_metrics_confusion(p, rt_model_out(m->m), ds, *cm);
    rt_free(p);
    return *cm ? true : mlp_raise(vm, "%s: out of memory", fn);
}

static bool n_confusion_matrix(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    double *cm;
    int c;
    if (!confusion(vm, "confusion_matrix", a, &cm, &c)) return false;
    *out = mlp_list_new(vm);
    mlp_push_root(vm, *out);
    for (int t = 0; t < c; t++) mlp_list_push(vm, *out, number_row(vm, cm + t * c, c));
    mlp_pop_root(vm);
    free(cm);
    return true;
}

static bool n_class_scores(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    double *cm;
    int c;
    if (!confusion(vm, "class_scores", a, &cm, &c)) return false;
    double *s = malloc(3 * (size_t)c * sizeof *s);
    if (!s) { free(cm); return mlp_raise(vm, "class_scores: out of memory"); }
    rt_metrics_scores(cm, c, s, s + c, s + 2 * c);
    static const char *const names[3] = { "precision", "recall", "f1" };
    *out = mlp_record_new(vm);
    mlp_push_root(vm, *out);
    mlp_value macro = mlp_record_new(vm);
    mlp_push_root(vm, macro);
    for (int i = 0; i < 3; i++) {
        double sum = 0;
        for (int j = 0; j < c; j++) sum += s[i * c + j];
        mlp_record_set(vm, *out, names[i], number_row(vm, s + i * c, c));
        mlp_record_set(vm, macro, names[i], mlp_number(sum / c));
    }
    mlp_record_set(vm, *out, "macro", macro);
    mlp_pop_root(vm);
    mlp_pop_root(vm);
    free(s);
    free(cm);
    return true;
}

static bool n_top_k_accuracy(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_model *m;
    const rt_dataset *ds;
    long k;
    if (!std_int_arg(vm, "top_k_accuracy", "k", a[2], 1, 1000, &k) ||
        !model_data(vm, "top_k_accuracy", a, &m, &ds))
        return false;
    rt_error err;
    float *p = rt_metrics_outputs(m->m, ds, &err);
    if (!p) return mlp_raise(vm, "top_k_accuracy: %s", err.msg);
    *out = mlp_number(rt_metrics_topk(p, rt_model_out(m->m), ds, (int)k));
    rt_free(p);
    return true;
}

static const mlp_native natives[] = {
    { "confusion_matrix", "m, data", n_confusion_matrix,
      "confusion_matrix(model, data): counts[true class][predicted class] in inference mode" },
    { "class_scores", "m, data", n_class_scores,
      "class_scores(model, data): {precision, recall, f1} per class and their macro means" },
    { "top_k_accuracy", "m, data, k=5", n_top_k_accuracy,
      "top_k_accuracy(model, data, k=5): the share of examples whose class is among the k "
      "largest outputs" },
};

bool std_open_metrics(mlp_vm *vm)
{
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
