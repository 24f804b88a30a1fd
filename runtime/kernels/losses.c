/*
 * losses.c — loss values, fused gradients and accuracy (see losses.h).
 */
#include <string.h>
#include <strings.h>
#include "losses.h"
#include "mathf.h"

typedef double (*loss_fn)(const float *p, const float *y, int n, int c, float *grad);

static float clip(float p)
{
    return p < RT_CLIP_EPS ? RT_CLIP_EPS : p > 1.0f - RT_CLIP_EPS ? 1.0f - RT_CLIP_EPS : p;
}

static double crossentropy(const float *p, const float *y, int n, int c, float *grad)
{
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        float row = 0.0f;
        for (int j = 0; j < c; j++) {
            long at = (long)i * c + j;
            if (y[at] != 0.0f) row -= y[at] * rt_logf(clip(p[at]));
        }
        total += row;
    }
    if (grad) {
        float fn = (float)n;
        for (long k = 0; k < (long)n * c; k++) grad[k] = (p[k] - y[k]) / fn;
    }
    return total / n;
}

static double torch_crossentropy(const float *p, const float *y, int n, int c, float *grad)
{
    double total = 0.0;
    for (int i = 0; i < n; i++) {
        float row = 0.0f;
        for (int j = 0; j < c; j++) {
            long at = (long)i * c + j;
            if (y[at] != 0.0f) row -= y[at] * rt_logf(p[at]);
        }
        total += row;
    }
    if (grad) {
        float fn = (float)n;
        for (long k = 0; k < (long)n * c; k++) grad[k] = (p[k] - y[k]) / fn;
    }
    return total / n;
}

static double binary_crossentropy(const float *p, const float *y, int n, int c, float *grad)
{
    double total = 0.0;
    long size = (long)n * c;
    for (long k = 0; k < size; k++) {
        float q = clip(p[k]);
        total -= (double)(y[k] * rt_logf(q) + (1.0f - y[k]) * rt_logf(1.0f - q));
    }
    if (grad) {
        float fs = (float)size;
        for (long k = 0; k < size; k++) grad[k] = (p[k] - y[k]) / fs;
    }
    return total / (double)size;
}

static double mse(const float *p, const float *y, int n, int c, float *grad)
{
    double total = 0.0;
    long size = (long)n * c;
    for (long k = 0; k < size; k++) {
        float d = p[k] - y[k];
        total += (double)(d * d);
    }
    if (grad) {
        float fs = (float)size;
        for (long k = 0; k < size; k++) grad[k] = 2.0f * (p[k] - y[k]) / fs;
    }
    return total / (double)size;
}

static double mae(const float *p, const float *y, int n, int c, float *grad)
{
    double total = 0.0;
    long size = (long)n * c;
    for (long k = 0; k < size; k++) {
        float d = p[k] - y[k];
        total += (double)(d < 0.0f ? -d : d);
    }
    if (grad) {
        float fs = (float)size;
        for (long k = 0; k < size; k++) {
            float d = p[k] - y[k];
            grad[k] = (float)((d > 0.0f) - (d < 0.0f)) / fs;
        }
    }
    return total / (double)size;
}

static const struct { const char *name; rt_act fused; loss_fn fn; } table[RT_LOSS_COUNT] = {
#define RT_LOSS_ROW(tag, nm, fn, act) [RT_LOSS_##tag] = {nm, act, fn},
    RT_LOSSES(RT_LOSS_ROW)
#undef RT_LOSS_ROW
};

const char *rt_loss_name(rt_loss loss) { return table[loss].name; }
rt_act rt_loss_fused_act(rt_loss loss) { return table[loss].fused; }

bool rt_loss_from_name(const char *name, rt_loss *out)
{
    static const struct { const char *alias; rt_loss loss; } aliases[] = {
        {"categorical_crossentropy", RT_LOSS_CROSSENTROPY},
        {"bce", RT_LOSS_BINARY_CROSSENTROPY},
        {"mean_squared_error", RT_LOSS_MSE},
        {"mean_absolute_error", RT_LOSS_MAE},
    };
    if (!name) return false;
    for (int i = 0; i < RT_LOSS_COUNT; i++)
        if (strcasecmp(name, table[i].name) == 0) { *out = (rt_loss)i; return true; }
    for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
        if (strcasecmp(name, aliases[i].alias) == 0) { *out = aliases[i].loss; return true; }
    return false;
}

double rt_loss_eval(rt_loss loss, const float *p, const float *y, int n, int c, float *grad)
{
    return table[loss].fn(p, y, n, c, grad);
}

static int argmax(const float *v, int c)
{
    int best = 0;
    for (int j = 1; j < c; j++)
        if (v[j] > v[best]) best = j;
    return best;
}

double rt_loss_correct(rt_loss loss, const float *p, const float *y, int n, int c)
{
    double correct = 0.0;
    for (int i = 0; i < n; i++) {
        const float *pi = p + (long)i * c, *yi = y + (long)i * c;
        if (loss == RT_LOSS_BINARY_CROSSENTROPY || c == 1) {
            int hits = 0;
            for (int j = 0; j < c; j++) hits += (pi[j] > 0.5f) == (yi[j] > 0.5f);
            correct += (double)hits / c;
        } else {
            correct += argmax(pi, c) == argmax(yi, c);
        }
    }
    return correct;
}
