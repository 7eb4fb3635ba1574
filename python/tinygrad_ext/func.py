"""Function transforms, as torch.func: grad, grad_and_value, vjp, jvp (forward mode)."""

from __future__ import annotations

from . import _C
from .autograd import forward_ad as fwAD

Tensor = _C.Tensor

__all__ = ["grad", "grad_and_value", "vjp", "jvp"]


def _wrap_arg(x):
    """An input to differentiate: keeps an outer transform's graph when there is one."""
    if x.requires_grad:
        return x + 0, True
    return x.detach().requires_grad_(True), False


def grad_and_value(func, argnums=0, has_aux=False):
    """Like grad, but returns (gradient, value)."""

    def wrapper(*args, **kwargs):
        from .autograd import grad as autograd_grad

        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)
        args = list(args)
        nested = False
        for n in nums:
            if not isinstance(args[n], Tensor):
                raise TypeError(f"grad: argument {n} must be a Tensor, got {type(args[n]).__name__}")
            args[n], outer = _wrap_arg(args[n])
            nested = nested or outer
        with _enable_grad():
            res = func(*args, **kwargs)
        aux = None
        if has_aux:
            res, aux = res
        if not isinstance(res, Tensor) or res.numel() != 1:
            raise RuntimeError("grad: the function must return a Tensor with a single element, "
                               f"got {getattr(res, 'shape', type(res).__name__)}")
        gs = autograd_grad(res, [args[n] for n in nums], create_graph=nested, allow_unused=True)
        gs = tuple(g if g is not None else _zeros_like(args[n]) for g, n in zip(gs, nums))
        if not nested:
            gs = tuple(g.detach() for g in gs)
            res = res.detach()
        g = gs[0] if isinstance(argnums, int) else gs
        return ((g, aux), (res, aux)) if has_aux else (g, res)

    return wrapper


def grad(func, argnums=0, has_aux=False):
    """grad(f)(*args): the gradient of scalar-valued f w.r.t. args[argnums] (composable)."""
    gv = grad_and_value(func, argnums, has_aux)

    def wrapper(*args, **kwargs):
        g, _ = gv(*args, **kwargs)
        return g

    return wrapper


def vjp(func, *primals, has_aux=False):
    """(func(*primals), vjp_fn) with vjp_fn(cotangent) -> tuple of grads, one per primal."""
    from .autograd import grad as autograd_grad

    ins = tuple(_wrap_arg(p)[0] for p in primals)
    with _enable_grad():
        out = func(*ins)
    aux = None
    if has_aux:
        out, aux = out
    outs = out if isinstance(out, (tuple, list)) else (out,)

    def vjp_fn(*cotangents):
        cts = cotangents[0] if len(cotangents) == 1 and isinstance(out, (tuple, list)) else cotangents
        pairs = [(o, c) for o, c in zip(outs, cts) if o.requires_grad]
        if not pairs:
            return tuple(_zeros_like(p) for p in primals)
        gs = autograd_grad([p[0] for p in pairs], ins, [p[1] for p in pairs], retain_graph=True,
                           allow_unused=True)
        return tuple(g if g is not None else _zeros_like(p) for g, p in zip(gs, primals))

    detached = type(outs)(o.detach() for o in outs) if isinstance(out, (tuple, list)) else out.detach()
    return (detached, vjp_fn, aux) if has_aux else (detached, vjp_fn)


def jvp(func, primals, tangents, *, strict=False, has_aux=False):
    """(func(*primals), J @ tangents) computed by forward-mode AD (dual tensors), not backward."""
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise RuntimeError(f"jvp: expected as many tangents ({len(tangents)}) as primals ({len(primals)})")
    for p, t in zip(primals, tangents):
        if tuple(p.shape) != tuple(t.shape):
            raise RuntimeError(f"jvp: tangent of shape {tuple(t.shape)} does not match primal of shape "
                               f"{tuple(p.shape)}")
    with fwAD.dual_level():
        duals = [fwAD.make_dual(p, t) for p, t in zip(primals, tangents)]
        out = func(*duals)
        aux = None
        if has_aux:
            out, aux = out
        outs = out if isinstance(out, (tuple, list)) else (out,)
        res_p, res_t = [], []
        for o in outs:
            p, t = fwAD.unpack_dual(o)
            res_p.append(p.detach())
            res_t.append(t if t is not None else _zeros_like(p))
    if isinstance(out, (tuple, list)):
        res = (tuple(res_p), tuple(res_t))
    else:
        res = (res_p[0], res_t[0])
    return res + (aux,) if has_aux else res


def _zeros_like(x):
    import numpy as np

    return _C.tensor(np.zeros(x.shape), dtype=x.dtype)


class _enable_grad:
    def __enter__(self):
        self.prev = _C.is_grad_enabled()
        _C._set_grad_enabled(True)

    def __exit__(self, *exc):
        _C._set_grad_enabled(self.prev)
