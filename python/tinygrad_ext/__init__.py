"""tinygrad_ext: a small deep-learning library whose hot path is C++.

Mirrors PyTorch's names and semantics: ``import tinygrad_ext as tgx`` then ``tgx.tensor``,
``tgx.zeros``, ``t.sum(dim=0)``, ``a @ b`` ...
"""

from . import _C
from ._C import *  # noqa: F403  (every public op bound in C++)

__version__ = _C._build_config["version"]

# Python-side packages; _tensor attaches conveniences (repr, pickle, ...) to Tensor.
from . import (  # noqa: E402,F401
    _tensor,
    autograd,
    datasets,
    distributions,
    func,
    keras,
    linalg,
    nn,
    optim,
    utils,
    viz,
)
from ._tensor import set_printoptions  # noqa: E402,F401
from .autograd.grad_mode import enable_grad, inference_mode, no_grad, set_grad_enabled  # noqa: E402,F401
from .serialization import load, save  # noqa: E402,F401

__all__ = [name for name in dir(_C) if not name.startswith("_")] + [
    "__version__",
    "linalg",
    "set_printoptions",
    "datasets",
    "optim",
    "utils",
    "nn",
    "keras",
    "save",
    "load",
    "autograd", "func", "viz", "no_grad", "enable_grad", "set_grad_enabled", "inference_mode",
]
