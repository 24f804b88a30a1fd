/*
 * expr.h — elementwise kernels compiled from expression text.
 *
 * A user-written activation (`activation swish(x) = x * sigmoid(x)`) or
 * optimizer update (`m = beta1 * m + (1 - beta1) * grad; param -= ...`)
 * arrives here as program text and becomes an rt_expr: a short list of
 * whole-chunk instructions that the runtime runs over float32 arrays, a
 * chunk of RT_EXPR_CHUNK elements at a time. Nothing is interpreted per
 * element: each instruction is one tight loop over a chunk that sits in L1.
 *
 * The text. Statements are separated by ';' or newlines:
 *
 *     NAME = expr          assigns an array variable (elementwise)
 *     let NAME = expr      a temporary: scalar if expr is, else an array
 *
 * Expressions: numbers, names, + - * / ** (right-associative, binding
 * tighter than unary minus, as in the language), comparisons
 * < <= > >= == != (1 or 0), parentheses and the functions of the table of
 * operations (ops.h: exp log sqrt abs tanh sigmoid sign erf with one
 * argument, max min with two). The text is usually written by sym.h's
 * printer from the same table.
 *
 * Names are of two kinds, given when compiling: array variables (one
 * float array of n elements each per run: x, y, param, grad, state slots)
 * and scalar inputs (doubles: hyperparameters, the step t). A sub-
 * expression that involves no array variable is a scalar: it is computed
 * once per rt_expr_prepare in double (so `lr * sqrt(1 - beta2 ** t) /
 * (1 - beta1 ** t)` costs nothing per element and rounds once, as the
 * built-in optimizers' coefficients do), then rounded to float. `b ** k`
 * with an integer k multiplies (repeated squaring), so it agrees with the
 * built-ins bit for bit; other powers go through exp and log.
 *
 * Statements run in order within each chunk; since every operation is
 * elementwise that is the same as running each statement over the whole
 * arrays in order (numpy's semantics), but with one pass over memory.
 * Identical sub-expressions of one statement are computed once.
 *
 * Numerics: float32 operations in the order written, no contraction;
 * exp, log, tanh, erf from mathf.h; sigmoid is 1 / (1 + exp(-x)) as in
 * activations.c. The same bits on every machine.
 *
 * Memory: rt_expr owns its instruction list (malloc'd); running allocates
 * nothing (chunk registers live on the stack). An rt_expr is immutable
 * after compilation and may be run from several threads at once, each
 * with its own uniforms array.
 */
#ifndef MLP_EXPR_H
#define MLP_EXPR_H

#include <stdbool.h>
#include <stddef.h>
#include "cpu.h"
#include "rt_error.h"

#define RT_EXPR_CHUNK 256
#define RT_EXPR_MAX_UNIFORMS 64   /* rt_expr_nuniforms never exceeds it */

typedef struct rt_expr rt_expr;

/* Compiles `text` over the array variables `arrays` and scalar inputs
 * `scalars` (names; the order fixes the run-time argument order). NULL +
 * err on a syntax error, an unknown name, assigning a scalar input or a
 * program too large for the register file. */
rt_expr *rt_expr_compile(const char *text, int narrays, const char *const *arrays,
                         int nscalars, const char *const *scalars, rt_error *err);
void rt_expr_free(rt_expr *e);

/* How many floats rt_expr_prepare writes (the scalars the kernel uses). */
int rt_expr_nuniforms(const rt_expr *e);
/* Computes the scalar part from the scalar inputs (in the compile order):
 * once per step for an optimizer, once per call for an activation. */
void rt_expr_prepare(const rt_expr *e, const double *scalars, float *uniforms);
/* One fused pass over n elements of the arrays (in the compile order; an
 * array variable that is only written may alias one that is read, e.g. an
 * in-place activation). */
void rt_expr_exec(const rt_expr *e, const float *uniforms, float *const *arrays, long n);
/* The same on the path `simd` (lowered to what the machine has), as the
 * built-in kernels dispatch: rt_expr_exec uses rt_cpu_simd(). Every path
 * gives the same bits (the instructions are elementwise); tests compare
 * them. */
void rt_expr_exec_simd(const rt_expr *e, rt_simd simd, const float *uniforms,
                       float *const *arrays, long n);
/* prepare + exec (uniforms on the stack), for callers with no per-step
 * phase; false only if the program has too many uniforms for the stack
 * buffer (never for programs rt_expr_compile accepted). */
void rt_expr_run(const rt_expr *e, const double *scalars, float *const *arrays, long n);

/* Whether array variable i is assigned by the program. */
bool rt_expr_writes(const rt_expr *e, int i);

/* A listing of the scalar and the vector program, one instruction a line
 * (for --disasm and tests); returns the length needed, like snprintf. */
size_t rt_expr_listing(const rt_expr *e, char *buf, size_t size);

/* Parses a scalar expression over named values and evaluates it in double
 * (a state's initial value from the hyperparameters). */
bool rt_expr_eval_scalar(const char *text, int n, const char *const *names, const double *values,
                         double *out, rt_error *err);

#endif
