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
    rt_shape mnist = { 3, { 60000, 28, 28 } }, small = rt_shape_2d(3, 4), none = { 0 };
    cr_expect_str_eq(rt_shape_str(&mnist, buf, sizeof buf), "[60000, 28, 28]");
    cr_expect_str_eq(rt_shape_str(&small, buf, 5), "[3, ");
    cr_expect_str_eq(rt_shape_str(&none, buf, sizeof buf), "[]");
}

Test(tensor, shape_size_and_equality)
{
    rt_shape a = rt_shape_2d(3, 4), b = { 2, { 3, 4 } }, c = rt_shape_1d(12), none = { 0 };
    cr_expect_eq(rt_shape_size(&a), 12);
    cr_expect_eq(rt_shape_size(&c), 12);
    cr_expect_eq(rt_shape_size(&none), 1);
    rt_shape big = { 3, { 1 << 30, 1 << 30, 4 } };   /* sizes are 64-bit: 2^62 */
    cr_expect_eq(rt_shape_size(&big), INT64_C(1) << 62);
    cr_expect(rt_shape_eq(&a, &b));
    cr_expect(!rt_shape_eq(&a, &c));   /* same size, other shape */
    b.dims[1] = 5;
    cr_expect(!rt_shape_eq(&a, &b));
}
