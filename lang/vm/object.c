/*
 * object.c — constructors and small operations on heap objects.
 *
 * Every function here may allocate, hence collect: callers keep the objects
 * they still need reachable (on the VM stack, in a root, or in a paused-GC
 * compile) across calls.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "object.h"
#include "gc.h"
#include "value.h"
#include "vm.h"

/* ---- strings ---- */

static ObjStrBuf *strbuf_new(mlp_vm *vm, size_t cap) {
    ObjStrBuf *b = (ObjStrBuf *)gc_new_obj(vm, sizeof(ObjStrBuf), OBJ_STRBUF);
    b->data = NULL;
    b->vm = vm;
    b->used = b->cap = 0;
    /* b is unreachable until the caller stores it: keep it as a root while
     * its data is allocated (which may collect). */
    mlp_push_root(vm, obj_val(MLP_T_HANDLE, b));
    b->data = GC_ALLOC(vm, char, cap + 1);
    mlp_pop_root(vm);
    b->cap = cap;
    return b;
}

ObjString *str_new(mlp_vm *vm, const char *s, size_t len) {
    ObjStrBuf *b = strbuf_new(vm, len);
    memcpy(b->data, s, len);
    b->data[len] = '\0';
    b->used = len;
    mlp_push_root(vm, obj_val(MLP_T_HANDLE, b));
    ObjString *str = (ObjString *)gc_new_obj(vm, sizeof(ObjString), MLP_T_STRING);
    mlp_pop_root(vm);
    str->buf = b;
    str->len = len;
    str->hashed = false;
    str->hash = 0;
    return str;
}

ObjString *str_concat(mlp_vm *vm, ObjString *a, ObjString *b) {
    size_t n = (size_t)a->len + b->len;
    ObjStrBuf *buf = a->buf;
    /* Append in place when `a` owns the tail of its buffer: the bytes past
     * a->len are nobody's yet. Small strings copy (cheaper than sharing). */
    if (buf->used == a->len && n >= 64) {
        if (n + 1 > buf->cap + 1) {
            size_t nc = buf->cap * 2 > n ? buf->cap * 2 : n;
            buf->data = GC_GROW(vm, char, buf->data, buf->cap + 1, nc + 1);
            buf->cap = nc;
        }
        memmove(buf->data + a->len, STR_CHARS(b), b->len);
        buf->used = n;
        buf->data[n] = '\0';
        ObjString *s = (ObjString *)gc_new_obj(vm, sizeof(ObjString), MLP_T_STRING);
        s->buf = a->buf; /* a is still rooted by the caller, so is its buffer */
        s->len = n;
        s->hashed = false;
        return s;
    }
    ObjStrBuf *nb = strbuf_new(vm, n < 64 ? n : n + n / 2);
    memcpy(nb->data, STR_CHARS(a), a->len);
    memcpy(nb->data + a->len, STR_CHARS(b), b->len);
    nb->data[n] = '\0';
    nb->used = n;
    mlp_push_root(vm, obj_val(MLP_T_HANDLE, nb));
    ObjString *s = (ObjString *)gc_new_obj(vm, sizeof(ObjString), MLP_T_STRING);
    mlp_pop_root(vm);
    s->buf = nb;
    s->len = n;
    s->hashed = false;
    return s;
}

const char *str_cstr(mlp_vm *vm, ObjString *s) {
    if (s->buf->used != s->len) {
        /* No collection here: callers may hold unrooted values. */
        vm->gc_paused++;
        /* Someone appended past us: take a private copy. */
        mlp_push_root(vm, obj_val(MLP_T_STRING, s));
        ObjStrBuf *nb = strbuf_new(vm, s->len);
        memcpy(nb->data, STR_CHARS(s), s->len);
        nb->data[s->len] = '\0';
        nb->used = s->len;
        s->buf = nb;
        mlp_pop_root(vm);
        vm->gc_paused--;
    }
    return STR_CHARS(s);
}

uint32_t str_hash(ObjString *s) {
    if (!s->hashed) {
        /* FNV-1a */
        uint32_t h = 2166136261u;
        const unsigned char *p = (const unsigned char *)STR_CHARS(s);
        for (size_t i = 0; i < s->len; i++) {
            h ^= p[i];
            h *= 16777619u;
        }
        s->hash = h;
        s->hashed = true;
    }
    return s->hash;
}

static uint32_t hash_bytes(const char *s, size_t len) {
    uint32_t h = 2166136261u;
    for (size_t i = 0; i < len; i++) {
        h ^= (unsigned char)s[i];
        h *= 16777619u;
    }
    return h;
}

bool str_eq(ObjString *a, ObjString *b) {
    if (a == b) return true;
    if (a->len != b->len) return false;
    if (a->hashed && b->hashed && a->hash != b->hash) return false;
    return memcmp(STR_CHARS(a), STR_CHARS(b), a->len) == 0;
}

bool str_eq_c(ObjString *a, const char *s, size_t len) {
    return a->len == len && memcmp(STR_CHARS(a), s, len) == 0;
}

int utf8_len(unsigned char c) {
    if (c < 0x80) return 1;
    if ((c & 0xE0) == 0xC0) return 2;
    if ((c & 0xF0) == 0xE0) return 3;
    if ((c & 0xF8) == 0xF0) return 4;
    return 1;
}

size_t utf8_count(const char *s, size_t len) {
    size_t n = 0;
    for (size_t i = 0; i < len; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
    return n;
}

/* ---- lists ---- */

ObjList *list_new(mlp_vm *vm, uint32_t cap) {
    ObjList *l = (ObjList *)gc_new_obj(vm, sizeof(ObjList), MLP_T_LIST);
    l->count = 0;
    l->cap = 0;
    l->items = NULL;
    if (cap) {
        mlp_push_root(vm, obj_val(MLP_T_LIST, l));
        l->items = GC_ALLOC(vm, Value, cap);
        l->cap = cap;
        mlp_pop_root(vm);
    }
    return l;
}

_Noreturn void list_too_long(mlp_vm *vm, double n) {
    char num[32];
    fmt_number(n, num);
    vm_throw(vm, "list too long (%s elements; a list holds at most %u)", num, (unsigned)LIST_MAX);
}

void list_push(mlp_vm *vm, ObjList *l, Value v) {
    if (l->count == l->cap) {
        if (l->count == LIST_MAX) list_too_long(vm, (double)LIST_MAX + 1);
        uint32_t nc = l->cap < 8 ? 8 : l->cap > LIST_MAX / 2 ? LIST_MAX : l->cap * 2;
        /* v may be unreachable otherwise while we grow */
        mlp_push_root(vm, v);
        l->items = GC_GROW(vm, Value, l->items, l->cap, nc);
        mlp_pop_root(vm);
        l->cap = nc;
    }
    l->items[l->count++] = v;
}

/* ---- records ---- */

ObjRecord *rec_new(mlp_vm *vm) {
    ObjRecord *r = (ObjRecord *)gc_new_obj(vm, sizeof(ObjRecord), MLP_T_RECORD);
    r->count = r->cap = r->icap = 0;
    r->entries = NULL;
    r->index = NULL;
    return r;
}

static int32_t rec_lookup(ObjRecord *r, const char *key, size_t len, uint32_t h) {
    if (r->icap == 0) {
        for (uint32_t i = 0; i < r->count; i++)
            if (str_eq_c(r->entries[i].key, key, len)) return (int32_t)i;
        return -1;
    }
    uint32_t mask = r->icap - 1;
    for (uint32_t i = h & mask;; i = (i + 1) & mask) {
        int32_t e = r->index[i];
        if (e < 0) return -1;
        ObjString *k = r->entries[e].key;
        if (str_hash(k) == h && str_eq_c(k, key, len)) return e;
    }
}

int32_t rec_find(ObjRecord *r, ObjString *key) {
    if (r->icap == 0) {
        for (uint32_t i = 0; i < r->count; i++)
            if (str_eq(r->entries[i].key, key)) return (int32_t)i;
        return -1;
    }
    return rec_lookup(r, STR_CHARS(key), key->len, str_hash(key));
}

int32_t rec_find_c(ObjRecord *r, const char *key, size_t len) {
    return rec_lookup(r, key, len, r->icap ? hash_bytes(key, len) : 0);
}

static void rec_reindex(ObjRecord *r) {
    uint32_t mask = r->icap - 1;
    for (uint32_t i = 0; i < r->icap; i++) r->index[i] = -1;
    for (uint32_t e = 0; e < r->count; e++) {
        uint32_t i = str_hash(r->entries[e].key) & mask;
        while (r->index[i] >= 0) i = (i + 1) & mask;
        r->index[i] = (int32_t)e;
    }
}

void rec_set(mlp_vm *vm, ObjRecord *r, ObjString *key, Value v) {
    int32_t e = rec_find(r, key);
    if (e >= 0) {
        r->entries[e].val = v;
        return;
    }
    /* entry numbers are int32_t and the index has twice as many uint32_t
     * slots: 2^30 fields keep both in range */
    if (r->count >= (1u << 30))
        vm_throw(vm, "record too large (a record holds at most %u fields)", 1u << 30);
    /* The caller roots r; key and v must survive the growth below. */
    mlp_push_root(vm, obj_val(MLP_T_STRING, key));
    mlp_push_root(vm, v);
    if (r->count == r->cap) {
        uint32_t nc = r->cap < 4 ? 4 : r->cap * 2;
        r->entries = GC_GROW(vm, RecEntry, r->entries, r->cap, nc);
        r->cap = nc;
    }
    r->entries[r->count].key = key;
    r->entries[r->count].val = v;
    r->count++;
    /* Small records are scanned linearly; from 9 entries on, an index at
     * most half full. */
    if (r->count > 8 && r->count * 2 > r->icap) {
        uint32_t ni = r->icap ? r->icap * 2 : 32;
        r->index = GC_GROW(vm, int32_t, r->index, r->icap, ni);
        r->icap = ni;
        rec_reindex(r);
    } else if (r->icap) {
        uint32_t mask = r->icap - 1;
        uint32_t i = str_hash(key) & mask;
        while (r->index[i] >= 0) i = (i + 1) & mask;
        r->index[i] = (int32_t)(r->count - 1);
    }
    mlp_pop_root(vm);
    mlp_pop_root(vm);
}

bool rec_remove(ObjRecord *r, ObjString *key, Value *old) {
    int32_t e = rec_find(r, key);
    if (e < 0) return false;
    *old = r->entries[e].val;
    memmove(r->entries + e, r->entries + e + 1, sizeof(RecEntry) * (r->count - (uint32_t)e - 1));
    r->count--;
    if (r->icap) rec_reindex(r);
    return true;
}

/* ---- ranges ---- */

ObjRange *range_new(mlp_vm *vm, double start, double stop, double step) {
    ObjRange *r = (ObjRange *)gc_new_obj(vm, sizeof(ObjRange), MLP_T_RANGE);
    r->start = start;
    r->stop = stop;
    r->step = step;
    return r;
}

double range_len(ObjRange *r) {
    double n = ceil((r->stop - r->start) / r->step);
    return n > 0 ? n : 0;
}

/* ---- sources, namespaces ---- */

ObjSource *source_new(mlp_vm *vm, const char *name, const char *text, size_t len) {
    ObjSource *s = (ObjSource *)gc_new_obj(vm, sizeof(ObjSource), OBJ_SOURCE);
    s->name = NULL;
    s->text = NULL;
    s->len = 0;
    mlp_push_root(vm, obj_val(MLP_T_HANDLE, s));
    size_t nl = strlen(name);
    s->name = GC_ALLOC(vm, char, nl + 1);
    memcpy(s->name, name, nl + 1);
    s->text = GC_ALLOC(vm, char, len + 1);
    memcpy(s->text, text, len);
    s->text[len] = '\0';
    s->len = len;
    mlp_pop_root(vm);
    return s;
}

ObjNamespace *ns_new(mlp_vm *vm, ObjString *name) {
    mlp_push_root(vm, obj_val(MLP_T_STRING, name));
    ObjNamespace *ns = (ObjNamespace *)gc_new_obj(vm, sizeof(ObjNamespace), OBJ_NAMESPACE);
    ns->names = NULL;
    ns->values = NULL;
    ns->count = ns->cap = 0;
    ns->name = name;
    mlp_push_root(vm, obj_val(MLP_T_HANDLE, ns));
    ns->names = rec_new(vm);
    mlp_pop_root(vm);
    mlp_pop_root(vm);
    return ns;
}

int ns_find(ObjNamespace *ns, const char *name, size_t len) {
    int32_t e = rec_find_c(ns->names, name, len);
    return e < 0 ? -1 : (int)ns->names->entries[e].val.as.n;
}

int ns_slot(mlp_vm *vm, ObjNamespace *ns, ObjString *name) {
    int32_t e = rec_find(ns->names, name);
    if (e >= 0) return (int)ns->names->entries[e].val.as.n;
    mlp_push_root(vm, obj_val(MLP_T_STRING, name));
    if (ns->count == ns->cap) {
        uint32_t nc = ns->cap < 16 ? 16 : ns->cap * 2;
        ns->values = GC_GROW(vm, Value, ns->values, ns->cap, nc);
        ns->cap = nc;
    }
    int slot = (int)ns->count;
    ns->values[ns->count++] = undef_val();
    rec_set(vm, ns->names, name, mlp_number(slot));
    mlp_pop_root(vm);
    return slot;
}

/* ---- functions ---- */

ObjProto *proto_new(mlp_vm *vm, ObjSource *src, ObjNamespace *ns) {
    ObjProto *p = (ObjProto *)gc_new_obj(vm, sizeof(ObjProto), OBJ_PROTO);
    memset((char *)p + sizeof(Obj), 0, sizeof(ObjProto) - sizeof(Obj));
    p->sig.star = -1;
    p->source = src;
    p->ns = ns;
    p->simple = true;
    return p;
}

ObjClosure *closure_new(mlp_vm *vm, ObjProto *p) {
    ObjClosure *c = (ObjClosure *)gc_new_obj(
        vm, sizeof(ObjClosure) + sizeof(ObjUpvalue *) * (size_t)p->nupvals, MLP_T_FUNCTION);
    c->proto = p;
    c->nupvals = p->nupvals;
    for (int i = 0; i < p->nupvals; i++) c->upvals[i] = NULL;
    return c;
}

ObjUpvalue *upvalue_new(mlp_vm *vm, Value *slot) {
    ObjUpvalue *u = (ObjUpvalue *)gc_new_obj(vm, sizeof(ObjUpvalue), OBJ_UPVALUE);
    u->loc = slot;
    u->closed = mlp_nil();
    u->next_open = NULL;
    return u;
}

ObjModule *module_new(mlp_vm *vm, ObjNamespace *ns) {
    ObjModule *m = (ObjModule *)gc_new_obj(vm, sizeof(ObjModule), MLP_T_MODULE);
    m->ns = ns;
    m->loading = false;
    return m;
}

void sig_free(mlp_vm *vm, Signature *s) {
    GC_FREE(vm, ObjString *, s->names, s->n);
    GC_FREE(vm, bool, s->has_default, s->n);
    if (s->defaults) GC_FREE(vm, Value, s->defaults, s->n);
    s->names = NULL;
    s->has_default = NULL;
    s->defaults = NULL;
    s->n = 0;
}
