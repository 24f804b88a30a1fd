/*
 * json.c — json_parse(s) and json_text(value, indent=nil).
 *
 * JSON maps onto the language's values one to one: null/true/false, numbers
 * (doubles), strings, arrays (lists) and objects (records, keys in the order
 * they appear; a repeated key keeps its last value). Numbers are read with
 * strtod (correctly rounded) and written in the shortest text that reads
 * back to the same double (as str() does), so a number round-trips exactly.
 * nan and inf have no JSON spelling and are an error to write, as is any
 * value other than those six kinds. Nesting is limited to JSON_DEPTH levels
 * both ways (a list that contains itself is an error, not a hang).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "builtins.h"
#include "value.h"
#include "vm.h"

#define JSON_DEPTH 200

typedef struct Reader {
    mlp_vm *vm;
    const char *p, *start, *end;
} Reader;

static bool jerr(Reader *r, const char *what) {
    int line = 1, col = 1;
    for (const char *q = r->start; q < r->p; q++) {
        if (*q == '\n') line++, col = 1;
        else col++;
    }
    return mlp_raise(r->vm, "json_parse: %s at line %d, column %d", what, line, col);
}

static void skip_ws(Reader *r) {
    while (r->p < r->end && (*r->p == ' ' || *r->p == '\t' || *r->p == '\n' || *r->p == '\r')) r->p++;
}

static int hex4(const char *p) {
    int v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p[i];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= c - '0';
        else if (c >= 'a' && c <= 'f') v |= c - 'a' + 10;
        else if (c >= 'A' && c <= 'F') v |= c - 'A' + 10;
        else return -1;
    }
    return v;
}

static void put_utf8(StrBuf *b, unsigned cp) {
    char u[4];
    size_t n;
    if (cp < 0x80) u[0] = (char)cp, n = 1;
    else if (cp < 0x800) u[0] = (char)(0xC0 | cp >> 6), u[1] = (char)(0x80 | (cp & 0x3F)), n = 2;
    else if (cp < 0x10000)
        u[0] = (char)(0xE0 | cp >> 12), u[1] = (char)(0x80 | ((cp >> 6) & 0x3F)),
        u[2] = (char)(0x80 | (cp & 0x3F)), n = 3;
    else
        u[0] = (char)(0xF0 | cp >> 18), u[1] = (char)(0x80 | ((cp >> 12) & 0x3F)),
        u[2] = (char)(0x80 | ((cp >> 6) & 0x3F)), u[3] = (char)(0x80 | (cp & 0x3F)), n = 4;
    sb_add(b, u, n);
}

/* A string at r->p (after the opening quote) into b. */
static bool read_string(Reader *r, StrBuf *b) {
    for (;;) {
        if (r->p >= r->end) return jerr(r, "unterminated string");
        unsigned char c = (unsigned char)*r->p;
        if (c == '"') {
            r->p++;
            return true;
        }
        if (c < 0x20) return jerr(r, "control character in a string");
        if (c != '\\') {
            sb_add(b, r->p++, 1);
            continue;
        }
        if (r->p + 1 >= r->end) return jerr(r, "unterminated string");
        char e = r->p[1];
        r->p += 2;
        switch (e) {
        case '"': sb_add(b, "\"", 1); break;
        case '\\': sb_add(b, "\\", 1); break;
        case '/': sb_add(b, "/", 1); break;
        case 'b': sb_add(b, "\b", 1); break;
        case 'f': sb_add(b, "\f", 1); break;
        case 'n': sb_add(b, "\n", 1); break;
        case 'r': sb_add(b, "\r", 1); break;
        case 't': sb_add(b, "\t", 1); break;
        case 'u': {
            int h = r->end - r->p >= 4 ? hex4(r->p) : -1;
            if (h < 0) return jerr(r, "bad \\u escape");
            r->p += 4;
            unsigned cp = (unsigned)h;
            if (cp >= 0xD800 && cp < 0xDC00) { /* a surrogate pair */
                int lo = r->end - r->p >= 6 && r->p[0] == '\\' && r->p[1] == 'u' ? hex4(r->p + 2) : -1;
                if (lo < 0xDC00 || lo > 0xDFFF) return jerr(r, "unpaired surrogate in \\u escape");
                r->p += 6;
                cp = 0x10000 + ((cp - 0xD800) << 10) + ((unsigned)lo - 0xDC00);
            } else if (cp >= 0xDC00 && cp < 0xE000) {
                return jerr(r, "unpaired surrogate in \\u escape");
            }
            put_utf8(b, cp);
            break;
        }
        default: r->p--; return jerr(r, "bad escape in a string");
        }
    }
}

static bool read_value(Reader *r, Value *out, int depth);

static bool read_number(Reader *r, Value *out) {
    const char *q = r->p;
    if (q < r->end && *q == '-') q++;
    if (q >= r->end || !(*q >= '0' && *q <= '9')) return jerr(r, "unexpected character");
    if (*q == '0') q++;
    else while (q < r->end && *q >= '0' && *q <= '9') q++;
    if (q < r->end && *q == '.') {
        q++;
        if (q >= r->end || !(*q >= '0' && *q <= '9')) return r->p = q, jerr(r, "digit expected");
        while (q < r->end && *q >= '0' && *q <= '9') q++;
    }
    if (q < r->end && (*q == 'e' || *q == 'E')) {
        q++;
        if (q < r->end && (*q == '+' || *q == '-')) q++;
        if (q >= r->end || !(*q >= '0' && *q <= '9')) return r->p = q, jerr(r, "digit expected");
        while (q < r->end && *q >= '0' && *q <= '9') q++;
    }
    size_t n = (size_t)(q - r->p);
    char buf[64], *big = NULL, *s = buf;
    if (n >= sizeof buf) {
        big = malloc(n + 1);
        if (!big) return mlp_raise(r->vm, "json_parse: out of memory");
        s = big;
    }
    memcpy(s, r->p, n);
    s[n] = '\0';
    *out = mlp_number(strtod(s, NULL));
    free(big);
    r->p = q;
    return true;
}

static bool read_value(Reader *r, Value *out, int depth) {
    skip_ws(r);
    if (r->p >= r->end) return jerr(r, "unexpected end of text");
    if (depth > JSON_DEPTH) return jerr(r, "nesting too deep");
    char c = *r->p;
    if (c == '{' || c == '[') {
        bool obj = c == '{';
        r->p++;
        Value v = obj ? obj_val(MLP_T_RECORD, rec_new(r->vm)) : obj_val(MLP_T_LIST, list_new(r->vm, 0));
        *out = v;
        mlp_push_root(r->vm, v);
        skip_ws(r);
        bool ok = true;
        if (r->p < r->end && *r->p == (obj ? '}' : ']')) {
            r->p++;
        } else {
            for (;;) {
                Value item;
                ObjString *key = NULL;
                if (obj) {
                    skip_ws(r);
                    if (r->p >= r->end || *r->p != '"') { ok = jerr(r, "string key expected"); break; }
                    r->p++;
                    StrBuf kb = {0};
                    if (!read_string(r, &kb)) { free(kb.p); ok = false; break; }
                    key = str_new(r->vm, kb.p ? kb.p : "", kb.n);
                    free(kb.p);
                    mlp_push_root(r->vm, obj_val(MLP_T_STRING, key));
                    skip_ws(r);
                    if (r->p >= r->end || *r->p != ':') { mlp_pop_root(r->vm); ok = jerr(r, "':' expected"); break; }
                    r->p++;
                }
                ok = read_value(r, &item, depth + 1);
                if (ok) {
                    if (obj) rec_set(r->vm, AS_RECORD(v), key, item);
                    else list_push(r->vm, AS_LIST(v), item);
                }
                if (obj) mlp_pop_root(r->vm);
                if (!ok) break;
                skip_ws(r);
                if (r->p < r->end && *r->p == ',') { r->p++; continue; }
                if (r->p < r->end && *r->p == (obj ? '}' : ']')) { r->p++; break; }
                ok = jerr(r, obj ? "',' or '}' expected" : "',' or ']' expected");
                break;
            }
        }
        mlp_pop_root(r->vm);
        return ok;
    }
    if (c == '"') {
        r->p++;
        StrBuf b = {0};
        bool ok = read_string(r, &b);
        if (ok) *out = mlp_string(r->vm, b.p ? b.p : "", b.n);
        free(b.p);
        return ok;
    }
    static const struct { const char *word; int kind; } words[] = {{"null", 0}, {"true", 1}, {"false", 2}};
    for (int i = 0; i < 3; i++) {
        size_t n = strlen(words[i].word);
        if ((size_t)(r->end - r->p) >= n && memcmp(r->p, words[i].word, n) == 0) {
            r->p += n;
            *out = i == 0 ? mlp_nil() : mlp_bool(i == 1);
            return true;
        }
    }
    return read_number(r, out);
}

static bool bi_json_parse(mlp_vm *vm, Value *a, int n, Value *out) {
    if (a[0].type != MLP_T_STRING)
        return mlp_raise(vm, "json_parse: argument 's' must be a string, got %s", type_name(a[0]));
    ObjString *s = AS_STRING(a[0]);
    Reader r = {vm, STR_CHARS(s), STR_CHARS(s), STR_CHARS(s) + s->len};
    if (!read_value(&r, out, 0)) return false;
    skip_ws(&r);
    if (r.p < r.end) return jerr(&r, "text after the value");
    return true;
}

/* ---- writing ---- */

static void write_string(StrBuf *b, const char *s, size_t n) {
    sb_add(b, "\"", 1);
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        switch (c) {
        case '"': sb_add(b, "\\\"", 2); break;
        case '\\': sb_add(b, "\\\\", 2); break;
        case '\n': sb_add(b, "\\n", 2); break;
        case '\r': sb_add(b, "\\r", 2); break;
        case '\t': sb_add(b, "\\t", 2); break;
        default:
            if (c < 0x20) sb_printf(b, "\\u%04x", c);
            else sb_add(b, s + i, 1);
        }
    }
    sb_add(b, "\"", 1);
}

static void newline(StrBuf *b, int indent, int depth) {
    if (indent < 0) return;
    sb_add(b, "\n", 1);
    for (int i = 0; i < indent * depth; i++) sb_add(b, " ", 1);
}

static bool write_value(mlp_vm *vm, StrBuf *b, Value v, int indent, int depth) {
    if (depth > JSON_DEPTH) return mlp_raise(vm, "json_text: nesting too deep (a list or record that contains itself?)");
    switch (v.type) {
    case MLP_T_NIL: sb_addc(b, "null"); return true;
    case MLP_T_BOOL: sb_addc(b, v.as.b ? "true" : "false"); return true;
    case MLP_T_NUMBER: {
        if (!isfinite(v.as.n))
            return mlp_raise(vm, "json_text: %s has no JSON form", isnan(v.as.n) ? "nan" : v.as.n > 0 ? "inf" : "-inf");
        char buf[32];
        int len = fmt_number(v.as.n, buf);
        sb_add(b, buf, (size_t)len);
        return true;
    }
    case MLP_T_STRING: write_string(b, STR_CHARS(AS_STRING(v)), AS_STRING(v)->len); return true;
    case MLP_T_LIST: {
        ObjList *l = AS_LIST(v);
        sb_add(b, "[", 1);
        for (uint32_t i = 0; i < l->count; i++) {
            if (i) sb_add(b, ",", 1);
            newline(b, indent, depth + 1);
            if (!write_value(vm, b, l->items[i], indent, depth + 1)) return false;
        }
        if (l->count) newline(b, indent, depth);
        sb_add(b, "]", 1);
        return true;
    }
    case MLP_T_RECORD: {
        ObjRecord *r = AS_RECORD(v);
        sb_add(b, "{", 1);
        for (uint32_t i = 0; i < r->count; i++) {
            if (i) sb_add(b, ",", 1);
            newline(b, indent, depth + 1);
            write_string(b, STR_CHARS(r->entries[i].key), r->entries[i].key->len);
            sb_add(b, indent < 0 ? ":" : ": ", indent < 0 ? 1 : 2);
            if (!write_value(vm, b, r->entries[i].val, indent, depth + 1)) return false;
        }
        if (r->count) newline(b, indent, depth);
        sb_add(b, "}", 1);
        return true;
    }
    default: return mlp_raise(vm, "json_text: a %s has no JSON form", type_name(v));
    }
}

static bool bi_json_text(mlp_vm *vm, Value *a, int n, Value *out) {
    int indent = -1;
    if (a[1].type != MLP_T_NIL) {
        if (!IS_NUM(a[1]) || a[1].as.n != floor(a[1].as.n) || a[1].as.n < 0 || a[1].as.n > 16)
            return mlp_raise(vm, "json_text: argument 'indent' must be nil or an integer from 0 to 16");
        indent = (int)a[1].as.n;
    }
    StrBuf b = {0};
    bool ok = write_value(vm, &b, a[0], indent, 0);
    if (ok) *out = mlp_string(vm, b.p ? b.p : "", b.n);
    free(b.p);
    return ok;
}

static const mlp_native json[] = {
    {"json_parse", "s", bi_json_parse, "json_parse(s): the value a JSON text spells (objects become records)"},
    {"json_text", "x, indent=nil", bi_json_text, "json_text(x, indent=nil): JSON text of nil, bools, numbers, strings, lists, records (indent: spaces per level, one item a line)"},
};

bool builtins_json_open(mlp_vm *vm) { return mlp_register(vm, json, sizeof json / sizeof json[0]); }
