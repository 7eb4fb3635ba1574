"""An MLP on the bundled handwritten digits, PyTorch style: Dataset/DataLoader, nn.Sequential,
CrossEntropyLoss, an optimizer, train/eval loops, state_dict save and reload.

    python examples/mlp_digits.py [--quick]      (TGX_SMOKE=1 also shortens the run)
"""

import argparse
import os
import tempfile

import tinygrad_ext as tgx
from tinygrad_ext import nn
from tinygrad_ext.utils.data import DataLoader, TensorDataset


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
    ap.add_argument("--epochs", type=int, default=20)
    args = ap.parse_args(argv)
    epochs = 2 if (args.quick or os.environ.get("TGX_SMOKE") == "1") else args.epochs

    tgx.manual_seed(0)
    X, y = tgx.datasets.load_digits(return_X_y=True)
    X = X / 16.0
    Xtr, Xte, ytr, yte = tgx.datasets.train_test_split(
        X, y, test_size=0.2, random_state=0, stratify=y
    )
    train_loader = DataLoader(TensorDataset(Xtr, ytr), batch_size=32, shuffle=True)
    test_loader = DataLoader(TensorDataset(Xte, yte), batch_size=256)

    model = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
    print(model)
    loss_fn = nn.CrossEntropyLoss()
    optimizer = tgx.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)

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
        print(
            f"epoch {epoch + 1:2d}  train loss {running / seen:.4f}  "
            f"test acc {evaluate(model, test_loader):.4f}"
        )

    acc = evaluate(model, test_loader)
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "mlp_digits.tgx")
        tgx.save(model.state_dict(), path)
        clone = nn.Sequential(nn.Linear(64, 128), nn.ReLU(), nn.Dropout(0.1), nn.Linear(128, 10))
        clone.load_state_dict(tgx.load(path))
        assert evaluate(clone, test_loader) == acc
    print(f"test accuracy {acc * 100:.2f}% (reloaded from the state_dict: same)")
    return acc


if __name__ == "__main__":
    main()
