#!/bin/bash
# GEMM GFLOP/s at the study's shapes: our rt_gemm_f32 (1 and 2 threads)
# against single-threaded OpenBLAS (the core it picks itself, and SkylakeX,
# its AVX-512 kernel, where the CPU has AVX-512), side by side in one run.
#
#   MLP  path of the mlp binary (unused here; part of the bench interface)
#   OUT  build directory whose obj/runtime/*/*.o hold the runtime, e.g. build
#
# Ratios are ours / OpenBLAS-best (the faster of the OpenBLAS columns). Our
# kernel and OpenBLAS are timed in alternating batches in one process.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
OUT=${OUT:-$root/build}
[ -d "$OUT/obj/runtime" ] || { echo "gemm bench: no runtime objects in $OUT/obj/runtime (run make first)" >&2; exit 1; }

source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Same flags as the project build; the runtime objects bring their own
# dependencies, hence the project's library list.
cc -std=c11 -D_GNU_SOURCE $BENCH_CFLAGS -ffp-contract=off -pthread -I"$root/runtime/core" -I"$root/runtime/kernels" \
   -I/usr/include/x86_64-linux-gnu/openblas-pthread \
   "$here/bench_gemm.c" $(cd "$root" && rt_objs "$OUT") \
   -lopenblas $RT_LIBS -pthread -o "$tmp/bench_gemm"

# OpenBLAS picks its kernel from OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE at
# load time: unset them for its own choice, then force SkylakeX.
env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$tmp/bench_gemm" > "$tmp/own"
if grep -qw avx512f /proc/cpuinfo; then
    env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE OPENBLAS_CORETYPE=SkylakeX "$tmp/bench_gemm" > "$tmp/skx"
else
    echo "# SkylakeX skipped: this CPU has no AVX-512" > "$tmp/skx"
fi

python3 - "$tmp/own" "$tmp/skx" <<'EOF'
import sys
def rows(path):
    head, body = [], []
    for line in open(path):
        line = line.rstrip("\n")
        (head if line.startswith("#") else body).append(line)
    return head, [l.split("|") for l in body]
oh, own = rows(sys.argv[1]); sh, skx = rows(sys.argv[2])
print(oh[0].lstrip("# ") + " | " + sh[0].lstrip("# "))
skx = {r[0]: float(r[4]) for r in skx}
print(f"{'operation':18} {'m n k op':16} {'ours 1t':>8} {'ours 2t':>8} {'oblas':>8} {'oblasSKX':>8} {'1t/best':>8} {'2t/best':>8}")
for o in own:
    g1, g2, gb = float(o[2]), float(o[3]), float(o[4])
    gs = skx.get(o[0])
    best = max(gb, gs or 0)
    skxs = f"{gs:8.1f}" if gs else f"{'-':>8}"
    print(f"{o[0]:18} {o[1]:16} {g1:8.1f} {g2:8.1f} {gb:8.1f} {skxs} {g1/best:8.2f} {g2/best:8.2f}")
EOF
