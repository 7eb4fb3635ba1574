"""OpInfo registry entries for the pool ops (imported at the end of tests/opinfo.py)."""

from opinfo import OpInfo, Sample, add  # noqa: F401
