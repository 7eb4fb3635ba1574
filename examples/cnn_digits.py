"""A LeNet-style CNN on the bundled 8x8 handwritten digits, PyTorch style.

conv(1->16, 3x3, pad 1) -> ReLU -> max-pool 2 -> conv(16->32, 3x3, pad 1) -> ReLU -> max-pool 2
-> Linear(128, 64) -> ReLU -> Dropout -> Linear(64, 10), trained with AdamW (weight decay 0.05),
label smoothing 0.1 and a cosine schedule on 80% of the data, tested on the held-out 20%
(same split as mlp_digits.py).

    python examples/cnn_digits.py [--quick] [--epochs N]     (TGX_SMOKE=1 also shortens the run)
"""

import argparse
import os
import time

import tinygrad_ext as tgx
from tinygrad_ext import nn
from tinygrad_ext.utils.data import DataLoader, TensorDataset


def lenet():
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(32 * 2 * 2, 64), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(64, 10),
    )


def evaluate(model, loader):
    model.eval()
    correct = total = 0
    with tgx.no_grad():
        for xb, yb in loader:
            correct += (model(xb).argmax(dim=1) == yb).sum().item()
            total += yb.shape[0]
    return correct / total


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--epochs", type=int, default=30)
    args = ap.parse_args(argv)
    epochs = 2 if (args.quick or os.environ.get("TGX_SMOKE") == "1") else args.epochs

    tgx.manual_seed(0)
    digits = tgx.datasets.load_digits()
    X = (digits.images / 16.0).reshape(-1, 1, 8, 8)  # N x C x H x W
    Xtr, Xte, ytr, yte = tgx.datasets.train_test_split(
        X, digits.target, test_size=0.2, random_state=0, stratify=digits.target
    )
    g = tgx.Generator().manual_seed(0)
    train_loader = DataLoader(TensorDataset(Xtr, ytr), batch_size=32, shuffle=True, generator=g)
    test_loader = DataLoader(TensorDataset(Xte, yte), batch_size=256)

    model = lenet()
    print(model)
    print(f"{sum(p.numel() for p in model.parameters())} parameters")
    loss_fn = nn.CrossEntropyLoss(label_smoothing=0.1)
    optimizer = tgx.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.05)
    sched = tgx.optim.lr_scheduler.CosineAnnealingLR(optimizer, T_max=epochs)

    t0 = time.perf_counter()
    for epoch in range(epochs):
        model.train()
        running, seen = 0.0, 0
        for xb, yb in train_loader:
            optimizer.zero_grad()
            loss = loss_fn(model(xb), yb)
            loss.backward()
            optimizer.step()
            running += loss.item() * yb.shape[0]
            seen += yb.shape[0]
        sched.step()
        if epoch % 5 == 4 or epoch == epochs - 1:
            print(f"epoch {epoch + 1:2d}  train loss {running / seen:.4f}  "
                  f"test acc {evaluate(model, test_loader):.4f}")
    acc = evaluate(model, test_loader)
    print(f"test accuracy {acc * 100:.2f}% on {len(yte)} held-out digits "
          f"({time.perf_counter() - t0:.1f} s training)")
    return acc


if __name__ == "__main__":
    main()
