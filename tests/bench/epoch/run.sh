#!/usr/bin/env bash
# One training epoch of the study network (784-50-BN-50-BN-10, batch 100,
# MNIST) with the runtime alone, side by side with the two references
# (numpy + OpenBLAS 1 thread, PyTorch 1 thread), for SGD+sigmoid,
# Adam+relu, RMSprop+relu. Runs are interleaved per combination so the
# ratios compare like with like on a machine whose speed drifts.
#
# Then one fit (Adam + relu) with one thread and with two, interleaved
# ROUNDS times: the 1-vs-2-thread ratio of the median epochs (median over
# rounds, with the lowest and highest round's ratio), and, since a machine
# shared with other work makes the epochs measure what share of the CPUs
# the process got, the ratio of the fastest tenth of the steps (p10: the
# code when it has its cores) and the CPUs each fit kept busy.
#
# env: OUT   build dir with obj/runtime/*/*.o (default: build)
#      MLP_DATA_PATH  (first entry) holding mnist/*.gz (default ../shared/data)
#      EPOCHS (default 3; the median epoch is reported)
#      ROUNDS (default 5)  BENCH_SUMMARY  a file the key lines are appended
#      to (make bench prints it at the end, side by side with the targets)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
cd "$root"
OUT=${OUT:-$root/build}
DATA=${MLP_DATA_PATH:-$root/../shared/data}
DATA=${DATA%%:*}
REF=$root/../shared/reference
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
quick EPOCHS 1
quick ROUNDS 1
EPOCHS=${EPOCHS:-3}
ROUNDS=${ROUNDS:-5}
SUMMARY=${BENCH_SUMMARY:-/dev/null}

# The runtime objects of this build; make them if the build has not yet.
objs=$(rt_objs "$OUT")
for o in $objs; do
  [ -f "$o" ] || { make --no-print-directory $(rt_objs "${OUT#$root/}") >/dev/null; break; }
done
bin=$OUT/bench-epoch
cc -std=c11 -D_GNU_SOURCE $BENCH_CFLAGS -ffp-contract=off -Wall -Wextra -Werror -Iruntime/core -Iruntime/kernels -Iruntime/data -Iruntime/expr -Iruntime/nn \
   "$here/epoch.c" $objs $RT_LIBS -pthread -o "$bin"

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
median() { python3 -c "import json,sys; print('%.4f' % json.load(open(sys.argv[1]))['median_train_s'])" "$1"; }
peak() { python3 -c "import json,sys; print('%.0f' % json.load(open(sys.argv[1]))['peak_rss_mb'])" "$1"; }

printf '%-14s %10s %10s %10s %9s %9s %8s %8s %8s\n' combination mlp_s numpy_s torch_s \
       numpy/mlp torch/mlp mlp_MB numpy_MB torch_MB
for combo in "sgd sigmoid" "adam relu" "rmsprop relu"; do
  set -- $combo
  # one thread, as numpy and torch get (without the argument the pool
  # takes every core: the first rounds of this table were so measured)
  "$bin" "$DATA/mnist" "$1" "$2" "$EPOCHS" 1 > "$tmp/mlp.txt"
  mlp_s=$(sed -n 's/.*median_train=\([0-9.]*\)s.*/\1/p' "$tmp/mlp.txt")
  mlp_mb=$(sed -n 's/.*peak_rss=\([0-9]*\)MB.*/\1/p' "$tmp/mlp.txt")
  MNIST_DIR="$DATA/mnist" OPENBLAS_NUM_THREADS=1 /usr/bin/python3 "$REF/numpy_seed.py" \
      --opt "$1" --act "$2" --epochs "$EPOCHS" --json "$tmp/np.json" > /dev/null
  MNIST_DIR="$DATA/mnist" OPENBLAS_NUM_THREADS=1 TORCH_THREADS=1 /usr/bin/python3 \
      "$REF/torch_seed.py" --opt "$1" --act "$2" --epochs "$EPOCHS" --json "$tmp/t.json" > /dev/null
  np_s=$(median "$tmp/np.json"); t_s=$(median "$tmp/t.json")
  printf '%-14s %10s %10s %10s %8.1fx %8.1fx %8s %8s %8s\n' "$1+$2" "$mlp_s" "$np_s" "$t_s" \
    "$(python3 -c "print($np_s/$mlp_s)")" "$(python3 -c "print($t_s/$mlp_s)")" \
    "$mlp_mb" "$(peak "$tmp/np.json")" "$(peak "$tmp/t.json")"
  grep '^FINAL' "$tmp/mlp.txt" | sed 's/^/  /'
  cpus=$(sed -n 's/.*fit_cpus=\([0-9.]*\).*/\1/p' "$tmp/mlp.txt")
  printf '%-34s %8s s  numpy %8s s  %6.1fx  (target >= 7x)  %s MB vs numpy %s MB, CPUs busy %s\n' \
    "epoch $1+$2, 1 thread" "$mlp_s" "$np_s" "$(python3 -c "print($np_s/$mlp_s)")" \
    "$mlp_mb" "$(peak "$tmp/np.json")" "$cpus" >> "$SUMMARY"
done
echo "(seconds: median training epoch; MB: peak RSS of the whole process)"

# One fit on one thread against the same fit on two, interleaved; the
# results must be the same bits (the FINAL accuracies are compared).
t1=(); t2=(); p1=(); p2=(); c1=(); c2=(); ratios=()
for r in $(seq "$ROUNDS"); do
  for th in 1 2; do
    "$bin" "$DATA/mnist" adam relu "$EPOCHS" "$th" > "$tmp/t$th.txt"
    v=$(sed -n 's/.*median_train=\([0-9.]*\)s.*/\1/p' "$tmp/t$th.txt")
    p=$(sed -n 's/.*step_p10=\([0-9.]*\)us.*/\1/p' "$tmp/t$th.txt")
    c=$(sed -n 's/.*fit_cpus=\([0-9.]*\).*/\1/p' "$tmp/t$th.txt")
    if [ "$th" = 1 ]; then t1+=("$v"); p1+=("$p"); c1+=("$c")
    else t2+=("$v"); p2+=("$p"); c2+=("$c"); fi
  done
  ratios+=("$(python3 -c "print('%.3f' % (${t1[-1]} / ${t2[-1]}))")")
  a1=$(sed -n 's/.*\(eval_train_acc=[0-9.]* test_acc=[0-9.]*\).*/\1/p' "$tmp/t1.txt")
  a2=$(sed -n 's/.*\(eval_train_acc=[0-9.]* test_acc=[0-9.]*\).*/\1/p' "$tmp/t2.txt")
  [ "$a1" = "$a2" ] || { echo "epoch/run.sh: two threads trained differently ($a1 / $a2)" >&2; exit 1; }
done
med() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END {print v[int((NR+1)/2)]}'; }
m1=$(med "${t1[@]}"); m2=$(med "${t2[@]}")
lo=$(printf '%s\n' "${ratios[@]}" | sort -g | head -1); hi=$(printf '%s\n' "${ratios[@]}" | sort -g | tail -1)
line=$(printf '%-34s %8s s  2 threads %8s s  %6.2fx  (target >= 1.5x; rounds %s..%s)' \
       "epoch adam+relu, 1 vs 2 threads" "$m1" "$m2" "$(python3 -c "print($m1/$m2)")" "$lo" "$hi")
echo "$line"
echo "$line" >> "$SUMMARY"
q1=$(med "${p1[@]}"); q2=$(med "${p2[@]}")
line=$(printf '%-34s %8s us 2 threads %8s us %6.2fx  (CPUs busy %s vs %s)' "step p10 adam+relu, 1 vs 2 threads" \
       "$q1" "$q2" "$(python3 -c "print($q1/$q2)")" "$(med "${c1[@]}")" "$(med "${c2[@]}")")
echo "$line"
echo "$line" >> "$SUMMARY"
