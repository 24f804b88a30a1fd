/*
 * test_lang_compile.c — the compiler, checked on disassembly, and the
 * collector under stress.
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

static char *disasm(const char *src) {
    static char buf[8192];
    tl_capture c;
    mlp_vm *vm = tl_vm(&c);
    cr_assert_eq(mlp_disasm_source(vm, "t.mlp", src, strlen(src)), MLP_OK, "%s", c.err);
    snprintf(buf, sizeof buf, "%s", c.out);
    mlp_vm_free(vm);
    tl_reset(&c);
    free(c.out);
    free(c.err);
    return buf;
}

Test(lang_compile, globals_are_slots_and_constants_fold_into_add_k) {
    char *d = disasm("let x = 1\nx = x + 2\n");
    cr_expect(strstr(d, "== <script> (t.mlp, 0 params, 0 upvalues") == d, "%s", d);
    cr_expect(strstr(d, "0000    1:9   CONST           0  ; 1\n") != NULL, "%s", d);
    cr_expect(strstr(d, "DEF_GLOBAL      0  ; x\n") != NULL, "%s", d);
    cr_expect(strstr(d, "    2:5   GET_GLOBAL      0  ; x\n") != NULL, "%s", d);
    cr_expect(strstr(d, "    2:7   ADD_K           1  ; 2\n") != NULL, "%s", d);
    cr_expect(strstr(d, "SET_GLOBAL      0  ; x\n") != NULL, "%s", d);
}

Test(lang_compile, conditions_compile_to_compare_and_jump) {
    char *d = disasm("fn f(n) { if n < 2 { return n }\n return f(n - 1) }");
    cr_expect(strstr(d, "== fn f (t.mlp, 1 params") != NULL, "%s", d);
    cr_expect(strstr(d, "JUMP_IF_NOT_LT") != NULL, "%s", d);
    cr_expect(strstr(d, "GET_LOCAL       0\n") != NULL, "%s", d);
    cr_expect(strstr(d, "ADD_K           1  ; -1\n") != NULL, "%s", d);
    cr_expect(strstr(d, "CALL            1\n") != NULL, "%s", d);
    cr_expect(strstr(d, "RETURN") != NULL, "%s", d);
}

Test(lang_compile, closures_and_loops) {
    char *d = disasm("fn mk() { let n = 0\n return fn() { n += 1; return n } }\n"
                     "for i in range(3) { print(i) }");
    cr_expect(strstr(d, "GET_UPVAL       0") != NULL, "%s", d);
    cr_expect(strstr(d, "SET_UPVAL       0") != NULL, "%s", d);
    cr_expect(strstr(d, "== fn <anon> (t.mlp, 0 params, 1 upvalues") != NULL, "%s", d);
    cr_expect(strstr(d, "FOR_PREP        0") != NULL, "%s", d);
    cr_expect(strstr(d, "FOR_NEXT        0 -> ") != NULL, "%s", d);
    cr_expect(strstr(d, "LOOP            -> ") != NULL, "%s", d);
    cr_expect(strstr(d, "GET_BUILTIN") != NULL, "%s", d);
}

Test(lang_compile, keyword_calls_name_their_keywords) {
    char *d = disasm("print(1, end=\"\")");
    cr_expect(strstr(d, "CALL_KW         1 2  ; [\"end\"]") != NULL, "%s", d);
}

/* The whole listing (disasm() keeps the first 8 KB), to be freed. */
static char *disasm_all(const char *src) {
    tl_capture c;
    mlp_vm *vm = tl_vm(&c);
    cr_assert_eq(mlp_disasm_source(vm, "t.mlp", src, strlen(src)), MLP_OK, "%.500s", c.err);
    char *out = strdup(c.out);
    mlp_vm_free(vm);
    tl_reset(&c);
    free(c.out);
    free(c.err);
    return out;
}

/* head, then `line` n times with each "#" replaced by the line's number,
 * then tail. */
static char *repeat(const char *line, int n, const char *head, const char *tail) {
    size_t cap = strlen(head) + strlen(tail) + (size_t)n * (strlen(line) * 8 + 1) + 1, len = 0;
    char *s = malloc(cap);
    len += (size_t)snprintf(s + len, cap - len, "%s", head);
    for (int i = 0; i < n; i++)
        for (const char *p = line; *p; p++) {
            if (*p == '#') len += (size_t)snprintf(s + len, cap - len, "%d", i);
            else s[len++] = *p;
        }
    snprintf(s + len, cap - len, "%s", tail);
    return s;
}

/* Operands that do not fit get the WIDE prefix; the listing shows it on
 * the instruction it widens. */
Test(lang_compile, wide_local_slots) {
    char *src = repeat("  let l# = #\n", 300, "fn f() {\n", "  return l299\n}\n");
    char *d = disasm_all(src);
    cr_expect(strstr(d, "WIDE GET_LOCAL  299\n") != NULL, "%.2000s", d);
    cr_expect(strstr(d, "GET_LOCAL       0") == NULL, "only l299 is read");
    free(d);
    free(src);
}

Test(lang_compile, wide_constants) {
    char *src = repeat("x = x + #.5 + #\n", 40000, "let x = 0\n", "");
    char *d = disasm_all(src);
    cr_expect(strstr(d, "ADD_K           65535  ; ") != NULL, "the last narrow constant");
    cr_expect(strstr(d, "WIDE ADD_K      65536  ; ") != NULL, "the first wide one");
    free(d);
    free(src);
}

Test(lang_compile, long_loops_jump_wide) {
    char *src = repeat("  x += # + #\n", 12000, "let x = 0\nwhile x < 1 {\n", "}\n");
    char *d = disasm_all(src);
    cr_expect(strstr(d, "WIDE JUMP_IF_NOT_LT -> ") != NULL, "the exit jumps over the body");
    cr_expect(strstr(d, "WIDE LOOP       -> 6\n") != NULL, "the loop jumps back to its test");
    free(d);
    free(src);
}

/* A closure-heavy program under MLP_GC_STRESS: every allocation collects. */
Test(lang_gc, stress_closures_lists_records_strings) {
    setenv("MLP_GC_STRESS", "1", 1);
    tl_capture c;
    mlp_vm *vm = tl_vm(&c);
    unsetenv("MLP_GC_STRESS");
    const char *src =
        "fn adder(k) { return fn(x) { return x + k } }\n"
        "let fs = []\n"
        "for i in range(50) { push(fs, adder(i)) }\n"
        "let total = 0\n"
        "for f in fs { total += f(1) }\n"
        "let r = {}\n"
        "for i in range(30) { r[\"k{i}\"] = [i, \"v\" + str(i), {n: i}] }\n"
        "let s = \"\"\n"
        "for i in range(200) { s += \"ab\" }\n"
        "fn counter() { let n = 0; return fn() { n += 1; return n } }\n"
        "let cs = [counter(), counter()]\n"
        "for i in range(10) { cs[i % 2]() }\n"
        "print(total, len(r), r.k29[1], r.k7[2].n, len(s), cs[0](), cs[1]())\n";
    cr_assert_eq(tl_run(vm, src), MLP_OK, "%s", c.err);
    /* total = sum_{i<50} (1 + i) = 50 + 1225 = 1275 */
    cr_expect_str_eq(c.out, "1275 30 v29 7 400 6 6\n");
    mlp_vm_free(vm);
    tl_reset(&c);
    free(c.out);
    free(c.err);
}

Test(lang_gc, unreachable_handles_are_freed_during_the_run) {
    tl_capture c;
    mlp_vm *vm = tl_vm(&c);
    /* 10^5 lists of 10 numbers each: far past the first collection
     * threshold, so memory must be reclaimed while the loop runs */
    cr_assert_eq(tl_run(vm, "let keep = nil\nfor i in range(100000) { keep = [i, i, i, i, i, i, i, i, i, i] }\nprint(keep[0])"),
                 MLP_OK);
    cr_expect_str_eq(c.out, "99999\n");
    mlp_vm_free(vm);
    tl_reset(&c);
    free(c.out);
    free(c.err);
}
