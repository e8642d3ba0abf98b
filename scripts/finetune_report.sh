#!/usr/bin/env bash
# Fine-tuning measured on the default task (issue 19), written to docs/fine-tune.md:
#   1. the default search (gruq-cli search --task smnist-row: population 24, 20 generations; about 4
#      minutes on 2 cores), unless an existing archive is given;
#   2. bench_archived_model on it: clicks on front points (stored models) and the archive's size with
#      and without its stored models;
#   3. gruq-cli finetune (default settings: at most 10 epochs, patience 3) of the front points nearest
#      50%, 66% and 75% of the 8-bit model's size, each timed;
#   4. docs/fine-tune.md: accuracy before / after, epochs and time per point, the archive sizes, the
#      commit and this command. Every number in it is read from the outputs kept in the results folder.
#
#     scripts/finetune_report.sh [ARCHIVE.gruq]      (about 8 minutes on 2 cores with the search)
# Environment: GRUQ_BUILD_DIR (build), GRUQ_REPORT_OUT (results folder, default a fresh temporary one),
# GRUQ_REPORT_DOC (docs/fine-tune.md).
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${GRUQ_BUILD_DIR:-build}
OUT=${GRUQ_REPORT_OUT:-$(mktemp -d -t gruq-finetune.XXXXXX)}
DOC=${GRUQ_REPORT_DOC:-docs/fine-tune.md}
mkdir -p "$OUT"
CLI="./$BUILD_DIR/app/gruq-cli"
start=$SECONDS

bash scripts/setup.sh
if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$BUILD_DIR" --target gruq-cli bench_archived_model

if [ $# -ge 1 ]; then
  cp "$1" "$OUT/default-search.gruq"
  echo "== archive $1 (copied to $OUT: the fine-tunes are stored in the copy)"
  search_note="the archive given to the script ($1)"
else
  echo "== default search (gruq-cli search --task smnist-row)"
  "$CLI" search --task smnist-row --out "$OUT/default-search.gruq" >"$OUT/search.log" 2>&1 ||
    { echo "default search failed:"; tail -n 5 "$OUT/search.log"; exit 1; }
  search_note="a default search run by the script"
fi
ARCHIVE="$OUT/default-search.gruq"
"./$BUILD_DIR/bench/bench_archived_model" "$ARCHIVE" | tee "$OUT/archived-model.txt"

# The three front points nearest 50%, 66% and 75% of the 8-bit size (distinct points).
"$CLI" front "$ARCHIVE" --json >"$OUT/front.json"
picks=$(python3 - "$OUT/front.json" <<'PY'
import json, sys
front = [p for p in json.load(open(sys.argv[1])) if not p["baseline"]]
chosen = []
for target in (0.50, 0.66, 0.75):
    left = [p for p in front if p["id"] not in [c[1] for c in chosen]]
    best = min(left, key=lambda p: abs(p["size_fraction"] - target))
    chosen.append((target, best["id"]))
print(" ".join(f"{t}:{i}" for t, i in chosen))
PY
)
for pick in $picks; do
  target=${pick%%:*}
  id=${pick##*:}
  echo "== fine-tune #$id (nearest $target of the 8-bit size)"
  t0=$(date +%s.%N)
  "$CLI" finetune "$ARCHIVE" --pick "$id" >"$OUT/finetune-$id.log" 2>"$OUT/finetune-$id.err"
  t1=$(date +%s.%N)
  echo "$target $id $t0 $t1" >>"$OUT/finetunes.txt"
  cat "$OUT/finetune-$id.log"
done
"$CLI" front "$ARCHIVE" --all --json >"$OUT/all.json"

python3 scripts/finetune_report.py "$OUT" "$DOC" "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- core app ui || echo '+changes')" \
  "$search_note"
echo "== done in $((SECONDS - start)) s; raw outputs in $OUT"
