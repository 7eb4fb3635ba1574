"""Higher-level derivatives, as torch.autograd.functional: vjp, jvp, jacobian, hessian, hvp, vhp.

Jacobians use the numerator layout (course notes and PyTorch): for y = f(x) with y of shape S_y
and x of shape S_x, jacobian(f, x) has shape S_y + S_x and J[i..., j...] = dy_i / dx_j.
"""

from __future__ import annotations

import numpy as np

from .. import _C

Tensor = _C.Tensor

__all__ = ["vjp", "jvp", "jacobian", "hessian", "hvp", "vhp"]


def _as_tuple(x):
    return (tuple(x), True) if isinstance(x, (tuple, list)) else ((x,), False)


def _prep(inputs, create_graph):
    """Inputs that require grad: detached copies, or (create_graph) aliases that keep the graph."""
    out = []
    for x in inputs:
        if not isinstance(x, Tensor):
            raise TypeError(f"expected Tensor inputs, got {type(x).__name__}")
        if create_graph and x.requires_grad:
            out.append(x + 0)
        else:
            out.append(x.detach().requires_grad_(True))
    return tuple(out)


def _grad(outs, ins, gos, create_graph, retain_graph=True):
    from . import grad

    pairs = [(o, g) for o, g in zip(outs, gos) if o.requires_grad]
    if not pairs:
        return tuple(None for _ in ins)
    return grad([p[0] for p in pairs], ins, [p[1] for p in pairs], retain_graph=retain_graph,
                create_graph=create_graph, allow_unused=True)


def _zeros(x):
    return _C.tensor(np.zeros(x.shape), dtype=x.dtype)


def _fill(gs, ins, strict, what):
    res = []
    for i, (g, x) in enumerate(zip(gs, ins)):
        if g is None:
            if strict:
                raise RuntimeError(f"The output of the user-provided function is independent of input {i}. "
                                   f"This is not allowed in strict mode ({what}).")
            g = _zeros(x)
        res.append(g)
    return tuple(res)


def _maybe_detach(ts, create_graph):
    return tuple(t if create_graph or t is None else t.detach() for t in ts)


def vjp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T J): the vector-Jacobian product."""
    ins, is_tuple = _as_tuple(inputs)
    ins = _prep(ins, create_graph)
    outs, out_tuple = _as_tuple(func(*ins))
    if v is None:
        if len(outs) != 1 or outs[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the user-provided function returns a "
                               "single Tensor with a single element.")
        vs = (None,)
    else:
        vs, _ = _as_tuple(v)
    gs = _fill(_grad(outs, ins, vs, create_graph), ins, strict, "vjp")
    outs = _maybe_detach(outs, create_graph)
    gs = _maybe_detach(gs, create_graph)
    return (outs if out_tuple else outs[0]), (gs if is_tuple else gs[0])


def jvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), J v): the Jacobian-vector product, by forward-mode AD."""
    from .. import func as _func

    ins, is_tuple = _as_tuple(inputs)
    if v is None:
        if len(ins) != 1 or ins[0].numel() != 1:
            raise RuntimeError("The vector v can only be None if the input to the user-provided "
                               "function is a single Tensor with a single element.")
        vs = (_C.tensor(np.ones(ins[0].shape), dtype=ins[0].dtype),)
    else:
        vs, _ = _as_tuple(v)
    out, t = _func.jvp(func, ins, vs)
    return out, t


def _onehot(shape, dtype, r):
    v = np.zeros(int(np.prod(shape, dtype=np.int64)))
    v[r] = 1.0
    return _C.tensor(v.reshape(shape), dtype=dtype)


def _stack_rows(rows, out_shape, in_shape, create_graph, dtype):
    if create_graph:
        stack = getattr(_C, "stack", None)
        if stack is None or not hasattr(Tensor, "reshape"):
            raise NotImplementedError("jacobian(create_graph=True) needs tgx.stack and Tensor.reshape")
        return stack(list(rows)).reshape(tuple(out_shape) + tuple(in_shape))
    arr = np.stack([_np(r) for r in rows]) if rows else np.zeros((0,) + tuple(in_shape))
    return _C.tensor(arr.reshape(tuple(out_shape) + tuple(in_shape)), dtype=dtype)


def _np(t):
    return np.asarray(t.detach().numpy())


def jacobian(func, inputs, create_graph=False, strict=False, vectorize=False, strategy="reverse-mode"):
    """d func(inputs) / d inputs, numerator layout (output dims, then input dims)."""
    ins, is_tuple = _as_tuple(inputs)
    ins = _prep(ins, create_graph)
    outs, out_tuple = _as_tuple(func(*ins))
    result = []
    for o in outs:
        rows = [[] for _ in ins]
        for r in range(o.numel()):
            gs = _grad((o,), ins, (_onehot(o.shape, o.dtype, r),), create_graph)
            for i, (g, x) in enumerate(zip(gs, ins)):
                if g is None:
                    if strict:
                        raise RuntimeError(f"Output is independent of input {i} (strict mode).")
                    g = _zeros(x)
                rows[i].append(g)
        result.append(tuple(_stack_rows(rows[i], o.shape, x.shape, create_graph, x.dtype)
                            for i, x in enumerate(ins)))
    if not out_tuple:
        return result[0] if is_tuple else result[0][0]
    return tuple(r if is_tuple else r[0] for r in result)


def _scalar_check(out):
    if not isinstance(out, Tensor) or out.numel() != 1:
        raise RuntimeError("The function given to hessian/hvp/vhp should return a single Tensor "
                           "with a single element.")


def hessian(func, inputs, create_graph=False, strict=False, vectorize=False,
            outer_jacobian_strategy="reverse-mode"):
    """Second derivatives of a scalar function: shape input dims + input dims (per input pair)."""
    ins, is_tuple = _as_tuple(inputs)
    ins = _prep(ins, create_graph)
    out = func(*ins)
    _scalar_check(out)
    gs = _fill(_grad((out,), ins, (None,), True), ins, strict, "hessian")
    result = []
    for gi in gs:  # d(g_i)/d(x_j), row by row of g_i
        rows = [[] for _ in ins]
        for r in range(gi.numel()):
            hs = _grad((gi,), ins, (_onehot(gi.shape, gi.dtype, r),), create_graph) \
                if gi.requires_grad else tuple(None for _ in ins)
            for j, (h, x) in enumerate(zip(hs, ins)):
                rows[j].append(h if h is not None else _zeros(x))
        result.append(tuple(_stack_rows(rows[j], gi.shape, x.shape, create_graph, x.dtype)
                            for j, x in enumerate(ins)))
    return tuple(tuple(r) for r in result) if is_tuple else result[0][0]


def _second(func, inputs, v, create_graph, strict, what):
    ins, is_tuple = _as_tuple(inputs)
    ins = _prep(ins, create_graph)
    out = func(*ins)
    _scalar_check(out)
    vs, _ = _as_tuple(v)
    gs = _fill(_grad((out,), ins, (None,), True), ins, strict, what)
    diff = [(g, vv) for g, vv in zip(gs, vs) if g.requires_grad]
    if diff:
        from . import grad

        hs = grad([d[0] for d in diff], ins, [d[1] for d in diff], create_graph=create_graph,
                  allow_unused=True, retain_graph=True)
    else:
        hs = tuple(None for _ in ins)
    hs = _maybe_detach(_fill(hs, ins, strict, what), create_graph)
    out = out if create_graph else out.detach()
    return out, (hs if is_tuple else hs[0])


def vhp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), v^T H) for a scalar function."""
    return _second(func, inputs, v, create_graph, strict, "vhp")


def hvp(func, inputs, v=None, create_graph=False, strict=False):
    """(func(inputs), H v) for a scalar function (H is symmetric, so this is v^T H transposed)."""
    return _second(func, inputs, v, create_graph, strict, "hvp")
