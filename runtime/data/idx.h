/*
 * idx.h — the IDX file format (MNIST's), and the data sets published in it.
 *
 * An IDX file is a 4-byte magic (0, 0, element type, number of axes), one
 * big-endian uint32 size per axis, then the elements in row-major order.
 * Only unsigned bytes (type 0x08) are read: that is what MNIST and
 * Fashion-MNIST use. Files may be gzip-compressed or plain; zlib's gzread
 * passes plain files through untouched, so both take the same path.
 *
 * The reader trusts nothing: a wrong magic, an element type other than
 * bytes, more axes than a dataset can hold, a file shorter or longer than its
 * header declares, a damaged or truncated gzip stream (zlib's CRC and length
 * checks), and image and label files that disagree on the count each give an
 * rt_error naming the file and the problem. Data are inflated straight into
 * their final buffer in one gzread, so loading costs one pass of inflate and
 * nothing more; the train and test halves of a set load on two threads.
 *
 * The second half is the table of known sets ("mnist", "fashion-mnist"):
 * their file names, the SHA-256 of each file's uncompressed content, class
 * names and default download mirrors. rt_idxset_load finds a set on the
 * search path (datapath.h), downloading and verifying it into the cache when
 * it is nowhere (download.h). Tests pass their own rt_idxset (fixture files,
 * fixture digests, a loopback mirror); rt_mnist_load is the everyday entry.
 *
 * Memory: rt_idx owns `data`; rt_idx_free releases it. Loaded datasets own
 * everything (dataset.h): for MNIST, 47 MB of pixels, the int32 labels and
 * the class names, nothing else.
 */
#ifndef MLP_IDX_H
#define MLP_IDX_H

#include <stdbool.h>
#include <stdint.h>
#include "dataset.h"
#include "datapath.h"
#include "rt_error.h"

/* count axis + up to RT_MAX_DIMS example axes */
#define RT_IDX_MAX_DIMS (RT_MAX_DIMS + 1)

typedef struct rt_idx {
    int ndim;                       /* axes, the first one counts items */
    int64_t dims[RT_IDX_MAX_DIMS];
    uint8_t *data;                  /* product of dims bytes, owned */
} rt_idx;

/* Reads a whole IDX file of bytes (gzip or plain) into *out. */
bool rt_idx_read(const char *path, rt_idx *out, rt_error *err);
void rt_idx_free(rt_idx *idx);

/* Builds a dataset from an image file (n x dims...) and a label file (n),
 * pixels kept as bytes with x_scale 1/255. Labels must be < classes. */
bool rt_idx_load_pair(const char *images, const char *labels, int classes,
                      rt_dataset *out, rt_error *err);

/* ---- the known IDX data sets ---------------------------------------------- */

enum { RT_IDX_TRAIN_IMAGES, RT_IDX_TRAIN_LABELS, RT_IDX_TEST_IMAGES,
       RT_IDX_TEST_LABELS, RT_IDX_NFILES };

typedef struct rt_idxset {
    const char *name;                 /* directory name: "mnist" */
    const char *files[RT_IDX_NFILES]; /* base names without ".gz" */
    const char *sha256[RT_IDX_NFILES];/* hex digest of the uncompressed file */
    int classes;
    const char *const *class_names;   /* `classes` entries */
    const char *const *mirrors;       /* NULL-terminated base URLs serving FILE.gz */
    int64_t sizes[RT_IDX_NFILES];     /* bytes of each uncompressed file; 0: unknown */
} rt_idxset;

/* The built-in description of "mnist" or "fashion-mnist" (also accepted:
 * "fashion_mnist"), or NULL. */
const rt_idxset *rt_idxset_lookup(const char *name);

/* Finds the set's four files in the first directory of dp's search path
 * that has them all (each as FILE.gz or FILE); when none has, downloads the
 * missing ones into dp's cache (mirrors: dp's if it has any, else the
 * set's), verifying each against set->sha256 before it is kept. Then loads
 * train and test.
 *
 * Files found in the cache are mlp's own and are checked again before use:
 * their size (the gzip trailer's for FILE.gz) against set->sizes, and their
 * SHA-256 unless a stamp beside the file (.FILE.gz.sha256: digest, size,
 * mtime and inode at the last check) says this very file was verified. A
 * cached file that fails is deleted and downloaded again. Files on the rest
 * of the path are the user's and are used as they are.
 *
 * When no root has the set but one holds something in its place that
 * cannot be used (a FIFO, a directory, a dangling link, an unreadable file
 * or folder), that is an error saying what was found; nothing is
 * downloaded behind it. */
bool rt_idxset_load(const rt_idxset *set, const rt_datapath *dp,
                    rt_dataset *train, rt_dataset *test, rt_error *err);

/* rt_idxset_load of a built-in set with the search path from the
 * environment (rt_datapath_from_env). kind: "mnist" or "fashion-mnist". */
bool rt_mnist_load(const char *kind, rt_dataset *train, rt_dataset *test,
                   rt_error *err);

#endif
