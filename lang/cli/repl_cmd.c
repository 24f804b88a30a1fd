/*
 * repl_cmd.c — the session's `:commands`, one table row each (name,
 * argument, one-line doc, handler). The table drives dispatch, `:help`
 * and completion of command names. A command's name may be shortened to
 * any unique prefix (`:q`, `:h fit`).
 *
 * Commands report mistakes (a missing argument, an unreadable file, an
 * unknown optimizer) on stderr and leave the session as it was.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "optimizers.h"
#include "repl.h"
#include "std.h"

typedef struct Command {
    const char *name, *arg, *doc;
    void (*run)(Repl *r, const char *arg);
} Command;

static void cmd_help(Repl *r, const char *arg);
static void cmd_load(Repl *r, const char *arg);
static void cmd_time(Repl *r, const char *arg);
static void cmd_disasm(Repl *r, const char *arg);
static void cmd_defaults(Repl *r, const char *arg);
static void cmd_reset(Repl *r, const char *arg);
static void cmd_quit(Repl *r, const char *arg);

static const Command commands[] = {
    {"help", "[name]", "list the commands and builtins, or show one builtin's signature and doc",
     cmd_help},
    {"load", "FILE", "run a script in this session (its definitions stay)", cmd_load},
    {"time", "EXPR", "run an entry and report the wall-clock time it took", cmd_time},
    {"disasm", "EXPR", "list the bytecode of a function, or of EXPR compiled", cmd_disasm},
    {"defaults", "OPTIMIZER", "an optimizer's default hyperparameters and update rule",
     cmd_defaults},
    {"reset", "", "forget every definition: start from a fresh interpreter", cmd_reset},
    {"quit", "", "leave the session (Ctrl-D does too)", cmd_quit},
};
enum { NCOMMANDS = sizeof commands / sizeof commands[0] };

const char *repl_command_name(int i) {
    return i >= 0 && i < NCOMMANDS ? commands[i].name : NULL;
}

/* The command a (possibly shortened) name means; NULL if none or several. */
static const Command *find_command(const char *name, size_t n) {
    const Command *found = NULL;
    for (int i = 0; i < NCOMMANDS; i++) {
        if (strncmp(commands[i].name, name, n) != 0) continue;
        if (strlen(commands[i].name) == n) return &commands[i];
        if (found) return NULL;
        found = &commands[i];
    }
    return found;
}

void repl_command(Repl *r, const char *line) {
    const char *name = line + 1;
    size_t n = 0;
    while (name[n] && name[n] != ' ' && name[n] != '\t') n++;
    const char *arg = name + n;
    while (*arg == ' ' || *arg == '\t') arg++;
    const Command *c = find_command(name, n);
    if (!c || n == 0) {
        fprintf(stderr, "unknown command ':%.*s' (:help lists the commands)\n", (int)n, name);
        return;
    }
    if (c->arg[0] && c->arg[0] != '[' && !*arg) {
        fprintf(stderr, "usage: :%s %s\n", c->name, c->arg);
        return;
    }
    c->run(r, arg);
}

/* ---- :help ------------------------------------------------------------- */

typedef struct Names {
    const char **v;
    size_t n, cap;
    mlp_vm *vm;
} Names;

/* Collects the names of natives (an mlp_name_fn). */
static void add_native(void *ud, const char *name) {
    Names *ns = (Names *)ud;
    if (!mlp_native_doc(ns->vm, name) || name[0] == '_') return;
    if (ns->n == ns->cap) {
        size_t cap = ns->cap ? ns->cap * 2 : 64;
        const char **v = (const char **)realloc(ns->v, cap * sizeof *v);
        if (!v) return;
        ns->v = v;
        ns->cap = cap;
    }
    ns->v[ns->n++] = name;
}

static int cmp_cstr(const void *a, const void *b) {
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

static void help_overview(Repl *r) {
    printf("Type an expression to see its value, or any statement; an unfinished one\n"
           "continues on a ...> line. TAB completes, Ctrl-R searches the history,\n"
           "Ctrl-C stops a running fit or sweep (the model keeps what it learned).\n\n"
           "Commands:\n");
    for (int i = 0; i < NCOMMANDS; i++) {
        char head[40];
        snprintf(head, sizeof head, ":%s %s", commands[i].name, commands[i].arg);
        printf("  %-20s %s\n", head, commands[i].doc);
    }
    /* The names are valid only until the next allocation: print at once. */
    Names ns = {0};
    ns.vm = r->vm;
    mlp_each_global(r->vm, add_native, &ns);
    if (ns.n) {
        qsort(ns.v, ns.n, sizeof *ns.v, cmp_cstr);
        printf("\nBuiltins (:help NAME shows one):\n ");
        size_t col = 1;
        for (size_t i = 0; i < ns.n; i++) {
            if (i > 0 && strcmp(ns.v[i], ns.v[i - 1]) == 0) continue;
            size_t w = strlen(ns.v[i]) + 1;
            if (col + w > 78) {
                printf("\n ");
                col = 1;
            }
            printf(" %s", ns.v[i]);
            col += w;
        }
        putchar('\n');
    }
    free(ns.v);
}

static void cmd_help(Repl *r, const char *arg) {
    if (!*arg) {
        help_overview(r);
        return;
    }
    if (arg[0] == ':') {
        size_t n = strcspn(arg + 1, " \t");
        const Command *c = find_command(arg + 1, n);
        if (c) printf(":%s %s\n    %s\n", c->name, c->arg, c->doc);
        else fprintf(stderr, "no command ':%.*s'\n", (int)n, arg + 1);
        return;
    }
    char name[128];
    size_t n = strcspn(arg, " \t(");
    if (n >= sizeof name) n = sizeof name - 1;
    memcpy(name, arg, n);
    name[n] = '\0';
    /* an optimizer or activation is shown from its table row (richer than
     * its doc line); other natives by their doc; any other value as it is */
    mlp_value v;
    bool found = repl_lookup(r, name, n, &v);
    bool row = found && (std_optim_of(v) ||
                         mlp_handle_data(v, &std_activation_class));
    const char *doc = row ? NULL : mlp_native_doc(r->vm, name);
    if (doc) {
        /* the docs begin with a readable signature; add the exact one if not */
        const char *params = mlp_native_params(r->vm, name);
        if (strncmp(doc, name, n) == 0 && (doc[n] == '(' || doc[n] == ':')) printf("%s\n", doc);
        else printf("%s(%s)\n    %s\n", name, params ? params : "...", doc);
        return;
    }
    if (found) {
        /* not a native: say what the value is (an optimizer shows its
         * hyperparameters, an activation its name, a model its summary) */
        mlp_value s = mlp_tostring(r->vm, v);
        printf("%s (%s): %s\n", name, mlp_type_name(v), mlp_cstr(s));
        const rt_optim *o = std_optim_of(v);
        if (o && rt_optim_doc(o)) printf("    %s\n", rt_optim_doc(o));
        if (o) printf("    :defaults %s shows its update rule\n", rt_optim_name(o));
        const std_activation *act = mlp_handle_data(v, &std_activation_class);
        if (act && !act->custom) {
            const rt_act_info *info = rt_act_get(act->act);
            printf("    f(x) = %s\n", info->doc);
            for (int i = 0; i < rt_act_nparams(act->act); i++)
                printf("    %s=%g: %s\n", info->params[i].name, (double)info->params[i].value,
                       info->params[i].doc);
        }
        return;
    }
    fprintf(stderr, "no builtin or global named '%s'\n", name);
}

/* ---- :load, :time, :disasm ------------------------------------------------ */

/* The argument without surrounding quotes or trailing blanks, malloc'd. */
static char *unquote(const char *arg) {
    size_t n = strlen(arg);
    while (n > 0 && (arg[n - 1] == ' ' || arg[n - 1] == '\t')) n--;
    if (n >= 2 && (arg[0] == '"' || arg[0] == '\'') && arg[n - 1] == arg[0]) {
        arg++;
        n -= 2;
    }
    return strndup(arg, n);
}

static void cmd_load(Repl *r, const char *arg) {
    char *path = unquote(arg);
    if (!path) return;
    repl_begin_run(r);
    mlp_run_file(r->vm, path);
    repl_end_run(r);
    free(path);
}

static double now_seconds(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void cmd_time(Repl *r, const char *arg) {
    double t0 = now_seconds();
    mlp_status st = repl_eval(r, arg, strlen(arg));
    double dt = now_seconds() - t0;
    if (st == MLP_INCOMPLETE) {
        fprintf(stderr, ":time takes one complete entry on its line\n");
        return;
    }
    if (dt < 1.0) printf("time: %.3f ms\n", dt * 1e3);
    else printf("time: %.3f s\n", dt);
}

static void cmd_disasm(Repl *r, const char *arg) {
    size_t n = strlen(arg);
    while (n > 0 && (arg[n - 1] == ' ' || arg[n - 1] == '\t')) n--;
    mlp_value v;
    if (repl_lookup(r, arg, n, &v)) {
        if (mlp_disasm_value(r->vm, v)) return;
        if (mlp_typeof(v) == MLP_T_NATIVE) {
            printf("%.*s is a builtin written in C: it has no bytecode\n", (int)n, arg);
            return;
        }
    }
    /* anything else: the code the expression itself compiles to */
    mlp_disasm_source(r->vm, "<disasm>", arg, n);
    fflush(stdout);
}

/* ---- :defaults ------------------------------------------------------------ */

static void print_rule(const char *rule) {
    /* one step per line, indented under the heading */
    while (*rule) {
        size_t n = strcspn(rule, "\n");
        printf("    %.*s\n", (int)n, rule);
        rule += n;
        if (*rule) rule++;
    }
}

static void cmd_defaults(Repl *r, const char *arg) {
    char name[64], dialect[16] = "";
    if (sscanf(arg, "%63s %15s", name, dialect) < 1) return;
    /* `:defaults Adam(lr=0.1)`: the defaults of Adam */
    name[strcspn(name, "(")] = '\0';
    rt_error err;
    rt_optim *probe = rt_optim_create(name, NULL, &err);
    if (!probe) {
        fprintf(stderr, "%s\n", err.msg);
        return;
    }
    printf("%s: %s\n", rt_optim_name(probe), rt_optim_doc(probe));
    rt_optim_free(probe);
    mlp_value v;
    if (mlp_get_global(r->vm, name, &v) && strcmp(mlp_type_name(v), "optimizer") == 0)
        printf("%s is now %s\n", name, mlp_cstr(mlp_tostring(r->vm, v)));
    for (int d = 0; d < RT_DIALECT_COUNT; d++) {
        const char *dname = rt_dialect_name((rt_dialect)d);
        if (dialect[0] && strcmp(dialect, dname) != 0) continue;
        rt_optim *o = rt_optim_create(name, dname, &err);
        if (!o) {
            fprintf(stderr, "%s\n", err.msg);
            continue;
        }
        char desc[256];
        rt_optim_describe(o, desc, sizeof desc);
        printf("\n%s dialect%s:\n  defaults: %s\n", dname,
               d == RT_DIALECT_KERAS ? " (the default; dialect(\"torch\") switches)" : "",
               desc);
        int width = 0;
        for (int h = 0; h < rt_optim_nhypers(o); h++) {
            int w = (int)strlen(rt_optim_hyper_name(o, h));
            width = w > width ? w : width;
        }
        printf("  hyperparameters:\n");
        for (int h = 0; h < rt_optim_nhypers(o); h++)
            printf("    %-*s  %s\n", width, rt_optim_hyper_name(o, h), rt_optim_hyper_doc(o, h));
        printf("  update (g the gradient, w a weight):\n");
        print_rule(rt_optim_rule(o));
        rt_optim_free(o);
    }
}

/* ---- :reset, :quit ------------------------------------------------------- */

static void cmd_reset(Repl *r, const char *arg) {
    (void)arg;
    if (repl_reset(r)) printf("a fresh session: every definition is gone\n");
    else fprintf(stderr, "mlp: cannot make a new interpreter; the session is unchanged\n");
}

static void cmd_quit(Repl *r, const char *arg) {
    (void)arg;
    r->quit = true;
}
