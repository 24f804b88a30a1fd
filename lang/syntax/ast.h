/*
 * ast.h — the syntax tree the parser builds and the compiler walks.
 *
 * One node struct for every kind (listed once, in AST_KINDS): a kind, a
 * source span, up to three children (a, b, c), a child list, and literal
 * payloads. The meaning of each field per kind is given in the list. The
 * tree owns its children and strings: ast_free releases a whole subtree
 * (the parser's %destructor uses it, so error recovery leaks nothing).
 * Nodes are plain malloc memory, not GC objects: a tree lives only while
 * one chunk is compiled.
 */
#ifndef MLP_AST_H
#define MLP_AST_H

#include <stdbool.h>
#include <stddef.h>

typedef struct Span {
    int line, col;         /* first character, 1-based; col counts code points */
    int end_line, end_col; /* last character */
} Span;

/*     kind        fields used */
#define AST_KINDS(X)                                                             \
    X(NUM, "num")                  /* num */                                      \
    X(STR, "str")                  /* str, len */                                 \
    X(INTERP, "interp")            /* list: STR and expression parts */           \
    X(TRUE, "true")                                                               \
    X(FALSE, "false")                                                             \
    X(NIL, "nil")                                                                 \
    X(NAME, "name")                /* str */                                      \
    X(LIST, "list")                /* list: elements */                           \
    X(RECORD, "record")            /* list: FIELDs */                             \
    X(FIELDINIT, "fieldinit")      /* str = key, a = value */                     \
    X(FUNC, "func")                /* str = name or NULL, list = PARAMs, a = BLOCK */ \
    X(PARAM, "param")              /* str, a = default or NULL, op = 1 for *rest */ \
    X(UNARY, "unary")              /* op ('-', 'n' for not), a */                 \
    X(BINARY, "binary")            /* op (token), a, b */                         \
    X(AND, "and")                  /* a, b */                                     \
    X(OR, "or")                    /* a, b */                                     \
    X(CALL, "call")                /* a = callee, list = args and KWARGs */       \
    X(KWARG, "kwarg")              /* str = name, a = value */                    \
    X(INDEX, "index")              /* a = object, b = index */                    \
    X(SLICE, "slice")              /* a = object, b = from or NULL, c = to or NULL */ \
    X(FIELD, "field")              /* a = object, str = name */                   \
    X(SWEEP, "sweep")              /* list = PARAM vars, b = LIST of sources, op = listed, a = BLOCK */ \
    X(LET, "let")                  /* str = name, a = value */                    \
    X(ASSIGN, "assign")            /* op ('=' or token of +=...), a = target, b = value */ \
    X(EXPR, "expr")                /* a */                                        \
    X(IF, "if")                    /* a = cond, b = then BLOCK, c = else (BLOCK/IF) or NULL */ \
    X(WHILE, "while")              /* a = cond, b = BLOCK */                      \
    X(FOR, "for")                  /* str = variable, a = iterable, b = BLOCK */  \
    X(BREAK, "break")                                                             \
    X(CONTINUE, "continue")                                                       \
    X(RETURN, "return")            /* a = value or NULL */                        \
    X(FNDECL, "fndecl")            /* a = FUNC (named) */                         \
    X(MODEL, "model")              /* a = FUNC (named) */                         \
    X(IMPORT, "import")            /* str = module name */                        \
    X(ACTDECL, "activation")       /* str = name, list = PARAMs, a = expression; op 'e': a, b = extern forward, derivative */ \
    X(OPTDECL, "optimizer")        /* str = name, list = PARAMs, a = BLOCK (STATE + stmts); op 'e': a = extern update */ \
    X(STATE, "state")              /* str = name, a = initial value or NULL */    \
    X(EXTERN, "extern")            /* str = symbol, b = STR library, list = PARAMs (a = NAME type), c = NAME return type or NULL */ \
    X(BLOCK, "block")              /* list: statements */                        \
    X(UNPACK, "unpack")            /* list = NAMEs, a = value: let [a, b] = value */ \
    X(SCOPE, "scope")              /* a = BLOCK: a bare { } statement */          \
    X(COMPADD, "compadd")          /* a = value, b = key or NULL: add to the comprehension's (comp) */

typedef enum AstKind {
#define X(k, s) AST_##k,
    AST_KINDS(X)
#undef X
    AST_KIND_COUNT
} AstKind;

typedef struct Ast Ast;
struct Ast {
    AstKind kind;
    Span span;
    int op;
    double num;
    char *str;
    size_t len;
    Ast *a, *b, *c;
    Ast **list;
    int n, cap;
};

Ast *ast_new(AstKind kind, Span span);
Ast *ast_str(AstKind kind, Span span, const char *s, size_t len);
/* Appends child to n->list; returns n. */
Ast *ast_push(Ast *n, Ast *child);
void ast_free(Ast *n);
const char *ast_kind_name(AstKind k);
/* How the source writes the operator of a UNARY or BINARY node ("**",
 * "not", "+"); a one-character operator is spelled in `one`. */
const char *ast_op_text(int op, char one[2]);
/* S-expression dump, for tests: (binary + (num 1) (num 2)). */
char *ast_dump(const Ast *n);

#endif
