/*
 * model.c — layer list, training step, inference (see model.h).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "fused.h"
#include "model.h"
#include "tensor.h"

enum { DEFAULT_CHUNK = 256 };

struct rt_model {
    int nlayers;
    rt_layer *layers;
    int in, out;
    rt_pool *pool;
    int nparams;
    rt_param *params;        /* copies of the layers' descriptors, layer order */
    int first_trainable;     /* layers at or before it need no dL/dx */
    int cap;                 /* rows the buffers hold */
    float *grad;             /* [cap x out]: dL/d(last output) */
    float *probs;            /* [cap x out]: softmax/sigmoid of linear outputs */
    rt_grad_rules rules;     /* gradient rules before each step (model.h) */
    bool penalised;          /* some dense layer has l1 or l2 */
    bool shadow;             /* rt_model_shadow: the parameters are another model's */
};

rt_model *rt_model_create(const rt_layer_spec *specs, int nspecs, int in_features,
                          rt_rng *rng, rt_pool *pool, rt_error *err)
{
    if (nspecs <= 0) return rt_fail(err, "model: needs at least one layer"), NULL;
    if (in_features <= 0)
        return rt_fail(err, "model: input width must be positive, got %d", in_features), NULL;
    rt_model *m = rt_alloc(sizeof *m);
    rt_layer *layers = rt_alloc((size_t)nspecs * sizeof *layers);
    if (!m || !layers) {
        rt_free(m);
        rt_free(layers);
        return rt_fail(err, "model: out of memory"), NULL;
    }
    m->layers = layers;
    m->pool = pool;
    m->in = in_features;
    m->first_trainable = nspecs;
    int width = in_features;
    for (int i = 0; i < nspecs; i++) {
        m->nlayers = i + 1;
        if (!rt_layer_setup(&m->layers[i], &specs[i], width, err)) {
            char msg[sizeof err->msg];
            if (err) {
                snprintf(msg, sizeof msg, "%s", err->msg);
                rt_fail(err, "layer %d: %s", i + 1, msg);
            }
            rt_model_free(m);
            return NULL;
        }
        width = m->layers[i].out;
        if (specs[i].kind == RT_LAYER_DENSE && (specs[i].l1 != 0 || specs[i].l2 != 0))
            m->penalised = true;
        m->nparams += m->layers[i].nparams;
        for (int p = 0; p < m->layers[i].nparams; p++)
            if (m->layers[i].params[p].trainable && i < m->first_trainable) m->first_trainable = i;
    }
    m->out = width;
    m->params = rt_alloc((size_t)(m->nparams + 1) * sizeof *m->params);
    if (!m->params) {
        rt_model_free(m);
        return rt_fail(err, "model: out of memory"), NULL;
    }
    int k = 0;
    for (int i = 0; i < m->nlayers; i++) {
        rt_layer_init(&m->layers[i], rng);
        for (int p = 0; p < m->layers[i].nparams; p++) m->params[k++] = m->layers[i].params[p];
    }
    return m;
}

void rt_model_free(rt_model *m)
{
    if (!m) return;
    for (int i = 0; i < m->nlayers; i++) {
        if (m->shadow) rt_layer_shadow_release(&m->layers[i]);
        else rt_layer_release(&m->layers[i]);
    }
    rt_free(m->layers);
    rt_free(m->params);
    rt_free(m->grad);
    rt_free(m->probs);
    rt_free(m);
}

void rt_model_set_pool(rt_model *m, rt_pool *pool) { m->pool = pool; }
int rt_model_in(const rt_model *m) { return m->in; }
int rt_model_out(const rt_model *m) { return m->out; }
int rt_model_nlayers(const rt_model *m) { return m->nlayers; }
rt_layer *rt_model_layer(rt_model *m, int i) { return &m->layers[i]; }

int rt_model_params(rt_model *m, rt_param **params)
{
    *params = m->params;
    return m->nparams;
}

void rt_model_layer_info(const rt_model *m, int i, rt_layer_info *info)
{
    const rt_layer *l = &m->layers[i];
    memset(info, 0, sizeof *info);
    info->kind = rt_layer_kind_name(l->spec.kind);
    info->activation = l->spec.kind != RT_LAYER_DENSE ? NULL
                       : l->spec.custom ? l->spec.custom->name : rt_act_get(l->spec.act)->name;
    info->out = l->out;
    for (int p = 0; p < l->nparams; p++) {
        if (l->params[p].trainable) info->trainable += l->params[p].size;
        else info->non_trainable += l->params[p].size;
    }
}

void rt_model_param_counts(const rt_model *m, long *trainable, long *non_trainable)
{
    *trainable = *non_trainable = 0;
    for (int i = 0; i < m->nlayers; i++) {
        rt_layer_info info;
        rt_model_layer_info(m, i, &info);
        *trainable += info.trainable;
        *non_trainable += info.non_trainable;
    }
}

bool rt_model_reserve(rt_model *m, int n, rt_error *err)
{
    if (n <= m->cap) return true;
    for (int i = 0; i < m->nlayers; i++)
        if (!rt_layer_reserve(&m->layers[i], n, err)) return false;
    rt_free(m->grad);
    rt_free(m->probs);
    m->grad = rt_alloc((size_t)n * (size_t)m->out * sizeof(float));
    m->probs = rt_alloc((size_t)n * (size_t)m->out * sizeof(float));
    if (!m->grad || !m->probs) {
        m->cap = 0;
        return rt_fail(err, "model: out of memory for batch buffers of %d rows", n);
    }
    m->cap = n;
    return true;
}

/* The first layer that computes (flatten passes its input on). */
static rt_layer *first_layer(rt_model *m)
{
    for (int i = 0; i < m->nlayers; i++)
        if (m->layers[i].spec.kind != RT_LAYER_FLATTEN) return &m->layers[i];
    return NULL;
}

bool rt_model_input_u8(rt_model *m, const uint8_t *base, const int64_t *idx, int n, float scale,
                       bool training)
{
    rt_layer *l = first_layer(m);
    return l && n <= m->cap && rt_layer_input_u8(l, base, idx, n, scale, training);
}

bool rt_model_stage_reserve(rt_model *m, rt_error *err)
{
    rt_layer *l = first_layer(m);
    return !l || rt_layer_stage_reserve(l, err);
}

bool rt_model_stage_u8(rt_model *m, const uint8_t *base, const int64_t *idx, int n, float scale,
                       bool training)
{
    rt_layer *l = first_layer(m);
    return l && n <= m->cap && rt_layer_stage_u8(l, base, idx, n, scale, training);
}

void rt_model_use_staged(rt_model *m)
{
    rt_layer *l = first_layer(m);
    if (l) rt_layer_use_staged(l);
}

unsigned rt_model_stage_seq(rt_model *m)
{
    rt_layer *l = first_layer(m);
    return l ? l->stage_seq : 0;
}

rt_pool *rt_model_pool(const rt_model *m) { return m->pool; }

/* x == NULL (byte input) is valid only for the n rows rt_model_input_u8
 * loaded. */
static bool check_input(rt_model *m, const float *x, int n, rt_error *err)
{
    if (x) return true;
    rt_layer *l = first_layer(m);
    if (l && rt_layer_has_input(l, n) && n <= m->cap) return true;
    return rt_fail(err, "model: no input rows given (the byte input holds %d rows, not %d)",
                   l ? l->xs_loaded : 0, n);
}

static const float *forward(rt_model *m, const float *x, int n, bool training)
{
    const float *h = x;
    for (int i = 0; i < m->nlayers; i++) h = rt_layer_forward(&m->layers[i], h, n, training, m->pool);
    return h;
}

/* How the loss meets the last layer: `fused` when the loss gradient is
 * taken with respect to the last dense layer's pre-activation, `apply`
 * when the loss must first apply its activation to linear outputs. */
typedef struct { bool fused; bool apply; rt_act act; } loss_link;

static bool link_loss(const rt_model *m, rt_loss loss, loss_link *lk, rt_error *err)
{
    const rt_layer *last = &m->layers[m->nlayers - 1];
    rt_act want = rt_loss_fused_act(loss);
    rt_act have = last->spec.kind == RT_LAYER_DENSE && !last->spec.custom ? last->spec.act
                                                                          : RT_ACT_COUNT;
    lk->act = want;
    lk->fused = lk->apply = false;
    if (want == RT_ACT_COUNT) return true;
    if (have == want) { lk->fused = true; return true; }
    if (have == RT_ACT_LINEAR) { lk->fused = lk->apply = true; return true; }
    return rt_fail(err, "%s needs a last dense layer with %s (or linear) activation, the last "
                   "layer is %s%s%s", rt_loss_name(loss), rt_act_get(want)->name,
                   rt_layer_kind_name(last->spec.kind), have < RT_ACT_COUNT ? " with " : "",
                   have < RT_ACT_COUNT ? rt_act_get(have)->name : "");
}

/* The probabilities the loss sees for network outputs h. */
static const float *loss_input(rt_model *m, const loss_link *lk, const float *h, int n)
{
    if (!lk->apply) return h;
    float p[RT_ACT_MAX_PARAMS];
    rt_act_defaults(lk->act, p);
    rt_act_get(lk->act)->forward(h, m->probs, n, m->out, p);
    return m->probs;
}

static bool check_batch(const char *who, int n, rt_error *err)
{
    return n > 0 ? true : rt_fail(err, "%s: batch must have at least one row, got %d", who, n);
}

void rt_model_set_grad_rules(rt_model *m, const rt_grad_rules *rules)
{
    m->rules = rules ? *rules : (rt_grad_rules){ 0 };
}

/* The dense layers' kernel penalties: l1 sum|w| + l2 sum w^2 in double,
 * elements in order. */
double rt_model_penalty(const rt_model *m)
{
    double total = 0.0;
    for (int i = 0; m->penalised && i < m->nlayers; i++) {
        const rt_layer *l = &m->layers[i];
        if (l->spec.kind != RT_LAYER_DENSE || (l->spec.l1 == 0 && l->spec.l2 == 0)) continue;
        const rt_param *k = &l->params[0];
        double s1 = 0.0, s2 = 0.0;
        for (long j = 0; j < k->size; j++) {
            s1 += fabs((double)k->w[j]);
            s2 += (double)k->w[j] * k->w[j];
        }
        total += (double)l->spec.l1 * s1 + (double)l->spec.l2 * s2;
    }
    return total;
}

/* g += l1 sign(w) + 2 l2 w on the penalised kernels (sign(0) = 0). */
static void penalty_grads(rt_model *m)
{
    for (int i = 0; m->penalised && i < m->nlayers; i++) {
        rt_layer *l = &m->layers[i];
        if (l->spec.kind != RT_LAYER_DENSE || (l->spec.l1 == 0 && l->spec.l2 == 0)) continue;
        rt_param *k = &l->params[0];
        const float c1 = l->spec.l1, c2 = 2.0f * l->spec.l2;
        for (long j = 0; j < k->size; j++) {
            float w = k->w[j];
            float sg = (float)((w > 0.0f) - (w < 0.0f));
            k->g[j] += c1 * sg + c2 * w;
        }
    }
}

static double sum_squares(const float *g, long n)
{
    double s = 0.0;
    for (long j = 0; j < n; j++) s += (double)g[j] * g[j];
    return s;
}

static void scale(float *g, long n, float by)
{
    for (long j = 0; j < n; j++) g[j] *= by;
}

/* Steps 2-5 of the gradient rules (model.h). */
static bool apply_rules(rt_model *m, rt_optim *opt, rt_error *err)
{
    const rt_grad_rules *r = &m->rules;
    for (int p = 0; r->clipnorm > 0 && p < m->nparams; p++) {
        rt_param *q = &m->params[p];
        if (!q->trainable) continue;
        double norm = sqrt(sum_squares(q->g, q->size));
        if (norm > r->clipnorm) scale(q->g, q->size, (float)(r->clipnorm / norm));
    }
    if (r->global_clipnorm > 0) {
        double s = 0.0;
        for (int p = 0; p < m->nparams; p++)
            if (m->params[p].trainable) s += sum_squares(m->params[p].g, m->params[p].size);
        double norm = sqrt(s);
        if (norm > r->global_clipnorm)
            for (int p = 0; p < m->nparams; p++)
                if (m->params[p].trainable)
                    scale(m->params[p].g, m->params[p].size, (float)(r->global_clipnorm / norm));
    }
    if (r->clipvalue > 0) {
        const float v = (float)r->clipvalue;
        for (int p = 0; p < m->nparams; p++) {
            rt_param *q = &m->params[p];
            for (long j = 0; q->trainable && j < q->size; j++)
                q->g[j] = q->g[j] > v ? v : q->g[j] < -v ? -v : q->g[j];
        }
    }
    if (r->weight_decay > 0 && opt) {
        double lr;
        if (!rt_optim_get(opt, "lr", &lr))
            return rt_fail(err, "weight_decay needs an optimizer with an lr, %s has none",
                           rt_optim_name(opt));
        const float c = (float)(lr * r->weight_decay);
        for (int p = 0; p < m->nparams; p++) {
            rt_param *q = &m->params[p];
            for (long j = 0; q->trainable && j < q->size; j++) q->w[j] -= c * q->w[j];
        }
    }
    return true;
}

/* rt_loss_eval's value and gradient (grad may be NULL) and
 * rt_loss_correct's count (correct may be NULL); crossentropy over more
 * than one class in one pass (fused.h). */
static double loss_and_correct(const rt_model *m, rt_loss loss, const float *p, const float *y,
                               int n, float *grad, double *correct)
{
    if ((loss == RT_LOSS_CROSSENTROPY || loss == RT_LOSS_TORCH_CROSSENTROPY) && m->out > 1)
        return rt_fused_xent(rt_cpu_simd(), loss == RT_LOSS_CROSSENTROPY, p, y, n, m->out, grad,
                             correct);
    double value = rt_loss_eval(loss, p, y, n, m->out, grad);
    if (correct) *correct = rt_loss_correct(loss, p, y, n, m->out);
    return value;
}

bool rt_model_train_step(rt_model *m, rt_optim *opt, const float *x, const float *y, int n,
                         rt_loss loss, double *loss_out, double *correct, rt_error *err)
{
    loss_link lk;
    if (m->shadow) return rt_fail(err, "model: a shadow does not train");
    if (!check_batch("train_step", n, err) || !link_loss(m, loss, &lk, err) ||
        !rt_model_reserve(m, n, err) || !check_input(m, x, n, err))
        return false;
    const float *p = loss_input(m, &lk, forward(m, x, n, true), n);
    double value = loss_and_correct(m, loss, p, y, n, m->grad, correct);
    if (m->penalised) value += rt_model_penalty(m);
    if (loss_out) *loss_out = value;
    rt_layer *last = &m->layers[m->nlayers - 1];
    last->skip_act_grad = lk.fused;
    const float *d = m->grad;
    for (int i = m->nlayers - 1; i >= 0 && i >= m->first_trainable; i--) {
        rt_layer *l = &m->layers[i], *prev = i > m->first_trainable ? &m->layers[i - 1] : NULL;
        /* batchnorm after a dense layer: its input gradient, the dense
         * layer's activation gradient and bias gradient in one sweep */
        const float *dz = prev ? rt_layer_backward_bn_act(l, d, n, prev) : NULL;
        if (dz) {
            prev->skip_act_grad = prev->bias_grad_done = true;
            d = dz;
        } else {
            d = rt_layer_backward(l, d, n, prev != NULL, m->pool);
        }
        l->skip_act_grad = l->bias_grad_done = false;
    }
    last->skip_act_grad = false;
    penalty_grads(m);
    if (!apply_rules(m, opt, err)) return false;
    return opt ? rt_optim_step_pool(opt, m->pool, m->params, m->nparams, err) : true;
}

/* Rows per inference chunk: the reserved capacity, or a default. */
static bool chunk_rows(rt_model *m, int n, int *rows, rt_error *err)
{
    if (m->cap == 0 && !rt_model_reserve(m, n < DEFAULT_CHUNK ? n : DEFAULT_CHUNK, err)) return false;
    *rows = m->cap;
    return true;
}

bool rt_model_predict(rt_model *m, const float *x, int n, float *out, rt_error *err)
{
    int rows;
    if (!check_batch("predict", n, err) || !chunk_rows(m, n, &rows, err)) return false;
    for (int at = 0; at < n; at += rows) {
        int k = n - at < rows ? n - at : rows;
        const float *h = forward(m, x + (long)at * m->in, k, false);
        memcpy(out + (long)at * m->out, h, (size_t)k * (size_t)m->out * sizeof(float));
    }
    return true;
}

bool rt_model_evaluate(rt_model *m, const float *x, const float *y, int n, rt_loss loss,
                       double *mean_loss, double *accuracy, rt_error *err)
{
    loss_link lk;
    int rows;
    if (!check_batch("evaluate", n, err) || !link_loss(m, loss, &lk, err) ||
        !chunk_rows(m, n, &rows, err) || !check_input(m, x, n, err))
        return false;
    double total = 0.0, correct = 0.0;
    for (int at = 0; at < n; at += rows) {
        int k = n - at < rows ? n - at : rows;
        const float *xk = x ? x + (long)at * m->in : NULL;     /* NULL: one chunk */
        const float *p = loss_input(m, &lk, forward(m, xk, k, false), k);
        const float *yk = y + (long)at * m->out;
        double hits;
        total += loss_and_correct(m, loss, p, yk, k, NULL, &hits) * k;
        correct += hits;
    }
    if (mean_loss) *mean_loss = m->penalised ? total / n + rt_model_penalty(m) : total / n;
    if (accuracy) *accuracy = correct / n;
    return true;
}

int rt_model_shadow_rows(rt_model *m, int n, rt_error *err)
{
    int rows;
    if (!check_batch("evaluate", n, err) || !chunk_rows(m, n, &rows, err)) return 0;
    /* m's chunks of n rows are one, or several of m->cap: the same on it */
    return rows < n ? rows : n;
}

rt_model *rt_model_shadow(const rt_model *m, int rows, rt_error *err)
{
    rt_model *s = rt_alloc(sizeof *s);
    rt_layer *layers = rt_alloc((size_t)m->nlayers * sizeof *layers);
    if (!s || !layers) {
        rt_free(s);
        rt_free(layers);
        return rt_fail(err, "model: out of memory"), NULL;
    }
    /* rt_alloc zeroes: no params, no pool, no rules, no buffers yet */
    s->nlayers = m->nlayers;
    s->layers = layers;
    s->in = m->in;
    s->out = m->out;
    s->first_trainable = m->nlayers;
    s->penalised = m->penalised;
    s->shadow = true;
    for (int i = 0; i < m->nlayers; i++)
        if (!rt_layer_shadow(&layers[i], &m->layers[i], err)) {
            rt_model_free(s);
            return NULL;
        }
    if (!rt_model_reserve(s, rows, err)) {
        rt_model_free(s);
        return NULL;
    }
    return s;
}
