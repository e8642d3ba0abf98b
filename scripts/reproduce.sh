#!/usr/bin/env bash
# The evidence behind gruq's claims (issue 21): on four tasks, NSGA-II against random search with the
# same budget, over several seeds, and QAT against post-training quantization; then docs/results.md from
# the files it wrote (scripts/results_report.py).
#
#   scripts/reproduce.sh            # everything not done yet; prints what it runs and how long each took
#
# Per task, seed and algorithm: the default search (population 24, 20 generations, multi-fidelity) with
# `--seed S --algorithm nsga2|random`; its front and its homogeneous baselines go to
# docs/results/<task>-<algorithm>-s<seed>-front.csv / -baselines.csv, one line per run to
# docs/results/runs.csv (seconds, evaluations, commit: evaluations count the whole archive, seconds only
# the last segment of a resumed search, commit is the checkout's HEAD unless GRUQ_REPRODUCE_COMMIT names
# the commit the binary in GRUQ_BUILD_DIR was built from). Per task: `gruq-cli eval --bits B` with no QAT
# (calibration only), the search's QAT budget (4096 sequences) and one whole epoch, at 3, 4 and 8 bits ->
# docs/results/<task>-qat-vs-ptq.csv; the two QAT budgets again with the calibrated activation ranges kept
# (--qat-range-tracking 0) -> docs/results/<task>-qat-range-tracking.csv.
#
# Tasks (GRUQ_REPRODUCE_TASKS, default all four): row = row-wise Fashion-MNIST (H=64, the default search);
# pixel = pixel-wise Fashion-MNIST scaled to stay within hours on 2 cores (H=32, 12,000 training images of
# which 10% validate, 2,000 test images); kws4 / kws10 = the generated speech set (made first when missing:
# gruq-cli data generate-speech). Seeds: GRUQ_REPRODUCE_SEEDS (default "1 2 3").
#
# Resumable: a run whose CSVs exist is skipped; an interrupted search resumes from its archive
# (GRUQ_REPRODUCE_WORK, default ~/.cache/gruq/reproduce), so the script can be stopped and started again.
# Running time on a 2-core VM: about 2 minutes per row-wise search, 2-4 per speech search, 15-60 per scaled
# pixel-wise search (846-5,857 s in docs/results/runs.csv, some of them beside other work), plus the float
# models and the speech set once (see the time lines it prints and docs/results/runs.csv).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${GRUQ_BUILD_DIR:-build}
CLI="./$BUILD_DIR/app/gruq-cli"
TASKS=${GRUQ_REPRODUCE_TASKS:-row,pixel,kws4,kws10}
SEEDS=${GRUQ_REPRODUCE_SEEDS:-1 2 3}
WORK=${GRUQ_REPRODUCE_WORK:-${GRUQ_CACHE_DIR:-$HOME/.cache/gruq}/reproduce}
RESULTS=docs/results
mkdir -p "$WORK" "$RESULTS"
[ -x "$CLI" ] || { echo "reproduce.sh: $CLI missing: build first (scripts/test.sh or cmake --build $BUILD_DIR)" >&2; exit 1; }
commit=${GRUQ_REPRODUCE_COMMIT:-$(git rev-parse --short HEAD 2>/dev/null || echo unknown)}
[ -f "$RESULTS/runs.csv" ] || echo "task,algorithm,seed,seconds,evaluations,stopped_at_rung,hypervolume,commit" >"$RESULTS/runs.csv"
script_start=$SECONDS

task_args() {  # the data and model options of a task
  case "$1" in
    row) echo "--task smnist-row" ;;
    pixel) echo "--task smnist-pixel --hidden 32 --max-train 12000 --max-test 2000" ;;
    kws4) echo "--task kws4" ;;
    kws10) echo "--task kws10" ;;
    *) echo "reproduce.sh: unknown task '$1' (row, pixel, kws4, kws10)" >&2; exit 1 ;;
  esac
}

if [[ ",$TASKS," == *,kws4,* || ",$TASKS," == *,kws10,* ]] && [ ! -d "$HOME/.local/share/gruq/speech-commands-espeak" ]; then
  echo "== generating the speech set (gruq-cli data generate-speech)"
  t=$SECONDS
  "$CLI" data generate-speech
  echo "   speech set: $((SECONDS - t)) s"
fi

run_search() {  # task algorithm seed
  local task=$1 algorithm=$2 seed=$3 name archive t log computed stopped hv
  name="$task-$algorithm-s$seed"
  archive="$WORK/$name.gruq"
  [ -f "$RESULTS/$name-front.csv" ] && { echo "   $name: done before"; return; }
  log="$WORK/$name.log"
  t=$SECONDS
  if [ -f "$archive" ]; then
    echo "== $name: resuming $archive"
    "$CLI" search --resume "$archive" >"$log" 2>&1 || { tail -n 5 "$log"; exit 1; }
  else
    echo "== $name: gruq-cli search $(task_args "$task") --seed $seed --algorithm $algorithm"
    # shellcheck disable=SC2046
    "$CLI" search $(task_args "$task") --seed "$seed" --algorithm "$algorithm" --out "$archive" >"$log" 2>&1 ||
      { tail -n 5 "$log"; exit 1; }
  fi
  hv=$(tr '\r' '\n' <"$log" | sed -n 's/^search finished.*hypervolume \([0-9.]*\).*/\1/p' | tail -n 1)
  "$CLI" front "$archive" --csv >"$RESULTS/$name-front.csv.tmp"
  # Every evaluation in the archive, read once: the baselines, and the counts (from the archive, not the log:
  # a resumed search's log holds only its last segment).
  all=$("$CLI" front "$archive" --all --csv)
  awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "baseline") b = i; print; next } $b == 1 { print }' \
    <<<"$all" >"$RESULTS/$name-baselines.csv"
  read -r computed stopped < <(awk -F, 'NR == 1 { for (i = 1; i <= NF; i++) if ($i == "fidelity") f = i; next }
                                        { n++ } f && $f < 1 { s++ } END { print n + 0, s + 0 }' <<<"$all")
  echo "$task,$algorithm,$seed,$((SECONDS - t)),$computed,$stopped,$hv,$commit" >>"$RESULTS/runs.csv"
  mv "$RESULTS/$name-front.csv.tmp" "$RESULTS/$name-front.csv"  # last: marks the run done
  echo "   $name: $((SECONDS - t)) s, $computed evaluations ($stopped stopped at the rung), hypervolume $hv"
}

# One homogeneous evaluation as a CSV row: bits, method, then the accuracies. Arguments: task bits method
# then gruq-cli eval options.
eval_row() {
  local task=$1 bits=$2 method=$3
  shift 3
  # shellcheck disable=SC2046
  "$CLI" eval $(task_args "$task") --bits "$bits" "$@" --json 2>/dev/null |
    python3 -c 'import json, sys; j = json.load(sys.stdin); print(",".join([sys.argv[1], sys.argv[2]] + ["%.6f" % j[k] for k in ("validation_accuracy", "test_accuracy", "fake_quant_test_accuracy")]))' "$bits" "$method"
}

# Homogeneous evaluations at 3, 4 and 8 bits -> docs/results/<task>-<name>.csv. Arguments: task, name, what
# it compares (for the log), then one method=options pair per evaluation and bit width.
eval_table() {
  local task=$1 out="$RESULTS/$1-$2.csv" what=$3 bits spec
  shift 3
  [ -f "$out" ] && { echo "   $task $what: done before"; return; }
  echo "== $task: $what, at 3, 4 and 8 bits"
  echo "bits,method,validation_accuracy,test_accuracy,fake_quant_test_accuracy" >"$out.tmp"
  for bits in 3 4 8; do
    for spec in "$@"; do
      # shellcheck disable=SC2086
      eval_row "$task" "$bits" "${spec%%=*}" ${spec#*=} >>"$out.tmp"
    done
  done
  mv "$out.tmp" "$out"
}

IFS=, read -r -a task_list <<<"$TASKS"
for task in "${task_list[@]}"; do
  task_args "$task" >/dev/null
  for seed in $SEEDS; do
    for algorithm in nsga2 random; do run_search "$task" "$algorithm" "$seed"; done
  done
  # QAT budgets: the search's per genome (4096 sequences, defaultSearchQat) and one epoch over the whole split.
  eval_table "$task" qat-vs-ptq "PTQ (calibration only) against QAT with the search's budget and with one epoch" \
    "ptq=--qat-epochs 0" "qat=--qat-samples 4096" "qat-epoch=--qat-samples 0"
  # The same QAT with the calibrated activation ranges kept throughout instead of following the training
  # batches over the first half of the steps (the default): which one QAT needs.
  eval_table "$task" qat-range-tracking "QAT with the calibrated ranges kept, search budget and one epoch" \
    "qat-kept-ranges=--qat-samples 4096 --qat-range-tracking 0" \
    "qat-epoch-kept-ranges=--qat-samples 0 --qat-range-tracking 0"
done
python3 scripts/results_report.py "$RESULTS" >docs/results.md
echo "== docs/results.md written; this invocation took $((SECONDS - script_start)) s (runs.csv has each run's time)"
