"""Unsupervised learning: autoencoders against PCA on the bundled 8x8 digits, same code size.

PCA keeps the top-k right singular vectors of the centred training data (tinygrad_ext.linalg.svd,
LAPACK through NumPy): the best rank-k linear reconstruction in squared error (Eckart-Young).
A linear autoencoder (64 -> k -> 64, no activation) trained on the squared error can do no
better, and at its optimum spans the same subspace (Baldi & Hornik, 1989): the example prints
both errors and the principal angles between the two subspaces. A nonlinear autoencoder
(ReLU MLPs) with the same code size shows what nonlinearity buys. Writes autoencoder_pca.png
(rows: test images, PCA, linear AE, nonlinear AE).

    python examples/autoencoder_pca.py [--quick] [--code K] [--steps N]   (TGX_SMOKE=1 shortens)
"""

import argparse
import os
import time

import numpy as np
import tinygrad_ext as tgx
from tinygrad_ext import nn
from tinygrad_ext.utils.image import save_image


def upscale(images, s):
    """Nearest-neighbour enlargement of (N, C, H, W) images by s, so 8x8 digits are visible."""
    n, c, h, w = images.shape
    return images.reshape(n, c, h, 1, w, 1).expand(n, c, h, s, w, s).reshape(n, c, h * s, w * s)


def mse(a, b):
    return ((a - b) ** 2).mean().item()


def train(model, Xtr, steps, lr, batch=None):
    """Adam on the mean squared reconstruction error, on random minibatches (or full batch)."""
    opt = tgx.optim.Adam(model.parameters(), lr=lr)
    sched = tgx.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=steps, eta_min=lr / 50)
    n = Xtr.shape[0]
    for _ in range(steps):
        xb = Xtr if batch is None else Xtr[tgx.randint(0, n, (batch,))]
        loss = ((model(xb) - xb) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        sched.step()
    return loss.item()


def principal_angles_deg(A, B):
    """Principal angles (degrees) between the column spaces of A and B (64 x k each)."""
    qa, _ = np.linalg.qr(A)
    qb, _ = np.linalg.qr(B)
    s = np.clip(np.linalg.svd(qa.T @ qb, compute_uv=False), -1.0, 1.0)
    return np.degrees(np.arccos(s))


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--code", type=int, default=8, help="code size k (PCA components)")
    ap.add_argument("--steps", type=int, default=4000)
    args = ap.parse_args(argv)
    quick = args.quick or os.environ.get("TGX_SMOKE") == "1"
    steps = 800 if quick else args.steps
    k = args.code

    tgx.manual_seed(0)
    X, y = tgx.datasets.load_digits(return_X_y=True)
    X = X / 16.0
    Xtr, Xte, _, _ = tgx.datasets.train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    mean = Xtr.mean(0)
    Ctr, Cte = Xtr - mean, Xte - mean  # all three models see centred pixels
    print(f"digits: {Xtr.shape[0]} train / {Xte.shape[0]} test images of 64 pixels, code size {k}")

    # ---- PCA ---------------------------------------------------------------------------------
    t0 = time.perf_counter()
    _, S, Vh = tgx.linalg.svd(Ctr, full_matrices=False)
    V = Vh[:k].t()  # 64 x k, orthonormal columns
    pca_tr, pca_te = Ctr @ V @ V.t(), Cte @ V @ V.t()
    explained = (S[:k] ** 2).sum().item() / (S**2).sum().item()
    t_pca = time.perf_counter() - t0

    # ---- linear autoencoder --------------------------------------------------------------------
    t0 = time.perf_counter()
    lin = nn.Sequential(nn.Linear(64, k, bias=False), nn.Linear(k, 64, bias=False))
    train(lin, Ctr, steps, lr=1e-2, batch=128)
    t_lin = time.perf_counter() - t0

    # ---- nonlinear autoencoder ---------------------------------------------------------------
    t0 = time.perf_counter()
    deep = nn.Sequential(
        nn.Linear(64, 128), nn.ReLU(), nn.Linear(128, k),
        nn.Linear(k, 128), nn.ReLU(), nn.Linear(128, 64),
    )
    train(deep, Ctr, steps, lr=3e-3, batch=128)
    t_deep = time.perf_counter() - t0

    with tgx.no_grad():
        lin_tr, lin_te = lin(Ctr), lin(Cte)
        deep_tr, deep_te = deep(Ctr), deep(Cte)
    zero = tgx.zeros(1, 64)  # a centred reconstruction of 0 is the training mean image
    print(f"PCA keeps {explained * 100:.1f}% of the training variance with {k} components")
    print(f"  {'model':<22} {'train MSE':>10} {'test MSE':>10} {'time':>8}")
    rows = [
        ("mean image", mse(zero, Ctr), mse(zero, Cte), 0.0),
        (f"PCA (k={k})", mse(pca_tr, Ctr), mse(pca_te, Cte), t_pca),
        ("linear autoencoder", mse(lin_tr, Ctr), mse(lin_te, Cte), t_lin),
        ("nonlinear autoencoder", mse(deep_tr, Ctr), mse(deep_te, Cte), t_deep),
    ]
    for name, tr, te, t in rows:
        print(f"  {name:<22} {tr:10.5f} {te:10.5f} {t:7.2f}s")
    ratio = rows[2][1] / rows[1][1]
    angles = principal_angles_deg(V.numpy(), lin[1].weight.detach().numpy())
    print(f"linear AE / PCA train MSE ratio {ratio:.4f} (PCA is optimal: >= 1, and 1 at convergence)")
    print(
        "principal angles between the linear AE's and PCA's subspaces (deg): "
        + " ".join(f"{a:.1f}" for a in np.sort(angles))
    )

    n = 12
    pics = [Xte[:n], pca_te[:n] + mean, lin_te[:n] + mean, deep_te[:n] + mean]
    grid = upscale(tgx.cat(pics).clamp(0.0, 1.0).reshape(4 * n, 1, 8, 8), 4)
    save_image(grid, "autoencoder_pca.png", nrow=n, padding=2, pad_value=0.5)
    print("wrote autoencoder_pca.png (rows: test images, PCA, linear AE, nonlinear AE)")
    return rows


if __name__ == "__main__":
    main()
