/*
 * builtins.c — print, str, len, range, ... as one native table.
 *
 * Each native receives its arguments already bound to the parameters its
 * table row declares (defaults filled in, *args as one list), so the bodies
 * only check types. Type errors name the function and the parameter.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "value.h"
#include "vm.h"

static bool want_num(mlp_vm *vm, const char *fn, const char *param, Value v, double *out) {
    if (!IS_NUM(v))
        return mlp_raise(vm, "%s: argument '%s' must be a number, got %s", fn, param, type_name(v));
    *out = v.as.n;
    return true;
}

static bool want_int(mlp_vm *vm, const char *fn, const char *param, Value v, double *out) {
    if (!want_num(vm, fn, param, v, out)) return false;
    if (*out != floor(*out))
        return mlp_raise(vm, "%s: argument '%s' must be an integer, got %g", fn, param, *out);
    return true;
}

/* One argument of print: with digits (>= 0), a number that is not whole
 * as format(x, digits) and a handle through its class's `format`. */
static bool print_arg(mlp_vm *vm, StrBuf *b, Value v, int digits) {
    if (digits >= 0 && v.type == MLP_T_NUMBER && isfinite(v.as.n) && v.as.n != floor(v.as.n)) {
        sb_printf(b, "%.*f", digits, v.as.n);
        return true;
    }
    if (digits >= 0 && v.type == MLP_T_HANDLE && AS_HANDLE(v)->cls->format) {
        Value s = AS_HANDLE(v)->cls->format(vm, AS_HANDLE(v)->data, digits);
        if (s.type == MLP_T_STRING) {
            sb_add(b, STR_CHARS(AS_STRING(s)), AS_STRING(s)->len);
            return true;
        }
    }
    return value_to_sb(vm, b, v, false);
}

/* sep and end: a string, or nil for the default (as Python's None). */
static bool print_text(mlp_vm *vm, const char *param, const char *dflt, Value *v) {
    if (v->type == MLP_T_NIL) *v = mlp_string_cstr(vm, dflt);
    else if (v->type != MLP_T_STRING)
        return mlp_raise(vm, "print: argument '%s' must be a string or nil, got %s", param,
                         type_name(*v));
    return true;
}

static bool bi_print(mlp_vm *vm, Value *a, int n, Value *out) {
    ObjList *args = AS_LIST(a[0]);
    if (!print_text(vm, "sep", " ", &a[1]) || !print_text(vm, "end", "\n", &a[2])) return false;
    StrBuf b = {0};
    double d = -1;
    if (a[3].type != MLP_T_NIL && !want_int(vm, "print", "digits", a[3], &d)) return false;
    if (d < 0 || d > 17) {
        if (a[3].type != MLP_T_NIL) return mlp_raise(vm, "print: digits must be 0 to 17, got %g", d);
    }
    bool ok = true;
    for (uint32_t i = 0; ok && i < args->count; i++) {
        if (i) ok = value_to_sb(vm, &b, a[1], false);
        ok = ok && print_arg(vm, &b, args->items[i], (int)d);
    }
    if (!ok || !value_to_sb(vm, &b, a[2], false)) {
        free(b.p);
        return false;
    }
    if (b.n) mlp_write(vm, b.p, b.n);
    free(b.p);
    return true;
}

static bool bi_str(mlp_vm *vm, Value *a, int n, Value *out) {
    *out = mlp_tostring(vm, a[0]);
    return true;
}

static bool bi_len(mlp_vm *vm, Value *a, int n, Value *out) {
    Value v = a[0];
    switch (v.type) {
    case MLP_T_LIST: *out = mlp_number(AS_LIST(v)->count); return true;
    case MLP_T_STRING:
        *out = mlp_number((double)utf8_count(STR_CHARS(AS_STRING(v)), AS_STRING(v)->len));
        return true;
    case MLP_T_RECORD: *out = mlp_number(AS_RECORD(v)->count); return true;
    case MLP_T_RANGE: *out = mlp_number(range_len(AS_RANGE(v))); return true;
    case MLP_T_HANDLE:
        if (AS_HANDLE(v)->cls->len) {
            int64_t k;
            if (!AS_HANDLE(v)->cls->len(vm, AS_HANDLE(v)->data, &k)) return false;
            *out = mlp_number((double)k);
            return true;
        }
        return mlp_raise(vm, "len: argument 'x' has no length (a %s)", type_name(v));
    default: return mlp_raise(vm, "len: argument 'x' has no length (a %s)", type_name(v));
    }
}

static bool bi_range(mlp_vm *vm, Value *a, int n, Value *out) {
    double start = 0, stop = 0, step = 1;
    if (a[1].type == MLP_T_NIL) {
        start = 0;
        if (!want_num(vm, "range", "start", a[0], &stop)) return false;
    } else {
        if (!want_num(vm, "range", "start", a[0], &start) ||
            !want_num(vm, "range", "stop", a[1], &stop))
            return false;
    }
    if (!want_num(vm, "range", "step", a[2], &step)) return false;
    if (step == 0) return mlp_raise(vm, "range: argument 'step' must not be 0");
    *out = obj_val(MLP_T_RANGE, range_new(vm, start, stop, step));
    return true;
}

static bool bi_list(mlp_vm *vm, Value *a, int n, Value *out) {
    Value v = a[0];
    ObjList *l;
    switch (v.type) {
    case MLP_T_LIST: {
        ObjList *s = AS_LIST(v);
        l = list_new(vm, s->count);
        if (s->count) memcpy(l->items, s->items, sizeof(Value) * s->count);
        l->count = s->count;
        break;
    }
    case MLP_T_RANGE: {
        ObjRange *r = AS_RANGE(v);
        double len = range_len(r);
        if (len > LIST_MAX) list_too_long(vm, len);
        l = list_new(vm, (uint32_t)len);
        for (uint32_t i = 0; i < (uint32_t)len; i++) l->items[i] = mlp_number(r->start + i * r->step);
        l->count = (uint32_t)len;
        break;
    }
    case MLP_T_RECORD: {
        ObjRecord *r = AS_RECORD(v);
        l = list_new(vm, r->count);
        for (uint32_t i = 0; i < r->count; i++) l->items[i] = obj_val(MLP_T_STRING, r->entries[i].key);
        l->count = r->count;
        break;
    }
    case MLP_T_STRING: {
        ObjString *s = AS_STRING(v);
        l = list_new(vm, 0);
        *out = obj_val(MLP_T_LIST, l); /* rooted */
        for (size_t i = 0; i < s->len;) {
            size_t k = (size_t)utf8_len((unsigned char)STR_CHARS(s)[i]);
            if (i + k > s->len) k = s->len - i;
            list_push(vm, l, obj_val(MLP_T_STRING, str_new(vm, STR_CHARS(s) + i, k)));
            i += k;
        }
        break;
    }
    default: return mlp_raise(vm, "list: cannot make a list from a %s", type_name(v));
    }
    *out = obj_val(MLP_T_LIST, l);
    return true;
}

static bool bi_type(mlp_vm *vm, Value *a, int n, Value *out) {
    *out = mlp_string_cstr(vm, type_name(a[0]));
    return true;
}

static bool minmax(mlp_vm *vm, Value *a, const char *fn, bool want_max, Value *out) {
    ObjList *args = AS_LIST(a[0]);
    ObjList *xs = args;
    if (args->count == 1 && args->items[0].type == MLP_T_LIST) xs = AS_LIST(args->items[0]);
    if (xs->count == 0) return mlp_raise(vm, "%s: no values to compare", fn);
    Value best = xs->items[0];
    if (best.type == MLP_T_STRING) { /* strings compare bytewise, as with < */
        for (uint32_t i = 1; i < xs->count; i++) {
            int c;
            if (xs->items[i].type != MLP_T_STRING)
                return mlp_raise(vm, "%s: cannot compare string and %s", fn, type_name(xs->items[i]));
            if (!value_order(vm, fn, xs->items[i], best, &c)) return false;
            if (want_max ? c > 0 : c < 0) best = xs->items[i];
        }
        *out = best;
        return true;
    }
    for (uint32_t i = 0; i < xs->count; i++) {
        Value v = xs->items[i];
        if (!IS_NUM(v))
            return mlp_raise(vm, "%s: values must be numbers, got %s", fn, type_name(v));
        if (isnan(v.as.n)) {
            best = v;
            break;
        }
        if (want_max ? v.as.n > best.as.n : v.as.n < best.as.n) best = v;
    }
    *out = best;
    return true;
}

static bool bi_min(mlp_vm *vm, Value *a, int n, Value *out) { return minmax(vm, a, "min", false, out); }
static bool bi_max(mlp_vm *vm, Value *a, int n, Value *out) { return minmax(vm, a, "max", true, out); }

#define MATH1(NAME, EXPR)                                               \
    static bool bi_##NAME(mlp_vm *vm, Value *a, int n, Value *out) {    \
        double x = 0;                                                     \
        if (!want_num(vm, #NAME, "x", a[0], &x)) return false;          \
        *out = mlp_number(EXPR);                                        \
        return true;                                                    \
    }
MATH1(abs, fabs(x))
MATH1(sqrt, sqrt(x))
MATH1(exp, exp(x))
MATH1(log, log(x))
MATH1(floor, floor(x))
#undef MATH1

/* x rounded to d decimal digits (d < 0: to tens, hundreds...): the double
 * nearest the decimal result, as Python's round gives it. The decimal
 * result is taken from x's exact value (its full expansion, which %f gives
 * exactly), so 2.675 (really 2.67499999999999982236431605997495353221893310546875)
 * rounds to 2.67, and an exact tie rounds half away from zero as round(x)
 * does. strtod then gives the nearest double. */
static double round_digits(double x, int d) {
    if (!isfinite(x) || x == 0) return x;
    /* 309 integer digits, the point, 1074 fraction digits at most */
    static const int FRAC = 1074;
    char buf[1500];
    int n = snprintf(buf, sizeof buf, "%.*f", FRAC, fabs(x));
    if (n < 0 || (size_t)n >= sizeof buf) return x;
    char *dot = strchr(buf, '.');
    int ilen = (int)(dot - buf);
    memmove(dot, dot + 1, (size_t)FRAC + 1); /* digits only: ilen + FRAC */
    int keep = ilen + d;                     /* digits kept */
    if (keep >= ilen + FRAC) return x;
    if (keep < 0) return copysign(0.0, x);
    bool up = buf[keep] >= '5';
    for (int i = keep; i < ilen; i++) buf[i] = '0'; /* d < 0: zeros up to the point */
    char out[1600];
    int o = 0;
    int carry = up;
    for (int i = keep - 1; i >= 0 && carry; i--) {
        if (buf[i] == '9') buf[i] = '0';
        else buf[i]++, carry = 0;
    }
    if (carry) out[o++] = '1';
    int end = keep > ilen ? keep : ilen;
    for (int i = 0; i < end; i++) {
        if (i == ilen) out[o++] = '.';
        out[o++] = buf[i];
    }
    out[o] = '\0';
    return copysign(strtod(out, NULL), x);
}

static bool bi_round(mlp_vm *vm, Value *a, int n, Value *out) {
    double x = 0, d = 0;
    if (!want_num(vm, "round", "x", a[0], &x)) return false;
    if (a[1].type == MLP_T_NIL) {
        *out = mlp_number(round(x)); /* half away from zero */
        return true;
    }
    if (!want_int(vm, "round", "digits", a[1], &d)) return false;
    if (d < -400 || d > 400) return mlp_raise(vm, "round: argument 'digits' out of range: %g", d);
    *out = mlp_number(round_digits(x, (int)d));
    return true;
}

static bool bi_format(mlp_vm *vm, Value *a, int n, Value *out) {
    double x = 0, d = 0;
    if (!want_num(vm, "format", "x", a[0], &x) || !want_int(vm, "format", "digits", a[1], &d))
        return false;
    if (d < 0 || d > 100)
        return mlp_raise(vm, "format: argument 'digits' must be between 0 and 100, got %g", d);
    char buf[512];
    int len;
    if (!isfinite(x)) len = fmt_number(x, buf); /* nan, inf, -inf as str() writes them */
    else len = snprintf(buf, sizeof buf, "%.*f", (int)d, x);
    if (len < 0 || (size_t)len >= sizeof buf) return mlp_raise(vm, "format: number too large");
    *out = mlp_string(vm, buf, (size_t)len);
    return true;
}

static bool bi_assert(mlp_vm *vm, Value *a, int n, Value *out) {
    if (mlp_truthy(a[0])) return true;
    Value m = mlp_tostring(vm, a[1]);
    return mlp_raise(vm, "%s", mlp_cstr(m));
}

static bool bi_error(mlp_vm *vm, Value *a, int n, Value *out) {
    Value m = mlp_tostring(vm, a[0]);
    return mlp_raise(vm, "%s", mlp_cstr(m));
}

static bool bi_has(mlp_vm *vm, Value *a, int n, Value *out) {
    if (a[0].type != MLP_T_RECORD)
        return mlp_raise(vm, "has: argument 'record' must be a record, got %s", type_name(a[0]));
    if (a[1].type != MLP_T_STRING)
        return mlp_raise(vm, "has: argument 'key' must be a string, got %s", type_name(a[1]));
    *out = mlp_bool(rec_find(AS_RECORD(a[0]), AS_STRING(a[1])) >= 0);
    return true;
}

static bool bi_keys(mlp_vm *vm, Value *a, int n, Value *out) {
    if (a[0].type != MLP_T_RECORD)
        return mlp_raise(vm, "keys: argument 'record' must be a record, got %s", type_name(a[0]));
    return bi_list(vm, a, n, out);
}

static bool bi_push(mlp_vm *vm, Value *a, int n, Value *out) {
    if (a[0].type != MLP_T_LIST)
        return mlp_raise(vm, "push: argument 'list' must be a list, got %s", type_name(a[0]));
    list_push(vm, AS_LIST(a[0]), a[1]);
    return true;
}

static bool bi_pop(mlp_vm *vm, Value *a, int n, Value *out) {
    if (a[0].type != MLP_T_LIST)
        return mlp_raise(vm, "pop: argument 'list' must be a list, got %s", type_name(a[0]));
    ObjList *l = AS_LIST(a[0]);
    if (l->count == 0) return mlp_raise(vm, "pop: the list is empty");
    *out = l->items[--l->count];
    return true;
}

static const mlp_native core[] = {
    {"print", "*args, sep=\" \", end=\"\\n\", digits=nil", bi_print, "print(*args, sep=\" \", end=\"\\n\", digits=nil): write str() of each argument (digits: numbers and results tables to that many decimals)"},
    {"str", "x", bi_str, "str(x): the text form of x (numbers in shortest round-trip form)"},
    {"len", "x", bi_len, "len(x): length of a list, string (code points), record or range"},
    {"range", "start, stop=nil, step=1", bi_range, "range(stop) or range(start, stop, step=1): a lazy range"},
    {"list", "x", bi_list, "list(x): the elements of a range, list, string or the keys of a record"},
    {"type", "x", bi_type, "type(x): the type name of x"},
    {"min", "*args", bi_min, "min(a, b, ...) or min(list): the smallest number (or string)"},
    {"max", "*args", bi_max, "max(a, b, ...) or max(list): the largest number (or string)"},
    {"abs", "x", bi_abs, "abs(x): absolute value"},
    {"sqrt", "x", bi_sqrt, "sqrt(x): square root"},
    {"exp", "x", bi_exp, "exp(x): e to the power x"},
    {"log", "x", bi_log, "log(x): natural logarithm"},
    {"floor", "x", bi_floor, "floor(x): largest integer <= x"},
    {"round", "x, digits=nil", bi_round, "round(x, digits=nil): round half away from zero"},
    {"format", "x, digits", bi_format, "format(x, digits): fixed-point text with digits decimals"},
    {"assert", "cond, message=\"assertion failed\"", bi_assert, "assert(cond, message): error unless cond"},
    {"error", "message", bi_error, "error(message): raise a runtime error"},
    {"has", "record, key", bi_has, "has(record, key): whether the record has the key"},
    {"keys", "record", bi_keys, "keys(record): list of keys in insertion order"},
    {"push", "list, x", bi_push, "push(list, x): append x in place"},
    {"pop", "list", bi_pop, "pop(list): remove and return the last element"},
};

bool builtins_open(mlp_vm *vm) {
    return mlp_register(vm, core, sizeof core / sizeof core[0]) && builtins_seq_open(vm) &&
           builtins_text_open(vm) && builtins_json_open(vm);
}
