/*
 * parse.h — the front end's shared state (internal).
 *
 * One ParseCtx lives for one parse: it is the Flex scanner's extra data and
 * the Bison parser's parameter. It holds the lexer's state that regular
 * expressions cannot (the stack of open brackets, which decides whether a
 * newline ends a statement and where a string interpolation ends; the
 * buffer of the string being scanned; the current position) and the parse's
 * results (the tree, the error count, whether input ended inside an
 * unfinished construct).
 *
 * Errors are reported as they are found, through error.c, to the VM's error
 * callback (or counted silently when `quiet`).
 */
#ifndef MLP_PARSE_H
#define MLP_PARSE_H

#include "ast.h"
#include "mlp.h"


/* How deeply constructs may nest: parentheses, calls, operands on the right
 * of an operator, unary operators, blocks, `else if` chains. The left
 * operand of a chain of binary operators (`1 + 2 + 3 + ...`, `a and b and
 * ...`) does not count: the compiler walks such chains with a loop, so they
 * may be as long as memory allows. Everything that recurses over the tree
 * can rely on this bound; deeper input is the error "expression too deeply
 * nested (limit 1000)", whether the parser's stack (PARSE_STACK_MAX) or the
 * check after parsing finds it. */
#define PARSE_MAX_DEPTH 1000
#define PARSE_MAX_DEPTH_TEXT "1000"
#define PARSE_STACK_MAX (10 * PARSE_MAX_DEPTH + 1000)
/* The lexer's stack of open brackets and interpolations: one more than the
 * depth limit, so that nesting too deep is reported as such (at depth 1001)
 * before the stack could be full. */
#define PARSE_MAX_NEST (PARSE_MAX_DEPTH + 1)

typedef struct ParseCtx {
    mlp_vm *vm;
    const char *name, *src;
    size_t len;
    bool quiet;

    /* lexer state */
    char nest[PARSE_MAX_NEST]; /* '(' '[' '{' or 'i' (inside "{...}") */
    int interp_line[PARSE_MAX_NEST], interp_col[PARSE_MAX_NEST]; /* where each 'i' opened */
    int depth;
    int last_tok;              /* last token returned (newline suppression) */
    int line, col;             /* position of the next character */
    size_t pos;                /* its offset in src */
    size_t else_at;            /* offset of an `else` the newlines before it join to */
    char *sbuf;                /* string literal being scanned */
    size_t slen, scap;
    int str_line, str_col;     /* where the current string part began */
    bool eof_in_string;
    bool lexer_reported;       /* the parser's next error is the lexer's BADCHAR */

    AstMem mem;                /* the parse's memory: out of memory ends it (ast.h) */

    /* results */
    Ast *root;
    int nerrors;
    bool incomplete;           /* an error was met at the end of input */
} ParseCtx;

/* Parses a whole chunk into a BLOCK. Returns NULL when there were errors
 * (reported unless quiet); *incomplete tells whether the first error was at
 * the end of the input. Running out of memory is one error, "out of
 * memory", at the point the scan reached; parse_out_of_memory() then says
 * so (the caller's status is then a runtime error, 70, not a syntax one). */
Ast *parse_source(mlp_vm *vm, const char *name, const char *src, size_t len, bool quiet,
                  int *nerrors, bool *incomplete);

bool parse_out_of_memory(void);

/* Reports a located error (and counts it). */
void parse_error(ParseCtx *ctx, int line, int col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

#endif
