/*
 * A stand-in for Criterion's header, for tests/tsan/run.sh: Criterion's
 * runner forks and sets up shared arenas that ThreadSanitizer cannot run
 * under, so the unit test files built there register their Test()s here
 * and main.c runs them one after another in one process. Only what the
 * files run under TSan use is defined.
 */
#ifndef TSAN_CRITERION_SHIM_H
#define TSAN_CRITERION_SHIM_H
#include <stdio.h>
#include <stdlib.h>

typedef struct shim_test {
    const char *suite, *name;
    void (*fn)(void);
} shim_test;
void shim_register(const char *suite, const char *name, void (*fn)(void));

#define cr_assert(cond, ...) do { \
        if (!(cond)) { \
            fprintf(stderr, "%s:%d: assertion failed: %s\n", __FILE__, __LINE__, #cond); \
            abort(); \
        } \
    } while (0)
#define cr_expect(cond, ...) cr_assert(cond)
#define cr_assert_eq(a, b, ...) cr_assert((a) == (b))

#define Test(suite, name) \
    static void suite##_##name(void); \
    __attribute__((constructor)) static void suite##_##name##_reg(void) \
    { shim_register(#suite, #name, suite##_##name); } \
    static void suite##_##name(void)

#endif
