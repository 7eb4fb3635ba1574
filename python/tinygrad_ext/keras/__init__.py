"""tinygrad_ext.keras: the Keras Sequential API (Keras 1 and current names) on tinygrad_ext.nn.

from tinygrad_ext.keras.models import Sequential
from tinygrad_ext.keras.layers import Dense, Activation
"""

from . import callbacks, layers, losses, models, optimizers, utils  # noqa: F401
from .callbacks import CSVLogger, EarlyStopping, History, LearningRateScheduler, ModelCheckpoint  # noqa: F401
from .layers import Activation, Dense, Dropout, Flatten, Input  # noqa: F401
from .models import Model, Sequential  # noqa: F401

__all__ = [
    "Sequential",
    "Model",
    "Dense",
    "Activation",
    "Dropout",
    "Flatten",
    "Input",
    "History",
    "EarlyStopping",
    "ModelCheckpoint",
    "LearningRateScheduler",
    "CSVLogger",
    "layers",
    "models",
    "losses",
    "optimizers",
    "callbacks",
    "utils",
]
