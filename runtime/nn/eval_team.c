/*
 * eval_team.c — an evaluation's batches side by side (see eval_team.h).
 *
 * Why whole batches: the study evaluates the 10,000 MNIST test images
 * after every epoch, batch 100, and its products at that size are small
 * (the first layer's sparse forward about 1.5 MFLOP, the others far
 * less). Split across two threads product by product, with the next batch
 * gathered ahead on the worker, the pass gained 1.1-1.3x: every product
 * handed its halves and results between the cores. A thread that takes a
 * whole batch shares nothing written with the other but the batch
 * counter and its two result slots; the weights are only read.
 *
 * The run: one task per thread, each with its own part (a shadow of the
 * model, a row buffer, a target buffer and, when needed, a float batch),
 * made by the task itself the first time it runs: the two shadows are
 * made at once, each in the memory of the thread that first uses it
 * (making one costs about as much as evaluating 5 to 15 of the study's
 * batches: page faults, mostly). A task takes the next batch from a
 * shared counter until none is left, so a thread that starts late (a
 * worker that had gone to sleep, or lost its CPU) simply takes fewer
 * batches, and the caller, which always runs a task, never waits for one
 * that has not begun (pool.h). It does wait for a batch another thread
 * has begun: when that thread loses its CPU to another process in the
 * middle, the wait lasts a time slice, and the team then runs a few
 * passes on the calling thread alone (judge, below).
 *
 * Measured on the 2-vCPU AVX-512 machine (shared, noisy: bench-epoch,
 * study network, Adam + relu, 10,000 test images at batch 100 after each
 * epoch; the old and the new binary interleaved, 6 epochs a run, epochs
 * 2-6, 30-40 passes each):
 *   both vCPUs free        old, 2 threads  4.8-5.4 ms (median 5.4)
 *                          new, 2 threads  3.2-3.3 ms (median 3.3)
 *                          1 thread, both  6.2-6.3 ms
 *   the other vCPU busy    old, 2 threads  5.0-8.3 ms (median 6.4)
 *   with another process   new, 2 threads  5.3-12.5 ms (median 6.4);
 *                          before the backoff, passes of 23-35 ms
 * The first pass of a fit makes the shadows: 4.2 ms instead of 3.3 quiet.
 * The whole study (examples/study.mlp, 5 pairs interleaved, the machine
 * busy with other work throughout): old 18.2-28.7 s, new 17.1-29.1 s, the
 * passes being 7% of it; peak RSS 66 MB either way.
 * Results: the same bits with any thread count (test_eval_team.c).
 */
#include <limits.h>
#include <math.h>
#include <stdatomic.h>
#include "clock.h"
#include "eval_team.h"
#include "pool.h"
#include "tensor.h"

/* Fewer batches than this, over the team's life, do not repay making it. */
enum { EVAL_TEAM_MIN_BATCHES = 32 };
/* A run on several threads that took more than EVAL_TEAM_KEEP of what its
 * fastest thread would have taken alone is followed by EVAL_TEAM_BACKOFF
 * runs on the calling thread alone, then tried again (see below). */
#define EVAL_TEAM_KEEP 0.85
enum { EVAL_TEAM_BACKOFF = 4 };

/* One thread's own: nothing here is touched by another task. */
typedef struct eval_part {
    rt_model *shadow;           /* NULL until the part's first batch */
    int64_t *rows;              /* [batch]: the batch's row numbers */
    float *x;                   /* [batch x features]: made by the first batch that needs floats */
    float *y;                   /* [batch x y_width] */
    int failed;                 /* the batch that failed, or INT_MAX */
    int done;                   /* batches this run */
    double busy;                /* seconds spent on them */
    rt_error err;
} eval_part;

struct rt_eval_team {
    const rt_model *m;          /* what the shadows are of */
    int batch, rows, y_width, nparts;
    int alone;                  /* runs left on the calling thread alone */
    eval_part *parts;
};

/* One run's common ground: read only, but for the counter and the slots of
 * the results (each written by the task that took its batch). */
typedef struct eval_run {
    const rt_eval_team *team;
    const rt_dataset *ds;
    rt_loss loss;
    int nbatches;
    bool fold;
    double *l, *a;
    atomic_int next;            /* the next batch to take */
} eval_run;

int rt_eval_team_threads(const rt_model *m, int nbatches, long uses)
{
    int threads = rt_pool_threads(rt_model_pool(m));
    if (threads < 2 || nbatches < 2 || uses < EVAL_TEAM_MIN_BATCHES) return 1;
    rt_model *mm = (rt_model *)m;   /* rt_model_layer is not const; only read here */
    for (int i = 0; i < rt_model_nlayers(m); i++) {
        const rt_layer *l = rt_model_layer(mm, i);
        if (l->spec.kind == RT_LAYER_DENSE && l->spec.custom) return 1;
    }
    return threads < nbatches ? threads : nbatches;
}

void rt_eval_team_free(rt_eval_team *team)
{
    if (!team) return;
    for (int i = 0; i < team->nparts; i++) {
        eval_part *p = &team->parts[i];
        rt_model_free(p->shadow);
        rt_free(p->rows);
        rt_free(p->x);
        rt_free(p->y);
    }
    rt_free(team->parts);
    rt_free(team);
}

/* *team kept if it suits m, this batch size and `threads` threads, else
 * made anew, its parts empty (their tasks fill them). */
static bool team_get(rt_eval_team **team, rt_model *m, int batch, int rows, int y_width,
                     int threads, rt_error *err)
{
    rt_eval_team *t = *team;
    if (t && t->m == m && t->batch == batch && t->rows == rows && t->y_width == y_width &&
        t->nparts >= threads)
        return true;
    rt_eval_team_free(t);
    *team = t = rt_alloc(sizeof *t);
    if (t) t->parts = rt_alloc((size_t)threads * sizeof *t->parts);
    if (!t || !t->parts) {
        rt_free(t);
        *team = NULL;
        return rt_fail(err, "out of memory for an evaluation on %d threads", threads);
    }
    *t = (rt_eval_team){ .m = m, .batch = batch, .rows = rows, .y_width = y_width,
                         .nparts = threads, .parts = t->parts };
    return true;
}

/* The part's buffers and shadow, on the thread about to use them. */
static bool part_ready(const rt_eval_team *t, eval_part *p)
{
    if (p->shadow) return true;
    if (!p->rows) p->rows = rt_alloc((size_t)t->batch * sizeof *p->rows);
    if (!p->y) p->y = rt_alloc((size_t)t->batch * (size_t)t->y_width * sizeof *p->y);
    if (!p->rows || !p->y)
        return rt_fail(&p->err, "out of memory for a batch of %d rows", t->batch);
    p->shadow = rt_model_shadow(t->m, t->rows, &p->err);
    return p->shadow != NULL;
}

/* Batch bi on part p: gathered as fit.c's gather_run gathers a batch
 * straight into the model's input (bytes when the first layer takes them,
 * else floats), evaluated as rt_model_evaluate does. */
static bool eval_batch(const eval_run *r, eval_part *p, int bi)
{
    const rt_dataset *ds = r->ds;
    const int batch = r->team->batch;
    int64_t start = (int64_t)bi * batch;
    int n = (int)(ds->n - start < batch ? ds->n - start : batch);
    for (int i = 0; i < n; i++) p->rows[i] = start + i;
    const float *x = NULL;                       /* NULL: the shadow has them as bytes */
    if (ds->x_u8 && rt_model_input_u8(p->shadow, ds->x_u8, p->rows, n, ds->x_scale, false)) {
        rt_dataset_gather_labels(ds, p->rows, n, p->y);
    } else {
        if (!p->x && !(p->x = rt_alloc((size_t)batch * (size_t)ds->features * sizeof(float))))
            return rt_fail(&p->err, "out of memory for a batch of %d rows", batch);
        rt_dataset_gather(ds, p->rows, n, p->x, p->y);
        x = p->x;
    }
    if (r->fold)            /* one-hot [n x 2] -> the label [n x 1], in place */
        for (int i = 0; i < n; i++) p->y[i] = p->y[2 * i + 1];
    return rt_model_evaluate(p->shadow, x, p->y, n, r->loss, &r->l[bi], &r->a[bi], &p->err);
}

static void eval_task(void *ctx, int t)
{
    eval_run *r = ctx;
    eval_part *p = &r->team->parts[t];
    for (;;) {
        int bi = atomic_fetch_add_explicit(&r->next, 1, memory_order_relaxed);
        if (bi >= r->nbatches) return;
        if (!part_ready(r->team, p)) {
            p->failed = bi;
            return;
        }
        double t0 = rt_seconds();
        if (!eval_batch(r, p, bi)) {
            p->failed = bi;
            return;             /* the others finish theirs; the caller reports */
        }
        p->busy += rt_seconds() - t0;
        p->done++;
    }
}

/* Whether the next runs go on the calling thread alone. A thread that
 * loses its CPU to another process in the middle of a batch keeps the
 * others waiting at the end until it has it back: a time slice of the
 * other process, measured at 15-25 ms on the 2-vCPU machine with both
 * CPUs busy elsewhere, 3 to 4 times the whole pass. So each run on
 * several threads is timed against its fastest thread's pace (its seconds
 * per batch): when it was not clearly faster than that thread would have
 * been alone, the next EVAL_TEAM_BACKOFF runs (a fit's next epochs) go on
 * the calling thread alone, which waits for no one, and then several
 * threads are tried again. A run whose threads made their buffers is not
 * judged (the page faults are no one's slice). Only the time depends on
 * any of it. */
static void judge(rt_eval_team *t, int threads, int nbatches, bool fresh, double seconds)
{
    if (threads == 1) {
        t->alone--;
        return;
    }
    double pace = INFINITY;
    for (int i = 0; i < threads; i++)
        if (t->parts[i].done >= 2 && t->parts[i].busy / t->parts[i].done < pace)
            pace = t->parts[i].busy / t->parts[i].done;
    if (!fresh && seconds > EVAL_TEAM_KEEP * pace * nbatches) t->alone = EVAL_TEAM_BACKOFF;
}

bool rt_eval_team_run(rt_eval_team **team, rt_model *m, const rt_dataset *ds, rt_loss loss,
                      int batch, int y_width, bool fold, int threads, double *l, double *a,
                      rt_error *err)
{
    /* the biggest batch there is: batch, unless the data are fewer */
    int rows = rt_model_shadow_rows(m, (int)(ds->n < batch ? ds->n : batch), err);
    if (!rows || !team_get(team, m, batch, rows, y_width, threads, err)) return false;
    eval_run r = { .team = *team, .ds = ds, .loss = loss,
                   .nbatches = (int)((ds->n + batch - 1) / batch), .fold = fold, .l = l, .a = a };
    atomic_init(&r.next, 0);
    eval_part *parts = (*team)->parts;
    if ((*team)->alone > 0) threads = 1;
    bool fresh = false;
    for (int i = 0; i < threads; i++) {
        parts[i].failed = INT_MAX;
        parts[i].done = 0;
        parts[i].busy = 0;
        fresh |= !parts[i].shadow;
    }
    double t0 = rt_seconds();
    rt_pool_run(rt_model_pool(m), threads, eval_task, &r);
    judge(*team, threads, r.nbatches, fresh, rt_seconds() - t0);
    const eval_part *first = NULL;
    for (int i = 0; i < threads; i++)
        if (parts[i].failed != INT_MAX && (!first || parts[i].failed < first->failed))
            first = &parts[i];
    if (first && err) *err = first->err;
    return !first;
}
