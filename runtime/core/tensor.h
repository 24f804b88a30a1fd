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
 * pointers with an rt_shape beside them (row-major, batch first, at most
 * RT_MAX_DIMS dims per sample): parameters (rt_param: [in, out] kernels,
 * [out] vectors), one example of a dataset ([28, 28]), a flatten layer's
 * input, safetensors tensors, the stdlib's float tensors ([n] or [rows,
 * cols]). There is no tensor handle type: the reference-counted rt_tensor
 * with views that used to be declared here was used by nothing but its own
 * test, and was removed rather than kept as a second convention (issue 12).
 * (IDX files keep their own header struct, rt_idx: a count axis plus up to
 * RT_MAX_DIMS example axes, one more than an rt_shape holds.)
 *
 * Shapes. One convention: ndim sizes, the last varying fastest, as int64_t
 * (safetensors' type, and wide enough for any product the runtime forms).
 * ndim 0 is a shape not given (a flatten without input=); its size is 1.
 */
#ifndef MLP_TENSOR_H
#define MLP_TENSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "rt_error.h"

#define RT_MAX_DIMS 4
#define RT_ALIGN 64

typedef struct rt_shape {
    int ndim;                      /* 0 .. RT_MAX_DIMS */
    int64_t dims[RT_MAX_DIMS];     /* dims[ndim..] are 0 */
} rt_shape;

/* [n] and [rows, cols]. */
static inline rt_shape rt_shape_1d(int64_t n) { return (rt_shape){ 1, { n } }; }
static inline rt_shape rt_shape_2d(int64_t rows, int64_t cols) { return (rt_shape){ 2, { rows, cols } }; }
/* The product of the sizes (1 for ndim 0); the caller bounds the sizes so
 * that it fits. */
int64_t rt_shape_size(const rt_shape *s);
/* Same ndim and sizes. */
bool rt_shape_eq(const rt_shape *a, const rt_shape *b);

/* Zeroed, RT_ALIGN-aligned block of `bytes` (0 is allowed), or NULL. */
void *rt_alloc(size_t bytes);
/* Releases a block from rt_alloc; NULL is a no-op. */
void rt_free(void *p);
size_t rt_mem_in_use(void);
size_t rt_mem_peak(void);
/* Sets the peak to the current use, so a phase can measure its own peak. */
void rt_mem_reset_peak(void);

/* "[60000, 28, 28]" into buf (always terminated); returns buf. */
const char *rt_shape_str(const rt_shape *s, char *buf, size_t size);

#endif
