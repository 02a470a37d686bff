"""Walkthrough 001, the hyperopt way: the walkthrough's `hp.*` search space (one or two LSTM layers, one or two
dense layers, each second layer with knobs of its own) and a hyperopt objective, run by `kl.fmin` with only the
import of fmin changed. Every trial is stored as it ends (the walkthrough lost a day of results for want of
logging): rerun the script and it continues; `knoblab show sunspots_hyperopt` shows it.

The series is the yearly sunspot numbers that ship with statsmodels; the last 25% of the years validate.

    python examples/hyperopt_lstm.py
"""

from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import statsmodels.api as sm  # noqa: E402
from hyperopt import STATUS_OK, hp, space_eval, tpe  # noqa: E402

import knoblab as kl  # noqa: E402
from knoblab.compat.hyperopt import Trials  # noqa: E402

EPOCHS = int(os.environ.get("KNOBLAB_EXAMPLE_EPOCHS", 15))

# the walkthrough's space (smaller values: a yearly series is short)
search_space = {
    "batch_size": hp.choice("bs", [16, 32]),
    "time_steps": hp.choice("ts", [6, 12, 18]),
    "lstm1_nodes": hp.choice("units_lsmt1", [16, 32, 64]),
    "lstm1_dropouts": hp.uniform("dos_lstm1", 0, 0.5),
    "lstm_layers": hp.choice(
        "num_layers_lstm",
        [
            {"layers": "one"},
            {
                "layers": "two",
                "lstm2_nodes": hp.choice("units_lstm2", [8, 16]),
                "lstm2_dropouts": hp.uniform("dos_lstm2", 0, 0.5),
            },
        ],
    ),
    "dense_layers": hp.choice(
        "num_layers_dense", [{"layers": "one"}, {"layers": "two", "dense2_nodes": hp.choice("units_dense", [4, 8])}]
    ),
    "lr": hp.loguniform("lr", np.log(1e-3), np.log(3e-2)),
    "optimizer": hp.choice("optmz", ["adam", "rmsprop"]),
}


def series() -> np.ndarray:
    values = sm.datasets.sunspots.load_pandas().data["SUNACTIVITY"].to_numpy()
    return (values / values.max()).astype("float32")


class ReportEpochs(keras.callbacks.Callback):
    """Stores each epoch's losses with the running knoblab trial (so a killed run keeps its curves)."""

    def on_epoch_end(self, epoch, logs=None):
        trial = kl.current_trial()
        if trial is not None:
            trial.report(epoch, **{k: float(v) for k, v in (logs or {}).items()})


def objective(params: dict) -> dict:
    """A hyperopt objective, as the walkthrough writes it: build the data and the model from the nested params."""
    data, steps = series(), params["time_steps"]
    x = np.stack([data[i : i + steps] for i in range(len(data) - steps)])[..., None]
    y = data[steps:]
    split = int(len(x) * 0.75)
    two = params["lstm_layers"]["layers"] == "two"
    model = keras.Sequential([keras.Input((steps, 1))])
    model.add(keras.layers.LSTM(params["lstm1_nodes"], dropout=params["lstm1_dropouts"], return_sequences=two))
    if two:
        model.add(
            keras.layers.LSTM(params["lstm_layers"]["lstm2_nodes"], dropout=params["lstm_layers"]["lstm2_dropouts"])
        )
    if params["dense_layers"]["layers"] == "two":
        model.add(keras.layers.Dense(params["dense_layers"]["dense2_nodes"], activation="relu"))
    model.add(keras.layers.Dense(1))
    optimizer = {"adam": keras.optimizers.Adam, "rmsprop": keras.optimizers.RMSprop}[params["optimizer"]]
    model.compile(optimizer=optimizer(params["lr"]), loss="mse")
    history = model.fit(
        x[:split], y[:split], validation_data=(x[split:], y[split:]), epochs=EPOCHS,
        batch_size=params["batch_size"], verbose=0, shuffle=False, callbacks=[ReportEpochs()],
    )  # fmt: skip
    val_loss = float(min(history.history["val_loss"]))
    # Hyperas-style: the model rides along in the result (kept in memory, never stored)
    return {"loss": val_loss, "status": STATUS_OK, "train_loss": float(history.history["loss"][-1]), "model": model}


def main(storage: str | None = "sqlite:///knoblab.db", max_evals: int = 20) -> dict:
    trials = Trials(name="sunspots_hyperopt", storage=storage)
    best = kl.fmin(objective, search_space, algo=tpe.suggest, max_evals=max_evals, trials=trials,
                   rstate=np.random.default_rng(0))  # fmt: skip
    point = space_eval(search_space, best)
    print(f"sunspots_hyperopt: {len(trials)} trials, best validation mse {trials.best_trial['result']['loss']:.5f}")
    print("best point:", point)
    model = trials.best_trial["result"].get("model")  # present for the trials this process ran
    if model is not None:
        print("best model:", model.count_params(), "weights")
    return point


if __name__ == "__main__":
    main()
