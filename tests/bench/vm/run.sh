#!/usr/bin/env bash
# VM speed against Lua 5.4 and Python 3: the same four programs in each
# language (fib.*, sum.*, list.*, concat.*), run side by side.
#
# Rounds are interleaved (mlp, lua, python, mlp, lua, python, ...) so that a
# burst of load from other work on the machine hits all three alike, and each
# program keeps its best of $ROUNDS wall-clock times. Every run's stdout must
# equal the hand-computed answer in ANSWER below, or the benchmark fails.
# Prints a table of seconds and the ratios mlp/lua and mlp/python (below 1
# means mlp is faster).
#
#   MLP=/abs/path/to/mlp bash tests/bench/vm/run.sh     (make bench sets MLP)
#   ROUNDS=5 PROGRAMS="fib sum" bash tests/bench/vm/run.sh
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../../.." && pwd)
MLP=${MLP:-$root/build/mlp}
LUA=${LUA:-lua5.4}
PYTHON=${PYTHON:-/usr/bin/python3}
source "$(dirname "${BASH_SOURCE[0]}")/../common.sh"
quick ROUNDS 1
ROUNDS=${ROUNDS:-3}
PROGRAMS=${PROGRAMS:-fib sum list concat}

declare -A ANSWER=(
    [fib]="832040"                  # fib(30)
    [sum]="49999995000000"          # 10^7 (10^7 - 1) / 2
    [list]="1000000 999999"         # length and last element
    [concat]="100000"               # one character per append
)

for tool in "$MLP" "$LUA" "$PYTHON"; do
    command -v "$tool" >/dev/null || { echo "run.sh: $tool not found" >&2; exit 1; }
done

now() { date +%s.%N; }
status=0
declare -A best

# run LANG CMD... : times one run, checks its output, keeps the best time.
run() {
    local lang=$1 prog=$2; shift 2
    local t0 t1 out
    t0=$(now)
    out=$("$@" 2>&1)
    local rc=$?
    t1=$(now)
    if [ $rc -ne 0 ] || [ "$out" != "${ANSWER[$prog]}" ]; then
        echo "run.sh: $lang $prog: want '${ANSWER[$prog]}', got '$out' (exit $rc)" >&2
        status=1
        best[$lang,$prog]=fail
        return
    fi
    local t; t=$(awk "BEGIN { print $t1 - $t0 }")
    local old=${best[$lang,$prog]:-}
    if [ "$old" = fail ]; then return; fi
    if [ -z "$old" ] || awk "BEGIN { exit !($t < $old) }"; then best[$lang,$prog]=$t; fi
}

for prog in $PROGRAMS; do
    for ((r = 0; r < ROUNDS; r++)); do
        run mlp "$prog" "$MLP" "$here/$prog.mlp"
        run lua "$prog" "$LUA" "$here/$prog.lua"
        run python "$prog" "$PYTHON" "$here/$prog.py"
    done
done

ratio() {
    case "$1$2" in *fail*) echo "-";; *) awk "BEGIN { printf \"%.2f\", $1 / $2 }";; esac
}
secs() { case "$1" in fail) echo "FAIL";; *) printf '%.3f' "$1";; esac; }

printf '%-8s %9s %9s %9s %9s %9s\n' program mlp lua python mlp/lua mlp/py
for prog in $PROGRAMS; do
    m=${best[mlp,$prog]} l=${best[lua,$prog]} p=${best[python,$prog]}
    printf '%-8s %9s %9s %9s %9s %9s\n' "$prog" "$(secs "$m")" "$(secs "$l")" \
        "$(secs "$p")" "$(ratio "$m" "$l")" "$(ratio "$m" "$p")"
done
echo "(best of $ROUNDS wall-clock seconds, interleaved; ratios below 1 mean mlp is faster)"
SUMMARY=${BENCH_SUMMARY:-/dev/null}
ahead=yes
for prog in $PROGRAMS; do
    m=${best[mlp,$prog]} p=${best[python,$prog]}
    case "$m$p" in *fail*) ahead=no;; *) awk "BEGIN { exit !($m < $p) }" || ahead=no;; esac
done
printf '%-34s %8s s  lua %8s s  %6sx  (target <= 1.3x); every VM bench ahead of Python: %s\n' \
    "vm fib(30), mlp vs lua" "$(secs "${best[mlp,fib]:-fail}")" "$(secs "${best[lua,fib]:-fail}")" \
    "$(ratio "${best[mlp,fib]:-fail}" "${best[lua,fib]:-fail}")" "$ahead" >> "$SUMMARY"
exit $status
