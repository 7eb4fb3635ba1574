"""Draw the autograd graph behind a tensor as Graphviz DOT text.

    g = tgx.viz.graph(f, show_values=True)
    print(g.source)          # DOT text, always available
    g.render("graph.png")    # needs the graphviz `dot` program on PATH

Nodes are the recorded ops (their grad_fn names, e.g. MulBackward0) with their output shapes and
dtypes; leaves show their shapes (and, with show_values, their values and grads).
"""

from __future__ import annotations

import os
import shutil
import subprocess

import numpy as np

from . import _C

Tensor = _C.Tensor

__all__ = ["graph", "Dot"]


class Dot:
    """DOT source text with a render() helper."""

    def __init__(self, source: str):
        self.source = source

    def __str__(self):
        return self.source

    def __repr__(self):
        return f"<tinygrad_ext.viz.Dot with {self.source.count('->')} edges>"

    def render(self, path: str, format: str | None = None) -> str:
        """Write the picture to `path` (format from the extension: png, svg, pdf...)."""
        dot = shutil.which("dot")
        if dot is None:
            raise RuntimeError("viz.render needs the graphviz `dot` program, which was not found on "
                               "PATH (install graphviz, e.g. `apt install graphviz`); the DOT text is "
                               "available as .source")
        fmt = format or os.path.splitext(path)[1].lstrip(".") or "png"
        subprocess.run([dot, f"-T{fmt}", "-o", path], input=self.source.encode(), check=True)
        return path

    def _repr_svg_(self):
        if shutil.which("dot") is None:
            return None
        return subprocess.run(["dot", "-Tsvg"], input=self.source.encode(), capture_output=True,
                              check=True).stdout.decode()


def _shape(shape):
    return "(" + ", ".join(str(s) for s in shape) + ("," if len(shape) == 1 else "") + ")"


def _fmt(t, limit=6):
    if t is None:
        return "None"
    a = np.asarray(t.detach().numpy())
    if a.size > limit:
        return f"[{', '.join(f'{v:.4g}' for v in a.reshape(-1)[:limit])}, ...]"
    return np.array2string(a, precision=4, separator=", ")


def _esc(s):
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")


def graph(tensor: Tensor, show_values: bool = False, name: str = "f") -> Dot:
    """The graph that computed `tensor`, from its grad_fn back to the leaves (iterative walk)."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"viz.graph expects a Tensor, got {type(tensor).__name__}")
    lines = ["digraph autograd {", '  rankdir="BT";', '  node [fontname="Helvetica", fontsize=10];']
    root_label = f"{name}\\n{_shape(tensor.shape)} {tensor.dtype.name}"
    if show_values:
        root_label += f"\\nvalue = {_esc(_fmt(tensor))}"
    lines.append(f'  out [label="{root_label}", shape=box, style=filled, fillcolor="#d8f0d8"];')
    fn = tensor.grad_fn
    if fn is None:
        lines.append("}")
        return Dot("\n".join(lines))
    # collect the graph (iterative), then number the ops h1, h2, ... in the order they ran
    ids, nodes, edges = {}, [], []
    stack = [fn]
    ids[id(fn)] = "n0"
    nodes.append(fn)
    while stack:
        n = stack.pop()
        for child, _ in n.next_functions:
            if child is None:
                continue
            if id(child) not in ids:
                ids[id(child)] = f"n{len(ids)}"
                nodes.append(child)
                stack.append(child)
            edges.append((ids[id(child)], ids[id(n)]))
    ops = sorted((n for n in nodes if n.name() != "AccumulateGrad"), key=lambda n: n._sequence_nr)
    hnum = {id(n): k + 1 for k, n in enumerate(ops)}
    lines.append(f"  {ids[id(fn)]} -> out;")
    for n in nodes:
        nid = ids[id(n)]
        if n.name() == "AccumulateGrad":
            var = n.variable
            label = "leaf"
            if var is not None:
                label += f"\\n{_shape(var.shape)} {var.dtype.name}"
                if show_values:
                    label += f"\\nvalue = {_esc(_fmt(var))}\\ngrad = {_esc(_fmt(var.grad))}"
            lines.append(f'  {nid} [label="{label}", shape=box, style=filled, fillcolor="#dde8ff"];')
        else:
            desc = ", ".join(f"{_shape(s)} {d.name}" for s, d in n._output_metadata)
            lines.append(f'  {nid} [label="h{hnum[id(n)]}: {n.name()}\\n{desc}", shape=ellipse];')
    for a, b in edges:
        lines.append(f"  {a} -> {b};")
    lines.append("}")
    return Dot("\n".join(lines))
