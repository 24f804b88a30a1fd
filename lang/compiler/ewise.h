/*
 * ewise.h — elementwise expressions, as the compiler hands them to the
 * library that differentiates and compiles them.
 *
 * The bodies of `activation` and `optimizer` declarations are elementwise
 * arithmetic the language itself does not interpret: which functions exist,
 * how each is differentiated and how it is printed as kernel text belong to
 * the runtime's table of operations (runtime/expr/ops.h). The language core
 * may not see that table (it is compiled without runtime include paths),
 * so the compiler describes the expression in its own neutral terms and a
 * library the host installs (stdlib/ewise.c, by mlp_set_ewise) maps the
 * spellings to operations:
 *
 *   - an mlp_ew_tree is the expression as written: numbers, names already
 *     resolved by the declaration's scope (the variable, a kept name, or a
 *     BAD node carrying the scope's message), operators by their spelling
 *     ("+", "**", "-" for negation, "not"), calls by the callee's name, and
 *     OTHER nodes for anything that is not an expression of this kind
 *     (their text the AST kind, "list"). Nodes are in pre-order, so the
 *     first node at fault in reading order is the one reported, and each
 *     node's index maps back to its source span (the compiler keeps that
 *     map; no span crosses the interface);
 *   - the library answers with kernel text (as constants of the generated
 *     call, see desugar.h) or with the index of the node at fault and a
 *     message, which the compiler prints with a caret at that node.
 *
 * Building the tree walks the AST with an explicit stack, so a body of
 * any size is described without recursion; how deep an expression may be
 * is the library's limit, reported at the node where it is crossed.
 */
#ifndef MLP_EWISE_H
#define MLP_EWISE_H

#include <stdbool.h>
#include <stddef.h>

typedef struct mlp_vm mlp_vm;

typedef enum {
    MLP_EW_NUM,     /* num */
    MLP_EW_VAR,     /* the variable being differentiated (an activation's parameter) */
    MLP_EW_NAME,    /* text: a name kept as it is (an optimizer's param, grad, ...) */
    MLP_EW_OP,      /* text: operator spelling; nkids: 1 (prefix) or 2 (infix) */
    MLP_EW_CALL,    /* nkids: 1 + arguments, kid 0 the callee (an MLP_EW_FN node) */
    MLP_EW_FN,      /* text: the called name, or NULL when the callee is not a plain name */
    MLP_EW_BAD,     /* text: why this node is refused (unknown name, keyword argument) */
    MLP_EW_OTHER    /* text: the kind of a node that is no elementwise expression ("list") */
} mlp_ew_kind;

typedef struct mlp_ew_node {
    mlp_ew_kind kind;
    const char *text;
    double num;
    int nkids;
    int kids;       /* index of the first kid in mlp_ew_tree.kids */
} mlp_ew_node;

typedef struct mlp_ew_tree {
    const mlp_ew_node *nodes;
    const int *kids;        /* node indexes */
    const char *what;       /* the declaration, for messages: "activation swish" */
} mlp_ew_tree;

/* One statement of a kernel: `root` alone (MLP_EW_EXPR), `let name = root`,
 * `name = root`, or `name op= root` (op '+', '-', '*', '/'). */
typedef enum { MLP_EW_EXPR, MLP_EW_LET, MLP_EW_SET } mlp_ew_stmt_kind;
typedef struct mlp_ew_stmt {
    mlp_ew_stmt_kind kind;
    const char *name;
    int op;                 /* MLP_EW_SET: 0 for `=`, else the compound operator */
    int root;
} mlp_ew_stmt;

typedef struct mlp_ew_error {
    int node;               /* the node at fault */
    char msg[300];          /* "activation f: ..." */
} mlp_ew_error;

typedef struct mlp_ew_lib {
    /* The kernel texts of f (the tree at root) and of df/dx; malloc'd. */
    bool (*activation)(const mlp_ew_tree *t, int root, char **fwd, char **der, mlp_ew_error *err);
    /* The kernel text of n statements; malloc'd. */
    bool (*kernel)(const mlp_ew_tree *t, const mlp_ew_stmt *s, int n, char **text,
                   mlp_ew_error *err);
} mlp_ew_lib;

/* Installs the library (a static table) in vm; without one, `activation`
 * and `optimizer` bodies are compile errors. */
void mlp_set_ewise(mlp_vm *vm, const mlp_ew_lib *lib);

#endif
