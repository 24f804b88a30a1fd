/*
 * sweep.c — the `sweep` construct, report(), results tables and save().
 *
 * `sweep a in A, b in B { body }` compiles into
 * __sweep(["a", "b"], [A, B], false, fn(a, b) { body }) and the listed form
 * `sweep [a, b] in P { ... }` into __sweep(["a", "b"], [P], true, ...).
 * Every point starts from the random state the sweep started from, so a
 * point's result does not depend on which points ran before it; after the
 * sweep that state is restored again. report(k=v, ...) inside the body adds
 * a row (the point's axis values, then the reported columns). A point that
 * fails gets its error message in an `error` column and the sweep goes on;
 * an interrupt (Ctrl-C) stops the whole sweep.
 *
 * Points run here one after the other, or, when the interpreter was
 * started with -j N or under MPI (parallel.h), in other processes: then
 * this file supplies the two halves of a point, job_run (in the worker:
 * run it, encode its rows) and job_take (back here, in point order: decode
 * the rows into the table), and the same run_point and take_rows serve
 * both ways, so the table cannot depend on where a point ran.
 */
#include <math.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
#include "parallel.h"
#include "rt_file.h"
#include "std.h"

/* ---- tables ------------------------------------------------------------------ */

typedef struct std_table { mlp_value columns, rows; } std_table;

static void table_mark(mlp_vm *vm, void *p)
{
    std_table *t = p;
    mlp_mark(vm, t->columns);
    mlp_mark(vm, t->rows);
}

static bool table_get(mlp_vm *vm, mlp_value self, void *p, const char *field, mlp_value *out)
{
    std_table *t = p;
    if (strcmp(field, "rows") == 0) *out = t->rows;
    else if (strcmp(field, "columns") == 0) *out = t->columns;
    else return mlp_raise(vm, "results table has no field '%s' (rows, columns)", field);
    return true;
}

/* The text of one cell: strings bare, handles short ("Adam"), nil "-". */
static mlp_value cell_text(mlp_vm *vm, mlp_value row, mlp_value col)
{
    mlp_value v;
    if (!mlp_record_get(row, mlp_cstr(col), &v) || mlp_is_nil(v)) return mlp_string_cstr(vm, "-");
    if (mlp_is_string(v)) return v;
    return std_short_text(vm, v);
}

/* A growable byte buffer for table text. */
typedef struct text { char *s; size_t n, cap; bool oom; } text;

static void put(text *t, const char *s, size_t n)
{
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

static void pad(text *t, size_t n) { while (n--) put(t, " ", 1); }

/* Display width of UTF-8 text: one column per code point. */
static size_t width(const char *s)
{
    size_t w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xC0) != 0x80;
    return w;
}

/* Columns aligned, numbers to the right, a rule under the header. */
static mlp_value table_tostring(mlp_vm *vm, void *p)
{
    std_table *tb = p;
    size_t ncols = mlp_list_len(tb->columns), nrows = mlp_list_len(tb->rows);
    size_t *w = calloc(ncols + 1, sizeof *w);
    bool *numeric = calloc(ncols + 1, sizeof *numeric);
    text t = {0};
    if (!w || !numeric) goto done;
    for (size_t c = 0; c < ncols; c++) {
        mlp_value col = mlp_list_get(tb->columns, c);
        w[c] = width(mlp_cstr(col));
        numeric[c] = nrows > 0;
        for (size_t r = 0; r < nrows; r++) {
            mlp_value row = mlp_list_get(tb->rows, r), v;
            if (mlp_record_get(row, mlp_cstr(col), &v) && !mlp_is_number(v) && !mlp_is_nil(v))
                numeric[c] = false;   /* a missing value ("-") keeps numbers right-aligned */
            mlp_value s = cell_text(vm, row, col);
            if (width(mlp_cstr(s)) > w[c]) w[c] = width(mlp_cstr(s));
        }
    }
    for (int line = -2; line < (int)nrows; line++) {
        for (size_t c = 0; c < ncols; c++) {
            mlp_value col = mlp_list_get(tb->columns, c);
            const char *s = line == -2 ? mlp_cstr(col) : NULL;
            mlp_value cell = mlp_nil();
            if (line >= 0) {
                cell = cell_text(vm, mlp_list_get(tb->rows, (size_t)line), col);
                s = mlp_cstr(cell);
            }
            if (c) put(&t, "  ", 2);
            if (line == -1) {
                for (size_t i = 0; i < w[c]; i++) put(&t, "-", 1);
                continue;
            }
            size_t sw = width(s);
            bool last = c + 1 == ncols;
            if (numeric[c]) pad(&t, w[c] - sw);
            put(&t, s, strlen(s));
            if (!numeric[c] && !last) pad(&t, w[c] - sw);
        }
        if (line + 1 < (int)nrows) put(&t, "\n", 1);
    }
done:
    free(w);
    free(numeric);
    mlp_value out = t.oom || !t.s ? mlp_string_cstr(vm, "<results table>")
                                  : mlp_string(vm, t.s, t.n);
    free(t.s);
    return out;
}

const mlp_class std_table_class = {
    .name = "results", .free = free, .mark = table_mark, .get = table_get,
    .tostring = table_tostring, .fields = "rows, columns",
};

/* ---- __sweep and report ------------------------------------------------------ */

/* A sweep being run: what __sweep was given and the table it fills. */
typedef struct sweep_ctx {
    mlp_value names, axes, body;
    bool listed;
    size_t k;
    std_table *t;
    std_random start;   /* every point starts from this random state */
    bool any_failed;
} sweep_ctx;

/* The values of point `i` in a grid (first axis outermost) or a list.
 * False with the message in err when a listed point is malformed. */
static bool point_values(const sweep_ctx *c, size_t i, mlp_value *vals, char err[160])
{
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
    mlp_pop_root(vm);
    return base;
}

/* The line a failing point prints (to the program's output, in point
 * order, so it is part of what a parallel run must reproduce). */
static void say_failed(mlp_vm *vm, mlp_value base, const char *msg)
{
    mlp_value s = mlp_tostring(vm, base);
    char line[1024];
    snprintf(line, sizeof line, "sweep: point %s failed: %s\n", mlp_cstr(s), msg);
    mlp_write(vm, line, strlen(line));
}

/* Runs one point here, leaving its rows in h->report (a failing point
 * without rows gets its axis values as its row) and its error message, if
 * it failed, in *msg. False when interrupted, with the message in *msg. */
static bool run_point(mlp_vm *vm, sweep_ctx *c, const mlp_value *vals, bool *failed,
                      mlp_value *msg)
{
    std_host *h = std_host_of(vm);
    mlp_value res;
    h->rnd = c->start;
    h->report_base = base_record(vm, c, vals);
    h->report = mlp_list_new(vm);
    bool point_ok = mlp_pcall(vm, c->body, (int)c->k, vals, mlp_nil(), &res);
    *failed = !point_ok;
    *msg = res;
    if (!point_ok && mlp_interrupted(vm)) return false;
    mlp_push_root(vm, res);
    if (mlp_list_len(h->report) == 0 || !point_ok) {
        mlp_value row = copy_record(vm, h->report_base);
        mlp_list_push(vm, h->report, row);
    }
    if (!point_ok) say_failed(vm, h->report_base, mlp_cstr(res));
    mlp_pop_root(vm);
    return true;
}

/* Appends a point's rows to the table; a failed point's rows get its
 * message in the `error` column, which goes last (added after the sweep). */
static void take_rows(mlp_vm *vm, sweep_ctx *c, mlp_value rows, bool failed, mlp_value msg)
{
    for (size_t r = 0; r < mlp_list_len(rows); r++) {
        mlp_value row = mlp_list_get(rows, r);
        add_columns(vm, c->t->columns, row);
        if (failed) mlp_record_set(vm, row, "error", msg);
        mlp_list_push(vm, c->t->rows, row);
    }
    c->any_failed |= failed;
}

/* ---- a point's rows between processes ------------------------------------------
 *
 * A worker sends back its point's rows as bytes: numbers bit for bit,
 * strings, booleans and nil as themselves, lists and records recursively;
 * a value equal to one of the point's own values (under its axis's name,
 * or any handle among them) as a reference to it, so the table keeps the
 * parent's value (the optimizer handle itself); any other handle or
 * function as its short text, which is what the table and
 * save() show of it. Layout: 'R', failed (u64) and then the point's error
 * message, the row count, then per row its
 * entry count and (key, value) pairs; or 'E' and a message for an error
 * that stops the sweep. Lengths and counts are u64 in host byte order:
 * the processes of one job run the same binary on the same kind of machine.
 */

enum { V_NIL = 'z', V_TRUE = 't', V_FALSE = 'f', V_NUM = 'n', V_STR = 's', V_LIST = 'l',
       V_REC = 'r', V_TEXT = 'x', V_AXIS = 'A' };

static void put_str(par_buf *b, const char *s, size_t n)
{
    par_put_u64(b, n);
    par_put(b, s, n);
}

static void encode_value(mlp_vm *vm, par_buf *b, mlp_value v, const mlp_value *vals, size_t k,
                         int depth)
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
    case MLP_T_LIST:
        if (depth > 32) break;
        tag = V_LIST;
        par_put(b, &tag, 1);
        par_put_u64(b, mlp_list_len(v));
        for (size_t i = 0; i < mlp_list_len(v); i++)
            encode_value(vm, b, mlp_list_get(v, i), vals, k, depth + 1);
        return;
    case MLP_T_RECORD:
        if (depth > 32) break;
        tag = V_REC;
        par_put(b, &tag, 1);
        par_put_u64(b, mlp_record_len(v));
        for (size_t i = 0; i < mlp_record_len(v); i++) {
            mlp_value key, val;
            mlp_record_entry(v, i, &key, &val);
            put_str(b, mlp_cstr(key), mlp_strlen(key));
            encode_value(vm, b, val, vals, k, depth + 1);
        }
        return;
    default: break;
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

/* The rows in h->report, as the parent will rebuild them. */
static void encode_rows(mlp_vm *vm, const sweep_ctx *c, const mlp_value *vals, bool failed,
                        mlp_value msg, par_buf *b)
{
    mlp_value rows = std_host_of(vm)->report;
    par_put(b, "R", 1);
    par_put_u64(b, failed);
    if (failed) put_str(b, mlp_cstr(msg), mlp_strlen(msg));
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
                encode_value(vm, b, val, vals, c->k, 0);
            }
        }
    }
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

static mlp_value decode_value(mlp_vm *vm, reader *r, const mlp_value *vals, size_t k, int depth);

/* A record's (key, value) pairs; the record must be rooted by the caller. */
static void decode_entries(mlp_vm *vm, reader *r, mlp_value rec, const mlp_value *vals, size_t k,
                           int depth)
{
    uint64_t n = get_u64(r);
    for (uint64_t e = 0; e < n && !r->bad; e++) {
        size_t kn;
        const char *ks = get_str(r, &kn);
        char *key = strndup(ks, kn);
        if (!key) { r->bad = true; return; }
        mlp_value v = decode_value(vm, r, vals, k, depth + 1);
        if (!r->bad) mlp_record_set(vm, rec, key, v);
        free(key);
    }
}

static mlp_value decode_value(mlp_vm *vm, reader *r, const mlp_value *vals, size_t k, int depth)
{
    if (r->p >= r->end || depth > 34) { r->bad = true; return mlp_nil(); }
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
    case V_LIST: {
        mlp_value l = mlp_list_new(vm);
        mlp_push_root(vm, l);
        uint64_t len = get_u64(r);
        for (uint64_t i = 0; i < len && !r->bad; i++)
            mlp_list_push(vm, l, decode_value(vm, r, vals, k, depth + 1));
        mlp_pop_root(vm);
        return l;
    }
    case V_REC: {
        mlp_value rec = mlp_record_new(vm);
        mlp_push_root(vm, rec);
        decode_entries(vm, r, rec, vals, k, depth);
        mlp_pop_root(vm);
        return rec;
    }
    default: break;
    }
    r->bad = true;
    return mlp_nil();
}

/* ---- the engine's two callbacks (parallel.h) ------------------------------------ */

/* In a worker: runs point i and encodes its rows and a summary line. */
static bool job_run(mlp_vm *vm, void *ctx, size_t i, par_buf *res, par_buf *sum)
{
    sweep_ctx *c = ctx;
    mlp_value vals[16], msg;
    char err[160];
    if (!point_values(c, i, vals, err)) {
        par_put(res, "E", 1);
        par_put(res, err, strlen(err));
        par_put(sum, err, strlen(err));
        return true;
    }
    bool failed;
    if (!run_point(vm, c, vals, &failed, &msg)) return false;
    mlp_push_root(vm, msg);   /* the texts below allocate */
    encode_rows(vm, c, vals, failed, msg, res);
    /* "a=1 b=x -> sum=10 tag=x!": the axes, then what the point reported. */
    mlp_value rows = std_host_of(vm)->report;
    for (size_t j = 0; j < c->k; j++) {
        mlp_value s = std_short_text(vm, vals[j]);
        par_put(sum, j ? " " : "", j ? 1 : 0);
        par_put(sum, mlp_cstr(mlp_list_get(c->names, j)), mlp_strlen(mlp_list_get(c->names, j)));
        par_put(sum, "=", 1);
        par_put(sum, mlp_cstr(s), mlp_strlen(s));
    }
    par_put(sum, " ->", 3);
    if (failed) {
        par_put(sum, " error: ", 8);
        par_put(sum, mlp_cstr(msg), mlp_strlen(msg));
    }
    for (size_t r = 0; !failed && r < mlp_list_len(rows); r++) {
        mlp_value row = mlp_list_get(rows, r);
        for (size_t e = c->k; e < mlp_record_len(row); e++) {
            mlp_value key, val;
            mlp_record_entry(row, e, &key, &val);
            mlp_value s = mlp_is_string(val) ? val : std_short_text(vm, val);
            par_put(sum, " ", 1);
            par_put(sum, mlp_cstr(key), mlp_strlen(key));
            par_put(sum, "=", 1);
            par_put(sum, mlp_cstr(s), mlp_strlen(s));
        }
    }
    mlp_pop_root(vm);
    return true;
}

/* In the parent, in point order: rebuilds point i's rows into the table. */
static bool job_take(mlp_vm *vm, void *ctx, size_t i, const char *res, size_t len,
                     const char *died)
{
    sweep_ctx *c = ctx;
    mlp_value vals[16];
    char err[160];
    bool have_vals = point_values(c, i, vals, err);
    if (died) {
        if (!have_vals) return mlp_raise(vm, "%s", err);
        mlp_value row = base_record(vm, c, vals);
        mlp_push_root(vm, row);
        say_failed(vm, row, died);
        add_columns(vm, c->t->columns, row);
        mlp_record_set(vm, row, "error", mlp_string_cstr(vm, died));
        mlp_list_push(vm, c->t->rows, row);
        c->any_failed = true;
        mlp_pop_root(vm);
        return true;
    }
    if (len >= 1 && res[0] == 'E') return mlp_raise(vm, "%.*s", (int)(len - 1), res + 1);
    reader r = { res + 1, res + len, len < 1 || res[0] != 'R' || !have_vals };
    bool failed = get_u64(&r) != 0;
    size_t mn = 0;
    const char *ms = failed ? get_str(&r, &mn) : "";
    mlp_value msg = mlp_string(vm, ms, mn);
    mlp_push_root(vm, msg);
    uint64_t nrows = get_u64(&r);
    mlp_value rows = mlp_list_new(vm);
    mlp_push_root(vm, rows);
    for (uint64_t k = 0; k < nrows && !r.bad; k++) {
        mlp_value row = mlp_record_new(vm);
        mlp_push_root(vm, row);
        decode_entries(vm, &r, row, vals, c->k, 0);
        mlp_list_push(vm, rows, row);
        mlp_pop_root(vm);
    }
    if (!r.bad) take_rows(vm, c, rows, failed, msg);
    mlp_pop_root(vm);
    mlp_pop_root(vm);
    if (r.bad) return mlp_raise(vm, "sweep: point %zu: a malformed result from its worker", i + 1);
    return true;
}

static bool n_sweep(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    sweep_ctx c = { .names = a[0], .axes = a[1], .listed = mlp_truthy(a[2]), .body = a[3] };
    size_t npoints = 1;
    c.k = mlp_list_len(c.names);
    if (c.k == 0 || c.k > 16) return mlp_raise(vm, "sweep: 1 to 16 variables");
    for (size_t j = 0; j < mlp_list_len(c.axes); j++) {
        mlp_value axis = mlp_list_get(c.axes, j);
        if (!mlp_is_list(axis))
            return mlp_raise(vm, "sweep: the values of '%s' must be a list, got %s",
                             c.listed ? "points" : mlp_cstr(mlp_list_get(c.names, j)),
                             mlp_type_name(axis));
        npoints *= mlp_list_len(axis);
    }
    std_table *t = malloc(sizeof *t);
    if (!t) return mlp_raise(vm, "out of memory");
    t->columns = t->rows = mlp_nil();
    *out = mlp_handle(vm, &std_table_class, t);
    t->columns = mlp_list_new(vm);
    t->rows = mlp_list_new(vm);
    for (size_t j = 0; j < c.k; j++) mlp_list_push(vm, t->columns, mlp_list_get(c.names, j));
    c.t = t;

    std_host *h = std_host_of(vm);
    c.start = h->rnd;
    mlp_value outer_rows = h->report, outer_base = h->report_base;
    mlp_push_root(vm, outer_rows);
    mlp_push_root(vm, outer_base);
    bool ok = true;
    if (par_enabled(vm)) {
        par_job job = { npoints, &c, job_run, job_take };
        ok = par_run(vm, &job);
    } else {
        for (size_t i = 0; i < npoints && ok; i++) {
            mlp_value vals[16], msg;
            char err[160];
            bool failed;
            if (!point_values(&c, i, vals, err)) { ok = mlp_raise(vm, "%s", err); break; }
            if (!run_point(vm, &c, vals, &failed, &msg)) { ok = mlp_raise(vm, "%s", mlp_cstr(msg)); break; }
            mlp_push_root(vm, msg);
            take_rows(vm, &c, h->report, failed, msg);
            mlp_pop_root(vm);
        }
    }
    if (c.any_failed) mlp_list_push(vm, t->columns, mlp_string_cstr(vm, "error"));
    h->rnd = c.start;
    h->report = outer_rows;
    h->report_base = outer_base;
    mlp_pop_root(vm);
    mlp_pop_root(vm);
    return ok;
}

/* report(k=v, ...): one row of the sweep point running now. A callable
 * handle rather than a native, because it takes any keyword names. */
static bool report_call(mlp_vm *vm, void *data, mlp_value *args, int nargs, mlp_value kwargs,
                        mlp_value *out)
{
    std_host *h = std_host_of(vm);
    if (nargs > 0) return mlp_raise(vm, "report: give the values as name=value");
    if (!mlp_is_list(h->report)) return mlp_raise(vm, "report: only inside a sweep body");
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
    bool json = ext && strcmp(ext, ".json") == 0;
    if (!json && !(ext && strcmp(ext, ".csv") == 0))
        return mlp_raise(vm, "save: path must end in .csv or .json, got \"%s\"", path);
    /* On an MPI rank > 0 the file is rank 0's to write (it may be shared). */
    if (par_silent(vm)) return true;
    /* Written beside the old file and renamed over it (rt_file.h): a full
     * disk or a crash leaves the old results, never half of the new. */
    rt_atomic_file af;
    rt_error err;
    if (!rt_atomic_open(&af, path, &err)) return mlp_raise(vm, "save: %s", err.msg);
    FILE *f = af.f;
    size_t ncols = mlp_list_len(t->columns), nrows = mlp_list_len(t->rows);
    if (json) fputs("[\n", f);
    for (size_t c = 0; !json && c < ncols; c++) {
        if (c) fputc(',', f);
        csv_field(f, mlp_cstr(mlp_list_get(t->columns, c)));
    }
    if (!json) fputc('\n', f);
    for (size_t r = 0; r < nrows; r++) {
        mlp_value row = mlp_list_get(t->rows, r);
        if (json) fputs("  {", f);
        for (size_t c = 0; c < ncols; c++) {
            mlp_value col = mlp_list_get(t->columns, c), v = mlp_nil();
            mlp_record_get(row, mlp_cstr(col), &v);
            if (json) {
                fputs(c ? ", " : "", f);
                json_string(f, mlp_cstr(col));
                fputs(": ", f);
                json_value(vm, f, v);
            } else {
                if (c) fputc(',', f);
                if (!mlp_is_nil(v))
                    csv_field(f, mlp_cstr(mlp_is_string(v) ? v : std_short_text(vm, v)));
            }
        }
        fputs(json ? (r + 1 < nrows ? "},\n" : "}\n") : "\n", f);
    }
    if (json) fputs("]\n", f);
    if (!rt_atomic_commit(&af, &err)) return mlp_raise(vm, "save: %s", err.msg);
    return true;
}

static const mlp_native natives[] = {
    { "__sweep", "names, axes, listed, body", n_sweep,
      "__sweep(names, axes, listed, body): runs a sweep (what the `sweep` construct compiles to)" },
    { "save", "results, path", n_save,
      "save(results, \"x.csv\" or \"x.json\"): writes a sweep's results table" },
};

bool std_open_sweep(mlp_vm *vm)
{
    static int report_data;   /* the handle needs no state; any non-NULL pointer */
    mlp_set_global(vm, "report", mlp_handle(vm, &report_class, &report_data));
    if (!par_open(vm)) return false;
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
