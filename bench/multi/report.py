"""The multi-objective benchmark's tables, from bench/results/multi/*.jsonl (see bench/multi/run.py).

    .venv/bin/python -m bench.multi.report [--results bench/results/multi]

For each problem and budget (100 and 300 evaluations): the hypervolume of every optimizer's points (mean and
standard error over seeds; from runs of exactly that many evaluations when there are any, else from the first
evaluations of longer runs), then knoblab `auto` against the best peer on that problem (the peer with the highest
mean): the paired difference over the seeds both ran, with its standard error. Then the seconds of one ask + tell
at 300 trials: the median over the last ten suggestions of each 300-evaluation run, then over runs, and the
measurements of bench/multi/overhead.py (every optimizer told the same 300 finished trials, then timed on five
suggestions), by problem and by the optimizer that made the history.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

import numpy as np

from knoblab.pareto import hypervolume

RESULTS = Path(__file__).resolve().parents[1] / "results" / "multi"
OURS = "knoblab-auto"
OVERHEAD = "overhead.jsonl"


def load(folder: Path) -> list[dict]:
    rows = []
    for path in sorted(folder.glob("*.jsonl")):
        if path.name.startswith("quick-") or path.name in ("keras_table.jsonl", OVERHEAD):
            continue
        for line in path.read_text().splitlines():
            try:
                r = json.loads(line)
            except json.JSONDecodeError:
                continue
            if "error" not in r:
                rows.append(r)
    return rows


def hv_at(r: dict, k: int) -> float:
    sign = np.array([1.0 if d == "min" else -1.0 for d in r["directions"]])
    L = np.asarray(r["values"][:k], dtype=float) * sign
    return hypervolume(L, np.asarray(r["reference"]) * sign)


def table(rows: list[dict], budgets=(100, 300)) -> dict:
    """{(problem, budget): {optimizer: {seed: hypervolume}}} preferring runs of exactly `budget` evaluations."""
    out: dict = defaultdict(lambda: defaultdict(dict))
    for budget in budgets:
        exact = {(r["problem"], r["optimizer"], r["seed"]) for r in rows if r["evaluations"] == budget}
        for r in rows:
            key = (r["problem"], r["optimizer"], r["seed"])
            if r["evaluations"] == budget or (r["evaluations"] > budget and key not in exact):
                out[(r["problem"], budget)][r["optimizer"]][r["seed"]] = hv_at(r, budget)
    return out


def mean_se(xs) -> tuple[float, float]:
    xs = np.asarray(list(xs), dtype=float)
    if len(xs) < 2:
        return float(xs.mean()) if len(xs) else math.nan, math.nan
    return float(xs.mean()), float(xs.std(ddof=1) / math.sqrt(len(xs)))


def fmt(m: float, se: float, digits: int = 4) -> str:
    if math.isnan(m):
        return "-"
    return f"{m:.{digits}g} ± {se:.2g}" if not math.isnan(se) else f"{m:.{digits}g}"


def overhead_table(rows: list[dict]) -> list[str]:
    """bench/multi/overhead.py's rows: median seconds per suggestion by (history, problem) and optimizer."""
    cells: dict = defaultdict(lambda: defaultdict(list))
    loads: dict = defaultdict(list)
    fronts: dict = defaultdict(list)
    for r in rows:
        key = (r.get("history", "optuna-nsga2"), r["problem"], r["trials"])
        cells[key][r["optimizer"]].append(r["median_seconds"])
        loads[key].append(r["load"])
        fronts[key].append(r.get("front", math.nan))
    optimizers = sorted({r["optimizer"] for r in rows}, key=lambda o: (o != OURS, o))
    lines = [
        "### seconds per suggestion with the same finished trials told to each (bench/multi/overhead.py)",
        "",
        "| history made by | problem | trials | non-dominated | " + " | ".join(optimizers) + " | runs | load |",
        "|---|---|---:|---:|" + "---:|" * len(optimizers) + "---:|---:|",
    ]
    for key in sorted(cells):
        history, problem, trials = key
        row = [history, problem, str(trials), f"{np.nanmedian(fronts[key]):.0f}"]
        row += [f"{np.median(cells[key][o]):.3g}" if cells[key][o] else "-" for o in optimizers]
        row += [str(max(len(v) for v in cells[key].values())), f"{np.median(loads[key]):.1f}"]
        lines.append("| " + " | ".join(row) + " |")
    ratios = defaultdict(list)
    for key in cells:
        for o in optimizers:
            if o != OURS and cells[key][o] and cells[key][OURS]:
                ratios[(key[0], o)].append(np.median(cells[key][OURS]) / np.median(cells[key][o]))
    for (history, o), rs in sorted(ratios.items()):
        lines.append(
            f"\nhistory by {history}: {OURS} / {o} seconds per suggestion, by problem: "
            + ", ".join(f"{x:.2g}" for x in rs)
            + f" (higher for {OURS} on {sum(x > 1 for x in rs)} of {len(rs)})"
        )
    return lines


def load_overhead(folder: Path) -> list[dict]:
    path = folder / OVERHEAD
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def report(rows: list[dict], overhead: list[dict] | None = None) -> str:
    t = table(rows)
    optimizers = sorted({r["optimizer"] for r in rows}, key=lambda o: (o != OURS, o))
    maxima = {r["problem"]: r["max_hypervolume"] for r in rows}
    lines = []
    ahead = defaultdict(list)
    for budget in (100, 300):
        lines += [
            f"### hypervolume after {budget} evaluations (mean ± standard error over seeds; higher is better)",
            "",
            "| problem | max | " + " | ".join(optimizers) + " | auto − best peer (paired) | seeds |",
            "|---|---:|" + "---:|" * len(optimizers) + "---:|---:|",
        ]
        for problem in sorted({p for p, b in t if b == budget}):
            cells = t[(problem, budget)]
            stats = {o: mean_se(cells[o].values()) for o in optimizers if o in cells}
            peers = [o for o in stats if o != OURS]
            diff_text, n = "-", 0
            if OURS in cells and peers:
                best = max(peers, key=lambda o: stats[o][0])
                seeds = sorted(set(cells[OURS]) & set(cells[best]))
                n = len(seeds)
                d, se = mean_se(cells[OURS][s] - cells[best][s] for s in seeds)
                diff_text = f"{d:+.3g} ± {se:.2g} vs {best}"
                ahead[budget].append((problem, d, se))
            row = [problem, f"{maxima.get(problem, math.nan):.4g}"]
            row += [fmt(*stats[o]) if o in stats else "-" for o in optimizers]
            row += [diff_text, str(n)]
            lines.append("| " + " | ".join(row) + " |")
        wins = [p for p, d, se in ahead[budget] if not math.isnan(se) and d > se]
        lines += [
            "",
            f"auto ahead of the best peer by more than one standard error on {len(wins)} of "
            f"{len(ahead[budget])} problems at {budget} evaluations: {', '.join(wins) or 'none'}",
            "",
        ]
    # overhead at 300 trials
    per: dict = defaultdict(list)
    for r in rows:
        if r["evaluations"] >= 300 and len(r.get("ask_tell_seconds", [])) >= 300:
            per[r["optimizer"]].append(float(np.median(r["ask_tell_seconds"][290:300])))
    lines += [
        "### seconds per suggestion (ask + tell) at 300 trials",
        "",
        "| optimizer | median over runs | runs | machine load (1-min average, median) |",
        "|---|---:|---:|---:|",
    ]
    loads = defaultdict(list)
    for r in rows:
        loads[r["optimizer"]].append(r.get("load", math.nan))
    for o in optimizers:
        if per[o]:
            lines.append(f"| {o} | {np.median(per[o]):.3g} | {len(per[o])} | {np.nanmedian(loads[o]):.1f} |")
    choices = defaultdict(lambda: defaultdict(int))
    for r in rows:
        if r["optimizer"] == OURS:
            choices[r["problem"]][r.get("choice")] += 1
    if overhead:
        lines += [""] + overhead_table(overhead)
    lines += ["", "auto's choice: " + "; ".join(f"{p}: {dict(c)}" for p, c in sorted(choices.items()))]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--results", type=Path, default=RESULTS)
    args = ap.parse_args(argv)
    print(report(load(args.results), load_overhead(args.results)))


if __name__ == "__main__":
    main()
