/*
 * cairo.c — a chart as a PNG, SVG or PDF figure (chart.h: rt_chart_cairo).
 *
 * Panels side by side, each with its title, a light grid at the ticks,
 * labelled axes ("epoch" under, the panel's title beside) and a legend in
 * its upper right corner. Each series is stroked as one path in its
 * palette colour, anti-aliased, 2 units wide; the legend marks series
 * with filled swatches, so an SVG holds exactly one stroked path per
 * series colour (tests/report checks this). Text uses cairo's toy font
 * API ("sans-serif" through fontconfig): pixels may differ between
 * machines with different fonts, which is why figures are tested by
 * structure, not bytes.
 */
#include <errno.h>
#include <cairo.h>
#include <cairo-pdf.h>
#include <cairo-svg.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "chart.h"
#include "dynlib.h"

/* cairo and what it pulls in (X11, fonts, PNG) are opened at the first
 * figure written (dynlib.h). */
#define CAIRO_FUNCS(X) \
    X(cairo_clip) X(cairo_create) X(cairo_destroy) X(cairo_fill) X(cairo_image_surface_create) \
    X(cairo_line_to) X(cairo_move_to) X(cairo_paint) X(cairo_pdf_surface_create_for_stream) \
    X(cairo_pdf_surface_set_metadata) X(cairo_rectangle) X(cairo_rel_line_to) X(cairo_restore) \
    X(cairo_rotate) X(cairo_save) X(cairo_select_font_face) X(cairo_set_font_size) \
    X(cairo_set_line_cap) X(cairo_set_line_join) X(cairo_set_line_width) \
    X(cairo_set_source_rgb) X(cairo_set_source_rgba) X(cairo_show_text) X(cairo_status) \
    X(cairo_status_to_string) X(cairo_stroke) X(cairo_surface_destroy) X(cairo_surface_finish) \
    X(cairo_surface_status) X(cairo_surface_write_to_png_stream) \
    X(cairo_svg_surface_create_for_stream) X(cairo_text_extents) X(cairo_translate)
RT_DYNLIB_DEFINE(cairo, "libcairo.so.2", "cairo (figures)", CAIRO_FUNCS);

static const char *ext_of(const char *path)
{
    const char *dot = strrchr(path, '.');
    return dot ? dot + 1 : "";
}

bool rt_chart_cairo_ext(const char *path)
{
    const char *e = ext_of(path);
    return strcmp(e, "png") == 0 || strcmp(e, "svg") == 0 || strcmp(e, "pdf") == 0;
}

static void set_rgb(cairo_t *cr, rt_rgb c)
{
    (cairo_api.cairo_set_source_rgb)(cr, c.r / 255.0, c.g / 255.0, c.b / 255.0);
}

static void text_at(cairo_t *cr, const char *s, double x, double y, double ax, double ay)
{
    cairo_text_extents_t e;
    (cairo_api.cairo_text_extents)(cr, s, &e);
    (cairo_api.cairo_move_to)(cr, x - e.width * ax - e.x_bearing, y - e.height * ay - e.y_bearing);
    (cairo_api.cairo_show_text)(cr, s);
}

static void draw_panel(cairo_t *cr, const rt_panel *p, const char *xlabel, double x0, double y0,
                       double w, double h)
{
    double L = x0 + 64, R = x0 + w - 16, T = y0 + 34, B = y0 + h - 46;
    (cairo_api.cairo_set_font_size)(cr, 14);
    (cairo_api.cairo_select_font_face)(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
    (cairo_api.cairo_set_source_rgb)(cr, 0.1, 0.1, 0.1);
    text_at(cr, p->title ? p->title : "", (L + R) / 2, y0 + 12, 0.5, 0);
    (cairo_api.cairo_select_font_face)(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_NORMAL);
    double ymin = 0, ymax = 1;
    if (!rt_panel_range(p, &ymin, &ymax) || R - L < 20 || B - T < 20) return;
    rt_axis ya = rt_axis_fit(ymin, ymax, 6), xa = rt_axis_epochs(rt_panel_epochs(p), 8);
#define PX(v) (L + ((v) - xa.lo) / (xa.hi - xa.lo) * (R - L))
#define PY(v) (B - ((v) - ya.lo) / (ya.hi - ya.lo) * (B - T))
    /* grid and tick labels */
    char lab[32];
    (cairo_api.cairo_set_font_size)(cr, 11);
    (cairo_api.cairo_set_line_width)(cr, 1);
    for (int i = 0; i < ya.nticks; i++) {
        double y = floor(PY(ya.tick[i])) + 0.5;
        (cairo_api.cairo_set_source_rgb)(cr, 0.88, 0.88, 0.88);
        (cairo_api.cairo_move_to)(cr, L, y);
        (cairo_api.cairo_line_to)(cr, R, y);
        (cairo_api.cairo_stroke)(cr);
        (cairo_api.cairo_set_source_rgb)(cr, 0.25, 0.25, 0.25);
        text_at(cr, rt_axis_label(&ya, i, lab), L - 6, y, 1, 0.5);
    }
    for (int i = 0; i < xa.nticks; i++) {
        double x = floor(PX(xa.tick[i])) + 0.5;
        (cairo_api.cairo_set_source_rgb)(cr, 0.88, 0.88, 0.88);
        (cairo_api.cairo_move_to)(cr, x, T);
        (cairo_api.cairo_line_to)(cr, x, B);
        (cairo_api.cairo_stroke)(cr);
        (cairo_api.cairo_set_source_rgb)(cr, 0.25, 0.25, 0.25);
        snprintf(lab, sizeof lab, "%.0f", xa.tick[i]);
        text_at(cr, lab, x, B + 6, 0.5, 0);
    }
    (cairo_api.cairo_set_source_rgb)(cr, 0.3, 0.3, 0.3);
    (cairo_api.cairo_rectangle)(cr, floor(L) + 0.5, floor(T) + 0.5, floor(R - L), floor(B - T));
    (cairo_api.cairo_stroke)(cr);
    /* axis names */
    (cairo_api.cairo_set_font_size)(cr, 12);
    (cairo_api.cairo_set_source_rgb)(cr, 0.1, 0.1, 0.1);
    if (xlabel) text_at(cr, xlabel, (L + R) / 2, y0 + h - 8, 0.5, 1);
    (cairo_api.cairo_save)(cr);
    (cairo_api.cairo_translate)(cr, x0 + 14, (T + B) / 2);
    (cairo_api.cairo_rotate)(cr, -M_PI / 2);
    text_at(cr, p->title ? p->title : "", 0, 0, 0.5, 0.5);
    (cairo_api.cairo_restore)(cr);
    /* the series: one path each, clipped to the plot */
    (cairo_api.cairo_save)(cr);
    (cairo_api.cairo_rectangle)(cr, L, T, R - L, B - T);
    (cairo_api.cairo_clip)(cr);
    (cairo_api.cairo_set_line_width)(cr, 2);
    (cairo_api.cairo_set_line_join)(cr, CAIRO_LINE_JOIN_ROUND);
    (cairo_api.cairo_set_line_cap)(cr, CAIRO_LINE_CAP_ROUND);
    for (int s = 0; s < p->nseries; s++) {
        const rt_series *se = &p->series[s];
        bool pen = false, any = false;
        for (int i = 0; i < se->n; i++) {
            if (!isfinite(se->y[i])) { pen = false; continue; }
            double x = PX(i + 1.0), y = PY(se->y[i]);
            if (pen) (cairo_api.cairo_line_to)(cr, x, y);
            else (cairo_api.cairo_move_to)(cr, x, y);
            pen = any = true;
        }
        if (!any) continue;
        if (se->n == 1) (cairo_api.cairo_rel_line_to)(cr, 0.01, 0);   /* a dot (round caps) */
        set_rgb(cr, rt_palette(s));
        (cairo_api.cairo_stroke)(cr);
    }
    (cairo_api.cairo_restore)(cr);
    /* the legend: a swatch and the label per series, top right */
    (cairo_api.cairo_set_font_size)(cr, 11);
    double lw = 0;
    for (int s = 0; s < p->nseries; s++) {
        cairo_text_extents_t e;
        (cairo_api.cairo_text_extents)(cr, p->series[s].label, &e);
        if (e.x_advance > lw) lw = e.x_advance;
    }
    double bw = lw + 34, bh = 16.0 * p->nseries + 8, bx = R - bw - 8, by = T + 8;
    /* the corner whose box covers the fewest points of the curves (and of
     * the lines between them), top right first on a tie */
    double best = -1;
    for (int corner = 0; corner < 4; corner++) {
        double cx = corner % 2 == 0 ? R - bw - 8 : L + 8, cy = corner < 2 ? T + 8 : B - bh - 8;
        double hits = 0;
        for (int s = 0; s < p->nseries; s++) {
            const rt_series *se = &p->series[s];
            for (int i = 0; i < se->n; i++)
                for (int k = 0; k < 8; k++) {
                    int j = k ? i + 1 : i;   /* 8 samples along the line to the next epoch */
                    if (j >= se->n || !isfinite(se->y[i]) || !isfinite(se->y[j])) continue;
                    double f = k / 8.0;
                    double x = PX(i + 1.0 + f * (j - i)), y = PY(se->y[i] + f * (se->y[j] - se->y[i]));
                    hits += x >= cx - 4 && x <= cx + bw + 4 && y >= cy - 4 && y <= cy + bh + 4;
                }
        }
        if (best < 0 || hits < best) { best = hits; bx = cx; by = cy; }
    }
    (cairo_api.cairo_set_source_rgba)(cr, 1, 1, 1, 0.85);
    (cairo_api.cairo_rectangle)(cr, bx, by, bw, bh);
    (cairo_api.cairo_fill)(cr);
    for (int s = 0; s < p->nseries; s++) {
        double y = by + 4 + 16.0 * s + 8;
        set_rgb(cr, rt_palette(s));
        (cairo_api.cairo_rectangle)(cr, bx + 6, y - 2, 16, 4);
        (cairo_api.cairo_fill)(cr);
        (cairo_api.cairo_set_source_rgb)(cr, 0.1, 0.1, 0.1);
        text_at(cr, p->series[s].label, bx + 28, y, 0, 0.5);
    }
#undef PX
#undef PY
}

bool rt_chart_cairo(const rt_chart *c, const char *path, int width, int height, char *err,
                    size_t errlen)
{
    if (!rt_chart_cairo_ext(path)) return rt_chart_cairo_to(c, NULL, path, width, height, err, errlen);
    FILE *f = fopen(path, "wb");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    bool ok = rt_chart_cairo_to(c, f, path, width, height, err, errlen);
    if (fclose(f) != 0 && ok) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        ok = false;
    }
    return ok;
}

static cairo_status_t to_file(void *f, const unsigned char *data, unsigned int len)
{
    return fwrite(data, 1, len, (FILE *)f) == len ? CAIRO_STATUS_SUCCESS : CAIRO_STATUS_WRITE_ERROR;
}

bool rt_chart_cairo_to(const rt_chart *c, FILE *f, const char *path, int width, int height,
                       char *err, size_t errlen)
{
    const char *e = ext_of(path);
    rt_error le;
    if (!rt_dynlib_load(&cairo_lib, &le)) {
        snprintf(err, errlen, "%s", le.msg);
        return false;
    }
    cairo_surface_t *sf;
    if (strcmp(e, "png") == 0) sf = (cairo_api.cairo_image_surface_create)(CAIRO_FORMAT_ARGB32, width, height);
    else if (strcmp(e, "svg") == 0) sf = (cairo_api.cairo_svg_surface_create_for_stream)(to_file, f, width, height);
    else if (strcmp(e, "pdf") == 0) {
        sf = (cairo_api.cairo_pdf_surface_create_for_stream)(to_file, f, width, height);
        /* a fixed date, so the same chart gives the same file */
        if ((cairo_api.cairo_surface_status)(sf) == CAIRO_STATUS_SUCCESS)
            (cairo_api.cairo_pdf_surface_set_metadata)(sf, CAIRO_PDF_METADATA_CREATE_DATE, "2000-01-01T00:00:00");
    } else {
        snprintf(err, errlen, "the file must end in .png, .svg or .pdf, got \"%s\"", path);
        return false;
    }
    if ((cairo_api.cairo_surface_status)(sf) != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cannot write %s: %s", path,
                 (cairo_api.cairo_status_to_string)((cairo_api.cairo_surface_status)(sf)));
        (cairo_api.cairo_surface_destroy)(sf);
        return false;
    }
    cairo_t *cr = (cairo_api.cairo_create)(sf);
    (cairo_api.cairo_set_source_rgb)(cr, 1, 1, 1);
    (cairo_api.cairo_paint)(cr);
    double top = 0;
    if (c->title) {
        (cairo_api.cairo_select_font_face)(cr, "sans-serif", CAIRO_FONT_SLANT_NORMAL, CAIRO_FONT_WEIGHT_BOLD);
        (cairo_api.cairo_set_font_size)(cr, 16);
        (cairo_api.cairo_set_source_rgb)(cr, 0, 0, 0);
        text_at(cr, c->title, width / 2.0, 10, 0.5, 0);
        top = 34;
    }
    int np = c->npanels > 0 ? c->npanels : 1;
    for (int i = 0; i < c->npanels; i++)
        draw_panel(cr, &c->panels[i], c->xlabel, (double)width * i / np, top, (double)width / np,
                   height - top);
    cairo_status_t st = (cairo_api.cairo_status)(cr);
    (cairo_api.cairo_destroy)(cr);
    if (st == CAIRO_STATUS_SUCCESS && strcmp(e, "png") == 0)
        st = (cairo_api.cairo_surface_write_to_png_stream)(sf, to_file, f);
    (cairo_api.cairo_surface_finish)(sf);
    if (st == CAIRO_STATUS_SUCCESS) st = (cairo_api.cairo_surface_status)(sf);
    (cairo_api.cairo_surface_destroy)(sf);
    if (st != CAIRO_STATUS_SUCCESS) {
        snprintf(err, errlen, "cannot write %s: %s", path, (cairo_api.cairo_status_to_string)(st));
        return false;
    }
    return true;
}
