"""A tiny Transformer encoder learns to sort sequences of small integers.

Each input is a sequence of SEQ_LEN digits in [0, VOCAB); the target at position i is the i-th
smallest digit. Embedding + d2l's sinusoidal PositionalEncoding + nn.TransformerEncoder
(pre-norm, batch_first) + a Linear read-out per position, trained with Adam on fresh random
batches and cross-entropy. Reports per-token and whole-sequence accuracy on held-out sequences
and writes them to transformer_sort_results.json (plus a few examples).

    python examples/transformer_sort.py [--quick] [--steps N]   (TGX_SMOKE=1 also shortens it)
"""

import argparse
import json
import os
import time

import numpy as np
import tinygrad_ext as tgx
from tinygrad_ext import nn

VOCAB, SEQ_LEN = 10, 8


class Sorter(nn.Module):
    def __init__(self, d_model=64, nhead=4, num_layers=2, dim_feedforward=128):
        super().__init__()
        self.embed = nn.Embedding(VOCAB, d_model)
        self.pos = nn.PositionalEncoding(d_model, dropout=0.0, max_len=SEQ_LEN)
        layer = nn.TransformerEncoderLayer(d_model, nhead, dim_feedforward, dropout=0.0,
                                           batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, num_layers, norm=nn.LayerNorm(d_model))
        self.head = nn.Linear(d_model, VOCAB)
        self.scale = d_model ** 0.5

    def forward(self, x):  # x (N, L) int64 -> logits (N, L, VOCAB)
        return self.head(self.encoder(self.pos(self.embed(x) * self.scale)))


def batch(rng, n):
    x = rng.integers(0, VOCAB, (n, SEQ_LEN))
    return x, np.sort(x, axis=1)


def evaluate(model, x, y):
    model.eval()
    with tgx.no_grad():
        pred = model(tgx.tensor(x)).argmax(dim=-1).numpy()
    model.train()
    return float((pred == y).mean()), float((pred == y).all(axis=1).mean()), pred


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--steps", type=int, default=800)
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args(argv)
    smoke = os.environ.get("TGX_SMOKE") == "1"
    steps = 30 if smoke else (150 if args.quick else args.steps)
    bsz = 64 if (smoke or args.quick) else args.batch

    tgx.manual_seed(0)
    rng = np.random.default_rng(0)
    model = Sorter()
    lr = 2e-3
    opt = tgx.optim.Adam(model.parameters(), lr=lr)
    test_x, test_y = batch(np.random.default_rng(12345), 1000)
    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        for group in opt.param_groups:  # cosine decay to lr / 20
            group["lr"] = lr * (0.05 + 0.95 * 0.5 * (1 + np.cos(np.pi * (step - 1) / steps)))
        x, y = batch(rng, bsz)
        logits = model(tgx.tensor(x))
        loss = nn.functional.cross_entropy(logits.reshape(-1, VOCAB), tgx.tensor(y.reshape(-1)))
        opt.zero_grad()
        loss.backward()
        opt.step()
        if step % max(1, steps // 10) == 0 or step == steps:
            tok, seq, _ = evaluate(model, test_x[:200], test_y[:200])
            print(f"step {step:5d}  loss {loss.item():.4f}  token acc {tok:.3f}  seq acc {seq:.3f}",
                  flush=True)
    elapsed = time.perf_counter() - t0
    tok, seq, pred = evaluate(model, test_x, test_y)
    print(f"held-out (1000 sequences): token accuracy {tok:.4f}, sequence accuracy {seq:.4f}; "
          f"{steps} steps in {elapsed:.1f} s")
    for i in range(3):
        print(f"  {test_x[i].tolist()} -> {pred[i].tolist()}")
    with open("transformer_sort_results.json", "w") as f:
        json.dump({"steps": steps, "batch": bsz, "seconds": round(elapsed, 2),
                   "token_accuracy": tok, "sequence_accuracy": seq,
                   "examples": [[test_x[i].tolist(), pred[i].tolist()] for i in range(5)]},
                  f, indent=1)
    return tok, seq


if __name__ == "__main__":
    main()
