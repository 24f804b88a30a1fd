/*
 * test_tensor.c — allocation accounting and alignment, shape text.
 */
#include <criterion/criterion.h>
#include <stdint.h>
#include "tensor.h"

Test(tensor, alloc_is_aligned_zeroed_and_counted)
{
    size_t before = rt_mem_in_use();
    rt_mem_reset_peak();
    unsigned char *p = rt_alloc(1000);
    cr_assert(p);
    cr_expect((uintptr_t)p % 64 == 0);
    for (int i = 0; i < 1000; i++) cr_assert(p[i] == 0);
    cr_expect(rt_mem_in_use() == before + 1000);
    float *q = rt_alloc(4);
    cr_expect((uintptr_t)q % 64 == 0);
    cr_expect(rt_mem_peak() >= before + 1004);
    rt_free(p);
    rt_free(q);
    cr_expect(rt_mem_in_use() == before);
    cr_expect(rt_mem_peak() >= before + 1004);
    rt_free(NULL);
}

Test(tensor, shape_text)
{
    char buf[32];
    cr_expect_str_eq(rt_shape_str(3, (int[]){60000, 28, 28}, buf, sizeof buf), "[60000, 28, 28]");
    cr_expect_str_eq(rt_shape_str(2, (int[]){3, 4}, buf, 5), "[3, ");
}
