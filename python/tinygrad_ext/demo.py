"""python -m tinygrad_ext.demo: linear regression two ways (the course's chapter 3).

Fits y = X w + b + noise by the closed form w* = (X^T X)^-1 X^T y (through LAPACK) and by
mini-batch SGD on the loss 1/(2n) ||y - X w||^2 with hand-written gradients, and shows that
both reach the same w. (The training issue replaces this with an MLP on handwritten digits.)
"""

from __future__ import annotations

import time

import tinygrad_ext as tgx


def main(n: int = 4096, d: int = 8, epochs: int = 30, batch: int = 64, lr: float = 0.1) -> float:
    tgx.manual_seed(0)
    true_w = tgx.arange(1, d + 2, dtype=tgx.float64) / d  # last entry plays the bias
    X = tgx.cat([tgx.randn(n, d, dtype=tgx.float64), tgx.ones(n, 1, dtype=tgx.float64)], dim=1)
    y = X @ true_w + 0.01 * tgx.randn(n, dtype=tgx.float64)

    t0 = time.perf_counter()
    w_closed = tgx.linalg.solve(X.T @ X, X.T @ y)
    t_closed = time.perf_counter() - t0

    w = tgx.zeros(d + 1, dtype=tgx.float64)
    t0 = time.perf_counter()
    for epoch in range(epochs):
        perm = tgx.randperm(n)
        for start in range(0, n, batch):
            idx = perm[start : start + batch]
            xb, yb = X[idx], y[idx]
            grad = xb.T @ (xb @ w - yb) / len(idx)  # d/dw of 1/(2b) ||xb w - yb||^2
            w -= lr * grad
        if epoch in (0, epochs - 1):
            loss = ((X @ w - y) ** 2).mean() / 2
            print(f"epoch {epoch + 1:3d}  loss {loss.item():.6f}")
    t_sgd = time.perf_counter() - t0

    gap = (w - w_closed).abs().max().item()
    print(f"true w       {[round(v, 3) for v in true_w.tolist()]}")
    print(f"closed form  {[round(v, 3) for v in w_closed.tolist()]}  ({t_closed * 1e3:.1f} ms)")
    print(f"mini-batch   {[round(v, 3) for v in w.tolist()]}  ({t_sgd:.2f} s, {epochs} epochs)")
    print(f"max |w_sgd - w_closed| = {gap:.2e}")
    return gap


if __name__ == "__main__":
    main()
