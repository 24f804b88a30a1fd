/*
 * tables_doc.c — the optimizer and activation tables as Markdown, for
 * lang/LANGUAGE.md. The text is made from the tables themselves (through
 * the public accessors), so the docs list exactly what the runtime has:
 * `make docs` writes it between the markers in LANGUAGE.md and the unit
 * test docs/language_md_tables fails when the two differ.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "activations.h"
#include "optimizers.h"

/* s with '|' escaped, so it can sit in a table cell */
static void cell(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '|') fputc('\\', f);
        fputc(*s, f);
    }
}

/* "lr=0.01, momentum=0, nesterov=false": describe without name and dialect */
static void hypers_text(FILE *f, const rt_optim *o)
{
    for (int h = 0; h < rt_optim_nhypers(o); h++) {
        double v = rt_optim_hyper_value(o, h);
        if (rt_optim_hyper_is_bool(o, h))
            fprintf(f, "%s%s=%s", h ? ", " : "", rt_optim_hyper_name(o, h), v != 0 ? "true" : "false");
        else
            fprintf(f, "%s%s=%g", h ? ", " : "", rt_optim_hyper_name(o, h), v);
    }
}

char *rt_optim_markdown(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    fprintf(f, "| optimizer | what it is | keras defaults (the default dialect) | torch defaults |\n"
               "|---|---|---|---|\n");
    for (int i = 0; i < rt_optim_count(); i++) {
        fprintf(f, "| `%s` | ", rt_optim_table_name(i));
        cell(f, rt_optim_table_doc(i));
        fputs(" |", f);
        for (int d = 0; d < RT_DIALECT_COUNT; d++) {
            rt_error err;
            rt_optim *o = rt_optim_table_has(i, (rt_dialect)d)
                              ? rt_optim_create(rt_optim_table_name(i), rt_dialect_name((rt_dialect)d), &err)
                              : NULL;
            fputc(' ', f);
            if (o) hypers_text(f, o);
            else fputs("(none)", f);
            fputs(" |", f);
            rt_optim_free(o);
        }
        fputc('\n', f);
    }
    /* every (name, meaning) pair once, with the rows that use it */
    fprintf(f, "\n| hyperparameter | meaning | in |\n|---|---|---|\n");
    enum { MAXPAIRS = 256 };
    const char *seen_name[MAXPAIRS], *seen_doc[MAXPAIRS];
    int nseen = 0;
    for (int i = 0; i < rt_optim_count(); i++)
        for (int d = 0; d < RT_DIALECT_COUNT; d++) {
            if (!rt_optim_table_has(i, (rt_dialect)d)) continue;
            rt_error err;
            rt_optim *o = rt_optim_create(rt_optim_table_name(i), rt_dialect_name((rt_dialect)d), &err);
            for (int h = 0; o && h < rt_optim_nhypers(o); h++) {
                const char *hn = rt_optim_hyper_name(o, h), *hd = rt_optim_hyper_doc(o, h);
                bool dup = false;
                for (int s = 0; s < nseen && !dup; s++)
                    dup = strcmp(seen_name[s], hn) == 0 && strcmp(seen_doc[s], hd) == 0;
                if (dup || nseen == MAXPAIRS) continue;
                seen_name[nseen] = hn;   /* static strings of the table */
                seen_doc[nseen++] = hd;
            }
            rt_optim_free(o);
        }
    for (int s = 0; s < nseen; s++) {
        fprintf(f, "| `%s` | ", seen_name[s]);
        cell(f, seen_doc[s]);
        fputs(" |", f);
        const char *sep = " ";
        for (int i = 0; i < rt_optim_count(); i++) {
            bool in[RT_DIALECT_COUNT] = {false}, all = true, any = false;
            for (int d = 0; d < RT_DIALECT_COUNT; d++) {
                rt_error err;
                rt_optim *o = rt_optim_table_has(i, (rt_dialect)d)
                                  ? rt_optim_create(rt_optim_table_name(i), rt_dialect_name((rt_dialect)d), &err)
                                  : NULL;
                for (int h = 0; o && h < rt_optim_nhypers(o); h++)
                    if (strcmp(rt_optim_hyper_name(o, h), seen_name[s]) == 0 &&
                        strcmp(rt_optim_hyper_doc(o, h), seen_doc[s]) == 0)
                        in[d] = true;
                all = all && in[d];
                any = any || in[d];
                rt_optim_free(o);
            }
            if (!any) continue;
            fprintf(f, "%s%s", sep, rt_optim_table_name(i));
            if (!all)
                for (int d = 0; d < RT_DIALECT_COUNT; d++)
                    if (in[d]) fprintf(f, " (%s)", rt_dialect_name((rt_dialect)d));
            sep = ", ";
        }
        fputs(" |\n", f);
    }
    fclose(f);
    return text;
}

char *rt_act_markdown(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    fprintf(f, "| activation | parameters (defaults) | f(x) |\n|---|---|---|\n");
    for (int a = 0; a < RT_ACT_COUNT; a++) {
        const rt_act_info *info = rt_act_get((rt_act)a);
        fprintf(f, "| `%s` | ", info->name);
        int np = rt_act_nparams((rt_act)a);
        if (np == 0) fputs("none", f);
        for (int i = 0; i < np; i++) {
            fprintf(f, "%s`%s=%g`: ", i ? "; " : "", info->params[i].name, (double)info->params[i].value);
            cell(f, info->params[i].doc);
        }
        fputs(" | ", f);
        cell(f, info->doc);
        fputs(" |\n", f);
    }
    fclose(f);
    return text;
}
