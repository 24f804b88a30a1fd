/*
 * vm.h — the interpreter state and the execution engine (internal).
 *
 * One struct mlp_vm holds everything: the value stack and call frames, the
 * heap (object list, byte accounting, gray stack), the builtin namespace, the
 * main script's namespace, the module cache, the pending error. Nothing is
 * global, so interpreters are independent.
 *
 * Stack discipline. A call frame's slots start at `base`; the callee value
 * sits at base[-1] and receives the result. The stack has a fixed capacity
 * (slots never move, so upvalues may point into it); a call checks that the
 * callee's max_stack fits and otherwise raises "stack overflow".
 *
 * Errors. A failing operation records a message (vm->err_msg) and returns
 * false; the innermost run loop that sees it "locates" the error once
 * (location of the current instruction plus a traceback of every frame),
 * unwinds its own frames and returns false up through any natives, until an
 * entry point prints the report or mlp_pcall catches it.
 */
#ifndef MLP_VM_H
#define MLP_VM_H

#include <setjmp.h>
#include <signal.h>

#include "object.h"

#define VM_STACK_MAX (1 << 18)
#define VM_FRAMES_MAX 8000
#define VM_NEST_MAX 180 /* nested run loops (natives calling back) */
#define VM_ROOTS_MAX 256
/* Memory held back so that reporting "out of memory" (the collector's gray
 * stack, the located message and traceback) never itself runs out. */
#define VM_RESERVE (1u << 20)

/* A guard: where a runtime error raised deep inside an allocation (out of
 * memory, a list grown past its length field), where no error can be
 * returned, unwinds to. vm_call_value installs one around every run of
 * code, the entry points one around compiling; vm_throw longjmps to the
 * innermost, which restores the counters below, unwinds its frames and
 * returns the error like any other. C code between the guard and the
 * throw (a native half way through its work) is abandoned: what it had
 * malloc'd outside the collector is lost, which is acceptable on the way
 * to reporting an error. */
typedef struct VmGuard {
    jmp_buf jb;
    struct VmGuard *prev;
    int nroots, gc_paused, nest;
} VmGuard;

typedef struct Frame {
    ObjClosure *cl;
    uint8_t *ip;
    Value *base;
} Frame;

struct mlp_vm {
    mlp_config cfg;
    Value *stack, *sp, *stack_end;
    Frame frames[VM_FRAMES_MAX];
    int nframes;
    int nest;
    ObjUpvalue *open_upvals;

    /* heap */
    Obj *objects;
    size_t bytes, next_gc;
    bool stress;
    int gc_paused;
    Obj **gray;
    size_t ngray, graycap;
    Value roots[VM_ROOTS_MAX];
    int nroots;

    ObjNamespace *builtins;
    ObjNamespace *main_ns;
    ObjRecord *modules;         /* name -> module value */
    const mlp_module_src *mods[16];
    size_t nmods[16];
    int nmodtabs;
    ObjList *natives;           /* keeps ObjNative alive for doc lookup */
    ObjProto *compiling;        /* chain of protos being built: GC roots */
    ObjList *compile_roots;     /* constants/protos created during compilation */

    /* error state */
    bool err_pending;
    bool err_located;
    bool err_compile;           /* the error is an imported module's compile errors */
    bool err_io;                /* the error is a failed write (mlp_raise_io): exit 74 */
    char err_msg[1024];
    char *err_report;           /* located report, malloc'd */
    size_t err_report_len;
    bool exiting;               /* the pending error is exit(exit_code): unwind, print nothing */
    int exit_code;

    VmGuard *guard;             /* innermost, or NULL */
    void *reserve;              /* VM_RESERVE bytes freed when memory runs out */
    size_t big_alloc;           /* requests from this size on are checked against free memory */

    volatile sig_atomic_t interrupted;
    Value host;                 /* the host's state: a handle (mlp_set_host), a GC root */
    const struct mlp_ew_lib *ewise; /* elementwise expressions (compiler/ewise.h) */
    bool repl;
};

/* Raises a located runtime error from anywhere under a guard (never
 * returns). Without a guard (host code outside any run) the message is
 * written to stderr and the process exits with 70. */
_Noreturn void vm_throw(mlp_vm *vm, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void vm_guard_enter(mlp_vm *vm, VmGuard *g);
void vm_guard_leave(mlp_vm *vm, VmGuard *g);
/* After setjmp(g->jb) returned nonzero: restores the counters and pops g. */
void vm_guard_caught(mlp_vm *vm, VmGuard *g);

/* Runs closure cl (already on the stack at callee position with its args
 * bound) to completion; false on a runtime error (pending, located). */
bool vm_call_value(mlp_vm *vm, int argc, int nkw, ObjList *kwnames, Value *result);
/* Records a runtime error and returns false: the VM's own name for
 * mlp_raise (mlp.h), one function. */
#define vm_error mlp_raise
/* Records the location and trace of the pending error, once. */
void vm_locate_error(mlp_vm *vm);
void vm_clear_error(mlp_vm *vm);
void vm_print_error(mlp_vm *vm);
/* Runs a compiled top-level proto as a script (or module) body. */
bool vm_run_proto(mlp_vm *vm, ObjProto *p, Value *result);
/* Binds positional + keyword arguments to sig; out has sig->n slots. */
bool vm_bind_args(mlp_vm *vm, const char *fname, Signature *sig, Value *args, int argc,
                  Value *kwv, int nkw, ObjList *kwnames, Value *out, ObjList **star_out);
Value vm_import(mlp_vm *vm, ObjString *name, ObjSource *from, bool *ok);

/* ---- unpack.c ---- */
/* `x in container` (lists: an equal element; records: a key; strings: a
 * substring; ranges: one of its numbers). */
bool vm_contains(mlp_vm *vm, Value x, Value container, bool *res);
/* `let [a, b] = v`: v must be a list of exactly n values; writes them to
 * dst[0..n) (dst may be where v was). */
bool vm_unpack(mlp_vm *vm, Value v, int n, Value *dst);

#endif
