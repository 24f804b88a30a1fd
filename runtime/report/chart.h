/*
 * chart.h — learning-curve charts as data, and the layout every renderer
 * shares: axis ranges, round tick values, the palette.
 *
 * A chart is one or more panels side by side (files) or stacked (text);
 * a panel is a set of series drawn against epochs 1..n; a series is a
 * label and n values (NaN: no value at that epoch, the line breaks).
 * Three renderers draw the same chart: text.c (a terminal chart of
 * braille or ASCII characters), cairo.c (PNG, SVG, PDF) and html.c (the
 * study report's inline SVG). All of them take the axis ranges and ticks
 * from rt_axis_fit, so a chart reads the same everywhere.
 *
 * Determinism: the layout is computed from the values alone with plain
 * double arithmetic and printed with snprintf, so the text renderer gives
 * the same bytes on every machine (golden tests rely on it).
 *
 * Ownership: a chart only points at its labels and values; the caller
 * keeps them alive while a renderer runs. Renderers allocate nothing the
 * caller must free except where a function says so.
 */
#ifndef RT_CHART_H
#define RT_CHART_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct rt_series {
    const char *label;
    const double *y;       /* y[i] is the value after epoch i + 1 */
    int n;
} rt_series;

typedef struct rt_panel {
    const char *title;     /* "loss", "accuracy", "val_acc" */
    rt_series *series;
    int nseries;
} rt_panel;

typedef struct rt_chart {
    const char *title;     /* may be NULL */
    const char *xlabel;    /* "epoch" */
    rt_panel *panels;
    int npanels;
} rt_chart;

/* An axis: the range shown and its ticks (at most RT_TICKS_MAX). */
#define RT_TICKS_MAX 16
typedef struct rt_axis {
    double lo, hi, step;
    double tick[RT_TICKS_MAX];
    int nticks;
    int decimals;          /* tick labels' digits after the point */
} rt_axis;

/* Fits an axis over [min, max] with at most max_ticks round ticks (1, 2,
 * 2.5 or 5 times a power of ten), the range widened to whole steps. An
 * empty or one-point range is widened around its value. */
rt_axis rt_axis_fit(double min, double max, int max_ticks);
/* The x axis of epochs 1..n: ticks at 1 and at whole multiples of a round
 * step (at least 1). */
rt_axis rt_axis_epochs(int n, int max_ticks);
/* The label of tick i, in buf ("0.25", "10"). */
const char *rt_axis_label(const rt_axis *a, int i, char buf[32]);
/* The smallest and largest finite value of a panel; false when it has none. */
bool rt_panel_range(const rt_panel *p, double *min, double *max);
/* The largest n of a panel's series. */
int rt_panel_epochs(const rt_panel *p);

/* The palette: Okabe and Ito's colour-blind-safe colours, series i using
 * entry i % RT_PALETTE_N (black last, for the ninth series on). */
#define RT_PALETTE_N 8
typedef struct rt_rgb { unsigned char r, g, b; } rt_rgb;
rt_rgb rt_palette(int i);
/* "#0072b2" into buf. */
const char *rt_rgb_hex(rt_rgb c, char buf[8]);

/* ---- renderers ------------------------------------------------------------- */

/* The chart as text, panels stacked, `width` columns wide (at least 40):
 * braille with RT_TEXT_UNICODE, else ASCII; with RT_TEXT_COLOUR each
 * series' cells, end label and legend entry in the ANSI colour nearest
 * its palette colour (for terminals; escape sequences are not counted in
 * the width). Returns a malloc'd string ending in a newline, or NULL when
 * out of memory. */
enum { RT_TEXT_UNICODE = 1, RT_TEXT_COLOUR = 2 };
char *rt_chart_text(const rt_chart *c, int width, unsigned flags);

/* Renders the chart to a file through cairo: the format from the path's
 * extension (.png, .svg, .pdf), width x height pixels (points for PDF and
 * SVG). False with a message in err (at least 160 bytes) on failure. */
bool rt_chart_cairo(const rt_chart *c, const char *path, int width, int height, char *err,
                    size_t errlen);
/* The same, written to f (the caller's, say a temporary renamed into place
 * once complete); path gives the format and the name in messages. */
bool rt_chart_cairo_to(const rt_chart *c, FILE *f, const char *path, int width, int height,
                       char *err, size_t errlen);
/* True when path ends in an extension rt_chart_cairo writes. */
bool rt_chart_cairo_ext(const char *path);

#endif
