/*
 * main.c — the `mlp` command.
 *
 *   mlp FILE [args]     run a script (its arguments are the list `args`)
 *   mlp -e CODE         run CODE
 *   mlp -               run standard input
 *   mlp                 the REPL on a terminal; otherwise run standard input
 *   mlp --repl [FILE]   the REPL even when standard input is not a terminal,
 *                       after running FILE in it
 *   --disasm FILE       list the bytecode of every function
 *   --trace             trace each instruction and the stack to stderr
 *   -j N, --jobs N      run sweep points on N cores, in worker processes
 *                       (MLP_JOBS; stdlib/parallel.h, par_workers_for)
 *   --help, --version
 *
 * Exit codes, fixed by class (as clox): 0 ok, 64 usage, 65 compile error,
 * 70 runtime error, 74 I/O error (cannot read the script, cannot write
 * standard output or a file the script writes).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cpu.h"
#include "parallel.h"
#include "mlp.h"
#include "mlp_stdlib.h"
#include "repl.h"

enum { EXIT_OK = 0, EXIT_USAGE = 64, EXIT_COMPILE = 65, EXIT_RUNTIME = 70, EXIT_IO = 74 };

static const char usage[] =
    "usage: mlp [options] [FILE [args...] | -e CODE | -]\n"
    "\n"
    "  FILE          run a script; its arguments are the list `args`\n"
    "  -e CODE       run CODE\n"
    "  -             run the script read from standard input\n"
    "  (nothing)     start the REPL on a terminal, else run standard input\n"
    "  --repl        start the REPL, after running FILE in it if one is given\n"
    "  --disasm      list the bytecode of every function instead of running\n"
    "  --trace       print each instruction and the stack to stderr as it runs\n"
    "  -j N          run sweep points on N cores, each point in a worker process\n"
    "                (default $MLP_JOBS, else 1);\n"
    "                under mpirun the ranks share the points instead\n"
    "  --help        show this help\n"
    "  --version     show the version\n"
    "\n"
    "exit status: 0 ok, 64 usage, 65 compile error, 70 runtime error,\n"
    "             74 cannot read the script, write standard output or a file\n";

/* The one piece of process state: where Ctrl-C goes. A signal handler has
 * no other way to find the interpreter. */
static mlp_vm *volatile interrupt_target;

static void on_sigint(int sig) {
    (void)sig;
    if (interrupt_target) mlp_interrupt(interrupt_target);
}

static int exit_code(mlp_status st) {
    switch (st) {
    case MLP_OK: return EXIT_OK;
    case MLP_COMPILE_ERROR:
    case MLP_INCOMPLETE: return EXIT_COMPILE;
    case MLP_RUNTIME_ERROR: return EXIT_RUNTIME;
    case MLP_IO_ERROR: return EXIT_IO;
    }
    return EXIT_RUNTIME;
}

/* NULL with errno set on a read error: a directory (EISDIR) must not run
 * as an empty script. */
static char *read_stream(FILE *f, size_t *len) {
    /* a device other than a terminal (/dev/zero, a disk) would never end
     * or make no sense as a script: regular files, pipes and terminals */
    struct stat st;
    if (fstat(fileno(f), &st) == 0 && (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode)) &&
        !isatty(fileno(f))) {
        errno = ENODEV;
        return NULL;
    }
    size_t cap = 65536, n = 0;
    char *p = (char *)malloc(cap);
    if (!p) return NULL;
    size_t r;
    while ((r = fread(p + n, 1, cap - n, f)) > 0) {
        n += r;
        if (n == cap) {
            char *q = (char *)realloc(p, cap *= 2);
            if (!q) {
                free(p);
                errno = ENOMEM;
                return NULL;
            }
            p = q;
        }
    }
    if (ferror(f)) {
        int e = errno;
        free(p);
        errno = e;
        return NULL;
    }
    *len = n;
    return p;
}

/* Output that could not be written (a full disk, /dev/full) is lost data:
 * say so and exit 74 unless the run already failed otherwise. The error
 * indicator of stdout is sticky, so this also sees a flush that failed
 * earlier in the run. */
static int check_stdout(int rc) {
    errno = 0;
    if (fflush(stdout) != 0 || ferror(stdout)) {
        if (errno) fprintf(stderr, "mlp: cannot write standard output: %s\n", strerror(errno));
        else fprintf(stderr, "mlp: cannot write standard output\n");
        return rc == EXIT_OK ? EXIT_IO : rc;
    }
    return rc;
}

/* The settings read from the environment by the layers below (which fall
 * back to their defaults on a value they cannot use) are checked here
 * first, so a typo is an error rather than silently ignored: a usage error
 * (64), as a bad MLP_JOBS or -j is. */
static bool check_env(void) {
    const char *t = getenv("MLP_THREADS");
    if (t && *t) {
        char *end;
        errno = 0;
        long n = strtol(t, &end, 10);
        if (errno || *end || n < 1) {
            fprintf(stderr, "mlp: MLP_THREADS must be a positive whole number of threads, got '%s'\n",
                    t);
            return false;
        }
    }
    const char *s = getenv("MLP_SIMD");
    rt_simd level;
    if (s && *s && !rt_simd_parse(s, &level)) {
        fprintf(stderr, "mlp: MLP_SIMD must be one of");
        for (int i = 0; i < RT_SIMD_COUNT; i++)
            fprintf(stderr, "%s %s", i ? "," : "", rt_simd_name((rt_simd)i));
        fprintf(stderr, ", got '%s'\n", s);
        return false;
    }
    return true;
}

/* What a REPL session (lang/repl.c) makes afresh at its start and on
 * :reset: an interpreter with the stdlib and an empty `args`. */
static mlp_vm *open_session_vm(const mlp_config *cfg, void *ud) {
    (void)ud;
    mlp_vm *vm = mlp_vm_new(cfg);
    if (!vm) {
        fprintf(stderr, "mlp: cannot create the interpreter\n");
        return NULL;
    }
    if (!mlp_stdlib_open(vm)) {
        mlp_vm_free(vm);
        return NULL;
    }
    mlp_set_global(vm, "args", mlp_list_new(vm));
    return vm;
}

int main(int argc, char **argv) {
    bool disasm = false, trace = false, repl = false;
    const char *code = NULL, *file = NULL;
    int i = 1;
    int jobs = 0;   /* -j: 0 leaves it to MLP_JOBS */
    for (; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            fputs(usage, stdout);
            return EXIT_OK;
        } else if (strcmp(a, "--version") == 0) {
            printf("mlp %s\n", MLP_VERSION);
            return EXIT_OK;
        } else if (strncmp(a, "-j", 2) == 0 || strcmp(a, "--jobs") == 0) {
            /* -j N, -jN, --jobs N */
            const char *v = a[1] == 'j' && a[2] ? a + 2 : i + 1 < argc ? argv[++i] : "";
            char *end;
            long n = strtol(v, &end, 10);
            if (!*v || *end || n < 1 || n > 256) {
                fprintf(stderr, "mlp: -j needs a number of jobs from 1 to 256, got '%s'\n%s", v,
                        usage);
                return EXIT_USAGE;
            }
            jobs = (int)n;
        } else if (strcmp(a, "--disasm") == 0) {
            disasm = true;
        } else if (strcmp(a, "--trace") == 0) {
            trace = true;
        } else if (strcmp(a, "--repl") == 0) {
            repl = true;
        } else if (strcmp(a, "-e") == 0) {
            if (i + 1 >= argc) {
                fprintf(stderr, "mlp: -e needs an argument\n%s", usage);
                return EXIT_USAGE;
            }
            code = argv[++i];
            i++;
            break;
        } else if (a[0] == '-' && a[1] != '\0') {
            fprintf(stderr, "mlp: unknown option '%s'\n%s", a, usage);
            return EXIT_USAGE;
        } else {
            file = a;
            i++;
            break;
        }
    }
    if (!check_env()) return EXIT_USAGE;
    if (repl || (!code && !file && !disasm && isatty(0))) {
        int st = repl_run(open_session_vm, NULL, trace, file && strcmp(file, "-") != 0 ? file : NULL);
        /* On a terminal a write cut short by Ctrl-C (the REPL's handler
         * does not restart calls) is no lost data: check only output to
         * files and pipes. */
        return isatty(STDOUT_FILENO) ? st : check_stdout(st);
    }
    mlp_config cfg = {0};
    cfg.trace = trace;
    mlp_vm *vm = mlp_vm_new(&cfg);
    if (!vm) {
        fprintf(stderr, "mlp: cannot create the interpreter\n");
        return EXIT_RUNTIME;
    }
    if (!mlp_stdlib_open(vm)) {
        mlp_vm_free(vm);
        return EXIT_RUNTIME;
    }
    if (!mlp_parallel_start(vm, jobs)) {
        mlp_vm_free(vm);
        return EXIT_USAGE;
    }
    /* the script's own arguments */
    mlp_value args = mlp_list_new(vm);
    mlp_push_root(vm, args);
    for (; i < argc; i++) mlp_list_push(vm, args, mlp_string_cstr(vm, argv[i]));
    mlp_set_global(vm, "args", args);
    mlp_pop_root(vm);

    interrupt_target = vm;
    signal(SIGINT, on_sigint);

    int rc;
    const char *name = NULL;
    char *src = NULL;
    size_t len = 0;
    if (code) {
        name = "<-e>";
        len = strlen(code);
    } else if (file && strcmp(file, "-") != 0) {
        name = file;
        FILE *f = fopen(file, "rb");
        if (!f) {
            fprintf(stderr, "mlp: cannot read '%s': %s\n", file, strerror(errno));
            mlp_vm_free(vm);
            return EXIT_IO;
        }
        src = read_stream(f, &len);
        int e = errno;
        fclose(f);
        errno = e;
    } else {
        name = "<stdin>";
        src = read_stream(stdin, &len);
    }
    if (!code && !src) {
        fprintf(stderr, "mlp: cannot read '%s': %s\n", name,
                errno == ENODEV ? "a device is not a script" : strerror(errno));
        mlp_vm_free(vm);
        return EXIT_IO;
    }
    const char *text = code ? code : src;
    mlp_status st = disasm ? mlp_disasm_source(vm, name, text, len)
                           : mlp_run_source(vm, name, text, len);
    rc = exit_code(st);
    /* a script whose sweeps had failed points ran to its end, but failed */
    if (rc == EXIT_OK && !disasm && mlp_sweeps_failed(vm)) rc = EXIT_RUNTIME;
    int status;
    if (mlp_exit_requested(vm, &status)) rc = status;
    rc = check_stdout(rc);
    interrupt_target = NULL;
    free(src);
    mlp_vm_free(vm);
    return rc;
}
