#!/usr/bin/env bash
# Builds every fuzz target with clang's libFuzzer + AddressSanitizer + UBSan, seeds a corpus and runs
# each target for a fixed number of executions.
#
#     scripts/fuzz.sh                 every target, 1,000,000 executions each
#     FUZZ_RUNS=N scripts/fuzz.sh     N executions each
#     scripts/fuzz.sh NAME...         only these targets
#
# Prints per target: executions, seconds, result. Exits non-zero on any finding (crash, sanitizer
# report, leak, timeout, out-of-memory, an exception other than gruq::InputError from a C++ reader, a
# broken invariant) or build failure; the inputs of findings are saved under fuzz/findings/
# (reproduce: build-fuzz/NAME fuzz/findings/FILE). Once fixed, a finding's input moves to
# fuzz/regressions/NAME/ under a descriptive name: each run replays those first (a failure there is
# reported as REGRESSION), and tests/test_fuzz_regressions replays them through the readers in the
# normal (uninstrumented) build.
# Build dir: build-fuzz/ (binaries, seed sets in build-fuzz/seeds/, working corpora in build-fuzz/corpus/).
# Needs Debian's clang with the libFuzzer runtime (package libclang-rt-14-dev for clang 14) and python3.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
BUILD="$ROOT/build-fuzz"
FINDINGS="$ROOT/fuzz/findings"
RUNS=${FUZZ_RUNS:-1000000}
CC=${CC_FUZZ:-clang}
CXX=${CXX_FUZZ:-clang++}
FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined"
MAX_LEN=${FUZZ_MAX_LEN:-16384}    # bytes; the seeds are well below it
TIMEOUT=${FUZZ_TIMEOUT:-10}       # seconds per input before libFuzzer reports a hang

# SearchSettings::validate checks the task name against the task registry, whose loaders pull in the
# dataset readers (all torch-free).
SETTINGS_CORE="search_settings genome task_registry mnist_task kws_task idx_reader speech_commands wav_io mfcc \
feature_cache split dataset paths hashing errors text numpy_task npz_archive npy_format"

# Targets: "name|seed set|build command". The command runs in $ROOT and writes the binary to $OUT.
# To add one, append a line; seed sets are made by seed_<set> below. C++ targets link only the core
# sources they need (no torch), through fuzz_cxx.
TARGETS=(
    "fuzz_runtime_blob|blobs|$CC $FLAGS -std=c99 -Wall -Wextra -Werror -Iresources/runtime resources/runtime/gruq_runtime.c fuzz/fuzz_runtime_blob.c -o \$OUT"
    "fuzz_core_blob|blobs|fuzz_cxx fuzz/fuzz_core_blob.cpp 'blob errors text genome size_metric float_model hashing dataset integer_engine fixed_point resources/runtime/gruq_runtime.c' -lz -lcrypto"
    "fuzz_idx|idx|fuzz_cxx fuzz/fuzz_idx.cpp 'idx_reader errors' -lz"
    "fuzz_npz|npz|fuzz_cxx fuzz/fuzz_npz.cpp 'npz_archive npy_format numpy_task dataset split errors text' -lzip"
    "fuzz_model_import|models|fuzz_cxx fuzz/fuzz_model_import.cpp 'gru_tensor_picker torch_save_reader onnx_gru_reader float_model npz_archive errors text hashing' -lzip -lonnx_proto -lprotobuf -lcrypto"
    "fuzz_wav|wav|fuzz_cxx fuzz/fuzz_wav.cpp 'wav_io errors' -lsndfile -lsamplerate"
    "fuzz_speech_lists|speech_lists|fuzz_cxx fuzz/fuzz_speech_lists.cpp 'speech_commands errors hashing' -lcrypto"
    "fuzz_genome|genome|fuzz_cxx fuzz/fuzz_genome.cpp 'genome errors text'"
    "fuzz_settings|settings|fuzz_cxx fuzz/fuzz_settings.cpp '$SETTINGS_CORE' -lz -lsndfile -lsamplerate -lfftw3f -lcrypto -lzip"
    "fuzz_archive|archive|fuzz_cxx fuzz/fuzz_archive.cpp 'archive errors text process_identity' -lsqlite3"
)

# Builds C++ target $OUT from SOURCE, the named core sources and the libraries:
#     fuzz_cxx fuzz/fuzz_idx.cpp 'idx_reader errors' -lz
# A bare name is core/<library>/src/NAME.cpp; a path (with a slash) is compiled as it is (.c as C99). Objects are
# instrumented like the target and cached in build-fuzz/obj-<flags hash>/, rebuilt when their source or
# any header under core/*/include or resources/runtime is newer.
# shellcheck disable=SC2317  # called through eval
CORE_INCLUDES=()
ONNX_DEFINES=(-DONNX_ML=1 -DONNX_NAMESPACE=onnx)  # as libonnx-dev's CMake target sets them
for dir in core/*/include; do CORE_INCLUDES+=("-I$dir"); done
fuzz_cxx() {
    local source=$1 sources=$2 objects=() item src obj objdir flags
    shift 2
    read -ra flags <<<"$FLAGS"
    objdir="$BUILD/obj-$(printf '%s' "$CC $CXX $FLAGS" | cksum | cut -d' ' -f1)"
    mkdir -p "$objdir"
    for item in $sources; do
        if [[ $item == */* ]]; then src=$item; else src=$(echo core/*/src/"$item".cpp); fi
        obj="$objdir/$(basename "${src%.*}").o"
        if [[ ! -e $obj || $src -nt $obj || -n $(find core/*/include resources/runtime -newer "$obj" -print -quit) ]]; then
            if [[ $src == *.c ]]; then
                $CC "${flags[@]}" -std=c99 -Wall -Wextra -Iresources/runtime -c "$src" -o "$obj" || return 1
            else
                $CXX "${flags[@]}" -std=c++17 -Wall -Wextra "${ONNX_DEFINES[@]}" "${CORE_INCLUDES[@]}" -c "$src" -o "$obj" || return 1
            fi
        fi
        objects+=("$obj")
    done
    $CXX "${flags[@]}" -std=c++17 -Wall -Wextra -Werror "${CORE_INCLUDES[@]}" -Iresources/runtime -Ifuzz "$source" \
        "${objects[@]}" "$@" -o "$OUT"
}

# Valid random blobs of several seeds, layouts and shapes, versions 1, 2 and 3, stacked ones of 2 and 3 layers
# (tests/runtime/make_blob.py), plus damaged variants: truncations at header boundaries, one flipped payload bit.
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
                [[ $((i % 3)) == 0 ]] && args+=(--version 1)  # version 1: no normalisation section
                [[ $((i % 3)) == 1 ]] && args+=(--version 2)  # version 2: one layer, no layer count
                python3 "$gen" "$dir/valid_$i.bin" "${args[@]}"
            done
        done
        # Stacked GRUs (version 3): 2 and 3 layers, a small and a random shape, tame and wild parameters.
        for layers in 2 3; do
            for shape in "3 5 2" ""; do
                i=$((i + 1))
                local args=(--seed "$i" --layout "$layout" --layers "$layers")
                if [[ -n $shape ]]; then
                    read -r f h c <<<"$shape"
                    args+=(--features "$f" --hidden "$h" --classes "$c")
                fi
                [[ $((i % 2)) == 0 ]] && args+=(--wild)
                python3 "$gen" "$dir/stacked_$i.bin" "${args[@]}"
            done
        done
    done
    python3 - "$dir" <<'EOF'
import os, sys
d = sys.argv[1]
for name in sorted(os.listdir(d))[::3]:  # some of each kind: checkpoints, ONNX files, state_dicts
    blob = open(os.path.join(d, name), "rb").read()
    stem = name[:-4]
    for cut in (0, 15, 16, 100, 639, 640, len(blob) - 1):
        open(os.path.join(d, "%s_cut%d.bin" % (stem, cut)), "wb").write(blob[:cut])
    flipped = bytearray(blob)
    flipped[len(blob) - 1] ^= 0x01
    open(os.path.join(d, "%s_flip.bin" % stem), "wb").write(bytes(flipped))
EOF
}

# Model files as PyTorch writes them (python3-torch): state_dicts and checkpoints of small GRU
# classifiers of 1 to 3 stacked layers and one of 4 (refused) (bias and no bias, float32 / float64 /
# float16), ONNX exports (stacked ones as chains of GRU nodes; a head on h_n[-1]), plus damaged variants:
# cut short, one flipped byte.
# shellcheck disable=SC2317
seed_models() {
    /usr/bin/python3 - "$1" <<'EOF'
import os, sys, warnings
import torch, torch.nn as nn
warnings.simplefilter("ignore")
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
torch.manual_seed(0)
class Net(nn.Module):
    def __init__(self, f, h, c, bias=True, layers=1, final_state=False):
        super().__init__()
        self.gru = nn.GRU(f, h, num_layers=layers, batch_first=True, bias=bias)
        self.fc = nn.Linear(h, c)
        self.final_state = final_state
    def forward(self, x):
        out, h = self.gru(x)
        return self.fc(h[-1] if self.final_state else out[:, -1])
i = 0
for f, h, c, bias, dtype, layers, final_state in (
        (1, 1, 2, True, torch.float32, 1, False), (3, 4, 3, False, torch.float32, 1, False),
        (2, 6, 4, True, torch.float64, 1, False), (4, 5, 2, True, torch.float16, 1, False),
        (2, 3, 2, True, torch.float32, 2, False), (3, 2, 3, False, torch.float32, 3, True),
        (1, 2, 2, True, torch.float32, 4, False)):
    net = Net(f, h, c, bias, layers, final_state)
    torch.save(net.to(dtype).state_dict(), os.path.join(d, "state_dict_%d.pt" % i))
    net = net.float()
    torch.save({"epoch": 1, "model_state_dict": net.state_dict()}, os.path.join(d, "checkpoint_%d.pt" % i))
    torch.onnx.export(net, torch.zeros(1, 3, f), os.path.join(d, "model_%d.onnx" % i))
    i += 1
for name in sorted(os.listdir(d))[::3]:  # some of each kind: checkpoints, ONNX files, state_dicts
    blob = open(os.path.join(d, name), "rb").read()
    open(os.path.join(d, "cut_" + name), "wb").write(blob[: len(blob) // 2])
    flipped = bytearray(blob)
    flipped[len(blob) // 3] ^= 0x10
    open(os.path.join(d, "flip_" + name), "wb").write(bytes(flipped))
EOF
}

# .npz files as NumPy writes them (savez and savez_compressed; float32/64, int8/16, uint8 features,
# int/uint labels, class names, lengths), plus damaged variants: cut short, one flipped byte.
# shellcheck disable=SC2317
seed_npz() {
    /usr/bin/python3 - "$1" <<'EOF'
import os, sys
import numpy as np
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
rng = np.random.default_rng(1)
i = 0
for n, t, f in ((4, 3, 2), (12, 5, 1), (30, 2, 4)):
    y = np.arange(n) % 3
    for dtype in (np.float32, np.float64, np.int8, np.uint8, np.int16):
        x = (rng.normal(0, 20, (n, t, f))).astype(dtype)
        extra = {}
        if i % 3 == 0: extra["class_names"] = np.array(["a", "bb", "ccc"])
        if i % 4 == 1: extra["lengths"] = np.full(n, t, dtype=np.int32)
        save = np.savez_compressed if i % 2 else np.savez
        save(os.path.join(d, "valid_%d.npz" % i), x=x, y=y.astype(np.int64 if i % 2 else np.uint8), **extra)
        i += 1
for name in sorted(os.listdir(d))[:5]:
    blob = open(os.path.join(d, name), "rb").read()
    open(os.path.join(d, name[:-4] + "_cut.npz"), "wb").write(blob[: len(blob) // 2])
    flipped = bytearray(blob)
    flipped[len(blob) // 3] ^= 0x10
    open(os.path.join(d, name[:-4] + "_flip.npz"), "wb").write(bytes(flipped))
EOF
}

# IDX files of 1..4 dimensions (labels, images, odd shapes), raw and gzip-compressed, plus damaged
# variants: wrong type byte, truncated data, trailing data, a truncated gzip stream.
# shellcheck disable=SC2317
seed_idx() {
    python3 - "$1" <<'EOF'
import gzip, os, struct, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
def idx(dims, fill=lambda i: (i * 37) % 256):
    n = 1
    for x in dims: n *= x
    return bytes([0, 0, 8, len(dims)]) + b"".join(struct.pack(">I", x) for x in dims) + bytes(fill(i) for i in range(n))
shapes = {"labels": [10], "images": [3, 28, 28], "rows": [4, 7], "four": [2, 3, 2, 5], "one": [1], "wide": [1, 1000]}
for name, dims in shapes.items():
    raw = idx(dims)
    open(os.path.join(d, name + ".idx"), "wb").write(raw)
    open(os.path.join(d, name + ".idx.gz"), "wb").write(gzip.compress(raw, 6))
raw = idx([3, 28, 28])
open(os.path.join(d, "type_int.idx"), "wb").write(raw[:2] + b"\x0c" + raw[3:])
open(os.path.join(d, "truncated.idx"), "wb").write(raw[:-5])
open(os.path.join(d, "trailing.idx"), "wb").write(raw + b"\x00")
open(os.path.join(d, "truncated.idx.gz"), "wb").write(gzip.compress(raw)[:-9])
open(os.path.join(d, "two_members.idx.gz"), "wb").write(gzip.compress(raw[:100]) + gzip.compress(raw[100:]))
EOF
}

# Audio of every common WAV encoding (8-bit unsigned, 16/24/32-bit PCM, 32/64-bit float, A-law, mu-law,
# WAVE_FORMAT_EXTENSIBLE) in mono, stereo and 6 channels at several rates, plus AIFF and AU files (the
# reader takes any format libsndfile detects) and damaged variants (truncated, chunk sizes too large).
# shellcheck disable=SC2317
seed_wav() {
    python3 - "$1" <<'EOF'
import math, os, struct, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
def tone(frames, channels):
    return [[0.6 * math.sin(2 * math.pi * (440 + 110 * c) * i / 16000.0) for c in range(channels)] for i in range(frames)]
def pcm(samples, bits, kind):
    out = bytearray()
    for frame in samples:
        for v in frame:
            if kind == "float":
                out += struct.pack("<f" if bits == 32 else "<d", v)
            elif bits == 8:
                out.append(int(round(v * 127)) + 128)
            else:
                q = int(round(v * (2 ** (bits - 1) - 1)))
                out += q.to_bytes(bits // 8, "little", signed=True)
    return bytes(out)
def law(samples, mu):
    out = bytearray()
    for frame in samples:
        for v in frame:
            s = max(-1.0, min(1.0, v))
            if mu:
                y = math.copysign(math.log1p(255 * abs(s)) / math.log1p(255), s)
            else:
                a = 87.6
                y = math.copysign((a * abs(s)) / (1 + math.log(a)) if abs(s) < 1 / a else (1 + math.log(a * abs(s))) / (1 + math.log(a)), s)
            out.append(int((y + 1) * 127.5) & 0xFF)
    return bytes(out)
def wav(path, rate, channels, bits, tag, data, extensible=False):
    block = channels * bits // 8
    fmt = struct.pack("<HHIIHH", 0xFFFE if extensible else tag, channels, rate, rate * block, block, bits)
    if extensible:
        guid = struct.pack("<H", tag) + b"\x00\x00\x00\x00\x10\x00\x80\x00\x00\xaa\x00\x38\x9b\x71"
        fmt += struct.pack("<HHI", 22, bits, (1 << channels) - 1) + guid
    elif tag != 1:
        fmt += struct.pack("<H", 0)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt
    if tag != 1:
        body += b"fact" + struct.pack("<II", 4, len(data) // block)
    body += b"data" + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")
    open(path, "wb").write(b"RIFF" + struct.pack("<I", len(body)) + body)
    return b"RIFF" + struct.pack("<I", len(body)) + body
variants = [(8, "int", 1, 8000), (16, "int", 1, 16000), (16, "int", 2, 44100), (24, "int", 1, 22050),
            (24, "int", 2, 48000), (32, "int", 1, 16000), (32, "float", 1, 16000), (32, "float", 2, 11025),
            (64, "float", 1, 16000), (16, "int", 6, 16000)]
for bits, kind, channels, rate in variants:
    frames = 300 if channels < 6 else 100
    data = pcm(tone(frames, channels), bits, kind)
    tag = 3 if kind == "float" else 1
    name = "%s%d_%dch_%d" % (kind, bits, channels, rate)
    wav(os.path.join(d, name + ".wav"), rate, channels, bits, tag, data)
    if channels == 2 or bits == 24:
        wav(os.path.join(d, name + "_ext.wav"), rate, channels, bits, tag, data, extensible=True)
wav(os.path.join(d, "alaw.wav"), 8000, 1, 8, 6, law(tone(400, 1), False))
wav(os.path.join(d, "ulaw.wav"), 8000, 1, 8, 7, law(tone(400, 1), True))
full = wav(os.path.join(d, "short.wav"), 16000, 1, 16, 1, pcm(tone(40, 1), 16, "int"))
open(os.path.join(d, "truncated.wav"), "wb").write(full[:60])
big = bytearray(full)
big[40:44] = struct.pack("<I", 0x7FFFFFF0)  # data chunk size far beyond the file
open(os.path.join(d, "data_too_long.wav"), "wb").write(bytes(big))
big = bytearray(full)
big[4:8] = struct.pack("<I", 0xFFFFFFFF)
open(os.path.join(d, "riff_too_long.wav"), "wb").write(bytes(big))
# AU: big-endian 16-bit PCM (encoding 3).
data = b"".join(struct.pack(">h", int(f[0] * 20000)) for f in tone(300, 1))
open(os.path.join(d, "tone.au"), "wb").write(b".snd" + struct.pack(">IIIII", 24, len(data), 3, 16000, 1) + data)
# AIFF: COMM + SSND, 16-bit, sample rate as 80-bit extended (16000 Hz).
def ext80(v):
    e = int(math.floor(math.log2(v)))
    return struct.pack(">HQ", 16383 + e, int(v * 2 ** (63 - e)))
data = b"".join(struct.pack(">h", int(f[0] * 20000)) for f in tone(300, 1))
comm = struct.pack(">hIh", 1, 300, 16) + ext80(16000)
ssnd = struct.pack(">II", 0, 0) + data
body = b"AIFF" + b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", len(ssnd)) + ssnd
open(os.path.join(d, "tone.aiff"), "wb").write(b"FORM" + struct.pack(">I", len(body)) + body)
# FLAC (libFLAC behind libsndfile): one stream of CONSTANT subframes, one of VERBATIM subframes.
def crc(data, width, poly):
    c, top = 0, 1 << (width - 1)
    for b in data:
        c ^= b << (width - 8)
        for _ in range(8):
            c = ((c << 1) ^ poly) if c & top else c << 1
            c &= (1 << width) - 1
    return c
def flac(path, frames, block, verbatim):
    fields = [(block, 16), (block, 16), (0, 24), (0, 24), (16000, 20), (0, 3), (15, 5), (frames * block, 36), (0, 128)]
    v = 0
    for value, width in fields:
        v = (v << width) | value
    out = bytearray(b"fLaC\x80" + (34).to_bytes(3, "big") + v.to_bytes(34, "big"))
    for n in range(frames):
        head = bytes([0xFF, 0xF8, 0x70, 0x08, n]) + (block - 1).to_bytes(2, "big")
        head += bytes([crc(head, 8, 0x07)])
        if verbatim:
            body = b"\x02" + b"".join(struct.pack(">h", int(f[0] * 20000)) for f in tone(block, 1))
        else:
            body = b"\x00" + struct.pack(">h", 1000 * (n + 1))
        frame = head + body
        out += frame + crc(frame, 16, 0x8005).to_bytes(2, "big")
    open(path, "wb").write(bytes(out))
flac(os.path.join(d, "constant.flac"), 3, 4096, False)
flac(os.path.join(d, "verbatim.flac"), 2, 256, True)
EOF
}

# Inputs of fuzz_speech_lists (byte 0: which list files exist; validation list, NUL, testing list)
# naming the clips of its fixed tree: valid splits, CRLF and backslash paths, blank lines, and
# errors (unknown clip, a clip in both lists).
# shellcheck disable=SC2317
seed_speech_lists() {
    python3 - "$1" <<'EOF'
import os, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
cases = {
    "none": (0, "", ""),
    "validation_only": (1, "yes/9e3779b1_nohash_0.wav\n", ""),
    "testing_only": (2, "", "no/c6ef3620_nohash_0.wav\n"),
    "both": (3, "yes/9e3779b1_nohash_0.wav\n", "no/c6ef3620_nohash_0.wav\nno/daa66d13_nohash_0.WAV\n"),
    "crlf_backslash": (3, "yes\\9e3779b1_nohash_0.wav\r\n\r\n  yes/0a7c2a8d_nohash_1.wav  \r\n", "no\\c6ef3620_nohash_0.wav\r\n"),
    "empty_lists": (3, "\n\n", "   \n"),
    "unknown_clip": (1, "yes/ffffffff_nohash_0.wav\n", ""),
    "in_both": (3, "no/c6ef3620_nohash_0.wav\n", "no/c6ef3620_nohash_0.wav\n"),
    "repeated": (1, "yes/9e3779b1_nohash_0.wav\nyes/9e3779b1_nohash_0.wav\n", ""),
    "background": (1, "_background_noise_/white_noise.wav\n", ""),
}
for name, (flags, validation, testing) in cases.items():
    open(os.path.join(d, name), "wb").write(bytes([flags]) + validation.encode() + b"\0" + testing.encode())
EOF
}

# Inputs of fuzz_genome (byte 0, low two bits: 0 default17, 1 homogeneous, 2 per-gate text, 3 JSON; next
# bits: layers - 1): canonical texts of each layout, the alternative spellings ("W_IH=4", commas,
# "x = 8"), JSON of each layout, their 2- and 3-layer forms (l2_/l3_ genes, "default17-L2"), and typical
# mistakes (unknown, duplicate, missing gene, bits out of range, a one-layer genome for two layers).
# shellcheck disable=SC2317
seed_genome() {
    python3 - "$1" <<'EOF'
import json, os, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
layouts = {
    "default17": ["x", "w_ih", "w_hh", "ih", "hh", "sum_r", "sum_z", "sig_r", "sig_z", "mul_rn", "sum_n",
                  "tanh_n", "mul_zn", "mul_zh", "h", "w_fc", "fc"],
    "homogeneous": ["bits"],
    "per-gate": ["x", "w_ir", "w_iz", "w_in", "w_hr", "w_hz", "w_hn", "ih_r", "ih_z", "ih_n", "hh_r", "hh_z",
                 "hh_n", "sum_r", "sum_z", "sig_r", "sig_z", "mul_rn", "sum_n", "tanh_n", "mul_zn", "mul_zh",
                 "h", "w_fc", "fc"],
}
def put(name, selector, text):
    open(os.path.join(d, name), "wb").write(bytes([selector]) + text.encode())
for selector, (layout, genes) in enumerate(layouts.items()):
    bits = [2 + (i * 3) % 7 for i in range(len(genes))]
    put(layout + "_text", selector, " ".join("%s%d" % g for g in zip(genes, bits)))
    put(layout + "_equals", selector, ", ".join("%s = %d" % (g.upper(), b) for g, b in zip(genes, bits)))
    put(layout + "_json", 3, json.dumps({"layout": layout, "genes": dict(zip(genes, bits))}))
    put(layout + "_missing", selector, " ".join("%s8" % g for g in genes[1:]))
    put(layout + "_duplicate", selector, " ".join("%s8" % g for g in genes + genes[:1]))
    put(layout + "_range", selector, " ".join("%s%d" % (g, 9 if i == 0 else 8) for i, g in enumerate(genes)))
# The L-layer forms (core/quant/src/genome.cpp stackedLayout): x first, the cell genes per layer with
# "l<k>_" from layer 2 on, the head (w_fc, fc) last; homogeneous stays one gene.
def stacked(genes, layers):
    if genes == ["bits"]:
        return genes
    cell = [g for g in genes if g not in ("x", "w_fc", "fc")]
    return (["x"] + cell + ["l%d_%s" % (l, g) for l in range(2, layers + 1) for g in cell] + ["w_fc", "fc"])
for selector, (layout, genes) in enumerate(layouts.items()):
    for layers in (2, 3):
        names = stacked(genes, layers)
        bits = [2 + (i * 5) % 7 for i in range(len(names))]
        put("%s_L%d_text" % (layout, layers), selector + 4 * (layers - 1), " ".join("%s%d" % g for g in zip(names, bits)))
        put("%s_L%d_json" % (layout, layers), 3 + 4 * (layers - 1),
            json.dumps({"layout": "%s-L%d" % (layout, layers), "genes": dict(zip(names, bits))}))
    put(layout + "_one_layer_for_two", selector + 4, " ".join("%s8" % g for g in genes))
put("json_layout_L4", 3, '{"layout":"default17-L4","genes":{}}')
put("unknown_gene", 0, "foo8 " + " ".join("%s8" % g for g in layouts["default17"]))
put("json_string_bits", 3, '{"layout":"homogeneous","genes":{"bits":"8"}}')
put("json_huge_bits", 3, '{"layout":"homogeneous","genes":{"bits":18446744073709551615}}')
put("json_negative_bits", 3, '{"layout":"homogeneous","genes":{"bits":-9223372036854775808}}')
put("json_unknown_layout", 3, '{"layout":"other","genes":{}}')
EOF
}

# Search settings: the defaults as SearchSettings::toJson writes them, an empty object (all defaults),
# each task and layout, and invalid values (wrong types, out of range, unknown task).
# shellcheck disable=SC2317
seed_settings() {
    python3 - "$1" <<'EOF'
import copy, json, os, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
defaults = {
    "format": "gruq-search-settings-1", "task": "smnist-row",
    "data": {"path": "", "seed": 0, "validation_fraction": 0.1, "max_train": 0, "max_test": 0,
             "kws_unknown": False, "kws_silence": False},
    "model": {"hidden_size": 64, "layers": 1, "epochs": 20, "batch_size": 128, "learning_rate": 0.002, "seed": 0},
    "qat": {"epochs": 1, "samples_per_epoch": 4096, "batch_size": 128, "learning_rate": 0.0005,
            "calibration_batches": 16, "ema_momentum": 0.9, "freeze_ranges_after": 0.5, "grad_clip_norm": 1.0,
            "seed": 0},
    "layout": "default17", "min_bits": 2, "max_bits": 8,
    "nsga2": {"population": 24, "generations": 20, "crossover_probability": 0.95,
              "crossover_distribution_index": 10.0, "mutation_probability": 0.1, "mutation_distribution_index": 50.0},
    "seed": 0, "workers": 0, "threads_per_worker": 0, "baselines": True, "seed_with_baselines": True,
    "refine_baselines": True,
    "multi_fidelity": {"enabled": True, "rung": 0.25, "rung_validation": 0.25, "gain_neighbours": 16,
                       "gain_quantile": 1.0},
    "objectives": ["error", "flash"], "budget": {"max_flash_bytes": 0, "max_latency_us": 0, "cpu_mhz": 0},
}
def put(name, value):
    text = value if isinstance(value, str) else json.dumps(value, indent=2)
    open(os.path.join(d, name + ".json"), "w").write(text)
put("defaults", defaults)
put("empty", "{}")
for task in ("smnist-pixel", "kws4", "kws10"):
    put("task_" + task, {"task": task, "data": {"path": "/data/x", "kws_unknown": True, "kws_silence": True}})
for layout in ("homogeneous", "per-gate"):
    put("layout_" + layout, {"layout": layout, "min_bits": 3, "max_bits": 6})
bad = copy.deepcopy(defaults)
bad["nsga2"]["population"] = 10
put("bad_population", bad)
put("bad_type", {"model": {"hidden_size": "64"}})
put("stacked", {"model": {"hidden_size": 256, "layers": 3}})
put("stacked_bad", {"model": {"layers": 4}, "layout": "default17-L2"})
put("bad_section", {"qat": [1, 2]})
put("unknown_task", {"task": "mnist"})
put("multi_fidelity", {"multi_fidelity": {"enabled": True, "rung": 0.25, "rung_validation": 0.25,
                                      "gain_neighbours": 16, "gain_quantile": 1.0}})
put("multi_fidelity_bad_rung", {"multi_fidelity": {"rung": 1.0, "gain_neighbours": 0}})
put("multi_fidelity_off", {"multi_fidelity": {"enabled": False, "rung": 7}})
put("objectives_three", {"objectives": ["error", "flash", "latency"],
                         "budget": {"max_flash_bytes": 12389, "max_latency_us": 1500, "cpu_mhz": 80}})
put("objectives_latency", {"objectives": ["latency", "error"], "budget": {"max_latency_us": 0, "cpu_mhz": 0}})
put("objectives_bad", {"objectives": ["error", "error"], "budget": {"max_flash_bytes": -1, "max_latency_us": 1e300}})
put("objectives_not_array", {"objectives": "error,flash", "budget": []})
put("huge_seed", '{"seed": 18446744073709551615, "workers": 2, "threads_per_worker": 1}')
put("float_for_int", '{"model": {"epochs": 2.5}}')
put("not_object", "[1, 2, 3]")
EOF
}

# Search archives made with the schema of core/search/src/archive.cpp (512-byte pages keep them small):
# schema 2 in WAL and rollback-journal mode, an old schema 1 archive (migrated on a read-write
# open), one without individuals, and foreign / damaged variants.
# shellcheck disable=SC2317
seed_archive() {
    python3 - "$1" <<'EOF'
import json, os, sqlite3, sys
d = sys.argv[1]
os.makedirs(d, exist_ok=True)
SCHEMA_V2 = """
CREATE TABLE meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE individuals(id INTEGER PRIMARY KEY, layout TEXT NOT NULL, genome TEXT NOT NULL, genes TEXT NOT NULL,
    val_accuracy REAL, fq_val_accuracy REAL, test_accuracy REAL, fq_test_accuracy REAL DEFAULT -1,
    size_bits INTEGER NOT NULL, size_fraction REAL, seconds REAL, generation INTEGER NOT NULL,
    baseline INTEGER NOT NULL DEFAULT 0, created_at TEXT NOT NULL, UNIQUE(layout, genome));
CREATE TABLE generations(generation INTEGER PRIMARY KEY, population TEXT NOT NULL, front TEXT NOT NULL,
    hypervolume REAL, seconds REAL);
CREATE TABLE state(key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
SCHEMA_V1 = SCHEMA_V2.replace(" fq_test_accuracy REAL DEFAULT -1,", "").replace(
    "CREATE TABLE state(key TEXT PRIMARY KEY, value TEXT NOT NULL);", "")
def make(name, version=2, wal=True, individuals=3, app_id=0x47525551):
    path = os.path.join(d, name)
    db = sqlite3.connect(path, isolation_level=None)
    db.execute("PRAGMA page_size=512")
    db.execute("PRAGMA journal_mode=%s" % ("WAL" if wal else "DELETE"))
    db.executescript(SCHEMA_V2 if version == 2 else SCHEMA_V1)
    db.execute("PRAGMA application_id=%d" % app_id)
    db.execute("PRAGMA user_version=%d" % version)
    db.execute("INSERT INTO meta VALUES('settings', ?)", (json.dumps({"task": "smnist-row", "seed": 1}),))
    db.execute("INSERT INTO meta VALUES('float_model', ?)", (json.dumps({"hidden": 16}),))
    db.execute("INSERT INTO meta VALUES('created_by', 'gruq')")
    for i in range(individuals):
        genes = [8 - (i + g) % 6 for g in range(17)]
        cols = ("layout, genome, genes, val_accuracy, fq_val_accuracy, test_accuracy, %s size_bits, size_fraction, "
                "seconds, generation, baseline, created_at") % ("fq_test_accuracy," if version == 2 else "")
        values = ["default17", "genome%d" % i, json.dumps(genes), 0.9 - i / 100, 0.89, -1.0] + \
                 ([-1.0] if version == 2 else []) + [1000 + i, 0.5, 1.5, i - 1, int(i == 0), "2024-01-01T00:00:00Z"]
        db.execute("INSERT INTO individuals(%s) VALUES(%s)" % (cols, ",".join("?" * len(values))), values)
    if individuals:
        db.execute("INSERT INTO generations VALUES(0, ?, ?, 0.5, 2.0)",
                   (json.dumps(list(range(1, individuals + 1))), json.dumps([1])))
    if version == 2:
        db.execute("INSERT INTO state VALUES('status', 'finished')")
    db.execute("VACUUM")
    db.close()
    return open(path, "rb").read()
good = make("v2_wal")
make("v2_rollback", wal=False)
make("v1_rollback", version=1, wal=False)
make("v2_empty", individuals=0)
make("foreign_app_id", app_id=0x12345678, wal=False)
open(os.path.join(d, "truncated"), "wb").write(good[: len(good) // 2])
open(os.path.join(d, "header_only"), "wb").write(good[:100])
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

    # The inputs of fixed findings, each run once and whole. They stay out of the corpus: some (a
    # decompression bomb) are slow on purpose and would slow down every mutation made from them.
    regressions=()
    [[ -d $ROOT/fuzz/regressions/$name ]] && mapfile -t regressions < <(find "$ROOT/fuzz/regressions/$name" -type f | sort)
    # Generous timeout: the bomb decodes up to the reader's sample limit, seconds under the sanitizers.
    if ((${#regressions[@]})) && ! "$OUT" -timeout=$((TIMEOUT * 6)) "${regressions[@]}" \
        >"$BUILD/logs/$name.regressions.log" 2>&1; then
        echo "== $name: a regression input fails again (log $BUILD/logs/$name.regressions.log)" >&2
        summary+=("$(printf '%-24s %12s %9s  %s' "$name" - - "REGRESSION (log build-fuzz/logs/$name.regressions.log)")")
        status=1
        continue
    fi

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
