#!/usr/bin/env python3
"""The golden runner: run .mlp scripts and compare what they print.

Two kinds of golden test, told apart by where the script lives:

* Language tests (`tests/lang/**/*.mlp`) carry their expectations inside the
  file as comments, in the order the output appears (Wren's `test/` idiom):

      print(1 + 2)      # expect: 3
      # expect stderr: tests/lang/x.mlp:3:9: error: unexpected ')'
      # expect stderr:     let x = )
      # expect stderr:             ^
      # expect exit: 65

  `# expect: TEXT` is the next line of stdout; all of stdout must match
  exactly (no expect lines means stdout must be empty). `# expect stderr:`
  (alias `# expect error:`) is the next line of stderr; when any is given,
  all of stderr must match. When none is given and the expected exit code is
  0, stderr must be empty; for an expected failure without stderr lines only
  the exit code is checked. Where LANGUAGE.md fixes the position and caret
  but not the wording of a message, `# expect stderr re: REGEX` matches one
  stderr line by a full regular-expression match, and `# expect stderr more:`
  (last) allows any further stderr lines (a traceback of unbounded depth).
  `# expect re:` and `# expect more:` do the same for stdout (for CLI output
  whose wording is not specified, such as --help and --disasm).
  `# expect exit: N` defaults to 0. TEXT is everything after the colon and
  one space, so a caret line keeps its indentation. Trailing blanks of stderr lines are ignored on both sides:
  an error echoes the offending source line, and editors strip the trailing
  blanks of the comment that quotes it.

* Examples (`*.mlp` in a directory named `examples`): stdout must equal the
  `.out` file beside the script byte for byte, and the exit code must be 0.
  An example gets a fresh temporary folder as its first argument (`args[0]`)
  to write files into (figures, reports); the folder is removed afterwards.

A language test may replace the command line with `# command: ARGS`, for the
CLI's own behaviour (usage errors, `-e`, `-`): the runner then runs
`mlp ARGS` (split like a shell would, `{file}` standing for the script's
path) with the script's text on stdin, e.g. `# command: -` runs the script
from stdin and `# command: --bogus {file}` tests a usage error.

Any script may say `# needs: mnist` (skipped, visibly, unless
`<dir>/mnist/train-images-idx3-ubyte[.gz]` exists for some dir on
$MLP_DATA_PATH) or `# tags: slow, ...` (skipped with `--skip-tag slow`).
Directories named `modules` hold helper modules that tests import; they are
not tests themselves.

Every script runs as `mlp <path relative to the project root>` with the
project root as the working directory, so error messages carry a stable
relative path. Tests run in parallel (2 workers by default), each with a
timeout; the runner prints one line per failure followed by a unified diff,
and ends with `N passed, N failed[, N skipped]`. Exit status 1 on any
failure, 2 on a usage error.

Usage:
    python3 tests/golden.py --mlp build/mlp [--wrap "valgrind -q ..."]
                            [--skip-tag slow] [--jobs 2] DIR_OR_FILE...
    python3 tests/golden.py --self-test   # the runner's own tests

Python 3 standard library only.
"""

import argparse
import concurrent.futures
import difflib
import os
import re
import shlex
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
TIMEOUT_SECONDS = 120
HELPER_DIRS = {"modules"}

# A directive may follow code on the same line (`print(1)  # expect: 1`).
# The single space after the colon is the separator; the rest is the text.
DIRECTIVE = re.compile(
    r"#\s*(expect(?:\s+(?:stderr\s+re|stderr\s+more|stderr|error|exit|re|more))?"
    r"|needs|tags|command)"
    r"\s*:(?: |$)(.*)$")


class Spec:
    """What one script is expected to do, read from its comments."""

    def __init__(self):
        self.stdout = []        # expected stdout lines, in order (str or regex)
        self.stdout_more = False  # `expect more:` - later lines are free
        self.stderr = []        # expected stderr lines, in order: str, or
                                # a compiled regex for `stderr re:` lines
        self.stderr_more = False  # `stderr more:` - later lines are free
        self.exit = 0
        self.needs = []
        self.tags = []
        self.problems = []      # malformed directives, reported as failures
        self.command = None     # `# command:` arguments, replacing the path


def parse_spec(text):
    spec = Spec()
    for lineno, line in enumerate(text.split("\n"), 1):
        m = DIRECTIVE.search(line)
        if not m:
            continue
        kind = " ".join(m.group(1).split())
        value = m.group(2)
        if kind == "expect":
            spec.stdout.append(value)
        elif kind in ("expect stderr", "expect error"):
            spec.stderr.append(value.rstrip())
        elif kind == "expect stderr re":
            try:
                spec.stderr.append(re.compile(value.rstrip()))
            except re.error as e:
                spec.problems.append("line %d: bad regex %r: %s" % (lineno, value, e))
        elif kind == "expect re":
            try:
                spec.stdout.append(re.compile(value.rstrip()))
            except re.error as e:
                spec.problems.append("line %d: bad regex %r: %s" % (lineno, value, e))
        elif kind == "expect more":
            spec.stdout_more = True
        elif kind == "expect stderr more":
            spec.stderr_more = True
        elif kind == "expect exit":
            try:
                spec.exit = int(value.strip())
            except ValueError:
                spec.problems.append(
                    "line %d: '# expect exit:' wants an integer, got %r"
                    % (lineno, value.strip()))
        elif kind == "needs":
            spec.needs += [w.strip() for w in value.split(",") if w.strip()]
        elif kind == "command":
            spec.command = value
        elif kind == "tags":
            spec.tags += [w.strip() for w in value.split(",") if w.strip()]
    return spec


def data_available(name):
    """True when some directory on $MLP_DATA_PATH holds data set `name`."""
    for d in os.environ.get("MLP_DATA_PATH", "").split(":"):
        if not d:
            continue
        for f in ("train-images-idx3-ubyte.gz", "train-images-idx3-ubyte"):
            if os.path.isfile(os.path.join(d, name, f)):
                return True
    return False


def is_example(path):
    return os.path.basename(os.path.dirname(os.path.abspath(path))) == "examples"


def collect(paths):
    """Every test script under `paths`, sorted, as paths relative to ROOT."""
    found = []
    for p in paths:
        ap = os.path.abspath(p)
        if os.path.isfile(ap):
            found.append(ap)
        elif os.path.isdir(ap):
            for d, dirs, files in os.walk(ap):
                dirs[:] = sorted(x for x in dirs
                                 if x not in HELPER_DIRS and not x.startswith("."))
                found += [os.path.join(d, f) for f in files if f.endswith(".mlp")]
        else:
            # Not fatal: `make check` names examples/ before it exists.
            print("golden.py: note: %s does not exist, nothing to run there" % p,
                  file=sys.stderr)
    rel = sorted({os.path.relpath(f, ROOT) for f in found})
    return rel


# What every script sees: no per-epoch progress lines on stderr (fit prints
# them off a terminal; their seconds vary), and one locale, so plot()'s
# terminal charts are braille everywhere (MLP_ASCII would force ASCII).
CHILD_ENV = dict(os.environ, MLP_PROGRESS="0", LC_ALL="C.UTF-8")
CHILD_ENV.pop("MLP_ASCII", None)
# An ASan build: what fontconfig keeps for the whole process (figures use
# it through cairo) is not a leak of mlp's (tests/lsan.supp).
CHILD_ENV["LSAN_OPTIONS"] = ":".join(
    filter(None, [os.environ.get("LSAN_OPTIONS"), "print_suppressions=0",
                  "suppressions=" + os.path.join(ROOT, "tests", "lsan.supp")]))


def run(cmd, timeout, stdin=None, usage=None):
    """Run cmd in ROOT; returns (exit code or None on timeout, stdout, stderr).

    The child gets its own process group so a timeout also kills whatever a
    wrapper (valgrind) started. stdin is the given bytes, or closed so that
    nothing waits on it. The child is reaped with wait4, so `usage` (a dict,
    when given) receives its wall and CPU seconds (user+sys, the child and
    the children it waited for: a wrapper's and the script's)."""
    start = time.monotonic()
    proc = subprocess.Popen(cmd, cwd=ROOT, env=CHILD_ENV,
                            stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            start_new_session=True)
    timed_out = threading.Event()

    def kill():
        timed_out.set()
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    timer = threading.Timer(timeout, kill)
    timer.start()
    got = {}

    def pump(name, f):
        got[name] = f.read()
        f.close()
    readers = [threading.Thread(target=pump, args=("out", proc.stdout)),
               threading.Thread(target=pump, args=("err", proc.stderr))]
    for t in readers:
        t.start()
    if stdin is not None:
        try:
            proc.stdin.write(stdin)
        except BrokenPipeError:
            pass
        try:
            proc.stdin.close()
        except BrokenPipeError:
            pass
    _, status, rusage = os.wait4(proc.pid, 0)
    proc.returncode = os.waitstatus_to_exitcode(status)
    if timed_out.is_set():
        # whatever the wrapper started may still hold the pipes open
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for t in readers:
        t.join()
    timer.cancel()
    if usage is not None:
        usage["wall"] = time.monotonic() - start
        usage["cpu"] = rusage.ru_utime + rusage.ru_stime
    code = None if timed_out.is_set() else proc.returncode
    dec = lambda b: b.decode("utf-8", errors="surrogateescape")
    return code, dec(got["out"]), dec(got["err"])


def diff(label, expected, actual):
    lines = difflib.unified_diff(expected, actual, "expected " + label,
                                 "actual " + label, lineterm="")
    return "\n".join("    " + l for l in lines)


def split_lines(s):
    """Output as a list of lines; a missing final newline shows as a line."""
    if s == "":
        return []
    lines = s.split("\n")
    if lines[-1] == "":
        lines.pop()
    else:
        lines[-1] += "\\ (no newline at end)"
    return lines


def lines_match(wanted, more, got):
    """got matches wanted line by line (str: equal, regex: full match);
    extra lines are allowed only with `more`."""
    if len(got) < len(wanted) or (len(got) > len(wanted) and not more):
        return False
    for want, line in zip(wanted, got):
        if isinstance(want, str):
            if want != line:
                return False
        elif not want.fullmatch(line):
            return False
    return True


def shown(wanted, more):
    """Expected lines as the diff shows them."""
    lines = [w if isinstance(w, str) else "re: " + w.pattern for w in wanted]
    return lines + ["more: (any further lines)"] if more else lines


def describe_exit(code, timeout):
    if code is None:
        return "timed out after %g s" % timeout
    if code < 0:
        try:
            return "killed by %s" % signal.Signals(-code).name
        except ValueError:
            return "killed by signal %d" % -code
    return "exit %d" % code


def check(rel, args, usage=None):
    """Runs one script; returns ('pass'|'fail'|'skip', message). `usage`
    (a dict) receives the run's wall and CPU seconds (see run())."""
    try:
        with open(os.path.join(ROOT, rel), encoding="utf-8") as f:
            text = f.read()
    except (OSError, UnicodeDecodeError) as e:
        return "fail", "cannot read %s: %s" % (rel, e)
    spec = parse_spec(text)
    if spec.problems:
        return "fail", "\n".join("    " + p for p in spec.problems)
    for need in spec.needs:
        if not data_available(need):
            return "skip", "needs %s (not found on $MLP_DATA_PATH)" % need
    for tag in spec.tags:
        if tag in args.skip_tag:
            return "skip", "tagged %s" % tag

    stdin = None
    if spec.command is not None:
        try:
            argv = [a.replace("{file}", rel) for a in shlex.split(spec.command)]
        except ValueError as e:
            return "fail", "    bad '# command:' line: %s" % e
        stdin = text.encode("utf-8")
    else:
        argv = [rel]
    cmd = shlex.split(args.wrap) + [args.mlp] + argv
    # a `slow` script (the study: minutes on a loaded machine) gets ten times longer
    timeout = args.timeout * (10 if "slow" in spec.tags else 1)
    if is_example(rel) and spec.command is None:
        # an example's files (plot(..., file=), save) go to a fresh folder
        with tempfile.TemporaryDirectory(prefix="mlp-example-") as tmp:
            code, out, err = run(cmd + [tmp], timeout, stdin, usage)
    else:
        code, out, err = run(cmd, timeout, stdin, usage)
    problems = []

    if is_example(rel):
        want_path = os.path.join(ROOT, os.path.splitext(rel)[0] + ".out")
        try:
            with open(want_path, encoding="utf-8", errors="surrogateescape") as f:
                want = f.read()
        except OSError:
            return "fail", "    no expected output %s" % os.path.relpath(want_path, ROOT)
        if code != 0:
            problems.append("    want exit 0, got %s" % describe_exit(code, timeout))
            problems += ["    stderr: " + l for l in split_lines(err)[-10:]]
        if out != want:
            problems.append(diff("stdout", split_lines(want), split_lines(out)))
        return ("fail", "\n".join(problems)) if problems else ("pass", "")

    if code != spec.exit:
        problems.append("    want exit %d, got %s" % (spec.exit, describe_exit(code, timeout)))
    if not lines_match(spec.stdout, spec.stdout_more, split_lines(out)) \
            or (out and not out.endswith("\n")):
        problems.append(diff("stdout", shown(spec.stdout, spec.stdout_more),
                             split_lines(out)))
    got_err = [l.rstrip() for l in split_lines(err)]
    if spec.stderr or spec.exit == 0:
        if not lines_match(spec.stderr, spec.stderr_more, got_err):
            problems.append(diff("stderr", shown(spec.stderr, spec.stderr_more), got_err))
    elif problems:
        # Not checked, but it is what explains a wrong exit code.
        problems += ["    stderr: " + l for l in got_err[-10:]]
    return ("fail", "\n".join(problems)) if problems else ("pass", "")


# ---- the runner's own tests -----------------------------------------------
# A fake interpreter obeys lines `OUT text`, `ERR text`, `EXIT n`, `SLEEP s`
# (anything after '#' is ignored), so each case below states by construction
# whether the runner must pass or fail it.
FAKE_MLP = """import sys, time
code = 0
src = sys.stdin.read() if sys.argv[1] == "-" else open(sys.argv[1], encoding="utf-8").read()
for line in src.split("\\n"):
    line = line.split("#")[0].rstrip()
    if line == "OUT": print()
    elif line.startswith("OUT "): print(line[4:])
    elif line.startswith("ERR "): print(line[4:], file=sys.stderr)
    elif line.startswith("EXIT "): code = int(line[5:])
    elif line.startswith("SLEEP "): time.sleep(float(line[6:]))
sys.exit(code)
"""

SELF_TESTS = [  # (name, source, expected status)
    ("out_ok", "OUT 3  # expect: 3\nOUT 한국  # expect: 한국\n", "pass"),
    ("out_wrong", "OUT 4  # expect: 3\n", "fail"),
    ("out_extra", "OUT 1\n", "fail"),
    ("out_missing", "# expect: 1\n", "fail"),
    ("empty_line", "OUT \n# expect:\n", "pass"),
    ("err_ok", "ERR f:1:2: error: bad\nERR     x = (1 +  \nERR             ^\nEXIT 65\n"
               "# expect stderr: f:1:2: error: bad\n# expect stderr:     x = (1 +\n"
               "# expect stderr:             ^\n# expect exit: 65\n", "pass"),
    ("err_caret_off", "ERR  ^\nEXIT 65\n# expect stderr:   ^\n# expect exit: 65\n", "fail"),
    ("err_extra_line", "ERR a\nERR b\nEXIT 70\n# expect stderr: a\n# expect exit: 70\n", "fail"),
    ("err_more", "ERR a\nERR b\nEXIT 70\n# expect stderr: a\n# expect stderr more:\n"
                 "# expect exit: 70\n", "pass"),
    ("err_re", "ERR f:3:1: error: oops\nEXIT 70\n# expect stderr re: f:3:1: error: .*\n"
               "# expect exit: 70\n", "pass"),
    ("err_re_wrong", "ERR f:3:2: error: oops\nEXIT 70\n# expect stderr re: f:3:1: error: .*\n"
                     "# expect exit: 70\n", "fail"),
    ("stderr_noise", "ERR warning\n", "fail"),
    ("exit_wrong", "EXIT 70\n# expect exit: 65\n", "fail"),
    ("exit_only", "ERR whatever\nEXIT 70\n# expect exit: 70\n", "pass"),
    ("timeout", "SLEEP 5\n", "fail"),
    ("stdin", "# command: -\nOUT via stdin  # expect: via stdin\n", "pass"),
    ("tagged", "# tags: slow\nOUT 1\n", "skip"),
    ("needs", "# needs: no_such_dataset\n", "skip"),
    ("bad_exit", "# expect exit: x\n", "fail"),
]


def self_test():
    import tempfile
    global ROOT
    with tempfile.TemporaryDirectory() as tmp:
        ROOT = tmp
        fake = os.path.join(tmp, "fake_mlp")
        with open(fake, "w") as f:
            f.write("#!%s\n%s" % (sys.executable, FAKE_MLP))
        os.chmod(fake, 0o755)
        os.makedirs(os.path.join(tmp, "lang", "modules"))
        os.makedirs(os.path.join(tmp, "examples"))
        args = argparse.Namespace(mlp=fake, wrap="", skip_tag=["slow"], timeout=1)
        cases = list(SELF_TESTS)
        for name, src, _ in SELF_TESTS:
            with open(os.path.join(tmp, "lang", name + ".mlp"), "w", encoding="utf-8") as f:
                f.write(src)
        for name, src, out, want in [("ex_ok", "OUT a\nOUT b\n", "a\nb\n", "pass"),
                                     ("ex_short", "OUT a\n", "a\nb\n", "fail"),
                                     ("ex_no_out", "OUT a\n", None, "fail")]:
            with open(os.path.join(tmp, "examples", name + ".mlp"), "w") as f:
                f.write(src)
            if out is not None:
                with open(os.path.join(tmp, "examples", name + ".out"), "w") as f:
                    f.write(out)
            cases.append(("../examples/" + name, src, want))
        with open(os.path.join(tmp, "lang", "modules", "helper.mlp"), "w") as f:
            f.write("OUT not a test\n")
        found = collect([os.path.join(tmp, "lang")])
        wrong = 0
        if any("modules" in t for t in found):
            print("self-test: a helper module was collected as a test")
            wrong += 1
        for name, _, want in cases:
            rel = os.path.normpath(os.path.join("lang", name + ".mlp"))
            got, msg = check(rel, args)
            if got != want:
                wrong += 1
                print("self-test %s: want %s, got %s\n%s" % (name, want, got, msg))
        print("self-test: %d cases, %d wrong" % (len(cases), wrong))
        return 1 if wrong else 0


def main():
    if sys.argv[1:] == ["--self-test"]:
        return self_test()
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mlp", required=True, help="the mlp binary")
    ap.add_argument("--wrap", default="", help="command to prefix, e.g. valgrind")
    ap.add_argument("--skip-tag", action="append", default=[],
                    help="skip scripts tagged with this (repeatable)")
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--timeout", type=float, default=TIMEOUT_SECONDS)
    ap.add_argument("--times", type=int, default=0, metavar="N",
                    help="after the summary, the N slowest scripts (CPU and "
                         "wall seconds) and the total; -1 for every script")
    ap.add_argument("paths", nargs="+", metavar="DIR_OR_FILE")
    args = ap.parse_args()

    args.mlp = os.path.abspath(args.mlp)
    if not os.access(args.mlp, os.X_OK):
        print("golden.py: %s is not an executable (build it with `make`)" % args.mlp,
              file=sys.stderr)
        return 2
    tests = collect(args.paths)
    if not tests:
        print("golden.py: no .mlp scripts under %s" % " ".join(args.paths),
              file=sys.stderr)
        return 2

    counts = {"pass": 0, "fail": 0, "skip": 0}
    usages = {t: {} for t in tests}
    lock = threading.Lock()
    start = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(max_workers=max(1, args.jobs)) as pool:
        # map() yields in submission order, so the report is deterministic.
        for rel, (status, msg) in zip(tests, pool.map(lambda t: check(t, args, usages[t]), tests)):
            with lock:
                counts[status] += 1
                if status == "fail":
                    print("FAIL %s" % rel)
                    if msg:
                        print(msg)
                elif status == "skip":
                    print("SKIP %s: %s" % (rel, msg))
                sys.stdout.flush()
    wall = time.monotonic() - start

    summary = "%d passed, %d failed" % (counts["pass"], counts["fail"])
    if counts["skip"]:
        summary += ", %d skipped" % counts["skip"]
    print(summary)
    if args.times:
        ran = sorted((t for t in tests if usages[t]),
                     key=lambda t: (-usages[t]["cpu"], t))
        print("times: %.1f s CPU in the scripts, %.1f s wall, %d jobs"
              % (sum(usages[t]["cpu"] for t in ran), wall, args.jobs))
        for t in ran if args.times < 0 else ran[:args.times]:
            print("  %7.2f s CPU %7.2f s wall  %s" % (usages[t]["cpu"], usages[t]["wall"], t))
    return 1 if counts["fail"] else 0


if __name__ == "__main__":
    sys.exit(main())
