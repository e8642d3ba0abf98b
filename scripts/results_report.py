#!/usr/bin/env python3
"""docs/results.md from the files scripts/reproduce.sh wrote (issue 21); every number comes from them.

usage: results_report.py RESULTS_DIR > docs/results.md   (also writes RESULTS_DIR/genes.svg)

Reads runs.csv, <task>-<algorithm>-s<seed>-front.csv / -baselines.csv (gruq-cli front --csv rows) and
<task>-qat-vs-ptq.csv. Hypervolume is gruq's (search.cpp hypervolumeOf): of (1 - validation accuracy,
size fraction) against the reference point (1, 1.05), points at >= 1.05 left out.
"""
import csv
import glob
import os
import re
import statistics
import sys

TASK_NAMES = {"row": "row-wise Fashion-MNIST (H=64)", "pixel": "pixel-wise Fashion-MNIST (scaled: H=32, 12k images)",
              "kws4": "KWS-4, generated speech (H=64)", "kws10": "KWS-10, generated speech (H=64)"}
TASK_ORDER = ["row", "pixel", "kws4", "kws10"]
# The inspector's palette (ui/cell_diagram.cpp colourForBits), 2..8 bits.
PALETTE = ["#d73027", "#f46d43", "#fdae61", "#fee090", "#abd9e9", "#74add1", "#4575b4"]


def read_rows(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def genes_of(row):
    return [(g.rstrip("0123456789"), int(re.search(r"(\d+)$", g).group(1))) for g in row["genome"].split()]


def hypervolume(rows):
    points = sorted((float(r["size_fraction"]), 1.0 - float(r["validation_accuracy"])) for r in rows)
    front, best = [], 2.0
    for x, y in points:  # non-dominated sweep: by size, keep strictly better error
        if x < 1.05 and y < best:
            front.append((x, y))
            best = y
    hv = 0.0
    for i, (x, y) in enumerate(front):
        nxt = front[i + 1][0] if i + 1 < len(front) else 1.05
        hv += (nxt - x) * (1.0 - y)
    return hv


def eight_bit(baselines):
    for r in baselines:
        if all(b == 8 for _, b in genes_of(r)):
            return r
    return None


def largest_reduction(rows, reference_test, tolerance):
    """1 - size of the smallest point whose test accuracy is within tolerance of the 8-bit model's."""
    ok = [float(r["size_fraction"]) for r in rows
          if float(r["test_accuracy"]) >= 0 and float(r["test_accuracy"]) >= reference_test - tolerance]
    return 1.0 - min(ok) if ok else None


def mean_sd(values):
    values = [v for v in values if v is not None]
    if not values:
        return "-"
    if len(values) == 1:
        return f"{values[0]:.4f} (1 run)"
    return f"{statistics.mean(values):.4f} ± {statistics.stdev(values):.4f} (min {min(values):.4f}, max {max(values):.4f})"


def pct_range(values):
    values = [v for v in values if v is not None]
    if not values:
        return "none"
    mean = 100 * statistics.mean(values)
    return f"{mean:.1f}% ({100 * min(values):.1f}-{100 * max(values):.1f}%)" if len(values) > 1 else f"{mean:.1f}%"


def main():
    d = sys.argv[1]
    runs = read_rows(os.path.join(d, "runs.csv")) if os.path.exists(os.path.join(d, "runs.csv")) else []
    out = []
    w = out.append
    w("# Results: NSGA-II against random search, seeds, QAT against PTQ, the genes that matter\n")
    w("Made by `scripts/results_report.py docs/results` from the files `scripts/reproduce.sh` wrote into")
    w("`docs/results/` (each search's front and baselines as `gruq-cli front --csv` rows, `runs.csv`, the")
    w("QAT / PTQ evaluations). Hypervolume: of (1 - validation accuracy, size fraction of the 8-bit model)")
    w("against (1, 1.05), as gruq computes it (higher is better). Size reductions: the smallest front point whose")
    w("**test** accuracy is within 0.5 / 1 percentage points of the homogeneous 8-bit model's, as a saving")
    w("against the 8-bit model's size.\n")
    if runs:
        commits = sorted({r["commit"] for r in runs})
        total = sum(int(r["seconds"]) for r in runs)
        w(f"{len(runs)} searches, {total / 3600:.1f} h of search time on the machine that ran them (a search that "
          f"was stopped and resumed counts its last segment only; commits "
          f"{', '.join('`' + c + '`' for c in commits)}); per run: `docs/results/runs.csv`.\n")

    tasks = [t for t in TASK_ORDER if glob.glob(os.path.join(d, f"{t}-*-front.csv"))]
    gene_rows = {}
    for task in tasks:
        w(f"## {TASK_NAMES.get(task, task)}\n")
        per_algorithm = {}
        baselines = None
        for algorithm in ("nsga2", "random"):
            files = sorted(glob.glob(os.path.join(d, f"{task}-{algorithm}-s*-front.csv")))
            per_algorithm[algorithm] = [(f, read_rows(f), read_rows(f.replace("-front.csv", "-baselines.csv"))) for f in files]
            if per_algorithm[algorithm] and baselines is None:
                baselines = per_algorithm[algorithm][0][2]
        eight = eight_bit(baselines or [])
        if eight is None:
            w("(no 8-bit baseline found)\n")
            continue
        ref = float(eight["test_accuracy"])
        w(f"Homogeneous 8-bit model: validation {100 * float(eight['validation_accuracy']):.2f}%, "
          f"test {100 * ref:.2f}%, {eight['size_bytes']} bytes.\n")
        w("| search | runs | hypervolume, mean ± sd | largest reduction at <= 0.5 pp | at <= 1 pp |")
        w("|---|---|---|---|---|")
        for algorithm, label in (("nsga2", "NSGA-II"), ("random", "random search")):
            rows = per_algorithm[algorithm]
            if not rows:
                continue
            hv = [hypervolume(front + base) for _, front, base in rows]
            r05 = [largest_reduction(front, ref, 0.005) for _, front, _ in rows]
            r10 = [largest_reduction(front, ref, 0.010) for _, front, _ in rows]
            w(f"| {label} | {len(rows)} | {mean_sd(hv)} | {pct_range(r05)} | {pct_range(r10)} |")
        hv_h = hypervolume(baselines)
        w(f"| homogeneous only | - | {hv_h:.4f} | {pct_range([largest_reduction(baselines, ref, 0.005)])} | "
          f"{pct_range([largest_reduction(baselines, ref, 0.010)])} |\n")

        ptq_file = os.path.join(d, f"{task}-qat-vs-ptq.csv")
        if os.path.exists(ptq_file):
            ptq = {(r["bits"], r["method"]): r for r in read_rows(ptq_file)}
            w("Post-training quantization (calibration only) against QAT with the search's per-genome budget (4096")
            w("sequences) and with one epoch over the whole training split; homogeneous, integer engine, test split:\n")
            w("| bits | PTQ | QAT, search budget | QAT, one epoch | search budget - PTQ | one epoch - PTQ |")
            w("|---|---|---|---|---|---|")
            for bits in ("3", "4", "8"):
                if all((bits, m) in ptq for m in ("ptq", "qat", "qat-epoch")):
                    p, q, e = (float(ptq[(bits, m)]["test_accuracy"]) for m in ("ptq", "qat", "qat-epoch"))
                    w(f"| {bits} | {100 * p:.2f}% | {100 * q:.2f}% | {100 * e:.2f}% | {100 * (q - p):+.2f} pp | "
                      f"{100 * (e - p):+.2f} pp |")
            w("")
            kept_file = os.path.join(d, f"{task}-qat-range-tracking.csv")
            if os.path.exists(kept_file):
                kept = {(r["bits"], r["method"]): r for r in read_rows(kept_file)}
                w("The same QAT with the calibrated activation ranges kept throughout (`--qat-range-tracking 0`) "
                  "instead of")
                w("ranges that follow the training batches over the first half of the steps (the default, "
                  "\"tracked\"); test split:\n")
                w("| bits | PTQ | search budget, tracked | search budget, kept | one epoch, tracked | one epoch, kept |")
                w("|---|---|---|---|---|---|")
                for bits in ("3", "4", "8"):
                    methods = [(ptq, "ptq"), (ptq, "qat"), (kept, "qat-kept-ranges"), (ptq, "qat-epoch"),
                               (kept, "qat-epoch-kept-ranges")]
                    if all((bits, m) in table for table, m in methods):
                        cells = [f"{100 * float(table[(bits, m)]['test_accuracy']):.2f}%" for table, m in methods]
                        w(f"| {bits} | " + " | ".join(cells) + " |")
                w("")

        # Which genes the search keeps wide: mean bits over the NSGA-II front points within 1 pp of the 8-bit
        # model's test accuracy (the part of the front an engineer would ship), all seeds together.
        near = [r for _, front, _ in per_algorithm["nsga2"] for r in front
                if float(r["test_accuracy"]) >= ref - 0.010 and float(r["size_fraction"]) < 1.0]
        if near:
            names = [n for n, _ in genes_of(near[0])]
            means = [statistics.mean(genes_of(r)[i][1] for r in near) for i in range(len(names))]
            gene_rows[task] = (names, means, len(near))
            order = sorted(range(len(names)), key=lambda i: -means[i])
            w(f"Genes over the {len(near)} NSGA-II front points within 1 pp of 8-bit (all seeds), mean bits, widest "
              f"first: " + ", ".join(f"{names[i]} {means[i]:.1f}" for i in order) + ".\n")

    if gene_rows:
        write_svg(os.path.join(d, "genes.svg"), gene_rows)
        w("## Which operators need their bits\n")
        w("![mean bits per gene](results/genes.svg)\n")
        w("Mean bit width per gene over the NSGA-II front points within 1 pp of the 8-bit model's test accuracy,")
        w("per task (colours: the inspector's palette, red = 2 bits, blue = 8; the number is the mean).\n")
    print("\n".join(out))


def write_svg(path, gene_rows):
    names = next(iter(gene_rows.values()))[0]
    cell, left, top = 44, 250, 70
    width, height = left + cell * len(names) + 10, top + cell * len(gene_rows) + 40
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>']
    for j, n in enumerate(names):
        x = left + j * cell + cell / 2
        parts.append(f'<text x="{x}" y="{top - 8}" transform="rotate(-45 {x} {top - 8})">{n}</text>')
    for i, (task, (task_names, means, count)) in enumerate(gene_rows.items()):
        y = top + i * cell
        parts.append(f'<text x="8" y="{y + cell / 2 + 4}">{TASK_NAMES.get(task, task).split(" (")[0]} ({count} points)</text>')
        for j, m in enumerate(means):
            colour = PALETTE[min(6, max(0, round(m) - 2))]
            parts.append(f'<rect x="{left + j * cell}" y="{y}" width="{cell - 2}" height="{cell - 2}" fill="{colour}"/>')
            parts.append(f'<text x="{left + j * cell + cell / 2 - 1}" y="{y + cell / 2 + 4}" text-anchor="middle">{m:.1f}</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


if __name__ == "__main__":
    main()
