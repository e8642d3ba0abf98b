#!/usr/bin/env bash
# Latency of an export folder (gruq-cli export ... --out DIR) on a Cortex-M4, measured on QEMU's mps2-an386
# board in instruction-counting mode, and its logits checked against the host build bit for bit.
#   1. random input codes (scripts/random_codes.py);
#   2. the folder's gruq_runtime.c + gruq_model.c built with arm-none-eabi-gcc -mcpu=cortex-m4 -O2 (the
#      runtime with the strict C99 flags) into a bare-metal image (bench/cortex_m4/);
#   3. qemu-system-arm -M mps2-an386 -icount shift=7: every instruction advances virtual time by 128 ns,
#      the board's 25 MHz timer 0 is read around the steps, so ticks / 3.2 = instructions, deterministic;
#   4. the logits printed over semihosting compared with the host build of tests/runtime/harness.c.
# Prints instructions per GRU step, per sequence and for the classifier head, and a machine-readable line
# "m4_latency ..." (scripts/latency_table.py reads it). --phases also times each stage of a step
# (bench/cortex_m4/phases_main.c): "phase NAME ROWS COLS BITS INSTRUCTIONS_PER_STEP".
# Usage: scripts/m4_latency.sh [--runtime DIR] [--phases] [--sequences N] [--steps T] EXPORT_DIR
#   --runtime DIR  take gruq_runtime.c/.h from DIR instead of the export folder (e.g. an older runtime)
#   --steps T      steps per sequence (default: 28)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
runtime="" phases=0 count=8 steps=28
while [ $# -gt 1 ]; do
  case "$1" in
    --runtime) runtime="$(cd "$2" && pwd)"; shift 2 ;;
    --phases) phases=1; shift ;;
    --sequences) count="$2"; shift 2 ;;
    --steps) steps="$2"; shift 2 ;;
    *) echo "m4_latency: unknown option $1" >&2; exit 1 ;;
  esac
done
dir="$(cd "${1:?usage: m4_latency.sh [--runtime DIR] [--phases] [--sequences N] [--steps T] EXPORT_DIR}" && pwd)"
runtime="${runtime:-$dir}"
for tool in arm-none-eabi-gcc arm-none-eabi-size qemu-system-arm cc python3; do
  command -v "$tool" >/dev/null || { echo "m4_latency: $tool missing (run scripts/setup.sh)" >&2; exit 2; }
done
for f in "$dir/gruq_model.c" "$dir/gruq_model.h" "$dir/model.json" "$runtime/gruq_runtime.c" "$runtime/gruq_runtime.h"; do
  [ -f "$f" ] || { echo "m4_latency: $f missing (not an export folder?)" >&2; exit 1; }
done
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
strict=(-std=c99 -Wall -Wextra -Werror -pedantic)
m4=(-mcpu=cortex-m4 -mthumb -mfloat-abi=hard -mfpu=fpv4-sp-d16 -O2)
bench="$here/bench/cortex_m4"
qemu=(qemu-system-arm -M mps2-an386 -nographic -monitor none -serial none
      -semihosting-config enable=on,target=native -icount shift=7,align=off,sleep=off)

python3 "$here/scripts/random_codes.py" "$dir" "$count" "$steps" "$work/codes.bin" "$work/m4_codes.h"
# The model header's workspace size follows the export's runtime; an older runtime may need more.
cp "$dir/gruq_model.h" "$dir/gruq_model.c" "$work/"
sed -i 's/^#define GRUQ_MODEL_WORKSPACE_BYTES .*/#define GRUQ_MODEL_WORKSPACE_BYTES 8192/' "$work/gruq_model.h"

arm-none-eabi-gcc "${strict[@]}" "${m4[@]}" -I "$runtime" -c "$runtime/gruq_runtime.c" -o "$work/gruq_runtime.o"
arm-none-eabi-gcc -std=c99 "${m4[@]}" --specs=rdimon.specs -T "$bench/mps2_an386.ld" -I "$runtime" -I "$work" \
  "$bench/startup.c" "$bench/latency_main.c" "$work/gruq_runtime.o" "$work/gruq_model.c" -o "$work/latency.elf"
text=$(arm-none-eabi-size "$work/gruq_runtime.o" | awk 'NR == 2 {print $1}')
"${qemu[@]}" -kernel "$work/latency.elf" > "$work/m4.txt"

cc "${strict[@]}" -O2 -DGRUQ_HARNESS_EMBEDDED -I "$runtime" -I "$work" "$here/tests/runtime/harness.c" \
  "$runtime/gruq_runtime.c" "$work/gruq_model.c" -o "$work/harness-host"
"$work/harness-host" "$work/codes.bin" "$work/host.bin"
python3 - "$work/m4.txt" "$work/host.bin" "$count" "$steps" "$text" "$dir" <<'PY'
import struct, sys
m4_path, host_path, count, steps, text, folder = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), sys.argv[5], sys.argv[6]
lines = open(m4_path).read().split("\n")
logits = [list(map(int, l.split()[2:])) for l in lines if l.startswith("logits ")]
host = open(host_path, "rb").read()
flat = [v for row in logits for v in row]
if len(logits) != count or struct.pack(f"<{len(flat)}i", *flat) != host:
    sys.exit(f"m4_latency: MISMATCH: the Cortex-M4's logits differ from the host build's ({folder})")
ticks = next(l.split() for l in lines if l.startswith("ticks "))
empty, step_ticks, head_ticks = int(ticks[2]), int(ticks[4]), int(ticks[6])
# 25 MHz timer, 128 ns per instruction: 3.2 ticks per instruction; minus the two timer reads per sequence.
per_step = (step_ticks - empty) / 3.2 / (count * steps)
head = head_ticks / 3.2 / count
print(f"bit-exact: {count} sequences x {steps} steps, the Cortex-M4's logits equal the host build's")
print(f"instructions: {per_step:.0f} per GRU step, {head:.0f} for the classifier head, "
      f"{per_step * steps + head:.0f} per sequence of {steps} steps; runtime code {text} bytes (-O2)")
print(f"m4_latency instructions_per_step={per_step:.1f} head={head:.1f} steps={steps} "
      f"instructions_per_sequence={per_step * steps + head:.1f} runtime_text_bytes={text}")
PY
if [ "$phases" = 1 ]; then
  arm-none-eabi-gcc -std=c99 "${m4[@]}" --specs=rdimon.specs -T "$bench/mps2_an386.ld" -I "$runtime" -I "$work" \
    "$bench/startup.c" "$bench/phases_main.c" "$work/gruq_model.c" -o "$work/phases.elf"
  "${qemu[@]}" -kernel "$work/phases.elf" |
    awk -v n=$((count * steps)) -v c="$count" '$1 == "phase" {d = ($2 == "head") ? c : n; printf "phase %s %s %s %s %.1f\n", $2, $3, $4, $5, $6 / 3.2 / d}'
fi
