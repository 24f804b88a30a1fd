#!/usr/bin/env bash
# tests/par/run.sh MLP — sweeps in parallel (issue 8).
#
#   1. tests/par/sweep.mlp serially, with -j 2, with MLP_JOBS=3, with -j 2
#      and MLP_GC_STRESS=1, and under `mpirun -n 3`: stdout and the saved
#      CSV/JSON files byte-identical to the serial run's, the same exit
#      status (70: a point failed) and the same located error on stderr;
#      then the sweep scripts of tests/lang/sweep that write to state from
#      outside a point, fail, or report deep values: the same stdout, exit
#      status and stderr (but the progress lines) all three ways;
#   2. tests/par/crash.mlp: workers killed by signals 9 and 11 fail their
#      points alone (serially, -j 2 and mpirun), and what the points
#      printed before is all there, checked against a hand-written
#      expectation;
#   3. progress: one stderr line per finished point;
#   4. Ctrl-C (SIGINT, to the parent alone and to its process group) during
#      a -j 2 sweep: exit 70, "interrupted", and no worker left behind;
#      and the partial table it prints (issue 17), serially and -j 2;
#   5. usage: a bad -j, and MPI asked for where no MPI library loads.
#   6. exit(code) in a point; 7. cache "file": a sweep stopped at point 3
#      goes on from the cache, serially, -j 2 and under mpirun.
#   Also examples/search.mlp (random search, successive halving) gives its
#   golden output serially, with -j 2 and under mpirun.
#
# MPI runs as root (CI) with Open MPI's consent variables, oversubscribed,
# loopback only (shared memory + self). Exit status 1 on any failure.
set -u
MLP=${1:?usage: tests/par/run.sh path/to/mlp}
MLP=$(cd "$(dirname "$MLP")" && pwd)/$(basename "$MLP")
cd "$(dirname "$0")/../.." || exit 2
TMP=$(mktemp -d /tmp/mlp-par-test.XXXXXX)
trap 'rm -rf "$TMP"' EXIT

export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
export OMPI_MCA_btl=self,vader OMPI_MCA_rmaps_base_oversubscribe=1
# Containers often forbid the cross-process memory reads (CMA) that shared
# memory uses for large messages; plain copies work everywhere.
export OMPI_MCA_btl_vader_single_copy_mechanism=none
# Open MPI's own allocations outlive MPI_Finalize: not ours to report.
MPI_ASAN="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0"
MPIRUN=(mpirun -n 3 --oversubscribe --mca btl self,vader)
unset MLP_JOBS
export MLP_PROGRESS=0   # no per-epoch stderr lines: stderr is checked below

pass=0 fail=0
ok() { pass=$((pass + 1)); }
bad() { fail=$((fail + 1)); echo "FAIL tests/par: $*"; }
same() {   # same FILE_A FILE_B WHAT
    if cmp -s "$1" "$2"; then ok; else bad "$3 differs"; diff "$1" "$2" | head -20; fi
}
# stderr without the -j progress lines, cut to the serial run's length
# (mpirun adds its own note about the exit status after it)
errs() {   # errs FILE [LINES]
    grep -v '^sweep: point [0-9]*/[0-9]* (' "$1" | head -n "${2:-1000000}"
}

# ---- 1. one sweep, four ways ----------------------------------------------
"$MLP" tests/par/sweep.mlp "$TMP/serial" > "$TMP/serial.out" 2> "$TMP/serial.err"
rc=$?
[ $rc = 70 ] && ok || { bad "serial run exited $rc"; cat "$TMP/serial.err"; }
head -1 "$TMP/serial.err" | grep -q '^sweep point 7/10 (epochs=0, opt=SGD(lr=0.2)): tests/par/sweep.mlp:14:27: error: no epochs for SGD' \
    && ok || { bad "serial run: no located error for point 7"; cat "$TMP/serial.err"; }

run_way() {   # run_way NAME COMMAND...
    local name=$1; shift
    "$@" tests/par/sweep.mlp "$TMP/$name" > "$TMP/$name.out" 2> "$TMP/$name.err"
    local rc=$?
    [ $rc = 70 ] && ok || { bad "$name: exited $rc"; tail -5 "$TMP/$name.err"; }
    same "$TMP/serial.out" "$TMP/$name.out" "$name: stdout"
    errs "$TMP/$name.err" "$(wc -l < "$TMP/serial.err")" > "$TMP/$name.err2"
    same "$TMP/serial.err" "$TMP/$name.err2" "$name: stderr"
    for f in .csv .json -second.csv; do same "$TMP/serial$f" "$TMP/$name$f" "$name: $f"; done
}
run_way j2 "$MLP" -j 2
run_way env3 env MLP_JOBS=3 "$MLP"
# every allocation collects: values in flight between processes stay rooted
run_way gc env MLP_GC_STRESS=1 "$MLP" -j 2
if command -v mpirun > /dev/null; then
    run_way mpi env ASAN_OPTIONS="$MPI_ASAN" "${MPIRUN[@]}" "$MLP"
else
    bad "mpirun not found (make installs openmpi-bin)"
fi

# Random search and successive halving (issue 17): the same bytes three ways,
# the example's golden output serially.
"$MLP" examples/search.mlp > "$TMP/search.out" 2> /dev/null
same examples/search.out "$TMP/search.out" "examples/search.mlp serially"
"$MLP" -j 2 examples/search.mlp > "$TMP/search.j2" 2> /dev/null
same examples/search.out "$TMP/search.j2" "examples/search.mlp -j 2"
if command -v mpirun > /dev/null; then
    ASAN_OPTIONS="$MPI_ASAN" "${MPIRUN[@]}" "$MLP" examples/search.mlp > "$TMP/search.mpi" 2> /dev/null
    same examples/search.out "$TMP/search.mpi" "examples/search.mlp under mpirun"
fi

# Points are isolated, fail and report deep values the same three ways.
for t in sweep_isolated_writes sweep_errors_exit_70 sweep_report_columns sweep_deep_values; do
    f=tests/lang/sweep/$t.mlp
    "$MLP" "$f" > "$TMP/$t.out" 2> "$TMP/$t.err"
    want=$?
    ways=("-j 2")
    command -v mpirun > /dev/null && ways+=(mpi)
    for way in "${ways[@]}"; do
        if [ "$way" = mpi ]; then
            ASAN_OPTIONS="$MPI_ASAN" "${MPIRUN[@]}" "$MLP" "$f" > "$TMP/$t.w.out" 2> "$TMP/$t.w.err"
        else
            "$MLP" $way "$f" > "$TMP/$t.w.out" 2> "$TMP/$t.w.err"
        fi
        rc=$?
        [ $rc = $want ] && ok || bad "$t $way: exit $rc, serially $want"
        same "$TMP/$t.out" "$TMP/$t.w.out" "$t $way: stdout"
        errs "$TMP/$t.w.err" "$(wc -l < "$TMP/$t.err")" > "$TMP/$t.w.err2"
        same "$TMP/$t.err" "$TMP/$t.w.err2" "$t $way: stderr"
    done
done

# ---- 2. workers that die ---------------------------------------------------
# A segfault must reach the kernel as one (not ASan's report and exit 1),
# and leave no core file behind.
ulimit -c 0
export ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}handle_segv=0"
MPI_ASAN="$MPI_ASAN:handle_segv=0"
MLP_TEST_HOOKS=1 "$MLP" tests/par/crash.mlp > "$TMP/crash-serial.out" 2> "$TMP/crash-serial.err"
rc=$?
[ $rc = 70 ] && ok || bad "crash serially: exited $rc"
same tests/par/crash.expect "$TMP/crash-serial.out" "crash serially: stdout"
MLP_TEST_HOOKS=1 "$MLP" -j 2 tests/par/crash.mlp > "$TMP/crash.out" 2> "$TMP/crash.err"
rc=$?
[ $rc = 70 ] && ok || bad "crash -j 2: exited $rc"
same tests/par/crash.expect "$TMP/crash.out" "crash -j 2: stdout"
if command -v mpirun > /dev/null; then
    MLP_TEST_HOOKS=1 ASAN_OPTIONS="$MPI_ASAN" "${MPIRUN[@]}" -x MLP_TEST_HOOKS "$MLP" \
        tests/par/crash.mlp > "$TMP/crash-mpi.out" 2> "$TMP/crash-mpi.err"
    rc=$?
    [ $rc = 70 ] && ok || { bad "crash mpirun: exited $rc"; tail -5 "$TMP/crash-mpi.err"; }
    same tests/par/crash.expect "$TMP/crash-mpi.out" "crash mpirun: stdout"
fi

# ---- 3. progress: a line per finished point -------------------------------
n=$(grep -c '^sweep: point [0-9]*/10 ' "$TMP/j2.err")
[ "$n" = 10 ] && ok || bad "progress: $n lines for the 10 points of the first sweep"
grep -q '^sweep: point [0-9]*/5 (.*s): worker died: killed by signal 9$' "$TMP/crash.err" \
    && ok || bad "progress: no line for the killed worker"

# ---- 4. Ctrl-C stops everything ---------------------------------------------
cat > "$TMP/long.mlp" <<'EOF'
let data = blobs(n=2000, classes=3, seed=1)
model net() { dense(64, relu); dense(3, softmax) }
let t = sweep k in [1, 2, 3, 4, 5, 6, 7, 8] { fit(net(), data, epochs=1000, batch=8, verbose=0) }
print("not reached")
EOF
"$MLP" -j 2 "$TMP/long.mlp" > "$TMP/long.out" 2> "$TMP/long.err" &
pid=$!
sleep 1.5
workers=$(pgrep -P $pid | wc -l)
kill -INT $pid
wait $pid
rc=$?
[ "$workers" = 2 ] && ok || bad "Ctrl-C: expected 2 workers before the interrupt, saw $workers"
[ $rc = 70 ] && ok || bad "Ctrl-C: exit $rc, expected 70"
grep -q interrupted "$TMP/long.err" && ok || { bad "Ctrl-C: no 'interrupted' message"; cat "$TMP/long.err"; }
# stdout: the partial table (issue 17), every point unfinished, and no more
grep -q 'not reached' "$TMP/long.out" && bad "Ctrl-C: the script went on" || ok
# (how many points finished before the signal depends on the machine)
fin=$(head -1 "$TMP/long.out" | sed -n 's/^sweep interrupted: \([0-9]*\) of 8 points finished$/\1/p')
[ -n "$fin" ] && [ "$fin" -lt 8 ] \
    && [ "$(grep -c 'unfinished (interrupted)$' "$TMP/long.out")" = $((8 - fin)) ] && ok \
    || { bad "Ctrl-C: no partial table"; cat "$TMP/long.out"; }
sleep 0.2
left=$(pgrep -f "$TMP/long.mlp" | wc -l)
[ "$left" = 0 ] && ok || bad "Ctrl-C: $left processes left behind"

# A terminal's Ctrl-C reaches the whole process group: workers too.
setsid "$MLP" -j 2 "$TMP/long.mlp" > "$TMP/long2.out" 2> "$TMP/long2.err" &
pid=$!
sleep 1.5
kill -INT -- -$pid
wait $pid
rc=$?
[ $rc = 70 ] && grep -q interrupted "$TMP/long2.err" && ok \
    || { bad "Ctrl-C to the group: exit $rc"; cat "$TMP/long2.err"; }
sleep 0.2
left=$(pgrep -f "$TMP/long.mlp" | wc -l)
[ "$left" = 0 ] && ok || bad "Ctrl-C to the group: $left processes left behind"

# Ctrl-C after some points finished: their rows, the rest marked (serially and -j 2).
cat > "$TMP/part.mlp" <<'EOF'
let data = blobs(n=2000, classes=3, seed=1)
model net() { dense(64, relu); dense(3, softmax) }
let t = sweep k in [1, 2, 3, 4, 5, 6] {
    if k > 2 { fit(net(), data, epochs=1000000, batch=8, verbose=0) }
    report(x=k * 10)
}
print("not reached")
EOF
printf '%s\n' "sweep interrupted: 2 of 6 points finished" "k   x  error" \
    "-  --  ------------------------" "1  10  -" "2  20  -" \
    "3   -  unfinished (interrupted)" "4   -  unfinished (interrupted)" \
    "5   -  unfinished (interrupted)" "6   -  unfinished (interrupted)" > "$TMP/part.want"
for way in "" "-j 2"; do
    "$MLP" $way "$TMP/part.mlp" > "$TMP/part.out" 2> "$TMP/part.err" &
    pid=$!
    sleep 1.5
    kill -INT $pid
    wait $pid
    rc=$?
    [ $rc = 70 ] && ok || bad "Ctrl-C partial ($way): exit $rc"
    same "$TMP/part.want" "$TMP/part.out" "Ctrl-C partial table ($way)" || cat "$TMP/part.err"
done

# ---- 5. usage ------------------------------------------------------------------
"$MLP" -j 0 -e 'print(1)' > /dev/null 2> "$TMP/usage.err"
[ $? = 64 ] && grep -q -- '-j needs a number of jobs' "$TMP/usage.err" && ok || bad "-j 0 accepted"
MLP_MPI=1 MLP_MPI_LIB=/nonexistent/libmpi.so "$MLP" -e 'print(1)' > "$TMP/nompi.out" 2> "$TMP/nompi.err"
rc=$?
[ $rc = 64 ] && grep -q 'no MPI library could be loaded' "$TMP/nompi.err" && [ ! -s "$TMP/nompi.out" ] \
    && ok || { bad "MPI asked for without a library: exit $rc"; cat "$TMP/nompi.err"; }
"$MLP" -j 2 -e 'print(str(sweep x in [1, 2] { report(y=x) }) == "x  y\n-  -\n1  1\n2  2")' \
    > "$TMP/e.out" 2> /dev/null
[ "$(cat "$TMP/e.out")" = true ] && ok || bad "-j 2 with -e: $(cat "$TMP/e.out")"

# ---- 6. exit(code) in a point stops the program with code, as without -j ------
cat > "$TMP/exit.mlp" <<'EOF'
let t = sweep k in [1, 2, 3, 4, 5, 6] {
    if k == 4 { exit(5) }
    report(v=k)
}
print("not reached")
EOF
"$MLP" -j 2 "$TMP/exit.mlp" > "$TMP/exit.out" 2> "$TMP/exit.err"
rc=$?
[ $rc = 5 ] && ! grep -q "not reached" "$TMP/exit.out" && ! grep -q error "$TMP/exit.err" && ok \
    || { bad "exit(5) in a -j 2 point: exit $rc"; cat "$TMP/exit.err"; }
sleep 0.2
left=$(pgrep -f "$TMP/exit.mlp" | wc -l)
[ "$left" = 0 ] && ok || bad "exit in a point: $left processes left behind"

# ---- 7. cache "file": a stopped sweep goes on where it stopped (issue 17) -------
# Run 1 stops at point 3 (exit, as a cluster's time limit would); run 2
# takes points 1-2 from the cache (their bodies do not run again) and runs
# the rest: its table equals an uncached run's. Serially, -j 2 and mpirun.
# Point (2, seed 1) is slow, so under -j 2 point 3 exits while it still
# runs: the sweep must let it finish (a serial run would have), print its
# line and cache it before stopping.
cat > "$TMP/cache.mlp" <<'EOF'
let t = sweep k in [1, 2, 3, 4, 5, 6] repeat 2 cache args[0] {
    if k == 2 and point().seed == 1 { let t0 = clock()
        while clock() - t0 < 0.5 { } }
    if len(args) > 1 and k == 3 { exit(9) }
    print("ran {k} {point().seed}")
    report(v=k * 100 + point().seed, l=[k, {s: "x{k}"}])
}
print(t)
EOF
sed 's/ cache args\[0\]//' "$TMP/cache.mlp" > "$TMP/nocache.mlp"
"$MLP" "$TMP/nocache.mlp" > "$TMP/nocache.out" 2> /dev/null
grep -v '^ran' "$TMP/nocache.out" > "$TMP/nocache.table"
for way in serial j2 mpi; do
    case $way in
        serial) run=("$MLP") ;;
        j2) run=("$MLP" -j 2) ;;
        mpi) command -v mpirun > /dev/null || continue
             run=(env ASAN_OPTIONS="$MPI_ASAN" "${MPIRUN[@]}" "$MLP") ;;
    esac
    rm -f "$TMP/c.cache"
    "${run[@]}" "$TMP/cache.mlp" "$TMP/c.cache" stop > "$TMP/c.stop" 2>&1
    rc=$?
    [ "$(grep '^ran' "$TMP/c.stop" | tr '\n' ' ')" = "ran 1 0 ran 1 1 ran 2 0 ran 2 1 " ] && ok \
        || { bad "cache ($way): the stopped run did not finish the points before the exit"; cat "$TMP/c.stop"; }
    # (mpirun reports some rank's status: a rank > 0 stopped inside the sweep says 70)
    { [ $rc = 9 ] || { [ $way = mpi ] && [ $rc != 0 ]; }; } && ok \
        || bad "cache ($way): the stopped run exited $rc"
    "${run[@]}" "$TMP/cache.mlp" "$TMP/c.cache" > "$TMP/c.out" 2> "$TMP/c.err"
    rc=$?
    [ $rc = 0 ] && ok || { bad "cache ($way): the second run exited $rc"; cat "$TMP/c.err"; }
    grep -v '^ran' "$TMP/c.out" > "$TMP/c.table"
    same "$TMP/nocache.table" "$TMP/c.table" "cache ($way): the table"
    [ "$(grep '^ran' "$TMP/c.out" | head -1)" = "ran 3 0" ] && ! grep -q '^ran [12] ' "$TMP/c.out" \
        && ok || { bad "cache ($way): points 1-2 ran again"; cat "$TMP/c.out"; }
done

echo "tests/par: $pass passed, $fail failed"
[ $fail = 0 ]
