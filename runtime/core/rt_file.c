/* rt_file.c — see rt_file.h. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "rt_file.h"

/* ---- reading -------------------------------------------------------------- */

static const char *kind_of(mode_t m)
{
    if (S_ISDIR(m)) return "is a directory";
    if (S_ISFIFO(m)) return "is a FIFO (named pipe), not a regular file";
    if (S_ISCHR(m)) return "is a character device, not a regular file";
    if (S_ISBLK(m)) return "is a block device, not a regular file";
    if (S_ISSOCK(m)) return "is a socket, not a regular file";
    return "is not a regular file";
}

int rt_open_regular(const char *path, int64_t *size, rt_error *err)
{
    /* O_NONBLOCK: opening a FIFO with no writer would otherwise wait. */
    int fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
    if (fd < 0) {
        rt_fail(err, "%s: cannot open: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) != 0) {
        rt_fail(err, "%s: cannot open: %s", path, strerror(errno));
        close(fd);
        return -1;
    }
    if (!S_ISREG(st.st_mode)) {
        rt_fail(err, "%s %s", path, kind_of(st.st_mode));
        close(fd);
        return -1;
    }
    int fl = fcntl(fd, F_GETFL);
    if (fl >= 0) fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
    if (size) *size = (int64_t)st.st_size;
    return fd;
}

/* ---- writing -------------------------------------------------------------- */

/* dir part (with its '/') and base name of path. */
static void split_path(const char *path, size_t *dlen, const char **base)
{
    const char *slash = strrchr(path, '/');
    *dlen = slash ? (size_t)(slash - path) + 1 : 0;
    *base = path + *dlen;
}

bool rt_atomic_open(rt_atomic_file *af, const char *path, rt_error *err)
{
    memset(af, 0, sizeof *af);
    size_t dlen;
    const char *base;
    split_path(path, &dlen, &base);
    if (!*base) return rt_fail(err, "%s: not a file name", path);
    mode_t mode = 0666;
    struct stat st;
    bool had = stat(path, &st) == 0;
    if (had && S_ISDIR(st.st_mode)) return rt_fail_io(err, "%s is a directory", path);
    /* a device, FIFO or socket is not replaced by a file (as root, a rename
     * would put one in place of /dev/full) */
    if (had && !S_ISREG(st.st_mode))
        return rt_fail_io(err, "%s is not a regular file (a device, FIFO or socket)", path);
    if (had) mode = st.st_mode & 07777;
    size_t tlen = strlen(path) + 64;
    af->path = strdup(path);
    af->tmp = malloc(tlen);
    if (!af->path || !af->tmp) {
        rt_atomic_abort(af);
        return rt_fail(err, "%s: out of memory", path);
    }
    static unsigned counter;
    int fd = -1, e = 0;
    for (int attempt = 0; fd < 0 && attempt < 100; attempt++) {
        unsigned n = __atomic_add_fetch(&counter, 1, __ATOMIC_RELAXED);
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        snprintf(af->tmp, tlen, "%.*s.%s.tmp.%ld.%x%lx", (int)dlen, path, base,
                 (long)getpid(), n, (unsigned long)ts.tv_nsec & 0xfffff);
        fd = open(af->tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, had ? 0600 : 0666);
        e = errno;
        if (fd < 0 && e != EEXIST) break;
    }
    if (fd < 0) {
        rt_atomic_abort(af);
        return rt_fail_io(err, "%s: cannot create a temporary file beside it: %s", path,
                       strerror(e));
    }
    if (had) (void)fchmod(fd, mode);
    if (!(af->f = fdopen(fd, "wb"))) {
        e = errno;
        close(fd);
        rt_atomic_abort(af);
        return rt_fail_io(err, "%s: cannot write: %s", path, strerror(e));
    }
    return true;
}

static void release(rt_atomic_file *af)
{
    free(af->path);
    free(af->tmp);
    memset(af, 0, sizeof *af);
}

void rt_atomic_abort(rt_atomic_file *af)
{
    if (af->f) fclose(af->f);
    if (af->tmp && af->tmp[0]) unlink(af->tmp);
    release(af);
}

bool rt_atomic_commit(rt_atomic_file *af, rt_error *err)
{
    if (!af->f) {
        rt_atomic_abort(af);
        return rt_fail(err, "internal error: commit of a file that is not open");
    }
    const char *stage = "write";
    bool ok = !ferror(af->f) && fflush(af->f) == 0;
    int e = errno;
    if (ok && fsync(fileno(af->f)) != 0) ok = false, e = errno, stage = "sync";
    if (fclose(af->f) != 0 && ok) ok = false, e = errno;
    af->f = NULL;
    if (ok && rename(af->tmp, af->path) != 0) ok = false, e = errno, stage = "rename into place";
    if (!ok) {
        rt_fail_io(err, "%s: cannot %s (the old file, if any, is kept): %s", af->path, stage,
                strerror(e ? e : EIO));
        rt_atomic_abort(af);
        return false;
    }
    /* The rename itself is durable once the directory is synced. */
    size_t dlen;
    const char *base;
    split_path(af->path, &dlen, &base);
    char *dir = dlen ? strndup(af->path, dlen) : strdup(".");
    int dfd = dir ? open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
    if (dfd >= 0) {
        (void)fsync(dfd);
        close(dfd);
    }
    free(dir);
    release(af);
    return true;
}

int rt_atomic_clean_stale(const char *path)
{
    size_t dlen;
    const char *base;
    split_path(path, &dlen, &base);
    char *dir = dlen ? strndup(path, dlen) : strdup(".");
    size_t plen = strlen(base) + 7;
    char *prefix = malloc(plen);
    DIR *d = dir && prefix ? opendir(dir) : NULL;
    int removed = 0;
    if (d) {
        snprintf(prefix, plen, ".%s.tmp.", base);
        time_t now = time(NULL);
        struct dirent *e;
        while ((e = readdir(d))) {
            if (strncmp(e->d_name, prefix, plen - 1) != 0) continue;
            char *end;
            long pid = strtol(e->d_name + plen - 1, &end, 10);
            if (*end != '.' || pid <= 0) continue;
            size_t flen = strlen(dir) + strlen(e->d_name) + 2;
            char *full = malloc(flen);
            if (!full) break;
            snprintf(full, flen, "%s%s%s", dir, dlen ? "" : "/", e->d_name);
            struct stat st;
            bool gone = kill((pid_t)pid, 0) != 0 && errno == ESRCH;
            bool old = lstat(full, &st) == 0 && now - st.st_mtime > 24 * 3600;
            if ((gone || old) && unlink(full) == 0) removed++;
            free(full);
        }
        closedir(d);
    }
    free(dir);
    free(prefix);
    return removed;
}
