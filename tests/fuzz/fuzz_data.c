/*
 * fuzz_data.c — libFuzzer target for the data loaders: IDX (plain and
 * gzip) and CSV files made from the fuzzer's bytes, read through the
 * runtime's own entry points (rt_idx_read, rt_idx_load_pair,
 * rt_csv_load_labels) from a real file, as a script's load would.
 *
 * The first byte of an input picks what the rest becomes:
 *   0  an IDX file, written as is                     -> rt_idx_read
 *   1  an IDX file, gzip-compressed here first        -> rt_idx_read
 *      (the header and payload fuzzed behind a valid gzip layer)
 *   2  written as is under a .gz name                 -> rt_idx_read
 *      (the gzip layer itself fuzzed: seeds are .gz files)
 *   3  a CSV file; the next byte chooses the label column ("y" or none)
 *      and the label mode                              -> rt_csv_load_labels
 *   4  an image and a label IDX file: the next two bytes say where the
 *      rest is cut between them                        -> rt_idx_load_pair
 * A load either succeeds (and the result is freed) or fails with a message;
 * anything else (a crash, a leak, undefined behaviour, a hang) is a finding.
 *
 * Seeds: tests/fuzz/data_seeds.py writes small and large valid files of
 * each kind; `make fuzz-data` builds, seeds and runs this target.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "csv.h"
#include "idx.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];

static void remove_scratch(void)
{
    char p[128];
    snprintf(p, sizeof p, "%s/a", dir);
    unlink(p);
    snprintf(p, sizeof p, "%s/b.gz", dir);
    unlink(p);
    rmdir(dir);
}

/* A scratch directory of this process, made on first use, removed at exit. */
static const char *scratch(void)
{
    if (!dir[0]) {
        snprintf(dir, sizeof dir, "/tmp/mlp-fuzz-data-XXXXXX");
        if (!mkdtemp(dir)) abort();
        atexit(remove_scratch);
    }
    return dir;
}

static void put(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f) abort();
    if (n && fwrite(p, 1, n, f) != n) abort();
    if (fclose(f) != 0) abort();
}

/* data as a gzip stream (gzip wrapper: windowBits 15 + 16). */
static void put_gzip(const char *path, const uint8_t *p, size_t n)
{
    uLong cap = compressBound((uLong)n) + 64;
    uint8_t *out = malloc(cap);
    z_stream z;
    memset(&z, 0, sizeof z);
    if (!out || deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
        abort();
    z.next_in = (Bytef *)p;
    z.avail_in = (uInt)n;
    z.next_out = out;
    z.avail_out = (uInt)cap;
    if (deflate(&z, Z_FINISH) != Z_STREAM_END) abort();
    put(path, out, z.total_out);
    deflateEnd(&z);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1) return 0;
    char a[128], b[128];
    snprintf(a, sizeof a, "%s/a", scratch());
    snprintf(b, sizeof b, "%s/b.gz", scratch());
    int mode = data[0] % 5;
    data++, size--;
    rt_error err;
    rt_idx idx;
    rt_dataset ds;
    switch (mode) {
    case 0:
    case 1:
    case 2: {
        const char *path = mode == 2 ? b : a;
        if (mode == 1) put_gzip(path, data, size);
        else put(path, data, size);
        if (rt_idx_read(path, &idx, &err)) rt_idx_free(&idx);
        else if (!err.msg[0]) abort();   /* a failure always says why */
        break;
    }
    case 3: {
        if (size < 1) return 0;
        int opt = data[0];
        put(a, data + 1, size - 1);
        const char *label = opt & 4 ? NULL : "y";
        rt_csv_labels lm = (rt_csv_labels)(label ? opt % 3 : 0);
        if (rt_csv_load_labels(a, label, lm, &ds, &err)) rt_dataset_free(&ds);
        else if (!err.msg[0]) abort();
        break;
    }
    case 4: {
        if (size < 2) return 0;
        size_t cut = (size_t)data[0] << 8 | data[1];
        data += 2, size -= 2;
        if (cut > size) cut = size;
        put(a, data, cut);
        put(b, data + cut, size - cut);
        if (rt_idx_load_pair(a, b, 10, &ds, &err)) rt_dataset_free(&ds);
        else if (!err.msg[0]) abort();
        break;
    }
    }
    return 0;
}
