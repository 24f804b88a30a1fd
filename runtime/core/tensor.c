/*
 * tensor.c — the allocation funnel and shape text (see tensor.h).
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

int64_t rt_shape_size(const rt_shape *s)
{
    int64_t n = 1;
    for (int i = 0; i < s->ndim; i++) n *= s->dims[i];
    return n;
}

bool rt_shape_eq(const rt_shape *a, const rt_shape *b)
{
    if (a->ndim != b->ndim) return false;
    for (int i = 0; i < a->ndim; i++)
        if (a->dims[i] != b->dims[i]) return false;
    return true;
}

const char *rt_shape_str(const rt_shape *s, char *buf, size_t size)
{
    size_t len = 0;
    if (size == 0) return buf;
    buf[0] = '\0';
    len += (size_t)snprintf(buf + len, size - len, "[");
    for (int i = 0; i < s->ndim && len < size; i++)
        len += (size_t)snprintf(buf + len, size - len, "%s%lld", i ? ", " : "", (long long)s->dims[i]);
    if (len < size) snprintf(buf + len, size - len, "]");
    return buf;
}
