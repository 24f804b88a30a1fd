/*
 * mlp.h — the embedding API of the mlp language.
 *
 * This is the one header the stdlib, the REPL, the CLI and the tests build
 * on. Everything a host does with the language goes through an `mlp_vm *`:
 * there is no global state, so several interpreters may live in one process
 * (in different threads, one thread per interpreter at a time).
 *
 * Values. An `mlp_value` is a small struct passed by value: nil, a boolean, a
 * number (double), or a reference to a heap object (string, list, record,
 * range, function, module, host handle). Heap objects belong to the VM's
 * tracing garbage collector; a host never frees them.
 *
 * The GC rule, stated once. A collection may run at any allocation (any
 * call that creates a string, list, record, handle, or runs code). A value
 * is safe across such a call only if the VM can see it:
 *   - the `args` array and `*out` of a native are rooted for the duration of
 *     the call;
 *   - globals, and anything reachable from a rooted value, are rooted;
 *   - anything else a native builds and still needs after a further
 *     allocation must be protected with mlp_push_root / mlp_pop_root
 *     (strictly nested, popped before the native returns).
 * Host handles hold values through their class's `mark` callback.
 *
 * Strings are immutable UTF-8 byte sequences with an explicit length (they
 * may contain NUL). mlp_cstr returns a NUL-terminated pointer owned by the
 * string, valid while the string is reachable.
 *
 * Errors. A native reports a user mistake by `return mlp_raise(vm, ...)`;
 * the VM adds the location of the calling instruction and a traceback of the
 * .mlp frames. Entry points return an mlp_status; on failure the message has
 * already been written to the error callback.
 */
#ifndef MLP_H
#define MLP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define MLP_VERSION "0.1.0"

typedef struct mlp_vm mlp_vm;
typedef struct mlp_obj mlp_obj;

/* The dynamic type of a value, as `type(x)` names it (handles use their class
 * name). MLP_T_UNDEF never escapes the VM: it marks a global declared but not
 * yet defined and a parameter whose argument is missing. */
typedef enum mlp_type {
    MLP_T_NIL, MLP_T_BOOL, MLP_T_NUMBER,
    MLP_T_STRING, MLP_T_LIST, MLP_T_RECORD, MLP_T_RANGE,
    MLP_T_FUNCTION, MLP_T_NATIVE, MLP_T_MODULE, MLP_T_HANDLE,
    MLP_T_UNDEF
} mlp_type;

typedef struct mlp_value {
    mlp_type type;
    union {
        bool b;
        double n;
        mlp_obj *o;
    } as;
} mlp_value;

typedef enum mlp_status {
    MLP_OK = 0,
    MLP_COMPILE_ERROR,
    MLP_RUNTIME_ERROR,
    MLP_IO_ERROR,
    MLP_INCOMPLETE /* mlp_eval_repl: input ended inside an unfinished construct */
} mlp_status;

/* ---- the interpreter ---------------------------------------------------- */

typedef void (*mlp_write_fn)(void *ud, const char *s, size_t n);

typedef struct mlp_config {
    mlp_write_fn write_out; /* program output (print); NULL: stdout */
    mlp_write_fn write_err; /* error reports; NULL: stderr */
    void *ud;               /* passed to both callbacks */
    bool trace;             /* print each instruction and the stack to write_err */
} mlp_config;

/* cfg may be NULL (all defaults). Returns NULL only if out of memory. The
 * env variable MLP_GC_STRESS=1 makes every allocation collect (for tests). */
mlp_vm *mlp_vm_new(const mlp_config *cfg);
/* Frees every object and the VM itself. */
void mlp_vm_free(mlp_vm *vm);

mlp_status mlp_run_file(mlp_vm *vm, const char *path);
/* `name` is the file name used in messages and for relative imports. */
mlp_status mlp_run_source(mlp_vm *vm, const char *name, const char *src, size_t len);
/* Parses and compiles without running (the fuzzer's entry). */
mlp_status mlp_check_source(mlp_vm *vm, const char *name, const char *src, size_t len);
/* Writes a listing of every function's bytecode to the output callback. */
mlp_status mlp_disasm_source(mlp_vm *vm, const char *name, const char *src, size_t len);
/* REPL: runs one chunk in the persistent global scope of the session and
 * echoes the value of a final expression statement. MLP_INCOMPLETE when the
 * parser met the end of input inside an unfinished construct (nothing is
 * printed then); errors leave earlier definitions intact. */
mlp_status mlp_eval_repl(mlp_vm *vm, const char *src, size_t len);

/* True once the program called exit(code) (then *code, if not NULL, is the
 * status). The entry point that ran it returned MLP_RUNTIME_ERROR without
 * printing anything; the host should stop with that status. */
bool mlp_exit_requested(mlp_vm *vm, int *code);

/* Async-signal-safe: the running program stops with the runtime error
 * "interrupted" at its next backward jump or call. */
void mlp_interrupt(mlp_vm *vm);
/* For long natives: true once an interrupt is pending. */
bool mlp_interrupted(mlp_vm *vm);

/* ---- values --------------------------------------------------------------- */

static inline mlp_value mlp_nil(void) { mlp_value v; v.type = MLP_T_NIL; v.as.n = 0; return v; }
static inline mlp_value mlp_bool(bool b) { mlp_value v; v.type = MLP_T_BOOL; v.as.n = 0; v.as.b = b; return v; }
static inline mlp_value mlp_number(double n) { mlp_value v; v.type = MLP_T_NUMBER; v.as.n = n; return v; }
static inline mlp_type mlp_typeof(mlp_value v) { return v.type; }
static inline bool mlp_is_nil(mlp_value v) { return v.type == MLP_T_NIL; }
static inline bool mlp_is_bool(mlp_value v) { return v.type == MLP_T_BOOL; }
static inline bool mlp_is_number(mlp_value v) { return v.type == MLP_T_NUMBER; }
static inline bool mlp_is_string(mlp_value v) { return v.type == MLP_T_STRING; }
static inline bool mlp_is_list(mlp_value v) { return v.type == MLP_T_LIST; }
static inline bool mlp_is_record(mlp_value v) { return v.type == MLP_T_RECORD; }
static inline bool mlp_is_callable(mlp_value v) {
    return v.type == MLP_T_FUNCTION || v.type == MLP_T_NATIVE || v.type == MLP_T_HANDLE;
}
static inline bool mlp_as_bool(mlp_value v) { return v.as.b; }
static inline double mlp_as_number(mlp_value v) { return v.as.n; }
/* nil and false are false; everything else is true. */
static inline bool mlp_truthy(mlp_value v) {
    return !(v.type == MLP_T_NIL || (v.type == MLP_T_BOOL && !v.as.b));
}
/* The name `type(x)` returns. */
const char *mlp_type_name(mlp_value v);

mlp_value mlp_string(mlp_vm *vm, const char *s, size_t len);
mlp_value mlp_string_cstr(mlp_vm *vm, const char *s);
/* NUL-terminated bytes of a string value (NULL if v is not a string). */
const char *mlp_cstr(mlp_value v);
size_t mlp_strlen(mlp_value v);

mlp_value mlp_list_new(mlp_vm *vm);
size_t mlp_list_len(mlp_value list);
mlp_value mlp_list_get(mlp_value list, size_t i);           /* i < len */
void mlp_list_set(mlp_value list, size_t i, mlp_value v);   /* i < len */
void mlp_list_push(mlp_vm *vm, mlp_value list, mlp_value v);

mlp_value mlp_record_new(mlp_vm *vm);
/* false when the key is absent. */
bool mlp_record_get(mlp_value rec, const char *key, mlp_value *out);
void mlp_record_set(mlp_vm *vm, mlp_value rec, const char *key, mlp_value v);
size_t mlp_record_len(mlp_value rec);
/* The i-th entry in insertion order (i < mlp_record_len). */
void mlp_record_entry(mlp_value rec, size_t i, mlp_value *key, mlp_value *val);

/* How deep values may nest: a list or record counts 1 plus the deepest of
 * its elements (scalars 0), so [[1]] is 2 deep. `==`, str()/print/save and
 * the transport of values between -j worker processes all handle any value
 * up to this depth in full (iteratively, never on the C stack) and fail
 * past it with the runtime error "value nested too deeply (more than 10000
 * levels)". One rule everywhere, so serial and -j runs agree. */
#define MLP_MAX_VALUE_DEPTH 10000

/* The text `str(v)` gives, as a new string value. A value nested past
 * MLP_MAX_VALUE_DEPTH raises the runtime error (unwinding the native that
 * asked, as any runtime error does); outside a running program it returns
 * nil with the error pending. */
mlp_value mlp_tostring(mlp_vm *vm, mlp_value v);
/* `==` of the language. Values nested past MLP_MAX_VALUE_DEPTH compare
 * unequal here (the language's == raises the error instead). */
bool mlp_equal(mlp_value a, mlp_value b);

/* ---- natives -------------------------------------------------------------- */

/* args holds one value per declared parameter (defaults filled in, a `*rest`
 * parameter as one list); nargs is their count. Set *out (it starts nil) and
 * return true, or return mlp_raise(...). */
typedef bool (*mlp_native_fn)(mlp_vm *vm, mlp_value *args, int nargs, mlp_value *out);

typedef struct mlp_native {
    const char *name;
    /* Parameters in the language's own syntax: "x, digits=nil",
     * "*args, sep=\" \", end=\"\\n\"". Defaults must be literals (numbers,
     * strings, true/false/nil, lists of these). NULL: positional only, any
     * count, passed as given. */
    const char *params;
    mlp_native_fn fn;
    const char *doc;
} mlp_native;

/* Defines each entry as a builtin global. Returns false (and reports to the
 * error callback) if a params string does not parse: a programming error. */
bool mlp_register(mlp_vm *vm, const mlp_native *table, size_t n);
/* The doc line of a registered native (the most recent registration of the
 * name), else one given by mlp_set_doc, else NULL. */
const char *mlp_native_doc(mlp_vm *vm, const char *name);
/* Documents a builtin that is not a native (a value such as an activation,
 * an optimizer, a loss or a callable handle), for the REPL's :help. The doc
 * should start "name: " or "name(". */
void mlp_set_doc(mlp_vm *vm, const char *name, const char *doc);
/* The params string of a registered native, or NULL. */
const char *mlp_native_params(mlp_vm *vm, const char *name);

/* Formats a runtime error and returns false. */
bool mlp_raise(mlp_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same for a file that could not be written (a full disk, a directory
 * that cannot be written, a path that is a directory): still a located
 * runtime error, but a run that ends with it exits 74 (I/O), not 70. */
bool mlp_raise_io(mlp_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Calls a function (closure, native, callable handle) with argc positional
 * arguments and the keyword arguments of `kwargs` (a record, or nil).
 * Re-entrant. On a runtime error returns false with the error pending: the
 * native should itself return false. */
bool mlp_call(mlp_vm *vm, mlp_value callee, int argc, const mlp_value *argv,
              mlp_value kwargs, mlp_value *result);
/* As mlp_call, but a runtime error is caught: returns false, clears the
 * error and stores its message (a string value) in *result. */
bool mlp_pcall(mlp_vm *vm, mlp_value callee, int argc, const mlp_value *argv,
               mlp_value kwargs, mlp_value *result);
/* As mlp_pcall, and *report is the error as the VM would print it (the
 * located message, source line, caret and traceback), nil on success. */
bool mlp_pcall_report(mlp_vm *vm, mlp_value callee, int argc, const mlp_value *argv,
                      mlp_value kwargs, mlp_value *result, mlp_value *report);
/* Calls the registered native `name` (a builtin such as "list"), whatever
 * the script has bound to that name. */
bool mlp_call_native(mlp_vm *vm, const char *name, int argc, const mlp_value *argv,
                     mlp_value *result);

/* ---- host handles -------------------------------------------------------- */

/* What a class's `floats` answers. Either `data` is the handle's own
 * storage (copy false: C code may write into it and the handle sees the
 * change) or a malloc'd copy (copy true: for storage that is not float32
 * or must not change, such as a dataset's pixels; the caller frees it and
 * whatever was written there is lost). */
typedef struct mlp_floats {
    float *data;
    int64_t len;
    bool copy;
} mlp_floats;

typedef struct mlp_class {
    const char *name;                          /* what type(x) says */
    void (*free)(void *data);                  /* may be NULL */
    void (*mark)(mlp_vm *vm, void *data);      /* calls mlp_mark for held values; may be NULL */
    /* h.field: set *out and return true; return false with mlp_raise for an
     * error. `self` is the handle itself (for values that refer back to it,
     * e.g. a view or a bound method). NULL: handles of this class have no
     * fields. */
    bool (*get)(mlp_vm *vm, mlp_value self, void *data, const char *field, mlp_value *out);
    /* h(args, k=v): kwargs is a record or nil. NULL: not callable. */
    bool (*call)(mlp_vm *vm, void *data, mlp_value *args, int nargs, mlp_value kwargs,
                 mlp_value *out);
    /* str(h): a new string value of any length (e.g. a whole results
     * table). NULL: "<name>". */
    mlp_value (*tostring)(mlp_vm *vm, void *data);
    /* "a, b, c": the field names `get` answers, for the REPL's completion.
     * NULL: none listed. */
    const char *fields;
    /* The values as one flat float32 array, for C code (an extern's
     * `tensor` parameter, lang/ffi_lang.h): fill *out and return true, or
     * return false with mlp_raise (e.g. a kind that cannot be offered).
     * NULL: handles of this class are not tensors. */
    bool (*floats)(mlp_vm *vm, void *data, mlp_floats *out);
    /* len(h), and what `for x in h` counts. NULL: no length. */
    bool (*len)(mlp_vm *vm, void *data, int64_t *out);
    /* h[i] (i as given, any value); `for x in h` is h[0], h[1], ... up to
     * len. NULL: not indexable. */
    bool (*index)(mlp_vm *vm, mlp_value self, void *data, mlp_value i, mlp_value *out);
    /* a op b for op '+', '-', '*' or '/' where a or b (or both) is a handle
     * of this class and the language has no meaning for it. NULL: an error. */
    bool (*arith)(mlp_vm *vm, int op, mlp_value a, mlp_value b, mlp_value *out);
    /* print(h, digits=N): the text with numbers to N decimals (e.g. a
     * results table). NULL: print shows str(h) whatever the digits. */
    mlp_value (*format)(mlp_vm *vm, void *data, int digits);
} mlp_class;

mlp_value mlp_handle(mlp_vm *vm, const mlp_class *cls, void *data);
/* The handle's data if v is a handle of class cls, else NULL. */
void *mlp_handle_data(mlp_value v, const mlp_class *cls);
void mlp_mark(mlp_vm *vm, mlp_value v);

/* ---- roots, globals, host state, output --------------------------------- */

void mlp_push_root(mlp_vm *vm, mlp_value v);
void mlp_pop_root(mlp_vm *vm);

/* Builtin-level globals, visible to every script and module. */
void mlp_set_global(mlp_vm *vm, const char *name, mlp_value v);
/* Looks in the main script's globals, then the builtins. */
bool mlp_get_global(mlp_vm *vm, const char *name, mlp_value *out);

/* The name and text of the script running now (the outermost frame's
 * source: the main script, or the REPL's line); false when none runs. */
bool mlp_main_source(mlp_vm *vm, const char **name, const char **text, size_t *len);

/* The host's per-interpreter state, the one place for it: a handle (its
 * class's mark callback keeps the values it holds alive) that the VM roots
 * and frees with the interpreter. mlp_host returns its data, or NULL
 * before mlp_set_host. */
void *mlp_host(mlp_vm *vm);
void mlp_set_host(mlp_vm *vm, mlp_value handle);
void mlp_write(mlp_vm *vm, const char *s, size_t n);
/* Writes to the error stream (the config's write_err, else stderr). */
void mlp_write_err(mlp_vm *vm, const char *s, size_t n);

/* ---- introspection (the REPL's completion, :disasm) --------------------- */

typedef void (*mlp_name_fn)(void *ud, const char *name);
/* Calls fn with the name of every defined global: the main script's, then
 * the builtins (a name defined in both comes twice). */
void mlp_each_global(mlp_vm *vm, mlp_name_fn fn, void *ud);
/* Calls fn with each field name of v: a record's keys, a module's members,
 * the names a handle's class lists in `fields`. Nothing for other values. */
void mlp_each_field(mlp_vm *vm, mlp_value v, mlp_name_fn fn, void *ud);
/* v.name as the language reads it, but never raising: false (and no error
 * pending) when v has no such field. */
bool mlp_peek_field(mlp_vm *vm, mlp_value v, const char *name, mlp_value *out);
/* Writes the bytecode of a function value (and of the functions it
 * contains) to the output callback; false if v is not an mlp function. */
bool mlp_disasm_value(mlp_vm *vm, mlp_value v);

/* ---- modules -------------------------------------------------------------- */

/* Embedded modules `import "name"` falls back to (the stdlib's .mlp files).
 * The table must outlive the VM (it is normally static). */
typedef struct mlp_module_src {
    const char *name;
    const char *source;
} mlp_module_src;
void mlp_add_modules(mlp_vm *vm, const mlp_module_src *mods, size_t n);

#endif
