/*
 * gc.h — the heap: allocation with byte accounting and the tracing
 * collector (gc.c; internal).
 *
 * Every VM allocation goes through gc_alloc, which may collect first (see
 * mlp.h for the rooting rule); objects are linked into vm->objects and
 * freed by a sweep or by gc_free_all with the interpreter.
 */
#ifndef MLP_GC_H
#define MLP_GC_H

#include "object.h"

void *gc_alloc(mlp_vm *vm, void *p, size_t old, size_t new_size);
Obj *gc_new_obj(mlp_vm *vm, size_t size, int kind);
void gc_collect(mlp_vm *vm);
void gc_free_all(mlp_vm *vm);
void gc_mark_value(mlp_vm *vm, Value v);
void gc_mark_obj(mlp_vm *vm, Obj *o);
#define GC_ALLOC(vm, T, n) ((T *)gc_alloc((vm), NULL, 0, sizeof(T) * (size_t)(n)))
#define GC_FREE(vm, T, p, n) gc_alloc((vm), (p), sizeof(T) * (size_t)(n), 0)
#define GC_GROW(vm, T, p, old, n) \
    ((T *)gc_alloc((vm), (p), sizeof(T) * (size_t)(old), sizeof(T) * (size_t)(n)))

#endif
