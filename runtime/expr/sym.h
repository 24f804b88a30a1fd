/*
 * sym.h — symbolic elementwise expressions: building, simplifying,
 * differentiating and printing them as the kernel text expr.h compiles.
 *
 * This is where `activation` bodies are differentiated and `optimizer`
 * bodies are checked: the language hands its expression over (through
 * stdlib/ewise.c, which maps the source's operators and function names to
 * operations with rt_sym_op_find), and what comes back is kernel text in
 * expr.h's language. The operations are the rows of ops.h: their spelling,
 * precedence and derivative rule are read from there, so this file knows
 * no operation by name except in the simplification rules.
 *
 * An rt_sym is a small expression tree over numbers, one variable (the
 * activation's parameter, printed as `x`), other names kept as they are
 * (an optimizer's param, grad, state, hyperparameters, t) and the
 * operations. Differentiation applies each row's rule (sum, product,
 * quotient, power and chain rules; comparisons and sign are piecewise
 * constant; max(u, v) differentiates as (u > v) u' + (u <= v) v', so relu
 * written max(x, 0) has derivative 0 at 0, as TensorFlow's relu). Every
 * node is built through rt_sym_op, which simplifies as it goes: constants
 * fold, 0 and 1 vanish from sums and products, x ** 1 is x.
 *
 * Depth. Simplifying, differentiating and printing recurse over the tree,
 * so trees are at most RT_SYM_MAX_DEPTH levels deep: the builder
 * (stdlib/ewise.c) refuses deeper input with "expression too deeply
 * nested" at the node where the limit is crossed.
 *
 * Memory: every rt_sym lives in an rt_sym_arena and dies with it;
 * printing returns a malloc'd string the caller frees. Out of memory
 * aborts (as the compiler's own arenas do).
 */
#ifndef MLP_SYM_H
#define MLP_SYM_H

#include <stdbool.h>
#include <stddef.h>

#define RT_SYM_MAX_DEPTH 1000

typedef struct rt_sym rt_sym;
typedef struct rt_sym_arena rt_sym_arena;

rt_sym_arena *rt_sym_arena_new(void);
void rt_sym_arena_free(rt_sym_arena *a);

const rt_sym *rt_sym_num(rt_sym_arena *a, double v);
/* The variable an activation is differentiated by (printed `x`). */
const rt_sym *rt_sym_var(rt_sym_arena *a);
/* A name kept as it is (a constant for rt_sym_diff). */
const rt_sym *rt_sym_name(rt_sym_arena *a, const char *name);

/* The operation the source writes as `spell` with `arity` operands:
 * call true for a function call (`exp(u)`), false for an operator (`u + v`,
 * `-u`). -1 if there is none. */
int rt_sym_op_find(const char *spell, int arity, bool call);
/* The arity of the function named `name`, or -1 if there is none. */
int rt_sym_fn_arity(const char *name);
/* The names of the functions, in table order, joined by sep ("exp, log,
 * ..."); the operators that are not comparisons joined by sep ("+ - * /
 * **"). Both return the length needed, like snprintf. */
size_t rt_sym_fn_names(char *buf, size_t size, const char *sep);
size_t rt_sym_arith_ops(char *buf, size_t size, const char *sep);

/* op applied to a (and b for a binary op), simplified. */
const rt_sym *rt_sym_op(rt_sym_arena *ar, int op, const rt_sym *a, const rt_sym *b);
/* d e / d x; kept names are constants. */
const rt_sym *rt_sym_diff(rt_sym_arena *ar, const rt_sym *e);
/* The kernel text ("x * sigmoid(x)"), fully parenthesised only where
 * precedence needs it; malloc'd. */
char *rt_sym_print(const rt_sym *e);

#endif
