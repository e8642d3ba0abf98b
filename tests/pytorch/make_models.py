#!/usr/bin/env python3
"""Trains a small GRU classifier with PyTorch on sequences it generates and saves what gruq imports.

    make_models.py OUT_DIR [--hidden 32] [--layers 1] [--stacked L ...] [--epochs 30] [--seed 0]

Writes to OUT_DIR:
  train.npz, validation.npz, test.npz
                      x [N, T, F] float32, y [N] int64, class_names (PyTorch trains on train.npz only)
  state_dict.pt       torch.save(model.state_dict())           (a collections.OrderedDict)
  torchscript.pt      torch.jit.save(torch.jit.script(model))
  model.onnx          torch.onnx.export(model, ...)
  fixed_batch.onnx    the same without dynamic_axes (its initial state an Expand of a zero constant)
  checkpoint.pt       {"epoch", "model_state_dict", "optimizer_state_dict"} (a training checkpoint)
  logits.npy          PyTorch's float logits for every sequence of test.npz, [N, C] float32
  padded_test.npz, padded_logits.npy
                      test.npz cut to random lengths (zero-padded, with lengths) and PyTorch's logits at
                      each sequence's last valid step
  l<L>/state_dict.pt, l<L>/torchscript.pt, l<L>/model.onnx, l<L>/fixed_batch.onnx, l<L>/checkpoint.pt,
  l<L>/logits.npy, l<L>/padded_logits.npy
                      the same for a model of L stacked layers (nn.GRU(num_layers=L)), trained the same way,
                      for each L given with --stacked (on the same train/test/padded_test sets);
  l<L>/final_state.onnx
                      that model exported as fc(h_n[-1]) (the last layer's final state: the same logits)
  l<L>/first_layer_head.onnx
                      fc(h_n[0]): a head on the first layer's state, which gruq refuses
  whole_model.pt      torch.save(model): a pickled Python object, which gruq refuses
  bidirectional.pt, lstm.pt, two_heads.pt, four_layers.pt, four_layers.onnx, wide.pt: models gruq refuses
                      (wide.pt: hidden size 300, above gruq's 256)
"""
import argparse
import os

import numpy as np
import torch
import torch.nn as nn

p = argparse.ArgumentParser()
p.add_argument("out")
p.add_argument("--hidden", type=int, default=32)
p.add_argument("--layers", type=int, default=1)
p.add_argument("--stacked", type=int, nargs="*", default=[])
p.add_argument("--epochs", type=int, default=30)
p.add_argument("--seed", type=int, default=0)
a = p.parse_args()
os.makedirs(a.out, exist_ok=True)
torch.manual_seed(a.seed)
rng = np.random.default_rng(a.seed)
torch.set_num_threads(1)

# Three classes of 4-feature sequences, 16 steps: a slow sine, a fast sine, a drifting random walk,
# each with noise and a random phase and amplitude.
N, T, F, C = 900, 16, 4, 3
t = np.arange(T, dtype=np.float64)
y = np.arange(N) % C
rng.shuffle(y)
x = np.zeros((N, T, F))
for i, c in enumerate(y):
    amp, phase = rng.uniform(0.5, 2.0), rng.uniform(0, 2 * np.pi)
    if c == 0:
        base = amp * np.sin(0.35 * t + phase)
    elif c == 1:
        base = amp * np.sin(0.7 * t + phase)
    else:
        base = np.cumsum(rng.normal(0.15, 0.5, T))
    for f in range(F):
        x[i, :, f] = base * (1.0 + 0.3 * f) + rng.normal(0, 1.5, T)
x = x.astype(np.float32)
names = np.array(["slow", "fast", "drift"])
splits = {"train": slice(0, 600), "validation": slice(600, 750), "test": slice(750, N)}
for split, rows in splits.items():
    np.savez(os.path.join(a.out, split + ".npz"), x=x[rows], y=y[rows].astype(np.int64), class_names=names)


class Classifier(nn.Module):
    def __init__(self, layers=a.layers, bidirectional=False):
        super().__init__()
        self.gru = nn.GRU(F, a.hidden, num_layers=layers, batch_first=True, bidirectional=bidirectional)
        self.fc = nn.Linear(a.hidden * (2 if bidirectional else 1), C)

    def forward(self, inputs):
        out, _ = self.gru(inputs)
        return self.fc(out[:, -1])


class FinalStateHead(nn.Module):
    """The same GRU and head, the head on one layer's final state h_n[layer]."""

    def __init__(self, model, layer):
        super().__init__()
        self.gru, self.fc, self.layer = model.gru, model.fc, layer

    def forward(self, inputs):
        _, h = self.gru(inputs)
        return self.fc(h[self.layer])


def train(model):
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for epoch in range(a.epochs):
        order = torch.randperm(len(xs))
        for b in range(0, len(xs), 64):
            idx = order[b:b + 64]
            optimizer.zero_grad()
            loss = nn.functional.cross_entropy(model(xs[idx]), ys[idx])
            loss.backward()
            optimizer.step()
    model.eval()
    return optimizer


def save(model, optimizer, folder):
    """The model in the three formats and a checkpoint, with PyTorch's logits on test.npz and padded_test.npz."""
    os.makedirs(folder, exist_ok=True)
    with torch.no_grad():
        logits = model(torch.from_numpy(x[splits["test"]]))
        out, _ = model.gru(torch.from_numpy(padded))
        padded_logits = model.fc(out[torch.arange(len(lengths)), torch.from_numpy(lengths - 1)])
    np.save(os.path.join(folder, "logits.npy"), logits.numpy().astype(np.float32))
    np.save(os.path.join(folder, "padded_logits.npy"), padded_logits.numpy().astype(np.float32))
    torch.save(model.state_dict(), os.path.join(folder, "state_dict.pt"))
    torch.jit.save(torch.jit.script(model), os.path.join(folder, "torchscript.pt"))
    torch.onnx.export(model, xs[:1], os.path.join(folder, "model.onnx"), input_names=["x"], output_names=["logits"],
                      dynamic_axes={"x": {0: "batch"}})
    # Without dynamic_axes the export builds the zero initial state as an Expand of a constant.
    torch.onnx.export(model, xs[:1], os.path.join(folder, "fixed_batch.onnx"), input_names=["x"], output_names=["logits"])
    torch.save({"epoch": a.epochs, "model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict()},
               os.path.join(folder, "checkpoint.pt"))
    return float((logits.argmax(1).numpy() == y[splits["test"]]).mean())


xs, ys = torch.from_numpy(x[splits["train"]]), torch.from_numpy(y[splits["train"]].astype(np.int64))
model = Classifier()
optimizer = train(model)

# The test sequences cut to random lengths and zero-padded, with PyTorch's logits at each last valid step.
lengths = rng.integers(4, T + 1, size=N - 750)
padded = x[splits["test"]].copy()
for i, n in enumerate(lengths):
    padded[i, n:] = 0.0
np.savez(os.path.join(a.out, "padded_test.npz"), x=padded, y=y[splits["test"]].astype(np.int64), lengths=lengths,
         class_names=names)
accuracy = save(model, optimizer, a.out)
torch.save(model, os.path.join(a.out, "whole_model.pt"))

# Models gruq refuses, each for its own reason.
torch.save(Classifier(bidirectional=True).state_dict(), os.path.join(a.out, "bidirectional.pt"))
lstm = nn.Module()
lstm.lstm, lstm.fc = nn.LSTM(F, a.hidden, batch_first=True), nn.Linear(a.hidden, C)
torch.save(lstm.state_dict(), os.path.join(a.out, "lstm.pt"))
two = nn.Module()
two.gru, two.hidden_fc, two.fc = nn.GRU(F, a.hidden, batch_first=True), nn.Linear(a.hidden, a.hidden), nn.Linear(a.hidden, C)
torch.save(two.state_dict(), os.path.join(a.out, "two_heads.pt"))
four = Classifier(layers=4)
torch.save(four.state_dict(), os.path.join(a.out, "four_layers.pt"))
torch.onnx.export(four, xs[:1], os.path.join(a.out, "four_layers.onnx"), input_names=["x"], output_names=["logits"])
wide = nn.Module()
wide.gru, wide.fc = nn.GRU(F, 300, batch_first=True), nn.Linear(300, C)
torch.save(wide.state_dict(), os.path.join(a.out, "wide.pt"))

report = [f"L{a.layers} {accuracy:.3f}"]
for layers in a.stacked:
    stacked = Classifier(layers=layers)
    folder = os.path.join(a.out, "l%d" % layers)
    report.append(f"L{layers} {save(stacked, train(stacked), folder):.3f}")
    for layer, name in ((-1, "final_state.onnx"), (0, "first_layer_head.onnx")):
        torch.onnx.export(FinalStateHead(stacked, layer), xs[:1], os.path.join(folder, name), input_names=["x"],
                          output_names=["logits"], dynamic_axes={"x": {0: "batch"}})
print(f"PyTorch GRU F{F} H{a.hidden} C{C}: test accuracy " + ", ".join(report))
