"""Bench cases for attention and Transformer (loaded by bench/run.py; see EXTRA_CASE_MODULES there).

- sdpa forward: F.scaled_dot_product_attention on (batch 32, heads 4, seq 64, head dim 32);
- Transformer encoder layer (d_model 128, nhead 4, ff 512, seq 64, batch 32, batch_first,
  dropout 0): forward + backward of sum(out) per call, weights copied from the same init.
"""

from __future__ import annotations

import numpy as np


def _sdpa_case(Case, tgx, torch, shape):
    B, H, L, E = shape

    def make():
        rng = np.random.default_rng(0)
        q, k, v = (rng.standard_normal((B, H, L, E)).astype(np.float32) for _ in range(3))
        fns = {}
        tq, tk, tv = tgx.tensor(q), tgx.tensor(k), tgx.tensor(v)
        fns["tgx"] = lambda: tgx.nn.functional.scaled_dot_product_attention(tq, tk, tv)
        if torch is not None:
            pq, pk, pv = (torch.from_numpy(a.copy()) for a in (q, k, v))
            fns["torch"] = lambda: torch.nn.functional.scaled_dot_product_attention(pq, pk, pv)
        return fns

    flops = 4.0 * B * H * L * L * E
    return Case("sdpa forward", f"{B}x{H}x{L}x{E}", make, flops, "GFLOP/s")


def _encoder_case(Case, tgx, torch, d_model, nhead, ff, seq, batch, causal=False):
    def make():
        rng = np.random.default_rng(0)
        x = rng.standard_normal((batch, seq, d_model)).astype(np.float32)
        fns = {}

        def build(lib, xs, state=None):
            lib.manual_seed(0)
            layer = lib.nn.TransformerEncoderLayer(d_model, nhead, ff, dropout=0.0,
                                                   batch_first=True)
            if state is not None:
                layer.load_state_dict(state)
            layer.train()
            mask = None
            if causal:
                mask = lib.nn.Transformer.generate_square_subsequent_mask(seq)
            xs.requires_grad_(True)

            def step():
                layer.zero_grad()
                xs.grad = None
                out = layer(xs, src_mask=mask, is_causal=causal)
                out.sum().backward()
            return step, layer

        state = None
        if torch is not None:
            tstep, tlayer = build(torch, torch.from_numpy(x.copy()))
            fns["torch"] = tstep
            state = {k: v.detach().numpy() for k, v in tlayer.state_dict().items()}
        fns["tgx"] = build(tgx, tgx.tensor(x), state)[0]
        return fns

    name = "encoder layer fwd+bwd" + (" causal" if causal else "")
    return Case(name, f"d{d_model} h{nhead} ff{ff} L{seq} N{batch}", make, 1.0, "steps/s")


def cases(quick, Case, tgx, torch):
    if not hasattr(tgx.nn, "TransformerEncoderLayer"):
        return []
    out = [_sdpa_case(Case, tgx, torch, (32, 4, 64, 32))]
    if not quick:
        out.append(_sdpa_case(Case, tgx, torch, (4, 8, 256, 64)))
    out.append(_encoder_case(Case, tgx, torch, 128, 4, 512, 64, 32))
    if not quick:
        out.append(_encoder_case(Case, tgx, torch, 128, 4, 512, 64, 32, causal=True))
    return out


def targets(results, check, where, ratio):
    check("sdpa forward: >= torch", where(results, "sdpa forward"), ratio("torch"), 1.0)
    check("Transformer encoder layer fwd+bwd (d128 h4 ff512 L64 N32): >= torch steps/s",
          where(results, "encoder layer fwd\\+bwd"), ratio("torch"), 1.0)
