"""Elementwise primitives for the autograd tests: (name, tgx fn, torch fn, input domains)."""

import numpy as np

import tinygrad_ext as tgx

# domains: "any", "pos" (> 0.1), "unit" (|x| < 0.9), "away" (|x| > 0.2, no kink at 0)
UNARY = [
    ("neg", "any"), ("abs", "away"), ("exp", "any"), ("exp2", "any"), ("expm1", "any"),
    ("log", "pos"), ("log2", "pos"), ("log10", "pos"), ("log1p", "pos"), ("sqrt", "pos"),
    ("rsqrt", "pos"), ("reciprocal", "away"), ("square", "any"), ("sin", "any"), ("cos", "any"),
    ("tan", "unit"), ("asin", "unit"), ("acos", "unit"), ("atan", "any"), ("sinh", "any"),
    ("cosh", "any"), ("tanh", "any"), ("sigmoid", "any"), ("relu", "away"), ("erf", "any"),
]
ZERO_GRAD_UNARY = ["sign", "floor", "ceil", "round", "trunc"]
# (name, domain of a, domain of b)
BINARY = [
    ("add", "any", "any"), ("sub", "any", "any"), ("mul", "any", "any"), ("div", "any", "away"),
    ("pow", "pos", "any"), ("maximum", "any", "any"), ("minimum", "any", "any"),
    ("atan2", "any", "away"), ("remainder", "any", "pos"),
]
# second derivative is zero (or undefined) for these; gradgradcheck is trivial
LINEAR = {"neg", "abs", "relu", "add", "sub", "maximum", "minimum", "remainder"}


def sample(rng, shape, domain):
    x = rng.uniform(-1.5, 1.5, size=shape)
    if domain == "pos":
        x = rng.uniform(0.3, 2.0, size=shape)
    elif domain == "unit":
        x = rng.uniform(-0.8, 0.8, size=shape)
    elif domain == "away":
        x = np.sign(x + 1e-9) * rng.uniform(0.3, 1.5, size=shape)
    return x


def leaf(a, noncontig=False):
    """float64 leaf requiring grad; transposed (non-contiguous) storage when asked."""
    if noncontig and a.ndim == 2:
        t = tgx.tensor(np.ascontiguousarray(a.T), dtype=tgx.float64).T
        assert not t.is_contiguous()
    else:
        t = tgx.tensor(a, dtype=tgx.float64)
    return t.requires_grad_()


def unary_fn(name):
    return lambda x: getattr(tgx, name)(x)


def binary_fn(name):
    return lambda a, b: getattr(tgx, name)(a, b)
