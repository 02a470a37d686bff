"""Analysis of an experiment: what the walkthrough 000 user does by hand between rounds, first-class.

    a = exp.analyze()              # or scan.analyze(); the experiment's current round by default
    a.best                         # the best trials
    a.correlations                 # Spearman's rho of every knob (one-hot for categoricals) with the metric
    a.importances                  # first-order fANOVA on a random-forest surrogate (needs scikit-learn)
    a.per_value                    # count, mean, median, best of the metric per knob value
    a.gaps, a.gap_regression       # training versus validation per trial, overfitting flags, the regression line
    a.entropy, a.kl                # result entropy of the round; KL divergence of validation vs training curves
    a.rounds                       # every round compared: best, median, entropy, p that it beat its parent
    a.pareto_front, a.hypervolume  # several objectives: the non-dominated trials, the volume they dominate
    s = a.suggest_space()          # a narrower space, each change explained; s.apply(exp) starts the round
    a.report("report.html")        # one self-contained HTML file
    exp.evaluate_best(3, x_test, y_test)   # the one honest look at a test set the search never saw
    Thresholdout(budget=50).query(train_score, holdout_score)   # a holdout that can be looked at repeatedly

The core imports nothing of this; scikit-learn (importances) and matplotlib (plots, report) come with the
`analysis` extra and are imported only when used.
"""

from __future__ import annotations

import dataclasses
import functools
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from ..reprs import analysis_html
from .evaluate import HoldoutBudgetExhausted, Thresholdout, cross_validate_top, evaluate_best
from .frame import TrialTable, trial_table
from .reduce import Change, SpaceSuggestion, suggest_space_from_table
from .stats import (
    compare_rounds,
    correlations,
    curve_kls,
    default_pair,
    gap_regression,
    importances,
    per_value,
    result_entropy,
    train_val_gap,
)

if TYPE_CHECKING:
    from ..experiment import Experiment

__all__ = [
    "Analysis",
    "analyze",
    "suggest_space",
    "SpaceSuggestion",
    "Change",
    "TrialTable",
    "evaluate_best",
    "cross_validate_top",
    "Thresholdout",
    "HoldoutBudgetExhausted",
]


class Analysis:
    """The analysis of some rounds of an experiment. Each table is computed when first read, then kept.

    With several objectives, the per-knob tables (correlations, importances, per value, ...) are about one of them,
    `metric` (default: the first); `pareto_front` and `hypervolume` are about all of them. `reference_point` bounds
    the hypervolume: default, each objective's worst value among the analysed trials on the front's side of the
    constraints (COMPLETE, feasible), moved outward by 10% of its range (`knoblab.pareto.reference_point`); give one
    (a value per objective, in the metrics' own units, as a dict or in metric order) to compare experiments or
    rounds on the same one. Trials that break an outcome constraint are in the tables (their knobs were measured)
    but never in `best` nor on the front.
    """

    def __init__(
        self,
        exp: Experiment,
        rounds: Any = None,
        *,
        top: int = 10,
        pair: tuple[str, str] | None = None,
        tolerance: float = 0.25,
        seed: int = 0,
        metric: str | None = None,
        reference_point: Mapping[str, float] | Sequence[float] | None = None,
    ):
        self.experiment = exp
        metrics, directions = (
            list(getattr(exp, "metrics", [exp.metric])),
            list(getattr(exp, "directions", [exp.direction])),
        )
        self.objectives = list(zip(metrics, directions))
        if metric is not None and metric not in metrics:
            raise ValueError(f"metric: got {metric!r}; the experiment's objectives are {metrics}")
        self.metric = metric or metrics[0]
        self.direction = directions[metrics.index(self.metric)]
        self._reference = reference_point
        trials = exp.storage.get_trials(exp.id, with_reports=True)
        if len(metrics) > 1:  # the per-knob tables are about one objective: its value as the trial's value
            trials = [_valued(t, self.metric) for t in trials]
        if rounds is None:
            rounds = [exp.round]
        elif rounds == "all":
            rounds = sorted({t.round for t in trials})
        elif isinstance(rounds, int):
            rounds = [rounds]
        self.round_numbers = [int(r) for r in rounds]
        self.table: TrialTable = trial_table(trials, exp.space, self.metric, self.direction, self.round_numbers)
        self.all_rounds: TrialTable = trial_table(trials, exp.space, self.metric, self.direction)
        self.all_rounds.parents = {r["round"]: r["parent"] for r in exp.rounds}  # type: ignore[attr-defined]
        self.top_n, self.tolerance, self.seed = top, tolerance, seed
        self.pair = pair or default_pair(self.table)
        self.n_trials = sum(1 for t in trials if t.round in self.round_numbers)

    # ---- tables ----
    @functools.cached_property
    def best(self) -> pd.DataFrame:
        """The best `top` trials (that meet the outcome constraints) by the metric: number, round, value, knobs.
        With several objectives, by the analysed one (`metric`); see `pareto_front` for all of them."""
        from ..objectives import is_feasible

        feasible = [t.number for t in self.table.trials if is_feasible(t)]
        idx = (
            self.table.subset(feasible).top(self.top_n)
            if len(feasible) < len(self.table)
            else self.table.top(self.top_n)
        )
        out = self.table.knobs.loc[idx, self.table.varying() or list(self.table.knobs.columns)].copy()
        out.insert(0, self.metric, self.table.values.loc[idx])
        out.insert(0, "round", self.table.rounds.loc[idx])
        return out

    @functools.cached_property
    def correlations(self) -> pd.DataFrame:
        return correlations(self.table)

    @functools.cached_property
    def importances(self) -> pd.DataFrame:
        return importances(self.table, seed=self.seed)

    @functools.cached_property
    def per_value(self) -> pd.DataFrame:
        return per_value(self.table)

    @functools.cached_property
    def gaps(self) -> pd.DataFrame:
        return train_val_gap(self.table, self.pair, tolerance=self.tolerance)

    @functools.cached_property
    def gap_regression(self) -> dict[str, float]:
        return gap_regression(self.gaps)

    @functools.cached_property
    def entropy(self) -> float:
        """The result entropy of the analysed trials (over their own range; `rounds` compares on a common one)."""
        return result_entropy(self.table.values.tolist())

    @functools.cached_property
    def kl(self) -> pd.Series:
        return curve_kls(self.table, self.pair)

    @functools.cached_property
    def rounds(self) -> pd.DataFrame:
        return compare_rounds(self.all_rounds)

    # ---- several objectives ----
    @functools.cached_property
    def front_trials(self) -> list:
        """The Pareto front of the analysed rounds (FrozenTrials): COMPLETE trials meeting the outcome constraints
        that no other such trial dominates."""
        from ..objectives import pareto_trials

        trials = [t for t in self.experiment.storage.get_trials(self.experiment.id) if t.round in self.round_numbers]
        return pareto_trials(trials, [d for _, d in self.objectives])

    @functools.cached_property
    def pareto_front(self) -> pd.DataFrame:
        """The Pareto front as a table, one row per trial (indexed by number): round, each objective, the knobs
        that vary; sorted by the first objective, best first."""
        rows = []
        names = [m for m, _ in self.objectives]
        for t in self.front_trials:
            vector = t.values if len(names) > 1 else [t.value]
            rows.append({"number": t.number, "round": t.round, **dict(zip(names, vector)), **t.params})
        df = pd.DataFrame(rows)
        if len(df) == 0:
            return pd.DataFrame(columns=["round", *names]).rename_axis("number")
        knobs = [k for k in df.columns if k not in ("number", "round", *names)]
        varying = [k for k in knobs if df[k].astype(str).nunique() > 1] or knobs
        df = df[["number", "round", *names, *varying]].set_index("number")
        first, direction = self.objectives[0]
        return df.sort_values(first, ascending=direction == "min", kind="stable")

    @functools.cached_property
    def reference_point(self) -> dict[str, float] | None:
        """The point that bounds the hypervolume, in the metrics' own units (None without a COMPLETE trial)."""
        from .. import pareto
        from ..objectives import is_feasible

        names = [m for m, _ in self.objectives]
        dirs = [d for _, d in self.objectives]
        if self._reference is not None:
            ref = self._reference
            values = [ref[m] for m in names] if isinstance(ref, Mapping) else list(ref)
            if len(values) != len(names):
                raise ValueError(f"reference_point: got {ref!r}; give one value per objective {names}")
            return dict(zip(names, map(float, values)))
        rows = _vectors(
            [
                t
                for t in self.experiment.storage.get_trials(self.experiment.id)
                if t.round in self.round_numbers and is_feasible(t)
            ],
            len(names),
        )
        if not rows:
            return None
        point = pareto.reference_point(pareto.losses(rows, dirs))
        sign = np.array([1.0 if d == "min" else -1.0 for d in dirs])
        return dict(zip(names, (point * sign).tolist()))

    @functools.cached_property
    def hypervolume(self) -> float | None:
        """The volume of objective space the Pareto front dominates, bounded by `reference_point` (exact in 2-D and
        3-D, see `knoblab.pareto`); None with one objective or no COMPLETE trial."""
        from .. import pareto

        if len(self.objectives) < 2 or self.reference_point is None:
            return None
        dirs = [d for _, d in self.objectives]
        rows = _vectors(self.front_trials, len(dirs))
        if not rows:
            return 0.0
        ref = [self.reference_point[m] for m, _ in self.objectives]
        return pareto.hypervolume(pareto.losses(rows, dirs), pareto.losses([ref], dirs)[0])

    # ---- acting on it ----
    def suggest_space(self, **kwargs: Any) -> SpaceSuggestion:
        """A narrower space for the next round (see `knoblab.analysis.reduce`)."""
        return suggest_space_from_table(self.table, self.experiment.space, base_round=max(self.round_numbers), **kwargs)

    def figures(self) -> list[tuple[str, Any, str]]:
        """Every plot of the report, in report order: (title, matplotlib figure, caption)."""
        from .report import figures

        return figures(self)

    def report(self, path: str, **kwargs: Any) -> str:
        """Writes the self-contained HTML report; returns its path."""
        from .report import write_report

        return write_report(self, path, **kwargs)

    def summary(self) -> str:
        """A few lines in words."""
        t = self.table
        if len(t) == 0:
            return f"experiment {self.experiment.name!r}: no COMPLETE trial in rounds {self.round_numbers}"
        best = self.best.index[0] if len(self.best) else t.top(1)[0]
        lines = [
            f"experiment {self.experiment.name!r}, rounds {self.round_numbers}: {len(t)} complete of "
            f"{self.n_trials} trials; best {self.metric} = {t.values[best]:.4g} (trial {best}); "
            f"median {t.values.median():.4g}; result entropy {self.entropy:.2f}",
        ]
        if len(self.objectives) > 1:
            ref = ", ".join(f"{m} {v:.4g}" for m, v in (self.reference_point or {}).items())
            lines.append(
                f"Pareto front of {', '.join(f'{d} {m}' for m, d in self.objectives)}: {len(self.front_trials)} "
                f"trials {sorted(t.number for t in self.front_trials)}; hypervolume {self.hypervolume:.4g} "
                f"(reference point {ref})"
            )
        infeasible = sum(1 for x in self.table.trials if x.attrs.get("feasible") is False)
        if infeasible:
            lines.append(f"{infeasible} complete trials break an outcome constraint (never best, never on the front)")
        c = self.correlations.dropna(subset=["rho"]).head(3)
        if len(c):
            lines.append(
                "strongest rank correlations: " + ", ".join(f"{r.feature} {r.rho:+.2f}" for r in c.itertuples())
            )
        g = self.gaps
        if len(g):
            lines.append(
                f"overfitting ({g.attrs['pair'][1]} over {g.attrs['pair'][0]} by > {self.tolerance:.0%}): "
                f"{int(g['overfit'].sum())} of {len(g)} trials"
            )
        return "\n".join(lines)

    def _repr_html_(self) -> str:  # notebooks: see knoblab.reprs
        return analysis_html(self)

    def __repr__(self) -> str:
        return f"Analysis({self.experiment.name!r}, rounds={self.round_numbers}, trials={len(self.table)})"


def _valued(trial: Any, metric: str) -> Any:
    """A trial of a multi-objective experiment with one objective's value as its value (for per-knob tables)."""
    v = trial.metrics.get(metric) if trial.metrics else None
    if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
        return dataclasses.replace(trial, value=float(v))
    return dataclasses.replace(trial, value=None)


def _vectors(trials: Sequence[Any], m: int) -> list[list[float]]:
    """The objective vectors of COMPLETE trials that have them all."""
    out = []
    for t in trials:
        if t.state.value != "COMPLETE":
            continue
        v = t.values if m > 1 else ([t.value] if t.value is not None else None)
        if v is not None and len(v) == m and all(isinstance(x, int | float) and math.isfinite(x) for x in v):
            out.append([float(x) for x in v])
    return out


def analyze(exp: Any, rounds: Any = None, **kwargs: Any) -> Analysis:
    """The analysis of an experiment (or a Scan): `rounds` None for its current round, an int, a list, or "all"."""
    exp = getattr(exp, "experiment", exp)  # a Scan
    return Analysis(exp, rounds, **kwargs)


def suggest_space(exp: Any, rounds: Any = None, **kwargs: Any) -> SpaceSuggestion:
    """A narrower space for the next round of `exp` (an Experiment or a Scan), from its current round's trials."""
    return analyze(exp, rounds).suggest_space(**kwargs)
