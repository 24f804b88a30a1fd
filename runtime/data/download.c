/* download.c — see download.h. */
#include <curl/curl.h>
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <zlib.h>
#include "download.h"
#include "dynlib.h"
#include "rt_file.h"

/* Opened at the first download or digest (dynlib.h). */
#define CURL_FUNCS(X) X(curl_easy_cleanup) X(curl_easy_init) X(curl_easy_perform) \
    X(curl_easy_setopt) X(curl_easy_strerror) X(curl_global_cleanup) X(curl_global_init)
RT_DYNLIB_DEFINE(curl, "libcurl.so.4", "libcurl (downloads)", CURL_FUNCS);
#define CRYPTO_FUNCS(X) X(EVP_MD_CTX_new) X(EVP_DigestInit_ex) X(EVP_sha256) \
    X(EVP_DigestUpdate) X(EVP_DigestFinal_ex) X(EVP_MD_CTX_free)
RT_DYNLIB_DEFINE(crypto, "libcrypto.so.3", "libcrypto (SHA-256)", CRYPTO_FUNCS);

/* ---- digests --------------------------------------------------------------- */

bool rt_sha256_content(const char *path, char hex[65], rt_error *err)
{
    return rt_sha256_content_max(path, 0, hex, err);
}

bool rt_sha256_content_max(const char *path, int64_t max_bytes, char hex[65], rt_error *err)
{
    hex[0] = '\0';
    if (!rt_dynlib_load(&crypto_lib, err)) return false;
    int fd = rt_open_regular(path, NULL, err);
    if (fd < 0) return false;
    gzFile f = gzdopen(fd, "rb");
    if (!f) {
        close(fd);
        return rt_fail(err, "%s: cannot open: out of memory", path);
    }
    EVP_MD_CTX *ctx = (crypto_api.EVP_MD_CTX_new)();
    enum { CHUNK = 1 << 18 };
    unsigned char *buf = malloc(CHUNK);
    bool ok = ctx && buf && (crypto_api.EVP_DigestInit_ex)(ctx, crypto_api.EVP_sha256(), NULL) == 1;
    if (!ok) rt_fail(err, "%s: cannot start SHA-256 (out of memory?)", path);
    int r = 0;
    int64_t total = 0;
    while (ok && (r = gzread(f, buf, CHUNK)) > 0) {
        total += r;
        if (max_bytes > 0 && total > max_bytes) {
            ok = rt_fail(err, "%s: content longer than the %lld bytes it should have",
                         path, (long long)max_bytes);
            break;
        }
        ok = (crypto_api.EVP_DigestUpdate)(ctx, buf, (size_t)r) == 1;
    }
    if (ok && r < 0) {
        /* zlib caught a damaged archive: bad data, a CRC or length mismatch
         * in the trailer, or a stream that ends early. */
        int zerr;
        const char *msg = gzerror(f, &zerr);
        size_t plen = strlen(path);   /* zlib prefixes the path: drop it */
        if (strncmp(msg, path, plen) == 0 && strncmp(msg + plen, ": ", 2) == 0) msg += plen + 2;
        if (strncmp(msg, "<fd:", 4) == 0 && strstr(msg, ">: ")) msg = strstr(msg, ">: ") + 3;
        ok = rt_fail(err, "%s: damaged gzip stream: %s", path,
                     zerr == Z_ERRNO ? strerror(errno) : msg);
    }
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;
    if (ok && (crypto_api.EVP_DigestFinal_ex)(ctx, md, &mdlen) != 1)
        ok = rt_fail(err, "%s: SHA-256 failed", path);
    for (unsigned i = 0; ok && i < mdlen && i < 32; i++)
        snprintf(hex + 2 * i, 3, "%02x", md[i]);
    (crypto_api.EVP_MD_CTX_free)(ctx);
    free(buf);
    gzclose(f);
    return ok;
}

/* ---- progress ---------------------------------------------------------------- */

void rt_download_tty_progress(void *ctx, const char *url, int64_t done, int64_t total)
{
    (void)ctx;
    const char *name = strrchr(url, '/');
    name = name && name[1] ? name + 1 : url;
    if (total > 0) {
        int pct = (int)(done * 100 / total), bar = pct * 30 / 100;
        fprintf(stderr, "\rdownloading %s [%.*s%*s] %3d%% %.1f/%.1f MB", name, bar,
                "##############################", 30 - bar, "", pct,
                (double)done / 1e6, (double)total / 1e6);
    } else {
        fprintf(stderr, "\rdownloading %s %.1f MB", name, (double)done / 1e6);
    }
    if (total > 0 && done >= total) fputc('\n', stderr);
    fflush(stderr);
}

/* State of one transfer: the temp file and progress throttling (the bar is
 * redrawn at most every 1% or 256 kB, not on every libcurl tick). */
typedef struct transfer {
    FILE *out;
    bool write_failed;
    bool too_big;                 /* more than opts->max_bytes arrived */
    bool cancelled;               /* opts->cancelled said stop */
    int64_t received;
    const rt_download_opts *opts;
    const char *url;
    int64_t last;
} transfer;

/* libcurl's write callback: straight to the temporary file, with no
 * buffering of our own (stdio's buffer is enough). */
static size_t on_data(char *data, size_t size, size_t nmemb, void *arg)
{
    transfer *t = arg;
    size_t n = size * nmemb;
    t->received += (int64_t)n;
    if (t->opts->max_bytes > 0 && t->received > t->opts->max_bytes) {
        t->too_big = true;
        return 0;
    }
    if (fwrite(data, 1, n, t->out) != n) {
        t->write_failed = true;
        return 0;   /* makes libcurl stop with CURLE_WRITE_ERROR */
    }
    return n;
}

static int on_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
                       curl_off_t ultotal, curl_off_t ulnow)
{
    (void)ultotal, (void)ulnow;
    transfer *t = arg;
    /* libcurl calls this about once a second even while no data flows, so
     * an interrupt stops a stalled transfer too. */
    if (t->opts->cancelled && t->opts->cancelled(t->opts->cancel_ctx)) {
        t->cancelled = true;
        return 1;   /* CURLE_ABORTED_BY_CALLBACK */
    }
    if (!t->opts->progress) return 0;
    int64_t step = dltotal > 0 ? dltotal / 100 : 0;
    if (step < (1 << 18)) step = 1 << 18;
    bool finished = dltotal > 0 && dlnow >= dltotal;
    if (dlnow > 0 && (dlnow - t->last >= step || (finished && t->last != dlnow))) {
        t->last = dlnow;
        t->opts->progress(t->opts->progress_ctx, t->url, dlnow, dltotal > 0 ? dltotal : -1);
    }
    return 0;
}

/* Fetches url into the open file out; on failure writes the reason. */
static bool fetch(const char *url, FILE *out, const rt_download_opts *opts,
                  char *reason, size_t rlen, bool *interrupted)
{
    CURL *c = (curl_api.curl_easy_init)();
    if (!c) {
        snprintf(reason, rlen, "cannot start libcurl");
        return false;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    transfer t = { out, false, false, false, 0, opts, url, 0 };
    (curl_api.curl_easy_setopt)(c, CURLOPT_URL, url);
    (curl_api.curl_easy_setopt)(c, CURLOPT_ERRORBUFFER, errbuf);
    (curl_api.curl_easy_setopt)(c, CURLOPT_FOLLOWLOCATION, 1L);
    (curl_api.curl_easy_setopt)(c, CURLOPT_MAXREDIRS, 10L);
    (curl_api.curl_easy_setopt)(c, CURLOPT_FAILONERROR, 1L);      /* HTTP >= 400 is an error */
    (curl_api.curl_easy_setopt)(c, CURLOPT_NOSIGNAL, 1L);         /* safe in threads */
    (curl_api.curl_easy_setopt)(c, CURLOPT_USERAGENT, "mlp/1 (+libcurl)");
    (curl_api.curl_easy_setopt)(c, CURLOPT_CONNECTTIMEOUT,
                     opts->connect_timeout_s > 0 ? opts->connect_timeout_s : 15L);
    /* A mirror slower than low_speed_bytes/s for stall_timeout_s is given
     * up on (a trickle of a few bytes a second would otherwise take days),
     * and no transfer outlives timeout_s. */
    long low = opts->low_speed_bytes > 0 ? opts->low_speed_bytes : RT_DOWNLOAD_LOW_SPEED;
    long stall = opts->stall_timeout_s > 0 ? opts->stall_timeout_s : RT_DOWNLOAD_STALL_S;
    long total = opts->timeout_s > 0 ? opts->timeout_s : RT_DOWNLOAD_TIMEOUT_S;
    (curl_api.curl_easy_setopt)(c, CURLOPT_LOW_SPEED_LIMIT, low);
    (curl_api.curl_easy_setopt)(c, CURLOPT_LOW_SPEED_TIME, stall);
    (curl_api.curl_easy_setopt)(c, CURLOPT_TIMEOUT, total);
    if (opts->max_bytes > 0)
        (curl_api.curl_easy_setopt)(c, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)opts->max_bytes);
    (curl_api.curl_easy_setopt)(c, CURLOPT_WRITEFUNCTION, on_data);
    (curl_api.curl_easy_setopt)(c, CURLOPT_WRITEDATA, &t);
    (curl_api.curl_easy_setopt)(c, CURLOPT_XFERINFOFUNCTION, on_progress);
    (curl_api.curl_easy_setopt)(c, CURLOPT_XFERINFODATA, &t);
    (curl_api.curl_easy_setopt)(c, CURLOPT_NOPROGRESS, 0L);
    CURLcode rc = (curl_api.curl_easy_perform)(c);
    if (rc == CURLE_OK && fflush(out) != 0) t.write_failed = true;
    if (t.cancelled)
        snprintf(reason, rlen, "interrupted");
    else if (t.too_big || rc == CURLE_FILESIZE_EXCEEDED)
        snprintf(reason, rlen, "larger than the %lld bytes the file can be",
                 (long long)opts->max_bytes);
    else if (rc == CURLE_OPERATION_TIMEDOUT && strstr(errbuf, "too slow") != NULL)
        snprintf(reason, rlen, "too slow: under %ld bytes/s for %ld s", low, stall);
    else if (rc == CURLE_OPERATION_TIMEDOUT)
        snprintf(reason, rlen, "timed out after %ld s (%s)", total,
                 errbuf[0] ? errbuf : (curl_api.curl_easy_strerror)(rc));
    else if (t.write_failed)
        snprintf(reason, rlen, "cannot write the temporary file: %s", strerror(errno));
    else if (rc != CURLE_OK)
        snprintf(reason, rlen, "%s", errbuf[0] ? errbuf : (curl_api.curl_easy_strerror)(rc));
    (curl_api.curl_easy_cleanup)(c);
    if (t.cancelled && interrupted) *interrupted = true;
    return rc == CURLE_OK && !t.write_failed;
}

/* ---- the verified download ----------------------------------------------------- */

/* Appends "URL (reason)" to the list of attempts. */
static void note_attempt(char *tried, size_t cap, const char *url, const char *reason)
{
    size_t n = strlen(tried);
    if (n < cap)
        snprintf(tried + n, cap - n, "%s%s (%s)", n ? ", " : "", url, reason);
}

bool rt_download_verified(const char *const *urls, int nurls, const char *dest,
                          const char *sha256_hex, const rt_download_opts *opts,
                          rt_error *err)
{
    static const rt_download_opts defaults = { 0 };
    if (!opts) opts = &defaults;
    if (!sha256_hex || strlen(sha256_hex) != 64)
        return rt_fail(err, "%s: no valid SHA-256 digest to verify the download against", dest);
    if (nurls <= 0) return rt_fail(err, "%s: no URL to download from", dest);

    /* The temporary file sits next to dest (same file system, so rename is
     * atomic) and starts with '.', so a half-written file never has the name
     * a search looks for (rt_file.h). Temporaries of a process that was
     * killed are removed first. */
    rt_atomic_clean_stale(dest);
    if (!rt_dynlib_load(&curl_lib, err) || !rt_dynlib_load(&crypto_lib, err)) return false;
    if ((curl_api.curl_global_init)(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return rt_fail(err, "%s: cannot initialise libcurl", dest);

    char tried[2048] = "";
    bool done = false, interrupted = false;
    for (int u = 0; u < nurls && !done && !interrupted; u++) {
        char reason[640] = "";   /* holds an rt_error message or a curl one */
        rt_atomic_file af;
        rt_error e;
        if (!rt_atomic_open(&af, dest, &e)) {
            (curl_api.curl_global_cleanup)();
            return rt_fail(err, "%s", e.msg);
        }
        bool ok = fetch(urls[u], af.f, opts, reason, sizeof reason, &interrupted);
        if (ok && fflush(af.f) != 0) {
            snprintf(reason, sizeof reason, "cannot write the temporary file: %s",
                     strerror(errno));
            ok = false;
        }
        char got[65];
        if (ok && !rt_sha256_content_max(af.tmp, opts->content_bytes, got, &e)) {
            /* e names the temporary file, which is about to vanish: keep
             * only zlib's part of the message. */
            const char *colon = strstr(e.msg, ": ");
            snprintf(reason, sizeof reason, "%s", colon ? colon + 2 : e.msg);
            ok = false;
        }
        if (ok && strcasecmp(got, sha256_hex) != 0) {
            snprintf(reason, sizeof reason, "SHA-256 mismatch: got %.16s..., expected %.16s...",
                     got, sha256_hex);
            ok = false;
        }
        if (ok && !rt_atomic_commit(&af, &e)) {
            snprintf(reason, sizeof reason, "%s", e.msg);
            ok = false;
        }
        if (!ok) {
            rt_atomic_abort(&af);   /* no-op after a failed commit */
            note_attempt(tried, sizeof tried, urls[u], reason);
        }
        done = ok;
    }
    (curl_api.curl_global_cleanup)();
    if (interrupted) return rt_fail(err, "%s: download interrupted", dest);
    if (!done) return rt_fail(err, "%s: tried: %s", dest, tried);
    return true;
}
