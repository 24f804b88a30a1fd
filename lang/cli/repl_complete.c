/*
 * repl_complete.c — tab completion for the session.
 *
 * What a word completes to depends on where it stands:
 *   - after `name.` or `a.b.`: the fields of that value (a record's keys, a
 *     module's members, the fields a handle's class lists), found by
 *     looking the path up, never by running code, so TAB has no effects;
 *   - right after a leading `:`: the command names;
 *   - elsewhere: keywords, the session's globals and the builtins (layer,
 *     activation and optimizer names are builtins too).
 * One TAB inserts the completion when it is unique, else the longest
 * common prefix, else lists the candidates under the line. TAB on an empty
 * word indents, for typing blocks.
 */
#include <histedit.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#include "repl.h"

/* The keywords, as lang/lexer.l spells them (its rules are not a table
 * this file could share). */
static const char *const keywords[] = {
    "let",   "fn",    "return", "if",     "else",      "for",        "in",
    "while", "break", "continue", "true", "false",     "nil",        "and",
    "or",    "not",   "import", "model",  "sweep",     "optimizer",  "activation",
    "extern",
};

static bool ident_char(char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           c == '_';
}

/* ---- looking values up without running code ------------------------------ */

bool repl_lookup(Repl *r, const char *path, size_t len, mlp_value *out) {
    char name[256];
    size_t i = 0;
    bool first = true;
    mlp_value v = mlp_nil();
    while (i <= len) {
        size_t j = i;
        while (j < len && path[j] != '.') j++;
        size_t n = j - i;
        if (n == 0 || n >= sizeof name) return false;
        memcpy(name, path + i, n);
        name[n] = '\0';
        if (first ? !mlp_get_global(r->vm, name, &v) : !mlp_peek_field(r->vm, v, name, &v))
            return false;
        first = false;
        i = j + 1;
    }
    *out = v;
    return true;
}

/* ---- candidate lists ---------------------------------------------------- */

typedef struct Cands {
    char **v;
    size_t n, cap;
    const char *prefix;
    size_t plen;
    bool oom;
} Cands;

/* Adds name if it starts with the prefix (an mlp_name_fn). */
static void cand_add(void *ud, const char *name) {
    Cands *c = (Cands *)ud;
    if (c->oom || strncmp(name, c->prefix, c->plen) != 0) return;
    if (c->n + 2 > c->cap) {
        size_t cap = c->cap ? c->cap * 2 : 32;
        char **v = (char **)realloc(c->v, cap * sizeof *v);
        if (!v) {
            c->oom = true;
            return;
        }
        c->v = v;
        c->cap = cap;
    }
    char *s = strdup(name);
    if (!s) {
        c->oom = true;
        return;
    }
    c->v[c->n++] = s;
    c->v[c->n] = NULL;
}

static int cmp_str(const void *a, const void *b) {
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void repl_free_candidates(char **c) {
    if (!c) return;
    for (char **p = c; *p; p++) free(*p);
    free(c);
}

char **repl_candidates(Repl *r, const char *line, size_t cursor, size_t *start) {
    size_t ws = cursor;
    while (ws > 0 && ident_char(line[ws - 1])) ws--;
    *start = ws;
    Cands c = {0};
    c.plen = cursor - ws;
    /* the prefix is not NUL-terminated in line: compare through a copy */
    char *prefix = strndup(line + ws, cursor - ws);
    if (!prefix) return NULL;
    c.prefix = prefix;

    size_t lead = 0;
    while (lead < cursor && (line[lead] == ' ' || line[lead] == '\t')) lead++;
    if (ws > 0 && line[ws - 1] == '.') {
        size_t ps = ws - 1;
        while (ps > 0 && (ident_char(line[ps - 1]) || line[ps - 1] == '.')) ps--;
        mlp_value v;
        bool is_name = ps < ws - 1 && !(line[ps] >= '0' && line[ps] <= '9');
        if (is_name && repl_lookup(r, line + ps, ws - 1 - ps, &v)) mlp_each_field(r->vm, v, cand_add, &c);
    } else if (ws == lead + 1 && line[lead] == ':') {
        for (int i = 0; repl_command_name(i); i++) cand_add(&c, repl_command_name(i));
    } else if (c.plen > 0) {
        for (size_t i = 0; i < sizeof keywords / sizeof keywords[0]; i++) cand_add(&c, keywords[i]);
        mlp_each_global(r->vm, cand_add, &c);
    }
    free(prefix);
    if (c.oom || !c.v) {
        repl_free_candidates(c.v);
        if (c.oom) return NULL;
        c.v = (char **)calloc(1, sizeof *c.v);
        return c.v;
    }
    qsort(c.v, c.n, sizeof *c.v, cmp_str);
    /* unique: a builtin may also be a global of the session */
    size_t k = 0;
    for (size_t i = 0; i < c.n; i++) {
        if (k > 0 && strcmp(c.v[k - 1], c.v[i]) == 0) free(c.v[i]);
        else c.v[k++] = c.v[i];
    }
    c.v[k] = NULL;
    return c.v;
}

/* ---- the TAB key ---------------------------------------------------------- */

static int terminal_width(void) {
    struct winsize ws;
    if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    return 80;
}

/* Lists the candidates in columns, as ls does, below the line being typed. */
static void list_candidates(char **c, size_t n) {
    size_t w = 0;
    for (size_t i = 0; i < n; i++)
        if (strlen(c[i]) > w) w = strlen(c[i]);
    w += 2;
    size_t cols = (size_t)terminal_width() / w;
    if (cols == 0) cols = 1;
    size_t rows = (n + cols - 1) / cols;
    putchar('\n');
    for (size_t row = 0; row < rows; row++) {
        for (size_t col = 0; col < cols; col++) {
            size_t i = col * rows + row;
            if (i >= n) break;
            bool last = col + 1 == cols || i + rows >= n;
            if (last) fputs(c[i], stdout);
            else printf("%-*s", (int)w, c[i]);
        }
        putchar('\n');
    }
    fflush(stdout);
}

static unsigned char on_tab(EditLine *el, int ch) {
    (void)ch;
    Repl *r = NULL;
    el_get(el, EL_CLIENTDATA, &r);
    const LineInfo *li = el_line(el);
    size_t cursor = (size_t)(li->cursor - li->buffer);
    size_t start;
    char **c = repl_candidates(r, li->buffer, cursor, &start);
    if (!c) return CC_ERROR;
    size_t n = 0;
    while (c[n]) n++;
    size_t typed = cursor - start;
    unsigned char res = CC_REFRESH;
    if (n == 0) {
        bool after_dot = start > 0 && li->buffer[start - 1] == '.';
        if (typed == 0 && !after_dot) el_insertstr(el, "    ");
        else res = CC_ERROR; /* nothing fits: beep */
    } else {
        size_t common = strlen(c[0]);
        for (size_t i = 1; i < n; i++) {
            size_t k = 0;
            while (k < common && c[i][k] == c[0][k]) k++;
            common = k;
        }
        if (common > typed) {
            char *ins = strndup(c[0] + typed, common - typed);
            if (ins) el_insertstr(el, ins);
            free(ins);
        } else if (n > 1) {
            list_candidates(c, n);
            res = CC_REDISPLAY;
        }
    }
    repl_free_candidates(c);
    return res;
}

void repl_complete_install(Repl *r) {
    /* the wide call: the narrow one leaks the copies it makes of both names */
    el_wset(r->el, EL_ADDFN, L"mlp-complete", L"complete a name or a field", on_tab);
    el_set(r->el, EL_BIND, "^I", "mlp-complete", NULL);
}
