"""How the best trial is chosen, and what it does to the test score: the breast-cancer walkthrough (`make demo`).

    python -m bench.selection [--seeds 0 1 2 3 4] [--out bench/results/selection.jsonl]

Per seed (the seed of the scan: its validation split and its search; the test split is the demo's, fixed), one
search as `examples/breast_cancer.py` runs it (600 epochs, Scan's default Hyperband schedule), and the pre-issue-13
demo for comparison (30 full trials of 40 epochs, no scheduler, the raw best epoch). Each rule picks a trial and an
epoch; its score is the test accuracy of that trial's model at that epoch. To read it without retraining, the
benchmark's copy of the model function measures the test accuracy after every epoch into a side table; the
search never sees it (it is not reported, and no decision reads it). Rules:

- `raw max` (the old default): the trial and epoch with the highest single-epoch val_accuracy;
- `smoothed` (the new default, `select="value"`): the best 3-epoch mean val_accuracy among the trials that
  trained in full, ties broken by val_loss; the model at the last epoch of that window;
- `cv` (`select="cv"`, what the demo uses): the top 5 of those by value, retrained with 5-fold cross-validation
  on the development rows; the best CV mean wins, means within one standard error tied and broken by the CV mean
  of val_loss (its model from the search, at its chosen epoch).

Then, for the trial a rule picked, two other final models: `+ refit` (`scan.refit()`: its params trained again on
all development rows for its chosen number of epochs) and, for `cv`, `+ fold ensemble` (the mean prediction of
its 5 cross-validation models, measured here only). And `scan.ensemble(5)`, the mean prediction of the top 5 in
the rule's order: `+ ensemble of 5 refits` (each retrained on all development rows) and `+ ensemble of 5 saved`
(the models as the search saved them); their row's `trial` is the first member, `epoch` -1.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")

import keras  # noqa: E402
import numpy as np  # noqa: E402
from sklearn.datasets import load_breast_cancer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.preprocessing import StandardScaler  # noqa: E402

import knoblab as kl  # noqa: E402
from knoblab.keras import hygiene  # noqa: E402
from knoblab.selection import ranked  # noqa: E402
from knoblab.trial import TrialState  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "examples"))
from breast_cancer import breast_cancer_model, params  # noqa: E402

TEST_ACCURACY: dict[tuple[int, int], float] = {}  # (trial number, epoch) -> test accuracy, for one search
DATA: dict[str, np.ndarray] = {}
FOLD_PREDICTIONS: dict[str, list[np.ndarray]] = {}  # params (as JSON) -> test predictions of its CV fold models


class PeekTest(keras.callbacks.Callback):
    """Measures the test accuracy after each epoch of a trial into TEST_ACCURACY (never reported to the trial)."""

    def on_epoch_end(self, epoch, logs=None):
        trial = kl.current_trial()
        if trial is None:  # a cross-validation fit, not a trial
            return
        p = self.model.predict(DATA["x_test"], verbose=0)[:, 0]
        TEST_ACCURACY[(trial.number, epoch)] = float(np.mean((p >= 0.5) == DATA["y_test"]))


def peeking_model(x_train, y_train, x_val, y_val, p):
    """The demo's model function, with PeekTest added to its fit (through Keras' fit, as the reporter is)."""
    original = keras.Model.fit

    def fit(self, *args, **kwargs):
        kwargs["callbacks"] = [*(kwargs.get("callbacks") or []), PeekTest()]
        return original(self, *args, **kwargs)

    keras.Model.fit = fit
    try:
        history, model = breast_cancer_model(x_train, y_train, x_val, y_val, p)
    finally:
        keras.Model.fit = original
    if kl.current_trial() is None and len(y_train) < len(DATA["y_dev"]):  # a CV fit: its model, weights restored
        FOLD_PREDICTIONS.setdefault(json.dumps(p, sort_keys=True), []).append(test_probabilities(model))
    return history, model


def test_probabilities(model) -> np.ndarray:
    return model.predict(DATA["x_test"], verbose=0)[:, 0]


def accuracy(p: np.ndarray) -> float:
    return float(np.mean((p >= 0.5) == DATA["y_test"]))


def data():
    x, y = load_breast_cancer(return_X_y=True)
    x_dev, x_test, y_dev, y_test = train_test_split(x, y, test_size=0.2, random_state=0, stratify=y)
    scaler = StandardScaler().fit(x_dev)
    x_dev, x_test = scaler.transform(x_dev).astype("float32"), scaler.transform(x_test).astype("float32")
    return x_dev, y_dev.astype("float32"), x_test, y_test.astype("float32")


def raw_max(exp) -> tuple[int, int]:
    """The old rule: the single epoch with the highest val_accuracy, over every COMPLETE trial."""
    best = None
    for t in exp.storage.get_trials(exp.id, states=(TrialState.COMPLETE,), with_reports=True):
        for step, m in t.reports:
            if best is None or m["val_accuracy"] > best[0]:
                best = (m["val_accuracy"], t.number, step)
    return best[1], best[2]


def chosen(trial) -> tuple[int, int]:
    return trial.number, int(trial.metrics["best_epoch"])


class _Picked:
    """A stand-in for a Scan whose best is the trial a rule picked, to call `Scan.refit` on it."""

    def __init__(self, scan, trial):
        self.__dict__.update(scan.__dict__)
        self.experiment = _Best(scan.experiment, trial)


class _Best:
    def __init__(self, exp, trial):
        self.best = trial
        self.exp = exp

    def __getattr__(self, name):
        return getattr(self.exp, name)


def run_seed(seed: int, folder: Path, budget: int, cv: tuple[int, int] = (5, 5), old_trials: int = 30) -> list[dict]:
    x_dev, y_dev, x_test, y_test = data()
    DATA.update(x_test=x_test, y_test=y_test, y_dev=y_dev)
    FOLD_PREDICTIONS.clear()
    common = dict(
        params=params,
        val_split=0.3,
        metric="val_accuracy",
        direction="max",
        stop=[kl.keras.Patience("val_loss", patience=8, min_delta=1e-4), kl.keras.StopOnNaN()],
        storage=f"sqlite:///{folder / 'k.db'}",
        seed=seed,
        show_progress=False,
        artifacts_dir=folder / f"art{seed}",
        keep_models=5,  # for the ensemble of saved models (which models are kept changes nothing in the search)
    )
    rows = []
    # the new default, as the demo runs it
    TEST_ACCURACY.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    scan = kl.Scan(x_dev, y_dev, model=peeking_model, experiment_name=f"new{seed}", epoch_budget=budget, **common)
    search_s = time.perf_counter() - wall
    exp = scan.experiment
    picks = {"raw max": raw_max(exp), "smoothed": chosen(ranked(exp.trials, exp.metric, exp.direction)[0])}
    ensembles = {}
    for name, refit in (("smoothed + ensemble of 5 refits", True), ("smoothed + ensemble of 5 saved", False)):
        members = scan.ensemble(5, refit=refit)
        ensembles[name] = ((members.numbers[0], -1), accuracy(members.predict(x_test, verbose=0)[:, 0]))
    scan.cross_validate(*cv)
    members = scan.ensemble(5)
    ensembles["cv + ensemble of 5 refits"] = (
        (members.numbers[0], -1),
        accuracy(members.predict(x_test, verbose=0)[:, 0]),
    )
    picks["cv"] = chosen(scan.best)
    seconds, cpu_s = time.perf_counter() - wall, time.process_time() - cpu
    finals = {}
    for rule in ("smoothed", "cv"):
        trial = exp.trial(picks[rule][0], with_reports=False)
        # refit the trial the rule picked (scan.refit refits the best, which is the cv pick now)
        refit = kl.Scan.refit.__get__(_Picked(scan, trial))()
        finals[f"{rule} + refit"] = (picks[rule], accuracy(test_probabilities(refit)))
    folds = FOLD_PREDICTIONS.get(json.dumps(scan.best.params, sort_keys=True), [])[-cv[1] :]
    if folds:
        finals["cv + fold ensemble"] = (picks["cv"], accuracy(np.mean(folds, axis=0)))
    scores = {rule: (pick, TEST_ACCURACY[pick]) for rule, pick in picks.items()} | finals | ensembles
    for rule, ((number, epoch), test) in scores.items():
        rows.append(
            {
                "seed": seed,
                "search": f"default schedule, epoch_budget={budget}",
                "rule": rule,
                "trial": number,
                "epoch": epoch,
                "params": exp.trial(number, with_reports=False).params,
                "val_accuracy": exp.trial(number, with_reports=False).value,
                "test_accuracy": test,
                "trials": len(exp.trials),
                "epochs": exp.resource_spent,
                "search_s": round(search_s, 1),
                "total_s": round(seconds, 1),
                "cpu_s": round(cpu_s, 1),
            }
        )
    if not old_trials:
        return _with_baseline(rows, x_dev, y_dev, x_test, y_test)
    # the demo before issue 13: 30 full trials, the raw best epoch of the best trial
    TEST_ACCURACY.clear()
    wall, cpu = time.perf_counter(), time.process_time()
    old = kl.Scan(
        x_dev,
        y_dev,
        model=peeking_model,
        experiment_name=f"old{seed}",
        n_trials=old_trials,
        objective="best",
        scheduler=None,
        **common,
    )
    number, epoch = chosen(old.best)
    rows.append(
        {
            "seed": seed,
            "search": "30 full trials (the old demo)",
            "rule": "raw max",
            "trial": number,
            "epoch": epoch,
            "params": old.best.params,
            "val_accuracy": old.best.value,
            "test_accuracy": TEST_ACCURACY[(number, epoch)],
            "trials": len(old.data),
            "epochs": old.experiment.resource_spent,
            "search_s": round(time.perf_counter() - wall, 1),
            "total_s": round(time.perf_counter() - wall, 1),
            "cpu_s": round(time.process_time() - cpu, 1),
        }
    )
    return _with_baseline(rows, x_dev, y_dev, x_test, y_test)


def _with_baseline(rows, x_dev, y_dev, x_test, y_test):
    baseline = LogisticRegression(max_iter=1000).fit(x_dev, y_dev).score(x_test, y_test)
    for row in rows:
        row["logistic_regression"] = round(float(baseline), 4)
        row["load"] = round(os.getloadavg()[0], 1)
    return rows


def report(paths: list[str]) -> str:
    """A markdown table: per search and rule, the test accuracy of each seed, their mean ± standard error."""
    rows = [json.loads(line) for p in paths for line in Path(p).read_text().splitlines() if line.strip()]
    latest = {}
    for r in rows:  # a later run of the same seed, search and rule replaces an earlier one
        latest[(r["search"], r["rule"], r["seed"])] = r
    seeds = sorted({k[2] for k in latest})
    out = ["| search | rule | " + " | ".join(f"seed {s}" for s in seeds) + " | mean ± s.e. | >= 0.97 |"]
    out.append("|" + " --- |" * (len(seeds) + 4))
    for search, rule in dict.fromkeys((k[0], k[1]) for k in latest):
        tests = [latest.get((search, rule, s), {}).get("test_accuracy") for s in seeds]
        have = np.array([t for t in tests if t is not None])
        se = have.std(ddof=1) / np.sqrt(len(have)) if len(have) > 1 else float("nan")
        cells = " | ".join("" if t is None else f"{t:.3f}" for t in tests)
        out.append(
            f"| {search} | {rule} | {cells} | {have.mean():.3f} ± {se:.3f} | {int((have >= 0.97).sum())}/{len(have)} |"
        )
    lr = {r["logistic_regression"] for r in rows}
    out.append(f"\nLogisticRegression (untuned) on the same split: {', '.join(f'{v:.3f}' for v in sorted(lr))}")
    return "\n".join(out)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2, 3, 4])
    ap.add_argument("--budget", type=int, default=600)
    ap.add_argument("--old-trials", type=int, default=30, help="trials of the pre-issue-13 demo (0: skip it)")
    ap.add_argument("--out", default="bench/results/selection.jsonl")
    ap.add_argument("--report", nargs="+", metavar="JSONL", help="print the table of these results and exit")
    args = ap.parse_args()
    if args.report:
        print(report(args.report))
        return
    hygiene.limit_threads(1)
    for seed in args.seeds:
        with tempfile.TemporaryDirectory() as folder:
            rows = run_seed(seed, Path(folder), args.budget, old_trials=args.old_trials)
        with open(args.out, "a") as f:
            for row in rows:
                f.write(json.dumps(row) + "\n")
                print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
