/*
 * test_csv.c — the CSV loader on small files written by the tests: numeric
 * and string labels, quoting, CRLF, blank lines, and every error message
 * with its line number.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "csv.h"

static char path[64];

static void write_csv(const char *text)
{
    if (path[0]) unlink(path);
    strcpy(path, "/tmp/mlp-csv-XXXXXX");
    int fd = mkstemp(path);
    cr_assert(fd >= 0);
    cr_assert_eq(write(fd, text, strlen(text)), (ssize_t)strlen(text));
    close(fd);
}

static void cleanup(void) { if (path[0]) unlink(path); }

TestSuite(csv, .fini = cleanup);

/* Loads text; on failure returns the message in err. */
static bool load(const char *text, const char *label, rt_dataset *ds, rt_error *err)
{
    write_csv(text);
    return rt_csv_load(path, label, ds, err);
}

Test(csv, string_labels_in_order_of_appearance)
{
    rt_dataset ds;
    rt_error err;
    cr_assert(load("x1,species,x2\n"
                   "1.5,virginica,2\n"
                   "-3,setosa,4e1\n"
                   " 0.25 , virginica , -0\n", "species", &ds, &err), "%s", err.msg);
    cr_expect_eq(ds.n, 3);
    cr_expect_eq(ds.features, 2);
    cr_expect_eq(ds.shape.dims[0], 2);
    const float want[6] = { 1.5f, 2.0f, -3.0f, 40.0f, 0.25f, -0.0f };
    for (int i = 0; i < 6; i++) cr_expect_float_eq(ds.x_f32[i], want[i], 0);
    cr_expect_eq(ds.classes, 2);
    cr_expect_eq(ds.labels[0], 0);
    cr_expect_eq(ds.labels[1], 1);
    cr_expect_eq(ds.labels[2], 0);
    cr_expect_str_eq(ds.class_names[0], "virginica");
    cr_expect_str_eq(ds.class_names[1], "setosa");
    rt_dataset_free(&ds);
}

Test(csv, integer_labels_are_class_indices)
{
    rt_dataset ds;
    rt_error err;
    cr_assert(load("a,b,y\r\n1,2,3\r\n\r\n4,5,0\r\n7,8,3", "y", &ds, &err), "%s", err.msg);
    cr_expect_eq(ds.n, 3);
    cr_expect_eq(ds.classes, 4);   /* largest label + 1 */
    cr_expect_null(ds.class_names);
    cr_expect_eq(ds.labels[0], 3);
    cr_expect_eq(ds.labels[1], 0);
    cr_expect_float_eq(ds.x_f32[5], 8.0f, 0);
    rt_dataset_free(&ds);
}

Test(csv, negative_or_fractional_labels_are_names_when_asked)
{
    rt_dataset ds;
    rt_error err;
    write_csv("x,y\n1,-1\n2,1\n3,-1\n");
    cr_assert(rt_csv_load_labels(path, "y", RT_CSV_LABELS_NAMES, &ds, &err), "%s", err.msg);
    cr_expect_eq(ds.classes, 2);
    cr_expect_str_eq(ds.class_names[0], "-1");
    cr_expect_eq(ds.labels[2], 0);
    rt_dataset_free(&ds);
    /* Without the mode, -1 next to 1 is an error, not a silent renaming. */
    cr_assert_not(rt_csv_load(path, "y", &ds, &err));
    cr_expect(strstr(err.msg, ":3: label '1' is a class index, but the label on line 2 "
                     "('-1') is a name; pass labels=\"names\""), "%s", err.msg);
}

Test(csv, one_stray_label_is_an_error_naming_its_row)
{
    /* Before: "1" and "2" silently became classes 0 and 1 of three names. */
    rt_dataset ds;
    rt_error err;
    cr_assert_not(load("x,y\n1,1\n2,2\n\n3,n/a\n4,1\n", "y", &ds, &err));
    cr_expect(strstr(err.msg, ":5: label 'n/a' is not a class index (a whole number "
                     "0..65535), but the label on line 2 ('1') is one"), "%s", err.msg);
    cr_expect_null(ds.labels);
    /* Index mode names the row too. */
    write_csv("x,y\n1,1\n2,70000\n");
    cr_assert_not(rt_csv_load_labels(path, "y", RT_CSV_LABELS_INDEX, &ds, &err));
    cr_expect(strstr(err.msg, ":3: label '70000' is not a class index"), "%s", err.msg);
    /* Names mode: "1" is class 0 because it comes first, as asked. */
    write_csv("x,y\n1,1\n2,0\n3,1\n");
    cr_assert(rt_csv_load_labels(path, "y", RT_CSV_LABELS_NAMES, &ds, &err), "%s", err.msg);
    cr_expect_eq(ds.labels[0], 0);
    cr_expect_eq(ds.labels[1], 1);
    cr_expect_str_eq(ds.class_names[0], "1");
    rt_dataset_free(&ds);
}

Test(csv, float32_max_accepted_hex_refused)
{
    rt_dataset ds;
    rt_error err;
    cr_assert(load("a,b\n3.4028235e38,-3.4028235e38\n", NULL, &ds, &err), "%s", err.msg);
    cr_expect_eq(ds.x_f32[0], 0x1.fffffep127f);
    cr_expect_eq(ds.x_f32[1], -0x1.fffffep127f);
    rt_dataset_free(&ds);
    /* The first value that rounds past FLT_MAX (halfway to 2^128). */
    cr_assert_not(load("a\n3.40282357e38\n", NULL, &ds, &err));
    cr_expect(strstr(err.msg, "not a finite float32: '3.40282357e38'"), "%s", err.msg);
    cr_assert_not(load("a,b\n1,0x10\n", NULL, &ds, &err));
    cr_expect(strstr(err.msg, ":2: column 'b': not a decimal number: '0x10'"), "%s", err.msg);
    cr_assert_not(load("a\n0x1p3\n", NULL, &ds, &err));
    cr_expect(strstr(err.msg, "not a decimal number"), "%s", err.msg);
    cr_assert(load("a,b,c,d\n.5,5.,+1e-3,-0E+2\n", NULL, &ds, &err), "%s", err.msg);
    cr_expect_float_eq(ds.x_f32[0], 0.5f, 0);
    cr_expect_float_eq(ds.x_f32[1], 5.0f, 0);
    cr_expect_float_eq(ds.x_f32[2], 0.001f, 0);
    rt_dataset_free(&ds);
}

Test(csv, only_regular_files)
{
    rt_dataset ds;
    rt_error err;
    char fifo[64];
    strcpy(fifo, "/tmp/mlp-csv-fifo-XXXXXX");
    cr_assert_not_null(mkdtemp(fifo));
    strcat(fifo, "/f");
    cr_assert_eq(mkfifo(fifo, 0600), 0);
    /* Before the fix: blocked forever in open(). */
    cr_assert_not(rt_csv_load(fifo, NULL, &ds, &err));
    cr_expect(strstr(err.msg, "is a FIFO (named pipe), not a regular file"), "%s", err.msg);
    unlink(fifo);
    *strrchr(fifo, '/') = '\0';
    rmdir(fifo);
    /* Before the fix: read until memory ran out. */
    cr_assert_not(rt_csv_load("/dev/zero", NULL, &ds, &err));
    cr_expect_str_eq(err.msg, "/dev/zero is a character device, not a regular file");
}

Test(csv, no_label_column)
{
    rt_dataset ds;
    rt_error err;
    cr_assert(load("a,b\n1,2\n3,4\n", NULL, &ds, &err), "%s", err.msg);
    cr_expect_eq(ds.features, 2);
    cr_expect_eq(ds.classes, 0);
    cr_expect_null(ds.labels);
    rt_dataset_free(&ds);
}

Test(csv, quoted_fields)
{
    rt_dataset ds;
    rt_error err;
    cr_assert(load("\"x, the first\",label\n\"1.25\",\"say \"\"hi\"\"\"\n2,\"a,b\"\n", "label",
                   &ds, &err), "%s", err.msg);
    cr_expect_eq(ds.n, 2);
    cr_expect_float_eq(ds.x_f32[0], 1.25f, 0);
    cr_expect_str_eq(ds.class_names[0], "say \"hi\"");
    cr_expect_str_eq(ds.class_names[1], "a,b");
    rt_dataset_free(&ds);
}

Test(csv, wrong_field_count_names_the_line)
{
    rt_dataset ds;
    rt_error err;
    char want[128];
    cr_assert_not(load("a,b,c,d,e\n1,2,3,4,5\n\n1,2,3,4\n", NULL, &ds, &err));
    snprintf(want, sizeof want, "%s:4: expected 5 fields, got 4", path);
    cr_expect_str_eq(err.msg, want);
    cr_expect_null(ds.x_f32);
}

Test(csv, not_a_number_names_line_and_column)
{
    rt_dataset ds;
    rt_error err;
    char want[128];
    cr_assert_not(load("x1,x2\n1,2\n3,abc\n", NULL, &ds, &err));
    snprintf(want, sizeof want, "%s:3: column 'x2': not a number: 'abc'", path);
    cr_expect_str_eq(err.msg, want);
    cr_assert_not(load("x1,x2\n1,\n", NULL, &ds, &err));
    snprintf(want, sizeof want, "%s:2: column 'x2': not a number: ''", path);
    cr_expect_str_eq(err.msg, want);
    cr_assert_not(load("x1,x2\n1,2x\n", NULL, &ds, &err));
    cr_expect(strstr(err.msg, "not a number: '2x'"), "%s", err.msg);
}

Test(csv, non_finite_values)
{
    rt_dataset ds;
    rt_error err;
    cr_assert_not(load("x\nnan\n", NULL, &ds, &err));
    cr_expect(strstr(err.msg, ":2: column 'x': not a finite float32: 'nan'"), "%s", err.msg);
    cr_assert_not(load("x\n1e39\n", NULL, &ds, &err));
    cr_expect(strstr(err.msg, "not a finite float32: '1e39'"), "%s", err.msg);
}

Test(csv, missing_label_column_lists_columns)
{
    rt_dataset ds;
    rt_error err;
    char want[160];
    cr_assert_not(load("a,b,c\n1,2,3\n", "species", &ds, &err));
    snprintf(want, sizeof want, "%s: no column 'species' in the header (columns: a, b, c)", path);
    cr_expect_str_eq(err.msg, want);
}

Test(csv, structural_errors)
{
    rt_dataset ds;
    rt_error err;
    cr_assert_not(load("", NULL, &ds, &err));
    cr_expect(strstr(err.msg, "empty file"), "%s", err.msg);
    cr_assert_not(load("a,b\n\n", NULL, &ds, &err));
    cr_expect(strstr(err.msg, "no data rows"), "%s", err.msg);
    cr_assert_not(load("a,b\n\"1,2\n", NULL, &ds, &err));
    cr_expect(strstr(err.msg, ":2: unterminated quoted field"), "%s", err.msg);
    cr_assert_not(load("y\n1\n", "y", &ds, &err));
    cr_expect(strstr(err.msg, "no feature columns"), "%s", err.msg);
    cr_expect_not(rt_csv_load("/nonexistent/data.csv", NULL, &ds, &err));
    cr_expect(strstr(err.msg, "/nonexistent/data.csv: cannot open"), "%s", err.msg);
}

Test(csv, many_rows_and_classes)
{
    /* 5000 rows, labels "c0".."c99" cycling: exercises growth and the hash. */
    char *text = malloc(5000 * 32 + 16);
    size_t n = (size_t)sprintf(text, "v,k\n");
    for (int i = 0; i < 5000; i++) n += (size_t)sprintf(text + n, "%d,c%d\n", i, (i * 37) % 100);
    rt_dataset ds;
    rt_error err;
    cr_assert(load(text, "k", &ds, &err), "%s", err.msg);
    free(text);
    cr_expect_eq(ds.n, 5000);
    cr_expect_eq(ds.classes, 100);
    for (int i = 0; i < 5000; i++) {
        cr_expect_float_eq(ds.x_f32[i], (float)i, 0);
        char want[8];
        snprintf(want, sizeof want, "c%d", (i * 37) % 100);
        cr_expect_str_eq(ds.class_names[ds.labels[i]], want);
    }
    rt_dataset_free(&ds);
}
