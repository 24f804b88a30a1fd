/*
 * test_lang_front.c — the lexer (tokens, spans, interpolation, UTF-8,
 * newline rules) and the parser (AST shapes, error positions, several
 * errors per run, incomplete input).
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ast.h"
#include "parse.h"
#include "parser.h"
#include "lexer.h"

typedef struct tl_capture { char *out, *err; size_t nout, nerr; } tl_capture;
mlp_vm *tl_vm(tl_capture *c);
void tl_reset(tl_capture *c);

/* "TOKEN@line:col ..." for src */
static char *lex_all(const char *src) {
    static char out[4096];
    ParseCtx ctx;
    memset(&ctx, 0, sizeof ctx);
    ctx.name = "t";
    ctx.src = src;
    ctx.len = strlen(src);
    ctx.quiet = true;
    ctx.line = ctx.col = 1;
    yyscan_t sc;
    yylex_init_extra(&ctx, &sc);
    YY_BUFFER_STATE b = yy_scan_bytes(src, (int)strlen(src), sc);
    out[0] = '\0';
    YYSTYPE val;
    YYLTYPE loc;
    int t;
    while ((t = yylex(&val, &loc, sc)) != 0) {
        char tok[64];
        if (t < 256) snprintf(tok, sizeof tok, "'%c'", t);
        else snprintf(tok, sizeof tok, "\"%s\"", t == LET ? "let" : t == NEWLINE ? "newline" : t == POW ? "**"
                      : t == LE ? "<=" : t == NE ? "!=" : t == ELSE ? "else" : "?");
        char item[160];
        if (t == STRING || t == INTERP || t == NAME) {
            snprintf(item, sizeof item, "%s(%s)@%d:%d ", t == NAME ? "name" : t == STRING ? "str" : "interp",
                     val.str.s, loc.first_line, loc.first_column);
            free(val.str.s);
        } else if (t == NUMBER) {
            snprintf(item, sizeof item, "num(%g)@%d:%d ", val.num, loc.first_line, loc.first_column);
        } else {
            snprintf(item, sizeof item, "%s@%d:%d ", tok, loc.first_line, loc.first_column);
        }
        strcat(out, item);
    }
    yy_delete_buffer(b, sc);
    yylex_destroy(sc);
    free(ctx.sbuf);
    return out;
}

Test(lang_lexer, tokens_and_spans) {
    cr_expect_str_eq(lex_all("let x = 1.5e2 ** y"),
                     "\"let\"@1:1 name(x)@1:5 '='@1:7 num(150)@1:9 \"**\"@1:15 name(y)@1:18 ");
    cr_expect_str_eq(lex_all("a <= b != c"), "name(a)@1:1 \"<=\"@1:3 name(b)@1:6 \"!=\"@1:8 name(c)@1:11 ");
}

Test(lang_lexer, utf8_columns_count_code_points) {
    cr_expect_str_eq(lex_all("\"한국\" + x # 주석\ny"),
                     "str(한국)@1:1 '+'@1:6 name(x)@1:8 \"newline\"@1:14 name(y)@2:1 ");
}

/* The `}` that closes an interpolation is a token of its own (so a syntax
 * error inside the braces is found there). */
Test(lang_lexer, interpolation_with_nested_strings_and_braces) {
    cr_expect_str_eq(lex_all("\"a {f(\"x\")} b {{k: 1}.k} c\""),
                     "interp(a )@1:1 name(f)@1:5 '('@1:6 str(x)@1:7 ')'@1:10 '}'@1:11 "
                     "interp( b )@1:12 '{'@1:16 name(k)@1:17 ':'@1:18 num(1)@1:20 '}'@1:21 '.'@1:22 "
                     "name(k)@1:23 '}'@1:24 str( c)@1:25 ");
    cr_expect_str_eq(lex_all("\"\\u{AC00}\\n\\{\""), "str(가\n{)@1:1 ");
}

Test(lang_lexer, newline_rules) {
    /* ignored inside brackets and after an operator or comma; kept after ) */
    cr_expect_str_eq(lex_all("f(1,\n2)\nx = 1 +\n2"),
                     "name(f)@1:1 '('@1:2 num(1)@1:3 ','@1:4 num(2)@2:1 ')'@2:2 \"newline\"@2:3 "
                     "name(x)@3:1 '='@3:3 num(1)@3:5 '+'@3:7 num(2)@4:1 ");
    /* `else` may start the next line, even after a comment line */
    cr_expect_str_eq(lex_all("}\n# c\nelse {"), "'}'@1:1 \"else\"@3:1 '{'@3:6 ");
}

static char *dump(const char *src) {
    static char buf[2048];
    int nerr;
    bool inc;
    Ast *a = parse_source(NULL, "t", src, strlen(src), true, &nerr, &inc);
    cr_assert_not_null(a, "parse failed: %s", src);
    char *d = ast_dump(a);
    snprintf(buf, sizeof buf, "%s", d);
    free(d);
    ast_free(a);
    return buf;
}

Test(lang_parser, precedence_shapes) {
    cr_expect_str_eq(dump("-2 ** 2"), "(block (expr (unary - (binary ** (num 2) (num 2)))))");
    cr_expect_str_eq(dump("1 + 2 * 3"), "(block (expr (binary + (num 1) (binary * (num 2) (num 3)))))");
    cr_expect_str_eq(dump("not a == b or c"),
                     "(block (expr (or (unary not (binary == (name a) (name b))) (name c))))");
    cr_expect_str_eq(dump("2 ** 3 ** 2"), "(block (expr (binary ** (num 2) (binary ** (num 3) (num 2)))))");
    cr_expect_str_eq(dump("f(1, k=2)[0].x"),
                     "(block (expr (field x (index (call (name f) (num 1) (kwarg k (num 2))) (num 0)))))");
}

Test(lang_parser, statements) {
    cr_expect_str_eq(dump("let r = {\n  a: 1,\n  \"b c\": [],\n}\nxs[1] += 2"),
                     "(block (let r (record (fieldinit a (num 1)) (fieldinit b c (list)))) "
                     "(assign + (index (name xs) (num 1)) (num 2)))");
    cr_expect_str_eq(dump("fn f(a, b=1, *c) { return }"),
                     "(block (fndecl (func f (block (return)) (param a) (param b (num 1)) (param * c))))");
    cr_expect_str_eq(dump("if a { } else if b { } else { }"),
                     "(block (if (name a) (block) (if (name b) (block) (block))))");
    cr_expect_str_eq(dump("\"x{1}y\""), "(block (expr (interp (str \"x\") (num 1) (str \"y\"))))");
}

Test(lang_parser, errors_positions_and_count) {
    tl_capture c;
    mlp_vm *vm = tl_vm(&c);
    const char *src = "let a = 1\nprint(3 4)\nlet = 5\nx = = 2\n";
    cr_expect_eq(mlp_check_source(vm, "t.mlp", src, strlen(src)), MLP_COMPILE_ERROR);
    cr_expect_str_eq(c.err,
                     "t.mlp:2:9: error: syntax error, unexpected number\n    print(3 4)\n            ^\n"
                     "t.mlp:3:5: error: syntax error, unexpected '=', expecting name or '['\n    let = 5\n        ^\n"
                     "t.mlp:4:5: error: syntax error, unexpected '='\n    x = = 2\n        ^\n");
    tl_reset(&c);
    /* a tab before the error is kept so the caret lines up */
    cr_expect_eq(mlp_check_source(vm, "t.mlp", "\tlet x = )", 10), MLP_COMPILE_ERROR);
    cr_expect_str_eq(c.err, "t.mlp:1:10: error: syntax error, unexpected ')'\n    \tlet x = )\n    \t        ^\n");
    tl_reset(&c);
    /* compile-time: undefined name */
    cr_expect_eq(mlp_check_source(vm, "t.mlp", "fn f() { return nope }", 22), MLP_COMPILE_ERROR);
    cr_expect(strstr(c.err, "t.mlp:1:17: error: undefined variable 'nope'") == c.err, "%s", c.err);
    mlp_vm_free(vm);
    tl_reset(&c);
    free(c.out);
    free(c.err);
}

Test(lang_parser, incomplete_is_decided_at_end_of_input) {
    const char *inc[] = {"(", "[1, 2", "{", "f(", "1 +", "let x =", "fn f() {", "\"ab", "if x {\n print(1)\n"};
    for (size_t i = 0; i < sizeof inc / sizeof inc[0]; i++) {
        int nerr;
        bool incomplete;
        Ast *a = parse_source(NULL, "t", inc[i], strlen(inc[i]), true, &nerr, &incomplete);
        cr_expect_null(a);
        cr_expect(incomplete, "%s", inc[i]);
    }
    const char *bad[] = {")", "1 +* 2\n", "let = 1", "\"ab\ncd\""};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int nerr;
        bool incomplete;
        Ast *a = parse_source(NULL, "t", bad[i], strlen(bad[i]), true, &nerr, &incomplete);
        cr_expect_null(a);
        cr_expect(!incomplete, "%s", bad[i]);
    }
}
