#!/usr/bin/env python3
"""Checkpoints resume bit-identically, after SIGKILL, after Ctrl-C, and under -j.

The -j case trains with a schedule as the optimizer's lr (Adam(lr=cosine(...))).

A run that is stopped (killed, or interrupted with SIGINT as Ctrl-C does)
after some checkpoints and then run again with the same script (which says
resume=true) must print the same bytes and end with the same weights (the
same save_model file, byte for byte) as a run that never stopped. The
checkpoint is watched from here (its header says how many epochs it holds),
so the stop lands after a known epoch, mid-run.

Usage: python3 tests/persist/resume.py --mlp build/mlp
"""
import argparse
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time

FAILS = []

SCRIPT = '''seed(11)
let data = spirals(n=6000, classes=3, noise=0.1)
model net(act) {
    dense(64, act, input=[2])
    dropout(0.1)
    dense(64, act)
    batchnorm()
    dense(3, softmax)
}
let m = net(relu)
let h = fit(m, data, optimizer=Adam(lr=0.01), epochs=EPOCHS, batch=32, verbose=2,
            checkpoint="run.ckpt", every=1, resume=true)
print(h.loss, h.acc)
save_model(m, "final.safetensors")
'''

# schedule state (reduce_on_plateau's rate and wait), early stopping's best
# value, wait and best weights, and the callback's replay cross the kill
CONTROL = '''seed(11)
let data = spirals(n=6000, classes=3, noise=0.1)
let val = spirals(n=600, classes=3, noise=0.1)
model net() {
    dense(64, relu, input=[2], l2=0.0001)
    dropout(0.1)
    dense(64, relu)
    batchnorm()
    dense(3, softmax)
}
let m = net()
let h = fit(m, data, optimizer=Adam(lr=0.01), epochs=EPOCHS, batch=32, verbose=2, validation=val,
            lr=reduce_on_plateau(0.02, factor=0.5, patience=1), clipnorm=1, weight_decay=0.001,
            early_stopping={monitor: "val_loss", patience: 4, restore_best: true},
            on_epoch=fn(e, logs) {
                print("epoch", e, "lr", logs.lr)
                if e == 10 { return "stop" }
            },
            checkpoint="run.ckpt", every=1, resume=true)
print(h.loss, h.lr)
print(evaluate(m, val))
save_model(m, "final.safetensors")
'''

SWEEP = '''seed(11)
let data = spirals(n=3000, classes=3, noise=0.1)
model net(act) {
    dense(48, act, input=[2])
    dropout(0.1)
    dense(3, softmax)
}
let r = sweep act in [relu, tanh] {
    let m = net(act)
    let h = fit(m, data, optimizer=Adam(lr=cosine(0.01, epochs=EPOCHS, warmup=2)), epochs=EPOCHS,
                batch=32, verbose=2,
                checkpoint="run_{act}.ckpt", every=1, resume=true)
    save_model(m, "final_{act}.safetensors")
    report(loss=h.loss[-1], lr=h.lr[-1])
}
print(r)
'''


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def epochs_in(path):
    try:
        b = open(path, "rb").read()
        n = struct.unpack("<Q", b[:8])[0]
        meta = json.loads(b[8:8 + n])["__metadata__"]
        return json.loads(meta["ckpt.state"])["done"]
    except (OSError, ValueError, KeyError, struct.error):
        return 0


def run(mlp, args, d):
    return subprocess.run([mlp] + args, cwd=d, capture_output=True, text=True, timeout=600)


def stopped_then_resumed(mlp, args, script, d, sig, ckpts, at):
    """Start, wait for `at` epochs in every checkpoint of `ckpts`... in any one, stop with sig, rerun."""
    open(os.path.join(d, "s.mlp"), "w").write(script)
    p = subprocess.Popen([mlp] + args + ["s.mlp"], cwd=d, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, start_new_session=True)
    t0 = time.time()
    reached = False
    while time.time() - t0 < 300 and p.poll() is None:
        if any(epochs_in(os.path.join(d, c)) >= at for c in ckpts):
            reached = True
            break
        time.sleep(0.02)
    if p.poll() is None:
        os.killpg(p.pid, sig)
    p.communicate()
    first = p.returncode
    r = run(mlp, args + ["s.mlp"], d)
    return reached, first, r


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlp", required=True)
    mlp = os.path.abspath(ap.parse_args().mlp)
    epochs = 12
    script = SCRIPT.replace("EPOCHS", str(epochs))
    with tempfile.TemporaryDirectory() as ref, tempfile.TemporaryDirectory() as d1, \
            tempfile.TemporaryDirectory() as d2:
        open(os.path.join(ref, "s.mlp"), "w").write(script)
        want = run(mlp, ["s.mlp"], ref)
        check(want.returncode == 0 and want.stdout.count("Epoch ") == epochs,
              "uninterrupted run: %d epoch lines" % epochs)
        wfile = open(os.path.join(ref, "final.safetensors"), "rb").read()
        for d, sig, name in ((d1, signal.SIGKILL, "SIGKILL"), (d2, signal.SIGINT, "SIGINT (Ctrl-C)")):
            reached, first, r = stopped_then_resumed(mlp, [], script, d, sig, ["run.ckpt"], 4)
            check(reached and first != 0, "%s stopped the run after a checkpoint (exit %s)" % (name, first))
            check(r.returncode == 0 and r.stdout == want.stdout,
                  "%s, resumed: the same stdout as the run that never stopped" % name)
            got = open(os.path.join(d, "final.safetensors"), "rb").read() \
                if os.path.exists(os.path.join(d, "final.safetensors")) else b""
            check(got == wfile, "%s, resumed: the same weights, bit for bit" % name)

    # the same with a schedule, early stopping, clipping, decay and a callback
    script = CONTROL.replace("EPOCHS", str(epochs))
    with tempfile.TemporaryDirectory() as ref, tempfile.TemporaryDirectory() as d:
        open(os.path.join(ref, "s.mlp"), "w").write(script)
        want = run(mlp, ["s.mlp"], ref)
        lines = want.stdout.count("Epoch ")
        check(want.returncode == 0 and 5 <= lines <= 10 and
              len(set(l.split()[-1] for l in want.stdout.splitlines() if l.startswith("epoch "))) > 1,
              "control: uninterrupted run stops by itself (%d epochs) and the rate changes" % lines)
        wfile = open(os.path.join(ref, "final.safetensors"), "rb").read()
        reached, first, r = stopped_then_resumed(mlp, [], script, d, signal.SIGKILL, ["run.ckpt"], 3)
        check(reached and first != 0, "control: SIGKILL stopped the run after a checkpoint")
        check(r.returncode == 0 and r.stdout == want.stdout,
              "control, resumed: the same stdout as the run that never stopped")
        got = open(os.path.join(d, "final.safetensors"), "rb").read() \
            if os.path.exists(os.path.join(d, "final.safetensors")) else b""
        check(got == wfile, "control, resumed: the same weights (the best epoch's), bit for bit")
        r = run(mlp, ["s.mlp"], d)
        check(r.returncode == 0 and r.stdout == want.stdout,
              "control, run again after it stopped early: replays, trains no further")
        got = open(os.path.join(d, "final.safetensors"), "rb").read()
        check(got == wfile, "control, run again: the same weights")

    # the same under -j 2: both points checkpoint, the whole run is killed, rerun with -j 2
    # (their optimizer's lr is a schedule)
    script = SWEEP.replace("EPOCHS", str(epochs))
    with tempfile.TemporaryDirectory() as ref, tempfile.TemporaryDirectory() as d:
        open(os.path.join(ref, "s.mlp"), "w").write(script)
        want = run(mlp, ["s.mlp"], ref)
        check(want.returncode == 0, "sweep, serial, uninterrupted")
        reached, first, r = stopped_then_resumed(mlp, ["-j", "2"], script, d, signal.SIGKILL,
                                                 ["run_relu.ckpt", "run_tanh.ckpt"], 4)
        check(reached and first != 0, "-j 2: killed after checkpoints")
        same = all(open(os.path.join(ref, f), "rb").read() == open(os.path.join(d, f), "rb").read()
                   for f in ("final_relu.safetensors", "final_tanh.safetensors")
                   if os.path.exists(os.path.join(d, f)))
        check(r.returncode == 0 and r.stdout == want.stdout and same and
              os.path.exists(os.path.join(d, "final_tanh.safetensors")),
              "-j 2, resumed: the serial run's stdout and weights")

    # errors: resuming another fit, resume=true without checkpoint=, not a checkpoint
    with tempfile.TemporaryDirectory() as d:
        open(os.path.join(d, "s.mlp"), "w").write(SCRIPT.replace("EPOCHS", "2"))
        run(mlp, ["s.mlp"], d)
        r = run(mlp, ["-e", SCRIPT.replace("EPOCHS", "3").replace("batch=32", "batch=64")], d)
        check(r.returncode == 70 and "was written by another fit" in r.stderr and "^" in r.stderr,
              "resuming with another batch size: a located error")
        r = run(mlp, ["-e", 'fit(1, 2, resume=true)'], d)
        check(r.returncode == 70, "fit(resume=true) on bad arguments: exit 70")
        r = run(mlp, ["-e", SCRIPT.replace("EPOCHS", "2").replace('checkpoint="run.ckpt", ', '')], d)
        check(r.returncode == 70 and "resume=true needs checkpoint=" in r.stderr,
              "resume=true without checkpoint=: says so")
        open(os.path.join(d, "run.ckpt"), "wb").write(open(os.path.join(d, "final.safetensors"), "rb").read())
        r = run(mlp, ["-e", SCRIPT.replace("EPOCHS", "2")], d)
        check(r.returncode == 70 and "is not a checkpoint" in r.stderr,
              "a model file given as a checkpoint: says so")
    print("resume: %s" % ("all passed" if not FAILS else "%d failed" % len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
