#!/usr/bin/env bash
# Builds and runs the benchmarks (issue #7); they print figures, never assert timings. Ends with one
# summary table of medians and of ratios of figures measured side by side in this run. About 10-12
# minutes on 2 cores (4-5 of them the two default searches).
#   1. kernels and peer, in GRUQ_BENCH_REPETITIONS rounds (5), alternating which goes first, so that
#      gruq and the peer see the same machine conditions:
#      - bench_kernels (Google Benchmark, one repetition per round, benchmarks in random order): QAT step
#        fused / unfused, float nn::GRU step, integer engine, float forward; at the 2-layer row-wise shape
#        row2 (issue #18) the two training steps only
#      - bench/peer_qat_step.py: the same QAT step in eager PyTorch from Python (needs python3-torch, run
#        with /usr/bin/python3; skipped with a note when missing); checked first on two small cases, one
#        layer and two stacked layers, to compute gruq's step (logits, loss, ranges, gradients)
#   2. bench_search_workers: the search's worker-pool scaling and seconds per genome evaluation
#   3. the end-to-end default search (gruq-cli search --task smnist-row, multi-fidelity), about 2 minutes,
#      the same search at full fidelity (--full-fidelity), about 2.5 minutes, their time ratio and
#      hypervolume difference; with GRUQ_BENCH_PIXEL_SEARCH=1 also the pixel-wise default search (hours);
#      then bench_archived_model on the default search's archive: clicks on front points, archive size
# Arguments are passed to bench_search_workers (default: --genomes 8 --repeats 1).
# Environment: GRUQ_BUILD_DIR (build), GRUQ_BENCH_REPETITIONS (5 rounds), GRUQ_BENCH_MIN_TIME (0.3 s per
# figure and round), GRUQ_BENCH_LONG_REPETITIONS (3: rounds that include the ~20 s pixel-wise unfused
# step), GRUQ_BENCH_SHAPES (row,pixel,row2), GRUQ_BENCH_SKIP (comma list of kernels,peer,workers,search),
# GRUQ_BENCH_OUT (results directory, default a fresh temporary one; every raw output is kept there).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${GRUQ_BUILD_DIR:-build}
JOBS=${GRUQ_JOBS:-$(nproc)}
REPS=${GRUQ_BENCH_REPETITIONS:-5}
MIN_TIME=${GRUQ_BENCH_MIN_TIME:-0.3}
LONG_REPS=${GRUQ_BENCH_LONG_REPETITIONS:-3}
SHAPES=${GRUQ_BENCH_SHAPES:-row,pixel,row2}
SKIP=",${GRUQ_BENCH_SKIP:-},"
OUT=${GRUQ_BENCH_OUT:-$(mktemp -d -t gruq-bench.XXXXXX)}
mkdir -p "$OUT"
PY=/usr/bin/python3  # Debian's python3-torch is installed for the system python, not a pyenv one
WORKER_ARGS=("$@")
[ ${#WORKER_ARGS[@]} -gt 0 ] || WORKER_ARGS=(--genomes 8 --repeats 1)
KERNELS="./$BUILD_DIR/bench/bench_kernels"

bash scripts/setup.sh
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
# Regenerates first if bench/CMakeLists.txt changed, so that the target check below is current.
cmake --build "$BUILD_DIR" -j "$JOBS" --target bench_search_workers bench_archived_model gruq-cli
if grep -q "^build bench/bench_kernels:" "$BUILD_DIR/build.ninja"; then
  cmake --build "$BUILD_DIR" -j "$JOBS" --target bench_kernels
else
  echo "bench.sh: bench_kernels is not configured (Google Benchmark missing: apt-get install libbenchmark-dev)" >&2
  exit 1
fi

start=$SECONDS
load_before=$(cut -d' ' -f1-3 /proc/loadavg)
source_state="$(git rev-parse --short HEAD 2>/dev/null || echo unknown)"
dirty=$(git status --porcelain -- core bench 2>/dev/null | wc -l)
[ "$dirty" -eq 0 ] || source_state+=" + $dirty uncommitted file(s) in core/ bench/"
echo "== results in $OUT; source $source_state"
echo "== $(nproc) cores,$(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2); load average $load_before"

run_peer=0
if [[ $SKIP != *,peer,* ]]; then
  if "$PY" -c "import torch" 2>/dev/null; then
    run_peer=1
    echo "== peer check: bench/peer_qat_step.py against gruq's step on two small cases (1 and 2 layers)"
    "$KERNELS" --dump-peer-check "$OUT/peer_check_case.json"
    OPENBLAS_NUM_THREADS=1 "$PY" bench/peer_qat_step.py --check "$OUT/peer_check_case.json" >"$OUT/peer_check.json"
  else
    echo "== peer skipped: $PY cannot import torch (apt-get install python3-torch)"
  fi
fi

run_kernels() {  # round number
  local extra=()
  [ "$1" -le "$LONG_REPS" ] || extra+=(--benchmark_filter=-qat_step/pixel/unfused)
  local t=$SECONDS
  "$KERNELS" --shapes "$SHAPES" --long-repetitions 1 --benchmark_repetitions=1 \
    --benchmark_enable_random_interleaving=true --benchmark_min_time="$MIN_TIME" "${extra[@]}" \
    --benchmark_out="$OUT/kernels-$1.json" --benchmark_out_format=json >"$OUT/kernels-$1.txt" 2>&1
  echo "   round $1/$REPS: bench_kernels $((SECONDS - t)) s (table: $OUT/kernels-$1.txt)"
}
run_peer_round() {
  local t=$SECONDS
  OPENBLAS_NUM_THREADS=1 "$PY" bench/peer_qat_step.py --repetitions 1 --min-time "$MIN_TIME" --shapes "$SHAPES" \
    >"$OUT/peer-$1.json" 2>"$OUT/peer-$1.log"
  echo "   round $1/$REPS: peer $((SECONDS - t)) s ($(tr '\n' ';' <"$OUT/peer-$1.log"))"
}

if [[ $SKIP != *,kernels,* || $run_peer == 1 ]]; then
  echo "== kernels and peer: $REPS rounds (the pixel-wise unfused QAT step in the first $LONG_REPS)"
  for r in $(seq 1 "$REPS"); do
    if (( r % 2 )); then
      [[ $SKIP == *,kernels,* ]] || run_kernels "$r"
      [ $run_peer == 0 ] || run_peer_round "$r"
    else
      [ $run_peer == 0 ] || run_peer_round "$r"
      [[ $SKIP == *,kernels,* ]] || run_kernels "$r"
    fi
    echo "   ($((SECONDS - start)) s so far, load average $(cut -d' ' -f1-3 /proc/loadavg))"
  done
fi

if [[ $SKIP != *,workers,* ]]; then
  echo "== search worker scaling (bench_search_workers ${WORKER_ARGS[*]})"
  "./$BUILD_DIR/bench/bench_search_workers" "${WORKER_ARGS[@]}" | tee "$OUT/workers.txt"
  echo "   ($((SECONDS - start)) s so far)"
fi

# One end-to-end search, timed from process start (data, float model, baselines, 20 generations, the final
# test pass): appends its line to $OUT/search.txt. A float model not yet in the cache is trained inside this
# time; the line says which. Arguments: name, then gruq-cli search arguments.
run_search() {
  local name=$1 t0 t1 computed hv stopped float_model
  shift
  echo "== $name search (gruq-cli search $*)"
  t0=$(date +%s.%N)
  "./$BUILD_DIR/app/gruq-cli" search "$@" --out "$OUT/$name.gruq" >"$OUT/$name.log" 2>&1 ||
    { echo "$name search failed:"; tail -n 5 "$OUT/$name.log"; exit 1; }
  t1=$(date +%s.%N)
  computed=$(tr '\r' '\n' <"$OUT/$name.log" | sed -n 's/.* \([0-9]*\) evaluations computed.*/\1/p' | tail -n 1)
  hv=$(tr '\r' '\n' <"$OUT/$name.log" | sed -n 's/^search finished.*hypervolume \([0-9.]*\).*/\1/p' | tail -n 1)
  stopped=$("./$BUILD_DIR/app/gruq-cli" front "$OUT/$name.gruq" --all --csv |
    awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "fidelity") c = i; next } c && $c < 1 { n++ } END { print n + 0 }')
  float_model=$(grep -q "^float model.*(cached)" "$OUT/$name.log" && echo "from the cache" || echo "trained in this run")
  awk -v n="$name" -v a="$t0" -v b="$t1" -v c="$computed" -v h="$hv" -v st="$stopped" -v f="$float_model" -v w="$(nproc)" \
    'BEGIN { s = b - a; printf "%s: %d min %02d s (%.1f s) wall on %d cores, %d evaluations computed (%d stopped at the rung), final hypervolume %s, float model %s\n", n, int(s / 60), int(s) % 60, s, w, c, st, h, f }' |
    tee -a "$OUT/search.txt"
}

if [[ $SKIP != *,search,* ]]; then
  # The default search (multi-fidelity) and the same search with every genome trained in full, same seed,
  # back to back; then the comparison: time ratio and hypervolume difference.
  run_search default-search --task smnist-row
  run_search full-fidelity-search --task smnist-row --full-fidelity
  awk '/^default-search:/ { t1 = $0; sub(/ s\) wall.*/, "", t1); sub(/.*\(/, "", t1); h1 = $0; sub(/.*hypervolume /, "", h1); sub(/,.*/, "", h1) }
       /^full-fidelity-search:/ { t2 = $0; sub(/ s\) wall.*/, "", t2); sub(/.*\(/, "", t2); h2 = $0; sub(/.*hypervolume /, "", h2); sub(/,.*/, "", h2) }
       END { if (t1 && t2) printf "multi-fidelity vs full fidelity (same seed): %.2fx the time (%.0f%% less), hypervolume %+.2f%%\n", t1 / t2, 100 * (1 - t1 / t2), 100 * (h1 / h2 - 1) }' \
    "$OUT/search.txt" | tee -a "$OUT/search.txt"
  # The pixel-wise default search takes hours on 2 cores (its float model alone, when not cached): only on request.
  if [ "${GRUQ_BENCH_PIXEL_SEARCH:-0}" = 1 ]; then run_search pixel-search --task smnist-pixel; fi
  # The default search's archive: clicking front points (stored models, no QAT) and what the stored models cost.
  "./$BUILD_DIR/bench/bench_archived_model" "$OUT/default-search.gruq" | tee "$OUT/archived-model.txt"
  echo "   ($((SECONDS - start)) s so far)"
fi

load_after=$(cut -d' ' -f1-3 /proc/loadavg)
echo
echo "== summary ($((SECONDS - start)) s of benchmarks; raw outputs in $OUT)"
shopt -s nullglob
args=(--load-before "$load_before" --load-after "$load_after" --source "$source_state" --details)
kernel_files=("$OUT"/kernels-*.json)
peer_files=("$OUT"/peer-*.json)
[ ${#kernel_files[@]} -eq 0 ] || args+=(--kernels "${kernel_files[@]}")
[ ${#peer_files[@]} -eq 0 ] || args+=(--peer "${peer_files[@]}")
[ ! -f "$OUT/peer_check.json" ] || args+=(--peer-check "$OUT/peer_check.json")
[ ! -f "$OUT/workers.txt" ] || args+=(--workers "$OUT/workers.txt")
[ ! -f "$OUT/search.txt" ] || args+=(--search "$OUT/search.txt")
"$PY" bench/summarize.py "${args[@]}" | tee "$OUT/summary.txt"
