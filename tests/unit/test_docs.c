/*
 * test_docs.c — lang/LANGUAGE.md's tables of optimizers, activations and
 * layers are the runtime's tables: the text between each pair of markers
 * must be what rt_optim_markdown / rt_act_markdown / rt_layer_markdown
 * make now, and every name in the
 * tables must appear in the file. `make docs` rewrites the blocks (this
 * test with MLP_UPDATE_DOCS=1) after a row is added or changed.
 */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "activations.h"
#include "layer_spec.h"
#include "optimizers.h"

static const char *const DOC = "lang/LANGUAGE.md";

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    cr_assert(f, "cannot open %s (run the unit tests from the repository root)", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *s = malloc((size_t)n + 1);
    cr_assert(s && fread(s, 1, (size_t)n, f) == (size_t)n);
    s[n] = '\0';
    fclose(f);
    return s;
}

/* Checks (or, with MLP_UPDATE_DOCS=1, rewrites) the block named `what`. */
static void check_block(const char *what, char *want)
{
    cr_assert(want, "out of memory");
    char begin[96], end[96];
    snprintf(begin, sizeof begin, "<!-- begin generated: %s (make docs) -->\n", what);
    snprintf(end, sizeof end, "<!-- end generated: %s -->\n", what);
    char *doc = slurp(DOC);
    char *b = strstr(doc, begin), *e = b ? strstr(b, end) : NULL;
    cr_assert(b && e, "%s: no \"%s\" ... \"%s\" markers", DOC, begin, end);
    char *have = b + strlen(begin);
    bool same = (size_t)(e - have) == strlen(want) && memcmp(have, want, strlen(want)) == 0;
    const char *update = getenv("MLP_UPDATE_DOCS");
    if (!same && update && strcmp(update, "1") == 0) {
        FILE *f = fopen(DOC, "wb");
        cr_assert(f);
        fwrite(doc, 1, (size_t)(have - doc), f);
        fputs(want, f);
        fputs(e, f);
        cr_assert(fclose(f) == 0);
        same = true;
    }
    cr_expect(same, "%s: the %s table differs from the runtime's (run `make docs`); it should be:\n%s",
              DOC, what, want);
    free(doc);
    free(want);
}

Test(docs, language_md_tables)
{
    check_block("optimizers", rt_optim_markdown());
    check_block("activations", rt_act_markdown());
    check_block("layers", rt_layer_markdown());
}

Test(docs, language_md_names_every_row)
{
    char *doc = slurp(DOC);
    char needle[80];
    for (int i = 0; i < rt_optim_count(); i++) {
        snprintf(needle, sizeof needle, "| `%s` |", rt_optim_table_name(i));
        cr_expect(strstr(doc, needle), "%s does not list the optimizer %s", DOC, rt_optim_table_name(i));
    }
    for (int a = 0; a < RT_ACT_COUNT; a++) {
        snprintf(needle, sizeof needle, "| `%s` |", rt_act_get((rt_act)a)->name);
        cr_expect(strstr(doc, needle), "%s does not list the activation %s", DOC, rt_act_get((rt_act)a)->name);
    }
    for (int k = 0; k < RT_LAYER_COUNT; k++) {
        snprintf(needle, sizeof needle, "| `%s` |", rt_layer_kind_name((rt_layer_kind)k));
        cr_expect(strstr(doc, needle), "%s does not list the layer %s", DOC,
                  rt_layer_kind_name((rt_layer_kind)k));
    }
    free(doc);
}
