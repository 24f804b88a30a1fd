/*
 * search.c — the distributions of a random search: uniform(lo, hi),
 * loguniform(lo, hi), randint(lo, hi) and choice(values), the values a
 * variable of `sweep ... sample N { }` takes (sweep.c draws the points).
 *
 * Draws come from one random stream keyed by the script's seed
 * (STD_STREAM_SAMPLE), point after point and variable after variable in
 * the order written, in the script's own process before any point runs:
 * so the sample is the same on every machine, serially, with -j N and on
 * every MPI rank. Continuous draws are rounded to 3 significant digits (a
 * table reads 0.00312, and a run can be repeated by typing the value).
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "std.h"

typedef enum { DIST_UNIFORM, DIST_LOGUNIFORM, DIST_RANDINT, DIST_CHOICE } dist_kind;

typedef struct std_dist {
    dist_kind kind;
    double lo, hi;
    mlp_value values;   /* choice: a list */
} std_dist;

static void dist_mark(mlp_vm *vm, void *p) { mlp_mark(vm, ((std_dist *)p)->values); }

static const char *const dist_names[] = { "uniform", "loguniform", "randint", "choice" };

static mlp_value dist_tostring(mlp_vm *vm, void *p)
{
    std_dist *d = p;
    if (d->kind == DIST_CHOICE) {
        mlp_value s = mlp_tostring(vm, d->values);
        size_t n = mlp_strlen(s) + 16;
        char *buf = malloc(n);
        if (!buf) return mlp_string_cstr(vm, "choice(...)");
        snprintf(buf, n, "choice(%s)", mlp_cstr(s));
        mlp_value out = mlp_string_cstr(vm, buf);
        free(buf);
        return out;
    }
    char buf[160];
    mlp_value lo = mlp_tostring(vm, mlp_number(d->lo));
    mlp_push_root(vm, lo);
    mlp_value hi = mlp_tostring(vm, mlp_number(d->hi));
    snprintf(buf, sizeof buf, "%s(%s, %s)", dist_names[d->kind], mlp_cstr(lo), mlp_cstr(hi));
    mlp_pop_root(vm);
    return mlp_string_cstr(vm, buf);
}

const mlp_class std_dist_class = {
    .name = "distribution", .free = free, .mark = dist_mark, .tostring = dist_tostring,
};

/* Uniform on [0, 1) with 53 random bits. */
static double unit(rt_rng *r)
{
    uint64_t a = rt_rng_u32(r) >> 5, b = rt_rng_u32(r) >> 6;
    return ((double)a * 67108864.0 + (double)b) / 9007199254740992.0;
}

/* x to 3 significant digits, by way of its decimal text. */
static double round3(double x)
{
    char buf[48];
    snprintf(buf, sizeof buf, "%.2e", x);
    return strtod(buf, NULL);
}

bool std_draw(mlp_vm *vm, mlp_value axis, rt_rng *r, mlp_value *out)
{
    std_dist *d = mlp_handle_data(axis, &std_dist_class);
    if (!d) {   /* a list: one of its values */
        size_t n = mlp_list_len(axis);
        *out = mlp_list_get(axis, rt_rng_below(r, (uint32_t)n));
        return true;
    }
    double u = unit(r);
    switch (d->kind) {
    case DIST_UNIFORM: *out = mlp_number(round3(d->lo + (d->hi - d->lo) * u)); break;
    case DIST_LOGUNIFORM: *out = mlp_number(round3(exp(log(d->lo) + (log(d->hi) - log(d->lo)) * u))); break;
    case DIST_RANDINT: *out = mlp_number(d->lo + floor((d->hi - d->lo + 1) * u)); break;
    case DIST_CHOICE:
        *out = mlp_list_get(d->values, (size_t)floor((double)mlp_list_len(d->values) * u));
        break;
    }
    return true;
}

static bool make(mlp_vm *vm, dist_kind kind, double lo, double hi, mlp_value values, mlp_value *out)
{
    std_dist *d = malloc(sizeof *d);
    if (!d) return mlp_raise(vm, "out of memory");
    *d = (std_dist){ kind, lo, hi, values };
    *out = mlp_handle(vm, &std_dist_class, d);
    return true;
}

static bool bounds(mlp_vm *vm, const char *fn, mlp_value *a, double *lo, double *hi)
{
    if (!std_num_arg(vm, fn, "lo", a[0], lo) || !std_num_arg(vm, fn, "hi", a[1], hi)) return false;
    if (!isfinite(*lo) || !isfinite(*hi) || !(*lo < *hi))
        return mlp_raise(vm, "%s: lo must be below hi, both finite (got %s, %s)", fn,
                         mlp_cstr(mlp_tostring(vm, a[0])), mlp_cstr(mlp_tostring(vm, a[1])));
    return true;
}

static bool n_uniform(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    double lo, hi;
    return bounds(vm, "uniform", a, &lo, &hi) && make(vm, DIST_UNIFORM, lo, hi, mlp_nil(), out);
}

static bool n_loguniform(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    double lo, hi;
    if (!bounds(vm, "loguniform", a, &lo, &hi)) return false;
    if (lo <= 0) return mlp_raise(vm, "loguniform: lo must be above 0, got %s",
                                  mlp_cstr(mlp_tostring(vm, a[0])));
    return make(vm, DIST_LOGUNIFORM, lo, hi, mlp_nil(), out);
}

static bool n_randint(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    long lo, hi;
    if (!std_int_arg(vm, "randint", "lo", a[0], -(1L << 50), 1L << 50, &lo) ||
        !std_int_arg(vm, "randint", "hi", a[1], -(1L << 50), 1L << 50, &hi))
        return false;
    if (lo > hi) return mlp_raise(vm, "randint: lo must be at most hi (got %ld, %ld)", lo, hi);
    return make(vm, DIST_RANDINT, (double)lo, (double)hi, mlp_nil(), out);
}

static bool n_choice(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    mlp_value l = a[0];
    if (!mlp_is_list(l) && !mlp_call_native(vm, "list", 1, &a[0], &l)) return false;
    if (mlp_list_len(l) == 0) return mlp_raise(vm, "choice: no values to choose from");
    mlp_push_root(vm, l);
    bool ok = make(vm, DIST_CHOICE, 0, 0, l, out);
    mlp_pop_root(vm);
    return ok;
}

static const mlp_native natives[] = {
    { "uniform", "lo, hi", n_uniform,
      "uniform(lo, hi): a sweep variable drawn uniformly from [lo, hi) (with `sample N`)" },
    { "loguniform", "lo, hi", n_loguniform,
      "loguniform(lo, hi): drawn so that log(x) is uniform on [log lo, log hi) (with `sample N`)" },
    { "randint", "lo, hi", n_randint,
      "randint(lo, hi): a whole number from lo to hi, both included (with `sample N`)" },
    { "choice", "values", n_choice,
      "choice(values): one of the values, equally likely (with `sample N`)" },
};

bool std_open_search(mlp_vm *vm)
{
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
