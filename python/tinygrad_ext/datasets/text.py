"""Bundled text for character-level language models: Shakespeare's Hamlet (public domain)."""

from __future__ import annotations

import functools
import gzip
from importlib import resources

__all__ = ["load_hamlet", "TEXTS"]

TEXTS = {"hamlet": "hamlet.txt.gz"}


@functools.cache
def _read(name: str) -> str:
    with resources.files(__package__).joinpath("data").joinpath(TEXTS[name]).open("rb") as f:
        return gzip.decompress(f.read()).decode("ascii")


def load_hamlet() -> str:
    """The full text of Hamlet as plain ASCII (172,003 characters, 64 distinct), speeches as
    ``NAME:`` then the lines, a blank line between speeches; no act/scene headings or stage
    directions. Public domain (see DATA_LICENSE.md)."""
    return _read("hamlet")
