"""The Keras "30 seconds" snippet from the course notes, on the bundled digits, with only the
imports changed (keras.models -> tinygrad_ext.keras.models ...).

The notes' Dense(input_dim=100) is kept: the 64 pixels are zero-padded to 100 features.

    python examples/keras_quickstart.py [--quick]      (TGX_SMOKE=1 also shortens the run)
"""

import argparse
import os

import numpy as np
import tinygrad_ext as tgx
from tinygrad_ext.keras.layers import Activation, Dense
from tinygrad_ext.keras.models import Sequential
from tinygrad_ext.keras.utils import np_utils


def load_data():
    X, y = tgx.datasets.load_digits(return_X_y=True)
    X, y = X.numpy() / 16.0, y.numpy()
    X100 = np.zeros((len(X), 100), dtype=np.float32)
    X100[:, :64] = X
    rng = np.random.default_rng(0)
    order = rng.permutation(len(X))
    split = int(0.8 * len(X))
    tr, te = order[:split], order[split:]
    return (
        X100[tr],
        np_utils.to_categorical(y[tr], 10),
        X100[te],
        np_utils.to_categorical(y[te], 10),
    )


def main(argv=None):
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument(
        "--epochs", type=int, default=50, help="the notes use 5; SGD at lr 0.01 needs more"
    )
    args = ap.parse_args(argv)
    nb_epoch = 5 if (args.quick or os.environ.get("TGX_SMOKE") == "1") else args.epochs
    tgx.manual_seed(0)
    X_train, Y_train, X_test, Y_test = load_data()

    # ---- the notes' snippet -----------------------------------------------------------------
    model = Sequential()
    model.add(Dense(output_dim=64, input_dim=100))
    model.add(Activation("relu"))
    model.add(Dense(output_dim=10))
    model.add(Activation("softmax"))
    model.compile(loss="categorical_crossentropy", optimizer="sgd", metrics=["accuracy"])
    model.fit(X_train, Y_train, nb_epoch=nb_epoch, batch_size=32, verbose=2)
    loss_and_metrics = model.evaluate(X_test, Y_test, batch_size=32)
    # -----------------------------------------------------------------------------------------

    model.summary()
    print(f"test loss {loss_and_metrics[0]:.4f}, test accuracy {loss_and_metrics[1] * 100:.2f}%")
    classes = model.predict(X_test[:10]).argmax(1)
    print("first predictions", classes.tolist(), "truth", Y_test[:10].argmax(1).tolist())
    return loss_and_metrics


if __name__ == "__main__":
    main()
