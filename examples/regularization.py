"""Regularisation on a small over-fitting problem: L2 / weight decay, dropout, early stopping.

60 noisy two-moons points, a 2-128-128-2 MLP; each variant trains on the same data and reports its
train and validation loss/accuracy: plain, L2 penalty (lambda/2 ||W||_F^2), dropout, and early
stopping (Keras callback, restore_best_weights). Writes the train/val curves to regularization.png
when matplotlib is installed.

    python examples/regularization.py [--quick]      (TGX_SMOKE=1 also shortens the run)
"""

import argparse
import os

import tinygrad_ext as tgx
from tinygrad_ext import keras, nn
from tinygrad_ext.nn import functional as F


def make_data():
    X, y = tgx.datasets.make_moons(460, noise=0.3, random_state=0)
    return X[:60], y[:60], X[60:], y[60:]


def mlp(dropout: float = 0.0):
    layers = [nn.Linear(2, 128), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers += [nn.Linear(128, 128), nn.ReLU()]
    if dropout:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(128, 2))
    return nn.Sequential(*layers)


def train(model, data, epochs: int, lam: float = 0.0, lr: float = 0.1):
    """Full-batch gradient descent on cross-entropy (+ lam/2 sum ||W||_F^2 over weight matrices)."""
    Xtr, ytr, Xva, yva = data
    weights = [p for name, p in model.named_parameters() if name.endswith("weight")]
    curves = {"train": [], "val": []}
    for _ in range(epochs):
        model.train()
        loss = F.cross_entropy(model(Xtr), ytr)
        if lam:
            loss = loss + nn.l2_penalty(weights, lam)
        model.zero_grad()
        loss.backward()
        with tgx.no_grad():
            for p in model.parameters():
                p -= lr * p.grad
        model.eval()
        with tgx.no_grad():
            curves["train"].append(F.cross_entropy(model(Xtr), ytr).item())
            curves["val"].append(F.cross_entropy(model(Xva), yva).item())
    model.eval()
    with tgx.no_grad():
        accs = (nn.accuracy(model(Xtr), ytr), nn.accuracy(model(Xva), yva))
    return curves, accs


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args(argv)
    epochs = 30 if (args.quick or os.environ.get("TGX_SMOKE") == "1") else 800
    data = make_data()
    results = {}
    for name, kw in [
        ("plain", {}),
        ("L2 (lambda=1e-2)", {"lam": 1e-2}),
        ("dropout 0.5", {"dropout": 0.5}),
    ]:
        tgx.manual_seed(0)
        model = mlp(kw.get("dropout", 0.0))
        curves, (tr_acc, va_acc) = train(model, data, epochs, lam=kw.get("lam", 0.0))
        results[name] = curves
        print(
            f"{name:18s} train loss {curves['train'][-1]:.3f} acc {tr_acc:.3f} | "
            f"val loss {curves['val'][-1]:.3f} acc {va_acc:.3f} | "
            f"best val loss {min(curves['val']):.3f}"
        )

    # early stopping with the Keras API: stop when val_loss stops improving, keep the best weights
    tgx.manual_seed(0)
    Xtr, ytr, Xva, yva = data
    model = keras.Sequential(
        [
            keras.Dense(128, activation="relu", input_dim=2),
            keras.Dense(128, activation="relu"),
            keras.Dense(2, activation="softmax"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.1),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    stop = keras.EarlyStopping(
        monitor="val_loss", patience=max(3, epochs // 20), restore_best_weights=True
    )
    hist = model.fit(
        Xtr,
        ytr,
        epochs=epochs,
        batch_size=60,
        validation_data=(Xva, yva),
        callbacks=[stop],
        verbose=0,
    )
    val = model.evaluate(Xva, yva, verbose=0)
    print(
        f"{'early stopping':18s} stopped after {len(hist.epoch)} epochs "
        f"(best epoch {stop.best_epoch + 1}); "
        f"val loss {val[0]:.3f} acc {val[1]:.3f}"
    )
    results["early stopping"] = {"train": hist.history["loss"], "val": hist.history["val_loss"]}

    try:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, axes = plt.subplots(1, len(results), figsize=(4 * len(results), 3.5), sharey=True)
        for ax, (name, c) in zip(axes, results.items()):
            ax.plot(c["train"], label="train")
            ax.plot(c["val"], label="val")
            ax.set(title=name, xlabel="epoch")
            ax.legend()
        fig.tight_layout()
        fig.savefig("regularization.png")
        print("curves written to regularization.png")
    except ImportError:
        print("(matplotlib not installed: no curves PNG)")
    return results


if __name__ == "__main__":
    main()
