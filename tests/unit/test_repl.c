/*
 * test_repl.c — the parts of the REPL that need no terminal: completion
 * candidates, looking up values without running code, the introspection
 * API it is built on (mlp_each_global/field, mlp_peek_field,
 * mlp_disasm_value) and the optimizer rule texts behind `:defaults`.
 * tests/repl/run.py drives the whole program on a pty.
 */
#include <criterion/criterion.h>
#include <stdlib.h>
#include <string.h>

#include "mlp_stdlib.h"
#include "optimizers.h"
#include "repl.h"

typedef struct Out {
    char buf[8192];
    size_t n;
} Out;

static void capture(void *ud, const char *s, size_t n) {
    Out *o = (Out *)ud;
    if (o->n + n >= sizeof o->buf) n = sizeof o->buf - 1 - o->n;
    memcpy(o->buf + o->n, s, n);
    o->n += n;
    o->buf[o->n] = '\0';
}

static Out out;
static Repl r;

static void setup(void) {
    memset(&out, 0, sizeof out);
    memset(&r, 0, sizeof r);
    mlp_config cfg = {0};
    cfg.write_out = capture;
    cfg.write_err = capture;
    cfg.ud = &out;
    r.vm = mlp_vm_new(&cfg);
    cr_assert(r.vm && mlp_stdlib_open(r.vm));
}

static void teardown(void) { mlp_vm_free(r.vm); }

static void eval(const char *src) {
    cr_assert_eq(mlp_eval_repl(r.vm, src, strlen(src)), MLP_OK, "%s: %s", src, out.buf);
}

/* The candidates for completing the whole of `line`, joined by spaces. */
static char *complete(const char *line, size_t *start) {
    static char joined[4096];
    char **c = repl_candidates(&r, line, strlen(line), start);
    cr_assert(c);
    joined[0] = '\0';
    for (char **p = c; *p; p++) {
        if (p != c) strcat(joined, " ");
        strcat(joined, *p);
    }
    repl_free_candidates(c);
    return joined;
}

TestSuite(repl, .init = setup, .fini = teardown);

Test(repl, record_fields_after_a_dot) {
    eval("let rec = {beta: 2, alpha: 1, sub: {x: 1, xy: 2}}");
    size_t start;
    cr_assert_str_eq(complete("rec.", &start), "alpha beta sub");
    cr_assert_eq(start, 4);
    cr_assert_str_eq(complete("print(rec.al", &start), "alpha");
    cr_assert_eq(start, 10);
    cr_assert_str_eq(complete("rec.sub.x", &start), "x xy");
    cr_assert_str_eq(complete("rec.nothing.", &start), "");
    cr_assert_str_eq(complete("1.", &start), "", "a number is not a path");
}

Test(repl, names_keywords_and_commands) {
    size_t start;
    cr_assert_str_eq(complete("whil", &start), "while");
    eval("let zeta_one = 1");
    eval("fn zeta_two() { return 2 }");
    cr_assert_str_eq(complete("x = zeta_", &start), "zeta_one zeta_two");
    cr_assert_eq(start, 4);
    /* builtins from the stdlib, sorted, without duplicates */
    char *c = complete("RMS", &start);
    cr_assert_str_eq(c, "RMSprop");
    c = complete("Ada", &start);
    cr_assert_str_eq(c, "AdaGrad Adadelta Adam AdamW");
    cr_assert_str_eq(complete("", &start), "", "an empty word lists nothing");
    cr_assert_str_eq(complete(":de", &start), "defaults");
    cr_assert_str_eq(complete("  :", &start), "defaults disasm help load quit reset time");
}

Test(repl, handle_fields_and_peek) {
    eval("model tiny() { dense(3, relu); dense(2, softmax) }");
    eval("let m = tiny()");
    size_t start;
    cr_assert_str_eq(complete("m.", &start), "built history layers name params trainable");
    mlp_value m, v;
    cr_assert(repl_lookup(&r, "m", 1, &m));
    cr_assert(mlp_peek_field(r.vm, m, "name", &v));
    cr_assert_str_eq(mlp_cstr(v), "tiny");
    /* a missing field is false with no error left pending: later code runs */
    cr_assert_not(mlp_peek_field(r.vm, m, "no_such_field", &v));
    cr_assert(mlp_is_nil(v));
    out.n = 0;
    eval("1 + 2");
    cr_assert_str_eq(out.buf, "3\n");
    cr_assert(repl_lookup(&r, "m.name", 6, &v));
    cr_assert_str_eq(mlp_cstr(v), "tiny");
    cr_assert_not(repl_lookup(&r, "m.", 2, &v));
    cr_assert_not(repl_lookup(&r, "undefined_here", 14, &v));
}

typedef struct Seen {
    int zeta, print;
} Seen;

static void count(void *ud, const char *name) {
    Seen *s = (Seen *)ud;
    if (strcmp(name, "zeta") == 0) s->zeta++;
    if (strcmp(name, "print") == 0) s->print++;
}

Test(repl, each_global_and_module_members) {
    Seen s = {0};
    mlp_each_global(r.vm, count, &s);
    cr_assert_eq(s.zeta, 0);
    cr_assert_eq(s.print, 1);
    eval("let zeta = 3");
    mlp_each_global(r.vm, count, &s);
    cr_assert_eq(s.zeta, 1);
    /* a failed entry declares its names but defines nothing to complete */
    mlp_eval_repl(r.vm, "let zeta_failed = 1 + \"a\"", 25);
    size_t start;
    cr_assert_str_eq(complete("zeta_f", &start), "");
}

Test(repl, disasm_of_a_value) {
    eval("fn inc(x) { return x + 1 }");
    mlp_value f;
    cr_assert(mlp_get_global(r.vm, "inc", &f));
    out.n = 0;
    cr_assert(mlp_disasm_value(r.vm, f));
    cr_assert(strstr(out.buf, "ADD") && strstr(out.buf, "RETURN"), "%s", out.buf);
    cr_assert_not(mlp_disasm_value(r.vm, mlp_number(1)));
    mlp_value p;
    cr_assert(mlp_get_global(r.vm, "print", &p));
    cr_assert_not(mlp_disasm_value(r.vm, p), "a native has no bytecode");
}

Test(repl, every_optimizer_has_an_update_rule) {
    for (int d = 0; d < RT_DIALECT_COUNT; d++)
        for (int i = 0; i < rt_optim_count(); i++) {
            if (!rt_optim_table_has(i, (rt_dialect)d)) continue;
            const char *dialects[] = {"keras", "torch"};
            _Static_assert(RT_DIALECT_COUNT == 2, "one name per dialect");
            rt_error err;
            rt_optim *o = rt_optim_create(rt_optim_table_name(i), dialects[d], &err);
            cr_assert(o, "%s", err.msg);
            const char *rule = rt_optim_rule(o);
            cr_assert(strstr(rule, "w "), "%s/%s: %s", rt_optim_table_name(i), dialects[d], rule);
            /* every hyperparameter the row has appears in its rule, except
             * the ones that only set initial state or switch a variant */
            for (int h = 0; h < rt_optim_nhypers(o); h++) {
                const char *name = rt_optim_hyper_name(o, h);
                if (strcmp(name, "nesterov") == 0 || strcmp(name, "centered") == 0 ||
                    strcmp(name, "initial_accumulator") == 0)
                    continue;
                cr_assert(strstr(rule, name), "%s/%s: '%s' missing from %s",
                          rt_optim_table_name(i), dialects[d], name, rule);
            }
            rt_optim_free(o);
        }
}
