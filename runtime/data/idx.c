/* idx.c — see idx.h. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>
#include "idx.h"
#include "rt_file.h"

/* ---- reading one file ------------------------------------------------------ */

/* The message for a short or failed gzread: zlib's own words when the
 * stream is damaged ("invalid block type", "incorrect data check" for a bad
 * CRC ...), minus the path zlib puts in front of them; a gzip stream that
 * simply stops (Z_BUF_ERROR) is called truncated. */
static bool read_failure(gzFile f, const char *path, const char *what,
                         uint64_t want, uint64_t got, rt_error *err)
{
    int zerr = Z_OK;
    const char *zmsg = gzerror(f, &zerr);
    size_t plen = strlen(path);
    if (strncmp(zmsg, path, plen) == 0 && strncmp(zmsg + plen, ": ", 2) == 0) zmsg += plen + 2;
    /* a gzdopen'd stream is named "<fd:N>" */
    if (strncmp(zmsg, "<fd:", 4) == 0 && strstr(zmsg, ">: ")) zmsg = strstr(zmsg, ">: ") + 3;
    if (zerr == Z_ERRNO)
        return rt_fail(err, "%s: read error: %s", path, strerror(errno));
    if (zerr == Z_BUF_ERROR)
        return rt_fail(err, "%s: truncated gzip stream (%s)", path, zmsg);
    if (zerr != Z_OK)
        return rt_fail(err, "%s: damaged gzip stream: %s", path, zmsg);
    return rt_fail(err, "%s: truncated: the header declares %llu bytes of %s, "
                   "the file has %llu", path, (unsigned long long)want, what,
                   (unsigned long long)got);
}

/* Reads exactly len bytes (gzread takes an unsigned int, so in chunks);
 * returns how many it got. A read of at least zlib's buffer size inflates
 * directly into buf, which is why the whole payload is asked for at once. */
static uint64_t read_fully(gzFile f, uint8_t *buf, uint64_t len)
{
    uint64_t got = 0;
    while (got < len) {
        uint64_t want = len - got;
        unsigned chunk = want > (1u << 30) ? (1u << 30) : (unsigned)want;
        int r = gzread(f, buf + got, chunk);
        if (r <= 0) break;
        got += (uint64_t)r;
    }
    return got;
}

/* An IDX file opened and its header checked, the data not yet read. */
typedef struct idx_open {
    gzFile f;
    uint64_t total;     /* bytes of data the header declares */
} idx_open;

/* Every axis is at least 1 (an empty axis would make a set of nothing, or of
 * 3,000,000,000 examples with no bytes) and fits an int; their product must
 * stay under this many bytes (1 TB). */
#define IDX_MAX_AXIS 0x7fffffffu
#define IDX_MAX_TOTAL (UINT64_C(1) << 40)
/* Deflate's best ratio is 1032:1 (258-byte matches coded in 2 bits), so a
 * gzip file of c bytes holds at most about 1032 c bytes. */
#define DEFLATE_MAX_RATIO 1032

/* The gzip trailer's ISIZE (content length mod 2^32) of a file that starts
 * with the gzip magic; false for a plain file. */
static bool gzip_isize(int fd, int64_t fsize, uint32_t *isize)
{
    uint8_t m[2], t[4];
    if (fsize < 18 || pread(fd, m, 2, 0) != 2 || m[0] != 0x1f || m[1] != 0x8b) return false;
    if (pread(fd, t, 4, (off_t)(fsize - 4)) != 4) return false;
    *isize = (uint32_t)t[0] | (uint32_t)t[1] << 8 | (uint32_t)t[2] << 16 | (uint32_t)t[3] << 24;
    return true;
}

/* Opens path (a regular file only: a FIFO or /dev/zero is refused before a
 * byte is read), reads and checks the header, and checks the declared size
 * against the file: exactly for a plain file, against the gzip trailer and
 * deflate's ratio for a gzip one; all before any data is allocated. */
static bool idx_open_file(const char *path, rt_idx *out, idx_open *io, rt_error *err)
{
    memset(out, 0, sizeof *out);
    io->f = NULL;
    int64_t fsize = 0;
    int fd = rt_open_regular(path, &fsize, err);
    if (fd < 0) return false;
    uint32_t isize = 0;
    bool gz = gzip_isize(fd, fsize, &isize);
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        return rt_fail(err, "%s: cannot open: out of memory", path);
    }
    gzbuffer(f, 1u << 18);

    uint8_t head[4 + 4 * RT_IDX_MAX_DIMS];
    uint64_t got = read_fully(f, head, 4);
    if (got < 4) {
        read_failure(f, path, "header", 4, got, err);
        goto fail;
    }
    if (head[0] != 0 || head[1] != 0) {
        rt_fail(err, "%s: not an IDX file (magic 0x%02x%02x%02x%02x; an IDX file "
                "starts with 0x0000 then its element type and axis count)",
                path, head[0], head[1], head[2], head[3]);
        goto fail;
    }
    if (head[2] != 0x08) {
        rt_fail(err, "%s: element type 0x%02x is not supported (only unsigned "
                "bytes, 0x08, as in MNIST)", path, head[2]);
        goto fail;
    }
    int ndim = head[3];
    if (ndim < 1 || ndim > RT_IDX_MAX_DIMS) {
        rt_fail(err, "%s: %d axes; between 1 and %d are supported", path, ndim,
                RT_IDX_MAX_DIMS);
        goto fail;
    }
    got = read_fully(f, head + 4, 4u * (unsigned)ndim);
    if (got < 4u * (unsigned)ndim) {
        read_failure(f, path, "header", 4u * (unsigned)ndim, got, err);
        goto fail;
    }
    uint64_t total = 1;
    for (int i = 0; i < ndim; i++) {
        const uint8_t *p = head + 4 + 4 * i;
        uint64_t d = (uint64_t)p[0] << 24 | (uint64_t)p[1] << 16 | (uint64_t)p[2] << 8 | p[3];
        out->dims[i] = (int64_t)d;
        if (d == 0 || d > IDX_MAX_AXIS) {
            rt_fail(err, "%s: axis %d has size %llu; sizes must be between 1 and %u",
                    path, i, (unsigned long long)d, IDX_MAX_AXIS);
            goto fail;
        }
        if (total > IDX_MAX_TOTAL / d) {
            rt_fail(err, "%s: declared size is absurdly large (over %llu bytes at axis %d)",
                    path, (unsigned long long)IDX_MAX_TOTAL, i);
            goto fail;
        }
        total *= d;
    }
    uint64_t content = 4 + 4 * (uint64_t)ndim + total;
    if (!gz && content < (uint64_t)fsize) {
        rt_fail(err, "%s: extra bytes after the %llu bytes of data the header declares",
                path, (unsigned long long)total);
        goto fail;
    }
    if (!gz && content > (uint64_t)fsize) {
        rt_fail(err, "%s: truncated: the header declares %llu bytes of data, the file has %lld",
                path, (unsigned long long)total, (long long)fsize - 4 - 4 * ndim);
        goto fail;
    }
    if (gz && content > (uint64_t)fsize * DEFLATE_MAX_RATIO + 1024) {
        rt_fail(err, "%s: the header declares %llu bytes of data, more than a %lld-byte "
                "gzip file can hold", path, (unsigned long long)total, (long long)fsize);
        goto fail;
    }
    if (gz && (uint32_t)content != isize) {
        rt_fail(err, "%s: the header declares %llu bytes of data but the gzip trailer says "
                "the content is %lu bytes (mod 2^32): the file is truncated, damaged or "
                "has extra bytes", path, (unsigned long long)total, (unsigned long)isize);
        goto fail;
    }
    out->ndim = ndim;
    io->f = f;
    io->total = total;
    return true;
fail:
    gzclose(f);
    memset(out, 0, sizeof *out);
    return false;
}

/* Reads the data of an opened file into out->data and closes it. */
static bool idx_read_data(const char *path, rt_idx *out, idx_open *io, rt_error *err)
{
    gzFile f = io->f;
    uint64_t total = io->total;
    io->f = NULL;
    bool ok = false;
    out->data = rt_examples_alloc(total, false);   /* huge pages: see dataset.h */
    if (!out->data) {
        rt_fail(err, "%s: out of memory for %llu bytes", path, (unsigned long long)total);
        goto done;
    }
    uint64_t got = read_fully(f, out->data, total);
    if (got < total) {
        read_failure(f, path, "data", total, got, err);
        goto done;
    }
    /* The declared size must be the whole file: one more byte means the
     * header and the content disagree (or two files were glued together). */
    uint8_t extra;
    int r = gzread(f, &extra, 1);
    if (r > 0) {
        rt_fail(err, "%s: extra bytes after the %llu bytes of data the header declares",
                path, (unsigned long long)total);
        goto done;
    }
    if (r < 0) {
        read_failure(f, path, "data", total, total, err);
        goto done;
    }
    ok = true;
done:
    gzclose(f);
    if (!ok) rt_idx_free(out);
    return ok;
}

bool rt_idx_read(const char *path, rt_idx *out, rt_error *err)
{
    idx_open io;
    return idx_open_file(path, out, &io, err) && idx_read_data(path, out, &io, err);
}

void rt_idx_free(rt_idx *idx)
{
    free(idx->data);
    memset(idx, 0, sizeof *idx);
}

/* ---- an images + labels pair ------------------------------------------------ */

bool rt_idx_load_pair(const char *images, const char *labels, int classes,
                      rt_dataset *out, rt_error *err)
{
    memset(out, 0, sizeof *out);
    rt_idx im, lb;
    idx_open imo, lbo;
    /* Both headers first: files that disagree fail before any data is
     * inflated. */
    if (!idx_open_file(images, &im, &imo, err)) return false;
    if (!idx_open_file(labels, &lb, &lbo, err)) {
        gzclose(imo.f);
        return false;
    }
    bool ok = false;
    if (im.ndim < 2) {
        rt_fail(err, "%s: an image file needs at least 2 axes (count, pixels), it has %d",
                images, im.ndim);
        goto done;
    }
    if (lb.ndim != 1) {
        rt_fail(err, "%s: a label file has 1 axis, this one has %d", labels, lb.ndim);
        goto done;
    }
    if (im.dims[0] != lb.dims[0]) {
        rt_fail(err, "%s has %lld images but %s has %lld labels", images,
                (long long)im.dims[0], labels, (long long)lb.dims[0]);
        goto done;
    }
    if (!idx_read_data(images, &im, &imo, err) || !idx_read_data(labels, &lb, &lbo, err))
        goto done;
    int64_t n = im.dims[0];
    int32_t *lab = malloc((size_t)(n ? n : 1) * sizeof *lab);
    if (!lab) {
        rt_fail(err, "%s: out of memory", labels);
        goto done;
    }
    for (int64_t i = 0; i < n; i++) {
        if (lb.data[i] >= classes) {
            rt_fail(err, "%s: label %d of example %lld is not below %d classes",
                    labels, lb.data[i], (long long)i, classes);
            free(lab);
            goto done;
        }
        lab[i] = lb.data[i];
    }
    /* The pixels move into the dataset as they are: no copy. */
    out->n = n;
    out->shape.ndim = im.ndim - 1;
    for (int i = 1; i < im.ndim; i++) out->shape.dims[i - 1] = im.dims[i];
    out->features = rt_shape_size(&out->shape);
    out->x_u8 = im.data;
    im.data = NULL;
    out->x_scale = 1.0f / 255.0f;
    out->classes = classes;
    out->labels = lab;
    ok = true;
done:
    if (imo.f) gzclose(imo.f);
    if (lbo.f) gzclose(lbo.f);
    rt_idx_free(&im);
    rt_idx_free(&lb);
    return ok;
}

/* ---- the known sets ---------------------------------------------------------- */

static const char *const digit_names[] = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" };
static const char *const fashion_names[] = {
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
    "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
};
_Static_assert(sizeof digit_names / sizeof *digit_names == 10, "10 digit classes");
_Static_assert(sizeof fashion_names / sizeof *fashion_names == 10, "10 fashion classes");

/* The usual public mirrors, as torchvision and TensorFlow use them. LeCun's
 * own site comes last: it has been refusing or throttling downloads. */
static const char *const mnist_mirrors[] = {
    "https://ossci-datasets.s3.amazonaws.com/mnist/",
    "https://storage.googleapis.com/cvdf-datasets/mnist/",
    "http://yann.lecun.com/exdb/mnist/",
    NULL,
};
static const char *const fashion_mirrors[] = {
    "http://fashion-mnist.s3-website.eu-central-1.amazonaws.com/",
    "https://storage.googleapis.com/tensorflow/tf-keras-datasets/",
    "https://github.com/zalandoresearch/fashion-mnist/raw/master/data/fashion/",
    NULL,
};

/* Digests of the uncompressed files. MNIST: ../shared/data/mnist/
 * SHA256SUMS.uncompressed (train-images matches the published digest of the
 * original). Fashion-MNIST: Zalando publishes only MD5s of its .gz archives;
 * these SHA-256s of the uncompressed content are the ones several
 * independent projects list, and they match the content of Debian's
 * dataset-fashion-mnist files (whose archives are recompressed, so their
 * .gz MD5s differ from Zalando's while the content is identical). */
static const rt_idxset known_sets[] = {
    { "mnist",
      { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" },
      { "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2" },
      10, digit_names, mnist_mirrors, { 47040016, 60008, 7840016, 10008 } },
    { "fashion-mnist",
      { "train-images-idx3-ubyte", "train-labels-idx1-ubyte",
        "t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte" },
      { "c59f468a2f672dc815687fe0f83887768d799fd8a3f3276145d20f83aa44d888",
        "bad3541b69d912435c50bb6ba87bec294ff4f6a2e1246121d8633921760443d9",
        "5b4141f0afbad91edebe8549f8fcffe087ea10ca49f1dbef5c9a5cd8815ce37b",
        "0402a96d92fd2663957122ceb108a494c5af83dab82d92729df917d7dec38c34" },
      10, fashion_names, fashion_mirrors, { 47040016, 60008, 7840016, 10008 } },
};

const rt_idxset *rt_idxset_lookup(const char *name)
{
    if (name && strcmp(name, "fashion_mnist") == 0) name = "fashion-mnist";
    for (size_t i = 0; i < sizeof known_sets / sizeof *known_sets; i++)
        if (name && strcmp(known_sets[i].name, name) == 0) return &known_sets[i];
    return NULL;
}

/* base + FILE.gz, with "{name}" in base replaced by the set's name and one
 * '/' between base and file; malloc'd. */
static char *mirror_url(const char *base, const char *name, const char *file)
{
    const char *ph = strstr(base, "{name}");
    size_t len = strlen(base) + strlen(name) + strlen(file) + 8;
    char *url = malloc(len);
    if (!url) return NULL;
    if (ph)
        snprintf(url, len, "%.*s%s%s", (int)(ph - base), base, name, ph + 6);
    else
        snprintf(url, len, "%s", base);
    size_t n = strlen(url);
    snprintf(url + n, len - n, "%s%s.gz", n && url[n - 1] == '/' ? "" : "/", file);
    return url;
}

/* ---- re-verifying the cache ---------------------------------------------------- */

/* dir/.BASE.sha256 for dir/BASE, malloc'd. */
static char *stamp_path(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dlen = slash ? (size_t)(slash - path) + 1 : 0, len = strlen(path) + 10;
    char *p = malloc(len);
    if (p) snprintf(p, len, "%.*s.%s.sha256", (int)dlen, path, path + dlen);
    return p;
}

/* The stamp's line for path as it is now: digest, size, mtime, inode. */
static bool stamp_line(const char *path, const char *sha, char *line, size_t cap)
{
    struct stat st;
    if (stat(path, &st) != 0) return false;
    snprintf(line, cap, "%s %lld %lld.%09ld %llu\n", sha, (long long)st.st_size,
             (long long)st.st_mtim.tv_sec, (long)st.st_mtim.tv_nsec,
             (unsigned long long)st.st_ino);
    return true;
}

/* Records that path, as it is now, has digest sha (best effort: without a
 * stamp the next run hashes the file again). */
static void write_stamp(const char *path, const char *sha)
{
    char line[160], *sp = stamp_path(path);
    rt_atomic_file af;
    if (sp && stamp_line(path, sha, line, sizeof line) && rt_atomic_open(&af, sp, NULL)) {
        fputs(line, af.f);
        rt_atomic_commit(&af, NULL);
    }
    free(sp);
}

/* Whether the cached file k at path is intact; if not, why in why. */
static bool cached_file_ok(const rt_idxset *set, int k, const char *path, char *why, size_t cap)
{
    int64_t fsize = 0;
    rt_error e;
    int fd = rt_open_regular(path, &fsize, &e);
    if (fd < 0) {
        snprintf(why, cap, "%s", e.msg);
        return false;
    }
    uint32_t isize;
    bool gz = gzip_isize(fd, fsize, &isize);
    close(fd);
    int64_t want = set->sizes[k];
    if (want > 0 && (gz ? isize != (uint32_t)want : fsize != want)) {
        snprintf(why, cap, "%s holds %lld bytes, the file has %lld", path,
                 gz ? (long long)isize : (long long)fsize, (long long)want);
        return false;
    }
    if (!set->sha256[k]) return true;
    char line[160], have[160] = "", *sp = stamp_path(path);
    FILE *f = sp ? fopen(sp, "r") : NULL;
    if (f) {
        if (!fgets(have, sizeof have, f)) have[0] = '\0';
        fclose(f);
    }
    bool stamped = stamp_line(path, set->sha256[k], line, sizeof line) && strcmp(line, have) == 0;
    free(sp);
    if (stamped) return true;
    char got[65];
    if (!rt_sha256_content_max(path, want, got, &e)) {
        snprintf(why, cap, "%s", e.msg);
        return false;
    }
    if (strcasecmp(got, set->sha256[k]) != 0) {
        snprintf(why, cap, "%s has SHA-256 %.16s..., expected %.16s...", path, got,
                 set->sha256[k]);
        return false;
    }
    write_stamp(path, set->sha256[k]);
    return true;
}

/* Checks every file of the set in the cache directory dir; a bad one is
 * deleted (so that fetch_missing downloads it again) and its reason noted
 * in why. True when all were good. */
static bool verify_cache(const rt_idxset *set, const char *dir, char *why, size_t cap)
{
    bool all = true;
    why[0] = '\0';
    for (int k = 0; k < RT_IDX_NFILES; k++) {
        char *p = rt_datapath_resolve(dir, set->files[k]);
        char reason[600];
        if (p && !cached_file_ok(set, k, p, reason, sizeof reason)) {
            size_t n = strlen(why);
            if (n && n + 3 < cap) memcpy(why + n, "; ", 3), n += 2;
            size_t len = strlen(reason);   /* cut to fit: several files may be bad */
            if (n + len + 1 > cap) len = cap - n - 1;
            memcpy(why + n, reason, len);
            why[n + len] = '\0';
            unlink(p);
            char *sp = stamp_path(p);
            if (sp) unlink(sp);
            free(sp);
            all = false;
        }
        free(p);
    }
    return all;
}

/* Downloads file k of the set into dir as FILE.gz, trying every mirror. */
static bool fetch_one(const rt_idxset *set, const rt_datapath *dp, const char *dir,
                      int k, rt_error *err)
{
    const char *const *mirrors = dp->nmirrors ? (const char *const *)dp->mirrors : set->mirrors;
    int nm = dp->nmirrors;
    if (!dp->nmirrors)
        while (mirrors && mirrors[nm]) nm++;
    if (nm == 0) return rt_fail(err, "could not download %s: no mirrors configured", set->name);

    char **urls = calloc((size_t)nm, sizeof *urls);
    char gzname[256];
    snprintf(gzname, sizeof gzname, "%s.gz", set->files[k]);
    char *dest = rt_path_join(dir, gzname);
    bool ok = urls && dest;
    for (int m = 0; ok && m < nm; m++)
        ok = (urls[m] = mirror_url(mirrors[m], set->name, set->files[k])) != NULL;
    rt_error e;
    /* A gzip file is at most its content plus deflate's stored-block
     * overhead (5 bytes per 64 kB) and a header: more is not this file. */
    rt_download_opts opts = dp->download;
    if (set->sizes[k] > 0) {
        opts.content_bytes = set->sizes[k];
        opts.max_bytes = set->sizes[k] + set->sizes[k] / 1024 + 65536;
    }
    if (!ok)
        rt_fail(err, "could not download %s: out of memory", set->name);
    else if (!(ok = rt_download_verified((const char *const *)urls, nm, dest,
                                         set->sha256[k], &opts, &e)))
        rt_fail(err, "%s is not on the data path (set MLP_DATA_PATH to a folder holding "
                "%s/, or put the files in ./data/%s) and could not be downloaded: %s",
                set->name, set->name, set->name, e.msg);
    if (ok) write_stamp(dest, set->sha256[k]);
    for (int m = 0; urls && m < nm; m++) free(urls[m]);
    free(urls);
    free(dest);
    return ok;
}

/* Downloads each of the set's files missing from dir (the cache). */
static bool fetch_missing(const rt_idxset *set, const rt_datapath *dp,
                          const char *dir, rt_error *err)
{
    if (!rt_datapath_mkdirs(dir, err)) return false;
    for (int k = 0; k < RT_IDX_NFILES; k++) {
        char *have = rt_datapath_resolve(dir, set->files[k]);
        bool present = have != NULL;
        free(have);
        if (!present && !fetch_one(set, dp, dir, k, err)) return false;
    }
    return true;
}

typedef struct pair_job {
    const char *images, *labels;
    int classes;
    rt_dataset *out;
    rt_error err;
    bool ok;
} pair_job;

static void *load_pair_thread(void *arg)
{
    pair_job *j = arg;
    j->ok = rt_idx_load_pair(j->images, j->labels, j->classes, j->out, &j->err);
    return NULL;
}

bool rt_idxset_load(const rt_idxset *set, const rt_datapath *dp,
                    rt_dataset *train, rt_dataset *test, rt_error *err)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    char *dir = rt_datapath_find(dp, set->name, set->files, RT_IDX_NFILES);
    char *cache_dir = dp->cache ? rt_path_join(dp->cache, set->name) : NULL;
    if (dp->cache && !cache_dir) {
        free(dir);
        return rt_fail(err, "%s: out of memory", set->name);
    }
    char bad[400] = "";
    if (dir && cache_dir && strcmp(dir, cache_dir) == 0 &&
        !verify_cache(set, dir, bad, sizeof bad)) {
        /* Deleted: fetched again below. */
        free(dir);
        dir = NULL;
    }
    if (!dir) {
        char found[400];
        bool broken = rt_datapath_explain(dp, set->name, set->files, RT_IDX_NFILES, found,
                                          sizeof found);
        if (broken) {
            free(cache_dir);
            return rt_fail(err, "%s: found on the data path but not usable (nothing was "
                           "downloaded): %s", set->name, found);
        }
        if (!dp->cache)
            return rt_fail(err, "%s: not found on the data path (MLP_DATA_PATH, ./data, "
                           "/usr/share/datasets) and no cache directory to download into "
                           "(set XDG_CACHE_HOME or HOME)%s%s", set->name,
                           found[0] ? "; found: " : "", found);
        dir = cache_dir;
        cache_dir = NULL;
        if (!fetch_missing(set, dp, dir, err)) {
            if (bad[0]) {
                rt_error e = *err;
                rt_fail(err, "%s: the cached copy was bad (%s) and could not be downloaded "
                        "again: %s", set->name, bad, e.msg);
            }
            free(dir);
            return false;
        }
    }
    free(cache_dir);
    char *path[RT_IDX_NFILES] = { 0 };
    bool ok = true;
    for (int k = 0; k < RT_IDX_NFILES; k++) {
        path[k] = rt_datapath_resolve(dir, set->files[k]);
        if (!path[k]) {
            ok = rt_fail(err, "%s: %s/%s(.gz) disappeared while loading", set->name,
                         dir, set->files[k]);
            break;
        }
    }
    if (ok) {
        /* Train on a second thread, test here: the inflate of one gzip stream
         * cannot be split, but the two halves are independent. */
        pair_job jobs[2] = {
            { path[RT_IDX_TRAIN_IMAGES], path[RT_IDX_TRAIN_LABELS], set->classes, train, { { 0 }, false }, false },
            { path[RT_IDX_TEST_IMAGES], path[RT_IDX_TEST_LABELS], set->classes, test, { { 0 }, false }, false },
        };
        pthread_t th;
        bool threaded = pthread_create(&th, NULL, load_pair_thread, &jobs[0]) == 0;
        if (!threaded) load_pair_thread(&jobs[0]);
        load_pair_thread(&jobs[1]);
        if (threaded) pthread_join(th, NULL);
        for (int j = 0; j < 2 && ok; j++)
            if (!jobs[j].ok) ok = rt_fail(err, "%s", jobs[j].err.msg);
        ok = ok && rt_dataset_set_class_names(train, set->class_names, err)
                && rt_dataset_set_class_names(test, set->class_names, err);
        if (!ok) {
            rt_dataset_free(train);
            rt_dataset_free(test);
        }
    }
    for (int k = 0; k < RT_IDX_NFILES; k++) free(path[k]);
    free(dir);
    return ok;
}

bool rt_mnist_load(const char *kind, rt_dataset *train, rt_dataset *test, rt_error *err)
{
    memset(train, 0, sizeof *train);
    memset(test, 0, sizeof *test);
    const rt_idxset *set = rt_idxset_lookup(kind);
    if (!set)
        return rt_fail(err, "unknown data set '%s' (known: mnist, fashion-mnist)",
                       kind ? kind : "(null)");
    rt_datapath dp;
    if (!rt_datapath_from_env(&dp, err)) return false;
    bool ok = rt_idxset_load(set, &dp, train, test, err);
    rt_datapath_free(&dp);
    return ok;
}
