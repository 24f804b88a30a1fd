/*
 * csv.h — a CSV file of numbers as a dataset.
 *
 * The accepted form: a header row naming the columns, then one example per
 * line, every field a number (strtod syntax, finite; spaces around a field
 * are ignored) except in the label column. Fields are separated by commas
 * and may be double-quoted ("" inside quotes is a quote); a quoted field
 * cannot span lines. Blank lines are skipped; CRLF line ends are fine.
 *
 * Numbers are decimal ("0x10" is refused, not read as 16) and must round to
 * a finite float32 (3.4028235e38, FLT_MAX as numpy prints it, is fine).
 *
 * The label column, when named, becomes the labels, read as the mode says:
 *   - INDEX: every label is a class index, a whole number 0..65535 written
 *     with digits only; classes = largest + 1; no class names;
 *   - NAMES: each distinct string is a class, numbered in order of first
 *     appearance, and class_names holds the strings ("setosa", "1", ...);
 *   - AUTO: INDEX when every label is a class index, NAMES when none is;
 *     a column mixing the two is an error naming the first row that differs
 *     from the first row (one stray "n/a" must not renumber every class).
 * Every other column is a float32 feature (shape [feature count], in
 * file order). With no label column (NULL) every column is a
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

typedef enum rt_csv_labels {
    RT_CSV_LABELS_AUTO, RT_CSV_LABELS_INDEX, RT_CSV_LABELS_NAMES
} rt_csv_labels;

/* Only a regular file is read (a FIFO or a device is refused at once). */
bool rt_csv_load_labels(const char *path, const char *label_column, rt_csv_labels mode,
                        rt_dataset *out, rt_error *err);
/* rt_csv_load_labels in AUTO mode. */
bool rt_csv_load(const char *path, const char *label_column, rt_dataset *out,
                 rt_error *err);
/* The same, but the label column holds real numbers: one float32 target
 * per example (rt_dataset.targets), no classes. A target that is not a
 * finite number is an error naming the data row and the column. */
bool rt_csv_load_regression(const char *path, const char *label_column, rt_dataset *out,
                            rt_error *err);

#endif
