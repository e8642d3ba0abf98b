#!/usr/bin/env bash
# Cross-checks an export folder (gruq-cli export ... --out DIR) on ARM:
#   1. builds gruq_runtime.c + gruq_model.c for a Cortex-M4 (-mcpu=cortex-m4 -mthumb -Os) with the strict
#      C99 flags and prints text/data/bss;
#   2. builds the test harness with the model embedded for 32-bit ARM Linux, runs it under qemu-arm on
#      random input codes, and compares the logits byte for byte with the same harness built for the host.
# Usage: scripts/arm_check.sh EXPORT_DIR [SEQUENCES] [STEPS]
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
dir="$(cd "${1:?usage: arm_check.sh EXPORT_DIR [SEQUENCES] [STEPS]}" && pwd)"
count="${2:-500}"
steps="${3:-28}"
for tool in arm-none-eabi-gcc arm-none-eabi-size arm-linux-gnueabihf-gcc qemu-arm cc python3; do
  command -v "$tool" >/dev/null || { echo "arm_check: $tool missing (run scripts/setup.sh)" >&2; exit 2; }
done
strict=(-std=c99 -Wall -Wextra -Werror -pedantic)
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

echo "== Cortex-M4 (-mcpu=cortex-m4 -mthumb -Os)"
arm-none-eabi-gcc "${strict[@]}" -mcpu=cortex-m4 -mthumb -Os -c "$dir/gruq_runtime.c" -o "$work/gruq_runtime.o"
arm-none-eabi-gcc "${strict[@]}" -mcpu=cortex-m4 -mthumb -Os -I "$dir" -c "$dir/gruq_model.c" -o "$work/gruq_model.o"
arm-none-eabi-size "$work/gruq_runtime.o" "$work/gruq_model.o"

# Random input codes within the x quantizer's range (what gruq_quantize_input produces).
python3 "$here/scripts/random_codes.py" "$dir" "$count" "$steps" "$work/codes.bin"

echo "== 32-bit ARM Linux under qemu-arm vs host ($count sequences x $steps steps)"
sources=(-DGRUQ_HARNESS_EMBEDDED -I "$dir" "$here/tests/runtime/harness.c" "$dir/gruq_runtime.c" "$dir/gruq_model.c")
cc "${strict[@]}" -O2 "${sources[@]}" -o "$work/harness-host"
arm-linux-gnueabihf-gcc "${strict[@]}" -O2 -static "${sources[@]}" -o "$work/harness-arm"
"$work/harness-host" "$work/codes.bin" "$work/host.bin"
qemu-arm "$work/harness-arm" "$work/codes.bin" "$work/arm.bin"
if cmp -s "$work/host.bin" "$work/arm.bin"; then
  echo "bit-exact: $(stat -c %s "$work/host.bin") bytes of logits identical"
else
  echo "MISMATCH between host and ARM logits" >&2
  exit 1
fi
