/*
 * unpack.c — the `in` operator and destructuring (OP_IN, OP_UNPACK).
 *
 * Neither allocates, so both may run with values that only the VM stack
 * holds.
 */
#include <math.h>
#include <string.h>

#include "value.h"
#include "vm.h"

bool vm_contains(mlp_vm *vm, Value x, Value container, bool *res) {
    switch (container.type) {
    case MLP_T_LIST: {
        ObjList *l = AS_LIST(container);
        *res = false;
        for (uint32_t i = 0; i < l->count && !*res; i++) {
            int eq = values_equal(vm, x, l->items[i]);
            if (eq < 0) return false;   /* nested too deeply: the error is raised */
            *res = eq == 1;
        }
        return true;
    }
    case MLP_T_RECORD:
        *res = x.type == MLP_T_STRING && rec_find(AS_RECORD(container), AS_STRING(x)) >= 0;
        return true;
    case MLP_T_STRING: {
        if (x.type != MLP_T_STRING)
            return vm_error(vm, "'in' a string needs a string on the left, got %s", type_name(x));
        ObjString *s = AS_STRING(container), *t = AS_STRING(x);
        *res = t->len == 0;
        for (uint32_t i = 0; !*res && i + t->len <= s->len; i++)
            *res = memcmp(STR_CHARS(s) + i, STR_CHARS(t), t->len) == 0;
        return true;
    }
    case MLP_T_RANGE: {
        ObjRange *r = AS_RANGE(container);
        *res = false;
        if (!IS_NUM(x)) return true;
        double k = (x.as.n - r->start) / r->step;
        *res = k >= 0 && k < range_len(r) && k == floor(k) && r->start + k * r->step == x.as.n;
        return true;
    }
    default:
        return vm_error(vm, "cannot test membership ('in') of a %s", type_name(container));
    }
}

bool vm_unpack(mlp_vm *vm, Value v, int n, Value *dst) {
    if (v.type != MLP_T_LIST)
        return vm_error(vm, "cannot destructure a %s: expected a list of %d values", type_name(v), n);
    ObjList *l = AS_LIST(v);
    if (l->count != (uint32_t)n)
        return vm_error(vm, "cannot destructure a list of %u values: expected %d", l->count, n);
    memmove(dst, l->items, sizeof(Value) * (size_t)n);
    return true;
}
