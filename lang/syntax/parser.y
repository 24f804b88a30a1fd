/*
 * parser.y — the grammar of mlp (see LANGUAGE.md), building the AST.
 *
 * Pure and reentrant; no conflicts (%expect 0). Statements are separated by
 * newlines or `;` (the lexer decides which newlines count). Error recovery
 * is at statement boundaries (`stmt: error`), so one run reports several
 * syntax errors; every semantic value that recovery discards is freed by a
 * %destructor. An error whose lookahead is the end of input marks the parse
 * "incomplete" (the REPL then asks for another line).
 *
 * Operators are stored in BINARY/UNARY nodes as characters: the one-char
 * operators as themselves, and E (==), N (!=), L (<=), G (>=), P (**),
 * n (not). The span of a BINARY node is its operator's, so a runtime error
 * points at the operator.
 */
%define api.pure full
%define parse.error detailed
%define parse.lac full
%locations
%expect 0
%lex-param {void *scanner}
%parse-param {void *scanner} {ParseCtx *ctx}

%code requires {
#include "ast.h"
#include "parse.h"
typedef struct StrTok { char *s; size_t len; } StrTok;
}

%code {
#include <stdlib.h>
#include <string.h>

/* enough for PARSE_MAX_DEPTH levels of any construct (parse.h) */
#define YYMAXDEPTH PARSE_STACK_MAX
/* the parser's stack is front-end memory too (ast.h: never NULL) */
#define YYMALLOC ast_alloc
#define YYFREE free

int yylex(YYSTYPE *lvalp, YYLTYPE *llocp, void *scanner);
static void yyerror(YYLTYPE *loc, void *scanner, ParseCtx *ctx, const char *msg);

static Span sp(YYLTYPE l) {
    Span s = {l.first_line, l.first_column, l.last_line, l.last_column};
    return s;
}
static Span sp2(YYLTYPE a, YYLTYPE b) {
    Span s = {a.first_line, a.first_column, b.last_line, b.last_column};
    return s;
}
/* Makes a node that takes ownership of the token's string. */
static Ast *own(AstKind k, Span s, StrTok t) {
    Ast *n = ast_new(k, s);
    n->str = t.s;
    n->len = t.len;
    return n;
}
static Ast *node2(AstKind k, Span s, Ast *a, Ast *b) {
    Ast *n = ast_new(k, s);
    n->a = a;
    n->b = b;
    return n;
}
static Ast *binop(int op, Span s, Ast *a, Ast *b) {
    Ast *n = node2(AST_BINARY, s, a, b);
    n->op = op;
    return n;
}
static bool assignable(Ast *t) {
    return t->kind == AST_NAME || t->kind == AST_INDEX || t->kind == AST_FIELD;
}
static void unpack_params(Ast *f);
/* fn NAME(params) block  ->  FUNC */
static Ast *func(Span s, char *name, size_t len, Ast *params, Ast *body) {
    Ast *f = ast_new(AST_FUNC, s);
    f->str = name;
    f->len = len;
    f->list = params->list;
    f->n = params->n;
    f->cap = params->cap;
    params->list = NULL;
    params->n = params->cap = 0;
    ast_free(params);
    f->a = body;
    unpack_params(f);
    return f;
}
static Ast *strlit(Span s, StrTok t) { return own(AST_STR, s, t); }
static Ast *name_node(Span s, const char *name) { return ast_str(AST_NAME, s, name, strlen(name)); }
/* Puts stmt first in block. */
static void prepend(Ast *block, Ast *stmt) {
    ast_push(block, stmt);
    memmove(block->list + 1, block->list, sizeof(Ast *) * (size_t)(block->n - 1));
    block->list[0] = stmt;
}
/* `for [a, b] in xs { body }` == `for (item) in __pairs(xs) { let [a, b] = (item); body }`
 * (pat: an UNPACK of NAMEs; a record gives its [key, value] pairs). */
static Ast *for_unpack(Span s, Ast *pat, Ast *iter, Ast *body) {
    Ast *f = ast_str(AST_FOR, s, "(item)", 6);
    Ast *call = ast_new(AST_CALL, iter->span);
    call->a = name_node(iter->span, "__pairs");
    ast_push(call, iter);
    f->a = call;
    pat->a = name_node(pat->span, "(item)");
    prepend(body, pat);
    f->b = body;
    return f;
}
/* The text of a pattern, "[a, b]": the name of a destructured parameter. */
static char *pattern_text(Ast *pat, size_t *len) {
    size_t n = 3;
    for (int i = 0; i < pat->n; i++) n += pat->list[i]->len + 2;
    char *t = ast_alloc(n);
    size_t k = 0;
    t[k++] = '[';
    for (int i = 0; i < pat->n; i++) {
        if (i) t[k++] = ',', t[k++] = ' ';
        memcpy(t + k, pat->list[i]->str, pat->list[i]->len);
        k += pat->list[i]->len;
    }
    t[k++] = ']';
    t[k] = '\0';
    *len = k;
    return t;
}
/* A comprehension `[elem for vars in iter if cond]` (key: `{key: elem ...}`)
 * == `(fn() { let (comp) = [] or {}; for vars in iter { if cond { COMPADD } }; return (comp) })()`:
 * the loop variables are the function's own, the outer ones are upvalues. */
static Ast *comprehension(Span s, Ast *elem, Ast *key, Ast *vars, Ast *iter, Ast *cond) {
    Ast *add = node2(AST_COMPADD, elem->span, elem, key);
    Ast *body = ast_push(ast_new(AST_BLOCK, s), add);
    if (cond) {
        Ast *i = node2(AST_IF, cond->span, cond, body);
        body = ast_push(ast_new(AST_BLOCK, s), i);
    }
    Ast *loop;
    if (vars->kind == AST_NAME) {
        loop = ast_str(AST_FOR, s, vars->str, vars->len);
        loop->a = iter;
        loop->b = body;
        ast_free(vars);
    } else {
        loop = for_unpack(s, vars, iter, body);
    }
    Ast *init = ast_str(AST_LET, s, "(comp)", 6);
    init->a = ast_new(key ? AST_RECORD : AST_LIST, s);
    Ast *ret = node2(AST_RETURN, s, name_node(s, "(comp)"), NULL);
    Ast *fbody = ast_new(AST_BLOCK, s);
    ast_push(fbody, init);
    ast_push(fbody, loop);
    ast_push(fbody, ret);
    Ast *f = ast_new(AST_FUNC, s);
    f->a = fbody;
    Ast *call = ast_new(AST_CALL, s);
    call->a = f;
    return call;
}
/* Destructured parameters `fn f([a, b])`: the body starts `let [a, b] = <param>`. */
static void unpack_params(Ast *f) {
    for (int i = f->n - 1; i >= 0; i--) {
        Ast *p = f->list[i];
        if (!p->b || !f->a || f->a->kind != AST_BLOCK) continue;
        Ast *pat = p->b;
        p->b = NULL;
        pat->a = ast_str(AST_NAME, p->span, p->str, p->len);
        prepend(f->a, pat);
    }
}
}

%union {
    double num;
    StrTok str;
    Ast *node;
}

%token <num> NUMBER "number"
%token <str> STRING "string" INTERP "string with {" NAME "name"
%token NEWLINE "newline"
%token LBLOCK "'{ '" /* `{` where a statement starts: a block, never a record (spelled apart for the dedup in yyerror) */
%token BADCHAR "invalid character" /* never accepted: the lexer reported it */
%token LET "let" FN "fn" RETURN "return" IF "if" ELSE "else" FOR "for" IN "in"
%token WHILE "while" BREAK "break" CONTINUE "continue" TRUE "true" FALSE "false"
%token NIL "nil" AND "and" OR "or" NOT "not" IMPORT "import" MODEL "model"
%token SWEEP "sweep" OPTIMIZER "optimizer" ACTIVATION "activation" EXTERN "extern"
%token NOTIN "not in"
%token POW "**" EQ "==" NE "!=" LE "<=" GE ">="
%token PLUSEQ "+=" MINUSEQ "-=" STAREQ "*=" SLASHEQ "/="

%type <node> body stmts stmt block if_stmt expr postfix primary string interp
%type <node> args arglist arg elems elist fields fieldlist field params plist param
%type <node> sweep sclauses skwargs svars names obody ostmts ostmt cparams cplist cparam cret
%type <node> pnames cvars cif

%destructor { free($$.s); } <str>
%destructor { ast_free($$); } <node>

%left OR
%left AND
%precedence NOT
%nonassoc EQ NE '<' LE '>' GE IN NOTIN
%left '+' '-'
%left '*' '/' '%'
%precedence UMINUS
%right POW

%%

program
    : body                          { ctx->root = $1; }
    ;

body
    : seps_opt                      { $$ = ast_new(AST_BLOCK, sp(@$)); }
    | seps_opt stmts seps_opt       { $$ = $2; }
    ;

stmts
    : stmt                          { $$ = ast_push(ast_new(AST_BLOCK, sp(@1)), $1); }
    | stmts seps stmt               { $$ = ast_push($1, $3); }
    ;

seps_opt: %empty | seps ;
seps: sep | seps sep ;
/* A separator ends error recovery: errors on the next statement are
 * reported even if it is short. */
sep: NEWLINE { yyerrok; } | ';' { yyerrok; } ;

block
    : '{' body '}'                  { $$ = $2; $$->span = sp2(@1, @3); }
    | LBLOCK body '}'               { $$ = $2; $$->span = sp2(@1, @3); }
    ;

stmt
    : LET NAME '=' expr             { $$ = own(AST_LET, sp(@2), $2); $$->a = $4; }
    | LET '[' pnames ']' '=' expr   { $$ = $3; $$->span = sp(@2); $$->a = $6; }
    | LBLOCK body '}'               { $$ = node2(AST_SCOPE, sp2(@1, @3), $2, NULL); $2->span = sp2(@1, @3); }
    | FOR '[' pnames ']' IN expr opt_nl block { $3->span = sp(@2); $$ = for_unpack(sp(@1), $3, $6, $8); }
    | FOR NAME ',' pnames IN expr opt_nl block {
                                        prepend($4, own(AST_NAME, sp(@2), $2));
                                        $4->span = sp(@2);
                                        $$ = for_unpack(sp(@1), $4, $6, $8);
                                    }
    | IMPORT STRING NAME NAME       {
                                        if (strcmp($3.s, "as") != 0)
                                            parse_error(ctx, @3.first_line, @3.first_column,
                                                        "unexpected name '%s' (`import \"x\" as y` names the module y)", $3.s);
                                        free($3.s);
                                        $$ = own(AST_IMPORT, sp(@2), $2);
                                        $$->a = own(AST_NAME, sp(@4), $4);
                                    }
    | expr '=' expr                 {
                                        $$ = node2(AST_ASSIGN, sp(@2), $1, $3); $$->op = '=';
                                        if (!assignable($1))
                                            parse_error(ctx, @1.first_line, @1.first_column,
                                                        "cannot assign to this expression");
                                    }
    | expr PLUSEQ expr              { $$ = node2(AST_ASSIGN, sp(@2), $1, $3); $$->op = '+';
                                      if (!assignable($1)) parse_error(ctx, @1.first_line, @1.first_column, "cannot assign to this expression"); }
    | expr MINUSEQ expr             { $$ = node2(AST_ASSIGN, sp(@2), $1, $3); $$->op = '-';
                                      if (!assignable($1)) parse_error(ctx, @1.first_line, @1.first_column, "cannot assign to this expression"); }
    | expr STAREQ expr              { $$ = node2(AST_ASSIGN, sp(@2), $1, $3); $$->op = '*';
                                      if (!assignable($1)) parse_error(ctx, @1.first_line, @1.first_column, "cannot assign to this expression"); }
    | expr SLASHEQ expr             { $$ = node2(AST_ASSIGN, sp(@2), $1, $3); $$->op = '/';
                                      if (!assignable($1)) parse_error(ctx, @1.first_line, @1.first_column, "cannot assign to this expression"); }
    | expr                          { $$ = node2(AST_EXPR, $1->span, $1, NULL); }
    | if_stmt
    | WHILE expr opt_nl block       { $$ = node2(AST_WHILE, sp(@1), $2, $4); }
    | FOR NAME IN expr opt_nl block { $$ = own(AST_FOR, sp(@1), $2); $$->a = $4; $$->b = $6; }
    | BREAK                         { $$ = ast_new(AST_BREAK, sp(@1)); }
    | CONTINUE                      { $$ = ast_new(AST_CONTINUE, sp(@1)); }
    | RETURN                        { $$ = ast_new(AST_RETURN, sp(@1)); }
    | RETURN expr                   { $$ = node2(AST_RETURN, sp(@1), $2, NULL); }
    | FN NAME '(' params ')' opt_nl block { $$ = node2(AST_FNDECL, sp(@2), func(sp(@2), $2.s, $2.len, $4, $7), NULL); }
    | MODEL NAME '(' params ')' opt_nl block { $$ = node2(AST_MODEL, sp(@2), func(sp(@2), $2.s, $2.len, $4, $7), NULL); }
    | IMPORT STRING                 { $$ = own(AST_IMPORT, sp(@2), $2); }
    | ACTIVATION NAME '(' params ')' '=' expr {
                                        $$ = func(sp(@2), $2.s, $2.len, $4, $7);
                                        $$->kind = AST_ACTDECL;
                                    }
    | ACTIVATION NAME '=' EXTERN expr ',' expr {
                                        /* C functions: op 'e', a = forward, b = derivative */
                                        $$ = own(AST_ACTDECL, sp(@2), $2);
                                        $$->op = 'e';
                                        $$->a = $5;
                                        $$->b = $7;
                                    }
    | OPTIMIZER NAME '(' params ')' '{' obody '}' {
                                        $$ = func(sp(@2), $2.s, $2.len, $4, $7);
                                        $$->kind = AST_OPTDECL;
                                    }
    | OPTIMIZER NAME '(' params ')' '=' EXTERN expr {
                                        /* a C update kernel: op 'e', a = the function */
                                        $$ = func(sp(@2), $2.s, $2.len, $4, $8);
                                        $$->kind = AST_OPTDECL;
                                        $$->op = 'e';
                                    }
    | EXTERN STRING FN NAME '(' cparams ')' cret {
                                        $$ = func(sp(@4), $4.s, $4.len, $6, NULL);
                                        $$->kind = AST_EXTERN;
                                        $$->b = strlit(sp(@2), $2);
                                        $$->c = $8;
                                    }
    | error                         { $$ = ast_new(AST_BLOCK, sp(@1)); }
    ;

if_stmt
    : IF expr opt_nl block          { $$ = node2(AST_IF, sp(@1), $2, $4); }
    | IF expr opt_nl block ELSE opt_nl block { $$ = node2(AST_IF, sp(@1), $2, $4); $$->c = $7; }
    | IF expr opt_nl block ELSE if_stmt { $$ = node2(AST_IF, sp(@1), $2, $4); $$->c = $6; }
    ;

expr
    : expr OR expr                  { $$ = node2(AST_OR, sp(@2), $1, $3); }
    | expr AND expr                 { $$ = node2(AST_AND, sp(@2), $1, $3); }
    | NOT expr                      { $$ = node2(AST_UNARY, sp(@1), $2, NULL); $$->op = 'n'; }
    | expr EQ expr                  { $$ = binop('E', sp(@2), $1, $3); }
    | expr NE expr                  { $$ = binop('N', sp(@2), $1, $3); }
    | expr '<' expr                 { $$ = binop('<', sp(@2), $1, $3); }
    | expr LE expr                  { $$ = binop('L', sp(@2), $1, $3); }
    | expr '>' expr                 { $$ = binop('>', sp(@2), $1, $3); }
    | expr GE expr                  { $$ = binop('G', sp(@2), $1, $3); }
    | expr IN expr                  { $$ = binop('i', sp(@2), $1, $3); }
    | expr NOTIN expr               { $$ = binop('I', sp(@2), $1, $3); }
    | expr '+' expr                 { $$ = binop('+', sp(@2), $1, $3); }
    | expr '-' expr                 { $$ = binop('-', sp(@2), $1, $3); }
    | expr '*' expr                 { $$ = binop('*', sp(@2), $1, $3); }
    | expr '/' expr                 { $$ = binop('/', sp(@2), $1, $3); }
    | expr '%' expr                 { $$ = binop('%', sp(@2), $1, $3); }
    | expr POW expr                 { $$ = binop('P', sp(@2), $1, $3); }
    | '-' expr %prec UMINUS         { $$ = node2(AST_UNARY, sp(@1), $2, NULL); $$->op = '-'; }
    | postfix
    ;

postfix
    : primary
    | postfix '(' args ')'          { $$ = $3; $$->kind = AST_CALL; $$->a = $1; $$->span = sp(@2); }
    | postfix '[' expr ']'          { $$ = node2(AST_INDEX, sp(@2), $1, $3); }
    | postfix '[' expr ':' expr ']' { $$ = node2(AST_SLICE, sp(@2), $1, $3); $$->c = $5; }
    | postfix '[' ':' expr ']'      { $$ = node2(AST_SLICE, sp(@2), $1, NULL); $$->c = $4; }
    | postfix '[' expr ':' ']'      { $$ = node2(AST_SLICE, sp(@2), $1, $3); }
    | postfix '[' ':' ']'           { $$ = node2(AST_SLICE, sp(@2), $1, NULL); }
    | postfix '.' NAME              { $$ = own(AST_FIELD, sp(@3), $3); $$->a = $1; }
    ;

primary
    : NUMBER                        { $$ = ast_new(AST_NUM, sp(@1)); $$->num = $1; }
    | string
    | TRUE                          { $$ = ast_new(AST_TRUE, sp(@1)); }
    | FALSE                         { $$ = ast_new(AST_FALSE, sp(@1)); }
    | NIL                           { $$ = ast_new(AST_NIL, sp(@1)); }
    | NAME                          { $$ = own(AST_NAME, sp(@1), $1); }
    | '(' expr ')'                  { $$ = $2; }
    | '[' elems ']'                 { $$ = $2; $$->span = sp2(@1, @3); }
    | '{' fields '}'                { $$ = $2; $$->span = sp2(@1, @3); }
    | '[' expr FOR cvars IN expr cif ']' { $$ = comprehension(sp(@3), $2, NULL, $4, $6, $7); }
    | '{' NAME ':' expr FOR cvars IN expr cif '}' {
                                        $$ = comprehension(sp(@5), $4, own(AST_NAME, sp(@2), $2), $6, $8, $9);
                                    }
    | FN '(' params ')' opt_nl block { $$ = func(sp(@1), NULL, 0, $3, $6); }
    | sweep
    ;

string
    : STRING                        { $$ = strlit(sp(@1), $1); }
    | interp STRING                 { $$ = $1; if ($2.len) ast_push($$, strlit(sp(@2), $2)); else free($2.s); }
    ;

/* `}` closing an interpolation is a token, so an error inside it is found
 * there, in the string, and not at whatever follows the string. */
interp
    : INTERP expr '}'               {
                                        $$ = ast_new(AST_INTERP, sp(@1));
                                        if ($1.len) ast_push($$, strlit(sp(@1), $1)); else free($1.s);
                                        ast_push($$, $2);
                                    }
    | interp INTERP expr '}'        {
                                        $$ = $1;
                                        if ($2.len) ast_push($$, strlit(sp(@2), $2)); else free($2.s);
                                        ast_push($$, $3);
                                    }
    ;

args
    : %empty                        { $$ = ast_new(AST_CALL, sp(@$)); }
    | arglist opt_comma
    ;
arglist
    : arg                           { $$ = ast_push(ast_new(AST_CALL, sp(@1)), $1); }
    | arglist ',' arg               { $$ = ast_push($1, $3); }
    ;
arg
    : expr
    | NAME '=' expr                 { $$ = own(AST_KWARG, sp(@1), $1); $$->a = $3; }
    ;
opt_comma: %empty | ',' ;
opt_nl: %empty | NEWLINE ;

elems
    : %empty                        { $$ = ast_new(AST_LIST, sp(@$)); }
    | elist opt_comma
    ;
elist
    : expr                          { $$ = ast_push(ast_new(AST_LIST, sp(@1)), $1); }
    | elist ',' expr                { $$ = ast_push($1, $3); }
    ;

fields
    : opt_nl                        { $$ = ast_new(AST_RECORD, sp(@$)); }
    | fieldlist opt_comma opt_nl
    ;
fieldlist
    : field                         { $$ = ast_push(ast_new(AST_RECORD, sp(@1)), $1); }
    | fieldlist ',' field           { $$ = ast_push($1, $3); }
    ;
field
    : NAME ':' expr                 { $$ = own(AST_FIELDINIT, sp(@1), $1); $$->a = $3; }
    | STRING ':' expr               { $$ = own(AST_FIELDINIT, sp(@1), $1); $$->a = $3; }
    ;

params
    : %empty                        { $$ = ast_new(AST_BLOCK, sp(@$)); }
    | plist opt_comma
    ;
plist
    : param                         { $$ = ast_push(ast_new(AST_BLOCK, sp(@1)), $1); }
    | plist ',' param               { $$ = ast_push($1, $3); }
    ;
param
    : NAME                          { $$ = own(AST_PARAM, sp(@1), $1); }
    | NAME '=' expr                 { $$ = own(AST_PARAM, sp(@1), $1); $$->a = $3; }
    | '*' NAME                      { $$ = own(AST_PARAM, sp(@2), $2); $$->op = 1; }
    | '[' pnames ']'                {
                                        $$ = ast_new(AST_PARAM, sp(@1));
                                        $$->str = pattern_text($2, &$$->len);
                                        $2->span = sp(@1);
                                        $$->b = $2;
                                    }
    ;

/* destructuring: let [a, b] = ..., for [i, x] in ..., fn f([a, b]) */
pnames
    : NAME                          { $$ = ast_push(ast_new(AST_UNPACK, sp(@1)), own(AST_NAME, sp(@1), $1)); }
    | pnames ',' NAME               { $$ = ast_push($1, own(AST_NAME, sp(@3), $3)); }
    ;
/* the variables of a comprehension: x, [a, b] or a, b */
cvars
    : NAME                          { $$ = own(AST_NAME, sp(@1), $1); }
    | '[' pnames ']'                { $$ = $2; $$->span = sp(@1); }
    | NAME ',' pnames               { prepend($3, own(AST_NAME, sp(@1), $1)); $$ = $3; $$->span = sp(@1); }
    ;
cif
    : %empty                        { $$ = NULL; }
    | IF expr                       { $$ = $2; }
    ;

/* The body of an optimizer: statements plus `state NAME [= init]`. */
obody
    : seps_opt                      { $$ = ast_new(AST_BLOCK, sp(@$)); }
    | seps_opt ostmts seps_opt      { $$ = $2; }
    ;
ostmts
    : ostmt                         { $$ = ast_push(ast_new(AST_BLOCK, sp(@1)), $1); }
    | ostmts seps ostmt             { $$ = ast_push($1, $3); }
    ;
ostmt
    : stmt
    | NAME NAME                     {
                                        if (strcmp($1.s, "state") != 0)
                                            parse_error(ctx, @2.first_line, @2.first_column,
                                                        "unexpected name '%s' (an optimizer declares state as `state NAME`)", $2.s);
                                        free($1.s);
                                        $$ = own(AST_STATE, sp(@2), $2);
                                    }
    | NAME NAME '=' expr            {
                                        if (strcmp($1.s, "state") != 0)
                                            parse_error(ctx, @2.first_line, @2.first_column,
                                                        "unexpected name '%s' (an optimizer declares state as `state NAME = value`)", $2.s);
                                        free($1.s);
                                        $$ = own(AST_STATE, sp(@2), $2);
                                        $$->a = $4;
                                    }
    ;

/* extern "lib.so" fn name(a: double, p: ptr) -> double */
cparams
    : %empty                        { $$ = ast_new(AST_BLOCK, sp(@$)); }
    | cplist opt_comma
    ;
cplist
    : cparam                        { $$ = ast_push(ast_new(AST_BLOCK, sp(@1)), $1); }
    | cplist ',' cparam             { $$ = ast_push($1, $3); }
    ;
cparam
    : NAME ':' NAME                 { $$ = own(AST_PARAM, sp(@1), $1); $$->a = own(AST_NAME, sp(@3), $3); }
    ;
cret
    : %empty                        { $$ = NULL; }
    | '-' '>' NAME                  { $$ = own(AST_NAME, sp(@3), $3); }
    ;

/* sweep a in A, b in B { body }  |  sweep [a, b] in P { body } */
sweep
    : SWEEP svars sclauses opt_nl block {
                                        $$ = $2; $$->a = $5; $$->span = sp(@1); $$->c = $3;
                                    }
    | SWEEP '[' names ']' IN expr sclauses opt_nl block {
                                        $$ = $3; $$->span = sp(@1); $$->op = 1;
                                        $$->b = ast_push(ast_new(AST_LIST, sp(@6)), $6);
                                        $$->a = $9; $$->c = $7;
                                    }
    ;
/* after the variables: `repeat 5`, `sample 30`, `cache "f"`, `halving(max=27, eta=3)`
 * (a record of name: value, which __sweep checks); NULL when none */
sclauses
    : %empty                        { $$ = NULL; }
    | sclauses NAME expr            {
                                        $$ = $1 ? $1 : ast_new(AST_RECORD, sp(@2));
                                        Ast *f = own(AST_FIELDINIT, sp(@2), $2); f->a = $3;
                                        ast_push($$, f);
                                    }
    | sclauses NAME '(' skwargs opt_comma ')' {
                                        $$ = $1 ? $1 : ast_new(AST_RECORD, sp(@2));
                                        Ast *f = own(AST_FIELDINIT, sp(@2), $2); f->a = $4;
                                        ast_push($$, f);
                                    }
    ;
skwargs
    : NAME '=' expr                 {
                                        Ast *f = own(AST_FIELDINIT, sp(@1), $1); f->a = $3;
                                        $$ = ast_push(ast_new(AST_RECORD, sp(@1)), f);
                                    }
    | skwargs ',' NAME '=' expr     {
                                        Ast *f = own(AST_FIELDINIT, sp(@3), $3); f->a = $5;
                                        $$ = ast_push($1, f);
                                    }
    ;
svars
    : NAME IN expr                  {
                                        $$ = ast_new(AST_SWEEP, sp(@1));
                                        ast_push($$, own(AST_PARAM, sp(@1), $1));
                                        $$->b = ast_push(ast_new(AST_LIST, sp(@3)), $3);
                                    }
    | svars ',' NAME IN expr        {
                                        $$ = $1;
                                        ast_push($$, own(AST_PARAM, sp(@3), $3));
                                        ast_push($$->b, $5);
                                    }
    ;
names
    : NAME                          { $$ = ast_push(ast_new(AST_SWEEP, sp(@1)), own(AST_PARAM, sp(@1), $1)); }
    | names ',' NAME                { $$ = ast_push($1, own(AST_PARAM, sp(@3), $3)); }
    ;

%%

static void yyerror(YYLTYPE *loc, void *scanner, ParseCtx *ctx, const char *msg) {
    (void)scanner;
    if (ctx->eof_in_string) return; /* the lexer already said why */
    if (ctx->lexer_reported) {       /* ... or here, at a stray character */
        ctx->lexer_reported = false;
        return;
    }
    /* An error at the very end of input means the chunk is unfinished. The
     * end of input is where the lexer stands after the last token. */
    if (ctx->nerrors == 0 && strstr(msg, "unexpected end of file")) ctx->incomplete = true;
    if (ctx->mem.oom) return; /* parse_source reports it */
    if (strcmp(msg, "memory exhausted") == 0) /* the parser's stack is full */
        msg = "expression too deeply nested (limit " PARSE_MAX_DEPTH_TEXT ")";
    /* the two kinds of '{' (LBLOCK) read the same to a person */
    char buf[512];
    size_t k = 0;
    for (const char *p = msg; *p && k + 4 < sizeof buf;) {
        if (strncmp(p, " or '{ '", 8) == 0) { p += 8; continue; }
        if (strncmp(p, "'{ ' or ", 8) == 0) { p += 8; continue; }
        if (strncmp(p, "'{ '", 4) == 0) { buf[k++] = '\''; buf[k++] = '{'; buf[k++] = '\''; p += 4; continue; }
        buf[k++] = *p++;
    }
    buf[k] = '\0';
    parse_error(ctx, loc->first_line, loc->first_column, "%s", buf);
}
