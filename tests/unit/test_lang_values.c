/*
 * test_lang_values.c — number formatting, str(), equality, the value API.
 * Expected texts are written by hand from LANGUAGE.md's rules.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <math.h>
#include <string.h>

#include "mlp.h"

typedef struct tl_capture { char *out, *err; size_t nout, nerr; } tl_capture;
mlp_vm *tl_vm(tl_capture *c);
void tl_reset(tl_capture *c);
mlp_status tl_run(mlp_vm *vm, const char *src);

static char *str_of(mlp_vm *vm, mlp_value v) {
    static char buf[256];
    mlp_value s = mlp_tostring(vm, v);
    snprintf(buf, sizeof buf, "%s", mlp_cstr(s));
    return buf;
}

Test(lang_values, number_formatting_table) {
    tl_capture c;
    mlp_vm *vm = tl_vm(&c);
    struct { double x; const char *want; } rows[] = {
        {0.1, "0.1"}, {3, "3"}, {-0.0, "-0"}, {1e21, "1e+21"},
        {0.9611499905586243, "0.9611499905586243"}, {1.0 / 3, "0.3333333333333333"},
        {NAN, "nan"}, {INFINITY, "inf"}, {-INFINITY, "-inf"}, {-12, "-12"},
        {1e-7, "1e-07"}, {1.5e20, "1.5e+20"}, {1e16, "1e+16"}, {9999999999999998.0, "9999999999999998"},
        {0.1 + 0.2, "0.30000000000000004"}, {2.5, "2.5"}, {123456.789, "123456.789"},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++)
        cr_expect_str_eq(str_of(vm, mlp_number(rows[i].x)), rows[i].want, "row %zu", i);
    mlp_vm_free(vm);
    free(c.out);
    free(c.err);
}

Test(lang_values, shortest_form_reads_back) {
    tl_capture c;
    mlp_vm *vm = tl_vm(&c);
    /* independent check: the printed text parses to the same double */
    double xs[] = {0.1, 1.0 / 7, 6.02214076e23, 5e-324, 1.7976931348623157e308, 0.96115, 123.456};
    for (size_t i = 0; i < sizeof xs / sizeof xs[0]; i++) {
        const char *s = str_of(vm, mlp_number(xs[i]));
        cr_expect_eq(strtod(s, NULL), xs[i], "%s", s);
    }
    mlp_vm_free(vm);
    free(c.out);
    free(c.err);
}

Test(lang_values, containers_and_strings) {
    tl_capture c;
    mlp_vm *vm = tl_vm(&c);
    mlp_value l = mlp_list_new(vm);
    mlp_push_root(vm, l);
    mlp_list_push(vm, l, mlp_number(1));
    mlp_list_push(vm, l, mlp_string_cstr(vm, "a\"b"));
    mlp_list_push(vm, l, mlp_nil());
    cr_expect_str_eq(str_of(vm, l), "[1, \"a\\\"b\", nil]");
    mlp_value r = mlp_record_new(vm);
    mlp_push_root(vm, r);
    mlp_record_set(vm, r, "b", mlp_bool(true));
    mlp_record_set(vm, r, "a c", l);
    mlp_record_set(vm, r, "b", mlp_number(2)); /* overwrite keeps the position */
    cr_expect_str_eq(str_of(vm, r), "{b: 2, \"a c\": [1, \"a\\\"b\", nil]}");
    cr_expect_eq(mlp_record_len(r), 2);
    mlp_value v;
    cr_expect(mlp_record_get(r, "b", &v) && mlp_as_number(v) == 2);
    cr_expect(!mlp_record_get(r, "zz", &v));
    mlp_value k;
    mlp_record_entry(r, 1, &k, &v);
    cr_expect_str_eq(mlp_cstr(k), "a c");
    cr_expect_str_eq(mlp_type_name(r), "record");
    mlp_pop_root(vm);
    mlp_pop_root(vm);
    mlp_vm_free(vm);
    free(c.out);
    free(c.err);
}

Test(lang_values, equality) {
    tl_capture c;
    mlp_vm *vm = tl_vm(&c);
    cr_expect_eq(tl_run(vm, "print([1, [2, 3]] == [1, [2, 3]], {a: 1} == {a: 1}, {a: 1} == {a: 2},"
                            " 1 == \"1\", nil == false, \"ab\" == \"a\" + \"b\", 0/0 == 0/0)"),
                 MLP_OK);
    cr_expect_str_eq(c.out, "true true false false false true false\n");
    mlp_vm_free(vm);
    free(c.out);
    free(c.err);
}

Test(lang_values, long_concatenation_shares_buffers_safely) {
    tl_capture c;
    mlp_vm *vm = tl_vm(&c);
    /* a and b both extend s: b must not see a's bytes */
    cr_expect_eq(tl_run(vm, "let s = \"\"\nfor i in range(100) { s += \"x\" }\n"
                            "let a = s + \"A\"\nlet b = s + \"B\"\n"
                            "print(len(a), a[-1], b[-1], len(s), s[-1])"),
                 MLP_OK);
    cr_expect_str_eq(c.out, "101 A B 100 x\n");
    mlp_vm_free(vm);
    free(c.out);
    free(c.err);
}
