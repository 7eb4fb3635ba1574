"""torch.nn.utils.rnn's import path for tinygrad_ext.utils.rnn (the same objects)."""

from ...utils.rnn import *  # noqa: F401,F403
from ...utils.rnn import __all__  # noqa: F401
