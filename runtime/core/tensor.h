/*
 * tensor.h — the one allocation funnel of the runtime, and how tensor data
 * travels.
 *
 * Memory. Every buffer the runtime owns (datasets, layer workspaces,
 * optimizer state) comes from rt_alloc and goes back through rt_free. Blocks
 * are 64-byte aligned (a cache line, and the widest SIMD load), zero-filled,
 * and counted: rt_mem_in_use() and rt_mem_peak() report the bytes held now
 * and at most since start (or since rt_mem_reset_peak). The two counters are
 * the only process-wide state of the runtime; they are statistics, updated
 * atomically, and never change a result.
 *
 * Tensor data. Arrays travel between the runtime's parts as float32
 * pointers with their shape beside them (row-major, batch first, at most
 * RT_MAX_DIMS dims per sample): parameters (rt_param), layer buffers,
 * datasets and the stdlib's tensors. There is no tensor handle type: the
 * reference-counted rt_tensor with views that used to be declared here was
 * used by nothing but its own test, and was removed rather than kept as a
 * second convention (issue 12).
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

/* "[60000, 28, 28]" into buf (always terminated); returns buf. */
const char *rt_shape_str(int ndim, const int *shape, char *buf, size_t size);

#endif
