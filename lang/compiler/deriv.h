/*
 * deriv.h — symbolic expressions for `activation` and `optimizer`
 * declarations: building them from the AST, differentiating, simplifying
 * and printing them as the kernel text runtime/expr.h compiles (internal).
 *
 * A Sym is a small expression tree over numbers, one variable (the
 * activation's parameter, printed as `x`), other names kept as they are
 * (an optimizer's param, grad, state, hyperparameters, t), the arithmetic
 * operators, comparisons (1 or 0, used as masks) and the elementwise
 * functions exp log sqrt abs tanh sigmoid sign erf max min.
 *
 * Differentiation applies the sum, product, quotient, power and chain
 * rules; comparisons and sign are piecewise constant (derivative 0);
 * max(u, v) differentiates as (u > v) u' + (u <= v) v' (so relu written
 * max(x, 0) has derivative 0 at 0, as TensorFlow's relu). Every node is
 * built through constructors that simplify as they go: constants fold,
 * 0 and 1 vanish from sums and products, x ** 1 is x.
 *
 * Memory: every Sym lives in a SymArena and dies with it; printing returns
 * a malloc'd string the caller frees. Nothing here reports errors itself:
 * a conversion that fails fills a SymError with the span of the offending
 * AST node and a message, for the compiler to print with a caret.
 */
#ifndef MLP_DERIV_H
#define MLP_DERIV_H

#include <stdbool.h>
#include "ast.h"

typedef struct Sym Sym;
typedef struct SymArena SymArena;

typedef struct SymError {
    Span span;
    char msg[300];
} SymError;

/* How a name in an expression resolves: the variable being
 * differentiated, a name kept as it is, or an error (msg filled). */
typedef enum { SYM_NAME_VAR, SYM_NAME_KEEP, SYM_NAME_BAD } SymNameKind;
typedef SymNameKind (*SymResolve)(void *ud, const char *name, char *msg, size_t size);

SymArena *sym_arena_new(void);
void sym_arena_free(SymArena *a);

/* The expression `n` as a Sym; NULL + err for anything outside the
 * elementwise language (`what` names the declaration in messages, e.g.
 * "activation swish"). */
Sym *sym_from_ast(SymArena *a, const Ast *n, SymResolve resolve, void *ud, const char *what,
                  SymError *err);
/* d e / d x (x: the SYM_NAME_VAR variable); kept names are constants. */
Sym *sym_diff(SymArena *a, const Sym *e);
/* The text runtime/expr.h reads ("x * sigmoid(x)"); malloc'd. */
char *sym_print(const Sym *e);

#endif
