/*
 * fuzz_parse.c — libFuzzer target for the front end: lexer, parser and
 * compiler, without running anything.
 *
 * Each input is one source file. A fresh interpreter parses and compiles it
 * with mlp_check_source and is freed again, so any crash, sanitizer report
 * or leak (LeakSanitizer runs at exit and on -detect_leaks) belongs to the
 * front end's handling of that input: error recovery, %destructor cleanup,
 * the scanner's UTF-8 and escape handling, interpolation nesting, the
 * compiler's scope and jump bookkeeping.
 *
 * The input is passed with its length and is not NUL-terminated, so the
 * front end must not read past `size` (ASan sees it if it does). Error
 * reports go to a callback that discards them: the fuzzer prints megabytes
 * of syntax errors otherwise, and only their absence of crashes matters.
 *
 * Built and run by `make fuzz` (clang -fsanitize=fuzzer,address,undefined,
 * -max_len=65536),
 * with a corpus seeded from every tests/lang script, the examples and
 * the large inputs of tests/fuzz/gen_corpus.py.
 */
#include <stddef.h>
#include <stdint.h>

#include "mlp.h"
#include "std.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void discard(void *ud, const char *s, size_t n)
{
    (void)ud;
    (void)s;
    (void)n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    mlp_config cfg = { .write_out = discard, .write_err = discard };
    mlp_vm *vm = mlp_vm_new(&cfg);
    if (vm == NULL)
        return 0; /* out of memory: not a finding */
    std_open_ewise(vm);   /* activation/optimizer bodies are checked and differentiated */
    (void)mlp_check_source(vm, "fuzz.mlp", (const char *)data, size);
    mlp_vm_free(vm);
    return 0;
}
