/*
 * desugar.c — models, sweeps and the extension declarations (activation,
 * optimizer, extern) as ordinary code calling stdlib natives (see
 * desugar.h for the mapping).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "desugar.h"
#include "ewise.h"
#include "ffi_lang.h"
#include "value.h"
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

static bool fail(DeclError *err, Span s, const char *fmt, const char *a, const char *b)
    __attribute__((format(printf, 3, 0)));
static bool fail(DeclError *err, Span s, const char *fmt, const char *a, const char *b)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    err->span = s;
    snprintf(err->msg, sizeof err->msg, fmt, a, b);
#pragma GCC diagnostic pop
    return false;
}

/* ---- model and sweep ------------------------------------------------------------ */

static Ast *name_node(Span s, const char *name) { return ast_str(AST_NAME, s, name, strlen(name)); }

#define LAYERS "(layers)"

/* Every expression statement of the statements in block b (and in the
 * blocks of its if/while/for, not in nested functions or sweeps, which are
 * expressions) becomes `__layer("NAME", (layers), e)`. */
static void append_layers(Ast *b, Ast *f)
{
    if (!b) return;
    if (b->kind == AST_IF) {
        append_layers(b->b, f);
        append_layers(b->c, f);
        return;
    }
    if (b->kind != AST_BLOCK) return;
    for (int i = 0; i < b->n; i++) {
        Ast *s = b->list[i];
        switch (s->kind) {
        case AST_EXPR: {
            /* __layer("NAME", (layers), e) at e: an error about this layer
             * points at it, not at the end of the body */
            Ast *call = native_call(s->a->span, "__layer");
            ast_push(call, ast_str(AST_STR, s->a->span, f->str, f->len));
            ast_push(call, name_node(s->a->span, LAYERS));
            ast_push(call, s->a);
            s->a = call;
            break;
        }
        case AST_IF: append_layers(s, f); break;
        case AST_WHILE:
        case AST_FOR: append_layers(s->b, f); break;
        default: break;
        }
    }
}

void desugar_model(Ast *n)
{
    Ast *f = n->a, *body = f->a;
    append_layers(body, f);
    /* let (layers) = [] first */
    Ast *let = ast_str(AST_LET, body->span, LAYERS, strlen(LAYERS));
    let->a = ast_new(AST_LIST, body->span);
    ast_push(body, let);
    memmove(body->list + 1, body->list, sizeof *body->list * (size_t)(body->n - 1));
    body->list[0] = let;
    /* return __model("NAME", (layers)) last, at the closing brace */
    Span end = {body->span.end_line, body->span.end_col, 0, 0};
    Ast *call = ast_new(AST_CALL, end);
    call->a = name_node(end, "__model");
    ast_push(call, ast_str(AST_STR, end, f->str, f->len));
    ast_push(call, name_node(end, LAYERS));
    Ast *ret = ast_new(AST_RETURN, end);
    ret->a = call;
    ast_push(body, ret);
    n->kind = AST_FNDECL;
}

void desugar_sweep(Ast *n)
{
    Ast *names = ast_new(AST_LIST, n->span);
    for (int i = 0; i < n->n; i++) ast_push(names, ast_str(AST_STR, n->span, n->list[i]->str, n->list[i]->len));
    Ast *fn = ast_new(AST_FUNC, n->span);      /* fn(a, b) { body }: the vars move here */
    fn->list = n->list;
    fn->n = n->n;
    fn->cap = n->cap;
    fn->a = n->a;
    Ast *sources = n->b;
    Ast *listed = ast_new(n->op ? AST_TRUE : AST_FALSE, n->span);
    Ast *clauses = n->c;   /* {repeat: 5, ...}: a fifth argument, only when given */
    n->c = NULL;
    /* cache "file": the hidden field "(body)" is a hash of the body's
     * syntax tree (not its text: comments and spacing do not count), so
     * a cached point is reused only while the body is the same. */
    for (int i = 0; clauses && i < clauses->n; i++) {
        if (strcmp(clauses->list[i]->str, "cache") != 0) continue;
        char *dump = ast_dump(fn->a);
        unsigned long long h = 1469598103934665603ULL;
        for (const char *p = dump; p && *p; p++) h = (h ^ (unsigned char)*p) * 1099511628211ULL;
        free(dump);
        char hex[17];
        snprintf(hex, sizeof hex, "%016llx", h);
        Ast *f = ast_str(AST_FIELDINIT, n->span, "(body)", 6);
        f->a = ast_str(AST_STR, n->span, hex, 16);
        ast_push(clauses, f);
        break;
    }
    /* halving(resource="epochs", ...): the budget is the body's variable
     * after the sweep's own, named by the string (default "epochs"); the
     * hidden field "(param)" tells __sweep the parameter is there. */
    for (int i = 0; clauses && i < clauses->n; i++) {
        Ast *f = clauses->list[i];
        if (strcmp(f->str, "halving") != 0 || !f->a || f->a->kind != AST_RECORD) continue;
        Ast *res = NULL;
        for (int j = 0; j < f->a->n; j++)
            if (strcmp(f->a->list[j]->str, "resource") == 0) res = f->a->list[j];
        if (!res) {
            res = ast_str(AST_FIELDINIT, f->span, "resource", 8);
            res->a = ast_str(AST_STR, f->span, "epochs", 6);
            ast_push(f->a, res);
        }
        if (!res->a || res->a->kind != AST_STR) break;
        ast_push(fn, ast_str(AST_PARAM, res->a->span, res->a->str, res->a->len));
        Ast *mark = ast_str(AST_FIELDINIT, f->span, "(param)", 7);
        mark->a = ast_new(AST_TRUE, f->span);
        ast_push(f->a, mark);
        break;
    }
    n->list = NULL;
    n->n = n->cap = 0;
    n->kind = AST_CALL;
    n->op = 0;
    n->a = name_node(n->span, "__sweep");
    n->b = NULL;
    ast_push(n, names);
    ast_push(n, sources);
    ast_push(n, listed);
    ast_push(n, fn);
    if (clauses) ast_push(n, clauses);
}

/* ---- elementwise bodies, described for the library (ewise.h) ------------------- */

/* How a name in an expression resolves: the variable being
 * differentiated, a name kept as it is, or an error (msg filled). */
typedef enum { EW_NAME_VAR, EW_NAME_KEEP, EW_NAME_BAD } EwNameKind;
typedef EwNameKind (*EwResolve)(void *ud, const char *name, char *msg, size_t size);

/* The nodes of one declaration's expressions, with the AST node each came
 * from (for the span of an error). */
typedef struct EwBuild {
    mlp_ew_node *nodes;
    const Ast **from;
    int n, cap;
    int *kids;
    int nk, kcap;
    char **owned;           /* BAD nodes' messages */
    int nown;
    EwResolve resolve;
    void *ud;
} EwBuild;

static void *grow(void *p, int *cap, int need, size_t size)
{
    if (need <= *cap) return p;
    int nc = *cap ? *cap : 16;
    while (nc < need) nc *= 2;
    p = ast_realloc(p, (size_t)nc * size); /* never NULL (ast.h) */
    *cap = nc;
    return p;
}

static int ew_node(EwBuild *b, const Ast *from, mlp_ew_kind kind, const char *text, int nkids)
{
    int cap = b->cap;
    b->nodes = grow(b->nodes, &cap, b->n + 1, sizeof *b->nodes);
    b->from = grow(b->from, &b->cap, b->n + 1, sizeof *b->from);
    b->kids = grow(b->kids, &b->kcap, b->nk + nkids, sizeof *b->kids);
    mlp_ew_node *e = &b->nodes[b->n];
    memset(e, 0, sizeof *e);
    e->kind = kind;
    e->text = text;
    e->nkids = nkids;
    e->kids = b->nk;
    b->nk += nkids;
    b->from[b->n] = from;
    return b->n++;
}

static const char *own(EwBuild *b, const char *msg)
{
    char **p = realloc(b->owned, (size_t)(b->nown + 1) * sizeof *p);
    if (!p) abort();
    b->owned = p;
    if (!(p[b->nown] = strdup(msg))) abort();
    return p[b->nown++];
}

static void ew_free(EwBuild *b)
{
    for (int i = 0; i < b->nown; i++) free(b->owned[i]);
    free(b->owned);
    free(b->nodes);
    free(b->from);
    free(b->kids);
}

/* Appends the expression n in pre-order; returns its root. An explicit
 * stack instead of recursion: the depth of n is not bounded here. */
static int ew_add(EwBuild *b, const Ast *n)
{
    typedef struct { const Ast *ast; int slot; bool fn; } item;
    item *stack = NULL;
    int top = 0, cap = 0, root = b->n;
    stack = grow(stack, &cap, 1, sizeof *stack);
    stack[top++] = (item){n, -1, false};
    while (top > 0) {
        item it = stack[--top];
        const Ast *a = it.ast;
        int k;
        const Ast *kid[2] = {NULL, NULL};
        int nk = 0;
        if (it.fn) {
            k = ew_node(b, a, MLP_EW_FN, a->kind == AST_NAME ? a->str : NULL, 0);
        } else {
            switch (a->kind) {
            case AST_NUM:
                k = ew_node(b, a, MLP_EW_NUM, NULL, 0);
                b->nodes[k].num = a->num;
                break;
            case AST_NAME: {
                char msg[200] = "";
                switch (b->resolve(b->ud, a->str, msg, sizeof msg)) {
                case EW_NAME_VAR: k = ew_node(b, a, MLP_EW_VAR, NULL, 0); break;
                case EW_NAME_KEEP: k = ew_node(b, a, MLP_EW_NAME, a->str, 0); break;
                default: k = ew_node(b, a, MLP_EW_BAD, own(b, msg), 0); break;
                }
                break;
            }
            case AST_UNARY:
            case AST_BINARY: {
                char one[2];
                const char *t = ast_op_text(a->op, one);
                if (t == one) t = own(b, one);
                kid[0] = a->a;
                kid[1] = a->b;
                nk = a->kind == AST_UNARY ? 1 : 2;
                k = ew_node(b, a, MLP_EW_OP, t, nk);
                break;
            }
            case AST_CALL:
                nk = 1 + a->n;
                k = ew_node(b, a, MLP_EW_CALL, NULL, nk);
                break;
            case AST_KWARG:
                k = ew_node(b, a, MLP_EW_BAD, "keyword arguments are not allowed here", 0);
                break;
            default:
                k = ew_node(b, a, MLP_EW_OTHER, ast_kind_name(a->kind), 0);
                break;
            }
        }
        if (it.slot >= 0) b->kids[it.slot] = k;
        /* kids pushed last first, so they are numbered in reading order */
        stack = grow(stack, &cap, top + nk, sizeof *stack);
        int first = b->nodes[k].kids;
        if (!it.fn && a->kind == AST_CALL) {
            for (int i = a->n - 1; i >= 0; i--) stack[top++] = (item){a->list[i], first + 1 + i, false};
            stack[top++] = (item){a->a, first, true};
        } else {
            for (int i = nk - 1; i >= 0; i--) stack[top++] = (item){kid[i], first + i, false};
        }
    }
    free(stack);
    return root;
}

static mlp_ew_tree ew_tree(const EwBuild *b, const char *what)
{
    return (mlp_ew_tree){b->nodes, b->kids, what};
}

/* The library, or false + err when the host installed none. */
static const mlp_ew_lib *ew_lib(mlp_vm *vm, Span s, const char *what, DeclError *err)
{
    if (vm->ewise) return vm->ewise;
    fail(err, s, "%s: elementwise expressions need the standard library%s", what, "");
    return NULL;
}

static bool ew_fail(const EwBuild *b, const mlp_ew_error *e, DeclError *err)
{
    err->span = b->from[e->node]->span;
    snprintf(err->msg, sizeof err->msg, "%s", e->msg);
    return false;
}

void mlp_set_ewise(mlp_vm *vm, const mlp_ew_lib *lib) { vm->ewise = lib; }

/* ---- activation ---------------------------------------------------------------- */

typedef struct { const char *var, *what; } act_scope;

static EwNameKind act_resolve(void *ud, const char *name, char *msg, size_t size)
{
    const act_scope *sc = ud;
    if (strcmp(name, sc->var) == 0) return EW_NAME_VAR;
    snprintf(msg, size, "unknown name '%s' (the expression may use its parameter '%s', numbers "
             "and elementwise functions)", name, sc->var);
    return EW_NAME_BAD;
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

static Ast *activation(mlp_vm *vm, Ast *n, DeclError *err)
{
    if (n->op == 'e') return c_activation(n);
    char what[160];
    snprintf(what, sizeof what, "activation %s", n->str);
    if (n->n != 1 || n->list[0]->a || n->list[0]->op) {
        fail(err, n->span, "%s: takes exactly one parameter without a default, e.g. "
             "`activation %s(x) = x * sigmoid(x)`", what, n->str);
        return NULL;
    }
    const mlp_ew_lib *lib = ew_lib(vm, n->span, what, err);
    if (!lib) return NULL;
    act_scope sc = {n->list[0]->str, what};
    EwBuild b = {.resolve = act_resolve, .ud = &sc};
    int root = ew_add(&b, n->a);
    mlp_ew_tree t = ew_tree(&b, what);
    mlp_ew_error e;
    char *ft = NULL, *dt = NULL;
    Ast *call = NULL;
    if (lib->activation(&t, root, &ft, &dt, &e)) {
        call = native_call(n->span, "__activation");
        ast_push(call, str_node(n->span, n->str));
        ast_push(call, str_node(n->a->span, ft));
        ast_push(call, str_node(n->a->span, dt));
        free(ft);
        free(dt);
    } else {
        ew_fail(&b, &e, err);
    }
    ew_free(&b);
    return call;
}

/* ---- optimizer ------------------------------------------------------------------ */

typedef enum { N_HYPER, N_STATE, N_PARAM, N_GRAD, N_T, N_LET } name_kind;

typedef struct opt_scope {
    const char *what;
    const mlp_ew_lib *lib;
    EwBuild b;
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

static EwNameKind opt_resolve(void *ud, const char *name, char *msg, size_t size)
{
    const opt_scope *sc = ud;
    int i = find(sc, name);
    if (i >= 0 && (!sc->hypers_only || sc->names[i].kind == N_HYPER)) return EW_NAME_KEEP;
    if (i >= 0)
        snprintf(msg, size, "a state's initial value may use only hyperparameters and numbers, "
                 "not '%s'", name);
    else
        snprintf(msg, size, "unknown name '%s' (in scope: param, grad, t, the hyperparameters, "
                 "states and lets)", name);
    return EW_NAME_BAD;
}

static bool declare(opt_scope *sc, Span s, const char *name, name_kind kind, DeclError *err)
{
    if (find(sc, name) >= 0) return fail(err, s, "%s: '%s' is already defined", sc->what, name);
    if (sc->n >= (int)(sizeof sc->names / sizeof sc->names[0]))
        return fail(err, s, "%s: too many names%s", sc->what, "");
    sc->names[sc->n].name = name;
    sc->names[sc->n].kind = kind;
    sc->n++;
    return true;
}

/* The kernel statement `kind name op= e` (its root in *st), checked by
 * the library now so that errors come in the order of the source; NULL +
 * err when it is refused. */
static bool kernel_stmt(opt_scope *sc, mlp_ew_stmt_kind kind, const char *name, int op, const Ast *e,
                        mlp_ew_stmt *st, DeclError *err)
{
    *st = (mlp_ew_stmt){kind, name, op, ew_add(&sc->b, e)};
    mlp_ew_tree t = ew_tree(&sc->b, sc->what);
    mlp_ew_error ee;
    char *text = NULL;
    if (!sc->lib->kernel(&t, st, 1, &text, &ee)) return ew_fail(&sc->b, &ee, err);
    free(text);
    return true;
}

/* The kernel text of n statements (already checked). */
static char *kernel_text(opt_scope *sc, const mlp_ew_stmt *st, int n)
{
    mlp_ew_tree t = ew_tree(&sc->b, sc->what);
    mlp_ew_error ee;
    char *text = NULL;
    return sc->lib->kernel(&t, st, n, &text, &ee) ? text : NULL;
}

/* The record {h1: d1, ...} of n's hyperparameters (defaults moved out of
 * n), or NULL + err for one without a default. */
static Ast *hyper_record(Ast *n, const char *what, opt_scope *sc, DeclError *err)
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
static Ast *c_optimizer(Ast *n, const char *what, DeclError *err)
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

static Ast *optimizer(mlp_vm *vm, Ast *n, DeclError *err)
{
    char what[160];
    snprintf(what, sizeof what, "optimizer %s", n->str);
    if (n->op == 'e') return c_optimizer(n, what, err);
    opt_scope sc;
    memset(&sc, 0, sizeof sc);
    sc.what = what;
    if (!(sc.lib = ew_lib(vm, n->span, what, err))) return NULL;
    sc.b.resolve = opt_resolve;
    sc.b.ud = &sc;
    bool ok = declare(&sc, n->span, "param", N_PARAM, err) && declare(&sc, n->span, "grad", N_GRAD, err) &&
              declare(&sc, n->span, "t", N_T, err);
    Ast *hypers = ok ? hyper_record(n, what, &sc, err) : NULL;
    if (!hypers) return NULL;
    Ast *states = ast_new(AST_RECORD, n->span);
    mlp_ew_stmt *body = calloc((size_t)n->a->n + 1, sizeof *body);
    if (!body) abort();
    int nbody = 0;
    bool assigns_param = false;
    for (int i = 0; ok && i < n->a->n; i++) {
        Ast *s = n->a->list[i];
        mlp_ew_stmt st;
        switch (s->kind) {
        case AST_STATE: {
            char *text = NULL;
            sc.hypers_only = true;
            if (s->a && kernel_stmt(&sc, MLP_EW_EXPR, NULL, 0, s->a, &st, err))
                text = kernel_text(&sc, &st, 1);
            else if (!s->a)
                text = strdup("0");
            sc.hypers_only = false;
            if (!text || !(ok = declare(&sc, s->span, s->str, N_STATE, err))) {
                ok = false;
                free(text);
                break;
            }
            Ast *f = ast_str(AST_FIELDINIT, s->span, s->str, s->len);
            f->a = str_node(s->span, text);
            ast_push(states, f);
            free(text);
            break;
        }
        case AST_LET:
            if (!kernel_stmt(&sc, MLP_EW_LET, s->str, 0, s->a, &st, err) ||
                !(ok = declare(&sc, s->span, s->str, N_LET, err))) {
                ok = false;
                break;
            }
            body[nbody++] = st;
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
            if (!kernel_stmt(&sc, MLP_EW_SET, t->str, s->op == '=' ? 0 : s->op, s->b, &st, err)) {
                ok = false;
                break;
            }
            if (sc.names[k].kind == N_PARAM) assigns_param = true;
            body[nbody++] = st;
            break;
        }
        default:
            ok = fail(err, s->span, "%s: the body holds `state NAME = value`, `let` and assignments "
                      "to param or a state (whole-tensor arithmetic), not this %s", what,
                      ast_kind_name(s->kind));
        }
    }
    if (ok && !assigns_param)
        ok = fail(err, n->span, "%s: the body never updates param (e.g. `param -= lr * grad`)%s", what, "");
    char *text = ok ? kernel_text(&sc, body, nbody) : NULL;
    Ast *call = NULL;
    if (text) {
        call = native_call(n->span, "__optimizer");
        ast_push(call, str_node(n->span, n->str));
        ast_push(call, hypers);
        ast_push(call, states);
        ast_push(call, str_node(n->span, text));
    } else {
        if (ok) fail(err, n->span, "%s: internal: the checked body was refused%s", what, "");
        ast_free(hypers);
        ast_free(states);
    }
    free(text);
    free(body);
    ew_free(&sc.b);
    return call;
}

/* ---- extern -------------------------------------------------------------------- */

/* A C type an extern may name (the table is MLP_FFI_TYPES, ffi_lang.h). */
static bool known_type(const char *t, bool ret)
{
    ffi_ctype c;
    return ffi_type_lookup(t, strlen(t), &c) && (ret ? ffi_type_is_return(c) : ffi_type_is_param(c));
}

static Ast *external(Ast *n, DeclError *err)
{
    StrBuf sig = {0};
    const char *ret = n->c ? n->c->str : "void";
    char types[120];
    if (!known_type(ret, true)) {
        ffi_type_list(types, sizeof types, true);
        err->span = n->c->span;
        snprintf(err->msg, sizeof err->msg, "extern %s: unknown or unsupported return type '%s' (%s)",
                 n->str, ret, types);
        return NULL;
    }
    sb_printf(&sig, "%s(", ret);
    for (int i = 0; i < n->n; i++) {
        const Ast *t = n->list[i]->a;
        if (!known_type(t->str, false)) {
            ffi_type_list(types, sizeof types, false);
            err->span = t->span;
            snprintf(err->msg, sizeof err->msg, "extern %s: unknown C type '%s' (%s)", n->str, t->str,
                     types);
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

Ast *desugar_decl(mlp_vm *vm, Ast *n, DeclError *err)
{
    switch (n->kind) {
    case AST_ACTDECL: return activation(vm, n, err);
    case AST_OPTDECL: return optimizer(vm, n, err);
    case AST_EXTERN: return external(n, err);
    default:
        fail(err, n->span, "internal: %s is not a declaration%s", ast_kind_name(n->kind), "");
        return NULL;
    }
}
