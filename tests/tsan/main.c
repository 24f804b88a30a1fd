/* Runs the Test()s registered through criterion/criterion.h (the TSan
 * shim), in order, in this process; an optional argument keeps only the
 * tests whose "suite/name" contains it. */
#include <string.h>
#include "criterion/criterion.h"

enum { MAX_TESTS = 256 };
static shim_test tests[MAX_TESTS];
static int ntests;

void shim_register(const char *suite, const char *name, void (*fn)(void))
{
    if (ntests < MAX_TESTS) tests[ntests++] = (shim_test){suite, name, fn};
}

int main(int argc, char **argv)
{
    int ran = 0;
    for (int i = 0; i < ntests; i++) {
        char full[256];
        snprintf(full, sizeof full, "%s/%s", tests[i].suite, tests[i].name);
        if (argc > 1 && !strstr(full, argv[1])) continue;
        printf("%s\n", full);
        fflush(stdout);
        tests[i].fn();
        ran++;
    }
    printf("tsan: %d tests passed\n", ran);
    return 0;
}
