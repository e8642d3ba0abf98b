#!/usr/bin/env python3
"""Makes docs/latency.md: the C runtime's instructions per GRU step on an emulated Cortex-M4 for 8-, 4-
and 2-bit homogeneous and three mixed models of the default task, with the runtime before the packed
kernels and now, and the latency model's error on a search's final front.

    scripts/latency_table.py [ARCHIVE] [--before COMMIT] [--out docs/latency.md]
                             [--three-objective ARCHIVE3] [--flash-budget ARCHIVEB] [--also ARCHIVE ...]

ARCHIVE: a default-task search archive (default: runs `gruq-cli search` with the default settings into
~/.cache/gruq/latency/default.gruq, or resumes it). Every model is exported from the archive
(`gruq-cli export --pick`) and measured by scripts/m4_latency.sh (QEMU mps2-an386, -icount: instructions,
deterministic; its logits checked against the host build); the "before" runtime is
resources/runtime at COMMIT (default 284e78b, the last commit before the word-at-a-time kernels).
ARCHIVE3 / ARCHIVEB: a default search with `--objectives error,flash,latency` and one with `--max-flash`
(same task and seed as ARCHIVE): their fronts are compared with ARCHIVE's in a section of their own;
--also adds the fronts of more default-objective searches (other seeds) to that comparison.
"""
import argparse
import csv
import io
import json
import os
import re
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
CLI = os.path.join(HERE, os.environ.get("GRUQ_BUILD_DIR", "build"), "app", "gruq-cli")


def run(args, **kw):
    return subprocess.run(args, check=True, capture_output=True, text=True, **kw).stdout


def measure(folder, runtime):
    out = run(["bash", f"{HERE}/scripts/m4_latency.sh", "--runtime", runtime, folder])
    m = re.search(r"instructions_per_step=([0-9.]+) head=([0-9.]+).*runtime_text_bytes=(\d+)", out)
    return float(m.group(1)), float(m.group(2)), int(m.group(3))


def front_of(archive):
    rows = list(csv.DictReader(io.StringIO(run([CLI, "front", archive, "--csv"]))))
    for r in rows:
        r["val"] = float(r["validation_accuracy"])
        r["fraction"] = float(r["size_fraction"])
        r["bytes"] = int(r["size_bytes"])
        r["instructions"] = float(r["m4_instructions_per_step"])
    return rows


def seed_of(archive):
    """The NSGA-II seed in the archive's stored settings (the top-level "seed")."""
    import sqlite3
    text = sqlite3.connect(f"file:{archive}?mode=ro", uri=True).execute(
        "SELECT value FROM meta WHERE key = 'settings'").fetchone()[0]
    return json.loads(text)["seed"]


def objectives_section(archive, three, budget, eight, also):
    """The fronts of the latency-aware and the flash-budget searches against the default one."""
    eight_instructions = float(eight["m4_instructions_per_step"])
    out = ["## Latency as an objective, and budgets\n"]
    fronts = [(f"accuracy and flash (the default), seed {seed_of(archive)}", archive)]
    fronts += [(f"accuracy and flash (the default), seed {seed_of(a)}", a) for a in also]
    if three:
        fronts.append((f"accuracy, flash and latency (`--objectives error,flash,latency`), seed {seed_of(three)}", three))
    out.append("Each search: the default task and settings, seed as in its archive; the latency of every point is "
               "the latency model's (its error on a front is above). Best schemes of each final front within 0.5 and "
               "1 pp of the 8-bit model's validation accuracy:\n")
    out.append("| objectives | front points | within | smallest: flash, instructions per step | fastest: flash, instructions per step |")
    out.append("|---|---|---|---|---|")
    for label, path in fronts:
        front = front_of(path)
        for drop in (0.005, 0.01):
            within = [r for r in front if r["val"] >= eight["val"] - drop]
            if not within:
                continue
            small = min(within, key=lambda r: (r["bytes"], r["instructions"]))
            fast = min(within, key=lambda r: (r["instructions"], r["bytes"]))
            def cell(r):
                return (f"{100 * r['fraction']:.1f}% ({r['bytes']:,} B), {r['instructions']:,.0f} "
                        f"({100 * r['instructions'] / eight_instructions:.0f}% of 8-bit) `#{r['id']}`")
            out.append(f"| {label} | {len(front)} | {100 * drop:g} pp | {cell(small)} | {cell(fast)} |")
    out.append("")
    out.append("Reading: a two-objective search is blind to latency. Its smallest scheme near the 8-bit accuracy "
               "may use 4- or 8-bit weights (unpacked a word at a time: about the 8-bit model's speed) or 3-, 5-, 6- "
               "or 7-bit weights (eight at a time with bit-field extracts: up to 1.7 times its instructions), "
               "depending on the seed, as the rows above show. With latency as a third objective the front also "
               "keeps the faster of two schemes of similar size and accuracy, so it holds more points and, for "
               "every accuracy level, the fastest scheme found besides the smallest: the choice a firmware "
               "engineer with a deadline makes. `docs/screenshot-latency-colour.png` shows such a front coloured "
               "by latency.\n")
    if budget:
        front = front_of(budget)
        limit = re.search(r"flash <= (\d+) bytes", run([CLI, "front", budget]))
        limit = int(limit.group(1)) if limit else None
        plain = [r for r in front_of(archive) if limit and r["bytes"] <= limit]
        best = max(front, key=lambda r: r["val"]) if front else None
        best_plain = max(plain, key=lambda r: r["val"]) if plain else None
        over = sum(1 for r in front if limit and r["bytes"] > limit)
        out.append(f"A search with a flash budget of {limit:,} bytes ({100 * limit / int(eight['size_bytes']):.0f}% of the "
                   f"8-bit model, `--max-flash {limit}`): {len(front)} front points, {over} over the budget. Its most "
                   f"accurate scheme: {100 * best['val']:.2f}% validation at {best['bytes']:,} bytes (`#{best['id']}`); "
                   f"the default search's most accurate scheme within the same budget: "
                   f"{100 * best_plain['val']:.2f}% at {best_plain['bytes']:,} bytes. The budget guarantees that every "
                   f"front point fits (NSGA-II ranks a scheme over it behind every scheme within it, multi-fidelity "
                   f"stops it at the rung, and the front never holds it); it does not by itself make the search find "
                   f"better schemes under the budget: on this seed the unconstrained search's best within the budget "
                   f"is {'better' if best_plain['val'] > best['val'] else 'not better'}. One seed each: see "
                   f"docs/results.md for how much searches vary between seeds.\n")
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("archive", nargs="?")
    ap.add_argument("--before", default="284e78b")
    ap.add_argument("--out", default=f"{HERE}/docs/latency.md")
    ap.add_argument("--three-objective")
    ap.add_argument("--flash-budget")
    ap.add_argument("--also", nargs="*", default=[])
    args = ap.parse_args()
    archive = args.archive
    if archive is None:
        cache = os.environ.get("GRUQ_CACHE_DIR", os.path.expanduser("~/.cache/gruq"))
        os.makedirs(f"{cache}/latency", exist_ok=True)
        archive = f"{cache}/latency/default.gruq"
        if os.path.exists(archive):
            status = run([CLI, "front", archive])
            if "status finished" not in status.splitlines()[0]:
                subprocess.run([CLI, "search", "--resume", archive], check=True)
        else:
            print("latency_table: running the default search (about 2 minutes)", file=sys.stderr)
            subprocess.run([CLI, "search", "--out", archive], check=True)
    rows = list(csv.DictReader(io.StringIO(run([CLI, "front", archive, "--all", "--csv"]))))
    for r in rows:
        r["val"] = float(r["validation_accuracy"])
        r["fraction"] = float(r["size_fraction"])
    search = [r for r in rows if r["source_id"] in ("", "0") and float(r["fidelity"]) == 1.0]
    baselines = {r["genome"].split()[0]: r for r in search if r["baseline"] == "1"}
    eight = baselines["x8"]
    front = list(csv.DictReader(io.StringIO(run([CLI, "front", archive, "--csv"]))))
    front_ids = {r["id"] for r in front}
    mixed = [r for r in search if r["id"] in front_ids and r["baseline"] != "1"]
    picks = [("8-bit", baselines["x8"]), ("4-bit", baselines["x4"]), ("2-bit", baselines["x2"])]
    for drop in (0.005, 0.02, 0.05):
        within = [r for r in mixed if r["val"] >= eight["val"] - drop]
        if within:
            best = min(within, key=lambda r: r["fraction"])
            picks.append((f"mixed, smallest within {100 * drop:g} pp", best))
    commit = run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"]).strip()
    with tempfile.TemporaryDirectory() as work:
        before = f"{work}/runtime-before"
        os.makedirs(before)
        for name in ("gruq_runtime.c", "gruq_runtime.h"):
            with open(f"{before}/{name}", "w") as f:
                f.write(run(["git", "-C", HERE, "show", f"{args.before}:resources/runtime/{name}"]))
        measured = {}

        def folder_of(r):
            folder = f"{work}/export-{r['id']}"
            if not os.path.exists(folder):
                run([CLI, "export", archive, "--pick", r["id"], "--out", folder])
            return folder

        table = []
        for label, r in picks:
            folder = folder_of(r)
            old = measure(folder, before)
            new = measure(folder, f"{HERE}/resources/runtime")
            measured[r["id"]] = new[0]
            table.append((label, r, old, new))
            print(f"latency_table: {label}: {old[0]:.0f} -> {new[0]:.0f} instructions per step", file=sys.stderr)
        errors = []
        for r in front:
            if r["id"] not in measured:
                measured[r["id"]] = measure(folder_of(r), f"{HERE}/resources/runtime")[0]
            predicted = float(r["m4_instructions_per_step"])
            errors.append((r, predicted, measured[r["id"]], (predicted - measured[r["id"]]) / measured[r["id"]]))
    worst = max(errors, key=lambda e: abs(e[3]))
    mean_abs = sum(abs(e[3]) for e in errors) / len(errors)
    lines = []
    lines.append("# Latency on a Cortex-M4\n")
    lines.append(f"Made by `scripts/latency_table.py` at commit {commit} (runtime now) against the runtime of commit "
                 f"{args.before} (before the word-at-a-time kernels), from the search archive `{os.path.basename(archive)}` "
                 "of the default task (row-wise Fashion-MNIST, F=28, H=64, C=10). Every model was exported with "
                 "`gruq-cli export --pick` and run by `scripts/m4_latency.sh`: built with arm-none-eabi-gcc -O2 "
                 "-mcpu=cortex-m4 for QEMU's `mps2-an386` board (a Cortex-M4) and run with `-icount shift=7`, so the "
                 "counts are exact, deterministic instruction counts (not cycles; on a real M4 most of these "
                 "instructions take one cycle, loads two), and each run's logits were checked against the host build "
                 "bit for bit.\n")
    lines.append("## Instructions per GRU step, before and after the specialised kernels\n")
    lines.append("| model | genome | val. acc. | flash (% of 8-bit) | before | after | speed-up | after, per 28-step sequence | µs per step at 80 MHz |")
    lines.append("|---|---|---|---|---|---|---|---|---|")
    for label, r, old, new in table:
        lines.append(f"| {label} | `{r['genome']}` | {100 * r['val']:.2f}% | {100 * r['fraction']:.1f}% | {old[0]:,.0f} | "
                     f"{new[0]:,.0f} | {old[0] / new[0]:.2f}x | {28 * new[0] + new[1]:,.0f} | {new[0] / 80:,.0f} |")
    lines.append(f"\nRuntime code (-O2, text): {table[0][2][2]:,} bytes before, {table[0][3][2]:,} after.\n")
    lines.append("## The latency model\n")
    lines.append("The search predicts these counts without the emulator: `core/export/src/latency_model.cpp` applies "
                 "per-operator costs fitted by `scripts/latency_calibrate.py` (random blobs of widths 2-8 on five shapes, "
                 "every stage of a step timed on the emulator; `resources/latency/cortex-m4.json`, raw figures in "
                 "`cortex-m4-measurements.csv`) and decides row by row, as the runtime does, which rows go a word at a "
                 "time. `gruq-cli front` shows the prediction (column `M4 instr`, CSV/JSON `m4_instructions_per_step`).\n")
    lines.append(f"On the final front of that search ({len(errors)} points, each exported and measured): mean absolute "
                 f"error {100 * mean_abs:.1f}%, largest {100 * worst[3]:+.1f}% (id {worst[0]['id']}: predicted "
                 f"{worst[1]:,.0f}, measured {worst[2]:,.0f}).\n")
    lines.append("| id | genome | predicted | measured | error |")
    lines.append("|---|---|---|---|---|")
    for r, p, m, e in errors:
        lines.append(f"| {r['id']} | `{r['genome']}` | {p:,.0f} | {m:,.0f} | {100 * e:+.1f}% |")
    if args.three_objective or args.flash_budget:
        lines += objectives_section(archive, args.three_objective, args.flash_budget, eight, args.also)
    open(args.out, "w").write("\n".join(lines) + "\n")
    print(f"latency_table: wrote {args.out}; latency model error on the front: mean {100 * mean_abs:.1f}%, "
          f"largest {100 * worst[3]:+.1f}%", file=sys.stderr)


if __name__ == "__main__":
    main()
