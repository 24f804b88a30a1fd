#!/usr/bin/env python3
"""Stress tests: inputs too large to keep as golden files, generated here.

Each case builds a script in memory, runs `mlp` on it (from a file, from
stdin with `-`, or with `-e`), and checks the exit status, stdout, a few
stderr lines and a time limit. They cover what only size reaches: tokens
and blank runs longer than any lexer buffer, flat chains deeper than the C
stack, programs with more constants, globals, locals and code than one-byte
or two-byte operands address, and runaway error output.

Usage: python3 tests/stress/run.py --mlp build/mlp [NAME...]
Python 3 standard library only.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

CASES = []
SCALE = 1   # set by main: limit_scale

# The time limits catch hangs and super-linear blow-ups, not speed. A
# sanitizer build runs about 5x slower, and `make test` runs it beside
# valgrind and qemu on the same cores (a 6 s case once took over 30 s
# there), so its limits are four times as long.
SANITIZED_SCALE = 4


def limit_scale(mlp):
    with open(mlp, "rb") as f:
        return SANITIZED_SCALE if b"__asan_init" in f.read() else 1


def case(name, src, exit=0, out=None, err=(), err_re=(), how=("file",), limit=60,
         max_err_lines=None):
    """src: the script text; out: the whole expected stdout; err: lines that
    must appear in stderr (in order); err_re: regexes that must match a
    stderr line; how: any of "file", "stdin", "e"."""
    CASES.append(dict(name=name, src=src, exit=exit, out=out, err=list(err),
                      err_re=list(err_re), how=how, limit=limit,
                      max_err_lines=max_err_lines))


MB = 1 << 20

# ---- the lexer: no token or blank run is too long ------------------------
case("comment_1mb", "# " + "x" * MB + "\nprint(1)\n", out="1\n", how=("file", "stdin"))
case("comment_100kb_e", "# " + "x" * 100000 + "\nprint(1)", out="1\n", how=("e",))
case("string_1mb", 'let s = "' + "ab" * (MB // 2) + '"\nprint(len(s))\n',
     out="%d\n" % MB, how=("file", "stdin"))
case("string_100kb_e", 'print(len("' + "y" * 100000 + '"))', out="100000\n", how=("e",))
case("name_1mb", "let " + "n" * MB + " = 3\nprint(" + "n" * MB + ")\n", out="3\n")
case("number_100kb", "print(" + "1" * 100 + "0" * 100000 + " > 1)\n", out="true\n")
case("blank_100k_lines", "print(1)\n" + "\n" * 100000 + "print(2)\n", out="1\n2\n",
     how=("file", "stdin"))
case("blank_100k_lines_e", "print(1)\n" + "\n" * 100000 + "print(2)", out="1\n2\n", how=("e",))
case("comment_lines_100k", "print(1)\n" + "# c\n" * 100000 + "print(2)\n", out="1\n2\n")
case("else_after_100k_blank_lines",
     "if false {\n  print(1)\n}\n" + "\n  # c\n" * 100000 + "else {\n  print(2)\n}\n", out="2\n")
case("record_key_model_1mb_spaces", "let r = {model" + " " * MB + ": 1}\nprint(r.model)\n", out="1\n")
case("spaces_1mb_in_call", "print(str(" + " " * MB + "1))\n", out="1\n")

# ---- long flat chains compile with a loop; real nesting has one limit -----
N = 50000
case("sum_50k_terms", "print(" + "+".join(["1"] * N) + ")\n", out="%d\n" % N, how=("file", "stdin"))
case("sub_chain_50k", "let x = 1\nprint(" + "-".join(["x"] * N) + ")\n", out="%d\n" % (1 - (N - 1)))
case("and_50k_terms", "print(" + " and ".join(["true"] * N) + ")\n", out="true\n")
case("or_50k_terms", "print(" + " or ".join(["false"] * N) + ")\n", out="false\n")
case("list_plus_50k", "print(" + "+".join(["[]"] * N) + "+[1])\n", out="[1]\n")
case("string_plus_50k", "print(len(" + "+".join(['"ab"'] * N) + "))\n", out="%d\n" % (2 * N))
case("sum_1m_terms", "let s = " + "+".join(["1"] * 1000000) + "\nprint(s)\n", out="1000000\n")
DEEP = "expression too deeply nested (limit 1000)"
case("parens_1001", "print(" + "(" * 1000 + "1" + ")" * 1000 + ")\n", exit=65,
     err=["{file}:1:1006: error: " + DEEP])
case("parens_999_ok", "print(" + "(" * 999 + "1" + ")" * 999 + ")\n", out="1\n")
# interpolations nest as deep as anything else (the lexer's stack of open
# brackets once held 256: 300 levels were a bogus "unexpected ')'")
case("interp_nest_300", "print(" + '"{' * 300 + "1" + '}"' * 300 + ")\n", out="1\n")
case("interp_nest_1200", "print(" + '"{' * 1200 + "1" + '}"' * 1200 + ")\n", exit=65,
     err=["{file}:1:2006: error: " + DEEP])
case("unary_5000", "print(" + "-" * 5000 + "1)\n", exit=65,
     err_re=[r".*:1:\d+: error: " + re.escape(DEEP)])
case("pow_right_5000", "print(" + "1**" * 5000 + "1)\n", exit=65,
     err_re=[r".*:1:\d+: error: " + re.escape(DEEP)])
case("calls_50k", "print(" + "str(" * N + "1" + ")" * N + ")\n", exit=65,
     err=["{file}:1:4006: error: " + DEEP])
case("not_50k", "print(" + "not " * N + "true)\n", exit=65,
     err_re=[r".*:1:\d+: error: " + re.escape(DEEP)])
case("else_if_50k", "let x = 0\n" + "if x == 1 { print(1) } else " * N + "{ print(0) }\n", exit=65,
     err_re=[r".*:\d+:\d+: error: " + re.escape(DEEP)])

# `activation` and `optimizer` bodies: differentiated and compiled to
# kernels without recursion past the same kind of limit (1000 levels), a
# located error at the node where it is crossed. The sums lean left: the
# last "+" is level 0 (the optimizer's "*" is, its sum's last "+" level 1),
# so level 1001 is "+" number 30000 - 1 - 1001 = 28998 of the activation
# (line 1 + 28998) and "+" number 20000 - 1001 = 18999 of the optimizer
# (line 3 + 18999).
EDEEP = "expression too deeply nested (more than 1000 levels)"
case("activation_30k_terms", "activation deep(x) = (x\n" + "+ x\n" * 29999 + ")\n", exit=65,
     err=["{file}:28999:1: error: activation deep: " + EDEEP])
case("optimizer_20k_terms", "optimizer Deep(lr=0.1) {\n    let a = grad\n    param -= lr * (grad\n"
     + "        + grad\n" * 19999 + "    )\n}\n", exit=65,
     err=["{file}:19002:9: error: optimizer Deep: " + EDEEP])

# ---- operands: no realistic script reaches a limit ------------------------
def lines(fmt, n):
    return "".join(fmt.format(i=i) for i in range(n))

case("consts_100k_toplevel", "let x = 0\n" + lines("x = x + {i}\n", 100000) + "print(x)\n",
     out="%d\n" % sum(range(100000)))
case("consts_100k_in_function", "fn f() {\n let x = 0\n" + lines(" x = x + {i}.5\n", 100000) +
     " return x\n}\nprint(f())\n", out="%d\n" % (sum(range(100000)) + 50000))
case("globals_100k", lines("let g{i} = {i}\n", 100000) + "print(g99999 + g70000)\n",
     out="169999\n")
case("loop_body_40k_statements", "let x = 0\nlet i = 0\nwhile i < 3 {\n" + "  x += 1\n" * 40000 +
     "  i += 1\n}\nprint(x)\n", out="120000\n")
case("for_body_40k_statements", "let x = 0\nfor i in range(2) {\n" + "  x += i\n" * 40000 +
     "  if i == 5 { break }\n}\nprint(x)\n", out="40000\n")
case("if_body_40k_statements", "let x = 0\nif x == 0 {\n" + "  x += 1\n" * 40000 +
     "} else {\n  x = -1\n}\nprint(x)\n", out="40000\n")
case("function_40k_statements", "fn f(a, b = 2) {\n  let x = a + b\n" + "  x += 1\n" * 40000 +
     "  return x\n}\nprint(f(1))\n", out="40003\n")
case("and_jump_over_40k", "let t = true\nprint(false and [" + "t, " * 40000 + "t][0])\n",
     out="false\n")
case("locals_1000", "fn f() {\n" + lines("  let l{i} = {i}\n", 1000) +
     "  let s = 0\n  for k in range(3) { s += l999 + k }\n  let g = fn() { return l998 + l300 }\n"
     "  return s + g()\n}\nprint(f())\n", out="%d\n" % (3 * 999 + 3 + 998 + 300))
case("locals_70000", "fn f() {\n" + lines("  let l{i} = 1\n", 70000) + "}\nf()\n", exit=65,
     err_re=[r".*:65537:\d+: error: too many local variables in one function \(at most 65535\)"],
     max_err_lines=3)
case("script_10mb", lines("let v{i} = {i} * 2 + {i} % 7\n", 370000) + "print(v369999)\n",
     out="%d\n" % (369999 * 2 + 369999 % 7), limit=30)

# ---- error output is bounded ---------------------------------------------
case("too_many_compile_errors",
     "let y = 1\nf(" + ", ".join("a%d" % i for i in range(3000)) + ")\n", exit=65,
     err_re=[r".*:2:\d+: error: too many errors \(stopping after 20\)"], max_err_lines=61)
case("too_many_syntax_errors", "let = 1\n" * 3000, exit=65,
     err=["{file}:21:5: error: too many errors (stopping after 20)"], max_err_lines=61)
case("record_1mb_errors", "let r = {" + ", ".join("a%d: u" % i for i in range(120000)) + "}\n",
     exit=65, max_err_lines=61, limit=20)


def run(mlp, c, how, tmp):
    path = os.path.join(tmp, c["name"] + ".mlp")
    with open(path, "w") as f:
        f.write(c["src"])
    if how == "file":
        argv, stdin = [mlp, path], None
    elif how == "stdin":
        argv, stdin = [mlp, "-"], open(path, "rb")
    else:
        argv, stdin = [mlp, "-e", c["src"]], None
    t0 = time.time()
    try:
        p = subprocess.run(argv, stdin=stdin, capture_output=True, timeout=c["limit"] * SCALE)
    except subprocess.TimeoutExpired:
        return "timed out after %d s" % (c["limit"] * SCALE)
    finally:
        if stdin:
            stdin.close()
    dt = time.time() - t0
    out = p.stdout.decode("utf-8", "replace")
    err = p.stderr.decode("utf-8", "replace")
    problems = []
    if p.returncode != c["exit"]:
        problems.append("exit %d, expected %d" % (p.returncode, c["exit"]))
    if c["out"] is not None and out != c["out"]:
        problems.append("stdout %r, expected %r" % (out[:300], c["out"][:300]))
    lines = err.splitlines()
    i = 0
    for want in c["err"]:
        want = want.replace("{file}", path if how == "file" else "<stdin>")
        while i < len(lines) and lines[i].rstrip() != want.rstrip():
            i += 1
        if i == len(lines):
            problems.append("stderr lacks %r" % want)
            break
    for rx in c["err_re"]:
        if not any(re.fullmatch(rx, l) for l in lines):
            problems.append("no stderr line matches %r" % rx)
    if c["max_err_lines"] is not None and len(lines) > c["max_err_lines"]:
        problems.append("%d stderr lines, at most %d expected" % (len(lines), c["max_err_lines"]))
    if problems:
        problems.append("stderr begins: %r" % err[:600])
        return "; ".join(problems)
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlp", default="build/mlp")
    ap.add_argument("names", nargs="*")
    a = ap.parse_args()
    mlp = os.path.abspath(a.mlp)
    global SCALE
    SCALE = limit_scale(mlp)
    failed = passed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for c in CASES:
            if a.names and c["name"] not in a.names:
                continue
            for how in c["how"]:
                t0 = time.time()
                why = run(mlp, c, how, tmp)
                label = "%s (%s)" % (c["name"], how)
                if why:
                    failed += 1
                    print("FAIL %s: %s" % (label, why))
                else:
                    passed += 1
                    if os.environ.get("STRESS_VERBOSE"):
                        print("ok   %s %.2fs" % (label, time.time() - t0))
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
