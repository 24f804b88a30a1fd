/*
 * stdlib.h — what the language offers by name beyond the core builtins.
 *
 * mlp_stdlib_open registers the stdlib's natives and hands the embedded
 * .mlp modules (generated from the stdlib's .mlp files into stdlib_mlp.inc)
 * to the interpreter, so `import "name"` finds them.
 *
 * Name clash: the build passes -Istdlib, so `#include <stdlib.h>` anywhere
 * finds this file first. It therefore pulls in the C library's <stdlib.h>
 * itself (#include_next, GCC and Clang), and every file keeps working.
 */
#include_next <stdlib.h>

#ifndef MLP_STDLIB_H
#define MLP_STDLIB_H

#include "mlp.h"

bool mlp_stdlib_open(mlp_vm *vm);

#endif
