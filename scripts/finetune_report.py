#!/usr/bin/env python3
"""Writes docs/fine-tune.md from the outputs scripts/finetune_report.sh keeps in its results folder:
all.json (gruq-cli front --all --json after the fine-tunes), finetunes.txt (target, source id, start and
end time of each fine-tune), archived-model.txt (bench_archived_model before them).

    finetune_report.py OUT DOC COMMIT SEARCH_NOTE
"""
import json, re, sys
import os
out, doc, commit, search_note = sys.argv[1:5]
after_bytes = os.path.getsize(f"{out}/default-search.gruq")
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
    if f["best_epoch"] == f["epochs_planned"]:
        notes.append(f"#{source['id']}: still improving at its last epoch (best epoch = the last); a longer run "
                     f"(`--epochs 20`) may gain more.")
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
- after the three fine-tunes (three more models): {after_bytes // 1024} kB.
"""
open(doc, "w").write(text)
print(f"wrote {doc}")
