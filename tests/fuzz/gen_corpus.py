#!/usr/bin/env python3
"""Writes large seed inputs for the fuzzers into a corpus directory.

The seeds from tests/lang and examples are all small; libFuzzer grows inputs
slowly, so without these it would rarely reach what only size exercises:
long tokens and blank runs (the lexer's buffers), long flat operator chains
and nesting near the limit (C stack depth in the parser, compiler and
ast_free), functions with more constants, locals and code than one- and
two-byte operands address (the WIDE prefix, jump retries), and many errors
(the error cap and the long-line window). Each seed stays under 64 KB, the
fuzzers' -max_len.

Usage: python3 tests/fuzz/gen_corpus.py DIR
"""
import os
import sys

LIMIT = 65536


def seeds():
    yield "long_comment", "# " + "c" * 60000 + "\nprint(1)\n"
    yield "long_string", 'let s = "' + "ab{1}" * 12000 + '"\nprint(len(s))\n'
    yield "long_name", "let " + "n" * 30000 + " = 1\nprint(" + "n" * 30000 + ")\n"
    yield "long_number", "print(" + "9" * 60000 + ")\n"
    yield "blank_lines", "if false { print(1) }\n" + "\n  # c\n" * 9000 + "else { print(2) }\n"
    yield "sum_chain", "print(" + "+".join(["1"] * 30000) + ")\n"
    yield "and_chain", "print(" + " and ".join(["true"] * 10000) + ")\n"
    yield "string_chain", "print(" + "+".join(['"a"'] * 15000) + ")\n"
    yield "list_chain", "print(" + "+".join(["[]"] * 20000) + ")\n"
    yield "parens_near_limit", "print(" + "(" * 998 + "1" + ")" * 998 + ")\n"
    yield "parens_over_limit", "print(" + "(" * 1100 + "1" + ")" * 1100 + ")\n"
    yield "unary_near_limit", "print(" + "-" * 990 + "1)\n"
    yield "calls_near_limit", "print(" + "str(" * 990 + "1" + ")" * 990 + ")\n"
    yield "else_if_chain", "let x = 3\n" + "if x == 1 { x = 2 } else " * 900 + "{ x = 0 }\nprint(x)\n"
    yield "many_consts", "let x = 0\n" + "".join("x += %d.25\n" % i for i in range(6000)) + "print(x)\n"
    yield "many_locals", "fn f() {\n" + "".join("  let l%d = %d\n" % (i, i) for i in range(4000)) + \
        "  let g = fn() { return l3999 + l300 }\n  return g()\n}\nprint(f())\n"
    yield "many_globals", "".join("let g%d = %d\n" % (i, i) for i in range(5000)) + "print(g4999)\n"
    yield "long_loop", "let i = 0\nwhile i < 2 {\n" + "  i += 0\n" * 9000 + "  i += 1\n}\nprint(i)\n"
    yield "long_jump", "let t = true\nprint(false and [" + "t, " * 20000 + "t][0])\n"
    yield "many_errors", "let = 1\n" * 5000
    yield "many_undefined", "f(" + ", ".join("a%d" % i for i in range(8000)) + ")\n"
    yield "long_line_error", "let x = [" + "1, " * 10000 + "y]\n"
    yield "interp_nested", 'print("' + "{ {a: \"x{1}\"}.a }" * 2000 + '")\n'
    yield "interp_unclosed", 'print("a {b" + "c")\n' * 2000
    yield "bom", "\ufeffprint(1)\n" * 3000
    yield "deep_recursion", "fn f(n) { return f(n + 1) }\nf(0)\n"
    yield "model_layers", "model m() {\n" + "  dense(4)\n  relu\n" * 2000 + "}\n"


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for name, text in seeds():
        data = text.encode("utf-8")[:LIMIT]
        with open(os.path.join(out, "gen_" + name + ".mlp"), "wb") as f:
            f.write(data)


if __name__ == "__main__":
    main()
