# Sourced by every tests/bench/*/run.sh: what a quick smoke run changes.
#
# BENCH_QUICK=1 (make bench-quick, run by make test): every bench once, at
# tiny sizes, its C driver built with UBSan, so CI catches a bench that can
# no longer run (undefined behaviour once made GCC compile bench_gemm.c's
# operand set-up into an infinite loop). Its figures mean nothing.
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  BENCH_CFLAGS="-O1 -g -fsanitize=undefined -fno-sanitize-recover=undefined"
  export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1
else
  BENCH_CFLAGS="-O2"
fi
# quick VAR VALUE: in a quick run, VAR defaults to VALUE instead
quick() { if [ "${BENCH_QUICK:-0}" = 1 ]; then eval "$1=\${$1:-$2}"; fi; }

# What the runtime objects a bench driver links need (the Makefile's list):
# the drivers link every runtime object (cairo, libcurl and libcrypto are
# opened when first used: runtime/core/dynlib.h).
RT_LIBS=${RT_LIBS:-"-ljansson -lz -lm"}

# rt_objs OUT: the runtime's objects in build dir OUT, one per source file
# under runtime/ (not a glob of OUT: an object left there by an older tree
# would be linked in too and clash). Run from the project's root.
rt_objs() { local c; for c in runtime/*/*.c; do echo "$1/obj/${c%.c}.o"; done; }
