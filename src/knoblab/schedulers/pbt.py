"""Population-based training (Jaderberg et al. 2017), asynchronous, as a scheduler over ordinary trials.

A member's life is a chain of segments, each a trial of its own: the segment trains `interval` units (epochs),
pauses at its ready point (PRUNED with `paused_at`; the Keras reporter saves a checkpoint and stores its path as
the trial's `checkpoint` attr), and its next segment is queued at once:
- if the member ranks in the bottom `quantile` of the members that have reached the same ready point (their
  scores there: members compare at equal training, as trials at an ASHA rung do; one that is behind is ranked
  when it gets there), it *exploits*: the next segment starts from the checkpoint a member of the top `quantile`
  saved at that same point, with that member's params, and *explores*: each mutable knob is perturbed (times 0.8
  or 1.2, a neighbouring choice) or, with `resample_probability`, drawn anew from the space; values are clipped
  into the knob's range, so they never leave the space;
- otherwise it continues from its own checkpoint with its own params.
The segment that reaches max_resource is not paused: it ends COMPLETE, and its value is the member's result.
So every member's chain has the same segments, [0, interval), [interval, 2 interval), ..., however the workers
interleave them.

Lineage (trial attrs, also columns of `exp.results`): `member`, `generation`, `parent` (the trial whose weights
the segment continues), `exploited_from` (the donor's trial number, or absent), `perturbed` ({knob: [old, new]}).

The population is queued when the experiment opens (generation 0, params from the strategy), and queued trials
run before new ones, so parallel workers take segments as they become ready; the decision reads only storage,
so it holds in any process. Once the population exists the experiment asks the strategy for nothing more
(`wants_new_trials`): with parallel workers, a worker that finds no segment queued waits for the running members
to queue theirs instead of starting a stranger that would take a member's place in the budget. Give n_trials =
population * generations (`PopulationBasedTraining.n_trials`), or more: the search ends when the chains do. A
trial that is not a member (one added by hand through `ask`) is stopped at its first report.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

from ..space import Categorical, Fixed, Int, Real, Space
from ..trial import FrozenTrial, TrialState
from .asha import max_resource_of
from .base import Scheduler, current_step, resource_of


def explore(
    space: Space,
    params: Mapping[str, Any],
    mutable: Sequence[str],
    rng: np.random.Generator,
    factors: Sequence[float] = (0.8, 1.2),
    resample_probability: float = 0.25,
) -> tuple[dict[str, Any], dict[str, list[Any]]]:
    """Perturbs the mutable knobs of `params` inside `space`; returns (new params, {knob: [old, new]})."""
    knobs = space.all_knobs()
    out = dict(params)
    changed: dict[str, list[Any]] = {}
    for name in mutable:
        knob = knobs[name]
        if name not in out or isinstance(knob, Fixed):
            continue
        old = out[name]
        if rng.random() < resample_probability:
            new = knob.from_unit(float(rng.random()))
        elif isinstance(knob, Real | Int):
            new = float(old) * float(rng.choice(factors))
            new = min(max(new, knob.low), knob.high)
            if isinstance(knob, Int):
                new = knob.from_unit(knob.to_unit(int(round(new))))  # onto its step, inside its range
        elif isinstance(knob, Categorical) and knob.ordered:
            i = knob.index(old) + int(rng.choice((-1, 1)))
            new = knob.choices[min(max(i, 0), len(knob.choices) - 1)]
        else:
            new = old  # an unordered choice changes only by resampling
        if isinstance(knob, Real):
            new = float(new)
        if new != old:
            out[name] = new
            changed[name] = [old, new]
    return space.validate(out), changed


class PopulationBasedTraining(Scheduler):
    """PBT: a population trained in segments; at each ready point the worst copy the best and explore.

    Args:
        population: members trained together.
        interval: units of resource (epochs) between ready points.
        max_resource: the full training length (default: the space's fixed `epochs` knob).
        quantile: the bottom fraction copies from the top fraction (at least one member each).
        mutable: the knobs exploration may change (default: every Real knob, as learning rates and dropouts are;
            knobs that shape the weights, such as units or layers, must stay out, or weights cannot be copied).
        factors, resample_probability: how exploration perturbs (see `explore`).
        metric: the reported metric ranked (default: the experiment's), at the ready point being decided.
        keep_checkpoints: keep every segment's checkpoint file (default: each is deleted once every member of the
            round has passed its ready point and no queued or running segment resumes from it).
    """

    name = "pbt"

    def __init__(
        self,
        population: int = 8,
        interval: int = 2,
        max_resource: int | None = None,
        quantile: float = 0.25,
        mutable: Sequence[str] | None = None,
        factors: Sequence[float] = (0.8, 1.2),
        resample_probability: float = 0.25,
        metric: str | None = None,
        keep_checkpoints: bool = False,
    ):
        super().__init__(metric)
        self.keep_checkpoints = bool(keep_checkpoints)
        if not (isinstance(population, int) and population >= 2):
            raise ValueError(f"population: got {population!r}; give an integer >= 2")
        if not (isinstance(interval, int) and interval >= 1):
            raise ValueError(f"interval: got {interval!r}; give an integer >= 1")
        if not (0 < quantile <= 0.5):
            raise ValueError(f"quantile: got {quantile!r}; give a fraction in (0, 0.5]")
        if not (0 <= resample_probability <= 1):
            raise ValueError(f"resample_probability: got {resample_probability!r}; give a probability")
        self.population, self.interval, self.max_resource = population, interval, max_resource
        self.quantile, self.factors = float(quantile), tuple(float(f) for f in factors)
        self.mutable = list(mutable) if mutable is not None else None
        self.resample_probability = float(resample_probability)

    def n_trials(self, experiment) -> int:
        """The trials a whole run takes: population * segments per member."""
        return self.population * math.ceil(self._top(experiment) / self.interval)

    def _top(self, experiment) -> int:
        top = max_resource_of(experiment, self.max_resource)
        if top is None:
            raise ValueError("PBT needs max_resource (or a fixed 'epochs' knob in the space)")
        return top

    def mutable_knobs(self, space: Space) -> list[str]:
        """The knobs exploration may change in this space (default: every Real knob)."""
        if self.mutable is not None:
            unknown = [k for k in self.mutable if k not in space.all_knobs()]
            if unknown:
                raise ValueError(f"mutable: knobs {unknown} are not in the space; its knobs: {list(space.all_knobs())}")
            return self.mutable
        return [name for name, knob in space.knobs.items() if isinstance(knob, Real)]

    # ---- the population ----
    def setup(self, experiment) -> None:
        """Queues generation 0 (params from the strategy) unless the experiment's round already has a population
        (each round, see `Experiment.next_round`, trains a population of its own, in its own space)."""
        self.mutable_knobs(experiment.space)
        top = self._top(experiment)
        trials = experiment.storage.get_trials(experiment.id)
        if any(t.attrs.get("member") is not None and t.round == experiment.round for t in trials):
            return
        points = experiment.strategy.ask(experiment._history(), self.population)
        for member, params in enumerate(points):
            experiment.storage.create_trial(
                experiment.id,
                params,
                TrialState.QUEUED,
                attrs={"source": "pbt", "member": member, "generation": 0, "target": min(self.interval, top)},
                round=experiment.round,
            )

    def wants_new_trials(self, experiment) -> bool:
        """False: the strategy proposed the population in `setup`; every later trial is a member's segment."""
        return False

    def should_stop(self, experiment, trial) -> bool:
        step = current_step(trial)
        if step is None:
            return False
        attrs = trial._frozen.attrs
        if attrs.get("member") is None:
            experiment.storage.set_attrs(trial.id, {"stop_reason": "not a member of the PBT population"})
            return True
        r = resource_of(step)
        target = attrs.get("target", self.interval)
        if r < target or target >= self._top(experiment):
            return False  # the last segment runs to the end and completes
        experiment.storage.set_attrs(trial.id, {"paused_at": r})
        return True

    def on_finish(self, experiment, trial: FrozenTrial) -> None:
        if trial.attrs.get("member") is None:
            return
        if trial.state == TrialState.PRUNED and "paused_at" in trial.attrs:
            self.next_segment(experiment, trial)
        if not self.keep_checkpoints:
            self.release_checkpoints(experiment, trial.round)

    def release_checkpoints(self, experiment, round: int | None = None) -> list[str]:
        """Deletes the checkpoints (of `round`, or of every round) that no member can use any more: those saved at a
        ready point every member has passed (no member arriving there can pick them as a donor) that no queued or
        running segment resumes from. Called after each segment ends; what it keeps then is needed later."""
        trials = experiment.storage.get_trials(experiment.id)
        gone: list[str] = []
        for r in sorted({t.round for t in trials} if round is None else {round}):
            mine = [t for t in trials if t.round == r and t.attrs.get("member") is not None]
            frontier = self._frontier(mine)
            passed = [t for t in mine if t.state.finished and (t.attrs.get("paused_at") or math.inf) < frontier]
            gone += self._discard(self._unneeded(trials, passed))
        return gone

    @staticmethod
    def _frontier(members: list[FrozenTrial]) -> float:
        """The earliest ready point a member of one round may still arrive at (inf when every chain has ended): a
        member's latest segment if queued, running or interrupted (its retry) pauses at its target; one paused
        whose next segment is not queued yet (another process is queuing it) is at its paused_at."""
        latest: dict[int, FrozenTrial] = {}
        for t in members:
            m = t.attrs["member"]
            if m not in latest or (t.attrs.get("generation", 0), t.number) > (
                latest[m].attrs.get("generation", 0),
                latest[m].number,
            ):
                latest[m] = t
        points = []
        for t in latest.values():
            if not t.state.finished or t.attrs.get("interrupted"):
                points.append(t.attrs.get("target", 0))
            elif t.state == TrialState.PRUNED and t.attrs.get("paused_at") is not None:
                points.append(t.attrs["paused_at"])
        return float(min(points)) if points else math.inf

    def scores(self, experiment, resource: int, round: int = 0) -> dict[int, tuple[FrozenTrial, float]]:
        """Each member (of the population of `round`) that has reached the ready point `resource`: its segment that
        paused there and its signed score (lower is better), the metric's value at that point. Members compare at
        the same resource only: a member further on has trained longer, so its latest value says nothing about its
        knobs against a member just arriving (it would always look better), and its latest checkpoint is at
        another epoch."""
        paused: dict[int, FrozenTrial] = {}
        for t in experiment.storage.get_trials(experiment.id, states=(TrialState.PRUNED,)):
            m = t.attrs.get("member")
            if m is None or t.attrs.get("paused_at") != resource or t.round != round:
                continue
            if m not in paused or t.number > paused[m].number:  # a retried segment: its latest run
                paused[m] = t
        reports = experiment.storage.get_reports([t.id for t in paused.values()])
        metric, sign = self.metric_of(experiment), 1.0 if experiment.direction == "min" else -1.0
        out = {}
        for m, t in paused.items():
            curve = [(s, r[metric]) for s, r in reports.get(t.id, []) if r.get(metric) is not None and s < resource]
            if curve and math.isfinite(curve[-1][1]):
                out[m] = (t, sign * curve[-1][1])
        return out

    def next_segment(self, experiment, trial: FrozenTrial) -> FrozenTrial | None:
        """Queues the member's next segment: exploit and explore when it ranks in the bottom quantile of the members
        that reached the same ready point (those still behind are ranked when they get there)."""
        member, generation = int(trial.attrs["member"]), int(trial.attrs.get("generation", 0))
        rng = np.random.default_rng([int(experiment.seed), member, generation, 11])
        start = int(trial.attrs["paused_at"])
        scores = self.scores(experiment, start, trial.round)
        params, source = dict(trial.params), trial
        lineage: dict[str, Any] = {}
        if member in scores and len(scores) >= 2:
            ranked = sorted(scores, key=lambda m: (scores[m][1], m))
            cut = max(1, int(math.floor(self.quantile * len(ranked))))
            bottom, top = ranked[-cut:], ranked[:cut]
            if member in bottom and member not in top:
                donor_member = int(rng.choice(top))
                donor = scores[donor_member][0]
                if donor.attrs.get("checkpoint") or not trial.attrs.get("checkpoint"):
                    source = donor
                    params, changed = explore(
                        experiment.space,
                        donor.params,
                        self.mutable_knobs(experiment.space),
                        rng,
                        self.factors,
                        self.resample_probability,
                    )
                    lineage = {"exploited_from": donor.number, "donor_member": donor_member, "perturbed": changed}
        top_r = self._top(experiment)
        attrs = {
            "source": "pbt",
            "member": member,
            "generation": generation + 1,
            "parent": source.number,
            "resume_step": start,
            "target": min(start + self.interval, top_r),
            "resume_checkpoint": source.attrs.get("checkpoint"),
            **lineage,
        }
        return experiment.storage.create_trial(
            experiment.id, params, TrialState.QUEUED, seed=trial.seed, attrs=attrs, round=trial.round
        )

    def __repr__(self) -> str:
        return (
            f"PopulationBasedTraining(population={self.population}, interval={self.interval}, quantile={self.quantile})"
        )


PBT = PopulationBasedTraining
