#!/usr/bin/env python3
"""docs/stacked.md: one- against multi-layer search archives of the same task, from the archives alone.

usage: stacked_report.py [--cli build/app/gruq-cli] LABEL=ARCHIVE [LABEL=ARCHIVE ...] > docs/stacked.md
       (also writes docs/stacked-fronts.svg: test accuracy against bytes, every front)

Each archive's front and homogeneous baselines come from `gruq-cli front --csv` / `--all --csv`; the float
model's accuracies and shape from its settings (the archive's meta table). The rules (8-bit baseline,
largest size reduction within a tolerance of the 8-bit model's test accuracy, hypervolume) are
scripts/results_report.py's.
"""
import argparse
import csv
import io
import json
import os
import sqlite3
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from results_report import eight_bit, hypervolume, largest_reduction  # noqa: E402

COLOURS = ["#4575b4", "#d73027", "#1a9850", "#7b3294"]


def front_rows(cli, archive, everything):
    out = subprocess.run([cli, "front", archive, "--csv"] + (["--all"] if everything else []), check=True,
                         capture_output=True, text=True).stdout
    return list(csv.DictReader(io.StringIO(out)))


def float_model(archive):
    db = sqlite3.connect(f"file:{archive}?mode=ro", uri=True)
    meta = dict(db.execute("select key, value from meta").fetchall())
    db.close()
    return json.loads(meta["float_model"])


def smallest_within(rows, reference, tolerance):
    ok = [r for r in rows if float(r["test_accuracy"]) >= reference - tolerance]
    return min(ok, key=lambda r: int(r["size_bytes"])) if ok else None


def write_svg(path, runs):
    width, height, left, bottom, top, right = 720, 420, 70, 50, 20, 20
    xs = [int(r["size_bytes"]) for _, _, front, _ in runs for r in front]
    x_max = max(xs) * 1.05
    y_min, y_max = 0.6, 0.92
    sx = lambda v: left + (width - left - right) * v / x_max  # noqa: E731
    sy = lambda v: top + (height - top - bottom) * (1 - (min(max(v, y_min), y_max) - y_min) / (y_max - y_min))  # noqa: E731
    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" font-family="sans-serif" font-size="12">',
             f'<rect width="{width}" height="{height}" fill="white"/>',
             f'<line x1="{left}" y1="{height - bottom}" x2="{width - right}" y2="{height - bottom}" stroke="black"/>',
             f'<line x1="{left}" y1="{top}" x2="{left}" y2="{height - bottom}" stroke="black"/>',
             f'<text x="{(width + left) / 2}" y="{height - 12}" text-anchor="middle">model size (bytes)</text>',
             f'<text x="16" y="{(height - bottom + top) / 2}" transform="rotate(-90 16 {(height - bottom + top) / 2})" '
             f'text-anchor="middle">test accuracy (front points below {y_min:.0%} drawn at {y_min:.0%})</text>']
    for v in range(0, int(x_max) + 1, 10000):
        parts.append(f'<text x="{sx(v)}" y="{height - bottom + 16}" text-anchor="middle">{v / 1000:.0f}k</text>')
    for i in range(0, 5):
        v = y_min + (y_max - y_min) * i / 4
        parts.append(f'<text x="{left - 6}" y="{sy(v) + 4}" text-anchor="end">{v:.0%}</text>')
    for k, (label, _, front, eight) in enumerate(runs):
        colour = COLOURS[k % len(COLOURS)]
        pts = sorted((int(r["size_bytes"]), float(r["test_accuracy"])) for r in front)
        parts.append('<polyline fill="none" stroke="%s" points="%s"/>' % (colour, " ".join(f"{sx(x):.1f},{sy(y):.1f}" for x, y in pts)))
        parts += [f'<circle cx="{sx(x):.1f}" cy="{sy(y):.1f}" r="3" fill="{colour}"/>' for x, y in pts]
        if eight:
            x, y = int(eight["size_bytes"]), float(eight["test_accuracy"])
            parts.append(f'<rect x="{sx(x) - 5:.1f}" y="{sy(y) - 5:.1f}" width="10" height="10" fill="none" stroke="{colour}" stroke-width="2"/>')
        parts.append(f'<text x="{width - right - 250}" y="{height - bottom - 60 + 16 * k}" fill="{colour}">● {label} front, □ its 8-bit model</text>')
    parts.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(parts) + "\n")


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cli", default="build/app/gruq-cli")
    ap.add_argument("--svg", default="docs/stacked-fronts.svg")
    ap.add_argument("runs", nargs="+", metavar="LABEL=ARCHIVE")
    args = ap.parse_args()
    runs = []
    for spec in args.runs:
        label, archive = spec.rsplit("=", 1)
        everything = front_rows(args.cli, archive, True)
        baselines = [r for r in everything if r["baseline"] == "1"]
        front = [r for r in front_rows(args.cli, archive, False) if float(r["test_accuracy"]) >= 0]
        runs.append((label, archive, front, eight_bit(baselines)))

    out = ["| | " + " | ".join(label for label, *_ in runs) + " |", "|---" * (len(runs) + 1) + "|"]
    def row(name, values):
        out.append(f"| {name} | " + " | ".join(values) + " |")
    floats = [float_model(a) for _, a, _, _ in runs]
    reference_bytes = int(runs[0][3]["size_bytes"]) if runs[0][3] else None
    row("float model", [f"{f['shape']}, {f['parameters']} parameters" for f in floats])
    row("float test accuracy", [f"{100 * f['test_accuracy']:.2f}%" for f in floats])
    row("8-bit model: bytes, test accuracy", [f"{e['size_bytes']}, {100 * float(e['test_accuracy']):.2f}%" if e else "-"
                                             for *_, e in runs])
    row("front: points, hypervolume", [f"{len(front)}, {hypervolume(front):.4f}" for _, _, front, _ in runs])
    row("front: best test accuracy (bytes)", [
        "%.2f%% (%s)" % (100 * float(b["test_accuracy"]), b["size_bytes"])
        for b in (max(front, key=lambda r: float(r["test_accuracy"])) for _, _, front, _ in runs)])
    for tolerance in (0.005, 0.01, 0.02):
        values = []
        for _, _, front, eight in runs:
            best = smallest_within(front, float(eight["test_accuracy"]), tolerance) if eight else None
            if not best:
                values.append("none")
                continue
            reduction = largest_reduction(front, float(eight["test_accuracy"]), tolerance)
            cross = f", {100 * int(best['size_bytes']) / reference_bytes:.0f}% of the first 8-bit model" if reference_bytes else ""
            values.append(f"{best['size_bytes']} bytes ({100 * float(best['test_accuracy']):.2f}%): "
                          f"{100 * reduction:.0f}% smaller than its 8-bit model{cross}")
        row(f"smallest within {100 * tolerance:g} pp of its 8-bit model", values)
    for threshold in (0.85, 0.88):
        values = []
        for _, _, front, _ in runs:
            ok = [r for r in front if float(r["test_accuracy"]) >= threshold]
            values.append(f"{min(int(r['size_bytes']) for r in ok)} bytes" if ok else "none")
        row(f"smallest with test accuracy >= {100 * threshold:g}%", values)
    print("\n".join(out))
    write_svg(args.svg, runs)


if __name__ == "__main__":
    main()
