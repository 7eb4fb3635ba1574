"""Synthetic data sets for examples and tests (seedable; return tensors).

``random_state`` (alias ``seed``) is an int, a ``numpy.random.Generator``, a
``tinygrad_ext.Generator``, or None: then a seed is drawn from tinygrad_ext's default generator,
so ``tgx.manual_seed(s)`` makes every maker reproducible.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from .. import _C
from .._C import Tensor

__all__ = ["make_regression", "make_moons", "make_spirals", "make_blobs", "train_test_split"]


def _rng(random_state=None, seed=None, op: str = "") -> np.random.Generator:
    if seed is not None:
        if random_state is not None:
            raise TypeError(f"[{op}] give random_state or seed, not both")
        random_state = seed
    if isinstance(random_state, np.random.Generator):
        return random_state
    if random_state is None or isinstance(random_state, _C.Generator):
        draw = _C.randint(0, 2**62, (1,), generator=random_state)
        return np.random.default_rng(int(draw.item()))
    if isinstance(random_state, (int, np.integer)) and not isinstance(random_state, bool):
        return np.random.default_rng(int(random_state))
    raise TypeError(
        f"[{op}] random_state must be None, an int or a Generator, got "
        f"{type(random_state).__name__}"
    )


def _split_counts(n_samples: int, k: int) -> list[int]:
    return [n_samples // k + (1 if i < n_samples % k else 0) for i in range(k)]


def _check_n(n, op: str) -> int:
    if not isinstance(n, (int, np.integer)) or isinstance(n, bool) or n < 0:
        raise ValueError(f"[{op}] n_samples must be a non-negative int, got {n!r}")
    return int(n)


def _finish(X: np.ndarray, y: np.ndarray, y_dtype, rng, shuffle: bool):
    if shuffle:
        perm = rng.permutation(len(X))
        X, y = X[perm], y[perm]
    return _C.tensor(X.astype(np.float32)), _C.tensor(y.astype(y_dtype))


def make_regression(
    n_samples: int = 100,
    n_features: int | None = None,
    *,
    noise: float = 0.0,
    bias: float = 0.0,
    w=None,
    coef: bool = False,
    random_state=None,
    seed=None,
):
    """Linear data y = X w + bias + noise * N(0, 1), with X ~ N(0, 1) (d2l's synthetic_data).

    ``w`` fixes the true weights (e.g. ``[2, -3.4]`` with ``bias=4.2``); otherwise they are drawn
    uniformly from [-2, 2] (``n_features`` defaults to len(w), else 2). Returns ``(X, y)``
    (float32, y of shape (n_samples,)), plus the true ``w`` as a float32 tensor when
    ``coef=True``.
    """
    n = _check_n(n_samples, "make_regression")
    rng = _rng(random_state, seed, "make_regression")
    if w is not None:
        w_np = np.asarray(w.numpy() if isinstance(w, Tensor) else w, dtype=np.float64).reshape(-1)
        if n_features is not None and len(w_np) != n_features:
            raise ValueError(
                f"[make_regression] w has {len(w_np)} entries but n_features is {n_features}"
            )
        n_features = len(w_np)
    elif n_features is None:
        n_features = 2
        w_np = rng.uniform(-2.0, 2.0, size=n_features)
    elif not isinstance(n_features, int) or n_features < 1:
        raise ValueError(f"[make_regression] n_features must be a positive int, got {n_features!r}")
    else:
        w_np = rng.uniform(-2.0, 2.0, size=n_features)
    X = rng.standard_normal((n, n_features))
    y = X @ w_np + bias
    if noise:
        y = y + noise * rng.standard_normal(n)
    out = (_C.tensor(X.astype(np.float32)), _C.tensor(y.astype(np.float32)))
    if coef:
        return out + (_C.tensor(w_np.astype(np.float32)),)
    return out


def make_moons(
    n_samples=100, *, noise: float | None = None, shuffle: bool = True, random_state=None, seed=None
):
    """Two interleaving half circles (scikit-learn's construction); labels 0 (outer), 1 (inner).

    ``n_samples`` is the total (outer gets n // 2) or a pair (n_outer, n_inner).
    """
    if isinstance(n_samples, (tuple, list)):
        if len(n_samples) != 2:
            raise ValueError("[make_moons] n_samples must be an int or a pair (n_out, n_in)")
        n_out, n_in = (_check_n(v, "make_moons") for v in n_samples)
    else:
        n = _check_n(n_samples, "make_moons")
        n_out, n_in = n // 2, n - n // 2
    rng = _rng(random_state, seed, "make_moons")
    t_out, t_in = np.linspace(0, np.pi, n_out), np.linspace(0, np.pi, n_in)
    X = np.vstack(
        [
            np.column_stack([np.cos(t_out), np.sin(t_out)]),
            np.column_stack([1 - np.cos(t_in), 1 - np.sin(t_in) - 0.5]),
        ]
    )
    y = np.concatenate([np.zeros(n_out, np.int64), np.ones(n_in, np.int64)])
    if noise:
        X = X + rng.normal(0.0, noise, size=X.shape)
    return _finish(X, y, np.int64, rng, shuffle)


def make_spirals(
    n_samples: int = 300,
    n_classes: int = 3,
    *,
    noise: float = 0.2,
    turns: float = 1.0,
    shuffle: bool = True,
    random_state=None,
    seed=None,
):
    """Interleaved spiral arms in 2-D, one per class (the CS231n toy problem).

    Class k: radius r from 0 to 1, angle 4 * turns * (k + r) (scaled so arms do not overlap) plus
    ``noise`` * N(0, 1) radians. Samples are split evenly over the classes (the first classes get
    the remainder).
    """
    n = _check_n(n_samples, "make_spirals")
    if not isinstance(n_classes, int) or n_classes < 1:
        raise ValueError(f"[make_spirals] n_classes must be a positive int, got {n_classes!r}")
    rng = _rng(random_state, seed, "make_spirals")
    Xs, ys = [], []
    for k, m in enumerate(_split_counts(n, n_classes)):
        r = np.linspace(0.0, 1.0, m)
        t = np.linspace(k * 4.0, (k + 1) * 4.0, m) * turns + rng.standard_normal(m) * noise
        Xs.append(np.column_stack([r * np.sin(t), r * np.cos(t)]))
        ys.append(np.full(m, k, np.int64))
    return _finish(np.vstack(Xs), np.concatenate(ys), np.int64, rng, shuffle)


def make_blobs(
    n_samples=100,
    n_features: int = 2,
    *,
    centers=None,
    cluster_std=1.0,
    center_box=(-10.0, 10.0),
    shuffle: bool = True,
    random_state=None,
    seed=None,
    return_centers: bool = False,
):
    """Isotropic Gaussian blobs (scikit-learn's arguments).

    ``centers``: a number of centers drawn uniformly in ``center_box`` (default 3) or an array of
    center coordinates; ``n_samples``: the total (split evenly) or one count per center;
    ``cluster_std``: one std or one per center. Returns ``(X, y)`` (+ centers if asked).
    """
    rng = _rng(random_state, seed, "make_blobs")
    if isinstance(n_samples, (int, np.integer)) and not isinstance(n_samples, bool):
        n = _check_n(n_samples, "make_blobs")
        if centers is None:
            centers = 3
        if isinstance(centers, (int, np.integer)):
            centers_np = rng.uniform(center_box[0], center_box[1], size=(int(centers), n_features))
        else:
            centers_np = np.asarray(
                centers.numpy() if isinstance(centers, Tensor) else centers, np.float64
            )
        counts = _split_counts(n, len(centers_np))
    else:
        counts = [_check_n(c, "make_blobs") for c in n_samples]
        if centers is None:
            centers_np = rng.uniform(center_box[0], center_box[1], size=(len(counts), n_features))
        elif isinstance(centers, (int, np.integer)):
            raise ValueError(
                "[make_blobs] with a count per center, centers must be None or an "
                "array of coordinates"
            )
        else:
            centers_np = np.asarray(
                centers.numpy() if isinstance(centers, Tensor) else centers, np.float64
            )
        if len(centers_np) != len(counts):
            raise ValueError(
                f"[make_blobs] {len(counts)} sample counts for {len(centers_np)} centers"
            )
    if centers_np.ndim != 2:
        raise ValueError(
            f"[make_blobs] centers must be 2-D (n_centers, n_features), got shape "
            f"{centers_np.shape}"
        )
    stds = np.broadcast_to(np.asarray(cluster_std, np.float64), (len(centers_np),))
    X = (
        np.vstack(
            [
                rng.normal(c, s, size=(m, centers_np.shape[1]))
                for c, s, m in zip(centers_np, stds, counts)
            ]
        )
        if counts
        else np.zeros((0, centers_np.shape[1]))
    )
    y = np.concatenate([np.full(m, k, np.int64) for k, m in enumerate(counts)])
    X_t, y_t = _finish(X, y, np.int64, rng, shuffle)
    if return_centers:
        return X_t, y_t, _C.tensor(centers_np.astype(np.float32))
    return X_t, y_t


def _take(a: Any, idx: np.ndarray):
    if isinstance(a, Tensor):
        return a.index_select(0, _C.tensor(idx.astype(np.int64)))
    if isinstance(a, np.ndarray):
        return a[idx]
    return [a[i] for i in idx.tolist()]


def train_test_split(
    *arrays,
    test_size=None,
    train_size=None,
    shuffle: bool = True,
    random_state=None,
    seed=None,
    stratify=None,
):
    """Splits tensors / arrays / lists (same first length) into train and test parts.

    Returns ``[a_train, a_test, b_train, b_test, ...]`` like scikit-learn: ``test_size`` is a
    fraction (rounded up) or a count, default 0.25 (the complement of ``train_size`` if that is
    given). ``stratify`` (labels) keeps each class's proportion in both parts.
    """
    if not arrays:
        raise ValueError("[train_test_split] at least one array required as input")
    n = len(arrays[0]) if not isinstance(arrays[0], Tensor) else arrays[0].shape[0]
    for a in arrays:
        m = a.shape[0] if isinstance(a, Tensor) else len(a)
        if m != n:
            raise ValueError(
                f"[train_test_split] found input variables with inconsistent numbers "
                f"of samples: {n} and {m}"
            )

    def count(size, name, rounding):
        if isinstance(size, float):
            if not 0.0 < size < 1.0:
                raise ValueError(
                    f"[train_test_split] {name}={size} should be in (0, 1) as a fraction"
                )
            return int(rounding(size * n))
        if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
            if not 0 <= size <= n:
                raise ValueError(f"[train_test_split] {name}={size} should be in [0, {n}]")
            return int(size)
        raise TypeError(f"[train_test_split] {name} must be a float or an int, got {size!r}")

    if test_size is None and train_size is None:
        test_size = 0.25
    n_test = count(test_size, "test_size", math.ceil) if test_size is not None else None
    n_train = count(train_size, "train_size", math.floor) if train_size is not None else None
    if n_test is None:
        n_test = n - n_train
    if n_train is None:
        n_train = n - n_test
    if n_train + n_test > n:
        raise ValueError(
            f"[train_test_split] train ({n_train}) + test ({n_test}) sizes exceed the {n} samples"
        )
    if n_train == 0:
        raise ValueError(
            f"[train_test_split] with n_samples={n} and test_size={test_size} the "
            "train set would be empty"
        )
    if not shuffle:
        if stratify is not None:
            raise ValueError("[train_test_split] stratified splitting needs shuffle=True")
        train_idx, test_idx = np.arange(n_train), np.arange(n_train, n_train + n_test)
    else:
        rng = _rng(random_state, seed, "train_test_split")
        if stratify is None:
            perm = rng.permutation(n)
            test_idx, train_idx = perm[:n_test], perm[n_test : n_test + n_train]
        else:
            train_idx, test_idx = _stratified(stratify, n, n_train, n_test, rng)
    out = []
    for a in arrays:
        out += [_take(a, train_idx), _take(a, test_idx)]
    return out


def _stratified(labels, n, n_train, n_test, rng):
    y = np.asarray(labels.numpy() if isinstance(labels, Tensor) else labels).reshape(n, -1)
    _, y = np.unique(y, axis=0, return_inverse=True)
    y = y.reshape(-1)
    classes = np.bincount(y)
    # allocate test counts per class proportionally (largest remainders), train from the rest
    want = classes * n_test / n
    take = np.floor(want).astype(int)
    order = np.argsort(-(want - take), kind="stable")
    take[order[: n_test - take.sum()]] += 1
    test_idx, train_idx = [], []
    for k in range(len(classes)):
        members = rng.permutation(np.flatnonzero(y == k))
        test_idx.append(members[: take[k]])
        train_idx.append(members[take[k] :])
    test_idx = rng.permutation(np.concatenate(test_idx))
    train_idx = rng.permutation(np.concatenate(train_idx))[:n_train]
    return train_idx, test_idx
