"""The optional extras (tqdm, matplotlib) of Keras fit, History.plot and the demo.

A terminal is simulated with a StringIO whose isatty() is True; a missing matplotlib by making
its import fail.
"""
import builtins
import io
import struct
import sys

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext import keras
from tinygrad_ext.keras.layers import Dense
from tinygrad_ext.keras.models import Sequential

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class FakeTerminal(io.StringIO):
    def isatty(self):
        return True


def png_size(path):
    """(width, height) from a PNG's IHDR chunk, after checking the signature."""
    with open(path, "rb") as f:
        data = f.read()
    assert data[:8] == PNG_SIGNATURE
    assert data[12:16] == b"IHDR"
    return struct.unpack(">II", data[16:24]), len(data)


def small_problem():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((64, 4)).astype(np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(np.int64)
    return X, np.eye(2, dtype=np.float32)[y]


def compiled_model():
    tgx.manual_seed(0)
    model = Sequential([Dense(8, activation="relu", input_dim=4), Dense(2, activation="softmax")])
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


@pytest.fixture
def tqdm_spy(monkeypatch):
    """Records every tqdm bar created (tqdm itself still draws it)."""
    tqdm_mod = pytest.importorskip("tqdm")
    made = []

    class Spy(tqdm_mod.tqdm):
        def __init__(self, *a, **k):
            made.append(k)
            super().__init__(*a, **k)

    monkeypatch.setattr(tqdm_mod, "tqdm", Spy)
    return made


def without_module(monkeypatch, name):
    real = builtins.__import__

    def fake(mod, *args, **kwargs):
        if mod == name or mod.startswith(name + "."):
            raise ImportError(f"No module named '{mod}'")
        return real(mod, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", fake)


# ---- Keras fit progress bar ---------------------------------------------------------------------
def test_fit_uses_tqdm_on_a_terminal(monkeypatch, tqdm_spy):
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", term)
    X, Y = small_problem()
    compiled_model().fit(X, Y, epochs=2, batch_size=16, verbose=1)
    out = term.getvalue()
    assert len(tqdm_spy) == 2 and all(k["total"] == 4 for k in tqdm_spy)  # one bar per epoch
    assert "Epoch 1/2" in out and "Epoch 2/2" in out
    assert "4/4" in out and "\r" in out  # the bar redraws in place
    assert "loss=" in out and "accuracy=" in out  # loss and metrics on the bar


def test_fit_bar_shows_validation_metrics(monkeypatch, tqdm_spy):
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", term)
    X, Y = small_problem()
    compiled_model().fit(X, Y, epochs=1, batch_size=16, validation_split=0.25, verbose=1)
    assert "val_loss=" in term.getvalue() and "val_accuracy=" in term.getvalue()


def test_fit_is_silent_with_verbose_0_on_a_terminal(monkeypatch, tqdm_spy):
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", term)
    X, Y = small_problem()
    compiled_model().fit(X, Y, epochs=2, batch_size=16, verbose=0)
    assert tqdm_spy == [] and term.getvalue() == ""


def test_fit_draws_no_bar_when_not_a_terminal(capsys, tqdm_spy):
    X, Y = small_problem()
    compiled_model().fit(X, Y, epochs=2, batch_size=16, verbose=1)
    out = capsys.readouterr()
    assert tqdm_spy == []
    assert "\r" not in out.out and out.err == ""
    # one plain summary line per epoch instead, with the loss and the metrics
    lines = [ln for ln in out.out.splitlines() if ln.startswith("Epoch")]
    assert len(lines) == 2 and "loss:" in lines[0] and "accuracy:" in lines[0]


def test_fit_without_tqdm_on_a_terminal_prints_lines(monkeypatch):
    term = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", term)
    without_module(monkeypatch, "tqdm")
    X, Y = small_problem()
    compiled_model().fit(X, Y, epochs=1, batch_size=16, verbose=1)
    assert term.getvalue().startswith("Epoch 1/1") and "accuracy:" in term.getvalue()


# ---- History.plot ------------------------------------------------------------------------------
def test_history_plot_writes_a_png(tmp_path):
    pytest.importorskip("matplotlib")
    X, Y = small_problem()
    hist = compiled_model().fit(X, Y, epochs=3, batch_size=16, validation_split=0.25, verbose=0)
    path = tmp_path / "curves.png"
    hist.plot(str(path))
    (w, h), nbytes = png_size(path)
    assert w > 2 * h > 0  # two panels side by side: loss and accuracy
    assert nbytes > 5000


def test_history_plot_without_matplotlib(monkeypatch, tmp_path):
    without_module(monkeypatch, "matplotlib")
    hist = keras.callbacks.History()
    hist.history = {"loss": [1.0, 0.5]}
    with pytest.raises(ImportError, match="History.plot needs matplotlib.*pip install matplotlib"):
        hist.plot(str(tmp_path / "h.png"))
    assert not (tmp_path / "h.png").exists()


# ---- the demo ----------------------------------------------------------------------------------
def test_demo_writes_its_curve_png(tmp_path, monkeypatch, capsys):
    pytest.importorskip("matplotlib")
    from tinygrad_ext import demo

    monkeypatch.chdir(tmp_path)
    demo.main(["--quick", "--png", "curves.png"])
    out = capsys.readouterr().out
    assert f"training curves written to {tmp_path / 'curves.png'}" in out
    (w, h), nbytes = png_size(tmp_path / "curves.png")
    assert w > h > 0 and nbytes > 5000


def test_demo_without_matplotlib(tmp_path, monkeypatch, capsys):
    from tinygrad_ext import demo

    without_module(monkeypatch, "matplotlib")
    monkeypatch.chdir(tmp_path)
    demo.main(["--quick"])
    assert "matplotlib not installed" in capsys.readouterr().out
    assert list(tmp_path.iterdir()) == []


def test_demo_progress_bar_on_a_terminal(tmp_path, monkeypatch, tqdm_spy):
    from tinygrad_ext import demo

    term = FakeTerminal()
    monkeypatch.setattr(sys, "stdout", term)
    monkeypatch.chdir(tmp_path)
    demo.main(["--quick", "--png", "c.png"])
    assert len(tqdm_spy) == 1
    out = term.getvalue()
    assert "training" in out and "loss" in out and "test accuracy" in out
