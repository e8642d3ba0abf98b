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
  s0=$SECONDS
  "$CLI" search --task smnist-row --out "$OUT/default-search.gruq" >"$OUT/search.log" 2>&1 ||
    { echo "default search failed:"; tail -n 5 "$OUT/search.log"; exit 1; }
  search_note="a default search run by the script ($((SECONDS - s0)) s)"
fi
ARCHIVE="$OUT/default-search.gruq"
"./$BUILD_DIR/bench/bench_archived_model" "$ARCHIVE" | tee "$OUT/archived-model.txt"
before_bytes=$(stat -c %s "$ARCHIVE")

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

python3 - "$OUT" "$DOC" "$(git rev-parse --short HEAD)$(git diff --quiet HEAD -- core app ui || echo '+changes')" \
  "$search_note" "$before_bytes" "$(stat -c %s "$ARCHIVE")" <<'PY'
import json, re, sys
out, doc, commit, search_note, before_bytes, after_bytes = sys.argv[1:7]
everything = {p["id"]: p for p in json.load(open(f"{out}/all.json"))}
eight = next(p for p in everything.values() if p["baseline"] and all(g[-1] == "8" for g in p["genome"].split()))
bench = open(f"{out}/archived-model.txt").read()
pct = lambda x: f"{100 * x:.2f}%" if x is not None and x >= 0 else "not measured"
rows, notes = [], []
for line in open(f"{out}/finetunes.txt"):
    target, source_id, t0, t1 = line.split()
    source = everything[int(source_id)]
    tuned = max((p for p in everything.values() if p.get("source_id") == int(source_id)), key=lambda p: p["id"])
    f = tuned["fine_tune"]
    rows.append(f"| {float(target):.0%} | #{source['id']} → #{tuned['id']} | {100 * source['size_fraction']:.1f}% "
                f"({source['size_bytes']} B) | {pct(source['validation_accuracy'])} → {pct(tuned['validation_accuracy'])} "
                f"| {pct(source['test_accuracy'])} → **{pct(tuned['test_accuracy'])}** "
                f"| {f['epochs_run']} ({f['best_epoch']}, {f['status']}) | {float(t1) - float(t0):.0f} s |")
    if tuned["validation_accuracy"] <= source["validation_accuracy"]:
        notes.append(f"#{source['id']}: no epoch beat the search's validation figure (the command says so and "
                     f"recommends #{source['id']}); that figure is the best of many short, noisy evaluations of "
                     "nearby genomes, so a front point's validation accuracy is biased upwards.")
clicks = re.search(r"clicks: median ([0-9.]+) s; QAT steps run: (\d+)", bench)
first = re.search(r"task data read ahead .*: ([0-9.]+) s", bench)
size = re.search(r"archive: (\d+) kB with (\d+) individuals, (\d+) stored models taking (\d+) kB \(([0-9.]+) kB per model\); without them (\d+) kB", bench)
text = f"""# Fine-tuning a chosen scheme

Made by `scripts/finetune_report.sh` at commit {commit} on {search_note}: the default task
(row-wise Fashion-MNIST, H=64), 8-bit baseline validation {pct(eight['validation_accuracy'])}, test {pct(eight['test_accuracy'])}.
Each search evaluation fine-tunes a genome on 4096 training sequences (one QAT epoch of 32 steps) to
rank it; `gruq-cli finetune ARCHIVE --pick ID` gives the chosen one full epochs over the 54,000
training sequences (at most 10, cosine learning rate, activation ranges tracked for as long as in the
search and then frozen), keeps the epoch with the best integer-model validation accuracy and stops
after 3 epochs without a better one. The copy is stored in the archive beside its source (same genome,
own accuracies and firmware model); the search's front is unchanged.

| nearest to (of 8-bit size) | individual | size | validation before → after | test before → after | epochs run (best, how it ended) | time |
|---|---|---|---|---|---|---|
""" + "\n".join(rows) + "\n\n" + "".join(f"- {n}\n" for n in notes) + f"""

Times are wall seconds of the whole command on this machine's cores (task data, cached float model,
the epochs and their validation, the final test pass).

## Stored models: clicks and archive size

`bench_archived_model` on the same archive before the fine-tunes (front points read back from their
stored firmware blobs, then the test split's confusion matrix, as the inspector does):

- clicks on the first five front points: median {clicks.group(1) if clicks else '?'} s each, QAT steps run: {clicks.group(2) if clicks else '?'}
  (the task data, read once ahead as the GUI does in the background when an archive is opened or a search
  ends, took {first.group(1) if first else '?'} s; a click made before that read ends waits for it);
- archive {size.group(1) if size else '?'} kB with {size.group(2) if size else '?'} individuals: the {size.group(3) if size else '?'} stored models take
  {size.group(4) if size else '?'} kB ({size.group(5) if size else '?'} kB each); without them the archive would be {size.group(6) if size else '?'} kB;
- after the three fine-tunes: {int(after_bytes) // 1024} kB (before: {int(before_bytes) // 1024} kB).
"""
open(doc, "w").write(text)
print(f"wrote {doc}")
PY
echo "== done in $((SECONDS - start)) s; raw outputs in $OUT"
