/*
 * ffi.c — extern functions through dlopen + libffi (see ffi_lang.h; named so that <ffi.h> stays libffi's).
 *
 * One table, FFI_TYPES, lists the C types: name, libffi type, how many C
 * arguments one declared parameter becomes.
 */
#include <dlfcn.h>
#include <ffi.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffi_lang.h"

#define FFI_TYPES(X) \
    X(INT,    "int",    ffi_type_sint32) \
    X(LONG,   "long",   ffi_type_sint64) \
    X(FLOAT,  "float",  ffi_type_float) \
    X(DOUBLE, "double", ffi_type_double) \
    X(PTR,    "ptr",    ffi_type_pointer) \
    X(STR,    "str",    ffi_type_pointer) \
    X(TENSOR, "tensor", ffi_type_pointer) \
    X(VOID,   "void",   ffi_type_void)

typedef enum {
#define X(t, s, ft) CT_##t,
    FFI_TYPES(X)
#undef X
    CT_COUNT
} ctype;

static const char *const ctype_name[CT_COUNT] = {
#define X(t, s, ft) s,
    FFI_TYPES(X)
#undef X
};

static ffi_type *ctype_ffi(ctype t)
{
    switch (t) {
#define X(tag, s, ft) case CT_##tag: return &ft;
        FFI_TYPES(X)
#undef X
    default: return &ffi_type_void;
    }
}

enum { MAX_PARAMS = 16 };

typedef struct extern_fn {
    char name[64];
    void *lib;
    void (*fn)(void);
    ctype ret;
    int nparams, ncargs;
    ctype params[MAX_PARAMS];
    ffi_type *atypes[2 * MAX_PARAMS];
    ffi_cif cif;
} extern_fn;

static void extern_free(void *p)
{
    extern_fn *f = p;
    if (f->lib) dlclose(f->lib);
    free(f);
}

static bool lookup_type(const char *s, size_t n, ctype *out)
{
    for (int i = 0; i < CT_COUNT; i++)
        if (strlen(ctype_name[i]) == n && memcmp(ctype_name[i], s, n) == 0) {
            *out = (ctype)i;
            return true;
        }
    return false;
}

/* "double(double,tensor)" into f's types. */
static bool parse_sig(mlp_vm *vm, extern_fn *f, const char *sig)
{
    const char *p = strchr(sig, '(');
    if (!p || sig[strlen(sig) - 1] != ')' || !lookup_type(sig, (size_t)(p - sig), &f->ret) ||
        f->ret == CT_TENSOR)
        return mlp_raise(vm, "extern %s: bad signature '%s'", f->name, sig);
    p++;
    while (*p && *p != ')') {
        const char *e = p;
        while (*e && *e != ',' && *e != ')') e++;
        ctype t;
        if (!lookup_type(p, (size_t)(e - p), &t) || t == CT_VOID)
            return mlp_raise(vm, "extern %s: bad parameter type '%.*s'", f->name, (int)(e - p), p);
        if (f->nparams == MAX_PARAMS)
            return mlp_raise(vm, "extern %s: at most %d parameters", f->name, MAX_PARAMS);
        f->params[f->nparams++] = t;
        f->atypes[f->ncargs++] = ctype_ffi(t);
        if (t == CT_TENSOR) f->atypes[f->ncargs++] = &ffi_type_sint64;
        p = *e == ',' ? e + 1 : e;
    }
    return true;
}

static bool n_extern(mlp_vm *vm, mlp_value *a, int n, mlp_value *out);

static bool whole(double x, double lo, double hi) { return x == floor(x) && x >= lo && x <= hi; }

/* Calls f with the language values args; see ffi_lang.h for conversions. */
static bool extern_call(mlp_vm *vm, void *data, mlp_value *args, int nargs, mlp_value kwargs,
                        mlp_value *out)
{
    extern_fn *f = data;
    if (mlp_is_record(kwargs) && mlp_record_len(kwargs))
        return mlp_raise(vm, "%s: an extern function takes no keyword arguments", f->name);
    if (nargs != f->nparams)
        return mlp_raise(vm, "%s: takes %d argument%s, got %d", f->name, f->nparams,
                         f->nparams == 1 ? "" : "s", nargs);
    union cval { int32_t i; int64_t l; float f; double d; void *p; } vals[2 * MAX_PARAMS];
    void *ptrs[2 * MAX_PARAMS];
    float *bufs[MAX_PARAMS] = {0};
    bool ok = true;
    int c = 0;
    for (int i = 0; i < nargs && ok; i++) {
        mlp_value v = args[i];
        ctype t = f->params[i];
        double x = mlp_is_number(v) ? mlp_as_number(v) : 0;
        switch (t) {
        case CT_INT:
            if (!(ok = mlp_is_number(v) && whole(x, INT32_MIN, INT32_MAX)))
                mlp_raise(vm, "%s: argument %d must be an integer (int), got %s", f->name, i + 1,
                          mlp_type_name(v));
            vals[c].i = (int32_t)x;
            break;
        case CT_LONG:
            if (!(ok = mlp_is_number(v) && whole(x, -9.2e18, 9.2e18)))
                mlp_raise(vm, "%s: argument %d must be an integer (long), got %s", f->name, i + 1,
                          mlp_type_name(v));
            vals[c].l = (int64_t)x;
            break;
        case CT_FLOAT: case CT_DOUBLE:
            if (!(ok = mlp_is_number(v)))
                mlp_raise(vm, "%s: argument %d must be a number, got %s", f->name, i + 1, mlp_type_name(v));
            if (t == CT_FLOAT) vals[c].f = (float)x; else vals[c].d = x;
            break;
        case CT_PTR:
            if (!(ok = mlp_is_nil(v) || (mlp_is_number(v) && whole(x, 0, 9.2e18))))
                mlp_raise(vm, "%s: argument %d must be nil or an address, got %s", f->name, i + 1,
                          mlp_type_name(v));
            vals[c].p = mlp_is_nil(v) ? NULL : (void *)(uintptr_t)x;
            break;
        case CT_STR:
            if (!(ok = mlp_is_string(v)))
                mlp_raise(vm, "%s: argument %d must be a string, got %s", f->name, i + 1, mlp_type_name(v));
            vals[c].p = (void *)mlp_cstr(v);
            break;
        case CT_TENSOR: {
            if (!(ok = mlp_is_list(v))) {
                mlp_raise(vm, "%s: argument %d must be a list of numbers (a float32 tensor), got %s",
                          f->name, i + 1, mlp_type_name(v));
                break;
            }
            size_t len = mlp_list_len(v);
            bufs[i] = malloc((len ? len : 1) * sizeof(float));
            if (!(ok = bufs[i] != NULL)) { mlp_raise(vm, "out of memory"); break; }
            for (size_t j = 0; j < len && ok; j++) {
                mlp_value e = mlp_list_get(v, j);
                if (!(ok = mlp_is_number(e)))
                    mlp_raise(vm, "%s: argument %d, element %zu is %s, not a number", f->name, i + 1,
                              j, mlp_type_name(e));
                else bufs[i][j] = (float)mlp_as_number(e);
            }
            vals[c].p = bufs[i];
            ptrs[c] = &vals[c];
            c++;
            vals[c].l = (int64_t)len;
            break;
        }
        case CT_VOID: case CT_COUNT: ok = false; break;
        }
        ptrs[c] = &vals[c];
        c++;
    }
    if (ok) {
        union { ffi_arg a; ffi_sarg s; float f; double d; void *p; int64_t l; } r;
        memset(&r, 0, sizeof r);
        ffi_call(&f->cif, f->fn, &r, ptrs);
        for (int i = 0; i < nargs; i++)       /* the C side may write into tensors */
            if (bufs[i])
                for (size_t j = 0; j < mlp_list_len(args[i]); j++)
                    mlp_list_set(args[i], j, mlp_number(bufs[i][j]));
        switch (f->ret) {
        case CT_INT: *out = mlp_number((double)(int32_t)r.s); break;
        case CT_LONG: *out = mlp_number((double)r.l); break;
        case CT_FLOAT: *out = mlp_number(r.f); break;
        case CT_DOUBLE: *out = mlp_number(r.d); break;
        case CT_PTR: *out = mlp_number((double)(uintptr_t)r.p); break;
        case CT_STR: *out = r.p ? mlp_string_cstr(vm, r.p) : mlp_nil(); break;
        default: *out = mlp_nil(); break;
        }
    }
    for (int i = 0; i < nargs; i++) free(bufs[i]);
    return ok;
}

static mlp_value extern_tostring(mlp_vm *vm, void *data)
{
    char buf[96];
    snprintf(buf, sizeof buf, "<extern %s>", ((extern_fn *)data)->name);
    return mlp_string_cstr(vm, buf);
}

static const mlp_class extern_class = {
    .name = "extern", .free = extern_free, .call = extern_call, .tostring = extern_tostring,
};

/* __extern(lib, symbol, signature) */
static bool n_extern(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    (void)n;
    if (!mlp_is_string(a[0]) || !mlp_is_string(a[1]) || !mlp_is_string(a[2]))
        return mlp_raise(vm, "__extern: library, symbol and signature must be strings");
    const char *lib = mlp_cstr(a[0]), *sym = mlp_cstr(a[1]);
    extern_fn *f = calloc(1, sizeof *f);
    if (!f) return mlp_raise(vm, "out of memory");
    snprintf(f->name, sizeof f->name, "%s", sym);
    if (!parse_sig(vm, f, mlp_cstr(a[2]))) { free(f); return false; }
    /* relative paths are relative to the working directory, as the shell's */
    f->lib = dlopen(lib, RTLD_NOW | RTLD_LOCAL);
    if (!f->lib) {
        const char *why = dlerror();
        free(f);
        return mlp_raise(vm, "extern %s: cannot load library \"%s\": %s", sym, lib,
                         why ? why : "unknown reason");
    }
    dlerror();
    void *p = dlsym(f->lib, sym);
    if (!p) {
        extern_free(f);
        return mlp_raise(vm, "extern %s: library \"%s\" has no symbol '%s'", sym, lib, sym);
    }
    memcpy(&f->fn, &p, sizeof p);     /* object pointer to function pointer, as POSIX allows */
    if (ffi_prep_cif(&f->cif, FFI_DEFAULT_ABI, (unsigned)f->ncargs, ctype_ffi(f->ret), f->atypes) != FFI_OK) {
        extern_free(f);
        return mlp_raise(vm, "extern %s: libffi cannot call this signature", sym);
    }
    *out = mlp_handle(vm, &extern_class, f);
    return true;
}

static const mlp_native natives[] = {
    { "__extern", "lib, symbol, signature", n_extern,
      "__extern(lib, symbol, signature): what `extern \"lib\" fn f(x: double) -> double` compiles to" },
};

bool ffi_open(mlp_vm *vm) { return mlp_register(vm, natives, 1); }
