#!/usr/bin/env python3
"""Writes a VALID random gruq firmware blob (docs/blob-format.md), for runtime self-tests and fuzz seeds.

    make_blob.py OUT.bin --seed N [--features F --hidden H --classes C]
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


def make_blob(rng, F, H, C, layout_name, wild, gene_bits=None, version=2):
    layout_id, genes = LAYOUTS[layout_name]
    genome = [gene_bits if gene_bits else rng.randint(2, 8) for _ in genes]
    bits = [0] * 25
    for gene_bits, points in zip(genome, genes):
        for p in points:
            bits[p] = gene_bits
    assert all(2 <= b <= 8 for b in bits)

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
        mults.append(rand_mul(qmax(P["ih_r"] + g) / (2 * typical(F, P["w_ir"] + g, P["x"]))))
    for g in range(3):
        mults.append(rand_mul(qmax(P["hh_r"] + g) / (2 * typical(H, P["w_hr"] + g, P["h"]))))
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

    b_ih = [rand_bias(F, P["w_ir"] + j // H, P["x"]) for j in range(3 * H)]
    b_hh = [rand_bias(H, P["w_hr"] + j // H, P["h"]) for j in range(3 * H)]
    b_fc = [rand_bias(H, P["w_fc"], P["h"]) for _ in range(C)]

    stream = BitWriter()

    def put_weights(rows, cols, p):
        b, w = bits[p], wmax(p)
        for _ in range(rows * cols):
            stream.put(rng.randint(-w, w) & ((1 << b) - 1), b)

    for g in range(3):
        put_weights(H, F, P["w_ir"] + g)
    for g in range(3):
        put_weights(H, H, P["w_hr"] + g)
    put_weights(C, H, P["w_fc"])
    for inp, out in (("sum_r", "sig_r"), ("sum_z", "sig_z"), ("sum_n", "tanh_n")):
        top = qmax(P[out]) - (1 if out == "tanh_n" else 0)  # tanh never produces its top code
        for _ in range(1 << bits[P[inp]]):
            stream.put(rng.randint(0, top), bits[P[out]])
    stream_bytes = stream.finish()

    payload = struct.pack("<%di" % (6 * H + C), *(b_ih + b_hh + b_fc)) + stream_bytes
    # Version 2: the normalisation section after the payload (float32 mean[F], then std[F] > 0).
    section = b""
    if version >= 2:
        section = struct.pack("<%df" % F, *[rng.uniform(-50, 50) for _ in range(F)])
        section += struct.pack("<%df" % F, *[rng.uniform(0.01, 20) for _ in range(F)])
    total = HEADER_BYTES + len(payload) + len(section)

    scales = []
    for p in range(25):
        if p in WEIGHT_POINTS:
            scales.append(1.0)
        elif p in (P["sig_r"], P["sig_z"]):
            scales.append(1.0 / qmax(p))
        elif p == P["tanh_n"]:
            scales.append(1.0 / zero[p])
        else:
            scales.append(rng.uniform(0.001, 0.1))

    h = bytearray()
    h += b"GRUQ"
    h += struct.pack("<HHII", version, HEADER_BYTES, total, 0)  # CRC filled in below
    h += struct.pack("<HHHBB", F, H, C, layout_id, len(genes))
    h += bytes(genome) + bytes(32 - len(genome))
    h += bytes(bits) + bytes(7)
    h += struct.pack("<25i", *zero)
    h += struct.pack("<25d", *scales)
    h += struct.pack("<7d", *[rng.uniform(0.001, 0.1) for _ in range(7)])
    for mant, n in mults:
        h += struct.pack("<ii", mant, n)
    for a, b, n in adds:
        h += struct.pack("<iii", a, b, n)
    h += b"random-blob".ljust(32, b"\0")
    h += struct.pack("<I", len(payload))
    h += struct.pack("<I", len(section))  # reserved (0) in version 1
    h += bytes(28)
    assert len(h) == HEADER_BYTES, len(h)

    blob = bytearray(h + payload + section)
    struct.pack_into("<I", blob, 12, zlib.crc32(bytes(blob[16:])) & 0xFFFFFFFF)
    return bytes(blob), bits


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
    ap.add_argument("--version", type=int, choices=(1, 2), default=2, help="blob format version (1: no normalisation section)")
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

    blob, bits = make_blob(rng, F, H, C, args.layout, args.wild, args.bits, args.version)
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
