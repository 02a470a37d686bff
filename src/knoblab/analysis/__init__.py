"""Analysis of an experiment: what the walkthrough 000 user does by hand between rounds, first-class.

    a = exp.analyze()              # or scan.analyze(); the experiment's current round by default
    a.best                         # the best trials
    a.correlations                 # Spearman's rho of every knob (one-hot for categoricals) with the metric
    a.importances                  # first-order fANOVA on a random-forest surrogate (needs scikit-learn)
    a.per_value                    # count, mean, median, best of the metric per knob value
    a.gaps, a.gap_regression       # training versus validation per trial, overfitting flags, the regression line
    a.entropy, a.kl                # result entropy of the round; KL divergence of validation vs training curves
    a.rounds                       # every round compared: best, median, entropy, p that it beat its parent
    s = a.suggest_space()          # a narrower space, each change explained; s.apply(exp) starts the round
    a.report("report.html")        # one self-contained HTML file
    exp.evaluate_best(3, x_test, y_test)   # the one honest look at a test set the search never saw
    Thresholdout(budget=50).query(train_score, holdout_score)   # a holdout that can be looked at repeatedly

The core imports nothing of this; scikit-learn (importances) and matplotlib (plots, report) come with the
`analysis` extra and are imported only when used.
"""

from __future__ import annotations

import functools
from typing import TYPE_CHECKING, Any

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
    """The analysis of some rounds of an experiment. Each table is computed when first read, then kept."""

    def __init__(
        self,
        exp: Experiment,
        rounds: Any = None,
        *,
        top: int = 10,
        pair: tuple[str, str] | None = None,
        tolerance: float = 0.25,
        seed: int = 0,
    ):
        self.experiment = exp
        self.metric, self.direction = exp.metric, exp.direction
        trials = exp.storage.get_trials(exp.id, with_reports=True)
        if rounds is None:
            rounds = [exp.round]
        elif rounds == "all":
            rounds = sorted({t.round for t in trials})
        elif isinstance(rounds, int):
            rounds = [rounds]
        self.round_numbers = [int(r) for r in rounds]
        self.table: TrialTable = trial_table(trials, exp.space, exp.metric, exp.direction, self.round_numbers)
        self.all_rounds: TrialTable = trial_table(trials, exp.space, exp.metric, exp.direction)
        self.all_rounds.parents = {r["round"]: r["parent"] for r in exp.rounds}  # type: ignore[attr-defined]
        self.top_n, self.tolerance, self.seed = top, tolerance, seed
        self.pair = pair or default_pair(self.table)
        self.n_trials = sum(1 for t in trials if t.round in self.round_numbers)

    # ---- tables ----
    @functools.cached_property
    def best(self) -> pd.DataFrame:
        """The best `top` trials: number, round, value, knobs."""
        idx = self.table.top(self.top_n)
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
        best = t.top(1)[0]
        lines = [
            f"experiment {self.experiment.name!r}, rounds {self.round_numbers}: {len(t)} complete of "
            f"{self.n_trials} trials; best {self.metric} = {t.values[best]:.4g} (trial {best}); "
            f"median {t.values.median():.4g}; result entropy {self.entropy:.2f}",
        ]
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


def analyze(exp: Any, rounds: Any = None, **kwargs: Any) -> Analysis:
    """The analysis of an experiment (or a Scan): `rounds` None for its current round, an int, a list, or "all"."""
    exp = getattr(exp, "experiment", exp)  # a Scan
    return Analysis(exp, rounds, **kwargs)


def suggest_space(exp: Any, rounds: Any = None, **kwargs: Any) -> SpaceSuggestion:
    """A narrower space for the next round of `exp` (an Experiment or a Scan), from its current round's trials."""
    return analyze(exp, rounds).suggest_space(**kwargs)
