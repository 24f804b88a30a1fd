/*
 * test_idx.c — the IDX reader on fixtures the tests write themselves (valid,
 * wrong magic, truncated, extra bytes, mismatched counts, gzip and plain,
 * truncated and corrupted gzip), the search path, and the real MNIST and
 * Fashion-MNIST when they are on this machine.
 */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "download.h"
#include "idx.h"

/* ---- fixtures ------------------------------------------------------------------ */

static char tmpdir[64];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void make_tmpdir(void)
{
    strcpy(tmpdir, "/tmp/mlp-idx-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void remove_tmpdir(void)
{
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
}

static char *tpath(const char *name)
{
    static char buf[4][256];
    static int k;
    char *p = buf[k++ % 4];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

static void write_bytes(const char *path, const void *data, size_t len, bool gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        cr_assert_not_null(f);
        if (len) cr_assert_eq(gzwrite(f, data, (unsigned)len), (int)len);
        cr_assert_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        cr_assert_not_null(f);
        cr_assert_eq(fwrite(data, 1, len, f), len);
        fclose(f);
    }
}

/* An IDX byte file: header for dims[0..ndim) then `len` payload bytes. */
static size_t idx_bytes(uint8_t *out, int ndim, const uint32_t *dims, const uint8_t *payload,
                        size_t len)
{
    size_t k = 0;
    out[k++] = 0; out[k++] = 0; out[k++] = 0x08; out[k++] = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        out[k++] = (uint8_t)(dims[i] >> 24); out[k++] = (uint8_t)(dims[i] >> 16);
        out[k++] = (uint8_t)(dims[i] >> 8);  out[k++] = (uint8_t)dims[i];
    }
    memcpy(out + k, payload, len);
    return k + len;
}

/* 3 images of 2x3 pixels and their labels. */
static const uint8_t pixels[18] = { 0, 255, 1, 2, 3, 4,  10, 20, 30, 40, 50, 60,
                                    255, 254, 253, 128, 127, 0 };
static const uint8_t lab3[3] = { 2, 0, 1 };

static void write_images(const char *path, bool gz, uint32_t count, size_t payload_len)
{
    uint8_t buf[256];
    uint8_t payload[64] = { 0 };
    memcpy(payload, pixels, sizeof pixels);
    uint32_t dims[3] = { count, 2, 3 };
    write_bytes(path, buf, idx_bytes(buf, 3, dims, payload, payload_len), gz);
}

static void write_labels(const char *path, bool gz, uint32_t count)
{
    uint8_t buf[64];
    uint32_t dims[1] = { count };
    write_bytes(path, buf, idx_bytes(buf, 1, dims, lab3, count), gz);
}

/* ---- the reader ------------------------------------------------------------------ */

TestSuite(idx, .init = make_tmpdir, .fini = remove_tmpdir);

static void check_pair(bool gz)
{
    write_images(tpath("im"), gz, 3, 18);
    write_labels(tpath("lb"), gz, 3);
    rt_dataset ds;
    rt_error err;
    cr_assert(rt_idx_load_pair(tpath("im"), tpath("lb"), 3, &ds, &err), "%s", err.msg);
    cr_expect_eq(ds.n, 3);
    cr_expect_eq(ds.shape.ndim, 2);
    cr_expect_eq(ds.shape.dims[0], 2);
    cr_expect_eq(ds.shape.dims[1], 3);
    cr_expect_eq(ds.features, 6);
    cr_expect_null(ds.x_f32);
    cr_expect_eq(ds.classes, 3);
    cr_expect_arr_eq(ds.x_u8, pixels, 18);
    for (int i = 0; i < 3; i++) cr_expect_eq(ds.labels[i], lab3[i]);
    /* A batch of rows 2 and 0, scaled by hand. */
    int64_t idx[2] = { 2, 0 };
    float x[12], y[6];
    rt_dataset_gather(&ds, idx, 2, x, y);
    for (int j = 0; j < 6; j++) {
        cr_expect_float_eq(x[j], pixels[12 + j] / 255.0f, 1e-7);
        cr_expect_float_eq(x[6 + j], pixels[j] / 255.0f, 1e-7);
    }
    const float want_y[6] = { 0, 1, 0,  0, 0, 1 };
    cr_expect_arr_eq(y, want_y, sizeof want_y);
    rt_dataset_free(&ds);
}

Test(idx, plain_pair) { check_pair(false); }
Test(idx, gzip_pair) { check_pair(true); }

Test(idx, wrong_magic)
{
    uint8_t bad[24] = { 0x1f, 0x00, 0x08, 0x03 };
    write_bytes(tpath("bad"), bad, sizeof bad, false);
    rt_idx idx;
    rt_error err;
    cr_assert_not(rt_idx_read(tpath("bad"), &idx, &err));
    cr_expect(strstr(err.msg, "not an IDX file"), "%s", err.msg);
    cr_expect(strstr(err.msg, tpath("bad")), "the message names the file: %s", err.msg);
    cr_expect_null(idx.data);
}

Test(idx, unsupported_type)
{
    uint8_t f32[12] = { 0, 0, 0x0D, 1, 0, 0, 0, 1, 0, 0, 0, 0 };
    write_bytes(tpath("f"), f32, sizeof f32, false);
    rt_idx idx;
    rt_error err;
    cr_assert_not(rt_idx_read(tpath("f"), &idx, &err));
    cr_expect(strstr(err.msg, "element type 0x0d is not supported"), "%s", err.msg);
}

Test(idx, truncated_plain)
{
    write_images(tpath("im"), false, 3, 12);     /* declares 18 bytes, has 12 */
    rt_idx idx;
    rt_error err;
    cr_assert_not(rt_idx_read(tpath("im"), &idx, &err));
    cr_expect(strstr(err.msg, "truncated"), "%s", err.msg);
    cr_expect(strstr(err.msg, "18") && strstr(err.msg, "12"), "%s", err.msg);
}

Test(idx, truncated_header)
{
    uint8_t head[6] = { 0, 0, 8, 3, 0, 0 };
    write_bytes(tpath("h"), head, sizeof head, true);
    rt_idx idx;
    rt_error err;
    cr_assert_not(rt_idx_read(tpath("h"), &idx, &err));
    cr_expect(strstr(err.msg, "header"), "%s", err.msg);
}

Test(idx, empty_file)
{
    write_bytes(tpath("e"), "", 0, false);
    rt_idx idx;
    rt_error err;
    cr_assert_not(rt_idx_read(tpath("e"), &idx, &err));
    cr_expect(strstr(err.msg, "truncated"), "%s", err.msg);
}

Test(idx, extra_bytes)
{
    write_images(tpath("im"), true, 2, 18);      /* declares 12 bytes, has 18 */
    rt_idx idx;
    rt_error err;
    cr_assert_not(rt_idx_read(tpath("im"), &idx, &err));
    cr_expect(strstr(err.msg, "extra bytes"), "%s", err.msg);
}

Test(idx, truncated_gzip)
{
    /* A payload large enough that the cut falls inside the deflate data. */
    enum { N = 200 };
    uint8_t *payload = malloc(N * 28 * 28), *buf = malloc(N * 28 * 28 + 64);
    for (int i = 0; i < N * 28 * 28; i++) payload[i] = (uint8_t)(i * 7 ^ i >> 5);
    uint32_t dims[3] = { N, 28, 28 };
    write_bytes(tpath("im.gz"), buf, idx_bytes(buf, 3, dims, payload, N * 28 * 28), true);
    FILE *f = fopen(tpath("im.gz"), "rb");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fclose(f);
    cr_assert_eq(truncate(tpath("im.gz"), size / 2), 0);
    rt_idx idx;
    rt_error err;
    cr_assert_not(rt_idx_read(tpath("im.gz"), &idx, &err));
    /* Found from the gzip trailer before anything is inflated. */
    cr_expect(strstr(err.msg, tpath("im.gz")) && strstr(err.msg, "truncated"), "%s", err.msg);
    free(payload);
    free(buf);
}

Test(idx, corrupted_gzip)
{
    enum { N = 100 };
    uint8_t *payload = malloc(N * 784), *buf = malloc(N * 784 + 64);
    for (int i = 0; i < N * 784; i++) payload[i] = (uint8_t)(i % 251);
    uint32_t dims[3] = { N, 28, 28 };
    write_bytes(tpath("c.gz"), buf, idx_bytes(buf, 3, dims, payload, N * 784), true);
    /* Flip bits in the last 8 bytes: the CRC-32 / length trailer. */
    FILE *f = fopen(tpath("c.gz"), "r+b");
    fseek(f, -6, SEEK_END);
    int c = fgetc(f);
    fseek(f, -6, SEEK_END);
    fputc(c ^ 0x5a, f);
    fclose(f);
    rt_idx idx;
    rt_error err;
    cr_assert_not(rt_idx_read(tpath("c.gz"), &idx, &err));
    cr_expect(strstr(err.msg, "damaged gzip stream"), "%s", err.msg);
    cr_expect_null(strstr(err.msg, "<fd:"), "zlib's name for the stream leaked: %s", err.msg);
    free(payload);
    free(buf);
}

Test(idx, count_mismatch)
{
    write_images(tpath("im"), false, 3, 18);
    write_labels(tpath("lb"), false, 2);
    rt_dataset ds;
    rt_error err;
    cr_assert_not(rt_idx_load_pair(tpath("im"), tpath("lb"), 3, &ds, &err));
    cr_expect(strstr(err.msg, "3 images") && strstr(err.msg, "2 labels"), "%s", err.msg);
    cr_expect_null(ds.x_u8);
}

Test(idx, label_out_of_range)
{
    write_images(tpath("im"), false, 3, 18);
    write_labels(tpath("lb"), false, 3);
    rt_dataset ds;
    rt_error err;
    cr_assert_not(rt_idx_load_pair(tpath("im"), tpath("lb"), 2, &ds, &err));  /* label 2 */
    cr_expect(strstr(err.msg, "label 2") && strstr(err.msg, "2 classes"), "%s", err.msg);
}

/* ---- hostile headers and files (issue 11) ------------------------------------------ */

Test(idx, fifo_and_devices_are_refused_without_blocking)
{
    cr_assert_eq(mkfifo(tpath("fifo"), 0600), 0);
    rt_idx idx;
    rt_error err;
    /* Before the fix the open blocked forever waiting for a writer. */
    cr_assert_not(rt_idx_read(tpath("fifo"), &idx, &err));
    cr_expect(strstr(err.msg, "is a FIFO (named pipe), not a regular file"), "%s", err.msg);
    cr_assert_not(rt_idx_read("/dev/zero", &idx, &err));
    cr_expect_str_eq(err.msg, "/dev/zero is a character device, not a regular file");
    cr_assert_not(rt_idx_read(tmpdir, &idx, &err));
    cr_expect(strstr(err.msg, "is a directory"), "%s", err.msg);
}

Test(idx, zero_sized_axis_is_rejected)
{
    uint8_t buf[64];
    uint32_t dims[2] = { 3000, 0 };   /* 3000 examples of nothing */
    write_bytes(tpath("z"), buf, idx_bytes(buf, 2, dims, pixels, 0), false);
    rt_idx idx;
    rt_error err;
    cr_assert_not(rt_idx_read(tpath("z"), &idx, &err));
    cr_expect(strstr(err.msg, "axis 1 has size 0"), "%s", err.msg);
    cr_expect_null(idx.data);
}

Test(idx, count_over_int32_is_rejected)
{
    uint8_t buf[64];
    uint32_t dims[1] = { 3000000000u };
    write_bytes(tpath("big"), buf, idx_bytes(buf, 1, dims, pixels, 0), false);
    rt_idx idx;
    rt_error err;
    cr_assert_not(rt_idx_read(tpath("big"), &idx, &err));
    cr_expect(strstr(err.msg, "axis 0 has size 3000000000"), "%s", err.msg);
}

Test(idx, plain_header_checked_against_file_size)
{
    /* 10^6 x 1000 declared, 5 bytes present: refused from the file size. */
    uint8_t buf[64];
    uint32_t dims[2] = { 1000000, 1000 };
    write_bytes(tpath("p"), buf, idx_bytes(buf, 2, dims, pixels, 5), false);
    rt_idx idx;
    rt_error err;
    cr_assert_not(rt_idx_read(tpath("p"), &idx, &err));
    cr_expect(strstr(err.msg, "declares 1000000000 bytes of data, the file has 5"), "%s",
              err.msg);
}

Test(idx, gzip_header_checked_against_trailer_before_inflating)
{
    /* A 1 MB run of zeros compresses to ~1 kB; its header claims 10^6 x 1000
     * bytes. Before the fix this allocated and inflated until the stream
     * ended; now the trailer (ISIZE) and deflate's ratio refuse it first. */
    enum { N = 1 << 20 };
    uint8_t *buf = calloc(N + 64, 1), *zeros = calloc(N, 1);
    uint32_t dims[2] = { 1000000, 1000 };
    size_t len = idx_bytes(buf, 2, dims, zeros, N);
    write_bytes(tpath("bomb.gz"), buf, len, true);
    rt_idx idx;
    rt_error err;
    cr_assert_not(rt_idx_read(tpath("bomb.gz"), &idx, &err));
    cr_expect(strstr(err.msg, "more than a") && strstr(err.msg, "gzip file can hold"), "%s",
              err.msg);
    /* Declared size within the ratio but not the content's: the trailer. */
    dims[0] = 1000;
    len = idx_bytes(buf, 2, dims, zeros, N);
    write_bytes(tpath("lie.gz"), buf, len, true);
    cr_assert_not(rt_idx_read(tpath("lie.gz"), &idx, &err));
    cr_expect(strstr(err.msg, "the gzip trailer says the content is 1048588 bytes"), "%s",
              err.msg);
    free(buf);
    free(zeros);
}

Test(idx, counts_compared_before_data_is_read)
{
    /* The image file's data is damaged; the count mismatch is reported,
     * which shows the headers were compared before any data was read. */
    uint8_t buf[256];
    uint32_t dims[3] = { 3, 2, 3 };
    size_t len = idx_bytes(buf, 3, dims, pixels, 18);
    write_bytes(tpath("im.gz"), buf, len, true);
    FILE *f = fopen(tpath("im.gz"), "r+b");
    fseek(f, 0, SEEK_END);
    long size = ftell(f);
    fseek(f, size - 12, SEEK_SET);    /* inside the deflate data */
    fputc(0xff, f);
    fputc(0xff, f);
    fclose(f);
    write_labels(tpath("lb"), false, 2);
    rt_dataset ds;
    rt_error err;
    cr_assert_not(rt_idx_load_pair(tpath("im.gz"), tpath("lb"), 3, &ds, &err));
    cr_expect(strstr(err.msg, "3 images") && strstr(err.msg, "2 labels"), "%s", err.msg);
}

Test(idx, missing_file)
{
    rt_idx idx;
    rt_error err;
    cr_assert_not(rt_idx_read(tpath("nope"), &idx, &err));
    cr_expect(strstr(err.msg, "cannot open") && strstr(err.msg, "nope"), "%s", err.msg);
}

/* ---- the search path ------------------------------------------------------------------ */

static const rt_idxset tiny = {
    "tiny",
    { "tr-im", "tr-lb", "te-im", "te-lb" },
    { "", "", "", "" },
    3, (const char *const[]){ "a", "b", "c" }, NULL, { 0 },
};

/* Writes the tiny set into root/tiny with `count` training images. */
static void write_tiny(const char *root, uint32_t count, bool gz)
{
    char dir[256], p[300];
    snprintf(dir, sizeof dir, "%s/tiny", root);
    rt_error err;
    cr_assert(rt_datapath_mkdirs(dir, &err), "%s", err.msg);
    const char *sfx = gz ? ".gz" : "";
    snprintf(p, sizeof p, "%s/tr-im%s", dir, sfx); write_images(p, gz, count, 6 * count);
    snprintf(p, sizeof p, "%s/tr-lb%s", dir, sfx); write_labels(p, gz, count);
    snprintf(p, sizeof p, "%s/te-im%s", dir, sfx); write_images(p, gz, 1, 6);
    snprintf(p, sizeof p, "%s/te-lb%s", dir, sfx); write_labels(p, gz, 1);
}

Test(idx, search_order_first_complete_root_wins)
{
    rt_datapath dp = { 0 };
    rt_error err;
    /* r0 has only part of the set, r1 the whole set (2 images, plain),
     * r2 another whole set (3 images, gzip): r1 must win. */
    char r0[128], r1[128], r2[128], p[300];
    snprintf(r0, sizeof r0, "%s/r0", tmpdir);
    snprintf(r1, sizeof r1, "%s/r1", tmpdir);
    snprintf(r2, sizeof r2, "%s/r2", tmpdir);
    snprintf(p, sizeof p, "%s/tiny", r0);
    cr_assert(rt_datapath_mkdirs(p, &err));
    snprintf(p, sizeof p, "%s/tiny/tr-im.gz", r0);
    write_images(p, true, 3, 18);
    write_tiny(r1, 2, false);
    write_tiny(r2, 3, true);
    rt_datapath_add(&dp, r0, &err);
    rt_datapath_add(&dp, r1, &err);
    rt_datapath_add(&dp, r2, &err);
    rt_dataset tr, te;
    cr_assert(rt_idxset_load(&tiny, &dp, &tr, &te, &err), "%s", err.msg);
    cr_expect_eq(tr.n, 2);
    cr_expect_eq(te.n, 1);
    cr_expect_str_eq(tr.class_names[2], "c");
    cr_expect_str_eq(te.class_names[0], "a");
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
    rt_datapath_free(&dp);
}

Test(idx, not_found_without_cache)
{
    rt_datapath dp = { 0 };
    rt_error err;
    rt_datapath_add(&dp, tmpdir, &err);
    rt_dataset tr, te;
    cr_assert_not(rt_idxset_load(&tiny, &dp, &tr, &te, &err));
    cr_expect(strstr(err.msg, "tiny: not found"), "%s", err.msg);
    rt_datapath_free(&dp);
}

Test(idx, env_search_path)
{
    /* MLP_DATA_PATH entries come first, in order, then ./data, the cache
     * and /usr/share/datasets. */
    setenv("MLP_DATA_PATH", "/a/b::/c", 1);
    setenv("XDG_CACHE_HOME", "/xdg", 1);
    setenv("MLP_DATA_MIRRORS", " http://m1/  http://m2/{name}/ ", 1);
    rt_datapath dp;
    rt_error err;
    cr_assert(rt_datapath_from_env(&dp, &err));
    cr_assert_eq(dp.nroots, 5);
    cr_expect_str_eq(dp.roots[0], "/a/b");
    cr_expect_str_eq(dp.roots[1], "/c");
    cr_expect_str_eq(dp.roots[2], "data");
    cr_expect_str_eq(dp.roots[3], "/xdg/mlp");
    cr_expect_str_eq(dp.roots[4], "/usr/share/datasets");
    cr_expect_str_eq(dp.cache, "/xdg/mlp");
    cr_assert_eq(dp.nmirrors, 2);
    cr_expect_str_eq(dp.mirrors[1], "http://m2/{name}/");
    rt_datapath_free(&dp);
    unsetenv("XDG_CACHE_HOME");
    setenv("HOME", "/home/u", 1);
    cr_assert(rt_datapath_from_env(&dp, &err));
    cr_expect_str_eq(dp.cache, "/home/u/.cache/mlp");
    rt_datapath_free(&dp);
}

Test(idx, resolve_prefers_gzip)
{
    write_bytes(tpath("f"), "x", 1, false);
    char *p = rt_datapath_resolve(tmpdir, "f");
    cr_expect_str_eq(p, tpath("f"));
    free(p);
    write_bytes(tpath("f.gz"), "x", 1, true);
    p = rt_datapath_resolve(tmpdir, "f");
    cr_expect_str_eq(p, tpath("f.gz"));
    free(p);
    cr_expect_null(rt_datapath_resolve(tmpdir, "g"));
}

/* ---- the real data sets, when present ------------------------------------------------- */

static const char *mnist_root(void)
{
    const char *env = getenv("MLP_DATA_PATH");
    static char buf[512];
    /* The first MLP_DATA_PATH entry, else the repository convention. */
    snprintf(buf, sizeof buf, "%.*s", env ? (int)strcspn(env, ":") : 0, env ? env : "");
    if (!buf[0]) snprintf(buf, sizeof buf, "../shared/data");
    return buf;
}

Test(mnist, real_mnist)
{
    rt_datapath dp = { 0 };
    rt_error err;
    rt_datapath_add(&dp, mnist_root(), &err);
    const rt_idxset *set = rt_idxset_lookup("mnist");
    char *dir = rt_datapath_find(&dp, "mnist", set->files, RT_IDX_NFILES);
    if (!dir) {
        rt_datapath_free(&dp);
        cr_skip_test("MNIST not found under %s/mnist; skipped", mnist_root());
    }
    rt_dataset tr, te;
    cr_assert(rt_idxset_load(set, &dp, &tr, &te, &err), "%s", err.msg);
    cr_expect_eq(tr.n, 60000);
    cr_expect_eq(te.n, 10000);
    cr_expect_eq(tr.shape.dims[0], 28);
    cr_expect_eq(tr.shape.dims[1], 28);
    cr_expect_eq(tr.features, 784);
    const int first[10] = { 5, 0, 4, 1, 9, 2, 1, 3, 1, 4 };
    for (int i = 0; i < 10; i++) cr_expect_eq(tr.labels[i], first[i]);
    cr_expect_str_eq(tr.class_names[7], "7");
    /* Pixel mean after scaling: 0.1307 (the figure every MNIST tutorial
     * normalises with), summed exactly in integers. */
    uint64_t sum = 0;
    for (int64_t i = 0; i < tr.n * tr.features; i++) sum += tr.x_u8[i];
    double mean = (double)sum / (double)(tr.n * tr.features) / 255.0;
    cr_expect(mean > 0.13065 && mean < 0.13075, "mean %.6f", mean);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
    free(dir);
    rt_datapath_free(&dp);
}

Test(mnist, real_mnist_digests_match_sha256sums)
{
    /* The built-in table against ../shared/data/mnist/SHA256SUMS.uncompressed,
     * through the same content hash downloads are verified with. */
    char sums[600];
    snprintf(sums, sizeof sums, "%s/mnist/SHA256SUMS.uncompressed", mnist_root());
    FILE *f = fopen(sums, "r");
    if (!f) cr_skip_test("%s not found; skipped", sums);
    const rt_idxset *set = rt_idxset_lookup("mnist");
    char hex[65], name[128];
    int seen = 0;
    while (fscanf(f, "%64s %127s", hex, name) == 2) {
        for (int k = 0; k < RT_IDX_NFILES; k++) {
            if (strcmp(name, set->files[k]) != 0) continue;
            cr_expect_str_eq(set->sha256[k], hex, "%s", name);
            char dir[600], got[65];
            snprintf(dir, sizeof dir, "%s/mnist", mnist_root());
            char *p = rt_datapath_resolve(dir, name);
            rt_error err;
            cr_assert(p && rt_sha256_content(p, got, &err), "%s", name);
            cr_expect_str_eq(got, hex, "content of %s", p);
            free(p);
            seen++;
        }
    }
    fclose(f);
    cr_expect_eq(seen, 4);
}

Test(mnist, fashion_found_without_configuration)
{
    if (access("/usr/share/datasets/fashion-mnist/train-images-idx3-ubyte.gz", R_OK) != 0)
        cr_skip_test("dataset-fashion-mnist is not installed; skipped");
    /* Nothing configured: no MLP_DATA_PATH, an empty cache. */
    unsetenv("MLP_DATA_PATH");
    make_tmpdir();
    setenv("XDG_CACHE_HOME", tmpdir, 1);
    setenv("MLP_DATA_MIRRORS", "http://127.0.0.1:9/", 1);   /* never used */
    rt_dataset tr, te;
    rt_error err;
    cr_assert(rt_mnist_load("fashion-mnist", &tr, &te, &err), "%s", err.msg);
    cr_expect_eq(tr.n, 60000);
    cr_expect_eq(te.n, 10000);
    const int first[10] = { 9, 0, 0, 3, 0, 2, 7, 2, 5, 5 };
    for (int i = 0; i < 10; i++) cr_expect_eq(tr.labels[i], first[i]);
    cr_expect_str_eq(tr.class_names[0], "T-shirt/top");
    cr_expect_str_eq(te.class_names[9], "Ankle boot");
    /* Fashion-MNIST's published training pixel mean is 0.2860. */
    uint64_t sum = 0;
    for (int64_t i = 0; i < tr.n * tr.features; i++) sum += tr.x_u8[i];
    double mean = (double)sum / (double)(tr.n * tr.features) / 255.0;
    cr_expect(mean > 0.28595 && mean < 0.28605, "mean %.6f", mean);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
    remove_tmpdir();
}

Test(mnist, unknown_kind)
{
    rt_dataset tr, te;
    rt_error err;
    cr_assert_not(rt_mnist_load("cifar", &tr, &te, &err));
    cr_expect(strstr(err.msg, "unknown data set 'cifar'"), "%s", err.msg);
    cr_expect_not_null(rt_idxset_lookup("fashion_mnist"));
}
