/*
 * io.c — whole text files: read_text(path) and write_text(path, s).
 *
 * Paths are relative to the current directory, as for load_csv and save;
 * here("x") (a core builtin) makes a path relative to the script instead.
 * write_text is atomic: the text goes to a temporary file beside the
 * target (same directory, so the same file system) which is then renamed
 * over it, so a reader sees the old file or the new one, never a half
 * (runtime/core/rt_file.h, shared with save and save_model).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rt_file.h"
#include "std.h"


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
    rt_atomic_file f;
    rt_error err;
    if (!rt_atomic_open(&f, path, &err)) return mlp_raise_io(vm, "write_text: %s", err.msg);
    fwrite(mlp_cstr(a[1]), 1, mlp_strlen(a[1]), f.f);
    if (!rt_atomic_commit(&f, &err)) return mlp_raise_io(vm, "write_text: %s", err.msg);
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
