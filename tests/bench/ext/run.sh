#!/bin/bash
# User-written Adam vs built-in Adam on the study network (MNIST), one
# epoch each, twice, in the same process: the ratio is what counts
# (issue 18: each within 2x of the built-ins). BENCH_SUMMARY: a file the
# two ratios are appended to for make bench's summary.
set -e
cd "$(dirname "$0")/../../.."
export MLP_DATA_PATH="${MLP_DATA_PATH:-$(cd ../shared/data 2>/dev/null && pwd)}"
SUMMARY=${BENCH_SUMMARY:-/dev/null}
for case in "adam scratch.Adam vs built-in Adam" \
            "c_kernels C relu + Adam (ffi) vs built-in"; do
    script=${case%% *}
    out=$("${MLP:-build/mlp}" "tests/bench/ext/$script.mlp")
    echo "$out"
    ratio=$(sed -n 's/.*ratio \([0-9.]*\)$/\1/p' <<<"$out")
    printf '%-37s %5.2fx  (target <= 2x)\n' "${case#* }" "$ratio" >> "$SUMMARY"
done
