/* scores.c — confusion matrix, precision/recall/F1, top-k, MAE (scores.h). */
#include <math.h>
#include <string.h>
#include "scores.h"
#include "tensor.h"

float *rt_metrics_outputs(rt_model *m, const rt_dataset *ds, rt_error *err)
{
    enum { CHUNK = 256 };
    int out = rt_model_out(m);
    float *p = rt_alloc((size_t)(ds->n ? ds->n : 1) * (size_t)out * sizeof *p);
    float *x = rt_alloc((size_t)CHUNK * (size_t)ds->features * sizeof *x);
    int64_t idx[CHUNK];
    bool ok = p && x;
    if (!ok) rt_fail(err, "out of memory for the outputs of %lld examples", (long long)ds->n);
    for (int64_t at = 0; ok && at < ds->n; at += CHUNK) {
        int k = (int)(ds->n - at < CHUNK ? ds->n - at : CHUNK);
        for (int i = 0; i < k; i++) idx[i] = at + i;
        rt_dataset_gather(ds, idx, k, x, NULL);
        ok = rt_model_predict(m, x, k, p + at * out, err);
    }
    rt_free(x);
    if (!ok) {
        rt_free(p);
        return NULL;
    }
    return p;
}

static int predicted(const float *row, int out)
{
    if (out == 1) return row[0] > 0.5f;
    int best = 0;
    for (int j = 1; j < out; j++)
        if (row[j] > row[best]) best = j;
    return best;
}

void rt_metrics_confusion(const float *p, int out, const rt_dataset *ds, double *cm)
{
    int c = ds->classes;
    memset(cm, 0, (size_t)c * (size_t)c * sizeof *cm);
    for (int64_t i = 0; i < ds->n; i++) {
        int t = ds->labels[i], q = predicted(p + i * out, out);
        if (t >= 0 && t < c && q < c) cm[t * c + q] += 1;
    }
}

void rt_metrics_scores(const double *cm, int classes, double *precision, double *recall,
                       double *f1)
{
    for (int k = 0; k < classes; k++) {
        double tp = cm[k * classes + k], col = 0, row = 0;
        for (int j = 0; j < classes; j++) {
            col += cm[j * classes + k];
            row += cm[k * classes + j];
        }
        precision[k] = col > 0 ? tp / col : 0;
        recall[k] = row > 0 ? tp / row : 0;
        double s = precision[k] + recall[k];
        f1[k] = s > 0 ? 2 * precision[k] * recall[k] / s : 0;
    }
}

double rt_metrics_topk(const float *p, int out, const rt_dataset *ds, int k)
{
    double hits = 0;
    for (int64_t i = 0; i < ds->n; i++) {
        const float *row = p + i * out;
        int t = ds->labels[i];
        if (out == 1) {   /* binary: top-1 is the thresholded prediction; any k >= 2 hits */
            hits += k >= 2 || predicted(row, 1) == t;
            continue;
        }
        int above = 0;    /* outputs ranked before the true class's */
        for (int j = 0; j < out; j++)
            above += row[j] > row[t] || (row[j] == row[t] && j < t);
        hits += above < k;
    }
    return ds->n ? hits / (double)ds->n : NAN;
}

double rt_metrics_mae(const float *p, int out, const rt_dataset *ds)
{
    double total = 0;
    for (int64_t i = 0; i < ds->n; i++)
        for (int j = 0; j < out; j++) {
            double y = ds->targets ? ds->targets[i * ds->outputs + j]
                       : out == 1 ? (double)ds->labels[i] : (double)(ds->labels[i] == j);
            total += fabs((double)p[i * out + j] - y);
        }
    return ds->n ? total / ((double)ds->n * out) : NAN;
}
