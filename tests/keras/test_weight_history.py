"""WeightHistory keeps the expected snapshots, in bounded memory."""

import numpy as np
import pytest

from knoblab.keras import WeightHistory

from .conftest import keras


def fit(callback, epochs=3, n=32, batch_size=8):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(n, 1)).astype("float32")
    y = (3 * x + 1).astype("float32")
    model = keras.Sequential([keras.Input((1,)), keras.layers.Dense(1, name="line")])
    model.compile(optimizer=keras.optimizers.SGD(0.05), loss="mse")
    initial = [w.copy() for w in model.get_weights()]
    model.fit(x, y, epochs=epochs, batch_size=batch_size, verbose=0, callbacks=[callback], shuffle=False)
    return model, initial


def test_one_snapshot_per_batch_plus_the_initial_weights():
    wh = WeightHistory(every="batch")
    model, initial = fit(wh)
    assert len(wh.snapshots) == 1 + 3 * (32 // 8)
    assert wh.steps[0] == (0, -1) and wh.steps[1] == (0, 0) and wh.steps[-1] == (2, 3)
    kernel = wh.series("line", 0)
    assert kernel.shape == (13, 1, 1)
    np.testing.assert_array_equal(kernel[0], initial[0])
    np.testing.assert_allclose(kernel[-1], model.get_weights()[0])
    assert len(set(kernel.ravel().tolist())) == 13  # every step moved the weight


def test_one_snapshot_per_epoch():
    wh = WeightHistory(every="epoch", include_initial=False)
    fit(wh, epochs=5)
    assert len(wh.snapshots) == 5 and wh.steps == [(e, -1) for e in range(5)]


def test_memory_cap_thins_the_path_evenly():
    wh = WeightHistory(every="batch", max_snapshots=5)
    model, initial = fit(wh, epochs=3)  # 13 steps recorded at full resolution
    assert 3 <= len(wh.snapshots) <= 5
    assert wh.stride in (2, 4)
    np.testing.assert_array_equal(wh.series("line")[0], initial[0])  # the start of the path stays
    assert wh.nbytes <= 5 * 8


def test_byte_cap():
    wh = WeightHistory(every="batch", max_bytes=4 * 8)  # a snapshot is 8 bytes (kernel + bias)
    fit(wh)
    assert len(wh.snapshots) <= 4


def test_layers_by_name_and_a_wrong_name():
    wh = WeightHistory(layers=["nope"])
    with pytest.raises(ValueError, match="nope.*line"):
        fit(wh)
    with pytest.raises(ValueError, match="every"):
        WeightHistory(every="step")
