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

/* builtins_seq.c, builtins_text.c, json.c: the further tables. */
bool builtins_seq_open(mlp_vm *vm);
bool builtins_text_open(mlp_vm *vm);
bool builtins_json_open(mlp_vm *vm);

struct ObjList;
/* The elements of a list (itself), range, string or record (keys) as a
 * list; a new list is not rooted. Raises "fn: argument 'param' ...". */
bool seq_items(mlp_vm *vm, const char *fn, const char *param, mlp_value v, struct ObjList **out);
/* Three-way order of numbers, strings, lists of these; raises naming fn. */
bool value_order(mlp_vm *vm, const char *fn, mlp_value a, mlp_value b, int *c);

#endif
