#!/usr/bin/env python3
"""Seed corpus for tests/fuzz/fuzz_data.c: small and large valid inputs of
every mode (the first byte of each seed is the mode, see fuzz_data.c).

    python3 tests/fuzz/data_seeds.py build/fuzz/corpus-data
"""
import gzip
import os
import random
import struct
import sys


def idx(dims, payload=None, seed=0):
    n = 1
    for d in dims:
        n *= d
    if payload is None:
        r = random.Random(seed)
        payload = bytes(r.randrange(256) if len(dims) > 1 else r.randrange(10)
                        for _ in range(n))
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", d) for d in dims) + payload


def main():
    out = sys.argv[1] if len(sys.argv) > 1 else "build/fuzz/corpus-data"
    os.makedirs(out, exist_ok=True)
    seeds = {}
    small_im, small_lb = idx([3, 2, 3], seed=1), idx([3], seed=2)
    big_im, big_lb = idx([60, 28, 28], seed=3), idx([60], seed=4)   # 47 kB
    huge_im = idx([200, 16, 16], seed=5)                           # 51 kB
    for name, data in [("small-im", small_im), ("small-lb", small_lb),
                       ("big-im", big_im), ("big-lb", big_lb), ("huge-im", huge_im),
                       ("one", idx([1])), ("4d", idx([2, 2, 2, 2, 2], seed=6))]:
        seeds["idx-raw-" + name] = b"\0" + data
        seeds["idx-gzin-" + name] = b"\1" + data
        seeds["idx-gz-" + name] = b"\2" + gzip.compress(data, mtime=0)
    # Headers that lie, as starting points.
    seeds["idx-raw-short"] = b"\0" + idx([3, 2, 3], payload=b"\1\2\3")
    seeds["idx-raw-zero-axis"] = b"\0" + idx([3, 0], payload=b"")
    seeds["idx-gz-bomb"] = b"\2" + gzip.compress(idx([1000, 100], payload=bytes(100000)), mtime=0)
    # Pairs: two big-endian bytes say where the images end.
    for name, im, lb in [("small", small_im, small_lb), ("big", big_im, big_lb)]:
        seeds["pair-" + name] = b"\4" + struct.pack(">H", len(im)) + im + lb
    # CSV: option byte (bit 2: no label column; low bits: label mode).
    r = random.Random(7)
    small_csv = b"x1,x2,y\n0.5,1e-3,cat\n-2,\"3.25\",dog\n\n4,5,cat\r\n"
    int_csv = b"a,b,y\n1,2,0\n3,4,1\n5,6,2\n"
    rows = ["f%d" % i for i in range(20)] + ["y"]
    big = [",".join(rows)]
    for i in range(600):
        big.append(",".join("%.6g" % r.uniform(-1e3, 1e3) for _ in range(20)) + ",%d" % (i % 7))
    big_csv = ("\n".join(big) + "\n").encode()                      # ~80 kB
    quoted = b'"x, one","y"\n"1.5","a ""b"""\n2,"c,d"\n'
    for name, text in [("small", small_csv), ("int", int_csv), ("big", big_csv),
                       ("quoted", quoted)]:
        for opt in (0, 1, 2, 4):
            seeds["csv-%s-%d" % (name, opt)] = b"\3" + bytes([opt]) + text
    for name, data in seeds.items():
        with open(os.path.join(out, name), "wb") as f:
            f.write(data)
    print("%d seeds in %s (largest %d bytes)" % (len(seeds), out,
                                                max(len(d) for d in seeds.values())))


if __name__ == "__main__":
    main()
