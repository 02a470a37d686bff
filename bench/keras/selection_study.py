"""Which stored trial should a Keras search call its best? Selection rules compared on the same searches.

    BENCH_KERAS_KEEP_DB=/tmp/dev/db python -m bench.keras.run --tools knoblab-default ... --first-seed 10
    python -m bench.keras.selection_study --db /tmp/dev/db --out bench/results/keras/selection_study.jsonl

Each stored search (a knoblab SQLite file kept by `run.py`) is read once; every rule picks one of its candidate
trials (`knoblab.selection.candidates`: the trials that trained in full, or reached the top rung), and each distinct
pick is retrained 5 times and scored on the test split exactly as `run.py` scores a tool's pick. Paired by search,
a rule's gain over `value` (knoblab's rule today) is measured without any new search.

Rules:
- `value`: `knoblab.selection.ranked` (the best smoothed value, ties by val_loss);
- `posterior`: the candidate with the best posterior mean of a GP fitted to every observation of the search (the
  search's own GP: rung results through its fidelity input, read at full fidelity), which pools a trial's noisy
  value with its neighbours';
- `posterior-top5`: `posterior` among the 5 best candidates by value only.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path

os.environ.setdefault("KERAS_BACKEND", "torch")


def picks(db: Path, name: str) -> dict[str, dict]:
    import numpy as np

    import knoblab as kl
    from knoblab import selection
    from knoblab.strategies.gp import GPSearch

    storage = f"sqlite:///{db}"
    exp = kl.Experiment.load(name, storage=storage)
    trials = exp.trials
    order = selection.ranked(trials, exp.metric, exp.direction)
    out = {"value": order[0]}
    gp_search = GPSearch()  # the model the search's GP fits, on every trial the search stored
    gp_search.setup(exp.space, seed=0, direction=exp.direction)
    gp = gp_search._model(*gp_search._observations(trials))[0]
    rows = gp_search.canon(np.array([gp_search.enc.encode_trial(t) for t in order]))
    mean = gp.predict(*gp_search._inputs(rows))[0]  # losses (lower is better), at full fidelity
    out["posterior"] = order[int(np.argmin(mean))]
    top = min(5, len(order))
    out["posterior-top5"] = order[int(np.argmin(mean[:top]))]
    out["_n"] = len(order)
    return out


def main(argv: list[str] | None = None) -> None:
    from knoblab.keras import hygiene

    from . import spaces, tasks
    from .run import retrain

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--retrains", type=int, default=5)
    args = ap.parse_args(argv)
    hygiene.limit_threads(1)
    done = set()
    if args.out.exists():
        done = {json.loads(line)["search"] for line in args.out.read_text().splitlines() if line.strip()}
    for db in sorted(args.db.glob("*.db")):
        if db.stem in done:
            continue
        task = next(t for t in tasks.ALL_TASKS if db.stem.startswith(t))
        budget, seed = (int(x) for x in db.stem.rsplit("-", 2)[1:])
        chosen = picks(db, f"{task}-{seed}")  # the experiment name bench/keras/tools.py gives
        split = tasks.ALL_TASKS[task]()
        scored: dict[int, dict] = {}
        row = {"search": db.stem, "task": task, "budget": budget, "seed": seed, "candidates": chosen.pop("_n")}
        for rule, trial in chosen.items():
            if trial.number not in scored:
                params = {k: trial.params[k] for k in spaces.KNOBS[task]}
                scored[trial.number] = {
                    "trial": trial.number,
                    "params": params,
                    **retrain(task, split, params, seed, args.retrains),
                }
            row[rule] = scored[trial.number]
        with args.out.open("a") as f:
            f.write(json.dumps(row) + "\n")
        means = {r: round(sum(row[r]["test_accuracies"]) / args.retrains, 4) for r in chosen}
        print(db.stem, row["candidates"], means, flush=True)


if __name__ == "__main__":
    main()
