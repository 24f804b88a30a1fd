/*
 * download.h — fetching a file over HTTP(S) so that only a verified copy is
 * ever kept.
 *
 * rt_download_verified tries a list of URLs in order. Each attempt writes to a
 * fresh temporary file in the destination's own directory (so the final
 * rename is atomic on the same file system), checks its SHA-256, and only
 * then renames it over the destination; a failed attempt (connection
 * refused, HTTP error, connection dropped midway, wrong digest) deletes its
 * temporary file and moves on. Whatever happens, dest is either absent or a
 * file whose digest matched: a cache never holds a bad file, and two
 * processes downloading at once each rename a complete file.
 *
 * What the digest covers: the *uncompressed* content. Data sets are served
 * gzip-compressed, but the digests one can rely on are those of the
 * uncompressed files (MNIST's train-images digest is the one published for
 * the original file; gzip archives get recompressed by mirrors and distros,
 * so their bytes differ while the content does not). rt_sha256_content
 * therefore hashes what gzread yields: the inflated content of a gzip file
 * (whose own CRC-32 and length trailer zlib checks on the way) or the bytes
 * of a plain one. A truncated or corrupted archive fails either zlib's
 * checks or the digest.
 *
 * A transfer is bounded: a mirror that trickles (under low_speed_bytes/s for
 * stall_timeout_s), one that takes longer than timeout_s in all, or one that
 * sends more than max_bytes (what the file can be) is given up on, and a
 * cancel callback (Ctrl-C) stops it within a second. Temporaries left by a
 * killed process are cleaned up before the next download (rt_file.h).
 *
 * No global state of ours; libcurl's global init is reference-counted by
 * libcurl itself. Progress is reported through a callback (the CLI installs
 * rt_download_tty_progress when stderr is a terminal); the downloader itself
 * never prints.
 */
#ifndef MLP_DOWNLOAD_H
#define MLP_DOWNLOAD_H

#include <stdbool.h>
#include <stdint.h>
#include "rt_error.h"

/* Called now and then during a transfer; total is -1 when unknown. */
typedef void (*rt_progress_fn)(void *ctx, const char *url, int64_t done, int64_t total);

/* Polled about once a second during a transfer; true stops it. */
typedef bool (*rt_cancel_fn)(void *ctx);

/* Defaults for the limits below (a zero field means the default). */
#define RT_DOWNLOAD_LOW_SPEED 1024     /* bytes/s ... */
#define RT_DOWNLOAD_STALL_S   30       /* ... for this long: too slow */
#define RT_DOWNLOAD_TIMEOUT_S 1800     /* no transfer takes longer */

typedef struct rt_download_opts {
    rt_progress_fn progress;   /* NULL: silent */
    void *progress_ctx;
    rt_cancel_fn cancelled;    /* NULL: never (e.g. Ctrl-C in the CLI) */
    void *cancel_ctx;
    long connect_timeout_s;    /* 0: 15 s */
    long low_speed_bytes;      /* slower than this (bytes/s) ... */
    long stall_timeout_s;      /* ... for this long aborts the transfer */
    long timeout_s;            /* the whole transfer, connecting included */
    int64_t max_bytes;         /* more bytes than this is an error; 0: no cap */
    int64_t content_bytes;     /* the content must be this long; 0: unknown */
} rt_download_opts;

/* Downloads the first of urls[0..nurls) that yields content with SHA-256
 * sha256_hex (64 lowercase or uppercase hex digits) to dest. On failure the
 * error lists every URL tried with its reason. opts may be NULL. */
bool rt_download_verified(const char *const *urls, int nurls, const char *dest,
                          const char *sha256_hex, const rt_download_opts *opts,
                          rt_error *err);

/* SHA-256 of a file's content as gzread yields it (inflated if gzip), as 64
 * lowercase hex digits plus NUL. */
bool rt_sha256_content(const char *path, char hex[65], rt_error *err);
/* The same, failing once the content passes max_bytes (> 0), so a small
 * archive that inflates without end is not read to its end. */
bool rt_sha256_content_max(const char *path, int64_t max_bytes, char hex[65],
                           rt_error *err);

/* A one-line progress bar on stderr ("\r" redrawn; ctx unused). */
void rt_download_tty_progress(void *ctx, const char *url, int64_t done, int64_t total);

#endif
