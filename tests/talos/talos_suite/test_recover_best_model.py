"""Port of Talos' tests/commands/recover_best_model.py (run by test-ci.py after test_scan, in the folder where it
left its experiment log 'test_q/').

Changed, only where Keras 3 requires it: `tensorflow.keras.*` -> `keras.*`, `Dense(..., input_dim=4)` ->
`Input((4,))` then `Dense(...)`; `import tensorflow` dropped (unused); `import talos` / `from talos...` ->
`knoblab.talos`.
"""

import os

import pytest


@pytest.mark.slow
def test_recover_best_model(scan_object, monkeypatch):
    monkeypatch.chdir(os.path.dirname(scan_object._folder))  # where test_scan ran

    from keras.layers import Dense, Input
    from keras.models import Sequential

    import knoblab.talos as talos
    from knoblab.talos.utils import recover_best_model

    experiment_log = "test_q/" + os.listdir("test_q")[0]

    x, y = talos.templates.datasets.iris()
    input_model = talos.templates.models.iris  # noqa: F841 - as Talos' test

    x = x[:50]
    y = y[:50]

    # define the input model
    def iris_model(x_train, y_train, x_val, y_val, params):
        model = Sequential()
        model.add(Input((4,)))
        model.add(Dense(params["first_neuron"], activation=params["activation"]))

        talos.utils.hidden_layers(model, params, 3)

        model.add(Dense(3, activation="softmax"))
        model.compile(optimizer=params["optimizer"], loss=params["losses"], metrics=["acc"])

        out = model.fit(
            x_train,
            y_train,
            batch_size=params["batch_size"],
            epochs=params["epochs"],
            validation_data=(x_val, y_val),
            verbose=0,
        )

        return out, model

    results, models = recover_best_model(
        x_train=x,
        y_train=y,
        x_val=x,
        y_val=y,
        experiment_log=experiment_log,
        input_model=iris_model,
        metric="acc",
        x_cross=x,
        y_cross=y,
        n_models=5,
        task="multi_label",
    )

    assert len(models) == 5 and results["crossval_mean_f1score"].between(0, 1).all()
    assert list(results["acc"]) == sorted(results["acc"], reverse=True)
