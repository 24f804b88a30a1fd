/*
 * disasm.c — bytecode listings for `mlp --disasm`, the tracer and tests.
 *
 * One line per instruction: offset, line:col, name, operands, and for
 * constant operands the constant itself, for jumps the target offset.
 */
#include <stdio.h>
#include <stdlib.h>

#include "opcodes.h"
#include "value.h"
#include "vm.h"

static void constant(StrBuf *b, ObjProto *p, int k) {
    Value v = p->consts[k];
    if (v.type == MLP_T_HANDLE && v.as.o->kind == OBJ_PROTO) {
        ObjProto *q = (ObjProto *)v.as.o;
        if (q->name) sb_printf(b, "<fn %.*s>", (int)q->name->len, STR_CHARS(q->name));
        else sb_addc(b, "<fn>");
        return;
    }
    value_to_sb(NULL, b, v, true);
}

int disasm_instr(StrBuf *b, ObjProto *p, int off) {
    uint8_t op = p->code[off];
    sb_printf(b, "%04d %4d:%-3d ", off, p->lines[off], p->cols[off]);
    if (op >= OP_COUNT) {
        sb_printf(b, "??? %d\n", op);
        return off + 1;
    }
    sb_printf(b, "%-15s", op_names[op]);
    const uint8_t *a = p->code + off + 1;
    int next = off + 1 + op_operand_bytes[op];
    switch (op) {
    case OP_CONST: case OP_ADD_K: case OP_GET_FIELD: case OP_SET_FIELD: case OP_CLOSURE:
    case OP_IMPORT: {
        int k = a[0] | (a[1] << 8);
        sb_printf(b, " %d  ; ", k);
        constant(b, p, k);
        break;
    }
    case OP_JUMP: case OP_JUMP_IF_FALSE: case OP_AND: case OP_OR: case OP_JUMP_IF_NOT_LT:
    case OP_JUMP_IF_NOT_LE: case OP_JUMP_IF_NOT_GT: case OP_JUMP_IF_NOT_GE:
    case OP_JUMP_IF_NOT_EQ: case OP_JUMP_IF_NOT_NE:
        sb_printf(b, " -> %d", next + (a[0] | (a[1] << 8)));
        break;
    case OP_LOOP: sb_printf(b, " -> %d", next - (a[0] | (a[1] << 8))); break;
    case OP_FOR_NEXT: case OP_ARG_DEFAULT:
        sb_printf(b, " %d -> %d", a[0], next + (a[1] | (a[2] << 8)));
        break;
    case OP_CALL_KW: {
        int k = a[1] | (a[2] << 8);
        sb_printf(b, " %d %d  ; ", a[0], k);
        constant(b, p, k);
        break;
    }
    case OP_GET_GLOBAL: case OP_SET_GLOBAL: case OP_DEF_GLOBAL: case OP_GET_BUILTIN: {
        int g = a[0] | (a[1] << 8);
        ObjNamespace *ns = op == OP_GET_BUILTIN ? NULL : p->ns;
        sb_printf(b, " %d", g);
        if (ns)
            for (uint32_t i = 0; i < ns->names->count; i++)
                if ((int)ns->names->entries[i].val.as.n == g) {
                    ObjString *s = ns->names->entries[i].key;
                    sb_printf(b, "  ; %.*s", (int)s->len, STR_CHARS(s));
                }
        break;
    }
    default:
        for (int i = 0; i < op_operand_bytes[op]; i++) sb_printf(b, " %d", a[i]);
    }
    sb_addc(b, "\n");
    return next;
}

void disasm_proto(StrBuf *b, ObjProto *p) {
    if (p->name) sb_printf(b, "== fn %.*s", (int)p->name->len, STR_CHARS(p->name));
    else if (p->is_script) sb_addc(b, "== <script>");
    else sb_addc(b, "== fn <anon>");
    sb_printf(b, " (%s, %d params, %d upvalues, max stack %d) ==\n", p->source->name, p->sig.n,
              p->nupvals, p->max_stack);
    for (int off = 0; off < (int)p->count;) off = disasm_instr(b, p, off);
}
