"""Tiny data and a tiny Talos-style model function for real Keras training in milliseconds."""

import numpy as np
import pytest

keras = pytest.importorskip("keras")


@pytest.fixture(scope="session")
def tiny_data():
    rng = np.random.default_rng(0)
    x = rng.normal(size=(96, 4)).astype("float32")
    y = (x[:, 0] + 0.5 * x[:, 1] > 0).astype("float32")
    return x, y


def tiny_model(x_train, y_train, x_val, y_val, params):
    """Written as for Talos: build, compile, fit, return (history, model)."""
    model = keras.Sequential(
        [
            keras.Input((x_train.shape[1],)),
            keras.layers.Dense(params.get("units", 4), activation="relu"),
            keras.layers.Dense(1, activation="sigmoid"),
        ]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(params.get("lr", 0.05)), loss="binary_crossentropy", metrics=["accuracy"]
    )
    history = model.fit(
        x_train, y_train, validation_data=(x_val, y_val), epochs=params.get("epochs", 5), batch_size=16, verbose=0
    )
    return history, model


class RecordWeights(keras.callbacks.Callback):
    """Into `seen[trial number]`: the weights when the trial's first epoch begins (after any checkpoint was loaded),
    that epoch's number, and the weights at the end of its last epoch."""

    def __init__(self, seen: dict):
        super().__init__()
        self.seen = seen

    def on_epoch_begin(self, epoch, logs=None):
        import knoblab as kl

        rec = self.seen.setdefault(kl.current_trial().number, {})
        rec.setdefault("start", [np.array(w) for w in self.model.get_weights()])
        rec.setdefault("first_epoch", epoch)

    def on_epoch_end(self, epoch, logs=None):
        import knoblab as kl

        self.seen[kl.current_trial().number]["end"] = [np.array(w) for w in self.model.get_weights()]
