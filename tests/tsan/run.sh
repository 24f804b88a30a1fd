#!/usr/bin/env bash
# tests/tsan/run.sh — the unit tests of the thread pool and of what runs on
# it (tests/unit/test_pool.c, test_fit_threads.c: the batch pipeline, the
# split products and optimizer pass; test_eval_team.c: evaluations by whole
# batches side by side) built with -fsanitize=thread against
# the runtime built likewise, and run under a tiny stand-in for Criterion
# (its forking runner does not work under TSan). Exit status 1 on a data
# race (TSan's report) or a failed assertion. `make tsan` runs it.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
cd "$root"
tmp=$(mktemp -d /tmp/mlp-tsan.XXXXXX)
trap 'rm -rf "$tmp"' EXIT
inc="-Iruntime/core -Iruntime/kernels -Iruntime/data -Iruntime/expr -Iruntime/nn -Iruntime/report"
flags="-std=c11 -D_GNU_SOURCE -O1 -g -fsanitize=thread -ffp-contract=off -pthread"
objs=()
for f in runtime/*/*.c; do
  o=$tmp/$(echo "$f" | tr / _).o
  cc $flags $inc $(pkg-config --cflags cairo) -c "$f" -o "$o" &
  objs+=("$o")
  (( ${#objs[@]} % 2 )) || wait
done
wait
libs="-ljansson -lz -lm"
cc $flags -Itests/tsan $inc tests/unit/test_pool.c tests/unit/test_fit_threads.c tests/unit/test_eval_team.c \
   tests/tsan/main.c \
   "${objs[@]}" $libs -o "$tmp/tsan-tests"
TSAN_OPTIONS="halt_on_error=1 exitcode=1 ${TSAN_OPTIONS:-}" "$tmp/tsan-tests" "$@"
