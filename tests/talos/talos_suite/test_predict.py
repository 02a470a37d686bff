"""Port of Talos' tests/commands/test_predict.py: unchanged but for `import talos` -> `import knoblab.talos as
talos`. The template params and model are knoblab.talos' Keras 3 versions; their epochs (50-150) make it slow."""

import pytest


@pytest.mark.slow
def test_predict():
    print("\n >>> start Predict()...")

    import knoblab.talos as talos

    x, y = talos.templates.datasets.iris()
    p = talos.templates.params.iris()
    model = talos.templates.models.iris

    x = x[:50]
    y = y[:50]

    scan_object = talos.Scan(x=x, y=y, params=p, model=model, experiment_name="test_iris", round_limit=2)

    predict = talos.Predict(scan_object)

    _preds = predict.predict(x, "val_acc", False)
    _preds = predict.predict_classes(x, "val_acc", False, task="multi_label")

    print("finised Predict() \n")

    assert _preds.shape == (50,) and len(scan_object.data) == 2
