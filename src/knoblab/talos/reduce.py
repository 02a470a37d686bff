"""In-scan narrowing, as Talos' `reduction_method`: every `reduction_interval` rounds a reducer reads the last
`reduction_window` rounds and may drop one value of one knob; the scan then goes on in a new knoblab round whose
space lacks it (`knoblab.analysis.rounds.start_round`, warm-started so nothing already run runs again).

- 'correlation' (= 'spearman'), 'pearson', 'kendall': each value of each knob becomes a 0/1 column over the
  window; the value whose column correlates most with worse `reduction_metric` (higher when minimize_loss, lower
  otherwise) is dropped, if that correlation reaches `reduction_threshold` (Spearman's rho from
  knoblab.analysis.stats; Pearson's r and Kendall's tau from scipy).
- 'forrest' (a random forest on the metric) and 'trees' (extra trees on "the metric is in its top 20%"): as in
  Talos, the value that explains least of the metric is dropped: its first-order importance
  (knoblab.analysis.stats.first_order_importance) over the same 0/1 columns is the smallest. Values present in
  every round of the window say nothing and are never dropped.
- 'gamify': a JSON file of every value's status in the experiment folder; set a value's status to anything but
  "active" (by hand or with the gamify dashboard) and it is dropped before the next round starts.
- 'local_strategy': `talos_strategy(scan)` from ./talos_strategy.py, read again each time, narrows with
  `scan.param_object.remove_is(label, value)` (and remove_is_not, remove_ge, remove_le), or returns
  (label, value) to drop, as Talos' custom reducers do.

A knob keeps at least one value: a reduction that would empty it is skipped, and says so.
"""

from __future__ import annotations

import importlib.util
import json
import math
import numbers
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from ..analysis.stats import first_order_importance, spearman
from ..trial import FrozenTrial, TrialState
from ._values import same, shown

__all__ = ["REDUCTION_METHODS", "Drop", "correlation_drop", "importance_drop", "Gamify", "ParamObject", "local_drops"]

CORRELATIONS = ("correlation", "spearman", "pearson", "kendall")
REDUCTION_METHODS = (*CORRELATIONS, "trees", "forrest", "gamify", "local_strategy")


@dataclass
class Drop:
    """Values of one knob to drop, and why in one sentence."""

    knob: str
    values: list[Any]
    why: str


@dataclass
class _Window:
    """The last rounds of a scan as 0/1 columns, one per (knob, value) that varies among them."""

    columns: list[tuple[str, Any]]
    x: np.ndarray
    y: np.ndarray
    n: int = field(default=0)


def _window(trials: Sequence[FrozenTrial], space: Mapping[str, list[Any]], metric: str, window: int) -> _Window:
    done = [t for t in trials if t.state == TrialState.COMPLETE]
    if done and not any(metric in t.metrics for t in done):
        known = sorted({m for t in done for m in t.metrics if not m.startswith("last_")})
        raise ValueError(
            f"reduction_metric={metric!r} is not among the metrics the model logs ({known}); "
            "give Scan(reduction_metric=...) one of them"
        )
    usable = [t for t in done if _finite(t.metrics.get(metric))][-window:]
    columns, cols = [], []
    for knob, values in space.items():
        if len(values) < 2:
            continue
        for value in values:
            col = np.array([1.0 if same(t.params.get(knob), value) else 0.0 for t in usable])
            if len(usable) and 0 < col.sum() < len(usable):  # present in some rounds of the window, not all
                columns.append((knob, value))
                cols.append(col)
    x = np.column_stack(cols) if cols else np.empty((len(usable), 0))
    y = np.array([float(t.metrics[metric]) for t in usable])
    return _Window(columns, x, y, len(usable))


def _finite(v: Any) -> bool:
    return isinstance(v, numbers.Real) and math.isfinite(v)


def _correlate(method: str, x: np.ndarray, y: np.ndarray) -> float:
    from scipy import stats

    if len(y) < 3 or np.ptp(x) == 0 or np.ptp(y) == 0:
        return math.nan
    if method in ("correlation", "spearman"):
        return spearman(x, y)[0]
    if method == "pearson":
        return float(stats.pearsonr(x, y).statistic)
    return float(stats.kendalltau(x, y).statistic)


def correlation_drop(
    trials: Sequence[FrozenTrial],
    space: Mapping[str, list[Any]],
    *,
    method: str,
    metric: str,
    minimize: bool,
    threshold: float,
    window: int,
) -> Drop | None:
    """The value whose presence correlates most with worse `metric`, when that correlation reaches `threshold`."""
    w = _window(trials, space, metric, window)
    scored = []
    for j, (knob, value) in enumerate(w.columns):
        r = _correlate(method, w.x[:, j], w.y)
        if math.isfinite(r):
            scored.append((r if minimize else -r, r, knob, value))
    if len(scored) <= 1:  # as Talos: nothing to compare
        return None
    badness, r, knob, value = max(scored, key=lambda s: s[0])
    if badness < threshold:
        return None
    worse = "higher" if minimize else "lower"
    return Drop(
        knob,
        [value],
        f"{method}: {knob}={shown(value)!r} goes with {worse} {metric} (r={r:+.2f} over the last {w.n} rounds, "
        f"threshold {threshold})",
    )


def importance_drop(
    trials: Sequence[FrozenTrial],
    space: Mapping[str, list[Any]],
    *,
    method: str,
    metric: str,
    window: int,
    seed: int = 0,
) -> Drop | None:
    """The value that explains least of `metric` (forest 'forrest', extra trees on its top 20% 'trees')."""
    try:
        from sklearn.ensemble import ExtraTreesClassifier, RandomForestRegressor
    except ImportError as e:  # pragma: no cover - depends on the environment
        raise ImportError(f"reduction_method={method!r} needs scikit-learn: pip install 'knoblab[analysis]'") from e
    w = _window(trials, space, metric, window)
    if not w.columns or w.n < 3:
        return None
    if method == "forrest":
        model = RandomForestRegressor(max_depth=3, n_estimators=100, random_state=seed).fit(w.x, w.y)
        predict: Callable[[np.ndarray], np.ndarray] = model.predict
        target = metric
    else:
        labels = w.y > np.quantile(w.y, 0.8)
        if labels.all() or not labels.any():
            return None
        model = ExtraTreesClassifier(max_depth=3, n_estimators=100, random_state=seed).fit(w.x, labels)
        positive = list(model.classes_).index(True)

        def predict(z: np.ndarray) -> np.ndarray:
            return model.predict_proba(z)[:, positive]

        target = f"{metric} in its top 20%"
    importance, total = first_order_importance(predict, w.x)
    if not total > 0:
        return None
    j = int(np.argmin(importance))
    knob, value = w.columns[j]
    return Drop(
        knob,
        [value],
        f"{method}: {knob}={shown(value)!r} explains least of {target} (first-order importance "
        f"{importance[j]:.3f} over the last {w.n} rounds)",
    )


class Gamify:
    """The gamify file `<folder>/<experiment id>.json`: {knob index: {value index: [status, score, knob, value]}}
    over the scan's original values, "active" or not; a value whose status is not "active" is dropped."""

    def __init__(self, path: Path, original: Mapping[str, list[Any]]):
        self.path = path
        self.original = {k: list(v) for k, v in original.items()}

    def drops(self, space: Mapping[str, list[Any]]) -> list[Drop]:
        """The values the file has switched off that the space still holds."""
        if not self.path.exists():
            return []
        try:
            state = json.loads(self.path.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"gamify: {self.path} is not valid JSON ({e}); fix or delete it") from None
        out = []
        for i, (knob, values) in enumerate(self.original.items()):
            off = [
                v
                for ii, v in enumerate(values)
                if str(state.get(str(i), {}).get(str(ii), ["active"])[0]) != "active"
                and any(same(v, c) for c in space.get(knob, []))
            ]
            if off:
                shown_values = ", ".join(repr(shown(v)) for v in off)
                out.append(Drop(knob, off, f"gamify: {knob} {shown_values} switched off in {self.path.name}"))
        return out

    def export(self, space: Mapping[str, list[Any]]) -> None:
        """Writes every original value's status: "active" while the space holds it, else "disabled"."""
        state: dict[str, dict[str, list[Any]]] = {}
        for i, (knob, values) in enumerate(self.original.items()):
            state[str(i)] = {
                str(ii): [
                    "active" if any(same(v, c) for c in space.get(knob, [])) else "disabled",
                    0,
                    str(knob),
                    str(shown(v)),
                ]
                for ii, v in enumerate(values)
            }
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.path.write_text(json.dumps(state), encoding="utf-8")


class ParamObject:
    """What a local strategy narrows: `scan.param_object`, with Talos' remove_* methods over the current space."""

    def __init__(self, space: Mapping[str, list[Any]], round_counter: int):
        self.params = {k: list(v) for k, v in space.items()}
        self.param_keys = list(space)
        self.round_counter = round_counter
        self.drops: list[Drop] = []

    def _values(self, label: str) -> list[Any]:
        if label not in self.params:
            raise ValueError(f"param_object: no knob {label!r}; knobs: {self.param_keys}")
        return self.params[label]

    def _drop(self, label: str, values: list[Any], how: str) -> None:
        if values:
            self.drops.append(Drop(label, values, f"local_strategy: {how}"))

    def remove_is(self, label: str, value: Any) -> None:
        """Drops `value` of knob `label`."""
        self._drop(label, [v for v in self._values(label) if same(v, value)], f"{label} == {shown(value)!r}")

    def remove_is_not(self, label: str, value: Any) -> None:
        """Keeps only `value` of knob `label`."""
        self._drop(label, [v for v in self._values(label) if not same(v, value)], f"{label} != {shown(value)!r}")

    def remove_ge(self, label: str, value: Any) -> None:
        """Drops the values of knob `label` that are >= `value`."""
        self._drop(label, [v for v in self._values(label) if _number(v) and v >= value], f"{label} >= {value!r}")

    def remove_le(self, label: str, value: Any) -> None:
        """Drops the values of knob `label` that are <= `value`."""
        self._drop(label, [v for v in self._values(label) if _number(v) and v <= value], f"{label} <= {value!r}")

    def remove_lambda(self, function: Any) -> None:
        """Refused: a condition across knobs is not a narrower space (see boolean_limit)."""
        raise NotImplementedError(
            "param_object.remove_lambda: knoblab narrows a space value by value; use remove_is, remove_is_not, "
            "remove_ge or remove_le (a condition across knobs is Scan(boolean_limit=...))"
        )


def _number(v: Any) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def local_drops(
    scan: Any, space: Mapping[str, list[Any]], round_counter: int, folder: Path | None = None
) -> list[Drop]:
    """Runs `talos_strategy(scan)` from ./talos_strategy.py (read afresh each time) and returns what it drops."""
    path = (folder or Path.cwd()) / "talos_strategy.py"
    if not path.exists():
        print("No talos_strategy.py found in pwd. Nothing is done.")
        return []
    spec = importlib.util.spec_from_file_location("talos_strategy", path)
    if spec is None or spec.loader is None:
        raise ValueError(f"{path}: cannot be imported as a Python module")
    module = importlib.util.module_from_spec(spec)
    sys.modules["talos_strategy"] = module
    spec.loader.exec_module(module)
    if not callable(getattr(module, "talos_strategy", None)):
        raise ValueError(f"{path}: define a function talos_strategy(scan_object) in it")
    view = ParamObject(space, round_counter)
    scan.param_object = view
    out = module.talos_strategy(scan)
    if isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], str):  # a custom reducer's (label, value)
        view.remove_is(*out)
    return view.drops
