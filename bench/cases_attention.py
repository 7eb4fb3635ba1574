"""Bench cases for attention and Transformer (loaded by bench/run.py; see EXTRA_CASE_MODULES there)."""

from __future__ import annotations


def cases(quick, Case, tgx, torch):
    return []


def targets(results, check, where, ratio):
    pass
