#!/usr/bin/env bash
# The aarch64 build under emulation (make test-aarch64; see README.md):
#  1. build/aarch64/kernel-check under qemu at MLP_SIMD=neon and scalar:
#     each path checked against the scalar one in-process, and the outputs
#     of every kernel compared byte for byte with build/kernel-check's on
#     this x86-64 machine (its best path and scalar);
#  2. the golden suites (tests/lang, tests/nn, tests/ext and the examples
#     that are not tagged slow) with build/aarch64/mlp under qemu-aarch64,
#     at neon and scalar. Their expected outputs are the bytes the x86-64
#     build prints (make check runs the same files natively), so passing
#     them is printing the same bytes. One kernel thread: qemu-user 7.2
#     aborts a child forked by a process that has started threads
#     ("qemu_plugin_vcpu_init_hook: assertion failed"), and a sweep point
#     is such a child when MLP_THREADS > 1 (part 3 covers 2 threads);
#  3. one epoch on 10,000 MNIST images of the study's first three sweep
#     points (tests/aarch64/mnist_epoch.mlp), stdout compared byte for byte with
#     the x86-64 build's: neon with 1 thread (three points), neon and
#     scalar with 2 (the Adam point: scalar is slow under emulation).
# An argument runs one part alone (make test runs them side by side):
# kernels, golden-neon, golden-scalar (part 2 at one SIMD path) or mnist.
# The scripts run from build/aarch64/root-SIMD, a tree of links to the sources
# whose build/examples/ffi/libplugin.so is the aarch64 plugin (the FFI
# tests load it by that relative path).
# QEMU_LD_PREFIX=/ : the multiarch loader and libraries (/lib/ld-linux-aarch64.so.1,
# /usr/lib/aarch64-linux-gnu); =/usr/aarch64-linux-gnu would pair the cross
# toolchain's loader with the multiarch libc and hang in pthread_create.
set -euo pipefail
cd "$(dirname "$0")/../.."
part=${1:-all}
case $part in all|kernels|golden-neon|golden-scalar|mnist) ;;
  *) echo "usage: tests/aarch64/run.sh [kernels|golden-neon|golden-scalar|mnist]" >&2; exit 64 ;;
esac
want() { [ "$part" = all ] || [ "$part" = "$1" ]; }
export QEMU_LD_PREFIX=/
QEMU=qemu-aarch64
A=build/aarch64
failed=0
fail() { echo "FAIL: $*"; failed=$((failed + 1)); }

# ---- 1. kernels ------------------------------------------------------------
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
if want kernels; then
build/kernel-check "$tmp/x86" || fail "kernel-check on x86-64 ($(uname -m))"
MLP_SIMD=scalar build/kernel-check "$tmp/x86-scalar" || fail "kernel-check on x86-64, scalar"
for simd in neon scalar; do
  MLP_SIMD=$simd $QEMU $A/kernel-check "$tmp/$simd" || fail "kernel-check under qemu, $simd"
done
for f in x86-scalar neon scalar; do
  cmp -s "$tmp/x86" "$tmp/$f" && echo "kernel outputs: $f = x86-64 (same bytes)" ||
    fail "kernel outputs differ: $f against x86-64"
done
fi

# (Criterion's unit tests do not run under qemu-user: Criterion re-executes
# the test binary, which the kernel can only start through binfmt_misc.)

# ---- 2. golden suites --------------------------------------------------------
mlp=$PWD/$A/mlp
for run in "neon 1" "scalar 1"; do
  set -- $run
  want "golden-$1" || continue
  root=$A/root-$1
  rm -rf "$root"
  mkdir -p "$root/build/examples/ffi"
  for d in tests examples lang stdlib runtime README.md; do ln -s "$PWD/$d" "$root/$d"; done
  ln -s "$PWD/$A/examples/ffi/libplugin.so" "$root/build/examples/ffi/libplugin.so"
  echo "== golden under qemu-aarch64: MLP_SIMD=$1 MLP_THREADS=$2"
  MLP_SIMD=$1 MLP_THREADS=$2 python3 "$root/tests/golden.py" --mlp "$mlp" --wrap "$QEMU" \
    --skip-tag slow --timeout 1200 --times 5 "$root/tests/lang" "$root/tests/nn" "$root/tests/ext" "$root/examples" ||
    fail "golden suites under qemu, MLP_SIMD=$1 MLP_THREADS=$2"
done

# ---- 3. MNIST ----------------------------------------------------------------
mnist=
want mnist || mnist=no
IFS=: read -ra dirs <<< "${MLP_DATA_PATH:-}"
for d in "${dirs[@]}"; do
  for f in "$d/mnist/train-images-idx3-ubyte" "$d/mnist/train-images-idx3-ubyte.gz"; do
    [ -f "$f" ] && [ "$mnist" != no ] && mnist=yes
  done
done
if [ "$mnist" = no ]; then
  :
elif [ -z "$mnist" ]; then
  echo "SKIP MNIST epochs: no mnist/ on MLP_DATA_PATH"
else
  script=tests/aarch64/mnist_epoch.mlp
  build/mlp "$script" > "$tmp/mnist-x86" 2>/dev/null || fail "MNIST epochs on x86-64"
  build/mlp "$script" adam > "$tmp/adam-x86" 2>/dev/null || fail "MNIST Adam epoch on x86-64"
  for run in "neon 1 all" "neon 2 adam" "scalar 2 adam"; do
    set -- $run
    extra=; ref=$tmp/mnist-x86
    if [ "$3" = adam ]; then extra=adam; ref=$tmp/adam-x86; fi
    start=$(date +%s)
    MLP_SIMD=$1 MLP_THREADS=$2 $QEMU $A/mlp "$script" $extra > "$tmp/got" 2>/dev/null ||
      fail "MNIST ($3) under qemu, MLP_SIMD=$1 MLP_THREADS=$2"
    if cmp -s "$ref" "$tmp/got"; then
      echo "MNIST epoch ($3) under qemu, MLP_SIMD=$1 MLP_THREADS=$2: x86-64's bytes ($(( $(date +%s) - start ))s)"
    else
      fail "MNIST ($3) under qemu, MLP_SIMD=$1 MLP_THREADS=$2 prints other bytes than x86-64"
      diff "$ref" "$tmp/got" | head -5
    fi
  done
fi

if [ "$failed" -gt 0 ]; then echo "aarch64: $failed failed"; exit 1; fi
echo "aarch64: all passed"
