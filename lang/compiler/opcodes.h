/*
 * opcodes.h — the instruction set, listed once.
 *
 * OP(name, operands, stack_effect, "meaning") expands into the opcode enum,
 * the names, the operand layouts the disassembler, tracer and compiler use,
 * the stack effects the compiler uses to size each frame, and the VM's
 * dispatch table. `operands` is one of the OPERAND_KINDS below: how many
 * operands follow the opcode byte, how wide each is, and what they mean (so
 * disasm.c prints any instruction from its kind, with no case per opcode).
 * Operands are little-endian: one byte for local slots, upvalue indexes and
 * counts, two for constant indexes, global slots and jump offsets (forward
 * for JUMP*, backward for LOOP). A stack effect of OP_VAR means "depends on
 * the operands"; the compiler passes it explicitly.
 *
 * WIDE, put before any instruction, doubles the width of each of its
 * operands (one byte -> two, two -> four), as Lua's and CPython's extended
 * arguments do: the compiler uses it only where an operand does not fit
 * (more than 255 locals, more than 65,535 constants or globals, a jump
 * longer than 65,535 bytes), so ordinary code is unchanged.
 *
 * Conventions: k = constant index, s = local slot, g = global slot,
 * u = upvalue index, off = jump distance from the end of the instruction.
 */
#ifndef MLP_OPCODES_H
#define MLP_OPCODES_H

#define OP_VAR 99

/*      kind  count  width of 1st, 2nd   shown as                              */
#define OPERAND_KINDS(X)                                                         \
    X(NONE, 0, 0, 0) /* nothing                                          */      \
    X(N, 1, 1, 0)    /* a count, slot or upvalue: " n"                   */      \
    X(NN, 2, 1, 1)   /* two slots: " s1 s2"                              */      \
    X(K, 1, 2, 0)    /* a constant: " k  ; value"                        */      \
    X(G, 1, 2, 0)    /* a global slot: " g  ; name"                      */      \
    X(B, 1, 2, 0)    /* a builtin slot: " g"                             */      \
    X(J, 1, 2, 0)    /* a forward jump: " -> target"                     */      \
    X(L, 1, 2, 0)    /* a backward jump: " -> target"                    */      \
    X(NJ, 2, 1, 2)   /* a slot and a forward jump: " s -> target"        */      \
    X(NK, 2, 1, 2)   /* a count and a constant: " n k  ; value"          */

typedef enum OperandKind {
#define X(kind, count, w1, w2) OPK_##kind,
    OPERAND_KINDS(X)
#undef X
} OperandKind;

#define OPCODES(OP)                                                                  \
    OP(CONST, K, 1, "push constant k")                                               \
    OP(NIL, NONE, 1, "push nil")                                                     \
    OP(TRUE, NONE, 1, "push true")                                                   \
    OP(FALSE, NONE, 1, "push false")                                                 \
    OP(POP, NONE, -1, "drop the top value")                                          \
    OP(POPN, N, OP_VAR, "drop n values")                                             \
    OP(DUP, NONE, 1, "push a copy of the top")                                       \
    OP(DUP2, NONE, 2, "push copies of the top two")                                  \
    OP(GET_LOCAL, N, 1, "push local s")                                              \
    OP(SET_LOCAL, N, -1, "pop into local s")                                         \
    OP(GET_UPVAL, N, 1, "push upvalue u")                                            \
    OP(SET_UPVAL, N, -1, "pop into upvalue u")                                       \
    OP(GET_GLOBAL, G, 1, "push global g of this module (error if undefined)")        \
    OP(SET_GLOBAL, G, -1, "pop into global g (error if undefined)")                  \
    OP(DEF_GLOBAL, G, -1, "pop into global g, defining it")                          \
    OP(GET_BUILTIN, B, 1, "push builtin g")                                          \
    OP(GET_FIELD, K, 0, "replace object by its field named by constant k")           \
    OP(SET_FIELD, K, -2, "object.k = value; pops both")                              \
    OP(GET_INDEX, NONE, -1, "replace object, index by object[index]")                \
    OP(SET_INDEX, NONE, -3, "object[index] = value; pops all three")                 \
    OP(SLICE, NONE, -2, "replace object, from, to (nil = open) by the slice")        \
    OP(ADD, NONE, -1, "a + b")                                                       \
    OP(SUB, NONE, -1, "a - b")                                                       \
    OP(MUL, NONE, -1, "a * b")                                                       \
    OP(DIV, NONE, -1, "a / b")                                                       \
    OP(MOD, NONE, -1, "a % b (floored)")                                             \
    OP(POW, NONE, -1, "a ** b")                                                      \
    OP(ADD_K, K, 0, "top + number constant k")                                       \
    OP(ADD_LOCAL, NN, 0, "local s1 += local s2 (the `total += x` of loops)")         \
    OP(NEG, NONE, 0, "-a")                                                           \
    OP(NOT, NONE, 0, "not a")                                                        \
    OP(EQ, NONE, -1, "a == b")                                                       \
    OP(NE, NONE, -1, "a != b")                                                       \
    OP(LT, NONE, -1, "a < b")                                                        \
    OP(LE, NONE, -1, "a <= b")                                                       \
    OP(GT, NONE, -1, "a > b")                                                        \
    OP(GE, NONE, -1, "a >= b")                                                       \
    OP(JUMP, J, 0, "jump forward off")                                               \
    OP(JUMP_IF_FALSE, J, -1, "pop; jump forward off if falsy")                       \
    OP(AND, J, -1, "if top falsy jump off keeping it, else pop it")                  \
    OP(OR, J, -1, "if top truthy jump off keeping it, else pop it")                  \
    OP(JUMP_IF_NOT_LT, J, -2, "pop b, a; jump forward off unless a < b")             \
    OP(JUMP_IF_NOT_LE, J, -2, "pop b, a; jump forward off unless a <= b")            \
    OP(JUMP_IF_NOT_GT, J, -2, "pop b, a; jump forward off unless a > b")             \
    OP(JUMP_IF_NOT_GE, J, -2, "pop b, a; jump forward off unless a >= b")            \
    OP(JUMP_IF_NOT_EQ, J, -2, "pop b, a; jump forward off unless a == b")            \
    OP(JUMP_IF_NOT_NE, J, -2, "pop b, a; jump forward off unless a != b")            \
    OP(LOOP, L, 0, "jump backward off (checks for interrupts)")                      \
    OP(CALL, N, OP_VAR, "call the callee below n positional arguments")              \
    OP(CALL_KW, NK, OP_VAR, "call with n positional then keyword args named by list k")\
    OP(CLOSURE, K, 1, "push a closure of prototype k")                               \
    OP(CLOSE_UPVAL, NONE, -1, "close upvalues of the top slot and pop it")           \
    OP(CLOSE, N, 0, "close upvalues of slots >= s (a fresh loop variable per pass)") \
    OP(RETURN, NONE, -1, "return the top value")                                     \
    OP(RETURN_NIL, NONE, 0, "return nil")                                            \
    OP(LIST, N, OP_VAR, "replace n values by a list of them")                        \
    OP(APPEND, NONE, -1, "pop v, append it to the list below")                       \
    OP(RECORD, N, OP_VAR, "replace n key/value pairs by a record")                   \
    OP(INTERP, N, OP_VAR, "replace n values by the concatenation of their str()")    \
    OP(FOR_PREP, N, 0, "check the iterable in local s, set its state s+1")           \
    OP(FOR_NEXT, NJ, 0, "next element into local s+2, or jump off when done")        \
    OP(ARG_DEFAULT, NJ, 0, "jump off when parameter s was given (skip its default)") \
    OP(IMPORT, K, 1, "push the module named by constant k (loading it once)")        \
    OP(ECHO, NONE, -1, "REPL: pop and print the value unless nil")                    \
    OP(WIDE, NONE, 0, "prefix: each operand of the next instruction is twice as wide")  \
    OP(IN, NONE, -1, "x, container -> whether x is in the container")                 \
    OP(UNPACK, N, OP_VAR, "replace a list of exactly n values by its n values")

typedef enum Opcode {
#define OP(name, kind, eff, doc) OP_##name,
    OPCODES(OP)
#undef OP
    OP_COUNT
} Opcode;

/* Tables expanded from OPCODES (compile.c). */
extern const char *const op_names[OP_COUNT];
extern const unsigned char op_kind[OP_COUNT];         /* an OperandKind */
extern const unsigned char op_operand_bytes[OP_COUNT]; /* without WIDE */
extern const signed char op_stack_effect[OP_COUNT];
/* By OperandKind: the number of operands and their widths without WIDE. */
extern const unsigned char opk_count[], opk_width[][2];

/* disasm.c: one function's listing (and nested functions after it). */
struct ObjProto;
struct StrBuf;
void disasm_proto(struct StrBuf *b, struct ObjProto *p);
/* One instruction at offset; returns the next offset. */
int disasm_instr(struct StrBuf *b, struct ObjProto *p, int offset);

#endif
