/*
 * ffi_lang.h — C functions of any shared library as language values, through
 * libffi (`extern "libm.so.6" fn cbrt(x: double) -> double`).
 *
 * `extern` compiles to __extern(lib, symbol, signature) (desugar.h); that
 * native opens the library (dlopen, kept open while any function bound
 * from it lives), finds the symbol and prepares a libffi call interface
 * for the declared types, so a wrong library, a missing symbol or a bad
 * signature is an error at the declaration, not a crash at the call. The
 * value is a callable handle of class "extern".
 *
 * Types and how arguments convert:
 *   int, long      a number that is an integer in range   -> int32_t, int64_t
 *   float, double  a number                               -> float, double
 *   ptr            nil (NULL) or a number (an address)    -> void *
 *   str            a string (NUL-terminated, borrowed for the call) -> const char *
 *   tensor         passed as TWO C arguments: a float32 array and its
 *                  length (int64_t), all values flat in row-major order.
 *                  A list of numbers is copied in, and what the function
 *                  writes is copied back into the list. A tensor handle
 *                  (any class with a `floats` callback, mlp.h: predict's
 *                  results) passes its own storage, so writes are seen. A
 *                  dataset's .x (bytes scaled to floats) and .y (one-hot
 *                  labels) are passed as copies: datasets never change, so
 *                  writes into those are discarded.
 * Returns: int, long, float, double (numbers), ptr (a number, the
 * address), str (a copied string, nil for NULL), void (nil).
 *
 * Nothing here can protect against a declaration that lies about the C
 * function's real signature: that is the user's contract, as in any FFI.
 */
#ifndef MLP_FFI_LANG_H
#define MLP_FFI_LANG_H

#include <stdbool.h>
#include "mlp.h"

/* Registers __extern. */
bool ffi_open(mlp_vm *vm);

/* ---- the C types: one table ----------------------------------------------
 *
 * Every C type an `extern` may name is one row: its name in the language,
 * whether it may be a parameter and a return type, and its libffi type
 * (read only by ffi.c). The compiler checks declarations against it
 * (decl.c, whose messages list the rows), ffi.c marshals by it, and the
 * stdlib's kernel natives compare declared types by enum, not by text. */
/*    tag     name      param ret  libffi type */
#define MLP_FFI_TYPES(X) \
    X(INT,    "int",    1,    1,   ffi_type_sint32) \
    X(LONG,   "long",   1,    1,   ffi_type_sint64) \
    X(FLOAT,  "float",  1,    1,   ffi_type_float) \
    X(DOUBLE, "double", 1,    1,   ffi_type_double) \
    X(PTR,    "ptr",    1,    1,   ffi_type_pointer) \
    X(STR,    "str",    1,    1,   ffi_type_pointer) \
    X(TENSOR, "tensor", 1,    0,   ffi_type_pointer) \
    X(VOID,   "void",   0,    1,   ffi_type_void)

typedef enum {
#define X(tag, name, par, ret, ft) FFI_T_##tag,
    MLP_FFI_TYPES(X)
#undef X
    FFI_T_COUNT
} ffi_ctype;

/* The type named by the n bytes at s; false if there is none. */
bool ffi_type_lookup(const char *s, size_t n, ffi_ctype *out);
const char *ffi_type_name(ffi_ctype t);
bool ffi_type_is_param(ffi_ctype t);
bool ffi_type_is_return(ffi_ctype t);
/* The parameter types (ret false) or return types joined for a message:
 * "int, long, ..., tensor" / "int, long, ..., str or void". Returns the
 * length needed, like snprintf. */
size_t ffi_type_list(char *buf, size_t size, bool ret);

/* ---- bound functions as kernels ------------------------------------------
 *
 * For stdlib natives that run a bound C function as a kernel (a C
 * activation or optimizer update, stdlib/ext.c) instead of calling it with
 * language values. Such a native checks the declared types it expects,
 * takes its own reference (the kernel may outlive the language value) and
 * calls with raw C arguments. */

typedef struct ffi_fn ffi_fn;

/* The function behind an extern value, or NULL if v is not one (borrowed
 * from the value: retain it to keep it). */
ffi_fn *ffi_fn_of(mlp_value v);
/* Reference counting (thread-safe); the last release closes the library. */
ffi_fn *ffi_fn_retain(ffi_fn *f);
void ffi_fn_release(ffi_fn *f);

const char *ffi_fn_name(const ffi_fn *f);
/* The declared types as text: "void(ptr,ptr,long)". */
const char *ffi_fn_signature(const ffi_fn *f);
int ffi_fn_nparams(const ffi_fn *f);
ffi_ctype ffi_fn_param_type(const ffi_fn *f, int i);
ffi_ctype ffi_fn_return_type(const ffi_fn *f);
/* Calls f, ignoring its result: args[k] points at the k-th C argument
 * (a `tensor` parameter is two of them), as libffi's avalue. Safe from
 * several threads at once. */
void ffi_fn_call(const ffi_fn *f, void **args);

#endif
