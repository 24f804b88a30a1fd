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
 *   tensor         a list of numbers, passed as TWO C arguments: a float32
 *                  array and its length (int64_t); what the function writes
 *                  into the array is copied back into the list
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

#endif
