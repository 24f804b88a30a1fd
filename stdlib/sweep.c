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
 */
#include <math.h>
#include <stdio.h>
#include <errno.h>
#include <string.h>
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

/* The values of point `i` in a grid (first axis outermost) or a list. */
static bool point_values(mlp_vm *vm, mlp_value names, mlp_value axes, bool listed, size_t i,
                         mlp_value *vals)
{
    size_t k = mlp_list_len(names);
    if (listed) {
        mlp_value p = mlp_list_get(mlp_list_get(axes, 0), i);
        if (k == 1 && !mlp_is_list(p)) { vals[0] = p; return true; }
        if (!mlp_is_list(p) || mlp_list_len(p) != k)
            return mlp_raise(vm, "sweep: point %zu must be a list of %zu values", i + 1, k);
        for (size_t j = 0; j < k; j++) vals[j] = mlp_list_get(p, j);
        return true;
    }
    for (size_t j = k; j-- > 0;) {
        mlp_value axis = mlp_list_get(axes, j);
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

static bool n_sweep(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    mlp_value names = a[0], axes = a[1], body = a[3];
    bool listed = mlp_truthy(a[2]);
    size_t k = mlp_list_len(names), npoints = 1;
    if (k == 0 || k > 16) return mlp_raise(vm, "sweep: 1 to 16 variables");
    for (size_t j = 0; j < mlp_list_len(axes); j++) {
        mlp_value axis = mlp_list_get(axes, j);
        if (!mlp_is_list(axis))
            return mlp_raise(vm, "sweep: the values of '%s' must be a list, got %s",
                             listed ? "points" : mlp_cstr(mlp_list_get(names, j)),
                             mlp_type_name(axis));
        npoints *= mlp_list_len(axis);
    }
    std_table *t = malloc(sizeof *t);
    if (!t) return mlp_raise(vm, "out of memory");
    t->columns = t->rows = mlp_nil();
    *out = mlp_handle(vm, &std_table_class, t);
    t->columns = mlp_list_new(vm);
    t->rows = mlp_list_new(vm);
    for (size_t j = 0; j < k; j++) mlp_list_push(vm, t->columns, mlp_list_get(names, j));

    std_host *h = std_host_of(vm);
    const std_random start = h->rnd;
    mlp_value outer_rows = h->report, outer_base = h->report_base;
    mlp_push_root(vm, outer_rows);
    mlp_push_root(vm, outer_base);
    bool ok = true, any_failed = false;
    for (size_t i = 0; i < npoints && ok; i++) {
        mlp_value vals[16], res;
        if (!(ok = point_values(vm, names, axes, listed, i, vals))) break;
        h->rnd = start;
        h->report_base = mlp_record_new(vm);
        for (size_t j = 0; j < k; j++)
            mlp_record_set(vm, h->report_base, mlp_cstr(mlp_list_get(names, j)), vals[j]);
        h->report = mlp_list_new(vm);
        bool point_ok = mlp_pcall(vm, body, (int)k, vals, mlp_nil(), &res);
        if (!point_ok && mlp_interrupted(vm)) {
            ok = mlp_raise(vm, "%s", mlp_cstr(res));
            break;
        }
        mlp_push_root(vm, res);
        if (mlp_list_len(h->report) == 0 || !point_ok) {
            mlp_value row = copy_record(vm, h->report_base);
            mlp_list_push(vm, h->report, row);
        }
        for (size_t r = 0; r < mlp_list_len(h->report); r++) {
            mlp_value row = mlp_list_get(h->report, r);
            add_columns(vm, t->columns, row);
            if (!point_ok) mlp_record_set(vm, row, "error", res);
            mlp_list_push(vm, t->rows, row);
        }
        if (!point_ok) {
            any_failed = true;
            mlp_value s = mlp_tostring(vm, h->report_base);
            char line[1024];
            snprintf(line, sizeof line, "sweep: point %s failed: %s\n", mlp_cstr(s), mlp_cstr(res));
            mlp_write(vm, line, strlen(line));
        }
        mlp_pop_root(vm);
    }
    if (any_failed) mlp_list_push(vm, t->columns, mlp_string_cstr(vm, "error"));
    h->rnd = start;
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
    FILE *f = fopen(path, "w");
    if (!f) return mlp_raise(vm, "save: cannot write %s: %s", path, strerror(errno));
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
    if (fclose(f) != 0) return mlp_raise(vm, "save: cannot write %s: %s", path, strerror(errno));
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
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
