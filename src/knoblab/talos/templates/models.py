"""Talos' template model functions on Keras 3: keras.Input instead of input_dim, learning_rate= instead of lr=,
and talos.utils' metrics, early_stopper, hidden_layers and lr_normalizer. Otherwise as Talos writes them."""

from __future__ import annotations

from typing import Any

__all__ = ["breast_cancer", "cervical_cancer", "titanic", "iris"]


def breast_cancer(x_train, y_train, x_val, y_val, params) -> tuple[Any, Any]:
    """A dense binary classifier with hidden_layers, lr_normalizer and early stopping on val_f1score."""
    from keras import Input
    from keras.layers import Dense, Dropout
    from keras.models import Sequential

    from ..utils import early_stopper, hidden_layers, lr_normalizer
    from ..utils.metrics import f1score, matthews, precision, recall

    model = Sequential()
    model.add(Input((x_train.shape[1],)))
    model.add(Dense(params["first_neuron"], activation="relu"))
    model.add(Dropout(params["dropout"]))
    hidden_layers(model, params, 1)
    model.add(Dense(1, activation=params["last_activation"]))
    model.compile(
        optimizer=params["optimizer"](learning_rate=lr_normalizer(params["lr"], params["optimizer"])),
        loss=params["losses"],
        metrics=["acc", f1score, recall, precision, matthews],
    )
    results = model.fit(
        x_train,
        y_train,
        batch_size=params["batch_size"],
        epochs=params["epochs"],
        verbose=0,
        validation_data=(x_val, y_val),
        callbacks=[early_stopper(params["epochs"], mode="moderate", monitor="val_f1score")],
    )
    return results, model


def cervical_cancer(x_train, y_train, x_val, y_val, params) -> tuple[Any, Any]:
    """The breast_cancer model, for the cervical cancer data."""
    return breast_cancer(x_train, y_train, x_val, y_val, params)


def titanic(x_train, y_train, x_val, y_val, params) -> tuple[Any, Any]:
    """A small dense binary classifier fitted on float32 data."""
    from keras import Input
    from keras.layers import Dense, Dropout
    from keras.models import Sequential

    model = Sequential()
    model.add(Input((x_train.shape[1],)))
    model.add(Dense(params["first_neuron"], activation="relu"))
    model.add(Dropout(params["dropout"]))
    model.add(Dense(1, activation=params["last_activation"]))
    model.compile(optimizer=params["optimizer"], loss=params["losses"], metrics=["acc"])
    out = model.fit(
        x=x_train.astype("float32"),
        y=y_train.astype("float32"),
        batch_size=params["batch_size"],
        epochs=params["epochs"],
        verbose=0,
        validation_data=(x_val.astype("float32"), y_val.astype("float32")),
    )
    return out, model


def iris(x_train, y_train, x_val, y_val, params) -> tuple[Any, Any]:
    """A dense multi-class classifier with hidden_layers, lr_normalizer and a custom early stopper."""
    from keras import Input
    from keras.layers import Dense, Dropout
    from keras.models import Sequential

    from ..utils import early_stopper, hidden_layers, lr_normalizer

    model = Sequential()
    model.add(Input((x_train.shape[1],)))
    model.add(Dense(params["first_neuron"], activation="relu"))
    model.add(Dropout(params["dropout"]))
    hidden_layers(model, params, x_train.shape[1])
    model.add(Dense(y_train.shape[1], activation=params["last_activation"]))
    model.compile(
        optimizer=params["optimizer"](learning_rate=lr_normalizer(params["lr"], params["optimizer"])),
        loss=params["losses"],
        metrics=["acc"],
    )
    out = model.fit(
        x_train,
        y_train,
        batch_size=params["batch_size"],
        epochs=params["epochs"],
        verbose=0,
        validation_data=(x_val, y_val),
        callbacks=[early_stopper(params["epochs"], mode=[1, 1])],
    )
    return out, model
