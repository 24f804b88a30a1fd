/* datapath.c — see datapath.h. */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "datapath.h"
#include "rt_file.h"

/* No separator is doubled ("/x/" + "y" is "/x/y") and an empty a gives b
 * unchanged, so roots may be written with or without a trailing slash. */
char *rt_path_join(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    bool slash = la > 0 && a[la - 1] != '/';
    char *p = malloc(la + lb + 2);
    if (!p) return NULL;
    memcpy(p, a, la);
    if (slash) p[la++] = '/';
    memcpy(p + la, b, lb + 1);
    return p;
}

/* Appends a copy of s[0..len) to a malloc'd array of strings. */
static bool push(char ***list, int *n, const char *s, size_t len)
{
    char **grown = realloc(*list, (size_t)(*n + 1) * sizeof *grown);
    if (!grown) return false;
    *list = grown;
    char *copy = strndup(s, len);
    if (!copy) return false;
    grown[(*n)++] = copy;
    return true;
}

bool rt_datapath_add(rt_datapath *dp, const char *root, rt_error *err)
{
    if (!push(&dp->roots, &dp->nroots, root, strlen(root)))
        return rt_fail(err, "data path: out of memory");
    return true;
}

bool rt_datapath_set_cache(rt_datapath *dp, const char *cache, rt_error *err)
{
    free(dp->cache);
    dp->cache = NULL;
    if (cache && !(dp->cache = strdup(cache)))
        return rt_fail(err, "data path: out of memory");
    return true;
}

/* Any run of spaces, tabs or newlines separates URLs, so a value pasted
 * from a shell script with stray whitespace still parses. */
bool rt_datapath_set_mirrors(rt_datapath *dp, const char *list, rt_error *err)
{
    for (int i = 0; i < dp->nmirrors; i++) free(dp->mirrors[i]);
    free(dp->mirrors);
    dp->mirrors = NULL;
    dp->nmirrors = 0;
    for (const char *p = list; p && *p;) {
        p += strspn(p, " \t\n");
        size_t len = strcspn(p, " \t\n");
        if (len && !push(&dp->mirrors, &dp->nmirrors, p, len))
            return rt_fail(err, "data path: out of memory");
        p += len;
    }
    return true;
}

void rt_datapath_free(rt_datapath *dp)
{
    for (int i = 0; i < dp->nroots; i++) free(dp->roots[i]);
    free(dp->roots);
    for (int i = 0; i < dp->nmirrors; i++) free(dp->mirrors[i]);
    free(dp->mirrors);
    free(dp->cache);
    memset(dp, 0, sizeof *dp);
}

bool rt_datapath_from_env(rt_datapath *dp, rt_error *err)
{
    memset(dp, 0, sizeof *dp);
    bool ok = true;
    /* 1. MLP_DATA_PATH, colon-separated; empty entries are skipped. */
    const char *env = getenv("MLP_DATA_PATH");
    for (const char *p = env; ok && p && *p;) {
        size_t len = strcspn(p, ":");
        if (len) ok = push(&dp->roots, &dp->nroots, p, len);
        p += len;
        if (*p == ':') p++;
    }
    /* 2. ./data: relative on purpose, so a project directory's data/ folder
     * is found from wherever the script runs. */
    ok = ok && push(&dp->roots, &dp->nroots, "data", 4);
    /* 3. the cache: $XDG_CACHE_HOME/mlp, else ~/.cache/mlp (XDG base
     * directory spec: a relative XDG_CACHE_HOME is invalid and ignored). */
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (xdg && xdg[0] == '/') dp->cache = rt_path_join(xdg, "mlp");
    else if (home && home[0]) dp->cache = rt_path_join(home, ".cache/mlp");
    if (dp->cache) ok = ok && push(&dp->roots, &dp->nroots, dp->cache, strlen(dp->cache));
    /* 4. where Debian's dataset-* packages install */
    ok = ok && push(&dp->roots, &dp->nroots, "/usr/share/datasets", 19);
    if (!ok) {
        rt_datapath_free(dp);
        return rt_fail(err, "data path: out of memory");
    }
    if (!rt_datapath_set_mirrors(dp, getenv("MLP_DATA_MIRRORS"), err)) {
        rt_datapath_free(dp);
        return false;
    }
    /* Download limits (download.h): whole seconds, checked, not ignored. */
    static const struct { const char *name; size_t off; } limits[] = {
        { "MLP_DOWNLOAD_TIMEOUT", offsetof(rt_download_opts, timeout_s) },
        { "MLP_DOWNLOAD_STALL", offsetof(rt_download_opts, stall_timeout_s) },
    };
    for (size_t i = 0; i < sizeof limits / sizeof *limits; i++) {
        const char *v = getenv(limits[i].name);
        if (!v) continue;
        char *end;
        errno = 0;
        long secs = strtol(v, &end, 10);
        if (end == v || *end || errno || secs < 1 || secs > 7 * 86400) {
            rt_datapath_free(dp);
            return rt_fail(err, "%s must be a whole number of seconds from 1 to 604800, "
                           "got '%s'", limits[i].name, v);
        }
        *(long *)((char *)&dp->download + limits[i].off) = secs;
    }
    /* A bar only for a person watching: in a pipe or a log it would be
     * noise (and "\r" garbage). */
    if (isatty(STDERR_FILENO)) dp->download.progress = rt_download_tty_progress;
    return true;
}

/* A readable regular file (a directory called F.gz does not count). */
static bool is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, R_OK) == 0;
}

char *rt_datapath_resolve(const char *dir, const char *file)
{
    size_t lf = strlen(file);
    char *gz = malloc(lf + 4);
    if (!gz) return NULL;
    memcpy(gz, file, lf);
    memcpy(gz + lf, ".gz", 4);
    char *p = rt_path_join(dir, gz);
    free(gz);
    if (p && is_file(p)) return p;
    free(p);
    p = rt_path_join(dir, file);
    if (p && is_file(p)) return p;
    free(p);
    return NULL;
}

/* A root with only some of the files (an interrupted copy, a half-filled
 * cache) is passed over rather than chosen and failed on: a complete copy
 * further down the path is better than an error. */
char *rt_datapath_find(const rt_datapath *dp, const char *name,
                       const char *const *files, int nfiles)
{
    for (int r = 0; r < dp->nroots; r++) {
        char *dir = rt_path_join(dp->roots[r], name);
        if (!dir) return NULL;
        bool all = true;
        for (int k = 0; all && k < nfiles; k++) {
            char *p = rt_datapath_resolve(dir, files[k]);
            all = p != NULL;
            free(p);
        }
        if (all) return dir;
        free(dir);
    }
    return NULL;
}

bool rt_datapath_mkdirs(const char *dir, rt_error *err)
{
    if (!dir[0]) return rt_fail(err, "cannot create a directory with an empty name");
    char *p = strdup(dir);
    if (!p) return rt_fail(err, "%s: out of memory", dir);
    /* Create each prefix in turn; EEXIST along the way is fine. */
    for (char *s = p + 1;; s++) {
        if (*s != '/' && *s != '\0') continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0755) != 0 && errno != EEXIST) {
            int e = errno;
            bool r = rt_fail(err, "cannot create directory %s: %s", p, strerror(e));
            free(p);
            return r;
        }
        *s = c;
        if (c == '\0') break;
    }
    free(p);
    struct stat st;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode))
        return rt_fail(err, "%s exists and is not a directory", dir);
    return true;
}

/* ---- why a set was not found ------------------------------------------------ */

/* Appends text to buf (cap bytes), "; "-separated. */
static void note(char *buf, size_t cap, const char *text)
{
    size_t n = strlen(buf);
    if (n + 1 < cap) snprintf(buf + n, cap - n, "%s%s", n ? "; " : "", text);
}

/* What is wrong with an existing path that is not a usable file, or NULL
 * when it is usable; *exists says whether anything is there at all. */
static const char *file_problem(const char *path, bool *exists, char *why, size_t cap)
{
    struct stat st;
    *exists = lstat(path, &st) == 0;
    if (!*exists) return NULL;
    if (stat(path, &st) != 0) {
        snprintf(why, cap, "%s is a dangling symbolic link", path);
        return why;
    }
    rt_error e;
    int fd = rt_open_regular(path, NULL, &e);
    if (fd >= 0) {
        close(fd);
        return NULL;
    }
    snprintf(why, cap, "%s", e.msg);
    return why;
}

bool rt_datapath_explain(const rt_datapath *dp, const char *name, const char *const *files,
                         int nfiles, char *buf, size_t cap)
{
    buf[0] = '\0';
    bool broken = false;
    char why[600];
    for (int r = 0; r < dp->nroots; r++) {
        char *dir = rt_path_join(dp->roots[r], name);
        if (!dir) break;
        struct stat st;
        if (lstat(dir, &st) != 0) {   /* nothing there: the usual case */
            free(dir);
            continue;
        }
        const char *problem = NULL;
        if (stat(dir, &st) != 0) problem = "is a dangling symbolic link";
        else if (!S_ISDIR(st.st_mode)) problem = "is not a directory";
        else if (access(dir, R_OK | X_OK) != 0) problem = strerror(errno);
        if (problem) {
            snprintf(why, sizeof why, "%s %s%s", dir,
                     problem[0] == 'i' ? "" : "cannot be read: ", problem);
            note(buf, cap, why);
            broken = true;
            free(dir);
            continue;
        }
        for (int k = 0; k < nfiles; k++) {
            size_t lf = strlen(files[k]);
            char *gzname = malloc(lf + 4);
            if (!gzname) break;
            memcpy(gzname, files[k], lf);
            memcpy(gzname + lf, ".gz", 4);
            char *paths[2] = { rt_path_join(dir, gzname), rt_path_join(dir, files[k]) };
            free(gzname);
            bool any = false, usable = false;
            const char *first = NULL;
            char w[2][600];
            for (int v = 0; v < 2 && paths[v]; v++) {
                bool exists;
                const char *p = file_problem(paths[v], &exists, w[v], sizeof w[v]);
                any = any || exists;
                if (exists && !p) usable = true;
                if (p && !first) first = p;
            }
            if (!usable && first) {
                note(buf, cap, first);
                broken = true;
            } else if (!any) {
                snprintf(why, sizeof why, "%s has no %s(.gz)", dir, files[k]);
                note(buf, cap, why);
            }
            free(paths[0]);
            free(paths[1]);
        }
        free(dir);
    }
    return broken;
}
