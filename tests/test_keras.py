"""tinygrad_ext.keras: the course snippet end to end, layers, losses, callbacks, weights."""

import csv
import math

import numpy as np
import pytest
import tinygrad_ext as tgx
from tinygrad_ext import keras
from tinygrad_ext.keras import callbacks as cb
from tinygrad_ext.keras import losses
from tinygrad_ext.keras.layers import Activation, Dense, Dropout, Flatten, Input
from tinygrad_ext.keras.models import Sequential
from tinygrad_ext.keras.utils import to_categorical


@pytest.fixture(scope="module")
def digits():
    X, y = tgx.datasets.load_digits(return_X_y=True)
    X, y = X.numpy() / 16.0, y.numpy()
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    X, y = X[order], y[order]
    X100 = np.zeros((len(X), 100), np.float32)
    X100[:, :64] = X
    return X100[:1400], to_categorical(y[:1400], 10), X100[1400:], to_categorical(y[1400:], 10), y


def test_course_snippet_on_digits(digits, capsys):
    X_train, Y_train, X_test, Y_test, _ = digits
    tgx.manual_seed(0)
    model = Sequential()
    model.add(Dense(output_dim=64, input_dim=100))
    model.add(Activation("relu"))
    model.add(Dense(output_dim=10))
    model.add(Activation("softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    hist = model.fit(X_train, Y_train, nb_epoch=30, batch_size=32)
    loss_and_metrics = model.evaluate(X_test, Y_test, batch_size=32)
    out = capsys.readouterr().out
    assert "Epoch 1/30" in out and "accuracy" in out
    assert len(hist.history["loss"]) == 30 and hist.history["loss"][-1] < hist.history["loss"][0]
    assert isinstance(loss_and_metrics, list) and len(loss_and_metrics) == 2
    assert loss_and_metrics[1] > 0.85
    probs = model.predict(X_test)
    assert probs.shape == (len(X_test), 10)
    np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
    acc = (probs.argmax(1) == Y_test.argmax(1)).mean()
    assert abs(acc - loss_and_metrics[1]) < 1e-9


def test_current_api_adam_sparse_and_validation(digits):
    X_train, _, X_test, _, y = digits
    tgx.manual_seed(1)
    model = keras.Sequential(
        [
            Input(shape=(100,)),
            Dense(32, activation="relu"),
            Dropout(0.1),
            Dense(10, activation="softmax"),
        ]
    )
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    hist = model.fit(X_train, y[:1400], epochs=10, batch_size=32, validation_split=0.2, verbose=0)
    assert set(hist.history) == {"loss", "accuracy", "val_loss", "val_accuracy"}
    assert hist.history["val_accuracy"][-1] > 0.8
    res = model.evaluate(X_test, y[1400:], verbose=0, return_dict=True)
    assert res["accuracy"] > 0.8


def test_summary_and_param_counts(capsys):
    model = Sequential(
        [Dense(64, input_shape=(100,)), Activation("relu"), Dense(10, activation="softmax")]
    )
    model.summary()
    out = capsys.readouterr().out
    assert "(None, 64)" in out and "6464" in out and "(None, 10)" in out and "650" in out
    assert "Total params: 7,114" in out and "Trainable params: 7,114" in out
    assert model.count_params() == 7114
    assert [layer.name for layer in model.layers][1].startswith("activation")


def test_dense_initializers_and_errors():
    tgx.manual_seed(0)
    d = Dense(300, input_dim=200)
    a = math.sqrt(6 / 500)
    k = d.kernel.detach().numpy()
    assert k.shape == (200, 300) and np.abs(k).max() <= a and np.abs(k).max() > 0.9 * a
    assert np.all(d.bias.detach().numpy() == 0)
    he = Dense(300, input_dim=200, kernel_initializer="he_normal").kernel.detach().numpy()
    assert (
        abs(he.std() - math.sqrt(2 / 200)) < 0.01
        and np.abs(he).max() <= 2 * math.sqrt(2 / 200) / 0.8796 + 1e-6
    )
    assert Dense(3, input_dim=2, use_bias=False).bias is None
    with pytest.raises(ValueError, match="units"):
        Dense(0)
    with pytest.raises(ValueError, match="activation"):
        Dense(3, activation="nope")
    with pytest.raises(ValueError, match="loss"):
        Sequential([Dense(2, input_dim=2)]).compile(loss="nope")
    with pytest.raises(ValueError, match="optimizer"):
        Sequential([Dense(2, input_dim=2)]).compile(loss="mse", optimizer="nope")
    with pytest.raises(RuntimeError, match="compile"):
        Sequential([Dense(2, input_dim=2)]).fit(np.zeros((4, 2)), np.zeros((4, 2)))


def test_lazy_build_flatten_and_regression():
    tgx.manual_seed(0)
    rng = np.random.default_rng(0)
    X = rng.standard_normal((256, 2, 3)).astype(np.float32)
    w = rng.standard_normal(6).astype(np.float32)
    yv = X.reshape(256, 6) @ w
    model = Sequential([Flatten(), Dense(1)])
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.1, momentum=0.5), loss="mse", metrics=["mae"]
    )
    hist = model.fit(X, yv, epochs=30, batch_size=32, verbose=0)
    assert hist.history["loss"][-1] < 1e-3
    np.testing.assert_allclose(model.layers[1].kernel.detach().numpy().reshape(-1), w, atol=0.02)


def test_losses_match_formulas():
    rng = np.random.default_rng(0)
    p = rng.random((5, 4)) + 0.1
    p /= p.sum(1, keepdims=True)
    t = to_categorical([0, 1, 2, 3, 1], 4)
    T = lambda a: tgx.tensor(np.asarray(a, dtype=np.float64))  # noqa: E731
    assert losses.get("categorical_crossentropy")(T(t), T(p)).item() == pytest.approx(
        -(t * np.log(p)).sum(1).mean()
    )
    assert losses.get("sparse_categorical_crossentropy")(
        tgx.tensor([0, 1, 2, 3, 1]), T(p)
    ).item() == pytest.approx(-(t * np.log(p)).sum(1).mean())
    yb, pb = np.array([[1.0], [0.0]]), np.array([[0.8], [0.3]])
    assert losses.get("binary_crossentropy")(T(yb), T(pb)).item() == pytest.approx(
        -(np.log(0.8) + np.log(0.7)) / 2
    )
    assert losses.get("mse")(T(yb), T(pb)).item() == pytest.approx((0.04 + 0.09) / 2)
    assert losses.get("mae")(T(yb), T(pb)).item() == pytest.approx(0.25)
    assert losses.get("hinge")(T(yb), T(pb)).item() == pytest.approx((0.2 + 1.3) / 2)
    q = np.roll(p, 1, axis=1)
    assert losses.get("kl_divergence")(T(p), T(q)).item() == pytest.approx(
        (p * np.log(p / q)).sum(1).mean()
    )


def test_binary_accuracy_and_sigmoid_output():
    tgx.manual_seed(0)
    X, y = tgx.datasets.make_moons(200, noise=0.1, random_state=0)
    model = Sequential([Dense(16, activation="tanh", input_dim=2), Dense(1, activation="sigmoid")])
    model.compile(optimizer="adam", loss="binary_crossentropy", metrics=["accuracy"])
    model.optimizer.learning_rate = 0.05
    hist = model.fit(X, y.to(tgx.float32), epochs=40, batch_size=32, verbose=0)
    assert hist.history["accuracy"][-1] > 0.85
    out = model.predict(X)
    assert out.shape == (200, 1) and out.min() >= 0 and out.max() <= 1


class _Scripted(cb.Callback):
    """Feeds a scripted val_loss sequence to the callbacks after it (instead of a real one)."""

    def __init__(self, values):
        super().__init__()
        self.values = values

    def on_epoch_end(self, epoch, logs=None):
        logs["val_loss"] = self.values[epoch]


def _tiny_model():
    model = Sequential([Dense(2, input_dim=2)])
    model.compile(optimizer="sgd", loss="mse")
    return model


def test_early_stopping_patience_and_restore():
    X, Y = np.zeros((8, 2), np.float32), np.zeros((8, 2), np.float32)
    model = _tiny_model()
    values = [1.0, 0.5, 0.6, 0.4, 0.8, 0.9, 1.0, 1.1, 1.2, 1.3]
    weights_at = {}

    class Snap(cb.Callback):
        def on_epoch_end(self, epoch, logs=None):
            weights_at[epoch] = model.get_weights()
            with tgx.no_grad():  # make every epoch's weights distinguishable
                for p in model.parameters():
                    p.add_(1.0)

    stop = keras.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    hist = model.fit(X, Y, epochs=10, verbose=0, callbacks=[Snap(), _Scripted(values), stop])
    # best at epoch 3 (0.4); epochs 4 and 5 fail to improve -> stop after epoch 5 (0-based)
    assert hist.epoch == [0, 1, 2, 3, 4, 5]
    assert stop.stopped_epoch == 5 and stop.best_epoch == 3 and stop.best == 0.4
    for got, want in zip(model.get_weights(), weights_at[3]):
        np.testing.assert_array_equal(got, want + 1.0)  # Snap ran before EarlyStopping saved them
    # min_delta: 0.5 -> 0.45 is not an improvement of more than 0.1
    stop = keras.EarlyStopping(monitor="val_loss", patience=1, min_delta=0.1)
    hist = model.fit(
        X, Y, epochs=5, verbose=0, callbacks=[_Scripted([1.0, 0.5, 0.45, 0.44, 0.43]), stop]
    )
    assert hist.epoch == [0, 1, 2]
    with pytest.raises(KeyError, match="monitor"):
        model.fit(X, Y, epochs=1, verbose=0, callbacks=[keras.EarlyStopping(monitor="val_nope")])


def test_checkpoint_scheduler_csv_and_weights(tmp_path):
    X, Y = np.ones((8, 2), np.float32), np.ones((8, 2), np.float32)
    model = _tiny_model()
    lrs = []
    sched = keras.LearningRateScheduler(lambda epoch, lr: 0.1 * (0.5**epoch))

    class Rec(cb.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            lrs.append(model.optimizer.learning_rate)

    ckpt = keras.ModelCheckpoint(str(tmp_path / "w{epoch:02d}.tgx"))
    best = keras.ModelCheckpoint(str(tmp_path / "best.tgx"), monitor="loss", save_best_only=True)
    log = keras.CSVLogger(str(tmp_path / "log.csv"))
    hist = model.fit(X, Y, epochs=3, verbose=0, callbacks=[sched, Rec(), ckpt, best, log])
    assert lrs == [0.1, 0.05, 0.025]
    assert hist.history["learning_rate"] == [0.1, 0.05, 0.025]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "best.tgx",
        "log.csv",
        "w01.tgx",
        "w02.tgx",
        "w03.tgx",
    ]
    rows = list(csv.reader(open(tmp_path / "log.csv")))
    assert rows[0][0] == "epoch" and "loss" in rows[0] and len(rows) == 4
    other = _tiny_model()
    other.load_weights(tmp_path / "w03.tgx")
    for a, b in zip(other.get_weights(), model.get_weights()):
        np.testing.assert_array_equal(a, b)
    model.save_weights(tmp_path / "final.tgx")
    assert list(tgx.load(tmp_path / "final.tgx").keys()) == ["0.kernel", "0.bias"]
    with pytest.raises(RuntimeError, match="size mismatch"):
        Sequential([Dense(3, input_dim=2)]).load_weights(tmp_path / "final.tgx")


def test_history_plot_message(tmp_path):
    h = cb.History()
    h.history = {"loss": [1.0, 0.5], "val_loss": [1.1, 0.7]}
    try:
        import matplotlib  # noqa: F401
    except ImportError:
        with pytest.raises(ImportError, match="matplotlib"):
            h.plot(tmp_path / "h.png")
        return
    h.plot(str(tmp_path / "h.png"))
    assert (tmp_path / "h.png").stat().st_size > 0


def test_verbose_zero_is_silent(capsys):
    model = _tiny_model()
    model.fit(np.ones((4, 2)), np.ones((4, 2)), epochs=2, verbose=0)
    model.evaluate(np.ones((4, 2)), np.ones((4, 2)), verbose=0)
    assert capsys.readouterr().out == ""
