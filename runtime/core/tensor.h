/*
 * tensor.h — float32 n-dimensional arrays and the one allocation funnel of
 * the runtime.
 *
 * Memory. Every buffer the runtime owns (tensor storage, layer workspaces,
 * optimizer state) comes from rt_alloc and goes back through rt_free. Blocks
 * are 64-byte aligned (a cache line, and the widest SIMD load), zero-filled,
 * and counted: rt_mem_in_use() and rt_mem_peak() report the bytes held now
 * and at most since start (or since rt_mem_reset_peak). The two counters are
 * the only process-wide state of the runtime; they are statistics, updated
 * atomically, and never change a result.
 *
 * Tensors. A tensor is a shape (1 to RT_MAX_DIMS dims, row-major, batch
 * first) over a reference-counted storage block. rt_tensor_reshape returns a
 * view: a new tensor handle sharing the storage (no copy); the storage is
 * freed when the last handle is freed. Views never outlive their storage
 * because each holds a reference. Handles are not thread-safe; kernels work
 * on t->data directly.
 *
 * Failure (a bad shape, out of memory) returns NULL and fills rt_error.
 */
#ifndef MLP_TENSOR_H
#define MLP_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include "rt_error.h"

#define RT_MAX_DIMS 4
#define RT_ALIGN 64

/* Zeroed, RT_ALIGN-aligned block of `bytes` (0 is allowed), or NULL. */
void *rt_alloc(size_t bytes);
/* Releases a block from rt_alloc; NULL is a no-op. */
void rt_free(void *p);
size_t rt_mem_in_use(void);
size_t rt_mem_peak(void);
/* Sets the peak to the current use, so a phase can measure its own peak. */
void rt_mem_reset_peak(void);

typedef struct rt_storage rt_storage;

typedef struct rt_tensor {
    float *data;              /* ndim-dimensional, row-major, contiguous */
    int ndim;
    int shape[RT_MAX_DIMS];
    long size;                /* product of shape */
    rt_storage *storage;      /* shared with views */
} rt_tensor;

/* A new zero-filled tensor. */
rt_tensor *rt_tensor_new(int ndim, const int *shape, rt_error *err);
/* A deep copy with its own storage. */
rt_tensor *rt_tensor_clone(const rt_tensor *t, rt_error *err);
/* A view of t with another shape of the same size (one dim may be -1:
 * inferred), sharing t's storage. */
rt_tensor *rt_tensor_reshape(const rt_tensor *t, int ndim, const int *shape,
                             rt_error *err);
void rt_tensor_free(rt_tensor *t);
void rt_tensor_fill(rt_tensor *t, float v);
/* "[60000, 28, 28]" into buf (always terminated); returns buf. */
const char *rt_shape_str(int ndim, const int *shape, char *buf, size_t size);

#endif
