/*
 * std.h — internal to stdlib/: the seam between the language and the
 * runtime.
 *
 * Every neural-network value a script sees is a host handle (mlp.h) whose
 * data is a small C struct owning runtime objects: activations, losses,
 * optimizers, layer specs, models, histories, datasets, tensors and sweep
 * results tables. Each kind has one mlp_class here and one file that
 * defines it and the natives that make or use it:
 *
 *   host.c    per-interpreter state: thread pool, seed and RNG streams,
 *             the sweep being run; seed(), dialect()
 *   nn.c      activations, losses, optimizers, layers as values
 *   model.c   __model (the `model` construct), summary(), model handles
 *   train.c   fit(), evaluate(), predict(), histories, progress display
 *   data.c    datasets and tensors: mnist(), load_csv(), blobs() ...
 *   sweep.c   __sweep (the `sweep` construct), report(), results tables, save()
 *   persist.c save_model(), load_model() (safetensors), m.layers, set_weights()
 *   plot.c    plot() (terminal charts, PNG/SVG/PDF figures) and the HTML
 *             study report save() writes
 *   ext.c     __activation, __optimizer, __c_activation, __c_optimizer (the
 *             extension declarations; __extern itself is lang/ffi.c)
 *
 * Ownership: handle data is malloc'd by the maker and freed by the class's
 * free callback when the GC finds the handle unreachable; values a handle
 * holds (a model's history, a tensor's dataset) are reported by its mark
 * callback. Runtime objects are never shared between two handles unless
 * one marks the other.
 */
#ifndef MLP_STD_H
#define MLP_STD_H

#include <stdlib.h>
#include "mlp.h"
#include "activations.h"
#include "dataset.h"
#include "losses.h"
#include "model.h"
#include "optimizers.h"
#include "pool.h"
#include "rng.h"
#include "safetensors.h"
#include "schedule.h"

/* ---- host state --------------------------------------------------------- */

/* The random state a sweep point starts from: restoring it makes a point's
 * result independent of the points run before it. */
typedef struct std_random {
    uint64_t seed;
    rt_rng init;       /* model initialisation: one derived stream per model */
    rt_rng shuffle;    /* fit's epoch orders: one seed per fit */
    uint64_t models;   /* models made since the last seed()/restore */
} std_random;

typedef struct std_host {
    rt_pool *pool;
    std_random rnd;
    rt_dialect dialect;    /* default for optimizer names (dialect("torch")) */
    bool tty;              /* stdout is a terminal: live progress bars */
    bool epoch_lines;      /* off a terminal: one stderr line per epoch (not in
                              -j workers, not with MLP_PROGRESS=0) */
    mlp_value report;      /* rows list of the sweep point running now, or nil */
    mlp_value report_base; /* that point's axis values (a record), or nil */
    /* state of the other stdlib files, here so that there is one place */
    struct par_state *par; /* parallel.c: -j / MPI sweeps (NULL: serial), owned */
    mlp_value kernels;     /* ext.c: a list of handles owning user kernels, or nil */
    bool sweep_failed;     /* a point of some sweep failed: the script exits 70 */
    int sweep_depth;       /* sweep points this process runs inside (0: none) */
    bool extend_epochs;    /* a halving point: fit may resume a checkpoint of the
                              same fit with fewer epochs (checkpoint.c) */
} std_host;

std_host *std_host_of(mlp_vm *vm);
void std_random_seed(std_random *r, uint64_t seed);

/* ---- classes -------------------------------------------------------------- */

extern const mlp_class std_activation_class, std_loss_class,
    std_layer_class, std_model_class, std_history_class, std_dataset_class,
    std_tensor_class, std_table_class, std_method_class;

/* custom: a user-defined activation (ext.c; kept alive by the VM, see
 * there) instead of the row `act`. */
/* A built-in activation with its parameters (all of them, defaults filled
 * in), or a user-defined one (custom). */
typedef struct std_activation {
    rt_act act;
    float params[RT_ACT_MAX_PARAMS];
    const rt_act_custom *custom;
} std_activation;
typedef struct std_layer { rt_layer_spec spec; int input; /* features, 0: unknown */ } std_layer;

typedef struct std_model {
    char *name;
    rt_layer_spec *specs;
    int nspecs;
    int in_features;       /* 0 until known */
    rt_rng rng;            /* the model's own init stream, fixed at creation */
    rt_model *m;           /* NULL until built */
    mlp_value history;     /* the last fit's history, or nil */
    /* Training that goes on from one fit to the next (train.c): the
     * optimizer with its state, the value it was made from, the data-order
     * seed and how many epochs ran with them. NULL/nil/0 before a fit. */
    rt_optim *opt;
    mlp_value opt_value;
    uint64_t shuffle_seed;
    long epochs_run;
    /* The plateau state of the optimizer's own lr schedule (Adam(lr=
     * reduce_on_plateau(...))), which goes on from fit to fit as the
     * optimizer's state does; valid when has_opt_sst. */
    rt_sched_state opt_sst;
    bool has_opt_sst;
    /* The loss of the last fit + 1 (0: none), which a fit without loss=
     * goes on with. A loaded model (persist.c) gets the loss and, as
     * opt_value with opt NULL, the optimizer it was saved with. */
    int loss_plus1;
} std_model;

typedef struct std_dataset { rt_dataset ds; } std_dataset;

/* A fit's history: one column per metric, n epochs (train.c). Columns in
 * this order; val_* are NaN without validation data. */
enum { STD_H_LOSS, STD_H_ACC, STD_H_VAL_LOSS, STD_H_VAL_ACC, STD_H_SECONDS, STD_H_LR, STD_H_COUNT };
extern const char *const std_history_names[STD_H_COUNT];
/* fit(metrics=[...]) adds columns after these: each metric, then val_ of
 * each (train.c); they stay in the process that ran the fit. */
enum { STD_MAX_METRICS = 8 };
typedef struct std_history {
    int n, cap;
    double *col[STD_H_COUNT];
    int nextra;                            /* 2 * the number of metrics */
    char extra_names[2 * STD_MAX_METRICS][32];
    double *xcol[2 * STD_MAX_METRICS];
} std_history;
/* A new history handle holding a copy of n epochs of the columns. */
mlp_value std_history_value(mlp_vm *vm, int n, double *const col[STD_H_COUNT]);

/* Builds m->m if not built yet, taking the input width from `features`
 * (0: must be known already). */
bool std_model_build(mlp_vm *vm, std_model *m, int64_t features);

/* An optimizer value (nn.c) is a handle owning the runtime optimizer,
 * which holds its hyperparameters, and the learning-rate schedule given as
 * its lr (`Adam(lr=cosine(0.001, epochs=20))`), or none; with a schedule,
 * the optimizer's lr holds the schedule's first rate. The class is private
 * to nn.c: other files go through these functions. */
struct std_schedule;
/* A new optimizer value owning o, with a copy of sched (may be NULL). */
mlp_value std_optimizer_new(mlp_vm *vm, rt_optim *o, const struct std_schedule *sched);
/* The optimizer behind v, or NULL when v is not an optimizer (no error). */
rt_optim *std_optim_of(mlp_value v);
/* The schedule given as v's lr, or NULL (a number, or v no optimizer). */
const struct std_schedule *std_optim_schedule(mlp_value v);
/* The optimizer behind a value (an optimizer handle); NULL + error. */
rt_optim *std_optimizer_value(mlp_vm *vm, const char *fn, const char *arg, mlp_value v);
/* Rebinds the optimizer globals (Adam, SGD, ...) to `dialect`'s rows. */
bool std_bind_optimizers(mlp_vm *vm, rt_dialect dialect);
/* Short text for tables: "Adam", "SGD(lr=0.1)", "relu", numbers as str(). */
mlp_value std_short_text(mlp_vm *vm, mlp_value v);

/* A new dataset handle owning *ds (moved in). */
mlp_value std_dataset_value(mlp_vm *vm, rt_dataset *ds);
/* The rows of x for predict(): a dataset's .x (no copy) or a copy of a
 * tensor or list of rows into *tmp (which the caller frees). */
bool std_tensor_dataset(mlp_vm *vm, const char *fn, mlp_value v, rt_dataset *tmp,
                        const rt_dataset **out);
/* A new float tensor handle [rows x cols] owning data (rt_alloc'd).
 * Tensor handles answer mlp_class.floats, so an extern's `tensor`
 * parameter takes them: a float tensor lends its storage, a dataset's
 * .x / .y views are passed as float copies (data.c). */
mlp_value std_tensor_value(mlp_vm *vm, float *data, int rows, int cols);
/* A float tensor of shape [n] or [rows, cols] owning data (from rt_alloc). */
mlp_value std_tensor_of_shape(mlp_vm *vm, float *data, rt_shape shape);

/* A method value: self bound to the function fn (data.c). */
typedef struct std_method { mlp_value self, fn; } std_method;

/* ---- argument checks (errors name the function and the argument) ------- */

bool std_int_arg(mlp_vm *vm, const char *fn, const char *arg, mlp_value v,
                 long lo, long hi, long *out);
bool std_num_arg(mlp_vm *vm, const char *fn, const char *arg, mlp_value v, double *out);
bool std_str_arg(mlp_vm *vm, const char *fn, const char *arg, mlp_value v, const char **out);

/* The shortest text that reads back as the float x ("0.1", not
 * "0.100000001"), in buf. */
const char *std_float_text(float x, char buf[32]);

/* ---- registration --------------------------------------------------------- */

bool std_open_host(mlp_vm *vm);
bool std_open_nn(mlp_vm *vm);
bool std_open_model(mlp_vm *vm);
bool std_open_train(mlp_vm *vm);
bool std_open_data(mlp_vm *vm);
bool std_open_sweep(mlp_vm *vm);
bool std_open_ext(mlp_vm *vm);
bool std_open_persist(mlp_vm *vm);

/* m.layers (persist.c): one record per layer with its weights as tensors. */
bool std_model_layers(mlp_vm *vm, std_model *m, mlp_value *out);

/* A built model's weights as named tensors (persist.c): *out and the names
 * are malloc'd as one block (free(*out) releases both); the data is the
 * model's own. Returns the count, or -1 when out of memory. */
int std_weight_tensors(std_model *m, rt_st_tensor **out);
/* Copies every weight of the built model from a safetensors file read into
 * f, by name and shape; tensors whose names start with `skip` (may be NULL)
 * are someone else's. false + mlp_raise naming fn and path. */
bool std_weights_from_file(mlp_vm *vm, const char *fn, const char *path, std_model *m,
                           const rt_st_file *f, const char *skip);
/* The layer specs and input width as safetensors metadata (persist.c):
 * fills meta[0..3] ("mlp.name", "mlp.input", "mlp.layers", "mlp.version");
 * the strings are malloc'd into *owned (free it). false + mlp_raise. */
bool std_model_meta(mlp_vm *vm, const char *fn, std_model *m, rt_st_meta meta[4],
                    char **owned);
/* One layer spec as the JSON object of "mlp.layers" (a new reference; the
 * spec must not use a user-defined activation), and back: layer i's object
 * into *s, false + message in err. Both walk the kind's fields
 * (layer_spec.h). */
struct json_t;
struct json_t *std_spec_json(const rt_layer_spec *s);
bool std_spec_from_json(struct json_t *o, int i, rt_layer_spec *s, char *err, size_t size);
bool std_open_io(mlp_vm *vm);
bool std_open_plot(mlp_vm *vm);

/* ---- random search (search.c) and statistics (stats.c) ------------------ */

/* The stream of `sweep ... sample N` draws, keyed by the script's seed. */
enum { STD_STREAM_SAMPLE = 0x53414d50 };
extern const mlp_class std_dist_class, std_stat_class;
/* One value of a sampled variable: a list's element or a distribution's draw. */
bool std_draw(mlp_vm *vm, mlp_value axis, rt_rng *r, mlp_value *out);
bool std_open_search(mlp_vm *vm);
bool std_open_stats(mlp_vm *vm);
/* A summary's cell (a stat) as text with `digits` decimals; nil if v is none. */
mlp_value std_stat_cell(mlp_vm *vm, mlp_value v, int digits);
double std_t_p2(double t, double df);
double std_t_quantile(double p, double df);

/* ---- results tables (sweep.c) and what plot.c needs of them ------------ */

typedef struct std_table {
    mlp_value columns, rows;
    size_t naxes;          /* the first naxes columns are the sweep's variables */
    mlp_value seconds;     /* per row, its point's wall time (number), or nil */
    double spent, full;    /* halving: the resource spent, and a full grid's (else NaN) */
} std_table;
/* The text of a number in a printed table: `digits` decimals (0: whole),
 * scientific below 10^-digits. */
void std_number_text(double x, int digits, char buf[48]);
/* "opt=Adam act=relu": a row's axis values, naming it in legends. */
mlp_value std_row_label(mlp_vm *vm, const std_table *t, mlp_value row);
/* save(results, "x.html") (plot.c). */
bool std_save_html(mlp_vm *vm, const std_table *t, const char *path);
/* Installs the elementwise-expression library the compiler calls (ewise.c). */
void std_open_ewise(mlp_vm *vm);

#endif
