"""Linear regression two ways (course chapter 3): the closed form w* = (X^T X)^-1 X^T y and
mini-batch SGD on the loss 1/(2n) ||y - X w||^2 with autograd, reaching the same w.

    python examples/linear_regression.py [--quick]      (TGX_SMOKE=1 also shortens the run)
"""

import argparse
import os

import tinygrad_ext as tgx
from tinygrad_ext import nn


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    quick = args.quick or os.environ.get("TGX_SMOKE") == "1"
    n, d, epochs, batch, lr = (512, 4, 15, 32, 0.1) if quick else (4096, 8, 30, 64, 0.1)

    tgx.manual_seed(0)
    true_w = tgx.arange(1, d + 1, dtype=tgx.float64) / d
    true_b = 0.5
    X = tgx.randn(n, d, dtype=tgx.float64)
    y = X @ true_w + true_b + 0.01 * tgx.randn(n, dtype=tgx.float64)

    # closed form on [X, 1]: w* = (X^T X)^-1 X^T y (solve, not an explicit inverse)
    Xb = tgx.cat([X, tgx.ones(n, 1, dtype=tgx.float64)], dim=1)
    w_closed = tgx.linalg.solve(Xb.T @ Xb, Xb.T @ y)

    # mini-batch SGD with autograd: a Linear layer and loss 1/(2b) ||y - Xw||^2
    model = nn.Linear(d, 1).double()
    for epoch in range(epochs):
        perm = tgx.randperm(n)
        for s in range(0, n, batch):
            idx = perm[s : s + batch]
            loss = 0.5 * nn.functional.mse_loss(model(X[idx]).squeeze(1), y[idx])
            model.zero_grad()
            loss.backward()
            with tgx.no_grad():
                for p in model.parameters():
                    p -= lr * p.grad
        if epoch in (0, epochs - 1):
            with tgx.no_grad():
                full = 0.5 * nn.functional.mse_loss(model(X).squeeze(1), y)
            print(f"epoch {epoch + 1:3d}  loss 1/(2n)||y - Xw||^2 = {full.item():.6f}")

    w_sgd = tgx.cat([model.weight.detach().reshape(-1), model.bias.detach()])
    gap = (w_sgd - w_closed).abs().max().item()
    print("true w, b     ", [round(v, 4) for v in true_w.tolist()], true_b)
    print("closed form   ", [round(v, 4) for v in w_closed.tolist()])
    print("mini-batch SGD", [round(v, 4) for v in w_sgd.tolist()])
    print(f"max |w_sgd - w_closed| = {gap:.2e}")
    assert gap < 5e-3, gap
    return gap


if __name__ == "__main__":
    main()
