#!/usr/bin/env bash
# Evaluations per minute of the same search run three ways on this machine, side by side:
#   1 process x 1 worker thread, 1 process x 2 worker threads, and mpirun -np 3 (rank 0 searches, 2
#   worker ranks evaluate, 1 torch thread each). Also prints rank 0's time in MPI communication.
# The search: Fashion-MNIST row-wise (12k training images), H=64, the default QAT budget (4096
# sequences per genome), population 8, 2 generations, no baselines.
# The float model is trained once first (cached), so every figure is genome evaluations only.
#     scripts/bench_mpi.sh            GRUQ_BUILD_DIR (build), GRUQ_BENCH_MPI_GENERATIONS (2)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${GRUQ_BUILD_DIR:-build}
GENERATIONS=${GRUQ_BENCH_MPI_GENERATIONS:-2}
CLI="$PWD/$BUILD_DIR/app/gruq-cli"
OUT=$(mktemp -d -t gruq-bench-mpi.XXXXXX)
export GRUQ_CACHE_DIR="$OUT/cache"
export OMPI_MCA_btl_vader_single_copy_mechanism=none  # containers forbid ptrace-based copies
cmake --build "$BUILD_DIR" --target gruq-cli >/dev/null

BASE=(search --task smnist-row --max-train 12000 --max-test 2000 --hidden 64 --float-epochs 2
      --qat-samples 4096 --no-baselines --no-refine --seed 3)
ARGS=("${BASE[@]}" --population 8 --generations "$GENERATIONS")

echo "== $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); load average $(cut -d' ' -f1-3 /proc/loadavg)"
echo "== float model (cached for the runs below)"
"$CLI" "${BASE[@]}" --population 8 --generations 1 --out "$OUT/warm.gruq" >"$OUT/warm.log" 2>&1 ||
  { echo "warm-up search failed:"; tail -n 5 "$OUT/warm.log"; exit 1; }

run() { # name, command...
  local name=$1; shift
  local start end log="$OUT/$name.log"
  start=$(date +%s.%N)
  "$@" >"$log" 2>&1
  end=$(date +%s.%N)
  local computed comm hv
  computed=$(tr '\r' '\n' <"$log" | sed -n 's/.* \([0-9]*\) evaluations computed.*/\1/p' | tail -n 1)
  comm=$(sed -n 's/.*rank 0 spent \([0-9.]*\) s in MPI communication.*/\1/p' "$log" | tail -n 1)
  hv=$(tr '\r' '\n' <"$log" | sed -n 's/.*evaluations computed.*hypervolume \([0-9.]*\).*/\1/p' | tail -n 1)
  # Wall time from process start (start-up, data, float model from the cache, and for MPI the ranks'
  # start and data loading); the same hypervolume in every line shows the same search was run.
  awk -v n="$name" -v c="$computed" -v a="$start" -v b="$end" -v m="${comm:--}" -v h="$hv" \
    'BEGIN { s = b - a; printf "%-28s %4d evals %7.1f s wall %7.2f evals/min  hypervolume %s  MPI comm on rank 0: %s s\n", n, c, s, 60 * c / s, h, m }'
}

run "1 process, 1 worker" "$CLI" "${ARGS[@]}" --workers 1 --threads-per-worker 1 --out "$OUT/w1.gruq"
run "1 process, 2 workers" "$CLI" "${ARGS[@]}" --workers 2 --threads-per-worker 1 --out "$OUT/w2.gruq"
run "mpirun -np 3 (2 workers)" mpirun --allow-run-as-root --oversubscribe -np 3 "$CLI" "${ARGS[@]}" \
  --threads-per-worker 1 --mpi --out "$OUT/mpi.gruq"
echo "== logs in $OUT"
