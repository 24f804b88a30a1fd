/*
 * csv.h — a CSV file of numbers as a dataset.
 *
 * The accepted form: a header row naming the columns, then one example per
 * line, every field a number (strtod syntax, finite; spaces around a field
 * are ignored) except in the label column. Fields are separated by commas
 * and may be double-quoted ("" inside quotes is a quote); a quoted field
 * cannot span lines. Blank lines are skipped; CRLF line ends are fine.
 *
 * The label column, when named, becomes the labels:
 *   - if every label is a non-negative integer (digits only, at most 65535),
 *     the integer is the class and classes = largest + 1; no class names;
 *   - otherwise each distinct string is a class, numbered in order of first
 *     appearance, and class_names holds the strings ("setosa", ...).
 * Every other column is a float32 feature (ndim 1, dims[0] = feature
 * count, in file order). With no label column (NULL) every column is a
 * feature and the set has no labels.
 *
 * Errors name the file and the line, as a person would want to fix them:
 *   data.csv:17: expected 5 fields, got 4
 *   data.csv:9: column 'x2': not a number: 'abc'
 *   data.csv: no column 'species' in the header (columns: a, b, c)
 * The result owns all its memory (rt_dataset_free).
 */
#ifndef MLP_CSV_H
#define MLP_CSV_H

#include <stdbool.h>
#include "dataset.h"
#include "rt_error.h"

bool rt_csv_load(const char *path, const char *label_column, rt_dataset *out,
                 rt_error *err);
/* The same, but the label column holds real numbers: one float32 target
 * per example (rt_dataset.targets), no classes. A target that is not a
 * finite number is an error naming the data row and the column. */
bool rt_csv_load_regression(const char *path, const char *label_column, rt_dataset *out,
                            rt_error *err);

#endif
