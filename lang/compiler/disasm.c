/*
 * disasm.c — bytecode listings for `mlp --disasm`, the tracer and tests.
 *
 * One line per instruction: offset, line:col, name, operands, and for
 * constant operands the constant itself, for jumps the target offset. How
 * to show the operands comes from the opcode's operand kind alone.
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

static void global_name(StrBuf *b, ObjNamespace *ns, uint32_t g) {
    for (uint32_t i = 0; i < ns->names->count; i++)
        if ((uint32_t)ns->names->entries[i].val.as.n == g) {
            ObjString *s = ns->names->entries[i].key;
            sb_printf(b, "  ; %.*s", (int)s->len, STR_CHARS(s));
        }
}

/* Every instruction is printed from its operand kind (opcodes.h). */
int disasm_instr(StrBuf *b, ObjProto *p, int off) {
    uint8_t op = p->code[off];
    sb_printf(b, "%04d %4d:%-3d ", off, p->lines[off], p->cols[off]);
    int at_ = off + 1, scale = 1;
    if (op == OP_WIDE && off + 1 < (int)p->count) {
        op = p->code[off + 1];
        at_++;
        scale = 2;
    }
    if (op >= OP_COUNT || (scale == 2 && op == OP_WIDE)) {
        sb_printf(b, "??? %d\n", op);
        return at_;
    }
    if (scale == 2) {
        char name[32];
        snprintf(name, sizeof name, "WIDE %s", op_names[op]);
        sb_printf(b, "%-15s", name);
    } else {
        sb_printf(b, "%-15s", op_names[op]);
    }
    int kind = op_kind[op];
    uint32_t v[2] = {0, 0};
    for (int i = 0; i < opk_count[kind]; i++) {
        int w = opk_width[kind][i] * scale;
        for (int j = 0; j < w && at_ < (int)p->count; j++) v[i] |= (uint32_t)p->code[at_++] << (8 * j);
    }
    int next = at_;
    switch ((OperandKind)kind) {
    case OPK_NONE: break;
    case OPK_N: sb_printf(b, " %u", v[0]); break;
    case OPK_NN: sb_printf(b, " %u %u", v[0], v[1]); break;
    case OPK_K:
        sb_printf(b, " %u  ; ", v[0]);
        constant(b, p, (int)v[0]);
        break;
    case OPK_G:
        sb_printf(b, " %u", v[0]);
        if (p->ns) global_name(b, p->ns, v[0]);
        break;
    case OPK_B: sb_printf(b, " %u", v[0]); break;
    case OPK_J: sb_printf(b, " -> %ld", (long)next + (long)v[0]); break;
    case OPK_L: sb_printf(b, " -> %ld", (long)next - (long)v[0]); break;
    case OPK_NJ: sb_printf(b, " %u -> %ld", v[0], (long)next + (long)v[1]); break;
    case OPK_NK:
        sb_printf(b, " %u %u  ; ", v[0], v[1]);
        constant(b, p, (int)v[1]);
        break;
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
