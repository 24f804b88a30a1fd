#!/bin/bash
# tests/bench/data/run.sh — how long decoding the four MNIST files takes,
# next to `zcat` of the same files, measured side by side in one run (the
# machine is shared: only the ratio means anything). Also the peak resident
# memory of a process holding the loaded set.
#
# Data: $MLP_DATA_PATH's first entry (default ../shared/data) must hold
# mnist/*-ubyte.gz. The loader driver is compiled here from runtime/ sources.
set -euo pipefail
cd "$(dirname "$0")/../../.."
ROOT=${MLP_DATA_PATH:-../shared/data}
ROOT=${ROOT%%:*}
DIR=$ROOT/mnist
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
quick REPEATS 1
REPEATS=${REPEATS:-7}
BIN=${OUT:-build}/bench-data
mkdir -p "$BIN"
FILES=("$DIR"/train-images-idx3-ubyte.gz "$DIR"/train-labels-idx1-ubyte.gz \
       "$DIR"/t10k-images-idx3-ubyte.gz "$DIR"/t10k-labels-idx1-ubyte.gz)
for f in "${FILES[@]}"; do
  [ -r "$f" ] || { echo "data bench: $f not found; skipped"; exit 0; }
done

# against the runtime library as the interpreter links it (make bench builds it)
cc -std=c11 -D_GNU_SOURCE $BENCH_CFLAGS -ffp-contract=off -pthread -Iruntime/core -Iruntime/kernels -Iruntime/data -Iruntime/expr -Iruntime/nn \
   tests/bench/data/load_mnist.c $(rt_objs "${OUT:-build}") \
   $RT_LIBS -o "$BIN/load_mnist"

# Best of REPEATS for zcat, interleaved with the loader so both see the same
# machine load.
best_zcat=999
for ((i = 0; i < REPEATS; i++)); do
  t0=$(date +%s.%N)
  zcat "${FILES[@]}" > /dev/null
  t1=$(date +%s.%N)
  best_zcat=$(python3 -c "print(min($best_zcat, $t1 - $t0))")
  read -r t_load _ _ < <("$BIN/load_mnist" "$ROOT" 1)
  best_load=$(python3 -c "print(min(${best_load:-999}, $t_load))")
done
read -r t_seq _ _ < <("$BIN/load_mnist" "$ROOT" 0)
read -r _ rss bytes < <("$BIN/load_mnist" "$ROOT" 1)

python3 - "$best_zcat" "$best_load" "$t_seq" "$rss" "$bytes" <<'PY'
import sys
z, l, s, rss, b = map(float, sys.argv[1:])
print(f"zcat of the 4 MNIST files      {z*1000:8.1f} ms")
print(f"mlp load (2 threads)           {l*1000:8.1f} ms   ratio to zcat {l/z:5.2f}x")
print(f"mlp load (1 thread, 1 run)     {s*1000:8.1f} ms   ratio to zcat {s/z:5.2f}x")
print(f"data held: {b/1e6:.1f} MB (uint8 pixels + int32 labels); peak RSS {rss/1024:.1f} MB")
PY
