/*
 * desugar.h — the neural-network syntax as calls: the one place where the
 * language's constructs for models, sweeps and extensions become ordinary
 * code (internal).
 *
 * The compiler itself is general-purpose: it knows functions, calls,
 * lists and `let`, not layers or optimizers. Each construct below is
 * rewritten here into plain language that calls a stdlib native (names
 * beginning with `__`, bound by stdlib/), and the compiler compiles the
 * result like any other code. The whole mapping (LANGUAGE.md states the
 * same):
 *
 *   model NAME(params) { stmts }
 *     == fn NAME(params) { let (layers) = []; stmts'; return __model("NAME", (layers)) }
 *        where stmts' is stmts with every expression statement `e` directly
 *        in the body (also inside its if/while/for blocks, not inside
 *        nested functions or sweeps) turned into `__layer("NAME", (layers), e)`:
 *        the stdlib checks e where it is written (so an error about a layer
 *        points at it) and appends it. `(layers)` cannot be written in
 *        source, so the hidden list never clashes with a user's name.
 *   sweep a in A, b in B { body }
 *     == __sweep(["a", "b"], [A, B], false, fn(a, b) { body })      (grid)
 *   sweep [a, b] in P { body }
 *     == __sweep(["a", "b"], [P], true, fn(a, b) { body })          (listed points)
 *   sweep a in A repeat N sample M { body }     (either form, clauses after the variables)
 *     == __sweep(["a"], [A], false, fn(a) { body }, {repeat: N, sample: M})
 *        each clause `name expr` or `name(k=v, ...)` (then {k: v, ...}); __sweep
 *        checks the names. `halving(resource="r", ...)` (default "epochs") also
 *        appends the parameter r to the body, fn(a, r), and the field
 *        "(param)": true; `cache "f"` adds "(body)": a hash of the body's
 *        ast_dump (its syntax, not its text)
 *   activation NAME(x) = e
 *     == let NAME = __activation("NAME", "<e as kernel text>", "<de/dx as kernel text>")
 *   optimizer NAME(h1=d1, ...) { state s = i; let a = ...; s = ...; param -= ... }
 *     == let NAME = __optimizer("NAME", {h1: d1, ...}, {s: "<i>"}, "<body as kernel text>")
 *   extern "lib" fn f(a: double, p: tensor) -> double
 *     == let f = __extern("lib", "f", "double(double,tensor)")
 *   activation NAME = extern fwd, grad
 *     == let NAME = __c_activation("NAME", fwd, grad)
 *   optimizer NAME(h1=d1, ...) = extern update
 *     == let NAME = __c_optimizer("NAME", {h1: d1, ...}, update)
 *
 * Every synthesised node carries the span of the construct (the closing
 * `}` for a model's final call), so instructions and errors are located
 * as if the call had been written there.
 *
 * `model` and `sweep` are rewritten in place (the construct's own node
 * becomes the FNDECL or CALL, its subtrees moved under it), when the
 * compiler reaches them; declarations are returned as a new CALL tree
 * (the compiler binds it to the declared name, then frees it), since they
 * are checked and may fail.
 *
 * (The C-kernel declarations take functions bound by `extern`; whether
 * their declared types fit is checked by those natives, stdlib/ext.c.)
 * The kernel texts are runtime/expr.h's language, written by the library
 * behind ewise.h (the runtime's table of operations differentiates and
 * prints them), so `--disasm` shows the forward expression and its
 * derivative as the constants of the call.
 * Everything the compiler can know is checked here, with the span of the
 * part at fault: an expression the differentiator cannot handle, an
 * unknown name, a hyperparameter without a default, a C type that does
 * not exist. (A library or symbol that cannot be found is reported by
 * __extern when the declaration runs, at the declaration.)
 */
#ifndef MLP_DESUGAR_H
#define MLP_DESUGAR_H

#include "ast.h"

typedef struct mlp_vm mlp_vm;

/* What is wrong with a declaration, and where. */
typedef struct DeclError {
    Span span;
    char msg[300];
} DeclError;

/* A new CALL tree for the declaration n (ACTDECL, OPTDECL or EXTERN), or
 * NULL with err filled. May move default-value subtrees out of n. The
 * expressions of activation and optimizer bodies are checked and turned
 * into kernel text by the library the host installed (ewise.h). */
Ast *desugar_decl(mlp_vm *vm, Ast *n, DeclError *err);

/* MODEL n becomes the FNDECL of the function above. */
void desugar_model(Ast *n);
/* SWEEP n becomes the CALL of __sweep above. */
void desugar_sweep(Ast *n);

#endif
