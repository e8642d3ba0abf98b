#!/usr/bin/env bash
# Builds every fuzz target with clang's libFuzzer + AddressSanitizer + UBSan, seeds a corpus and runs
# each target for a fixed number of executions.
#
#     scripts/fuzz.sh                 every target, 1,000,000 executions each
#     FUZZ_RUNS=N scripts/fuzz.sh     N executions each
#     scripts/fuzz.sh NAME...         only these targets
#
# Prints per target: executions, seconds, result. Exits non-zero on any finding (crash, sanitizer
# report, leak, timeout, out-of-memory) or build failure; the inputs of findings are saved under
# fuzz/findings/ (reproduce: build-fuzz/NAME fuzz/findings/FILE).
# Build dir: build-fuzz/ (binaries, seed sets in build-fuzz/seeds/, working corpora in build-fuzz/corpus/).
# Needs Debian's clang with the libFuzzer runtime (package libclang-rt-14-dev for clang 14) and python3.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/build-fuzz"
FINDINGS="$ROOT/fuzz/findings"
RUNS=${FUZZ_RUNS:-1000000}
CC=${CC_FUZZ:-clang}
FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
MAX_LEN=${FUZZ_MAX_LEN:-16384}    # bytes; the seeds are well below it
TIMEOUT=${FUZZ_TIMEOUT:-10}       # seconds per input before libFuzzer reports a hang

# Targets: "name|seed set|build command". The command runs in $ROOT and writes the binary to $OUT.
# To add one (e.g. the C++ blob reader), append a line; seed sets are made by seed_<set> below.
TARGETS=(
    "fuzz_runtime_blob|blobs|$CC $FLAGS -std=c99 -Wall -Wextra -Werror -Iresources/runtime resources/runtime/gruq_runtime.c fuzz/fuzz_runtime_blob.c -o \$OUT"
)

# Valid random blobs of several seeds, layouts and shapes (tests/runtime/make_blob.py), plus damaged
# variants: truncations at header boundaries, one flipped payload bit.
# shellcheck disable=SC2317  # seed_* functions are called indirectly
seed_blobs() {
    local dir=$1 gen="$ROOT/tests/runtime/make_blob.py" i=0 layout shape wild f h c
    mkdir -p "$dir"
    for layout in homogeneous default17 per-gate; do
        for shape in "1 1 1" "3 5 2" "8 12 4" "16 24 10" "" "" ""; do
            for wild in "" --wild; do
                i=$((i + 1))
                local args=(--seed "$i" --layout "$layout")
                if [[ -n $shape ]]; then
                    read -r f h c <<<"$shape"
                    args+=(--features "$f" --hidden "$h" --classes "$c")
                fi
                [[ -n $wild ]] && args+=("$wild")
                python3 "$gen" "$dir/valid_$i.bin" "${args[@]}"
            done
        done
    done
    python3 - "$dir" <<'EOF'
import os, sys
d = sys.argv[1]
for name in sorted(os.listdir(d))[:6]:
    blob = open(os.path.join(d, name), "rb").read()
    stem = name[:-4]
    for cut in (0, 15, 16, 100, 639, 640, len(blob) - 1):
        open(os.path.join(d, "%s_cut%d.bin" % (stem, cut)), "wb").write(blob[:cut])
    flipped = bytearray(blob)
    flipped[len(blob) - 1] ^= 0x01
    open(os.path.join(d, "%s_flip.bin" % stem), "wb").write(bytes(flipped))
EOF
}

mkdir -p "$BUILD/seeds" "$BUILD/corpus" "$BUILD/logs" "$FINDINGS"

selected=("$@")
declare -A seeded=()
for want in "${selected[@]}"; do
    known=0
    for entry in "${TARGETS[@]}"; do [[ ${entry%%|*} == "$want" ]] && known=1; done
    if ((!known)); then
        echo "unknown fuzz target '$want'; known: $(for e in "${TARGETS[@]}"; do printf '%s ' "${e%%|*}"; done)" >&2
        exit 2
    fi
done
status=0
summary=()
for entry in "${TARGETS[@]}"; do
    IFS='|' read -r name seeds command <<<"$entry"
    if ((${#selected[@]})) && [[ " ${selected[*]} " != *" $name "* ]]; then continue; fi

    echo "== $name: building"
    OUT="$BUILD/$name"
    if ! (cd "$ROOT" && eval "$command"); then
        echo "== $name: BUILD FAILED" >&2
        summary+=("$(printf '%-24s %12s %9s  %s' "$name" - - 'build failed')")
        status=1
        continue
    fi

    if [[ -z ${seeded[$seeds]:-} ]]; then # regenerated once per run (cheap), never stale
        rm -rf "${BUILD:?}/seeds/$seeds"
        "seed_$seeds" "$BUILD/seeds/$seeds"
        seeded[$seeds]=1
    fi
    corpus="$BUILD/corpus/$name"
    mkdir -p "$corpus"
    log="$BUILD/logs/$name.log"
    before=$(find "$FINDINGS" -maxdepth 1 -name "$name-*" | wc -l)

    echo "== $name: $RUNS executions"
    start=$(date +%s.%N)
    set +e
    "$OUT" -runs="$RUNS" -max_len="$MAX_LEN" -timeout="$TIMEOUT" -print_final_stats=1 \
        -artifact_prefix="$FINDINGS/$name-" "$corpus" "$BUILD/seeds/$seeds" >"$log" 2>&1
    rc=$?
    set -e
    end=$(date +%s.%N)
    seconds=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    after=$(find "$FINDINGS" -maxdepth 1 -name "$name-*" | wc -l)

    if [[ $rc -eq 0 && $after -eq $before ]]; then
        result="ok (no findings)"
    else
        result="FINDING (exit $rc; inputs in fuzz/findings/$name-*; log $log)"
        grep -m 3 -E 'ERROR|runtime error|SUMMARY' "$log" >&2 || tail -n 20 "$log" >&2
        status=1
    fi
    summary+=("$(printf '%-24s %12s %9s  %s' "$name" "${execs:-?}" "$seconds" "$result")")
done

echo
printf '%-24s %12s %9s  %s\n' target executions seconds result
for line in "${summary[@]}"; do echo "$line"; done
exit $status
