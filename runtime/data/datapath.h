/*
 * datapath.h — where data sets are looked for, and where downloads go.
 *
 * A data set called NAME (e.g. "mnist") lives in a directory NAME under one
 * of the search roots, tried in this order (DESIGN.md, Data):
 *
 *   1. each entry of $MLP_DATA_PATH (colon-separated), e.g.
 *      $MLP_DATA_PATH=../shared/data finds ../shared/data/mnist/...;
 *   2. ./data;
 *   3. the user cache: $XDG_CACHE_HOME/mlp, else $HOME/.cache/mlp;
 *   4. /usr/share/datasets, where Debian's dataset-fashion-mnist package
 *      installs /usr/share/datasets/fashion-mnist/FILE.gz, so that set is
 *      found with no configuration.
 *
 * Within a directory a file F is accepted as F.gz or F (gzip preferred, the
 * form the sets are published in). When no directory has a set, it is
 * downloaded into the cache root (3); the mirrors are $MLP_DATA_MIRRORS
 * (space-separated base URLs; "{name}" in one is replaced by NAME) when set,
 * else each set's built-in list.
 *
 * $MLP_DOWNLOAD_STALL and $MLP_DOWNLOAD_TIMEOUT (whole seconds; anything
 * else is an error) set the download limits of download.h.
 *
 * An rt_datapath is a plain value the caller owns: rt_datapath_from_env
 * fills one from the environment (read once, here, and nowhere else in the
 * data code), tests build their own with rt_datapath_add. Every string in it
 * is malloc'd and released by rt_datapath_free.
 */
#ifndef MLP_DATAPATH_H
#define MLP_DATAPATH_H

#include <stdbool.h>
#include "download.h"
#include "rt_error.h"

typedef struct rt_datapath {
    char **roots;              /* search roots, in order; NAME is appended */
    int nroots;
    char *cache;               /* download root (cache/NAME), or NULL: no downloads */
    char **mirrors;            /* override of the sets' mirrors, or NULL */
    int nmirrors;
    rt_download_opts download; /* progress reporting, timeouts */
} rt_datapath;

/* The search path, cache and mirrors described above, with a progress bar on
 * stderr when stderr is a terminal. */
bool rt_datapath_from_env(rt_datapath *dp, rt_error *err);
/* Appends a search root (copied). */
bool rt_datapath_add(rt_datapath *dp, const char *root, rt_error *err);
/* Replaces the mirror list by the space-separated base URLs in `list`. */
bool rt_datapath_set_mirrors(rt_datapath *dp, const char *list, rt_error *err);
/* Sets the cache root (copied; NULL disables downloads). */
bool rt_datapath_set_cache(rt_datapath *dp, const char *cache, rt_error *err);
void rt_datapath_free(rt_datapath *dp);

/* The path of file F in dir (dir/F.gz, else dir/F), malloc'd, or NULL when
 * neither is a readable regular file. */
char *rt_datapath_resolve(const char *dir, const char *file);
/* The first root/NAME that has every file of files[0..nfiles), malloc'd, or
 * NULL. */
char *rt_datapath_find(const rt_datapath *dp, const char *name,
                       const char *const *files, int nfiles);
/* Why no root has a usable root/NAME: for each root where NAME exists, what
 * was found there and why it was not used ("… is a FIFO (named pipe), not
 * a regular file", "… is a dangling symbolic link", "… cannot be read:
 * Permission denied", "… has no FILE(.gz)"), "; "-separated into buf.
 * Returns true when something exists but cannot be used (as opposed to
 * files that are simply missing): a set a person put there and that mlp
 * must not quietly download a second copy of. */
bool rt_datapath_explain(const rt_datapath *dp, const char *name, const char *const *files,
                         int nfiles, char *buf, size_t cap);
/* Creates dir and its parents (mode 0755) when missing. */
bool rt_datapath_mkdirs(const char *dir, rt_error *err);
/* Joins a and b with one '/', malloc'd (NULL when out of memory). */
char *rt_path_join(const char *a, const char *b);

#endif
