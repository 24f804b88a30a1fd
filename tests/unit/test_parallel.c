/*
 * test_parallel.c — sweeps run by worker processes (stdlib/parallel.c)
 * build the same results table as the serial loop.
 *
 * Each test runs one script in two interpreters, one serial and one with
 * two worker processes (mlp_parallel_start), and compares what the script
 * left behind value by value: numbers bit for bit (so -0.0, NaN, the
 * smallest subnormal and 0.1's last bit all count), strings byte for byte,
 * lists and records recursively, handles by identity with the sweep's own
 * values. The serial interpreter is the reference; nothing here is
 * copied from the program's output. The worker-process paths (death,
 * Ctrl-C, MPI) are covered end to end by tests/par/run.sh.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp.h"
#include "mlp_stdlib.h"
#include "parallel.h"

typedef struct errbuf { char text[1024]; size_t n; } errbuf;

static void on_err(void *ud, const char *s, size_t n)
{
    errbuf *e = ud;
    size_t room = sizeof e->text - 1 - e->n;
    if (n > room) n = room;
    memcpy(e->text + e->n, s, n);
    e->n += n;
    e->text[e->n] = 0;
}

/* A fresh interpreter with the stdlib; jobs > 1 runs sweeps in workers. */
static mlp_vm *new_vm(int jobs, errbuf *e)
{
    mlp_config cfg = { .write_err = on_err, .ud = e };
    mlp_vm *vm = mlp_vm_new(&cfg);
    cr_assert(vm);
    cr_assert(mlp_stdlib_open(vm));
    cr_assert(mlp_parallel_start(vm, jobs));
    return vm;
}

static mlp_value global(mlp_vm *vm, const char *name)
{
    mlp_value v;
    cr_assert(mlp_get_global(vm, name, &v), "no global %s", name);
    return v;
}

/* Deep equality, stricter than `==`: numbers by their bits. */
static bool same(mlp_vm *a, mlp_value x, mlp_vm *b, mlp_value y)
{
    if (mlp_typeof(x) != mlp_typeof(y)) return false;
    switch (mlp_typeof(x)) {
    case MLP_T_NIL: return true;
    case MLP_T_BOOL: return mlp_as_bool(x) == mlp_as_bool(y);
    case MLP_T_NUMBER: {
        double p = mlp_as_number(x), q = mlp_as_number(y);
        return memcmp(&p, &q, sizeof p) == 0;
    }
    case MLP_T_STRING:
        return mlp_strlen(x) == mlp_strlen(y) && memcmp(mlp_cstr(x), mlp_cstr(y), mlp_strlen(x)) == 0;
    case MLP_T_LIST:
        if (mlp_list_len(x) != mlp_list_len(y)) return false;
        for (size_t i = 0; i < mlp_list_len(x); i++)
            if (!same(a, mlp_list_get(x, i), b, mlp_list_get(y, i))) return false;
        return true;
    case MLP_T_RECORD:
        if (mlp_record_len(x) != mlp_record_len(y)) return false;
        for (size_t i = 0; i < mlp_record_len(x); i++) {
            mlp_value kx, vx, ky, vy;
            mlp_record_entry(x, i, &kx, &vx);
            mlp_record_entry(y, i, &ky, &vy);
            if (!same(a, kx, b, ky) || !same(a, vx, b, vy)) return false;
        }
        return true;
    default: {   /* handles of two interpreters: the same text */
        char *tx = strdup(mlp_cstr(mlp_tostring(a, x)));
        bool eq = strcmp(tx, mlp_cstr(mlp_tostring(b, y))) == 0;
        free(tx);
        return eq;
    }
    }
}

/* Runs src serially and with 2 workers; both must succeed and leave the
 * same values in each of the named globals. */
static void check_same(const char *src, const char *const *names, int n)
{
    errbuf e1 = {0}, e2 = {0};
    mlp_vm *serial = new_vm(1, &e1), *par = new_vm(2, &e2);
    cr_assert_eq(mlp_run_source(serial, "<serial>", src, strlen(src)), MLP_OK, "%s", e1.text);
    cr_assert_eq(mlp_run_source(par, "<parallel>", src, strlen(src)), MLP_OK, "%s", e2.text);
    for (int i = 0; i < n; i++)
        cr_expect(same(serial, global(serial, names[i]), par, global(par, names[i])),
                  "%s differs: serial %s, parallel %s", names[i],
                  mlp_cstr(mlp_tostring(serial, global(serial, names[i]))),
                  mlp_cstr(mlp_tostring(par, global(par, names[i]))));
    mlp_vm_free(serial);
    mlp_vm_free(par);
}

Test(parallel, values_cross_processes_exactly)
{
    const char *src =
        "let xs = [0.1, -0.0, 1e-300, 5e-324, 1 / 3, sqrt(-1), 1e308 * 10, -2 ** 53 - 1]\n"
        "let t = sweep i in [0, 1, 2, 3, 4, 5, 6, 7] {\n"
        "    report(x=xs[i], s=\"h\u00e9llo \u2713 {i}\", b=i % 2 == 0, n=nil,\n"
        "           l=[i, [i * 0.5, \"a\"], {k: i}], r={a: xs[i], b: [true, false]})\n"
        "}\n"
        "let rows = t.rows\nlet cols = t.columns\nlet text = str(t)\n";
    const char *names[] = { "rows", "cols", "text" };
    check_same(src, names, 3);
}

Test(parallel, failing_points_and_grid_order)
{
    const char *src =
        "let t = sweep a in [3, 0, 1], b in [\"x\", \"y\"] {\n"
        "    if a == 0 and b == \"y\" { error(\"no {b}\") }\n"
        "    if a == 1 { report(q=a, w=b); report(q=a * 2) } else { report(q=a) }\n"
        "}\n"
        "let rows = t.rows\nlet cols = t.columns\nlet text = str(t)\n";
    const char *names[] = { "rows", "cols", "text" };
    check_same(src, names, 3);
}

Test(parallel, sweep_values_stay_themselves)
{
    /* The optimizer a point reports is the sweep's own value, not a copy
     * or its text: it can be used again after the sweep. */
    const char *src =
        "let opts = [Adam, SGD(lr=0.5)]\n"
        "let t = sweep opt in opts { report(o=opt, inner=[opt]) }\n"
        "let ok = t.rows[1].opt == opts[1] and t.rows[1].o == opts[1] and\n"
        "         t.rows[0].inner[0] == opts[0]\n";
    const char *names[] = { "ok" };
    check_same(src, names, 1);
    errbuf e = {0};
    mlp_vm *vm = new_vm(2, &e);
    cr_assert_eq(mlp_run_source(vm, "<p>", src, strlen(src)), MLP_OK, "%s", e.text);
    mlp_value ok = global(vm, "ok");
    cr_expect(mlp_is_bool(ok) && mlp_as_bool(ok));
    mlp_vm_free(vm);
}

Test(parallel, training_points_match)
{
    /* Whole fits in workers: the same losses to the last bit, and the
     * random state after the sweep is where it was before it. */
    const char *src =
        "seed(4)\n"
        "let data = blobs(n=90, classes=3, seed=2)\n"
        "model net(act) { dense(6, act); dense(3, softmax) }\n"
        "let t = sweep act in [relu, tanh, sigmoid], lr in [0.05, 0.2] {\n"
        "    let h = fit(net(act), data, optimizer=SGD(lr=lr), epochs=2, batch=16, verbose=0)\n"
        "    report(loss=h.loss, acc=h.acc[-1])\n"
        "}\n"
        "let rows = t.rows\n"
        "let after = fit(net(relu), data, epochs=1, verbose=0).loss\n";
    const char *names[] = { "rows", "after" };
    check_same(src, names, 2);
}

Test(parallel, malformed_point_stops_like_serial)
{
    const char *src = "let t = sweep [a, b] in [[1, 2], [3]] { report(s=a + b) }\n";
    errbuf e1 = {0}, e2 = {0};
    mlp_vm *serial = new_vm(1, &e1), *par = new_vm(2, &e2);
    cr_expect_eq(mlp_run_source(serial, "<x>", src, strlen(src)), MLP_RUNTIME_ERROR);
    cr_expect_eq(mlp_run_source(par, "<x>", src, strlen(src)), MLP_RUNTIME_ERROR);
    cr_expect(strstr(e1.text, "sweep: point 2 must be a list of 2 values"), "%s", e1.text);
    cr_expect_str_eq(e1.text, e2.text);
    mlp_vm_free(serial);
    mlp_vm_free(par);
}

Test(parallel, buffers_grow)
{
    par_buf b = {0};
    for (uint64_t i = 0; i < 1000; i++) par_put_u64(&b, i * 7);
    par_put(&b, "end", 3);
    cr_assert(!b.oom);
    cr_assert_eq(b.n, 1000 * 8 + 3);
    uint64_t x;
    memcpy(&x, b.s + 999 * 8, 8);
    cr_expect_eq(x, 999 * 7);
    cr_expect(memcmp(b.s + 8000, "end", 4) == 0);   /* kept NUL-terminated */
    par_buf_free(&b);
    cr_expect_null(b.s);
}

/* The time a sweep of `points` equal points takes with `slots` worker
 * processes at a time on `cores` time-shared cores, in units of a point's
 * length / cores (integers, to compare exactly): rounds of up to `slots`
 * points, a round of k points lasting max(k, cores) units (a round of
 * fewer points than cores leaves cores idle). No idle core: `points`. */
static int sweep_length(int points, int slots, int cores)
{
    int t = 0;
    for (int left = points; left > 0; left -= slots) {
        int k = left < slots ? left : slots;
        t += k > cores ? k : cores;
    }
    return t;
}

Test(parallel, workers_leave_no_core_idle_at_the_end)
{
    for (int jobs = 1; jobs <= 8; jobs++)
        for (int p = 0; p <= 100; p++) {
            int s = par_workers_for(jobs, (size_t)p);
            if (p <= jobs) {            /* one round: each point a worker */
                cr_expect_eq(s, p, "jobs %d, points %d: %d workers", jobs, p, s);
                continue;
            }
            cr_expect(s >= jobs && s <= 2 * jobs, "jobs %d, points %d: %d workers", jobs, p, s);
            if (p % jobs == 0) cr_expect_eq(s, jobs, "jobs %d, points %d: full rounds", jobs, p);
            int ideal = p, got = sweep_length(p, s, jobs);
            cr_expect(got <= sweep_length(p, jobs, jobs), "jobs %d, points %d", jobs, p);
            /* the ideal whenever some number of workers up to 2 x jobs has it */
            for (int w = jobs; w <= 2 * jobs; w++)
                if (sweep_length(p, w, jobs) == ideal)
                    cr_expect(got == ideal, "jobs %d, points %d: %d workers take %d, %d take %d",
                              jobs, p, s, got, w, ideal);
        }
    cr_expect_eq(par_workers_for(2, 3), 3);     /* the study's sweeps under -j 2 */
    cr_expect_eq(par_workers_for(2, 5), 3);
    cr_expect_eq(par_workers_for(2, 13), 2);    /* 13 = 4 + 4 + 4 + 1: no better below 5 */
}
