/*
 * object.h — heap objects of the VM (internal).
 *
 * Every heap object starts with an mlp_obj header and is allocated through
 * gc_alloc (gc.c), which accounts bytes and may collect first. Objects are
 * linked into vm->objects for the sweep; nothing else frees them, except
 * mlp_vm_free which frees them all.
 *
 * The value tag of a reference is the object's kind (MLP_T_STRING ...), so a
 * type test never touches memory. Internal kinds that never appear as values
 * (function prototypes, upvalues, string buffers, sources) have kinds past
 * MLP_T_UNDEF.
 *
 * Strings. A string is a (buffer, length) pair: the bytes live in a separate
 * OBJ_STRBUF that several strings may share. `a + b` where `a` ends exactly
 * at its buffer's end appends `b` into the buffer in place and makes a new,
 * longer string over the same bytes; `a` still sees its prefix. That keeps
 * the common `s = s + x` loop linear without mutable strings. A string whose
 * buffer grew past it is no longer NUL-terminated in place; str_cstr gives it
 * a private buffer when a C string is needed.
 *
 * Records are insertion-ordered maps: entries in an array in insertion order,
 * plus an open-addressing index of entry numbers.
 */
#ifndef MLP_OBJECT_H
#define MLP_OBJECT_H

#include "mlp.h"

enum {
    OBJ_PROTO = MLP_T_UNDEF + 1, /* function prototype (compiled code) */
    OBJ_UPVALUE,
    OBJ_STRBUF,
    OBJ_SOURCE,
    OBJ_NAMESPACE
};

struct mlp_obj {
    struct mlp_obj *next;
    uint8_t kind;
    bool marked;
};
typedef struct mlp_obj Obj;
typedef mlp_value Value;

typedef struct ObjStrBuf {
    Obj obj;
    mlp_vm *vm; /* so mlp_cstr(v) can re-home a string without a vm argument */
    size_t used, cap;
    char *data;
} ObjStrBuf;

typedef struct ObjString {
    Obj obj;
    size_t len;       /* bytes; strings may pass 4 GiB */
    uint32_t hash;
    bool hashed;
    ObjStrBuf *buf;
} ObjString;

typedef struct ObjList {
    Obj obj;
    uint32_t count, cap;
    Value *items;
} ObjList;

typedef struct RecEntry {
    ObjString *key;
    Value val;
} RecEntry;

typedef struct ObjRecord {
    Obj obj;
    uint32_t count, cap;   /* entries */
    RecEntry *entries;
    int32_t *index;        /* icap slots of entry numbers, -1 empty */
    uint32_t icap;
} ObjRecord;

typedef struct ObjRange {
    Obj obj;
    double start, stop, step;
} ObjRange;

/* Source text kept alive for error reports at run time. */
typedef struct ObjSource {
    Obj obj;
    char *name;
    char *text;
    size_t len;
} ObjSource;

/* A module's globals: names (record name -> slot number) and values.
 * Slots are fixed at compile time; values start MLP_T_UNDEF. */
typedef struct ObjNamespace {
    Obj obj;
    ObjRecord *names;
    Value *values;
    uint32_t count, cap;
    ObjString *name; /* module name, "<script>" for a script */
} ObjNamespace;

/* Parameters of a function or native: names, which have defaults, where the
 * `*rest` parameter is. For natives `defaults` holds the default values. */
typedef struct Signature {
    int n;              /* parameters, including *rest */
    int star;           /* index of *rest, or -1 */
    ObjString **names;
    bool *has_default;
    Value *defaults;    /* natives only (NULL for functions) */
} Signature;

typedef struct UpvalDesc {
    uint8_t is_local;
    uint16_t index;  /* a local slot or an enclosing upvalue */
} UpvalDesc;

typedef struct ObjProto {
    Obj obj;
    ObjString *name;
    Signature sig;
    int nupvals;
    UpvalDesc *upvals;
    uint8_t *code;
    int32_t *lines, *cols; /* one per code byte */
    uint32_t count, cap;
    Value *consts;
    uint32_t nconsts, constcap;
    int max_stack;         /* slots above base this function may use */
    bool simple;           /* no defaults, no *rest: positional calls bind directly */
    bool is_script;        /* the top level of a chunk */
    ObjSource *source;
    ObjNamespace *ns;      /* globals of the module it belongs to */
} ObjProto;

typedef struct ObjUpvalue {
    Obj obj;
    Value *loc;            /* the stack slot while open, &closed after */
    Value closed;
    struct ObjUpvalue *next_open;
} ObjUpvalue;

typedef struct ObjClosure {
    Obj obj;
    ObjProto *proto;
    int nupvals;
    ObjUpvalue *upvals[];
} ObjClosure;

typedef struct ObjNative {
    Obj obj;
    const mlp_native *def;
    Signature sig;
    bool raw;              /* params == NULL: positional, as given */
} ObjNative;

typedef struct ObjModule {
    Obj obj;
    ObjNamespace *ns;
    bool loading;
} ObjModule;

typedef struct ObjHandle {
    Obj obj;
    const mlp_class *cls;
    void *data;
} ObjHandle;

#define AS_OBJ(v) ((v).as.o)
#define AS_STRING(v) ((ObjString *)(v).as.o)
#define AS_LIST(v) ((ObjList *)(v).as.o)
#define AS_RECORD(v) ((ObjRecord *)(v).as.o)
#define AS_RANGE(v) ((ObjRange *)(v).as.o)
#define AS_CLOSURE(v) ((ObjClosure *)(v).as.o)
#define AS_NATIVE(v) ((ObjNative *)(v).as.o)
#define AS_MODULE(v) ((ObjModule *)(v).as.o)
#define AS_HANDLE(v) ((ObjHandle *)(v).as.o)
#define IS_NUM(v) ((v).type == MLP_T_NUMBER)
#define IS_OBJ(v) ((v).type >= MLP_T_STRING && (v).type <= MLP_T_HANDLE)
#define IS_UNDEF(v) ((v).type == MLP_T_UNDEF)
#define STR_CHARS(s) ((s)->buf->data)

static inline Value obj_val(mlp_type t, void *o) {
    Value v;
    v.type = t;
    v.as.o = (Obj *)o;
    return v;
}
static inline Value undef_val(void) {
    Value v;
    v.type = MLP_T_UNDEF;
    v.as.n = 0;
    return v;
}

/* ---- constructors (object.c) ---- */
ObjString *str_new(mlp_vm *vm, const char *s, size_t len);
ObjString *str_concat(mlp_vm *vm, ObjString *a, ObjString *b);
const char *str_cstr(mlp_vm *vm, ObjString *s);
uint32_t str_hash(ObjString *s);
bool str_eq(ObjString *a, ObjString *b);
bool str_eq_c(ObjString *a, const char *s, size_t len);
size_t utf8_count(const char *s, size_t len);
/* Byte length of the UTF-8 sequence starting with byte c (1 for invalid). */
int utf8_len(unsigned char c);

/* Lists hold at most LIST_MAX elements (the width of count); a longer
 * list is the runtime error list_too_long raises. */
#define LIST_MAX UINT32_MAX
_Noreturn void list_too_long(mlp_vm *vm, double n);
ObjList *list_new(mlp_vm *vm, uint32_t cap);
void list_push(mlp_vm *vm, ObjList *l, Value v);

ObjRecord *rec_new(mlp_vm *vm);
/* Entry number of key, or -1. */
int32_t rec_find(ObjRecord *r, ObjString *key);
int32_t rec_find_c(ObjRecord *r, const char *key, size_t len);
void rec_set(mlp_vm *vm, ObjRecord *r, ObjString *key, Value v);
/* Deletes key (later entries keep their order); false if absent. */
bool rec_remove(ObjRecord *r, ObjString *key, Value *old);

ObjRange *range_new(mlp_vm *vm, double start, double stop, double step);
double range_len(ObjRange *r);

ObjSource *source_new(mlp_vm *vm, const char *name, const char *text, size_t len);
ObjNamespace *ns_new(mlp_vm *vm, ObjString *name);
/* Slot of name, adding it (UNDEF) if absent. */
int ns_slot(mlp_vm *vm, ObjNamespace *ns, ObjString *name);
int ns_find(ObjNamespace *ns, const char *name, size_t len);

ObjProto *proto_new(mlp_vm *vm, ObjSource *src, ObjNamespace *ns);
ObjClosure *closure_new(mlp_vm *vm, ObjProto *p);
ObjUpvalue *upvalue_new(mlp_vm *vm, Value *slot);
ObjModule *module_new(mlp_vm *vm, ObjNamespace *ns);
void sig_free(mlp_vm *vm, Signature *s);

#endif
