/*
 * ast.c — building, freeing and printing syntax trees.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "value.h"

static _Thread_local AstMem *cur_mem;
static _Thread_local long test_fail_at, test_fail_count; /* MLP_TEST_FRONT_OOM */
static _Thread_local bool test_fail_once;

#define AST_RESERVE (256u << 10)

void ast_mem_enter(AstMem *m) {
    m->oom = false;
    m->reserve = malloc(AST_RESERVE);
    m->outer = cur_mem;
    cur_mem = m;
    if (m->use_jb) {
        const char *h = getenv("MLP_TEST_HOOKS"), *at = getenv("MLP_TEST_FRONT_OOM");
        const char *want = at && strchr(at, '@') ? strchr(at, '@') + 1 : "<-e>";
        bool on = h && strcmp(h, "1") == 0 && at && m->name && strcmp(m->name, want) == 0;
        test_fail_at = on ? strtol(at, NULL, 10) : 0;
        test_fail_once = on && strncmp(at + strspn(at, "0123456789"), ",1", 2) == 0;
        test_fail_count = 0;
    }
}

void ast_mem_leave(AstMem *m) {
    free(m->reserve);
    m->reserve = NULL;
    cur_mem = m->outer;
}

/* The test hook: whether this request is to fail. */
static bool test_fails(void) {
    if (test_fail_at <= 0) return false;
    test_fail_count++;
    return test_fail_once ? test_fail_count == test_fail_at : test_fail_count >= test_fail_at;
}

/* A request that failed: the reserve and a retry, else unwind (AstMem). */
static void *mem_failed(void *p, size_t n) {
    AstMem *m = cur_mem;
    if (!m) {
        fprintf(stderr, "mlp: out of memory\n");
        abort();
    }
    m->oom = true;
    if (m->reserve) {
        free(m->reserve);
        m->reserve = NULL;
        void *q = test_fail_once || test_fail_at <= 0 ? realloc(p, n) : NULL;
        if (q) return q;
    }
    if (m->use_jb) longjmp(m->jb, 1);
    m->fail(m->ud);
    abort(); /* fail does not return */
}

void *ast_realloc(void *p, size_t n) {
    if (n == 0) n = 1;
    void *q = test_fails() ? NULL : realloc(p, n);
    return q ? q : mem_failed(p, n);
}

void *ast_alloc(size_t n) {
    void *p = ast_realloc(NULL, n);
    memset(p, 0, n);
    return p;
}

char *ast_strndup(const char *s, size_t n) {
    char *t = (char *)ast_alloc(n + 1);
    memcpy(t, s, n);
    return t;
}

Ast *ast_new(AstKind kind, Span span) {
    Ast *n = (Ast *)ast_alloc(sizeof(Ast));
    n->kind = kind;
    n->span = span;
    return n;
}

Ast *ast_str(AstKind kind, Span span, const char *s, size_t len) {
    Ast *n = ast_new(kind, span);
    n->str = (char *)ast_alloc(len + 1);
    memcpy(n->str, s, len);
    n->len = len;
    return n;
}

Ast *ast_push(Ast *n, Ast *child) {
    if (n->n == n->cap) {
        n->cap = n->cap ? n->cap * 2 : 4;
        n->list = (Ast **)ast_realloc(n->list, sizeof(Ast *) * (size_t)n->cap);
    }
    n->list[n->n++] = child;
    return n;
}

/* Iterative along `a`, the child a left-leaning chain (`1 + 1 + ...`,
 * `x.f.g`) nests through, so a flat chain of any length frees in constant
 * C stack; other nesting is bounded by PARSE_MAX_DEPTH (parse.h). */
void ast_free(Ast *n) {
    while (n) {
        Ast *next = n->a;
        ast_free(n->b);
        ast_free(n->c);
        for (int i = 0; i < n->n; i++) ast_free(n->list[i]);
        free(n->list);
        free(n->str);
        free(n);
        n = next;
    }
}

const char *ast_kind_name(AstKind k) {
    static const char *const names[] = {
#define X(k, s) s,
        AST_KINDS(X)
#undef X
    };
    _Static_assert(sizeof names / sizeof names[0] == AST_KIND_COUNT, "one name per kind");
    return (unsigned)k < AST_KIND_COUNT ? names[k] : "?";
}

const char *ast_op_text(int op, char one[2]) {
    /* Binary operators are stored as their token; printable ones as chars,
     * the two-character ones by the parser's codes (see parser.y). */
    switch (op) {
    case 'E': return "==";
    case 'N': return "!=";
    case 'L': return "<=";
    case 'G': return ">=";
    case 'P': return "**";
    case 'n': return "not";
    default:
        one[0] = (char)op;
        one[1] = '\0';
        return one;
    }
}

static void op_name(StrBuf *b, int op) {
    char one[2];
    sb_addc(b, ast_op_text(op, one));
}

static void dump(StrBuf *b, const Ast *n) {
    if (!n) {
        sb_addc(b, "_");
        return;
    }
    sb_addc(b, "(");
    sb_addc(b, ast_kind_name(n->kind));
    if (n->kind == AST_NUM) {
        char num[32];
        fmt_number(n->num, num);
        sb_printf(b, " %s", num);
    }
    if (n->kind == AST_UNARY || n->kind == AST_BINARY || n->kind == AST_ASSIGN) {
        sb_addc(b, " ");
        op_name(b, n->op);
    }
    if (n->kind == AST_PARAM && n->op) sb_addc(b, " *");
    if (n->str) {
        sb_addc(b, " ");
        if (n->kind == AST_STR) sb_addc(b, "\"");
        sb_add(b, n->str, n->len);
        if (n->kind == AST_STR) sb_addc(b, "\"");
    }
    const Ast *kids[3] = {n->a, n->b, n->c};
    int last = n->c ? 3 : n->b ? 2 : n->a ? 1 : 0;
    for (int i = 0; i < last; i++) {
        sb_addc(b, " ");
        dump(b, kids[i]);
    }
    for (int i = 0; i < n->n; i++) {
        sb_addc(b, " ");
        dump(b, n->list[i]);
    }
    sb_addc(b, ")");
}

char *ast_dump(const Ast *n) {
    StrBuf b = {0};
    dump(&b, n);
    if (!b.p) sb_addc(&b, "");
    return b.p;
}
