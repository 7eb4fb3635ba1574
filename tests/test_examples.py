"""Smoke runs: the demo and every example in a subprocess, shortened (TGX_SMOKE=1 / --quick)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import tinygrad_ext

ROOT = Path(__file__).resolve().parents[1]
# The package the tests import (installed, or the source tree with a dev build): the children
# must import the same one.
PKG_PARENT = str(Path(tinygrad_ext.__file__).resolve().parents[1])
EXAMPLES = sorted(p.name for p in (ROOT / "examples").glob("*.py"))


def _run(args, cwd):
    env = dict(
        os.environ,
        TGX_SMOKE="1",
        PYTHONPATH=PKG_PARENT + os.pathsep + os.environ.get("PYTHONPATH", ""),
    )
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120
    )


@pytest.mark.parametrize("name", EXAMPLES)
def test_example_runs(name, tmp_path):
    r = _run([str(ROOT / "examples" / name), "--quick"], tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert r.stdout.strip()


def test_demo_runs(tmp_path):
    r = _run(["-m", "tinygrad_ext.demo", "--quick"], tmp_path)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-2000:]
    assert "test accuracy" in r.stdout and "steps/s" in r.stdout and "ratio" in r.stdout


def test_demo_full_run_reaches_97_percent(tmp_path, monkeypatch, capsys):
    from tinygrad_ext import demo

    monkeypatch.chdir(tmp_path)
    acc = demo.main([])
    assert acc >= 0.97
    out = capsys.readouterr().out
    assert "ratio tinygrad_ext / NumPy" in out
