/*
 * tensor.c — the allocation funnel and tensor handles (see tensor.h).
 *
 * Each block carries a 64-byte header in front of the returned pointer that
 * records its size, so rt_free can keep the byte count exact without the
 * caller passing sizes around; 64 bytes keeps the payload aligned.
 */
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "tensor.h"

static _Atomic size_t mem_in_use;
static _Atomic size_t mem_peak;

void *rt_alloc(size_t bytes)
{
    if (bytes > SIZE_MAX - 2 * RT_ALIGN) return NULL;
    size_t total = (bytes + RT_ALIGN - 1) / RT_ALIGN * RT_ALIGN + RT_ALIGN;
    unsigned char *base = aligned_alloc(RT_ALIGN, total);
    if (!base) return NULL;
    memset(base, 0, total);
    memcpy(base, &bytes, sizeof bytes);
    size_t now = atomic_fetch_add(&mem_in_use, bytes) + bytes;
    size_t peak = atomic_load(&mem_peak);
    while (now > peak && !atomic_compare_exchange_weak(&mem_peak, &peak, now)) {
    }
    return base + RT_ALIGN;
}

void rt_free(void *p)
{
    if (!p) return;
    unsigned char *base = (unsigned char *)p - RT_ALIGN;
    size_t bytes;
    memcpy(&bytes, base, sizeof bytes);
    atomic_fetch_sub(&mem_in_use, bytes);
    free(base);
}

size_t rt_mem_in_use(void) { return atomic_load(&mem_in_use); }
size_t rt_mem_peak(void) { return atomic_load(&mem_peak); }
void rt_mem_reset_peak(void) { atomic_store(&mem_peak, atomic_load(&mem_in_use)); }

struct rt_storage {
    long refs;
    float *data;
};

const char *rt_shape_str(int ndim, const int *shape, char *buf, size_t size)
{
    size_t len = 0;
    if (size == 0) return buf;
    buf[0] = '\0';
    len += (size_t)snprintf(buf + len, size - len, "[");
    for (int i = 0; i < ndim && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%d", i ? ", " : "", shape[i]);
    if (len < size) snprintf(buf + len, size - len, "]");
    return buf;
}

/* Validates a shape and returns its element count, or -1 after rt_fail. */
static long shape_size(const char *who, int ndim, const int *shape, rt_error *err)
{
    if (ndim < 1 || ndim > RT_MAX_DIMS) {
        rt_fail(err, "%s: a tensor has 1 to %d dimensions, got %d", who, RT_MAX_DIMS, ndim);
        return -1;
    }
    long n = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] <= 0) {
            char s[96];
            rt_fail(err, "%s: dimension %d of shape %s must be positive", who, i,
                    rt_shape_str(ndim, shape, s, sizeof s));
            return -1;
        }
        if (n > (1L << 40) / shape[i]) {
            rt_fail(err, "%s: shape too large", who);
            return -1;
        }
        n *= shape[i];
    }
    return n;
}

static rt_tensor *handle(rt_storage *s, int ndim, const int *shape, long size)
{
    rt_tensor *t = rt_alloc(sizeof *t);
    if (!t) return NULL;
    t->data = s->data;
    t->ndim = ndim;
    memcpy(t->shape, shape, (size_t)ndim * sizeof *shape);
    t->size = size;
    t->storage = s;
    s->refs++;
    return t;
}

rt_tensor *rt_tensor_new(int ndim, const int *shape, rt_error *err)
{
    long n = shape_size("tensor", ndim, shape, err);
    if (n < 0) return NULL;
    rt_storage *s = rt_alloc(sizeof *s);
    float *data = rt_alloc((size_t)n * sizeof(float));
    rt_tensor *t = NULL;
    if (s && data) {
        s->data = data;
        t = handle(s, ndim, shape, n);
    }
    if (!t) {
        rt_free(data);
        rt_free(s);
        rt_fail(err, "tensor: out of memory for %ld floats", n);
    }
    return t;
}

rt_tensor *rt_tensor_clone(const rt_tensor *t, rt_error *err)
{
    rt_tensor *c = rt_tensor_new(t->ndim, t->shape, err);
    if (c) memcpy(c->data, t->data, (size_t)t->size * sizeof(float));
    return c;
}

rt_tensor *rt_tensor_reshape(const rt_tensor *t, int ndim, const int *shape, rt_error *err)
{
    int dims[RT_MAX_DIMS];
    if (ndim < 1 || ndim > RT_MAX_DIMS)
        return rt_fail(err, "reshape: a tensor has 1 to %d dimensions, got %d",
                       RT_MAX_DIMS, ndim), NULL;
    int infer = -1;
    long known = 1;
    for (int i = 0; i < ndim; i++) {
        dims[i] = shape[i];
        if (shape[i] == -1 && infer < 0) { infer = i; continue; }
        if (shape[i] <= 0)
            return rt_fail(err, "reshape: dimension %d must be positive or -1, got %d",
                           i, shape[i]), NULL;
        known *= shape[i];
    }
    if (infer >= 0 && known > 0 && t->size % known == 0) dims[infer] = (int)(t->size / known);
    long n = shape_size("reshape", ndim, dims, err);
    if (n < 0) return NULL;
    if (n != t->size) {
        char a[96], b[96];
        return rt_fail(err, "reshape: cannot view %s (%ld elements) as %s",
                       rt_shape_str(t->ndim, t->shape, a, sizeof a), t->size,
                       rt_shape_str(ndim, shape, b, sizeof b)), NULL;
    }
    rt_tensor *v = handle(t->storage, ndim, dims, n);
    if (!v) rt_fail(err, "reshape: out of memory");
    return v;
}

void rt_tensor_free(rt_tensor *t)
{
    if (!t) return;
    if (--t->storage->refs == 0) {
        rt_free(t->storage->data);
        rt_free(t->storage);
    }
    rt_free(t);
}

void rt_tensor_fill(rt_tensor *t, float v)
{
    for (long i = 0; i < t->size; i++) t->data[i] = v;
}
