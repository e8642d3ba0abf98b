#!/usr/bin/python3
"""Summary table of one scripts/bench.sh run (issue #7): medians and ratios of figures measured side by
side in that run. Standard library only.

usage: summarize.py --kernels K.json... [--peer P.json...] [--peer-check C.json] [--workers W.txt] [--search S.txt]
                    [--load-before "..."] [--load-after "..."] [--details] [--markdown]
  K.json   bench_kernels --benchmark_out files (one per round; each repetition is one sample)
  P.json   bench/peer_qat_step.py outputs (one per round)
  C.json   bench/peer_qat_step.py --check output
  W.txt    bench_search_workers output
  S.txt    the default-search line of scripts/bench.sh
Medians are over all samples of a figure; ratios are ratios of those medians.
"""
import argparse
import json
import os
import re
import statistics
import sys

SHAPES = [("row", "row-wise B=128 T=28 F=28 H=128"), ("pixel", "pixel-wise B=128 T=784 F=1 H=64"),
          ("row2", "2-layer row-wise B=128 T=28 F=28 H=128 L=2")]  # row2: training steps only


def load_kernels(paths):
    """run_name -> list of seq/s samples over the files (each repetition's figure; a file holding only
    aggregates contributes its median), and the first file's context."""
    samples, context = {}, {}
    for path in paths:
        with open(path) as f:
            data = json.load(f)
        context = context or data.get("context", {})
        runs, medians = {}, {}
        for b in data.get("benchmarks", []):
            if "seq/s" not in b:
                continue
            # Explicit settings show in the name ("/iterations:1/repeats:3/real_time"): drop them.
            name = re.sub(r"/(iterations|repeats|min_time|real_time|manual_time)(:[^/]*)?", "",
                          b.get("run_name", b["name"]))
            if b.get("run_type") == "aggregate":
                if b.get("aggregate_name") == "median":
                    medians[name] = b["seq/s"]
            else:
                runs.setdefault(name, []).append(b["seq/s"])
        for name in set(runs) | set(medians):
            samples.setdefault(name, []).extend(runs.get(name) or [medians[name]])
    return samples, context


def load_peer(paths):
    """(shape, threads) -> seq/s samples, and the first file's metadata."""
    samples, meta = {}, {}
    for path in paths:
        try:
            with open(path) as f:
                pj = json.load(f)
        except (OSError, ValueError) as e:
            print(f"(peer results {path} unavailable: {e})")
            continue
        meta = meta or pj
        for shape, by_threads in pj.get("results", {}).items():
            for t, r in by_threads.items():
                samples.setdefault(f"peer/{shape}/{t}", []).extend(r["seq_per_s"])
    return samples, meta


def fmt(v, digits=1):
    if v is None:
        return "-"
    if v >= 1000:
        return f"{v:,.0f}"
    return f"{v:.{digits}f}"


def ratio(a, b):
    return None if a is None or b is None or b == 0 else a / b


def fmt_ratio(r):
    return "-" if r is None else f"{r:.2f}x"


class Table:
    def __init__(self, headers, markdown):
        self.headers, self.rows, self.markdown = headers, [], markdown

    def add(self, *cells):
        self.rows.append([str(c) for c in cells])

    def render(self):
        if self.markdown:
            lines = ["| " + " | ".join(self.headers) + " |", "|" + "|".join("---" for _ in self.headers) + "|"]
            lines += ["| " + " | ".join(r) + " |" for r in self.rows]
            return "\n".join(lines)
        widths = [max(len(h), *(len(r[i]) for r in self.rows)) if self.rows else len(h)
                  for i, h in enumerate(self.headers)]
        line = lambda cells: "  ".join(c.rjust(w) if i else c.ljust(w)  # noqa: E731
                                       for i, (c, w) in enumerate(zip(cells, widths)))
        return "\n".join([line(self.headers), line(["-" * w for w in widths])] + [line(r) for r in self.rows])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--kernels", nargs="+", default=[])
    ap.add_argument("--peer", nargs="+", default=[])
    ap.add_argument("--peer-check")
    ap.add_argument("--workers")
    ap.add_argument("--search")
    ap.add_argument("--source", default="")
    ap.add_argument("--load-before", default="")
    ap.add_argument("--load-after", default="")
    ap.add_argument("--details", action="store_true", help="also every figure: median, min, max, samples")
    ap.add_argument("--markdown", action="store_true")
    args = ap.parse_args()

    k, ctx = load_kernels(args.kernels)
    peer, peer_meta = load_peer(args.peer)
    k.update(peer)

    def seq(name):
        v = k.get(name)
        return statistics.median(v) if v else None

    noisy = []

    def cell(name):  # the median, marked '*' when its samples spread over more than 1.5x (machine load)
        v = k.get(name)
        if not v:
            return "-"
        if min(v) > 0 and max(v) / min(v) > 1.5:
            noisy.append(name)
            return fmt(statistics.median(v)) + "*"
        return fmt(statistics.median(v))

    print("QAT training step (forward + cross-entropy + backward + Adam), 6 bits at every point; "
          "sequences/s, medians")
    t = Table(["shape", "thr", "fused", "unfused", "py peer", "float GRU", "fused/unfused", "fused/peer",
               "t_fused/t_floatGRU"], args.markdown)
    for shape, _ in SHAPES:
        for threads in (1, 2):
            fused = seq(f"qat_step/{shape}/fused/t{threads}")
            unfused = seq(f"qat_step/{shape}/unfused/t{threads}")
            flt = seq(f"float_gru_step/{shape}/t{threads}")
            pr = seq(f"peer/{shape}/t{threads}")
            if fused is None and unfused is None and flt is None and pr is None:
                continue
            t.add(shape, threads, cell(f"qat_step/{shape}/fused/t{threads}"), cell(f"qat_step/{shape}/unfused/t{threads}"),
                  cell(f"peer/{shape}/t{threads}"), cell(f"float_gru_step/{shape}/t{threads}"),
                  fmt_ratio(ratio(fused, unfused)),
                  fmt_ratio(ratio(fused, pr)), fmt_ratio(ratio(flt, fused)))
    print(t.render())
    print("  fused/unfused, fused/peer: speed-ups (>1 = fused faster); t_fused/t_floatGRU: time of a fused QAT "
          "step in float nn::GRU steps (1 = as fast as float).\n  '-': not measured (the pixel-wise unfused step "
          "at 2 threads is off by default: bench_kernels --pixel-unfused-t2).\n  row2: 2 stacked layers "
          "(B=128 T=28 F=28 H=128 L=2; the peer and the float nn::GRU stack them too).")
    if args.peer_check:
        try:
            with open(args.peer_check) as f:
                check = json.load(f)
            # One entry per dumped case (1 layer, 2 layers); an older check output holds one case.
            cases = check.get("cases") or [{"name": "check", "L": 1,
                                            "max_relative_difference_to_gruq": check["max_relative_difference_to_gruq"]}]
            print("  py peer = gruq's step (small cases, same weights and data; logits, loss, ranges, gradients of "
                  "every layer): worst max-relative difference to gruq's " +
                  "; ".join(f"{c.get('L', 1)} layer(s): " +
                            ", ".join(f"{p} path {max(v.values()):.1e}"
                                      for p, v in c["max_relative_difference_to_gruq"].items())
                            for c in cases))
        except (OSError, ValueError, KeyError) as e:
            print(f"  (peer check unavailable: {e})")
    print()

    print("Inference, sequences/s, medians: integer engine vs LibTorch float nn::GRU + Linear forward "
          "(NoGradGuard)")
    t = Table(["shape", "engine b1", "engine b128 t1", "engine b128 t2", "one-by-one b128 t1", "float b1",
               "float b128 t1", "batched/one-by-one t1", "eng b1/float b1", "eng b128 t1/float b128"], args.markdown)
    for shape, _ in SHAPES:
        e1 = seq(f"engine_b1/{shape}")
        e128 = seq(f"engine_b128/{shape}/t1")
        s128 = seq(f"engine_seq_b128/{shape}/t1")
        f1 = seq(f"float_fwd_b1/{shape}")
        f128 = seq(f"float_fwd_b128/{shape}")
        if e1 is None and f1 is None:
            continue
        t.add(shape, cell(f"engine_b1/{shape}"), cell(f"engine_b128/{shape}/t1"), cell(f"engine_b128/{shape}/t2"),
              cell(f"engine_seq_b128/{shape}/t1"), cell(f"float_fwd_b1/{shape}"), cell(f"float_fwd_b128/{shape}"),
              fmt_ratio(ratio(e128, s128)), fmt_ratio(ratio(e1, f1)), fmt_ratio(ratio(e128, f128)))
    print(t.render())
    print("  b1: IntegerGruEngine::run, one sequence, 1 thread; b128: IntegerGruEngine::logitsOf over 128 sequences "
          "(batched, 16 per kernel call; t = threads); one-by-one: the same 128 through run() (logitsOneByOne, "
          "the path before); float: one batch-128 forward.")
    kernels = [(isa, seq(f"engine_b128_{isa}/{shape}/t1")) for isa in ("avx2", "sse2", "portable")
               for shape, _ in SHAPES[:1]]
    if any(v is not None for _, v in kernels):
        print("  the batched path's other kernels, row-wise t1: " +
              ", ".join(f"{isa} {cell(f'engine_b128_{isa}/{SHAPES[0][0]}/t1')}" for isa, v in kernels if v is not None))
    print()

    if args.workers:
        try:
            with open(args.workers) as f:
                text = f.read()
            medians = re.findall(r"^median:.*$", text, re.M)
            head = re.search(r"^task .*$", text, re.M)
            print("Search worker scaling (bench_search_workers)")
            if head:
                print("  " + head.group(0))
            for line in medians or ["(no median line: did it fail?)"]:
                print("  " + line)
            # Seconds per genome evaluation: one worker on one thread, the run time over its genomes.
            genomes = re.search(r"(\d+) genomes per run", text)
            single = [float(v) for v in re.findall(r"1 worker\(s\) x 1 torch thread\(s\):\s+([0-9.]+) s", text)]
            if genomes and single:
                per = statistics.median(single) / int(genomes.group(1))
                print(f"  seconds per genome evaluation (QAT + validation, 1 worker x 1 thread): {per:.2f} s")
            print()
        except OSError as e:
            print(f"(worker results unavailable: {e})")

    if args.search:
        try:
            with open(args.search) as f:
                print("End-to-end")
                print("  " + f.read().strip())
                print()
        except OSError as e:
            print(f"(worker results unavailable: {e})")

    if args.details and k:
        print("Every figure: sequences/s over the rounds")
        t = Table(["figure", "median", "min", "max", "n"], args.markdown)
        for name in sorted(k):
            v = k[name]
            t.add(name, fmt(statistics.median(v)), fmt(min(v)), fmt(max(v)), len(v))
        print(t.render())
        print()

    counts = sorted({len(v) for v in k.values()})
    peer_note = "not run"
    if peer_meta:
        peer_note = (f"torch {peer_meta.get('torch')}, python {peer_meta.get('python')}, >= {peer_meta.get('min_time')} s "
                     f"per figure and round, per-step slices by {peer_meta.get('slice')}")
    print(f"Samples per figure: {', '.join(map(str, counts)) or '-'} (rounds; the pixel-wise unfused step in fewer); "
          f"py peer: {peer_note}")
    if noisy:
        print(f"* samples of {len(noisy)} figure(s) spread over more than 1.5x (min to max): the machine was loaded "
              f"during part of the run; medians hold, but compare with care (see 'Every figure').")
    if args.source:
        print(f"Source: {args.source}")
    cpu = f"{ctx.get('num_cpus', os.cpu_count())} x {ctx.get('mhz_per_cpu', '?')} MHz"
    print(f"Machine: {cpu}; load average before {args.load_before or '?'}, after {args.load_after or '?'} "
          f"(shared machine: other processes compete; 2-thread figures suffer most)")


if __name__ == "__main__":
    sys.exit(main())
