/* schedule.c — learning-rate schedules (see schedule.h). */
#include <math.h>
#include <stdio.h>
#include "schedule.h"

static const char *const names[RT_SCHED_COUNT] = {
#define RT_SCHED_NAME(tag, name) name,
    RT_SCHEDULES(RT_SCHED_NAME)
#undef RT_SCHED_NAME
};

const char *rt_schedule_name(rt_sched_kind kind) { return names[kind]; }

bool rt_schedule_check(const rt_schedule *s, rt_error *err)
{
    const char *n = names[s->kind];
    if (s->kind != RT_SCHED_PIECEWISE && !(s->lr > 0 && isfinite(s->lr)))
        return rt_fail(err, "%s: lr must be a positive number, got %g", n, s->lr);
    switch (s->kind) {
    case RT_SCHED_STEP:
        if (s->every < 1) return rt_fail(err, "step: every must be a positive number of epochs, got %ld", s->every);
        if (!(s->gamma > 0 && isfinite(s->gamma)))
            return rt_fail(err, "step: gamma must be positive, got %g", s->gamma);
        break;
    case RT_SCHED_EXPONENTIAL:
        if (!(s->rate > 0 && isfinite(s->rate)))
            return rt_fail(err, "exponential: rate must be positive, got %g", s->rate);
        break;
    case RT_SCHED_COSINE:
        if (s->epochs < 1) return rt_fail(err, "cosine: epochs must be positive, got %ld", s->epochs);
        if (s->warmup < 0 || s->warmup >= s->epochs)
            return rt_fail(err, "cosine: warmup must be in [0, epochs), got %ld with epochs=%ld",
                           s->warmup, s->epochs);
        break;
    case RT_SCHED_PIECEWISE:
        if (s->npieces < 1 || s->at[0] != 0)
            return rt_fail(err, "piecewise: the first piece must start at epoch 0");
        for (int i = 0; i < s->npieces; i++) {
            if (i > 0 && s->at[i] <= s->at[i - 1])
                return rt_fail(err, "piecewise: epochs must increase, got %ld after %ld", s->at[i],
                               s->at[i - 1]);
            if (!(s->value[i] > 0 && isfinite(s->value[i])))
                return rt_fail(err, "piecewise: lr must be a positive number, got %g from epoch %ld",
                               s->value[i], s->at[i]);
        }
        break;
    case RT_SCHED_PLATEAU:
        if (!(s->factor > 0 && s->factor < 1))
            return rt_fail(err, "reduce_on_plateau: factor must be in (0, 1), got %g", s->factor);
        if (s->patience < 0)
            return rt_fail(err, "reduce_on_plateau: patience must be 0 or more, got %ld", s->patience);
        if (!(s->min_delta >= 0) || !(s->min_lr >= 0))
            return rt_fail(err, "reduce_on_plateau: min_delta and min_lr must be 0 or more");
        break;
    default: break;
    }
    return true;
}

size_t rt_schedule_describe(const rt_schedule *s, char *buf, size_t size)
{
    const char *n = names[s->kind];
    switch (s->kind) {
    case RT_SCHED_STEP:
        return (size_t)snprintf(buf, size, "step(%.9g, every=%ld, gamma=%.9g)", s->lr, s->every, s->gamma);
    case RT_SCHED_EXPONENTIAL:
        return (size_t)snprintf(buf, size, "exponential(%.9g, rate=%.9g)", s->lr, s->rate);
    case RT_SCHED_COSINE:
        return (size_t)snprintf(buf, size, "cosine(%.9g, epochs=%ld, warmup=%ld)", s->lr, s->epochs,
                                s->warmup);
    case RT_SCHED_PIECEWISE: {
        size_t k = (size_t)snprintf(buf, size, "piecewise([");
        for (int i = 0; i < s->npieces; i++)
            k += (size_t)snprintf(k < size ? buf + k : NULL, k < size ? size - k : 0, "%s[%ld, %.9g]",
                                  i ? ", " : "", s->at[i], s->value[i]);
        k += (size_t)snprintf(k < size ? buf + k : NULL, k < size ? size - k : 0, "])");
        return k;
    }
    case RT_SCHED_PLATEAU:
        return (size_t)snprintf(buf, size, "%s(%.9g, factor=%.9g, patience=%ld, min_delta=%.9g, "
                                "min_lr=%.9g)", n, s->lr, s->factor, s->patience, s->min_delta,
                                s->min_lr);
    default:
        return (size_t)snprintf(buf, size, "%.9g", s->lr);
    }
}

void rt_schedule_start(const rt_schedule *s, rt_sched_state *st)
{
    *st = (rt_sched_state){ .lr = s->lr, .best = INFINITY, .wait = 0 };
}

double rt_schedule_lr(const rt_schedule *s, const rt_sched_state *st, long e)
{
    switch (s->kind) {
    case RT_SCHED_STEP: return s->lr * pow(s->gamma, (double)(e / s->every));
    case RT_SCHED_EXPONENTIAL: return s->lr * pow(s->rate, (double)e);
    case RT_SCHED_COSINE: {
        if (e < s->warmup) return s->lr * (double)(e + 1) / (double)s->warmup;
        double t = (double)(s->epochs - s->warmup), d = (double)(e - s->warmup);
        return s->lr * 0.5 * (1.0 + cos(M_PI * (d < t ? d : t) / t));
    }
    case RT_SCHED_PIECEWISE: {
        int i = 0;
        while (i + 1 < s->npieces && s->at[i + 1] <= e) i++;
        return s->value[i];
    }
    case RT_SCHED_PLATEAU: return st->lr;
    default: return s->lr;
    }
}

void rt_schedule_observe(const rt_schedule *s, rt_sched_state *st, double value)
{
    if (s->kind != RT_SCHED_PLATEAU) return;
    if (value < st->best - s->min_delta) {
        st->best = value;
        st->wait = 0;
        return;
    }
    if (++st->wait >= s->patience) {
        double lr = st->lr * s->factor;
        if (st->lr > s->min_lr) st->lr = lr > s->min_lr ? lr : s->min_lr;
        st->wait = 0;
    }
}
