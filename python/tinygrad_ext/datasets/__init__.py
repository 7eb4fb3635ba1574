"""Data sets: bundled classics (digits, Iris), MNIST-format readers, and synthetic makers.

Everything works offline: digits and Iris ship inside the package (see DATA_LICENSE.md), MNIST and
Fashion-MNIST are read from IDX files you provide, and the makers generate data from a seed.
"""

from ._bundled import Bunch, load_digits, load_iris
from .mnist import FASHION_MNIST_CLASSES, MNIST_FILES, load_mnist, read_idx
from .synthetic import make_blobs, make_moons, make_regression, make_spirals, train_test_split
from .text import load_hamlet  # noqa: F401

__all__ = [
    "Bunch",
    "load_digits",
    "load_iris",
    "read_idx",
    "load_mnist",
    "MNIST_FILES",
    "FASHION_MNIST_CLASSES",
    "make_regression",
    "make_moons",
    "make_spirals",
    "make_blobs",
    "train_test_split",
    "load_hamlet",
]
