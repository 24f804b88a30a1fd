/*
 * repl.h — the interactive session: `mlp` with no arguments on a terminal,
 * or `mlp --repl`.
 *
 * A session reads entries, runs each in the persistent global scope of one
 * interpreter (mlp_eval_repl) and echoes the value of a final expression.
 * An entry may span lines: while the parser reports that the input ended
 * inside an unfinished construct (MLP_INCOMPLETE) the next line is appended
 * on a `...>` prompt. Lines that start with `:` are commands (:help,
 * :load, :time, :disasm, :defaults, :reset, :quit; `:help` lists them).
 *
 * On a terminal, input comes through libedit: line editing, Ctrl-R search,
 * tab completion (repl_complete.c) and a history kept in
 * $XDG_STATE_HOME/mlp/history, else ~/.mlp_history. Not on a terminal
 * (`mlp --repl < file`), lines are read plainly: no prompts, no colours,
 * no history; entries and echo work the same, which is what scripted tests
 * of the session logic use.
 *
 * Ctrl-C. While an entry runs, SIGINT calls mlp_interrupt: a training run
 * stops at its next batch boundary, keeping the model and its history, and
 * the session reports "interrupted" and goes on. At the prompt, Ctrl-C
 * abandons the line (and any unfinished entry). Ctrl-D at the prompt, or
 * the end of input, ends the session.
 *
 * Ownership. The session creates its interpreters through the host's
 * `open` callback (so the host decides what a fresh interpreter contains:
 * the stdlib, the `args` list) and frees them; `:reset` swaps in a new one.
 *
 * This header also declares the few things the REPL's own files share
 * (marked internal); only repl_run is for other modules.
 */
#ifndef MLP_REPL_H
#define MLP_REPL_H

#include <stdbool.h>
#include <stdio.h>

#include "mlp.h"

/* Makes a fresh interpreter with everything a script would see; NULL on
 * failure (after reporting it). cfg carries the session's output callbacks. */
typedef mlp_vm *(*repl_open_fn)(const mlp_config *cfg, void *ud);

/* Runs a session on stdin/stdout until :quit, Ctrl-D or the end of input,
 * after running the script `preload` in it when not NULL (`mlp --repl
 * FILE`, to inspect what a script built). Returns the process exit status
 * (0, or 70 when no interpreter could be made). */
int repl_run(repl_open_fn open, void *ud, bool trace, const char *preload);

/* ---- internal to lang/repl*.c ------------------------------------------- */

typedef struct Repl {
    mlp_vm *vm;
    repl_open_fn open;
    void *open_ud;
    bool trace;
    bool tty;     /* stdin is a terminal: libedit, prompts, history */
    bool color;   /* stdout is a terminal and colours are wanted */
    bool quit;    /* :quit was given */
    bool continuing; /* inside an unfinished entry: the `...>` prompt */
    bool hist_warned; /* the history file could not be written (said once) */
    struct editline *el;
    struct history *hist;
    char *hist_path; /* NULL: no history file */
} Repl;

/* repl.c: a fresh interpreter replaces the current one (false: none could
 * be made, the old one is kept). */
bool repl_reset(Repl *r);
/* repl.c: runs text as an entry, as if typed (echo included). */
mlp_status repl_eval(Repl *r, const char *src, size_t len);
/* repl.c: bracket any other running of code (:load), so Ctrl-C reaches it. */
void repl_begin_run(Repl *r);
void repl_end_run(Repl *r);

/* repl_cmd.c: runs a `:command` line (without its newline). */
void repl_command(Repl *r, const char *line);
/* repl_cmd.c: the i-th command name ("help"), NULL past the last. */
const char *repl_command_name(int i);

/* repl_complete.c: binds TAB in r->el to completion. */
void repl_complete_install(Repl *r);
/* repl_complete.c: the candidates for completing line[0..cursor), sorted
 * and unique, as a malloc'd NULL-terminated array of malloc'd strings;
 * *start gets the offset where the completed word begins. For tests and
 * for the TAB handler. */
char **repl_candidates(Repl *r, const char *line, size_t cursor, size_t *start);
void repl_free_candidates(char **c);
/* repl_complete.c: the value of a global or a dotted path of fields
 * ("data.train.x") without running code; false if it has none. */
bool repl_lookup(Repl *r, const char *path, size_t len, mlp_value *out);

#endif
