#!/usr/bin/env python3
"""safetensors interoperability between mlp and numpy, both directions.

The file format is written and read here by hand (an 8-byte little-endian
header length, a JSON header, raw little-endian tensors), independently of
mlp's C code and of the `safetensors` package (not in Debian):

1. numpy -> mlp: a model's architecture and random weights written by numpy
   load into mlp (load_model), and mlp's predict equals numpy's forward pass
   (float32 throughout; the sums may differ in order, so within 1e-5).
2. mlp -> numpy: a model trained by mlp and saved (save_model) is read here,
   and numpy's forward pass over its weights equals mlp's predict.
3. Bad files give located errors (exit 70), never a crash: truncated data,
   a header length past the end, a tensor of the wrong shape, a missing
   tensor, an extra tensor, no model metadata, not a file at all.

Usage: python3 tests/persist/interop.py --mlp build/mlp
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np

FAILS = []


def check(cond, what):
    print(("ok   " if cond else "FAIL ") + what)
    if not cond:
        FAILS.append(what)


def write_st(path, tensors, meta):
    """tensors: list of (name, float32 array)."""
    head, off, blobs = {}, 0, []
    if meta is not None:
        head["__metadata__"] = meta
    for name, a in tensors:
        b = np.ascontiguousarray(a, dtype="<f4").tobytes()
        head[name] = {"dtype": "F32", "shape": list(a.shape), "data_offsets": [off, off + len(b)]}
        off += len(b)
        blobs.append(b)
    h = json.dumps(head).encode()
    h += b" " * (-len(h) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)) + h + b"".join(blobs))


def read_st(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    head = json.loads(b[8:8 + n])
    meta = head.pop("__metadata__", {})
    data = b[8 + n:]
    out = {}
    for name, e in head.items():
        assert e["dtype"] == "F32"
        s, t = e["data_offsets"]
        out[name] = np.frombuffer(data[s:t], dtype="<f4").reshape(e["shape"])
    return out, meta


def act(name, z):
    if name == "relu":
        return np.maximum(z, 0)
    if name == "tanh":
        return np.tanh(z)
    if name == "sigmoid":
        return 1 / (1 + np.exp(-z))
    if name == "linear":
        return z
    if name == "softmax":
        e = np.exp(z - z.max(axis=1, keepdims=True))
        return e / e.sum(axis=1, keepdims=True)
    raise ValueError(name)


def forward(layers, w, x):
    """Inference-mode forward pass of an mlp architecture in numpy."""
    counts = {}
    for spec in layers:
        k = spec["kind"]
        counts[k] = counts.get(k, 0) + 1
        p = "%s_%d." % (k, counts[k])
        if k == "dense":
            x = act(spec["activation"], (x @ w[p + "kernel"] + w[p + "bias"]).astype(np.float32))
        elif k == "batchnorm":
            x = (x - w[p + "moving_mean"]) / np.sqrt(w[p + "moving_variance"] + np.float32(spec["eps"]))
            x = x * w[p + "gamma"] + w[p + "beta"]
        elif k == "flatten":
            x = x.reshape(len(x), -1)
    return x.astype(np.float32)


def mlp_rows(mlp, script, cwd):
    r = subprocess.run([mlp, "-e", script], cwd=cwd, capture_output=True, text=True, timeout=60)
    if r.returncode != 0:
        print(r.stderr)
        return None
    return np.array(json.loads(r.stdout.strip().splitlines()[-1]), dtype=np.float64)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--mlp", required=True)
    mlp = os.path.abspath(ap.parse_args().mlp)
    rng = np.random.default_rng(7)
    with tempfile.TemporaryDirectory() as d:
        # 1. numpy writes, mlp loads and predicts
        layers = [{"kind": "dense", "units": 5, "activation": "tanh", "init": "glorot_uniform"},
                  {"kind": "batchnorm", "momentum": 0.99, "eps": 0.001},
                  {"kind": "dense", "units": 3, "activation": "softmax", "init": "glorot_uniform"}]
        w = {"dense_1.kernel": rng.normal(size=(4, 5)), "dense_1.bias": rng.normal(size=5),
             "batchnorm_1.gamma": rng.uniform(0.5, 2, 5), "batchnorm_1.beta": rng.normal(size=5),
             "batchnorm_1.moving_mean": rng.normal(size=5),
             "batchnorm_1.moving_variance": rng.uniform(0.5, 2, 5),
             "dense_2.kernel": rng.normal(size=(5, 3)), "dense_2.bias": rng.normal(size=3)}
        w = {k: v.astype(np.float32) for k, v in w.items()}
        meta = {"format": "mlp", "mlp.name": "fromnumpy", "mlp.input": "4",
                "mlp.layers": json.dumps(layers)}
        write_st(os.path.join(d, "np.safetensors"), list(w.items()), meta)
        x = rng.normal(size=(6, 4)).astype(np.float32)
        xs = json.dumps([[float(v) for v in row] for row in x])
        got = mlp_rows(mlp, 'let m = load_model("np.safetensors"); print(tolist(predict(m, %s)))' % xs, d)
        want = forward(layers, w, x)
        check(got is not None and got.shape == want.shape and np.allclose(got, want, rtol=1e-5, atol=1e-6),
              "numpy-written model loads into mlp and predicts what numpy computes")

        # 2. mlp trains and writes, numpy reads and predicts
        script = '''seed(3)
let data = blobs(n=200, classes=3)
model net() {
    dense(6, relu, input=[2])
    batchnorm()
    dense(3, softmax)
}
let m = net()
fit(m, data, optimizer=Adam(lr=step(0.05, every=2, gamma=0.5)), epochs=4, batch=20, verbose=0)
save_model(m, "mlp.safetensors")
print(tolist(predict(m, %s)))'''
        x2 = rng.normal(size=(5, 2)).astype(np.float32)
        got = mlp_rows(mlp, script % json.dumps([[float(v) for v in r] for r in x2]), d)
        ok = got is not None and os.path.exists(os.path.join(d, "mlp.safetensors"))
        if ok:
            tw, tmeta = read_st(os.path.join(d, "mlp.safetensors"))
            want = forward(json.loads(tmeta["mlp.layers"]), tw, x2)
            ok = tmeta.get("format") == "mlp" and tw["dense_1.kernel"].shape == (2, 6) and \
                tw["dense_1.bias"].shape == (6,) and got.shape == want.shape and \
                np.allclose(got, want, rtol=1e-5, atol=1e-6)
            check(not np.allclose(tw["batchnorm_1.moving_mean"], 0), "trained moving statistics are saved")
        check(ok, "mlp-written model reads in numpy and predicts what mlp predicts")
        if ok:
            opt = json.loads(tmeta.get("mlp.training", "{}")).get("optimizer", {})
            check(opt.get("name") == "Adam" and opt.get("lr") == 0.05 and
                  opt.get("lr_schedule") == {"kind": "step", "lr": 0.05, "every": 2, "gamma": 0.5},
                  "the training configuration holds the optimizer's lr schedule")

        # 3. bad files: a located error, exit 70
        good = open(os.path.join(d, "np.safetensors"), "rb").read()
        cases = {
            "truncated": good[:-7],
            "header past end": struct.pack("<Q", 10 ** 6) + good[8:100],
            "not json": struct.pack("<Q", 8) + b"nonsense",
            "empty": b"",
        }
        for name, blob in cases.items():
            open(os.path.join(d, "bad.safetensors"), "wb").write(blob)
            r = subprocess.run([mlp, "-e", 'load_model("bad.safetensors")'], cwd=d,
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 70 and "load_model:" in r.stderr and "^" in r.stderr,
                  "bad file (%s): located error, exit 70" % name)
        w2 = dict(w)
        w2["dense_2.kernel"] = np.zeros((3, 5), np.float32)
        variants = {
            "wrong shape": (list(w2.items()), meta, "is [3, 5], the model needs [5, 3]"),
            "missing tensor": ([kv for kv in w.items() if kv[0] != "dense_1.bias"], meta,
                               "no tensor 'dense_1.bias'"),
            "extra tensor": (list(w.items()) + [("dense_9.kernel", np.zeros((1, 1), np.float32))],
                             meta, "'dense_9.kernel' belongs to no layer"),
            "no metadata": (list(w.items()), None, "no model description"),
            "unknown optimizer": (list(w.items()), dict(meta, **{"mlp.training": json.dumps(
                {"optimizer": {"name": "Adamm", "dialect": "keras"}, "loss": "mse"})}),
                "training configuration: unknown optimizer 'Adamm'"),
            "unknown hyperparameter": (list(w.items()), dict(meta, **{"mlp.training": json.dumps(
                {"optimizer": {"name": "Adam", "dialect": "keras", "beta3": 0.5}})}),
                "training configuration: Adam has no hyperparameter 'beta3'"),
            "bad lr schedule": (list(w.items()), dict(meta, **{"mlp.training": json.dumps(
                {"optimizer": {"name": "Adam", "dialect": "keras", "lr": 0.1, "lr_schedule":
                               {"kind": "step", "lr": 0.1, "every": 0, "gamma": 0.5}}})}),
                "training configuration: Adam's lr_schedule is not a valid schedule"),
            "unknown loss": (list(w.items()), dict(meta, **{"mlp.training": json.dumps(
                {"optimizer": {"name": "SGD", "dialect": "torch", "lr": 0.5}, "loss": "hinge"})}),
                "training configuration: unknown loss 'hinge'"),
        }
        for name, (ts, m, msg) in variants.items():
            write_st(os.path.join(d, "bad.safetensors"), ts, m)
            r = subprocess.run([mlp, "-e", 'load_model("bad.safetensors")'], cwd=d,
                               capture_output=True, text=True, timeout=60)
            check(r.returncode == 70 and msg in r.stderr, "bad file (%s): says %r" % (name, msg))
        r = subprocess.run([mlp, "-e", 'load_model(".")'], cwd=d, capture_output=True, text=True, timeout=60)
        check(r.returncode == 70 and "is a directory" in r.stderr, "a directory: is a directory")
    print("persist interop: %s" % ("all passed" if not FAILS else "%d failed" % len(FAILS)))
    return 1 if FAILS else 0


if __name__ == "__main__":
    sys.exit(main())
