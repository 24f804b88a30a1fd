/* safetensors.c — the safetensors format (safetensors.h), header JSON through jansson. */
#include "safetensors.h"

#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "rt_file.h"

#if !defined(__BYTE_ORDER__) || __BYTE_ORDER__ != __ORDER_LITTLE_ENDIAN__
#error "safetensors.c stores floats as they lie in memory: little-endian hosts only"
#endif

bool rt_st_write(const char *path, const rt_st_tensor *tensors, int n, const rt_st_meta *meta,
                 int nmeta, rt_error *err)
{
    json_t *head = json_object();
    bool ok = head != NULL;
    if (ok && nmeta > 0) {
        json_t *m = json_object();
        for (int i = 0; m && i < nmeta; i++)
            json_object_set_new(m, meta[i].key, json_string(meta[i].value));
        ok = m && json_object_set_new(head, "__metadata__", m) == 0;
    }
    uint64_t off = 0;
    for (int i = 0; ok && i < n; i++) {
        const rt_st_tensor *t = &tensors[i];
        uint64_t bytes = (uint64_t)rt_shape_size(&t->shape) * sizeof(float);
        json_t *shape = json_array();
        for (int d = 0; shape && d < t->shape.ndim; d++)
            json_array_append_new(shape, json_integer(t->shape.dims[d]));
        json_t *e = json_pack("{s:s, s:o, s:[I,I]}", "dtype", "F32", "shape", shape,
                              "data_offsets", (json_int_t)off, (json_int_t)(off + bytes));
        ok = e && json_object_set_new(head, t->name, e) == 0;
        off += bytes;
    }
    /* insertion order, compact: the same model gives the same bytes */
    char *text = ok ? json_dumps(head, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
    json_decref(head);
    if (!text) return rt_fail(err, "%s: out of memory", path);
    size_t len = strlen(text), padded = (len + 7) / 8 * 8;

    rt_atomic_file a;
    if (!rt_atomic_open(&a, path, err)) {
        free(text);
        return false;
    }
    uint64_t hl = padded;
    unsigned char le[8];
    for (int b = 0; b < 8; b++) le[b] = (unsigned char)(hl >> (8 * b));
    fwrite(le, 1, 8, a.f);
    fwrite(text, 1, len, a.f);
    for (size_t p = len; p < padded; p++) fputc(' ', a.f);
    free(text);
    for (int i = 0; i < n; i++)
        fwrite(tensors[i].data, sizeof(float), (size_t)rt_shape_size(&tensors[i].shape), a.f);
    return rt_atomic_commit(&a, err);
}

void rt_st_free(rt_st_file *f)
{
    for (int i = 0; i < f->ntensors; i++) {
        free(f->tensors[i].name);
        rt_free(f->tensors[i].data);
    }
    for (int i = 0; i < f->nmeta; i++) {
        free(f->meta[i].key);
        free(f->meta[i].value);
    }
    free(f->tensors);
    free(f->meta);
    *f = (rt_st_file){ 0 };
}

/* The whole file, if it is a regular file (rt_open_regular: never blocks
 * on a FIFO or reads a device forever). */
static unsigned char *slurp(const char *path, size_t *size, rt_error *err)
{
    int64_t len;
    int fd = rt_open_regular(path, &len, err);
    if (fd < 0) return NULL;
    unsigned char *buf = malloc((size_t)len + 1);
    if (!buf) {
        close(fd);
        return rt_fail(err, "%s: out of memory reading %lld bytes", path, (long long)len), NULL;
    }
    size_t got = 0;
    while (got < (size_t)len) {
        ssize_t r = read(fd, buf + got, (size_t)len - got);
        if (r < 0 && errno == EINTR) continue;
        if (r <= 0) break;
        got += (size_t)r;
    }
    close(fd);
    if (got != (size_t)len) {
        free(buf);
        return rt_fail(err, "%s: read error", path), NULL;
    }
    *size = got;
    return buf;
}

typedef struct span { uint64_t begin, end; } span;

static int by_begin(const void *a, const void *b)
{
    const span *x = a, *y = b;
    return x->begin < y->begin ? -1 : x->begin > y->begin;
}

/* One tensor entry of the header, checked against the buffer of `avail` bytes. */
static bool read_tensor(const char *path, const char *name, json_t *e, const unsigned char *buf,
                        uint64_t avail, rt_st_tensor *t, span *sp, rt_error *err)
{
    const char *dtype = json_string_value(json_object_get(e, "dtype"));
    json_t *shape = json_object_get(e, "shape"), *offs = json_object_get(e, "data_offsets");
    if (!json_is_object(e) || !dtype || !json_is_array(shape) || !json_is_array(offs) ||
        json_array_size(offs) != 2)
        return rt_fail(err, "%s: tensor '%s': needs dtype, shape and data_offsets", path, name);
    size_t width = strcmp(dtype, "F32") == 0 ? 4 : strcmp(dtype, "F64") == 0 ? 8 : 0;
    if (!width)
        return rt_fail(err, "%s: tensor '%s' is %s: only F32 and F64 are read", path, name, dtype);
    if (json_array_size(shape) > RT_MAX_DIMS)
        return rt_fail(err, "%s: tensor '%s' has %zu dimensions (at most %d)", path, name,
                       json_array_size(shape), RT_MAX_DIMS);
    t->shape.ndim = (int)json_array_size(shape);
    uint64_t count = 1;
    for (int d = 0; d < t->shape.ndim; d++) {
        json_t *v = json_array_get(shape, (size_t)d);
        if (!json_is_integer(v) || json_integer_value(v) < 0 ||
            json_integer_value(v) > (json_int_t)1 << 40)
            return rt_fail(err, "%s: tensor '%s': bad shape", path, name);
        t->shape.dims[d] = json_integer_value(v);
        count *= (uint64_t)t->shape.dims[d];
        if (count > (uint64_t)1 << 40) return rt_fail(err, "%s: tensor '%s': too large", path, name);
    }
    json_t *b = json_array_get(offs, 0), *en = json_array_get(offs, 1);
    if (!json_is_integer(b) || !json_is_integer(en) || json_integer_value(b) < 0 ||
        json_integer_value(en) < json_integer_value(b))
        return rt_fail(err, "%s: tensor '%s': bad data_offsets", path, name);
    sp->begin = (uint64_t)json_integer_value(b);
    sp->end = (uint64_t)json_integer_value(en);
    if (sp->end > avail)
        return rt_fail(err, "%s: tensor '%s' lies past the end of the file (truncated?)", path,
                       name);
    if (sp->end - sp->begin != count * width)
        return rt_fail(err, "%s: tensor '%s': shape holds %llu values but its data is %llu bytes",
                       path, name, (unsigned long long)count,
                       (unsigned long long)(sp->end - sp->begin));
    t->name = strdup(name);
    t->data = rt_alloc(count ? count * sizeof(float) : sizeof(float));
    if (!t->name || !t->data) return rt_fail(err, "%s: out of memory", path);
    const unsigned char *src = buf + sp->begin;
    if (width == 4) memcpy(t->data, src, count * 4);
    else
        for (uint64_t i = 0; i < count; i++) {
            double x;
            memcpy(&x, src + 8 * i, 8);
            t->data[i] = (float)x;
        }
    return true;
}

bool rt_st_read(const char *path, rt_st_file *out, rt_error *err)
{
    *out = (rt_st_file){ 0 };
    size_t size;
    unsigned char *buf = slurp(path, &size, err);
    if (!buf) return false;
    uint64_t hl = 0;
    for (int b = 0; b < 8 && (size_t)b < size; b++) hl |= (uint64_t)buf[b] << (8 * b);
    if (size < 8 || hl > RT_ST_MAX_HEADER || hl > size - 8) {
        free(buf);
        return rt_fail(err, "%s: not a safetensors file (bad header length)", path);
    }
    json_error_t je;
    json_t *head = json_loadb((const char *)buf + 8, (size_t)hl, JSON_REJECT_DUPLICATES, &je);
    if (!json_is_object(head)) {
        json_decref(head);
        free(buf);
        return rt_fail(err, "%s: not a safetensors file (header: %s)", path,
                       head ? "not an object" : je.text);
    }
    const unsigned char *data = buf + 8 + hl;
    uint64_t avail = size - 8 - hl;
    size_t n = json_object_size(head);
    out->tensors = calloc(n + 1, sizeof *out->tensors);
    span *spans = calloc(n + 1, sizeof *spans);
    bool ok = out->tensors && spans;
    if (!ok) rt_fail(err, "%s: out of memory", path);
    const char *key;
    json_t *val;
    json_object_foreach(head, key, val) {
        if (!ok) break;
        if (strcmp(key, "__metadata__") == 0) {
            if (!json_is_object(val)) {
                ok = rt_fail(err, "%s: __metadata__ must be an object of strings", path);
                break;
            }
            out->meta = calloc(json_object_size(val) + 1, sizeof *out->meta);
            const char *mk;
            json_t *mv;
            json_object_foreach(val, mk, mv) {
                if (!json_is_string(mv)) {
                    ok = rt_fail(err, "%s: metadata '%s' is not a string", path, mk);
                    break;
                }
                rt_st_meta *m = &out->meta[out->nmeta++];
                m->key = strdup(mk);
                m->value = strdup(json_string_value(mv));
            }
            continue;
        }
        ok = read_tensor(path, key, val, data, avail, &out->tensors[out->ntensors],
                         &spans[out->ntensors], err);
        if (out->tensors[out->ntensors].name || out->tensors[out->ntensors].data) out->ntensors++;
    }
    if (ok) {
        /* the reference format packs the buffer: no overlaps (holes are tolerated) */
        qsort(spans, (size_t)out->ntensors, sizeof *spans, by_begin);
        for (int i = 1; i < out->ntensors; i++)
            if (spans[i].begin < spans[i - 1].end) {
                ok = rt_fail(err, "%s: two tensors share bytes of the data buffer", path);
                break;
            }
    }
    free(spans);
    json_decref(head);
    free(buf);
    if (!ok) rt_st_free(out);
    return ok;
}

const rt_st_tensor *rt_st_find(const rt_st_file *f, const char *name)
{
    for (int i = 0; i < f->ntensors; i++)
        if (strcmp(f->tensors[i].name, name) == 0) return &f->tensors[i];
    return NULL;
}

const char *rt_st_meta_get(const rt_st_file *f, const char *key)
{
    for (int i = 0; i < f->nmeta; i++)
        if (strcmp(f->meta[i].key, key) == 0) return f->meta[i].value;
    return NULL;
}
