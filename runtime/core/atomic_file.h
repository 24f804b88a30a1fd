/*
 * atomic_file.h — writing a file so that a reader sees the old contents or
 * the new, never a mix, and a failure loses nothing.
 *
 * rt_atomic_open creates a temporary file beside the target (same folder,
 * so the rename cannot cross file systems) and returns it open for
 * writing; rt_atomic_commit flushes, fsyncs and checks it, then renames it
 * over the target; rt_atomic_abort (or a failed commit) removes it. A full
 * disk or any write error therefore leaves the old file untouched.
 */
#ifndef MLP_ATOMIC_FILE_H
#define MLP_ATOMIC_FILE_H

#include <stdbool.h>
#include <stdio.h>
#include "rt_error.h"

typedef struct rt_atomic {
    FILE *f;
    char *path;      /* the target */
    char *tmp;       /* the temporary beside it */
} rt_atomic;

bool rt_atomic_open(rt_atomic *a, const char *path, rt_error *err);
bool rt_atomic_commit(rt_atomic *a, rt_error *err);
void rt_atomic_abort(rt_atomic *a);

#endif
