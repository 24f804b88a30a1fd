/*
 * layer_spec.h — the spec fields of every layer kind, one table.
 *
 * Each row of RT_LAYER_KINDS (layers.h) has, besides its kernels in
 * layers.c, a list of fields here (layer_spec.c, `<fn>_spec`): one row
 * per argument of the layer's constructor, with everything the rest of
 * the program needs to know about it:
 *
 *   name     the constructor's keyword and the name in the printed form
 *   key      the key in a saved model's "mlp.layers" JSON (persist.c)
 *   type     how the value is read, stored, printed and saved (below)
 *   offset   where the value lives in rt_layer_spec, or -1 when the spec
 *            does not keep it (dense's input=, which only gives the model
 *            its input width)
 *   flags    required, printed positionally, left out when zero, ...
 *   def      the default per dialect (keras, torch)
 *   lo, hi   the valid range, each end open or closed, and its wording
 *            in messages ("in [0, 1)")
 *   doc      one line about the field
 *
 * Everything that lists a kind's arguments derives from this: the
 * stdlib's constructors (their parameter lists, argument checks and
 * messages: "dropout: rate must be in [0, 1), got 1"), the printed form
 * ("batchnorm(momentum=0.99, eps=0.001)"), the :help line and the JSON
 * metadata written and read by save_model/load_model. Adding a field is one
 * row; adding a kind is one RT_LAYER_KINDS row, its kernels and its list
 * here. The unit tests of suite layer_spec walk every field of every kind.
 *
 * Types and how each is stored:
 *   INT      int at offset; lo..hi are the allowed integers
 *   FLOAT    float at offset (the range is checked on the double given)
 *   ACT      rt_act at offset, with the spec's act_params and custom (an
 *            activation value carries all three); default: an rt_act
 *   INIT     rt_init at offset; default: an rt_init
 *   SHAPE    rt_shape at offset; lo..hi bound each size and the
 *            product; no default (not given: ndim 0, unknown)
 *   DIALECT  bool at offset, true for torch; given as dialect="torch" and
 *            saved as "torch": true. A kind with this field takes the
 *            other fields' defaults from it (else from the script's
 *            dialect) and follows PyTorch's semantics under "torch".
 *
 * Defaults are doubles: the number, or the enum value (rt_act, rt_init).
 * The table is constant data; nothing here allocates.
 */
#ifndef MLP_LAYER_SPEC_H
#define MLP_LAYER_SPEC_H

#include <stdbool.h>
#include "layers.h"

typedef enum {
    RT_LF_INT, RT_LF_FLOAT, RT_LF_ACT, RT_LF_INIT, RT_LF_SHAPE, RT_LF_DIALECT
} rt_lf_type;

enum {
    RT_LF_REQUIRED   = 1 << 0,  /* no default: the constructor needs a value */
    RT_LF_POSITIONAL = 1 << 1,  /* printed as its value alone: dense(3, relu) */
    RT_LF_OMIT_ZERO  = 1 << 2,  /* printed and saved only when not 0 / false */
    RT_LF_NOPRINT    = 1 << 3,  /* not part of the printed form */
    RT_LF_NODOC      = 1 << 4,  /* left out of the :help signature */
    RT_LF_PRINT_G9   = 1 << 5,  /* printed with 9 significant digits ("%.9g"),
                                   not the shortest text that reads back */
};

enum { RT_LAYER_MAX_FIELDS = 8 };   /* the most fields a kind has (asserted) */

typedef struct rt_layer_field {
    const char *name;
    const char *key;
    rt_lf_type type;
    int offset;
    unsigned flags;
    double def[RT_DIALECT_COUNT];
    double lo, hi;
    bool lo_open, hi_open;
    const char *range;          /* the range in words, for messages */
    const char *example;        /* shown in the :help signature when there is no default */
    const char *doc;
} rt_layer_field;

/* The fields of a kind, in the constructor's order; *n gets their count. */
const rt_layer_field *rt_layer_fields(rt_layer_kind kind, int *n);
/* One line about the kind, for :help. */
const char *rt_layer_kind_doc(rt_layer_kind kind);
/* The kind's DIALECT field, or NULL when it has none. */
const rt_layer_field *rt_layer_dialect_field(rt_layer_kind kind);
/* The kind with that name; false when unknown. */
bool rt_layer_kind_from_name(const char *name, rt_layer_kind *out);

/* A spec of `kind` with every field at its default in dialect d (required
 * fields 0, the shape unknown, activation parameters NaN: the
 * activation's own). */
rt_layer_spec rt_layer_spec_default(rt_layer_kind kind, rt_dialect d);

/* The value of an INT, FLOAT, ACT, INIT or DIALECT field as a double
 * (enums and bools as numbers), and setting it; the field must have an
 * offset. */
double rt_layer_field_get(const rt_layer_spec *s, const rt_layer_field *f);
void rt_layer_field_set(rt_layer_spec *s, const rt_layer_field *f, double v);
/* The shape of a SHAPE field that has an offset, and setting it. */
const rt_shape *rt_layer_field_shape(const rt_layer_spec *s, const rt_layer_field *f);
void rt_layer_field_set_shape(rt_layer_spec *s, const rt_layer_field *f, const rt_shape *v);
/* Whether v lies in the field's range (NaN never does). */
bool rt_layer_field_in_range(const rt_layer_field *f, double v);
/* Whether the field's default is the same number in every dialect. */
bool rt_layer_field_fixed_default(const rt_layer_field *f);

/* The table as Markdown for lang/LANGUAGE.md (`make docs`; the unit test
 * docs/language_md_tables compares): malloc'd, NULL when out of memory. */
char *rt_layer_markdown(void);

#endif
