#!/usr/bin/env bash
# The whole study (examples/study.mlp: MNIST loading, 6 runs x EPOCHS epochs
# with validation after each) timed side by side with the PyTorch reference
# doing the same work: one combination (Adam + relu, its median cost) for
# 6 x EPOCHS epochs, loading included. Prints wall and user seconds, peak
# RSS of each, and the ratio. The two run back to back in the same call, so
# the ratio holds on a machine whose speed drifts; single readings do not.
#
# env: MLP   the mlp binary (default: build/mlp)
#      OUT   build dir (unused here; accepted like every bench)
#      MLP_DATA_PATH  (first entry) holding mnist/*.gz (default ../shared/data)
#      EPOCHS  epochs per run (default 30, the study's; fewer for a quick look)
#      TORCH_THREADS  threads of the reference (default 1, its faster setting here)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
MLP=${MLP:-$root/build/mlp}
DATA=${MLP_DATA_PATH:-$root/../shared/data}
DATA=${DATA%%:*}
REF=$root/../shared/reference
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
quick EPOCHS 1
EPOCHS=${EPOCHS:-30}
export TORCH_THREADS=${TORCH_THREADS:-1}

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
sed "s/epochs=30/epochs=$EPOCHS/" "$root/examples/study.mlp" > "$tmp/study.mlp"
if ! grep -q "epochs=$EPOCHS" "$tmp/study.mlp"; then
  echo "study/run.sh: examples/study.mlp no longer says epochs=30; update this script" >&2
  exit 1
fi

# wall seconds, user seconds, peak RSS in MB of one command (output to $1)
measure() {
  local out=$1; shift
  # stdout alone is compared: stderr has the progress lines and timings
  /usr/bin/time -f "%e %U %M" -o "$tmp/time" "$@" > "$out" 2> "$out.err" || {
    echo "study/run.sh: failed: $*" >&2; tail -5 "$out.err" >&2; exit 1; }
  read -r wall user kb < "$tmp/time"
  echo "$wall $user $((kb / 1024))"
}

JOBS=${JOBS:-$(nproc)}
read -r m_wall m_user m_mb < <(cd "$tmp" && MLP_DATA_PATH="$DATA" measure "$tmp/mlp.txt" "$MLP" study.mlp)
read -r j_wall j_user j_mb < <(cd "$tmp" && MLP_DATA_PATH="$DATA" measure "$tmp/mlpj.txt" "$MLP" -j "$JOBS" study.mlp)
cmp -s <(grep -v '^sweep: point' "$tmp/mlp.txt") <(grep -v '^sweep: point' "$tmp/mlpj.txt") ||
  { echo "study/run.sh: -j $JOBS printed something else than the serial run" >&2; exit 1; }
read -r t_wall t_user t_mb < <(cd "$REF" && MNIST_DIR="$DATA/mnist" OPENBLAS_NUM_THREADS=1 \
    measure "$tmp/torch.txt" /usr/bin/python3 torch_seed.py --opt adam --act relu \
    --epochs $((6 * EPOCHS)))

printf '%-26s %9s %9s %8s\n' "study, $EPOCHS epochs/run" wall_s user_s peak_MB
printf '%-26s %9s %9s %8s\n' "mlp (6 runs)" "$m_wall" "$m_user" "$m_mb"
printf '%-26s %9s %9s %8s\n' "mlp -j $JOBS (6 runs)" "$j_wall" "$j_user" "$j_mb"
printf '%-26s %9s %9s %8s\n' "torch adam+relu x6 epochs" "$t_wall" "$t_user" "$t_mb"
python3 -c "import sys; w=float(sys.argv[1]); j=float(sys.argv[2]); t=float(sys.argv[3]); print('torch/mlp wall ratio: %.1fx serial, %.1fx with -j' % (t / w, t / j))" "$m_wall" "$j_wall" "$t_wall"
SUMMARY=${BENCH_SUMMARY:-/dev/null}
printf '%-34s %8s s  %4s MB   torch %s s %s MB  (target < 12 s, < 80 MB at 30 epochs)\n' \
  "study serial, $EPOCHS epochs/run" "$m_wall" "$m_mb" "$t_wall" "$t_mb" >> "$SUMMARY"
printf '%-34s %8s s  %4s MB   torch %s s %s MB  (target < 8 s at 30 epochs)\n' \
  "study -j $JOBS" "$j_wall" "$j_mb" "$t_wall" "$t_mb" >> "$SUMMARY"
echo "mlp results:"
grep -A4 '^opt ' "$tmp/mlp.txt" | sed 's/^/  /'
