"""keras.Sequential: add / compile / fit / evaluate / predict / summary / save_weights, Keras' API
over tinygrad_ext.nn modules and autograd."""

from __future__ import annotations

import sys
import time

import numpy as np

from .. import _C, nn
from ..autograd.grad_mode import no_grad
from . import callbacks as cbks
from . import losses as losses_mod
from . import optimizers as opt_mod
from .layers import Activation, Dense, Input, InputLayer, Layer, _auto_name


def _to_tensor(a, name: str, labels: bool = False):
    if a is None:
        return None
    if isinstance(a, _C.Tensor):
        t = a.detach()
    else:
        arr = np.asarray(a)
        if arr.dtype == object:
            raise TypeError(f"[keras] {name} must be a numeric array, got dtype object")
        t = _C.tensor(np.ascontiguousarray(arr))
    if t.is_floating_point():
        return t.to(_C.float32)
    return t if labels else t.to(_C.float32)


class _Metric:
    def __init__(self, name: str, fn):
        self.name, self.fn = name, fn


def _progress_bar_class(verbose: int):
    """tqdm's class when verbose == 1, stdout is a terminal and tqdm is installed, else None.
    Without a bar, fit prints one summary line per epoch (verbose 1 or 2) or nothing (0)."""
    isatty = getattr(sys.stdout, "isatty", None)
    if verbose != 1 or not (isatty and isatty()):
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm


class Sequential(Layer):
    """A linear stack of Keras layers (model.add(...)), trained with compile + fit."""

    def __init__(self, layers=None, name: str | None = None):
        super().__init__(name=name or _auto_name("Sequential"))
        self._layer_list: list = []
        self.optimizer = None
        self.loss = None
        self.metrics_names: list = []
        self.stop_training = False
        self.history = None
        self.compiled = False
        for layer in layers or []:
            self.add(layer)

    # ---- building --------------------------------------------------------------------------------
    @property
    def layers(self) -> list:
        return [m for m in self._layer_list if not isinstance(m, InputLayer)]

    def add(self, layer) -> None:
        if isinstance(layer, Input):
            layer = InputLayer(input_shape=layer.shape[1:], name=layer.name)
        if not isinstance(layer, nn.Module):
            raise TypeError(f"[Sequential.add] expected a Keras layer, got {type(layer).__name__}")
        if not isinstance(layer, Layer):
            layer.name = getattr(layer, "name", None) or _auto_name(type(layer).__name__)
        if any(existing.name == layer.name for existing in self._layer_list):
            raise ValueError(
                f"[Sequential.add] all layers must have unique names; {layer.name!r} is taken"
            )
        self._layer_list.append(layer)
        self.add_module(layer.name, layer)
        self._propagate_shapes()

    def pop(self):
        layer = self._layer_list.pop()
        del self._modules[layer.name]
        return layer

    def _propagate_shapes(self) -> None:
        if not self._layer_list:
            return
        shape = getattr(self._layer_list[0], "input_shape_", None)
        if shape is None:
            return
        for layer in self._layer_list:
            if not isinstance(layer, Layer):
                return
            shape = layer._ensure_built(shape)

    def build(self, input_shape=None) -> None:
        if (
            input_shape is not None
            and self._layer_list
            and getattr(self._layer_list[0], "input_shape_", None) is None
        ):
            self._layer_list[0].input_shape_ = tuple(input_shape)
        self._propagate_shapes()
        self.built = True

    def forward(self, x):
        for layer in self._layer_list:
            x = layer(x)
        return x

    def call(self, x, training: bool = False):
        self.train(training)
        return self.forward(x)

    def _logits_and_kind(self, x):
        """(logits, kind) when the model ends in softmax/sigmoid (stable loss), else (out, None)."""
        *body, last = self._layer_list
        for layer in body:
            x = layer(x)
        if isinstance(last, Activation) and last.activation_name in ("softmax", "sigmoid"):
            return x, last.activation_name
        if isinstance(last, Dense) and last.activation_name in ("softmax", "sigmoid"):
            return last.pre_activation(x), last.activation_name
        return last(x), None

    # ---- compile ---------------------------------------------------------------------------------
    def compile(
        self, optimizer="rmsprop", loss=None, metrics=None, loss_weights=None, **kwargs
    ) -> None:
        if loss is None:
            raise ValueError("[compile] a loss is required")
        self.optimizer = opt_mod.get(optimizer)
        self.loss = losses_mod.get(loss)
        self._metrics = [self._make_metric(m) for m in (metrics or [])]
        self.metrics_names = ["loss"] + [m.name for m in self._metrics]
        self.compiled = True
        self._opt_built = False

    def _make_metric(self, m):
        if callable(m) and not isinstance(m, str):
            return _Metric(
                getattr(m, "__name__", "metric"), lambda yt, yp: float(m(yt, yp).mean().item())
            )
        key = m.lower()
        if key in ("accuracy", "acc"):
            kind = self.loss.name
            if kind == "sparse_categorical_crossentropy":

                def fn(yt, yp):
                    hits = yp.argmax(-1) == yt.reshape(-1).to(_C.int64)
                    return float(hits.to(_C.float32).mean().item())
            elif kind in ("binary_crossentropy", "hinge"):

                def fn(yt, yp):
                    pred = (yp > (0.0 if kind == "hinge" else 0.5)).to(_C.float32)
                    yt = (
                        yt.to(_C.float32).reshape(tuple(yp.shape))
                        > (0.0 if kind == "hinge" else 0.5)
                    ).to(_C.float32)
                    return float((pred == yt).to(_C.float32).mean().item())
            else:

                def fn(yt, yp):
                    hits = yp.argmax(-1) == yt.argmax(-1)
                    return float(hits.to(_C.float32).mean().item())

            return _Metric(m, fn)
        if key in ("mse", "mean_squared_error", "mae", "mean_absolute_error"):
            loss = losses_mod.get(key)
            return _Metric(m, lambda yt, yp: float(loss(yt, yp).item()))
        raise ValueError(f"[compile] unknown metric {m!r}")

    def _loss_value(self, yb, xb):
        out_or_logits, kind = self._logits_and_kind(xb)
        loss = self.loss
        if (
            kind == "softmax"
            and isinstance(
                loss, (losses_mod.CategoricalCrossentropy, losses_mod.SparseCategoricalCrossentropy)
            )
            and not loss.from_logits
        ):
            stable = type(loss)(from_logits=True)
            if isinstance(loss, losses_mod.CategoricalCrossentropy):
                stable.label_smoothing = loss.label_smoothing
            return stable(yb, out_or_logits), out_or_logits.softmax(-1)
        if (
            kind == "sigmoid"
            and isinstance(loss, losses_mod.BinaryCrossentropy)
            and not loss.from_logits
        ):
            return losses_mod.BinaryCrossentropy(from_logits=True)(
                yb, out_or_logits
            ), out_or_logits.sigmoid()
        if kind is not None:
            last = self._layer_list[-1]
            out = last.activation(out_or_logits)
            return loss(yb, out), out
        return loss(yb, out_or_logits), out_or_logits

    # ---- fit / evaluate / predict ----------------------------------------------------------------
    def _check_compiled(self, op: str) -> None:
        if not self.compiled:
            raise RuntimeError(
                f"[{op}] you must compile your model before training/testing. "
                "Use `model.compile(optimizer, loss)`."
            )

    def _prepare(self, x):
        if not self.built or any(not getattr(layer, "built", True) for layer in self._layer_list):
            self.build(tuple(x.shape[1:]))
        if not self._opt_built:
            self.optimizer.build(self.parameters())
            self._opt_built = True

    def fit(
        self,
        x=None,
        y=None,
        batch_size: int | None = 32,
        epochs: int = 1,
        verbose="auto",
        callbacks=None,
        validation_split: float = 0.0,
        validation_data=None,
        shuffle: bool = True,
        initial_epoch: int = 0,
        nb_epoch: int | None = None,
        **kwargs,
    ):
        """Trains for `epochs` (Keras 1's nb_epoch too); returns a History."""
        self._check_compiled("fit")
        if nb_epoch is not None:
            epochs = nb_epoch
        verbose = 1 if verbose == "auto" else int(verbose)
        batch_size = 32 if batch_size is None else int(batch_size)
        x, y = _to_tensor(x, "x"), _to_tensor(y, "y", labels=True)
        if x.shape[0] != y.shape[0]:
            raise ValueError(f"[fit] x has {x.shape[0]} samples but y has {y.shape[0]}")
        if validation_data is None and validation_split:
            if not 0 < validation_split < 1:
                raise ValueError(
                    f"[fit] validation_split must be in (0, 1), got {validation_split}"
                )
            n_val = int(x.shape[0] * validation_split)
            split = x.shape[0] - n_val
            x, xv, y, yv = x[:split], x[split:], y[:split], y[split:]  # the last samples, as Keras
            validation_data = (xv, yv)
        if validation_data is not None:
            xv, yv = (
                _to_tensor(validation_data[0], "x_val"),
                _to_tensor(validation_data[1], "y_val", labels=True),
            )
        self._prepare(x)
        n = x.shape[0]
        steps = max(1, -(-n // batch_size))
        history = cbks.History()
        cb_list = list(callbacks or []) + [history]  # History last, as Keras: it sees every log
        params = {"epochs": epochs, "steps": steps, "verbose": verbose, "batch_size": batch_size}
        for cb in cb_list:
            cb.set_model(self)
            cb.set_params(params)
        self.stop_training = False
        for cb in cb_list:
            cb.on_train_begin()
        tqdm = _progress_bar_class(verbose)
        for epoch in range(initial_epoch, epochs):
            for cb in cb_list:
                cb.on_epoch_begin(epoch)
            self.train()
            t0 = time.perf_counter()
            order = _C.randperm(n) if shuffle else _C.arange(n)
            sums = {k: 0.0 for k in self.metrics_names}
            bar = (
                tqdm(total=steps, desc=f"Epoch {epoch + 1}/{epochs}", leave=True, file=sys.stdout)
                if tqdm
                else None
            )
            for b in range(steps):
                idx = order[b * batch_size : (b + 1) * batch_size]
                xb, yb = x[idx], y[idx]
                for cb in cb_list:
                    cb.on_train_batch_begin(b)
                loss, out = self._loss_value(yb, xb)
                self.optimizer.zero_grad()
                loss.backward()
                self.optimizer.step()
                k = idx.shape[0]
                sums["loss"] += float(loss.item()) * k
                with no_grad():
                    od = out.detach()
                    for m in self._metrics:
                        sums[m.name] += m.fn(yb, od) * k
                logs = {
                    name: sums[name] / min(n, (b + 1) * batch_size) for name in self.metrics_names
                }
                for cb in cb_list:
                    cb.on_train_batch_end(b, logs)
                if bar is not None:
                    bar.update(1)
                    bar.set_postfix({k2: f"{v:.4f}" for k2, v in logs.items()})
            logs = {name: sums[name] / n for name in self.metrics_names}
            if validation_data is not None:
                vals = self.evaluate(xv, yv, batch_size=batch_size, verbose=0, return_dict=True)
                logs.update({"val_" + k2: v for k2, v in vals.items()})
            if bar is not None:
                bar.set_postfix({k2: f"{v:.4f}" for k2, v in logs.items()})
                bar.close()
            for cb in cb_list:
                cb.on_epoch_end(epoch, logs)
            if verbose and bar is None:
                dt = time.perf_counter() - t0
                parts = " - ".join(f"{k2}: {v:.4f}" for k2, v in logs.items())
                per_step = f"{dt / steps * 1e3:.1f}ms/step"
                print(f"Epoch {epoch + 1}/{epochs} - {dt:.2f}s {per_step} - {parts}", flush=True)
            if self.stop_training:
                break
        for cb in cb_list:
            cb.on_train_end()
        self.eval()
        self.history = history
        return history

    def evaluate(
        self,
        x=None,
        y=None,
        batch_size: int | None = 32,
        verbose="auto",
        return_dict: bool = False,
        **kwargs,
    ):
        """Loss (and metrics) over the data in inference mode: a float, a list, or a dict."""
        self._check_compiled("evaluate")
        verbose = 1 if verbose == "auto" else int(verbose)
        batch_size = 32 if batch_size is None else int(batch_size)
        x, y = _to_tensor(x, "x"), _to_tensor(y, "y", labels=True)
        self._prepare(x)
        was_training = self.training
        self.eval()
        n = x.shape[0]
        sums = {k: 0.0 for k in self.metrics_names}
        with no_grad():
            for s in range(0, n, batch_size):
                xb, yb = x[s : s + batch_size], y[s : s + batch_size]
                loss, out = self._loss_value(yb, xb)
                k = xb.shape[0]
                sums["loss"] += float(loss.item()) * k
                for m in self._metrics:
                    sums[m.name] += m.fn(yb, out) * k
        self.train(was_training)
        res = {k: v / max(n, 1) for k, v in sums.items()}
        if verbose:
            print(" - ".join(f"{k}: {v:.4f}" for k, v in res.items()))
        if return_dict:
            return res
        return res["loss"] if len(res) == 1 else [res[k] for k in self.metrics_names]

    def predict(self, x, batch_size: int | None = 32, verbose=0, **kwargs) -> np.ndarray:
        """Model outputs in inference mode, as a NumPy array."""
        x = _to_tensor(x, "x")
        if not self.built:
            self.build(tuple(x.shape[1:]))
        was_training = self.training
        self.eval()
        outs = []
        with no_grad():
            for s in range(0, x.shape[0], batch_size or 32):
                outs.append(self.forward(x[s : s + (batch_size or 32)]).numpy())
        self.train(was_training)
        return np.concatenate(outs) if outs else np.zeros((0,))

    def __call__(self, x, *args, **kwargs):
        if not isinstance(x, _C.Tensor):
            x = _to_tensor(x, "x")
        return super().__call__(x, *args, **kwargs)

    # ---- inspection and weights ------------------------------------------------------------------
    def summary(self, print_fn=print) -> None:
        line = "_" * 65
        print_fn(f'Model: "{self.name}"')
        print_fn(line)
        print_fn(f" {'Layer (type)':<28}{'Output Shape':<26}{'Param #':<10}")
        print_fn("=" * 65)
        self._propagate_shapes()
        total = trainable = 0
        for i, layer in enumerate(self.layers):
            shape = getattr(layer, "output_shape_", None)
            shape_s = str((None,) + tuple(shape)) if shape is not None else "?"
            count = sum(p.numel() for p in layer.parameters())
            total += count
            trainable += sum(p.numel() for p in layer.parameters() if p.requires_grad)
            print_fn(
                f" {layer.name + ' (' + type(layer).__name__ + ')':<28}{shape_s:<26}{count:<10}"
            )
            print_fn(line if i == len(self.layers) - 1 else "")
        print_fn(f"Total params: {total:,}")
        print_fn(f"Trainable params: {trainable:,}")
        print_fn(f"Non-trainable params: {total - trainable:,}")
        print_fn(line)

    def count_params(self) -> int:
        return sum(p.numel() for p in self.parameters())

    def get_weights(self):
        return [p.detach().numpy().copy() for p in self.parameters()]

    def set_weights(self, weights) -> None:
        params = list(self.parameters())
        if len(weights) != len(params):
            raise ValueError(f"[set_weights] model has {len(params)} weights, got {len(weights)}")
        with no_grad():
            for p, w in zip(params, weights):
                p.copy_(_C.tensor(np.asarray(w)).to(p.dtype))

    def _positional_state(self) -> dict:
        """Weights keyed by layer position ("0.kernel", ...): same-architecture models load them."""
        out = {}
        for i, layer in enumerate(self._layer_list):
            for k, v in layer.state_dict().items():
                out[f"{i}.{k}"] = v
        return out

    def save_weights(self, filepath, overwrite: bool = True) -> None:
        from ..serialization import save

        save(self._positional_state(), filepath)

    def load_weights(self, filepath) -> None:
        from ..serialization import load

        state = load(filepath)
        for i, layer in enumerate(self._layer_list):
            prefix = f"{i}."
            layer.load_state_dict(
                {k[len(prefix) :]: v for k, v in state.items() if k.startswith(prefix)}
            )
        extra = [k for k in state if int(k.split(".", 1)[0]) >= len(self._layer_list)]
        if extra:
            raise RuntimeError(
                f"[load_weights] the file has weights for more layers than the model: {extra}"
            )


Model = Sequential
