/*
 * rt_file.h — opening input files safely and replacing output files
 * atomically: the two file-system habits every loader and writer shares.
 *
 * Reading: rt_open_regular opens a path only when it names a regular file
 * (after following links). A FIFO would block the open or the read forever,
 * a character device such as /dev/zero never ends, a directory reads as
 * nothing: each is refused with a message saying what the path is instead.
 * The open itself is non-blocking, so even a FIFO with no writer returns at
 * once.
 *
 * Writing: an rt_atomic_file is a temporary file beside the destination
 * (same directory, so the same file system) named ".NAME.tmp.PID.N"; the
 * caller writes through `f`, then rt_atomic_commit flushes, fsyncs and
 * renames it over NAME. Until the rename NAME keeps its old content, and any
 * failure (a full disk, a write error, a failed fsync or rename) removes the
 * temporary and leaves NAME untouched. Readers therefore see either the old
 * file or the whole new one, never a partial write. The new file keeps the
 * old one's permission bits when there was one (else 0666 minus the umask).
 *
 * A process killed between open and commit leaves its temporary behind;
 * rt_atomic_clean_stale(NAME) removes the temporaries of NAME whose process
 * is gone or that are over a day old (so a long-running writer in another
 * process is left alone). Downloads (download.h), save() and later writers
 * all go through here.
 *
 * Memory: an rt_atomic_file owns its two path strings and its FILE until
 * commit or abort, which release everything (both are safe to call once on
 * a zeroed struct).
 */
#ifndef MLP_RT_FILE_H
#define MLP_RT_FILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include "rt_error.h"

/* A read-only descriptor of path when it is a regular file, its size in
 * *size (may be NULL); -1 with err set otherwise ("is a directory",
 * "is a FIFO (named pipe), not a regular file", ...). */
int rt_open_regular(const char *path, int64_t *size, rt_error *err);

typedef struct rt_atomic_file {
    FILE *f;        /* write here */
    char *path;     /* the destination */
    char *tmp;      /* the temporary beside it (readable before commit) */
} rt_atomic_file;

/* Creates the temporary for path. */
bool rt_atomic_open(rt_atomic_file *af, const char *path, rt_error *err);
/* Flushes, fsyncs and renames the temporary over the destination; on any
 * failure removes the temporary, keeps the old file and says why. Releases
 * af either way. */
bool rt_atomic_commit(rt_atomic_file *af, rt_error *err);
/* Removes the temporary and releases af (the destination is untouched). */
void rt_atomic_abort(rt_atomic_file *af);

/* Removes leftover temporaries of path (see above); returns how many. */
int rt_atomic_clean_stale(const char *path);

#endif
