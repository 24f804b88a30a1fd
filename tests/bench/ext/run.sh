#!/bin/bash
# User-written Adam vs built-in Adam on the study network (MNIST), one
# epoch each, twice, in the same process: the ratio is what counts.
set -e
cd "$(dirname "$0")/../../.."
export MLP_DATA_PATH="${MLP_DATA_PATH:-$(cd ../shared/data 2>/dev/null && pwd)}"
"${MLP:-build/mlp}" tests/bench/ext/adam.mlp
# C activation + C optimizer kernels (the FFI plugin) vs the built-ins
"${MLP:-build/mlp}" tests/bench/ext/c_kernels.mlp
