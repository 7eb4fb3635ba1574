"""A generative adversarial network (Goodfellow et al.) on the two-moons data, PyTorch style.

Generator G: z ~ Normal(0, I) in 8-d -> MLP -> a point in the plane; discriminator D: point ->
MLP -> logit. Non-saturating losses with binary_cross_entropy_with_logits, Adam(0.5, 0.999).
The result is checked with numbers, not only a picture: the kernel MMD^2 and nearest-neighbour
distances between generated and held-out real points, next to the same measures for a second
real sample (the floor) and for a Gaussian with the data's mean and covariance (a baseline that
knows the first two moments but not the moons). Writes gan_moons.png.

    python examples/gan_moons.py [--quick] [--steps N]   (TGX_SMOKE=1 shortens)
"""

import argparse
import os
import time

import numpy as np
import tinygrad_ext as tgx
from tinygrad_ext import nn
from tinygrad_ext.distributions import Normal
from tinygrad_ext.nn import functional as F

LATENT = 8


def mlp(d_in, d_out, hidden=64):
    return nn.Sequential(
        nn.Linear(d_in, hidden), nn.LeakyReLU(0.2), nn.Linear(hidden, hidden), nn.LeakyReLU(0.2),
        nn.Linear(hidden, d_out),
    )


def mmd2(a, b, scales=(0.05, 0.1, 0.2, 0.5)):
    """Unbiased squared maximum mean discrepancy with a sum of RBF kernels (float64 NumPy)."""

    def k(x, y):
        d2 = ((x[:, None, :] - y[None, :, :]) ** 2).sum(-1)
        return sum(np.exp(-d2 / (2 * s * s)) for s in scales)

    n, m = len(a), len(b)
    kaa, kbb, kab = k(a, a), k(b, b), k(a, b)
    return (
        (kaa.sum() - np.trace(kaa)) / (n * (n - 1))
        + (kbb.sum() - np.trace(kbb)) / (m * (m - 1))
        - 2 * kab.mean()
    )


def nn_dist(a, b):
    """Mean distance from each point of a to its nearest neighbour in b."""
    return float(np.sqrt(((a[:, None, :] - b[None, :, :]) ** 2).sum(-1).min(1)).mean())


def moon_balance(points, real, labels):
    """Fraction of points whose nearest real neighbour is on moon 0 (0.5 = both moons covered)."""
    nearest = ((points[:, None, :] - real[None, :, :]) ** 2).sum(-1).argmin(1)
    return float((labels[nearest] == 0).mean())


def plot(real, fake, path):
    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        return _raster(real, fake, path)
    fig, ax = plt.subplots(figsize=(5, 4), dpi=120)
    ax.scatter(real[:, 0], real[:, 1], s=4, alpha=0.5, label="real")
    ax.scatter(fake[:, 0], fake[:, 1], s=4, alpha=0.5, label="generated")
    ax.legend(loc="upper right")
    ax.set_title("GAN on two moons")
    fig.tight_layout()
    fig.savefig(path)
    plt.close(fig)


def _raster(real, fake, path, size=200):
    """Without matplotlib: real points blue, generated orange on a white RGB image."""
    from tinygrad_ext.utils.image import save_image

    img = np.ones((3, size, size))
    lo, hi = np.minimum(real.min(0), fake.min(0)) - 0.1, np.maximum(real.max(0), fake.max(0)) + 0.1
    for pts, color in ((real, (0.12, 0.47, 0.71)), (fake, (1.0, 0.5, 0.05))):
        ij = ((pts - lo) / (hi - lo) * (size - 2)).round().astype(int).clip(0, size - 2)
        for di in (0, 1):  # 2x2 pixel dots
            for dj in (0, 1):
                for c in range(3):
                    img[c, size - 1 - ij[:, 1] - di, ij[:, 0] + dj] = color[c]
    save_image(img, path)


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--steps", type=int, default=3000)
    args = ap.parse_args(argv)
    quick = args.quick or os.environ.get("TGX_SMOKE") == "1"
    steps = 1000 if quick else args.steps

    tgx.manual_seed(0)
    X, _ = tgx.datasets.make_moons(4000, noise=0.05, random_state=0)
    held, held_y = tgx.datasets.make_moons(1000, noise=0.05, random_state=1)
    held2, _ = tgx.datasets.make_moons(1000, noise=0.05, random_state=2)
    held, held_y, held2 = held.numpy().astype(np.float64), held_y.numpy(), held2.numpy().astype(np.float64)

    G, D = mlp(LATENT, 2), mlp(2, 1)
    opt_g = tgx.optim.Adam(G.parameters(), lr=1e-3, betas=(0.5, 0.999))
    opt_d = tgx.optim.Adam(D.parameters(), lr=1e-3, betas=(0.5, 0.999))
    prior = Normal(0.0, 1.0)
    batch = 128
    ones, zeros = tgx.ones(batch, 1), tgx.zeros(batch, 1)

    t0 = time.perf_counter()
    for step in range(1, steps + 1):
        real = X[tgx.randint(0, X.shape[0], (batch,))]
        fake = G(prior.sample((batch, LATENT)))
        # discriminator: real -> 1, generated -> 0 (the generator is not updated here)
        d_loss = F.binary_cross_entropy_with_logits(D(real), ones) + F.binary_cross_entropy_with_logits(
            D(fake.detach()), zeros
        )
        opt_d.zero_grad()
        d_loss.backward()
        opt_d.step()
        # generator, non-saturating: make D call the generated points real
        g_loss = F.binary_cross_entropy_with_logits(D(fake), ones)
        opt_g.zero_grad()
        g_loss.backward()
        opt_g.step()
        if step % (steps // 6) == 0 or step == steps:
            with tgx.no_grad():
                sample = G(prior.sample((500, LATENT))).numpy().astype(np.float64)
            print(
                f"step {step:5d}  D loss {d_loss.item():.3f}  G loss {g_loss.item():.3f}  "
                f"MMD^2 {mmd2(sample, held[:500]):.4f}"
            )
    elapsed = time.perf_counter() - t0

    with tgx.no_grad():
        gen = G(prior.sample((1000, LATENT))).numpy().astype(np.float64)
    rng = np.random.default_rng(0)
    gauss = rng.multivariate_normal(held2.mean(0), np.cov(held2.T), size=1000)
    print(f"trained {steps} steps in {elapsed:.1f} s; against 1000 held-out real points:")
    print(f"  {'sample':<22} {'MMD^2':>8} {'gen->real NN':>13} {'real->gen NN':>13} {'moon 0 share':>13}")
    for name, pts in (("generated", gen), ("real (2nd sample)", held2), ("Gaussian, same moments", gauss)):
        print(
            f"  {name:<22} {mmd2(pts, held):8.4f} {nn_dist(pts, held):13.4f} {nn_dist(held, pts):13.4f} "
            f"{moon_balance(pts, held, held_y):13.3f}"
        )
    plot(held, gen, "gan_moons.png")
    print("wrote gan_moons.png (real and generated points)")
    return mmd2(gen, held), mmd2(gauss, held)


if __name__ == "__main__":
    main()
