/*
 * decl.h — the extension declarations as calls (internal).
 *
 * `activation`, `optimizer` and `extern` declarations are desugared here
 * into a call of a stdlib native whose arguments carry everything the
 * runtime needs as plain values, so the language itself stays free of
 * neural-network notions and the compiler just binds the call's result to
 * the declared name:
 *
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
 * (The last two take functions bound by `extern` as C kernels; whether
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
#ifndef MLP_DECL_H
#define MLP_DECL_H

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
Ast *decl_desugar(mlp_vm *vm, Ast *n, DeclError *err);

#endif
