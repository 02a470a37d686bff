"""The Keras layer is backend-free: the key Keras tests again, on JAX, in a fresh process (a backend is chosen
once per process, at import)."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

pytest.importorskip("jax")

KEY_TESTS = [
    "test_scan.py::test_a_talos_model_function_runs_unchanged",
    "test_scan.py::test_best_model_is_the_best_epochs_model_reloaded",
    "test_scan.py::test_the_callback_stops_training_when_the_trial_is_told_to_stop",
    "test_scan.py::test_wrong_metric_name_fails_loudly_with_the_names_there_are",
    "test_keras_metrics.py",
    "test_weight_history.py::test_one_snapshot_per_batch_plus_the_initial_weights",
]


@pytest.mark.jax
@pytest.mark.slow
def test_key_keras_tests_pass_on_jax(tmp_path):
    here = Path(__file__).parent
    env = {**os.environ, "KERAS_BACKEND": "jax", "JAX_PLATFORMS": "cpu"}
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "--basetemp",
            str(tmp_path / "t"),
            *[str(here / t) for t in KEY_TESTS],
        ],
        env=env,
        cwd=here.parents[1],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    assert "passed" in result.stdout and "failed" not in result.stdout
