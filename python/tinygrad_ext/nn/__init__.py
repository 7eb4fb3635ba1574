"""tinygrad_ext.nn: modules, layers, losses, init and functional (torch.nn's names and defaults)."""

from . import conv, functional, init, pooling, rnn, transformer, utils  # noqa: F401  # noqa: E402
from .activation import (
    CELU,
    ELU,
    GELU,
    SELU,
    Hardtanh,
    LeakyReLU,
    LogSigmoid,
    LogSoftmax,
    Mish,
    PReLU,
    ReLU,
    ReLU6,
    Sigmoid,
    SiLU,
    Softmax,
    Softmin,
    Softplus,
    Tanh,
)
from .container import ModuleDict, ModuleList, Sequential
from .conv import *  # noqa: E402,F401,F403
from .dropout import Dropout, Dropout1d, Dropout2d
from .embedding import Embedding
from .functional import accuracy, l1_penalty, l2_penalty, zero_one_loss  # noqa: F401
from .linear import Bilinear, Flatten, Identity, Linear, Unflatten
from .loss import (
    BCELoss,
    BCEWithLogitsLoss,
    CosineEmbeddingLoss,
    CrossEntropyLoss,
    GaussianNLLLoss,
    HingeEmbeddingLoss,
    HuberLoss,
    KLDivLoss,
    L1Loss,
    MarginRankingLoss,
    MSELoss,
    MultiMarginLoss,
    NLLLoss,
    SmoothL1Loss,
)
from .module import Module
from .normalization import BatchNorm1d, BatchNorm2d, GroupNorm, LayerNorm
from .parameter import Buffer, Parameter
from .pooling import *  # noqa: E402,F401,F403
from .rnn import *  # noqa: E402,F401,F403
from .transformer import *  # noqa: E402,F401,F403

__all__ = [
    "Module",
    "Parameter",
    "Buffer",
    "Sequential",
    "ModuleList",
    "ModuleDict",
    "Identity",
    "Linear",
    "Bilinear",
    "Flatten",
    "Unflatten",
    "Dropout",
    "Dropout1d",
    "Dropout2d",
    "Embedding",
    "BatchNorm1d",
    "BatchNorm2d",
    "LayerNorm",
    "GroupNorm",
    "ReLU",
    "ReLU6",
    "LeakyReLU",
    "PReLU",
    "ELU",
    "CELU",
    "SELU",
    "GELU",
    "SiLU",
    "Mish",
    "Sigmoid",
    "Tanh",
    "LogSigmoid",
    "Softplus",
    "Hardtanh",
    "Softmax",
    "LogSoftmax",
    "Softmin",
    "MSELoss",
    "L1Loss",
    "SmoothL1Loss",
    "HuberLoss",
    "BCELoss",
    "BCEWithLogitsLoss",
    "CrossEntropyLoss",
    "NLLLoss",
    "KLDivLoss",
    "HingeEmbeddingLoss",
    "MultiMarginLoss",
    "MarginRankingLoss",
    "CosineEmbeddingLoss",
    "GaussianNLLLoss",
    "functional",
    "init",
    "utils",
    "accuracy",
    "zero_one_loss",
    "l1_penalty",
    "l2_penalty",
]
__all__ += conv.__all__ + pooling.__all__ + rnn.__all__ + transformer.__all__
