/*
 * test_tensor.c — allocation accounting, alignment, views sharing storage.
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

Test(tensor, new_reshape_view_shares_storage)
{
    size_t before = rt_mem_in_use();
    rt_error err;
    rt_tensor *t = rt_tensor_new(3, (int[]){2, 3, 4}, &err);
    cr_assert(t);
    cr_expect(t->size == 24 && t->ndim == 3);
    for (long i = 0; i < t->size; i++) t->data[i] = (float)i;
    rt_tensor *v = rt_tensor_reshape(t, 2, (int[]){-1, 12}, &err);
    cr_assert(v, "%s", err.msg);
    cr_expect(v->shape[0] == 2 && v->shape[1] == 12 && v->data == t->data);
    rt_tensor_free(t);                      /* the view keeps the storage alive */
    cr_expect(v->data[23] == 23.0f);
    rt_tensor *c = rt_tensor_clone(v, &err);
    cr_assert(c && c->data != v->data && c->data[5] == 5.0f);
    rt_tensor_free(v);
    rt_tensor_free(c);
    cr_expect(rt_mem_in_use() == before);
}

Test(tensor, bad_shapes_are_errors)
{
    rt_error err;
    cr_expect(rt_tensor_new(0, (int[]){1}, &err) == NULL);
    cr_expect(rt_tensor_new(5, (int[]){1, 1, 1, 1, 1}, &err) == NULL);
    cr_expect(rt_tensor_new(2, (int[]){3, 0}, &err) == NULL);
    cr_expect(strstr(err.msg, "dimension 1") != NULL, "%s", err.msg);
    rt_tensor *t = rt_tensor_new(2, (int[]){3, 4}, &err);
    cr_expect(rt_tensor_reshape(t, 2, (int[]){5, 2}, &err) == NULL);
    cr_expect(strstr(err.msg, "[3, 4]") != NULL, "%s", err.msg);
    cr_expect(rt_tensor_reshape(t, 2, (int[]){-1, 5}, &err) == NULL);
    rt_tensor_free(t);
}
