"""A variational autoencoder (Kingma & Welling) on the bundled 8x8 digits, PyTorch style.

Encoder q(z|x) = Normal(mu(x), sigma(x)), reparameterised sample z = mu + sigma * eps,
decoder p(x|z) = Bernoulli(logits(z)) per pixel (pixel intensities in [0, 1] as soft targets),
prior N(0, I). The ELBO = E_q[log p(x|z)] - KL(q(z|x) || p(z)) is a few lines with
tinygrad_ext.distributions. Prints the ELBO per epoch and the test reconstruction error, and
writes vae_reconstructions.png (originals above reconstructions) and vae_samples.png.

    python examples/vae_digits.py [--quick] [--epochs N] [--latent D]   (TGX_SMOKE=1 shortens)
"""

import argparse
import os
import time

import tinygrad_ext as tgx
from tinygrad_ext import nn
from tinygrad_ext.distributions import Bernoulli, Normal, kl_divergence
from tinygrad_ext.utils.data import DataLoader, TensorDataset
from tinygrad_ext.utils.image import save_image


def upscale(images, s):
    """Nearest-neighbour enlargement of (N, C, H, W) images by s, so 8x8 digits are visible."""
    n, c, h, w = images.shape
    return images.reshape(n, c, h, 1, w, 1).expand(n, c, h, s, w, s).reshape(n, c, h * s, w * s)


class VAE(nn.Module):
    def __init__(self, d_in=64, hidden=128, latent=8):
        super().__init__()
        self.enc = nn.Sequential(nn.Linear(d_in, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU())
        self.mu = nn.Linear(hidden, latent)
        self.log_sigma = nn.Linear(hidden, latent)
        self.dec = nn.Sequential(
            nn.Linear(latent, hidden), nn.ReLU(), nn.Linear(hidden, hidden), nn.ReLU(), nn.Linear(hidden, d_in)
        )
        self.latent = latent

    def posterior(self, x):
        h = self.enc(x)
        return Normal(self.mu(h), self.log_sigma(h).clamp(-8.0, 4.0).exp())

    def likelihood(self, z):
        # pixel intensities are in [0, 1], not {0, 1}: soft targets, so skip the support check
        return Bernoulli(logits=self.dec(z), validate_args=False)

    def elbo(self, x):
        """Per-example ELBO (nats) and the posterior."""
        q = self.posterior(x)
        z = q.rsample()
        log_px = self.likelihood(z).log_prob(x).sum(-1)
        prior = Normal(tgx.zeros_like(q.loc), tgx.ones_like(q.scale))
        kl = kl_divergence(q, prior).sum(-1)
        return log_px - kl, q


def evaluate(model, X):
    model.eval()
    with tgx.no_grad():
        elbo, q = model.elbo(X)
        recon = model.likelihood(q.mean).mean  # decode the posterior mean
        mse = ((recon - X) ** 2).mean().item()
    return elbo.mean().item(), mse, recon


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--epochs", type=int, default=300)
    ap.add_argument("--latent", type=int, default=8)
    args = ap.parse_args(argv)
    quick = args.quick or os.environ.get("TGX_SMOKE") == "1"
    epochs = 40 if quick else args.epochs

    tgx.manual_seed(0)
    X, y = tgx.datasets.load_digits(return_X_y=True)
    X = X / 16.0
    Xtr, Xte, ytr, yte = tgx.datasets.train_test_split(X, y, test_size=0.2, random_state=0, stratify=y)
    loader = DataLoader(TensorDataset(Xtr), batch_size=64, shuffle=True)

    model = VAE(latent=args.latent)
    opt = tgx.optim.Adam(model.parameters(), lr=2e-3)
    sched = tgx.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs, eta_min=2e-4)
    print(f"VAE on digits: {Xtr.shape[0]} train / {Xte.shape[0]} test images, latent {args.latent}")
    t0 = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        total, seen = 0.0, 0
        for (xb,) in loader:
            elbo, _ = model.elbo(xb)
            loss = -elbo.mean()
            opt.zero_grad()
            loss.backward()
            opt.step()
            total += -loss.item() * xb.shape[0]
            seen += xb.shape[0]
        sched.step()
        if epoch % (epochs // 10) == epochs // 10 - 1 or epoch == 0:
            test_elbo, mse, _ = evaluate(model, Xte)
            print(
                f"epoch {epoch + 1:3d}  train ELBO {total / seen:8.3f}  test ELBO {test_elbo:8.3f}  "
                f"test recon MSE {mse:.4f}"
            )
    elapsed = time.perf_counter() - t0

    test_elbo, mse, recon = evaluate(model, Xte)
    baseline = ((Xte - Xtr.mean(0)) ** 2).mean().item()  # predicting the mean image
    # with soft targets, log p(x|z) <= -sum of the pixels' binary entropies (perfect logits)
    ceiling = -Bernoulli(probs=Xte).entropy().sum(-1).mean().item()
    print(f"test ELBO {test_elbo:.3f} nats/image (higher is better; perfect decoder, no KL: {ceiling:.3f})")
    print(f"test reconstruction MSE {mse:.4f} (mean-image baseline {baseline:.4f}) in {elapsed:.1f} s")

    n = 16
    pairs = tgx.cat([Xte[:n], recon[:n]]).reshape(2 * n, 1, 8, 8)
    save_image(upscale(pairs.clamp(0.0, 1.0), 4), "vae_reconstructions.png", nrow=n, padding=2, pad_value=0.5)
    with tgx.no_grad():
        z = Normal(0.0, 1.0).sample((64, args.latent))
        samples = model.likelihood(z).mean.reshape(64, 1, 8, 8)
    save_image(upscale(samples, 4), "vae_samples.png", nrow=8, padding=2, pad_value=0.5)
    print("wrote vae_reconstructions.png (top: test images, bottom: reconstructions), vae_samples.png")
    return test_elbo, mse


if __name__ == "__main__":
    main()
