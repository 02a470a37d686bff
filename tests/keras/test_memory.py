"""Trial hygiene: many trials in one process keep memory flat."""

import resource

import pytest

import knoblab as kl

from .conftest import tiny_model


def rss_mb() -> float:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


@pytest.mark.slow
def test_fifty_tiny_trials_keep_memory_growth_bounded(tiny_data, tmp_path, sqlite_url):
    x, y = tiny_data
    marks = {}

    def measure(exp, trial):
        if trial.number in (9, 49):
            marks[trial.number] = rss_mb()

    space = {"units": kl.Int(2, 16), "lr": kl.Real(1e-3, 1e-1, log=True), "epochs": 2}
    s = kl.Scan(
        x,
        y,
        params=space,
        model=tiny_model,
        experiment_name="mem",
        storage=sqlite_url,
        seed=0,
        artifacts_dir=tmp_path,
        keep_models=1,
        run=False,
        metric="val_loss",
    )
    s.experiment.optimize(kl.keras.scan._KerasObjective(s), n_trials=50, callbacks=[measure])
    assert len(s.data) == 50
    # after warm-up, 40 more trials may not grow the process by more than 10 MB (measured: under 1 MB)
    print("RSS MB after trials 10 and 50:", marks)
    assert marks[49] - marks[9] < 10, marks
