#!/usr/bin/env bash
# tests/robust/run.sh MLP — what golden files cannot set up (issue 11):
# resource limits, special files as scripts and modules, a full stdout,
# bad environment variables. Each case runs a command and checks its exit
# status and a fragment of its stderr (and stdout where given).
# Exit status 1 on any failure.
set -u
MLP=${1:?usage: tests/robust/run.sh path/to/mlp}
MLP=$(cd "$(dirname "$MLP")" && pwd)/$(basename "$MLP")
cd "$(dirname "$0")/../.." || exit 2
TMP=$(mktemp -d /tmp/mlp-robust-test.XXXXXX)
trap 'umount "$TMP/full" 2>/dev/null; rm -rf "$TMP"' EXIT
fails=0 passes=0

# check NAME WANT_RC WANT_STDERR_FRAGMENT [WANT_STDOUT] -- run in $TMP/out, $TMP/err, $TMP/rc
check() {
    local name=$1 rc=$2 frag=$3 out=${4-}
    local got_rc
    got_rc=$(cat "$TMP/rc")
    if [ "$got_rc" != "$rc" ] || { [ -n "$frag" ] && ! grep -qF -- "$frag" "$TMP/err"; } ||
       { [ -n "$out" ] && [ "$(cat "$TMP/out")" != "$out" ]; }; then
        echo "FAIL $name: exit $got_rc (want $rc), stderr:"
        sed 's/^/    /' "$TMP/err" | head -20
        [ -n "$out" ] && { echo "  stdout (want '$out'):"; sed 's/^/    /' "$TMP/out" | head -5; }
        fails=$((fails + 1))
    else
        passes=$((passes + 1))
    fi
}
# run CMD... : stdout, stderr and status to $TMP/{out,err,rc}
run() { "$@" >"$TMP/out" 2>"$TMP/err"; echo $? >"$TMP/rc"; }
# limited KB CMD... : run under `ulimit -v KB` (ASan reserves terabytes of
# address space, so these cases are skipped in a sanitizer build)
limited() { local kb=$1; shift; (ulimit -v "$kb" && exec "$@") >"$TMP/out" 2>"$TMP/err"; echo $? >"$TMP/rc"; }
asan=0
if nm -an "$MLP" 2>/dev/null | grep -q __asan_init; then asan=1; fi
# what fontconfig keeps for the process (plots through cairo) is not mlp's
export LSAN_OPTIONS="${LSAN_OPTIONS:+$LSAN_OPTIONS:}print_suppressions=0:suppressions=$PWD/tests/lsan.supp"

# ---- out of memory: a located runtime error, never a signal ----
if [ $asan = 0 ]; then
    limited 1000000 "$MLP" -e 'let a = [0]*1e8'
    check "oom: [0]*1e8" 70 "<-e>:1:12: error: out of memory"
    limited 1000000 "$MLP" -e 'let a = list(range(1e8))'
    check "oom: list(range(1e8))" 70 "<-e>:1:13: error: out of memory"
    limited 1000000 "$MLP" -e $'let a = []\nwhile true { push(a, 1) }'
    check "oom: push loop" 70 "<-e>:2:18: error: out of memory"
    limited 1000000 "$MLP" -e $'let s = "abcdefgh"\nwhile true { s = s + s }'
    check "oom: string doubling" 70 "<-e>:2:20: error: out of memory"
    # memory exhausted by many small objects: the report still has room
    limited 1000000 "$MLP" -e $'let r = {}\nfor i in range(1e8) { r[str(i)] = [i, "x"] }'
    check "oom: a record of small lists" 70 "error: out of memory"
    limited 1000000 "$MLP" -e $'let a = []\nfor i in range(1e8) { push(a, {k: i}) }'
    check "oom: a list of small records" 70 "<-e>:2:"
    limited 600000 "$MLP" -e $'let a = list(range(3e7))\nlet s = str(a)'
    check "oom: str of a long list" 70 "<-e>:2:12: error: out of memory"
    # a sweep point that runs out of memory fails alone
    # (where the point's error goes and the final status are the sweep's
    # business: only that the point failed and the next one ran)
    limited 1000000 "$MLP" -e $'let t = sweep n in [10, 1e8, 20] {\n  report(len=len([0] * n))\n}\nprint("last", t.rows[2].len)'
    if [ "$(tail -n 1 "$TMP/out")" = "last 20" ] && cat "$TMP/out" "$TMP/err" | grep -q "out of memory" &&
       [ "$(cat "$TMP/rc")" -lt 128 ]; then
        passes=$((passes + 1))
    else
        echo "FAIL oom: in a sweep point: exit $(cat "$TMP/rc")"; cat "$TMP/out" "$TMP/err" | head; fails=$((fails + 1))
    fi
    # the REPL goes on after it
    printf 'let a = [0]*1e8\nlet b = [1, 2]\nb\n' >"$TMP/in"
    limited 1000000 "$MLP" --repl <"$TMP/in"
    check "oom: the REPL goes on" 70 "<repl>:1:12: error: out of memory" "[1, 2]"
fi
run "$MLP" -e 'let a = [0]*1e10'
check "list * n past the length field" 70 "error: list too long (10000000000 elements; a list holds at most 4294967295)"
# a single request larger than the machine's free memory is refused up
# front (not granted by overcommit and then killed): 64 GB, where less is free
avail=$(awk '/^MemAvailable:/ {print $2}' /proc/meminfo 2>/dev/null)
if [ $asan = 0 ] && [ -n "$avail" ] && [ "$avail" -lt 60000000 ]; then
    run "$MLP" -e 'let a = [0]*4e9'
    check "list * n larger than memory" 70 "<-e>:1:12: error: out of memory (asked for 64.0 GB)"
fi

# ---- out of memory in the front end (lexer, parser, tree): a located
# runtime error (70) too, never an abort (issue 11) ----
if [ $asan = 0 ]; then
    # a 6 MB list literal of 3,000,000 elements: its tree does not fit
    python3 -c "print('let a = [' + ','.join(['0'] * 3000000) + ']')" >"$TMP/biglist.mlp"
    limited 200000 "$MLP" "$TMP/biglist.mlp"
    check "oom: parsing a 6 MB list literal" 70 "biglist.mlp:1:"
    grep -q "error: out of memory" "$TMP/err" || { echo "FAIL oom: parsing: no 'out of memory'"; fails=$((fails + 1)); }
    rm -f "$TMP/biglist.mlp"
fi
# Every front-end allocation in turn made to fail (MLP_TEST_FRONT_OOM, see
# lang/syntax/ast.h): the Nth and all later ones (the last-resort unwinding)
# and the Nth alone (the reserve and retry). Each run either fails with
# "out of memory" and 70 or, once N is past the allocations there are,
# prints the right result. Allocations in the parse leak nothing when the
# retry succeeds (",1": checked under ASan); the last resort may lose what
# the parser's stack held, so leak checking is off for it.
oom_script='let x = [1, 2, "abc"]
model net() { dense(3, relu); dense(2, softmax) }
fn f(a, [b, c]) { return {k: [i for i in a if i > b]} }
let s = "a {x[0] + 1} b"  # a comment
print(x, s, f([1, 5], [2, 3]), -2 ** 2)'
oom_want='[1, 2, "abc"] a 2 b {k: [5]} -4'
for mode in "" ",1"; do
    failed=0 n=1 bad=0
    while [ $n -le 2000 ]; do
        if [ -z "$mode" ]; then leak=detect_leaks=0; else leak=detect_leaks=1; fi
        MLP_TEST_HOOKS=1 MLP_TEST_FRONT_OOM="$n$mode" ASAN_OPTIONS=$leak \
            "$MLP" -e "$oom_script" >"$TMP/out" 2>"$TMP/err"
        rc=$?
        if [ $rc = 0 ] && [ "$(cat "$TMP/out")" = "$oom_want" ]; then break; fi
        if [ $rc != 70 ] || ! grep -q "error: out of memory" "$TMP/err"; then
            echo "FAIL oom: front-end allocation $n$mode fails: exit $rc"; head -5 "$TMP/err"; bad=1; break
        fi
        failed=$((failed + 1)) n=$((n + 1))
    done
    if [ $bad = 0 ] && [ $failed -ge 100 ] && [ $n -le 2000 ]; then passes=$((passes + 1))
    elif [ $bad = 0 ]; then echo "FAIL oom: front-end sweep$mode: $failed failures, stopped at $n"; fails=$((fails + 1))
    else fails=$((fails + 1)); fi
done
# located where the scan stood
MLP_TEST_HOOKS=1 MLP_TEST_FRONT_OOM=5 ASAN_OPTIONS=detect_leaks=0 run "$MLP" -e 'let abc = [1, 2]'
check "oom: in the lexer, located" 70 "error: out of memory"
grep -q '^<-e>:1:[0-9]*: error: out of memory' "$TMP/err" || { echo "FAIL oom: in the lexer: not located"; fails=$((fails + 1)); }
# a module that runs out of memory while parsing: 70 (not a compile error)
printf 'let v = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13]\n' >"$TMP/oommod.mlp"
printf 'import "oommod"\nprint(oommod.v)\n' >"$TMP/oommain.mlp"
(cd "$TMP" && MLP_TEST_HOOKS=1 MLP_TEST_FRONT_OOM=5@oommod.mlp ASAN_OPTIONS=detect_leaks=0 \
    "$MLP" oommain.mlp >"$TMP/out" 2>"$TMP/err"; echo $? >"$TMP/rc")
check "oom: parsing a module" 70 'oommain.mlp:1:8: error: cannot import "oommod": out of memory'
# the REPL reports it and goes on with the next entry
printf 'let a = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]\nlet b = 2\nb\n' >"$TMP/in"
MLP_TEST_HOOKS=1 MLP_TEST_FRONT_OOM='20@<repl>' ASAN_OPTIONS=detect_leaks=0 run "$MLP" --repl <"$TMP/in"
check "oom: parsing in the REPL" 70 "<repl>:1:43: error: out of memory" 2

# ---- files that cannot be written: every writer exits 74 (I/O) with a
# located error, atomically (the old file is kept, no temporary is left) ----
cat >"$TMP/writes.mlp" <<'EOF'
let kind = args[0]
let path = args[1]
let r = sweep a in [1, 2] { report(x=a * 1.5, name="row {a} " * 200) }
if kind == "csv" or kind == "json" or kind == "html" { save(r, path) }
if kind == "text" { write_text(path, "hello " * 1000) }
model net() {
    dense(64, relu)
    dense(2, softmax)
}
let d = blobs(n=100, classes=2, seed=1)
if kind == "model" { let m = net(); fit(m, d, epochs=1, verbose=0); save_model(m, path) }
if kind == "plot" { let m = net(); let h = fit(m, d, epochs=2, verbose=0); plot(h, file=path) }
if kind == "ckpt" { let m = net(); fit(m, d, epochs=1, verbose=0, checkpoint=path) }
print("written")
EOF
writers="csv:out.csv json:out.json html:out.html text:out.txt model:out.safetensors
         plot:out.svg plot:out.png plot:out.pdf ckpt:out.ckpt"
# where the call is in writes.mlp
call_at() { case $1 in csv|json|html) echo 4:60 ;; text) echo 5:31 ;; model) echo 11:79 ;;
                       plot) echo 12:80 ;; ckpt) echo 13:39 ;; esac; }
# kept NAME FILE: FILE still holds "OLD" and nothing else is in its directory
kept() {
    if ! echo OLD | cmp -s - "$2" || [ "$(ls -A "$(dirname "$2")" | grep -vc '^fill$')" != 1 ]; then
        echo "FAIL $1: the old file is not intact or a temporary was left:"; ls -A "$(dirname "$2")"
        fails=$((fails + 1))
    else passes=$((passes + 1)); fi
}
for w in $writers; do
    kind=${w%%:*} f=${w#*:}
    at="writes.mlp:$(call_at "$kind"): error:"
    (cd "$TMP" && run "$MLP" writes.mlp "$kind" "nodir/$f")
    check "write $f into a missing directory" 74 "$at"
    grep -qF "nodir/$f: cannot create a temporary file beside it: No such file or directory" "$TMP/err" ||
        { echo "FAIL write $f into a missing directory: message"; fails=$((fails + 1)); }
    mkdir -p "$TMP/isdir/$f"
    (cd "$TMP" && run "$MLP" writes.mlp "$kind" "isdir/$f")
    check "write $f where a directory is" 74 "$at"
    grep -qF "isdir/$f is a directory" "$TMP/err" || { echo "FAIL write $f where a directory is: message"; fails=$((fails + 1)); }
    rm -rf "$TMP/isdir"
    # a write that fails half way (the file size limit, EFBIG: the same
    # path as a full disk): the old file stays whole
    mkdir -p "$TMP/lim" && echo OLD >"$TMP/lim/$f"
    (cd "$TMP" && trap '' XFSZ && ulimit -f 1 && run "$MLP" writes.mlp "$kind" "lim/$f")
    check "write $f past the file size limit" 74 "lim/$f: cannot write (the old file, if any, is kept): File too large"
    grep -qF "$at" "$TMP/err" || { echo "FAIL write $f past the file size limit: not located"; fails=$((fails + 1)); }
    kept "write $f past the file size limit" "$TMP/lim/$f"
    rm -rf "$TMP/lim"
done
# a FIFO or device is not replaced by a file (as root, the rename could
# put one in place of /dev/full: tried on a FIFO of our own, not on /dev)
mkfifo "$TMP/fifo"
(cd "$TMP" && run "$MLP" writes.mlp text fifo)
check "write_text to a FIFO" 74 "writes.mlp:5:31: error: write_text: fifo is not a regular file"
[ -p "$TMP/fifo" ] || { echo "FAIL write_text to a FIFO: replaced it"; fails=$((fails + 1)); }
rm -f "$TMP/fifo"
# a full disk, where a small file system can be mounted (root, not in
# every container): ENOSPC for every writer, the old file kept
mkdir -p "$TMP/full"
if mount -t tmpfs -o size=64k tmpfs "$TMP/full" 2>/dev/null; then
    for w in $writers; do
        kind=${w%%:*} f=${w#*:}
        echo OLD >"$TMP/full/$f"
        dd if=/dev/zero of="$TMP/full/fill" bs=1k 2>/dev/null
        (cd "$TMP" && run "$MLP" writes.mlp "$kind" "full/$f")
        check "write $f to a full disk" 74 "full/$f: cannot write (the old file, if any, is kept): No space left on device"
        kept "write $f to a full disk" "$TMP/full/$f"
        rm -f "$TMP/full/$f" "$TMP/full/fill"
    done
    umount "$TMP/full"
fi
# and each writer replaces the file when it can
for w in $writers; do
    kind=${w%%:*} f=${w#*:}
    mkdir -p "$TMP/ok" && echo OLD >"$TMP/ok/$f"
    (cd "$TMP" && run "$MLP" writes.mlp "$kind" "ok/$f")
    check "write $f" 0 "" written
    if echo OLD | cmp -s - "$TMP/ok/$f" || [ "$(ls -A "$TMP/ok")" != "$f" ]; then
        echo "FAIL write $f: not replaced, or a temporary left"; fails=$((fails + 1)); fi
    rm -rf "$TMP/ok"
done

# ---- modules and scripts that are not regular files ----
ln -s /dev/zero "$TMP/zero.mlp"
run "$MLP" -e "import \"$TMP/zero\""
check "import a symlink to /dev/zero" 70 "cannot read $TMP/zero.mlp: not a regular file"
mkdir "$TMP/dir.mlp"
run "$MLP" -e "import \"$TMP/dir\""
check "import a directory" 70 "cannot read $TMP/dir.mlp: is a directory"

# ---- a directory as the script: an I/O error, not an empty script ----
run "$MLP" "$TMP"
check "directory as the script" 74 "mlp: cannot read '$TMP': Is a directory"
run "$MLP" - <"$TMP"
check "directory on stdin (-)" 74 "mlp: cannot read '<stdin>': Is a directory"
run "$MLP" <"$TMP"
check "directory on stdin" 74 "mlp: cannot read '<stdin>': Is a directory"
run "$MLP" --disasm "$TMP"
check "directory to --disasm" 74 "mlp: cannot read '$TMP': Is a directory"
# a device is not a script (it would be read until memory runs out)
run "$MLP" "$TMP/zero.mlp"
check "a symlink to /dev/zero as the script" 74 "mlp: cannot read '$TMP/zero.mlp': a device is not a script"
run "$MLP" - </dev/zero
check "/dev/zero on stdin" 74 "mlp: cannot read '<stdin>': a device is not a script"
# stdout closed
"$MLP" -e 'print(1)' >&- 2>"$TMP/err"; echo $? >"$TMP/rc"
check "stdout closed" 74 "mlp: cannot write standard output: Bad file descriptor"
# a pipe is a fine script
run "$MLP" <(echo 'print(5)')
check "script from a pipe" 0 "" 5

# ---- standard output that cannot be written: 74, with a message ----
if [ -w /dev/full ]; then
    "$MLP" -e 'print(1)' >/dev/full 2>"$TMP/err"; echo $? >"$TMP/rc"
    check "print to /dev/full" 74 "mlp: cannot write standard output: No space left on device"
    "$MLP" -e $'for i in range(100000) { print(i) }' >/dev/full 2>"$TMP/err"; echo $? >"$TMP/rc"
    check "much output to /dev/full" 74 "mlp: cannot write standard output"
    "$MLP" -e 'print(1)
error("boom")' >/dev/full 2>"$TMP/err"; echo $? >"$TMP/rc"
    check "a runtime error keeps its status" 70 "mlp: cannot write standard output"
    echo '1 + 2' | "$MLP" --repl >/dev/full 2>"$TMP/err"; echo $? >"$TMP/rc"
    check "--repl to /dev/full" 74 "mlp: cannot write standard output"
fi

# ---- settings from the environment: a bad value is a usage error ----
for v in abc 0 -2 1.5 ""x; do
    MLP_THREADS=$v run "$MLP" -e 'print(1)'
    check "MLP_THREADS=$v" 64 "mlp: MLP_THREADS must be a positive whole number of threads, got '$v'"
done
MLP_THREADS=abc run "$MLP" --repl </dev/null
check "MLP_THREADS=abc (REPL)" 64 "MLP_THREADS must be"
MLP_SIMD=sse run "$MLP" -e 'print(1)'
check "MLP_SIMD=sse" 64 "mlp: MLP_SIMD must be one of scalar, avx2, avx512, neon, got 'sse'"
MLP_SIMD=scalar run "$MLP" -e 'print(1)'
check "MLP_SIMD=scalar" 0 "" 1
# threads are capped at 4 per core this process may use (and 256)
cores=$(nproc)
cap=$((cores * 4 > 256 ? 256 : cores * 4))
MLP_THREADS=100000 run "$MLP" -e 'print(threads())'
check "MLP_THREADS=100000 is capped" 0 "" "$cap"
MLP_THREADS=1 run "$MLP" -e 'print(threads())'
check "MLP_THREADS=1" 0 "" 1

if [ $fails -ne 0 ]; then
    echo "tests/robust: $passes passed, $fails failed"
    exit 1
fi
echo "tests/robust: $passes passed"
