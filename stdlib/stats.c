/*
 * stats.c — results tables as data, and the statistics of repeated runs.
 *
 *   r[i], len(r), for row in r     (the table class's index/len, sweep.c)
 *   r.column("test_acc")           a column's values, a list
 *   sort / sorted(r, key=, reverse=), filter(f, r)   tables in, tables out
 *   best(r, "val_acc", lower=false)                  the best row
 *   load_results("x.csv" | "x.json", axes=[...])     a saved table, back
 *   summarize(r, by=[...])         mean, sd, min, max, n, 95% CI per group
 *   compare(r, "test_acc", by="opt", lower=false)    ranks groups, t-tests
 *
 * A summary's cells are `stat` values: they print as "0.9743 ± 0.0012"
 * (the mean and the half-width of its 95% confidence interval, Student's
 * t with n-1 degrees of freedom) and have the fields mean, sd (n-1 in the
 * denominator), min, max, n, ci (that half-width), lo and hi.
 *
 * The t distribution is computed here, through the regularized incomplete
 * beta function (Lentz's continued fraction, as in Numerical Recipes
 * 6.4): P(|T| > t) = I_{df/(df+t^2)}(df/2, 1/2). Quantiles are found by
 * bisection on it. tests/stats checks both against independent values.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "std.h"

/* ---- the t distribution ------------------------------------------------------ */

static double beta_cf(double a, double b, double x)
{
    const double tiny = 1e-300;
    double qab = a + b, qap = a + 1, qam = a - 1, c = 1, d = 1 - qab * x / qap;
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 1000; m++) {
        int m2 = 2 * m;
        double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
        d = 1 + aa * d;
        if (fabs(d) < tiny) d = tiny;
        c = 1 + aa / c;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double del = d * c;
        h *= del;
        if (fabs(del - 1) < 1e-16) break;
    }
    return h;
}

/* The regularized incomplete beta function I_x(a, b). */
static double ibeta(double a, double b, double x)
{
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double lbt = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2)) return exp(lbt) * beta_cf(a, b, x) / a;
    return 1 - exp(lbt) * beta_cf(b, a, 1 - x) / b;
}

/* Two-sided p-value of t with df degrees of freedom: P(|T| >= |t|). */
double std_t_p2(double t, double df)
{
    if (isnan(t) || !(df > 0)) return NAN;
    if (isinf(t)) return 0;
    return ibeta(df / 2, 0.5, df / (df + t * t));
}

/* The t with P(T <= t) = p, for p in (0.5, 1). */
double std_t_quantile(double p, double df)
{
    if (!(p > 0.5 && p < 1) || !(df > 0)) return NAN;
    double target = 2 * (1 - p), lo = 0, hi = 1;
    while (std_t_p2(hi, df) > target && hi < 1e300) hi *= 2;
    for (int i = 0; i < 2000 && hi - lo > 1e-15 * hi; i++) {
        double mid = (lo + hi) / 2;
        if (std_t_p2(mid, df) > target) lo = mid;
        else hi = mid;
    }
    return (lo + hi) / 2;
}

/* rec.key = v with v rooted: the key's string may collect. */
static void set_rooted(mlp_vm *vm, mlp_value rec, const char *key, mlp_value v)
{
    mlp_push_root(vm, v);
    mlp_record_set(vm, rec, key, v);
    mlp_pop_root(vm);
}

/* ---- stat cells ---------------------------------------------------------------- */

typedef struct std_stat { double mean, sd, min, max, ci; long n; } std_stat;

static std_stat stat_of(const double *x, long n)
{
    std_stat s = { NAN, NAN, NAN, NAN, NAN, n };
    if (n == 0) return s;
    double sum = 0;
    s.min = s.max = x[0];
    for (long i = 0; i < n; i++) {
        sum += x[i];
        if (x[i] < s.min) s.min = x[i];
        if (x[i] > s.max) s.max = x[i];
    }
    s.mean = sum / (double)n;
    if (n > 1) {
        double ss = 0;   /* two passes: no cancellation */
        for (long i = 0; i < n; i++) ss += (x[i] - s.mean) * (x[i] - s.mean);
        s.sd = sqrt(ss / (double)(n - 1));
        s.ci = std_t_quantile(0.975, (double)(n - 1)) * s.sd / sqrt((double)n);
    }
    return s;
}

/* "0.9743 ± 0.0012"; one run: the mean alone; none: "-". */
static mlp_value stat_text(mlp_vm *vm, const std_stat *s, int digits)
{
    char a[48], b[48], buf[112];
    if (s->n == 0) return mlp_string_cstr(vm, "-");
    std_number_text(s->mean, digits, a);
    if (s->n == 1) return mlp_string_cstr(vm, a);
    std_number_text(s->ci, digits, b);
    snprintf(buf, sizeof buf, "%s \xc2\xb1 %s", a, b);
    return mlp_string_cstr(vm, buf);
}

static mlp_value stat_tostring(mlp_vm *vm, void *p) { return stat_text(vm, p, 4); }
static mlp_value stat_format(mlp_vm *vm, void *p, int digits) { return stat_text(vm, p, digits); }

static bool stat_get(mlp_vm *vm, mlp_value self, void *p, const char *field, mlp_value *out)
{
    std_stat *s = p;
    double v;
    if (strcmp(field, "mean") == 0) v = s->mean;
    else if (strcmp(field, "sd") == 0) v = s->sd;
    else if (strcmp(field, "min") == 0) v = s->min;
    else if (strcmp(field, "max") == 0) v = s->max;
    else if (strcmp(field, "n") == 0) v = (double)s->n;
    else if (strcmp(field, "ci") == 0) v = s->ci;
    else if (strcmp(field, "lo") == 0) v = s->mean - s->ci;
    else if (strcmp(field, "hi") == 0) v = s->mean + s->ci;
    else return mlp_raise(vm, "stat has no field '%s' (mean, sd, min, max, n, ci, lo, hi)", field);
    *out = mlp_number(v);
    return true;
}

const mlp_class std_stat_class = {
    .name = "stat", .free = free, .get = stat_get, .tostring = stat_tostring,
    .fields = "mean, sd, min, max, n, ci, lo, hi", .format = stat_format,
};

mlp_value std_stat_cell(mlp_vm *vm, mlp_value v, int digits)
{
    std_stat *s = mlp_handle_data(v, &std_stat_class);
    return s ? stat_text(vm, s, digits < 0 ? 4 : digits) : mlp_nil();
}

static bool stat_value(mlp_vm *vm, const double *x, long n, mlp_value *out)
{
    std_stat *s = malloc(sizeof *s);
    if (!s) return mlp_raise(vm, "out of memory");
    *s = stat_of(x, n);
    *out = mlp_handle(vm, &std_stat_class, s);
    return true;
}

/* ---- tables ------------------------------------------------------------------- */

static std_table *table_arg(mlp_vm *vm, const char *fn, mlp_value v)
{
    std_table *t = mlp_handle_data(v, &std_table_class);
    if (!t) mlp_raise(vm, "%s: results must be a results table, got %s", fn, mlp_type_name(v));
    return t;
}

/* A new empty table (rooted by the caller through *out). */
static std_table *table_new(mlp_vm *vm, size_t naxes, mlp_value *out)
{
    std_table *t = malloc(sizeof *t);
    if (!t) { mlp_raise(vm, "out of memory"); return NULL; }
    t->columns = t->rows = t->seconds = mlp_nil();
    t->naxes = naxes;
    t->spent = t->full = NAN;
    *out = mlp_handle(vm, &std_table_class, t);
    mlp_push_root(vm, *out);
    t->columns = mlp_list_new(vm);
    t->rows = mlp_list_new(vm);
    t->seconds = mlp_list_new(vm);
    mlp_pop_root(vm);
    return t;
}

/* A table with t's columns and the rows of `keep` (indices into t's rows). */
static bool table_subset(mlp_vm *vm, const std_table *t, const size_t *keep, size_t n,
                         mlp_value *out)
{
    std_table *o = table_new(vm, t->naxes, out);
    if (!o) return false;
    mlp_push_root(vm, *out);
    for (size_t c = 0; c < mlp_list_len(t->columns); c++)
        mlp_list_push(vm, o->columns, mlp_list_get(t->columns, c));
    for (size_t i = 0; i < n; i++) {
        mlp_list_push(vm, o->rows, mlp_list_get(t->rows, keep[i]));
        mlp_list_push(vm, o->seconds, keep[i] < mlp_list_len(t->seconds)
                                          ? mlp_list_get(t->seconds, keep[i]) : mlp_nil());
    }
    mlp_pop_root(vm);
    return true;
}

static bool has_column(const std_table *t, const char *name)
{
    for (size_t c = 0; c < mlp_list_len(t->columns); c++)
        if (strcmp(mlp_cstr(mlp_list_get(t->columns, c)), name) == 0) return true;
    return false;
}

static mlp_value cell(const std_table *t, size_t r, const char *col)
{
    mlp_value v = mlp_nil();
    mlp_record_get(mlp_list_get(t->rows, r), col, &v);
    return v;
}

static bool column_arg(mlp_vm *vm, const char *fn, const std_table *t, mlp_value v,
                       const char **out)
{
    if (!std_str_arg(vm, fn, "column", v, out)) return false;
    if (!has_column(t, *out)) {
        mlp_value cols = mlp_tostring(vm, t->columns);
        return mlp_raise(vm, "%s: no column '%s' (the columns are %s)", fn, *out, mlp_cstr(cols));
    }
    return true;
}

/* r.column("x"): that column's values, a list (nil where a row has none). */
static bool n_column(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_table *t = table_arg(vm, "column", a[0]);
    const char *col;
    if (!t || !column_arg(vm, "column", t, a[1], &col)) return false;
    *out = mlp_list_new(vm);
    mlp_push_root(vm, *out);
    for (size_t r = 0; r < mlp_list_len(t->rows); r++) mlp_list_push(vm, *out, cell(t, r, col));
    mlp_pop_root(vm);
    return true;
}

/* The sort key of each row: a column's value or key(row). */
static bool row_keys(mlp_vm *vm, const char *fn, const std_table *t, mlp_value key, mlp_value *keys)
{
    const char *col = NULL;
    if (mlp_is_string(key) && !column_arg(vm, fn, t, key, &col)) return false;
    if (!col && !mlp_is_callable(key))
        return mlp_raise(vm, "%s: key must be a column name or a function of a row, got %s", fn,
                         mlp_type_name(key));
    *keys = mlp_list_new(vm);
    mlp_push_root(vm, *keys);
    for (size_t r = 0; r < mlp_list_len(t->rows); r++) {
        mlp_value k = col ? cell(t, r, col) : mlp_nil();
        mlp_value row = mlp_list_get(t->rows, r);
        if (!col && !mlp_call(vm, key, 1, &row, mlp_nil(), &k)) { mlp_pop_root(vm); return false; }
        if (!mlp_is_nil(k) && !mlp_is_number(k) && !mlp_is_string(k)) {
            mlp_pop_root(vm);
            return mlp_raise(vm, "%s: row %zu: a key must be a number, a string or nil, got %s",
                             fn, r + 1, mlp_type_name(k));
        }
        mlp_list_push(vm, *keys, k);
    }
    mlp_pop_root(vm);
    return true;
}

/* a before b? nil keys last whatever the order; numbers before strings. */
static int key_cmp(mlp_value a, mlp_value b, bool rev)
{
    if (mlp_is_nil(a) || mlp_is_nil(b)) return mlp_is_nil(a) - mlp_is_nil(b);
    int c;
    if (mlp_is_number(a) && mlp_is_number(b)) {
        double x = mlp_as_number(a), y = mlp_as_number(b);
        c = x < y ? -1 : x > y;
    } else if (mlp_is_string(a) && mlp_is_string(b)) {
        c = strcmp(mlp_cstr(a), mlp_cstr(b));
        c = (c > 0) - (c < 0);
    } else {
        c = mlp_is_number(a) ? -1 : 1;
    }
    return rev ? -c : c;
}

/* A stable order of the rows by their keys (insertion into a merge sort's runs). */
static bool sorted_order(mlp_vm *vm, mlp_value keys, bool rev, size_t **order)
{
    size_t n = mlp_list_len(keys);
    size_t *o = malloc((n + 1) * sizeof *o), *tmp = malloc((n + 1) * sizeof *tmp);
    if (!o || !tmp) { free(o); free(tmp); return mlp_raise(vm, "out of memory"); }
    for (size_t i = 0; i < n; i++) o[i] = i;
    for (size_t w = 1; w < n; w *= 2) {
        for (size_t lo = 0; lo < n; lo += 2 * w) {
            size_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            size_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = key_cmp(mlp_list_get(keys, o[j]), mlp_list_get(keys, o[i]), rev) < 0
                               ? o[j++] : o[i++];
            while (i < mid) tmp[k++] = o[i++];
            while (j < hi) tmp[k++] = o[j++];
        }
        memcpy(o, tmp, n * sizeof *o);
    }
    free(tmp);
    *order = o;
    return true;
}

static bool sort_table(mlp_vm *vm, const char *fn, mlp_value *a, mlp_value *out)
{
    std_table *t = mlp_handle_data(a[0], &std_table_class);
    mlp_value keys;
    size_t *order = NULL;
    if (mlp_is_nil(a[1])) return mlp_raise(vm, "%s: a results table is sorted by a key: "
                                           "key=\"column\" or key=fn(row)", fn);
    if (!row_keys(vm, fn, t, a[1], &keys)) return false;
    mlp_push_root(vm, keys);
    bool ok = sorted_order(vm, keys, mlp_truthy(a[2]), &order);
    mlp_pop_root(vm);
    if (!ok) return false;
    ok = table_subset(vm, t, order, mlp_list_len(t->rows), out);
    free(order);
    return ok;
}

/* sorted(r, key="col" | fn, reverse=false): a new table; sort(...) also
 * reorders r's own rows. Anything else goes to the language's sort. */
static bool n_sorted(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    if (!mlp_handle_data(a[0], &std_table_class)) return mlp_call_native(vm, "sorted", 3, a, out);
    return sort_table(vm, "sorted", a, out);
}

static bool n_sort(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_table *t = mlp_handle_data(a[0], &std_table_class);
    if (!t) return mlp_call_native(vm, "sort", 3, a, out);
    mlp_value s;
    if (!sort_table(vm, "sort", a, &s)) return false;
    std_table *st = mlp_handle_data(s, &std_table_class);
    t->rows = st->rows;
    t->seconds = st->seconds;
    *out = mlp_nil();
    return true;
}

/* filter(f, r): a table of the rows with f(row) true. */
static bool n_filter(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_table *t = mlp_handle_data(a[1], &std_table_class);
    if (!t) return mlp_call_native(vm, "filter", 2, a, out);
    size_t nrows = mlp_list_len(t->rows), nkeep = 0;
    size_t *keep = malloc((nrows + 1) * sizeof *keep);
    if (!keep) return mlp_raise(vm, "out of memory");
    for (size_t r = 0; r < nrows; r++) {
        mlp_value row = mlp_list_get(t->rows, r), res = row;
        if (!mlp_is_nil(a[0]) && !mlp_call(vm, a[0], 1, &row, mlp_nil(), &res)) {
            free(keep);
            return false;
        }
        if (mlp_truthy(res)) keep[nkeep++] = r;
    }
    bool ok = table_subset(vm, t, keep, nkeep, out);
    free(keep);
    return ok;
}

/* best(r, "val_acc", lower=false): the row with the highest (lowest)
 * number in the column, the first of equals; rows without one skipped. */
static bool n_best(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_table *t = table_arg(vm, "best", a[0]);
    const char *col;
    if (!t || !column_arg(vm, "best", t, a[1], &col)) return false;
    bool lower = mlp_truthy(a[2]);
    long at = -1;
    double bestv = 0;
    for (size_t r = 0; r < mlp_list_len(t->rows); r++) {
        mlp_value v = cell(t, r, col);
        if (!mlp_is_number(v) || isnan(mlp_as_number(v))) continue;
        double x = mlp_as_number(v);
        if (at < 0 || (lower ? x < bestv : x > bestv)) { at = (long)r; bestv = x; }
    }
    if (at < 0) return mlp_raise(vm, "best: no row has a number in '%s'", col);
    *out = mlp_list_get(t->rows, (size_t)at);
    return true;
}

/* ---- groups ------------------------------------------------------------------- */

/* The `by` argument: a column name or a list of them (nil: the table's
 * variables but seed). Fills *by with a list of names. */
static bool by_arg(mlp_vm *vm, const char *fn, const std_table *t, mlp_value v, mlp_value *by)
{
    *by = mlp_list_new(vm);
    mlp_push_root(vm, *by);
    bool ok = true;
    if (mlp_is_nil(v)) {
        for (size_t c = 0; c < t->naxes && c < mlp_list_len(t->columns); c++) {
            mlp_value name = mlp_list_get(t->columns, c);
            if (strcmp(mlp_cstr(name), "seed") != 0) mlp_list_push(vm, *by, name);
        }
    } else if (mlp_is_string(v)) {
        mlp_list_push(vm, *by, v);
    } else if (mlp_is_list(v)) {
        for (size_t i = 0; i < mlp_list_len(v); i++) mlp_list_push(vm, *by, mlp_list_get(v, i));
    } else {
        ok = mlp_raise(vm, "%s: by must be a column name or a list of them, got %s", fn,
                       mlp_type_name(v));
    }
    for (size_t i = 0; ok && i < mlp_list_len(*by); i++) {
        const char *col;
        ok = column_arg(vm, fn, t, mlp_list_get(*by, i), &col);
    }
    mlp_pop_root(vm);
    return ok;
}

/* Each row's group number (groups in order of first appearance), rows
 * equal on every column of `by`; returns the number of groups, -1 on OOM. */
static long group_rows(const std_table *t, mlp_value by, long *gid, size_t *first)
{
    size_t nrows = mlp_list_len(t->rows);
    long ng = 0;
    for (size_t r = 0; r < nrows; r++) {
        gid[r] = -1;
        for (long g = 0; g < ng && gid[r] < 0; g++) {
            bool same = true;
            for (size_t b = 0; b < mlp_list_len(by) && same; b++) {
                const char *col = mlp_cstr(mlp_list_get(by, b));
                same = mlp_equal(cell(t, r, col), cell(t, first[g], col));
            }
            if (same) gid[r] = g;
        }
        if (gid[r] < 0) { first[ng] = r; gid[r] = ng++; }
    }
    return ng;
}

/* A column summarize reports: not a variable, not `by`, not `error`, and a
 * number (or nil) in every row. */
static bool metric_column(const std_table *t, size_t c, mlp_value by)
{
    mlp_value name = mlp_list_get(t->columns, c);
    if (c < t->naxes || strcmp(mlp_cstr(name), "error") == 0 ||
        strcmp(mlp_cstr(name), "seed") == 0)
        return false;
    for (size_t b = 0; b < mlp_list_len(by); b++)
        if (mlp_equal(mlp_list_get(by, b), name)) return false;
    bool any = false;
    for (size_t r = 0; r < mlp_list_len(t->rows); r++) {
        mlp_value v = cell(t, r, mlp_cstr(name));
        if (!mlp_is_nil(v) && !mlp_is_number(v)) return false;
        any |= mlp_is_number(v);
    }
    return any;
}

/* The numbers of column `col` in group g (rows with an error left out). */
static long group_values(const std_table *t, const long *gid, long g, const char *col, double *x)
{
    long n = 0;
    for (size_t r = 0; r < mlp_list_len(t->rows); r++) {
        mlp_value v = cell(t, r, col), e = cell(t, r, "error");
        if (gid[r] == g && mlp_is_number(v) && mlp_is_nil(e)) x[n++] = mlp_as_number(v);
    }
    return n;
}

/* summarize(r, by=[...]): one row per group: the `by` values, n (runs)
 * and a stat for every numeric column. */
static bool n_summarize(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_table *t = table_arg(vm, "summarize", a[0]);
    mlp_value by;
    if (!t || !by_arg(vm, "summarize", t, a[1], &by)) return false;
    mlp_push_root(vm, by);
    size_t nrows = mlp_list_len(t->rows);
    long *gid = malloc((nrows + 1) * sizeof *gid);
    size_t *first = malloc((nrows + 1) * sizeof *first);
    double *x = malloc((nrows + 1) * sizeof *x);
    std_table *o = NULL;
    bool ok = false;
    if (!gid || !first || !x) { mlp_raise(vm, "out of memory"); goto done; }
    long ng = group_rows(t, by, gid, first);
    o = table_new(vm, mlp_list_len(by), out);
    if (!o) goto done;
    mlp_push_root(vm, *out);
    for (size_t b = 0; b < mlp_list_len(by); b++) mlp_list_push(vm, o->columns, mlp_list_get(by, b));
    mlp_list_push(vm, o->columns, mlp_string_cstr(vm, "n"));
    for (size_t c = 0; c < mlp_list_len(t->columns); c++)
        if (metric_column(t, c, by)) mlp_list_push(vm, o->columns, mlp_list_get(t->columns, c));
    ok = true;
    for (long g = 0; g < ng && ok; g++) {
        mlp_value row = mlp_record_new(vm);
        mlp_list_push(vm, o->rows, row);
        mlp_list_push(vm, o->seconds, mlp_nil());
        long runs = 0;
        for (size_t r = 0; r < nrows; r++) runs += gid[r] == g && mlp_is_nil(cell(t, r, "error"));
        for (size_t b = 0; b < mlp_list_len(by); b++) {
            const char *col = mlp_cstr(mlp_list_get(by, b));
            mlp_record_set(vm, row, col, cell(t, first[g], col));
        }
        mlp_record_set(vm, row, "n", mlp_number((double)runs));
        for (size_t c = mlp_list_len(by) + 1; c < mlp_list_len(o->columns) && ok; c++) {
            const char *col = mlp_cstr(mlp_list_get(o->columns, c));
            mlp_value s;
            ok = stat_value(vm, x, group_values(t, gid, g, col, x), &s);
            if (ok) set_rooted(vm, row, col, s);
        }
    }
    mlp_pop_root(vm);
done:
    mlp_pop_root(vm);
    free(gid);
    free(first);
    free(x);
    return ok;
}

/* ---- compare -------------------------------------------------------------------- */

typedef struct test_result { double p, diff; long n; bool paired; } test_result;

/* Rows of group a paired with rows of group b: equal on every variable
 * of the table but the `by` columns (the seed among them). Fills pa/pb
 * with row numbers; the count, or -1 when the rows do not pair one to one. */
static long pair_rows(const std_table *t, mlp_value by, const long *gid, long ga, long gb,
                      size_t *pa, size_t *pb)
{
    size_t nrows = mlp_list_len(t->rows);
    long np = 0, na = 0, nb = 0;
    if (t->naxes == 0) return -1;
    for (size_t r = 0; r < nrows; r++) { na += gid[r] == ga; nb += gid[r] == gb; }
    if (na != nb) return -1;
    for (size_t r = 0; r < nrows; r++) {
        if (gid[r] != ga) continue;
        long match = -1, count = 0;
        for (size_t s = 0; s < nrows; s++) {
            if (gid[s] != gb) continue;
            bool same = true;
            for (size_t c = 0; c < t->naxes && same; c++) {
                mlp_value col = mlp_list_get(t->columns, c);
                bool in_by = false;
                for (size_t b = 0; b < mlp_list_len(by); b++) in_by |= mlp_equal(mlp_list_get(by, b), col);
                if (!in_by) same = mlp_equal(cell(t, r, mlp_cstr(col)), cell(t, s, mlp_cstr(col)));
            }
            if (same) { match = (long)s; count++; }
        }
        if (count != 1) return -1;
        pa[np] = r;
        pb[np++] = (size_t)match;
    }
    return np;
}

/* The p-value of t given mean difference d and its standard error se. */
static double p_of(double d, double se, double df)
{
    if (se == 0 || isnan(se)) return d == 0 ? 1 : 0;
    return std_t_p2(d / se, df);
}

/* Group a against group b on column col: paired t-test when the rows
 * pair (and every pair has the number), Welch's t otherwise. */
static test_result test_groups(const std_table *t, mlp_value by, const long *gid, long ga,
                               long gb, const char *col, double *xa, double *xb, size_t *pa,
                               size_t *pb)
{
    test_result res = { NAN, NAN, 0, false };
    long np = pair_rows(t, by, gid, ga, gb, pa, pb);
    long nd = 0;
    for (long i = 0; i < np; i++) {
        mlp_value va = cell(t, pa[i], col), vb = cell(t, pb[i], col);
        if (!mlp_is_number(va) || !mlp_is_number(vb) || !mlp_is_nil(cell(t, pa[i], "error")) ||
            !mlp_is_nil(cell(t, pb[i], "error"))) { nd = -1; break; }
        xa[nd++] = mlp_as_number(va) - mlp_as_number(vb);
    }
    if (np >= 2 && nd == np) {
        std_stat s = stat_of(xa, nd);
        res = (test_result){ p_of(s.mean, s.sd / sqrt((double)nd), (double)(nd - 1)), s.mean, nd, true };
        return res;
    }
    long na = group_values(t, gid, ga, col, xa), nb = group_values(t, gid, gb, col, xb);
    std_stat a = stat_of(xa, na), b = stat_of(xb, nb);
    res.diff = a.mean - b.mean;
    res.n = na < nb ? na : nb;
    if (na < 2 || nb < 2) return res;
    double va = a.sd * a.sd / (double)na, vb = b.sd * b.sd / (double)nb;
    double df = (va + vb) * (va + vb) /
                (va * va / (double)(na - 1) + vb * vb / (double)(nb - 1));
    res.p = p_of(res.diff, sqrt(va + vb), va + vb > 0 ? df : 1);
    return res;
}

/* compare(r, "test_acc", by="opt", lower=false): the groups ranked best
 * first, each tested against the best. */
static bool n_compare(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_table *t = table_arg(vm, "compare", a[0]);
    const char *col;
    mlp_value by;
    if (!t || !column_arg(vm, "compare", t, a[1], &col)) return false;
    if (mlp_is_nil(a[2])) return mlp_raise(vm, "compare: say which groups: by=\"column\"");
    if (!by_arg(vm, "compare", t, a[2], &by)) return false;
    bool lower = mlp_truthy(a[3]);
    mlp_push_root(vm, by);
    size_t nrows = mlp_list_len(t->rows);
    long *gid = malloc((nrows + 1) * sizeof *gid);
    size_t *first = malloc((nrows + 1) * sizeof *first), *pa = malloc((nrows + 1) * sizeof *pa),
           *pb = malloc((nrows + 1) * sizeof *pb);
    double *xa = malloc((nrows + 1) * sizeof *xa), *xb = malloc((nrows + 1) * sizeof *xb);
    double *means = malloc((nrows + 1) * sizeof *means);
    long *rank = malloc((nrows + 1) * sizeof *rank);
    bool ok = false;
    if (!gid || !first || !pa || !pb || !xa || !xb || !means || !rank) {
        mlp_raise(vm, "out of memory");
        goto done;
    }
    long ng = group_rows(t, by, gid, first);
    for (long g = 0; g < ng; g++) {
        std_stat s = stat_of(xa, group_values(t, gid, g, col, xa));
        means[g] = s.mean;
        rank[g] = g;
    }
    for (long i = 1; i < ng; i++)   /* stable: equal means keep their order; NaN last */
        for (long j = i; j > 0; j--) {
            double x = means[rank[j]], y = means[rank[j - 1]];
            bool before = !isnan(x) && (isnan(y) || (lower ? x < y : x > y));
            if (!before) break;
            long tmp = rank[j]; rank[j] = rank[j - 1]; rank[j - 1] = tmp;
        }
    std_table *o = table_new(vm, mlp_list_len(by), out);
    if (!o) goto done;
    mlp_push_root(vm, *out);
    for (size_t b = 0; b < mlp_list_len(by); b++) mlp_list_push(vm, o->columns, mlp_list_get(by, b));
    const char *cols[] = { "n", col, "diff", "p", "test", "verdict" };
    for (int c = 0; c < 6; c++) mlp_list_push(vm, o->columns, mlp_string_cstr(vm, cols[c]));
    mlp_value best_name = mlp_nil();
    ok = true;
    for (long i = 0; i < ng && ok; i++) {
        long g = rank[i];
        mlp_value row = mlp_record_new(vm);
        mlp_list_push(vm, o->rows, row);
        mlp_list_push(vm, o->seconds, mlp_nil());
        for (size_t b = 0; b < mlp_list_len(by); b++) {
            const char *bc = mlp_cstr(mlp_list_get(by, b));
            mlp_record_set(vm, row, bc, cell(t, first[g], bc));
        }
        long nv = group_values(t, gid, g, col, xa);
        mlp_value s;
        mlp_record_set(vm, row, "n", mlp_number((double)nv));
        if (!(ok = stat_value(vm, xa, nv, &s))) break;
        set_rooted(vm, row, col, s);
        if (i == 0) {
            best_name = std_row_label(vm, o, row);
            mlp_push_root(vm, best_name);
            mlp_record_set(vm, row, "diff", mlp_nil());
            mlp_record_set(vm, row, "p", mlp_nil());
            mlp_record_set(vm, row, "test", mlp_nil());
            set_rooted(vm, row, "verdict", mlp_string_cstr(vm, "best"));
            continue;
        }
        test_result r = test_groups(t, by, gid, g, rank[0], col, xa, xb, pa, pb);
        char verdict[256], test[32];
        const char *bn = mlp_cstr(best_name);
        if (r.paired) snprintf(test, sizeof test, "paired t, %ld", r.n);
        else snprintf(test, sizeof test, "Welch t");
        if (isnan(r.p))
            snprintf(verdict, sizeof verdict, "too few runs to tell from %s", bn);
        else if (r.p < 0.05)
            snprintf(verdict, sizeof verdict, "%s than %s (p < 0.05)",
                     (r.diff < 0) != lower ? "worse" : "better", bn);
        else
            snprintf(verdict, sizeof verdict, "not distinguishable from %s", bn);
        mlp_record_set(vm, row, "diff", mlp_number(r.diff));
        mlp_record_set(vm, row, "p", isnan(r.p) ? mlp_nil() : mlp_number(r.p));
        set_rooted(vm, row, "test", isnan(r.p) ? mlp_nil() : mlp_string_cstr(vm, test));
        set_rooted(vm, row, "verdict", mlp_string_cstr(vm, verdict));
    }
    if (ng > 0) mlp_pop_root(vm);   /* best_name */
    mlp_pop_root(vm);
done:
    mlp_pop_root(vm);
    free(gid); free(first); free(pa); free(pb); free(xa); free(xb); free(means); free(rank);
    return ok;
}

/* t_quantile(p, df) and t_p(t, df): the t distribution, for scripts and tests. */
static bool n_t_quantile(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    double p, df;
    if (!std_num_arg(vm, "t_quantile", "p", a[0], &p) || !std_num_arg(vm, "t_quantile", "df", a[1], &df))
        return false;
    if (!(p > 0 && p < 1) || !(df > 0))
        return mlp_raise(vm, "t_quantile: p must be in (0, 1) and df above 0");
    double q = p == 0.5 ? 0 : p > 0.5 ? std_t_quantile(p, df) : -std_t_quantile(1 - p, df);
    *out = mlp_number(q);
    return true;
}

static bool n_t_p(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    double t, df;
    if (!std_num_arg(vm, "t_p", "t", a[0], &t) || !std_num_arg(vm, "t_p", "df", a[1], &df)) return false;
    if (!(df > 0)) return mlp_raise(vm, "t_p: df must be above 0");
    *out = mlp_number(std_t_p2(t, df));
    return true;
}

/* ---- load_results ---------------------------------------------------------------- */

/* A CSV field's value: a number when all of it reads as one, nil when
 * empty, else the text. */
static mlp_value csv_value(mlp_vm *vm, const char *s, size_t n, bool quoted)
{
    if (n == 0 && !quoted) return mlp_nil();
    if (!quoted) {
        char *end;
        char buf[64];
        if (n < sizeof buf) {
            memcpy(buf, s, n);
            buf[n] = 0;
            double x = strtod(buf, &end);
            if (*end == 0 && end != buf) return mlp_number(x);
        }
    }
    return mlp_string(vm, s, n);
}

/* The rows of a CSV text (save's: a header line, then one line a row;
 * "..." fields with "" for a quote). */
static bool parse_csv(mlp_vm *vm, const char *path, const char *s, std_table *t)
{
    char *field = malloc(strlen(s) + 1);
    if (!field) return mlp_raise(vm, "out of memory");
    long line = 1;
    size_t col = 0;
    mlp_value row = mlp_nil();
    bool header = true;
    while (*s) {
        size_t n = 0;
        bool quoted = *s == '"';
        if (quoted) {
            long opened = line;
            s++;
            for (;;) {
                if (!*s) {
                    free(field);
                    return mlp_raise(vm, "load_results: %s:%ld: a quote opened here is never "
                                     "closed", path, opened);
                }
                if (*s == '"' && s[1] == '"') { field[n++] = '"'; s += 2; continue; }
                if (*s == '"') { s++; break; }
                if (*s == '\n') line++;
                field[n++] = *s++;
            }
        } else {
            while (*s && *s != ',' && *s != '\n' && *s != '\r') field[n++] = *s++;
        }
        if (header) {
            mlp_list_push(vm, t->columns, mlp_string(vm, field, n));
        } else {
            if (col >= mlp_list_len(t->columns)) {
                free(field);
                return mlp_raise(vm, "load_results: %s:%ld: more fields than the header's %zu",
                                 path, line, mlp_list_len(t->columns));
            }
            if (col == 0) {
                row = mlp_record_new(vm);
                mlp_list_push(vm, t->rows, row);
                mlp_list_push(vm, t->seconds, mlp_nil());
            }
            mlp_value v = csv_value(vm, field, n, quoted);
            if (!mlp_is_nil(v)) {
                mlp_push_root(vm, v);
                mlp_record_set(vm, row, mlp_cstr(mlp_list_get(t->columns, col)), v);
                mlp_pop_root(vm);
            }
        }
        col++;
        if (*s == '\r') s++;
        if (*s == ',') { s++; continue; }
        if (*s == '\n' || !*s) {
            if (*s) s++;
            line++;
            col = 0;
            header = false;
        } else {
            free(field);
            return mlp_raise(vm, "load_results: %s:%ld: unexpected text after a quoted field",
                             path, line);
        }
    }
    free(field);
    return true;
}

/* load_results("x.csv" | "x.json", axes=nil): a table save() wrote, back;
 * axes names the columns that were the sweep's variables (the first ones),
 * which summarize groups by by default and compare pairs on. */
static bool n_load_results(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const char *path;
    if (!std_str_arg(vm, "load_results", "path", a[0], &path)) return false;
    const char *ext = strrchr(path, '.');
    bool json = ext && strcmp(ext, ".json") == 0;
    if (!json && !(ext && strcmp(ext, ".csv") == 0))
        return mlp_raise(vm, "load_results: path must end in .csv or .json, got \"%s\"", path);
    if (!mlp_is_nil(a[1]) && !mlp_is_list(a[1]))
        return mlp_raise(vm, "load_results: axes must be a list of column names, got %s",
                         mlp_type_name(a[1]));
    FILE *f = fopen(path, "rb");
    if (!f) return mlp_raise(vm, "load_results: cannot read '%s': %s", path, strerror(errno));
    fclose(f);
    mlp_value text;
    if (!mlp_call_native(vm, "read_text", 1, a, &text)) return false;
    mlp_push_root(vm, text);
    std_table *t = table_new(vm, 0, out);
    if (!t) { mlp_pop_root(vm); return false; }
    mlp_push_root(vm, *out);
    bool ok;
    if (json) {
        mlp_value v;
        ok = mlp_call_native(vm, "json_parse", 1, &text, &v);
        if (ok && !mlp_is_list(v)) ok = mlp_raise(vm, "load_results: %s: not a list of rows", path);
        if (ok) {
            mlp_push_root(vm, v);
            for (size_t r = 0; ok && r < mlp_list_len(v); r++) {
                mlp_value row = mlp_list_get(v, r);
                if (!mlp_is_record(row)) {
                    ok = mlp_raise(vm, "load_results: %s: row %zu is not a record", path, r + 1);
                    break;
                }
                for (size_t e = 0; e < mlp_record_len(row); e++) {
                    mlp_value key, val;
                    mlp_record_entry(row, e, &key, &val);
                    bool seen = false;
                    for (size_t c = 0; c < mlp_list_len(t->columns) && !seen; c++)
                        seen = mlp_equal(mlp_list_get(t->columns, c), key);
                    if (!seen) mlp_list_push(vm, t->columns, key);
                }
                mlp_list_push(vm, t->rows, row);
                mlp_list_push(vm, t->seconds, mlp_nil());
            }
            mlp_pop_root(vm);
        }
    } else {
        ok = parse_csv(vm, path, mlp_cstr(text), t);
    }
    /* the variables first, in the order of axes= */
    for (size_t i = 0; ok && mlp_is_list(a[1]) && i < mlp_list_len(a[1]); i++) {
        mlp_value name = mlp_list_get(a[1], i);
        size_t at = mlp_list_len(t->columns);
        for (size_t c = 0; c < mlp_list_len(t->columns); c++)
            if (mlp_equal(mlp_list_get(t->columns, c), name)) at = c;
        if (at == mlp_list_len(t->columns)) {
            ok = mlp_raise(vm, "load_results: %s has no column '%s' (axes=)", path,
                           mlp_cstr(mlp_tostring(vm, name)));
            break;
        }
        for (size_t c = at; c > i; c--)
            mlp_list_set(t->columns, c, mlp_list_get(t->columns, c - 1));
        mlp_list_set(t->columns, i, name);
        t->naxes = i + 1;
    }
    mlp_pop_root(vm);
    mlp_pop_root(vm);
    return ok;
}

static const mlp_native natives[] = {
    { "summarize", "results, by=nil", n_summarize,
      "summarize(results, by=[\"opt\"]): per group, n and every numeric column's mean ± 95% CI "
      "(fields mean, sd, min, max, n, ci, lo, hi)" },
    { "compare", "results, column, by=nil, lower=false", n_compare,
      "compare(results, \"test_acc\", by=\"opt\", lower=false): groups ranked best first, each "
      "tested against the best (paired t over shared seeds, else Welch's t)" },
    { "best", "results, column, lower=false", n_best,
      "best(results, \"val_acc\", lower=false): the row with the highest (lower=true: lowest) value" },
    { "load_results", "path, axes=nil", n_load_results,
      "load_results(\"x.csv\" or \"x.json\", axes=[...]): a results table save() wrote" },
    { "__column", "results, name", n_column, "r.column(name): a column's values" },
    { "sorted", "xs, key=nil, reverse=false", n_sorted,
      "sorted(xs, key=nil, reverse=false): a new sorted list (stable), by key(x) if given; "
      "a results table: a new table, key a column name or fn(row)" },
    { "sort", "xs, key=nil, reverse=false", n_sort,
      "sort(xs, key=nil, reverse=false): sort a list in place (stable), by key(x) if given; "
      "a results table: its rows, key a column name or fn(row)" },
    { "filter", "f, xs", n_filter,
      "filter(f, xs): list of the elements x with f(x) true (f nil: x itself); a results "
      "table: a table of its rows with f(row) true" },
    { "t_quantile", "p, df", n_t_quantile,
      "t_quantile(p, df): the t with P(T <= t) = p, Student's t with df degrees of freedom" },
    { "t_p", "t, df", n_t_p, "t_p(t, df): the two-sided p-value P(|T| >= |t|)" },
};

bool std_open_stats(mlp_vm *vm)
{
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
