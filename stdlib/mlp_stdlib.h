/*
 * mlp_stdlib.h — what the language offers by name beyond the core builtins:
 * the neural-network natives (stdlib/std.h lists the files) and the
 * embedded .mlp modules that `import "name"` finds.
 */
#ifndef MLP_STDLIB_H
#define MLP_STDLIB_H

#include "mlp.h"

/* Registers every stdlib name in vm. False only when out of memory. */
bool mlp_stdlib_open(mlp_vm *vm);

#endif
