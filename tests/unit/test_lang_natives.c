/*
 * test_lang_natives.c — natives from tables (keyword binding, defaults,
 * *args, error messages), mlp_call / mlp_pcall re-entrancy, host handles,
 * interrupts.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mlp.h"

typedef struct tl_capture { char *out, *err; size_t nout, nerr; } tl_capture;
mlp_vm *tl_vm(tl_capture *c);
void tl_reset(tl_capture *c);
mlp_status tl_run(mlp_vm *vm, const char *src);

static tl_capture cap;
static mlp_vm *vm;
static int freed;

/* describe(x, digits=2, *rest, tag="t"): "x|digits|len(rest)|tag" */
static bool n_describe(mlp_vm *v, mlp_value *a, int n, mlp_value *out) {
    cr_assert_eq(n, 4);
    if (!mlp_is_number(a[0])) return mlp_raise(v, "describe: x must be a number, got %s", mlp_type_name(a[0]));
    char buf[128];
    snprintf(buf, sizeof buf, "%g|%g|%zu|%s", mlp_as_number(a[0]), mlp_as_number(a[1]),
             mlp_list_len(a[2]), mlp_cstr(a[3]));
    *out = mlp_string_cstr(v, buf);
    return true;
}

/* apply(f, x): f(x) + 1, through mlp_call */
static bool n_apply(mlp_vm *v, mlp_value *a, int n, mlp_value *out) {
    mlp_value r;
    if (!mlp_call(v, a[0], 1, &a[1], mlp_nil(), &r)) return false;
    *out = mlp_number(mlp_as_number(r) + 1);
    return true;
}

/* try(f, x): [ok, value or message], through mlp_pcall, with kwargs {k: x} */
static bool n_try(mlp_vm *v, mlp_value *a, int n, mlp_value *out) {
    mlp_value kw = mlp_record_new(v);
    mlp_push_root(v, kw);
    mlp_record_set(v, kw, "k", a[1]);
    mlp_value r;
    bool ok = mlp_pcall(v, a[0], 0, NULL, kw, &r);
    mlp_push_root(v, r);
    mlp_value l = mlp_list_new(v);
    mlp_push_root(v, l);
    mlp_list_push(v, l, mlp_bool(ok));
    mlp_list_push(v, l, r);
    *out = l;
    mlp_pop_root(v);
    mlp_pop_root(v);
    mlp_pop_root(v);
    return true;
}

static bool n_stop(mlp_vm *v, mlp_value *a, int n, mlp_value *out) {
    mlp_interrupt(v);
    return true;
}

typedef struct Counter { double value; mlp_value held; } Counter;
static void c_free(void *d) { freed++; free(d); }
static void c_mark(mlp_vm *v, void *d) { mlp_mark(v, ((Counter *)d)->held); }
static bool c_get(mlp_vm *v, mlp_value self, void *d, const char *field, mlp_value *out) {
    Counter *c = (Counter *)d;
    if (strcmp(field, "value") == 0) { *out = mlp_number(c->value); return true; }
    if (strcmp(field, "held") == 0) { *out = c->held; return true; }
    return mlp_raise(v, "Counter has no field '%s'", field);
}
static bool c_call(mlp_vm *v, void *d, mlp_value *args, int nargs, mlp_value kw, mlp_value *out) {
    Counter *c = (Counter *)d;
    double by = nargs > 0 ? mlp_as_number(args[0]) : 1;
    mlp_value k;
    if (mlp_is_record(kw) && mlp_record_get(kw, "times", &k)) by *= mlp_as_number(k);
    c->value += by;
    *out = mlp_number(c->value);
    return true;
}
static mlp_value c_str(mlp_vm *v, void *d) {
    char buf[64];
    snprintf(buf, sizeof buf, "Counter(%g)", ((Counter *)d)->value);
    return mlp_string_cstr(v, buf);
}
static const mlp_class counter_class = {.name = "Counter", .free = c_free, .mark = c_mark,
                                        .get = c_get, .call = c_call, .tostring = c_str};

static bool n_counter(mlp_vm *v, mlp_value *a, int n, mlp_value *out) {
    Counter *c = (Counter *)calloc(1, sizeof *c);
    c->held = a[0];
    *out = mlp_handle(v, &counter_class, c);
    return true;
}

static const mlp_native table[] = {
    {"describe", "x, digits=2, *rest, tag=\"t\"", n_describe, "describe a number"},
    {"apply", "f, x", n_apply, "f(x) + 1"},
    {"try", "f, x", n_try, "pcall f(k=x)"},
    {"stop", NULL, n_stop, "interrupt"},
    {"Counter", "held=nil", n_counter, "a counter handle"},
};

static void setup(void) {
    vm = tl_vm(&cap);
    cr_assert(mlp_register(vm, table, sizeof table / sizeof table[0]));
}
static void teardown(void) {
    mlp_vm_free(vm);
    free(cap.out);
    free(cap.err);
}
TestSuite(lang_natives, .init = setup, .fini = teardown);

Test(lang_natives, keyword_binding_defaults_rest) {
    cr_assert_eq(tl_run(vm, "print(describe(1))\nprint(describe(1, 3, 7, 8, tag=\"z\"))\n"
                            "print(describe(digits=5, x=2))"),
                 MLP_OK, "%s", cap.err);
    cr_expect_str_eq(cap.out, "1|2|0|t\n1|3|2|z\n2|5|0|t\n");
    cr_expect_str_eq(mlp_native_doc(vm, "describe"), "describe a number");
    cr_expect_str_eq(mlp_native_params(vm, "describe"), "x, digits=2, *rest, tag=\"t\"");
    cr_expect_null(mlp_native_doc(vm, "nope"));
}

Test(lang_natives, binding_errors_name_function_and_argument) {
    cr_expect_eq(tl_run(vm, "describe(digits=1)"), MLP_RUNTIME_ERROR);
    cr_expect(strstr(cap.err, "t.mlp:1:9: error: describe: missing argument 'x'") != NULL, "%s", cap.err);
    tl_reset(&cap);
    cr_expect_eq(tl_run(vm, "describe(1, rest=2)"), MLP_RUNTIME_ERROR);
    cr_expect(strstr(cap.err, "describe: unknown keyword argument 'rest'") != NULL, "%s", cap.err);
    tl_reset(&cap);
    cr_expect_eq(tl_run(vm, "describe(\"a\")"), MLP_RUNTIME_ERROR);
    cr_expect(strstr(cap.err, "describe: x must be a number, got string") != NULL, "%s", cap.err);
}

Test(lang_natives, bad_params_string_is_reported) {
    static const mlp_native bad[] = {{"bad", "x, = 3", n_stop, ""}};
    cr_expect(!mlp_register(vm, bad, 1));
    cr_expect(strstr(cap.err, "bad") != NULL);
}

Test(lang_natives, call_is_reentrant) {
    cr_assert_eq(tl_run(vm, "fn twice(x) { return x * 2 }\n"
                            "fn nested(x) { return apply(twice, x) * 10 }\n"
                            "print(apply(twice, 5), apply(nested, 1), apply(fn(y) { return apply(twice, y) }, 3))"),
                 MLP_OK, "%s", cap.err);
    /* 5*2+1 = 11; (1*2+1)*10+1 = 31; (3*2+1)+1 = 8 */
    cr_expect_str_eq(cap.out, "11 31 8\n");
}

Test(lang_natives, error_inside_callback_propagates_with_trace) {
    cr_expect_eq(tl_run(vm, "fn bad(x) {\n  return x + \"s\"\n}\napply(bad, 1)"), MLP_RUNTIME_ERROR);
    cr_expect(strstr(cap.err, "t.mlp:2:12: error: cannot apply '+' to number and string") == cap.err,
              "%s", cap.err);
    cr_expect(strstr(cap.err, "  at bad (t.mlp:2:12)\n  at <script> (t.mlp:4:6)\n") != NULL, "%s", cap.err);
}

Test(lang_natives, pcall_catches_and_continues) {
    cr_assert_eq(tl_run(vm, "fn f(k) { if k > 1 { error(\"too big: {k}\") }; return k }\n"
                            "print(try(f, 1), try(f, 5), try(f, 0))\n"
                            "fn g(k) { return g(k) }\nprint(try(g, 0)[0])"),
                 MLP_OK, "%s", cap.err);
    cr_expect_str_eq(cap.out, "[true, 1] [false, \"too big: 5\"] [true, 0]\nfalse\n");
    cr_expect_str_eq(cap.err, "");
}

Test(lang_natives, handles_fields_calls_and_free) {
    freed = 0;
    cr_assert_eq(tl_run(vm, "let c = Counter([1, 2])\nc()\nc(2, times=3)\n"
                            "print(c.value, c.held, type(c), str(c), c)\n"),
                 MLP_OK, "%s", cap.err);
    cr_expect_str_eq(cap.out, "7 [1, 2] Counter Counter(7) Counter(7)\n");
    tl_reset(&cap);
    cr_expect_eq(tl_run(vm, "c.nope"), MLP_RUNTIME_ERROR);
    cr_expect(strstr(cap.err, "Counter has no field 'nope'") != NULL, "%s", cap.err);
    mlp_vm_free(vm);
    cr_expect_eq(freed, 1);
    free(cap.out);   /* tl_vm starts a fresh capture */
    free(cap.err);
    vm = tl_vm(&cap);
}

Test(lang_natives, interrupt_at_next_backward_jump) {
    cr_expect_eq(tl_run(vm, "let i = 0\nwhile true { i += 1; if i == 100 { stop() } }"), MLP_RUNTIME_ERROR);
    cr_expect(strstr(cap.err, "interrupted") != NULL, "%s", cap.err);
    tl_reset(&cap);
    cr_expect_eq(tl_run(vm, "print(1)"), MLP_OK); /* cleared for the next run */
}
