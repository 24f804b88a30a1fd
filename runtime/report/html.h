/*
 * html.h — a study report: one self-contained HTML file (no network, no
 * external files) with a results table, the learning curves of every row,
 * each row's hyperparameters and wall time, and what is needed to rerun
 * the study (script source, seed, version, machine).
 *
 * The curves are inline SVG drawn here (four charts: loss, val_loss, acc,
 * val_acc; one polyline per row with curves, class "series", in the row's
 * palette colour, and a dot per epoch that shows its value on hover),
 * laid out with chart.h's axes. A few lines of inline JavaScript make the
 * table sortable by any column (click a header) and fade a row's curves
 * (click its legend entry); without JavaScript the page shows the same
 * table and charts.
 * Every number keeps full precision in the cell's data-v attribute and
 * title; the cell shows the text the caller gives (the printed table's).
 *
 * Ownership: the report only points at the caller's strings and values.
 */
#ifndef RT_HTML_H
#define RT_HTML_H

#include <stdbool.h>
#include <stddef.h>
#include "chart.h"

enum { RT_CURVE_LOSS, RT_CURVE_VAL_LOSS, RT_CURVE_ACC, RT_CURVE_VAL_ACC, RT_CURVE_COUNT };

typedef struct rt_report_row {
    const char *const *cells;   /* ncols display texts */
    const double *values;       /* ncols: the number behind a cell, NaN for text */
    const char *label;          /* names the row in legends: "opt=Adam act=relu" */
    const char *params;         /* hyperparameters in full, one per line; may be NULL */
    double seconds;             /* wall time of the row's point; NaN: unknown */
    rt_series curves[RT_CURVE_COUNT];   /* n = 0: none */
} rt_report_row;

typedef struct rt_report {
    const char *title;
    const char *const *columns;
    int ncols;
    const rt_report_row *rows;
    int nrows;
    const char *const *meta;    /* nmeta (name, value) pairs: seed, version, machine ... */
    int nmeta;
    const char *source_name, *source;   /* the script; may be NULL */
} rt_report;

/* Writes the report to path. False with a message in err on failure. */
bool rt_report_html(const rt_report *r, const char *path, char *err, size_t errlen);
/* Writes the report to f (the caller's, say a temporary renamed into place
 * once complete); false when a write to f failed. */
bool rt_report_html_write(const rt_report *r, FILE *f);

#endif
