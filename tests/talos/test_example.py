"""examples/talos_iris.py runs, narrows, deploys, and a second run trains nothing again."""

import runpy
from pathlib import Path

import pytest

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "talos_iris.py"


@pytest.mark.slow
def test_the_talos_example_runs_and_a_rerun_continues(capsys):
    main = runpy.run_path(str(EXAMPLE), run_name="talos_iris")["main"]
    scan = main(epochs=2, fraction_limit=0.002)  # 16 of 8,000 permutations
    out = capsys.readouterr().out
    assert len(scan.data) == 16 and "16 rounds; best val_acc" in out
    assert "held-out F1 of the best round" in out and "restored from iris_deploy.zip" in out
    assert set(scan.data["optimizer"]) <= {"Adam", "Adagrad"} and set(scan.data["activation"]) <= {"relu", "elu"}
    trials = len(scan.experiment.trials)
    again = main(epochs=2, fraction_limit=0.002)
    assert (
        len(again.experiment.trials) == trials
        and "talos: experiment 'iris' continues (16 of 16" in capsys.readouterr().out
    )
