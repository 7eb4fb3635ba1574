"""Hostile calls in a child process: wrong types, None, huge / negative shapes, bad dims, int
overflow, division by zero, nan/inf, 0-d/empty everywhere, and every public function with bad
arguments. The child must exit normally (a segfault or abort fails the test) and every exception
must be one of the classes the library documents."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

CHILD = textwrap.dedent(r'''
    import itertools, math, sys
    import numpy as np
    import tinygrad_ext as tgx

    # BufferError: Python's class for a refused buffer/DLPack export (NumPy raises it for
    # from_dlpack of a string array), passed through as PyTorch does.
    # OSError: save()/load() given junk paths (FileNotFoundError, IsADirectoryError, ...).
    ALLOWED = (ValueError, IndexError, TypeError, NotImplementedError, RuntimeError,
               ZeroDivisionError, MemoryError, OverflowError, BufferError, OSError)
    bad, calls = [], 0

    def attempt(label, f, also=()):
        global calls
        calls += 1
        try:
            r = f()
            if isinstance(r, tgx.Tensor):
                r.numpy() if r.numel() < 10**7 else None  # touch the memory
        except ALLOWED + also:
            pass
        except Exception as e:  # noqa: BLE001
            bad.append(f"{label}: {type(e).__name__}: {e}")

    F = tgx.tensor(np.array([[1.0, -2.0, 0.0], [np.nan, np.inf, -np.inf]], dtype=np.float32))
    I = tgx.tensor(np.array([[1, -2, 0], [7, 2**31 - 1, -2**31]], dtype=np.int32))
    L = tgx.tensor(np.array([2**63 - 1, -2**63, 0, 5]))
    U = tgx.tensor(np.array([0, 255, 1], dtype=np.uint8))
    B = tgx.tensor(np.array([True, False, True]))
    Z = tgx.tensor(3.0)
    E = tgx.tensor(np.zeros((0, 3), dtype=np.float32))
    E0 = tgx.tensor(np.zeros((0,), dtype=np.int64))
    D = tgx.tensor(np.array([1e-310, -0.0, np.nan], dtype=np.float64))
    TENSORS = [F, I, L, U, B, Z, E, E0, D]
    JUNK = [None, "abc", b"x", object(), [1, [2]], {"a": 1}, 2**70, -2**70, float("nan"),
            float("inf"), 1j, (), [], (2**40, 2**40), (-1,), np.zeros((2, 2), dtype=np.complex64),
            np.array(["a"]), slice(None), Ellipsis, tgx.float32, lambda: 0]

    # ---- every public callable with every kind of junk, 0-3 arguments ----
    public = [n for n in dir(tgx) if not n.startswith("_")]
    funcs = [getattr(tgx, n) for n in public if callable(getattr(tgx, n))
             and not isinstance(getattr(tgx, n), type) and n not in ("set_num_threads",)]
    for f in funcs:
        attempt(f"{f.__name__}()", lambda: f())
        for a in JUNK + TENSORS:
            attempt(f"{f.__name__}({a!r:.40})", lambda: f(a))
        for a, b in itertools.product(TENSORS, JUNK + TENSORS):
            attempt(f"{f.__name__}({a!r:.30}, {b!r:.30})", lambda: f(a, b))
        for a in TENSORS:
            attempt(f"{f.__name__}(t, t, t)", lambda: f(a, a, a))
            attempt(f"{f.__name__}(t, out=junk)", lambda: f(a, a, out=F))
            attempt(f"{f.__name__}(t, dim=99)", lambda: f(a, dim=99))
            attempt(f"{f.__name__}(t, dim=-99)", lambda: f(a, dim=-99))
            attempt(f"{f.__name__}(t, 2**40)", lambda: f(a, 2**40))

    # ---- every Tensor method on every tensor, with junk ----
    methods = [n for n in dir(tgx.Tensor) if not n.startswith("__") or n in (
        "__add__", "__sub__", "__mul__", "__truediv__", "__floordiv__", "__mod__", "__pow__",
        "__and__", "__or__", "__xor__", "__lt__", "__le__", "__getitem__", "__setitem__",
        "__matmul__", "__neg__", "__invert__", "__abs__", "__bool__", "__float__", "__int__",
        "__index__", "__len__", "__iadd__", "__imul__", "__itruediv__", "__ifloordiv__")]
    for n in methods:
        for t in TENSORS:
            try:  # properties such as mT raise for some shapes: that is fine, not a crash
                m = getattr(t, n, None)
            except (ValueError, RuntimeError, IndexError, TypeError):
                continue
            if not callable(m):
                continue
            attempt(f"{n}()", lambda: m())
            for a in JUNK + TENSORS:
                attempt(f"{n}({a!r:.40})", lambda: m(a))
            attempt(f"{n}(99)", lambda: m(99))
            attempt(f"{n}(-99, 99)", lambda: m(-99, 99))

    # ---- targeted cases ----
    for x in TENSORS:
        for y in TENSORS:
            for op in ("add", "sub", "mul", "div", "floor_divide", "remainder", "pow", "atan2",
                       "maximum", "bitwise_and", "logical_xor", "eq"):
                attempt(f"{op}", lambda: getattr(tgx, op)(x, y))
                attempt(f"{op} out", lambda: getattr(tgx, op)(x, y, out=x))
            attempt("where", lambda: tgx.where(B, x, y))
            attempt("lerp", lambda: tgx.lerp(x, y, 0.5))
            attempt("clamp", lambda: tgx.clamp(x, y, x))
            attempt("copy_", lambda: x.clone().copy_(y))
    for big in (2**62, 2**63 - 1, -2**63, 2**64, 10**30):
        attempt("int overflow", lambda: L + big)
        attempt("int overflow t", lambda: tgx.tensor([big]))
        attempt("pow overflow", lambda: L ** big)
    for z in (0, tgx.tensor([0, 0, 0, 0]), tgx.tensor(0, dtype=tgx.uint8)):
        attempt("int // 0", lambda: L // z)
        attempt("int % 0", lambda: L % z)
        attempt("int // 0 u8", lambda: U // z)
        attempt("int / 0", lambda: L / z)
        attempt("int //= 0", lambda: L.clone().floor_divide_(z))
    attempt("INT_MIN // -1", lambda: tgx.tensor([-2**63]) // -1)
    attempt("INT_MIN % -1", lambda: tgx.tensor([-2**63]) % -1)
    attempt("int32 INT_MIN // -1", lambda: I // tgx.tensor(-1, dtype=tgx.int32))
    attempt("int pow negative", lambda: I ** -1)
    attempt("int pow negative t", lambda: tgx.pow(L, tgx.tensor([-1, -2, -3, -4])))
    attempt("uint8 -> neg", lambda: -U)
    for shape in [(2**40, 2**40), (-1,), (2**62, 4), (0, -3), (2**31, 2**31, 2**31)]:
        for fname in ("zeros", "ones", "empty", "full", "rand", "randn", "arange", "reshape",
                      "expand", "broadcast_to", "view"):
            fn = getattr(tgx, fname, None) or getattr(F, fname, None)
            if fn is not None:
                attempt(f"{fname}{shape}", lambda: fn(shape))
                attempt(f"{fname}(*{shape})", lambda: fn(*shape))
    for dt in ("float32", "int64", "bool", "uint8", "float16", "complex64", "nonsense", 3, None):
        attempt(f"tensor dtype={dt!r}", lambda: tgx.tensor([1, 2], dtype=dt))
        for t in TENSORS:
            attempt(f"to({dt!r})", lambda: t.to(dt))
    for data in ([[1, 2], [3]], [None], ["a"], [1, "a"], [[[]]], [float("nan")], [2**64], [-2**64],
                 np.zeros((3, 0, 2)), np.zeros((2, 3))[:, ::-1], np.zeros((2, 3)).T, object()):
        attempt(f"tensor({data!r:.40})", lambda: tgx.tensor(data))
    for t in TENSORS:
        attempt("item", t.item)
        attempt("bool", lambda: bool(t))
        attempt("len", lambda: len(t))
        attempt("size(99)", lambda: t.size(99))
        attempt("stride(-99)", lambda: t.stride(-99))
        attempt("size(2**63)", lambda: t.size(2**63))
        attempt("fill_ nan", lambda: t.clone().fill_(float("nan")))
        attempt("fill_ big", lambda: t.clone().fill_(2**70))
        attempt("fill_ tensor", lambda: t.clone().fill_(F))
        attempt("nan_to_num", lambda: tgx.nan_to_num(t, nan=float("inf"), posinf="x"))
        # BufferError is Python's own class for a refused buffer export
        attempt("memoryview", lambda: memoryview(t).tobytes(), also=(BufferError,))
        attempt("np.asarray", lambda: np.asarray(t) + 1)
        attempt("ndarray + t", lambda: np.ones(3) + t)
        attempt("in-place on self view", lambda: t.add_(t))
    for n in (0, -1, 2**40):
        attempt(f"set_num_threads({n})", lambda: tgx.set_num_threads(n))
    tgx.set_num_threads(2)

    print(f"{calls} hostile calls, {len(bad)} with undocumented exceptions")
    for b in bad[:50]:
        print("BAD", b)
    sys.exit(3 if bad else 0)
''')


def test_hostile_calls_never_crash(tmp_path):
    # The child runs in a scratch directory: save()/load() with junk paths must not litter.
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(p for p in [os.path.dirname(os.path.dirname(
        os.path.abspath(__import__("tinygrad_ext").__file__))), env.get("PYTHONPATH", "")] if p)
    env.setdefault("PYTHONFAULTHANDLER", "1")
    proc = subprocess.run([sys.executable, "-c", CHILD], capture_output=True, text=True,
                          timeout=600, env=env, cwd=tmp_path)
    out = proc.stdout[-6000:] + proc.stderr[-6000:]
    assert proc.returncode >= 0, f"child killed by signal {-proc.returncode}:\n{out}"
    assert proc.returncode == 0, out
    assert "hostile calls, 0 with undocumented exceptions" in proc.stdout, out
