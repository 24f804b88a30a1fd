#!/usr/bin/env python3
"""Lion, independently: numpy recomputes tests/nn/lion_train.mlp's training.

The golden script trains a softmax layer (3 classes, 2 inputs) from zero
weights on 6 examples, full batch, with Lion in the keras dialect
(keras.optimizers.Lion: c = b1*m + (1-b1)*g; w -= lr*sign(c);
m = b2*m + (1-b2)*g) and in the torch dialect (the authors' code: first
w *= 1 - lr*wd), and prints the probabilities after 1, 2 and 3 steps.
This script takes the data the script prints, redoes the same steps in
float32 numpy (crossentropy on softmax: dZ = (P - Y) / N; coefficients
such as 1 - b1 computed in double and rounded once, as optimizers.h
says), and checks that
  - mlp's output and the file's `# expect:` lines agree with numpy
    (to 2e-6: the probabilities are printed with 6 decimals, and mlp's
    expf and summation order may differ from numpy's in the last bits);
  - numpy's own first step is the hand computation: from w = 0, m = 0,
    c = (1-b1)*g, so every weight moves by exactly -lr*sign(g).
Usage: lion_numpy.py --mlp build/mlp [--print]   (--print: numpy's lines)
"""
import argparse
import json
import os
import subprocess
import sys

try:
    import numpy as np
except ImportError:     # e.g. a pyenv python3 first on PATH: try the system's
    if os.path.realpath(sys.executable) != os.path.realpath("/usr/bin/python3") and \
            os.path.exists("/usr/bin/python3"):
        os.execv("/usr/bin/python3", ["/usr/bin/python3"] + sys.argv)
    print("SKIP lion_numpy: numpy is not installed")
    sys.exit(0)

SCRIPT = "tests/nn/lion_train.mlp"
CONFIGS = [  # (printed name, lr, beta1, beta2, weight decay or None for keras)
    ('Lion(lr=0.05, beta1=0.9, beta2=0.99)', 0.05, 0.9, 0.99, None),
    ('Lion(lr=0.05, beta1=0.9, beta2=0.99, weight_decay=2, dialect="torch")', 0.05, 0.9, 0.99, 2.0),
]
f32 = np.float32


def softmax(z):
    e = np.exp(z - z.max(axis=1, keepdims=True))
    return e / e.sum(axis=1, keepdims=True)


def train(x, y, lr, b1, b2, wd, steps):
    n = x.shape[0]
    params = [np.zeros((x.shape[1], y.shape[1]), f32), np.zeros(y.shape[1], f32)]
    moms = [np.zeros_like(p) for p in params]
    k_lr, k_b1, k_c1, k_b2, k_c2 = f32(lr), f32(b1), f32(1.0 - b1), f32(b2), f32(1.0 - b2)
    decay = f32(1.0 - lr * wd) if wd is not None else None
    for step in range(steps):
        w, b = params
        dz = ((softmax(x @ w + b) - y) / f32(n)).astype(f32)
        grads = [(x.T @ dz).astype(f32), dz.sum(axis=0).astype(f32)]
        for p, m, g in zip(params, moms, grads):
            before = p.copy()
            if decay is not None:
                p *= decay
            c = k_b1 * m + k_c1 * g
            p -= k_lr * np.sign(c)
            m[...] = k_b2 * m + k_c2 * g
            if step == 0:   # the hand computation of the first step
                assert np.array_equal(p, before - k_lr * np.sign(g)), "first step is not -lr*sign(g)"
    w, b = params
    return softmax(x @ w + b)


def lines(x, y):
    out = []
    for name, lr, b1, b2, wd in CONFIGS:
        out.append((name, None))
        for steps in (1, 2, 3):
            p = train(x, y, lr, b1, b2, wd, steps)
            out.append(("%d " % steps + "".join(" %.6f" % v for v in p.ravel()), p.ravel()))
    return out


def numbers(line):
    return [float(t) for t in line.split()[1:]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlp", required=True)
    ap.add_argument("--print", action="store_true")
    args = ap.parse_args()
    run = subprocess.run([args.mlp, SCRIPT], capture_output=True, text=True, timeout=120)
    if run.returncode != 0:
        sys.exit("lion_numpy: %s failed:\n%s" % (SCRIPT, run.stderr))
    got = run.stdout.splitlines()
    x = np.array(json.loads(got[0]), f32)
    y = np.array(json.loads(got[1]), f32)
    want = lines(x, y)
    if args.print:
        for text, _ in want:
            print("# expect: " + text)
        return
    expect = [l.split("# expect: ", 1)[1] for l in open(SCRIPT).read().splitlines()
              if l.startswith("# expect: ")][2:2 + len(want)]
    bad = 0
    for i, (text, vals) in enumerate(want):
        for what, line in (("mlp printed", got[2 + i]), (SCRIPT + " expects", expect[i])):
            if vals is None:
                ok = line == text
            else:
                ok = line.split()[0] == text.split()[0] and \
                    np.allclose(numbers(line), vals, rtol=0, atol=2e-6)
            if not ok:
                bad += 1
                print("lion_numpy: %s\n    %s\nnumpy gives\n    %s" % (what, line, text))
    if bad:
        sys.exit(1)
    print("lion_numpy: %d lines agree with numpy (keras and torch dialects, 3 steps)" % len(want))


if __name__ == "__main__":
    main()
