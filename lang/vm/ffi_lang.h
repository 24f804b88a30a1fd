/*
 * ffi_lang.h — C functions of any shared library as language values, through
 * libffi (`extern "libm.so.6" fn cbrt(x: double) -> double`).
 *
 * `extern` compiles to __extern(lib, symbol, signature) (decl.h); that
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
/* "int", "long", "float", "double", "ptr", "str", "tensor" ("void" for a
 * return type). */
const char *ffi_fn_param_type(const ffi_fn *f, int i);
const char *ffi_fn_return_type(const ffi_fn *f);
/* Calls f, ignoring its result: args[k] points at the k-th C argument
 * (a `tensor` parameter is two of them), as libffi's avalue. Safe from
 * several threads at once. */
void ffi_fn_call(const ffi_fn *f, void **args);

#endif
