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

#include <setjmp.h>
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

/* Front-end memory. Every allocation the lexer, the parser and the tree
 * code make goes through ast_alloc/ast_realloc (freed with plain free).
 * While a parse runs it has an AstMem (ast_mem_enter): a request that fails
 * gives back the AstMem's reserve, is retried and marks the parse out of
 * memory (`oom`), and the lexer then ends the input so that the parser
 * unwinds through its %destructors and parse_source reports "out of
 * memory" (a runtime error, exit 70, as in the VM). Only if the retry fails
 * too is the parse abandoned at once, by longjmp to `jb` (what the parser's
 * stack held is then lost). Outside a parse (the compiler's AstMem) the
 * retry lets the compiler finish, and its caller reports the failure; if
 * the retry fails too, `fail` is called (the compiler's: vm_throw). With no
 * AstMem at all a failure aborts.
 * With MLP_TEST_HOOKS=1, MLP_TEST_FRONT_OOM=N[,1][@NAME] makes the Nth
 * front-end allocation of the parse of chunk NAME ("<-e>" if not given)
 * fail, and every later one of the parse and of compiling it (",1": the
 * Nth only, so the retry succeeds). */
typedef struct AstMem {
    jmp_buf jb;
    bool use_jb;               /* parse_source's: longjmp(jb) as a last resort */
    const char *name;          /* the chunk parsed (for the test hook) */
    bool oom;                  /* a request failed */
    void *reserve;
    void (*fail)(void *ud);    /* outside a parse: must not return */
    void *ud;
    struct AstMem *outer;
} AstMem;
void ast_mem_enter(AstMem *m);
void ast_mem_leave(AstMem *m);
/* Zeroed memory; never NULL (see AstMem). */
void *ast_alloc(size_t n);
void *ast_realloc(void *p, size_t n);
char *ast_strndup(const char *s, size_t n);

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
