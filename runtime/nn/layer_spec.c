/*
 * layer_spec.c — the fields of each layer kind (layer_spec.h says what
 * every column means and who reads it).
 */
#include "layer_spec.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define OFF(member) ((int)offsetof(rt_layer_spec, member))
#define BOTH(x) { (x), (x) }

/* The size limits of the stdlib's arguments: a dense layer of at most 2^24
 * units, an input of at most 2^30 values per example (each size, and
 * their product). */
#define MAX_UNITS (double)(1L << 24)
#define MAX_INPUT (double)(1L << 30)

static const rt_layer_field flatten_fields[] = {
    { .name = "input", .key = "input", .type = RT_LF_SHAPE, .offset = OFF(in_shape),
      .flags = RT_LF_NOPRINT, .lo = 1, .hi = MAX_INPUT, .example = "[28, 28]",
      .doc = "the shape of one example" },
};

static const rt_layer_field dense_fields[] = {
    { .name = "units", .key = "units", .type = RT_LF_INT, .offset = OFF(units),
      .flags = RT_LF_REQUIRED | RT_LF_POSITIONAL, .lo = 1, .hi = MAX_UNITS,
      .doc = "output features" },
    { .name = "act", .key = "activation", .type = RT_LF_ACT, .offset = OFF(act),
      .flags = RT_LF_POSITIONAL, .def = BOTH(RT_ACT_LINEAR),
      .doc = "the activation applied to x W + b" },
    { .name = "init", .key = "init", .type = RT_LF_INIT, .offset = OFF(init),
      .flags = RT_LF_NOPRINT, .def = { RT_INIT_GLOROT_UNIFORM, RT_INIT_TORCH_LINEAR },
      .doc = "how the kernel starts (layers.h gives each rule)" },
    { .name = "input", .key = "input", .type = RT_LF_SHAPE, .offset = -1,
      .flags = RT_LF_NOPRINT | RT_LF_NODOC, .lo = 1, .hi = MAX_INPUT, .example = "[28, 28]",
      .doc = "the shape of one example, on the first layer (the model's input width)" },
    { .name = "l1", .key = "l1", .type = RT_LF_FLOAT, .offset = OFF(l1),
      .flags = RT_LF_OMIT_ZERO, .def = BOTH(0), .lo = 0, .hi = INFINITY, .hi_open = true,
      .range = "0 (none) or positive", .doc = "adds l1 * sum |w| of the kernel to the loss" },
    { .name = "l2", .key = "l2", .type = RT_LF_FLOAT, .offset = OFF(l2),
      .flags = RT_LF_OMIT_ZERO, .def = BOTH(0), .lo = 0, .hi = INFINITY, .hi_open = true,
      .range = "0 (none) or positive", .doc = "adds l2 * sum w^2 of the kernel to the loss" },
};

static const rt_layer_field batchnorm_fields[] = {
    { .name = "momentum", .key = "momentum", .type = RT_LF_FLOAT, .offset = OFF(momentum),
      .def = { 0.99, 0.1 }, .lo = 0, .hi = 1, .range = "in [0, 1]",
      .doc = "keras: the weight of the old moving statistics; torch: of the new batch" },
    { .name = "eps", .key = "eps", .type = RT_LF_FLOAT, .offset = OFF(eps),
      .def = { 0.001, 1e-5 }, .lo = 0, .lo_open = true, .hi = INFINITY, .range = "positive",
      .doc = "added to the variance before its square root" },
    { .name = "dialect", .key = "torch", .type = RT_LF_DIALECT, .offset = OFF(torch),
      .flags = RT_LF_OMIT_ZERO | RT_LF_NODOC,
      .doc = "\"torch\": PyTorch's BatchNorm1d (unbiased moving variance)" },
};

static const rt_layer_field dropout_fields[] = {
    { .name = "rate", .key = "rate", .type = RT_LF_FLOAT, .offset = OFF(rate),
      .flags = RT_LF_REQUIRED | RT_LF_POSITIONAL | RT_LF_PRINT_G9, .lo = 0, .hi = 1,
      .hi_open = true, .range = "in [0, 1)", .doc = "the fraction of units zeroed while training" },
};

static const char flatten_doc[] = "flattens each example; input gives the shape of one example";
static const char dense_doc[] =
    "a fully connected layer; l1, l2 penalise its kernel (added to the loss)";
static const char batchnorm_doc[] = "batch normalisation";
static const char dropout_doc[] = "inverted dropout while training";

static const struct {
    const char *name, *doc;
    const rt_layer_field *fields;
    int nfields;
} kinds[RT_LAYER_COUNT] = {
#define RT_LAYER_SPEC_ROW(tag, kname, fn) \
    [RT_LAYER_##tag] = { kname, fn##_doc, fn##_fields, \
                         (int)(sizeof fn##_fields / sizeof fn##_fields[0]) },
    RT_LAYER_KINDS(RT_LAYER_SPEC_ROW)
#undef RT_LAYER_SPEC_ROW
};

#define RT_LAYER_SPEC_SIZE(tag, kname, fn) \
    _Static_assert(sizeof fn##_fields / sizeof fn##_fields[0] <= RT_LAYER_MAX_FIELDS, \
                   kname " has more than RT_LAYER_MAX_FIELDS fields");
RT_LAYER_KINDS(RT_LAYER_SPEC_SIZE)
#undef RT_LAYER_SPEC_SIZE

const rt_layer_field *rt_layer_fields(rt_layer_kind kind, int *n)
{
    *n = kinds[kind].nfields;
    return kinds[kind].fields;
}

const char *rt_layer_kind_doc(rt_layer_kind kind) { return kinds[kind].doc; }

const rt_layer_field *rt_layer_dialect_field(rt_layer_kind kind)
{
    for (int i = 0; i < kinds[kind].nfields; i++)
        if (kinds[kind].fields[i].type == RT_LF_DIALECT) return &kinds[kind].fields[i];
    return NULL;
}

bool rt_layer_kind_from_name(const char *name, rt_layer_kind *out)
{
    for (int k = 0; k < RT_LAYER_COUNT; k++)
        if (name && strcmp(name, kinds[k].name) == 0) {
            *out = (rt_layer_kind)k;
            return true;
        }
    return false;
}

rt_layer_spec rt_layer_spec_default(rt_layer_kind kind, rt_dialect d)
{
    rt_layer_spec s = { .kind = kind };
    for (int i = 0; i < RT_ACT_MAX_PARAMS; i++) s.act_params[i] = NAN;
    for (int i = 0; i < kinds[kind].nfields; i++) {
        const rt_layer_field *f = &kinds[kind].fields[i];
        if (f->offset < 0 || f->type == RT_LF_SHAPE) continue;
        if (f->type == RT_LF_DIALECT) rt_layer_field_set(&s, f, d == RT_DIALECT_TORCH);
        else if (!(f->flags & RT_LF_REQUIRED)) rt_layer_field_set(&s, f, f->def[d]);
    }
    return s;
}

double rt_layer_field_get(const rt_layer_spec *s, const rt_layer_field *f)
{
    const char *p = (const char *)s + f->offset;
    switch (f->type) {
    case RT_LF_INT: return *(const int *)p;
    case RT_LF_FLOAT: return *(const float *)p;
    case RT_LF_ACT: return *(const rt_act *)p;
    case RT_LF_INIT: return *(const rt_init *)p;
    case RT_LF_DIALECT: return *(const bool *)p;
    case RT_LF_SHAPE: break;
    }
    return NAN;
}

void rt_layer_field_set(rt_layer_spec *s, const rt_layer_field *f, double v)
{
    char *p = (char *)s + f->offset;
    switch (f->type) {
    case RT_LF_INT: *(int *)p = (int)v; break;
    case RT_LF_FLOAT: *(float *)p = (float)v; break;
    case RT_LF_ACT: *(rt_act *)p = (rt_act)v; break;
    case RT_LF_INIT: *(rt_init *)p = (rt_init)v; break;
    case RT_LF_DIALECT: *(bool *)p = v != 0; break;
    case RT_LF_SHAPE: break;
    }
}

const rt_shape *rt_layer_field_shape(const rt_layer_spec *s, const rt_layer_field *f)
{
    return (const rt_shape *)((const char *)s + f->offset);
}

void rt_layer_field_set_shape(rt_layer_spec *s, const rt_layer_field *f, const rt_shape *v)
{
    *(rt_shape *)((char *)s + f->offset) = *v;
}

bool rt_layer_field_in_range(const rt_layer_field *f, double v)
{
    return (f->lo_open ? v > f->lo : v >= f->lo) && (f->hi_open ? v < f->hi : v <= f->hi);
}

bool rt_layer_field_fixed_default(const rt_layer_field *f)
{
    for (int d = 1; d < RT_DIALECT_COUNT; d++)
        if (f->def[d] != f->def[0]) return false;
    return true;
}

/* ---- the table as Markdown ------------------------------------------------ */

/* A default as the docs show it. */
static void default_md(FILE *f, const rt_layer_field *fd, rt_dialect d)
{
    if (fd->flags & RT_LF_REQUIRED) { fputs("required", f); return; }
    switch (fd->type) {
    case RT_LF_ACT: fprintf(f, "`%s`", rt_act_get((rt_act)fd->def[d])->name); break;
    case RT_LF_INIT: fprintf(f, "`\"%s\"`", rt_init_name((rt_init)fd->def[d])); break;
    case RT_LF_SHAPE: fputs("not given", f); break;
    case RT_LF_DIALECT: fputs("the script's", f); break;
    default: fprintf(f, "%g", fd->def[d]); break;
    }
}

/* What a field accepts, in words. */
static void accepts_md(FILE *f, const rt_layer_field *fd)
{
    switch (fd->type) {
    case RT_LF_INT: fprintf(f, "an integer in [%.0f, %.0f]", fd->lo, fd->hi); break;
    case RT_LF_FLOAT: fputs(fd->range, f); break;
    case RT_LF_ACT: fputs("an activation", f); break;
    case RT_LF_INIT:
        for (int i = 0; i < RT_INIT_COUNT; i++)
            fprintf(f, "%s`\"%s\"`", i ? ", " : "", rt_init_name((rt_init)i));
        break;
    case RT_LF_SHAPE:
        fprintf(f, "a size or a list of 1 to %d sizes, at most %.0f values in all", RT_MAX_DIMS,
                fd->hi);
        break;
    case RT_LF_DIALECT: fputs("`\"keras\"`, `\"torch\"`", f); break;
    }
}

char *rt_layer_markdown(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    if (!f) return NULL;
    fputs("| layer | argument | keras default | torch default | accepts | meaning |\n"
          "|---|---|---|---|---|---|\n", f);
    for (int k = 0; k < RT_LAYER_COUNT; k++) {
        fprintf(f, "| `%s` | | | | | %s |\n", kinds[k].name, kinds[k].doc);
        for (int i = 0; i < kinds[k].nfields; i++) {
            const rt_layer_field *fd = &kinds[k].fields[i];
            fprintf(f, "| | `%s` | ", fd->name);
            default_md(f, fd, RT_DIALECT_KERAS);
            fputs(" | ", f);
            default_md(f, fd, RT_DIALECT_TORCH);
            fputs(" | ", f);
            accepts_md(f, fd);
            fputs(" | ", f);
            for (const char *c = fd->doc; *c; c++) {   /* '|' would end the cell */
                if (*c == '|') fputc('\\', f);
                fputc(*c, f);
            }
            fputs(" |\n", f);
        }
    }
    if (fclose(f) != 0) {
        free(text);
        return NULL;
    }
    return text;
}
