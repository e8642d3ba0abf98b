#!/usr/bin/env bash
# Builds and runs the benchmarks; each prints its figures (medians and ratios measured side by side).
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
bash scripts/build.sh
echo "== search worker scaling (bench_search_workers)"
./build/bench/bench_search_workers "$@"
