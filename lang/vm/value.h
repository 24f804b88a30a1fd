/*
 * value.h — printing and comparing values, and the growable string buffer
 * everything that builds text uses (value.c; internal).
 */
#ifndef MLP_VALUE_H
#define MLP_VALUE_H

#include <stdbool.h>
#include <stddef.h>

#include "object.h"

/* Shortest round-trip text of a number; buf must hold 32 bytes. */
int fmt_number(double x, char *buf);
typedef struct StrBuf {
    char *p;
    size_t n, cap;
    mlp_vm *vm; /* set: running out of memory raises a runtime error (else aborts) */
} StrBuf;
void sb_add(StrBuf *b, const char *s, size_t n);
void sb_addc(StrBuf *b, const char *s);
void sb_printf(StrBuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends str(v) (quote: strings quoted, as inside containers). */
/* false: v nests more than MLP_MAX_VALUE_DEPTH levels (error raised when vm
 * is not NULL; b holds a partial text the caller discards). */
bool value_to_sb(mlp_vm *vm, StrBuf *b, Value v, bool quote);
/* `==`: 1 equal, 0 not, -1 the walk went past MLP_MAX_VALUE_DEPTH levels
 * (error raised when vm is not NULL). */
int values_equal(mlp_vm *vm, Value a, Value b);
const char *type_name(Value v);

#endif
