/*
 * plot.c — plot(): learning curves in the terminal and in files, and the
 * HTML study report save(results, "x.html") writes.
 *
 * The language's values become runtime/report charts here: a history is
 * two panels (loss and val_loss; acc and val_acc), a results table one
 * panel of metric `y` with one series per row that reported a history
 * (report(history=h)), named by the row's sweep values. Rendering is the
 * runtime's (chart.h, html.h); this file only gathers values and options.
 *
 * Text charts: braille when the locale is UTF-8 (LC_ALL, else LC_CTYPE,
 * else LANG names UTF-8), ASCII otherwise or when MLP_ASCII=1; ascii=true
 * or false overrides both. Width: width=, else the terminal's columns when
 * stdout is a terminal, else 80, so output that is not a terminal is the
 * same everywhere. On a terminal (and without NO_COLOR) each series is
 * drawn in its colour.
 */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "chart.h"
#include "cpu.h"
#include "html.h"
#include "parallel.h"
#include "rt_file.h"
#include "std.h"

/* ---- options ---------------------------------------------------------------- */

static bool utf8_locale(void)
{
    const char *names[] = { "LC_ALL", "LC_CTYPE", "LANG" };
    for (int i = 0; i < 3; i++) {
        const char *v = getenv(names[i]);
        if (!v || !*v) continue;
        char low[64];
        size_t n = 0;
        for (; v[n] && n + 1 < sizeof low; n++) low[n] = (char)tolower((unsigned char)v[n]);
        low[n] = 0;
        return strstr(low, "utf-8") || strstr(low, "utf8");
    }
    return false;
}

static bool use_unicode(mlp_value ascii)
{
    if (mlp_is_bool(ascii)) return !mlp_as_bool(ascii);
    const char *a = getenv("MLP_ASCII");
    if (a && strcmp(a, "1") == 0) return false;
    return utf8_locale();
}

static int text_width(void)
{
    struct winsize ws;
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col >= 40)
        return ws.ws_col;
    return 80;
}

/* ---- charts from values -------------------------------------------------------- */

/* The metric named `y`, or -1. */
static int metric_index(const char *y)
{
    for (int c = 0; c < STD_H_SECONDS; c++)
        if (strcmp(y, std_history_names[c]) == 0) return c;
    return -1;
}

static bool has_values(const double *y, int n)
{
    for (int i = 0; i < n; i++)
        if (isfinite(y[i])) return true;
    return false;
}

/* A history's chart: loss panel, accuracy panel (or metric y alone). */
static int history_chart(const std_history *h, int only, rt_panel panels[2], rt_series series[4])
{
    static const int groups[2][2] = { { STD_H_LOSS, STD_H_VAL_LOSS }, { STD_H_ACC, STD_H_VAL_ACC } };
    static const char *const titles[2] = { "loss", "accuracy" };
    int np = 0, ns = 0;
    for (int g = 0; g < 2; g++) {
        int first = ns;
        for (int k = 0; k < 2; k++) {
            int c = groups[g][k];
            if ((only >= 0 && c != only) || !has_values(h->col[c], h->n)) continue;
            series[ns++] = (rt_series){ std_history_names[c], h->col[c], h->n };
        }
        if (ns > first)
            panels[np++] = (rt_panel){ only >= 0 ? std_history_names[only] : titles[g],
                                       &series[first], ns - first };
    }
    return np;
}

/* The history column of a results table (the first column whose values
 * are histories), or NULL. */
static const char *history_column_name(const std_table *t)
{
    for (size_t c = 0; c < mlp_list_len(t->columns); c++) {
        mlp_value col = mlp_list_get(t->columns, c);
        for (size_t r = 0; r < mlp_list_len(t->rows); r++) {
            mlp_value v;
            if (mlp_record_get(mlp_list_get(t->rows, r), mlp_cstr(col), &v) &&
                mlp_handle_data(v, &std_history_class))
                return mlp_cstr(col);
        }
    }
    return NULL;
}

static std_history *row_history(const std_table *t, const char *col, size_t r)
{
    mlp_value v;
    if (!col || !mlp_record_get(mlp_list_get(t->rows, r), col, &v)) return NULL;
    return mlp_handle_data(v, &std_history_class);
}

/* plot(x, y=nil, file=nil, width=nil, height=nil, ascii=nil, title=nil) */
static bool n_plot(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_history *h = mlp_handle_data(a[0], &std_history_class);
    std_table *t = mlp_handle_data(a[0], &std_table_class);
    if (!h && !t)
        return mlp_raise(vm, "plot: x must be a history (from fit) or a sweep's results, got %s",
                         mlp_type_name(a[0]));
    const char *y = NULL, *file = NULL, *title = NULL;
    if (!mlp_is_nil(a[1]) && !std_str_arg(vm, "plot", "y", a[1], &y)) return false;
    if (!mlp_is_nil(a[2]) && !std_str_arg(vm, "plot", "file", a[2], &file)) return false;
    if (!mlp_is_nil(a[6]) && !std_str_arg(vm, "plot", "title", a[6], &title)) return false;
    if (!mlp_is_nil(a[5]) && !mlp_is_bool(a[5]))
        return mlp_raise(vm, "plot: ascii must be true or false, got %s", mlp_type_name(a[5]));
    long width = 0, height = 0;
    if (!mlp_is_nil(a[3]) && !std_int_arg(vm, "plot", "width", a[3], file ? 16 : 40, 16384, &width))
        return false;
    if (!mlp_is_nil(a[4]) && !std_int_arg(vm, "plot", "height", a[4], 16, 16384, &height))
        return false;
    if (height && !file) return mlp_raise(vm, "plot: height applies to files (file=...)");
    int metric = -1;
    if (y && (metric = metric_index(y)) < 0)
        return mlp_raise(vm, "plot: y must be one of loss, acc, val_loss, val_acc, got \"%s\"", y);
    if (file && !rt_chart_cairo_ext(file))
        return mlp_raise(vm, "plot: file must end in .png, .svg or .pdf, got \"%s\"", file);

    rt_panel panels[2];
    rt_series hs[4];
    rt_series *rs = NULL;
    rt_chart chart = { title, "epoch", panels, 0 };
    size_t nrows = t ? mlp_list_len(t->rows) : 0;
    mlp_value labels = mlp_nil();
    bool ok = false;
    if (h) {
        chart.npanels = history_chart(h, metric, panels, hs);
    } else {
        const char *col = history_column_name(t);
        if (!col)
            return mlp_raise(vm, "plot: these results hold no histories (report(..., history=h) "
                             "in the sweep body keeps them)");
        if (metric < 0) metric = STD_H_VAL_ACC;
        rs = calloc(nrows + 1, sizeof *rs);
        if (!rs) return mlp_raise(vm, "out of memory");
        labels = mlp_list_new(vm);
        mlp_push_root(vm, labels);
        int ns = 0;
        for (size_t r = 0; r < nrows; r++) {
            std_history *rh = row_history(t, col, r);
            if (!rh || !has_values(rh->col[metric], rh->n)) continue;
            mlp_value label = std_row_label(vm, t, mlp_list_get(t->rows, r));
            mlp_list_push(vm, labels, label);
            rs[ns++] = (rt_series){ mlp_cstr(label), rh->col[metric], rh->n };
        }
        panels[0] = (rt_panel){ std_history_names[metric], rs, ns };
        chart.npanels = ns > 0;
    }
    if (chart.npanels == 0) {
        mlp_raise(vm, "plot: nothing to draw (no epochs%s)", y ? " of that metric" : "");
        goto done;
    }
    if (file) {
        char err[256];
        if (par_silent(vm)) { ok = true; goto done; }   /* rank 0 writes files */
        int w = width ? (int)width : chart.npanels > 1 ? 960 : 640;
        int hh = height ? (int)height : 400;
        /* beside the old file, renamed over it once whole (rt_file.h) */
        rt_atomic_file af;
        rt_error fe = { 0 };
        if (!rt_chart_cairo_ext(file)) {
            mlp_raise(vm, "plot: the file must end in .png, .svg or .pdf, got \"%s\"", file);
            goto done;
        }
        if (!rt_atomic_open(&af, file, &fe)) {
            mlp_raise_io(vm, "plot: %s", fe.msg);
            goto done;
        }
        errno = 0;
        if (!rt_chart_cairo_to(&chart, af.f, file, w, hh, err, sizeof err)) {
            int e = errno;
            bool io = ferror(af.f);   /* the disk failed, not cairo */
            rt_atomic_abort(&af);     /* the old file is kept */
            if (io) mlp_raise_io(vm, "plot: %s: cannot write (the old file, if any, is kept): %s",
                                 file, strerror(e ? e : EIO));
            else mlp_raise(vm, "plot: %s", err);
            goto done;
        }
        if (!rt_atomic_commit(&af, &fe)) {
            mlp_raise_io(vm, "plot: %s", fe.msg);
            goto done;
        }
    } else {
        /* colour only on a terminal (as the REPL's), never where bytes are compared */
        unsigned flags = (use_unicode(a[5]) ? RT_TEXT_UNICODE : 0) |
                         (std_host_of(vm)->tty && !getenv("NO_COLOR") ? RT_TEXT_COLOUR : 0);
        char *s = rt_chart_text(&chart, width ? (int)width : text_width(), flags);
        if (!s) { mlp_raise(vm, "out of memory"); goto done; }
        mlp_write(vm, s, strlen(s));
        free(s);
    }
    ok = true;
done:
    if (t) mlp_pop_root(vm);
    free(rs);
    return ok;
}

/* ---- the study report ------------------------------------------------------------ */

/* "Intel(R) Xeon(R) ..." from /proc/cpuinfo, or "unknown". */
static void cpu_model(char *buf, size_t n)
{
    snprintf(buf, n, "unknown");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (!f) return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        char *colon = strchr(line, ':');
        if (strncmp(line, "model name", 10) != 0 || !colon) continue;
        colon++;
        while (*colon == ' ') colon++;
        colon[strcspn(colon, "\n")] = 0;
        snprintf(buf, n, "%s", colon);
        break;
    }
    fclose(f);
}

bool std_save_html(mlp_vm *vm, const std_table *t, const char *path)
{
    size_t ncols = mlp_list_len(t->columns), nrows = mlp_list_len(t->rows);
    const char *hcol = history_column_name(t);
    /* the table's columns, less the history column */
    const char **cols = calloc(ncols + 1, sizeof *cols);
    size_t *colidx = calloc(ncols + 1, sizeof *colidx);
    rt_report_row *rows = calloc(nrows + 1, sizeof *rows);
    const char **cells = calloc(nrows * ncols + 1, sizeof *cells);
    double *values = calloc(nrows * ncols + 1, sizeof *values);
    bool ok = false;
    mlp_value keep = mlp_list_new(vm);   /* the strings the report points into */
    mlp_push_root(vm, keep);
    if (!cols || !colidx || !rows || !cells || !values) { mlp_raise(vm, "out of memory"); goto done; }
    int nc = 0;
    for (size_t c = 0; c < ncols; c++) {
        mlp_value col = mlp_list_get(t->columns, c);
        if (hcol && strcmp(mlp_cstr(col), hcol) == 0) continue;
        colidx[nc] = c;
        cols[nc++] = mlp_cstr(col);
    }
    /* cells as the printed table shows them: whole columns whole, other
     * reported numbers with 4 decimals */
    bool *whole = calloc((size_t)nc + 1, sizeof *whole);
    if (!whole) { mlp_raise(vm, "out of memory"); goto done; }
    for (int c = 0; c < nc; c++) {
        whole[c] = true;
        for (size_t r = 0; r < nrows; r++) {
            mlp_value v;
            if (mlp_record_get(mlp_list_get(t->rows, r), cols[c], &v) && mlp_is_number(v) &&
                mlp_as_number(v) != floor(mlp_as_number(v)))
                whole[c] = false;
        }
    }
    for (size_t r = 0; r < nrows; r++) {
        mlp_value row = mlp_list_get(t->rows, r);
        rt_report_row *rr = &rows[r];
        rr->cells = &cells[r * ncols];
        rr->values = &values[r * ncols];
        for (int c = 0; c < nc; c++) {
            mlp_value v = mlp_nil(), s;
            mlp_record_get(row, cols[c], &v);
            values[r * ncols + c] = mlp_is_number(v) ? mlp_as_number(v) : NAN;
            if (mlp_is_nil(v)) s = mlp_string_cstr(vm, "-");
            else if (mlp_is_string(v)) s = v;
            else if (mlp_is_number(v) && colidx[c] >= t->naxes) {
                char buf[48];
                std_number_text(mlp_as_number(v), whole[c] ? 0 : 4, buf);
                s = mlp_string_cstr(vm, buf);
            } else s = std_short_text(vm, v);
            mlp_list_push(vm, keep, s);
            cells[r * ncols + c] = mlp_cstr(s);
        }
        mlp_value label = std_row_label(vm, t, row);
        mlp_list_push(vm, keep, label);
        rr->label = mlp_cstr(label);
        /* each sweep value in full: Adam(lr=0.001, beta1=0.9, ...) */
        mlp_value params = mlp_string_cstr(vm, "");
        mlp_list_push(vm, keep, params);
        for (size_t c = 0; c < t->naxes && c < ncols; c++) {
            mlp_value col = mlp_list_get(t->columns, c), v = mlp_nil();
            mlp_record_get(row, mlp_cstr(col), &v);
            mlp_value vs = mlp_tostring(vm, v);
            mlp_push_root(vm, vs);
            size_t len = mlp_strlen(params) + mlp_strlen(col) + mlp_strlen(vs) + 8;
            char *buf = malloc(len);
            if (!buf) { mlp_pop_root(vm); free(whole); mlp_raise(vm, "out of memory"); goto done; }
            snprintf(buf, len, "%s%s%s = %s", mlp_cstr(params), c ? "\n" : "", mlp_cstr(col),
                     mlp_cstr(vs));
            params = mlp_string_cstr(vm, buf);
            free(buf);
            mlp_pop_root(vm);
            mlp_list_push(vm, keep, params);
        }
        rr->params = mlp_cstr(params);
        mlp_value sec = mlp_nil();
        if (mlp_is_list(t->seconds) && r < mlp_list_len(t->seconds)) sec = mlp_list_get(t->seconds, r);
        rr->seconds = mlp_is_number(sec) ? mlp_as_number(sec) : NAN;
        std_history *h = row_history(t, hcol, r);
        static const int which[RT_CURVE_COUNT] = { STD_H_LOSS, STD_H_VAL_LOSS, STD_H_ACC,
                                                   STD_H_VAL_ACC };
        for (int k = 0; h && k < RT_CURVE_COUNT; k++)
            if (has_values(h->col[which[k]], h->n))
                rr->curves[k] = (rt_series){ rr->label, h->col[which[k]], h->n };
    }

    free(whole);

    /* what a reader needs to rerun it */
    const char *sname = NULL, *stext = NULL;
    size_t slen = 0;
    char *source = NULL;
    if (mlp_main_source(vm, &sname, &stext, &slen)) source = strndup(stext, slen);
    std_host *host = std_host_of(vm);
    char seed[32], threads[32], cpu[256], simd[64];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)host->rnd.seed);
    snprintf(threads, sizeof threads, "%d", rt_pool_threads(host->pool));
    snprintf(simd, sizeof simd, "%s", rt_simd_name(rt_cpu_simd()));
    cpu_model(cpu, sizeof cpu);
    const char *meta[] = { "script", sname ? sname : "-", "seed", seed, "mlp", "mlp " MLP_VERSION,
                           "CPU", cpu, "SIMD path", simd, "threads", threads };
    char title[512];
    snprintf(title, sizeof title, "mlp study: %s", sname ? sname : "results");
    rt_report rep = { title, cols, nc, rows, (int)nrows, meta, 6, sname, source };
    /* beside the old file, renamed over it once whole (rt_file.h) */
    rt_atomic_file af;
    rt_error fe = { 0 };
    ok = rt_atomic_open(&af, path, &fe);
    if (ok) {
        rt_report_html_write(&rep, af.f); /* a failed write shows in the commit */
        ok = rt_atomic_commit(&af, &fe);
    }
    free(source);
    if (!ok) mlp_raise_io(vm, "save: %s", fe.msg);
done:
    mlp_pop_root(vm);
    free(cols);
    free(colidx);
    free(rows);
    free(cells);
    free(values);
    return ok;
}

static const mlp_native natives[] = {
    { "plot", "x, y=nil, file=nil, width=nil, height=nil, ascii=nil, title=nil", n_plot,
      "plot(history or results, y=nil, file=nil, width=, height=, ascii=, title=): learning "
      "curves as a terminal chart, or into file (.png, .svg, .pdf)" },
};

bool std_open_plot(mlp_vm *vm)
{
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
