#!/usr/bin/env python3
"""dialect("torch") trains like PyTorch: the study's network, checked step by step.

mlp builds the study's network (784-50-BN-50-BN-10, relu) under
dialect("torch"), saves its initial weights, trains a few full-batch Adam
steps on the first 500 MNIST training images and saves the result. Here
PyTorch (Debian's python3-torch) loads the same initial weights into
nn.Linear / nn.BatchNorm1d(50) with their defaults (momentum 0.1, eps 1e-5,
unbiased running variance), trains with torch.optim.Adam's defaults and
F.cross_entropy, and the per-step losses, the weights and the running
statistics must agree to float32 rounding (the sums run in other orders).
It also checks that the torch dialect's dense layers start from nn.Linear's
default initialisation range, U(-1/sqrt(in), 1/sqrt(in)) for kernel and bias.

Skipped (exit 0, saying so) without torch or without MNIST on
MLP_DATA_PATH.

Usage: python3 tests/persist/torch_dialect.py --mlp build/mlp
"""
import argparse
import gzip
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

FAILS = []

SCRIPT = '''dialect("torch")
seed(5)
let d = take(mnist().train, 500)
model net() {
    flatten(input=[28, 28])
    dense(50, relu)
    batchnorm()
    dense(50, relu)
    batchnorm()
    dense(10, softmax)
}
let m = net()
predict(m, d)
save_model(m, "init.safetensors")
let h = fit(m, d, optimizer=Adam, epochs=STEPS, batch=500, verbose=0)
print(h.loss)
save_model(m, "final.safetensors")
'''
STEPS = 5


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def read_st(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    head = json.loads(b[8:8 + n])
    head.pop("__metadata__", None)
    data = b[8 + n:]
    return {k: np.frombuffer(data[v["data_offsets"][0]:v["data_offsets"][1]], dtype="<f4")
            .reshape(v["shape"]) for k, v in head.items()}


def mnist_dir():
    for d in os.environ.get("MLP_DATA_PATH", "").split(":"):
        p = os.path.join(d, "mnist")
        if d and os.path.exists(os.path.join(p, "train-images-idx3-ubyte.gz")):
            return p
    return None


def load_mnist(d, n):
    with gzip.open(os.path.join(d, "train-images-idx3-ubyte.gz")) as f:
        x = np.frombuffer(f.read(), np.uint8, offset=16)[:n * 784].reshape(n, 784)
    with gzip.open(os.path.join(d, "train-labels-idx1-ubyte.gz")) as f:
        y = np.frombuffer(f.read(), np.uint8, offset=8)[:n]
    return (x.astype(np.float32) * np.float32(1 / 255)).astype(np.float32), y.astype(np.int64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlp", required=True)
    mlp = os.path.abspath(ap.parse_args().mlp)
    try:
        import torch
        import torch.nn as nn
        import torch.nn.functional as F
    except ImportError:
        print("torch_dialect: skipped (no python3-torch)")
        return 0
    d = mnist_dir()
    if not d:
        print("torch_dialect: skipped (no MNIST on MLP_DATA_PATH)")
        return 0
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as tmp:
        r = subprocess.run([mlp, "-e", SCRIPT.replace("STEPS", str(STEPS))], cwd=tmp,
                           capture_output=True, text=True, timeout=300)
        check(r.returncode == 0, "mlp ran (%s)" % r.stderr.strip()[:200])
        if r.returncode != 0:
            return 1
        losses = json.loads(r.stdout.strip())
        w0 = read_st(os.path.join(tmp, "init.safetensors"))
        w1 = read_st(os.path.join(tmp, "final.safetensors"))

    # nn.Linear's default range, kernel and bias
    for name, fan_in in (("dense_1", 784), ("dense_2", 50), ("dense_3", 50)):
        lim = 1 / np.sqrt(fan_in)
        k, b = w0[name + ".kernel"], w0[name + ".bias"]
        check(np.abs(k).max() <= lim * (1 + 1e-6) and np.abs(k).max() > 0.9 * lim and
              abs(k.std() - lim / np.sqrt(3)) < 0.05 * lim and np.abs(b).max() <= lim * (1 + 1e-6)
              and np.abs(b).max() > 0, "%s starts in U(-1/sqrt(%d), 1/sqrt(%d)), bias too"
              % (name, fan_in, fan_in))

    x, y = load_mnist(d, 500)
    lin = [nn.Linear(784, 50), nn.Linear(50, 50), nn.Linear(50, 10)]
    bns = [nn.BatchNorm1d(50), nn.BatchNorm1d(50)]
    with torch.no_grad():
        for i, l in enumerate(lin):
            l.weight.copy_(torch.from_numpy(w0["dense_%d.kernel" % (i + 1)].T.copy()))
            l.bias.copy_(torch.from_numpy(w0["dense_%d.bias" % (i + 1)].reshape(-1).copy()))
    model = nn.Sequential(lin[0], nn.ReLU(), bns[0], lin[1], nn.ReLU(), bns[1], lin[2])
    opt = torch.optim.Adam(model.parameters())
    xt, yt = torch.from_numpy(x), torch.from_numpy(y)
    want = []
    model.train()
    for _ in range(STEPS):
        loss = F.cross_entropy(model(xt), yt)
        opt.zero_grad()
        loss.backward()
        opt.step()
        want.append(loss.item())
    check(len(losses) == STEPS and all(abs(a - b) <= 2e-5 * max(1, abs(b)) for a, b in zip(losses, want)),
          "per-step losses agree with PyTorch: %s vs %s" % (losses, want))
    worst = 0.0
    for i, l in enumerate(lin):
        worst = max(worst, np.abs(w1["dense_%d.kernel" % (i + 1)] - l.weight.detach().numpy().T).max(),
                    np.abs(w1["dense_%d.bias" % (i + 1)].reshape(-1) - l.bias.detach().numpy()).max())
    check(worst < 1e-5, "weights after %d Adam steps agree with PyTorch (max diff %.2g)" % (STEPS, worst))
    worst = 0.0
    for i, b in enumerate(bns):
        for ours, theirs in (("moving_mean", b.running_mean), ("moving_variance", b.running_var),
                             ("gamma", b.weight), ("beta", b.bias)):
            got = w1["batchnorm_%d.%s" % (i + 1, ours)].reshape(-1)
            worst = max(worst, np.abs(got - theirs.detach().numpy()).max() /
                        max(1.0, np.abs(theirs.detach().numpy()).max()))
    check(worst < 1e-5, "batchnorm's running statistics (momentum 0.1, unbiased variance) and "
          "gamma/beta agree with PyTorch (max rel diff %.2g)" % worst)
    print("torch_dialect: %s" % ("all passed" if not FAILS else "%d failed" % len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
