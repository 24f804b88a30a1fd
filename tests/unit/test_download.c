/*
 * test_download.c — verified downloads against a tiny HTTP server on
 * 127.0.0.1 (a thread of the test, plain sockets, an ephemeral port).
 *
 * The server serves a small IDX set ("tiny") under three prefixes:
 *   /good/FILE.gz  the right content, gzip-compressed;
 *   /bad/FILE.gz   a well-formed gzip of different content (digest mismatch);
 *   /drop/FILE.gz  announces the full length, sends half, closes;
 * and 404 for anything else. The invariant checked after every scenario:
 * the cache holds only files whose content has the expected digest, and no
 * temporary files.
 */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <netinet/in.h>
#include <openssl/sha.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zlib.h>
#include "download.h"
#include "idx.h"

/* ---- the fixture set ------------------------------------------------------------ */

enum { NIMG = 40, SIDE = 8 };

typedef struct blob { uint8_t *data; size_t len; } blob;

static blob raw[RT_IDX_NFILES];       /* uncompressed IDX files */
static blob good_gz[RT_IDX_NFILES];   /* what /good serves */
static blob bad_gz[RT_IDX_NFILES];    /* what /bad serves */
static char digest[RT_IDX_NFILES][65];
static const char *const files[RT_IDX_NFILES] = { "tr-im", "tr-lb", "te-im", "te-lb" };

static blob gzip_blob(const uint8_t *data, size_t len)
{
    blob b;
    uLong cap = compressBound(len) + 64;
    b.data = malloc(cap);
    z_stream z = { 0 };
    /* windowBits 15 + 16: a gzip wrapper rather than zlib's. */
    cr_assert_eq(deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY), Z_OK);
    z.next_in = (Bytef *)data;
    z.avail_in = (uInt)len;
    z.next_out = b.data;
    z.avail_out = (uInt)cap;
    cr_assert_eq(deflate(&z, Z_FINISH), Z_STREAM_END);
    b.len = z.total_out;
    deflateEnd(&z);
    return b;
}

static blob idx_blob(int ndim, const uint32_t *dims, unsigned seed)
{
    size_t n = 1;
    for (int i = 0; i < ndim; i++) n *= dims[i];
    blob b = { malloc(4 + 4 * (size_t)ndim + n), 4 + 4 * (size_t)ndim + n };
    uint8_t *p = b.data;
    *p++ = 0; *p++ = 0; *p++ = 8; *p++ = (uint8_t)ndim;
    for (int i = 0; i < ndim; i++) {
        *p++ = (uint8_t)(dims[i] >> 24); *p++ = (uint8_t)(dims[i] >> 16);
        *p++ = (uint8_t)(dims[i] >> 8);  *p++ = (uint8_t)dims[i];
    }
    for (size_t i = 0; i < n; i++)   /* labels stay below 10 */
        p[i] = (uint8_t)(ndim == 1 ? (i * 7 + seed) % 10 : (i * 31 + seed * 17) & 0xff);
    return b;
}

static void make_fixtures(void)
{
    uint32_t im_tr[3] = { NIMG, SIDE, SIDE }, lb_tr[1] = { NIMG };
    uint32_t im_te[3] = { NIMG / 4, SIDE, SIDE }, lb_te[1] = { NIMG / 4 };
    raw[0] = idx_blob(3, im_tr, 1);
    raw[1] = idx_blob(1, lb_tr, 2);
    raw[2] = idx_blob(3, im_te, 3);
    raw[3] = idx_blob(1, lb_te, 4);
    for (int k = 0; k < RT_IDX_NFILES; k++) {
        /* The expected digest, computed independently of the code under
         * test: OpenSSL's one-shot SHA256 over the uncompressed bytes. */
        unsigned char md[SHA256_DIGEST_LENGTH];
        SHA256(raw[k].data, raw[k].len, md);
        for (int i = 0; i < 32; i++) snprintf(digest[k] + 2 * i, 3, "%02x", md[i]);
        good_gz[k] = gzip_blob(raw[k].data, raw[k].len);
        /* Same size, one pixel/label changed: a valid archive, wrong content. */
        uint8_t *copy = malloc(raw[k].len);
        memcpy(copy, raw[k].data, raw[k].len);
        copy[raw[k].len - 1] ^= 1;
        bad_gz[k] = gzip_blob(copy, raw[k].len);
        free(copy);
    }
}

static void free_fixtures(void)
{
    for (int k = 0; k < RT_IDX_NFILES; k++) {
        free(raw[k].data);
        free(good_gz[k].data);
        free(bad_gz[k].data);
    }
}

/* ---- the server ------------------------------------------------------------------- */

typedef struct server {
    int fd;
    int port;
    pthread_t thread;
    int requests;          /* served so far (read after join or loosely) */
} server;

static server srv;

static void send_all(int fd, const void *p, size_t len)
{
    const char *c = p;
    while (len > 0) {
        ssize_t w = send(fd, c, len, MSG_NOSIGNAL);
        if (w <= 0) return;
        c += w;
        len -= (size_t)w;
    }
}

static void serve_one(int fd)
{
    char req[2048];
    size_t got = 0;
    while (got < sizeof req - 1) {
        ssize_t r = recv(fd, req + got, sizeof req - 1 - got, 0);
        if (r <= 0) break;
        got += (size_t)r;
        req[got] = '\0';
        if (strstr(req, "\r\n\r\n")) break;
    }
    req[got] = '\0';
    char path[512] = "";
    sscanf(req, "GET %511s", path);
    const blob *b = NULL;
    bool drop = false;
    for (int k = 0; k < RT_IDX_NFILES; k++) {
        char want[64];
        const char *name = path + strcspn(path + 1, "/") + 2;
        snprintf(want, sizeof want, "%s.gz", files[k]);
        if (path[0] != '/' || strcmp(name, want) != 0) continue;
        if (strncmp(path, "/good/", 6) == 0) b = &good_gz[k];
        else if (strncmp(path, "/bad/", 5) == 0) b = &bad_gz[k];
        else if (strncmp(path, "/drop/", 6) == 0) b = &good_gz[k], drop = true;
    }
    char head[256];
    if (!b) {
        const char *msg = "HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\nConnection: close\r\n\r\nnot found";
        send_all(fd, msg, strlen(msg));
        return;
    }
    snprintf(head, sizeof head, "HTTP/1.1 200 OK\r\nContent-Type: application/gzip\r\n"
             "Content-Length: %zu\r\nConnection: close\r\n\r\n", b->len);
    send_all(fd, head, strlen(head));
    send_all(fd, b->data, drop ? b->len / 2 : b->len);
}

static void *server_main(void *arg)
{
    (void)arg;
    for (;;) {
        int c = accept(srv.fd, NULL, NULL);
        if (c < 0) break;                   /* shutdown() by stop_server */
        __atomic_add_fetch(&srv.requests, 1, __ATOMIC_SEQ_CST);
        serve_one(c);
        close(c);
    }
    return NULL;
}

static int listen_loopback(void)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    cr_assert(fd >= 0);
    struct sockaddr_in a = { 0 };
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    a.sin_port = 0;                          /* ephemeral */
    cr_assert_eq(bind(fd, (struct sockaddr *)&a, sizeof a), 0);
    cr_assert_eq(listen(fd, 16), 0);
    return fd;
}

static int port_of(int fd)
{
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    return ntohs(a.sin_port);
}

/* ---- per-test setup ---------------------------------------------------------------- */

static char tmpdir[64], cache[128], emptyroot[128];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void setup(void)
{
    /* A proxy from the environment would intercept 127.0.0.1. */
    unsetenv("http_proxy");
    unsetenv("HTTP_PROXY");
    unsetenv("all_proxy");
    unsetenv("ALL_PROXY");
    make_fixtures();
    strcpy(tmpdir, "/tmp/mlp-dl-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
    snprintf(cache, sizeof cache, "%s/cache", tmpdir);
    snprintf(emptyroot, sizeof emptyroot, "%s/empty", tmpdir);
    srv.fd = listen_loopback();
    srv.port = port_of(srv.fd);
    srv.requests = 0;
    cr_assert_eq(pthread_create(&srv.thread, NULL, server_main, NULL), 0);
}

static void teardown(void)
{
    shutdown(srv.fd, SHUT_RDWR);
    pthread_join(srv.thread, NULL);
    close(srv.fd);
    nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
    free_fixtures();
}

TestSuite(download, .init = setup, .fini = teardown);

static const char *const digits[10] = { "0", "1", "2", "3", "4", "5", "6", "7", "8", "9" };

static rt_idxset tiny_set(void)
{
    rt_idxset s = { "tiny", { files[0], files[1], files[2], files[3] },
                    { digest[0], digest[1], digest[2], digest[3] },
                    10, digits, NULL, { 0 } };
    return s;
}

/* A data path that finds nothing, with the test cache and the given mirrors
 * ("%P" in a mirror stands for the server's port). */
static rt_datapath test_path(const char *mirrors)
{
    rt_datapath dp = { 0 };
    rt_error err;
    char list[1024] = "";
    for (const char *m = mirrors; *m; m++) {
        size_t n = strlen(list);
        if (m[0] == '%' && m[1] == 'P') snprintf(list + n, sizeof list - n, "%d", srv.port), m++;
        else if (n + 1 < sizeof list) list[n] = *m, list[n + 1] = '\0';
    }
    cr_assert(rt_datapath_add(&dp, emptyroot, &err));
    cr_assert(rt_datapath_set_cache(&dp, cache, &err));
    cr_assert(rt_datapath_set_mirrors(&dp, list, &err));
    return dp;
}

/* Every file in cache/tiny: none may be temporary, each must have the
 * digest of the file it is named after. Returns how many there are. */
static int check_cache(void)
{
    char dir[256];
    snprintf(dir, sizeof dir, "%s/tiny", cache);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0) continue;
        size_t len = strlen(e->d_name);
        if (e->d_name[0] == '.' && len > 7 && strcmp(e->d_name + len - 7, ".sha256") == 0)
            continue;   /* a verification stamp (idx.h), not a temporary */
        cr_expect_neq(e->d_name[0], '.', "temporary file left behind: %s", e->d_name);
        bool known = false;
        for (int k = 0; k < RT_IDX_NFILES; k++) {
            char want[64];
            snprintf(want, sizeof want, "%s.gz", files[k]);
            if (strcmp(e->d_name, want) != 0) continue;
            known = true;
            char p[512], got[65];
            rt_error err;
            snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
            cr_expect(rt_sha256_content(p, got, &err), "%s", err.msg);
            cr_expect_str_eq(got, digest[k], "bad file in the cache: %s", e->d_name);
        }
        cr_expect(known, "unexpected file in the cache: %s", e->d_name);
        count++;
    }
    closedir(d);
    return count;
}

static void expect_fixture(const rt_dataset *tr, const rt_dataset *te)
{
    cr_expect_eq(tr->n, NIMG);
    cr_expect_eq(te->n, NIMG / 4);
    cr_expect_eq(tr->features, SIDE * SIDE);
    cr_expect_arr_eq(tr->x_u8, raw[0].data + 16, NIMG * SIDE * SIDE);
    cr_expect_eq(tr->labels[3], raw[1].data[8 + 3]);
}

/* ---- scenarios ------------------------------------------------------------------------ */

Test(download, sha256_known_answer)
{
    /* FIPS 180-2's example: SHA-256("abc"). */
    char p[256], got[65];
    snprintf(p, sizeof p, "%s/abc", tmpdir);
    FILE *f = fopen(p, "wb");
    fputs("abc", f);
    fclose(f);
    rt_error err;
    cr_assert(rt_sha256_content(p, got, &err), "%s", err.msg);
    cr_expect_str_eq(got, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

Test(download, good_mirror_fills_cache_then_cache_is_used)
{
    rt_idxset set = tiny_set();
    rt_datapath dp = test_path("http://127.0.0.1:%P/good/");
    rt_dataset tr, te;
    rt_error err;
    cr_assert(rt_idxset_load(&set, &dp, &tr, &te, &err), "%s", err.msg);
    expect_fixture(&tr, &te);
    cr_expect_eq(check_cache(), 4);
    int served = __atomic_load_n(&srv.requests, __ATOMIC_SEQ_CST);
    cr_expect_eq(served, 4);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
    /* Second time: from the cache, no request (the cache is a search root
     * only through rt_datapath_from_env, so add it here as that does). */
    rt_datapath_add(&dp, cache, &err);
    cr_assert(rt_idxset_load(&set, &dp, &tr, &te, &err), "%s", err.msg);
    expect_fixture(&tr, &te);
    cr_expect_eq(__atomic_load_n(&srv.requests, __ATOMIC_SEQ_CST), 4);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
    rt_datapath_free(&dp);
}

Test(download, corrupted_mirror_is_skipped)
{
    rt_idxset set = tiny_set();
    rt_datapath dp = test_path("http://127.0.0.1:%P/bad http://127.0.0.1:%P/good");
    rt_dataset tr, te;
    rt_error err;
    cr_assert(rt_idxset_load(&set, &dp, &tr, &te, &err), "%s", err.msg);
    expect_fixture(&tr, &te);
    cr_expect_eq(check_cache(), 4);
    cr_expect_eq(__atomic_load_n(&srv.requests, __ATOMIC_SEQ_CST), 8);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
    rt_datapath_free(&dp);
}

Test(download, only_corrupted_fails_and_caches_nothing)
{
    rt_idxset set = tiny_set();
    rt_datapath dp = test_path("http://127.0.0.1:%P/bad/");
    rt_dataset tr, te;
    rt_error err;
    cr_assert_not(rt_idxset_load(&set, &dp, &tr, &te, &err));
    cr_expect(strstr(err.msg, "tiny is not on the data path") && strstr(err.msg, "could not be downloaded"), "%s", err.msg);
    cr_expect(strstr(err.msg, "SHA-256 mismatch"), "%s", err.msg);
    cr_expect(strstr(err.msg, "/bad/tr-im.gz"), "%s", err.msg);
    cr_expect_null(tr.x_u8);
    cr_expect_eq(check_cache(), 0);
    rt_datapath_free(&dp);
}

Test(download, dropped_connection_fails_and_caches_nothing)
{
    rt_idxset set = tiny_set();
    rt_datapath dp = test_path("http://127.0.0.1:%P/drop/");
    rt_dataset tr, te;
    rt_error err;
    cr_assert_not(rt_idxset_load(&set, &dp, &tr, &te, &err));
    cr_expect(strstr(err.msg, "/drop/tr-im.gz"), "%s", err.msg);
    cr_expect(strstr(err.msg, "remaining") || strstr(err.msg, "closed"), "%s", err.msg);
    cr_expect_eq(check_cache(), 0);
    rt_datapath_free(&dp);
}

Test(download, dropped_then_good)
{
    rt_idxset set = tiny_set();
    rt_datapath dp = test_path("http://127.0.0.1:%P/drop/ http://127.0.0.1:%P/good/");
    rt_dataset tr, te;
    rt_error err;
    cr_assert(rt_idxset_load(&set, &dp, &tr, &te, &err), "%s", err.msg);
    expect_fixture(&tr, &te);
    cr_expect_eq(check_cache(), 4);
    rt_dataset_free(&tr);
    rt_dataset_free(&te);
    rt_datapath_free(&dp);
}

Test(download, offline_lists_every_url)
{
    /* A port nobody listens on: bind, note it, close. */
    int fd = listen_loopback();
    int dead = port_of(fd);
    close(fd);
    char mirrors[256];
    snprintf(mirrors, sizeof mirrors, "http://127.0.0.1:%d/a/ http://127.0.0.1:%d/b/", dead, dead);
    rt_idxset set = tiny_set();
    rt_datapath dp = test_path(mirrors);
    rt_dataset tr, te;
    rt_error err;
    cr_assert_not(rt_idxset_load(&set, &dp, &tr, &te, &err));
    char u1[128], u2[128];
    snprintf(u1, sizeof u1, "http://127.0.0.1:%d/a/tr-im.gz", dead);
    snprintf(u2, sizeof u2, "http://127.0.0.1:%d/b/tr-im.gz", dead);
    cr_expect(strstr(err.msg, "tiny is not on the data path") && strstr(err.msg, "could not be downloaded"), "%s", err.msg);
    cr_expect(strstr(err.msg, "tried: ") && strstr(err.msg, u1) && strstr(err.msg, u2),
              "%s", err.msg);
    cr_expect_eq(check_cache(), 0);
    rt_datapath_free(&dp);
}

Test(download, http_404_is_reported)
{
    const char *dest_name = "x.gz";
    char dest[256], url[128];
    snprintf(dest, sizeof dest, "%s/%s", tmpdir, dest_name);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/nothing/here.gz", srv.port);
    const char *urls[1] = { url };
    rt_error err;
    cr_assert_not(rt_download_verified(urls, 1, dest, digest[0], NULL, &err));
    cr_expect(strstr(err.msg, "404"), "%s", err.msg);
    cr_expect_neq(access(dest, F_OK), 0);
}

typedef struct progress_log { int calls; int64_t last_done, last_total; } progress_log;

static void record_progress(void *ctx, const char *url, int64_t done, int64_t total)
{
    progress_log *p = ctx;
    p->calls++;
    p->last_done = done;
    p->last_total = total;
}

Test(download, direct_download_with_progress)
{
    char dest[256], url[128];
    snprintf(dest, sizeof dest, "%s/tr-im.gz", tmpdir);
    snprintf(url, sizeof url, "http://127.0.0.1:%d/good/tr-im.gz", srv.port);
    const char *urls[1] = { url };
    progress_log log = { 0 };
    rt_download_opts opts = { .progress = record_progress, .progress_ctx = &log };
    rt_error err;
    cr_assert(rt_download_verified(urls, 1, dest, digest[0], &opts, &err), "%s", err.msg);
    cr_expect_geq(log.calls, 1);
    cr_expect_eq(log.last_done, (int64_t)good_gz[0].len);
    cr_expect_eq(log.last_total, (int64_t)good_gz[0].len);
    /* What landed is byte for byte what was served. */
    FILE *f = fopen(dest, "rb");
    cr_assert_not_null(f);
    uint8_t *buf = malloc(good_gz[0].len + 1);
    size_t n = fread(buf, 1, good_gz[0].len + 1, f);
    fclose(f);
    cr_expect_eq(n, good_gz[0].len);
    cr_expect_arr_eq(buf, good_gz[0].data, good_gz[0].len);
    free(buf);
}

Test(download, bad_digest_argument)
{
    const char *urls[1] = { "http://127.0.0.1:1/x" };
    rt_error err;
    char dest[256];
    snprintf(dest, sizeof dest, "%s/y", tmpdir);
    cr_assert_not(rt_download_verified(urls, 1, dest, "abc", NULL, &err));
    cr_expect(strstr(err.msg, "SHA-256"), "%s", err.msg);
}

/* ---- the cache is re-verified; unusable copies are explained (issue 11) --------------- */

/* Loads the tiny set with the cache as a search root, as rt_datapath_from_env
 * sets it up; returns whether it loaded (err says why not). */
static bool load_with_cache(const rt_idxset *set, const char *mirrors, rt_error *err)
{
    rt_datapath dp = test_path(mirrors);
    rt_error e;
    cr_assert(rt_datapath_add(&dp, cache, &e));
    rt_dataset tr, te;
    bool ok = rt_idxset_load(set, &dp, &tr, &te, err);
    if (ok) {
        expect_fixture(&tr, &te);
        rt_dataset_free(&tr);
        rt_dataset_free(&te);
    }
    rt_datapath_free(&dp);
    return ok;
}

static rt_idxset sized_set(void)
{
    rt_idxset s = tiny_set();
    for (int k = 0; k < RT_IDX_NFILES; k++) s.sizes[k] = (int64_t)raw[k].len;
    return s;
}

static void write_file(const char *path, const blob *b)
{
    FILE *f = fopen(path, "wb");
    cr_assert_not_null(f);
    cr_assert_eq(fwrite(b->data, 1, b->len, f), b->len);
    fclose(f);
}

static int requests(void) { return __atomic_load_n(&srv.requests, __ATOMIC_SEQ_CST); }

Test(download, cached_file_replaced_by_another_valid_one_is_fetched_again)
{
    rt_idxset set = sized_set();
    rt_error err;
    cr_assert(load_with_cache(&set, "http://127.0.0.1:%P/good/", &err), "%s", err.msg);
    cr_expect_eq(requests(), 4);
    /* Same size, valid gzip and IDX, different labels: before, it loaded. */
    char p[256];
    snprintf(p, sizeof p, "%s/tiny/tr-lb.gz", cache);
    write_file(p, &bad_gz[1]);
    cr_assert(load_with_cache(&set, "http://127.0.0.1:%P/good/", &err), "%s", err.msg);
    cr_expect_eq(requests(), 5, "only the replaced file is fetched again");
    cr_expect_eq(check_cache(), 4);
    /* Third time: the stamps vouch for every file; no request. */
    cr_assert(load_with_cache(&set, "http://127.0.0.1:%P/good/", &err), "%s", err.msg);
    cr_expect_eq(requests(), 5);
}

Test(download, truncated_cached_file_is_fetched_again)
{
    rt_idxset set = sized_set();
    rt_error err;
    cr_assert(load_with_cache(&set, "http://127.0.0.1:%P/good/", &err), "%s", err.msg);
    char p[256];
    snprintf(p, sizeof p, "%s/tiny/tr-im.gz", cache);
    cr_assert_eq(truncate(p, (off_t)good_gz[0].len / 2), 0);
    /* Before: "truncated gzip stream" on every run, never fetched again. */
    cr_assert(load_with_cache(&set, "http://127.0.0.1:%P/good/", &err), "%s", err.msg);
    cr_expect_eq(requests(), 5);
    cr_expect_eq(check_cache(), 4);
}

Test(download, bad_cached_file_and_no_network_says_both)
{
    rt_idxset set = sized_set();
    rt_error err;
    cr_assert(load_with_cache(&set, "http://127.0.0.1:%P/good/", &err), "%s", err.msg);
    char p[256];
    snprintf(p, sizeof p, "%s/tiny/te-lb.gz", cache);
    write_file(p, &bad_gz[3]);
    cr_assert_not(load_with_cache(&set, "http://127.0.0.1:%P/missing/", &err));
    cr_expect(strstr(err.msg, "tiny: the cached copy was bad (") &&
              strstr(err.msg, "te-lb.gz has SHA-256") &&
              strstr(err.msg, "could not be downloaded again"), "%s", err.msg);
}

/* The tiny set's files, good, in root/tiny. */
static void put_set(const char *root)
{
    char dir[256], p[300];
    snprintf(dir, sizeof dir, "%s/tiny", root);
    rt_error err;
    cr_assert(rt_datapath_mkdirs(dir, &err), "%s", err.msg);
    for (int k = 0; k < RT_IDX_NFILES; k++) {
        snprintf(p, sizeof p, "%s/%s.gz", dir, files[k]);
        write_file(p, &good_gz[k]);
    }
}

/* Loads with emptyroot first on the path after `spoil` changed one file of
 * the set there; expects an error naming `what` and no download. */
static void expect_unusable(const char *file, int how, const char *what)
{
    put_set(emptyroot);
    char p[300];
    snprintf(p, sizeof p, "%s/tiny/%s.gz", emptyroot, file);
    unlink(p);
    if (how == 0) cr_assert_eq(mkfifo(p, 0600), 0);
    if (how == 1) cr_assert_eq(mkdir(p, 0700), 0);
    if (how == 2) cr_assert_eq(symlink("/nonexistent/x.gz", p), 0);
    rt_idxset set = tiny_set();
    rt_error err;
    cr_assert_not(load_with_cache(&set, "http://127.0.0.1:%P/good/", &err));
    cr_expect(strstr(err.msg, "tiny: found on the data path but not usable (nothing was "
                              "downloaded): ") && strstr(err.msg, p) && strstr(err.msg, what),
              "%s", err.msg);
    cr_expect_eq(requests(), 0, "downloaded behind the user's back");
}

Test(download, fifo_in_the_set_is_explained_not_downloaded_around)
{
    expect_unusable("tr-lb", 0, "is a FIFO (named pipe), not a regular file");
}

Test(download, directory_in_the_set_is_explained)
{
    expect_unusable("te-im", 1, "is a directory");
}

Test(download, dangling_link_in_the_set_is_explained)
{
    expect_unusable("tr-im", 2, "is a dangling symbolic link");
}

Test(download, stale_temporaries_are_removed)
{
    /* A download killed by SIGTERM leaves .FILE.gz.tmp.PID.N behind. */
    char dir[256], dead[320], old[320], live[320];
    snprintf(dir, sizeof dir, "%s/tiny", cache);
    rt_error err;
    cr_assert(rt_datapath_mkdirs(dir, &err));
    /* A pid that cannot exist (above the kernel's PID_MAX_LIMIT of 2^22). */
    snprintf(dead, sizeof dead, "%s/.tr-im.gz.tmp.%d.1", dir, (1 << 22) + 5);
    snprintf(old, sizeof old, "%s/.tr-lb.gz.tmp.%d.2", dir, (int)getpid());
    snprintf(live, sizeof live, "%s/.te-im.gz.tmp.%d.3", dir, (int)getpid());
    FILE *f;
    cr_assert_not_null(f = fopen(dead, "w")); fclose(f);
    cr_assert_not_null(f = fopen(old, "w")); fclose(f);
    cr_assert_not_null(f = fopen(live, "w")); fclose(f);
    struct timespec two_days_ago[2] = { { time(NULL) - 2 * 86400, 0 }, { time(NULL) - 2 * 86400, 0 } };
    cr_assert_eq(utimensat(AT_FDCWD, old, two_days_ago, 0), 0);
    rt_idxset set = tiny_set();
    cr_assert(load_with_cache(&set, "http://127.0.0.1:%P/good/", &err), "%s", err.msg);
    cr_expect_neq(access(dead, F_OK), 0, "temporary of a dead process kept");
    cr_expect_neq(access(old, F_OK), 0, "day-old temporary kept");
    cr_expect_eq(access(live, F_OK), 0, "a running download's temporary was removed");
    unlink(live);
    cr_expect_eq(check_cache(), 4);
}
