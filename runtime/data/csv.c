/* csv.c — see csv.h. */
#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "csv.h"
#include "rt_file.h"

#define MAX_INT_CLASS 65535

/* ---- the file, whole ---------------------------------------------------------- */

/* The whole file as one NUL-terminated string. CSV files for an MLP are
 * small next to the floats they become, and holding the text lets the
 * parser cut fields in place without copying them. */
static char *slurp(const char *path, rt_error *err)
{
    /* Regular files only: a FIFO would block, /dev/zero never ends. */
    int fd = rt_open_regular(path, NULL, err);
    if (fd < 0) return NULL;
    FILE *f = fdopen(fd, "rb");
    if (!f) {
        rt_fail(err, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return NULL;
    }
    size_t len = 0, cap = 1 << 16;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len - 1, f);
        if (len < cap - 1) break;
        char *grown = realloc(buf, cap *= 2);
        if (!grown) { free(buf); buf = NULL; }
        else buf = grown;
    }
    bool bad = buf && ferror(f);
    fclose(f);
    if (!buf) { rt_fail(err, "%s: out of memory reading the file", path); return NULL; }
    if (bad) { free(buf); rt_fail(err, "%s: read error", path); return NULL; }
    buf[len] = '\0';
    if (strlen(buf) != len) {
        free(buf);
        rt_fail(err, "%s: contains a NUL byte: not a text file", path);
        return NULL;
    }
    return buf;
}

/* ---- one line into fields, in place ------------------------------------------ */

typedef struct fields {
    char **v;
    int n, cap;
} fields;

/* Splits line (no '\n') into fields, unquoting and trimming in place: the
 * output never outruns the input, so the line's own bytes hold the fields. */
static bool split(char *line, fields *fs, const char *path, long lineno, rt_error *err)
{
    fs->n = 0;
    char *r = line;
    for (;;) {
        if (fs->n == fs->cap) {
            int cap = fs->cap ? 2 * fs->cap : 16;
            char **grown = realloc(fs->v, (size_t)cap * sizeof *grown);
            if (!grown) return rt_fail(err, "%s:%ld: out of memory", path, lineno);
            fs->v = grown;
            fs->cap = cap;
        }
        while (*r == ' ' || *r == '\t') r++;
        char *start = r, *w = r;
        if (*r == '"') {
            r++;
            for (;;) {
                if (*r == '\0')
                    return rt_fail(err, "%s:%ld: unterminated quoted field (field %d)",
                                   path, lineno, fs->n + 1);
                if (*r == '"' && r[1] == '"') { *w++ = '"'; r += 2; continue; }
                if (*r == '"') { r++; break; }
                *w++ = *r++;
            }
            while (*r == ' ' || *r == '\t') r++;
            if (*r != ',' && *r != '\0')
                return rt_fail(err, "%s:%ld: unexpected '%c' after the closing quote of field %d",
                               path, lineno, *r, fs->n + 1);
        } else {
            while (*r != ',' && *r != '\0') *w++ = *r++;
            while (w > start && (w[-1] == ' ' || w[-1] == '\t')) w--;
        }
        char sep = *r;
        *w = '\0';
        fs->v[fs->n++] = start;
        if (sep == '\0') return true;
        r++;
    }
}

/* ---- label strings to class indices ------------------------------------------ */

/* Distinct label strings in order of first appearance, with an open-address
 * hash (FNV-1a, linear probing) so a million rows cost a million lookups. */
typedef struct labelmap {
    char **names;
    long *line;      /* the line each name first appears on */
    int n, cap;
    int *slot;       /* index + 1 into names, 0 empty */
    size_t nslot;    /* power of two, kept over twice n */
} labelmap;

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 1469598103934665603ull;
    for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static bool rehash(labelmap *m, size_t nslot)
{
    int *slot = calloc(nslot, sizeof *slot);
    if (!slot) return false;
    for (int i = 0; i < m->n; i++) {
        size_t h = (size_t)fnv1a(m->names[i]) & (nslot - 1);
        while (slot[h]) h = (h + 1) & (nslot - 1);
        slot[h] = i + 1;
    }
    free(m->slot);
    m->slot = slot;
    m->nslot = nslot;
    return true;
}

/* The class of s, adding it when new; -1 when out of memory. */
static int label_index(labelmap *m, const char *s, long lineno)
{
    if ((size_t)(m->n + 1) * 2 >= m->nslot && !rehash(m, m->nslot ? m->nslot * 2 : 64))
        return -1;
    size_t h = (size_t)fnv1a(s) & (m->nslot - 1);
    while (m->slot[h]) {
        if (strcmp(m->names[m->slot[h] - 1], s) == 0) return m->slot[h] - 1;
        h = (h + 1) & (m->nslot - 1);
    }
    if (m->n == m->cap) {
        int cap = m->cap ? 2 * m->cap : 16;
        char **grown = realloc(m->names, (size_t)cap * sizeof *grown);
        if (!grown) return -1;
        m->names = grown;
        long *lines = realloc(m->line, (size_t)cap * sizeof *lines);
        if (!lines) return -1;
        m->line = lines;
        m->cap = cap;
    }
    m->line[m->n] = lineno;
    if (!(m->names[m->n] = strdup(s))) return -1;
    m->slot[h] = m->n + 1;
    return m->n++;
}

static void labelmap_free(labelmap *m)
{
    for (int i = 0; i < m->n; i++) free(m->names[i]);
    free(m->names);
    free(m->line);
    free(m->slot);
}

/* A class index written as a plain non-negative integer, or -1. */
static long int_class(const char *s)
{
    if (!*s || strlen(s) > 9) return -1;
    for (const char *p = s; *p; p++)
        if (!isdigit((unsigned char)*p)) return -1;
    long v = strtol(s, NULL, 10);
    return v <= MAX_INT_CLASS ? v : -1;
}

/* [+-] digits [. digits] [e [+-] digits], with a digit before or after the
 * point: the decimal numbers strtod reads, without its hexadecimal, "inf"
 * and "nan" forms. */
static bool is_decimal(const char *s)
{
    if (*s == '+' || *s == '-') s++;
    size_t k = strspn(s, "0123456789");
    s += k;
    if (*s == '.') {
        size_t f = strspn(s + 1, "0123456789");
        if (k + f == 0) return false;
        s += 1 + f;
    } else if (k == 0) {
        return false;
    }
    if (*s == 'e' || *s == 'E') {
        s++;
        if (*s == '+' || *s == '-') s++;
        size_t e = strspn(s, "0123456789");
        if (e == 0) return false;
        s += e;
    }
    return *s == '\0';
}

/* ---- the loader ------------------------------------------------------------------ */

typedef struct loader {
    const char *path;
    fields fs;
    int ncols, label_col;         /* label_col -1: none */
    char **header;                /* copies of the column names */
    float *x;                     /* rows x features, growing */
    int32_t *lab;                 /* per row: index into labels map */
    int64_t rows, cap;
    labelmap labels;
} loader;

static void loader_free(loader *L)
{
    free(L->fs.v);
    for (int i = 0; L->header && i < L->ncols; i++) free(L->header[i]);
    free(L->header);
    free(L->x);
    free(L->lab);
    labelmap_free(&L->labels);
}

static bool read_header(loader *L, char *line, const char *label_column, rt_error *err)
{
    if (!split(line, &L->fs, L->path, 1, err)) return false;
    L->ncols = L->fs.n;
    L->header = calloc((size_t)L->ncols, sizeof *L->header);
    if (!L->header) return rt_fail(err, "%s: out of memory", L->path);
    L->label_col = -1;
    for (int c = 0; c < L->ncols; c++) {
        if (!(L->header[c] = strdup(L->fs.v[c]))) return rt_fail(err, "%s: out of memory", L->path);
        if (label_column && L->label_col < 0 && strcmp(L->fs.v[c], label_column) == 0)
            L->label_col = c;
    }
    if (label_column && L->label_col < 0) {
        char list[256] = "";
        for (int c = 0; c < L->ncols; c++) {
            size_t n = strlen(list);
            snprintf(list + n, sizeof list - n, "%s%s", c ? ", " : "", L->header[c]);
        }
        return rt_fail(err, "%s: no column '%s' in the header (columns: %s)", L->path,
                       label_column, list);
    }
    if (L->ncols - (L->label_col >= 0) == 0)
        return rt_fail(err, "%s: no feature columns (only the label column '%s')", L->path,
                       label_column);
    return true;
}

/* Appends one data row: features parsed to float32 in file order, the
 * label kept as an index into the label strings until the whole column has
 * been seen (finish_labels decides numeric or named). */
static bool read_row(loader *L, char *line, long lineno, rt_error *err)
{
    if (!split(line, &L->fs, L->path, lineno, err)) return false;
    if (L->fs.n != L->ncols)
        return rt_fail(err, "%s:%ld: expected %d fields, got %d", L->path, lineno,
                       L->ncols, L->fs.n);
    int64_t nf = L->ncols - (L->label_col >= 0);
    if (L->rows == L->cap) {
        int64_t cap = L->cap ? 2 * L->cap : 1024;
        float *x = realloc(L->x, (size_t)(cap * nf) * sizeof *x);
        if (x) L->x = x;
        int32_t *lab = realloc(L->lab, (size_t)cap * sizeof *lab);
        if (lab) L->lab = lab;
        if (!x || !lab) return rt_fail(err, "%s:%ld: out of memory", L->path, lineno);
        L->cap = cap;
    }
    float *row = L->x + L->rows * nf;
    for (int c = 0, j = 0; c < L->ncols; c++) {
        const char *s = L->fs.v[c];
        if (c == L->label_col) {
            int k = label_index(&L->labels, s, lineno);
            if (k < 0) return rt_fail(err, "%s:%ld: out of memory", L->path, lineno);
            L->lab[L->rows] = k;
            continue;
        }
        char *end;
        errno = 0;
        double v = strtod(s, &end);
        if (end == s || *end != '\0')
            return rt_fail(err, "%s:%ld: column '%s': not a number: '%s'", L->path, lineno,
                           L->header[c], s);
        /* strtod reads "nan" and "inf", and overflows to inf; a feature must
         * be a finite float32: anything that rounds to one, so 3.4028235e38
         * (FLT_MAX as numpy prints it) is FLT_MAX. Underflow to 0 is fine. */
        if (!isfinite(v) || isinf((float)v))
            return rt_fail(err, "%s:%ld: column '%s': not a finite float32: '%s'", L->path,
                           lineno, L->header[c], s);
        /* strtod also reads hexadecimal ("0x10" is 16): a CSV holds decimals. */
        if (!is_decimal(s))
            return rt_fail(err, "%s:%ld: column '%s': not a decimal number: '%s'", L->path,
                           lineno, L->header[c], s);
        row[j++] = (float)v;
    }
    L->rows++;
    return true;
}

/* Turns the label strings into the dataset's labels and class names, as
 * the mode says (csv.h). In auto mode a column mixing class indices and
 * other strings is an error naming the first row that breaks the pattern:
 * reading it as names would silently turn "1" into class 0. */
static bool finish_labels(loader *L, rt_csv_labels mode, rt_dataset *ds, rt_error *err)
{
    const labelmap *m = &L->labels;
    if (mode == RT_CSV_LABELS_AUTO && m->n > 0) {
        bool first_int = int_class(m->names[0]) >= 0;
        for (int i = 1; i < m->n; i++) {
            if ((int_class(m->names[i]) >= 0) == first_int) continue;
            return rt_fail(err, "%s:%ld: label '%s' is %s, but the label on line %ld ('%s') "
                           "is %s; pass labels=\"names\" to make every label a class name",
                           L->path, m->line[i], m->names[i],
                           first_int ? "not a class index (a whole number 0..65535)"
                                     : "a class index",
                           m->line[0], m->names[0],
                           first_int ? "one" : "a name");
        }
        mode = first_int ? RT_CSV_LABELS_INDEX : RT_CSV_LABELS_NAMES;
    }
    if (mode == RT_CSV_LABELS_INDEX) {
        long maxv = -1;
        for (int i = 0; i < m->n; i++) {
            long v = int_class(m->names[i]);
            if (v < 0)
                return rt_fail(err, "%s:%ld: label '%s' is not a class index (a whole number "
                               "0..65535)", L->path, m->line[i], m->names[i]);
            if (v > maxv) maxv = v;
        }
        ds->classes = (int)maxv + 1;
        for (int64_t i = 0; i < ds->n; i++)
            ds->labels[i] = (int32_t)int_class(m->names[L->lab[i]]);
        return true;
    }
    ds->classes = m->n;
    memcpy(ds->labels, L->lab, (size_t)ds->n * sizeof *ds->labels);
    return rt_dataset_set_class_names(ds, (const char *const *)m->names, err);
}

/* Regression: the label column's strings as numbers, the targets. */
static bool finish_targets(loader *L, rt_dataset *ds, const char *column, rt_error *err)
{
    ds->classes = 0;
    free(ds->labels);
    ds->labels = NULL;
    if (!rt_dataset_alloc_targets(ds, 1, err)) return false;
    for (int64_t i = 0; i < ds->n; i++) {
        const char *s = L->labels.names[L->lab[i]];
        char *end;
        double v = strtod(s, &end);
        if (end == s || *end != '\0' || !isfinite(v) || fabs(v) > 3.4028234663852886e38)
            return rt_fail(err, "%s: data row %lld: column '%s': a regression target must be a "
                           "finite number, got '%s'", L->path, (long long)i + 1, column, s);
        ds->targets[i] = (float)v;
    }
    return true;
}

/* The loader behind rt_csv_load_labels and rt_csv_load_regression. */
static bool load(const char *path, const char *label_column, bool regression,
                 rt_csv_labels mode, rt_dataset *out, rt_error *err)
{
    memset(out, 0, sizeof *out);
    char *text = slurp(path, err);
    if (!text) return false;
    loader L = { .path = path, .label_col = -1 };
    bool ok = true, have_header = false;
    long lineno = 0;
    for (char *line = text; ok && *line;) {
        char *nl = strchr(line, '\n');
        char *next = nl ? nl + 1 : line + strlen(line);
        if (nl) *nl = '\0';
        if (nl && nl > line && nl[-1] == '\r') nl[-1] = '\0';
        else if (!nl && *line && line[strlen(line) - 1] == '\r') line[strlen(line) - 1] = '\0';
        lineno++;
        if (line[strspn(line, " \t")] != '\0') {
            if (!have_header) ok = read_header(&L, line, label_column, err), have_header = true;
            else ok = read_row(&L, line, lineno, err);
        }
        line = next;
    }
    if (ok && !have_header) ok = rt_fail(err, "%s: empty file (expected a header row)", path);
    if (ok && L.rows == 0) ok = rt_fail(err, "%s: a header but no data rows", path);
    if (ok) {
        int nf = L.ncols - (L.label_col >= 0);
        /* Labels are counted once all rows are in: numeric or named is a
         * property of the whole column. */
        ok = rt_dataset_alloc(out, L.rows, &(rt_shape){ 1, { nf } }, false, 1.0f,
                              L.label_col >= 0 ? 1 : 0, err);
        if (ok) {
            free(out->x_f32);         /* take the parsed rows instead of copying */
            out->x_f32 = L.x;
            L.x = NULL;
            if (L.label_col >= 0)
                ok = regression ? finish_targets(&L, out, label_column, err)
                                : finish_labels(&L, mode, out, err);
            if (!ok) rt_dataset_free(out);
        }
    }
    loader_free(&L);
    free(text);
    return ok;
}

bool rt_csv_load_labels(const char *path, const char *label_column, rt_csv_labels mode,
                        rt_dataset *out, rt_error *err)
{
    return load(path, label_column, false, mode, out, err);
}

bool rt_csv_load(const char *path, const char *label_column, rt_dataset *out, rt_error *err)
{
    return rt_csv_load_labels(path, label_column, RT_CSV_LABELS_AUTO, out, err);
}

bool rt_csv_load_regression(const char *path, const char *label_column, rt_dataset *out,
                            rt_error *err)
{
    if (!label_column) {
        memset(out, 0, sizeof *out);
        return rt_fail(err, "%s: regression needs the target column (label=)", path);
    }
    return load(path, label_column, true, RT_CSV_LABELS_AUTO, out, err);
}
