"""tinygrad_ext.distributions: Normal, Bernoulli, Categorical, Uniform, kl_divergence (torch names).

Built from differentiable tinygrad_ext ops: ``rsample`` (Normal, Uniform) is reparameterised
(``loc + scale * eps``), so gradients flow to the parameters; samples use the library's RNG
(``tinygrad_ext.manual_seed`` makes them reproducible).
"""

from __future__ import annotations

from . import constraints
from .bernoulli import Bernoulli
from .categorical import Categorical
from .distribution import Distribution
from .kl import kl_divergence, register_kl
from .normal import Normal
from .uniform import Uniform

__all__: list[str] = [
    "Bernoulli",
    "Categorical",
    "Distribution",
    "Normal",
    "Uniform",
    "constraints",
    "kl_divergence",
    "register_kl",
]
