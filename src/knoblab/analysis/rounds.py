"""Rounds: scan broadly, look, narrow the space, scan again (walkthrough 000 goes four rounds).

Round 0 is the space the experiment was created with (the `space` column of the stored experiment, as before
rounds existed). Each later round is recorded in the experiment's attrs under "rounds", with its lineage::

    {"round": 1, "space": {...described...}, "parent": 0, "reason": "drop rmsprop", "changes": [...],
     "warm_start": False, "created_at": "2026-11-23T12:00:00"}

so no schema change is needed and older files stay readable. Trials carry their round number (the trials
table's `round` column). Reopening an experiment accepts the space of any of its rounds and continues that round;
`Experiment.load(name)` opens the latest.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from ..space import Space, as_space
from ..storage.sql import dumps, now

if TYPE_CHECKING:
    from ..experiment import Experiment
    from ..storage.base import ExperimentRecord

__all__ = ["round_records", "round_of", "start_round", "parse_space"]


def round_records(record: ExperimentRecord) -> list[dict[str, Any]]:
    """Every round of a stored experiment, round 0 first."""
    first = {
        "round": 0,
        "space": record.space,
        "parent": None,
        "reason": "the space the experiment was created with",
        "changes": [],
        "warm_start": False,
        "created_at": record.created_at.isoformat() if record.created_at else None,
    }
    return [first, *record.attrs.get("rounds", [])]


def round_of(record: ExperimentRecord, description: Mapping[str, Any]) -> tuple[int | None, dict[str, Any]]:
    """(the latest round whose space is `description` or None, the latest round's space)."""
    rounds = round_records(record)
    matching = [r["round"] for r in rounds if r["space"] == description]
    return (matching[-1] if matching else None), rounds[-1]["space"]


def parse_space(space: Mapping[str, Any] | Space) -> Space:
    """A Space from a Space, a dict of knobs, or a stored description ({"lr": {"kind": "real", ...}}, as a web
    form or `Experiment.rounds` gives it)."""
    if isinstance(space, Space):
        return space
    if not isinstance(space, Mapping):
        raise ValueError(f"space: got {type(space).__name__}; give a dict of knobs or a Space")
    if space and all(isinstance(v, Mapping) and "kind" in v for v in space.values()):
        return Space.from_description(space)
    return as_space(space)


def start_round(
    exp: Experiment,
    space: Mapping[str, Any] | Space,
    reason: str = "",
    *,
    changes: Sequence[str] = (),
    warm_start: bool = False,
) -> int:
    """Starts a round with `space`, child of the round `exp` is in, and moves `exp` into it; returns its number.

    Idempotent for scripts that are run again: when a round with this very space and parent already exists, `exp`
    moves into it and nothing new is recorded.

    Args:
        exp: the experiment (it is switched to the new round: its space, strategy and budgets).
        space: a dict of knobs, a Space, or a stored description.
        reason: why (one line, kept with the round: "dropped rmsprop, worse in round 0").
        changes: the individual changes, one sentence each (`SpaceSuggestion.apply` fills them).
        warm_start: let the strategy also see earlier rounds' trials whose params this space contains (useful to
            model-based strategies; off by default, so a round's metric distribution is its own and rounds compare).
    """
    if not isinstance(reason, str):
        raise ValueError(f"reason: got {type(reason).__name__}; give a string")
    new = parse_space(space)
    description = json.loads(dumps(new.describe()))
    parent = exp.round
    record = exp.storage.get_experiment(exp.name)
    assert record is not None  # the experiment exists: `exp` opened it
    if description == next(r["space"] for r in round_records(record) if r["round"] == parent):
        raise ValueError(
            f"space: it is round {parent}'s own space; continue that round with optimize(), or change the space"
        )
    chosen: list[int] = []

    def add_round(attrs: dict[str, Any]) -> dict[str, Any]:
        """Inside one storage transaction: reuse an identical round, else append one numbered after the last."""
        chosen.clear()
        rounds = list(attrs.get("rounds", []))
        again = [r for r in rounds if r["parent"] == parent and r["space"] == description]
        if again:
            chosen.append(again[-1]["round"])
            return {}
        number = max([0, *(r["round"] for r in rounds)]) + 1
        chosen.append(number)
        entry = {
            "round": number,
            "space": description,
            "parent": parent,
            "reason": reason,
            "changes": [str(c) for c in changes],
            "warm_start": bool(warm_start),
            "created_at": now().isoformat(),
        }
        return {"rounds": [*rounds, entry]}

    exp.storage.update_experiment_attrs(exp.id, add_round)
    number = chosen[-1]
    _enter(exp, number, new)
    return number


def _enter(exp: Experiment, number: int, space: Space) -> None:
    from ..strategies import Strategy, make_strategy

    record = exp.storage.get_experiment(exp.name)
    assert record is not None
    exp.record = record
    if (
        space.constraint is None and exp.space.constraint is not None
    ):  # the experiment's constraint holds in every round
        space = Space(space, exp.space.constraint)
    exp.space = space
    exp.round = number
    exp._warm_start = None  # read again from the record
    arg = exp._strategy_arg
    exp.strategy = arg if isinstance(arg, Strategy) else make_strategy(arg, grid_resolution=exp.grid_resolution)
    exp.strategy.setup(exp.space, seed=exp._round_seed(), direction=exp.direction)
    if exp.scheduler is not None and hasattr(exp.scheduler, "setup"):
        exp.scheduler.setup(exp)  # as when an experiment opens: PBT queues the round's own population
