"""A narrower space for the next round, proposed from the data, each change explained in one sentence.

The rule, stated once (it is also in `SpaceSuggestion.method`):

- a value of a categorical knob (a list, a Talos tuple, a Bool, a Branch option) is dropped when its trials are
  reliably worse than the trials with the knob's other values: a one-sided Mann-Whitney U test, with at least
  `min_count` trials on each side, Holm-adjusted over every test of the suggestion, p < `alpha`;
- a continuous range (kl.Real, kl.Int) is narrowed towards where the best `top_fraction` of trials lie (plus a
  margin of `margin` of the range on each side, on the knob's own scale), one side at a time, and only when the
  trials beyond the new bound are reliably worse than those within (the same test, in the same Holm family);
- everything else is kept: values never or rarely tried, differences the data do not settle.

The user accepts it (`suggestion.apply(exp)`), edits `suggestion.space` (a plain dict of knobs) and passes it to
`exp.next_round`, rejects some changes (`suggestion.reject("dropout")`), or ignores it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from ..reprs import suggestion_html
from ..space import Bool, Branch, Categorical, Fixed, Int, Real, Space
from .frame import TrialTable, _key
from .stats import holm, mann_whitney_worse

# a categorical knob with more values than this (a long (low, high, n) tuple) is kept as it is
MAX_TESTED_VALUES = 1000

if TYPE_CHECKING:
    from ..experiment import Experiment

__all__ = ["Change", "SpaceSuggestion", "suggest_space_from_table"]


@dataclass(frozen=True)
class Change:
    """What the suggestion does to one knob: "drop" values, "narrow" a range, or "keep" it; `why` in words."""

    knob: str
    action: str
    before: Any
    after: Any
    why: str

    def __str__(self) -> str:
        return self.why


@dataclass
class SpaceSuggestion:
    """A proposed space for the next round. `space` is a plain dict of knobs, ready to edit or to pass to
    `Experiment.next_round`; `changes` explain what differs from `original`, `kept` why the rest stays."""

    space: dict[str, Any]
    changes: list[Change]
    kept: list[Change]
    original: dict[str, Any]
    base_round: int
    method: str
    tests: list[dict[str, Any]] = field(default_factory=list, repr=False)

    @property
    def changed(self) -> bool:
        """True when the suggestion changes at least one knob."""
        return bool(self.changes)

    @property
    def reason(self) -> str:
        """One line for the round's record."""
        if not self.changes:
            return "no change suggested"
        return f"suggested from round {self.base_round}: " + "; ".join(f"{c.knob} {c.action}" for c in self.changes)

    def reject(self, *knobs: str) -> SpaceSuggestion:
        """The same suggestion with the changes to these knobs undone (their original definition restored)."""
        unknown = [k for k in knobs if k not in {c.knob for c in self.changes}]
        if unknown:
            raise ValueError(f"knobs {unknown}: no change to reject; changed: {[c.knob for c in self.changes]}")
        space = _restore(self.space, self.original, set(knobs))
        kept = self.kept + [
            replace(c, action="keep", after=c.before, why=f"{c.knob}: kept (change rejected)")
            for c in self.changes
            if c.knob in knobs
        ]
        return replace(self, space=space, changes=[c for c in self.changes if c.knob not in knobs], kept=kept)

    def apply(self, exp: Experiment, reason: str | None = None, *, warm_start: bool = False) -> int:
        """Starts the next round of `exp` with this space; returns the round's number."""
        from .rounds import start_round

        return start_round(
            exp,
            self.space,
            reason if reason is not None else self.reason,
            changes=[c.why for c in self.changes],
            warm_start=warm_start,
        )

    def __str__(self) -> str:
        lines = [f"suggested space after round {self.base_round} ({len(self.changes)} changes):"]
        lines += [f"  - {c.why}" for c in self.changes] or ["  (none)"]
        if self.kept:
            lines.append("kept:")
            lines += [f"  - {c.why}" for c in self.kept]
        return "\n".join(lines)

    def _repr_html_(self) -> str:  # notebooks: see knoblab.reprs
        return suggestion_html(self)


def suggest_space_from_table(
    table: TrialTable,
    space: Space,
    *,
    base_round: int = 0,
    alpha: float = 0.05,
    min_count: int = 5,
    top_fraction: float = 0.2,
    margin: float = 0.1,
) -> SpaceSuggestion:
    """The suggestion for `space` from the trials of `table` (see the module docstring for the rule)."""
    if not 0 < alpha < 1:
        raise ValueError(f"alpha: got {alpha!r}; give a level in (0, 1), e.g. 0.05")
    if not (isinstance(min_count, int) and min_count >= 2):
        raise ValueError(f"min_count: got {min_count!r}; give an integer >= 2")
    if not 0 < top_fraction < 1:
        raise ValueError(f"top_fraction: got {top_fraction!r}; give a fraction in (0, 1)")
    tests: list[dict[str, Any]] = []
    _collect(space, table, tests, min_count, top_fraction, margin)
    adjusted = holm([t["p"] for t in tests])
    for t, q in zip(tests, adjusted):
        t["p_holm"] = q
        t["reject"] = bool(np.isfinite(q) and q < alpha)
    changes: list[Change] = []
    kept: list[Change] = []
    new = _build(space, table, tests, changes, kept, alpha, min_count)
    method = (
        f"values dropped and ranges narrowed only where one-sided Mann-Whitney U tests (>= {min_count} trials a side)"
        f" find them worse, Holm-adjusted over {len(tests)} tests, p < {alpha}; ranges narrowed towards the best "
        f"{top_fraction:.0%} of trials plus {margin:.0%} of the range a side"
    )
    return SpaceSuggestion(new, changes, kept, _spec(space), base_round, method, tests)


# ---- pass 1: the tests ----
def _collect(space: Space, table: TrialTable, tests: list, min_count: int, top_fraction: float, margin: float) -> None:
    for knob in space.knobs.values():
        name = knob.name
        if isinstance(knob, Fixed) or name not in table.knobs:
            continue
        col = table.knobs[name]
        active = col.notna()
        y = table.values[active]
        x = col[active]
        if isinstance(knob, Categorical):
            if len(knob.choices) > MAX_TESTED_VALUES:  # a long (low, high, n) tuple: too many values to test each
                continue
            for value in knob.choices:
                hit = x.map(lambda v, value=value: _key(v) == _key(value))
                these, others = y[hit], y[~hit]
                p = math.nan
                if len(these) >= min_count and len(others) >= min_count:
                    p = mann_whitney_worse(these, others, table.direction)
                tests.append(
                    {
                        "knob": name,
                        "kind": "value",
                        "value": value,
                        "p": p,
                        "n": len(these),
                        "median": float(these.median()) if len(these) else math.nan,
                        "median_others": float(others.median()) if len(others) else math.nan,
                    }
                )
            if isinstance(knob, Branch):
                for sub in knob.subspaces:
                    _collect(sub, table, tests, min_count, top_fraction, margin)
        elif isinstance(knob, Real | Int):
            if len(y) < 2 * min_count:
                continue
            lo, hi = _bounds(knob, x.astype(float), y, table.sign, top_fraction, margin)
            z = x.astype(float)
            for side, outside in (("below", z < lo), ("above", z > hi)):
                p = math.nan
                if outside.sum() >= min_count and (~outside).sum() >= min_count:
                    p = mann_whitney_worse(y[outside], y[~outside], table.direction)
                tests.append(
                    {
                        "knob": name,
                        "kind": side,
                        "bound": lo if side == "below" else hi,
                        "p": p,
                        "n": int(outside.sum()),
                        "median": float(y[outside].median()) if outside.any() else math.nan,
                        "median_others": float(y[~outside].median()) if (~outside).any() else math.nan,
                    }
                )


def _bounds(knob: Real | Int, x, y, sign: float, top_fraction: float, margin: float) -> tuple[float, float]:
    """[low, high] around the best `top_fraction` of trials, widened by `margin` of the range, on the knob's scale."""
    k = max(3, math.ceil(top_fraction * len(y)))
    best = (sign * y).sort_values(kind="stable").index[:k]
    log = knob.log
    f = np.log if log else (lambda v: v)
    g = np.exp if log else (lambda v: v)
    a, b = f(knob.low), f(knob.high)
    top = f(x.loc[best].to_numpy(dtype=float))
    lo = max(a, float(top.min()) - margin * (b - a))
    hi = min(b, float(top.max()) + margin * (b - a))
    # 3 significant digits, rounded outwards, so the new space reads well (0.00123, not 0.0012260115242354805)
    return max(knob.low, _round_sig(float(g(lo)), math.floor)), min(knob.high, _round_sig(float(g(hi)), math.ceil))


def _round_sig(x: float, rounding, digits: int = 3) -> float:
    if x == 0 or not math.isfinite(x):
        return x
    scale = 10 ** (digits - 1 - math.floor(math.log10(abs(x))))
    return float(f"{rounding(x * scale) / scale:.{digits + 2}g}")


# ---- pass 2: the new space ----
def _build(space: Space, table, tests, changes, kept, alpha, min_count) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for knob in space.knobs.values():
        name = knob.name
        mine = [t for t in tests if t["knob"] == name]
        if isinstance(knob, Fixed):
            out[name] = knob.value
            continue
        if isinstance(knob, Categorical) and len(knob.choices) > MAX_TESTED_VALUES:
            out[name] = knob
            n = len(knob.choices)
            kept.append(Change(name, "keep", [], [], f"{name}: keep all {n} values: too many to test one by one"))
        elif isinstance(knob, Categorical):
            out[name] = _categorical(knob, mine, table, tests, changes, kept, alpha, min_count)
        elif isinstance(knob, Real | Int):
            out[name] = _range(knob, mine, table, changes, kept, min_count)
        else:  # pragma: no cover - every knob kind is handled above
            out[name] = knob
    return out


def _categorical(knob: Categorical, mine, table, tests, changes, kept, alpha, min_count) -> Any:
    name = knob.name
    drop = [t for t in mine if t["reject"]]
    if len(drop) == len(knob.choices):  # never drop them all: keep the best by median
        sign = table.sign
        drop = sorted(drop, key=lambda t: sign * t["median"])[1:]
    dropped = {_key(t["value"]) for t in drop}
    remaining = [c for c in knob.choices if _key(c) not in dropped]
    if isinstance(knob, Branch):
        subs = {
            value: _build(sub, table, tests, changes, kept, alpha, min_count)
            for value, sub in zip(knob.choices, knob.subspaces)
            if _key(value) not in dropped
        }
        new: Any = Branch(subs)
    elif len(remaining) == 1:
        new = remaining[0]
    elif isinstance(knob, Bool) and not drop:
        new = Bool()
    elif knob.ordered:
        new = Categorical(remaining, ordered=True)
    else:
        new = list(remaining)
    if drop:
        parts = [
            f"{t['value']!r} ({t['n']} trials, median {t['median']:.4g} vs {t['median_others']:.4g} for the rest, "
            f"Holm-adjusted p = {t['p_holm']:.2g})"
            for t in drop
        ]
        changes.append(
            Change(
                name,
                "drop",
                list(knob.choices),
                remaining,
                f"{name}: drop {'; '.join(parts)}: reliably worse than its other values",
            )
        )
    else:
        tested = [t for t in mine if np.isfinite(t["p_holm"])]
        if tested:
            least = min(t["p_holm"] for t in tested)
            why = f"{name}: keep all {len(knob.choices)} values: none is reliably worse (smallest Holm-adjusted p = {least:.2g})"
        else:
            why = f"{name}: keep all {len(knob.choices)} values: too few trials per value (< {min_count}) to tell"
        kept.append(Change(name, "keep", list(knob.choices), list(knob.choices), why))
    return new


def _range(knob: Real | Int, mine, table, changes, kept, min_count) -> Any:
    name = knob.name
    lo, hi = knob.low, knob.high
    below = [t for t in mine if t["kind"] == "below" and t["reject"]]
    above = [t for t in mine if t["kind"] == "above" and t["reject"]]
    if below:
        lo = below[0]["bound"]
    if above:
        hi = above[0]["bound"]
    if isinstance(knob, Int):
        lo = knob.low + math.floor((lo - knob.low) / knob.step + 1e-9) * knob.step
        hi = knob.low + math.ceil((hi - knob.low) / knob.step - 1e-9) * knob.step
        hi = min(hi, knob.high)
    if not below and not above:
        if not mine:
            why = f"{name}: keep [{knob.low:.4g}, {knob.high:.4g}]: too few trials (< {2 * min_count}) to narrow it"
        else:
            why = f"{name}: keep [{knob.low:.4g}, {knob.high:.4g}]: the trials outside the best ones' range are not reliably worse"
        kept.append(Change(name, "keep", (knob.low, knob.high), (knob.low, knob.high), why))
        return knob
    if lo >= hi:
        new: Any = lo
    elif isinstance(knob, Int):
        new = Int(int(lo), int(hi), log=knob.log, step=knob.step) if not knob.log or lo > 0 else Int(int(lo), int(hi))
    else:
        new = Real(lo, hi, log=knob.log)
    sides = [
        f"{t['n']} trials {t['kind']} {t['bound']:.4g} had median {t['median']:.4g} vs {t['median_others']:.4g} "
        f"(Holm-adjusted p = {t['p_holm']:.2g})"
        for t in below + above
    ]
    changes.append(
        Change(
            name,
            "narrow",
            (knob.low, knob.high),
            (lo, hi),
            f"{name}: narrow [{knob.low:.4g}, {knob.high:.4g}] to [{lo:.4g}, {hi:.4g}], where the best trials lie: "
            + "; ".join(sides),
        )
    )
    return new


# ---- helpers ----
def _spec(space: Space) -> dict[str, Any]:
    """A space as the plain dict a user writes (knob objects for ranges, lists for choices, scalars if fixed)."""
    out: dict[str, Any] = {}
    for knob in space.knobs.values():
        if isinstance(knob, Fixed):
            out[knob.name] = knob.value
        elif isinstance(knob, Branch):
            out[knob.name] = Branch({v: _spec(sub) for v, sub in zip(knob.choices, knob.subspaces)})
        elif isinstance(knob, Bool):
            out[knob.name] = Bool()
        elif isinstance(knob, Categorical):
            out[knob.name] = Categorical(knob.choices, ordered=True) if knob.ordered else list(knob.choices)
        elif isinstance(knob, Int):
            out[knob.name] = Int(knob.low, knob.high, log=knob.log, step=knob.step)
        elif isinstance(knob, Real):
            out[knob.name] = Real(knob.low, knob.high, log=knob.log)
    return out


def _restore(space: dict[str, Any], original: dict[str, Any], knobs: set[str]) -> dict[str, Any]:
    out = {}
    for name, spec in space.items():
        if name in knobs:
            out[name] = original[name]
        elif isinstance(spec, Branch) and isinstance(original.get(name), Branch):
            orig_opts = original[name].options
            out[name] = Branch({v: _restore(sub, orig_opts.get(v, sub), knobs) for v, sub in spec.options.items()})
        else:
            out[name] = spec
    if any(k in knobs for k in original if k not in space):
        out.update({k: original[k] for k in original if k in knobs and k not in space})
    return out
