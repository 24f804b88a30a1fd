/*
 * builtins_seq.c — the everyday builtins of LANGUAGE.md beyond the first
 * table: sequences (sort, sorted, reversed, sum, zip, enumerate, map,
 * filter, any, all, argmax, argmin, remove), numbers from text (num, int),
 * time and the process (clock, now, exit), script-relative paths (here) and
 * the constants nan, inf, pi.
 *
 * Sequence functions accept what `for` iterates: lists, ranges, strings
 * (code points) and records (keys); they return new lists and never change
 * their argument, except sort (in place) and remove.
 *
 * GC: a native's args and *out are rooted. Each function that builds a list
 * and then allocates again (calling back into the language, making strings)
 * stores the list in *out first, or roots it with mlp_push_root.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "builtins.h"
#include "value.h"
#include "vm.h"

/* The elements of any iterable as a list: a list itself (not copied), or a
 * new list for a range, string or record (its keys). */
bool seq_items(mlp_vm *vm, const char *fn, const char *param, Value v, ObjList **out) {
    switch (v.type) {
    case MLP_T_LIST: *out = AS_LIST(v); return true;
    case MLP_T_RANGE: {
        ObjRange *r = AS_RANGE(v);
        double len = range_len(r);
        if (len > 1e9) return mlp_raise(vm, "%s: range too long (%g elements)", fn, len);
        ObjList *l = list_new(vm, (uint32_t)len);
        for (uint32_t i = 0; i < (uint32_t)len; i++) l->items[i] = mlp_number(r->start + i * r->step);
        l->count = (uint32_t)len;
        *out = l;
        return true;
    }
    case MLP_T_RECORD: {
        ObjRecord *r = AS_RECORD(v);
        ObjList *l = list_new(vm, r->count);
        for (uint32_t i = 0; i < r->count; i++) l->items[i] = obj_val(MLP_T_STRING, r->entries[i].key);
        l->count = r->count;
        *out = l;
        return true;
    }
    case MLP_T_STRING: {
        ObjString *s = AS_STRING(v);
        ObjList *l = list_new(vm, 0);
        mlp_push_root(vm, obj_val(MLP_T_LIST, l));
        for (size_t i = 0; i < s->len;) {
            size_t k = (size_t)utf8_len((unsigned char)STR_CHARS(s)[i]);
            if (i + k > s->len) k = s->len - i;
            list_push(vm, l, obj_val(MLP_T_STRING, str_new(vm, STR_CHARS(s) + i, k)));
            i += k;
        }
        mlp_pop_root(vm);
        *out = l;
        return true;
    }
    case MLP_T_HANDLE: {
        ObjHandle *h = AS_HANDLE(v);
        int64_t n;
        if (!h->cls->len || !h->cls->index) break;
        if (!h->cls->len(vm, h->data, &n)) return false;
        if (n > 100000000) return mlp_raise(vm, "%s: a %s of %lld items is too long", fn, h->cls->name, (long long)n);
        ObjList *l = list_new(vm, 0);
        mlp_push_root(vm, obj_val(MLP_T_LIST, l));
        for (int64_t i = 0; i < n; i++) {
            Value x = mlp_nil();
            if (!h->cls->index(vm, v, h->data, mlp_number((double)i), &x)) {
                mlp_pop_root(vm);
                return false;
            }
            list_push(vm, l, x);
        }
        mlp_pop_root(vm);
        *out = l;
        return true;
    }
    default: break;
    }
    return mlp_raise(vm, "%s: argument '%s' must be a list, range, string or record, got %s",
                     fn, param, type_name(v));
}

static ObjList *list_copy(mlp_vm *vm, ObjList *s) {
    ObjList *l = list_new(vm, s->count);
    if (s->count) memcpy(l->items, s->items, sizeof(Value) * s->count);
    l->count = s->count;
    return l;
}

/* ---- ordering ---- */

/* Three-way comparison for sort and min/max: numbers with numbers, strings
 * with strings (bytewise), lists with lists (element by element). */
bool value_order(mlp_vm *vm, const char *fn, Value a, Value b, int *c) {
    if (IS_NUM(a) && IS_NUM(b)) {
        *c = a.as.n < b.as.n ? -1 : a.as.n > b.as.n;
        return true;
    }
    if (a.type == MLP_T_STRING && b.type == MLP_T_STRING) {
        ObjString *x = AS_STRING(a), *y = AS_STRING(b);
        uint32_t n = x->len < y->len ? x->len : y->len;
        int r = memcmp(STR_CHARS(x), STR_CHARS(y), n);
        *c = r ? (r < 0 ? -1 : 1) : (x->len < y->len ? -1 : x->len > y->len);
        return true;
    }
    if (a.type == MLP_T_LIST && b.type == MLP_T_LIST) {
        ObjList *x = AS_LIST(a), *y = AS_LIST(b);
        uint32_t n = x->count < y->count ? x->count : y->count;
        for (uint32_t i = 0; i < n; i++) {
            if (!value_order(vm, fn, x->items[i], y->items[i], c)) return false;
            if (*c) return true;
        }
        *c = x->count < y->count ? -1 : x->count > y->count;
        return true;
    }
    return mlp_raise(vm, "%s: cannot compare %s and %s", fn, type_name(a), type_name(b));
}

/* Stable merge sort of idx[0..n) by keys[idx[i]] (descending when rev, equal
 * keys keeping their order either way). */
static bool merge_sort(mlp_vm *vm, const char *fn, Value *keys, uint32_t *idx, uint32_t *tmp,
                       uint32_t n, bool rev) {
    if (n < 2) return true;
    uint32_t h = n / 2;
    if (!merge_sort(vm, fn, keys, idx, tmp, h, rev) ||
        !merge_sort(vm, fn, keys, idx + h, tmp, n - h, rev))
        return false;
    uint32_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        int c;
        if (!value_order(vm, fn, keys[idx[j]], keys[idx[i]], &c)) return false;
        if (rev) c = -c;
        tmp[k++] = c < 0 ? idx[j++] : idx[i++];
    }
    while (i < h) tmp[k++] = idx[i++];
    while (j < n) tmp[k++] = idx[j++];
    memcpy(idx, tmp, sizeof(uint32_t) * n);
    return true;
}

/* Sorts list l in place by key(x) (or x). */
static bool sort_list(mlp_vm *vm, const char *fn, ObjList *l, Value key, bool rev) {
    uint32_t n = l->count;
    if (n < 2) return true;
    if (key.type != MLP_T_NIL && !mlp_is_callable(key))
        return mlp_raise(vm, "%s: argument 'key' must be a function, got %s", fn, type_name(key));
    ObjList *keys = l;
    if (key.type != MLP_T_NIL) {
        keys = list_new(vm, n);
        mlp_push_root(vm, obj_val(MLP_T_LIST, keys));
        for (uint32_t i = 0; i < n && i < l->count; i++) {
            Value k;
            if (!mlp_call(vm, key, 1, &l->items[i], mlp_nil(), &k)) {
                mlp_pop_root(vm);
                return false;
            }
            list_push(vm, keys, k);
        }
        if (keys->count != l->count) {
            mlp_pop_root(vm);
            return mlp_raise(vm, "%s: the list changed while its keys were computed", fn);
        }
    }
    uint32_t *idx = malloc(sizeof(uint32_t) * n * 2);
    Value *vals = malloc(sizeof(Value) * n);
    if (!idx || !vals) {
        free(idx);
        free(vals);
        if (keys != l) mlp_pop_root(vm);
        return mlp_raise(vm, "%s: out of memory", fn);
    }
    for (uint32_t i = 0; i < n; i++) idx[i] = i;
    bool ok = merge_sort(vm, fn, keys->items, idx, idx + n, n, rev);
    if (ok) {
        for (uint32_t i = 0; i < n; i++) vals[i] = l->items[idx[i]];
        memcpy(l->items, vals, sizeof(Value) * n);
    }
    free(idx);
    free(vals);
    if (keys != l) mlp_pop_root(vm);
    return ok;
}

static bool bi_sort(mlp_vm *vm, Value *a, int n, Value *out) {
    if (a[0].type != MLP_T_LIST)
        return mlp_raise(vm, "sort: argument 'xs' must be a list, got %s", type_name(a[0]));
    return sort_list(vm, "sort", AS_LIST(a[0]), a[1], mlp_truthy(a[2]));
}

static bool bi_sorted(mlp_vm *vm, Value *a, int n, Value *out) {
    ObjList *l;
    if (!seq_items(vm, "sorted", "xs", a[0], &l)) return false;
    if (l == (a[0].type == MLP_T_LIST ? AS_LIST(a[0]) : NULL)) l = list_copy(vm, l);
    *out = obj_val(MLP_T_LIST, l);
    return sort_list(vm, "sorted", l, a[1], mlp_truthy(a[2]));
}

static bool bi_reversed(mlp_vm *vm, Value *a, int n, Value *out) {
    if (a[0].type == MLP_T_STRING) {
        ObjString *s = AS_STRING(a[0]);
        char *buf = malloc(s->len + 1);
        if (!buf) return mlp_raise(vm, "reversed: out of memory");
        size_t o = s->len;
        for (size_t i = 0; i < s->len;) {
            size_t k = (size_t)utf8_len((unsigned char)STR_CHARS(s)[i]);
            if (i + k > s->len) k = s->len - i;
            o -= k;
            memcpy(buf + o, STR_CHARS(s) + i, k);
            i += k;
        }
        *out = mlp_string(vm, buf, s->len);
        free(buf);
        return true;
    }
    ObjList *l;
    if (!seq_items(vm, "reversed", "xs", a[0], &l)) return false;
    if (a[0].type == MLP_T_LIST) l = list_copy(vm, l);
    for (uint32_t i = 0, j = l->count; i + 1 < j; i++, j--) {
        Value t = l->items[i];
        l->items[i] = l->items[j - 1];
        l->items[j - 1] = t;
    }
    *out = obj_val(MLP_T_LIST, l);
    return true;
}

static bool bi_sum(mlp_vm *vm, Value *a, int n, Value *out) {
    if (!IS_NUM(a[1]))
        return mlp_raise(vm, "sum: argument 'start' must be a number, got %s", type_name(a[1]));
    double s = a[1].as.n;
    if (a[0].type == MLP_T_RANGE) {
        ObjRange *r = AS_RANGE(a[0]);
        double len = range_len(r);
        for (double i = 0; i < len; i++) s += r->start + i * r->step;
        *out = mlp_number(s);
        return true;
    }
    if (a[0].type != MLP_T_LIST)
        return mlp_raise(vm, "sum: argument 'xs' must be a list or range, got %s", type_name(a[0]));
    ObjList *l = AS_LIST(a[0]);
    for (uint32_t i = 0; i < l->count; i++) {
        if (!IS_NUM(l->items[i]))
            return mlp_raise(vm, "sum: element %u is a %s, not a number", i, type_name(l->items[i]));
        s += l->items[i].as.n;
    }
    *out = mlp_number(s);
    return true;
}

static bool bi_zip(mlp_vm *vm, Value *a, int n, Value *out) {
    ObjList *args = AS_LIST(a[0]);
    ObjList *res = list_new(vm, 0);
    *out = obj_val(MLP_T_LIST, res);
    if (args->count == 0) return true;
    ObjList *seqs = list_new(vm, args->count);
    mlp_push_root(vm, obj_val(MLP_T_LIST, seqs));
    uint32_t len = UINT32_MAX;
    bool ok = true;
    for (uint32_t i = 0; i < args->count && ok; i++) {
        ObjList *l;
        char param[32];
        snprintf(param, sizeof param, "%u", i + 1);
        ok = seq_items(vm, "zip", param, args->items[i], &l);
        if (!ok) break;
        seqs->items[seqs->count++] = obj_val(MLP_T_LIST, l); /* preallocated */
        if (l->count < len) len = l->count;
    }
    for (uint32_t j = 0; ok && j < len; j++) {
        ObjList *t = list_new(vm, seqs->count);
        for (uint32_t i = 0; i < seqs->count; i++) t->items[i] = AS_LIST(seqs->items[i])->items[j];
        t->count = seqs->count;
        list_push(vm, res, obj_val(MLP_T_LIST, t));
    }
    mlp_pop_root(vm);
    return ok;
}

static bool bi_enumerate(mlp_vm *vm, Value *a, int n, Value *out) {
    ObjList *l;
    if (!IS_NUM(a[1]))
        return mlp_raise(vm, "enumerate: argument 'start' must be a number, got %s", type_name(a[1]));
    if (!seq_items(vm, "enumerate", "xs", a[0], &l)) return false;
    mlp_push_root(vm, obj_val(MLP_T_LIST, l));
    ObjList *res = list_new(vm, l->count);
    *out = obj_val(MLP_T_LIST, res);
    for (uint32_t i = 0; i < l->count; i++) {
        ObjList *p = list_new(vm, 2);
        p->items[0] = mlp_number(a[1].as.n + i);
        p->items[1] = l->items[i];
        p->count = 2;
        res->items[res->count++] = obj_val(MLP_T_LIST, p);
    }
    mlp_pop_root(vm);
    return true;
}

/* map(f, xs) and filter(f, xs). */
static bool map_filter(mlp_vm *vm, Value *a, Value *out, const char *fn, bool filter) {
    if (!mlp_is_callable(a[0]) && !(filter && a[0].type == MLP_T_NIL))
        return mlp_raise(vm, "%s: argument 'f' must be a function, got %s", fn, type_name(a[0]));
    ObjList *l;
    if (!seq_items(vm, fn, "xs", a[1], &l)) return false;
    mlp_push_root(vm, obj_val(MLP_T_LIST, l));
    ObjList *res = list_new(vm, 0);
    *out = obj_val(MLP_T_LIST, res);
    bool ok = true;
    for (uint32_t i = 0; i < l->count && ok; i++) {
        Value x = l->items[i], r = x;
        if (a[0].type != MLP_T_NIL && !(ok = mlp_call(vm, a[0], 1, &x, mlp_nil(), &r))) break;
        if (!filter) list_push(vm, res, r);
        else if (mlp_truthy(r)) list_push(vm, res, x);
    }
    mlp_pop_root(vm);
    return ok;
}

static bool bi_map(mlp_vm *vm, Value *a, int n, Value *out) { return map_filter(vm, a, out, "map", false); }
static bool bi_filter(mlp_vm *vm, Value *a, int n, Value *out) { return map_filter(vm, a, out, "filter", true); }

static bool any_all(mlp_vm *vm, Value *a, Value *out, const char *fn, bool want) {
    ObjList *l;
    if (!seq_items(vm, fn, "xs", a[0], &l)) return false;
    for (uint32_t i = 0; i < l->count; i++)
        if (mlp_truthy(l->items[i]) == want) {
            *out = mlp_bool(want);
            return true;
        }
    *out = mlp_bool(!want);
    return true;
}

static bool bi_any(mlp_vm *vm, Value *a, int n, Value *out) { return any_all(vm, a, out, "any", true); }
static bool bi_all(mlp_vm *vm, Value *a, int n, Value *out) { return any_all(vm, a, out, "all", false); }

/* Index of the first largest (smallest) number; nan counts as largest for
 * argmax and smallest for argmin, as max/min return it. */
static bool arg_best(mlp_vm *vm, Value *a, Value *out, const char *fn, bool want_max) {
    ObjList *l;
    if (a[0].type != MLP_T_LIST && a[0].type != MLP_T_RANGE)
        return mlp_raise(vm, "%s: argument 'xs' must be a list, got %s", fn, type_name(a[0]));
    if (!seq_items(vm, fn, "xs", a[0], &l)) return false;
    if (l->count == 0) return mlp_raise(vm, "%s: the list is empty", fn);
    uint32_t best = 0;
    for (uint32_t i = 0; i < l->count; i++) {
        Value v = l->items[i];
        if (!IS_NUM(v))
            return mlp_raise(vm, "%s: element %u is a %s, not a number", fn, i, type_name(v));
        if (isnan(v.as.n)) {
            best = i;
            break;
        }
        double b = l->items[best].as.n;
        if (want_max ? v.as.n > b : v.as.n < b) best = i;
    }
    *out = mlp_number(best);
    return true;
}

static bool bi_argmax(mlp_vm *vm, Value *a, int n, Value *out) { return arg_best(vm, a, out, "argmax", true); }
static bool bi_argmin(mlp_vm *vm, Value *a, int n, Value *out) { return arg_best(vm, a, out, "argmin", false); }

static bool bi_remove(mlp_vm *vm, Value *a, int n, Value *out) {
    if (a[0].type == MLP_T_RECORD) {
        if (a[1].type != MLP_T_STRING)
            return mlp_raise(vm, "remove: a record's key must be a string, got %s", type_name(a[1]));
        ObjString *k = AS_STRING(a[1]);
        if (!rec_remove(AS_RECORD(a[0]), k, out))
            return mlp_raise(vm, "remove: record has no field '%.*s'", (int)k->len, STR_CHARS(k));
        return true;
    }
    if (a[0].type == MLP_T_LIST) {
        ObjList *l = AS_LIST(a[0]);
        if (!IS_NUM(a[1]) || a[1].as.n != floor(a[1].as.n))
            return mlp_raise(vm, "remove: a list's index must be an integer, got %s",
                             IS_NUM(a[1]) ? "a fraction" : type_name(a[1]));
        double i = a[1].as.n;
        if (i < 0) i += l->count;
        if (i < 0 || i >= l->count)
            return mlp_raise(vm, "remove: index %g out of range for a list of length %u",
                             a[1].as.n, l->count);
        uint32_t k = (uint32_t)i;
        *out = l->items[k];
        memmove(l->items + k, l->items + k + 1, sizeof(Value) * (l->count - k - 1));
        l->count--;
        return true;
    }
    return mlp_raise(vm, "remove: argument 'x' must be a record or a list, got %s", type_name(a[0]));
}

static bool bi_items(mlp_vm *vm, Value *a, int n, Value *out) {
    if (a[0].type != MLP_T_RECORD)
        return mlp_raise(vm, "items: argument 'record' must be a record, got %s", type_name(a[0]));
    ObjRecord *r = AS_RECORD(a[0]);
    ObjList *res = list_new(vm, r->count);
    *out = obj_val(MLP_T_LIST, res);
    for (uint32_t i = 0; i < r->count; i++) {
        ObjList *p = list_new(vm, 2);
        p->items[0] = obj_val(MLP_T_STRING, r->entries[i].key);
        p->items[1] = r->entries[i].val;
        p->count = 2;
        res->items[res->count++] = obj_val(MLP_T_LIST, p);
    }
    return true;
}

/* What a destructuring `for` iterates: a record's [key, value] pairs,
 * anything else itself. */
static bool bi_pairs(mlp_vm *vm, Value *a, int n, Value *out) {
    if (a[0].type == MLP_T_RECORD) return bi_items(vm, a, n, out);
    *out = a[0];
    return true;
}

/* ---- numbers from text ---- */

/* Parses the whole of s (surrounding blanks allowed) as a decimal number,
 * `inf`, `-inf` or `nan`. */
static bool parse_number(const char *s, size_t len, double *out) {
    while (len && (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')) s++, len--;
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\n' || s[len - 1] == '\r')) len--;
    if (len == 0 || len > 400) return false;
    char buf[404];
    memcpy(buf, s, len);
    buf[len] = '\0';
    const char *p = buf + (buf[0] == '-' || buf[0] == '+');
    if (strcmp(p, "inf") == 0 || strcmp(p, "nan") == 0) {
        *out = strcmp(p, "inf") == 0 ? INFINITY : NAN;
        if (buf[0] == '-') *out = -*out;
        return true;
    }
    /* digits [. digits] [e [+-] digits], at least one digit before or after '.' */
    const char *q = p;
    int digits = 0;
    while (*q >= '0' && *q <= '9') q++, digits++;
    if (*q == '.') {
        q++;
        while (*q >= '0' && *q <= '9') q++, digits++;
    }
    if (!digits) return false;
    if (*q == 'e' || *q == 'E') {
        q++;
        if (*q == '+' || *q == '-') q++;
        if (!(*q >= '0' && *q <= '9')) return false;
        while (*q >= '0' && *q <= '9') q++;
    }
    if (*q) return false;
    *out = strtod(buf, NULL);
    return true;
}

static bool bi_num(mlp_vm *vm, Value *a, int n, Value *out) {
    if (IS_NUM(a[0])) {
        *out = a[0];
        return true;
    }
    if (a[0].type != MLP_T_STRING)
        return mlp_raise(vm, "num: argument 's' must be a string or a number, got %s", type_name(a[0]));
    ObjString *s = AS_STRING(a[0]);
    double x;
    if (!parse_number(STR_CHARS(s), s->len, &x))
        return mlp_raise(vm, "num: not a number: \"%.*s\"", s->len > 60 ? 60 : (int)s->len,
                         STR_CHARS(s));
    *out = mlp_number(x);
    return true;
}

static bool bi_int(mlp_vm *vm, Value *a, int n, Value *out) {
    if (IS_NUM(a[0])) {
        double x = a[0].as.n;
        if (!isfinite(x)) return mlp_raise(vm, "int: cannot make an integer of %s", x > 0 ? "inf" : x < 0 ? "-inf" : "nan");
        *out = mlp_number(trunc(x));
        return true;
    }
    if (a[0].type != MLP_T_STRING)
        return mlp_raise(vm, "int: argument 's' must be a string or a number, got %s", type_name(a[0]));
    ObjString *s = AS_STRING(a[0]);
    double x;
    if (!parse_number(STR_CHARS(s), s->len, &x) || x != floor(x) || !isfinite(x))
        return mlp_raise(vm, "int: not an integer: \"%.*s\"", s->len > 60 ? 60 : (int)s->len,
                         STR_CHARS(s));
    *out = mlp_number(x);
    return true;
}

/* ---- time, process, paths ---- */

static bool bi_clock(mlp_vm *vm, Value *a, int n, Value *out) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    *out = mlp_number((double)ts.tv_sec + (double)ts.tv_nsec * 1e-9);
    return true;
}

static bool bi_now(mlp_vm *vm, Value *a, int n, Value *out) {
    time_t t = time(NULL);
    struct tm tm;
    gmtime_r(&t, &tm);
    char buf[64];
    size_t len = strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
    *out = mlp_string(vm, buf, len);
    return true;
}

static bool bi_exit(mlp_vm *vm, Value *a, int n, Value *out) {
    double c = IS_NUM(a[0]) ? a[0].as.n : -1;
    if (c != floor(c) || c < 0 || c > 255)
        return mlp_raise(vm, "exit: argument 'code' must be an integer from 0 to 255");
    vm->exit_code = (int)c;
    vm->exiting = true;
    return mlp_raise(vm, "exit(%d)", (int)c);
}

static bool bi_here(mlp_vm *vm, Value *a, int n, Value *out) {
    if (a[0].type != MLP_T_STRING)
        return mlp_raise(vm, "here: argument 'path' must be a string, got %s", type_name(a[0]));
    ObjString *p = AS_STRING(a[0]);
    const char *from = vm->nframes ? vm->frames[vm->nframes - 1].cl->proto->source->name : "<>";
    const char *slash = strrchr(from, '/');
    bool real_file = from[0] != '<' && strcmp(from, "-") != 0;
    if (!real_file || !slash || (p->len && STR_CHARS(p)[0] == '/')) {
        *out = a[0];
        return true;
    }
    StrBuf b = {0};
    sb_add(&b, from, (size_t)(slash - from) + 1);
    sb_add(&b, STR_CHARS(p), p->len);
    *out = mlp_string(vm, b.p, b.n);
    free(b.p);
    return true;
}

/* flags(defaults=nil, argv=nil): `--name value`, `--name=value` and a bare
 * `--name` (true) from argv (default: the global `args`) into a record;
 * values that spell numbers become numbers. With defaults, only their keys
 * are allowed, a number default needs a number, and the result starts as a
 * copy of the defaults. `-` in a name becomes `_` (--batch-size). */
static bool bi_flags(mlp_vm *vm, Value *a, int n, Value *out) {
    Value defaults = a[0], argv = a[1];
    if (defaults.type != MLP_T_NIL && defaults.type != MLP_T_RECORD)
        return mlp_raise(vm, "flags: argument 'defaults' must be a record, got %s", type_name(defaults));
    if (argv.type == MLP_T_NIL && !mlp_get_global(vm, "args", &argv)) argv = mlp_nil();
    if (argv.type == MLP_T_NIL) argv = obj_val(MLP_T_LIST, list_new(vm, 0));
    if (argv.type != MLP_T_LIST)
        return mlp_raise(vm, "flags: argument 'argv' must be a list of strings, got %s", type_name(argv));
    mlp_push_root(vm, argv);
    ObjRecord *r = rec_new(vm);
    *out = obj_val(MLP_T_RECORD, r);
    mlp_pop_root(vm);
    ObjRecord *d = defaults.type == MLP_T_RECORD ? AS_RECORD(defaults) : NULL;
    for (uint32_t i = 0; d && i < d->count; i++) rec_set(vm, r, d->entries[i].key, d->entries[i].val);
    ObjList *l = AS_LIST(argv);
    for (uint32_t i = 0; i < l->count; i++) {
        Value w = l->items[i];
        if (w.type != MLP_T_STRING)
            return mlp_raise(vm, "flags: argument %u is a %s, not a string", i, type_name(w));
        ObjString *ws = AS_STRING(w);
        const char *t = STR_CHARS(ws);
        if (ws->len < 3 || t[0] != '-' || t[1] != '-')
            return mlp_raise(vm, "flags: unexpected argument '%.*s' (flags are --name value)",
                             (int)ws->len, t);
        const char *eq = memchr(t, '=', ws->len);
        size_t nlen = (eq ? (size_t)(eq - t) : ws->len) - 2;
        char name[128];
        if (nlen == 0 || nlen >= sizeof name)
            return mlp_raise(vm, "flags: bad flag '%.*s'", (int)ws->len, t);
        for (size_t k = 0; k < nlen; k++) name[k] = t[2 + k] == '-' ? '_' : t[2 + k];
        name[nlen] = '\0';
        Value v;
        if (eq) {
            v = mlp_string(vm, eq + 1, ws->len - (size_t)(eq + 1 - t));
        } else if (i + 1 < l->count && l->items[i + 1].type == MLP_T_STRING &&
                   !(AS_STRING(l->items[i + 1])->len >= 2 && STR_CHARS(AS_STRING(l->items[i + 1]))[0] == '-' &&
                     STR_CHARS(AS_STRING(l->items[i + 1]))[1] == '-')) {
            v = l->items[++i];
        } else {
            v = mlp_bool(true);
        }
        double x;
        if (v.type == MLP_T_STRING && parse_number(STR_CHARS(AS_STRING(v)), AS_STRING(v)->len, &x))
            v = mlp_number(x);
        mlp_push_root(vm, v);
        ObjString *key = str_new(vm, name, nlen);
        mlp_push_root(vm, obj_val(MLP_T_STRING, key));
        bool ok = true;
        if (d) {
            int32_t e = rec_find(d, key);
            if (e < 0) {
                StrBuf known = {0};
                for (uint32_t k = 0; k < d->count; k++)
                    sb_printf(&known, "%s--%.*s", k ? ", " : "", (int)d->entries[k].key->len,
                              STR_CHARS(d->entries[k].key));
                ok = mlp_raise(vm, "flags: unknown flag '--%s' (known: %s)", name, known.p ? known.p : "none");
                free(known.p);
            } else if (IS_NUM(d->entries[e].val) && !IS_NUM(v)) {
                Value sv = mlp_tostring(vm, v);
                ok = mlp_raise(vm, "flags: --%s needs a number, got '%s'", name, mlp_cstr(sv));
            }
        }
        if (ok) rec_set(vm, r, key, v);
        mlp_pop_root(vm);
        mlp_pop_root(vm);
        if (!ok) return false;
    }
    return true;
}

static const mlp_native seq[] = {
    {"flags", "defaults=nil, argv=nil", bi_flags, "flags(defaults=nil, argv=args): --name value pairs as a record, numbers converted (with defaults: only their names, defaults filled in)"},
    {"sort", "xs, key=nil, reverse=false", bi_sort, "sort(xs, key=nil, reverse=false): sort a list in place (stable), by key(x) if given"},
    {"sorted", "xs, key=nil, reverse=false", bi_sorted, "sorted(xs, key=nil, reverse=false): a new sorted list of the elements (stable)"},
    {"reversed", "xs", bi_reversed, "reversed(xs): a new list in reverse order (a string: the string reversed)"},
    {"sum", "xs, start=0", bi_sum, "sum(xs, start=0): start plus the numbers of a list or range"},
    {"zip", "*xs", bi_zip, "zip(a, b, ...): list of [a[i], b[i], ...], as long as the shortest"},
    {"enumerate", "xs, start=0", bi_enumerate, "enumerate(xs, start=0): list of [i, x] pairs"},
    {"map", "f, xs", bi_map, "map(f, xs): list of f(x) for each element"},
    {"filter", "f, xs", bi_filter, "filter(f, xs): list of the elements x with f(x) true (f nil: x itself)"},
    {"any", "xs", bi_any, "any(xs): whether some element is true"},
    {"all", "xs", bi_all, "all(xs): whether every element is true"},
    {"argmax", "xs", bi_argmax, "argmax(xs): index of the first largest number of a list"},
    {"argmin", "xs", bi_argmin, "argmin(xs): index of the first smallest number of a list"},
    {"remove", "x, key", bi_remove, "remove(record, key) or remove(list, index): delete the entry and return its value"},
    {"items", "record", bi_items, "items(record): list of [key, value] pairs in insertion order"},
    {"__pairs", "x", bi_pairs, "__pairs(x): a record's [key, value] pairs, else x (for `for k, v in x`)"},
    {"num", "s", bi_num, "num(s): the number a string spells (\"3.5\", \"1e-3\", \"inf\"); error for other text"},
    {"int", "s", bi_int, "int(s): the integer a string spells (\"42\"), or a number truncated toward zero"},
    {"clock", "", bi_clock, "clock(): monotonic seconds, for measuring durations"},
    {"now", "", bi_now, "now(): the wall-clock time as ISO 8601 text in UTC, \"2026-01-31T12:00:00Z\""},
    {"exit", "code=0", bi_exit, "exit(code=0): stop the program with this exit status"},
    {"here", "path", bi_here, "here(path): path relative to the directory of the calling script"},
};

bool builtins_seq_open(mlp_vm *vm) {
    mlp_set_global(vm, "nan", mlp_number(NAN));
    mlp_set_global(vm, "inf", mlp_number(INFINITY));
    mlp_set_global(vm, "pi", mlp_number(3.14159265358979323846));
    return mlp_register(vm, seq, sizeof seq / sizeof seq[0]);
}
