"""Bench cases for recurrent networks (loaded by bench/run.py; see EXTRA_CASE_MODULES there).

LSTM forward + backward on (seq 50, batch 32, input 32) with hidden 128, the issue's target size,
and the same step for GRU; both in steps/s with the same weights in tinygrad_ext and PyTorch.
"""

from __future__ import annotations

import numpy as np

SHAPE = dict(seq=50, batch=32, input=32, hidden=128)


def _make(lib_name, kind, tgx, torch):
    def make():
        s = SHAPE
        x = np.random.default_rng(0).standard_normal((s["seq"], s["batch"], s["input"])).astype(np.float32)
        fns = {}
        m_g = getattr(tgx.nn, kind)(s["input"], s["hidden"])
        xg = tgx.tensor(x).requires_grad_()

        def step_g():
            out, _ = m_g(xg)
            out.sum().backward()

        fns["tgx"] = step_g
        if torch is not None:
            m_t = getattr(torch.nn, kind)(s["input"], s["hidden"])
            m_g.load_state_dict(m_t.state_dict())
            xt = torch.from_numpy(x.copy()).requires_grad_()

            def step_t():
                out, _ = m_t(xt)
                out.sum().backward()

            fns["torch"] = step_t
        return fns

    return make


def cases(quick, Case, tgx, torch):
    size = "seq=50 batch=32 in=32 hid=128"
    return [Case(f"{kind} forward+backward", size, _make("tgx", kind, tgx, torch), 1.0, "steps/s")
            for kind in ("LSTM", "GRU")]


def targets(results, check, where, ratio):
    check("LSTM (in 32, hidden 128, seq 50, batch 32) forward+backward: >= torch steps/s",
          where(results, "LSTM forward\\+backward"), ratio("torch"), 1.0)
    check("GRU (same sizes) forward+backward: >= torch steps/s",
          where(results, "GRU forward\\+backward"), ratio("torch"), 1.0)
