/*
 * builtins.h — the core builtins of LANGUAGE.md (internal).
 *
 * They are ordinary natives registered from one table (builtins.c) when an
 * interpreter is created, so `:help` and the argument binder treat them like
 * any stdlib native.
 */
#ifndef MLP_BUILTINS_H
#define MLP_BUILTINS_H

#include "mlp.h"

/* Registers the core builtins; false only on a broken table. */
bool builtins_open(mlp_vm *vm);

#endif
