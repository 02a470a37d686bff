"""One ask/tell interface over knoblab's strategies and the peers (Optuna, Hyperopt, scikit-optimize).

A problem's space is written once as a list of `Param`; each adapter translates it to its library's own space.
`ask(n)` returns n params dicts (a batch for parallel workers); `tell(params_list, losses)` reports them
(smaller is better). Peers are imported lazily, so a missing one only removes its rows.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Param:
    """One knob of a benchmark space: kind "real" or "int" on [low, high] (log scale optional), or "cat"."""

    name: str
    kind: str
    low: float = 0.0
    high: float = 1.0
    log: bool = False
    choices: tuple = ()


def knoblab_space(space) -> Any:
    """The benchmark's parameter list as a knoblab Space (reals and ints keep their log scale)."""
    import knoblab as kl

    spec: dict[str, Any] = {}
    for p in space:
        if p.kind == "real":
            spec[p.name] = kl.Real(p.low, p.high, log=p.log)
        elif p.kind == "int":
            spec[p.name] = kl.Int(int(p.low), int(p.high), log=p.log)
        else:
            spec[p.name] = list(p.choices)
    return kl.Space(spec)


class Optimizer:
    name = "optimizer"

    def __init__(self, space: list[Param], seed: int, budget: int):
        self.space, self.seed, self.budget = space, seed, budget

    def ask(self, n: int) -> list[dict[str, Any]]:
        raise NotImplementedError

    def tell(self, params: list[dict[str, Any]], losses: list[float]) -> None:
        raise NotImplementedError


# ---- knoblab ----
class Knoblab(Optimizer):
    def __init__(self, space, seed, budget, strategy: str):
        super().__init__(space, seed, budget)
        from knoblab.strategies import make_strategy
        from knoblab.strategies.auto import AutoStrategy

        self.kspace = knoblab_space(space)
        self.strategy = make_strategy(strategy)
        self.strategy.setup(self.kspace, seed=seed, direction="min")
        if isinstance(self.strategy, AutoStrategy):
            self.strategy.configure(n_trials=budget, fraction_limit=None)
        self.history: list = []
        self.name = f"knoblab-{strategy}"

    def ask(self, n):
        from knoblab.trial import FrozenTrial, TrialState

        out = self.strategy.ask(self.history, n)
        for p in out:  # RUNNING until told, as in an experiment with parallel workers
            k = len(self.history)
            self.history.append(FrozenTrial(id=k + 1, number=k, state=TrialState.RUNNING, params=p))
        return [dict(p) for p in out]

    def tell(self, params, losses):
        from knoblab.trial import TrialState

        for t in self.history:
            if t.state == TrialState.RUNNING:
                for p, v in zip(params, losses):
                    if t.params == p:
                        t.state, t.value = TrialState.COMPLETE, float(v)
                        self.strategy.tell(t)
                        break


# ---- Optuna ----
class Optuna(Optimizer):
    def __init__(self, space, seed, budget, sampler: str):
        super().__init__(space, seed, budget)
        import optuna

        optuna.logging.set_verbosity(optuna.logging.WARNING)
        warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
        samplers = {
            "tpe": lambda: optuna.samplers.TPESampler(seed=seed),
            "gp": lambda: optuna.samplers.GPSampler(seed=seed),
            "random": lambda: optuna.samplers.RandomSampler(seed=seed),
        }
        self.study = optuna.create_study(direction="minimize", sampler=samplers[sampler]())
        self.dists = {}
        for p in space:
            if p.kind == "real":
                self.dists[p.name] = optuna.distributions.FloatDistribution(p.low, p.high, log=p.log)
            elif p.kind == "int":
                self.dists[p.name] = optuna.distributions.IntDistribution(int(p.low), int(p.high), log=p.log)
            else:
                self.dists[p.name] = optuna.distributions.CategoricalDistribution(list(p.choices))
        self.pending: list = []
        self.name = f"optuna-{sampler}"

    def ask(self, n):
        out = []
        for _ in range(n):
            trial = self.study.ask(self.dists)
            self.pending.append(trial)
            out.append(dict(trial.params))
        return out

    def tell(self, params, losses):
        for p, v in zip(params, losses):
            for t in self.pending:
                if t.params == p:
                    self.study.tell(t, float(v))
                    self.pending.remove(t)
                    break


# ---- Hyperopt ----
class Hyperopt(Optimizer):
    name = "hyperopt-tpe"

    def __init__(self, space, seed, budget):
        super().__init__(space, seed, budget)
        from hyperopt import hp
        from hyperopt.base import Domain, Trials

        hspace = {}
        for p in space:
            if p.kind == "real":
                hspace[p.name] = (
                    hp.loguniform(p.name, math.log(p.low), math.log(p.high))
                    if p.log
                    else hp.uniform(p.name, p.low, p.high)
                )
            elif p.kind == "int":
                # integers as in Bayesmark's hyperopt wrapper: a quantized (log-)uniform, rounded
                if p.log:
                    hspace[p.name] = hp.qloguniform(p.name, math.log(p.low), math.log(p.high + 1), 1)
                else:
                    hspace[p.name] = hp.quniform(p.name, p.low - 0.5, p.high + 0.5, 1)
            else:
                hspace[p.name] = hp.choice(p.name, list(p.choices))
        self.hspace = hspace
        self.domain = Domain(lambda x: 0.0, hspace)
        self.trials = Trials()
        self.rng = np.random.default_rng(seed)
        self.docs: list = []

    def _params(self, doc) -> dict[str, Any]:
        from hyperopt import space_eval

        vals = {k: v[0] for k, v in doc["misc"]["vals"].items() if v}
        out = dict(space_eval(self.hspace, vals))
        for p in self.space:
            if p.kind == "int":
                out[p.name] = int(min(max(round(out[p.name]), p.low), p.high))
        return out

    def ask(self, n):
        from hyperopt import tpe

        ids = self.trials.new_trial_ids(n)
        self.trials.refresh()
        docs = tpe.suggest(ids, self.domain, self.trials, int(self.rng.integers(2**31)))
        self.trials.insert_trial_docs(docs)
        self.trials.refresh()
        out = []
        for doc in self.trials._dynamic_trials[-n:]:
            p = self._params(doc)
            self.docs.append((doc, p))
            out.append(p)
        return out

    def tell(self, params, losses):
        from hyperopt import JOB_STATE_DONE, STATUS_OK

        for p, v in zip(params, losses):
            for i, (doc, q) in enumerate(self.docs):
                if q == p:
                    doc["state"] = JOB_STATE_DONE
                    doc["result"] = {"loss": float(v), "status": STATUS_OK}
                    del self.docs[i]
                    break
        self.trials.refresh()


# ---- scikit-optimize ----
class Skopt(Optimizer):
    name = "skopt-gp"

    def __init__(self, space, seed, budget):
        super().__init__(space, seed, budget)
        from skopt import Optimizer as SkOptimizer
        from skopt.space import Categorical, Integer, Real

        dims = []
        for p in space:
            prior = "log-uniform" if p.log else "uniform"
            if p.kind == "real":
                dims.append(Real(p.low, p.high, prior=prior, name=p.name))
            elif p.kind == "int":
                dims.append(Integer(int(p.low), int(p.high), prior=prior, name=p.name))
            else:
                dims.append(Categorical(list(p.choices), name=p.name))
        self.opt = SkOptimizer(dims, base_estimator="GP", random_state=seed, n_initial_points=min(10, budget))
        self.names = [p.name for p in space]

    def ask(self, n):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            xs = self.opt.ask(n_points=n) if n > 1 else [self.opt.ask()]
        return [{k: _plain(v) for k, v in zip(self.names, x)} for x in xs]

    def tell(self, params, losses):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            self.opt.tell([[p[k] for k in self.names] for p in params], [float(v) for v in losses])


def _plain(v):
    return v.item() if isinstance(v, np.generic) else v


OPTIMIZERS = {
    "knoblab-auto": lambda s, seed, b: Knoblab(s, seed, b, "auto"),
    "knoblab-gp": lambda s, seed, b: Knoblab(s, seed, b, "gp"),
    "knoblab-tpe": lambda s, seed, b: Knoblab(s, seed, b, "tpe"),
    "knoblab-cmaes": lambda s, seed, b: Knoblab(s, seed, b, "cmaes"),
    "knoblab-random": lambda s, seed, b: Knoblab(s, seed, b, "random"),
    "optuna-tpe": lambda s, seed, b: Optuna(s, seed, b, "tpe"),
    "optuna-gp": lambda s, seed, b: Optuna(s, seed, b, "gp"),
    "optuna-random": lambda s, seed, b: Optuna(s, seed, b, "random"),
    "hyperopt-tpe": Hyperopt,
    "skopt-gp": Skopt,
}


def make_optimizer(name: str, space: list[Param], seed: int, budget: int) -> Optimizer:
    if name not in OPTIMIZERS:
        raise ValueError(f"optimizer: got {name!r}; allowed: {sorted(OPTIMIZERS)}")
    return OPTIMIZERS[name](space, seed, budget)


def available() -> list[str]:
    """The optimizers whose library is installed."""
    out = []
    for name in OPTIMIZERS:
        lib = {"optuna": "optuna", "hyperopt": "hyperopt", "skopt": "skopt", "knoblab": "knoblab"}[name.split("-")[0]]
        try:
            __import__(lib)
            out.append(name)
        except ImportError:
            pass
    return out
