/*
 * decl.c — activation, optimizer and extern declarations as native calls
 * (see decl.h).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "decl.h"
#include "vm.h"

static Ast *str_node(Span s, const char *text)
{
    return ast_str(AST_STR, s, text, strlen(text));
}

/* __native(args...) with the call's span at the declaration */
static Ast *native_call(Span s, const char *native)
{
    Ast *call = ast_new(AST_CALL, s);
    call->a = ast_str(AST_NAME, s, native, strlen(native));
    return call;
}

static bool fail(SymError *err, Span s, const char *fmt, const char *a, const char *b)
    __attribute__((format(printf, 3, 0)));
static bool fail(SymError *err, Span s, const char *fmt, const char *a, const char *b)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    err->span = s;
    snprintf(err->msg, sizeof err->msg, fmt, a, b);
#pragma GCC diagnostic pop
    return false;
}

/* ---- activation ---------------------------------------------------------------- */

typedef struct { const char *var, *what; } act_scope;

static SymNameKind act_resolve(void *ud, const char *name, char *msg, size_t size)
{
    const act_scope *sc = ud;
    if (strcmp(name, sc->var) == 0) return SYM_NAME_VAR;
    snprintf(msg, size, "unknown name '%s' (the expression may use its parameter '%s', numbers "
             "and elementwise functions)", name, sc->var);
    return SYM_NAME_BAD;
}

/* activation NAME = extern f, df  ==  __c_activation("NAME", f, df) */
static Ast *c_activation(Ast *n)
{
    Ast *call = native_call(n->span, "__c_activation");
    ast_push(call, str_node(n->span, n->str));
    ast_push(call, n->a);
    ast_push(call, n->b);
    n->a = n->b = NULL;          /* moved into the call */
    return call;
}

static Ast *activation(Ast *n, SymError *err)
{
    if (n->op == 'e') return c_activation(n);
    char what[160];
    snprintf(what, sizeof what, "activation %s", n->str);
    if (n->n != 1 || n->list[0]->a || n->list[0]->op) {
        fail(err, n->span, "%s: takes exactly one parameter without a default, e.g. "
             "`activation %s(x) = x * sigmoid(x)`", what, n->str);
        return NULL;
    }
    act_scope sc = {n->list[0]->str, what};
    SymArena *ar = sym_arena_new();
    if (!ar) return NULL;
    Ast *call = NULL;
    Sym *f = sym_from_ast(ar, n->a, act_resolve, &sc, what, err);
    if (f) {
        Sym *df = sym_diff(ar, f);
        char *ft = sym_print(f), *dt = sym_print(df);
        call = native_call(n->span, "__activation");
        ast_push(call, str_node(n->span, n->str));
        ast_push(call, str_node(n->a->span, ft));
        ast_push(call, str_node(n->a->span, dt));
        free(ft);
        free(dt);
    }
    sym_arena_free(ar);
    return call;
}

/* ---- optimizer ------------------------------------------------------------------ */

typedef enum { N_HYPER, N_STATE, N_PARAM, N_GRAD, N_T, N_LET } name_kind;

typedef struct opt_scope {
    const char *what;
    struct { const char *name; name_kind kind; } names[128];
    int n;
    bool hypers_only;      /* a state's initial value */
} opt_scope;

static int find(const opt_scope *sc, const char *name)
{
    for (int i = 0; i < sc->n; i++)
        if (strcmp(sc->names[i].name, name) == 0) return i;
    return -1;
}

static SymNameKind opt_resolve(void *ud, const char *name, char *msg, size_t size)
{
    const opt_scope *sc = ud;
    int i = find(sc, name);
    if (i >= 0 && (!sc->hypers_only || sc->names[i].kind == N_HYPER)) return SYM_NAME_KEEP;
    if (i >= 0)
        snprintf(msg, size, "a state's initial value may use only hyperparameters and numbers, "
                 "not '%s'", name);
    else
        snprintf(msg, size, "unknown name '%s' (in scope: param, grad, t, the hyperparameters, "
                 "states and lets)", name);
    return SYM_NAME_BAD;
}

static bool declare(opt_scope *sc, Span s, const char *name, name_kind kind, SymError *err)
{
    if (find(sc, name) >= 0) return fail(err, s, "%s: '%s' is already defined", sc->what, name);
    if (sc->n >= (int)(sizeof sc->names / sizeof sc->names[0]))
        return fail(err, s, "%s: too many names%s", sc->what, "");
    sc->names[sc->n].name = name;
    sc->names[sc->n].kind = kind;
    sc->n++;
    return true;
}

/* Kernel text of expression e, or NULL + err. */
static char *kernel_text(opt_scope *sc, const Ast *e, SymError *err)
{
    SymArena *ar = sym_arena_new();
    if (!ar) return NULL;
    Sym *s = sym_from_ast(ar, e, opt_resolve, sc, sc->what, err);
    char *t = s ? sym_print(s) : NULL;
    sym_arena_free(ar);
    return t;
}

/* The record {h1: d1, ...} of n's hyperparameters (defaults moved out of
 * n), or NULL + err for one without a default. */
static Ast *hyper_record(Ast *n, const char *what, opt_scope *sc, SymError *err)
{
    Ast *hypers = ast_new(AST_RECORD, n->span);
    for (int i = 0; i < n->n; i++) {
        Ast *p = n->list[i];
        if (!p->a || p->op) {
            fail(err, p->span, "%s: hyperparameter '%s' needs a default value (e.g. lr=0.01)",
                 what, p->str);
            ast_free(hypers);
            return NULL;
        }
        if (!declare(sc, p->span, p->str, N_HYPER, err)) {
            ast_free(hypers);
            return NULL;
        }
        Ast *f = ast_str(AST_FIELDINIT, p->span, p->str, p->len);
        f->a = p->a;            /* the default moves into the call */
        p->a = NULL;
        ast_push(hypers, f);
    }
    return hypers;
}

/* optimizer NAME(h=d, ...) = extern update
 *   ==  __c_optimizer("NAME", {h: d, ...}, update) */
static Ast *c_optimizer(Ast *n, const char *what, SymError *err)
{
    opt_scope sc;
    memset(&sc, 0, sizeof sc);
    sc.what = what;
    Ast *hypers = hyper_record(n, what, &sc, err);
    if (!hypers) return NULL;
    Ast *call = native_call(n->span, "__c_optimizer");
    ast_push(call, str_node(n->span, n->str));
    ast_push(call, hypers);
    ast_push(call, n->a);
    n->a = NULL;                 /* moved into the call */
    return call;
}

static Ast *optimizer(Ast *n, SymError *err)
{
    char what[160];
    snprintf(what, sizeof what, "optimizer %s", n->str);
    if (n->op == 'e') return c_optimizer(n, what, err);
    opt_scope sc;
    memset(&sc, 0, sizeof sc);
    sc.what = what;
    bool ok = declare(&sc, n->span, "param", N_PARAM, err) && declare(&sc, n->span, "grad", N_GRAD, err) &&
              declare(&sc, n->span, "t", N_T, err);
    Ast *hypers = ok ? hyper_record(n, what, &sc, err) : NULL;
    if (!hypers) return NULL;
    Ast *states = ast_new(AST_RECORD, n->span);
    StrBuf body = {0};
    bool assigns_param = false;
    for (int i = 0; ok && i < n->a->n; i++) {
        Ast *s = n->a->list[i];
        char *text = NULL;
        switch (s->kind) {
        case AST_STATE:
            sc.hypers_only = true;
            text = s->a ? kernel_text(&sc, s->a, err) : strdup("0");
            sc.hypers_only = false;
            if (!text || !(ok = declare(&sc, s->span, s->str, N_STATE, err))) { ok = false; break; }
            {
                Ast *f = ast_str(AST_FIELDINIT, s->span, s->str, s->len);
                f->a = str_node(s->span, text);
                ast_push(states, f);
            }
            break;
        case AST_LET:
            if (!(text = kernel_text(&sc, s->a, err)) || !(ok = declare(&sc, s->span, s->str, N_LET, err))) {
                ok = false;
                break;
            }
            sb_printf(&body, "let %s = %s\n", s->str, text);
            break;
        case AST_ASSIGN: {
            Ast *t = s->a;
            int k = t->kind == AST_NAME ? find(&sc, t->str) : -1;
            if (t->kind != AST_NAME || k < 0 ||
                (sc.names[k].kind != N_STATE && sc.names[k].kind != N_PARAM)) {
                ok = fail(err, t->span, "%s: only param and the states may be assigned%s", what,
                          t->kind == AST_NAME && k >= 0 ? " (grad, t, hyperparameters and lets are read-only)" : "");
                break;
            }
            if (!(text = kernel_text(&sc, s->b, err))) { ok = false; break; }
            if (sc.names[k].kind == N_PARAM) assigns_param = true;
            if (s->op == '=') sb_printf(&body, "%s = %s\n", t->str, text);
            else sb_printf(&body, "%s = %s %c (%s)\n", t->str, t->str, (char)s->op, text);
            break;
        }
        default:
            ok = fail(err, s->span, "%s: the body holds `state NAME = value`, `let` and assignments "
                      "to param or a state (whole-tensor arithmetic), not this %s", what,
                      ast_kind_name(s->kind));
        }
        free(text);
    }
    if (ok && !assigns_param)
        ok = fail(err, n->span, "%s: the body never updates param (e.g. `param -= lr * grad`)%s", what, "");
    Ast *call = NULL;
    if (ok) {
        call = native_call(n->span, "__optimizer");
        ast_push(call, str_node(n->span, n->str));
        ast_push(call, hypers);
        ast_push(call, states);
        ast_push(call, str_node(n->span, body.p ? body.p : ""));
    } else {
        ast_free(hypers);
        ast_free(states);
    }
    free(body.p);
    return call;
}

/* ---- extern -------------------------------------------------------------------- */

/* The C types an extern may name (runtime checks and marshalling in
 * stdlib/ext.c and lang/ffi.c follow the same list). */
static const char *const c_types[] = {
    "int", "long", "float", "double", "ptr", "str", "tensor", "void",
};

static bool known_type(const char *t, bool ret)
{
    for (size_t i = 0; i < sizeof c_types / sizeof c_types[0]; i++)
        if (strcmp(t, c_types[i]) == 0) return ret || strcmp(t, "void") != 0;
    return false;
}

static Ast *external(Ast *n, SymError *err)
{
    StrBuf sig = {0};
    const char *ret = n->c ? n->c->str : "void";
    if (!known_type(ret, true) || strcmp(ret, "tensor") == 0) {
        fail(err, n->c->span, "extern %s: unknown or unsupported return type '%s' (int, long, float, "
             "double, ptr, str or void)", n->str, ret);
        return NULL;
    }
    sb_printf(&sig, "%s(", ret);
    for (int i = 0; i < n->n; i++) {
        const Ast *t = n->list[i]->a;
        if (!known_type(t->str, false)) {
            fail(err, t->span, "extern %s: unknown C type '%s' (int, long, float, double, ptr, str, "
                 "tensor)", n->str, t->str);
            free(sig.p);
            return NULL;
        }
        sb_printf(&sig, "%s%s", i ? "," : "", t->str);
    }
    sb_addc(&sig, ")");
    Ast *call = native_call(n->span, "__extern");
    ast_push(call, str_node(n->b->span, n->b->str));
    ast_push(call, str_node(n->span, n->str));
    ast_push(call, str_node(n->span, sig.p));
    free(sig.p);
    return call;
}

Ast *decl_desugar(Ast *n, SymError *err)
{
    switch (n->kind) {
    case AST_ACTDECL: return activation(n, err);
    case AST_OPTDECL: return optimizer(n, err);
    case AST_EXTERN: return external(n, err);
    default:
        fail(err, n->span, "internal: %s is not a declaration%s", ast_kind_name(n->kind), "");
        return NULL;
    }
}
