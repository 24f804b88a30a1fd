/*
 * sweep.c — the `sweep` construct, report(), results tables and save().
 *
 * `sweep a in A, b in B { body }` compiles into
 * __sweep(["a", "b"], [A, B], false, fn(a, b) { body }) and the listed form
 * `sweep [a, b] in P { ... }` into __sweep(["a", "b"], [P], true, ...).
 * Every point runs in a process of its own, forked from the interpreter
 * as it was when the sweep began (parallel.h; serially too, one at a
 * time), so a point sees nothing another point changed and nothing it
 * changes outlives it but the rows it reports; every point starts from
 * the random state the sweep started from. report(k=v, ...) inside the
 * body adds a row (the point's axis values, then the reported columns; a
 * sweep variable's name or `error` is refused). A point that fails has
 * one row, with its error message in an `error` column; the error is
 * reported on stderr, located, with the point's values in front, and the
 * sweep goes on; the script then exits 70 at its end
 * (mlp_sweeps_failed). An interrupt (Ctrl-C) stops the whole sweep and
 * prints the table so far, the points not finished marked.
 *
 * Clauses after the variables (a fifth argument, a record): `repeat N`
 * (every point with seeds S..S+N-1, a `seed` column), `sample N` (N points
 * drawn from the variables' lists and distributions, search.c, then run
 * as listed points), `halving(...)` (synchronous successive-halving rungs,
 * promoted points resuming their checkpoints) and `cache "file"` (points
 * that finished in an earlier run taken from the file).
 *
 * This file supplies the two halves of a point, job_run (in the point's
 * process: run it, encode its rows) and job_take (back here, in point
 * order: decode the rows into the table), for the engine of parallel.c
 * that runs them locally (serially or -j N) or over MPI ranks.
 */
#include <math.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "parallel.h"
#include "rt_file.h"
#include "std.h"

/* ---- tables ------------------------------------------------------------------ */

static void table_mark(mlp_vm *vm, void *p)
{
    std_table *t = p;
    mlp_mark(vm, t->columns);
    mlp_mark(vm, t->rows);
    mlp_mark(vm, t->seconds);
}

static bool table_get(mlp_vm *vm, mlp_value self, void *p, const char *field, mlp_value *out)
{
    std_table *t = p;
    if (strcmp(field, "rows") == 0) *out = t->rows;
    else if (strcmp(field, "columns") == 0) *out = t->columns;
    else if (strcmp(field, "spent") == 0 || strcmp(field, "full") == 0) {
        double v = field[0] == 's' ? t->spent : t->full;
        *out = isnan(v) ? mlp_nil() : mlp_number(v);
    }
    else if (strcmp(field, "column") == 0) {   /* r.column("x"): stats.c's __column */
        std_method *m = malloc(sizeof *m);
        if (!m) return mlp_raise(vm, "out of memory");
        m->self = self;
        m->fn = mlp_nil();
        *out = mlp_handle(vm, &std_method_class, m);
        mlp_get_global(vm, "__column", &m->fn);
    }
    else return mlp_raise(vm, "results table has no field '%s' (rows, columns, column, spent, full)", field);
    return true;
}

/* len(r), r[i] (from the end when negative), for row in r: the rows. */
static bool table_len(mlp_vm *vm, void *p, int64_t *out)
{
    *out = (int64_t)mlp_list_len(((std_table *)p)->rows);
    return true;
}

static bool table_index(mlp_vm *vm, mlp_value self, void *p, mlp_value i, mlp_value *out)
{
    std_table *t = p;
    size_t n = mlp_list_len(t->rows);
    double x = mlp_as_number(i);
    if (!mlp_is_number(i) || x != floor(x))
        return mlp_raise(vm, "results table index must be a whole number, got %s",
                         mlp_cstr(mlp_tostring(vm, i)));
    if (x < 0) x += (double)n;
    if (x < 0 || x >= (double)n)
        return mlp_raise(vm, "results table index %s out of range (%zu row%s)",
                         mlp_cstr(mlp_tostring(vm, i)), n, n == 1 ? "" : "s");
    *out = mlp_list_get(t->rows, (size_t)x);
    return true;
}

/* Table text goes into a par_buf (parallel.h), the stdlib's one growable
 * byte buffer. */
static void put(par_buf *t, const char *s, size_t n) { par_put(t, s, n); }

static void pad(par_buf *t, size_t n) { while (n--) put(t, " ", 1); }

void std_number_text(double x, int digits, char buf[48])
{
    if (digits == 0 && x == floor(x) && fabs(x) < 1e16) snprintf(buf, 48, "%.0f", x == 0 ? 0.0 : x);
    else if (!isfinite(x)) snprintf(buf, 48, "%s", isnan(x) ? "nan" : x > 0 ? "inf" : "-inf");
    else if (digits > 0 && x != 0 && (fabs(x) < pow(10, -digits) || fabs(x) >= 1e16))
        snprintf(buf, 48, "%.*e", digits - 1, x);
    else snprintf(buf, 48, "%.*f", digits, x);
}

/* The text of one cell: strings bare, handles short ("Adam"), nil "-",
 * numbers with `digits` decimals (digits < 0: in full, as str()). */
static mlp_value cell_text(mlp_vm *vm, mlp_value row, mlp_value col, int digits)
{
    mlp_value v;
    if (!mlp_record_get(row, mlp_cstr(col), &v) || mlp_is_nil(v)) return mlp_string_cstr(vm, "-");
    if (mlp_is_string(v)) return v;
    mlp_value st = std_stat_cell(vm, v, digits);
    if (!mlp_is_nil(st)) return st;
    if (mlp_is_number(v) && digits >= 0) {
        char buf[48];
        std_number_text(mlp_as_number(v), digits, buf);
        return mlp_string_cstr(vm, buf);
    }
    return std_short_text(vm, v);
}

/* A column holding histories (report(history=h)): drawn by plot() and the
 * HTML report, saved whole to JSON, left out of printed tables and CSV. */
static bool history_column(const std_table *t, mlp_value col)
{
    for (size_t r = 0; r < mlp_list_len(t->rows); r++) {
        mlp_value v;
        if (mlp_record_get(mlp_list_get(t->rows, r), mlp_cstr(col), &v) &&
            mlp_handle_data(v, &std_history_class))
            return true;
    }
    return false;
}

mlp_value std_row_label(mlp_vm *vm, const std_table *t, mlp_value row)
{
    par_buf b = {0};
    for (size_t c = 0; c < t->naxes && c < mlp_list_len(t->columns); c++) {
        mlp_value col = mlp_list_get(t->columns, c);
        mlp_value s = cell_text(vm, row, col, -1);
        if (c) put(&b, " ", 1);
        put(&b, mlp_cstr(col), mlp_strlen(col));
        put(&b, "=", 1);
        put(&b, mlp_cstr(s), mlp_strlen(s));
    }
    mlp_value out = b.s && !b.oom ? mlp_string(vm, b.s, b.n) : mlp_string_cstr(vm, "");
    free(b.s);
    return out;
}

/* Display width of UTF-8 text: one column per code point. */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* Columns aligned, numbers to the right, a rule under the header;
 * reported numbers with `digits` decimals. */
static mlp_value table_text(mlp_vm *vm, std_table *tb, int digits)
{
    size_t ncols = mlp_list_len(tb->columns), nrows = mlp_list_len(tb->rows);
    size_t *w = calloc(ncols + 1, sizeof *w);
    bool *numeric = calloc(ncols + 1, sizeof *numeric);
    bool *hidden = calloc(ncols + 1, sizeof *hidden);
    int *dig = calloc(ncols + 1, sizeof *dig);
    par_buf t = {0};
    if (!w || !numeric || !hidden || !dig) goto done;
    for (size_t c = 0; c < ncols; c++) {
        mlp_value col = mlp_list_get(tb->columns, c);
        hidden[c] = history_column(tb, col);
        /* The sweep's own values in full; reported numbers with `digits`
         * decimals, or whole when every one of the column is whole. */
        bool whole = true;
        for (size_t r = 0; r < nrows; r++) {
            mlp_value v = mlp_nil();
            if (mlp_record_get(mlp_list_get(tb->rows, r), mlp_cstr(col), &v) && mlp_is_number(v) &&
                !(mlp_as_number(v) == floor(mlp_as_number(v)) && fabs(mlp_as_number(v)) < 1e16))
                whole = false;
            else if (mlp_handle_data(v, &std_stat_class)) whole = false;   /* a summary's */
        }
        dig[c] = c < tb->naxes ? -1 : whole ? 0 : digits;
        w[c] = width(mlp_cstr(col));
        numeric[c] = nrows > 0;
        for (size_t r = 0; r < nrows; r++) {
            mlp_value row = mlp_list_get(tb->rows, r), v;
            if (mlp_record_get(row, mlp_cstr(col), &v) && !mlp_is_number(v) && !mlp_is_nil(v) &&
                !mlp_handle_data(v, &std_stat_class))
                numeric[c] = false;   /* a missing value ("-") keeps numbers right-aligned */
            mlp_value s = cell_text(vm, row, col, dig[c]);
            if (width(mlp_cstr(s)) > w[c]) w[c] = width(mlp_cstr(s));
        }
    }
    size_t lastc = ncols;   /* the last column shown */
    while (lastc > 0 && hidden[lastc - 1]) lastc--;
    for (int line = -2; line < (int)nrows; line++) {
        for (size_t c = 0, shown = 0; c < lastc; c++) {
            if (hidden[c]) continue;
            mlp_value col = mlp_list_get(tb->columns, c);
            const char *s = line == -2 ? mlp_cstr(col) : NULL;
            mlp_value cell = mlp_nil();
            if (line >= 0) {
                cell = cell_text(vm, mlp_list_get(tb->rows, (size_t)line), col, dig[c]);
                s = mlp_cstr(cell);
            }
            if (shown++) put(&t, "  ", 2);
            if (line == -1) {
                for (size_t i = 0; i < w[c]; i++) put(&t, "-", 1);
                continue;
            }
            size_t sw = width(s);
            bool last = c + 1 == lastc;
            if (numeric[c]) pad(&t, w[c] - sw);
            put(&t, s, strlen(s));
            if (!numeric[c] && !last) pad(&t, w[c] - sw);
        }
        if (line + 1 < (int)nrows) put(&t, "\n", 1);
    }
done:
    free(w);
    free(numeric);
    free(hidden);
    free(dig);
    mlp_value out = t.oom || !t.s ? mlp_string_cstr(vm, "<results table>")
                                  : mlp_string(vm, t.s, t.n);
    free(t.s);
    return out;
}

static mlp_value table_tostring(mlp_vm *vm, void *p) { return table_text(vm, p, 4); }
static mlp_value table_format(mlp_vm *vm, void *p, int digits) { return table_text(vm, p, digits); }

const mlp_class std_table_class = {
    .name = "results", .free = free, .mark = table_mark, .get = table_get,
    .tostring = table_tostring, .fields = "rows, columns, column, spent, full", .format = table_format,
    .len = table_len, .index = table_index,
};

/* ---- __sweep and report ------------------------------------------------------ */

/* How deep lists and records may nest in a reported value (the VM's rule
 * for every value; lang/vm/mlp.h may define it). */
#ifndef MLP_MAX_VALUE_DEPTH
#define MLP_MAX_VALUE_DEPTH 10000
#endif

/* How deep sweeps may nest (a sweep in a point of a sweep in a point ...,
 * through recursion). Each level is a process forked from the one above,
 * and the kernel's cost of a fork grows with the depth of the chain. */
#define SWEEP_MAX_DEPTH 32

/* A sweep being run: what __sweep was given and the table it fills. */
typedef struct sweep_ctx {
    mlp_value names, axes, body;
    bool listed;
    size_t k, npoints;
    size_t repeat;      /* repeat N: N seeds a configuration (0: no clause) */
    /* halving(...): the rung running now runs the points map[0..npoints)
     * with `budget` of the resource (a variable after the sweep's own) */
    const char *resource;   /* NULL: no halving */
    double budget;
    int rung;
    size_t *map, *rowat;    /* rowat[i]: the table row point map[i]'s rows start at */
    char ckdir[1024];       /* where the points' checkpoints go */
    size_t taken;           /* points taken into the table so far (this rung) */
    /* cache "file": finished points' results, by key (point_key) */
    const char *cache, *body_hash;
    struct cached *cached;
    size_t ncached, capcached;
    std_table *t;
    std_random start;   /* every point starts from this random state */
    bool any_failed;
    double seconds;     /* the wall time of the point run or taken last */
} sweep_ctx;

/* The values of point `i` in a grid (first axis outermost) or a list.
 * False with the message in err when a listed point is malformed. */
static bool point_values(const sweep_ctx *c, size_t i, mlp_value *vals, char err[160])
{
    if (c->repeat) {   /* repeats innermost: the seed is the last value */
        vals[c->k] = mlp_number((double)(c->start.seed + i % c->repeat));
        i /= c->repeat;
    }
    if (c->resource) {   /* a rung of halving: its points and budget */
        i = c->map[i];
        vals[c->k] = mlp_number(c->budget);
    }
    if (c->listed) {
        mlp_value p = mlp_list_get(mlp_list_get(c->axes, 0), i);
        if (c->k == 1 && !mlp_is_list(p)) { vals[0] = p; return true; }
        if (!mlp_is_list(p) || mlp_list_len(p) != c->k) {
            snprintf(err, 160, "sweep: point %zu must be a list of %zu values", i + 1, c->k);
            return false;
        }
        for (size_t j = 0; j < c->k; j++) vals[j] = mlp_list_get(p, j);
        return true;
    }
    for (size_t j = c->k; j-- > 0;) {
        mlp_value axis = mlp_list_get(c->axes, j);
        size_t len = mlp_list_len(axis);
        vals[j] = mlp_list_get(axis, i % len);
        i /= len;
    }
    return true;
}

/* Adds the keys of `row` that `columns` lacks, in order. */
static void add_columns(mlp_vm *vm, mlp_value columns, mlp_value row)
{
    for (size_t i = 0; i < mlp_record_len(row); i++) {
        mlp_value key, val;
        mlp_record_entry(row, i, &key, &val);
        bool seen = false;
        for (size_t c = 0; c < mlp_list_len(columns) && !seen; c++)
            seen = mlp_equal(mlp_list_get(columns, c), key);
        if (!seen) mlp_list_push(vm, columns, key);
    }
}

static mlp_value copy_record(mlp_vm *vm, mlp_value rec)
{
    mlp_value out = mlp_record_new(vm);
    for (size_t i = 0; i < mlp_record_len(rec); i++) {
        mlp_value k, v;
        mlp_record_entry(rec, i, &k, &v);
        mlp_record_set(vm, out, mlp_cstr(k), v);
    }
    return out;
}

/* A record of the point's axis values: the start of each of its rows. */
static mlp_value base_record(mlp_vm *vm, const sweep_ctx *c, const mlp_value *vals)
{
    mlp_value base = mlp_record_new(vm);
    mlp_push_root(vm, base);
    for (size_t j = 0; j < c->k; j++)
        mlp_record_set(vm, base, mlp_cstr(mlp_list_get(c->names, j)), vals[j]);
    if (c->repeat) mlp_record_set(vm, base, "seed", vals[c->k]);
    if (c->resource) mlp_record_set(vm, base, c->resource, vals[c->k]);
    mlp_pop_root(vm);
    return base;
}

/* On stderr, in point order, for a failed point: "sweep point 2/3
 * (a=1, b=x): " and then the error as the VM reports any runtime error
 * (location, source line, caret, traceback), or `what` and a newline. */
static void say_failed(mlp_vm *vm, const sweep_ctx *c, size_t i, const mlp_value *vals,
                       const char *what, size_t n, bool plain)
{
    par_buf b = {0};
    char head[64];
    snprintf(head, sizeof head, "sweep point %zu/%zu (", i + 1, c->npoints);
    par_put(&b, head, strlen(head));
    for (size_t j = 0; j < c->k; j++) {
        mlp_value name = mlp_list_get(c->names, j), s = std_short_text(vm, vals[j]);
        if (j) par_put(&b, ", ", 2);
        par_put(&b, mlp_cstr(name), mlp_strlen(name));
        par_put(&b, "=", 1);
        par_put(&b, mlp_cstr(s), mlp_strlen(s));
    }
    if (c->repeat || c->resource) {
        char sd[128];
        snprintf(sd, sizeof sd, ", %s=%.0f", c->repeat ? "seed" : c->resource,
                 mlp_as_number(vals[c->k]));
        par_put(&b, sd, strlen(sd));
    }
    par_put(&b, plain ? "): error: " : "): ", plain ? 10 : 3);
    par_put(&b, what, n);
    if (plain || !n || what[n - 1] != '\n') par_put(&b, "\n", 1);
    if (!b.oom) mlp_write_err(vm, b.s, b.n);
    par_buf_free(&b);
}

/* Runs one point (in its own process), leaving its rows in h->report: a
 * point that fails has one row, its axis values (what it reported before
 * failing is dropped), and its error message in *msg and the located
 * report in *report. False when interrupted. */
/* The checkpoint path of the halving point running in this process ("": none). */
static char point_ckpt[1100];

static bool run_point(mlp_vm *vm, sweep_ctx *c, size_t i, const mlp_value *vals, bool *failed,
                      mlp_value *msg, mlp_value *report)
{
    std_host *h = std_host_of(vm);
    mlp_value res;
    h->sweep_depth++;
    h->rnd = c->start;
    if (c->repeat) std_random_seed(&h->rnd, (uint64_t)mlp_as_number(vals[c->k]));
    point_ckpt[0] = 0;
    if (c->resource) {   /* this point's checkpoint; a fit may resume it for more epochs */
        snprintf(point_ckpt, sizeof point_ckpt, "%s/point-%zu.ckpt", c->ckdir, c->map[i]);
        if (c->rung == 0) remove(point_ckpt);   /* none from another run */
        h->extend_epochs = true;
    }
    h->report_base = base_record(vm, c, vals);
    h->report = mlp_list_new(vm);
    double t0 = rt_seconds();
    bool point_ok = mlp_pcall_report(vm, c->body, (int)c->k + (c->resource ? 1 : 0), vals,
                                     mlp_nil(), &res, report);
    c->seconds = rt_seconds() - t0;
    *failed = !point_ok;
    *msg = res;
    if (!point_ok && (mlp_interrupted(vm) || mlp_exit_requested(vm, NULL))) return false;
    if (mlp_list_len(h->report) == 0 || !point_ok) {
        mlp_push_root(vm, res);
        mlp_push_root(vm, *report);
        h->report = mlp_list_new(vm);
        mlp_value row = copy_record(vm, h->report_base);
        mlp_list_push(vm, h->report, row);
        mlp_pop_root(vm);
        mlp_pop_root(vm);
    }
    return true;
}

/* Appends a point's rows to the table; a failed point's row gets its
 * message in the `error` column, which goes last (added after the sweep). */
static void take_rows(mlp_vm *vm, sweep_ctx *c, mlp_value rows, bool failed, mlp_value msg)
{
    for (size_t r = 0; r < mlp_list_len(rows); r++) {
        mlp_value row = mlp_list_get(rows, r);
        add_columns(vm, c->t->columns, row);
        if (failed) mlp_record_set(vm, row, "error", msg);
        mlp_list_push(vm, c->t->rows, row);
        mlp_list_push(vm, c->t->seconds, mlp_number(c->seconds));
    }
    c->any_failed |= failed;
}

/* ---- walking nested values without recursion ------------------------------------ */

/* Boxes: lists, records and results tables (a nested sweep's, reported
 * by a point), whose two children are its columns and its rows. */
static bool is_box(mlp_value v)
{
    return mlp_is_list(v) || mlp_is_record(v) || mlp_handle_data(v, &std_table_class);
}

static size_t box_len(mlp_value v)
{
    return mlp_is_list(v) ? mlp_list_len(v) : mlp_is_record(v) ? mlp_record_len(v) : 2;
}

/* A stack of lists and records being walked: each with the next child's
 * index (and, when decoding, how many children it will have). */
typedef struct box_frame { mlp_value v; size_t i, len; } box_frame;
typedef struct box_stack { box_frame *f; size_t n, cap; } box_stack;

static bool box_push(box_stack *s, mlp_value v, size_t len)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        box_frame *f = realloc(s->f, cap * sizeof *f);
        if (!f) return false;
        s->f = f;
        s->cap = cap;
    }
    s->f[s->n++] = (box_frame){ v, 0, len };
    return true;
}

/* The next child of the innermost unfinished box (its key too, for a
 * record), popping finished boxes; false when the walk is over. */
static bool box_next(box_stack *s, mlp_value *key, mlp_value *child)
{
    while (s->n) {
        box_frame *f = &s->f[s->n - 1];
        if (f->i < box_len(f->v)) {
            size_t i = f->i++;
            std_table *t = mlp_handle_data(f->v, &std_table_class);
            if (t) *child = i == 0 ? t->columns : t->rows;
            else if (mlp_is_list(f->v)) *child = mlp_list_get(f->v, i);
            else mlp_record_entry(f->v, i, key, child);
            return true;
        }
        s->n--;
    }
    return false;
}

/* How many lists and records a reported value may hold, a shared one
 * counted each time it appears (it crosses processes as that many copies):
 * [x, x] nested 60 times is small in memory but 2^60 copies. */
#define REPORT_MAX_BOXES (1L << 24)

/* 1 when lists and records nest at most MLP_MAX_VALUE_DEPTH deep in v
 * (a list of numbers is 1 deep; a value that contains itself is
 * infinitely deep), 0 when deeper, -1 out of memory, -2 more than
 * REPORT_MAX_BOXES of them. */
static int depth_ok(mlp_value v)
{
    if (!is_box(v)) return 1;
    box_stack s = {0};
    int ok = box_push(&s, v, 0) ? 1 : -1;
    long boxes = 1;
    mlp_value key, child;
    while (ok == 1 && box_next(&s, &key, &child)) {
        if (!is_box(child)) continue;
        if (s.n >= MLP_MAX_VALUE_DEPTH) ok = 0;
        else if (++boxes > REPORT_MAX_BOXES) ok = -2;
        else if (!box_push(&s, child, 0)) ok = -1;
    }
    free(s.f);
    return ok;
}

/* ---- a point's rows between processes ------------------------------------------
 *
 * A worker sends back its point's rows as bytes: numbers bit for bit,
 * strings, booleans and nil as themselves, lists and records to any depth
 * report() accepts (MLP_MAX_VALUE_DEPTH); a value equal to one of the
 * point's own values (under its axis's name, or any handle among them) as
 * a reference to it, so the table keeps the parent's value (the optimizer
 * handle itself); any other handle or function as its short text, which
 * is what the table and save() show of it. Layout: 'R', failed (u64),
 * whether a sweep nested in the point had a failed point (u64), for a
 * failed point its error message and its located report, the row count,
 * then per row its entry count and (key, value) pairs; or 'E' and a
 * message for an error that stops the sweep. Lengths and counts are u64 in
 * host byte order: the processes of one job run the same binary on the
 * same kind of machine.
 */

enum { V_NIL = 'z', V_TRUE = 't', V_FALSE = 'f', V_NUM = 'n', V_STR = 's', V_LIST = 'l',
       V_REC = 'r', V_TABLE = 'T', V_TEXT = 'x', V_AXIS = 'A', V_HIST = 'h' };

static void put_str(par_buf *b, const char *s, size_t n)
{
    par_put_u64(b, n);
    par_put(b, s, n);
}

/* Any value but a list or record. */
static void encode_leaf(mlp_vm *vm, par_buf *b, mlp_value v, const mlp_value *vals, size_t k)
{
    char tag;
    switch (mlp_typeof(v)) {
    case MLP_T_NIL: tag = V_NIL; par_put(b, &tag, 1); return;
    case MLP_T_BOOL: tag = mlp_as_bool(v) ? V_TRUE : V_FALSE; par_put(b, &tag, 1); return;
    case MLP_T_NUMBER: {
        double x = mlp_as_number(v);
        tag = V_NUM;
        par_put(b, &tag, 1);
        par_put(b, &x, sizeof x);
        return;
    }
    case MLP_T_STRING: tag = V_STR; par_put(b, &tag, 1); put_str(b, mlp_cstr(v), mlp_strlen(v)); return;
    default: break;
    }
    /* A history travels whole: its epochs bit for bit. */
    std_history *hist = mlp_handle_data(v, &std_history_class);
    if (hist) {
        tag = V_HIST;
        par_put(b, &tag, 1);
        par_put_u64(b, (uint64_t)hist->n);
        for (int c = 0; c < STD_H_COUNT; c++) par_put(b, hist->col[c], (size_t)hist->n * sizeof(double));
        return;
    }
    /* A handle that is one of the point's values (report(o=opt)) stays
     * that very value; any other becomes its text. */
    for (size_t j = 0; j < k; j++)
        if (mlp_typeof(v) == mlp_typeof(vals[j]) && mlp_equal(v, vals[j])) {
            par_put(b, "A", 1);
            par_put_u64(b, j);
            return;
        }
    mlp_value s = std_short_text(vm, v);
    tag = V_TEXT;
    par_put(b, &tag, 1);
    put_str(b, mlp_cstr(s), mlp_strlen(s));
}

/* v in pre-order: a box as its tag and length, then its children (a
 * record's each after its key). Too deep (report() let it through only
 * if it changed since) or out of memory: b->oom, the point's worker fails. */
static void encode_value(mlp_vm *vm, par_buf *b, mlp_value v, const mlp_value *vals, size_t k)
{
    box_stack s = {0};
    mlp_value key = mlp_nil();
    for (;;) {
        if (is_box(v)) {
            char tag = mlp_is_list(v) ? V_LIST : mlp_is_record(v) ? V_REC : V_TABLE;
            par_put(b, &tag, 1);
            par_put_u64(b, box_len(v));
            if (s.n >= MLP_MAX_VALUE_DEPTH || !box_push(&s, v, 0)) { b->oom = true; break; }
        } else {
            encode_leaf(vm, b, v, vals, k);
        }
        if (!box_next(&s, &key, &v)) break;
        if (mlp_is_record(s.f[s.n - 1].v)) put_str(b, mlp_cstr(key), mlp_strlen(key));
    }
    free(s.f);
}

/* The rows in h->report, as the parent will rebuild them. */
static void encode_rows(mlp_vm *vm, const sweep_ctx *c, const mlp_value *vals, bool failed,
                        mlp_value msg, mlp_value report, par_buf *b)
{
    std_host *h = std_host_of(vm);
    mlp_value rows = h->report;
    par_put(b, "R", 1);
    par_put_u64(b, failed);
    par_put_u64(b, h->sweep_failed);
    if (failed) {
        put_str(b, mlp_cstr(msg), mlp_strlen(msg));
        put_str(b, mlp_cstr(report), mlp_strlen(report));
    }
    par_put_u64(b, mlp_list_len(rows));
    for (size_t r = 0; r < mlp_list_len(rows); r++) {
        mlp_value row = mlp_list_get(rows, r);
        par_put_u64(b, mlp_record_len(row));
        for (size_t e = 0; e < mlp_record_len(row); e++) {
            mlp_value key, val;
            mlp_record_entry(row, e, &key, &val);
            put_str(b, mlp_cstr(key), mlp_strlen(key));
            size_t j = 0;
            while (j < c->k && !(mlp_equal(key, mlp_list_get(c->names, j)) &&
                                 mlp_typeof(val) == mlp_typeof(vals[j]) && mlp_equal(val, vals[j])))
                j++;
            if (j < c->k) {
                par_put(b, "A", 1);
                par_put_u64(b, j);
            } else {
                encode_value(vm, b, val, vals, c->k);
            }
        }
    }
    par_put(b, &c->seconds, sizeof c->seconds);   /* the point's wall time */
}

/* A cursor over received bytes; `bad` once they ran out or made no sense. */
typedef struct reader { const char *p, *end; bool bad; } reader;

static uint64_t get_u64(reader *r)
{
    uint64_t x = 0;
    if (r->end - r->p < 8) { r->bad = true; return 0; }
    memcpy(&x, r->p, 8);
    r->p += 8;
    return x;
}

static const char *get_str(reader *r, size_t *n)
{
    *n = (size_t)get_u64(r);
    if (r->bad || (size_t)(r->end - r->p) < *n) { r->bad = true; *n = 0; return ""; }
    const char *s = r->p;
    r->p += *n;
    return s;
}

/* One value's tag and what follows it, but for a box only its tag and
 * length (*len): the box comes back empty, its children follow. */
static mlp_value decode_one(mlp_vm *vm, reader *r, const mlp_value *vals, size_t k, bool *box,
                            size_t *len)
{
    *box = false;
    if (r->p >= r->end) { r->bad = true; return mlp_nil(); }
    char tag = *r->p++;
    size_t n;
    const char *s;
    switch (tag) {
    case V_NIL: return mlp_nil();
    case V_TRUE: return mlp_bool(true);
    case V_FALSE: return mlp_bool(false);
    case V_NUM: {
        double x;
        if (r->end - r->p < 8) break;
        memcpy(&x, r->p, 8);
        r->p += 8;
        return mlp_number(x);
    }
    case V_STR:
    case V_TEXT:
        s = get_str(r, &n);
        return mlp_string(vm, s, n);
    case V_AXIS: {
        uint64_t j = get_u64(r);
        if (j < k) return vals[j];
        break;
    }
    case V_HIST: {
        uint64_t ne = get_u64(r);
        if (r->bad || ne > (uint64_t)(r->end - r->p) / (STD_H_COUNT * sizeof(double))) break;
        double *all = malloc((ne ? ne : 1) * STD_H_COUNT * sizeof *all), *col[STD_H_COUNT];
        if (!all) break;
        memcpy(all, r->p, ne * STD_H_COUNT * sizeof *all);   /* the bytes may be unaligned */
        r->p += ne * STD_H_COUNT * sizeof *all;
        for (int c = 0; c < STD_H_COUNT; c++) col[c] = all + (size_t)c * ne;
        mlp_value hv = std_history_value(vm, (int)ne, col);
        free(all);
        return hv;
    }
    case V_LIST:
    case V_REC:
        *box = true;
        *len = (size_t)get_u64(r);
        return tag == V_LIST ? mlp_list_new(vm) : mlp_record_new(vm);
    case V_TABLE: {
        std_table *t = malloc(sizeof *t);
        *len = (size_t)get_u64(r);
        if (!t || *len != 2) { free(t); break; }
        *box = true;
        t->columns = t->rows = t->seconds = mlp_nil();
        t->naxes = 0;   /* a nested table travels as its columns and rows */
        t->spent = t->full = NAN;
        return mlp_handle(vm, &std_table_class, t);
    }
    default: break;
    }
    r->bad = true;
    return mlp_nil();
}

/* Stores v, child i of box: under key in a record, at the end of a list,
 * as a table's columns (0) or rows (1); v is rooted meanwhile, the box by
 * the caller. False when a table's part is not a list. */
static bool attach(mlp_vm *vm, mlp_value box, size_t i, const char *key, mlp_value v)
{
    std_table *t = mlp_handle_data(box, &std_table_class);
    if (t) {
        if (!mlp_is_list(v)) return false;
        *(i == 0 ? &t->columns : &t->rows) = v;
        return true;
    }
    mlp_push_root(vm, v);
    if (mlp_is_list(box)) mlp_list_push(vm, box, v);
    else mlp_record_set(vm, box, key, v);
    mlp_pop_root(vm);
    return true;
}

/* A key (NUL-terminated copy) or NULL when malformed or out of memory. */
static char *get_key(reader *r)
{
    size_t kn;
    const char *ks = get_str(r, &kn);
    if (r->bad) return NULL;
    char *key = strndup(ks, kn);
    if (!key) r->bad = true;
    return key;
}

/* Decodes one value into `into` (under key, or pushed onto a list). Every
 * box is attached to its parent before its children are read, so one
 * root (into) keeps the whole value alive. */
static void decode_into(mlp_vm *vm, reader *r, mlp_value into, const char *key,
                        const mlp_value *vals, size_t k)
{
    box_stack s = {0};
    bool box;
    size_t len = 0;
    mlp_value v = decode_one(vm, r, vals, k, &box, &len);
    if (r->bad) return;
    attach(vm, into, 0, key, v);
    if (box && !box_push(&s, v, len)) r->bad = true;
    while (s.n && !r->bad) {
        box_frame *f = &s.f[s.n - 1];
        if (f->i == f->len) { s.n--; continue; }
        size_t i = f->i++;
        mlp_value parent = f->v;
        char *ck = mlp_is_record(parent) ? get_key(r) : NULL;
        if (r->bad) break;
        v = decode_one(vm, r, vals, k, &box, &len);
        if (!r->bad && !attach(vm, parent, i, ck, v)) r->bad = true;
        free(ck);
        if (!r->bad && box && (s.n > MLP_MAX_VALUE_DEPTH || !box_push(&s, v, len))) r->bad = true;
    }
    free(s.f);
}

/* A record's (key, value) pairs; the record must be rooted by the caller. */
static void decode_entries(mlp_vm *vm, reader *r, mlp_value rec, const mlp_value *vals, size_t k)
{
    uint64_t n = get_u64(r);
    for (uint64_t e = 0; e < n && !r->bad; e++) {
        char *key = get_key(r);
        if (key) decode_into(vm, r, rec, key, vals, k);
        free(key);
    }
}

/* ---- cache "file": finished points kept across runs ---------------------------- */

/* One line a finished point: "mlp-sweep-cache 1 KEY LEN HEX\n", KEY the
 * point's key (16 hex digits), HEX its result as the worker encoded it.
 * Appended by the process that prints (rank 0) as each point is taken, so
 * a run killed at any moment keeps every point it took. */
typedef struct cached { uint64_t key; char *res; size_t len; } cached;

/* The point's key: the body's hash, the script's random state at the
 * sweep's start, and the point's names and values (with its seed or
 * budget) as str() writes them. */
static uint64_t point_key(mlp_vm *vm, const sweep_ctx *c, const mlp_value *vals)
{
    uint64_t h = 1469598103934665603ULL;
    char buf[64];
    snprintf(buf, sizeof buf, "%s %llu %llu", c->body_hash, (unsigned long long)c->start.seed,
             (unsigned long long)c->start.models);
    for (const char *p = buf; *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
    size_t nv = c->k + (c->repeat || c->resource ? 1 : 0);
    for (size_t j = 0; j < nv; j++) {
        const char *name = j < c->k ? mlp_cstr(mlp_list_get(c->names, j)) : "+";
        for (size_t i = 0; i <= strlen(name); i++)
            h = (h ^ (unsigned char)name[i]) * 1099511628211ULL;
        mlp_value text = mlp_tostring(vm, vals[j]);
        for (size_t i = 0; i <= mlp_strlen(text); i++)
            h = (h ^ (unsigned char)mlp_cstr(text)[i]) * 1099511628211ULL;
    }
    return h;
}

static const cached *cache_find(const sweep_ctx *c, uint64_t key)
{
    for (size_t i = 0; i < c->ncached; i++)
        if (c->cached[i].key == key) return &c->cached[i];
    return NULL;
}

static bool cache_add(sweep_ctx *c, uint64_t key, const char *res, size_t len)
{
    if (c->ncached == c->capcached) {
        size_t cap = c->capcached ? c->capcached * 2 : 64;
        cached *n = realloc(c->cached, cap * sizeof *n);
        if (!n) return false;
        c->cached = n;
        c->capcached = cap;
    }
    char *copy = malloc(len + 1);
    if (!copy) return false;
    memcpy(copy, res, len);
    c->cached[c->ncached++] = (cached){ key, copy, len };
    return true;
}

static void cache_free(sweep_ctx *c)
{
    for (size_t i = 0; i < c->ncached; i++) free(c->cached[i].res);
    free(c->cached);
    c->cached = NULL;
    c->ncached = c->capcached = 0;
}

static int hexval(int ch)
{
    return ch >= '0' && ch <= '9' ? ch - '0' : ch >= 'a' && ch <= 'f' ? ch - 'a' + 10 : -1;
}

/* Reads the cache file (missing: empty); a line that does not read whole
 * (a run killed mid-line) is skipped. */
static bool cache_load(mlp_vm *vm, sweep_ctx *c)
{
    FILE *f = fopen(c->cache, "rb");
    if (!f && errno != ENOENT)
        return mlp_raise(vm, "sweep: cache: cannot read '%s': %s", c->cache, strerror(errno));
    /* A cache that cannot be written (a missing folder, a directory) would
     * silently cache nothing: an I/O error now, before any point runs. */
    struct stat st;
    if (f && fstat(fileno(f), &st) == 0 && S_ISDIR(st.st_mode)) {
        fclose(f);
        return mlp_raise_io(vm, "sweep: cache: '%s' is a directory", c->cache);
    }
    if (!par_silent(vm)) {
        FILE *w = fopen(c->cache, "ab");
        if (!w) {
            int e = errno;
            if (f) fclose(f);
            return mlp_raise_io(vm, "sweep: cache: cannot write '%s': %s", c->cache, strerror(e));
        }
        fclose(w);
    }
    if (!f) return true;
    char *line = NULL;
    size_t cap = 0;
    ssize_t n;
    while ((n = getline(&line, &cap, f)) > 0) {
        unsigned long long key;
        size_t len;
        int at = 0;
        if (sscanf(line, "mlp-sweep-cache 1 %16llx %zu %n", &key, &len, &at) != 2 || at == 0 ||
            (size_t)(n - at) < 2 * len + 1 || line[at + 2 * len] != '\n')
            continue;
        char *res = malloc(len + 1);
        bool good = res != NULL;
        for (size_t i = 0; good && i < len; i++) {
            int hi = hexval(line[at + 2 * i]), lo = hexval(line[at + 2 * i + 1]);
            good = hi >= 0 && lo >= 0;
            if (good) res[i] = (char)(hi << 4 | lo);
        }
        if (good && !cache_find(c, key)) cache_add(c, key, res, len);
        free(res);
    }
    free(line);
    fclose(f);
    return true;
}

/* Appends a finished point's result (not a failed one: it runs again). */
static void cache_append(mlp_vm *vm, sweep_ctx *c, uint64_t key, const char *res, size_t len)
{
    if (cache_find(c, key) || !cache_add(c, key, res, len) || par_silent(vm)) return;
    FILE *f = fopen(c->cache, "ab");
    if (!f) return;
    fprintf(f, "mlp-sweep-cache 1 %016llx %zu ", (unsigned long long)key, len);
    for (size_t i = 0; i < len; i++) fprintf(f, "%02x", (unsigned char)res[i]);
    fputc('\n', f);
    fclose(f);
}

/* ---- the engine's two callbacks (parallel.h) ------------------------------------ */

/* In a point's process: runs point i and encodes its rows and a summary line. */
static bool job_run(mlp_vm *vm, void *ctx, size_t i, par_buf *res, par_buf *sum)
{
    sweep_ctx *c = ctx;
    mlp_value vals[17], msg, report;
    char err[160];
    if (!point_values(c, i, vals, err)) {
        par_put(res, "E", 1);
        par_put(res, err, strlen(err));
        par_put(sum, err, strlen(err));
        return true;
    }
    bool failed;
    if (c->cache) {   /* finished in an earlier run: its result as it was */
        const cached *hit = cache_find(c, point_key(vm, c, vals));
        if (hit) {
            par_put(res, hit->res, hit->len);
            par_put(sum, "(cached)", 8);
            return true;
        }
    }
    if (!run_point(vm, c, i, vals, &failed, &msg, &report)) return false;
    mlp_push_root(vm, msg);   /* the texts below allocate */
    mlp_push_root(vm, report);
    encode_rows(vm, c, vals, failed, msg, report, res);
    /* "a=1 b=x -> sum=10 tag=x!": the axes, then what the point reported. */
    mlp_value rows = std_host_of(vm)->report;
    for (size_t j = 0; j < c->k; j++) {
        mlp_value s = std_short_text(vm, vals[j]);
        par_put(sum, j ? " " : "", j ? 1 : 0);
        par_put(sum, mlp_cstr(mlp_list_get(c->names, j)), mlp_strlen(mlp_list_get(c->names, j)));
        par_put(sum, "=", 1);
        par_put(sum, mlp_cstr(s), mlp_strlen(s));
    }
    if (c->repeat || c->resource) {
        char sd[128];
        snprintf(sd, sizeof sd, " %s=%.0f", c->repeat ? "seed" : c->resource,
                 mlp_as_number(vals[c->k]));
        par_put(sum, sd, strlen(sd));
    }
    par_put(sum, " ->", 3);
    if (failed) {
        par_put(sum, " error: ", 8);
        par_put(sum, mlp_cstr(msg), mlp_strlen(msg));
    }
    for (size_t r = 0; !failed && r < mlp_list_len(rows); r++) {
        mlp_value row = mlp_list_get(rows, r);
        for (size_t e = c->k + (c->repeat || c->resource ? 1 : 0); e < mlp_record_len(row); e++) {
            mlp_value key, val;
            mlp_record_entry(row, e, &key, &val);
            /* a nested sweep's table would be its whole text, nested again */
            mlp_value s = mlp_is_string(val) ? val
                        : mlp_handle_data(val, &std_table_class) ? mlp_string_cstr(vm, "<results>")
                        : std_short_text(vm, val);
            par_put(sum, " ", 1);
            par_put(sum, mlp_cstr(key), mlp_strlen(key));
            par_put(sum, "=", 1);
            par_put(sum, mlp_cstr(s), mlp_strlen(s));
        }
    }
    mlp_pop_root(vm);
    mlp_pop_root(vm);
    return true;
}

/* In the parent, in point order, after the point's output: rebuilds point
 * i's rows into the table and reports its failure on stderr. */
static bool job_take(mlp_vm *vm, void *ctx, size_t i, const char *res, size_t len,
                     const char *died)
{
    sweep_ctx *c = ctx;
    std_host *h = std_host_of(vm);
    mlp_value vals[17];
    char err[160];
    bool have_vals = point_values(c, i, vals, err);
    if (c->rowat) c->rowat[i] = mlp_list_len(c->t->rows);
    c->taken = i + 1;
    fflush(stdout);   /* what the point printed comes before its error */
    if (died) {
        if (!have_vals) return mlp_raise(vm, "%s", err);
        say_failed(vm, c, i, vals, died, strlen(died), true);
        mlp_value row = base_record(vm, c, vals);
        mlp_push_root(vm, row);
        add_columns(vm, c->t->columns, row);
        mlp_value why = mlp_string_cstr(vm, died);   /* rooted: the key allocates */
        mlp_push_root(vm, why);
        mlp_record_set(vm, row, "error", why);
        mlp_pop_root(vm);
        mlp_list_push(vm, c->t->rows, row);
        mlp_list_push(vm, c->t->seconds, mlp_nil());
        c->any_failed = h->sweep_failed = true;
        mlp_pop_root(vm);
        return true;
    }
    if (len >= 1 && res[0] == 'E') return mlp_raise(vm, "%.*s", (int)(len - 1), res + 1);
    reader r = { res + 1, res + len, len < 1 || res[0] != 'R' || !have_vals };
    bool failed = get_u64(&r) != 0;
    bool nested_failed = get_u64(&r) != 0;
    if (c->cache && !r.bad && !failed && !nested_failed)
        cache_append(vm, c, point_key(vm, c, vals), res, len);
    size_t mn = 0, rn = 0;
    const char *ms = failed ? get_str(&r, &mn) : "";
    const char *rs = failed ? get_str(&r, &rn) : "";
    if (failed && !r.bad) say_failed(vm, c, i, vals, rs, rn, false);
    mlp_value msg = mlp_string(vm, ms, mn);
    mlp_push_root(vm, msg);
    uint64_t nrows = get_u64(&r);
    mlp_value rows = mlp_list_new(vm);
    mlp_push_root(vm, rows);
    for (uint64_t k = 0; k < nrows && !r.bad; k++) {
        mlp_value row = mlp_record_new(vm);
        mlp_push_root(vm, row);
        decode_entries(vm, &r, row, vals, c->k);
        mlp_list_push(vm, rows, row);
        mlp_pop_root(vm);
    }
    c->seconds = NAN;
    if (!r.bad && r.end - r.p >= (ptrdiff_t)sizeof c->seconds) memcpy(&c->seconds, r.p, sizeof c->seconds);
    if (!r.bad) take_rows(vm, c, rows, failed, msg);
    if (!r.bad && (failed || nested_failed)) h->sweep_failed = true;
    mlp_pop_root(vm);
    mlp_pop_root(vm);
    if (r.bad) return mlp_raise(vm, "sweep: point %zu: a malformed result from its worker", i + 1);
    return true;
}

/* The values an axis (or the listed points) takes: a list as it is, a
 * range, string or record as `for` walks it (list()). */
static bool axis_list(mlp_vm *vm, const sweep_ctx *c, size_t j)
{
    mlp_value axis = mlp_list_get(c->axes, j), l;
    if (mlp_is_list(axis)) return true;
    mlp_type t = mlp_typeof(axis);
    if (t != MLP_T_RANGE && t != MLP_T_STRING && t != MLP_T_RECORD)
        return mlp_raise(vm, "sweep: the values of '%s' must be a list, range, string or record, "
                         "got %s", c->listed ? "points" : mlp_cstr(mlp_list_get(c->names, j)),
                         mlp_type_name(axis));
    if (!mlp_call_native(vm, "list", 1, &axis, &l)) return false;
    mlp_list_set(c->axes, j, l);
    return true;
}

/* ---- successive halving ---------------------------------------------------------- */

/* halving(resource="epochs", min=1, max=27, eta=3, metric="val_acc",
 * lower=false, dir=nil): synchronous rungs. Rung 0 runs every point with
 * `min` of the resource, each later rung the best 1/eta of the one before
 * (at least one) with eta times as much (the last with `max`); the
 * resource is a variable of the body (the compiler adds the parameter,
 * desugar.c). A point's fit resumes its checkpoint, point().checkpoint,
 * for the epochs it has not had (fit(..., checkpoint=point().checkpoint,
 * resume=true)); checkpoints live in `dir` (default: a folder of the
 * temporary directory named from the script, its seed and the parent
 * process, the same on every MPI rank of one machine). */
typedef struct halving {
    double min, max, eta;
    const char *metric;
    bool lower;
} halving;

static bool halving_clause(mlp_vm *vm, sweep_ctx *c, mlp_value v, halving *hv)
{
    *hv = (halving){ 1, NAN, 3, "val_acc", false };
    mlp_value dir = mlp_nil();
    bool named = false;
    if (!mlp_is_record(v))
        return mlp_raise(vm, "sweep: halving takes keyword arguments: halving(max=27, eta=3, "
                         "metric=\"val_acc\")");
    for (size_t i = 0; i < mlp_record_len(v); i++) {
        mlp_value key, val;
        long n;
        mlp_record_entry(v, i, &key, &val);
        const char *k = mlp_cstr(key);
        if (strcmp(k, "(param)") == 0) named = true;
        else if (strcmp(k, "resource") == 0) {
            if (!std_str_arg(vm, "halving", "resource", val, &c->resource)) return false;
        } else if (strcmp(k, "min") == 0 || strcmp(k, "max") == 0) {
            if (!std_int_arg(vm, "halving", k, val, 1, 1L << 30, &n)) return false;
            *(k[1] == 'i' ? &hv->min : &hv->max) = (double)n;
        } else if (strcmp(k, "eta") == 0) {
            if (!std_int_arg(vm, "halving", "eta", val, 2, 1000, &n)) return false;
            hv->eta = (double)n;
        } else if (strcmp(k, "metric") == 0) {
            if (!std_str_arg(vm, "halving", "metric", val, &hv->metric)) return false;
        } else if (strcmp(k, "lower") == 0) {
            hv->lower = mlp_truthy(val);
        } else if (strcmp(k, "dir") == 0) {
            dir = val;
        } else {
            return mlp_raise(vm, "halving: unknown argument '%s' (resource, min, max, eta, "
                             "metric, lower, dir)", k);
        }
    }
    if (!named || !c->resource)
        return mlp_raise(vm, "halving: resource= must be a name in quotes, written in the "
                         "clause (the body's variable for the budget)");
    if (isnan(hv->max)) return mlp_raise(vm, "halving: give the largest budget: max=N");
    if (hv->min > hv->max)
        return mlp_raise(vm, "halving: min (%g) must be at most max (%g)", hv->min, hv->max);
    for (size_t j = 0; j < mlp_list_len(c->names); j++)
        if (strcmp(mlp_cstr(mlp_list_get(c->names, j)), c->resource) == 0)
            return mlp_raise(vm, "halving: '%s' is already a variable of this sweep", c->resource);
    if (!mlp_is_nil(dir)) {
        const char *d;
        if (!std_str_arg(vm, "halving", "dir", dir, &d)) return false;
        snprintf(c->ckdir, sizeof c->ckdir, "%s", d);
    } else {
        /* the same name in every process of one run: the script's text,
         * its seed, and the process that started it (mpirun, or the shell) */
        const char *name = "", *text = "";
        size_t len = 0;
        mlp_main_source(vm, &name, &text, &len);
        uint64_t hsh = 1469598103934665603ULL ^ c->start.seed;
        for (size_t i = 0; i < len; i++) hsh = (hsh ^ (unsigned char)text[i]) * 1099511628211ULL;
        const char *tmp = getenv("TMPDIR");
        snprintf(c->ckdir, sizeof c->ckdir, "%s/mlp-halving-%ld-%016llx",
                 tmp && *tmp ? tmp : "/tmp", (long)getppid(), (unsigned long long)hsh);
    }
    if (mkdir(c->ckdir, 0700) != 0 && errno != EEXIST)
        return mlp_raise(vm, "halving: cannot make the folder '%s': %s", c->ckdir, strerror(errno));
    return true;
}

/* The metric of the point whose rows start at table row r (NaN when it failed). */
static double point_metric(sweep_ctx *c, size_t r, const char *metric)
{
    if (r >= mlp_list_len(c->t->rows)) return NAN;
    mlp_value row = mlp_list_get(c->t->rows, r), v, e;
    if (mlp_record_get(row, "error", &e) && !mlp_is_nil(e)) return NAN;
    if (!mlp_record_get(row, metric, &v) || !mlp_is_number(v)) return NAN;
    return mlp_as_number(v);
}

static bool run_halving(mlp_vm *vm, sweep_ctx *c, const halving *hv, size_t npoints)
{
    size_t *sel = malloc((npoints + 1) * sizeof *sel), *rowat = malloc((npoints + 1) * sizeof *rowat);
    double *score = malloc((npoints + 1) * sizeof *score);
    bool ok = sel && rowat && score;
    if (!ok) mlp_raise(vm, "out of memory");
    size_t nsel = npoints;
    for (size_t i = 0; ok && i < npoints; i++) sel[i] = i;
    double budget = hv->min, prev = 0, spent = 0;
    c->map = sel;
    c->rowat = rowat;
    for (c->rung = 0; ok; c->rung++) {
        c->budget = budget;
        c->npoints = nsel;
        par_job job = { nsel, c, job_run, job_take };
        c->taken = 0;
        ok = par_enabled(vm) ? par_run(vm, &job) : par_run_serial(vm, &job);
        if (!ok) break;
        spent += (double)nsel * (budget - prev);
        if (budget >= hv->max) break;
        /* the best 1/eta go on (at least one); equal scores in point order */
        for (size_t i = 0; i < nsel; i++) {
            score[i] = point_metric(c, rowat[i], hv->metric);
            if (c->rung == 0 && isnan(score[i]) && !c->any_failed &&
                !mlp_record_get(mlp_list_get(c->t->rows, rowat[i]), hv->metric, &(mlp_value){0})) {
                ok = mlp_raise(vm, "halving: point %zu did not report '%s' (metric=)",
                               sel[i] + 1, hv->metric);
                break;
            }
        }
        if (!ok) break;
        for (size_t i = 1; i < nsel; i++)   /* stable insertion sort, NaN last */
            for (size_t j = i; j > 0; j--) {
                double x = score[j], y = score[j - 1];
                if (isnan(x) || !(isnan(y) || (hv->lower ? x < y : x > y))) break;
                double ts = score[j]; score[j] = score[j - 1]; score[j - 1] = ts;
                size_t tp = sel[j]; sel[j] = sel[j - 1]; sel[j - 1] = tp;
            }
        size_t keep = (size_t)((double)nsel / hv->eta);
        nsel = keep ? keep : 1;
        for (size_t i = 1; i < nsel; i++)   /* the kept ones in point order */
            for (size_t j = i; j > 0 && sel[j] < sel[j - 1]; j--) {
                size_t tp = sel[j]; sel[j] = sel[j - 1]; sel[j - 1] = tp;
            }
        prev = budget;
        budget = budget * hv->eta < hv->max ? budget * hv->eta : hv->max;
    }
    c->t->spent = spent;
    c->t->full = (double)npoints * hv->max;
    /* the checkpoints are this run's alone */
    if (!par_silent(vm)) {
        for (size_t i = 0; i < npoints; i++) {
            char path[1200];
            snprintf(path, sizeof path, "%s/point-%zu.ckpt", c->ckdir, i);
            remove(path);
        }
        rmdir(c->ckdir);
    }
    c->map = c->rowat = NULL;
    free(sel);
    free(rowat);
    free(score);
    return ok;
}

/* The clauses after the variables ({repeat: 5, sample: 30} or nil):
 * checked, into c (repeat) and *sample (0: a grid or listed points). */
static bool halving_clause(mlp_vm *vm, sweep_ctx *c, mlp_value v, halving *hv);

static bool sweep_clauses(mlp_vm *vm, sweep_ctx *c, mlp_value clauses, long *sample,
                          halving *hv)
{
    *sample = 0;
    for (size_t i = 0; mlp_is_record(clauses) && i < mlp_record_len(clauses); i++) {
        mlp_value key, val;
        mlp_record_entry(clauses, i, &key, &val);
        const char *name = mlp_cstr(key);
        long n;
        if (strcmp(name, "repeat") == 0) {
            if (!std_int_arg(vm, "sweep", "repeat", val, 1, 100000, &n)) return false;
            c->repeat = (size_t)n;
        } else if (strcmp(name, "sample") == 0) {
            if (c->listed) return mlp_raise(vm, "sweep: sample draws the values of `a in A` "
                                            "variables, not of listed points");
            if (!std_int_arg(vm, "sweep", "sample", val, 1, 1000000, &n)) return false;
            *sample = n;
        } else if (strcmp(name, "halving") == 0) {
            if (!halving_clause(vm, c, val, hv)) return false;
        } else if (strcmp(name, "cache") == 0) {
            if (!std_str_arg(vm, "sweep", "cache", val, &c->cache)) return false;
        } else if (strcmp(name, "(body)") == 0) {
            if (!std_str_arg(vm, "sweep", "(body)", val, &c->body_hash)) return false;
        } else {
            return mlp_raise(vm, "sweep: unknown clause '%s' (repeat N, sample N, "
                             "halving(...), cache \"file\")", name);
        }
    }
    if (c->cache && !c->body_hash) return mlp_raise(vm, "sweep: cache: written as a clause only");
    if (c->cache && c->resource)
        return mlp_raise(vm, "sweep: cache with halving: not supported (a halving point's "
                         "checkpoint is its cache)");
    if (c->repeat && c->resource)
        return mlp_raise(vm, "sweep: halving with repeat: not supported (halving keeps "
                         "points, repeat seeds them: sweep the seeds of the best points "
                         "afterwards)");
    return true;
}

/* sample N: N points drawn from the script's seed, one after the other,
 * each variable in order (a list: one of its values, equally likely; a
 * distribution: a draw from it), into a list of listed points. */
static bool draw_points(mlp_vm *vm, sweep_ctx *c, long n, mlp_value *points)
{
    rt_rng r;
    rt_rng_init(&r, c->start.seed, STD_STREAM_SAMPLE);
    *points = mlp_list_new(vm);
    mlp_push_root(vm, *points);
    bool ok = true;
    for (long i = 0; i < n && ok; i++) {
        mlp_value p = mlp_list_new(vm);
        mlp_list_push(vm, *points, p);
        for (size_t j = 0; j < c->k && ok; j++) {
            mlp_value v;
            ok = std_draw(vm, mlp_list_get(c->axes, j), &r, &v);
            if (ok) mlp_list_push(vm, p, v);
        }
    }
    mlp_pop_root(vm);
    return ok;
}

/* Ctrl-C: the rows so far and every point not taken yet, marked in the
 * `error` column, printed (stdout) before the interrupt ends the script. */
static void say_interrupted(mlp_vm *vm, sweep_ctx *c)
{
    size_t done = c->taken;
    if (c->any_failed || done < c->npoints) {
        mlp_value err = mlp_record_new(vm);
        mlp_push_root(vm, err);
        mlp_record_set(vm, err, "error", mlp_nil());
        add_columns(vm, c->t->columns, err);
        mlp_pop_root(vm);
    }
    for (size_t i = c->taken; i < c->npoints; i++) {
        mlp_value vals[17];
        char err[160];
        if (!point_values(c, i, vals, err)) continue;
        mlp_value row = base_record(vm, c, vals);
        mlp_push_root(vm, row);
        mlp_value why = mlp_string_cstr(vm, "unfinished (interrupted)");
        mlp_push_root(vm, why);
        mlp_record_set(vm, row, "error", why);
        mlp_pop_root(vm);
        mlp_list_push(vm, c->t->rows, row);
        mlp_list_push(vm, c->t->seconds, mlp_nil());
        mlp_pop_root(vm);
    }
    c->any_failed = false;   /* the error column is there now, once */
    if (par_silent(vm)) return;
    char head[160];
    snprintf(head, sizeof head, "sweep interrupted: %zu of %zu points finished%s\n", done,
             c->npoints, c->resource ? " in this rung" : "");
    mlp_write(vm, head, strlen(head));
    mlp_value text = table_text(vm, c->t, 4);
    mlp_write(vm, mlp_cstr(text), mlp_strlen(text));
    mlp_write(vm, "\n", 1);
}

static bool n_sweep(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    sweep_ctx c = { .names = a[0], .axes = a[1], .listed = mlp_truthy(a[2]), .body = a[3] };
    size_t npoints = 1;
    long sample;
    std_host *h = std_host_of(vm);
    c.start = h->rnd;
    c.k = mlp_list_len(c.names);
    if (c.k == 0 || c.k > 16) return mlp_raise(vm, "sweep: 1 to 16 variables");
    if (h->sweep_depth >= SWEEP_MAX_DEPTH)
        return mlp_raise(vm, "stack overflow (sweeps nested more than %d deep)", SWEEP_MAX_DEPTH);
    halving hv = { 0 };
    if (!sweep_clauses(vm, &c, a[4], &sample, &hv)) return false;
    for (size_t j = 0; j < mlp_list_len(c.axes); j++) {
        mlp_value axis = mlp_list_get(c.axes, j);
        if (mlp_handle_data(axis, &std_dist_class)) {
            if (!sample)
                return mlp_raise(vm, "sweep: '%s' takes values from a distribution (%s): "
                                 "add `sample N` to draw N points",
                                 mlp_cstr(mlp_list_get(c.names, j)), mlp_cstr(mlp_tostring(vm, axis)));
            continue;
        }
        if (!axis_list(vm, &c, j)) return false;
        if (sample && mlp_list_len(mlp_list_get(c.axes, j)) == 0)
            return mlp_raise(vm, "sweep: sample: '%s' has no values to draw from",
                             mlp_cstr(mlp_list_get(c.names, j)));
    }
    mlp_value drawn = mlp_nil();
    if (sample) {   /* from here on, listed points */
        if (!draw_points(vm, &c, sample, &drawn)) return false;
        mlp_push_root(vm, drawn);
        c.axes = mlp_list_new(vm);
        mlp_list_push(vm, c.axes, drawn);
        mlp_pop_root(vm);
        c.listed = true;
    }
    mlp_push_root(vm, c.axes);
    for (size_t j = 0; j < mlp_list_len(c.axes); j++) npoints *= mlp_list_len(mlp_list_get(c.axes, j));
    if (c.repeat) npoints *= c.repeat;
    c.npoints = npoints;
    std_table *t = malloc(sizeof *t);
    if (!t) { mlp_pop_root(vm); return mlp_raise(vm, "out of memory"); }
    t->columns = t->rows = t->seconds = mlp_nil();
    t->naxes = c.k + (c.repeat || c.resource ? 1 : 0);
    t->spent = t->full = NAN;
    *out = mlp_handle(vm, &std_table_class, t);
    mlp_push_root(vm, *out);
    t->columns = mlp_list_new(vm);
    t->rows = mlp_list_new(vm);
    t->seconds = mlp_list_new(vm);
    for (size_t j = 0; j < c.k; j++) mlp_list_push(vm, t->columns, mlp_list_get(c.names, j));
    if (c.repeat) mlp_list_push(vm, t->columns, mlp_string_cstr(vm, "seed"));
    if (c.resource) mlp_list_push(vm, t->columns, mlp_string_cstr(vm, c.resource));
    c.t = t;

    /* Every point runs in a process of its own, forked from this one as
     * it is now (serially too), so no point sees what another changed and
     * nothing a point changes outlives it: only its rows come back. */
    bool ok = true;
    if (c.cache && !cache_load(vm, &c)) ok = false;
    else if (c.resource) {
        ok = run_halving(vm, &c, &hv, npoints);
    } else {
        par_job job = { npoints, &c, job_run, job_take };
        ok = par_enabled(vm) ? par_run(vm, &job) : par_run_serial(vm, &job);
    }
    if (!ok && mlp_interrupted(vm)) say_interrupted(vm, &c);
    cache_free(&c);
    if (c.any_failed) mlp_list_push(vm, t->columns, mlp_string_cstr(vm, "error"));
    h->rnd = c.start;
    mlp_pop_root(vm);
    mlp_pop_root(vm);
    return ok;
}

bool mlp_sweeps_failed(mlp_vm *vm)
{
    std_host *h = std_host_of(vm);
    return h && h->sweep_failed;
}

/* report(k=v, ...): one row of the sweep point running now. A callable
 * handle rather than a native, because it takes any keyword names. */
static bool report_call(mlp_vm *vm, void *data, mlp_value *args, int nargs, mlp_value kwargs,
                        mlp_value *out)
{
    std_host *h = std_host_of(vm);
    if (nargs > 0) return mlp_raise(vm, "report: give the values as name=value");
    if (!mlp_is_list(h->report)) return mlp_raise(vm, "report: only inside a sweep body");
    for (size_t i = 0; mlp_is_record(kwargs) && i < mlp_record_len(kwargs); i++) {
        mlp_value key, val, old;
        mlp_record_entry(kwargs, i, &key, &val);
        if (mlp_record_get(h->report_base, mlp_cstr(key), &old))
            return mlp_raise(vm, "report: '%s' is a variable of this sweep (its own column); "
                             "report the value under another name", mlp_cstr(key));
        if (strcmp(mlp_cstr(key), "error") == 0)
            return mlp_raise(vm, "report: 'error' is reserved for the message of a failed "
                             "point; report the value under another name");
        int d = depth_ok(val);
        if (d == -1) return mlp_raise(vm, "report: out of memory");
        if (d == -2)
            return mlp_raise(vm, "report: %s: value too large (more than %ld lists and records, "
                             "a shared one counted each time it appears)", mlp_cstr(key),
                             REPORT_MAX_BOXES);
        if (d == 0)
            return mlp_raise(vm, "report: %s: value nested too deeply (more than %d levels)",
                             mlp_cstr(key), MLP_MAX_VALUE_DEPTH);
    }
    mlp_value row = copy_record(vm, h->report_base);
    mlp_push_root(vm, row);
    for (size_t i = 0; mlp_is_record(kwargs) && i < mlp_record_len(kwargs); i++) {
        mlp_value key, val;
        mlp_record_entry(kwargs, i, &key, &val);
        mlp_record_set(vm, row, mlp_cstr(key), val);
    }
    mlp_list_push(vm, h->report, row);
    mlp_pop_root(vm);
    return true;
}

static const mlp_class report_class = { .name = "native", .call = report_call };

/* point(): the values of the sweep point running now (with its seed under
 * `repeat`), a record; nil outside a sweep. */
static bool n_point(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_host *h = std_host_of(vm);
    *out = mlp_is_record(h->report_base) ? copy_record(vm, h->report_base) : mlp_nil();
    if (point_ckpt[0] && mlp_is_record(*out)) {
        mlp_push_root(vm, *out);
        mlp_value path = mlp_string_cstr(vm, point_ckpt);
        mlp_push_root(vm, path);
        mlp_record_set(vm, *out, "checkpoint", path);
        mlp_pop_root(vm);
        mlp_pop_root(vm);
    }
    return true;
}

/* ---- save -------------------------------------------------------------------- */

/* A CSV field: quoted when it holds a separator, a quote or a newline. */
static void csv_field(FILE *f, const char *s)
{
    if (!strpbrk(s, ",\"\n\r")) { fputs(s, f); return; }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"') fputc('"', f);
        fputc(*s, f);
    }
    fputc('"', f);
}

static void json_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\') fprintf(f, "\\%c", c);
        else if (c == '\n') fputs("\\n", f);
        else if (c < 0x20) fprintf(f, "\\u%04x", c);
        else fputc(c, f);
    }
    fputc('"', f);
}

static void json_value(mlp_vm *vm, FILE *f, mlp_value v)
{
    std_history *hist = mlp_handle_data(v, &std_history_class);
    if (hist) {   /* every epoch in full precision; not the seconds, which vary */
        fputc('{', f);
        for (int c = 0; c < STD_H_SECONDS; c++) {
            fprintf(f, "%s\"%s\": [", c ? ", " : "", std_history_names[c]);
            for (int e = 0; e < hist->n; e++) {
                if (e) fputs(", ", f);
                json_value(vm, f, mlp_number(hist->col[c][e]));
            }
            fputc(']', f);
        }
        fputc('}', f);
        return;
    }
    if (mlp_is_nil(v) || (mlp_is_number(v) && !isfinite(mlp_as_number(v)))) fputs("null", f);
    else if (mlp_is_bool(v)) fputs(mlp_as_bool(v) ? "true" : "false", f);
    else if (mlp_is_number(v)) fputs(mlp_cstr(mlp_tostring(vm, v)), f);
    else json_string(f, mlp_cstr(mlp_is_string(v) ? v : std_short_text(vm, v)));
}

/* save(results, "x.csv" | "x.json") */
static bool n_save(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_table *t = mlp_handle_data(a[0], &std_table_class);
    const char *path;
    if (!t) return mlp_raise(vm, "save: results must be a sweep's results table, got %s",
                             mlp_type_name(a[0]));
    if (!std_str_arg(vm, "save", "path", a[1], &path)) return false;
    const char *ext = strrchr(path, '.');
    bool json = ext && strcmp(ext, ".json") == 0, html = ext && strcmp(ext, ".html") == 0;
    if (!json && !html && !(ext && strcmp(ext, ".csv") == 0))
        return mlp_raise(vm, "save: path must end in .csv, .json or .html, got \"%s\"", path);
    /* On an MPI rank > 0 the file is rank 0's to write (it may be shared). */
    if (par_silent(vm)) return true;
    if (html) return std_save_html(vm, t, path);
    /* Written beside the old file and renamed over it (rt_file.h): a full
     * disk or a crash leaves the old results, never half of the new. */
    rt_atomic_file af;
    rt_error err;
    if (!rt_atomic_open(&af, path, &err)) return mlp_raise_io(vm, "save: %s", err.msg);
    FILE *f = af.f;
    size_t ncols = mlp_list_len(t->columns), nrows = mlp_list_len(t->rows);
    bool *skip = calloc(ncols + 1, sizeof *skip);   /* CSV: history columns */
    if (!skip) { rt_atomic_abort(&af); return mlp_raise(vm, "out of memory"); }
    for (size_t c = 0; !json && c < ncols; c++) skip[c] = history_column(t, mlp_list_get(t->columns, c));
    if (json) fputs("[\n", f);
    for (size_t c = 0, first = 1; !json && c < ncols; c++) {
        if (skip[c]) continue;
        if (!first) fputc(',', f);
        first = 0;
        csv_field(f, mlp_cstr(mlp_list_get(t->columns, c)));
    }
    if (!json) fputc('\n', f);
    for (size_t r = 0; r < nrows; r++) {
        mlp_value row = mlp_list_get(t->rows, r);
        if (json) fputs("  {", f);
        for (size_t c = 0, first = 1; c < ncols; c++) {
            if (skip[c]) continue;
            mlp_value col = mlp_list_get(t->columns, c), v = mlp_nil();
            mlp_record_get(row, mlp_cstr(col), &v);
            if (json) {
                fputs(first ? "" : ", ", f);
                json_string(f, mlp_cstr(col));
                fputs(": ", f);
                json_value(vm, f, v);
            } else {
                if (!first) fputc(',', f);
                if (!mlp_is_nil(v))
                    csv_field(f, mlp_cstr(mlp_is_string(v) ? v : std_short_text(vm, v)));
            }
            first = 0;
        }
        fputs(json ? (r + 1 < nrows ? "},\n" : "}\n") : "\n", f);
    }
    if (json) fputs("]\n", f);
    free(skip);
    if (!rt_atomic_commit(&af, &err)) return mlp_raise_io(vm, "save: %s", err.msg);
    return true;
}

static const mlp_native natives[] = {
    { "__sweep", "names, axes, listed, body, clauses=nil", n_sweep,
      "__sweep(names, axes, listed, body, clauses): runs a sweep (what the `sweep` construct "
      "compiles to)" },
    { "point", "", n_point,
      "point(): the values of the sweep point running now, a record (with `seed` under "
      "`repeat N`); nil outside a sweep" },
    { "save", "results, path", n_save,
      "save(results, \"x.csv\", \"x.json\" or \"x.html\"): writes a sweep's results table "
      "(.html: a study report with curves; histories go whole to JSON, not to CSV)" },
};

bool std_open_sweep(mlp_vm *vm)
{
    static int report_data;   /* the handle needs no state; any non-NULL pointer */
    mlp_set_global(vm, "report", mlp_handle(vm, &report_class, &report_data));
    mlp_set_doc(vm, "report", "report(name=value, ...): add a row of named values to the results of the sweep point running now (outside a sweep: an error)");
    if (!par_open(vm)) return false;
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
