#!/usr/bin/python3
"""Peer reference for issue #7: gruq's QAT training step written the way researchers write it today,
in eager PyTorch from Python (a Python loop over time steps, one torch op per operator).

Same math as gruq's reference forward (core/quant/src/qat_gru.cpp, QatMode::Train): per-gate symmetric
fake-quantized weights, biases rounded at S_w * S_input, torch.fake_quantize_per_tensor_affine on every
operator output at the 25 quantization points with ranges tracked by EMA (min / max observed each
forward), sigmoid / tanh outputs rounded to their fixed levels with straight-through gradients; then
cross-entropy, backward and an Adam step. Same shapes (row-wise B=128 T=28 F=28 H=128 C=10, pixel-wise
B=128 T=784 F=1 H=64 C=10), 6 bits at every point.

Prints figures, never asserts timings. Progress goes to stderr, one JSON object to stdout:
  {"torch": "1.13.1", "bits": 6, "repetitions": 5,
   "results": {"row": {"t1": {"median_seq_per_s": ..., "seq_per_s": [...]}, "t2": {...}}, "pixel": {...}}}
Repetitions of all (shape, threads) configurations are interleaved so they share machine conditions.

Debian's python3-torch installs for /usr/bin/python3: run it as  /usr/bin/python3 bench/peer_qat_step.py
Options: --repetitions 5  --min-time 0.5 (seconds per repetition, at least one step)  --shapes row,pixel
         --threads 1,2  --slice unbind|select
The per-step slices of the input projection are taken with unbind(1) by default. Slicing with x[:, t]
(as gruq's per-timestep reference does with select(1, t)) is the same math but its backward is O(T^2):
every step's SelectBackward materialises a zero [B, T, H] gradient (measured at T=784: ~18-37 s per step
instead of ~2 s); --slice select reproduces it.
"""
import argparse
import json
import math
import os
import statistics
import sys
import time

# gruq runs OpenBLAS single-threaded (core/model/src/torch_convert.cpp configureTorchThreads) so that it does
# not oversubscribe the cores under torch's own threads; give the peer the same setting (before import).
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import torch  # noqa: E402
import torch.nn.functional as Fn  # noqa: E402

SHAPES = {"row": dict(B=128, T=28, F=28, H=128, C=10), "pixel": dict(B=128, T=784, F=1, H=64, C=10)}
BITS = 6

# The 25 quantization points, in gruq's order (core/quant/include/gruq/quant/genome.h).
POINTS = ["X", "WIr", "WIz", "WIn", "WHr", "WHz", "WHn", "IHr", "IHz", "IHn", "HHr", "HHz", "HHn", "SumR", "SumZ",
          "SigR", "SigZ", "MulRN", "SumN", "TanhN", "MulZN", "MulZH", "H", "WFc", "Fc"]
P = {name: i for i, name in enumerate(POINTS)}
DEGENERATE_SCALE = 1e-8


def weight_qmax(bits):
    return (1 << (bits - 1)) - 1


def activation_quant(bits, lo, hi):
    """activationQuantFor (quantized_gru.cpp) + activationQuantFromRange (fixed_point.cpp)."""
    margin = (hi - lo) * 2.0 ** -16
    lo, hi = min(lo - margin, 0.0), max(hi + margin, 0.0)
    qmax = (1 << bits) - 1
    scale = DEGENERATE_SCALE if hi - lo < DEGENERATE_SCALE else (hi - lo) / qmax
    zero = int(math.floor(-lo / scale + 0.5))
    return scale, min(max(zero, 0), qmax), qmax


def round_ste(v):
    return v + (torch.round(v) - v).detach()


class QatGru(torch.nn.Module):
    def __init__(self, F, H, C, bits=BITS, momentum=0.9):
        super().__init__()
        self.H, self.bits, self.momentum = H, [bits] * len(POINTS), momentum
        u = lambda n, m, s: torch.nn.Parameter(torch.empty(n, m).uniform_(-s, s))  # noqa: E731
        self.w_ih = u(3 * H, F, 1 / math.sqrt(F))
        self.w_hh = u(3 * H, H, 1 / math.sqrt(H))
        self.b_ih = torch.nn.Parameter(torch.empty(3 * H).uniform_(-0.1, 0.1))
        self.b_hh = torch.nn.Parameter(torch.empty(3 * H).uniform_(-0.1, 0.1))
        self.w_fc = u(C, H, 1 / math.sqrt(H))
        self.b_fc = torch.nn.Parameter(torch.empty(C).uniform_(-0.1, 0.1))
        self.mode = "float"  # float | calibrate | train
        self.ranges = [(0.0, 0.0)] * len(POINTS)
        self.ranges_seen = False
        self.batch_min, self.batch_max = {}, {}
        self.unbind = False

    def quantizing(self):
        return self.mode == "train"

    def observe(self, v, p):
        if self.mode not in ("calibrate", "train"):
            return
        d = v.detach()
        lo, hi = d.min(), d.max()
        self.batch_min[p] = torch.minimum(self.batch_min[p], lo) if p in self.batch_min else lo
        self.batch_max[p] = torch.maximum(self.batch_max[p], hi) if p in self.batch_max else hi

    def commit(self):
        for p in list(self.batch_min):
            lo, hi = self.batch_min[p].item(), self.batch_max[p].item()
            if not self.ranges_seen:
                self.ranges[p] = (lo, hi)
            else:
                m = self.momentum
                r = self.ranges[p]
                self.ranges[p] = (m * r[0] + (1 - m) * lo, m * r[1] + (1 - m) * hi)
        self.batch_min, self.batch_max = {}, {}
        self.ranges_seen = True

    def fq_act(self, v, p):
        self.observe(v, p)
        if not self.quantizing():
            return v
        b = self.bits[p]
        if p in (P["SigR"], P["SigZ"], P["TanhN"]):
            levels = float(weight_qmax(b)) if p == P["TanhN"] else float((1 << b) - 1)
            lo = -1.0 if p == P["TanhN"] else 0.0
            return round_ste(v * levels).clamp(lo * levels, levels) / levels
        scale, zero, qmax = activation_quant(b, *self.ranges[p])
        return torch.fake_quantize_per_tensor_affine(v, scale, zero, 0, qmax)

    def fq_weight(self, w, p):
        if not self.quantizing():
            return w, 1.0
        b = self.bits[p]
        max_abs = w.detach().abs().max().item()
        scale = DEGENERATE_SCALE if max_abs < DEGENERATE_SCALE else max_abs / weight_qmax(b)
        return torch.fake_quantize_per_tensor_affine(w, scale, 0, -weight_qmax(b), weight_qmax(b)), scale

    def fq_bias(self, b, scale):
        return round_ste(b / scale) * scale if self.quantizing() else b

    def forward(self, x):
        B, T, _ = x.shape
        H = self.H
        xs = activation_quant(self.bits[P["X"]], *self.ranges[P["X"]])[0]
        hs = activation_quant(self.bits[P["H"]], *self.ranges[P["H"]])[0]
        wI, wH, bI, bH = [], [], [], []
        for g in range(3):
            wi, s_wi = self.fq_weight(self.w_ih[g * H:(g + 1) * H], P["WIr"] + g)
            wh, s_wh = self.fq_weight(self.w_hh[g * H:(g + 1) * H], P["WHr"] + g)
            wI.append(wi)
            wH.append(wh)
            bI.append(self.fq_bias(self.b_ih[g * H:(g + 1) * H], s_wi * xs))
            bH.append(self.fq_bias(self.b_hh[g * H:(g + 1) * H], s_wh * hs))
        w_i, b_i, w_h, b_h = torch.cat(wI), torch.cat(bI), torch.cat(wH), torch.cat(bH)

        xq = self.fq_act(x, P["X"])
        ih_all = torch.matmul(xq, w_i.t()) + b_i  # [B, T, 3H]
        ih = [self.fq_act(ih_all[:, :, g * H:(g + 1) * H], P["IHr"] + g) for g in range(3)]
        if self.unbind:  # per-step views whose backward stacks once (O(T)), see --slice
            ih = [v.unbind(1) for v in ih]

        h = torch.zeros(B, H)
        for t in range(T):
            hh_all = torch.addmm(b_h, h, w_h.t())
            hh_r = self.fq_act(hh_all[:, :H], P["HHr"])
            hh_z = self.fq_act(hh_all[:, H:2 * H], P["HHz"])
            hh_n = self.fq_act(hh_all[:, 2 * H:], P["HHn"])
            ih_r, ih_z, ih_n = (v[t] for v in ih) if self.unbind else (v[:, t] for v in ih)
            sum_r = self.fq_act(ih_r + hh_r, P["SumR"])
            sum_z = self.fq_act(ih_z + hh_z, P["SumZ"])
            r = self.fq_act(torch.sigmoid(sum_r), P["SigR"])
            z = self.fq_act(torch.sigmoid(sum_z), P["SigZ"])
            rn = self.fq_act(r * hh_n, P["MulRN"])
            sum_n = self.fq_act(ih_n + rn, P["SumN"])
            n = self.fq_act(torch.tanh(sum_n), P["TanhN"])
            zn = self.fq_act((1 - z) * n, P["MulZN"])
            zh = self.fq_act(z * h, P["MulZH"])
            h = self.fq_act(zn + zh, P["H"])

        w_f, s_wf = self.fq_weight(self.w_fc, P["WFc"])
        logits = self.fq_act(torch.addmm(self.fq_bias(self.b_fc, s_wf * hs), h, w_f.t()), P["Fc"])
        self.commit()
        return logits


class Config:
    def __init__(self, shape_name, threads):
        s = SHAPES[shape_name]
        self.name, self.threads, self.B = shape_name, threads, s["B"]
        torch.manual_seed(7)
        self.x = torch.randn(s["B"], s["T"], s["F"])
        self.y = torch.arange(s["B"]) % s["C"]
        self.model = QatGru(s["F"], s["H"], s["C"])
        with torch.no_grad():  # one calibration forward so that every point has a range
            self.model.mode = "calibrate"
            self.model(self.x)
        self.model.mode = "train"
        self.optimizer = torch.optim.Adam(self.model.parameters(), lr=5e-4)
        self.samples = []

    def step(self):
        self.optimizer.zero_grad()
        loss = Fn.cross_entropy(self.model(self.x), self.y)
        loss.backward()
        self.optimizer.step()

    def timed(self, min_time):
        torch.set_num_threads(self.threads)
        steps, start = 0, time.perf_counter()
        while True:
            self.step()
            steps += 1
            elapsed = time.perf_counter() - start
            if elapsed >= min_time:
                break
        self.samples.append(steps * self.B / elapsed)
        return steps, elapsed


def check(path):
    """Compares the peer's step with gruq's on the case `bench_kernels --dump-peer-check FILE` wrote."""
    with open(path) as f:
        d = json.load(f)
    B, T, F, H, C = (d[k] for k in "BTFHC")
    torch.set_num_threads(1)
    model = QatGru(F, H, C, bits=d["bits"])
    model.unbind = True
    with torch.no_grad():
        model.w_ih.copy_(torch.tensor(d["w_ih"]).view(3 * H, F))
        model.w_hh.copy_(torch.tensor(d["w_hh"]).view(3 * H, H))
        model.b_ih.copy_(torch.tensor(d["b_ih"]))
        model.b_hh.copy_(torch.tensor(d["b_hh"]))
        model.w_fc.copy_(torch.tensor(d["w_fc"]).view(C, H))
        model.b_fc.copy_(torch.tensor(d["b_fc"]))
    x = torch.tensor(d["x"]).view(B, T, F)
    y = torch.tensor(d["y"]).long()
    with torch.no_grad():
        model.mode = "calibrate"
        model(x)
    ranges = [v for r in model.ranges for v in r]
    model.mode = "train"
    logits = model(x)
    loss = Fn.cross_entropy(logits, y)
    loss.backward()
    mine = {"ranges": torch.tensor(ranges), "logits": logits.detach().flatten(), "loss": loss.detach().view(1),
            "grad_w_ih": model.w_ih.grad.flatten(), "grad_w_hh": model.w_hh.grad.flatten(),
            "grad_b_hh": model.b_hh.grad.flatten(), "grad_w_fc": model.w_fc.grad.flatten()}
    report = {}
    for path_name in ("reference", "fused"):
        diffs = {}
        for key, v in mine.items():
            theirs = torch.tensor(d[f"{path_name}_{key}"], dtype=torch.float64)
            diffs[key] = (v.double() - theirs).abs().max().item() / max(1e-12, theirs.abs().max().item())
        report[path_name] = diffs
    print(json.dumps({"check": path, "max_relative_difference_to_gruq": report}))
    worst = max(report["reference"].values())
    print(f"peer vs gruq reference path: worst max-relative difference {worst:.2e} "
          f"({'same step' if worst < 1e-4 else 'DIFFERENT: check the peer'})", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.5)
    ap.add_argument("--shapes", default="row,pixel")
    ap.add_argument("--threads", default="1,2")
    ap.add_argument("--slice", choices=["unbind", "select"], default="unbind",
                    help="per-step input projections: x.unbind(1) (default; backward stacks once, O(T)) or "
                         "x[:, t] as gruq's reference loop does (each step's backward writes a full [B, T, H] "
                         "gradient: O(T^2), ~10x slower at T=784)")
    ap.add_argument("--check", metavar="FILE", help="compare with the case bench_kernels --dump-peer-check FILE "
                                                    "wrote, then exit")
    args = ap.parse_args()
    if args.check:
        return check(args.check)

    configs = [Config(s, int(t)) for s in args.shapes.split(",") for t in args.threads.split(",")]
    for c in configs:
        c.model.unbind = args.slice == "unbind"
    for c in configs:  # warm-up step each, not timed
        torch.set_num_threads(c.threads)
        c.step()
    for rep in range(args.repetitions):
        for c in configs:
            steps, elapsed = c.timed(args.min_time)
            print(f"peer rep {rep + 1}/{args.repetitions} {c.name} t{c.threads}: {steps} step(s) in {elapsed:.2f} s"
                  f" = {c.samples[-1]:.1f} seq/s", file=sys.stderr)
    results = {}
    for c in configs:
        results.setdefault(c.name, {})[f"t{c.threads}"] = {
            "median_seq_per_s": statistics.median(c.samples), "seq_per_s": c.samples}
    print(json.dumps({"torch": torch.__version__, "python": sys.version.split()[0], "bits": BITS,
                      "repetitions": args.repetitions, "min_time": args.min_time, "slice": args.slice,
                      "results": results}))


if __name__ == "__main__":
    main()
