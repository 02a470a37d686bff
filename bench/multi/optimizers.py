"""One ask/tell interface for several objectives over knoblab's strategies and Optuna's samplers.

`ask(n)` returns n params dicts; `tell(params_list, vectors)` reports their objective vectors (each objective as the
problem defines it; `directions` says which to minimize or maximize).
"""

from __future__ import annotations

import warnings
from typing import Any

from ..optimizers import Param, knoblab_space


class Knoblab:
    def __init__(self, space: list[Param], directions: tuple[str, ...], seed: int, budget: int, strategy: str):
        from knoblab.strategies import make_strategy
        from knoblab.strategies.auto import AutoStrategy

        self.kspace = knoblab_space(space)
        self.strategy = make_strategy(strategy)
        self.strategy.setup(self.kspace, seed=seed, direction=tuple(directions))
        self.choice = None
        if isinstance(self.strategy, AutoStrategy):
            self.strategy.configure(n_trials=budget, fraction_limit=None)
            self.choice = self.strategy.choice
        self.history: list = []
        self.name = f"knoblab-{strategy}"

    def ask(self, n: int) -> list[dict[str, Any]]:
        from knoblab.trial import FrozenTrial, TrialState

        out = self.strategy.ask(self.history, n)
        for p in out:
            k = len(self.history)
            self.history.append(FrozenTrial(id=k + 1, number=k, state=TrialState.RUNNING, params=p))
        return [dict(p) for p in out]

    def tell(self, params: list[dict[str, Any]], vectors: list[list[float]]) -> None:
        from knoblab.trial import TrialState

        for t in self.history:
            if t.state == TrialState.RUNNING:
                for p, v in zip(params, vectors):
                    if t.params == p:
                        t.state, t.values = TrialState.COMPLETE, [float(x) for x in v]
                        self.strategy.tell(t)
                        break


class Optuna:
    def __init__(self, space: list[Param], directions: tuple[str, ...], seed: int, budget: int, sampler: str):
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        samplers = {
            "nsga2": lambda: optuna.samplers.NSGAIISampler(seed=seed),
            "tpe": lambda: optuna.samplers.TPESampler(seed=seed),
            "gp": lambda: optuna.samplers.GPSampler(seed=seed),
            "random": lambda: optuna.samplers.RandomSampler(seed=seed),
        }
        names = {"min": "minimize", "max": "maximize"}
        self.study = optuna.create_study(directions=[names[d] for d in directions], sampler=samplers[sampler]())
        self.dists = {}
        for p in space:
            if p.kind == "real":
                self.dists[p.name] = optuna.distributions.FloatDistribution(p.low, p.high, log=p.log)
            elif p.kind == "int":
                self.dists[p.name] = optuna.distributions.IntDistribution(int(p.low), int(p.high), log=p.log)
            else:
                self.dists[p.name] = optuna.distributions.CategoricalDistribution(list(p.choices))
        self.pending: list = []
        self.choice = None
        self.name = f"optuna-{sampler}"

    def ask(self, n: int) -> list[dict[str, Any]]:
        out = []
        for _ in range(n):
            trial = self.study.ask(self.dists)
            self.pending.append(trial)
            out.append(dict(trial.params))
        return out

    def tell(self, params, vectors) -> None:
        for p, v in zip(params, vectors):
            for t in self.pending:
                if t.params == p:
                    self.study.tell(t, [float(x) for x in v])
                    self.pending.remove(t)
                    break


OPTIMIZERS = {
    "knoblab-auto": lambda s, d, seed, b: Knoblab(s, d, seed, b, "auto"),
    "knoblab-mogp": lambda s, d, seed, b: Knoblab(s, d, seed, b, "mogp"),
    "knoblab-motpe": lambda s, d, seed, b: Knoblab(s, d, seed, b, "motpe"),
    "knoblab-nsga2": lambda s, d, seed, b: Knoblab(s, d, seed, b, "nsga2"),
    "knoblab-random": lambda s, d, seed, b: Knoblab(s, d, seed, b, "random"),
    "optuna-nsga2": lambda s, d, seed, b: Optuna(s, d, seed, b, "nsga2"),
    "optuna-tpe": lambda s, d, seed, b: Optuna(s, d, seed, b, "tpe"),
    "optuna-gp": lambda s, d, seed, b: Optuna(s, d, seed, b, "gp"),
    "optuna-random": lambda s, d, seed, b: Optuna(s, d, seed, b, "random"),
}


def make_optimizer(name: str, space: list[Param], directions: tuple[str, ...], seed: int, budget: int):
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer: got {name!r}; allowed: {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[name](space, directions, seed, budget)
