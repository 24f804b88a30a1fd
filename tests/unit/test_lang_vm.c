/*
 * test_lang_vm.c — running snippets through the API and checking stdout,
 * stderr and the status. Expected values are computed by hand.
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
static void setup(void) { vm = tl_vm(&cap); }
static void teardown(void) {
    mlp_vm_free(vm);
    tl_reset(&cap);
    free(cap.out);
    free(cap.err);
}

#define RUNS(src, want)                                   \
    do {                                                  \
        cr_assert_eq(tl_run(vm, src), MLP_OK, "%s", cap.err); \
        cr_expect_str_eq(cap.out, want);                  \
    } while (0)

TestSuite(lang_vm, .init = setup, .fini = teardown);

Test(lang_vm, arithmetic_and_precedence) {
    RUNS("print(1 + 2 * 3, (1 + 2) * 3, -2 ** 2, 2 ** 3 ** 2, 7 % 3, -7 % 3, 7 % -3, 1 / 0)",
         "7 9 -4 512 1 2 -2 inf\n");
}

Test(lang_vm, logic_short_circuits) {
    RUNS("fn boom() { error(\"evaluated\") }\n"
         "print(false and boom(), true or boom(), nil or 3, 0 and 5, not nil, not 0)",
         "false true 3 5 true false\n");
}

Test(lang_vm, closures_capture_by_reference) {
    RUNS("fn counter() { let n = 0; return fn() { n += 1; return n } }\n"
         "let a = counter(); let b = counter(); a(); a()\n"
         "print(a(), b())\n"
         "let fs = []\nfor i in range(3) { push(fs, fn() { return i }) }\n"
         "print(fs[0](), fs[1](), fs[2]())",
         "3 1\n0 1 2\n");
}

Test(lang_vm, defaults_and_keywords) {
    RUNS("fn f(a, b=a * 2, c=nil) { return [a, b, c] }\n"
         "print(f(1), f(1, 5), f(1, c=3), f(c=0, a=2))",
         "[1, 2, nil] [1, 5, nil] [1, 2, 3] [2, 4, 0]\n");
}

Test(lang_vm, strings_and_interpolation) {
    RUNS("let name = \"mlp\"\nprint(\"hi {name}, {1 + 1} {\"{name}!\"} \\{x\\}\")\n"
         "print(len(\"한국어\"), \"한국어\"[1], \"héllo\"[1:3], \"abc\"[-1])",
         "hi mlp, 2 mlp! {x}\n3 국 él c\n");
}

Test(lang_vm, lists_slices_records) {
    RUNS("let xs = [0, 1, 2, 3, 4]\n"
         "print(xs[1:3], xs[:2], xs[3:], xs[-2:], xs[:], xs[4:1], xs[-100:100] == xs)\n"
         "let r = {a: 1}\nr.b = 2\nr[\"c\"] = 3\nr.a += 10\nprint(r, has(r, \"b\"), keys(r))\n"
         "xs[0] += 5\nprint(xs[0], [1, 2] * 2, [1] + [2])",
         "[1, 2] [0, 1] [3, 4] [3, 4] [0, 1, 2, 3, 4] [] true\n"
         "{a: 11, b: 2, c: 3} true [\"a\", \"b\", \"c\"]\n5 [1, 2, 1, 2] [1, 2]\n");
}

Test(lang_vm, loops_break_continue) {
    RUNS("let s = 0\nfor i in range(10) { if i == 7 { break }; if i % 2 == 0 { continue }; s += i }\n"
         "let j = 0\nwhile true { j += 1; if j > 4 { break } }\n"
         "for k in {x: 1, y: 2} { s += 100 }\n"
         "for c in \"ab\" { s += 1000 }\n"
         "for v in range(10, 0, -3) { s += v * 10000 }\n"
         "print(s, j)",
         /* 1+3+5 = 9; +200; +2000; (10+7+4+1)*10000 = 220000 */
         "222209 5\n");
}

Test(lang_vm, recursion_and_stack_overflow) {
    RUNS("fn fib(n) { if n < 2 { return n }; return fib(n - 1) + fib(n - 2) }\nprint(fib(20))",
         "6765\n");
    cr_expect_eq(tl_run(vm, "fn f(n) { return f(n + 1) }\nf(0)"), MLP_RUNTIME_ERROR);
    cr_expect(strstr(cap.err, "stack overflow") != NULL, "%s", cap.err);
}

Test(lang_vm, runtime_error_report_and_traceback) {
    cr_assert_eq(tl_run(vm, "fn inner(v) {\n  return v + nil\n}\nfn outer() { return inner(1) }\nouter()"),
                 MLP_RUNTIME_ERROR);
    cr_expect_str_eq(cap.err,
                     "t.mlp:2:12: error: cannot apply '+' to number and nil\n"
                     "      return v + nil\n"
                     "               ^\n"
                     "  at inner (t.mlp:2:12)\n"
                     "  at outer (t.mlp:4:26)\n"
                     "  at <script> (t.mlp:5:6)\n");
}

Test(lang_vm, wrong_arguments_name_function_and_parameter) {
    const char *cases[][2] = {
        {"fn scale(x, by=2) { return x }\nscale(by=3)", "scale: missing argument 'x'"},
        {"fn scale(x, by=2) { return x }\nscale(1, y=3)", "scale: unknown keyword argument 'y' (known: x, by)"},
        {"fn scale(x, by=2) { return x }\nscale(1, x=3)", "scale: argument 'x' given twice"},
        {"fn scale(x, by=2) { return x }\nscale(1, 2, 3)", "scale: too many arguments"},
        {"sqrt(\"a\")", "sqrt: argument 'x' must be a number, got string"},
        {"print(1, bogus=2)", "print: unknown keyword argument 'bogus' (known: sep, end, digits)"},
        {"fn f() { return 1 }\nf(a=1)", "f: unknown keyword argument 'a' (it takes no arguments)"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tl_reset(&cap);
        cr_expect_eq(tl_run(vm, cases[i][0]), MLP_RUNTIME_ERROR);
        cr_expect(strstr(cap.err, cases[i][1]) != NULL, "want %s in %s", cases[i][1], cap.err);
    }
}

Test(lang_vm, model_and_sweep_desugar) {
    RUNS("fn __model(name, layers) { return name + \":\" + str(layers) }\n"
         "fn __layer(name, layers, v) { push(layers, v) }\n"
         "fn dense(n) { return n }\n"
         "model net(k) {\n  dense(1)\n  for i in range(k) { dense(10 + i) }\n  if k > 1 { dense(99) }\n}\n"
         "print(net(2))\n"
         "fn __sweep(names, sources, listed, body) {\n"
         "  let out = []\n"
         "  if listed { for p in sources[0] { push(out, body(p[0], p[1])) } }\n"
         "  else { for a in sources[0] { for b in sources[1] { push(out, body(a, b)) } } }\n"
         "  return [names, listed, out]\n}\n"
         "print(sweep a in [1, 2], b in [10, 20] { return a * b })\n"
         "let r = sweep [x, y] in [[1, 2], [3, 4]] { return x + y }\nprint(r)",
         "net:[1, 10, 11, 99]\n"
         "[[\"a\", \"b\"], false, [10, 20, 20, 40]]\n"
         "[[\"x\", \"y\"], true, [3, 7]]\n");
}

Test(lang_vm, repl_echo_incomplete_and_persistence) {
    cr_expect_eq(mlp_eval_repl(vm, "let x = 40", 10), MLP_OK);
    cr_expect_eq(mlp_eval_repl(vm, "x + 2", 5), MLP_OK);
    cr_expect_eq(mlp_eval_repl(vm, "\"s\"", 3), MLP_OK);
    cr_expect_eq(mlp_eval_repl(vm, "nil", 3), MLP_OK);
    cr_expect_str_eq(cap.out, "42\n\"s\"\n");
    const char *unfinished[] = {"fn f() {", "print(1,", "let y = [1,\n2", "1 +", "\"abc", "\"a {x", "if x {\n"};
    for (size_t i = 0; i < sizeof unfinished / sizeof unfinished[0]; i++)
        cr_expect_eq(mlp_eval_repl(vm, unfinished[i], strlen(unfinished[i])), MLP_INCOMPLETE, "%s",
                     unfinished[i]);
    cr_expect_str_eq(cap.err, "");
    cr_expect_eq(mlp_eval_repl(vm, "1 +* 2", 6), MLP_COMPILE_ERROR);
    cr_expect_eq(mlp_eval_repl(vm, "error(\"boom\")", 13), MLP_RUNTIME_ERROR);
    tl_reset(&cap);
    cr_expect_eq(mlp_eval_repl(vm, "x", 1), MLP_OK); /* definitions survive errors */
    cr_expect_str_eq(cap.out, "40\n");
}

Test(lang_vm, globals_api) {
    mlp_set_global(vm, "answer", mlp_number(42));
    RUNS("let mine = answer + 1\nprint(answer)", "42\n");
    mlp_value v;
    cr_expect(mlp_get_global(vm, "mine", &v) && mlp_as_number(v) == 43);
    cr_expect(mlp_get_global(vm, "print", &v) && mlp_is_callable(v));
    cr_expect(!mlp_get_global(vm, "nope", &v));
}
