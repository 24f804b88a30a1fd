/* atomic_file.c — temporary file beside the target, fsync, rename (atomic_file.h). */
#include "atomic_file.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

bool rt_atomic_open(rt_atomic *a, const char *path, rt_error *err)
{
    *a = (rt_atomic){ 0 };
    size_t n = strlen(path);
    a->path = strdup(path);
    a->tmp = malloc(n + 16);
    if (!a->path || !a->tmp) {
        rt_atomic_abort(a);
        return rt_fail(err, "%s: out of memory", path);
    }
    /* ".name.XXXXXX" beside the target: hidden, and in the same folder */
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    snprintf(a->tmp, n + 16, "%.*s.%s.XXXXXX", (int)dir, path, path + dir);
    int fd = mkstemp(a->tmp);
    if (fd < 0) {
        int e = errno;
        free(a->tmp);
        a->tmp = NULL;
        rt_atomic_abort(a);
        return rt_fail(err, "%s: cannot write: %s", path, strerror(e));
    }
    a->f = fdopen(fd, "wb");
    if (!a->f) {
        int e = errno;
        close(fd);
        rt_atomic_abort(a);
        return rt_fail(err, "%s: cannot write: %s", path, strerror(e));
    }
    return true;
}

bool rt_atomic_commit(rt_atomic *a, rt_error *err)
{
    int e = 0;
    if (fflush(a->f) != 0 || ferror(a->f)) e = errno ? errno : EIO;
    else if (fsync(fileno(a->f)) != 0 && errno != EINVAL) e = errno;
    if (fclose(a->f) != 0 && !e) e = errno ? errno : EIO;
    a->f = NULL;
    if (!e && rename(a->tmp, a->path) != 0) e = errno;
    if (e) {
        bool r = rt_fail(err, "%s: cannot write: %s (the old file, if any, is unchanged)",
                         a->path, strerror(e));
        rt_atomic_abort(a);
        return r;
    }
    free(a->tmp);
    free(a->path);
    *a = (rt_atomic){ 0 };
    return true;
}

void rt_atomic_abort(rt_atomic *a)
{
    if (a->f) fclose(a->f);
    if (a->tmp) unlink(a->tmp);
    free(a->tmp);
    free(a->path);
    *a = (rt_atomic){ 0 };
}
