/*
 * test_ffi.c — bound C functions as kernels: the ffi_fn API (types,
 * raw calls, references that outlive the interpreter), and the plugin's
 * C activations and optimizer (examples/ffi/plugin.c, built by `make`
 * before the tests) against naive double-precision references.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <string.h>
#include <unistd.h>

#include "ffi_lang.h"
#include "mlp.h"
#include "mlp_stdlib.h"
#include "optimizers.h"
#include "std.h"

#define PLUGIN "build/examples/ffi/libplugin.so"

static void silent(void *ud, const char *s, size_t n) { (void)ud; (void)s; (void)n; }

static mlp_vm *new_vm(void)
{
    mlp_config cfg = {.write_out = silent, .write_err = silent};
    mlp_vm *vm = mlp_vm_new(&cfg);
    cr_assert(vm && mlp_stdlib_open(vm));
    return vm;
}

static void run(mlp_vm *vm, const char *src)
{
    cr_assert_eq(mlp_run_source(vm, "t.mlp", src, strlen(src)), MLP_OK, "script failed: %s", src);
}

static void need_plugin(void)
{
    if (access(PLUGIN, R_OK) != 0) cr_skip_test("%s is not built (make builds it)", PLUGIN);
}

static bool close_to(double got, double want, double rel)
{
    return fabs(got - want) <= rel * fmax(1.0, fabs(want));
}

Test(ffi, types_raw_calls_and_references)
{
    mlp_vm *vm = new_vm();
    run(vm, "extern \"libc.so.6\" fn memset(p: ptr, c: int, n: long) -> ptr\n"
            "extern \"libc.so.6\" fn strlen(s: str) -> long\n");
    mlp_value v;
    cr_assert(mlp_get_global(vm, "memset", &v));
    ffi_fn *f = ffi_fn_of(v);
    cr_assert(f);
    cr_assert_str_eq(ffi_fn_name(f), "memset");
    cr_assert_str_eq(ffi_fn_signature(f), "ptr(ptr,int,long)");
    cr_assert_eq(ffi_fn_nparams(f), 3);
    cr_assert_str_eq(ffi_type_name(ffi_fn_param_type(f, 0)), "ptr");
    cr_assert_eq(ffi_fn_param_type(f, 1), FFI_T_INT);
    cr_assert_eq(ffi_fn_param_type(f, 2), FFI_T_LONG);
    cr_assert_eq(ffi_fn_return_type(f), FFI_T_PTR);
    cr_assert_null(ffi_fn_of(mlp_number(1)));
    cr_assert(mlp_get_global(vm, "strlen", &v));
    cr_assert_str_eq(ffi_fn_signature(ffi_fn_of(v)), "long(str)");

    /* our reference keeps the function callable after the interpreter
     * (and its handle) are gone; ASan would see a use after free */
    ffi_fn_retain(f);
    mlp_vm_free(vm);
    unsigned char buf[8] = {0};
    void *p = buf;
    int32_t c = 0xAB;
    int64_t n = 5;
    void *args[3] = {&p, &c, &n};
    ffi_fn_call(f, args);
    for (int i = 0; i < 8; i++) cr_assert_eq(buf[i], i < 5 ? 0xAB : 0, "byte %d", i);
    ffi_fn_release(f);
}

/* The custom activation behind a global of the script. */
static const rt_act_custom *activation(mlp_vm *vm, const char *name)
{
    mlp_value v;
    cr_assert(mlp_get_global(vm, name, &v));
    const std_activation *a = mlp_handle_data(v, &std_activation_class);
    cr_assert(a && a->custom);
    return a->custom;
}

static const char *const act_src =
    "extern \"" PLUGIN "\" fn plug_relu(x: ptr, y: ptr, n: long)\n"
    "extern \"" PLUGIN "\" fn plug_relu_grad(x: ptr, y: ptr, dy: ptr, dx: ptr, n: long)\n"
    "extern \"" PLUGIN "\" fn plug_softsign(x: ptr, y: ptr, n: long)\n"
    "extern \"" PLUGIN "\" fn plug_softsign_grad(x: ptr, y: ptr, dy: ptr, dx: ptr, n: long)\n"
    "activation crelu = extern plug_relu, plug_relu_grad\n"
    "activation csoft = extern plug_softsign, plug_softsign_grad\n";

Test(ffi, c_activations_against_naive_formulas)
{
    need_plugin();
    mlp_vm *vm = new_vm();
    run(vm, act_src);
    enum { N = 11 };
    const float x[N] = {-100, -3, -1, -1e-8f, -0.0f, 0, 1e-8f, 0.5f, 1, 2, 100};
    const float dy0[N] = {1, -2, 0.5f, 3, 1, 1, -1, 0.25f, -4, 1, 2};
    const rt_act_custom *relu = activation(vm, "crelu"), *soft = activation(vm, "csoft");
    cr_assert_str_eq(relu->name, "crelu");
    float y[N], dy[N];
    relu->forward(relu->ctx, x, y, N);
    memcpy(dy, dy0, sizeof dy);
    relu->backward(relu->ctx, x, y, dy, dy, N);          /* dz aliasing dy is allowed */
    for (int i = 0; i < N; i++) {
        cr_assert_eq(y[i], x[i] > 0 ? x[i] : 0.0f, "relu(%g)", x[i]);
        cr_assert_eq(dy[i], x[i] > 0 ? dy0[i] : 0.0f, "relu'(%g)", x[i]);
    }
    soft->forward(soft->ctx, x, y, N);
    float dz[N];
    soft->backward(soft->ctx, x, y, dy0, dz, N);
    for (int i = 0; i < N; i++) {
        double d = 1.0 + fabs((double)x[i]);
        cr_assert(close_to(y[i], x[i] / d, 1e-6), "softsign(%g) = %g", x[i], y[i]);
        cr_assert(close_to(dz[i], dy0[i] / (d * d), 1e-6), "softsign'(%g) = %g", x[i], dz[i]);
        /* and against a central difference of the forward kernel */
        float xs[2] = {x[i] - 1e-3f, x[i] + 1e-3f}, ys[2];
        soft->forward(soft->ctx, xs, ys, 2);
        double fd = ((double)ys[1] - ys[0]) / ((double)xs[1] - xs[0]);
        cr_assert(close_to(dz[i], dy0[i] * fd, 2e-3), "softsign'(%g): %g, by differences %g", x[i],
                  dz[i], dy0[i] * fd);
    }
    mlp_vm_free(vm);
}

/* Keras Adam in double, as DESIGN.md writes it. */
static void naive_adam(double *w, const double *g, double *m, double *v, int n, double lr,
                       double b1, double b2, double eps, int t)
{
    double lr_t = lr * sqrt(1 - pow(b2, t)) / (1 - pow(b1, t));
    for (int i = 0; i < n; i++) {
        m[i] = b1 * m[i] + (1 - b1) * g[i];
        v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i];
        w[i] -= lr_t * m[i] / (sqrt(v[i]) + eps);
    }
}

Test(ffi, c_optimizer_against_naive_adam_and_outlives_the_interpreter)
{
    need_plugin();
    mlp_vm *vm = new_vm();
    run(vm, "extern \"" PLUGIN "\" fn plug_adam(w: ptr, g: ptr, m: ptr, v: ptr, n: long, lr: double,\n"
            "    beta1: double, beta2: double, eps: double, t: long)\n"
            "optimizer cadam(lr=0.001, beta1=0.9, beta2=0.999, eps=1e-7) = extern plug_adam\n"
            "let __o = cadam(lr=0.05, beta1=0.8)\n");
    mlp_value v;
    cr_assert(mlp_get_global(vm, "__o", &v));
    rt_error err;
    rt_optim *opt = rt_optim_clone(std_optim_of(v), &err);
    cr_assert(opt, "%s", err.msg);
    mlp_vm_free(vm);             /* the clone holds the kernel and its library */

    double lr, b1, b2, eps;
    cr_assert(rt_optim_get(opt, "lr", &lr) && rt_optim_get(opt, "beta1", &b1) &&
              rt_optim_get(opt, "beta2", &b2) && rt_optim_get(opt, "eps", &eps));
    cr_assert(lr == 0.05 && b1 == 0.8 && b2 == 0.999 && eps == 1e-7);
    enum { N = 37, STEPS = 100 };
    float w[N], g[N];
    double wr[N], gr[N], m[N] = {0}, vv[N] = {0};
    for (int i = 0; i < N; i++) wr[i] = w[i] = (float)sin(i * 1.3);
    rt_param p = {.name = "kernel", .w = w, .g = g, .size = N, .shape = {1, {N}},
                  .trainable = true};
    for (int t = 1; t <= STEPS; t++) {
        for (int i = 0; i < N; i++) g[i] = (float)(w[i] - 0.3 + 0.1 * cos(i + t)); /* a moving bowl */
        for (int i = 0; i < N; i++) gr[i] = g[i];
        cr_assert(rt_optim_step(opt, &p, 1, &err), "%s", err.msg);
        naive_adam(wr, gr, m, vv, N, lr, b1, b2, eps, t);
    }
    for (int i = 0; i < N; i++)
        cr_assert(close_to(w[i], wr[i], 1e-5), "w[%d] = %.9g, naive %.9g", i, w[i], wr[i]);
    cr_assert_eq(rt_optim_steps(opt), STEPS);
    rt_optim_free(opt);
}
