/*
 * chart.c — axis ranges, round ticks and the palette (chart.h).
 */
#include <math.h>
#include <stdio.h>
#include "chart.h"

/* 1, 2, 2.5, 5 or 10 times mag: the smallest round step >= raw. */
static double nice_step(double raw, bool allow_quarter, double *mag_out, bool *quarter)
{
    double mag = pow(10.0, floor(log10(raw)));
    double f = raw / mag, nice;
    *quarter = false;
    if (f <= 1.0) nice = 1.0;
    else if (f <= 2.0) nice = 2.0;
    else if (f <= 2.5 && allow_quarter) { nice = 2.5; *quarter = true; }
    else if (f <= 5.0) nice = 5.0;
    else nice = 10.0;
    *mag_out = mag;
    return nice * mag;
}

rt_axis rt_axis_fit(double min, double max, int max_ticks)
{
    rt_axis a = {0};
    if (max_ticks < 2) max_ticks = 2;
    if (max_ticks > RT_TICKS_MAX) max_ticks = RT_TICKS_MAX;
    if (!isfinite(min) || !isfinite(max)) min = 0, max = 1;
    if (!(max > min)) {
        double w = min != 0 ? fabs(min) * 0.1 : 1.0;
        min -= w;
        max += w;
    }
    double raw = (max - min) / (max_ticks - 1);
    for (int tries = 0; tries < 8; tries++) {
        double mag;
        bool quarter;
        double step = nice_step(raw, true, &mag, &quarter);
        double lo = floor(min / step + 1e-9) * step, hi = ceil(max / step - 1e-9) * step;
        int n = (int)lround((hi - lo) / step) + 1;
        if (n <= max_ticks || tries == 7) {
            a.lo = lo;
            a.hi = hi;
            a.step = step;
            a.nticks = n < RT_TICKS_MAX ? n : RT_TICKS_MAX;
            for (int i = 0; i < a.nticks; i++) a.tick[i] = lo + i * step;
            /* from the step itself: 10 * 0.01 is a step of 0.1, one decimal */
            int e = (int)floor(log10(step) + 1e-9);
            a.decimals = -e + (quarter ? 1 : 0);
            if (a.decimals < 0) a.decimals = 0;
            break;
        }
        raw = step * 1.0001;
    }
    return a;
}

rt_axis rt_axis_epochs(int n, int max_ticks)
{
    rt_axis a = {0};
    if (max_ticks < 2) max_ticks = 2;
    if (max_ticks > RT_TICKS_MAX) max_ticks = RT_TICKS_MAX;
    if (n < 2) {
        a.lo = 0, a.hi = 2, a.step = 1;
        a.tick[0] = 1;
        a.nticks = 1;
        return a;
    }
    a.lo = 1;
    a.hi = n;
    double raw = (double)(n - 1) / (max_ticks - 1), mag;
    bool quarter;
    double step = raw <= 1 ? 1 : nice_step(raw, false, &mag, &quarter);
    /* 1, then the multiples of step; one more step when 1 and the first
     * multiple would crowd each other. */
    for (;;) {
        a.nticks = 0;
        a.tick[a.nticks++] = 1;
        for (double t = step; t <= n + 1e-9; t += step)
            if (t > 1.5 && a.nticks < RT_TICKS_MAX) a.tick[a.nticks++] = t;
        if (a.nticks <= max_ticks) break;
        step = nice_step(step * 1.0001, false, &mag, &quarter);
    }
    if (a.nticks > 1 && step > 2 && a.tick[1] - 1 < step / 2) {
        for (int i = 1; i + 1 < a.nticks; i++) a.tick[i] = a.tick[i + 1];
        a.nticks--;
    }
    a.step = step;
    return a;
}

const char *rt_axis_label(const rt_axis *a, int i, char buf[32])
{
    double v = a->tick[i];
    if (fabs(v) < a->step * 1e-9) v = 0;   /* no "-0.00" */
    snprintf(buf, 32, "%.*f", a->decimals, v);
    return buf;
}

bool rt_panel_range(const rt_panel *p, double *min, double *max)
{
    bool any = false;
    for (int s = 0; s < p->nseries; s++)
        for (int i = 0; i < p->series[s].n; i++) {
            double y = p->series[s].y[i];
            if (!isfinite(y)) continue;
            if (!any || y < *min) *min = y;
            if (!any || y > *max) *max = y;
            any = true;
        }
    return any;
}

int rt_panel_epochs(const rt_panel *p)
{
    int n = 0;
    for (int s = 0; s < p->nseries; s++)
        if (p->series[s].n > n) n = p->series[s].n;
    return n;
}

static const rt_rgb palette[RT_PALETTE_N] = {
    { 0x00, 0x72, 0xb2 },   /* blue */
    { 0xe6, 0x9f, 0x00 },   /* orange */
    { 0x00, 0x9e, 0x73 },   /* bluish green */
    { 0xd5, 0x5e, 0x00 },   /* vermillion */
    { 0xcc, 0x79, 0xa7 },   /* reddish purple */
    { 0x56, 0xb4, 0xe9 },   /* sky blue */
    { 0xf0, 0xe4, 0x42 },   /* yellow */
    { 0x00, 0x00, 0x00 },   /* black */
};

rt_rgb rt_palette(int i)
{
    return palette[(i < 0 ? -i : i) % RT_PALETTE_N];
}

const char *rt_rgb_hex(rt_rgb c, char buf[8])
{
    snprintf(buf, 8, "#%02x%02x%02x", c.r, c.g, c.b);
    return buf;
}
