/*
 * test_file.c — rt_file.h: regular-file opens (FIFOs and devices refused
 * without blocking) and the atomic replace every writer uses (the old file
 * survives any failure; no temporary is left behind).
 */
#include <criterion/criterion.h>
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>
#include "rt_file.h"

static char tmpdir[64];

static int rm_entry(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
    (void)sb, (void)flag, (void)ftw;
    return remove(p);
}

static void setup(void)
{
    strcpy(tmpdir, "/tmp/mlp-file-XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

static void teardown(void) { nftw(tmpdir, rm_entry, 16, FTW_DEPTH | FTW_PHYS); }

TestSuite(file, .init = setup, .fini = teardown);

static char *tpath(const char *name)
{
    static char buf[2][256];
    static int k;
    char *p = buf[k++ % 2];
    snprintf(p, 256, "%s/%s", tmpdir, name);
    return p;
}

static void write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fputs(text, f);
    fclose(f);
}

static char *read_text(const char *path)
{
    static char buf[4096];
    FILE *f = fopen(path, "r");
    if (!f) return NULL;
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = '\0';
    fclose(f);
    return buf;
}

/* Entries of tmpdir other than `keep`. */
static int others(const char *keep)
{
    DIR *d = opendir(tmpdir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, keep)) n++;
    closedir(d);
    return n;
}

Test(file, open_regular_says_what_the_path_is)
{
    rt_error err;
    int64_t size = -1;
    write_text(tpath("f"), "hello");
    int fd = rt_open_regular(tpath("f"), &size, &err);
    cr_assert_geq(fd, 0, "%s", err.msg);
    cr_expect_eq(size, 5);
    cr_expect_eq(fcntl(fd, F_GETFL) & O_NONBLOCK, 0, "left non-blocking");
    close(fd);
    cr_assert_eq(mkfifo(tpath("p"), 0600), 0);
    cr_expect_lt(rt_open_regular(tpath("p"), NULL, &err), 0);
    cr_expect(strstr(err.msg, "is a FIFO (named pipe), not a regular file"), "%s", err.msg);
    cr_expect_lt(rt_open_regular("/dev/null", NULL, &err), 0);
    cr_expect_str_eq(err.msg, "/dev/null is a character device, not a regular file");
    cr_expect_lt(rt_open_regular(tmpdir, NULL, &err), 0);
    cr_expect(strstr(err.msg, "is a directory"), "%s", err.msg);
    cr_expect_lt(rt_open_regular(tpath("none"), NULL, &err), 0);
    cr_expect(strstr(err.msg, "cannot open: No such file or directory"), "%s", err.msg);
}

Test(file, commit_replaces_and_keeps_the_mode)
{
    write_text(tpath("r.csv"), "old\n");
    cr_assert_eq(chmod(tpath("r.csv"), 0640), 0);
    rt_atomic_file af;
    rt_error err;
    cr_assert(rt_atomic_open(&af, tpath("r.csv"), &err), "%s", err.msg);
    fputs("new\n", af.f);
    /* Until the commit the old content is what a reader sees. */
    cr_expect_str_eq(read_text(tpath("r.csv")), "old\n");
    cr_expect_eq(strncmp(strrchr(af.tmp, '/'), "/.r.csv.tmp.", 12), 0, "%s", af.tmp);
    cr_assert(rt_atomic_commit(&af, &err), "%s", err.msg);
    cr_expect_str_eq(read_text(tpath("r.csv")), "new\n");
    struct stat st;
    cr_assert_eq(stat(tpath("r.csv"), &st), 0);
    cr_expect_eq(st.st_mode & 0777, 0640);
    cr_expect_eq(others("r.csv"), 0, "a temporary was left");
    cr_expect_null(af.tmp);
}

Test(file, abort_keeps_the_old_file)
{
    write_text(tpath("r.csv"), "old\n");
    rt_atomic_file af;
    rt_error err;
    cr_assert(rt_atomic_open(&af, tpath("r.csv"), &err), "%s", err.msg);
    fputs("partial", af.f);
    rt_atomic_abort(&af);
    cr_expect_str_eq(read_text(tpath("r.csv")), "old\n");
    cr_expect_eq(others("r.csv"), 0);
}

Test(file, write_error_keeps_the_old_file)
{
    /* A file-size limit makes the writes fail as a full disk would. */
    write_text(tpath("r.csv"), "old\n");
    signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim = { 1000, 1000 };
    cr_assert_eq(setrlimit(RLIMIT_FSIZE, &lim), 0);
    rt_atomic_file af;
    rt_error err;
    cr_assert(rt_atomic_open(&af, tpath("r.csv"), &err), "%s", err.msg);
    for (int i = 0; i < 1000; i++) fputs("0123456789\n", af.f);
    cr_assert_not(rt_atomic_commit(&af, &err));
    cr_expect(strstr(err.msg, "r.csv: cannot write (the old file, if any, is kept): File too "
                              "large"), "%s", err.msg);
    cr_expect_str_eq(read_text(tpath("r.csv")), "old\n");
    cr_expect_eq(others("r.csv"), 0, "a temporary was left");
}

Test(file, no_directory_and_directory_targets)
{
    rt_atomic_file af;
    rt_error err;
    cr_assert_not(rt_atomic_open(&af, tpath("nodir/r.csv"), &err));
    cr_expect(strstr(err.msg, "cannot create a temporary file beside it: No such file"), "%s",
              err.msg);
    cr_assert_not(rt_atomic_open(&af, tmpdir, &err));
    cr_expect(strstr(err.msg, "is a directory"), "%s", err.msg);
}

Test(file, clean_stale_removes_only_dead_or_old_temporaries)
{
    char dead[300], mine[300], other[300];
    snprintf(dead, sizeof dead, "%s/.x.gz.tmp.%d.1", tmpdir, (1 << 22) + 7);
    snprintf(mine, sizeof mine, "%s/.x.gz.tmp.%d.2", tmpdir, (int)getpid());
    snprintf(other, sizeof other, "%s/.y.gz.tmp.%d.3", tmpdir, (1 << 22) + 7);
    write_text(dead, "");
    write_text(mine, "");
    write_text(other, "");
    cr_expect_eq(rt_atomic_clean_stale(tpath("x.gz")), 1);
    cr_expect_neq(access(dead, F_OK), 0);
    cr_expect_eq(access(mine, F_OK), 0, "a live process's temporary was removed");
    cr_expect_eq(access(other, F_OK), 0, "another file's temporary was removed");
}
