"""Epochs (compute) each method needs to reach a target best value, from the JSON lines the runs append.

    python -m bench.multifidelity.summarize bench/multifidelity/results/offline.jsonl [...]

The target of a problem is what full-budget random search reaches, in the median over seeds, after K full
trials (K * max_epochs epochs); every method's epochs to reach it are counted per seed (a run that never reaches it
counts as infinite), and the table gives the median over seeds and the ratio to random search's expected epochs (for mfh3/mfh6 from the function itself,
else fitted to every random run).
"""

from __future__ import annotations

import json
import math
import statistics
import sys
from collections import defaultdict

TARGET_TRIALS = {"mfh3": (30, 100), "mfh6": (30, 100), "keras-digits-mlp": (10, 25)}
MAX_EPOCHS = {"mfh3": 100, "mfh6": 100, "keras-digits-mlp": 27}


def expected_random_epochs(problem: str, target: float, n: int = 400_000) -> float | None:
    """Random search's expected epochs to reach `target` on mfh3/mfh6: max_epochs / P(f(x) <= target), with P
    estimated from n uniform points (at full fidelity the function is the noiseless Hartmann function)."""
    if not problem.startswith("mfh"):
        return None
    import numpy as np

    from . import mfh

    dims = int(problem[-1])
    A, P = (mfh.A3, mfh.P3) if dims == 3 else (mfh.A6, mfh.P6)
    x = np.random.default_rng(0).random((n, dims))
    inner = np.sum(A[None] * (x[:, None, :] - 0.0001 * P[None]) ** 2, axis=-1)
    h = -np.sum(mfh.ALPHA * np.exp(-inner), axis=-1)
    p = float(np.mean(h <= target))
    return math.inf if p == 0 else MAX_EPOCHS[problem] / p


def geometric_random_epochs(runs, target: float, max_epochs: int) -> float:
    """Random search's expected epochs to reach `target`, from its runs: each full-budget trial reaches it with
    probability p (the maximum-likelihood p of the geometric law over every run, censored ones included)."""
    hits, trials = 0, 0
    for r in runs:
        n = len(r["trajectory"])  # one point per full-budget trial
        first = next((i + 1 for i, (_, best) in enumerate(r["trajectory"]) if best <= target), None)
        if first is None:
            trials += n
        else:
            hits, trials = hits + 1, trials + first
    return math.inf if hits == 0 else max_epochs * trials / hits


def epochs_to(trajectory, target):
    for epochs, best in trajectory:
        if best <= target:
            return epochs
    return math.inf


def best_after(trajectory, epochs):
    best = math.inf
    for e, b in trajectory:
        if e <= epochs:
            best = b
    return best


def table(records):
    by = defaultdict(lambda: defaultdict(dict))
    for r in records:
        by[r["problem"]][r["method"]][r["seed"]] = r
    out = []
    for problem, methods in by.items():
        random_runs = methods["random (full budget)"]
        seeds = sorted(set.intersection(*(set(m) for m in methods.values())))
        if not seeds:
            continue
        out.append(
            f"\n**{problem}** ({next(iter(random_runs.values()))['source']}; {len(seeds)} seeds, "
            f"max {MAX_EPOCHS[problem]} epochs a trial, eta = 3, min resource 1)\n"
        )
        header = "| method | trials run | epochs run |"
        rule = "| --- | ---: | ---: |"
        targets = []
        for k in TARGET_TRIALS[problem]:
            t = statistics.median(best_after(random_runs[s]["trajectory"], k * MAX_EPOCHS[problem]) for s in seeds)
            targets.append((k, t))
            header += f" epochs to {t:.4g} (random's best after {k} trials) | x less than random |"
            rule += " ---: | ---: |"
        out += [header, rule]
        base = {}
        for k, t in targets:
            base[k] = statistics.median(epochs_to(random_runs[s]["trajectory"], t) for s in seeds)
            expected = expected_random_epochs(problem, t)
            if expected is None:
                expected = geometric_random_epochs([random_runs[s] for s in random_runs], t, MAX_EPOCHS[problem])
            base[k] = expected  # an expectation, not a few-seed median, is the baseline
        if True:
            how = "P estimated from 400,000 points" if problem.startswith("mfh") else "P fitted to every random run"
            row = f"| random (full budget), expected: max_epochs / P(value <= target), {how} | | |"
            for k, _ in targets:
                row += f" {base[k]:.0f} | 1.0 |"
            out.append(row)
        for method, runs in methods.items():
            row = f"| {method} | {statistics.median(runs[s]['trials'] for s in seeds):.0f} | "
            row += f"{statistics.median(runs[s]['epochs'] for s in seeds):.0f} |"
            for k, t in targets:
                need = statistics.median(epochs_to(runs[s]["trajectory"], t) for s in seeds)
                ratio = base[k] / need if need and math.isfinite(need) else 0.0
                need_text = "not reached" if math.isinf(need) else f"{need:.0f}"
                per_seed = ", ".join(
                    "-" if math.isinf(e) else str(e) for e in (epochs_to(runs[s]["trajectory"], t) for s in seeds)
                )
                row += f" {need_text} ({per_seed}) | {ratio:.1f} |"
            out.append(row)
    return "\n".join(out)


def main() -> None:
    records = []
    for path in sys.argv[1:]:
        with open(path) as f:
            records += [json.loads(line) for line in f if line.strip()]
    print(table(records))


if __name__ == "__main__":
    main()
