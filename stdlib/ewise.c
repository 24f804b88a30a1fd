/*
 * ewise.c — the elementwise-expression library the compiler calls for
 * `activation` and `optimizer` bodies (lang/compiler/ewise.h), on the
 * runtime's table of operations (runtime/expr/ops.h through sym.h).
 *
 * The compiler describes an expression as written (operators by their
 * spelling, calls by name); this file maps each spelling to a row of the
 * table with rt_sym_op_find, builds the runtime's symbolic tree (which
 * simplifies as it goes), differentiates an activation, and prints kernel
 * text. Every message about an operation names what the table knows, so
 * a new row shows up in them by itself. The first node at fault in
 * reading order is reported (the tree is in pre-order), with the node's
 * index so that the compiler can point at it.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ewise.h"
#include "std.h"
#include "sym.h"

typedef struct conv {
    const mlp_ew_tree *t;
    rt_sym_arena *ar;
    mlp_ew_error *err;
} conv;

static const rt_sym *bad(conv *c, int node, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static const rt_sym *bad(conv *c, int node, const char *fmt, ...)
{
    char msg[260];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    c->err->node = node;
    snprintf(c->err->msg, sizeof c->err->msg, "%s: %s", c->t->what, msg);
    return NULL;
}

/* Node i as a symbolic tree, or NULL + err. Recursive, so the depth is
 * bounded here (the runtime's simplifier, differentiator and printer
 * recurse as deep). */
static const rt_sym *to_sym(conv *c, int i, int depth)
{
    const mlp_ew_node *n = &c->t->nodes[i];
    const int *kid = c->t->kids + n->kids;
    char list[200];
    if (depth > RT_SYM_MAX_DEPTH)
        return bad(c, i, "expression too deeply nested (more than %d levels)", RT_SYM_MAX_DEPTH);
    switch (n->kind) {
    case MLP_EW_NUM: return rt_sym_num(c->ar, n->num);
    case MLP_EW_VAR: return rt_sym_var(c->ar);
    case MLP_EW_NAME: return rt_sym_name(c->ar, n->text);
    case MLP_EW_BAD: return bad(c, i, "%s", n->text);
    case MLP_EW_OP: {
        int op = rt_sym_op_find(n->text, n->nkids, false);
        if (op < 0 && n->nkids == 1)
            return bad(c, i, "'%s' is not an elementwise arithmetic operation", n->text);
        if (op < 0) {
            rt_sym_arith_ops(list, sizeof list, " ");
            return bad(c, i, "cannot differentiate or fuse the operator '%s' (use %s and comparisons)",
                       n->text, list);
        }
        const rt_sym *a = to_sym(c, kid[0], depth + 1);
        const rt_sym *b = a && n->nkids == 2 ? to_sym(c, kid[1], depth + 1) : NULL;
        return a && (b || n->nkids == 1) ? rt_sym_op(c->ar, op, a, b) : NULL;
    }
    case MLP_EW_CALL: {
        const char *fn = c->t->nodes[kid[0]].text;
        int nargs = n->nkids - 1;
        if (!fn) {
            rt_sym_fn_names(list, sizeof list, " ");
            return bad(c, i, "only the elementwise functions %s may be called here", list);
        }
        int arity = rt_sym_fn_arity(fn);
        if (arity < 0) {
            rt_sym_fn_names(list, sizeof list, ", ");
            return bad(c, kid[0], "cannot differentiate or fuse the function '%s' (known: %s)", fn, list);
        }
        if (nargs != arity)
            return bad(c, i, "%s takes %d argument%s here, got %d", fn, arity, arity == 1 ? "" : "s",
                       nargs);
        const rt_sym *args[2] = {NULL, NULL};
        for (int k = 0; k < nargs; k++)
            if (!(args[k] = to_sym(c, kid[1 + k], depth + 1))) return NULL;
        return rt_sym_op(c->ar, rt_sym_op_find(fn, arity, true), args[0], args[1]);
    }
    case MLP_EW_FN:
    case MLP_EW_OTHER:
        break;
    }
    rt_sym_arith_ops(list, sizeof list, " ");
    return bad(c, i, "this %s is not an elementwise expression (numbers, names, %s, comparisons and "
               "elementwise functions only)", n->text ? n->text : "node", list);
}

static bool activation(const mlp_ew_tree *t, int root, char **fwd, char **der, mlp_ew_error *err)
{
    conv c = {t, rt_sym_arena_new(), err};
    if (!c.ar) abort();
    const rt_sym *f = to_sym(&c, root, 0);
    if (f) {
        *fwd = rt_sym_print(f);
        *der = rt_sym_print(rt_sym_diff(c.ar, f));
    }
    rt_sym_arena_free(c.ar);
    return f != NULL;
}

/* The statements in expr.h's kernel language, one a line. */
static bool kernel(const mlp_ew_tree *t, const mlp_ew_stmt *s, int n, char **text, mlp_ew_error *err)
{
    conv c = {t, rt_sym_arena_new(), err};
    if (!c.ar) abort();
    char *out = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&out, &len);
    if (!f) abort();
    bool ok = true;
    for (int i = 0; ok && i < n; i++) {
        const rt_sym *e = to_sym(&c, s[i].root, 0);
        if (!(ok = e != NULL)) break;
        char *x = rt_sym_print(e);
        switch (s[i].kind) {
        case MLP_EW_EXPR: fputs(x, f); break;
        case MLP_EW_LET: fprintf(f, "let %s = %s\n", s[i].name, x); break;
        case MLP_EW_SET:
            if (!s[i].op) fprintf(f, "%s = %s\n", s[i].name, x);
            else fprintf(f, "%s = %s %c (%s)\n", s[i].name, s[i].name, (char)s[i].op, x);
            break;
        }
        free(x);
    }
    fclose(f);
    rt_sym_arena_free(c.ar);
    if (ok) *text = out;
    else free(out);
    return ok;
}

static const mlp_ew_lib lib = {activation, kernel};

void std_open_ewise(mlp_vm *vm) { mlp_set_ewise(vm, &lib); }
