/*
 * rt_error.h — how runtime/ reports a user-facing failure.
 *
 * The runtime never prints and never exits on a user mistake (a malformed
 * file, a shape mismatch, a diverging run): a function that can fail takes an
 * rt_error * and returns false (or NULL) after filling it with one message a
 * person can act on, naming the file/argument and what is wrong. The caller
 * (stdlib/) turns it into a located language error. err may be NULL.
 */
#ifndef MLP_RT_ERROR_H
#define MLP_RT_ERROR_H

#include <stdbool.h>

typedef struct rt_error {
    char msg[512];
    bool io;   /* the file system failed (a write, a rename): the language
                * reports it as an I/O error, exit 74 */
} rt_error;

/* Formats the message into err (if any) and returns false, so a failing
 * path reads `return rt_fail(err, "%s: bad magic 0x%08x", path, m);`. */
bool rt_fail(rt_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* As rt_fail, and marks the failure as the file system's (err->io). */
bool rt_fail_io(rt_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
