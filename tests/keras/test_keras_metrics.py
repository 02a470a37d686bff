"""The Keras metrics follow the same edge-case rules as the numpy ones."""

import numpy as np
import pytest

from knoblab import metrics as m
from knoblab.keras import BalancedAccuracy, F1Score, MatthewsCorrelation

CASES = {
    "general": ([1, 1, 1, 1, 1, 0, 0, 0, 0, 0], [0.9, 0.8, 0.7, 0.2, 0.1, 0.6, 0.3, 0.2, 0.1, 0.0]),
    "all zero": ([0] * 8, [0.1] * 8),
    "all one predictions": ([1, 0, 0, 0, 0, 0, 0, 0, 0, 0], [0.9] * 10),
    "no true positive": ([1, 1, 0, 0], [0.1, 0.2, 0.8, 0.9]),
    "rare positives, all zero predictions": ([1] + [0] * 99, [0.0] * 100),
}


@pytest.mark.parametrize("case", list(CASES))
def test_keras_metrics_match_the_numpy_rules(case):
    y_true, y_pred = (np.array(v, dtype="float32") for v in CASES[case])
    for metric, reference in (
        (F1Score(), m.f1_score),
        (MatthewsCorrelation(), m.matthews_corrcoef),
        (BalancedAccuracy(), m.balanced_accuracy),
    ):
        # fed in two batches: the counts accumulate over the epoch
        half = len(y_true) // 2
        metric.update_state(y_true[:half], y_pred[:half])
        metric.update_state(y_true[half:], y_pred[half:])
        assert float(metric.result()) == pytest.approx(reference(y_true, y_pred), abs=1e-6), (case, metric.name)
        metric.reset_state()
        assert float(metric.result()) in (0.0, 1.0)  # empty counts: the documented defaults


def test_usable_in_compile_and_as_a_scan_metric(tiny_data, tmp_path, sqlite_url):
    import knoblab as kl

    from .conftest import keras

    def model_fn(x_train, y_train, x_val, y_val, params):
        model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
        model.compile(
            optimizer=keras.optimizers.Adam(0.05),
            loss="binary_crossentropy",
            metrics=[F1Score(), MatthewsCorrelation(), BalancedAccuracy()],
        )
        return model.fit(x_train, y_train, validation_data=(x_val, y_val), epochs=3, verbose=0), model

    x, y = tiny_data
    s = kl.Scan(
        x,
        y,
        params={"a": [1]},
        model=model_fn,
        experiment_name="f1",
        storage=sqlite_url,
        metric="val_f1",
        objective="best",  # the value of one epoch (the default smooths a maximized metric over 3), to compare
        artifacts_dir=tmp_path,
        n_trials=1,
    )
    assert {"val_f1", "val_mcc", "val_balanced_accuracy"} <= set(s.data.columns)
    best = s.best_model()  # the custom metrics reload in safe mode
    _, _, x_val, y_val = s._data
    assert m.f1_score(y_val, best.predict(x_val, verbose=0)) == pytest.approx(s.best.value, abs=1e-6)
