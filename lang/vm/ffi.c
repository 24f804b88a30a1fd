/*
 * ffi.c — extern functions through dlopen + libffi (see ffi_lang.h; named so that <ffi.h> stays libffi's).
 *
 * One table, MLP_FFI_TYPES (ffi_lang.h), lists the C types: name, where
 * they may appear and libffi type (a `tensor` parameter becomes two C
 * arguments, pointer and int64 length).
 *
 * A bound function (ffi_fn) is reference-counted: the language handle holds
 * one reference, and a kernel built on it (a C activation or optimizer,
 * stdlib/ext.c) holds its own, since such a kernel may outlive the handle
 * (an optimizer cloned into a fit lives as long as its last clone). The
 * library stays open while any reference lives.
 */
#include <dlfcn.h>
#include <ffi.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ffi_lang.h"
#include "object.h"

static const char *const ctype_name[FFI_T_COUNT] = {
#define X(tag, name, par, ret, ft) name,
    MLP_FFI_TYPES(X)
#undef X
};
static const bool ctype_param[FFI_T_COUNT] = {
#define X(tag, name, par, ret, ft) par,
    MLP_FFI_TYPES(X)
#undef X
};
static const bool ctype_ret[FFI_T_COUNT] = {
#define X(tag, name, par, ret, ft) ret,
    MLP_FFI_TYPES(X)
#undef X
};

static ffi_type *ctype_ffi(ffi_ctype t)
{
    switch (t) {
#define X(tag, name, par, ret, ft) case FFI_T_##tag: return &ft;
        MLP_FFI_TYPES(X)
#undef X
    default: return &ffi_type_void;
    }
}

const char *ffi_type_name(ffi_ctype t) { return ctype_name[t]; }
bool ffi_type_is_param(ffi_ctype t) { return ctype_param[t]; }
bool ffi_type_is_return(ffi_ctype t) { return ctype_ret[t]; }

size_t ffi_type_list(char *buf, size_t size, bool ret)
{
    int last = -1, len = 0;
    for (int i = 0; i < FFI_T_COUNT; i++)
        if (ret ? ctype_ret[i] : ctype_param[i]) last = i;
    if (size) buf[0] = '\0';
    for (int i = 0; i < FFI_T_COUNT; i++) {
        if (!(ret ? ctype_ret[i] : ctype_param[i])) continue;
        const char *sep = len == 0 ? "" : ret && i == last ? " or " : ", ";
        int w = snprintf((size_t)len < size ? buf + len : NULL, (size_t)len < size ? size - (size_t)len : 0,
                         "%s%s", sep, ctype_name[i]);
        if (w > 0) len += w;
    }
    return (size_t)len;
}

enum { MAX_PARAMS = 16 };

typedef struct ffi_fn {
    char name[64];
    char sig[128];                /* "double(double,tensor)", as declared */
    int refs;
    void *lib;
    void (*fn)(void);
    ffi_ctype ret;
    int nparams, ncargs;
    ffi_ctype params[MAX_PARAMS];
    ffi_type *atypes[2 * MAX_PARAMS];
    ffi_cif cif;
} ffi_fn;

static void extern_destroy(ffi_fn *f)
{
    if (f->lib) dlclose(f->lib);
    free(f);
}

/* The handle's reference. */
static void extern_free(void *p) { ffi_fn_release(p); }

bool ffi_type_lookup(const char *s, size_t n, ffi_ctype *out)
{
    for (int i = 0; i < FFI_T_COUNT; i++)
        if (strlen(ctype_name[i]) == n && memcmp(ctype_name[i], s, n) == 0) {
            *out = (ffi_ctype)i;
            return true;
        }
    return false;
}

/* "double(double,tensor)" into f's types. */
static bool parse_sig(mlp_vm *vm, ffi_fn *f, const char *sig)
{
    const char *p = strchr(sig, '(');
    if (!p || sig[strlen(sig) - 1] != ')' || !ffi_type_lookup(sig, (size_t)(p - sig), &f->ret) ||
        !ctype_ret[f->ret])
        return mlp_raise(vm, "extern %s: bad signature '%s'", f->name, sig);
    p++;
    while (*p && *p != ')') {
        const char *e = p;
        while (*e && *e != ',' && *e != ')') e++;
        ffi_ctype t;
        if (!ffi_type_lookup(p, (size_t)(e - p), &t) || !ctype_param[t])
            return mlp_raise(vm, "extern %s: bad parameter type '%.*s'", f->name, (int)(e - p), p);
        if (f->nparams == MAX_PARAMS)
            return mlp_raise(vm, "extern %s: at most %d parameters", f->name, MAX_PARAMS);
        f->params[f->nparams++] = t;
        f->atypes[f->ncargs++] = ctype_ffi(t);
        if (t == FFI_T_TENSOR) f->atypes[f->ncargs++] = &ffi_type_sint64;
        p = *e == ',' ? e + 1 : e;
    }
    return true;
}

static bool n_extern(mlp_vm *vm, mlp_value *a, int n, mlp_value *out);

static bool whole(double x, double lo, double hi) { return x == floor(x) && x >= lo && x <= hi; }

/* A `tensor` argument: a list of numbers (copied into a float array that
 * is copied back after the call) or a handle whose class offers floats
 * (its own storage, or a copy for read-only kinds). *own: free *buf. */
static bool tensor_arg(mlp_vm *vm, const ffi_fn *f, int i, mlp_value v, float **buf, bool *own,
                       int64_t *len)
{
    if (v.type == MLP_T_HANDLE && AS_HANDLE(v)->cls->floats) {
        mlp_floats fl = {0};
        if (!AS_HANDLE(v)->cls->floats(vm, AS_HANDLE(v)->data, &fl)) return false;
        *buf = fl.data;
        *own = fl.copy;
        *len = fl.len;
        return true;
    }
    if (!mlp_is_list(v))
        return mlp_raise(vm, "%s: argument %d must be a tensor or a list of numbers, got %s",
                         f->name, i + 1, mlp_type_name(v));
    size_t n = mlp_list_len(v);
    *buf = malloc((n ? n : 1) * sizeof(float));
    if (!*buf) return mlp_raise(vm, "out of memory");
    *own = true;
    *len = (int64_t)n;
    for (size_t j = 0; j < n; j++) {
        mlp_value e = mlp_list_get(v, j);
        if (!mlp_is_number(e))
            return mlp_raise(vm, "%s: argument %d, element %zu is %s, not a number", f->name, i + 1,
                             j, mlp_type_name(e));
        (*buf)[j] = (float)mlp_as_number(e);
    }
    return true;
}

/* Calls f with the language values args; see ffi_lang.h for conversions. */
static bool extern_call(mlp_vm *vm, void *data, mlp_value *args, int nargs, mlp_value kwargs,
                        mlp_value *out)
{
    ffi_fn *f = data;
    if (mlp_is_record(kwargs) && mlp_record_len(kwargs))
        return mlp_raise(vm, "%s: an extern function takes no keyword arguments", f->name);
    if (nargs != f->nparams)
        return mlp_raise(vm, "%s: takes %d argument%s, got %d", f->name, f->nparams,
                         f->nparams == 1 ? "" : "s", nargs);
    union cval { int32_t i; int64_t l; float f; double d; void *p; } vals[2 * MAX_PARAMS];
    void *ptrs[2 * MAX_PARAMS];
    float *bufs[MAX_PARAMS] = {0};
    bool own[MAX_PARAMS] = {0};   /* bufs[i] is ours to free (a copy) */
    bool ok = true;
    int c = 0;
    for (int i = 0; i < nargs && ok; i++) {
        mlp_value v = args[i];
        ffi_ctype t = f->params[i];
        double x = mlp_is_number(v) ? mlp_as_number(v) : 0;
        switch (t) {
        case FFI_T_INT:
            if (!(ok = mlp_is_number(v) && whole(x, INT32_MIN, INT32_MAX)))
                mlp_raise(vm, "%s: argument %d must be an integer (int), got %s", f->name, i + 1,
                          mlp_type_name(v));
            vals[c].i = (int32_t)x;
            break;
        case FFI_T_LONG:
            if (!(ok = mlp_is_number(v) && whole(x, -9.2e18, 9.2e18)))
                mlp_raise(vm, "%s: argument %d must be an integer (long), got %s", f->name, i + 1,
                          mlp_type_name(v));
            vals[c].l = (int64_t)x;
            break;
        case FFI_T_FLOAT: case FFI_T_DOUBLE:
            if (!(ok = mlp_is_number(v)))
                mlp_raise(vm, "%s: argument %d must be a number, got %s", f->name, i + 1, mlp_type_name(v));
            if (t == FFI_T_FLOAT) vals[c].f = (float)x; else vals[c].d = x;
            break;
        case FFI_T_PTR:
            if (!(ok = mlp_is_nil(v) || (mlp_is_number(v) && whole(x, 0, 9.2e18))))
                mlp_raise(vm, "%s: argument %d must be nil or an address, got %s", f->name, i + 1,
                          mlp_type_name(v));
            vals[c].p = mlp_is_nil(v) ? NULL : (void *)(uintptr_t)x;
            break;
        case FFI_T_STR:
            if (!(ok = mlp_is_string(v)))
                mlp_raise(vm, "%s: argument %d must be a string, got %s", f->name, i + 1, mlp_type_name(v));
            vals[c].p = (void *)mlp_cstr(v);
            break;
        case FFI_T_TENSOR: {
            int64_t len = 0;
            if (!(ok = tensor_arg(vm, f, i, v, &bufs[i], &own[i], &len))) break;
            vals[c].p = bufs[i];
            ptrs[c] = &vals[c];
            c++;
            vals[c].l = len;
            break;
        }
        case FFI_T_VOID: case FFI_T_COUNT: ok = false; break;
        }
        ptrs[c] = &vals[c];
        c++;
    }
    if (ok) {
        union { ffi_arg a; ffi_sarg s; float f; double d; void *p; int64_t l; } r;
        memset(&r, 0, sizeof r);
        ffi_call(&f->cif, f->fn, &r, ptrs);
        for (int i = 0; i < nargs; i++)       /* the C side may write into lists */
            if (bufs[i] && mlp_is_list(args[i]))
                for (size_t j = 0; j < mlp_list_len(args[i]); j++)
                    mlp_list_set(args[i], j, mlp_number(bufs[i][j]));
        switch (f->ret) {
        case FFI_T_INT: *out = mlp_number((double)(int32_t)r.s); break;
        case FFI_T_LONG: *out = mlp_number((double)r.l); break;
        case FFI_T_FLOAT: *out = mlp_number(r.f); break;
        case FFI_T_DOUBLE: *out = mlp_number(r.d); break;
        case FFI_T_PTR: *out = mlp_number((double)(uintptr_t)r.p); break;
        case FFI_T_STR: *out = r.p ? mlp_string_cstr(vm, r.p) : mlp_nil(); break;
        default: *out = mlp_nil(); break;
        }
    }
    for (int i = 0; i < nargs; i++)
        if (own[i]) free(bufs[i]);
    return ok;
}

static mlp_value extern_tostring(mlp_vm *vm, void *data)
{
    char buf[96];
    snprintf(buf, sizeof buf, "<extern %s>", ((ffi_fn *)data)->name);
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
    ffi_fn *f = calloc(1, sizeof *f);
    if (!f) return mlp_raise(vm, "out of memory");
    snprintf(f->name, sizeof f->name, "%s", sym);
    snprintf(f->sig, sizeof f->sig, "%s", mlp_cstr(a[2]));
    f->refs = 1;
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
        extern_destroy(f);
        return mlp_raise(vm, "extern %s: library \"%s\" has no symbol '%s'", sym, lib, sym);
    }
    memcpy(&f->fn, &p, sizeof p);     /* object pointer to function pointer, as POSIX allows */
    if (ffi_prep_cif(&f->cif, FFI_DEFAULT_ABI, (unsigned)f->ncargs, ctype_ffi(f->ret), f->atypes) != FFI_OK) {
        extern_destroy(f);
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

/* ---- bound functions as kernels (ffi_lang.h) ------------------------------------ */

ffi_fn *ffi_fn_of(mlp_value v) { return mlp_handle_data(v, &extern_class); }

ffi_fn *ffi_fn_retain(ffi_fn *f)
{
    __atomic_add_fetch(&f->refs, 1, __ATOMIC_RELAXED);
    return f;
}

void ffi_fn_release(ffi_fn *f)
{
    if (f && __atomic_sub_fetch(&f->refs, 1, __ATOMIC_ACQ_REL) == 0) extern_destroy(f);
}

const char *ffi_fn_name(const ffi_fn *f) { return f->name; }
const char *ffi_fn_signature(const ffi_fn *f) { return f->sig; }
int ffi_fn_nparams(const ffi_fn *f) { return f->nparams; }
ffi_ctype ffi_fn_param_type(const ffi_fn *f, int i) { return f->params[i]; }
ffi_ctype ffi_fn_return_type(const ffi_fn *f) { return f->ret; }

void ffi_fn_call(const ffi_fn *f, void **args)
{
    union { ffi_arg a; double d; void *p; int64_t l; } r;      /* the result, ignored */
    /* ffi_call does not change the cif (it is shared by threads), only
     * its prototype lacks the const */
    ffi_call((ffi_cif *)&f->cif, f->fn, &r, args);
}
