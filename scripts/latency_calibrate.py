#!/usr/bin/env python3
"""Fits the Cortex-M4 latency model (resources/latency/cortex-m4.json) to emulator measurements.

    scripts/latency_calibrate.py [--out resources/latency]

For every weight width 2..8 and a grid of shapes, a random valid blob (tests/runtime/make_blob.py,
homogeneous) is run by scripts/m4_latency.sh --phases with the current runtime (resources/runtime): the
instructions of each stage of a step on QEMU's mps2-an386 in instruction-counting mode. The model, per
width b, for one matrix product (rows of `cols` weights starting at a given stream bit):
    instructions = row_b * rows + word_b * words + tail_b * tails + field_b * fields
where, as the runtime decides row by row, a row whose fields do not straddle bytes (b = 2, 4, 8) costs its
leading fields up to a byte boundary as `fields`, then whole 32-bit `words` and, when its length is not a
whole number of words, one partial `tail` word; any other row costs all its fields as `fields`. For b = 3,
5, 6, 7 a `word` is a group of eight fields (b bytes) and the fields before the first byte boundary and
after the last group are `fields` (core/export/src/latency_model.cpp mirrors this). Plus the
offsets (fixed + per input, twice a step), the element-wise update (fixed + per hidden unit) and the
classifier head (offsets + its matrix + per class), all fitted by least squares. Writes the model and the
raw measurements (cortex-m4-measurements.csv) with the commit and the compiler they were measured with.
"""
import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
SHAPES = [(8, 16, 4), (13, 32, 10), (28, 64, 10), (40, 96, 12), (10, 128, 35)]  # F, H, C
PACKED = {2: 16, 4: 8, 8: 4}  # width -> weights per 32-bit word


def matrix_counts(start_bit, rows, cols, bits):
    """(rows, words, tails, fields) of one matrix product, row by row as the runtime's dot_row decides.
    For 3, 5, 6 and 7 bits a "word" is a group of eight fields (dot_groups)."""
    words = tails = fields = 0
    bit = start_bit
    for _ in range(rows):
        buffered = (8 - bit % 8) % 8
        if bits in PACKED:
            if buffered % bits == 0:
                head = min(buffered // bits, cols)
                fields += head
                words += (cols - head) // PACKED[bits]
                tails += 1 if (cols - head) % PACKED[bits] else 0
            else:
                fields += cols
        else:
            k, n = 0, buffered
            while n != 0 and k < cols and k < 8:  # fields up to the first byte boundary (br_get)
                if n < bits:
                    n += 8
                n -= bits
                k += 1
            if n != 0:
                fields += cols
            else:
                rest = cols - k
                groups = rest // 8
                while groups > 0 and ((rest - 8 * (groups - 1)) * bits + 7) // 8 < bits // 2 + 4:
                    groups -= 1
                words += groups
                fields += cols - 8 * groups
        bit += cols * bits
    return rows, words, tails, fields


def step_matrices(F, H, C, bits):
    """(name, start bit, rows, cols) of the six gate products and the head, homogeneous width."""
    out, bit = [], 0
    for name in ("w_ir", "w_iz", "w_in"):
        out.append((name, bit, H, F))
        bit += H * F * bits
    for name in ("w_hr", "w_hz", "w_hn"):
        out.append((name, bit, H, H))
        bit += H * H * bits
    out.append(("head", bit, C, H))
    return out


def export_folder(folder, blob, F, H, C, bits):
    """A folder m4_latency.sh accepts: the blob as gruq_model.c/.h and the x width in model.json."""
    data = open(blob, "rb").read()
    with open(f"{folder}/gruq_model.h", "w") as h:
        h.write("#ifndef GRUQ_MODEL_H\n#define GRUQ_MODEL_H\n#include <stdint.h>\n")
        h.write(f"#define GRUQ_MODEL_INPUT_FEATURES {F}\n#define GRUQ_MODEL_HIDDEN_SIZE {H}\n")
        h.write(f"#define GRUQ_MODEL_CLASSES {C}\n#define GRUQ_MODEL_BLOB_BYTES {len(data)}\n")
        h.write("#define GRUQ_MODEL_WORKSPACE_BYTES 8192\n")
        h.write("extern const uint8_t gruq_model_blob[GRUQ_MODEL_BLOB_BYTES];\nextern const uint32_t gruq_model_blob_bytes;\n#endif\n")
    with open(f"{folder}/gruq_model.c", "w") as c:
        c.write('#include "gruq_model.h"\nconst uint8_t gruq_model_blob[GRUQ_MODEL_BLOB_BYTES] = {')
        c.write(",".join(str(b) for b in data))
        c.write("};\nconst uint32_t gruq_model_blob_bytes = GRUQ_MODEL_BLOB_BYTES;\n")
    json.dump({"point_bits": {"x": bits}}, open(f"{folder}/model.json", "w"))


def measure(F, H, C, bits, work):
    folder = f"{work}/F{F}-H{H}-C{C}-b{bits}"
    os.makedirs(folder)
    subprocess.run([sys.executable, f"{HERE}/tests/runtime/make_blob.py", f"{folder}/model.bin", "--seed", str(bits),
                    "--features", str(F), "--hidden", str(H), "--classes", str(C), "--bits", str(bits)], check=True)
    export_folder(folder, f"{folder}/model.bin", F, H, C, bits)
    out = subprocess.run(["bash", f"{HERE}/scripts/m4_latency.sh", "--phases", "--sequences", "2", "--steps", "8",
                          "--runtime", f"{HERE}/resources/runtime", folder],
                         check=True, capture_output=True, text=True).stdout
    phases = {}
    for line in out.splitlines():
        if line.startswith("phase "):
            _, name, rows, cols, b, instructions = line.split()
            phases[name] = float(instructions)
        if line.startswith("m4_latency "):
            total = float(line.split("instructions_per_step=")[1].split()[0])
    return phases, total


def least_squares(rows, targets):
    coefficients, *_ = np.linalg.lstsq(np.array(rows, dtype=float), np.array(targets, dtype=float), rcond=None)
    return [float(c) for c in coefficients]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", default=f"{HERE}/resources/latency")
    args = ap.parse_args()
    commit = subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    compiler = subprocess.run(["arm-none-eabi-gcc", "-dumpversion"], capture_output=True, text=True).stdout.strip()
    samples = []  # (F, H, C, bits, phase name, start bit, rows, cols, instructions, step total)
    with tempfile.TemporaryDirectory() as work:
        for bits in range(2, 9):
            for F, H, C in SHAPES:
                phases, total = measure(F, H, C, bits, work)
                for name, start, rows, cols in step_matrices(F, H, C, bits):
                    samples.append((F, H, C, bits, name, start, rows, cols, phases[name], total))
                samples.append((F, H, C, bits, "offsets_x", 0, 1, F, phases["offsets_x"], total))
                samples.append((F, H, C, bits, "offsets_h", 0, 1, H, phases["offsets_h"], total))
                samples.append((F, H, C, bits, "update", 0, H, 0, phases["update"], total))
                print(f"latency_calibrate: F={F} H={H} C={C} {bits}-bit: {total:.0f} instructions per step", file=sys.stderr)
    offsets = least_squares([[1, s[7]] for s in samples if s[4].startswith("offsets")],
                            [s[8] for s in samples if s[4].startswith("offsets")])
    update = least_squares([[1, s[6]] for s in samples if s[4] == "update"], [s[8] for s in samples if s[4] == "update"])
    matrix = {}
    for bits in range(2, 9):
        rows, targets = [], []
        for s in samples:
            if s[3] == bits and s[4].startswith("w_"):
                r, w, t, f = matrix_counts(s[5], s[6], s[7], bits)
                rows.append([r, w, t, f] if bits in PACKED else [r, w, f])
                targets.append(s[8])
        c = least_squares(rows, targets)
        matrix[str(bits)] = ({"row": c[0], "word": c[1], "tail": c[2], "field": c[3]} if bits in PACKED
                             else {"row": c[0], "word": c[1], "tail": 0.0, "field": c[2]})
    # The head: offsets of h, the fc product (the matrix model) and the arg-max, per class.
    head_rows, head_targets = [], []
    for s in samples:
        if s[4] == "head":
            r, w, t, f = matrix_counts(s[5], s[6], s[7], s[3])
            m = matrix[str(s[3])]
            predicted = offsets[0] + offsets[1] * s[7] + m["row"] * r + m["word"] * w + m["tail"] * t + m["field"] * f
            head_rows.append([s[6]])
            head_targets.append(s[8] - predicted)
    head_per_class = least_squares(head_rows, head_targets)[0]
    model = {
        "target": "Cortex-M4 (QEMU 7.2 mps2-an386, -icount shift=7: instructions, not cycles)",
        "compiler": f"arm-none-eabi-gcc {compiler} -mcpu=cortex-m4 -mthumb -mfloat-abi=hard -O2",
        "runtime_commit": commit,
        "command": "scripts/latency_calibrate.py",
        "matrix": matrix,
        "offsets": {"fixed": offsets[0], "per_input": offsets[1]},
        "update": {"fixed": update[0], "per_unit": update[1]},
        "head": {"per_class": head_per_class},
    }
    os.makedirs(args.out, exist_ok=True)
    json.dump(model, open(f"{args.out}/cortex-m4.json", "w"), indent=2)
    with open(f"{args.out}/cortex-m4-measurements.csv", "w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["features", "hidden", "classes", "bits", "phase", "start_bit", "rows", "cols", "instructions", "step_instructions"])
        for s in samples:
            w.writerow(list(s[:8]) + [f"{s[8]:.1f}", f"{s[9]:.1f}"])
    # How well the fitted model reproduces the measured steps.
    worst = 0.0
    for F, H, C in SHAPES:
        for bits in range(2, 9):
            measured = next(s[9] for s in samples if s[:4] == (F, H, C, bits))
            predicted = 2 * offsets[0] + offsets[1] * (F + H) + update[0] + update[1] * H
            for name, start, rows, cols in step_matrices(F, H, C, bits)[:6]:
                r, w, t, f_ = matrix_counts(start, rows, cols, bits)
                m = matrix[str(bits)]
                predicted += m["row"] * r + m["word"] * w + m["tail"] * t + m["field"] * f_
            print(f"latency_calibrate: F={F} H={H} C={C} {bits}-bit: measured {measured:.0f}, model {predicted:.0f} "
                  f"({100 * (predicted - measured) / measured:+.1f}%)", file=sys.stderr)
            worst = max(worst, abs(predicted - measured) / measured)
    print(f"latency_calibrate: {len(samples)} stage measurements; worst error of the fitted model on a calibration step: {100 * worst:.1f}%")


if __name__ == "__main__":
    main()
