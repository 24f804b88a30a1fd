/*
 * html.c — the study report as one HTML file (html.h).
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "html.h"

static void esc(FILE *f, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

static const char *const curve_names[RT_CURVE_COUNT] = { "loss", "val_loss", "acc", "val_acc" };

/* One chart: a panel of every row's curve k, as inline SVG. */
static void chart_svg(FILE *f, const rt_report *r, int k)
{
    enum { W = 460, H = 280, L = 56, RM = 12, T = 12, BM = 40 };
    rt_series series[1024];
    int idx[1024], ns = 0;
    for (int i = 0; i < r->nrows && ns < 1024; i++)
        if (r->rows[i].curves[k].n > 0) {
            series[ns] = r->rows[i].curves[k];
            idx[ns++] = i;
        }
    rt_panel p = { curve_names[k], series, ns };
    double lo = 0, hi = 1;
    fprintf(f, "<figure class=\"chart\" data-metric=\"%s\">\n<figcaption>%s</figcaption>\n",
            curve_names[k], curve_names[k]);
    if (!rt_panel_range(&p, &lo, &hi)) {
        fputs("<p class=\"none\">no values</p>\n</figure>\n", f);
        return;
    }
    rt_axis ya = rt_axis_fit(lo, hi, 6), xa = rt_axis_epochs(rt_panel_epochs(&p), 8);
    double pw = W - L - RM, ph = H - T - BM;
#define PX(v) (L + ((v) - xa.lo) / (xa.hi - xa.lo) * pw)
#define PY(v) (T + ph - ((v) - ya.lo) / (ya.hi - ya.lo) * ph)
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" width=\"%d\" "
            "height=\"%d\" role=\"img\" aria-label=\"%s per epoch\">\n", W, H, W, H, curve_names[k]);
    char lab[32];
    for (int i = 0; i < ya.nticks; i++) {
        double y = PY(ya.tick[i]);
        fprintf(f, "<line class=\"grid\" x1=\"%d\" x2=\"%.1f\" y1=\"%.1f\" y2=\"%.1f\"/>"
                "<text class=\"tick\" x=\"%d\" y=\"%.1f\" text-anchor=\"end\" "
                "dominant-baseline=\"middle\">%s</text>\n",
                L, L + pw, y, y, L - 6, y, rt_axis_label(&ya, i, lab));
    }
    for (int i = 0; i < xa.nticks; i++) {
        double x = PX(xa.tick[i]);
        fprintf(f, "<line class=\"grid\" x1=\"%.1f\" x2=\"%.1f\" y1=\"%d\" y2=\"%.1f\"/>"
                "<text class=\"tick\" x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%.0f</text>\n",
                x, x, T, T + ph, x, T + ph + 16, xa.tick[i]);
    }
    fprintf(f, "<rect class=\"frame\" x=\"%d\" y=\"%d\" width=\"%.0f\" height=\"%.0f\"/>\n", L, T,
            pw, ph);
    fprintf(f, "<text class=\"axis\" x=\"%.1f\" y=\"%d\" text-anchor=\"middle\">epoch</text>\n",
            L + pw / 2, H - 6);
    for (int s = 0; s < ns; s++) {
        char hex[8];
        int row = idx[s];
        fprintf(f, "<polyline class=\"series\" data-row=\"%d\" stroke=\"%s\" points=\"", row,
                rt_rgb_hex(rt_palette(row), hex));
        for (int i = 0; i < series[s].n; i++)
            if (isfinite(series[s].y[i]))
                fprintf(f, "%s%.1f,%.1f", i ? " " : "", PX(i + 1.0), PY(series[s].y[i]));
        fputs("\"><title>", f);
        esc(f, series[s].label);
        fputs("</title></polyline>\n", f);
        /* a dot per epoch, its value on hover */
        fprintf(f, "<g class=\"points\" data-row=\"%d\" fill=\"%s\">", row, hex);
        for (int i = 0; i < series[s].n; i++) {
            if (!isfinite(series[s].y[i])) continue;
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.5\"><title>", PX(i + 1.0),
                    PY(series[s].y[i]));
            esc(f, series[s].label);
            fprintf(f, ", epoch %d: %s %.6g</title></circle>", i + 1, curve_names[k], series[s].y[i]);
        }
        fputs("</g>\n", f);
    }
#undef PX
#undef PY
    fputs("</svg>\n</figure>\n", f);
}

static const char style[] =
    "body{font-family:system-ui,sans-serif;margin:24px;color:#1a1a1a;max-width:1200px}\n"
    "table{border-collapse:collapse;margin:12px 0}\n"
    "th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:left}\n"
    "td.num{text-align:right;font-variant-numeric:tabular-nums}\n"
    "th{cursor:pointer;background:#f4f4f4;user-select:none}\n"
    "th[aria-sort=ascending]::after{content:\" \\25B2\"}\n"
    "th[aria-sort=descending]::after{content:\" \\25BC\"}\n"
    ".swatch{display:inline-block;width:14px;height:4px;margin-right:6px;vertical-align:middle}\n"
    ".charts{display:flex;flex-wrap:wrap;gap:12px}\n"
    "figure.chart{margin:0}figcaption{font-weight:bold}\n"
    "svg .grid{stroke:#e2e2e2;stroke-width:1}svg .frame{fill:none;stroke:#555}\n"
    "svg .tick,svg .axis{font-size:11px;fill:#333}\n"
    "svg .series{fill:none;stroke-width:2;stroke-linejoin:round}\n"
    "svg .points circle{opacity:0}svg .points circle:hover{opacity:1}\n"
    ".off{opacity:.12}ul.legend li{cursor:pointer}\n"
    "pre{background:#f6f6f6;padding:12px;overflow:auto}\n"
    "dl.meta{display:grid;grid-template-columns:max-content auto;gap:2px 16px}\n"
    "dl.meta dt{font-weight:bold}dl.meta dd{margin:0}\n";

/* Sorting by a header: numbers by data-v, text by its content; a click on
 * a legend entry fades that row's curves. */
static const char script[] =
    "document.documentElement.className='js';\n"
    "document.querySelectorAll('table.results th').forEach(function(th,c){\n"
    "  th.addEventListener('click',function(){\n"
    "    var tb=th.closest('table').tBodies[0],rows=Array.from(tb.rows);\n"
    "    var up=th.getAttribute('aria-sort')!=='ascending';\n"
    "    th.parentNode.querySelectorAll('th').forEach(function(h){h.removeAttribute('aria-sort')});\n"
    "    th.setAttribute('aria-sort',up?'ascending':'descending');\n"
    "    rows.sort(function(a,b){var x=a.cells[c],y=b.cells[c];\n"
    "      var p=parseFloat(x.dataset.v),q=parseFloat(y.dataset.v),d;\n"
    "      if(!isNaN(p)&&!isNaN(q))d=p-q;else d=x.textContent.localeCompare(y.textContent);\n"
    "      return up?d:-d;});\n"
    "    rows.forEach(function(r){tb.appendChild(r)});\n"
    "  });\n"
    "});\n"
    "document.querySelectorAll('ul.legend li').forEach(function(li){\n"
    "  li.addEventListener('click',function(){\n"
    "    li.classList.toggle('off');\n"
    "    document.querySelectorAll('svg [data-row=\"'+li.dataset.row+'\"]').forEach(function(e){\n"
    "      e.classList.toggle('off',li.classList.contains('off'))});\n"
    "  });\n"
    "});\n";

bool rt_report_html(const rt_report *r, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "w");
    if (!f) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    rt_report_html_write(r, f);
    if (fclose(f) != 0) {
        snprintf(err, errlen, "cannot write %s: %s", path, strerror(errno));
        return false;
    }
    return true;
}

bool rt_report_html_write(const rt_report *r, FILE *f)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\" class=\"nojs\">\n<head>\n<meta charset=\"utf-8\">\n<title>", f);
    esc(f, r->title);
    fprintf(f, "</title>\n<style>\n%s</style>\n</head>\n<body>\n<h1>", style);
    esc(f, r->title);
    fputs("</h1>\n<h2>Results</h2>\n<table class=\"results\">\n<thead><tr>", f);
    fputs("<th>#</th>", f);
    for (int c = 0; c < r->ncols; c++) {
        fputs("<th>", f);
        esc(f, r->columns[c]);
        fputs("</th>", f);
    }
    fputs("<th>seconds</th></tr></thead>\n<tbody>\n", f);
    for (int i = 0; i < r->nrows; i++) {
        const rt_report_row *row = &r->rows[i];
        char hex[8];
        bool curves = false;
        for (int k = 0; k < RT_CURVE_COUNT; k++) curves |= row->curves[k].n > 0;
        fprintf(f, "<tr data-row=\"%d\"><td class=\"num\" data-v=\"%d\">", i, i + 1);
        if (curves)
            fprintf(f, "<span class=\"swatch\" style=\"background:%s\"></span>",
                    rt_rgb_hex(rt_palette(i), hex));
        fprintf(f, "%d</td>", i + 1);
        for (int c = 0; c < r->ncols; c++) {
            double v = row->values[c];
            if (isfinite(v))
                fprintf(f, "<td class=\"num\" data-v=\"%.17g\" title=\"%.17g\">", v, v);
            else
                fputs("<td>", f);
            esc(f, row->cells[c]);
            fputs("</td>", f);
        }
        if (isfinite(row->seconds))
            fprintf(f, "<td class=\"num\" data-v=\"%.17g\">%.2f</td>", row->seconds, row->seconds);
        else
            fputs("<td>-</td>", f);
        fputs("</tr>\n", f);
    }
    fputs("</tbody>\n</table>\n<h2>Learning curves</h2>\n<div class=\"charts\">\n", f);
    for (int k = 0; k < RT_CURVE_COUNT; k++) chart_svg(f, r, k);
    fputs("</div>\n<ul class=\"legend\">\n", f);
    for (int i = 0; i < r->nrows; i++) {
        char hex[8];
        bool curves = false;
        for (int k = 0; k < RT_CURVE_COUNT; k++) curves |= r->rows[i].curves[k].n > 0;
        if (!curves) continue;
        fprintf(f, "<li data-row=\"%d\"><span class=\"swatch\" style=\"background:%s\"></span>%d: ",
                i, rt_rgb_hex(rt_palette(i), hex), i + 1);
        esc(f, r->rows[i].label);
        fputs("</li>\n", f);
    }
    fputs("</ul>\n<h2>Hyperparameters</h2>\n<table class=\"params\">\n"
          "<thead><tr><th>#</th><th>point</th><th>seconds</th></tr></thead>\n<tbody>\n", f);
    for (int i = 0; i < r->nrows; i++) {
        const rt_report_row *row = &r->rows[i];
        fprintf(f, "<tr><td>%d</td><td><pre>", i + 1);
        esc(f, row->params ? row->params : row->label);
        if (isfinite(row->seconds)) fprintf(f, "</pre></td><td>%.2f</td></tr>\n", row->seconds);
        else fputs("</pre></td><td>-</td></tr>\n", f);
    }
    fputs("</tbody>\n</table>\n<h2>How to rerun</h2>\n<dl class=\"meta\">\n", f);
    for (int i = 0; i < r->nmeta; i++) {
        fputs("<dt>", f);
        esc(f, r->meta[2 * i]);
        fputs("</dt><dd>", f);
        esc(f, r->meta[2 * i + 1]);
        fputs("</dd>\n", f);
    }
    fputs("</dl>\n", f);
    if (r->source) {
        fputs("<h3>", f);
        esc(f, r->source_name ? r->source_name : "script");
        fputs("</h3>\n<pre class=\"source\">", f);
        esc(f, r->source);
        fputs("</pre>\n", f);
    }
    fprintf(f, "<script>\n%s</script>\n</body>\n</html>\n", script);
    return !ferror(f);
}
