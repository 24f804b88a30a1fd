/*
 * test_chart.c — the chart layout every renderer shares (chart.h): round
 * ticks covering the data, epoch ticks, and the text renderer's contract
 * (width, same bytes for the same input, braille vs ASCII). Expected ticks
 * are worked out by hand in the comments.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include "chart.h"

Test(chart, axis_round_ticks)
{
    /* [0.0286, 1.3136], at most 6 ticks: raw step 0.257 -> 0.5; 0 .. 1.5 */
    rt_axis a = rt_axis_fit(0.0286, 1.3136, 6);
    cr_assert_float_eq(a.lo, 0.0, 1e-12);
    cr_assert_float_eq(a.hi, 1.5, 1e-12);
    cr_assert_float_eq(a.step, 0.5, 1e-12);
    cr_assert_eq(a.nticks, 4);
    cr_assert_eq(a.decimals, 1);
    char buf[32];
    cr_assert_str_eq(rt_axis_label(&a, 3, buf), "1.5");

    /* a constant 0.5 widens by 10% each way: [0.45, 0.55]; step 0.02
     * would need 7 ticks, so 0.025 (three decimals) from 0.45 to 0.55 */
    a = rt_axis_fit(0.5, 0.5, 6);
    cr_assert_float_eq(a.step, 0.025, 1e-12);
    cr_assert_eq(a.nticks, 5);
    cr_assert_str_eq(rt_axis_label(&a, 0, buf), "0.450");
    cr_assert_str_eq(rt_axis_label(&a, 4, buf), "0.550");

    /* negative values: [-3, 7], 6 ticks: raw 2 -> step 2, -4 .. 8 needs 7,
     * so 2.5: -5 .. 7.5, 6 ticks */
    a = rt_axis_fit(-3, 7, 6);
    cr_assert_float_eq(a.step, 2.5, 1e-12);
    cr_assert_float_eq(a.lo, -5, 1e-12);
    cr_assert(a.hi >= 7 && a.nticks <= 6);
    cr_assert_str_eq(rt_axis_label(&a, 2, buf), "0.0");   /* never "-0.0" */
}

Test(chart, axis_covers_data)
{
    /* for many ranges: ticks are within [lo, hi], lo <= min, hi >= max */
    for (int i = 1; i < 200; i++) {
        double min = sin(i) * pow(10, i % 7 - 3), max = min + fabs(cos(i)) * pow(10, i % 5 - 2);
        rt_axis a = rt_axis_fit(min, max, 6);
        cr_assert(a.lo <= min + 1e-12 && a.hi >= max - 1e-12, "range %g..%g: axis %g..%g", min,
                  max, a.lo, a.hi);
        cr_assert(a.nticks >= 2 && a.nticks <= 6, "%d ticks for %g..%g", a.nticks, min, max);
    }
}

Test(chart, epoch_ticks)
{
    /* 30 epochs, 8 ticks: raw (30-1)/7 = 4.1 -> 5: 1, 5, 10, ..., 30 */
    rt_axis a = rt_axis_epochs(30, 8);
    cr_assert_eq(a.nticks, 7);
    cr_assert_float_eq(a.tick[0], 1, 0);
    cr_assert_float_eq(a.tick[1], 5, 0);
    cr_assert_float_eq(a.tick[6], 30, 0);
    /* 4 epochs: every epoch */
    a = rt_axis_epochs(4, 8);
    cr_assert_eq(a.nticks, 4);
    cr_assert_float_eq(a.tick[3], 4, 0);
    /* one epoch: one tick, a range around it */
    a = rt_axis_epochs(1, 8);
    cr_assert_eq(a.nticks, 1);
    cr_assert(a.lo < 1 && a.hi > 1);
}

static size_t columns(const char *s, size_t n)
{
    size_t w = 0;
    for (size_t i = 0; i < n; i++) w += ((unsigned char)s[i] & 0xC0) != 0x80;
    return w;
}

Test(chart, text_width_and_determinism)
{
    double loss[5] = { 1.0, 0.6, 0.4, 0.3, 0.25 }, val[5] = { 1.1, 0.7, NAN, 0.5, 0.45 };
    rt_series s[2] = { { "loss", loss, 5 }, { "val_loss", val, 5 } };
    rt_panel p = { "loss", s, 2 };
    rt_chart c = { NULL, "epoch", &p, 1 };
    for (int unicode = 0; unicode < 2; unicode++) {
        char *a = rt_chart_text(&c, 60, unicode ? RT_TEXT_UNICODE : 0);
        char *b = rt_chart_text(&c, 60, unicode ? RT_TEXT_UNICODE : 0);
        cr_assert(a && b);
        cr_assert_str_eq(a, b);
        bool braille = false;
        for (const char *line = a; *line;) {
            const char *end = strchr(line, '\n');
            cr_assert(end, "every line ends in a newline");
            cr_assert(columns(line, (size_t)(end - line)) <= 60, "line wider than 60: %.*s",
                      (int)(end - line), line);
            cr_assert(end == line || end[-1] != ' ', "trailing blank: %.*s", (int)(end - line), line);
            for (const char *q = line; q < end; q++)
                braille |= (unsigned char)q[0] == 0xE2 && ((unsigned char)q[1] & 0xFC) == 0xA0;
            line = end + 1;
        }
        cr_assert_eq(braille, unicode == 1);
        cr_assert(strstr(a, "val_loss 0.4500"), "the legend has the last value");
        cr_assert(!strchr(a, '\033'), "no colour unless asked for");
        free(a);
        free(b);
    }
    /* colour: the same text once the escapes are taken out; blue (34) and
     * yellow (33, the palette's orange) for the two series */
    char *plain = rt_chart_text(&c, 60, RT_TEXT_UNICODE), *col = rt_chart_text(&c, 60, RT_TEXT_UNICODE | RT_TEXT_COLOUR);
    cr_assert(strstr(col, "\033[34m") && strstr(col, "\033[33m"));
    char *w = col;
    for (char *r = col; *r;) {
        if (*r == '\033') { r = strchr(r, 'm') + 1; continue; }
        *w++ = *r++;
    }
    *w = 0;
    cr_assert_str_eq(col, plain);
    free(plain);
    free(col);
}
