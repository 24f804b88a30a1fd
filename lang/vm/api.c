/*
 * api.c — the embedding API of mlp.h: interpreters, running code, values,
 * natives, calls back into the language, handles, roots.
 *
 * Entry points (mlp_run_*, mlp_eval_repl) are where errors end: compile
 * errors were printed by the compiler as found; a runtime error is printed
 * here, once, with its traceback, and cleared.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "builtins.h"
#include "compile.h"
#include "error.h"
#include "gc.h"
#include "opcodes.h"
#include "parse.h"
#include "vm.h"

/* ---- interpreters ---- */

mlp_vm *mlp_vm_new(const mlp_config *cfg) {
    mlp_vm *vm = (mlp_vm *)calloc(1, sizeof(mlp_vm));
    if (!vm) return NULL;
    if (cfg) vm->cfg = *cfg;
    vm->stack = (Value *)malloc(sizeof(Value) * VM_STACK_MAX);
    if (!vm->stack) {
        free(vm);
        return NULL;
    }
    vm->sp = vm->stack;
    vm->stack_end = vm->stack + VM_STACK_MAX - 16;
    const char *stress = getenv("MLP_GC_STRESS");
    vm->stress = stress && stress[0] == '1';
    vm->next_gc = 1u << 20;
    vm->big_alloc = (size_t)256 << 20;
    vm->reserve = malloc(VM_RESERVE);
    vm->gc_paused++;
    vm->builtins = ns_new(vm, str_new(vm, "<builtins>", 10));
    vm->main_ns = ns_new(vm, str_new(vm, "<script>", 8));
    vm->modules = rec_new(vm);
    vm->natives = list_new(vm, 0);
    vm->gc_paused--;
    if (!builtins_open(vm)) {
        mlp_vm_free(vm);
        return NULL;
    }
    return vm;
}

void mlp_vm_free(mlp_vm *vm) {
    if (!vm) return;
    gc_free_all(vm);
    free(vm->stack);
    free(vm->err_report);
    free(vm->reserve);
    free(vm);
}

bool mlp_exit_requested(mlp_vm *vm, int *code) {
    if (code) *code = vm->exit_code;
    return vm->exiting;
}

void mlp_interrupt(mlp_vm *vm) { vm->interrupted = 1; }
bool mlp_interrupted(mlp_vm *vm) { return vm->interrupted != 0; }
void *mlp_host(mlp_vm *vm) { return vm->host.type == MLP_T_HANDLE ? AS_HANDLE(vm->host)->data : NULL; }

bool mlp_main_source(mlp_vm *vm, const char **name, const char **text, size_t *len) {
    if (vm->nframes < 1 || !vm->frames[0].cl || !vm->frames[0].cl->proto->source) return false;
    ObjSource *src = vm->frames[0].cl->proto->source;
    *name = src->name;
    *text = src->text;
    *len = src->len;
    return true;
}
void mlp_set_host(mlp_vm *vm, mlp_value handle) { vm->host = handle; }

void mlp_write(mlp_vm *vm, const char *s, size_t n) {
    if (vm->cfg.write_out) vm->cfg.write_out(vm->cfg.ud, s, n);
    else fwrite(s, 1, n, stdout);
}

/* ---- running code ---- */

/* compile_source under a guard: running out of memory while compiling is a
 * runtime error (70), reported without a location. */
static ObjProto *compile_guarded(mlp_vm *vm, const char *name, const char *src, size_t len,
                                 ObjNamespace *ns, CompileOpts opts, mlp_status *st) {
    VmGuard g;
    vm_guard_enter(vm, &g);
    if (setjmp(g.jb)) {
        vm_guard_caught(vm, &g);
        vm_print_error(vm);
        *st = MLP_RUNTIME_ERROR;
        return NULL;
    }
    ObjProto *p = compile_source(vm, name, src, len, ns, opts, st);
    vm_guard_leave(vm, &g);
    return p;
}

/* The main script is a module too, while it runs: a script that imports
 * itself (directly or through others) meets an import cycle instead of
 * running a second copy of itself. */
static ObjModule *register_script(mlp_vm *vm, const char *name) {
    if (name[0] == '<' || strcmp(name, "-") == 0) return NULL;
    char *real = realpath(name, NULL);
    if (!real) return NULL;
    StrBuf key = {0};
    sb_printf(&key, "file:%s", real);
    free(real);
    ObjModule *m = NULL;
    if (rec_find_c(vm->modules, key.p, key.n) < 0) {
        vm->gc_paused++;
        m = module_new(vm, vm->main_ns);
        m->loading = true;
        rec_set(vm, vm->modules, str_new(vm, key.p, key.n), obj_val(MLP_T_MODULE, m));
        vm->gc_paused--;
    }
    free(key.p);
    return m;
}

static mlp_status run(mlp_vm *vm, const char *name, const char *src, size_t len,
                      CompileOpts opts) {
    mlp_status st;
    vm->interrupted = 0;
    vm->exiting = false; /* a new run: an earlier exit() is the host's to have seen */
    ObjProto *p = compile_guarded(vm, name, src, len, vm->main_ns, opts, &st);
    if (!p) return st;
    ObjModule *self = register_script(vm, name);
    Value result;
    bool ok = vm_run_proto(vm, p, &result);
    if (self) self->loading = false;
    if (!ok) {
        bool compile = vm->err_compile, io = vm->err_io;
        vm_print_error(vm);
        vm->interrupted = 0;
        return compile ? MLP_COMPILE_ERROR : io ? MLP_IO_ERROR : MLP_RUNTIME_ERROR;
    }
    return MLP_OK;
}

mlp_status mlp_run_source(mlp_vm *vm, const char *name, const char *src, size_t len) {
    CompileOpts o = {false, false};
    return run(vm, name, src, len, o);
}

/* Reads a whole regular file into malloc'd memory. NULL with errno set
 * (EISDIR / EINVAL for a directory, device or FIFO, which would read as
 * empty, block or never end). */
static char *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    struct stat st;
    if (fstat(fileno(f), &st) != 0 || !S_ISREG(st.st_mode)) {
        int e = S_ISDIR(st.st_mode) ? EISDIR : EINVAL;
        fclose(f);
        errno = e;
        return NULL;
    }
    StrBuf b = {0};
    char tmp[65536];
    size_t n;
    while ((n = fread(tmp, 1, sizeof tmp, f)) > 0) sb_add(&b, tmp, n);
    bool bad = ferror(f);
    int e = errno;
    fclose(f);
    if (bad) {
        free(b.p);
        errno = e;
        return NULL;
    }
    if (!b.p) sb_add(&b, "", 0);
    *len = b.n;
    return b.p;
}

static const char *read_error(int e) {
    return e == EISDIR ? "is a directory" : e == EINVAL ? "not a regular file" : strerror(e);
}

mlp_status mlp_run_file(mlp_vm *vm, const char *path) {
    size_t len;
    char *src = read_file(path, &len);
    if (!src) {
        char msg[600];
        int n = snprintf(msg, sizeof msg, "mlp: cannot read '%s': %s\n", path, read_error(errno));
        err_write(vm, msg, (size_t)n);
        return MLP_IO_ERROR;
    }
    mlp_status st = mlp_run_source(vm, path, src, len);
    free(src);
    return st;
}

mlp_status mlp_check_source(mlp_vm *vm, const char *name, const char *src, size_t len) {
    mlp_status st;
    CompileOpts o = {false, false};
    /* a private namespace: checking must not define anything */
    vm->gc_paused++;
    ObjNamespace *ns = ns_new(vm, str_new(vm, "<check>", 7));
    vm->gc_paused--;
    mlp_push_root(vm, obj_val(MLP_T_HANDLE, ns));
    compile_guarded(vm, name, src, len, ns, o, &st);
    mlp_pop_root(vm);
    return st;
}

static void disasm_all(StrBuf *b, ObjProto *p) {
    disasm_proto(b, p);
    for (uint32_t i = 0; i < p->nconsts; i++) {
        Value k = p->consts[i];
        if (k.type == MLP_T_HANDLE && k.as.o->kind == OBJ_PROTO) disasm_all(b, (ObjProto *)k.as.o);
    }
}

mlp_status mlp_disasm_source(mlp_vm *vm, const char *name, const char *src, size_t len) {
    mlp_status st;
    CompileOpts o = {false, false};
    ObjProto *p = compile_guarded(vm, name, src, len, vm->main_ns, o, &st);
    if (!p) return st;
    StrBuf b = {0};
    disasm_all(&b, p);
    mlp_write(vm, b.p, b.n);
    free(b.p);
    return MLP_OK;
}

mlp_status mlp_eval_repl(mlp_vm *vm, const char *src, size_t len) {
    vm->repl = true;
    CompileOpts quiet = {true, true};
    int nerr = 0;
    bool incomplete = false;
    Ast *root = parse_source(vm, "<repl>", src, len, true, &nerr, &incomplete);
    if (!root) {
        if (incomplete) return MLP_INCOMPLETE;
        if (parse_out_of_memory()) { /* say so (another try may get further) */
            ast_free(parse_source(vm, "<repl>", src, len, false, &nerr, &incomplete));
            return MLP_RUNTIME_ERROR;
        }
        /* report the errors this time */
        parse_source(vm, "<repl>", src, len, false, &nerr, &incomplete);
        return MLP_COMPILE_ERROR;
    }
    ast_free(root);
    (void)quiet;
    CompileOpts o = {true, false};
    return run(vm, "<repl>", src, len, o);
}

/* ---- introspection ---- */

/* Names whose slot is still undefined (declared by a REPL entry that
 * failed, say) are skipped: completing them would only lead to an error. */
static void each_name(mlp_vm *vm, ObjNamespace *ns, mlp_name_fn fn, void *ud) {
    for (uint32_t i = 0; i < ns->names->count; i++) {
        RecEntry *e = &ns->names->entries[i];
        if (!IS_UNDEF(ns->values[(int)e->val.as.n])) fn(ud, str_cstr(vm, e->key));
    }
}

void mlp_each_global(mlp_vm *vm, mlp_name_fn fn, void *ud) {
    each_name(vm, vm->main_ns, fn, ud);
    each_name(vm, vm->builtins, fn, ud);
}

void mlp_each_field(mlp_vm *vm, mlp_value v, mlp_name_fn fn, void *ud) {
    if (v.type == MLP_T_RECORD) {
        ObjRecord *r = AS_RECORD(v);
        for (uint32_t i = 0; i < r->count; i++) fn(ud, str_cstr(vm, r->entries[i].key));
    } else if (v.type == MLP_T_MODULE) {
        each_name(vm, AS_MODULE(v)->ns, fn, ud);
    } else if (v.type == MLP_T_HANDLE && AS_HANDLE(v)->cls->fields) {
        /* split "a, b, c" */
        const char *p = AS_HANDLE(v)->cls->fields;
        char name[64];
        while (*p) {
            while (*p == ',' || *p == ' ') p++;
            size_t n = strcspn(p, ", ");
            if (n > 0 && n < sizeof name) {
                memcpy(name, p, n);
                name[n] = '\0';
                fn(ud, name);
            }
            p += n;
        }
    }
}

bool mlp_peek_field(mlp_vm *vm, mlp_value v, const char *name, mlp_value *out) {
    *out = mlp_nil();
    switch (v.type) {
    case MLP_T_RECORD: return mlp_record_get(v, name, out);
    case MLP_T_MODULE: {
        ObjNamespace *ns = AS_MODULE(v)->ns;
        int g = ns_find(ns, name, strlen(name));
        if (g < 0 || IS_UNDEF(ns->values[g])) return false;
        *out = ns->values[g];
        return true;
    }
    case MLP_T_HANDLE: {
        ObjHandle *h = AS_HANDLE(v);
        if (!h->cls->get) return false;
        mlp_push_root(vm, v);
        bool ok = h->cls->get(vm, v, h->data, name, out);
        mlp_pop_root(vm);
        if (!ok) {
            vm_clear_error(vm);
            *out = mlp_nil();
        }
        return ok;
    }
    default: return false;
    }
}

bool mlp_disasm_value(mlp_vm *vm, mlp_value v) {
    if (v.type != MLP_T_FUNCTION) return false;
    StrBuf b = {0};
    disasm_all(&b, AS_CLOSURE(v)->proto);
    mlp_write(vm, b.p, b.n);
    free(b.p);
    return true;
}

/* ---- modules ---- */

void mlp_add_modules(mlp_vm *vm, const mlp_module_src *mods, size_t n) {
    if (vm->nmodtabs < 16) {
        vm->mods[vm->nmodtabs] = mods;
        vm->nmods[vm->nmodtabs] = n;
        vm->nmodtabs++;
    }
}

/* Removes "./" segments and "dir/.." pairs in place, so `import "util"`
 * and `import "./util"` find the same cached module. */
static void normalize_path(char *p) {
    char *out = p, *seg = p;
    bool abs_ = *p == '/';
    while (*seg) {
        char *end = strchr(seg, '/');
        size_t n = end ? (size_t)(end - seg) : strlen(seg);
        if (n == 0 || (n == 1 && seg[0] == '.')) {
            /* skip "" and "." (the leading "/" of an absolute path is kept below) */
        } else if (n == 2 && seg[0] == '.' && seg[1] == '.' && out > p + abs_) {
            /* drop the previous segment unless it is itself ".." */
            char *prev = out - 1; /* out ends with '/' */
            char *q = prev;
            while (q > p + abs_ && q[-1] != '/') q--;
            if ((size_t)(prev - q) == 2 && q[0] == '.' && q[1] == '.') {
                memmove(out, seg, n);
                out += n;
                *out++ = '/';
            } else {
                out = q;
            }
        } else {
            if (out == p && abs_) *out++ = '/';
            memmove(out, seg, n);
            out += n;
            *out++ = '/';
        }
        if (!end) break;
        seg = end + 1;
    }
    if (out > p && out[-1] == '/' && !(out == p + 1 && abs_)) out--;
    *out = '\0';
}

Value vm_import(mlp_vm *vm, ObjString *name, ObjSource *from, bool *ok) {
    *ok = false;
    const char *nm = str_cstr(vm, name);
    /* 1. beside the importing file */
    StrBuf path = {0};
    const char *slash = strrchr(from->name, '/');
    bool real_file = from->name[0] != '<' && strcmp(from->name, "-") != 0;
    if (real_file && slash) sb_add(&path, from->name, (size_t)(slash - from->name) + 1);
    sb_addc(&path, nm);
    if (path.n < 4 || strcmp(path.p + path.n - 4, ".mlp") != 0) sb_addc(&path, ".mlp");
    normalize_path(path.p);
    path.n = strlen(path.p);
    size_t len = 0;
    char *src = NULL;
    const char *text = NULL;
    StrBuf key = {0};
    struct stat st;
    if (stat(path.p, &st) == 0) {
        /* A module is its file: "util", "./util" and a symlink to it are
         * one module, loaded once (the key is the resolved path). */
        char *real = realpath(path.p, NULL);
        sb_printf(&key, "file:%s", real ? real : path.p);
        free(real);
        if (rec_find_c(vm->modules, key.p, key.n) < 0) {
            text = src = read_file(path.p, &len);
            if (!src) {
                vm_error(vm, "cannot import \"%s\": cannot read %s: %s", nm, path.p,
                         read_error(errno));
                free(path.p);
                free(key.p);
                return mlp_nil();
            }
        }
    } else {
        /* 2. the embedded stdlib */
        for (int t = 0; t < vm->nmodtabs && !text; t++)
            for (size_t i = 0; i < vm->nmods[t]; i++)
                if (strcmp(vm->mods[t][i].name, nm) == 0) {
                    text = vm->mods[t][i].source;
                    len = strlen(text);
                    break;
                }
        if (!text) {
            vm_error(vm, "cannot import \"%s\": no file %s and no such module in the stdlib", nm,
                     path.p);
            free(path.p);
            return mlp_nil();
        }
        sb_printf(&key, "std:%s", nm);
    }
    Value result = mlp_nil();
    int32_t e = rec_find_c(vm->modules, key.p, key.n);
    if (e >= 0) {
        ObjModule *m = AS_MODULE(vm->modules->entries[e].val);
        if (m->loading) vm_error(vm, "import cycle: \"%s\" is still loading", nm);
        else *ok = true, result = vm->modules->entries[e].val;
        goto done;
    }
    {
        const char *stem = strrchr(nm, '/') ? strrchr(nm, '/') + 1 : nm;
        size_t slen = strlen(stem);
        if (slen > 4 && strcmp(stem + slen - 4, ".mlp") == 0) slen -= 4;
        vm->gc_paused++;
        ObjNamespace *ns = ns_new(vm, str_new(vm, stem, slen));
        ObjModule *m = module_new(vm, ns);
        m->loading = true;
        rec_set(vm, vm->modules, str_new(vm, key.p, key.n), obj_val(MLP_T_MODULE, m));
        vm->gc_paused--;
        const char *fname = src ? path.p : key.p + 4;
        CompileOpts o = {false, false};
        mlp_status cst;
        ObjProto *p = compile_source(vm, fname, text, len, ns, o, &cst);
        if (!p) {
            m->loading = false;
            if (cst == MLP_RUNTIME_ERROR) { /* out of memory (reported) */
                vm_error(vm, "cannot import \"%s\": out of memory", nm);
                goto done;
            }
            vm_error(vm, "cannot import \"%s\": it has compile errors", nm);
            vm->err_compile = true; /* the run ends as a compile error (65) */
            goto done;
        }
        Value r;
        bool good = vm_run_proto(vm, p, &r);
        m->loading = false;
        if (good) {
            *ok = true;
            result = obj_val(MLP_T_MODULE, m);
        }
    }
done:
    free(src);
    free(path.p);
    free(key.p);
    return result;
}

/* ---- values ---- */

mlp_value mlp_string(mlp_vm *vm, const char *s, size_t len) {
    return obj_val(MLP_T_STRING, str_new(vm, s, len));
}
mlp_value mlp_string_cstr(mlp_vm *vm, const char *s) { return mlp_string(vm, s, strlen(s)); }

const char *mlp_cstr(mlp_value v) {
    if (v.type != MLP_T_STRING) return NULL;
    ObjString *s = AS_STRING(v);
    return str_cstr(s->buf->vm, s);
}

size_t mlp_strlen(mlp_value v) { return v.type == MLP_T_STRING ? AS_STRING(v)->len : 0; }

mlp_value mlp_list_new(mlp_vm *vm) { return obj_val(MLP_T_LIST, list_new(vm, 0)); }
size_t mlp_list_len(mlp_value l) { return AS_LIST(l)->count; }
mlp_value mlp_list_get(mlp_value l, size_t i) { return AS_LIST(l)->items[i]; }
void mlp_list_set(mlp_value l, size_t i, mlp_value v) { AS_LIST(l)->items[i] = v; }
void mlp_list_push(mlp_vm *vm, mlp_value l, mlp_value v) {
    mlp_push_root(vm, l);
    mlp_push_root(vm, v);   /* a value just made may be held by nothing else */
    list_push(vm, AS_LIST(l), v);
    mlp_pop_root(vm);
    mlp_pop_root(vm);
}

mlp_value mlp_record_new(mlp_vm *vm) { return obj_val(MLP_T_RECORD, rec_new(vm)); }
bool mlp_record_get(mlp_value rec, const char *key, mlp_value *out) {
    int32_t e = rec_find_c(AS_RECORD(rec), key, strlen(key));
    if (e < 0) return false;
    *out = AS_RECORD(rec)->entries[e].val;
    return true;
}
void mlp_record_set(mlp_vm *vm, mlp_value rec, const char *key, mlp_value v) {
    mlp_push_root(vm, rec);
    mlp_push_root(vm, v);
    ObjString *k = str_new(vm, key, strlen(key));
    rec_set(vm, AS_RECORD(rec), k, v);
    mlp_pop_root(vm);
    mlp_pop_root(vm);
}
size_t mlp_record_len(mlp_value rec) { return AS_RECORD(rec)->count; }
void mlp_record_entry(mlp_value rec, size_t i, mlp_value *key, mlp_value *val) {
    RecEntry *e = &AS_RECORD(rec)->entries[i];
    if (key) *key = obj_val(MLP_T_STRING, e->key);
    if (val) *val = e->val;
}

mlp_value mlp_tostring(mlp_vm *vm, mlp_value v) {
    if (v.type == MLP_T_STRING) return v;
    StrBuf b = {0};
    mlp_push_root(vm, v);
    if (!value_to_sb(vm, &b, v, false)) {
        free(b.p);
        mlp_pop_root(vm);
        if (vm->guard) longjmp(vm->guard->jb, 1); /* raise the pending error */
        return mlp_nil();
    }
    mlp_value s = mlp_string(vm, b.p ? b.p : "", b.n);
    mlp_pop_root(vm);
    free(b.p);
    return s;
}

/* ---- handles, roots, globals ---- */

mlp_value mlp_handle(mlp_vm *vm, const mlp_class *cls, void *data) {
    ObjHandle *h = (ObjHandle *)gc_new_obj(vm, sizeof(ObjHandle), MLP_T_HANDLE);
    h->cls = cls;
    h->data = data;
    return obj_val(MLP_T_HANDLE, h);
}

void *mlp_handle_data(mlp_value v, const mlp_class *cls) {
    if (v.type != MLP_T_HANDLE || AS_HANDLE(v)->cls != cls) return NULL;
    return AS_HANDLE(v)->data;
}

void mlp_push_root(mlp_vm *vm, mlp_value v) {
    if (vm->nroots >= VM_ROOTS_MAX) {
        fprintf(stderr, "mlp: internal error: too many GC roots (unbalanced mlp_push_root?)\n");
        abort();
    }
    vm->roots[vm->nroots++] = v;
}

void mlp_pop_root(mlp_vm *vm) {
    if (vm->nroots > 0) vm->nroots--;
}

void mlp_set_global(mlp_vm *vm, const char *name, mlp_value v) {
    mlp_push_root(vm, v);
    int g = ns_slot(vm, vm->builtins, str_new(vm, name, strlen(name)));
    vm->builtins->values[g] = v;
    mlp_pop_root(vm);
}

bool mlp_get_global(mlp_vm *vm, const char *name, mlp_value *out) {
    size_t n = strlen(name);
    int g = ns_find(vm->main_ns, name, n);
    if (g >= 0 && !IS_UNDEF(vm->main_ns->values[g])) {
        *out = vm->main_ns->values[g];
        return true;
    }
    g = ns_find(vm->builtins, name, n);
    if (g >= 0 && !IS_UNDEF(vm->builtins->values[g])) {
        *out = vm->builtins->values[g];
        return true;
    }
    return false;
}

/* ---- natives ---- */

/* A default of a native parameter: a literal, evaluated once. */
static bool literal_value(mlp_vm *vm, Ast *n, Value *out) {
    switch (n->kind) {
    case AST_NUM: *out = mlp_number(n->num); return true;
    case AST_STR: *out = mlp_string(vm, n->str, n->len); return true;
    case AST_TRUE: *out = mlp_bool(true); return true;
    case AST_FALSE: *out = mlp_bool(false); return true;
    case AST_NIL: *out = mlp_nil(); return true;
    case AST_UNARY:
        if (n->op == '-' && n->a->kind == AST_NUM) {
            *out = mlp_number(-n->a->num);
            return true;
        }
        return false;
    case AST_LIST: {
        ObjList *l = list_new(vm, 0);
        for (int i = 0; i < n->n; i++) {
            Value v;
            if (!literal_value(vm, n->list[i], &v)) return false;
            list_push(vm, l, v);
        }
        *out = obj_val(MLP_T_LIST, l);
        return true;
    }
    default: return false;
    }
}

static bool native_sig(mlp_vm *vm, const mlp_native *def, Signature *sig) {
    StrBuf b = {0};
    sb_printf(&b, "fn f(%s) {}", def->params);
    int nerr;
    bool inc;
    Ast *root = parse_source(vm, def->name, b.p, b.n, true, &nerr, &inc);
    free(b.p);
    if (!root || root->n != 1 || root->list[0]->kind != AST_FNDECL) {
        ast_free(root);
        return false;
    }
    Ast *f = root->list[0]->a;
    if (f->n > 250) { /* the binder's limit */
        ast_free(root);
        return false;
    }
    sig->n = f->n;
    sig->star = -1;
    sig->names = GC_ALLOC(vm, ObjString *, f->n);
    sig->has_default = GC_ALLOC(vm, bool, f->n);
    sig->defaults = GC_ALLOC(vm, Value, f->n);
    bool ok = true;
    for (int i = 0; i < f->n; i++) {
        Ast *p = f->list[i];
        sig->names[i] = str_new(vm, p->str, p->len);
        sig->has_default[i] = p->a != NULL;
        sig->defaults[i] = mlp_nil();
        if (p->op) {
            sig->star = i;
            sig->has_default[i] = true;
        }
        if (p->a && !literal_value(vm, p->a, &sig->defaults[i])) ok = false;
    }
    ast_free(root);
    return ok;
}

bool mlp_register(mlp_vm *vm, const mlp_native *table, size_t n) {
    for (size_t i = 0; i < n; i++) {
        const mlp_native *def = &table[i];
        vm->gc_paused++;
        ObjNative *nat = (ObjNative *)gc_new_obj(vm, sizeof(ObjNative), MLP_T_NATIVE);
        nat->def = def;
        memset(&nat->sig, 0, sizeof nat->sig);
        nat->sig.star = -1;
        nat->raw = def->params == NULL;
        bool ok = nat->raw || native_sig(vm, def, &nat->sig);
        list_push(vm, vm->natives, obj_val(MLP_T_NATIVE, nat));
        vm->gc_paused--;
        if (!ok) {
            char msg[512];
            int len = snprintf(msg, sizeof msg,
                               "mlp: internal error: native '%s' has a bad parameter list \"%s\"\n",
                               def->name, def->params);
            err_write(vm, msg, (size_t)len);
            return false;
        }
        mlp_set_global(vm, def->name, obj_val(MLP_T_NATIVE, nat));
    }
    return true;
}

static ObjNative *find_native(mlp_vm *vm, const char *name) {
    for (uint32_t i = vm->natives->count; i-- > 0;) { /* the latest registration is live */
        ObjNative *n = AS_NATIVE(vm->natives->items[i]);
        if (strcmp(n->def->name, name) == 0) return n;
    }
    return NULL;
}

/* Docs of non-native builtins live in the builtin record __docs. */
void mlp_set_doc(mlp_vm *vm, const char *name, const char *doc) {
    Value docs;
    int g = ns_find(vm->builtins, "__docs", 6);
    if (g >= 0 && vm->builtins->values[g].type == MLP_T_RECORD) {
        docs = vm->builtins->values[g];
    } else {
        docs = obj_val(MLP_T_RECORD, rec_new(vm));
        mlp_push_root(vm, docs);
        mlp_set_global(vm, "__docs", docs);
        mlp_pop_root(vm);
    }
    mlp_push_root(vm, docs);
    Value d = mlp_string_cstr(vm, doc);
    mlp_push_root(vm, d);
    mlp_record_set(vm, docs, name, d);
    mlp_pop_root(vm);
    mlp_pop_root(vm);
}

const char *mlp_native_doc(mlp_vm *vm, const char *name) {
    ObjNative *n = find_native(vm, name);
    if (n) return n->def->doc;
    int g = ns_find(vm->builtins, "__docs", 6);
    if (g < 0 || vm->builtins->values[g].type != MLP_T_RECORD) return NULL;
    ObjRecord *docs = AS_RECORD(vm->builtins->values[g]);
    int32_t e = rec_find_c(docs, name, strlen(name));
    return e >= 0 ? mlp_cstr(docs->entries[e].val) : NULL;
}

const char *mlp_native_params(mlp_vm *vm, const char *name) {
    ObjNative *n = find_native(vm, name);
    return n ? n->def->params : NULL;
}

bool mlp_call_native(mlp_vm *vm, const char *name, int argc, const mlp_value *argv,
                     mlp_value *result) {
    for (uint32_t i = 0; i < vm->natives->count; i++)
        if (strcmp(AS_NATIVE(vm->natives->items[i])->def->name, name) == 0)
            return mlp_call(vm, vm->natives->items[i], argc, argv, mlp_nil(), result);
    return mlp_raise(vm, "no native function '%s'", name);
}

/* ---- calling back ---- */

bool mlp_call(mlp_vm *vm, mlp_value callee, int argc, const mlp_value *argv, mlp_value kwargs,
              mlp_value *result) {
    int nkw = kwargs.type == MLP_T_RECORD ? (int)AS_RECORD(kwargs)->count : 0;
    if (vm->sp + argc + nkw + 8 >= vm->stack_end) return vm_error(vm, "stack overflow");
    Value *mark = vm->sp;
    *vm->sp++ = callee;
    for (int i = 0; i < argc; i++) *vm->sp++ = argv[i];
    ObjList *names = NULL;
    if (nkw) {
        ObjRecord *r = AS_RECORD(kwargs);
        for (int i = 0; i < nkw; i++) *vm->sp++ = r->entries[i].val;
        names = list_new(vm, (uint32_t)nkw);
        for (int i = 0; i < nkw; i++) names->items[i] = obj_val(MLP_T_STRING, r->entries[i].key);
        names->count = (uint32_t)nkw;
        mlp_push_root(vm, obj_val(MLP_T_LIST, names));
    }
    *result = mlp_nil();
    bool ok = vm_call_value(vm, argc, nkw, names, result);
    if (nkw) mlp_pop_root(vm);
    vm->sp = mark;
    if (!ok && vm->nframes == 0) vm_locate_error(vm);
    return ok;
}

bool mlp_pcall(mlp_vm *vm, mlp_value callee, int argc, const mlp_value *argv, mlp_value kwargs,
               mlp_value *result) {
    int nroots = vm->nroots;
    if (mlp_call(vm, callee, argc, argv, kwargs, result)) return true;
    vm->nroots = nroots;
    if (vm->exiting) { /* exit() is not an error to catch: the caller unwinds */
        *result = mlp_string_cstr(vm, vm->err_msg);
        return false;
    }
    vm->gc_paused++;
    *result = mlp_string_cstr(vm, vm->err_msg);
    vm->gc_paused--;
    vm_clear_error(vm);
    return false;
}

bool mlp_pcall_report(mlp_vm *vm, mlp_value callee, int argc, const mlp_value *argv,
                      mlp_value kwargs, mlp_value *result, mlp_value *report) {
    int nroots = vm->nroots;
    *report = mlp_nil();
    if (mlp_call(vm, callee, argc, argv, kwargs, result)) return true;
    vm->nroots = nroots;
    vm_locate_error(vm);
    vm->gc_paused++;
    *result = mlp_string_cstr(vm, vm->err_msg);
    *report = vm->err_report ? mlp_string(vm, vm->err_report, vm->err_report_len)
                             : mlp_string_cstr(vm, vm->err_msg);
    vm->gc_paused--;
    vm_clear_error(vm);
    return false;
}

void mlp_write_err(mlp_vm *vm, const char *s, size_t n) { err_write(vm, s, n); }
