"""gradcheck / gradgradcheck: analytical gradients against central differences (float64)."""

from __future__ import annotations

import numpy as np

from .. import _C

Tensor = _C.Tensor

__all__ = ["gradcheck", "gradgradcheck", "GradcheckError"]


class GradcheckError(RuntimeError):
    """Raised by gradcheck when analytical and numerical Jacobians disagree."""


def _tuple(x):
    return tuple(x) if isinstance(x, (tuple, list)) else (x,)


def _outputs(fn, inputs):
    return tuple(o for o in _tuple(fn(*inputs)) if isinstance(o, Tensor))


def _np(t):
    return np.array(t.detach().numpy(), dtype=np.float64)


def _numerical_jacobians(fn, inputs, diff_idx, eps):
    """J[i][k]: (out_k.numel, in_i.numel) by central differences, perturbing one input at a time."""
    jac = []
    for i in diff_idx:
        x = inputs[i]
        base = _np(x)
        cols = []
        for j in range(base.size):
            vals = []
            for sign in (1, -1):
                p = base.copy().reshape(-1)
                p[j] += sign * eps
                args = list(inputs)
                args[i] = _C.tensor(p.reshape(base.shape), dtype=x.dtype).requires_grad_(True)
                vals.append([_np(o).reshape(-1) for o in _outputs(fn, args)])
            cols.append([(a - b) / (2 * eps) for a, b in zip(*vals)])
        n_out = len(cols[0]) if cols else len(_outputs(fn, inputs))
        jac.append([np.stack([c[k] for c in cols], axis=1) if cols else None for k in range(n_out)])
    return jac


def _analytical_jacobians(outputs, inputs, diff_idx):
    from . import grad

    jac = [[np.zeros((o.numel(), inputs[i].numel())) for o in outputs] for i in diff_idx]
    diff_inputs = [inputs[i] for i in diff_idx]
    for k, o in enumerate(outputs):
        if not o.requires_grad:
            continue
        for r in range(o.numel()):
            v = np.zeros(o.numel())
            v[r] = 1.0
            gs = grad(o, diff_inputs, _C.tensor(v.reshape(o.shape), dtype=o.dtype),
                      retain_graph=True, allow_unused=True)
            for n, g in enumerate(gs):
                if g is not None:
                    jac[n][k][r] = _np(g).reshape(-1)
    return jac


def _fail(msg, raise_exception):
    if raise_exception:
        raise GradcheckError(msg)
    return False


def gradcheck(fn, inputs, *, eps=1e-6, atol=1e-5, rtol=1e-3, raise_exception=True,
              fast_mode=False, nondet_tol=0.0, check_undefined_grad=True, seed=0):
    """True if fn's analytical gradients match central differences for every input requiring grad.

    Use float64 inputs. On mismatch raises GradcheckError naming the input, the output and the
    worst element (index, numerical, analytical), or returns False if raise_exception=False.
    fast_mode compares u^T J v along random directions instead of the full Jacobian.
    """
    inputs = _tuple(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]
    if not diff_idx:
        raise ValueError("gradcheck expects at least one input tensor to require gradient")
    for i in diff_idx:
        if inputs[i].dtype != _C.float64:
            import warnings

            warnings.warn(f"Input #{i} requires gradient and is not a double precision floating point "
                          "tensor; gradcheck may fail from rounding.", stacklevel=2)
    outputs = _outputs(fn, inputs)
    if fast_mode:
        return _fast_gradcheck(fn, inputs, outputs, diff_idx, eps, atol, rtol, raise_exception, seed)
    num = _numerical_jacobians(fn, inputs, diff_idx, eps)
    ana = _analytical_jacobians(outputs, inputs, diff_idx)
    for n, i in enumerate(diff_idx):
        for k in range(len(outputs)):
            a, b = ana[n][k], num[n][k]
            if b is None:
                continue
            bad = ~np.isclose(a, b, rtol=rtol, atol=atol, equal_nan=True)
            if bad.any():
                err = np.where(bad, np.abs(a - b), -1.0)
                r, c = np.unravel_index(np.argmax(err), err.shape)
                return _fail(
                    f"Jacobian mismatch for output {k} with respect to input {i}: worst element "
                    f"(output index {r}, input index {c}): numerical {float(b[r, c])!r}, analytical "
                    f"{float(a[r, c])!r}\nnumerical:\n{b}\nanalytical:\n{a}", raise_exception)
    return True


def _fast_gradcheck(fn, inputs, outputs, diff_idx, eps, atol, rtol, raise_exception, seed):
    from . import grad

    rng = np.random.default_rng(seed)
    us = {i: rng.standard_normal(inputs[i].shape) for i in diff_idx}
    vs = [rng.standard_normal(o.shape) for o in outputs]
    # numerical: v^T (f(x + eps u) - f(x - eps u)) / 2 eps, one input at a time
    for i in diff_idx:
        vals = []
        for sign in (1, -1):
            args = list(inputs)
            args[i] = _C.tensor(_np(inputs[i]) + sign * eps * us[i], dtype=inputs[i].dtype)
            args[i].requires_grad_(True)
            vals.append(sum(float((_np(o) * v).sum()) for o, v in zip(_outputs(fn, args), vs)))
        numerical = (vals[0] - vals[1]) / (2 * eps)
        diff = [o for o in outputs if o.requires_grad]
        analytical = 0.0
        if diff:
            gv = [_C.tensor(v, dtype=o.dtype) for o, v in zip(outputs, vs) if o.requires_grad]
            (g,) = grad(diff, [inputs[i]], gv, retain_graph=True, allow_unused=True)
            analytical = 0.0 if g is None else float((_np(g) * us[i]).sum())
        if not np.isclose(analytical, numerical, rtol=rtol, atol=atol):
            return _fail(f"Jacobian mismatch for input {i} (fast mode, random direction): "
                         f"numerical {numerical!r}, analytical {analytical!r}", raise_exception)
    return True


def gradgradcheck(fn, inputs, grad_outputs=None, *, eps=1e-6, atol=1e-5, rtol=1e-3,
                  gen_non_contig_grad_outputs=False, raise_exception=True, fast_mode=False, seed=0):
    """gradcheck of the gradients themselves (second derivatives via create_graph=True)."""
    from . import grad

    inputs = _tuple(inputs)
    outputs = _outputs(fn, inputs)
    if grad_outputs is None:
        rng = np.random.default_rng(seed)
        grad_outputs = tuple(_C.tensor(rng.standard_normal(o.shape), dtype=o.dtype) for o in outputs)
        for g in grad_outputs:
            g.requires_grad_(True)
    grad_outputs = _tuple(grad_outputs)
    n_in = len(inputs)
    diff_idx = [i for i, x in enumerate(inputs) if isinstance(x, Tensor) and x.requires_grad]

    def new_fn(*args):
        ins, gos = args[:n_in], args[n_in:]
        outs = [o for o in _outputs(fn, ins)]
        pairs = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
        diff_ins = [ins[i] for i in diff_idx]
        gs = grad([p[0] for p in pairs], diff_ins, [p[1] for p in pairs], create_graph=True,
                  allow_unused=True)
        return tuple(g for g in gs if g is not None)

    return gradcheck(new_fn, inputs + grad_outputs, eps=eps, atol=atol, rtol=rtol,
                     raise_exception=raise_exception, fast_mode=fast_mode, seed=seed)
