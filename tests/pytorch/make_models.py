#!/usr/bin/env python3
"""Trains a small GRU classifier with PyTorch on sequences it generates and saves what gruq imports.

    make_models.py OUT_DIR [--hidden 32] [--layers 1] [--epochs 30] [--seed 0]

Writes to OUT_DIR:
  train.npz, validation.npz, test.npz
                      x [N, T, F] float32, y [N] int64, class_names (PyTorch trains on train.npz only)
  state_dict.pt       torch.save(model.state_dict())           (a collections.OrderedDict)
  torchscript.pt      torch.jit.save(torch.jit.script(model))
  model.onnx          torch.onnx.export(model, ...)
  checkpoint.pt       {"epoch", "model_state_dict", "optimizer_state_dict"} (a training checkpoint)
  logits.npy          PyTorch's float logits for every sequence of test.npz, [N, C] float32
  padded_test.npz, padded_logits.npy
                      test.npz cut to random lengths (zero-padded, with lengths) and PyTorch's logits at
                      each sequence's last valid step
  whole_model.pt      torch.save(model): a pickled Python object, which gruq refuses
  bidirectional.pt, lstm.pt, two_heads.pt, stacked.pt, stacked.onnx: models gruq refuses (with --layers 1)
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


model = Classifier()
optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
xs, ys = torch.from_numpy(x[splits["train"]]), torch.from_numpy(y[splits["train"]].astype(np.int64))
for epoch in range(a.epochs):
    order = torch.randperm(len(xs))
    for b in range(0, len(xs), 64):
        idx = order[b:b + 64]
        optimizer.zero_grad()
        loss = nn.functional.cross_entropy(model(xs[idx]), ys[idx])
        loss.backward()
        optimizer.step()
model.eval()
with torch.no_grad():
    logits = model(torch.from_numpy(x[splits["test"]]))
accuracy = float((logits.argmax(1).numpy() == y[splits["test"]]).mean())
np.save(os.path.join(a.out, "logits.npy"), logits.numpy().astype(np.float32))

# The test sequences cut to random lengths and zero-padded, with PyTorch's logits at each last valid step.
lengths = rng.integers(4, T + 1, size=N - 750)
padded = x[splits["test"]].copy()
for i, n in enumerate(lengths):
    padded[i, n:] = 0.0
with torch.no_grad():
    out, _ = model.gru(torch.from_numpy(padded))
    padded_logits = model.fc(out[torch.arange(len(lengths)), torch.from_numpy(lengths - 1)])
np.savez(os.path.join(a.out, "padded_test.npz"), x=padded, y=y[splits["test"]].astype(np.int64), lengths=lengths,
         class_names=names)
np.save(os.path.join(a.out, "padded_logits.npy"), padded_logits.numpy().astype(np.float32))

torch.save(model.state_dict(), os.path.join(a.out, "state_dict.pt"))
torch.jit.save(torch.jit.script(model), os.path.join(a.out, "torchscript.pt"))
torch.onnx.export(model, xs[:1], os.path.join(a.out, "model.onnx"), input_names=["x"], output_names=["logits"],
                  dynamic_axes={"x": {0: "batch"}})
torch.save({"epoch": a.epochs, "model_state_dict": model.state_dict(), "optimizer_state_dict": optimizer.state_dict()},
           os.path.join(a.out, "checkpoint.pt"))
torch.save(model, os.path.join(a.out, "whole_model.pt"))

# Models gruq refuses, each for its own reason.
torch.save(Classifier(bidirectional=True).state_dict(), os.path.join(a.out, "bidirectional.pt"))
lstm = nn.Module()
lstm.lstm, lstm.fc = nn.LSTM(F, a.hidden, batch_first=True), nn.Linear(a.hidden, C)
torch.save(lstm.state_dict(), os.path.join(a.out, "lstm.pt"))
two = nn.Module()
two.gru, two.hidden_fc, two.fc = nn.GRU(F, a.hidden, batch_first=True), nn.Linear(a.hidden, a.hidden), nn.Linear(a.hidden, C)
torch.save(two.state_dict(), os.path.join(a.out, "two_heads.pt"))
if a.layers == 1:
    stacked = Classifier(layers=2)
    torch.save(stacked.state_dict(), os.path.join(a.out, "stacked.pt"))
    torch.onnx.export(stacked, xs[:1], os.path.join(a.out, "stacked.onnx"), input_names=["x"], output_names=["logits"])
print(f"PyTorch GRU F{F} H{a.hidden} L{a.layers} C{C}: test accuracy {accuracy:.3f}")
