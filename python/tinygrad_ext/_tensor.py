"""Python-side conveniences attached to the C++ Tensor class (nothing here is on a hot path).

repr/str (PyTorch's format), NumPy's __array__, pickle and copy support, Tensor.to(device, dtype).
"""

from __future__ import annotations

import math

import numpy as np

from . import _C

Tensor = _C.Tensor

# NumPy interop: `ndarray + Tensor` defers to Tensor.__radd__ (returns a Tensor), as PyTorch does;
# NumPy functions such as np.exp(t) convert through the buffer protocol / __array__ and return
# NumPy arrays. There is deliberately no __array_ufunc__.
Tensor.__array_priority__ = 1000


# ---- repr, following torch/_tensor_str.py ---------------------------------------------------
class _PrintOptions:
    precision = 4
    threshold = 1000
    edgeitems = 3
    linewidth = 80
    sci_mode = None


PRINT_OPTS = _PrintOptions()


def set_printoptions(precision=None, threshold=None, edgeitems=None, linewidth=None, sci_mode=None):
    """Like torch.set_printoptions (no profiles): None leaves an option unchanged, except sci_mode."""
    if precision is not None:
        PRINT_OPTS.precision = precision
    if threshold is not None:
        PRINT_OPTS.threshold = threshold
    if edgeitems is not None:
        PRINT_OPTS.edgeitems = edgeitems
    if linewidth is not None:
        PRINT_OPTS.linewidth = linewidth
    PRINT_OPTS.sci_mode = sci_mode


class _Formatter:
    """Chooses one width and one notation for every element, as PyTorch's _Formatter."""

    def __init__(self, values: np.ndarray):
        self.floating = values.dtype.kind == "f"
        self.int_mode = True
        self.sci_mode = False
        self.max_width = 1
        p = PRINT_OPTS.precision
        flat = values.reshape(-1)
        if not self.floating:
            for v in flat.tolist():
                self.max_width = max(self.max_width, len(f"{v}"))
            return
        vals = flat.astype(np.float64)
        nz = vals[np.isfinite(vals) & (vals != 0)]
        if nz.size == 0:
            return
        absv = np.abs(nz)
        lo, hi = float(absv.min()), float(absv.max())
        self.int_mode = bool(np.all(nz == np.ceil(nz)))
        items = nz.tolist()
        if self.int_mode:
            if hi / lo > 1000.0 or hi > 1.0e8:
                self.sci_mode = True
                widths = (len(f"{v:.{p}e}") for v in items)
            else:
                widths = (len(f"{v:.0f}") + 1 for v in items)
        elif hi / lo > 1000.0 or hi > 1.0e8 or lo < 1.0e-4:
            self.sci_mode = True
            widths = (len(f"{v:.{p}e}") for v in items)
        else:
            widths = (len(f"{v:.{p}f}") for v in items)
        self.max_width = max(self.max_width, max(widths))
        if PRINT_OPTS.sci_mode is not None:
            self.sci_mode = PRINT_OPTS.sci_mode

    def width(self) -> int:
        return self.max_width

    def format(self, value) -> str:
        p = PRINT_OPTS.precision
        if self.floating:
            if self.sci_mode:
                ret = f"{value:{self.max_width}.{p}e}"
            elif self.int_mode:
                ret = f"{value:.0f}"
                if not (math.isinf(value) or math.isnan(value)):
                    ret += "."
            else:
                ret = f"{value:.{p}f}"
        else:
            ret = f"{value}"
        return (self.max_width - len(ret)) * " " + ret


def _summarized(a: np.ndarray) -> np.ndarray:
    """The edge items PyTorch formats when it summarises (its get_summarized_data)."""
    e = PRINT_OPTS.edgeitems
    if a.ndim == 0:
        return a
    if a.ndim == 1:
        return np.concatenate((a[:e], a[-e:])) if a.shape[0] > 2 * e else a
    rows = list(range(e)) + list(range(a.shape[0] - e, a.shape[0])) if a.shape[0] > 2 * e else range(a.shape[0])
    return np.stack([_summarized(a[i]) for i in rows])


def _vector_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    e = PRINT_OPTS.edgeitems
    per_line = max(1, int(math.floor((PRINT_OPTS.linewidth - indent) / (fmt.width() + 2))))
    if summarize and a.shape[0] > 2 * e:
        data = [fmt.format(v) for v in a[:e].tolist()] + [" ..."] + [fmt.format(v) for v in a[-e:].tolist()]
    else:
        data = [fmt.format(v) for v in a.tolist()]
    lines = [", ".join(data[i : i + per_line]) for i in range(0, len(data), per_line)]
    return "[" + ("," + "\n" + " " * (indent + 1)).join(lines) + "]"


def _nd_str(a: np.ndarray, indent: int, summarize: bool, fmt: _Formatter) -> str:
    if a.ndim == 0:
        return fmt.format(a.item())
    if a.ndim == 1:
        return _vector_str(a, indent, summarize, fmt)
    e = PRINT_OPTS.edgeitems
    if summarize and a.shape[0] > 2 * e:
        slices = [_nd_str(a[i], indent + 1, summarize, fmt) for i in range(e)] + ["..."]
        slices += [_nd_str(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0] - e, a.shape[0])]
    else:
        slices = [_nd_str(a[i], indent + 1, summarize, fmt) for i in range(a.shape[0])]
    return "[" + ("," + "\n" * (a.ndim - 1) + " " * (indent + 1)).join(slices) + "]"


def _tensor_str(a: np.ndarray, indent: int) -> str:
    summarize = a.size > PRINT_OPTS.threshold
    fmt = _Formatter(_summarized(a) if summarize else a)
    return _nd_str(a, indent, summarize, fmt)


def _add_suffixes(tensor_str: str, suffixes: list, indent: int) -> str:
    parts = [tensor_str]
    last_line_len = len(tensor_str) - tensor_str.rfind("\n") + 1
    for suffix in suffixes:
        if last_line_len + len(suffix) + 2 > PRINT_OPTS.linewidth:
            parts.append(",\n" + " " * indent + suffix)
            last_line_len = indent + len(suffix)
        else:
            parts.append(", " + suffix)
            last_line_len += len(suffix) + 2
    parts.append(")")
    return "".join(parts)


_DEFAULT_DTYPES = ("float32", "int64", "bool")


def _tensor_repr(self) -> str:
    prefix = "tensor("
    indent = len(prefix)
    suffixes = []
    a = _C._numpy_view(self)
    if a.size == 0:
        if a.ndim != 1:
            suffixes.append("size=" + str(tuple(a.shape)))
        if self.dtype.name != "float32":
            suffixes.append("dtype=" + repr(self.dtype))
        body = "[]"
    else:
        if self.dtype.name not in _DEFAULT_DTYPES:
            suffixes.append("dtype=" + repr(self.dtype))
        body = _tensor_str(a, indent)
    grad_fn = getattr(self, "grad_fn", None)
    if grad_fn is not None:
        name = getattr(grad_fn, "name", None)
        name = name() if callable(name) else (name or type(grad_fn).__name__)
        suffixes.append(f"grad_fn=<{name}>")
    elif getattr(self, "requires_grad", None) or _C._requires_grad(self):
        suffixes.append("requires_grad=True")
    return _add_suffixes(prefix + body, suffixes, indent)


Tensor.__repr__ = _tensor_repr
Tensor.__str__ = _tensor_repr


# ---- NumPy ----------------------------------------------------------------------------------
def _array(self, dtype=None, copy=None):
    """NumPy 2's __array__: shares memory unless a copy is asked for or a dtype change needs one."""
    a = self.numpy()  # raises for tensors that require grad, as PyTorch
    if dtype is not None and np.dtype(dtype) != a.dtype:
        if copy is False:
            raise ValueError(
                f"[__array__] converting a {self.dtype.name} tensor to NumPy dtype {np.dtype(dtype)} "
                "needs a copy, but copy=False was given"
            )
        return a.astype(dtype)
    return a.copy() if copy else a


Tensor.__array__ = _array


# ---- pickle and copy ------------------------------------------------------------------------
def _rebuild_tensor(data: bytes, dtype_name: str, shape: tuple, requires_grad: bool = False):
    """Inverse of Tensor.__reduce__ (a module-level function so pickle can find it)."""
    arr = np.frombuffer(data, dtype=np.dtype(dtype_name)).reshape(shape).copy()
    t = _C.from_numpy(arr)
    if requires_grad:
        _C._set_requires_grad(t, True)
    return t


def _reduce(self):
    # the data, dtype and shape (and the requires_grad flag); never the autograd graph
    a = np.ascontiguousarray(_C._numpy_view(self))
    return (_rebuild_tensor, (a.tobytes(), self.dtype.name, tuple(self.shape), bool(_C._requires_grad(self))))


def _deepcopy(self, memo):
    if id(self) in memo:
        return memo[id(self)]
    out = self.clone()
    if _C._requires_grad(self):
        _C._set_requires_grad(out, True)
    memo[id(self)] = out
    return out


Tensor.__reduce__ = _reduce
Tensor.__deepcopy__ = _deepcopy


# ---- devices and dtypes: Tensor.to ----------------------------------------------------------
_to_dtype = Tensor.to  # the C++ to(dtype, copy=False)


def _is_device_like(x) -> bool:
    return isinstance(x, (_C.device, str)) and not (isinstance(x, str) and x in _DTYPE_NAMES)


_DTYPE_NAMES = {"bool", "uint8", "int32", "int64", "float32", "float64", "float", "double", "long", "int"}


def _to(self, *args, dtype=None, device=None, copy=False, non_blocking=False):
    """to(dtype), to(device, dtype=None), to(tensor) or to(device=..., dtype=...), as PyTorch."""
    del non_blocking
    args = list(args)
    if args and isinstance(args[0], Tensor):
        other = args.pop(0)
        device, dtype = other.device, other.dtype
    elif args and _is_device_like(args[0]):
        device = args.pop(0)
    if args:
        if dtype is not None:
            raise TypeError("[to] dtype given twice")
        dtype = args.pop(0)
    if args:
        raise TypeError(f"[to] unexpected arguments {args!r}")
    if device is not None:
        _C._check_device(device, "to")
    if dtype is None:
        return self.clone() if copy else self
    return _to_dtype(self, dtype, copy)


Tensor.to = _to
