/*
 * metrics.h — internal to stdlib/: metrics= of fit and evaluate, and the
 * natives confusion_matrix(), class_scores(), top_k_accuracy().
 *
 * A metric is named by a string: "mae", "top_K" (K >= 1: top-K accuracy),
 * "precision", "recall", "f1" (macro means over classes). Each is measured
 * in inference mode over a whole data set (runtime/nn/metrics.h).
 */
#ifndef MLP_STD_METRICS_H
#define MLP_STD_METRICS_H

#include "std.h"


typedef struct std_metrics {
    int n;
    char names[STD_MAX_METRICS][24];
    int kind[STD_MAX_METRICS], k[STD_MAX_METRICS];
} std_metrics;

/* Reads a list of names (nil: none). false + mlp_raise naming fn. */
bool std_metrics_arg(mlp_vm *vm, const char *fn, mlp_value v, std_metrics *out);
/* The n values for ds into vals. false + mlp_raise naming fn. */
bool std_metrics_measure(mlp_vm *vm, const char *fn, const std_metrics *ms, rt_model *m,
                         const rt_dataset *ds, double *vals);

bool std_open_metrics(mlp_vm *vm);

#endif
