/*
 * ext.c — the natives behind the extension declarations (lang/compiler/desugar.h):
 * user-defined activations and optimizers compiled to expression kernels
 * (runtime/expr.h), and C functions bound through libffi (lang/ffi.h).
 *
 * Activations. __activation builds two kernels, `y = f(x)` and
 * `dz = dy * (f'(x))`, and wraps them as an rt_act_custom that dense
 * layers call (layers.h). Layer specs borrow that struct by pointer (they
 * are plain data, copied into models), so it must outlive every model:
 * each one is owned by a hidden "kernel" handle kept in the stdlib's
 * per-interpreter state (std_host.kernels, a list) and freed with the
 * interpreter. A declaration
 * run again (in a loop, in the REPL) adds another small entry.
 *
 * Optimizers. __optimizer compiles the update body over the arrays
 * param, grad and the states, with the hyperparameters and t as scalars;
 * the result is an ordinary optimizer value (nn.c) through
 * rt_optim_create_custom, so `fit(..., optimizer=scratch.Adam)`,
 * `scratch.Adam(lr=0.1)` and `str(opt)` work as for a built-in. The
 * definition is reference-counted by the optimizers using it.
 *
 * C kernels. `activation NAME = extern fwd, grad` and
 * `optimizer NAME(h=d, ...) = extern update` (lang/compiler/desugar.h) bind functions
 * declared with `extern` as the same two hooks, through __c_activation
 * and __c_optimizer. The C signatures (checked against the declared
 * types, since the real ones cannot be seen):
 *
 *   void fwd(const float *x, float *y, int64_t n)              y = f(x)
 *       declared  (x: ptr, y: ptr, n: long)
 *   void grad(const float *x, const float *y, const float *dy, float *dx, int64_t n)
 *       declared  (x: ptr, y: ptr, dy: ptr, dx: ptr, n: long)
 *       dx = dy * f'(x), where y = f(x) from the forward pass (dx may be dy)
 *   void update(float *w, const float *g, float *s1, ..., float *sk, int64_t n,
 *               double h1, ..., double hm [, int64_t t])
 *       declared  (w: ptr, g: ptr, k state ptrs, n: long, one double (or
 *       float) per hyperparameter in declaration order [, t: long or int])
 *       one update of n values in place; the k states start at zero; t is
 *       the step number, 1 on the first step
 *
 * Each kernel holds its own reference to the bound function (ffi_lang.h),
 * so it keeps working when the extern's name is rebound or collected.
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include "expr.h"
#include "ffi_lang.h"
#include "control.h"
#include "std.h"
#include "tensor.h"

/* ---- keeping kernels alive -------------------------------------------------- */

typedef struct ext_kernel {
    void *data;
    void (*free)(void *data);
} ext_kernel;

static void kernel_free(void *p)
{
    ext_kernel *k = p;
    if (k->free) k->free(k->data);
    free(k);
}

static const mlp_class kernel_class = { .name = "kernel", .free = kernel_free };

/* Hands `data` to the interpreter: freed (by `fr`) when the VM is. */
static bool keep(mlp_vm *vm, void *data, void (*fr)(void *))
{
    ext_kernel *k = malloc(sizeof *k);
    if (!k) {
        fr(data);
        return mlp_raise(vm, "out of memory");
    }
    k->data = data;
    k->free = fr;
    mlp_value h = mlp_handle(vm, &kernel_class, k);
    mlp_push_root(vm, h);
    std_host *host = std_host_of(vm);
    if (!mlp_is_list(host->kernels)) host->kernels = mlp_list_new(vm);
    mlp_list_push(vm, host->kernels, h);
    mlp_pop_root(vm);
    return true;
}

static char *dup_str(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

/* ---- activations -------------------------------------------------------------- */

typedef struct ext_act {
    rt_act_custom c;
    char *name;
    rt_expr *fwd, *bwd;
} ext_act;

static void act_free(void *p)
{
    ext_act *a = p;
    rt_expr_free(a->fwd);
    rt_expr_free(a->bwd);
    free(a->name);
    free(a);
}

static void act_forward(void *ctx, const float *z, float *y, long n)
{
    const ext_act *a = ctx;
    float *arrays[2] = {(float *)z, y};      /* x is only read */
    rt_expr_run(a->fwd, NULL, arrays, n);
}

static void act_backward(void *ctx, const float *z, const float *y, const float *dy, float *dz, long n)
{
    const ext_act *a = ctx;
    float *arrays[4] = {(float *)z, (float *)y, (float *)dy, dz};
    rt_expr_run(a->bwd, NULL, arrays, n);
}

/* An activation value for a kernel pair; `c` is kept alive elsewhere. */
static bool custom_activation_value(mlp_vm *vm, const rt_act_custom *c, mlp_value *out)
{
    std_activation *v = malloc(sizeof *v);
    if (!v) return mlp_raise(vm, "out of memory");
    v->act = RT_ACT_LINEAR;
    rt_act_defaults(RT_ACT_LINEAR, v->params);
    v->custom = c;
    *out = mlp_handle(vm, &std_activation_class, v);
    return true;
}

/* __activation(name, forward text, derivative text) */
static bool n_activation(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const char *name, *ft, *dt;
    if (!std_str_arg(vm, "__activation", "name", a[0], &name) ||
        !std_str_arg(vm, "__activation", "forward", a[1], &ft) ||
        !std_str_arg(vm, "__activation", "derivative", a[2], &dt))
        return false;
    ext_act *act = calloc(1, sizeof *act);
    if (!act) return mlp_raise(vm, "out of memory");
    size_t fl = strlen(ft) + 8, dl = strlen(dt) + 16;
    char *fp = malloc(fl), *dp = malloc(dl);
    act->name = dup_str(name);
    if (!fp || !dp || !act->name) {
        free(fp);
        free(dp);
        act_free(act);
        return mlp_raise(vm, "out of memory");
    }
    snprintf(fp, fl, "y = %s", ft);
    snprintf(dp, dl, "dz = dy * (%s)", dt);
    static const char *const fwd_vars[] = {"x", "y"}, *const bwd_vars[] = {"x", "y", "dy", "dz"};
    rt_error err;
    act->fwd = rt_expr_compile(fp, 2, fwd_vars, 0, NULL, &err);
    if (act->fwd) act->bwd = rt_expr_compile(dp, 4, bwd_vars, 0, NULL, &err);
    free(fp);
    free(dp);
    if (!act->fwd || !act->bwd) {
        act_free(act);
        return mlp_raise(vm, "activation %s: %s", name, err.msg);
    }
    act->c.name = act->name;
    act->c.forward = act_forward;
    act->c.backward = act_backward;
    act->c.ctx = act;
    if (!keep(vm, act, act_free)) return false;
    return custom_activation_value(vm, &act->c, out);
}

/* ---- optimizers ---------------------------------------------------------------- */

enum { MAX_STATES = 12 };

typedef struct ext_opt {
    rt_optim_custom def;
    int refs;
    char *name;
    int nh, ns;
    char *hnames[8];             /* hyperparameters, then "t" (the kernel's scalars) */
    double hdefs[8];
    char *sinit[MAX_STATES];     /* initial value of each state (kernel text) */
    rt_expr *kernel;
} ext_opt;

static void opt_destroy(ext_opt *o)
{
    rt_expr_free(o->kernel);
    for (int i = 0; i <= o->nh && i < 8; i++) free(o->hnames[i]);
    for (int i = 0; i < o->ns; i++) free(o->sinit[i]);
    free(o->name);
    free(o);
}

static void opt_retain(void *ctx) { __atomic_add_fetch(&((ext_opt *)ctx)->refs, 1, __ATOMIC_RELAXED); }
static void opt_release(void *ctx)
{
    ext_opt *o = ctx;
    if (__atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) == 0) opt_destroy(o);
}

static double opt_slot_init(void *ctx, const double *h, int slot)
{
    const ext_opt *o = ctx;
    double v = 0.0;
    if (!rt_expr_eval_scalar(o->sinit[slot], o->nh, (const char *const *)o->hnames, h, &v, NULL))
        v = 0.0;     /* checked with the defaults at creation */
    return v;
}

/* One step: the scalars once, then one fused pass per trainable tensor. */
static bool opt_step(void *ctx, const double *h, long t, rt_param *params, int nparams,
                     float *const *slots, rt_error *err)
{
    const ext_opt *o = ctx;
    double sc[9];
    for (int i = 0; i < o->nh; i++) sc[i] = h[i];
    sc[o->nh] = (double)t;
    float uni[RT_EXPR_MAX_UNIFORMS];
    rt_expr_prepare(o->kernel, sc, uni);
    float *arrays[2 + MAX_STATES];
    for (int p = 0; p < nparams; p++) {
        if (!params[p].trainable || params[p].size == 0) continue;
        arrays[0] = params[p].w;
        arrays[1] = params[p].g;
        for (int s = 0; s < o->ns; s++) arrays[2 + s] = slots[p * o->ns + s];
        rt_expr_exec(o->kernel, uni, arrays, params[p].size);
    }
    (void)err;
    return true;
}

/* A declared hyperparameter's default: a number, a boolean, or for lr a
 * learning-rate schedule (`optimizer o(lr=cosine(0.01, epochs=20))`),
 * whose first rate becomes the default and which the value keeps. */
static bool hyper_default(mlp_vm *vm, const char *what, const char *key, mlp_value v, double *out,
                          const std_schedule **sched)
{
    const std_schedule *s = std_schedule_of(v);
    if (s && strcmp(key, "lr") != 0)
        return mlp_raise(vm, "%s: %s must be a number, got a schedule (a schedule can only be an "
                         "optimizer's lr)", what, key);
    if (s) {
        *sched = s;
        *out = s->s.lr;
        return true;
    }
    if (mlp_is_bool(v)) {
        *out = mlp_as_bool(v);
        return true;
    }
    if (!std_num_arg(vm, what, key, v, out)) return false;
    if (strcmp(key, "lr") == 0 && !(*out > 0 && isfinite(*out)))
        return mlp_raise(vm, "%s: lr must be a positive number or a schedule, got %g", what, *out);
    return true;
}

/* __optimizer(name, {hyper: default}, {state: "init"}, body text) */
static bool n_optimizer(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const char *name, *body;
    if (!std_str_arg(vm, "__optimizer", "name", a[0], &name) ||
        !std_str_arg(vm, "__optimizer", "body", a[3], &body))
        return false;
    if (!mlp_is_record(a[1]) || !mlp_is_record(a[2]))
        return mlp_raise(vm, "__optimizer: hyperparameters and states must be records");
    size_t nh = mlp_record_len(a[1]), ns = mlp_record_len(a[2]);
    if (nh > 7) return mlp_raise(vm, "optimizer %s: at most 7 hyperparameters, got %zu", name, nh);
    if (ns > MAX_STATES) return mlp_raise(vm, "optimizer %s: at most %d states, got %zu", name, MAX_STATES, ns);
    ext_opt *o = calloc(1, sizeof *o);
    if (!o || !(o->name = dup_str(name))) {
        free(o);
        return mlp_raise(vm, "out of memory");
    }
    o->nh = (int)nh;
    o->ns = (int)ns;
    const char *arrays[2 + MAX_STATES] = {"param", "grad"};
    bool ok = true;
    const std_schedule *sched = NULL;
    for (size_t i = 0; ok && i < nh; i++) {
        mlp_value k, v;
        mlp_record_entry(a[1], i, &k, &v);
        o->hnames[i] = dup_str(mlp_cstr(k));
        ok = hyper_default(vm, name, mlp_cstr(k), v, &o->hdefs[i], &sched) && o->hnames[i];
    }
    o->hnames[nh] = dup_str("t");
    for (size_t i = 0; ok && i < ns; i++) {
        mlp_value k, v;
        mlp_record_entry(a[2], i, &k, &v);
        arrays[2 + i] = mlp_cstr(k);
        o->sinit[i] = dup_str(mlp_is_string(v) ? mlp_cstr(v) : "0");
        ok = o->sinit[i] != NULL;
    }
    if (!ok || !o->hnames[nh]) {
        opt_destroy(o);
        return false;
    }
    rt_error err;
    o->kernel = rt_expr_compile(body, 2 + o->ns, arrays, o->nh + 1, (const char *const *)o->hnames, &err);
    double v;
    bool init_ok = true;
    for (int i = 0; o->kernel && init_ok && i < o->ns; i++)
        init_ok = rt_expr_eval_scalar(o->sinit[i], o->nh, (const char *const *)o->hnames, o->hdefs,
                                      &v, &err);
    if (!o->kernel || !init_ok) {
        opt_destroy(o);
        return mlp_raise(vm, "optimizer %s: %s", name, err.msg);
    }
    o->def.name = o->name;
    o->def.nhypers = o->nh;
    o->def.hyper_names = (const char *const *)o->hnames;
    o->def.hyper_defaults = o->hdefs;
    o->def.nslots = o->ns;
    o->def.ctx = o;
    o->def.slot_init = opt_slot_init;
    o->def.step = opt_step;
    o->def.retain = opt_retain;
    o->def.release = opt_release;
    o->refs = 0;
    rt_optim *opt = rt_optim_create_custom(&o->def, &err);   /* refs becomes 1 */
    if (!opt) {
        opt_destroy(o);
        return mlp_raise(vm, "optimizer %s: %s", name, err.msg);
    }
    *out = std_optimizer_new(vm, opt, sched);
    return !mlp_is_nil(*out);
}

/* ---- C kernels ------------------------------------------------------------------ */

/* The bound function behind v, whose declared types must be `want`;
 * NULL + error naming the role and both signatures. */
static ffi_fn *c_kernel_arg(mlp_vm *vm, const char *what, const char *role, mlp_value v,
                            const char *want, const char *decl)
{
    ffi_fn *f = ffi_fn_of(v);
    if (!f) {
        mlp_raise(vm, "%s: the %s must be a function declared with `extern`, got %s", what, role,
                  mlp_type_name(v));
        return NULL;
    }
    if (want && strcmp(ffi_fn_signature(f), want) != 0) {
        mlp_raise(vm, "%s: the %s %s is declared %s; it must be declared %s", what, role,
                  ffi_fn_name(f), ffi_fn_signature(f), decl);
        return NULL;
    }
    return f;
}

typedef struct c_act {
    rt_act_custom c;
    char *name;
    ffi_fn *fwd, *grad;
} c_act;

static void c_act_free(void *p)
{
    c_act *a = p;
    ffi_fn_release(a->fwd);
    ffi_fn_release(a->grad);
    free(a->name);
    free(a);
}

static void c_act_forward(void *ctx, const float *z, float *y, long n)
{
    const c_act *a = ctx;
    int64_t len = n;
    void *args[3] = {&z, &y, &len};
    ffi_fn_call(a->fwd, args);
}

static void c_act_backward(void *ctx, const float *z, const float *y, const float *dy, float *dz,
                           long n)
{
    const c_act *a = ctx;
    int64_t len = n;
    void *args[5] = {&z, &y, &dy, &dz, &len};
    ffi_fn_call(a->grad, args);
}

/* __c_activation(name, forward, derivative): two externs as an activation */
static bool n_c_activation(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const char *name;
    if (!std_str_arg(vm, "__c_activation", "name", a[0], &name)) return false;
    char what[96];
    snprintf(what, sizeof what, "activation %s", name);
    ffi_fn *fwd = c_kernel_arg(vm, what, "forward function", a[1], "void(ptr,ptr,long)",
                               "(x: ptr, y: ptr, n: long), for void f(const float *x, float *y, "
                               "int64_t n)");
    ffi_fn *grad = fwd ? c_kernel_arg(vm, what, "derivative function", a[2], "void(ptr,ptr,ptr,ptr,long)",
                                      "(x: ptr, y: ptr, dy: ptr, dx: ptr, n: long), for void "
                                      "f(const float *x, const float *y, const float *dy, float *dx, "
                                      "int64_t n) computing dx = dy * f'(x)")
                       : NULL;
    if (!grad) return false;
    c_act *act = calloc(1, sizeof *act);
    if (!act || !(act->name = dup_str(name))) {
        free(act);
        return mlp_raise(vm, "out of memory");
    }
    act->fwd = ffi_fn_retain(fwd);
    act->grad = ffi_fn_retain(grad);
    act->c.name = act->name;
    act->c.forward = c_act_forward;
    act->c.backward = c_act_backward;
    act->c.ctx = act;
    if (!keep(vm, act, c_act_free)) return false;
    return custom_activation_value(vm, &act->c, out);
}

typedef struct c_opt {
    rt_optim_custom def;
    int refs;
    char *name;
    int nh, ns;
    char *hnames[8];
    double hdefs[8];
    bool hfloat[8];              /* the kernel declares this hyperparameter float */
    int tkind;                   /* 0: no t; 'l': long t; 'i': int t */
    ffi_fn *kernel;
} c_opt;

static void c_opt_destroy(c_opt *o)
{
    ffi_fn_release(o->kernel);
    for (int i = 0; i < o->nh; i++) free(o->hnames[i]);
    free(o->name);
    free(o);
}

static void c_opt_retain(void *ctx) { __atomic_add_fetch(&((c_opt *)ctx)->refs, 1, __ATOMIC_RELAXED); }
static void c_opt_release(void *ctx)
{
    c_opt *o = ctx;
    if (__atomic_sub_fetch(&o->refs, 1, __ATOMIC_ACQ_REL) == 0) c_opt_destroy(o);
}

/* One step: a call of the kernel per trainable tensor. */
static bool c_opt_step(void *ctx, const double *h, long t, rt_param *params, int nparams,
                       float *const *slots, rt_error *err)
{
    const c_opt *o = ctx;
    union { void *p; int64_t l; int32_t i; float f; double d; } vals[2 + MAX_STATES + 1 + 8 + 1];
    void *args[sizeof vals / sizeof vals[0]];
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) args[k] = &vals[k];
    int c = 2 + o->ns;
    vals[c + 1 + o->nh].l = t;                     /* t, if the kernel takes it */
    if (o->tkind == 'i') vals[c + 1 + o->nh].i = t > INT32_MAX ? INT32_MAX : (int32_t)t;
    for (int i = 0; i < o->nh; i++) {
        if (o->hfloat[i]) vals[c + 1 + i].f = (float)h[i];
        else vals[c + 1 + i].d = h[i];
    }
    for (int p = 0; p < nparams; p++) {
        if (!params[p].trainable || params[p].size == 0) continue;
        vals[0].p = params[p].w;
        vals[1].p = params[p].g;
        for (int s = 0; s < o->ns; s++) vals[2 + s].p = slots[p * o->ns + s];
        vals[c].l = params[p].size;
        ffi_fn_call(o->kernel, args);
    }
    (void)err;
    return true;
}

/* Checks the kernel's declared types against the update form (see the top
 * of this file) for nh hyperparameters; fills o's states, hfloat, tkind. */
static bool c_opt_shape(mlp_vm *vm, const char *what, c_opt *o, const ffi_fn *f)
{
    int np = ffi_fn_nparams(f), i = 2;
    bool ok = ffi_fn_return_type(f) == FFI_T_VOID && np >= 3 &&
              ffi_fn_param_type(f, 0) == FFI_T_PTR && ffi_fn_param_type(f, 1) == FFI_T_PTR;
    while (ok && i < np && ffi_fn_param_type(f, i) == FFI_T_PTR) i++;
    o->ns = i - 2;
    ok = ok && i < np && ffi_fn_param_type(f, i) == FFI_T_LONG;
    i++;
    for (int k = 0; ok && k < o->nh; k++, i++) {
        ffi_ctype t = i < np ? ffi_fn_param_type(f, i) : FFI_T_VOID;
        ok = t == FFI_T_DOUBLE || t == FFI_T_FLOAT;
        o->hfloat[k] = ok && t == FFI_T_FLOAT;
    }
    if (ok && i < np) {
        ffi_ctype t = ffi_fn_param_type(f, i++);
        o->tkind = t == FFI_T_LONG ? 'l' : t == FFI_T_INT ? 'i' : 0;
        ok = o->tkind != 0;
    }
    ok = ok && i == np;
    if (ok && o->ns > MAX_STATES)
        return mlp_raise(vm, "%s: the update function %s has %d state arrays; at most %d", what,
                         ffi_fn_name(f), o->ns, MAX_STATES);
    if (ok) return true;
    char hy[160] = "";
    for (int k = 0; k < o->nh; k++)
        snprintf(hy + strlen(hy), sizeof hy - strlen(hy), ", %s: double", o->hnames[k]);
    return mlp_raise(vm, "%s: the update function %s is declared %s; it must be declared "
                     "(w: ptr, g: ptr, one ptr per state, n: long%s[, t: long]) returning nothing",
                     what, ffi_fn_name(f), ffi_fn_signature(f), hy);
}

/* __c_optimizer(name, {hyper: default}, update): an extern as an optimizer */
static bool n_c_optimizer(mlp_vm *vm, mlp_value *a, int n, mlp_value *out)
{
    const char *name;
    if (!std_str_arg(vm, "__c_optimizer", "name", a[0], &name)) return false;
    if (!mlp_is_record(a[1])) return mlp_raise(vm, "__c_optimizer: hyperparameters must be a record");
    char what[96];
    snprintf(what, sizeof what, "optimizer %s", name);
    ffi_fn *f = c_kernel_arg(vm, what, "update function", a[2], NULL, NULL);
    if (!f) return false;
    size_t nh = mlp_record_len(a[1]);
    const std_schedule *sched = NULL;
    if (nh > 7) return mlp_raise(vm, "%s: at most 7 hyperparameters, got %zu", what, nh);
    c_opt *o = calloc(1, sizeof *o);
    if (!o || !(o->name = dup_str(name))) {
        free(o);
        return mlp_raise(vm, "out of memory");
    }
    bool ok = true;
    for (size_t i = 0; ok && i < nh; i++) {
        mlp_value k, v;
        mlp_record_entry(a[1], i, &k, &v);
        if (!(o->hnames[i] = dup_str(mlp_cstr(k)))) ok = mlp_raise(vm, "out of memory");
        o->nh = (int)i + 1;
        if (!ok) break;
        ok = hyper_default(vm, what, mlp_cstr(k), v, &o->hdefs[i], &sched);
    }
    if (!ok || !c_opt_shape(vm, what, o, f)) {
        c_opt_destroy(o);
        return false;
    }
    o->kernel = ffi_fn_retain(f);
    o->def.name = o->name;
    o->def.nhypers = o->nh;
    o->def.hyper_names = (const char *const *)o->hnames;
    o->def.hyper_defaults = o->hdefs;
    o->def.nslots = o->ns;
    o->def.ctx = o;
    o->def.slot_init = NULL;          /* states start at zero */
    o->def.step = c_opt_step;
    o->def.retain = c_opt_retain;
    o->def.release = c_opt_release;
    rt_error err;
    rt_optim *opt = rt_optim_create_custom(&o->def, &err);   /* refs becomes 1 */
    if (!opt) {
        c_opt_destroy(o);
        return mlp_raise(vm, "%s: %s", what, err.msg);
    }
    *out = std_optimizer_new(vm, opt, sched);
    return !mlp_is_nil(*out);
}

/* ---- registration ------------------------------------------------------------- */

static const mlp_native natives[] = {
    { "__activation", "name, forward, derivative", n_activation,
      "__activation(name, forward, derivative): what `activation NAME(x) = expr` compiles to" },
    { "__optimizer", "name, hypers, states, body", n_optimizer,
      "__optimizer(name, hypers, states, body): what `optimizer NAME(...) { ... }` compiles to" },
    { "__c_activation", "name, forward, derivative", n_c_activation,
      "__c_activation(name, forward, derivative): what `activation NAME = extern f, df` compiles to" },
    { "__c_optimizer", "name, hypers, update", n_c_optimizer,
      "__c_optimizer(name, hypers, update): what `optimizer NAME(...) = extern update` compiles to" },
};

bool std_open_ext(mlp_vm *vm)
{
    return mlp_register(vm, natives, sizeof natives / sizeof natives[0]) && ffi_open(vm);
}
