#!/usr/bin/env python3
"""Installing comes before compiling, for every target a person runs.

On a fresh machine `make test` once failed because the unit-test objects were
compiled before the step that installs Criterion. This test builds a scratch
copy of the project on a machine that pretends to have nothing installed:

* a `dpkg-query` stand-in reports every package missing until the fake
  `apt-get` has "installed" it (a marker file per package; apt-get sleeps a
  little, so a compile that does not wait for it runs first under -j);
* `cc`, `clang`, `bison` and `flex` stand-ins check, before "compiling", that
  the packages whose headers or libraries the command needs are installed,
  and write empty outputs instead of compiling.

Phase 1 runs the real build graph of each target's products with `make -j8`
(any missing dependency on an install step shows up as a stand-in failing);
phase 2 checks with `make -n` that in the recipes printed for `make test`,
`make run`, `make bench` and `make fuzz` each package group is installed
before the first command that needs it.

Run from the project root: python3 tests/build/install_order.py
"""
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))


def make_vars():
    """DEB_BUILD, DEB_TEST, DEB_BENCH as the Makefile defines them."""
    out = subprocess.run(["make", "-pn", "-f", "Makefile", "nothing-such"], cwd=ROOT,
                         capture_output=True, text=True).stdout
    v = {}
    for name in ("DEB_BUILD", "DEB_TEST", "DEB_BENCH", "DEB_CROSS"):
        m = re.search(r"^%s :?= (.*)$" % name, out, re.M)
        if not m:
            sys.exit("install_order: %s not found in the Makefile" % name)
        v[name] = m.group(1).split()
    return v


STANDIN = r'''#!/usr/bin/env python3
import os, subprocess, sys, time
MARK = os.environ["FAKE_MARKS"]
tool = os.path.basename(sys.argv[0])
args = sys.argv[1:]
def installed(p): return os.path.exists(os.path.join(MARK, p))
def log(s):
    with open(os.path.join(MARK, "..", "log"), "a") as f: f.write(s + "\n")
if tool == "dpkg-query":
    # as `dpkg-query -W -f='${Status} ${Architecture}\n' NAME`: a line per
    # installed architecture of the bare NAME (a marker "NAME" is the native
    # one, "NAME:arm64" the cross one)
    p = args[-1]
    native = subprocess.run(["dpkg", "--print-architecture"], capture_output=True,
                            text=True).stdout.strip()
    lines = ["install ok installed " + native] if installed(p) else []
    lines += ["install ok installed " + m.split(":", 1)[1]
              for m in sorted(os.listdir(MARK)) if m.startswith(p + ":")]
    if lines: print("\n".join(lines)); sys.exit(0)
    sys.exit(1)
if tool == "apt-get":
    if args and args[0] == "update" or "update" in args: sys.exit(0)
    pk = [a for a in args if not a.startswith("-") and a != "install"]
    # the build group first, the others slower: a compile that does not wait
    # for its group (only for an earlier one) then runs before the install
    time.sleep(1.5 if "flex" in pk else 5)
    for p in pk: open(os.path.join(MARK, p), "w").close()
    log("install " + " ".join(pk)); sys.exit(0)
if tool == "sudo":
    os.execvp(args[0], args)
need = {NEEDS}
req = list(need["build"])
joined = " ".join(args)
if tool == "clang": req += need["clang"]
if "criterion" in joined or "tests/unit/" in joined: req += ["libcriterion-dev"]
missing = [p for p in req if not installed(p)]
if missing:
    log("FAIL %s before %s: %s" % (tool, " ".join(missing), joined[-200:]))
    print("%s stand-in: %s not installed yet" % (tool, " ".join(missing)), file=sys.stderr)
    sys.exit(1)
log("ok " + tool + " " + joined[-120:])
outs = []
for i, a in enumerate(args):
    if a == "-o" and i + 1 < len(args): outs.append(args[i + 1])
    for pre in ("--defines=", "--header-file="):
        if a.startswith(pre): outs.append(a[len(pre):])
for o in outs:
    os.makedirs(os.path.dirname(o) or ".", exist_ok=True)
    with open(o, "w") as f: f.write("#!/bin/sh\nexit 0\n")
    os.chmod(o, 0o755)
    if o.endswith(".o"):  # the dependency file -MMD would write
        open(o[:-2] + ".d", "w").close()
'''


def scratch_copy(dst):
    files = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                           cwd=ROOT, capture_output=True, check=True).stdout.split(b"\0")
    for f in files:
        if not f:
            continue
        f = f.decode()
        src = os.path.join(ROOT, f)
        if not os.path.isfile(src):
            continue
        os.makedirs(os.path.join(dst, os.path.dirname(f)), exist_ok=True)
        shutil.copy2(src, os.path.join(dst, f))


def setup(tmp, v):
    bindir = os.path.join(tmp, "bin")
    marks = os.path.join(tmp, "marks")
    os.makedirs(bindir)
    os.makedirs(marks)
    needs = {"build": ["flex", "bison", "libffi-dev", "zlib1g-dev"],
             "clang": ["clang", "libclang-rt-14-dev"]}
    for p in needs["build"] + needs["clang"] + ["libcriterion-dev"]:
        if p not in v["DEB_BUILD"] + v["DEB_TEST"]:
            sys.exit("install_order: %s is needed but in no package group" % p)
    body = STANDIN.replace("{NEEDS}", repr(needs))
    for tool in ("dpkg-query", "apt-get", "sudo", "cc", "clang", "bison", "flex"):
        p = os.path.join(bindir, tool)
        with open(p, "w") as f:
            f.write(body)
        os.chmod(p, os.stat(p).st_mode | stat.S_IEXEC)
    env = dict(os.environ, PATH=bindir + ":" + os.environ["PATH"], FAKE_MARKS=marks, CC="cc")
    env.pop("MAKEFLAGS", None)
    env.pop("MFLAGS", None)
    env.pop("MAKELEVEL", None)
    return env


def phase_build(v):
    """Build each target's products in parallel with the stand-ins."""
    products = {
        "run": [["build/mlp"]],
        # one product per make, so each one's graph alone must order the installs
        "test": [["build/unit-tests"], ["build/mlp", "build/examples/ffi/libplugin.so"],
                 ["MODE=asan", "build/asan/unit-tests"], ["MODE=asan", "build/asan/mlp"]],
        "bench": [["build/mlp", "build/.deps-bench"]],
        "fuzz": [["build/fuzz/fuzz-parse"]],
    }
    fails = 0
    for target, goals in products.items():
        with tempfile.TemporaryDirectory() as tmp:
            proj = os.path.join(tmp, "proj")
            scratch_copy(proj)
            env = setup(tmp, v)
            for g in goals:
                r = subprocess.run(["make", "-j8", "--no-print-directory"] + g, cwd=proj, env=env,
                                   capture_output=True, text=True)
                if r.returncode != 0:
                    break
            log = open(os.path.join(tmp, "log")).read() if os.path.exists(os.path.join(tmp, "log")) else ""
            bad = [l for l in log.splitlines() if l.startswith("FAIL")]
            compiled = sum(1 for l in log.splitlines() if l.startswith("ok "))
            if r.returncode != 0 or bad or compiled == 0:
                fails += 1
                print("FAIL make %s: exit %d, %d commands ran" % (target, r.returncode, compiled))
                for l in bad[:5]:
                    print("    " + l)
                print("    " + "\n    ".join(r.stderr.strip().splitlines()[-5:]))
            else:
                print("ok   make %s: %d compile/link commands, each after its install" % (target, compiled))
    return fails


def phase_cross_present(v):
    """The arm64 copies of the build packages (the cross build's) do not
    count as the native ones: with only those present, `make build/mlp`
    still installs the native group first (it once took libffi-dev:arm64
    for libffi-dev and failed on ffi.h)."""
    with tempfile.TemporaryDirectory() as tmp:
        proj = os.path.join(tmp, "proj")
        scratch_copy(proj)
        env = setup(tmp, v)
        for p in v["DEB_CROSS"]:
            if ":" in p:
                open(os.path.join(tmp, "marks", p), "w").close()
        r = subprocess.run(["make", "-j8", "--no-print-directory", "build/mlp"], cwd=proj, env=env,
                           capture_output=True, text=True)
        log = open(os.path.join(tmp, "log")).read() if os.path.exists(os.path.join(tmp, "log")) else ""
        bad = [l for l in log.splitlines() if l.startswith("FAIL")]
        installs = [l for l in log.splitlines() if l.startswith("install ")]
        if r.returncode != 0 or bad or not any("libffi-dev" in l.split() for l in installs):
            print("FAIL make build/mlp with only the arm64 packages present: exit %d, installs %s"
                  % (r.returncode, installs))
            for l in bad[:5]:
                print("    " + l)
            return 1
        print("ok   make build/mlp with only the arm64 packages present: the native ones installed first")
        return 0


def phase_dry(v):
    """make -n TARGET: the install of each group precedes its first use."""
    fails = 0
    for target in ("test", "run", "bench", "fuzz"):
        with tempfile.TemporaryDirectory() as tmp:
            proj = os.path.join(tmp, "proj")
            scratch_copy(proj)
            env = setup(tmp, v)
            r = subprocess.run(["make", "-n", "--no-print-directory", target], cwd=proj, env=env,
                               capture_output=True, text=True)
            lines = r.stdout.splitlines()

            def first(pred):
                return next((i for i, l in enumerate(lines) if pred(l)), None)

            group_line = {g: first(lambda l, g=g: "dpkg-query" in l and " ".join(v[g]) in l)
                          for g in ("DEB_BUILD", "DEB_TEST", "DEB_BENCH")}
            uses = {
                "DEB_BUILD": first(lambda l: re.match(r"^(cc|clang|bison|flex) ", l)),
                "DEB_TEST": first(lambda l: re.match(r"^(cc|clang) ", l) and
                                  ("tests/unit/" in l or "criterion" in l or l.startswith("clang"))),
                "DEB_BENCH": first(lambda l: "tests/bench/" in l),
            }
            ok = True
            for g, use in uses.items():
                if use is None:
                    continue
                inst = group_line[g]
                if inst is None or inst > use:
                    ok = False
                    print("FAIL make -n %s: %s used at line %s before its install (line %s)" %
                          (target, g, use, inst))
            if ok:
                print("ok   make -n %s: installs precede uses (%d recipe lines)" % (target, len(lines)))
            else:
                fails += 1
    return fails


def main():
    v = make_vars()
    fails = phase_build(v) + phase_cross_present(v) + phase_dry(v)
    print("install order: %s" % ("all passed" if not fails else "%d failed" % fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
