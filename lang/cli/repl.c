/*
 * repl.c — the session loop: reading lines (libedit on a terminal, plain
 * reads otherwise), gathering them into entries, running entries, Ctrl-C,
 * and the history file. Commands live in repl_cmd.c, completion in
 * repl_complete.c (see repl.h for the whole picture).
 */
#include <errno.h>
#include <histedit.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <unistd.h>
#include <wchar.h>

#include "repl.h"

enum { EXIT_COMPILE = 65, EXIT_RUNTIME = 70, EXIT_IO = 74, HISTORY_SIZE = 1000 };

static int entry_status(mlp_status st) {
    return st == MLP_COMPILE_ERROR || st == MLP_INCOMPLETE ? EXIT_COMPILE
           : st == MLP_IO_ERROR                            ? EXIT_IO
                                                           : EXIT_RUNTIME;
}

/* ---- Ctrl-C ------------------------------------------------------------
 * A signal handler can reach nothing but process state, so these two
 * variables are the session's only globals: the interpreter that is
 * running an entry (NULL at the prompt), and whether SIGINT arrived since
 * the prompt was shown. The handler is installed without SA_RESTART so that
 * a read blocked at the prompt returns EINTR and the line can be
 * abandoned. */
static mlp_vm *volatile sigint_target;
static volatile sig_atomic_t sigint_seen;

static void on_sigint(int sig) {
    (void)sig;
    sigint_seen = 1;
    mlp_vm *vm = sigint_target;
    if (vm) mlp_interrupt(vm);
}

void repl_begin_run(Repl *r) {
    sigint_seen = 0;
    sigint_target = r->vm;
}

void repl_end_run(Repl *r) {
    (void)r;
    sigint_target = NULL;
    fflush(stdout);
}

/* ---- interpreters ------------------------------------------------------- */

/* Error reports go to stderr after whatever the entry printed so far
 * (stdout is buffered when it is not a terminal), in red on a colour
 * terminal. They arrive in pieces (the message, the source line, the
 * caret), each wrapped on its own. */
static void write_err(void *ud, const char *s, size_t n) {
    Repl *r = (Repl *)ud;
    fflush(stdout);
    if (r->color) fputs("\033[31m", stderr);
    fwrite(s, 1, n, stderr);
    if (r->color) fputs("\033[0m", stderr);
}

static mlp_vm *open_vm(Repl *r) {
    mlp_config cfg = {0};
    cfg.trace = r->trace;
    cfg.ud = r;
    cfg.write_err = write_err;
    return r->open(&cfg, r->open_ud);
}

bool repl_reset(Repl *r) {
    mlp_vm *vm = open_vm(r);
    if (!vm) return false;
    mlp_vm_free(r->vm);
    r->vm = vm;
    return true;
}

mlp_status repl_eval(Repl *r, const char *src, size_t len) {
    repl_begin_run(r);
    mlp_status st = mlp_eval_repl(r->vm, src, len);
    repl_end_run(r);
    return st;
}

/* ---- history ------------------------------------------------------------ */

/* $XDG_STATE_HOME/mlp/history (creating the folder), else ~/.mlp_history;
 * NULL when neither can be had. */
static char *history_path(void) {
    const char *xdg = getenv("XDG_STATE_HOME");
    const char *home = getenv("HOME");
    char *p = NULL;
    if (xdg && xdg[0]) {
        size_t n = strlen(xdg) + sizeof "/mlp/history";
        p = (char *)malloc(n);
        if (!p) return NULL;
        snprintf(p, n, "%s/mlp", xdg);
        mkdir(xdg, 0700); /* either exists afterwards, or the file open fails */
        mkdir(p, 0700);
        snprintf(p, n, "%s/mlp/history", xdg);
    } else if (home && home[0]) {
        size_t n = strlen(home) + sizeof "/.mlp_history";
        p = (char *)malloc(n);
        if (!p) return NULL;
        snprintf(p, n, "%s/.mlp_history", home);
    }
    return p;
}

static void history_add(Repl *r, const char *line) {
    if (!r->hist) return;
    HistEvent ev;
    history(r->hist, &ev, H_ENTER, line);
    /* saved at once, so a session that is killed loses nothing */
    if (r->hist_path && history(r->hist, &ev, H_SAVE, r->hist_path) < 0 && !r->hist_warned) {
        fprintf(stderr, "mlp: cannot write the history file %s\n", r->hist_path);
        r->hist_warned = true;
    }
}

/* ---- reading lines ------------------------------------------------------- */

static char *prompt_fn(EditLine *el) {
    Repl *r = NULL;
    el_get(el, EL_CLIENTDATA, &r);
    bool cont = r && r->continuing;
    if (r && r->color)
        return cont ? "\1\033[2m\1...>\1\033[0m\1 " : "\1\033[1;34m\1mlp>\1\033[0m\1 ";
    return cont ? "...> " : "mlp> ";
}

/* libedit's own reader retries a read interrupted by a signal once, so
 * Ctrl-C at the prompt would need pressing twice; this one gives up on
 * the first SIGINT. It decodes the terminal's multibyte text (UTF-8) one
 * byte at a time. Returns 1 with a character, 0 at end of input, -1 on
 * Ctrl-C or an error. */
static int read_char(EditLine *el, wchar_t *wc) {
    (void)el;
    mbstate_t st;
    memset(&st, 0, sizeof st);
    for (;;) {
        /* Ctrl-C may land while libedit is busy (drawing a completion
         * list), not blocked in read: it still cancels the line */
        if (sigint_seen) return -1;
        char c;
        ssize_t k = read(STDIN_FILENO, &c, 1);
        if (k == 0) return 0;
        if (k < 0) {
            if (errno == EINTR) continue; /* Ctrl-C is seen at the loop's top */
            return -1;
        }
        size_t m = mbrtowc(wc, &c, 1, &st);
        if (m == (size_t)-2) continue; /* the middle of a character */
        if (m == (size_t)-1) {
            /* not valid text: pass the byte on as it is */
            *wc = (wchar_t)(unsigned char)c;
            memset(&st, 0, sizeof st);
        }
        return 1;
    }
}

/* libedit draws the prompt while the terminal is still in cooked mode
 * and only switches it to raw mode when it reads the first key. Keys that
 * arrive in between would be echoed twice (by the terminal, then by
 * libedit) and a Ctrl-D among them would be swallowed as a cooked-mode
 * end-of-file; so the terminal goes non-canonical and silent before the
 * prompt is drawn. libedit restores its own cooked settings afterwards. */
static void quiet_terminal(void) {
    struct termios t;
    if (tcgetattr(STDIN_FILENO, &t) != 0) return;
    t.c_lflag &= ~(tcflag_t)(ECHO | ICANON);
    t.c_cc[VMIN] = 1;
    t.c_cc[VTIME] = 0;
    tcsetattr(STDIN_FILENO, TCSANOW, &t);
}

typedef enum { LINE_OK, LINE_EOF, LINE_CANCELLED } LineStatus;

/* The next line into *buf (without its newline). */
static LineStatus read_line(Repl *r, char **buf, size_t *cap, size_t *len) {
    sigint_seen = 0;
    const char *text;
    size_t n;
    if (r->el) {
        int count = 0;
        quiet_terminal();
        text = el_gets(r->el, &count);
        if (!text) {
            /* Ctrl-C wherever libedit was (editing, an incremental
             * search, a completion question) abandons the line only; a
             * search reports it as end of input with count 0 */
            if (sigint_seen) return LINE_CANCELLED;
            return LINE_EOF;
        }
        n = (size_t)count;
    } else {
        errno = 0;
        ssize_t got = getline(buf, cap, stdin);
        if (got < 0) {
            if (sigint_seen) {
                clearerr(stdin);
                return LINE_CANCELLED;
            }
            return LINE_EOF;
        }
        text = *buf;
        n = (size_t)got;
    }
    while (n > 0 && (text[n - 1] == '\n' || text[n - 1] == '\r')) n--;
    if (text != *buf) {
        if (n + 1 > *cap) {
            char *p = (char *)realloc(*buf, n + 1);
            if (!p) return LINE_EOF;
            *buf = p;
            *cap = n + 1;
        }
        memcpy(*buf, text, n);
    }
    (*buf)[n] = '\0';
    *len = n;
    return LINE_OK;
}

/* ---- the session --------------------------------------------------------- */

static void open_editor(Repl *r) {
    setlocale(LC_CTYPE, ""); /* libedit needs it to edit non-ASCII text */
    r->el = el_init("mlp", stdin, stdout, stderr);
    if (!r->el) return;
    el_set(r->el, EL_CLIENTDATA, r);
    el_set(r->el, EL_EDITOR, "emacs");
    el_set(r->el, EL_PROMPT_ESC, prompt_fn, '\1');
    el_set(r->el, EL_GETCFN, read_char);
    r->hist = history_init();
    if (r->hist) {
        HistEvent ev;
        history(r->hist, &ev, H_SETSIZE, HISTORY_SIZE);
        history(r->hist, &ev, H_SETUNIQUE, 1);
        r->hist_path = history_path();
        if (r->hist_path) history(r->hist, &ev, H_LOAD, r->hist_path);
        el_set(r->el, EL_HIST, history, r->hist);
    }
    /* emacs mode binds ^R to redisplay; the search is what people expect */
    el_set(r->el, EL_BIND, "^R", "em-inc-search-prev", NULL);
    repl_complete_install(r);
    el_source(r->el, NULL); /* the user's ~/.editrc may rebind any of it */
}

static void close_editor(Repl *r) {
    if (r->el) el_end(r->el);
    if (r->hist) history_end(r->hist);
    free(r->hist_path);
}

static bool is_blank(const char *s) {
    while (*s == ' ' || *s == '\t') s++;
    return *s == '\0';
}

/* An entry being gathered over several lines. */
typedef struct Entry {
    char *p;
    size_t n, cap;
} Entry;

static bool entry_add(Entry *e, const char *s, size_t n) {
    if (e->n + n + 2 > e->cap) {
        size_t cap = (e->n + n + 2) * 2;
        char *p = (char *)realloc(e->p, cap);
        if (!p) return false;
        e->p = p;
        e->cap = cap;
    }
    memcpy(e->p + e->n, s, n);
    e->n += n;
    e->p[e->n++] = '\n';
    e->p[e->n] = '\0';
    return true;
}

int repl_run(repl_open_fn open, void *ud, bool trace, const char *preload) {
    Repl r;
    memset(&r, 0, sizeof r);
    r.open = open;
    r.open_ud = ud;
    r.trace = trace;
    r.tty = isatty(STDIN_FILENO);
    const char *term = getenv("TERM");
    r.color = r.tty && isatty(STDOUT_FILENO) && !getenv("NO_COLOR") &&
              !(term && strcmp(term, "dumb") == 0);
    r.vm = open_vm(&r);
    if (!r.vm) return EXIT_RUNTIME;

    struct sigaction sa, old;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sa.sa_flags = 0; /* no SA_RESTART: see on_sigint */
    sigaction(SIGINT, &sa, &old);

    struct termios saved;
    bool have_saved = r.tty && tcgetattr(STDIN_FILENO, &saved) == 0;
    if (r.tty) {
        open_editor(&r);
        printf("mlp %s: :help lists the commands, Ctrl-D leaves\n", MLP_VERSION);
    }
    /* Off a terminal a session is a script fed to the REPL: its exit
     * status is that of the first entry that failed (65 compile, 70
     * runtime, 74 the preloaded file unreadable), as a script's would be;
     * the entries after it still run. On a terminal errors are part of
     * the conversation and the status is 0. */
    int status = 0;
    if (preload) {
        repl_begin_run(&r);
        mlp_status st = mlp_run_file(r.vm, preload);
        repl_end_run(&r);
        if (st != MLP_OK) status = entry_status(st);
    }
    Entry entry = {0};
    /* exit(code) in an entry (or the preloaded script) ends the session
     * with code, on a terminal too */
    bool exited = false;
    char *line = NULL;
    size_t cap = 0, len = 0;
    int code;
    if (preload && mlp_exit_requested(r.vm, &code)) {
        status = code;
        r.quit = exited = true;
    }
    while (!r.quit) {
        r.continuing = entry.n > 0;
        LineStatus ls = read_line(&r, &line, &cap, &len);
        if (ls == LINE_EOF) {
            if (r.tty) putchar('\n');
            break;
        }
        if (ls == LINE_CANCELLED) {
            /* the terminal echoed ^C; start afresh on the next line */
            if (r.tty) putchar('\n');
            entry.n = 0;
            continue;
        }
        if (entry.n == 0 && is_blank(line)) continue;
        const char *s = line;
        while (*s == ' ' || *s == '\t') s++;
        if (entry.n == 0 && *s == ':') {
            if (r.el) history_add(&r, line);
            repl_command(&r, s);
            continue;
        }
        if (!entry_add(&entry, line, len)) {
            fprintf(stderr, "mlp: out of memory\n");
            break;
        }
        mlp_status st = repl_eval(&r, entry.p, entry.n);
        if (st != MLP_INCOMPLETE) {
            /* the whole entry is one history item: the up arrow recalls a
             * multi-line function as it was typed (newlines included) */
            if (r.el) {
                entry.p[entry.n - 1] = '\0'; /* the last newline */
                history_add(&r, entry.p);
            }
            entry.n = 0;
        }
        if (mlp_exit_requested(r.vm, &code)) {
            status = code;
            exited = true;
            break;
        }
        if (st != MLP_OK && st != MLP_INCOMPLETE && status == 0) status = entry_status(st);
    }
    if (!exited && entry.n > 0 && !r.tty) {
        /* input ended inside an entry: say so (the parser's own message,
         * with its position) instead of dropping it */
        mlp_check_source(r.vm, "<repl>", entry.p, entry.n);
        fprintf(stderr, "mlp: the input ended inside an unfinished entry\n");
        if (status == 0) status = EXIT_COMPILE;
    }
    free(entry.p);
    free(line);
    close_editor(&r);
    if (have_saved) tcsetattr(STDIN_FILENO, TCSADRAIN, &saved); /* as the shell left it */
    sigaction(SIGINT, &old, NULL);
    mlp_vm_free(r.vm);
    fflush(stdout);
    return exited || !r.tty ? status : 0;
}
