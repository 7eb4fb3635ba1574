"""A character-level LSTM language model on Shakespeare's Hamlet (bundled, public domain), then
sequence generation: sampling new text one character at a time with a temperature.

Embedding -> 2-layer LSTM (dropout between layers) -> Linear, trained on random windows with
truncated backpropagation through time, Adam and gradient-norm clipping (clip_grad_norm_).
Prints the training / validation loss (nats and bits per character) and samples; writes the
samples to char_rnn_samples.txt in the current directory.

    python examples/char_rnn.py [--quick] [--steps N] [--hidden H]   (TGX_SMOKE=1 = --quick)
"""

import argparse
import math
import os
import time

import numpy as np
import tinygrad_ext as tgx
from tinygrad_ext import nn


class CharLSTM(nn.Module):
    def __init__(self, vocab, embed, hidden, layers, dropout):
        super().__init__()
        self.embed = nn.Embedding(vocab, embed)
        self.lstm = nn.LSTM(embed, hidden, num_layers=layers, dropout=dropout, batch_first=True)
        self.head = nn.Linear(hidden, vocab)

    def forward(self, idx, state=None):
        out, state = self.lstm(self.embed(idx), state)
        return self.head(out), state


def batches(data, batch, seq, rng):
    starts = rng.integers(0, len(data) - seq - 1, size=batch)
    x = np.stack([data[s : s + seq] for s in starts])
    y = np.stack([data[s + 1 : s + seq + 1] for s in starts])
    return tgx.tensor(x), tgx.tensor(y)


def evaluate(model, data, vocab, seq, n_batches, rng):
    model.eval()
    total = 0.0
    with tgx.no_grad():
        for _ in range(n_batches):
            x, y = batches(data, 32, seq, rng)
            logits, _ = model(x)
            total += nn.functional.cross_entropy(logits.reshape(-1, vocab), y.reshape(-1)).item()
    model.train()
    return total / n_batches


def sample(model, stoi, itos, prime, length, temperature, rng):
    """Feeds the prime, then draws each next character from softmax(logits / temperature)."""
    model.eval()
    out = list(prime)
    with tgx.no_grad():
        logits, state = model(tgx.tensor([[stoi[c] for c in prime]]))
        last = logits[0, -1]
        for _ in range(length):
            p = (last / temperature).softmax(-1).numpy().astype(np.float64)
            c = int(rng.choice(len(p), p=p / p.sum()))
            out.append(itos[c])
            logits, state = model(tgx.tensor([[c]]), state)
            last = logits[0, -1]
    model.train()
    return "".join(out)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--steps", type=int, default=1500)
    ap.add_argument("--hidden", type=int, default=192)
    ap.add_argument("--seq", type=int, default=100)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=3e-3)
    args = ap.parse_args(argv)
    quick = args.quick or os.environ.get("TGX_SMOKE") == "1"
    steps, hidden, seq = (80, 64, 32) if quick else (args.steps, args.hidden, args.seq)

    tgx.manual_seed(0)
    rng = np.random.default_rng(0)
    text = tgx.datasets.load_hamlet()
    chars = sorted(set(text))
    stoi = {c: i for i, c in enumerate(chars)}
    itos = dict(enumerate(chars))
    data = np.array([stoi[c] for c in text], dtype=np.int64)
    split = int(0.9 * len(data))
    train, val = data[:split], data[split:]
    V = len(chars)
    print(f"Hamlet: {len(text):,} characters, vocabulary {V}; train {len(train):,}, val {len(val):,}")

    model = CharLSTM(V, 64, hidden, 2, 0.1 if quick else 0.2)
    n_params = sum(p.numel() for p in model.parameters())
    print(f"model: Embedding({V}, 64) -> LSTM(64, {hidden}, num_layers=2) -> Linear({hidden}, {V}); "
          f"{n_params:,} parameters")
    opt = tgx.optim.Adam(model.parameters(), lr=args.lr)
    sched_steps = max(1, steps)
    loss_fn = nn.CrossEntropyLoss()
    t0 = time.time()
    running = None
    every = max(1, steps // 10)
    for step in range(1, steps + 1):
        lr = args.lr * (0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * step / sched_steps)))  # cosine
        for g in opt.param_groups:
            g["lr"] = lr
        x, y = batches(train, args.batch, seq, rng)
        logits, _ = model(x)
        loss = loss_fn(logits.reshape(-1, V), y.reshape(-1))
        opt.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        running = loss.item() if running is None else 0.95 * running + 0.05 * loss.item()
        if step % every == 0 or step == steps:
            vl = evaluate(model, val, V, seq, 4 if quick else 20, np.random.default_rng(1))
            print(f"step {step:5d}  train loss {running:.3f}  val loss {vl:.3f} "
                  f"({vl / math.log(2):.2f} bits/char)  {time.time() - t0:6.1f} s")
    train_time = time.time() - t0
    val_loss = evaluate(model, val, V, seq, 4 if quick else 40, np.random.default_rng(2))
    print(f"trained {steps} steps in {train_time:.1f} s; final val loss {val_loss:.3f} nats "
          f"= {val_loss / math.log(2):.2f} bits/char (uniform: {math.log(V):.2f} nats)")

    samples = []
    for temp in (0.5, 0.8, 1.0):
        s = sample(model, stoi, itos, "HAMLET:\n", 100 if quick else 400, temp, np.random.default_rng(3))
        samples.append(f"--- temperature {temp} ---\n{s}\n")
        print(samples[-1])
    with open("char_rnn_samples.txt", "w") as f:
        f.write("".join(samples))
    print("wrote char_rnn_samples.txt")
    return val_loss


if __name__ == "__main__":
    main()
