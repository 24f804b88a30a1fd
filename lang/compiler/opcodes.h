/*
 * opcodes.h — the instruction set, listed once.
 *
 * OP(name, operand_bytes, stack_effect, "meaning") expands into the opcode
 * enum, the names and operand lengths the disassembler and tracer use, the
 * stack effects the compiler uses to size each frame, and the VM's dispatch
 * table. Operands follow the opcode byte, little-endian: one byte for local
 * slots, upvalue indexes and counts, two for constant indexes, global slots
 * and jump offsets (forward for JUMP*, backward for LOOP). A stack effect of
 * OP_VAR means "depends on the operands"; the compiler passes it explicitly.
 *
 * Conventions: k = constant index, s = local slot, g = global slot,
 * u = upvalue index, off = jump distance from the end of the instruction.
 */
#ifndef MLP_OPCODES_H
#define MLP_OPCODES_H

#define OP_VAR 99

#define OPCODES(OP)                                                                  \
    OP(CONST, 2, 1, "push constant k")                                               \
    OP(NIL, 0, 1, "push nil")                                                        \
    OP(TRUE, 0, 1, "push true")                                                      \
    OP(FALSE, 0, 1, "push false")                                                    \
    OP(POP, 0, -1, "drop the top value")                                             \
    OP(POPN, 1, OP_VAR, "drop n values")                                             \
    OP(DUP, 0, 1, "push a copy of the top")                                          \
    OP(DUP2, 0, 2, "push copies of the top two")                                     \
    OP(GET_LOCAL, 1, 1, "push local s")                                              \
    OP(SET_LOCAL, 1, -1, "pop into local s")                                         \
    OP(GET_UPVAL, 1, 1, "push upvalue u")                                            \
    OP(SET_UPVAL, 1, -1, "pop into upvalue u")                                       \
    OP(GET_GLOBAL, 2, 1, "push global g of this module (error if undefined)")        \
    OP(SET_GLOBAL, 2, -1, "pop into global g (error if undefined)")                  \
    OP(DEF_GLOBAL, 2, -1, "pop into global g, defining it")                          \
    OP(GET_BUILTIN, 2, 1, "push builtin g")                                          \
    OP(GET_FIELD, 2, 0, "replace object by its field named by constant k")           \
    OP(SET_FIELD, 2, -2, "object.k = value; pops both")                              \
    OP(GET_INDEX, 0, -1, "replace object, index by object[index]")                   \
    OP(SET_INDEX, 0, -3, "object[index] = value; pops all three")                    \
    OP(SLICE, 0, -2, "replace object, from, to (nil = open) by the slice")           \
    OP(ADD, 0, -1, "a + b")                                                          \
    OP(SUB, 0, -1, "a - b")                                                          \
    OP(MUL, 0, -1, "a * b")                                                          \
    OP(DIV, 0, -1, "a / b")                                                          \
    OP(MOD, 0, -1, "a % b (floored)")                                                \
    OP(POW, 0, -1, "a ** b")                                                         \
    OP(ADD_K, 2, 0, "top + number constant k")                                       \
    OP(ADD_LOCAL, 2, 0, "local s1 += local s2 (the `total += x` of loops)")          \
    OP(NEG, 0, 0, "-a")                                                              \
    OP(NOT, 0, 0, "not a")                                                           \
    OP(EQ, 0, -1, "a == b")                                                          \
    OP(NE, 0, -1, "a != b")                                                          \
    OP(LT, 0, -1, "a < b")                                                           \
    OP(LE, 0, -1, "a <= b")                                                          \
    OP(GT, 0, -1, "a > b")                                                           \
    OP(GE, 0, -1, "a >= b")                                                          \
    OP(JUMP, 2, 0, "jump forward off")                                               \
    OP(JUMP_IF_FALSE, 2, -1, "pop; jump forward off if falsy")                       \
    OP(AND, 2, -1, "if top falsy jump off keeping it, else pop it")                  \
    OP(OR, 2, -1, "if top truthy jump off keeping it, else pop it")                  \
    OP(JUMP_IF_NOT_LT, 2, -2, "pop b, a; jump forward off unless a < b")             \
    OP(JUMP_IF_NOT_LE, 2, -2, "pop b, a; jump forward off unless a <= b")            \
    OP(JUMP_IF_NOT_GT, 2, -2, "pop b, a; jump forward off unless a > b")             \
    OP(JUMP_IF_NOT_GE, 2, -2, "pop b, a; jump forward off unless a >= b")            \
    OP(JUMP_IF_NOT_EQ, 2, -2, "pop b, a; jump forward off unless a == b")            \
    OP(JUMP_IF_NOT_NE, 2, -2, "pop b, a; jump forward off unless a != b")            \
    OP(LOOP, 2, 0, "jump backward off (checks for interrupts)")                      \
    OP(CALL, 1, OP_VAR, "call the callee below n positional arguments")              \
    OP(CALL_KW, 3, OP_VAR, "call with n positional then keyword args named by list k") \
    OP(CLOSURE, 2, 1, "push a closure of prototype k")                               \
    OP(CLOSE_UPVAL, 0, -1, "close upvalues of the top slot and pop it")              \
    OP(CLOSE, 1, 0, "close upvalues of slots >= s (a fresh loop variable per pass)") \
    OP(RETURN, 0, -1, "return the top value")                                        \
    OP(RETURN_NIL, 0, 0, "return nil")                                               \
    OP(LIST, 1, OP_VAR, "replace n values by a list of them")                        \
    OP(APPEND, 0, -1, "pop v, append it to the list below")                          \
    OP(RECORD, 1, OP_VAR, "replace n key/value pairs by a record")                   \
    OP(INTERP, 1, OP_VAR, "replace n values by the concatenation of their str()")    \
    OP(FOR_PREP, 1, 0, "check the iterable in local s, set its state s+1")           \
    OP(FOR_NEXT, 3, 0, "next element into local s+2, or jump off when done")        \
    OP(ARG_DEFAULT, 3, 0, "jump off when parameter s was given (skip its default)")  \
    OP(IMPORT, 2, 1, "push the module named by constant k (loading it once)")        \
    OP(ECHO, 0, -1, "REPL: pop and print the value unless nil")                      \
    OP(IN, 0, -1, "x, container -> whether x is in the container")                   \
    OP(UNPACK, 1, OP_VAR, "replace a list of exactly n values by its n values")

typedef enum Opcode {
#define OP(name, n, eff, doc) OP_##name,
    OPCODES(OP)
#undef OP
    OP_COUNT
} Opcode;

/* Tables expanded from OPCODES (disasm.c). */
extern const char *const op_names[OP_COUNT];
extern const unsigned char op_operand_bytes[OP_COUNT];
extern const signed char op_stack_effect[OP_COUNT];

/* disasm.c: one function's listing (and nested functions after it). */
struct ObjProto;
struct StrBuf;
void disasm_proto(struct StrBuf *b, struct ObjProto *p);
/* One instruction at offset; returns the next offset. */
int disasm_instr(struct StrBuf *b, struct ObjProto *p, int offset);

#endif
