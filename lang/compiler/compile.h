/*
 * compile.h — AST to bytecode (internal).
 *
 * A chunk (a script, a module, a REPL entry) compiles into one top-level
 * prototype whose globals live in a namespace: every name the chunk defines
 * at top level (let, fn, model, import) gets a slot before any code is
 * compiled, so reads resolve to slot numbers, never to hash lookups at run
 * time. A name that is not a local, an upvalue, a global of the chunk or a
 * builtin is a compile error (in the REPL it becomes a global slot that is
 * checked at run time, since a later entry may define it).
 *
 * The garbage collector is paused while compiling (the prototypes under
 * construction are not yet reachable); the caller must root the result.
 */
#ifndef MLP_COMPILE_H
#define MLP_COMPILE_H

#include "ast.h"
#include "vm.h"

typedef struct CompileOpts {
    bool repl;      /* echo a final expression statement; lenient names */
    bool quiet;     /* count errors without printing them */
} CompileOpts;

/* Returns the top-level prototype, or NULL after reporting errors. */
ObjProto *compile_chunk(mlp_vm *vm, Ast *root, ObjSource *src, ObjNamespace *ns,
                        CompileOpts opts, int *nerrors);

/* Parses + compiles source text: the path every entry point takes. *status
 * gets MLP_OK, MLP_COMPILE_ERROR or MLP_INCOMPLETE. */
ObjProto *compile_source(mlp_vm *vm, const char *name, const char *src, size_t len,
                         ObjNamespace *ns, CompileOpts opts, mlp_status *status);

#endif
