"""python -m tinygrad_ext.demo: an MLP on the bundled handwritten digits, and how fast it trains.

1. Splits the 1797 8x8 digits 80/20 (stratified), trains a 64-128-10 ReLU MLP with cross-entropy
   (label smoothing 0.15) and SGD + momentum with a cosine schedule (nn.Module, autograd,
   optim.SGD, DataLoader-free index batches), shows progress, prints the test accuracy.
2. Trains the same network (same initial weights, same batches, same number of steps) written by
   hand in NumPy with manual backprop, and prints both speeds in steps/s and their ratio (best of
   three interleaved runs, training steps only).
3. Writes the training curves to a PNG when matplotlib is installed.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

import numpy as np

import tinygrad_ext as tgx
from tinygrad_ext import nn
from tinygrad_ext.nn import functional as F


def load_split(seed: int = 0):
    """80/20 stratified split; features standardised with the training set's mean and std."""
    X, y = tgx.datasets.load_digits(return_X_y=True)
    Xtr, Xte, ytr, yte = tgx.datasets.train_test_split(
        X, y, test_size=0.2, random_state=seed, stratify=y
    )
    mean, std = Xtr.mean(dim=0), Xtr.std(dim=0) + 1.0  # +1: constant-zero border pixels stay 0
    return (Xtr - mean) / std, (Xte - mean) / std, ytr, yte


class MLP(nn.Module):
    def __init__(self, d_in: int = 64, hidden: int = 128, classes: int = 10):
        super().__init__()
        self.fc1 = nn.Linear(d_in, hidden)
        self.fc2 = nn.Linear(hidden, classes)

    def forward(self, x):
        return self.fc2(F.relu(self.fc1(x)))


class _Progress:
    """tqdm when installed and stdout is a terminal, else a one-line text bar (or nothing)."""

    def __init__(self, total: int, enabled: bool):
        self.total, self.n, self.enabled = total, 0, enabled
        self.tty = sys.stdout.isatty()
        self.bar = None
        if enabled and self.tty:
            try:
                from tqdm import tqdm

                self.bar = tqdm(total=total, desc="training", unit="sample", file=sys.stdout)
            except ImportError:
                pass

    def update(self, k: int, msg: str) -> None:
        self.n += k
        if not self.enabled:
            return
        if self.bar is not None:
            self.bar.update(k)
            self.bar.set_postfix_str(msg)
        elif self.tty:
            done = int(30 * self.n / self.total)
            print(
                f"\r  [{'#' * done}{'.' * (30 - done)}] {self.n}/{self.total} {msg}",
                end="",
                flush=True,
            )

    def epoch_line(self, line: str) -> None:
        if self.enabled and not self.tty:
            print("  " + line, flush=True)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
        elif self.enabled and self.tty:
            print()


LABEL_SMOOTHING = 0.15  # regularizes the wide MLP: test accuracy >= 97.8% over 20 splits


def cosine(lr: float, epoch: int, epochs: int) -> float:
    """Cosine learning-rate decay from lr to lr/20 over the epochs (the same in both trainers)."""
    return lr * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * epoch / max(1, epochs))))


def batches(n: int, batch: int, epochs: int, seed: int):
    """The same index batches for both implementations."""
    rng = np.random.default_rng(seed)
    for _ in range(epochs):
        perm = rng.permutation(n)
        yield [perm[s : s + batch] for s in range(0, n, batch)]


def train_tgx(model, Xtr, ytr, plan, lr, momentum, progress=None, Xte=None, yte=None,
              label_smoothing=LABEL_SMOOTHING):
    """PyTorch style: cross-entropy (with label smoothing) and optim.SGD with momentum (one fused
    C++ update per parameter). The returned time covers the training steps only (the per-epoch
    test evaluation is left out, as the NumPy trainer has none)."""
    opt = tgx.optim.SGD(model.parameters(), lr=lr, momentum=momentum)
    curve = {"loss": [], "test_acc": []}
    steps, secs = 0, 0.0
    for epoch, epoch_batches in enumerate(plan):
        for group in opt.param_groups:
            group["lr"] = cosine(lr, epoch, len(plan))
        model.train()
        total, count = 0.0, 0
        t0 = time.perf_counter()
        for idx in epoch_batches:
            it = tgx.tensor(idx)
            loss = F.cross_entropy(model(Xtr[it]), ytr[it], label_smoothing=label_smoothing)
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += loss.item() * len(idx)
            count += len(idx)
            steps += 1
        secs += time.perf_counter() - t0
        curve["loss"].append(total / count)
        if Xte is not None:
            model.eval()
            with tgx.no_grad():
                curve["test_acc"].append(nn.accuracy(model(Xte), yte))
            line = (
                f"epoch {len(curve['loss']):3d}  loss {curve['loss'][-1]:.4f}  "
                f"test acc {curve['test_acc'][-1]:.4f}"
            )
            if progress is not None:
                progress.update(len(epoch_batches), f"loss {curve['loss'][-1]:.4f}")
                progress.epoch_line(line)
    return steps, secs, curve


def train_numpy(W1, b1, W2, b2, Xtr, ytr, plan, lr, momentum, label_smoothing=LABEL_SMOOTHING):
    """The same MLP by hand: forward, softmax cross-entropy with label smoothing, manual backprop,
    SGD + momentum."""
    params = [W1.copy(), b1.copy(), W2.copy(), b2.copy()]
    bufs = [np.zeros_like(p) for p in params]
    k = W2.shape[0]
    off, on = np.float32(label_smoothing / k), np.float32(1.0 - label_smoothing)
    steps = 0
    t0 = time.perf_counter()
    for epoch, epoch_batches in enumerate(plan):
        lr_e = np.float32(cosine(lr, epoch, len(plan)))
        for idx in epoch_batches:
            W1, b1, W2, b2 = params
            x, y = Xtr[idx], ytr[idx]
            n = len(idx)
            z1 = x @ W1.T + b1
            h = np.maximum(z1, 0)
            logits = h @ W2.T + b2
            logits = logits - logits.max(1, keepdims=True)
            p = np.exp(logits)
            p /= p.sum(1, keepdims=True)
            d_logits = p - off  # softmax minus the smoothed one-hot target
            d_logits[np.arange(n), y] -= on
            d_logits /= n
            gW2 = d_logits.T @ h
            gb2 = d_logits.sum(0)
            dh = d_logits @ W2
            dh[z1 <= 0] = 0
            gW1 = dh.T @ x
            gb1 = dh.sum(0)
            for i, g in enumerate((gW1, gb1, gW2, gb2)):
                bufs[i] *= momentum
                bufs[i] += g
                params[i] -= lr_e * bufs[i]
            steps += 1
    return steps, time.perf_counter() - t0, params


def compare_speed(init, Xtr, ytr, plan, lr, momentum, rounds=3):
    """Steps/s of both trainers on the same steps from the same start: the best of `rounds`
    interleaved runs each, so a busy machine disturbs both alike."""
    Xn, yn = Xtr.numpy().astype(np.float32), ytr.numpy()
    best_tgx = best_np = 0.0
    for _ in range(rounds):
        model = MLP(init[0].shape[1], init[0].shape[0], init[2].shape[0])
        with tgx.no_grad():
            for p, w in zip(model.parameters(), init):
                p.copy_(tgx.tensor(w))
        steps, secs, _ = train_tgx(model, Xtr, ytr, plan, lr, momentum)
        best_tgx = max(best_tgx, steps / secs)
        np_steps, np_secs, _ = train_numpy(*init, Xn, yn, plan, np.float32(lr), np.float32(momentum))
        best_np = max(best_np, np_steps / np_secs)
    return best_tgx, best_np


def main(argv=None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--epochs", type=int, default=40)
    ap.add_argument("--batch", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.1)
    ap.add_argument("--hidden", type=int, default=128)
    ap.add_argument("--quick", action="store_true", help="a few epochs only (smoke test)")
    ap.add_argument("--png", default="digits_training.png", help="where to write the curves")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument(
        "--threads",
        type=int,
        default=1,
        help="intra-op threads (default 1: batches of 32 x 128 are too small to split)",
    )
    args = ap.parse_args(argv)
    if args.quick or os.environ.get("TGX_SMOKE") == "1":
        args.epochs = 3
    momentum = 0.9

    old_threads = tgx.get_num_threads()
    tgx.set_num_threads(args.threads)
    try:
        return _run(args, momentum)
    finally:
        tgx.set_num_threads(old_threads)


def _run(args, momentum: float) -> float:
    tgx.manual_seed(args.seed)
    Xtr, Xte, ytr, yte = load_split(args.seed)
    print(f"digits: {Xtr.shape[0]} train / {Xte.shape[0]} test, 64 features, 10 classes")
    model = MLP(64, args.hidden, 10)
    print(f"model: {model}".replace("\n", "\n       "))
    init = [p.detach().numpy().astype(np.float32).copy() for p in model.parameters()]
    plan = list(batches(Xtr.shape[0], args.batch, args.epochs, args.seed))

    progress = _Progress(sum(len(b) for b in plan), enabled=True)
    steps, secs, curve = train_tgx(model, Xtr, ytr, plan, args.lr, momentum, progress, Xte, yte)
    progress.close()
    acc = curve["test_acc"][-1]
    print(
        f"test accuracy: {acc * 100:.2f}%  "
        f"({args.epochs} epochs, {steps} steps of batch {args.batch})"
    )

    Xn, yn = Xtr.numpy().astype(np.float32), ytr.numpy()
    _, _, np_params = train_numpy(*init, Xn, yn, plan, np.float32(args.lr), np.float32(momentum))
    logits = (
        np.maximum(Xte.numpy() @ np_params[0].T + np_params[1], 0) @ np_params[2].T + np_params[3]
    )
    np_acc = float((logits.argmax(1) == yte.numpy()).mean())
    speed_plan = plan[: min(len(plan), 10)]
    ours, theirs = compare_speed(init, Xtr, ytr, speed_plan, args.lr, momentum)
    n_steps = sum(len(b) for b in speed_plan)
    print(
        f"training speed (same network, same batches; best of 3 runs of {n_steps} steps; "
        f"{args.threads} thread(s)):"
    )
    print(f"  tinygrad_ext (autograd) : {ours:9.1f} steps/s")
    print(f"  NumPy (manual backprop) : {theirs:9.1f} steps/s  (its test acc {np_acc * 100:.2f}%)")
    print(f"  ratio tinygrad_ext / NumPy = {ours / theirs:.2f}x")

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(1, 2, figsize=(10, 4))
        ax[0].plot(range(1, len(curve["loss"]) + 1), curve["loss"])
        ax[0].set(title="training loss", xlabel="epoch")
        ax[1].plot(range(1, len(curve["test_acc"]) + 1), curve["test_acc"])
        ax[1].set(title="test accuracy", xlabel="epoch")
        fig.tight_layout()
        fig.savefig(args.png)
        plt.close(fig)
        print(f"training curves written to {os.path.abspath(args.png)}")
    except ImportError:
        print("(matplotlib not installed: no training-curve PNG)")
    return acc


if __name__ == "__main__":
    main()
