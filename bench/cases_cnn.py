"""Bench case: the small CNN training step of issue 6 (loaded by bench/run.py).

conv 1->16 3x3 (pad 1), ReLU, max-pool 2, conv 16->32 3x3 (pad 1), ReLU, max-pool 2, Linear
32*7*7 -> 10 on 1x28x28 inputs, batch 64, cross-entropy, SGD with momentum 0.9: one step is
zero_grad + forward + loss + backward + update, timed against the same model in PyTorch.
"""

from __future__ import annotations

import numpy as np


def _model(lib):
    nn = lib.nn
    return nn.Sequential(
        nn.Conv2d(1, 16, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(16, 32, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Flatten(), nn.Linear(32 * 7 * 7, 10),
    )


def cases(quick, Case, tgx, torch):
    if not (hasattr(tgx.nn, "Conv2d") and hasattr(tgx.nn, "MaxPool2d")):
        return []

    def make():
        rng = np.random.default_rng(0)
        x = rng.standard_normal((64, 1, 28, 28)).astype(np.float32)
        y = rng.integers(0, 10, 64).astype(np.int64)

        def build(lib, xs, ys):
            lib.manual_seed(0)
            model = _model(lib)
            opt = lib.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
            ce = lib.nn.functional.cross_entropy

            def step():
                opt.zero_grad()
                ce(model(xs), ys).backward()
                opt.step()
            return step

        fns = {"tgx": build(tgx, tgx.tensor(x), tgx.tensor(y))}
        if torch is not None:
            fns["torch"] = build(torch, torch.from_numpy(x.copy()), torch.from_numpy(y.copy()))
        return fns
    return [Case("small CNN step SGD m=0.9", "batch 64, 1x28x28", make, 1.0, "steps/s")]


def targets(results, check, where, ratio):
    check("small CNN training step: >= torch steps/s", where(results, "small CNN step.*"),
          ratio("torch"), 1.0)
