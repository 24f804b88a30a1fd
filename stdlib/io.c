/*
 * io.c — whole text files: read_text(path) and write_text(path, s).
 *
 * Paths are relative to the current directory, as for load_csv and save;
 * here("x") (a core builtin) makes a path relative to the script instead.
 * write_text is atomic: the text goes to a temporary file beside the
 * target (same directory, so the same file system) which is then renamed
 * over it, so a reader sees the old file or the new one, never a half.
 * (The runtime is getting one shared atomic-write helper; until then this
 * file has its own, write_atomic below.)
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "std.h"

/* Writes n bytes to path through "<dir>/.<name>.XXXXXX" and rename(2).
 * On failure returns false with a reason in why. */
static bool write_atomic(const char *path, const char *data, size_t n, char *why, size_t whylen)
{
    size_t plen = strlen(path);
    char *tmp = malloc(plen + 16);
    if (!tmp) {
        snprintf(why, whylen, "out of memory");
        return false;
    }
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    memcpy(tmp, path, dir);
    snprintf(tmp + dir, plen + 16 - dir, ".%s.XXXXXX", path + dir);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        snprintf(why, whylen, "%s", strerror(errno));
        free(tmp);
        return false;
    }
    bool ok = true;
    for (size_t done = 0; ok && done < n;) {
        ssize_t w = write(fd, data + done, n - done);
        if (w < 0 && errno == EINTR) continue;
        if (w < 0) ok = false;
        else done += (size_t)w;
    }
    if (ok && fsync(fd) != 0) ok = false;
    if (!ok) snprintf(why, whylen, "%s", strerror(errno));
    if (close(fd) != 0 && ok) {
        ok = false;
        snprintf(why, whylen, "%s", strerror(errno));
    }
    if (ok && rename(tmp, path) != 0) {
        ok = false;
        snprintf(why, whylen, "%s", strerror(errno));
    }
    if (!ok) unlink(tmp);
    free(tmp);
    return ok;
}

static bool n_read_text(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const char *path;
    if (!std_str_arg(vm, "read_text", "path", a[0], &path)) return false;
    FILE *f = fopen(path, "rb");
    if (!f) return mlp_raise(vm, "read_text: cannot read '%s': %s", path, strerror(errno));
    char *buf = NULL;
    size_t len = 0, cap = 0;
    for (;;) {
        if (len == cap) {
            cap = cap ? cap * 2 : 65536;
            char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return mlp_raise(vm, "read_text: '%s' is too large", path);
            }
            buf = nb;
        }
        size_t got = fread(buf + len, 1, cap - len, f);
        len += got;
        if (got == 0) break;
    }
    bool bad = ferror(f);
    int err = errno;
    fclose(f);
    if (bad) {
        free(buf);
        return mlp_raise(vm, "read_text: cannot read '%s': %s", path, strerror(err));
    }
    *out = mlp_string(vm, buf ? buf : "", len);
    free(buf);
    return true;
}

static bool n_write_text(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const char *path;
    if (!std_str_arg(vm, "write_text", "path", a[0], &path)) return false;
    if (!mlp_is_string(a[1]))
        return mlp_raise(vm, "write_text: argument 's' must be a string, got %s", mlp_type_name(a[1]));
    char why[256];
    if (!write_atomic(path, mlp_cstr(a[1]), mlp_strlen(a[1]), why, sizeof why))
        return mlp_raise(vm, "write_text: cannot write '%s': %s", path, why);
    return true;
}

static const mlp_native natives[] = {
    { "read_text", "path", n_read_text, "read_text(path): the whole file as a string" },
    { "write_text", "path, s", n_write_text,
      "write_text(path, s): replace the file with s, atomically (temporary file + rename)" },
};

bool std_open_io(mlp_vm *vm)
{
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]);
}
