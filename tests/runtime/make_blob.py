#!/usr/bin/env python3
"""Writes a VALID random gruq firmware blob (docs/blob-format.md), for runtime self-tests and fuzz seeds.

    make_blob.py OUT.bin --seed N [--features F --hidden H --classes C] [--layers L] [--version V]
                 [--layout homogeneous|default17|per-gate] [--bits B] [--wild]
                 [--codes CODES.bin --count N --steps T]

Every parameter is random but inside the format's ranges: bit widths 2..8 resolved from a random
genome of the chosen layout (--bits B: every gene B), zero points valid for their point, multipliers M < 2^31 with shifts chosen
so that outputs are spread over their codes rather than all saturated (--wild instead draws multipliers,
shifts and biases from the whole valid range: shifts 1..62, biases +-2^30), weights |w| <= 2^(b-1) - 1,
LUT entries random codes. Shape defaults are small random values. --codes also writes a random input
file for tests/runtime/harness (u32 count, u32 steps, u32 features, then count*steps*features codes
< 2^b(x)). Standard library only.
"""
import argparse
import random
import struct
import sys
import zlib

POINTS = ["x", "w_ir", "w_iz", "w_in", "w_hr", "w_hz", "w_hn", "ih_r", "ih_z", "ih_n", "hh_r", "hh_z", "hh_n",
          "sum_r", "sum_z", "sig_r", "sig_z", "mul_rn", "sum_n", "tanh_n", "mul_zn", "mul_zh", "h", "w_fc", "fc"]
P = {name: i for i, name in enumerate(POINTS)}
WEIGHT_POINTS = {P[n] for n in ("w_ir", "w_iz", "w_in", "w_hr", "w_hz", "w_hn", "w_fc")}

# Genome layouts (core/quant/src/genome.cpp): id, genes as lists of point indices, in layout order.
DEFAULT17 = [["x"], ["w_ir", "w_iz", "w_in"], ["w_hr", "w_hz", "w_hn"], ["ih_r", "ih_z", "ih_n"],
             ["hh_r", "hh_z", "hh_n"], ["sum_r"], ["sum_z"], ["sig_r"], ["sig_z"], ["mul_rn"], ["sum_n"],
             ["tanh_n"], ["mul_zn"], ["mul_zh"], ["h"], ["w_fc"], ["fc"]]
LAYOUTS = {
    "default17": (0, [[P[n] for n in gene] for gene in DEFAULT17]),
    "homogeneous": (1, [list(range(25))]),
    "per-gate": (2, [[i] for i in range(25)]),
}

HEADER_BYTES = 640
MAX_SHIFT = 62


class BitWriter:
    """LSB-first bit stream: field bit i goes to stream bit p + i; stream bit q is bit q % 8 of byte q // 8."""

    def __init__(self):
        self.out = bytearray()
        self.acc = 0
        self.nbits = 0
        self.total = 0

    def put(self, value, bits):
        assert 0 <= value < (1 << bits)
        self.acc |= value << self.nbits
        self.nbits += bits
        self.total += bits
        while self.nbits >= 8:
            self.out.append(self.acc & 0xFF)
            self.acc >>= 8
            self.nbits -= 8

    def finish(self):
        if self.nbits:
            self.out.append(self.acc & 0xFF)  # padding bits are 0
            self.acc, self.nbits = 0, 0
        return bytes(self.out)


def fixed_multiplier(m):
    """m ~= M / 2^n: the largest n <= 62 with round(m 2^n) < 2^31 (fixed_point.h); m > 0."""
    for n in range(MAX_SHIFT, 0, -1):
        mant = int(m * (1 << n) + 0.5)
        if mant < (1 << 31):
            return max(mant, 0), n
    return (1 << 31) - 1, 1


def shared_multiplier(ma, mb):
    for n in range(MAX_SHIFT, 0, -1):
        a, b = int(ma * (1 << n) + 0.5), int(mb * (1 << n) + 0.5)
        if a < (1 << 31) and b < (1 << 31):
            return a, b, n
    return (1 << 31) - 1, (1 << 31) - 1, 1


def stacked_genes(layout_name, layers):
    """The genes of a layout stacked `layers` high (core/quant/src/genome.cpp, stackedLayout), as (layer, points)
    with layer None for a gene of every layer: homogeneous keeps its one gene; otherwise the first layer's
    genes (all but the head's w_fc, fc, the last two), the cell genes (all but x and the head's) of layers
    2..L, then the head's (the last layer's)."""
    layout_id, genes = LAYOUTS[layout_name]
    if layout_name == "homogeneous":
        return layout_id, [(None, genes[0])]
    out = [(0, g) for g in genes[:-2]]
    for layer in range(1, layers):
        out += [(layer, g) for g in genes[1:-2]]
    out += [(layers - 1, g) for g in genes[-2:]]
    return layout_id, out


def make_layer(rng, bits, In, H, C, wild, x_zero=None, x_scale=None):
    """Random valid quantizers and payload of one layer (C > 0: the first, with the head's fc multiplier,
    W_fc scale, b_fc and W_fc). Layer l >= 2 takes x_zero / x_scale: layer l-1's h quantizer."""

    def qmax(p):
        return (1 << bits[p]) - 1

    def wmax(p):
        return (1 << (bits[p] - 1)) - 1

    zero = [0] * 25
    for p in range(25):
        if p in WEIGHT_POINTS or p in (P["sig_r"], P["sig_z"]):
            zero[p] = 0
        elif p == P["tanh_n"]:
            zero[p] = (1 << (bits[p] - 1)) - 1
        else:
            zero[p] = rng.randint(0, qmax(p))
    if x_zero is not None:
        zero[P["x"]] = x_zero

    # Typical accumulator magnitudes, to pick multipliers that spread the outputs over their codes.
    def typical(cols, wp, inp):
        return max(1.0, (cols ** 0.5) * max(1, wmax(wp)) * max(1, qmax(inp)) / 3.0)

    def rand_mul(scale):
        if wild:
            return rng.randrange(0, 1 << 31), rng.randint(1, MAX_SHIFT)
        return fixed_multiplier(scale * rng.uniform(0.25, 1.5))

    def rand_add(scale_a, scale_b):
        if wild:
            return rng.randrange(0, 1 << 31), rng.randrange(0, 1 << 31), rng.randint(1, MAX_SHIFT)
        return shared_multiplier(scale_a * rng.uniform(0.3, 1.5), scale_b * rng.uniform(0.3, 1.5))

    mults = []
    for g in range(3):
        mults.append(rand_mul(qmax(P["ih_r"] + g) / (2 * typical(In, P["w_ir"] + g, P["x"]))))
    for g in range(3):
        mults.append(rand_mul(qmax(P["hh_r"] + g) / (2 * typical(H, P["w_hr"] + g, P["h"]))))
    if C:
        mults.append(rand_mul(qmax(P["fc"]) / (2 * typical(H, P["w_fc"], P["h"]))))
    mults.append(rand_mul(qmax(P["mul_rn"]) / max(1, qmax(P["sig_r"]) * qmax(P["hh_n"]) / 2)))
    mults.append(rand_mul(qmax(P["mul_zn"]) / max(1, qmax(P["sig_z"]) * wmax(P["tanh_n"]))))
    mults.append(rand_mul(qmax(P["mul_zh"]) / max(1, qmax(P["sig_z"]) * qmax(P["h"]) / 2)))
    adds = [
        rand_add(qmax(P["sum_r"]) / qmax(P["ih_r"]), qmax(P["sum_r"]) / qmax(P["hh_r"])),
        rand_add(qmax(P["sum_z"]) / qmax(P["ih_z"]), qmax(P["sum_z"]) / qmax(P["hh_z"])),
        rand_add(qmax(P["sum_n"]) / qmax(P["ih_n"]), qmax(P["sum_n"]) / qmax(P["mul_rn"])),
        rand_add(qmax(P["h"]) / qmax(P["mul_zn"]), qmax(P["h"]) / qmax(P["mul_zh"])),
    ]

    def rand_bias(cols, wp, inp):
        if wild and rng.random() < 0.5:
            return rng.choice([-(1 << 30), 1 << 30, rng.randint(-(1 << 30), 1 << 30)])
        t = int(typical(cols, wp, inp))
        return rng.randint(-t, t)

    b_ih = [rand_bias(In, P["w_ir"] + j // H, P["x"]) for j in range(3 * H)]
    b_hh = [rand_bias(H, P["w_hr"] + j // H, P["h"]) for j in range(3 * H)]
    b_fc = [rand_bias(H, P["w_fc"], P["h"]) for _ in range(C)]

    stream = BitWriter()

    def put_weights(rows, cols, p):
        b, w = bits[p], wmax(p)
        for _ in range(rows * cols):
            stream.put(rng.randint(-w, w) & ((1 << b) - 1), b)

    for g in range(3):
        put_weights(H, In, P["w_ir"] + g)
    for g in range(3):
        put_weights(H, H, P["w_hr"] + g)
    if C:
        put_weights(C, H, P["w_fc"])
    for inp, out in (("sum_r", "sig_r"), ("sum_z", "sig_z"), ("sum_n", "tanh_n")):
        top = qmax(P[out]) - (1 if out == "tanh_n" else 0)  # tanh never produces its top code
        for _ in range(1 << bits[P[inp]]):
            stream.put(rng.randint(0, top), bits[P[out]])
    stream_bytes = stream.finish()
    payload = struct.pack("<%di" % (6 * H + C), *(b_ih + b_hh + b_fc)) + stream_bytes
    return {"zero": zero, "mults": mults, "adds": adds, "payload": payload, "x_scale": x_scale}


def layer_scales(rng, bits, zero, x_scale):
    scales = []
    for p in range(25):
        if p in WEIGHT_POINTS:
            scales.append(1.0)
        elif p in (P["sig_r"], P["sig_z"]):
            scales.append(1.0 / ((1 << bits[p]) - 1))
        elif p == P["tanh_n"]:
            scales.append(1.0 / zero[p])
        else:
            scales.append(rng.uniform(0.001, 0.1))
    if x_scale is not None:
        scales[P["x"]] = x_scale
    return scales


def make_blob(rng, F, H, C, layout_name, wild, gene_bits=None, version=3, layers=1):
    assert layers == 1 or version >= 3
    layout_id, genes = stacked_genes(layout_name, layers)
    genome = [gene_bits if gene_bits else rng.randint(2, 8) for _ in genes]
    bits = [[0] * 25 for _ in range(layers)]
    for b, (layer, points) in zip(genome, genes):
        for l in range(layers) if layer is None else [layer]:
            for p in points:
                bits[l][p] = b
    for l in range(1, layers):  # layer l's x is layer l-1's h; every layer carries the head's widths
        bits[l][P["x"]] = bits[l - 1][P["h"]]
    for l in range(layers - 1):
        for p in (P["w_fc"], P["fc"]):
            bits[l][p] = bits[-1][p]
    assert all(2 <= b <= 8 for row in bits for b in row)

    first = make_layer(rng, bits[0], F, H, C, wild)
    payload = first["payload"]
    # Version 2: the normalisation section after the payload (float32 mean[F], then std[F] > 0).
    section = b""
    if version >= 2:
        section = struct.pack("<%df" % F, *[rng.uniform(-50, 50) for _ in range(F)])
        section += struct.pack("<%df" % F, *[rng.uniform(0.01, 20) for _ in range(F)])
    scales = layer_scales(rng, bits[0], first["zero"], None)
    weight_scales = [rng.uniform(0.001, 0.1) for _ in range(7)]

    # Version 3, two or more layers: the layer section (genes 32.., then each layer's record and payload).
    layer_section = b""
    if layers > 1:
        layer_section = bytes(genome[32:]) + bytes(64 - len(genome[32:]))
        prev_zero, prev_scales = first["zero"], scales
        for l in range(1, layers):
            part = make_layer(rng, bits[l], H, H, 0, wild, prev_zero[P["h"]], prev_scales[P["h"]])
            l_scales = layer_scales(rng, bits[l], part["zero"], prev_scales[P["h"]])
            rec = bytes(bits[l]) + bytes(7)
            rec += struct.pack("<25i", *part["zero"])
            rec += struct.pack("<25d", *l_scales)
            rec += struct.pack("<6d", *[rng.uniform(0.001, 0.1) for _ in range(6)])
            for mant, n in part["mults"]:
                rec += struct.pack("<ii", mant, n)
            for a, b, n in part["adds"]:
                rec += struct.pack("<iii", a, b, n)
            rec += struct.pack("<I", len(part["payload"])) + bytes(8)
            assert len(rec) == 512, len(rec)
            layer_section += rec + part["payload"]
            prev_zero, prev_scales = part["zero"], l_scales
    total = HEADER_BYTES + len(payload) + len(section) + len(layer_section)

    h = bytearray()
    h += b"GRUQ"
    h += struct.pack("<HHII", version, HEADER_BYTES, total, 0)  # CRC filled in below
    h += struct.pack("<HHHBB", F, H, C, layout_id, len(genes))
    h += bytes(genome[:32]) + bytes(32 - len(genome[:32]))
    h += bytes(bits[0]) + bytes(7)
    h += struct.pack("<25i", *first["zero"])
    h += struct.pack("<25d", *scales)
    h += struct.pack("<7d", *weight_scales)
    for mant, n in first["mults"]:
        h += struct.pack("<ii", mant, n)
    for a, b, n in first["adds"]:
        h += struct.pack("<iii", a, b, n)
    h += b"random-blob".ljust(32, b"\0")
    h += struct.pack("<I", len(payload))
    h += struct.pack("<I", len(section))  # reserved (0) in version 1
    if version >= 3:
        h += struct.pack("<B3xI", layers, len(layer_section)) + bytes(20)
    else:
        h += bytes(28)
    assert len(h) == HEADER_BYTES, len(h)

    blob = bytearray(h + payload + section + layer_section)
    struct.pack_into("<I", blob, 12, zlib.crc32(bytes(blob[16:])) & 0xFFFFFFFF)
    return bytes(blob), bits[0]


def main(argv):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("out")
    ap.add_argument("--seed", type=int, required=True)
    ap.add_argument("--features", type=int)
    ap.add_argument("--hidden", type=int)
    ap.add_argument("--classes", type=int)
    ap.add_argument("--layout", choices=sorted(LAYOUTS), default="homogeneous")
    ap.add_argument("--bits", type=int, choices=range(2, 9), help="every gene at this width (default: random)")
    ap.add_argument("--wild", action="store_true", help="multipliers, shifts and biases over their whole valid range")
    ap.add_argument("--version", type=int, choices=(1, 2, 3), default=3,
                    help="blob format version (1: no normalisation section; 1 and 2: one layer)")
    ap.add_argument("--layers", type=int, choices=(1, 2, 3), default=1, help="stacked GRU layers (version 3)")
    ap.add_argument("--codes", help="also write random input codes for the harness to this file")
    ap.add_argument("--count", type=int, default=8, help="sequences in --codes (default 8)")
    ap.add_argument("--steps", type=int, default=5, help="time steps per sequence in --codes (default 5)")
    args = ap.parse_args(argv)

    rng = random.Random(args.seed)
    F = args.features if args.features is not None else rng.randint(1, 12)
    H = args.hidden if args.hidden is not None else rng.randint(1, 16)
    C = args.classes if args.classes is not None else rng.randint(1, 8)
    if not (F >= 1 and H >= 1 and F + H <= 2048 and 1 <= C <= 1024):
        ap.error("shape out of range: F, H >= 1, F + H <= 2048, C in 1..1024")

    if args.layers > 1 and args.version < 3:
        ap.error("--layers 2 and 3 need --version 3")
    blob, bits = make_blob(rng, F, H, C, args.layout, args.wild, args.bits, args.version, args.layers)
    with open(args.out, "wb") as f:
        f.write(blob)
    if args.codes:
        xmax = (1 << bits[P["x"]]) - 1
        data = bytes(rng.randint(0, xmax) for _ in range(args.count * args.steps * F))
        with open(args.codes, "wb") as f:
            f.write(struct.pack("<III", args.count, args.steps, F) + data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
