#!/usr/bin/env python3
"""Random input codes for an exported model, within its x quantizer's range (what gruq_quantize_input
produces), as the test harness's codes file and optionally as a C header for the Cortex-M4 builds.

    random_codes.py EXPORT_DIR COUNT STEPS CODES.bin [HEADER.h]

CODES.bin: u32 count, u32 steps, u32 features (little-endian), then count*steps*features u8 codes
(tests/runtime/harness.c). HEADER.h: M4_SEQUENCES, M4_STEPS and m4_codes[] (bench/cortex_m4/)."""
import json
import random
import re
import struct
import sys


def main():
    export_dir, count, steps, codes_path = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), sys.argv[4]
    meta = json.load(open(f"{export_dir}/model.json"))
    found = re.search(r"^#define GRUQ_MODEL_INPUT_FEATURES (\d+)$", open(f"{export_dir}/gruq_model.h").read(), re.M)
    if not found:
        raise SystemExit(f"random_codes: {export_dir}/gruq_model.h has no GRUQ_MODEL_INPUT_FEATURES")
    features = int(found.group(1))
    top = (1 << int(meta["point_bits"]["x"])) - 1
    rng = random.Random(1)
    codes = bytes(rng.randint(0, top) for _ in range(count * steps * features))
    with open(codes_path, "wb") as f:
        f.write(struct.pack("<III", count, steps, features))
        f.write(codes)
    if len(sys.argv) > 5:
        with open(sys.argv[5], "w") as h:
            h.write(f"/* {count} random sequences of {steps} steps for {export_dir} (scripts/random_codes.py) */\n")
            h.write(f"#define M4_SEQUENCES {count}u\n#define M4_STEPS {steps}u\n")
            h.write("static const uint8_t m4_codes[] = {")
            for i in range(0, len(codes), 24):
                h.write("\n    " + ",".join(str(c) for c in codes[i:i + 24]) + ",")
            h.write("\n};\n")


if __name__ == "__main__":
    main()
