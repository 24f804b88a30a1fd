/*
 * builtins_text.c — string functions: split, join, replace, strip,
 * startswith, endswith, find, upper, lower, pad, center.
 *
 * Strings are operated on by functions, never methods (`split(s, ",")`,
 * not `s.split(",")`), like every other builtin: one way to call things,
 * and a record field named `split` never shadows anything. Positions and
 * widths count code points, as len() and s[i] do; matching is bytewise
 * (UTF-8 is self-synchronising, so a match never starts inside a character).
 * upper/lower change ASCII letters only.
 */
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "value.h"
#include "vm.h"

static bool want_str(mlp_vm *vm, const char *fn, const char *param, Value v, ObjString **out) {
    if (v.type != MLP_T_STRING)
        return mlp_raise(vm, "%s: argument '%s' must be a string, got %s", fn, param, type_name(v));
    *out = AS_STRING(v);
    return true;
}

/* First byte offset >= from where needle occurs in hay, or -1. */
static int64_t find_bytes(const char *hay, size_t hn, const char *needle, size_t nn, size_t from) {
    if (nn == 0) return from <= hn ? (int64_t)from : -1;
    for (size_t i = from; i + nn <= hn; i++)
        if (hay[i] == needle[0] && memcmp(hay + i, needle, nn) == 0) return (int64_t)i;
    return -1;
}

static bool is_blank(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

static bool bi_split(mlp_vm *vm, Value *a, int n, Value *out) {
    ObjString *s = NULL, *sep = NULL;
    if (!want_str(vm, "split", "s", a[0], &s)) return false;
    if (a[1].type != MLP_T_NIL && !want_str(vm, "split", "sep", a[1], &sep)) return false;
    if (sep && sep->len == 0) return mlp_raise(vm, "split: argument 'sep' must not be empty");
    ObjList *l = list_new(vm, 0);
    *out = obj_val(MLP_T_LIST, l);
    const char *p = STR_CHARS(s);
    size_t len = s->len;
    if (!sep) { /* runs of blanks separate; no empty pieces */
        size_t i = 0;
        while (i < len) {
            while (i < len && is_blank(p[i])) i++;
            size_t j = i;
            while (j < len && !is_blank(p[j])) j++;
            if (j > i) list_push(vm, l, obj_val(MLP_T_STRING, str_new(vm, p + i, j - i)));
            i = j;
        }
        return true;
    }
    size_t i = 0;
    for (;;) {
        /* s may be moved by nothing here: its buffer is immutable up to len */
        int64_t k = find_bytes(STR_CHARS(s), len, STR_CHARS(sep), sep->len, i);
        size_t end = k < 0 ? len : (size_t)k;
        list_push(vm, l, obj_val(MLP_T_STRING, str_new(vm, STR_CHARS(s) + i, end - i)));
        if (k < 0) break;
        i = end + sep->len;
    }
    return true;
}

static bool bi_join(mlp_vm *vm, Value *a, int n, Value *out) {
    ObjString *sep = NULL;
    ObjList *l;
    if (!want_str(vm, "join", "sep", a[1], &sep)) return false;
    if (a[0].type != MLP_T_LIST)
        return mlp_raise(vm, "join: argument 'xs' must be a list, got %s", type_name(a[0]));
    l = AS_LIST(a[0]);
    StrBuf b = {0};
    for (uint32_t i = 0; i < l->count; i++) {
        Value v = l->items[i];
        if (v.type != MLP_T_STRING) {
            free(b.p);
            return mlp_raise(vm, "join: element %u is a %s, not a string (use str())", i,
                             type_name(v));
        }
        if (i) sb_add(&b, STR_CHARS(sep), sep->len);
        sb_add(&b, STR_CHARS(AS_STRING(v)), AS_STRING(v)->len);
    }
    *out = mlp_string(vm, b.p ? b.p : "", b.n);
    free(b.p);
    return true;
}

static bool bi_replace(mlp_vm *vm, Value *a, int n, Value *out) {
    ObjString *s = NULL, *old = NULL, *new_ = NULL;
    if (!want_str(vm, "replace", "s", a[0], &s) || !want_str(vm, "replace", "old", a[1], &old) ||
        !want_str(vm, "replace", "new", a[2], &new_))
        return false;
    if (old->len == 0) return mlp_raise(vm, "replace: argument 'old' must not be empty");
    StrBuf b = {0};
    size_t i = 0;
    for (;;) {
        int64_t k = find_bytes(STR_CHARS(s), s->len, STR_CHARS(old), old->len, i);
        size_t end = k < 0 ? s->len : (size_t)k;
        sb_add(&b, STR_CHARS(s) + i, end - i);
        if (k < 0) break;
        sb_add(&b, STR_CHARS(new_), new_->len);
        i = end + old->len;
    }
    *out = mlp_string(vm, b.p ? b.p : "", b.n);
    free(b.p);
    return true;
}

static bool bi_strip(mlp_vm *vm, Value *a, int n, Value *out) {
    ObjString *s = NULL, *chars = NULL;
    if (!want_str(vm, "strip", "s", a[0], &s)) return false;
    if (a[1].type != MLP_T_NIL && !want_str(vm, "strip", "chars", a[1], &chars)) return false;
    const char *p = STR_CHARS(s);
    size_t i = 0, j = s->len;
#define STRIPPABLE(c) (chars ? memchr(STR_CHARS(chars), (c), chars->len) != NULL : is_blank(c))
    while (i < j && STRIPPABLE(p[i])) i++;
    while (j > i && STRIPPABLE(p[j - 1])) j--;
#undef STRIPPABLE
    *out = obj_val(MLP_T_STRING, str_new(vm, p + i, j - i));
    return true;
}

static bool affix(mlp_vm *vm, Value *a, Value *out, const char *fn, bool at_end) {
    ObjString *s = NULL, *x = NULL;
    if (!want_str(vm, fn, "s", a[0], &s) || !want_str(vm, fn, at_end ? "suffix" : "prefix", a[1], &x))
        return false;
    bool r = x->len <= s->len &&
             memcmp(STR_CHARS(s) + (at_end ? s->len - x->len : 0), STR_CHARS(x), x->len) == 0;
    *out = mlp_bool(r);
    return true;
}

static bool bi_startswith(mlp_vm *vm, Value *a, int n, Value *out) { return affix(vm, a, out, "startswith", false); }
static bool bi_endswith(mlp_vm *vm, Value *a, int n, Value *out) { return affix(vm, a, out, "endswith", true); }

static bool bi_find(mlp_vm *vm, Value *a, int n, Value *out) {
    ObjString *s = NULL, *sub = NULL;
    if (!want_str(vm, "find", "s", a[0], &s) || !want_str(vm, "find", "sub", a[1], &sub)) return false;
    int64_t k = find_bytes(STR_CHARS(s), s->len, STR_CHARS(sub), sub->len, 0);
    *out = mlp_number(k < 0 ? -1.0 : (double)utf8_count(STR_CHARS(s), (size_t)k));
    return true;
}

static bool change_case(mlp_vm *vm, Value *a, Value *out, const char *fn, bool up) {
    ObjString *s = NULL;
    if (!want_str(vm, fn, "s", a[0], &s)) return false;
    char *buf = malloc(s->len + 1);
    if (!buf) return mlp_raise(vm, "%s: out of memory", fn);
    for (size_t i = 0; i < s->len; i++) {
        char c = STR_CHARS(s)[i];
        if (up && c >= 'a' && c <= 'z') c = (char)(c - 'a' + 'A');
        if (!up && c >= 'A' && c <= 'Z') c = (char)(c - 'A' + 'a');
        buf[i] = c;
    }
    *out = mlp_string(vm, buf, s->len);
    free(buf);
    return true;
}

static bool bi_upper(mlp_vm *vm, Value *a, int n, Value *out) { return change_case(vm, a, out, "upper", true); }
static bool bi_lower(mlp_vm *vm, Value *a, int n, Value *out) { return change_case(vm, a, out, "lower", false); }

/* pad(x, width, align, fill): str(x) widened to width code points. */
static bool pad_text(mlp_vm *vm, const char *fn, Value x, Value width, Value align, Value fill,
                     Value *out) {
    if (!IS_NUM(width) || width.as.n != (double)(int64_t)width.as.n || width.as.n < 0 || width.as.n > 1e6)
        return mlp_raise(vm, "%s: argument 'width' must be an integer from 0 to 1000000", fn);
    ObjString *f = NULL, *al = NULL;
    if (!want_str(vm, fn, "fill", fill, &f) || !want_str(vm, fn, "align", align, &al)) return false;
    if (utf8_count(STR_CHARS(f), f->len) != 1)
        return mlp_raise(vm, "%s: argument 'fill' must be one character", fn);
    int where; /* 0 left (text first), 1 right, 2 center */
    if (str_eq_c(al, "left", 4)) where = 0;
    else if (str_eq_c(al, "right", 5)) where = 1;
    else if (str_eq_c(al, "center", 6)) where = 2;
    else return mlp_raise(vm, "%s: argument 'align' must be \"left\", \"right\" or \"center\"", fn);
    Value sv = x.type == MLP_T_STRING ? x : mlp_tostring(vm, x);
    *out = sv; /* rooted while the result is built */
    ObjString *s = AS_STRING(sv);
    size_t have = utf8_count(STR_CHARS(s), s->len), want = (size_t)width.as.n;
    if (have >= want) return true;
    size_t extra = want - have, before = where == 1 ? extra : where == 2 ? extra / 2 : 0;
    StrBuf b = {0};
    for (size_t i = 0; i < before; i++) sb_add(&b, STR_CHARS(f), f->len);
    sb_add(&b, STR_CHARS(s), s->len);
    for (size_t i = before; i < extra; i++) sb_add(&b, STR_CHARS(f), f->len);
    *out = mlp_string(vm, b.p, b.n);
    free(b.p);
    return true;
}

static bool bi_pad(mlp_vm *vm, Value *a, int n, Value *out) {
    return pad_text(vm, "pad", a[0], a[1], a[2], a[3], out);
}

static bool bi_center(mlp_vm *vm, Value *a, int n, Value *out) {
    Value al = mlp_string_cstr(vm, "center");
    mlp_push_root(vm, al);
    bool ok = pad_text(vm, "center", a[0], a[1], al, a[2], out);
    mlp_pop_root(vm);
    return ok;
}

static const mlp_native text[] = {
    {"split", "s, sep=nil", bi_split, "split(s, sep=nil): list of the pieces between each sep (nil: runs of blanks)"},
    {"join", "xs, sep=\"\"", bi_join, "join(xs, sep=\"\"): the strings of xs with sep between them"},
    {"replace", "s, old, new", bi_replace, "replace(s, old, new): s with every old replaced by new"},
    {"strip", "s, chars=nil", bi_strip, "strip(s, chars=nil): s without leading and trailing blanks (or bytes of chars)"},
    {"startswith", "s, prefix", bi_startswith, "startswith(s, prefix): whether s begins with prefix"},
    {"endswith", "s, suffix", bi_endswith, "endswith(s, suffix): whether s ends with suffix"},
    {"find", "s, sub", bi_find, "find(s, sub): code-point index of the first sub in s, or -1"},
    {"upper", "s", bi_upper, "upper(s): s with ASCII letters upper-cased"},
    {"lower", "s", bi_lower, "lower(s): s with ASCII letters lower-cased"},
    {"pad", "x, width, align=\"left\", fill=\" \"", bi_pad, "pad(x, width, align=\"left\", fill=\" \"): str(x) filled to width code points (align left, right or center)"},
    {"center", "x, width, fill=\" \"", bi_center, "center(x, width, fill=\" \"): str(x) centered in width code points"},
};

bool builtins_text_open(mlp_vm *vm) { return mlp_register(vm, text, sizeof text / sizeof text[0]); }
