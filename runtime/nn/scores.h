/*
 * scores.h — how good a model's predictions are, beyond loss and accuracy:
 * the confusion matrix and the scores derived from it (precision, recall,
 * F1 per class and their macro means), top-k accuracy, mean absolute error.
 *
 * Everything is computed from the model's inference-mode outputs over a
 * whole data set (rt_metrics_outputs, in chunks), in double, examples in
 * order: the same numbers on every machine and thread count.
 *
 * Predictions: the class with the largest output (first maximum wins);
 * with one output unit and two classes (binary), class 1 where the output
 * is above 0.5. Confusion matrix cm[t * classes + p] counts examples of
 * true class t predicted p (rows true, columns predicted: scikit-learn's
 * layout). precision_c = cm[c][c] / column sum, recall_c = cm[c][c] / row
 * sum, F1_c = 2 P R / (P + R); each is 0 where its denominator is 0
 * (scikit-learn's zero_division=0). Macro: the plain mean over classes.
 * top-k: the true class is among the k largest outputs (ties: an output
 * equal to the true class's counts against it only if it comes earlier,
 * so k = 1 is argmax accuracy). MAE: mean over all n * outputs values of
 * |output - target| (targets, or one-hot labels).
 */
#ifndef MLP_SCORES_H
#define MLP_SCORES_H

#include <stdbool.h>
#include "dataset.h"
#include "model.h"
#include "rt_error.h"

/* The model's outputs for every example of ds, [n x out], rt_alloc'd
 * (the caller rt_frees it). */
float *rt_metrics_outputs(rt_model *m, const rt_dataset *ds, rt_error *err);

/* cm: classes * classes counts (ds must have labels). */
void rt_metrics_confusion(const float *p, int out, const rt_dataset *ds, double *cm);
/* precision, recall, f1: classes entries each, from a confusion matrix. */
void rt_metrics_scores(const double *cm, int classes, double *precision, double *recall,
                       double *f1);
double rt_metrics_topk(const float *p, int out, const rt_dataset *ds, int k);
double rt_metrics_mae(const float *p, int out, const rt_dataset *ds);

#endif
