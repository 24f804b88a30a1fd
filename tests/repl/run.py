#!/usr/bin/env python3
"""REPL tests: drive the real `mlp` binary on a pseudo-terminal.

    python3 tests/repl/run.py --mlp build/mlp [-k NAME] [-v]

Each test starts `mlp` with no arguments on a fresh pty (so it sees a
terminal, exactly as a person's shell would start it), types into it and
waits for what it should print. Nothing sleeps for a fixed time: every step
waits for a prompt or an expected text, with generous timeouts, so a loaded
machine (or an ASan build) only makes the tests slower. Output is compared
after removing terminal control sequences (colours, libedit's cursor
moves) and carriage returns.

The expected values are computed independently here (1 + 2 is 3, a
record's fields are the ones the test typed, the exit status is 0...), never
copied from a run of the program.

The last line is `N passed, N failed`; the exit status is 1 when a test
failed.
"""
import argparse
import os
import pty
import re
import select
import shutil
import signal
import struct
import subprocess
import sys
import tempfile
import time
import traceback

try:
    import fcntl
    import termios
except ImportError:  # not a Unix: nothing to test
    fcntl = termios = None

TIMEOUT = 60.0          # seconds for one expected text (generous: ASan, load)
TRAIN_TIMEOUT = 180.0   # for a training run to stop after Ctrl-C
PROMPT = "mlp> "
CONT = "...> "

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b[()][0-9A-Za-z]|\x1b[=>]")


def clean(raw):
    """Terminal output as a person reads it: no escapes, no carriage returns."""
    text = raw.decode("utf-8", "replace")
    return ANSI.sub("", text).replace("\r", "")


class Timeout(Exception):
    pass


class Session:
    """One `mlp` process on a pty. `expect` consumes output up to a match."""

    def __init__(self, mlp, env=None, args=()):
        self.env = dict(os.environ)
        self.env.update({"TERM": "xterm", "LC_ALL": "C.UTF-8"})
        self.env.pop("NO_COLOR", None)
        if env:
            self.env.update(env)
        self.pid, self.fd = pty.fork()
        if self.pid == 0:  # the child: becomes mlp, with the pty as its terminal
            try:
                os.execve(mlp, [mlp, *args], self.env)
            finally:
                os._exit(127)
        # a fixed window size, so listings do not depend on the caller's
        fcntl.ioctl(self.fd, termios.TIOCSWINSZ, struct.pack("HHHH", 40, 100, 0, 0))
        self.raw = b""       # everything read so far
        self.pos = 0         # how much of clean(raw) `expect` has consumed
        self.status = None

    def _read(self, timeout):
        r, _, _ = select.select([self.fd], [], [], timeout)
        if not r:
            return False
        try:
            data = os.read(self.fd, 65536)
        except OSError:      # EIO: the child closed the terminal (exited)
            data = b""
        if not data:
            raise EOFError
        self.raw += data
        return True

    def text(self):
        return clean(self.raw)

    def expect(self, pattern, timeout=TIMEOUT):
        """Waits until the output after the last match matches pattern (a
        regex); returns the match and moves past it."""
        rx = re.compile(pattern)
        end = time.monotonic() + timeout
        while True:
            m = rx.search(self.text(), self.pos)
            if m:
                self.pos = m.end()
                return m
            left = end - time.monotonic()
            if left <= 0:
                raise Timeout("waited %.0fs for %r; output since the last match:\n%s"
                              % (timeout, pattern, self.text()[self.pos:][-2000:]))
            try:
                self._read(min(left, 0.5))
            except EOFError:
                m = rx.search(self.text(), self.pos)
                if m:
                    self.pos = m.end()
                    return m
                raise Timeout("mlp exited while waiting for %r; output:\n%s"
                              % (pattern, self.text()[self.pos:][-2000:]))

    def prompt(self, timeout=TIMEOUT):
        """Waits for the main prompt; returns the output before it."""
        start = self.pos
        m = self.expect(re.escape(PROMPT), timeout)
        return self.text()[start:m.start()]

    def send(self, s):
        os.write(self.fd, s.encode() if isinstance(s, str) else s)

    def line(self, s, timeout=TIMEOUT):
        """Types a line and returns what it printed before the next prompt
        (without the echo of the line itself)."""
        self.send(s + "\r")
        lines = self.prompt(timeout).split("\n")[1:]
        # Typed while the terminal was between libedit's raw modes (the
        # moment after the prompt is drawn), a line is echoed twice: by the
        # terminal, then by libedit. A person typing ahead sees the same.
        if s.strip() and lines and lines[0].strip() == s.strip():
            lines = lines[1:]
        return "\n".join(lines)

    def wait(self, timeout=TIMEOUT):
        """Waits for the process to exit; returns its exit status."""
        end = time.monotonic() + timeout
        while time.monotonic() < end:
            pid, st = os.waitpid(self.pid, os.WNOHANG)
            if pid:
                self.status = os.waitstatus_to_exitcode(st)
                self.close_fd()
                return self.status
            try:
                self._read(0.2)
            except EOFError:
                time.sleep(0.05)
        raise Timeout("mlp did not exit; output:\n%s" % self.text()[-2000:])

    def close_fd(self):
        if self.fd is not None:
            os.close(self.fd)
            self.fd = None

    def kill(self):
        if self.status is None:
            try:
                os.kill(self.pid, signal.SIGKILL)
                os.waitpid(self.pid, 0)
            except OSError:
                pass
        self.close_fd()


# ---- the tests ---------------------------------------------------------------

TESTS = []


def test(fn):
    TESTS.append(fn)
    return fn


def check(cond, what, got=None):
    if not cond:
        raise AssertionError(what + ("" if got is None else "\n  got: %r" % (got,)))


def numbers(s):
    return [float(x) for x in re.findall(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?", s)]


@test
def echo_of_expressions(ctx):
    s = ctx.session()
    s.prompt()
    check(s.line("1 + 2").strip() == "3", "1 + 2 echoes 3", s.text()[-200:])
    check(s.line('"a" + "b"').strip() == '"ab"', "a string echoes quoted", s.text()[-200:])
    # statements echo nothing; nil echoes nothing
    check(s.line("let x = 6 * 7").strip() == "", "let echoes nothing", s.text()[-200:])
    check(s.line("nil").strip() == "", "nil echoes nothing", s.text()[-200:])
    check(s.line("x").strip() == "42", "a global keeps its value", s.text()[-200:])
    check(s.line("[x, x / 4]").strip() == "[42, 10.5]", "a list echoes", s.text()[-200:])
    # an optimizer echoes its hyperparameters (DESIGN.md's Keras defaults)
    out = s.line("Adam").strip()
    check(out.startswith("Adam(") and "lr=0.001" in out and "beta1=0.9" in out,
          "Adam echoes its defaults", out)


@test
def multi_line_input(ctx):
    s = ctx.session()
    s.prompt()
    s.send("let xs = [1,\r")
    s.expect(re.escape(CONT))
    s.send("  2, 3]\r")
    s.prompt()
    check(s.line("len(xs)").strip() == "3", "a list typed over two lines", s.text()[-300:])
    # a function over several lines; each open brace continues
    s.send("fn tri(n) {\r")
    s.expect(re.escape(CONT))
    s.send("  let t = 0\r")
    s.expect(re.escape(CONT))
    s.send("  for i in range(n + 1) { t += i }\r")
    s.expect(re.escape(CONT))
    s.send("  return t\r")
    s.expect(re.escape(CONT))
    s.send("}\r")
    s.prompt()
    check(s.line("tri(100)").strip() == str(sum(range(101))), "tri(100)", s.text()[-300:])
    # a trailing operator continues too
    s.send("1 +\r")
    s.expect(re.escape(CONT))
    check(s.line("  2 * 3").strip() == "7", "1 + 2 * 3 over two lines", s.text()[-300:])
    # Ctrl-C on a continuation line abandons the whole entry
    s.send("let abandoned = [1,\r")
    s.expect(re.escape(CONT))
    s.send("\x03")
    s.prompt()
    out = s.line("abandoned")
    check("error" in out and "abandoned" in out, "the abandoned entry defined nothing", out)


@test
def error_then_earlier_definitions_intact(ctx):
    s = ctx.session()
    s.prompt()
    s.line("fn sq(x) { return x * x }")
    s.line("let kept = sq(5)")
    # a syntax error: a caret under the line typed
    out = s.line("let = 3")
    check("error" in out, "a syntax error is reported", out)
    lines = out.split("\n")
    i = next((k for k, l in enumerate(lines) if l.strip() == "let = 3"), -1)
    check(i >= 0 and i + 1 < len(lines) and lines[i + 1].strip() == "^",
          "the source line, then a caret under it", out)
    # a runtime error (adding a number and a string), with its caret
    out = s.line('sq("a")')
    check("error" in out and "^" in out, "a runtime error with a caret", out)
    # the session goes on with everything defined before
    check(s.line("sq(7)").strip() == "49", "sq still works", s.text()[-300:])
    check(s.line("kept").strip() == "25", "kept is still 25", s.text()[-300:])


@test
def tab_completion(ctx):
    s = ctx.session()
    s.prompt()
    # a builtin: "pri" + TAB becomes print
    s.send("pri\t")
    s.expect("print")
    check(s.line("(40 + 2)").strip() == "42", "pri<TAB>(40 + 2) runs print(40 + 2)",
          s.text()[-300:])
    # a global of the session
    s.line("let learning_rate_here = 0.5")
    s.send("learning_ra\t")
    s.expect("learning_rate_here")
    check(s.line("").strip() == "0.5", "a session global completes", s.text()[-300:])
    # record fields after a dot
    s.line("let rec = {alpha: 1, beta: 2, gamma: 3}")
    s.send("rec.be\t")
    s.expect("beta")
    check(s.line("").strip() == "2", "rec.be<TAB> is rec.beta", s.text()[-300:])
    # several candidates: TAB lists them
    s.send("rec.\t")
    s.expect(r"alpha\s+beta\s+gamma")
    s.prompt()          # the line is drawn again under the list
    s.send("\x03")
    s.prompt()
    # an optimizer name (a builtin global) and a keyword
    s.send("RMS\t")
    s.expect("RMSprop")
    out = s.line("")
    check("RMSprop(" in out and "rho=0.9" in out, "RMS<TAB> is RMSprop", out)
    s.send("Ada\t")
    s.expect(r"AdaGrad\s+Adadelta\s+Adam\s+AdamW")
    s.prompt()
    s.send("\x03")
    s.prompt()
    s.send("whil\t")
    s.expect("while")
    s.send("\x03")
    s.prompt()
    # fields of a handle: a model lists its fields
    s.line("model tiny() { dense(3, relu) }")
    s.line("let tm = tiny()")
    s.send("tm.par\t")
    s.expect("params")
    s.send("\x03")
    s.prompt()
    # commands
    s.send(":defa\t")
    s.expect("defaults")
    s.send("\x03")
    s.prompt()


@test
def help_command(ctx):
    s = ctx.session()
    s.prompt()
    out = s.line(":help")
    for cmd in ("help", "load", "time", "disasm", "defaults", "reset", "quit"):
        check(":" + cmd in out, ":help lists :" + cmd, out)
    check("fit" in out and "print" in out, ":help lists the builtins", out)
    out = s.line(":help print")
    check(out.startswith("print(") and "sep=" in out, ":help print gives the signature", out)
    out = s.line(":help fit")
    check("fit(" in out and "epochs" in out and "history" in out, ":help fit", out)
    out = s.line(":help Adam")
    check("optimizer" in out and "lr=0.001" in out, ":help Adam describes the value", out)
    out = s.line(":help no_such_name_here")
    check("no builtin or global" in out, "an unknown name is said so", out)


@test
def help_documents_every_builtin(ctx):
    s = ctx.session()
    s.prompt()
    out = s.line(":help")
    for name in ("sort", "json_text", "report", "relu", "mse", "Adam", "split"):
        check(" " + name in out, ":help lists " + name, out)
    out = s.line(":help report")
    check(out.startswith("report(") and "sweep" in out, ":help report documents it", out)
    out = s.line(":help relu")
    check(out.startswith("relu (activation): relu") and "f(x) = max(x, 0)" in out, ":help relu", out)
    out = s.line(":help mse")
    check(out.startswith("mse:") and "loss" in out, ":help mse", out)
    out = s.line(":help sort")
    check(out.startswith("sort(xs, key=nil, reverse=false)"), ":help sort", out)


@test
def up_arrow_recalls_a_multi_line_entry(ctx):
    s = ctx.session()
    s.prompt()
    s.send("fn twice(n) {\r")
    s.expect(re.escape(CONT))
    s.send("  return 2 * n\r")
    s.expect(re.escape(CONT))
    s.send("}\r")
    s.prompt()
    check(s.line("twice(4)").strip() == "8", "the function works", s.text()[-300:])
    # up twice: past twice(4) to the whole three-line definition
    s.send("\x1b[A")
    s.expect(r"twice\(4\)")
    s.send("\x1b[A")
    s.expect(r"return 2 \* n")
    s.send("\r")
    s.prompt()
    check(s.line("twice(5)").strip() == "10", "the recalled entry ran as one", s.text()[-300:])


@test
def exit_ends_the_session(ctx):
    s = ctx.session()
    s.prompt()
    s.send("exit(3)\r")
    check(s.wait() == 3, "exit(3) ends the REPL with status 3", s.status)
    s = ctx.session()     # (the runner wants status 0 from its sessions)
    s.prompt()
    s.send("exit()\r")
    check(s.wait() == 0, "exit() ends the REPL with status 0", s.status)
    ctx.sessions = [s]


@test
def defaults_command(ctx):
    s = ctx.session()
    s.prompt()
    out = s.line(":defaults Adam")
    # DESIGN.md: Adam lr 0.001, beta1 0.9, beta2 0.999, eps 1e-7 (keras), 1e-8 (torch)
    check("beta1=0.9" in out and "beta2=0.999" in out and "eps=1e-07" in out,
          "keras Adam defaults", out)
    check("eps=1e-08" in out, "torch Adam defaults", out)
    check("sqrt(1-beta2^t)/(1-beta1^t)" in out, "the keras update rule", out)
    out = s.line(":defaults RMSprop torch")
    check("alpha=0.99" in out and "keras" not in out, "one dialect on request", out)
    out = s.line(":defaults Adamm")
    check("unknown optimizer" in out, "an unknown optimizer is named", out)


def language_md_rows(what):
    """The first column of a generated table in lang/LANGUAGE.md (its
    first table: the optimizers' block has a hyperparameter table after)."""
    here = os.path.dirname(os.path.abspath(__file__))
    text = open(os.path.join(here, "..", "..", "lang", "LANGUAGE.md")).read()
    block = text.split("<!-- begin generated: %s" % what)[1].split("<!-- end generated")[0]
    block = block.strip("\n").split("\n\n")[0]
    names = []
    for line in block.splitlines():
        m = re.match(r"\| `(\w+)` \| (.*?) \|", line)
        if m and (not names or m.group(1) not in names):
            names.append(m.group(1))
    return names


@test
def every_optimizer_and_activation_in_the_docs(ctx):
    # LANGUAGE.md's tables are generated from the runtime's (a unit test
    # checks that); so each row the docs list has :defaults and :help here
    s = ctx.session()
    s.prompt()
    optimizers = language_md_rows("optimizers")
    check(len(optimizers) >= 9 and "Lion" in optimizers, "the optimizer table", optimizers)
    for name in optimizers:
        out = s.line(":defaults " + name)
        check(out.startswith(name + ": ") and "keras dialect" in out and "torch dialect" in out
              and "hyperparameters:" in out and "lr " in out and "w " in out,
              ":defaults " + name, out)
        out = s.line(":help " + name)
        check(("%s (optimizer): %s(lr=" % (name, name)) in out and
              (":defaults %s" % name) in out, ":help " + name, out)
    for name in language_md_rows("activations"):
        out = s.line(":help " + name)
        check(("%s (activation): %s" % (name, name)) in out and "f(x) = " in out, ":help " + name, out)


@test
def time_disasm_load_reset(ctx):
    s = ctx.session()
    s.prompt()
    out = s.line(":time 2 ** 10")
    check("1024" in out and re.search(r"time: [0-9.]+ m?s", out), ":time echoes and times", out)
    s.line("fn add1(x) { return x + 1 }")
    out = s.line(":disasm add1")
    check("add1" in out and "ADD" in out and "RETURN" in out, ":disasm lists add1's code", out)
    out = s.line(":disasm 1 + 2")
    check("CONST" in out, ":disasm of an expression", out)
    path = os.path.join(ctx.tmp, "lib.mlp")
    with open(path, "w") as f:
        f.write("let loaded_value = 3\nfn triple(x) { return 3 * x }\n")
    s.line(":load " + path)
    check(s.line("triple(loaded_value)").strip() == "9", ":load defines globals", s.text()[-300:])
    out = s.line(":load /nonexistent/file.mlp")
    check("cannot read" in out, "an unreadable file is reported", out)
    s.line(":reset")
    out = s.line("loaded_value")
    check("error" in out, ":reset forgets definitions", out)
    check(s.line("1 + 1").strip() == "2", "the session works after :reset", s.text()[-300:])
    out = s.line(":nosuchcommand")
    check("unknown command" in out, "an unknown command is reported", out)
    s.send(":quit\r")
    check(s.wait() == 0, ":quit exits with status 0", s.status)


@test
def history_persists_across_sessions(ctx):
    state = os.path.join(ctx.tmp, "state")
    env = {"XDG_STATE_HOME": state}
    s = ctx.session(env)
    s.prompt()
    check(s.line("6 * 7").strip() == "42", "first session", s.text()[-300:])
    s.send("\x04")
    check(s.wait() == 0, "Ctrl-D exits with status 0", s.status)
    path = os.path.join(state, "mlp", "history")
    check(os.path.exists(path), "the history file is " + path)
    # the second session recalls the line with the up arrow
    s = ctx.session(env)
    s.prompt()
    s.send("\x1b[A")
    s.expect(r"6 \* 7")
    check(s.line("").strip() == "42", "up arrow + Enter reruns 6 * 7", s.text()[-300:])
    s.send("\x04")
    s.wait()
    # without XDG_STATE_HOME: ~/.mlp_history
    home = os.path.join(ctx.tmp, "home")
    os.makedirs(home)
    s = ctx.session({"HOME": home, "XDG_STATE_HOME": ""})
    s.prompt()
    s.line("1")
    s.send("\x04")
    s.wait()
    check(os.path.exists(os.path.join(home, ".mlp_history")), "~/.mlp_history is used")


@test
def ctrl_c_interrupts_training(ctx):
    s = ctx.session()
    s.prompt()
    s.line("seed(1)")
    s.line("let d = spirals(n=20000)")
    s.line("model net() { dense(64, relu); dense(64, relu); dense(2, softmax) }")
    s.line("let m = net()")
    # 2000 epochs of 20000 samples: minutes of work, unless interrupted
    s.send("let h = fit(m, d, epochs=2000, batch=32)\r")
    s.expect(r"Epoch 2/2000")          # the progress display: training is under way
    t0 = time.monotonic()
    s.send("\x03")
    out = s.prompt(TRAIN_TIMEOUT)
    waited = time.monotonic() - t0
    check("interrupted" in out, "the run reports the interrupt", out[-500:])
    check(waited < 60, "Ctrl-C stops the run promptly (%.1fs)" % waited)
    # the model keeps what it learned, and its history the epochs completed
    out = s.line("m.history.epochs").strip()
    n = numbers(out)
    check(len(n) == 1 and 1 <= n[0] < 2000, "the history has the completed epochs", out)
    out = s.line("m.history")
    check("history" in out and "acc" in out, "the history echoes its last epoch", out)
    out = s.line("evaluate(m, d)")
    check("acc" in out, "the interrupted model can be evaluated", out)
    acc = numbers(s.line("evaluate(m, d).acc"))
    check(len(acc) == 1 and 0.5 < acc[0] <= 1.0,
          "after at least one epoch the model beats chance on 2 classes", acc)
    # and training can be continued
    out = s.line("fit(m, d, epochs=1, verbose=0).epochs")
    check(out.strip() == "1", "fit again after the interrupt", out)
    s.send("\x04")
    check(s.wait() == 0, "exit status 0", s.status)


@test
def ctrl_c_interrupts_a_sweep(ctx):
    s = ctx.session()
    s.prompt()
    s.line("let d = spirals(n=20000)")
    s.line("model net(act) { dense(32, act); dense(2, softmax) }")
    s.send("let r = sweep act in [relu, tanh] { fit(net(act), d, epochs=2000, batch=32) }\r")
    s.expect(r"Epoch 2/2000")
    s.send("\x03")
    out = s.prompt(TRAIN_TIMEOUT)
    check("interrupted" in out, "the sweep reports the interrupt", out[-500:])
    check(s.line("len([1, 2])").strip() == "2", "the session goes on", s.text()[-300:])


@test
def plot_uses_the_terminal(ctx):
    """plot(h) in the REPL: braille (the session's locale is UTF-8), as wide
    as the terminal (100 columns here), not the 80 columns used off one."""
    s = ctx.session()
    s.prompt()
    s.line("model net() { dense(4, relu); dense(2, softmax) }")
    s.line("let h = fit(net(), blobs(n=40, classes=2, seed=3), epochs=5, verbose=0)")
    out = s.line("plot(h)")
    lines = out.split("\n")
    widest = max(len(l) for l in lines)
    check(80 < widest <= 100, "the chart fills the 100-column terminal", widest)
    check(any(0x2800 < ord(c) <= 0x28FF for c in out), "braille dots", out[:300])
    check("epoch" in out and "loss" in out and "val_loss" not in out,
          "axis name and the one loss series", out[:300])
    check(b"\x1b[34m" in s.raw, "the first series in blue (a terminal, no NO_COLOR)",
          s.raw[-300:])


@test
def repl_after_a_script(ctx):
    """`mlp --repl FILE` runs FILE, then the session sees its globals."""
    path = os.path.join(ctx.tmp, "built.mlp")
    with open(path, "w") as f:
        f.write("let built_here = [1, 2, 3]\nprint(\"script ran\")\n")
    s = Session(ctx.mlp, ctx.env(), args=("--repl", path))
    ctx.sessions.append(s)
    s.expect("script ran")
    s.prompt()
    check(s.line("len(built_here)").strip() == "3", "the script's globals", s.text()[-300:])


@test
def ctrl_c_at_the_prompt_and_ctrl_d(ctx):
    s = ctx.session()
    s.prompt()
    s.send("let half_typed = 1")
    s.expect("half_typed")     # wait for libedit's echo, so the line is in its buffer
    s.send("\x03")
    s.prompt()
    out = s.line("half_typed")
    check("error" in out, "Ctrl-C cleared the line: nothing was defined", out)
    check(s.line("2 + 2").strip() == "4", "the session goes on", s.text()[-300:])
    s.send("\x04")
    check(s.wait() == 0, "Ctrl-D exits with status 0", s.status)


@test
def ctrl_c_in_history_search_keeps_the_session(ctx):
    """Ctrl-R (incremental history search) then Ctrl-C abandons the search
    and the line, never the session (issue 11: it used to end it with 0)."""
    s = ctx.session()
    s.prompt()
    s.line("let kept_value = 41 + 1")
    s.send("\x12")            # Ctrl-R
    s.expect("bck:")          # libedit shows its search prompt
    s.send("kept")
    s.expect("kept")
    s.send("\x03")            # Ctrl-C during the search
    s.prompt()
    check(s.line("kept_value").strip() == "42", "the session and its globals survive",
          s.text()[-300:])
    # Ctrl-C after typing half a line, then again on an empty line
    s.send("1 +")
    s.expect(r"1 \+")
    s.send("\x03")
    s.prompt()
    s.send("\x03")
    s.prompt()
    check(s.line("kept_value + 1").strip() == "43", "still alive after two Ctrl-C",
          s.text()[-300:])
    # Ctrl-C after the first key of a two-key sequence (Esc, as Meta)
    s.send("2 *")
    s.expect(r"2 \*")
    s.send("\x1b")
    s.send("\x03")
    s.prompt()
    check(s.line("kept_value - 2").strip() == "40", "still alive after Esc, Ctrl-C",
          s.text()[-300:])
    # Ctrl-R, no match typed, then Ctrl-C on an empty search
    s.send("\x12")
    s.expect("bck:")
    s.send("\x03")
    s.prompt()
    check(s.line("kept_value * 2").strip() == "84", "still alive after an empty search",
          s.text()[-300:])
    s.send("\x04")
    check(s.wait() == 0, "Ctrl-D exits with status 0", s.status)


@test
def undefined_name_message(ctx):
    """An undefined name in the REPL is 'undefined', not 'used before its
    definition' (nothing defines it later in a REPL)."""
    s = ctx.session()
    s.prompt()
    out = s.line("no_such_name + 1")
    check("undefined variable 'no_such_name'" in out, "names the variable", out)
    check("before its definition" not in out, "does not claim a later definition", out)


@test
def repl_off_a_terminal_fails_like_a_script(ctx):
    """`mlp --repl < file`: the status of the first failed entry (65 / 70),
    later entries still run; input that ends inside an entry is reported."""
    def run(inp):
        return subprocess.run([ctx.mlp, "--repl"], input=inp, capture_output=True,
                              timeout=TIMEOUT, env=ctx.env())
    r = run(b"error(\"boom\")\nprint(2)\nlet = 3\n")
    check(r.returncode == 70, "a runtime error first: 70", (r.returncode, r.stderr))
    check(r.stdout == b"2\n", "the entries after it run", r.stdout)
    r = run(b"let = 3\nerror(\"boom\")\n")
    check(r.returncode == 65, "a syntax error first: 65", (r.returncode, r.stderr))
    r = run(b"no_such_name\n")
    err = r.stderr.decode()
    check(r.returncode == 70 and "undefined variable 'no_such_name'" in err
          and "before its definition" not in err, "an undefined name", err)
    r = run(b"print(1)\nlet xs = [1,\n2,\n")
    err = r.stderr.decode()
    check(r.returncode == 65, "an unfinished entry at the end: 65", (r.returncode, err))
    check(r.stdout == b"1\n" and "error" in err and "unfinished entry" in err,
          "an unfinished entry is reported, not dropped", (r.stdout, err))
    r = run(b"1 + 2\n")
    check(r.returncode == 0 and r.stdout == b"3\n", "no errors: 0", (r.returncode, r.stdout))


@test
def not_a_terminal(ctx):
    """Piped stdin: `mlp` runs it as a script; `mlp --repl` runs it as a
    session. Neither prints prompts or colours."""
    r = subprocess.run([ctx.mlp], input=b"1 + 2\nprint(5)\n", capture_output=True,
                       timeout=TIMEOUT, env=ctx.env())
    check(r.returncode == 0 and r.stdout == b"5\n", "a script: no echo, no prompt", r.stdout)
    r = subprocess.run([ctx.mlp, "--repl"], input=b"1 + 2\nlet xs = [1,\n2]\nxs\n:help len\n",
                       capture_output=True, timeout=TIMEOUT, env=ctx.env())
    out = r.stdout.decode()
    check(r.returncode == 0, "--repl exits with 0", r.returncode)
    check(out.startswith("3\n[1, 2]\nlen("), "--repl echoes, without prompts", out)
    check("\x1b" not in out and "mlp>" not in out, "no colours, no prompts", out)


# ---- running ------------------------------------------------------------------

class Context:
    def __init__(self, mlp):
        self.mlp = mlp
        self.tmp = None
        self.sessions = []

    def env(self, extra=None):
        e = dict(os.environ)
        e.update({"HOME": os.path.join(self.tmp, "h0"), "XDG_STATE_HOME": os.path.join(self.tmp, "s0")})
        if extra:
            e.update(extra)
        return e

    def session(self, extra=None):
        s = Session(self.mlp, self.env(extra))
        self.sessions.append(s)
        return s


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--mlp", default="build/mlp")
    ap.add_argument("-k", help="run only tests whose name contains this")
    ap.add_argument("-v", action="store_true", help="print each session's output on failure")
    a = ap.parse_args()
    mlp = os.path.abspath(a.mlp)
    if fcntl is None:
        print("0 passed, 0 failed (no pty on this system)")
        return 0
    passed = failed = 0
    for t in TESTS:
        if a.k and a.k not in t.__name__:
            continue
        ctx = Context(mlp)
        ctx.tmp = tempfile.mkdtemp(prefix="mlp-repl-")
        t0 = time.monotonic()
        try:
            t(ctx)
            # every session must end cleanly (ASan reports leaks at exit)
            for s in ctx.sessions:
                if s.status is None:
                    s.send("\x04")
                    s.wait()
                if s.status != 0:
                    raise AssertionError("mlp exited with status %s:\n%s"
                                         % (s.status, s.text()[-3000:]))
            passed += 1
            print("ok   %-40s %.1fs" % (t.__name__, time.monotonic() - t0))
        except Exception as e:  # one failing test must not stop the others
            failed += 1
            print("FAIL %-40s %s" % (t.__name__, e))
            if a.v:
                traceback.print_exc()
                for s in ctx.sessions:
                    print("---- session output:\n" + s.text()[-4000:])
        finally:
            for s in ctx.sessions:
                s.kill()
            shutil.rmtree(ctx.tmp, ignore_errors=True)
        sys.stdout.flush()
    print("%d passed, %d failed" % (passed, failed))
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
