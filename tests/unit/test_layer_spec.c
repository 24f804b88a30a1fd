/*
 * test_layer_spec.c — the table of layer fields (layer_spec.h) walked row
 * by row, as test_optimizers.c walks the optimizers:
 *  (1) the table is well formed and its defaults are the documented ones
 *      in each dialect (layers.h, LANGUAGE.md: Keras's, PyTorch's);
 *  (2) every field of every kind, set to a value other than its default,
 *      comes back unchanged from the "mlp.layers" JSON (written as text
 *      and parsed again) and from the printed form (evaluated by the
 *      language), in both dialects;
 *  (3) the constructors' range messages, parameter lists and :help lines
 *      come from the rows (the :help lines are the ones written by hand
 *      before the table existed, byte for byte).
 * A new kind or field goes through every check here without an edit,
 * except the pinned :help lines and parameter lists of (3), which then
 * change on purpose (tried: a FLOAT field added to dropout failed only
 * those two lines; it printed, saved, loaded and was range-checked).
 */
#include <criterion/criterion.h>
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "layer_spec.h"
#include "mlp.h"
#include "mlp_stdlib.h"
#include "std.h"

static void capture(void *ud, const char *s, size_t n)
{
    char *buf = ud;
    size_t have = strlen(buf);
    if (have + n >= 4096) n = 4095 - have;
    memcpy(buf + have, s, n);
    buf[have + n] = '\0';
}

static char out[4096];

static mlp_vm *new_vm(void)
{
    mlp_config cfg = {.write_out = capture, .write_err = capture, .ud = out};
    mlp_vm *vm = mlp_vm_new(&cfg);
    cr_assert(vm && mlp_stdlib_open(vm));
    return vm;
}

/* A number in the range of an INT or FLOAT field other than its default
 * in dialect d: lo + 2 for an integer; a quarter of the way into a float
 * range, or 0.125 past its start (an eighth, or 0.5, when that is the
 * default). */
static double other_number(const rt_layer_field *f, rt_dialect d)
{
    if (f->type == RT_LF_INT) return f->lo + 2;
    double v = isfinite(f->hi) ? f->lo + (f->hi - f->lo) / 4 : f->lo + 0.125;
    if (v == f->def[d]) v = isfinite(f->hi) ? f->lo + (f->hi - f->lo) / 8 : f->lo + 0.5;
    cr_assert(rt_layer_field_in_range(f, v), "%s: test value %g", f->name, v);
    return v;
}

/* A value of field f other than its default in dialect d, in range. */
static void set_other(rt_layer_spec *s, const rt_layer_field *f, rt_dialect d)
{
    switch (f->type) {
    case RT_LF_INT:
    case RT_LF_FLOAT: rt_layer_field_set(s, f, other_number(f, d)); break;
    case RT_LF_ACT:
        s->act = RT_ACT_LEAKY_RELU;
        s->act_params[0] = 0.25f;
        break;
    case RT_LF_INIT: s->init = (rt_init)(((int)f->def[d] + 1) % RT_INIT_COUNT); break;
    case RT_LF_SHAPE:
        rt_layer_field_set_shape(s, f, &(rt_shape){ 2, { 3, 4 } });
        break;
    case RT_LF_DIALECT: rt_layer_field_set(s, f, d != RT_DIALECT_TORCH); break;
    }
}

/* The spec of `kind` in dialect d with field j changed (-1: none) and the
 * required fields given. */
static rt_layer_spec sample(rt_layer_kind kind, rt_dialect d, int j)
{
    int nf;
    const rt_layer_field *fs = rt_layer_fields(kind, &nf);
    rt_layer_spec s = rt_layer_spec_default(kind, d);
    for (int i = 0; i < nf; i++)
        if (fs[i].offset >= 0 && (i == j || (fs[i].flags & RT_LF_REQUIRED)))
            set_other(&s, &fs[i], d);
    return s;
}

static void expect_same(const rt_layer_spec *a, const rt_layer_spec *b, const char *how,
                        bool printed)
{
    int nf;
    const rt_layer_field *fs = rt_layer_fields(a->kind, &nf);
    cr_assert_eq(a->kind, b->kind);
    for (int i = 0; i < nf; i++) {
        const rt_layer_field *f = &fs[i];
        if (f->offset < 0 || (printed && (f->flags & RT_LF_NOPRINT))) continue;
        if (f->type == RT_LF_SHAPE) {
            cr_expect(rt_shape_eq(rt_layer_field_shape(a, f), rt_layer_field_shape(b, f)), "%s %s.%s",
                      how, rt_layer_kind_name(a->kind), f->name);
            continue;
        }
        cr_expect_eq(rt_layer_field_get(a, f), rt_layer_field_get(b, f), "%s %s.%s: %g vs %g", how,
                     rt_layer_kind_name(a->kind), f->name, rt_layer_field_get(a, f),
                     rt_layer_field_get(b, f));
        if (f->type == RT_LF_ACT && a->act != RT_ACT_LINEAR)
            cr_expect_eq(a->act_params[0], b->act_params[0], "%s: activation parameter", how);
    }
}

Test(layer_spec, table_is_well_formed)
{
    for (int k = 0; k < RT_LAYER_COUNT; k++) {
        int nf;
        const rt_layer_field *fs = rt_layer_fields((rt_layer_kind)k, &nf);
        const char *kn = rt_layer_kind_name((rt_layer_kind)k);
        cr_assert(nf <= RT_LAYER_MAX_FIELDS && rt_layer_kind_doc((rt_layer_kind)k), "%s", kn);
        rt_layer_kind back;
        cr_assert(rt_layer_kind_from_name(kn, &back) && back == (rt_layer_kind)k);
        for (int i = 0; i < nf; i++) {
            const rt_layer_field *f = &fs[i];
            cr_assert(f->name && f->key && f->doc, "%s field %d", kn, i);
            cr_assert(f->offset < (int)sizeof(rt_layer_spec), "%s.%s", kn, f->name);
            for (int j = 0; j < i; j++)
                cr_assert(strcmp(fs[j].name, f->name) != 0 && strcmp(fs[j].key, f->key) != 0,
                          "%s: %s twice", kn, f->name);
            if (f->type == RT_LF_FLOAT) cr_assert(f->range, "%s.%s needs range words", kn, f->name);
            if (f->type == RT_LF_SHAPE) cr_assert(f->example, "%s.%s needs an example", kn, f->name);
            bool numeric = f->type == RT_LF_INT || f->type == RT_LF_FLOAT;
            for (int d = 0; numeric && !(f->flags & RT_LF_REQUIRED) && d < RT_DIALECT_COUNT; d++)
                cr_assert(rt_layer_field_in_range(f, f->def[d]), "%s.%s: default out of range", kn,
                          f->name);
        }
    }
}

/* The defaults layers.h and LANGUAGE.md give (Keras 2.x; PyTorch). */
Test(layer_spec, defaults_per_dialect)
{
    rt_layer_spec k = rt_layer_spec_default(RT_LAYER_BATCHNORM, RT_DIALECT_KERAS);
    rt_layer_spec t = rt_layer_spec_default(RT_LAYER_BATCHNORM, RT_DIALECT_TORCH);
    cr_expect(k.momentum == 0.99f && k.eps == 0.001f && !k.torch);
    cr_expect(t.momentum == 0.1f && t.eps == 1e-5f && t.torch);
    rt_layer_spec rk = rt_spec_batchnorm(0.99f, 1e-3f), rtorch = rt_spec_batchnorm_torch(0.1f, 1e-5f);
    expect_same(&k, &rk, "keras batchnorm", false);
    expect_same(&t, &rtorch, "torch batchnorm", false);
    rt_layer_spec dk = rt_layer_spec_default(RT_LAYER_DENSE, RT_DIALECT_KERAS);
    rt_layer_spec dt = rt_layer_spec_default(RT_LAYER_DENSE, RT_DIALECT_TORCH);
    cr_expect(dk.init == RT_INIT_GLOROT_UNIFORM && dt.init == RT_INIT_TORCH_LINEAR);
    cr_expect(dk.act == RT_ACT_LINEAR && dt.act == RT_ACT_LINEAR && dk.l1 == 0 && dk.l2 == 0);
    cr_expect(isnan(dk.act_params[0]) && !dk.custom);
    rt_layer_spec f = rt_layer_spec_default(RT_LAYER_FLATTEN, RT_DIALECT_TORCH);
    cr_expect(f.in_shape.ndim == 0);

    /* and the constructors use them, in the script's dialect or their own */
    mlp_vm *vm = new_vm();
    out[0] = '\0';
    static const char src[] = "print(batchnorm(), dense(2))\n"
                              "dialect(\"torch\")\n"
                              "print(batchnorm(), batchnorm(dialect=\"keras\"))\n"
                              "let d = dense(2)\n";
    cr_assert_eq(mlp_run_source(vm, "t.mlp", src, strlen(src)), MLP_OK, "%s", out);
    cr_expect_str_eq(out, "batchnorm(momentum=0.99, eps=0.001) dense(2, linear)\n"
                          "batchnorm(momentum=0.1, eps=1e-05, dialect=\"torch\") "
                          "batchnorm(momentum=0.99, eps=0.001)\n");
    mlp_value v;
    cr_assert(mlp_get_global(vm, "d", &v));
    const std_layer *l = mlp_handle_data(v, &std_layer_class);
    cr_assert(l);
    cr_expect_eq(l->spec.init, RT_INIT_TORCH_LINEAR);
    mlp_vm_free(vm);
}

/* Every field, changed, through json_dumps/json_loads as save_model and
 * load_model do. */
Test(layer_spec, every_field_roundtrips_through_metadata)
{
    for (int k = 0; k < RT_LAYER_COUNT; k++)
        for (int d = 0; d < RT_DIALECT_COUNT; d++) {
            int nf;
            rt_layer_fields((rt_layer_kind)k, &nf);
            for (int j = -1; j < nf; j++) {
                rt_layer_spec s = sample((rt_layer_kind)k, (rt_dialect)d, j), back;
                json_t *o = std_spec_json(&s);
                char *text = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_REAL_PRECISION(15));
                json_t *again = json_loads(text, 0, NULL);
                char err[256] = "", how[300];
                snprintf(how, sizeof how, "%s", text);
                cr_assert(std_spec_from_json(again, 0, &back, err, sizeof err),
                          "%s: %s", text, err);
                expect_same(&s, &back, how, false);
                json_decref(o);
                json_decref(again);
                free(text);
            }
        }
}

/* What other writers (and earlier versions) put in the metadata: keys left
 * out take the Keras defaults, an empty input list is an unknown shape;
 * a required key missing or a number out of range is refused. */
Test(layer_spec, metadata_defaults_and_errors)
{
    static const struct { const char *json, *err; } cases[] = {
        { "{\"kind\": \"flatten\", \"input\": []}", NULL },
        { "{\"kind\": \"flatten\"}", NULL },
        { "{\"kind\": \"batchnorm\"}", NULL },
        { "{\"kind\": \"dense\", \"units\": 3}", NULL },
        { "{\"kind\": \"dense\"}", "layer 1 (dense): bad units" },
        { "{\"kind\": \"dense\", \"units\": 3, \"activation\": \"nope\"}",
          "layer 1 (dense): unknown activation 'nope'" },
        { "{\"kind\": \"dense\", \"units\": 3, \"init\": \"nope\"}", "layer 1 (dense): unknown init 'nope'" },
        { "{\"kind\": \"dense\", \"units\": 3, \"l1\": -1}",
          "layer 1 (dense): l1 must be 0 (none) or positive, got -1" },
        { "{\"kind\": \"flatten\", \"input\": [0]}", "layer 1 (flatten): bad input" },
        { "{\"kind\": \"dropout\"}", "layer 1 (dropout): bad rate" },
        { "{\"kind\": \"pool\"}", "layer 1: unknown kind 'pool'" },
        { "{}", "layer 1 has no kind" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        json_t *o = json_loads(cases[i].json, 0, NULL);
        rt_layer_spec s;
        char err[256] = "";
        bool ok = std_spec_from_json(o, 0, &s, err, sizeof err);
        json_decref(o);
        if (cases[i].err) {
            cr_expect(!ok, "%s loaded", cases[i].json);
            cr_expect_str_eq(err, cases[i].err);
            continue;
        }
        cr_expect(ok, "%s: %s", cases[i].json, err);
        rt_layer_spec want = rt_layer_spec_default(s.kind, RT_DIALECT_KERAS);
        if (s.kind == RT_LAYER_DENSE) want.units = 3;
        expect_same(&want, &s, cases[i].json, false);
    }
}

/* Every printed field, changed: the printed form, run as code, makes the
 * same layer (and prints the same text again). */
Test(layer_spec, every_field_roundtrips_through_the_printed_form)
{
    mlp_vm *vm = new_vm();
    for (int k = 0; k < RT_LAYER_COUNT; k++)
        for (int d = 0; d < RT_DIALECT_COUNT; d++) {
            int nf;
            rt_layer_fields((rt_layer_kind)k, &nf);
            for (int j = -1; j < nf; j++) {
                std_layer *l = malloc(sizeof *l);
                l->spec = sample((rt_layer_kind)k, (rt_dialect)d, j);
                if (l->spec.act == RT_ACT_LEAKY_RELU) {   /* an activation value has every parameter */
                    rt_act_defaults(RT_ACT_LEAKY_RELU, l->spec.act_params);
                    l->spec.act_params[0] = 0.25f;
                }
                l->input = 0;
                mlp_set_global(vm, "__t", mlp_handle(vm, &std_layer_class, l));
                char text[256], src[300];
                mlp_value v;
                cr_assert(mlp_get_global(vm, "__t", &v));
                snprintf(text, sizeof text, "%s", mlp_cstr(mlp_tostring(vm, v)));
                snprintf(src, sizeof src, "let back = %s\nprint(back)\n", text);
                out[0] = '\0';
                cr_assert_eq(mlp_run_source(vm, "t.mlp", src, strlen(src)), MLP_OK, "%s: %s", text, out);
                cr_expect(strncmp(out, text, strlen(text)) == 0 && out[strlen(text)] == '\n',
                          "%s printed again as %s", text, out);
                cr_assert(mlp_get_global(vm, "back", &v));
                const std_layer *b = mlp_handle_data(v, &std_layer_class);
                cr_assert(b);
                expect_same(&l->spec, &b->spec, text, true);
            }
        }
    mlp_vm_free(vm);
}

/* A number out of its field's range names the field and the range; the
 * natives' parameter lists and :help lines come from the rows. */
Test(layer_spec, messages_and_docs_from_the_table)
{
    mlp_vm *vm = new_vm();
    for (int k = 0; k < RT_LAYER_COUNT; k++) {
        int nf;
        const rt_layer_field *fs = rt_layer_fields((rt_layer_kind)k, &nf);
        const char *kn = rt_layer_kind_name((rt_layer_kind)k);
        for (int i = 0; i < nf; i++) {
            if (fs[i].type != RT_LF_FLOAT) continue;
            double bad = isfinite(fs[i].hi) ? fs[i].hi + 1 : fs[i].lo - 1;
            char src[256], want[256];
            int n = snprintf(src, sizeof src, "%s(", kn);
            for (int r = 0; r < nf; r++)   /* the required ones, valid, by name */
                if ((fs[r].flags & RT_LF_REQUIRED) && r != i)
                    n += snprintf(src + n, sizeof src - (size_t)n, "%s=%.17g, ", fs[r].name,
                                  other_number(&fs[r], RT_DIALECT_KERAS));
            snprintf(src + n, sizeof src - (size_t)n, "%s=%g)\n", fs[i].name, bad);
            snprintf(want, sizeof want, "t.mlp:1:%d: error: %s: %s must be %s, got %g\n",
                     (int)strlen(kn) + 1, kn, fs[i].name, fs[i].range, bad);
            out[0] = '\0';
            cr_expect_eq(mlp_run_source(vm, "t.mlp", src, strlen(src)), MLP_RUNTIME_ERROR, "%s", src);
            cr_expect(strncmp(out, want, strlen(want)) == 0, "%s gave\n%s\nwanted\n%s", src, out, want);
        }
    }
    cr_expect_str_eq(mlp_native_params(vm, "flatten"), "input=nil");
    cr_expect_str_eq(mlp_native_params(vm, "dense"), "units, act=nil, init=nil, input=nil, l1=0, l2=0");
    cr_expect_str_eq(mlp_native_params(vm, "batchnorm"), "momentum=nil, eps=nil, dialect=nil");
    cr_expect_str_eq(mlp_native_params(vm, "dropout"), "rate");
    cr_expect_str_eq(mlp_native_doc(vm, "flatten"),
                     "flatten(input=[28, 28]): flattens each example; input gives the shape of one example");
    cr_expect_str_eq(mlp_native_doc(vm, "dense"),
                     "dense(units, act=linear, init=\"glorot_uniform\" (torch dialect: \"torch_linear\"), l1=0, "
                     "l2=0): a fully connected layer; l1, l2 penalise its kernel (added to the loss)");
    cr_expect_str_eq(mlp_native_doc(vm, "batchnorm"),
                     "batchnorm(momentum=0.99, eps=0.001): batch normalisation (Keras defaults; torch dialect: "
                     "momentum=0.1, eps=1e-05 with PyTorch's meaning)");
    cr_expect_str_eq(mlp_native_doc(vm, "dropout"), "dropout(rate): inverted dropout while training");
    mlp_vm_free(vm);
}
