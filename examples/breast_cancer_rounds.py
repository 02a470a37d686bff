"""Walkthrough 000's loop, first-class: scan broadly, read the analysis, narrow the space, scan again.

Round 0 is the broad breast-cancer scan of examples/breast_cancer.py. After each round the analysis proposes a
narrower space (values reliably worse are dropped: one-sided Mann-Whitney tests, Holm-corrected), searched
with TPE that learns from round 0's trials inside it. The script accepts the suggestion as it is; in a notebook
you would read it first, and edit `suggestion.space` or `suggestion.reject("knob")`. Every round is stored with its lineage; the test set stays out of all of it and is scored once, at the end.

    python examples/breast_cancer_rounds.py        # results in ./knoblab.db
    knoblab report breast_cancer_rounds --rounds all -o rounds.html
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")
sys.path.insert(0, str(Path(__file__).resolve().parent))

from breast_cancer import breast_cancer_model, params  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import knoblab as kl  # noqa: E402

# Round 0 starts broad, as the walkthrough does ("start as simple and broad as possible"): learning rates on a
# log sweep from 1e-5 to 0.1, 20 epochs (a round takes a few minutes on 2 cores). The loss is fixed to binary
# cross-entropy (the walkthrough settles on it after its first round) so that the metric can be the validation
# loss at the best epoch: it ranks trials finely, where accuracy on 136 validation rows moves in steps of 0.7% and
# ties a lot, which leaves the tests that drop values (one-sided Mann-Whitney, Holm-corrected) little to go on.
BROAD = {
    **params,
    "lr": [0.00001, 0.0001, 0.001, 0.01, 0.1],
    "dropout": (0.0, 0.5, 3),
    "batch_size": [32, 64, 128],  # larger batches than examples/breast_cancer.py: quicker epochs
    "loss": "binary_crossentropy",
    "epochs": 20,
}


def data():
    """(x_dev, y_dev, x_test, y_test): the test set split off first, as in examples/breast_cancer.py."""
    x, y = load_breast_cancer(return_X_y=True)
    x_dev, x_test, y_dev, y_test = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_dev)
    return (
        scaler.transform(x_dev).astype("float32"),
        y_dev.astype("float32"),
        scaler.transform(x_test).astype("float32"),
        y_test.astype("float32"),
    )


def main(
    trials_per_round: tuple[int, ...] = (24, 36),
    storage: str | None = None,
    experiment_name: str = "breast_cancer_rounds",
    export_to: str | None = None,
) -> kl.Scan:
    x_dev, y_dev, x_test, y_test = data()
    space = dict(BROAD)

    def scan_round(space, n_trials, strategy):
        return kl.Scan(
            x_dev,
            y_dev,
            params=space,
            model=breast_cancer_model,
            experiment_name=experiment_name,
            val_split=0.3,
            n_trials=n_trials,
            metric="val_loss",
            direction="min",
            strategy=strategy,
            stop=[kl.keras.Patience("val_loss", patience=5, min_delta=1e-4), kl.keras.StopOnNaN()],
            storage=storage,
            seed=0,
        )

    scan = scan_round(space, trials_per_round[0], "random")  # round 0 explores evenly
    for n_trials in trials_per_round[1:]:
        analysis = scan.analyze()
        print(f"\n== round {scan.experiment.round} ==\n{analysis.summary()}")
        suggestion = analysis.suggest_space()
        print(suggestion)
        if not suggestion.changed:
            print("the data show nothing reliably worse: no narrower round")
            break
        # a rerun of this script finds the round already there. warm_start: the model-based strategy of the next
        # round also learns from the earlier trials that lie inside the narrower space
        suggestion.apply(scan.experiment, warm_start=True)
        scan = scan_round(suggestion.space, n_trials, "tpe")

    print("\n== rounds compared ==")
    print(scan.analyze("all").rounds.to_string(index=False, float_format=lambda v: f"{v:.4g}"))
    # the one look at the test set, after every decision was taken
    scores = scan.evaluate_best(3, x_test, y_test)
    print("\nthe best 3 on the held-out test set:\n" + scores.to_string(index=False, float_format=lambda v: f"{v:.4f}"))
    if export_to:
        print(f"best model exported to {scan.experiment.export_best(export_to, overwrite=True)}")
    print(f"report: knoblab report {experiment_name} --rounds all")
    return scan


if __name__ == "__main__":
    main()
