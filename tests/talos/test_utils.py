"""talos.utils on Keras 3: the metric functions against numpy, hidden layers and shapes, lr_normalizer,
early_stopper, generators, data splits and the GPU helpers (on a machine without a GPU)."""

import numpy as np
import pytest

import knoblab.talos as talos
from knoblab.talos.exceptions import TalosModelError, TalosParamsError
from knoblab.talos.utils import metrics
from knoblab.talos.utils.network import network_shape

from .conftest import keras


def _value(fn, y_true, y_pred, **kw):
    return float(keras.ops.convert_to_numpy(fn(np.asarray(y_true, "float32"), np.asarray(y_pred, "float32"), **kw)))


def test_classification_metrics_equal_their_definitions_on_a_batch():
    y_true = np.array([1, 1, 1, 0, 0, 0, 1, 0])
    y_pred = np.array([0.9, 0.6, 0.2, 0.7, 0.1, 0.3, 0.8, 0.4])  # rounded: 1 1 0 1 0 0 1 0
    tp, fp, fn, tn = 3, 1, 1, 3
    p, r = tp / (tp + fp), tp / (tp + fn)
    assert _value(metrics.precision, y_true, y_pred) == pytest.approx(p, abs=1e-6)
    assert _value(metrics.recall, y_true, y_pred) == pytest.approx(r, abs=1e-6)
    assert _value(metrics.f1score, y_true, y_pred) == pytest.approx(2 * p * r / (p + r), abs=1e-6)
    assert _value(metrics.fbeta, y_true, y_pred, beta=2) == pytest.approx(5 * p * r / (4 * p + r), abs=1e-6)
    mcc = (tp * tn - fp * fn) / np.sqrt((tp + fp) * (tp + fn) * (tn + fp) * (tn + fn))
    assert _value(metrics.matthews, y_true, y_pred) == pytest.approx(mcc, abs=1e-6)
    with pytest.raises(ValueError, match="fbeta: got beta=-1"):
        metrics.fbeta(y_true, y_pred, beta=-1)


def test_no_positive_in_the_batch_gives_zero_not_a_division_by_zero():
    assert _value(metrics.f1score, [0, 0, 0], [0.1, 0.2, 0.3]) == 0.0
    assert _value(metrics.matthews, [0, 0, 0], [0.1, 0.2, 0.3]) == 0.0


def test_regression_metrics_per_sample():
    y_true, y_pred = np.array([[1.0, 2.0], [3.0, 5.0]]), np.array([[2.0, 2.0], [1.0, 5.0]])
    mae = np.abs(y_pred - y_true).mean(-1)
    mse = ((y_pred - y_true) ** 2).mean(-1)
    out = {f.__name__: keras.ops.convert_to_numpy(f(y_true, y_pred)) for f in (metrics.mae, metrics.mse, metrics.rmse)}
    np.testing.assert_allclose(out["mae"], mae)
    np.testing.assert_allclose(out["mse"], mse)
    np.testing.assert_allclose(out["rmse"], np.sqrt(mse))
    np.testing.assert_allclose(keras.ops.convert_to_numpy(metrics.rmae(y_true, y_pred)), np.sqrt(mae))
    mape = 100 * (np.abs(y_true - y_pred) / np.abs(y_true)).mean(-1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(metrics.mape(y_true, y_pred)), mape, rtol=1e-5)
    msle = ((np.log(y_pred + 1) - np.log(y_true + 1)) ** 2).mean(-1)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(metrics.msle(y_true, y_pred)), msle, rtol=1e-5)
    np.testing.assert_allclose(keras.ops.convert_to_numpy(metrics.rmsle(y_true, y_pred)), np.sqrt(msle), rtol=1e-5)


def test_a_model_compiled_with_them_saves_and_loads_without_custom_objects(tmp_path):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1, activation="sigmoid")])
    model.compile("adam", "binary_crossentropy", metrics=["acc", metrics.f1score, metrics.matthews])
    x, y = np.random.default_rng(0).random((16, 3)), np.arange(16) % 2
    history = model.fit(x, y, epochs=1, verbose=0)
    assert {"f1score", "matthews"} <= set(history.history)
    model.save(tmp_path / "m.keras")
    again = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_allclose(again.predict(x, verbose=0), model.predict(x, verbose=0))


@pytest.mark.parametrize(
    "shape, layers, widths",
    [
        ("brick", 3, [32, 32, 32]),
        ("funnel", 3, [22, 12, 2]),  # an even step of (32 - 2) // 3 = 10 down
        ("triangle", 3, [9, 17, 24]),  # linspace(32, 2, 5) = 32, 24, 17, 9, 2: the inner ones, reversed
        (0.5, 3, [16, 8, 4]),
        (0.9, 2, [3, 2]),  # never below last_neuron
        ("brick", 0, [0]),
    ],
)
def test_network_shapes(shape, layers, widths):
    assert network_shape({"hidden_layers": layers, "shapes": shape, "first_neuron": 32}, 2) == widths


def test_hidden_layers_adds_dense_and_dropout_pairs():
    model = keras.Sequential([keras.Input((4,))])
    params = {"shapes": "funnel", "first_neuron": 16, "dropout": 0.25, "hidden_layers": 2, "activation": "relu"}
    talos.utils.hidden_layers(model, params, 4)
    kinds = [type(layer).__name__ for layer in model.layers]
    assert kinds == ["Dense", "Dropout", "Dense", "Dropout"]
    assert [layer.units for layer in model.layers[::2]] == [10, 4]
    assert model.layers[1].rate == 0.25
    with pytest.raises(TalosParamsError, match="hidden_layers requires 'shapes' in params"):
        talos.utils.hidden_layers(model, {"first_neuron": 4}, 1)
    with pytest.raises(TalosParamsError, match="'shapes': got 'circle'"):
        network_shape({"hidden_layers": 1, "shapes": "circle", "first_neuron": 4}, 1)


def test_lr_normalizer_scales_by_optimizer_class_or_instance():
    from keras import optimizers as o

    assert talos.utils.lr_normalizer(1.0, o.Adam) == 1e-3
    assert talos.utils.lr_normalizer(1.0, o.Adam()) == 1e-3  # the backend's Adam subclass
    assert talos.utils.lr_normalizer(2.0, o.SGD) == 0.02
    assert talos.utils.lr_normalizer(1.0, o.Adagrad) == 0.01
    assert talos.utils.lr_normalizer(1.0, o.RMSprop) == 1e-3
    assert talos.utils.lr_normalizer(5.0, o.Adamax) == 0.01
    for bad in ("test", o.AdamW, o.Nadam):
        with pytest.raises(TalosModelError, match="lr_normalizer: .* is not supported"):
            talos.utils.lr_normalizer(1.0, bad)


@pytest.mark.parametrize(
    "kwargs, patience, min_delta",
    [
        ({"epochs": 30, "mode": "lazy"}, 10, 0),
        ({"epochs": 30}, 3, 0),
        ({"epochs": 30, "mode": "strict"}, 2, 0),
        ({"mode": [0.01, 4]}, 4, 0.01),
        ({"mode": None, "min_delta": 0.1, "patience": 7}, 7, 0.1),
    ],
)
def test_early_stopper_presets(kwargs, patience, min_delta):
    cb = talos.utils.early_stopper(monitor="val_acc", **kwargs)
    assert isinstance(cb, keras.callbacks.EarlyStopping)
    assert (cb.patience, abs(cb.min_delta), cb.monitor) == (patience, min_delta, "val_acc")


def test_early_stopper_says_what_it_needs():
    with pytest.raises(ValueError, match="mode='moderate' needs epochs"):
        talos.utils.early_stopper()
    with pytest.raises(ValueError, match="mode='fast'"):
        talos.utils.early_stopper(10, mode="fast")


def test_generators_feed_fit():
    x, y = np.arange(50, dtype=float).reshape(25, 2), np.arange(25) % 2
    batches = talos.utils.generator(x, y, 10)
    sizes = [len(next(batches)[0]) for _ in range(4)]
    assert sizes == [10, 10, 5, 10]  # the last, short batch, then round again
    seq = talos.utils.SequenceGenerator(x, y, 10)
    assert len(seq) == 3 and len(seq[2][0]) == 5
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile("adam", "LogCosh")
    assert len(model.fit(talos.utils.generator(x, y, 10), steps_per_epoch=5, verbose=0).history["loss"]) == 1
    assert len(model.fit(seq, epochs=2, verbose=0).history["loss"]) == 2


def test_val_split_kfold_and_rescale():
    x, y = np.arange(20).reshape(10, 2), np.arange(10)
    x_train, y_train, x_val, y_val = talos.utils.val_split(x, y, 0.3, seed=1)
    assert len(x_train) == 7 and len(x_val) == 3
    np.testing.assert_array_equal(x_train[:, 0] // 2, y_train)  # rows kept together
    assert sorted(np.concatenate([y_train, y_val])) == list(range(10))
    x_train, y_train, _, y_val = talos.utils.val_split(x, y, 0.3, shuffled=False)
    assert list(y_val) == [7, 8, 9]
    kx, ky = talos.utils.kfold(x, y, folds=3, shuffled=False)
    assert [list(f) for f in ky] == [[0, 1, 2], [3, 4, 5], [6, 7, 8]]  # the remainder (9) is left out, as Talos
    scaled = talos.utils.rescale_meanzero(x)
    np.testing.assert_allclose(scaled.mean(0), 0, atol=1e-12)
    np.testing.assert_allclose(scaled.std(0, ddof=1), 1)
    with pytest.raises(TypeError, match="For multi-input x, set multi_input to True"):
        talos.utils.kfold([x, x], y, 2)
    mx, _ = talos.utils.kfold([x, x], y, 2, multi_input=True)
    assert len(mx) == 2 and len(mx[0]) == 2


def test_gpu_helpers_without_a_gpu():
    talos.utils.gpu_utils.parallel_gpu_jobs(fraction=0.5)  # nothing to share: changes nothing
    with pytest.raises(ValueError, match="fraction must be in"):
        talos.utils.gpu_utils.parallel_gpu_jobs(fraction=2)
    with pytest.raises(NotImplementedError, match="Keras 3 has no multi_gpu_model"):
        talos.utils.gpu_utils.multi_gpu(None)


def test_torch_history_and_power_draw_append():
    h = talos.utils.TorchHistory()
    h.append_loss(0.5)
    h.append_val_loss(0.7)
    h.append_metric(0.1)
    assert h.history == {"loss": [0.5], "val_loss": [0.7], "metric": [0.1]}

    class Draw:
        log = {"epoch_begin": [100.0, 110.0], "epoch_end": [120.0, 130.0], "seconds": [2.0, 3.0]}

    class History:
        history = {"loss": [0.3, 0.2]}

    out = talos.utils.power_draw_append(History(), Draw()).history
    assert out["watts_min"] == [100.0] and out["watts_max"] == [130.0] and out["seconds"] == [5.0]
    assert out["Ws"] == [110.0 * 2 + 120.0 * 3]


def test_power_draw_needs_nvidia_smi(monkeypatch):
    monkeypatch.setenv("PATH", "")
    with pytest.raises(RuntimeError, match="PowerDraw reads GPU power with nvidia-smi"):
        talos.callbacks.PowerDraw()
