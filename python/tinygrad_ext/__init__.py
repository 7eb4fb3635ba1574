"""tinygrad_ext: a small deep-learning library whose hot path is C++.

Mirrors PyTorch's names and semantics: ``import tinygrad_ext as tgx`` then ``tgx.tensor``,
``tgx.zeros``, ``t.sum(dim=0)``, ``a @ b`` ...
"""

from . import _C
from ._C import *  # noqa: F403  (every public op bound in C++)
from ._C import Tensor, dtype

__version__ = _C._build_config["version"]

from . import _tensor  # noqa: E402,F401  (Python-side conveniences attached to Tensor)
from . import linalg  # noqa: E402,F401
from . import autograd, func, viz  # noqa: E402,F401
from ._tensor import set_printoptions  # noqa: E402,F401
from . import datasets, optim, utils  # noqa: E402,F401
from . import keras, nn  # noqa: E402,F401
from .serialization import load, save  # noqa: E402,F401
from .autograd.grad_mode import (enable_grad, inference_mode, no_grad,  # noqa: E402,F401
                                 set_grad_enabled)

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
