/*
 * text.c — a chart as terminal text (chart.h: rt_chart_text).
 *
 * Each panel is a grid of character cells. With `unicode` a cell is a
 * braille character, 2 x 4 dots, so a curve has four times the vertical
 * and twice the horizontal resolution of the cells; otherwise a cell is
 * one ASCII character and each series has its own marker (* o + x ...).
 * Lines between epochs are drawn dot by dot (Bresenham), so a curve stays
 * connected however steep. Series are told apart by a label at the height
 * of their last value, right of the plot, and by the legend under it,
 * which gives each series' last value.
 *
 *   loss
 *     0.60 ┤⢣
 *          │ ⠑⢄                          ⠤ val_loss
 *     0.40 ┤   ⠑⠢⢄⣀⡀                     ...
 *          └┬────────┬─────────┬
 *           1        10        20
 *                   epoch
 *
 * Everything is computed from the values and the width with integer and
 * double arithmetic and printed with snprintf: the same bytes everywhere.
 * On a terminal the caller may ask for colour: a cell takes the colour of
 * the first series with a dot in it.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "chart.h"

typedef struct text { char *s; size_t n, cap; bool oom; } text;

static void put(text *t, const char *s, size_t n)
{
    if (t->oom) return;
    if (t->n + n + 1 > t->cap) {
        size_t cap = (t->n + n + 1) * 2;
        char *p = realloc(t->s, cap);
        if (!p) { t->oom = true; return; }
        t->s = p;
        t->cap = cap;
    }
    memcpy(t->s + t->n, s, n);
    t->n += n;
    t->s[t->n] = 0;
}

static void puts_(text *t, const char *s) { put(t, s, strlen(s)); }
static void spaces(text *t, int n) { while (n-- > 0) put(t, " ", 1); }

/* Display width of UTF-8 text: one column per code point. */
static int width(const char *s)
{
    int w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* Writes at most `cols` columns of s; returns the columns written. */
static int put_cols(text *t, const char *s, int cols)
{
    int w = 0;
    const char *p = s;
    while (*p && w < cols) {
        p++;
        while (((unsigned char)*p & 0xC0) == 0x80) p++;
        w++;
    }
    put(t, s, (size_t)(p - s));
    return w;
}

static const char markers[] = "*o+x#@%&";

/* The basic ANSI colour nearest each palette entry (chart.c): blue,
 * yellow for orange, green, red for vermillion, magenta, cyan, bright
 * yellow, the terminal's default for black. */
static const char *const ansi[RT_PALETTE_N] = { "34", "33", "32", "31", "35", "36", "93", "39" };

static void colour_on(text *t, bool colour, int s)
{
    if (!colour) return;
    put(t, "\033[", 2);
    puts_(t, ansi[s % RT_PALETTE_N]);
    put(t, "m", 1);
}

static void colour_off(text *t, bool colour)
{
    if (colour) puts_(t, "\033[0m");
}

/* The braille bit of dot (x, y) of a cell, x in 0..1, y in 0..3. */
static unsigned braille_bit(int x, int y)
{
    static const unsigned char bits[2][4] = { { 0x01, 0x02, 0x04, 0x40 },
                                              { 0x08, 0x10, 0x20, 0x80 } };
    return bits[x][y];
}

typedef struct grid {
    int cols, rows, sw, sh;     /* cells, and dots per cell */
    unsigned char *dots;        /* unicode: braille bits per cell */
    unsigned char *owner;       /* 1 + the first series with a dot in the cell, 0: empty */
    bool unicode;
} grid;

static void plot_dot(grid *g, int x, int y, int s)
{
    if (x < 0 || y < 0 || x >= g->cols * g->sw || y >= g->rows * g->sh) return;
    int c = x / g->sw, r = y / g->sh;
    if (g->unicode) g->dots[r * g->cols + c] |= (unsigned char)braille_bit(x % g->sw, y % g->sh);
    if (!g->owner[r * g->cols + c]) g->owner[r * g->cols + c] = (unsigned char)(s + 1);
}

static void plot_line(grid *g, int x0, int y0, int x1, int y1, int s)
{
    int dx = abs(x1 - x0), dy = -abs(y1 - y0);
    int sx = x0 < x1 ? 1 : -1, sy = y0 < y1 ? 1 : -1, err = dx + dy;
    for (;;) {
        plot_dot(g, x0, y0, s);
        if (x0 == x1 && y0 == y1) return;
        int e2 = 2 * err;
        if (e2 >= dy) { err += dy; x0 += sx; }
        if (e2 <= dx) { err += dx; y0 += sy; }
    }
}

/* Dot coordinates of a value on an axis spanning `dots` dots; y grows down. */
static int to_dot(double v, const rt_axis *a, int dots, bool down)
{
    double f = (v - a->lo) / (a->hi - a->lo);
    if (down) f = 1 - f;
    long d = lround(f * (dots - 1));
    return (int)(d < 0 ? 0 : d > dots - 1 ? dots - 1 : d);
}

static void fmt_value(double v, char buf[32])
{
    if (!isfinite(v)) snprintf(buf, 32, "-");
    else if (v != 0 && (fabs(v) < 1e-3 || fabs(v) >= 1e6)) snprintf(buf, 32, "%.3e", v);
    else snprintf(buf, 32, "%.4f", v);
}

static void render_panel(text *t, const rt_panel *p, const char *xlabel, int W, int H,
                         bool unicode, bool colour)
{
    const char *vbar = unicode ? "\u2502" : "|", *vtick = unicode ? "\u2524" : "+";
    const char *corner = unicode ? "\u2514" : "+", *hbar = unicode ? "\u2500" : "-";
    const char *htick = unicode ? "\u252c" : "+";
    puts_(t, p->title ? p->title : "");
    put(t, "\n", 1);
    double ymin = 0, ymax = 1;
    if (!rt_panel_range(p, &ymin, &ymax)) {
        puts_(t, "  (no values)\n");
        return;
    }
    rt_axis ya = rt_axis_fit(ymin, ymax, H / 2 + 1);
    int n = rt_panel_epochs(p);

    /* Columns: labels, a space, the axis, the plot, a space, end labels. */
    char lab[32];
    int lw = 0;
    for (int i = 0; i < ya.nticks; i++) {
        int w = width(rt_axis_label(&ya, i, lab));
        if (w > lw) lw = w;
    }
    int rw = 0;
    for (int s = 0; s < p->nseries; s++) {
        int w = width(p->series[s].label) + (unicode ? 0 : 2);
        if (w > rw) rw = w;
    }
    if (rw > W / 4) rw = W / 4;
    int P = W - lw - 2 - 1 - rw;
    if (P < 10) P = 10;
    grid g = { .cols = P, .rows = H, .sw = unicode ? 2 : 1, .sh = unicode ? 4 : 1,
               .unicode = unicode };
    g.dots = calloc((size_t)(P * H), 1);
    g.owner = calloc((size_t)(P * H), 1);
    char **right = calloc((size_t)H, sizeof *right);   /* end label per row */
    int *right_s = calloc((size_t)H, sizeof *right_s);
    if (!g.dots || !g.owner || !right || !right_s) { t->oom = true; goto done; }
    rt_axis xa = rt_axis_epochs(n, P / 8 + 1);

    for (int s = 0; s < p->nseries; s++) {
        const rt_series *se = &p->series[s];
        int px = 0, py = 0, last_row = -1;
        bool have = false;
        for (int i = 0; i < se->n; i++) {
            double y = se->y[i];
            if (!isfinite(y)) { have = false; continue; }
            int x = to_dot(i + 1, &xa, P * g.sw, false), yy = to_dot(y, &ya, H * g.sh, true);
            if (have) plot_line(&g, px, py, x, yy, s);
            else plot_dot(&g, x, yy, s);
            px = x, py = yy, have = true;
            last_row = yy / g.sh;
        }
        /* The end label: the row of the last value, else the nearest free. */
        for (int d = 0; last_row >= 0 && d < H; d++) {
            int r = last_row + (d % 2 ? (d + 1) / 2 : -(d / 2));
            if (r < 0 || r >= H || right[r]) continue;
            right[r] = (char *)se->label;
            right_s[r] = s;
            break;
        }
    }

    for (int r = 0; r < H; r++) {
        const char *tick = NULL;
        for (int i = 0; i < ya.nticks; i++)
            if (to_dot(ya.tick[i], &ya, H * g.sh, true) / g.sh == r)
                tick = rt_axis_label(&ya, i, lab);
        spaces(t, lw - (tick ? width(tick) : 0));
        if (tick) puts_(t, tick);
        put(t, " ", 1);
        puts_(t, tick ? vtick : vbar);
        int last = P;   /* trailing blanks are not written */
        if (!right[r])
            while (last > 0 && !(unicode ? g.dots[r * P + last - 1] : g.owner[r * P + last - 1]))
                last--;
        int cur = 0;   /* 1 + the series whose colour is on */
        for (int c = 0; c < last; c++) {
            int o = g.owner[r * P + c];
            if (colour && o && o != cur) { colour_on(t, true, o - 1); cur = o; }
            if (unicode) {
                unsigned bits = g.dots[r * P + c];
                if (!bits) { put(t, " ", 1); continue; }
                char u[3] = { (char)0xE2, (char)(0xA0 | (bits >> 6)), (char)(0x80 | (bits & 0x3F)) };
                put(t, u, 3);
            } else {
                put(t, o ? &markers[(o - 1) % 8] : " ", 1);
            }
        }
        if (cur) colour_off(t, true);
        if (right[r]) {
            put(t, " ", 1);
            colour_on(t, colour, right_s[r]);
            if (!unicode) {
                put(t, &markers[right_s[r] % 8], 1);
                put(t, " ", 1);
            }
            put_cols(t, right[r], rw - (unicode ? 0 : 2));
            colour_off(t, colour);
        }
        put(t, "\n", 1);
    }

    /* The x axis, its tick labels (skipped where they would touch) and name. */
    spaces(t, lw + 1);
    puts_(t, corner);
    int *tcol = calloc((size_t)xa.nticks, sizeof *tcol);
    if (!tcol) { t->oom = true; goto done; }
    for (int i = 0; i < xa.nticks; i++) tcol[i] = to_dot(xa.tick[i], &xa, P * g.sw, false) / g.sw;
    for (int c = 0; c < P; c++) {
        bool is_tick = false;
        for (int i = 0; i < xa.nticks; i++) is_tick |= tcol[i] == c;
        puts_(t, is_tick ? htick : hbar);
    }
    put(t, "\n", 1);
    int at = 0;   /* columns written on the label line, counted from the axis */
    spaces(t, lw + 2);
    for (int i = 0; i < xa.nticks; i++) {
        char xl[32];
        snprintf(xl, sizeof xl, "%.0f", xa.tick[i]);
        int w = (int)strlen(xl), start = tcol[i] - (w - 1) / 2;
        if (start < 0) start = 0;
        if (start < at + (at ? 1 : 0)) continue;
        spaces(t, start - at);
        puts_(t, xl);
        at = start + w;
    }
    put(t, "\n", 1);
    free(tcol);
    if (xlabel) {
        int xw = width(xlabel);
        spaces(t, lw + 2 + (P - xw) / 2);
        puts_(t, xlabel);
        put(t, "\n", 1);
    }

    /* The legend: each series with its last value. */
    int col = 0;
    for (int s = 0; s < p->nseries; s++) {
        const rt_series *se = &p->series[s];
        double lastv = NAN;
        for (int i = se->n; i-- > 0;)
            if (isfinite(se->y[i])) { lastv = se->y[i]; break; }
        char v[32], item[256];
        fmt_value(lastv, v);
        if (unicode) snprintf(item, sizeof item, "%s %s", se->label, v);
        else snprintf(item, sizeof item, "%c %s %s", markers[s % 8], se->label, v);
        int w = width(item);
        if (col > 0 && col + 3 + w > W) { put(t, "\n", 1); col = 0; }
        if (col == 0) { spaces(t, lw + 2); col = lw + 2; }
        else { spaces(t, 3); col += 3; }
        colour_on(t, colour, s);
        puts_(t, item);
        colour_off(t, colour);
        col += w;
    }
    if (col) put(t, "\n", 1);
done:
    free(g.dots);
    free(g.owner);
    free(right);
    free(right_s);
}

char *rt_chart_text(const rt_chart *c, int width_cols, unsigned flags)
{
    bool unicode = flags & RT_TEXT_UNICODE, colour = flags & RT_TEXT_COLOUR;
    text t = {0};
    if (width_cols < 40) width_cols = 40;
    int H = c->npanels > 1 ? 10 : 14;
    if (c->title) {
        puts_(&t, c->title);
        put(&t, "\n", 1);
    }
    for (int i = 0; i < c->npanels; i++) {
        if (i) put(&t, "\n", 1);
        render_panel(&t, &c->panels[i], c->xlabel, width_cols, H, unicode, colour);
    }
    if (!t.s) put(&t, "", 0);
    if (t.oom) {
        free(t.s);
        return NULL;
    }
    return t.s;
}
