/*
 * safetensors.h — reading and writing the safetensors format.
 *
 * The format PyTorch and Keras users exchange weights in, readable without
 * pickle (huggingface/safetensors): an 8-byte little-endian header length
 * N, N bytes of JSON, then one byte buffer. The header maps each tensor's
 * name to {"dtype", "shape", "data_offsets": [begin, end]} (offsets into
 * the buffer) and may hold "__metadata__", a flat object of strings.
 *
 * This module knows tensors and strings only; what the names and the
 * metadata mean for a model is the caller's (stdlib/persist.c).
 *
 * Writing stores float32 ("F32"), tensors in the order given, the header
 * padded with spaces to a multiple of 8 bytes (as the reference writer
 * does), through a temporary file beside the target renamed over it: a
 * failed write leaves the old file as it was. Reading checks everything a
 * hostile file could get wrong (header length against the file, JSON,
 * dtypes, shapes against offsets, offsets inside the buffer and not
 * overlapping) before trusting it, and accepts F32 and F64 (converted).
 *
 * Memory: rt_st_file owns its names, values and float copies (rt_alloc);
 * rt_st_free releases them. Written tensors are borrowed.
 */
#ifndef MLP_SAFETENSORS_H
#define MLP_SAFETENSORS_H

#include <stdbool.h>
#include <stdint.h>
#include "rt_error.h"
#include "tensor.h"

typedef struct rt_st_tensor {
    char *name;
    rt_shape shape;              /* ndim 0 .. RT_MAX_DIMS */
    float *data;                 /* rt_shape_size(&shape) floats */
} rt_st_tensor;

typedef struct rt_st_meta { char *key, *value; } rt_st_meta;

typedef struct rt_st_file {
    rt_st_tensor *tensors;
    int ntensors;
    rt_st_meta *meta;
    int nmeta;
} rt_st_file;

/* Largest header accepted when reading (the reference reader's limit). */
enum { RT_ST_MAX_HEADER = 100 * 1000 * 1000 };

bool rt_st_write(const char *path, const rt_st_tensor *tensors, int n, const rt_st_meta *meta,
                 int nmeta, rt_error *err);
bool rt_st_read(const char *path, rt_st_file *out, rt_error *err);
void rt_st_free(rt_st_file *f);

const rt_st_tensor *rt_st_find(const rt_st_file *f, const char *name);
const char *rt_st_meta_get(const rt_st_file *f, const char *key);

#endif
