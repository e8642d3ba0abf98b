#!/usr/bin/python3
"""Peer reference for issue #7: gruq's QAT training step written the way researchers write it today,
in eager PyTorch from Python (a Python loop over time steps, one torch op per operator).

Same math as gruq's reference forward (core/quant/src/qat_gru.cpp, QatMode::Train): per-gate symmetric
fake-quantized weights, biases rounded at S_w * S_input, torch.fake_quantize_per_tensor_affine on every
operator output at the 25 quantization points with ranges tracked by EMA (min / max observed each
forward), sigmoid / tanh outputs rounded to their fixed levels with straight-through gradients; then
cross-entropy, backward and an Adam step. Same shapes (row-wise B=128 T=28 F=28 H=128 C=10, pixel-wise
B=128 T=784 F=1 H=64 C=10, and the 2-layer row-wise "row2": the same with L=2 stacked layers), 6 bits at
every point. A stacked model runs its layers one after the other (issue #18): layer l >= 1 reads layer
l-1's fake-quantized h sequence (no second input quantizer: its X point is layer l-1's H quantizer, its
ih biases are rounded at S_w * S_h(l-1)); every layer has its own 25 points otherwise; the head is on the
last layer (its bits and H scale).

Prints figures, never asserts timings. Progress goes to stderr, one JSON object to stdout:
  {"torch": "1.13.1", "bits": 6, "repetitions": 5,
   "results": {"row": {"t1": {"median_seq_per_s": ..., "seq_per_s": [...]}, "t2": {...}}, "pixel": {...},
               "row2": {...}}}
Repetitions of all (shape, threads) configurations are interleaved so they share machine conditions.

Debian's python3-torch installs for /usr/bin/python3: run it as  /usr/bin/python3 bench/peer_qat_step.py
Options: --repetitions 5  --min-time 0.5 (seconds per repetition, at least one step)  --shapes row,pixel,row2
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

SHAPES = {"row": dict(B=128, T=28, F=28, H=128, C=10), "pixel": dict(B=128, T=784, F=1, H=64, C=10),
          "row2": dict(B=128, T=28, F=28, H=128, C=10, L=2)}
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


def layer_suffix(layer):
    """Parameter names of layer l >= 1 (gruq's QatGru and PyTorch's nn.GRU style): w_ih_l1, ..."""
    return "" if layer == 0 else f"_l{layer}"


class QatGru(torch.nn.Module):
    def __init__(self, F, H, C, bits=BITS, momentum=0.9, L=1):
        super().__init__()
        self.H, self.L, self.momentum = H, L, momentum
        self.bits = [[bits] * len(POINTS) for _ in range(L)]  # per layer
        u = lambda n, m, s: torch.nn.Parameter(torch.empty(n, m).uniform_(-s, s))  # noqa: E731
        for layer in range(L):  # same creation (and random draw) order as before for one layer
            sfx, n_in = layer_suffix(layer), F if layer == 0 else H
            self.register_parameter("w_ih" + sfx, u(3 * H, n_in, 1 / math.sqrt(n_in)))
            self.register_parameter("w_hh" + sfx, u(3 * H, H, 1 / math.sqrt(H)))
            self.register_parameter("b_ih" + sfx, torch.nn.Parameter(torch.empty(3 * H).uniform_(-0.1, 0.1)))
            self.register_parameter("b_hh" + sfx, torch.nn.Parameter(torch.empty(3 * H).uniform_(-0.1, 0.1)))
        self.w_fc = u(C, H, 1 / math.sqrt(H))
        self.b_fc = torch.nn.Parameter(torch.empty(C).uniform_(-0.1, 0.1))
        self.mode = "float"  # float | calibrate | train
        self.ranges = [[(0.0, 0.0)] * len(POINTS) for _ in range(L)]  # per layer
        self.ranges_seen = False
        self.batch_min, self.batch_max = {}, {}  # keyed by (layer, point)
        self.unbind = False

    def layer_params(self, layer):
        sfx = layer_suffix(layer)
        return (getattr(self, n + sfx) for n in ("w_ih", "w_hh", "b_ih", "b_hh"))

    def quantizing(self):
        return self.mode == "train"

    def observe(self, v, layer, p):
        if self.mode not in ("calibrate", "train"):
            return
        d = v.detach()
        lo, hi = d.min(), d.max()
        k = (layer, p)
        self.batch_min[k] = torch.minimum(self.batch_min[k], lo) if k in self.batch_min else lo
        self.batch_max[k] = torch.maximum(self.batch_max[k], hi) if k in self.batch_max else hi

    def commit(self):
        for layer, p in list(self.batch_min):
            lo, hi = self.batch_min[layer, p].item(), self.batch_max[layer, p].item()
            if not self.ranges_seen:
                self.ranges[layer][p] = (lo, hi)
            else:
                m = self.momentum
                r = self.ranges[layer][p]
                self.ranges[layer][p] = (m * r[0] + (1 - m) * lo, m * r[1] + (1 - m) * hi)
        self.batch_min, self.batch_max = {}, {}
        self.ranges_seen = True

    def act_quant(self, layer, p):
        """activationQuantFor: layer l >= 1's input point is layer l-1's h quantizer."""
        if p == P["X"] and layer > 0:
            return self.act_quant(layer - 1, P["H"])
        return activation_quant(self.bits[layer][p], *self.ranges[layer][p])

    def fq_act(self, v, layer, p):
        self.observe(v, layer, p)
        if not self.quantizing():
            return v
        b = self.bits[layer][p]
        if p in (P["SigR"], P["SigZ"], P["TanhN"]):
            levels = float(weight_qmax(b)) if p == P["TanhN"] else float((1 << b) - 1)
            lo = -1.0 if p == P["TanhN"] else 0.0
            return round_ste(v * levels).clamp(lo * levels, levels) / levels
        scale, zero, qmax = self.act_quant(layer, p)
        return torch.fake_quantize_per_tensor_affine(v, scale, zero, 0, qmax)

    def fq_weight(self, w, layer, p):
        if not self.quantizing():
            return w, 1.0
        b = self.bits[layer][p]
        max_abs = w.detach().abs().max().item()
        scale = DEGENERATE_SCALE if max_abs < DEGENERATE_SCALE else max_abs / weight_qmax(b)
        return torch.fake_quantize_per_tensor_affine(w, scale, 0, -weight_qmax(b), weight_qmax(b)), scale

    def fq_bias(self, b, scale):
        return round_ste(b / scale) * scale if self.quantizing() else b

    def run_layer(self, layer, xq, hidden_sequence):
        """One layer over the sequence: xq [B, T, In] (fake-quantized) -> h_T [B, H], or every step's h
        [B, T, H] when a layer follows."""
        B, T, _ = xq.shape
        H = self.H
        w_ih, w_hh, b_ih, b_hh = self.layer_params(layer)
        xs = self.act_quant(layer, P["X"])[0]
        hs = self.act_quant(layer, P["H"])[0]
        wI, wH, bI, bH = [], [], [], []
        for g in range(3):
            wi, s_wi = self.fq_weight(w_ih[g * H:(g + 1) * H], layer, P["WIr"] + g)
            wh, s_wh = self.fq_weight(w_hh[g * H:(g + 1) * H], layer, P["WHr"] + g)
            wI.append(wi)
            wH.append(wh)
            bI.append(self.fq_bias(b_ih[g * H:(g + 1) * H], s_wi * xs))
            bH.append(self.fq_bias(b_hh[g * H:(g + 1) * H], s_wh * hs))
        w_i, b_i, w_h, b_h = torch.cat(wI), torch.cat(bI), torch.cat(wH), torch.cat(bH)

        ih_all = torch.matmul(xq, w_i.t()) + b_i  # [B, T, 3H]
        ih = [self.fq_act(ih_all[:, :, g * H:(g + 1) * H], layer, P["IHr"] + g) for g in range(3)]
        if self.unbind:  # per-step views whose backward stacks once (O(T)), see --slice
            ih = [v.unbind(1) for v in ih]

        q = lambda v, name: self.fq_act(v, layer, P[name])  # noqa: E731
        h = torch.zeros(B, H)
        outputs = []
        for t in range(T):
            hh_all = torch.addmm(b_h, h, w_h.t())
            hh_r = q(hh_all[:, :H], "HHr")
            hh_z = q(hh_all[:, H:2 * H], "HHz")
            hh_n = q(hh_all[:, 2 * H:], "HHn")
            ih_r, ih_z, ih_n = (v[t] for v in ih) if self.unbind else (v[:, t] for v in ih)
            sum_r = q(ih_r + hh_r, "SumR")
            sum_z = q(ih_z + hh_z, "SumZ")
            r = q(torch.sigmoid(sum_r), "SigR")
            z = q(torch.sigmoid(sum_z), "SigZ")
            rn = q(r * hh_n, "MulRN")
            sum_n = q(ih_n + rn, "SumN")
            n = q(torch.tanh(sum_n), "TanhN")
            zn = q((1 - z) * n, "MulZN")
            zh = q(z * h, "MulZH")
            h = q(zn + zh, "H")
            if hidden_sequence:
                outputs.append(h)
        return torch.stack(outputs, 1) if hidden_sequence else h

    def forward(self, x):
        h = self.fq_act(x, 0, P["X"])  # layer l >= 1 reads layer l-1's h, already fake-quantized
        for layer in range(self.L):
            h = self.run_layer(layer, h, layer + 1 < self.L)
        last = self.L - 1
        hs = self.act_quant(last, P["H"])[0]
        w_f, s_wf = self.fq_weight(self.w_fc, last, P["WFc"])
        logits = self.fq_act(torch.addmm(self.fq_bias(self.b_fc, s_wf * hs), h, w_f.t()), last, P["Fc"])
        self.commit()
        return logits


class Config:
    def __init__(self, shape_name, threads):
        s = SHAPES[shape_name]
        self.name, self.threads, self.B = shape_name, threads, s["B"]
        torch.manual_seed(7)
        self.x = torch.randn(s["B"], s["T"], s["F"])
        self.y = torch.arange(s["B"]) % s["C"]
        self.model = QatGru(s["F"], s["H"], s["C"], L=s.get("L", 1))
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


def check_case(d):
    """Max-relative differences of the peer's step to gruq's reference and fused paths on one dumped case:
    {path: {key: difference}}. Keys: logits, loss, ranges (layer 1; ranges_l1 ... of the later layers) and
    the gradients of every layer's weights and of the head."""
    B, T, F, H, C = (d[k] for k in "BTFHC")
    L = d.get("L", 1)
    model = QatGru(F, H, C, bits=d["bits"], L=L)
    model.unbind = True
    with torch.no_grad():
        for layer in range(L):
            sfx = layer_suffix(layer)
            for name, param in zip(("w_ih", "w_hh", "b_ih", "b_hh"), model.layer_params(layer)):
                param.copy_(torch.tensor(d[name + sfx]).view(param.shape))
        model.w_fc.copy_(torch.tensor(d["w_fc"]).view(C, H))
        model.b_fc.copy_(torch.tensor(d["b_fc"]))
    x = torch.tensor(d["x"]).view(B, T, F)
    y = torch.tensor(d["y"]).long()
    with torch.no_grad():
        model.mode = "calibrate"
        model(x)
    ranges = [torch.tensor([v for r in model.ranges[layer] for v in r]) for layer in range(L)]
    model.mode = "train"
    logits = model(x)
    loss = Fn.cross_entropy(logits, y)
    loss.backward()
    mine = {"logits": logits.detach().flatten(), "loss": loss.detach().view(1)}
    for layer in range(L):
        sfx = layer_suffix(layer)
        mine["ranges" + sfx] = ranges[layer]
        # Layer 1 keeps the one-layer keys (grad_w_ih, ...), layer 2 adds _l1 (grad_w_ih_l1, ...).
        for name, param in zip(("w_ih", "w_hh", "b_ih", "b_hh"), model.layer_params(layer)):
            mine[f"grad_{name}{sfx}"] = param.grad.flatten()
    mine["grad_w_fc"] = model.w_fc.grad.flatten()
    mine["grad_b_fc"] = model.b_fc.grad.flatten()
    report = {}
    for path_name in ("reference", "fused"):
        diffs = {}
        for key, v in mine.items():
            if f"{path_name}_{key}" not in d:
                if "L" in d:  # a current dump holds every key; one written before stacked layers lacks a few
                    raise SystemExit(f"peer check: the case has no {path_name}_{key}")
                continue
            theirs = torch.tensor(d[f"{path_name}_{key}"], dtype=torch.float64)
            if theirs.numel() != v.numel():
                raise SystemExit(f"peer check: {path_name}_{key} has {theirs.numel()} values, the peer {v.numel()}")
            diffs[key] = (v.double() - theirs).abs().max().item() / max(1e-12, theirs.abs().max().item())
        report[path_name] = diffs
    return report


def check(path):
    """Compares the peer's step with gruq's on the cases `bench_kernels --dump-peer-check FILE` wrote: a
    one-layer case and a 2-layer one ({"cases": [...]}; a file of one case, as written before stacked
    layers, is read too)."""
    with open(path) as f:
        d = json.load(f)
    torch.set_num_threads(1)
    cases = d["cases"] if "cases" in d else [d]
    per_case, worst_of = [], {}
    for i, c in enumerate(cases):
        report = check_case(c)
        name = c.get("name", f"case{i + 1}")
        per_case.append({"name": name, "L": c.get("L", 1), "max_relative_difference_to_gruq": report})
        for path_name, diffs in report.items():  # the worst over the cases, per path and key
            w = worst_of.setdefault(path_name, {})
            for key, v in diffs.items():
                w[key] = max(w.get(key, 0.0), v)
        print(f"peer vs gruq, case {name} (L={c.get('L', 1)}): worst max-relative difference "
              + ", ".join(f"{p} path {max(v.values()):.2e}" for p, v in report.items()), file=sys.stderr)
    print(json.dumps({"check": path, "max_relative_difference_to_gruq": worst_of, "cases": per_case}))
    worst = max(max(v.values()) for v in worst_of.values())
    print(f"peer vs gruq (reference and fused paths, {len(cases)} case(s)): worst max-relative difference "
          f"{worst:.2e} ({'same step' if worst < 1e-4 else 'DIFFERENT: check the peer'})", file=sys.stderr)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repetitions", type=int, default=5)
    ap.add_argument("--min-time", type=float, default=0.5)
    ap.add_argument("--shapes", default="row,pixel,row2")
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
