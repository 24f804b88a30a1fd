/*
 * gc.c — the one allocator and the tracing mark-and-sweep collector.
 *
 * Every byte the VM owns is allocated, grown and freed through gc_alloc, so
 * vm->bytes is exact and a collection can be triggered from one place: when
 * an allocation would pass vm->next_gc (set to twice the live size after each
 * collection), or on every allocation in stress mode (MLP_GC_STRESS=1).
 * Collection is suspended while gc_paused > 0 (the compiler builds objects
 * that are not yet reachable from any root).
 *
 * Roots: the value stack, the frames' closures, open upvalues, the native
 * root stack, the builtin and main namespaces, the module cache and the
 * registered natives. Marking is iterative through a gray stack (allocated
 * with plain realloc, outside the accounting: it is the collector's scratch).
 *
 * Running out of memory is a runtime error, not an abort: a failed request
 * (or one larger than the memory the machine has available) raises "out of
 * memory" through vm_throw, which unwinds to the innermost guard (vm.h) and
 * is reported at the instruction that asked. A reserve of VM_RESERVE bytes
 * is given back first, so that the report itself has room.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gc.h"
#include "value.h"
#include "vm.h"

#define GC_MIN_HEAP (1u << 20)

/* Memory the system could still give us (MemAvailable), or the physical
 * memory where that cannot be read. Consulted only for big requests. */
static size_t mem_available(void) {
    FILE *f = fopen("/proc/meminfo", "r");
    if (f) {
        char line[256];
        unsigned long long kb = 0;
        bool found = false;
        while (!found && fgets(line, sizeof line, f))
            found = sscanf(line, "MemAvailable: %llu kB", &kb) == 1;
        fclose(f);
        if (found) return kb > SIZE_MAX / 1024 ? SIZE_MAX : (size_t)kb * 1024;
    }
    long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
    if (pages > 0 && psize > 0 && (unsigned long long)pages < SIZE_MAX / (unsigned long long)psize)
        return (size_t)pages * (size_t)psize;
    return SIZE_MAX;
}

_Noreturn static void out_of_memory(mlp_vm *vm, size_t size) {
    if (size >= ((size_t)1 << 30))
        vm_throw(vm, "out of memory (asked for %.1f GB)", (double)size / 1e9);
    vm_throw(vm, "out of memory (asked for %zu bytes)", size);
}

void *gc_alloc(mlp_vm *vm, void *p, size_t old, size_t new_size) {
    if (new_size == 0) {
        vm->bytes -= old;
        free(p);
        return NULL;
    }
    /* A single request larger than the memory the machine has free would
     * be granted by an overcommitting kernel and then end the process when
     * touched (the OOM killer): refuse it now, as an error the script can
     * be told about. */
    if (new_size > old && new_size - old >= vm->big_alloc && new_size - old > mem_available())
        out_of_memory(vm, new_size);
    if (new_size > old && vm->gc_paused == 0 &&
        (vm->stress || vm->bytes + (new_size - old) > vm->next_gc))
        gc_collect(vm); /* may throw (out of memory for its gray stack) */
    vm->bytes += new_size;
    vm->bytes -= old;
    if (!vm->reserve) vm->reserve = malloc(VM_RESERVE); /* given back by an earlier failure */
    void *q = realloc(p, new_size);
    if (!q) {
        /* Give back the reserve, so that the error report has room. (No
         * collection to retry: one ran when the heap passed twice its live
         * size, and its gray stack would eat the reserve.) */
        free(vm->reserve);
        vm->reserve = NULL;
        vm->bytes -= new_size;
        vm->bytes += old;
        out_of_memory(vm, new_size);
    }
    return q;
}

Obj *gc_new_obj(mlp_vm *vm, size_t size, int kind) {
    Obj *o = (Obj *)gc_alloc(vm, NULL, 0, size);
    o->kind = (uint8_t)kind;
    o->marked = false;
    o->next = vm->objects;
    vm->objects = o;
    return o;
}

void gc_mark_obj(mlp_vm *vm, Obj *o) {
    if (!o || o->marked) return;
    o->marked = true;
    if (vm->ngray == vm->graycap) {
        size_t nc = vm->graycap ? vm->graycap * 2 : 256;
        Obj **g = (Obj **)realloc(vm->gray, sizeof(Obj *) * nc);
        if (!g) {
            free(vm->reserve);
            vm->reserve = NULL;
            g = (Obj **)realloc(vm->gray, sizeof(Obj *) * nc);
        }
        if (!g) {
            /* Abandon this collection: unmark everything (a marked object
             * would be skipped by the next one), give back the gray stack
             * and report the error from the allocation that collected. */
            for (Obj *x = vm->objects; x; x = x->next) x->marked = false;
            free(vm->gray);
            vm->gray = NULL;
            vm->ngray = vm->graycap = 0;
            vm_throw(vm, "out of memory (while collecting garbage)");
        }
        vm->gray = g;
        vm->graycap = nc;
    }
    vm->gray[vm->ngray++] = o;
}

void gc_mark_value(mlp_vm *vm, Value v) {
    if (IS_OBJ(v)) gc_mark_obj(vm, v.as.o);
}

void mlp_mark(mlp_vm *vm, mlp_value v) { gc_mark_value(vm, v); }

static void mark_sig(mlp_vm *vm, Signature *s) {
    for (int i = 0; i < s->n; i++) {
        gc_mark_obj(vm, (Obj *)s->names[i]);
        if (s->defaults) gc_mark_value(vm, s->defaults[i]);
    }
}

static void blacken(mlp_vm *vm, Obj *o) {
    switch (o->kind) {
    case MLP_T_STRING: gc_mark_obj(vm, (Obj *)((ObjString *)o)->buf); break;
    case MLP_T_LIST: {
        ObjList *l = (ObjList *)o;
        for (uint32_t i = 0; i < l->count; i++) gc_mark_value(vm, l->items[i]);
        break;
    }
    case MLP_T_RECORD: {
        ObjRecord *r = (ObjRecord *)o;
        for (uint32_t i = 0; i < r->count; i++) {
            gc_mark_obj(vm, (Obj *)r->entries[i].key);
            gc_mark_value(vm, r->entries[i].val);
        }
        break;
    }
    case MLP_T_FUNCTION: {
        ObjClosure *c = (ObjClosure *)o;
        gc_mark_obj(vm, (Obj *)c->proto);
        for (int i = 0; i < c->nupvals; i++) gc_mark_obj(vm, (Obj *)c->upvals[i]);
        break;
    }
    case MLP_T_NATIVE: mark_sig(vm, &((ObjNative *)o)->sig); break;
    case MLP_T_MODULE: gc_mark_obj(vm, (Obj *)((ObjModule *)o)->ns); break;
    case MLP_T_HANDLE: {
        ObjHandle *h = (ObjHandle *)o;
        if (h->cls->mark) h->cls->mark(vm, h->data);
        break;
    }
    case OBJ_PROTO: {
        ObjProto *p = (ObjProto *)o;
        gc_mark_obj(vm, (Obj *)p->name);
        gc_mark_obj(vm, (Obj *)p->source);
        gc_mark_obj(vm, (Obj *)p->ns);
        mark_sig(vm, &p->sig);
        for (uint32_t i = 0; i < p->nconsts; i++) gc_mark_value(vm, p->consts[i]);
        break;
    }
    case OBJ_UPVALUE: gc_mark_value(vm, ((ObjUpvalue *)o)->closed); break;
    case OBJ_NAMESPACE: {
        ObjNamespace *ns = (ObjNamespace *)o;
        gc_mark_obj(vm, (Obj *)ns->names);
        gc_mark_obj(vm, (Obj *)ns->name);
        for (uint32_t i = 0; i < ns->count; i++) gc_mark_value(vm, ns->values[i]);
        break;
    }
    default: break; /* ranges, buffers, sources hold no references */
    }
}

static void free_obj(mlp_vm *vm, Obj *o) {
    switch (o->kind) {
    case MLP_T_STRING: GC_FREE(vm, ObjString, o, 1); break;
    case OBJ_STRBUF: {
        ObjStrBuf *b = (ObjStrBuf *)o;
        if (b->data) GC_FREE(vm, char, b->data, b->cap + 1);
        GC_FREE(vm, ObjStrBuf, o, 1);
        break;
    }
    case MLP_T_LIST: {
        ObjList *l = (ObjList *)o;
        GC_FREE(vm, Value, l->items, l->cap);
        GC_FREE(vm, ObjList, o, 1);
        break;
    }
    case MLP_T_RECORD: {
        ObjRecord *r = (ObjRecord *)o;
        GC_FREE(vm, RecEntry, r->entries, r->cap);
        GC_FREE(vm, int32_t, r->index, r->icap);
        GC_FREE(vm, ObjRecord, o, 1);
        break;
    }
    case MLP_T_RANGE: GC_FREE(vm, ObjRange, o, 1); break;
    case MLP_T_FUNCTION: {
        ObjClosure *c = (ObjClosure *)o;
        gc_alloc(vm, c, sizeof(ObjClosure) + sizeof(ObjUpvalue *) * (size_t)c->nupvals, 0);
        break;
    }
    case MLP_T_NATIVE: {
        ObjNative *n = (ObjNative *)o;
        sig_free(vm, &n->sig);
        GC_FREE(vm, ObjNative, o, 1);
        break;
    }
    case MLP_T_MODULE: GC_FREE(vm, ObjModule, o, 1); break;
    case MLP_T_HANDLE: {
        ObjHandle *h = (ObjHandle *)o;
        if (h->cls->free) h->cls->free(h->data);
        GC_FREE(vm, ObjHandle, o, 1);
        break;
    }
    case OBJ_PROTO: {
        ObjProto *p = (ObjProto *)o;
        sig_free(vm, &p->sig);
        GC_FREE(vm, UpvalDesc, p->upvals, p->nupvals);
        GC_FREE(vm, uint8_t, p->code, p->cap);
        GC_FREE(vm, int32_t, p->lines, p->cap);
        GC_FREE(vm, int32_t, p->cols, p->cap);
        GC_FREE(vm, Value, p->consts, p->constcap);
        GC_FREE(vm, ObjProto, o, 1);
        break;
    }
    case OBJ_UPVALUE: GC_FREE(vm, ObjUpvalue, o, 1); break;
    case OBJ_SOURCE: {
        ObjSource *s = (ObjSource *)o;
        if (s->name) GC_FREE(vm, char, s->name, strlen(s->name) + 1);
        if (s->text) GC_FREE(vm, char, s->text, s->len + 1);
        GC_FREE(vm, ObjSource, o, 1);
        break;
    }
    case OBJ_NAMESPACE: {
        ObjNamespace *ns = (ObjNamespace *)o;
        GC_FREE(vm, Value, ns->values, ns->cap);
        GC_FREE(vm, ObjNamespace, o, 1);
        break;
    }
    default: break;
    }
}

static void mark_roots(mlp_vm *vm) {
    for (Value *v = vm->stack; v < vm->sp; v++) gc_mark_value(vm, *v);
    for (int i = 0; i < vm->nframes; i++) gc_mark_obj(vm, (Obj *)vm->frames[i].cl);
    for (ObjUpvalue *u = vm->open_upvals; u; u = u->next_open) gc_mark_obj(vm, (Obj *)u);
    for (int i = 0; i < vm->nroots; i++) gc_mark_value(vm, vm->roots[i]);
    gc_mark_obj(vm, (Obj *)vm->builtins);
    gc_mark_obj(vm, (Obj *)vm->main_ns);
    gc_mark_obj(vm, (Obj *)vm->modules);
    gc_mark_obj(vm, (Obj *)vm->natives);
    gc_mark_value(vm, vm->host);
}

void gc_collect(mlp_vm *vm) {
    vm->gc_paused++; /* freeing and the gray stack must not re-enter */
    mark_roots(vm);
    while (vm->ngray > 0) blacken(vm, vm->gray[--vm->ngray]);
    Obj **link = &vm->objects;
    while (*link) {
        Obj *o = *link;
        if (o->marked) {
            o->marked = false;
            link = &o->next;
        } else {
            *link = o->next;
            free_obj(vm, o);
        }
    }
    vm->next_gc = vm->bytes * 2 < GC_MIN_HEAP ? GC_MIN_HEAP : vm->bytes * 2;
    vm->gc_paused--;
}

void gc_free_all(mlp_vm *vm) {
    vm->gc_paused++;
    Obj *o = vm->objects;
    while (o) {
        Obj *next = o->next;
        free_obj(vm, o);
        o = next;
    }
    vm->objects = NULL;
    free(vm->gray);
    vm->gray = NULL;
    vm->gc_paused--;
}
