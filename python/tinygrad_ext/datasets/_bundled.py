"""The small classic data sets shipped inside the package: hand-written digits and Iris."""

from __future__ import annotations

import functools
from importlib import resources

import numpy as np

from .. import _C

__all__ = ["Bunch", "load_digits", "load_iris"]


class Bunch(dict):
    """A dict whose keys are also attributes (scikit-learn's container for a data set)."""

    def __getattr__(self, key):
        try:
            return self[key]
        except KeyError:
            raise AttributeError(key) from None

    def __setattr__(self, key, value):
        self[key] = value

    def __dir__(self):
        return list(self.keys())


@functools.cache
def _arrays(name: str) -> dict[str, np.ndarray]:
    with resources.files(__package__).joinpath("data").joinpath(name).open("rb") as f:
        with np.load(f, allow_pickle=False) as z:
            arrays = {k: z[k] for k in z.files}
    for a in arrays.values():
        a.setflags(write=False)
    return arrays


_DIGITS_DESCR = """\
Optical recognition of handwritten digits (UCI ML repository), test-set copy
------------------------------------------------------------------------------
1797 samples, 10 classes (about 180 per digit), 64 features: an 8x8 image of
integer pixels in 0..16. 32x32 bitmaps of digits written by 43 people were
divided into non-overlapping 4x4 blocks and the "on" pixels of each block
counted, giving the 8x8 grid.

Creators: E. Alpaydin, C. Kaynak (1998). Licence: CC BY 4.0.
The same copy scikit-learn ships as sklearn.datasets.load_digits.
"""

_IRIS_DESCR = """\
Iris plants (R. A. Fisher, 1936; UCI ML repository)
----------------------------------------------------
150 samples, 3 classes (setosa, versicolor, virginica; 50 each), 4 features in
cm: sepal length, sepal width, petal length, petal width. One class is linearly
separable from the other two; the latter are not linearly separable from each
other.

Licence: CC BY 4.0. The same copy scikit-learn ships as
sklearn.datasets.load_iris.
"""


def load_digits(*, n_class: int = 10, return_X_y: bool = False, as_frame: bool = False):
    """The UCI hand-written digits (8x8 images, 1797 samples), as tensors.

    Returns a :class:`Bunch` with ``data`` (N x 64 float32, pixel values 0..16), ``target``
    (N int64), ``images`` (N x 8 x 8 float32), ``target_names`` (0..9), ``feature_names`` and
    ``DESCR``; or ``(data, target)`` with ``return_X_y=True``. ``n_class`` keeps digits
    0..n_class-1. ``as_frame`` is accepted and ignored (no pandas).
    """
    if not isinstance(n_class, int) or not 1 <= n_class <= 10:
        raise ValueError(f"[load_digits] n_class must be an int in [1, 10], got {n_class!r}")
    a = _arrays("digits.npz")
    data, target = a["data"], a["target"]
    if n_class < 10:
        keep = target < n_class
        data, target = data[keep], target[keep]
    X = _C.tensor(data.astype(np.float32))
    y = _C.tensor(target.astype(np.int64))
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        frame=None,
        feature_names=[f"pixel_{r}_{c}" for r in range(8) for c in range(8)],
        target_names=np.arange(10),
        images=X.reshape(-1, 8, 8),
        DESCR=_DIGITS_DESCR,
    )


def load_iris(*, return_X_y: bool = False, as_frame: bool = False):
    """Fisher's Iris data (150 x 4, 3 classes), as tensors.

    Returns a :class:`Bunch` with ``data`` (150 x 4 float32, cm), ``target`` (150 int64, 0..2),
    ``target_names``, ``feature_names`` and ``DESCR``; or ``(data, target)`` with
    ``return_X_y=True``. ``as_frame`` is accepted and ignored.
    """
    a = _arrays("iris.npz")
    X = _C.tensor(a["data"].astype(np.float32))
    y = _C.tensor(a["target"].astype(np.int64))
    if return_X_y:
        return X, y
    return Bunch(
        data=X,
        target=y,
        frame=None,
        target_names=np.array(["setosa", "versicolor", "virginica"]),
        feature_names=[
            "sepal length (cm)",
            "sepal width (cm)",
            "petal length (cm)",
            "petal width (cm)",
        ],
        DESCR=_IRIS_DESCR,
        filename="iris.npz",
        data_module="tinygrad_ext.datasets.data",
    )
