/*
 * host.c — the stdlib's per-interpreter state (std.h: std_host) and the
 * natives that set it: seed(), dialect(), threads().
 *
 * The state lives in a handle that is the interpreter's host state
 * (mlp_set_host), so the GC frees it with the interpreter and marks the
 * values it holds (the sweep rows being filled, the user kernels). It is
 * the only per-interpreter state of the stdlib: the parallel sweep state
 * (parallel.c) and the list of user kernels (ext.c) are fields of it.
 */
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "parallel.h"
#include "std.h"

static void host_free(void *data)
{
    std_host *h = data;
    par_state_free(h->par);
    rt_pool_destroy(h->pool);
    free(h);
}

static void host_mark(mlp_vm *vm, void *data)
{
    std_host *h = data;
    mlp_mark(vm, h->report);
    mlp_mark(vm, h->report_base);
    mlp_mark(vm, h->kernels);
}

static const mlp_class host_class = { .name = "host", .free = host_free, .mark = host_mark };

std_host *std_host_of(mlp_vm *vm) { return mlp_host(vm); }

/* Streams are derived from the seed alone, so `seed(777)` followed by the
 * same calls gives the same models and epoch orders on any machine. */
void std_random_seed(std_random *r, uint64_t seed)
{
    r->seed = seed;
    rt_rng_init(&r->init, seed, RT_STREAM_INIT);
    rt_rng_init(&r->shuffle, seed, RT_STREAM_SHUFFLE);
    r->models = 0;
}

bool std_int_arg(mlp_vm *vm, const char *fn, const char *arg, mlp_value v,
                 long lo, long hi, long *out)
{
    double x = mlp_as_number(v);
    *out = 0;
    if (!mlp_is_number(v) || x != (double)(long)x || x < lo || x > hi) {
        mlp_value s = mlp_tostring(vm, v);
        if (hi >= 1L << 30)
            return mlp_raise(vm, "%s: %s must be an integer >= %ld, got %s", fn, arg, lo,
                             mlp_cstr(s));
        return mlp_raise(vm, "%s: %s must be an integer in [%ld, %ld], got %s", fn, arg, lo,
                         hi, mlp_cstr(s));
    }
    *out = (long)x;
    return true;
}

bool std_num_arg(mlp_vm *vm, const char *fn, const char *arg, mlp_value v, double *out)
{
    *out = 0;
    if (!mlp_is_number(v))
        return mlp_raise(vm, "%s: %s must be a number, got %s", fn, arg, mlp_type_name(v));
    *out = mlp_as_number(v);
    return true;
}

bool std_str_arg(mlp_vm *vm, const char *fn, const char *arg, mlp_value v, const char **out)
{
    *out = "";
    if (!mlp_is_string(v))
        return mlp_raise(vm, "%s: %s must be a string, got %s", fn, arg, mlp_type_name(v));
    *out = mlp_cstr(v);
    return true;
}

const char *std_float_text(float x, char buf[32])
{
    for (int p = 1; p <= 9; p++) {
        snprintf(buf, 32, "%.*g", p, (double)x);
        if (strtof(buf, NULL) == x) break;
    }
    return buf;
}

static bool n_seed(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    long s;
    if (!std_int_arg(vm, "seed", "n", a[0], 0, __LONG_MAX__, &s)) return false;
    std_random_seed(&std_host_of(vm)->rnd, (uint64_t)s);
    return true;
}

static bool n_dialect(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    std_host *h = std_host_of(vm);
    if (!mlp_is_nil(a[0])) {
        const char *name;
        if (!std_str_arg(vm, "dialect", "name", a[0], &name)) return false;
        int d = 0;
        while (d < RT_DIALECT_COUNT && strcmp(rt_dialect_name((rt_dialect)d), name) != 0) d++;
        if (d == RT_DIALECT_COUNT)
            return mlp_raise(vm, "dialect: unknown dialect '%s' (use \"keras\" or \"torch\")",
                             name);
        h->dialect = (rt_dialect)d;
        if (!std_bind_optimizers(vm, h->dialect)) return false;
    }
    *out = mlp_string_cstr(vm, rt_dialect_name(h->dialect));
    return true;
}

static bool n_threads(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    *out = mlp_number(rt_pool_threads(std_host_of(vm)->pool));
    return true;
}

static const mlp_native natives[] = {
    { "seed", "n", n_seed,
      "seed(n): fix everything random (initialisation, shuffling, dropout) from n" },
    { "dialect", "name=nil", n_dialect,
      "dialect(name): default optimizer dialect, \"keras\" or \"torch\"; returns the current one" },
    { "threads", "", n_threads, "threads(): how many threads the kernels use (MLP_THREADS)" },
};

bool std_open_host(mlp_vm *vm)
{
    std_host *h = calloc(1, sizeof *h);
    if (!h) return false;
    h->pool = rt_pool_create(0);
    h->tty = isatty(STDOUT_FILENO);
    const char *progress = getenv("MLP_PROGRESS");
    h->epoch_lines = !h->tty && !(progress && strcmp(progress, "0") == 0);
    h->report = h->report_base = h->kernels = mlp_nil();
    std_random_seed(&h->rnd, 0);
    mlp_set_host(vm, mlp_handle(vm, &host_class, h));
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
