"""Tables from bench/results/*.jsonl, in markdown: `.venv/bin/python -m bench.report [--results DIR]`.

(a) Bayesmark scoring (NeurIPS 2020 black-box optimization challenge): per problem, normalized loss =
    (best so far - best ever seen) / (random search's median first-batch best - best ever seen), clipped to [0, 1];
    score = 100 x (1 - normalized loss), averaged over problems. Reported after the last batch (final) and averaged
    over all batches (any time). Standard errors are over seeds (each seed's score averaged over problems); the
    paired difference to each optimizer uses the same problems and seeds.
(b) Simple regret (best - optimum; for bbob functions, best - best ever seen by any run) at fixed budgets:
    the mean of log10 regret and the geometric-mean ratio to random search's regret, with standard errors;
    plus the same normalized score as (a), random's median best after 10 evaluations as the reference.
(c) Seconds per suggestion (ask + tell of one point) at a given number of finished trials, 10 real knobs.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from .run import RESULTS

RANDOMS = ("knoblab-random", "optuna-random")


def load(path: Path) -> list[dict]:
    if not path.exists():
        return []
    rows = []
    for line in path.read_text().splitlines():
        try:
            r = json.loads(line)
        except json.JSONDecodeError:
            continue
        if "losses" in r:
            rows.append(r)
    return rows


def complete_seeds(rows: list[dict]) -> list[dict]:
    """Only the (problem, seed) cells that every compared optimizer finished, so all are compared on the same runs.
    Compared: the optimizers present in at least half as many cells as the median optimizer (one run apart on
    fewer cells, such as the slow scikit-optimize, does not shrink the table to its cells)."""
    cells = defaultdict(set)
    for r in rows:
        cells[(r["problem"], r["seed"])].add(r["optimizer"])
    count = defaultdict(int)
    for opts in cells.values():
        for o in opts:
            count[o] += 1
    if not count:
        return []
    common = {o for o, c in count.items() if c >= 0.5 * float(np.median(list(count.values())))}
    keep = {c for c, o in cells.items() if common <= o}
    return [r for r in rows if (r["problem"], r["seed"]) in keep and r["optimizer"] in common]


def normalized(rows: list[dict], ref_evals: int) -> dict[tuple, np.ndarray]:
    """(problem, optimizer, seed) -> normalized loss after each batch (Bayesmark)."""
    by_problem = defaultdict(list)
    for r in rows:
        by_problem[r["problem"]].append(r)
    out = {}
    for problem, rs in by_problem.items():
        best_ever = min(min(r["losses"]) for r in rs)
        if rs[0].get("optimum") is not None:
            best_ever = min(best_ever, rs[0]["optimum"])
        firsts = [min(r["losses"][:ref_evals]) for r in rs if r["optimizer"] in RANDOMS]
        ref = float(np.median(firsts)) if firsts else max(max(r["losses"]) for r in rs)
        span = ref - best_ever
        for r in rs:
            batch = r.get("batch", 1)
            curve = np.minimum.accumulate(np.array(r["losses"]))[batch - 1 :: batch]
            norm = np.clip((curve - best_ever) / span, 0.0, 1.0) if span > 0 else np.zeros_like(curve)
            out[(problem, r["optimizer"], r["seed"])] = norm
    return out


def score_table(rows: list[dict], ref_evals: int, at: int | None = None) -> str:
    rows = complete_seeds(rows)
    if not rows:
        return "(no complete results yet)\n"
    norm = normalized(rows, ref_evals)
    problems = sorted({k[0] for k in norm})
    optimizers = sorted({k[1] for k in norm})
    seeds = sorted({k[2] for k in norm})

    def per_seed(opt, final: bool):
        out = []
        for s in seeds:
            vals = []
            for p in problems:
                if (p, opt, s) in norm:
                    curve = norm[(p, opt, s)] if at is None else norm[(p, opt, s)][:at]
                    vals.append(curve[-1] if final else curve.mean())
            if vals:
                out.append(100 * (1 - np.mean(vals)))
        return np.array(out)

    final = {o: per_seed(o, True) for o in optimizers}
    anytime = {o: per_seed(o, False) for o in optimizers}
    ranked = sorted(optimizers, key=lambda o: -final[o].mean())
    best_peer = next((o for o in ranked if not o.startswith("knoblab")), None)
    # the goal names two peers: the best one, and Optuna's default (TPE)
    refs = [o for o in dict.fromkeys([best_peer, "optuna-tpe"]) if o in final]
    lines = [
        f"{len(problems)} problems x {len(seeds)} seeds (the same for every optimizer). Mean ± standard error over seeds.",
        "",
        "| optimizer | final score | any-time score |" + "".join(f" final - {r} (paired) |" for r in refs),
        "| --- | ---: | ---: |" + " ---: |" * len(refs),
    ]
    se = lambda a: a.std(ddof=1) / np.sqrt(len(a)) if len(a) > 1 else float("nan")  # noqa: E731
    for o in ranked:
        diffs = "".join(f" {(final[o] - final[r]).mean():+.1f} ± {se(final[o] - final[r]):.1f} |" for r in refs)
        lines.append(
            f"| {o} | {final[o].mean():.1f} ± {se(final[o]):.1f} | {anytime[o].mean():.1f} ± {se(anytime[o]):.1f} "
            f"|{diffs}"
        )
    lines += ["", "Final score per problem (mean over seeds):", ""]
    lines.append("| problem | " + " | ".join(ranked) + " |")
    lines.append("| --- |" + " ---: |" * len(ranked))
    for p in problems:
        cells = []
        for o in ranked:
            v = [100 * (1 - norm[(p, o, s)][-1 if at is None else at - 1]) for s in seeds if (p, o, s) in norm]
            cells.append(f"{np.mean(v):.0f}")
        lines.append(f"| {p} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def regret_table(rows: list[dict], budgets=(20, 50)) -> str:
    rows = complete_seeds(rows)
    if not rows:
        return "(no complete results yet)\n"
    by = defaultdict(dict)
    problems = sorted({r["problem"] for r in rows})
    optimizers = sorted({r["optimizer"] for r in rows})
    best_ever = {}
    for p in problems:
        rs = [r for r in rows if r["problem"] == p]
        opt = rs[0].get("optimum")
        best_ever[p] = opt if opt is not None else min(min(r["losses"]) for r in rs)
    for r in rows:
        by[(r["problem"], r["optimizer"])][r["seed"]] = np.minimum.accumulate(np.array(r["losses"]))
    lines = []
    for b in budgets:
        lines += [
            f"Budget {b}: mean log10 simple regret ± standard error over seeds (lower is better); last row: "
            "geometric-mean ratio of regret to knoblab-random's, over all functions and seeds (lower is better).",
            "",
            "| function | " + " | ".join(optimizers) + " |",
            "| --- |" + " ---: |" * len(optimizers),
        ]
        logs = defaultdict(list)
        for p in problems:
            cells = []
            for o in optimizers:
                seeds = by[(p, o)]
                lr = np.array(
                    [np.log10(max(seeds[s][min(b, len(seeds[s])) - 1] - best_ever[p], 1e-8)) for s in sorted(seeds)]
                )
                base = by.get((p, "knoblab-random"))
                if base:
                    lb = np.array(
                        [np.log10(max(base[s][min(b, len(base[s])) - 1] - best_ever[p], 1e-8)) for s in sorted(seeds)]
                    )
                    logs[o].extend(lr - lb)
                se = lr.std(ddof=1) / np.sqrt(len(lr)) if len(lr) > 1 else float("nan")
                cells.append(f"{lr.mean():.2f} ± {se:.2f}")
            lines.append(f"| {p} | " + " | ".join(cells) + " |")
        ratios = []
        for o in optimizers:
            v = np.array(logs[o])
            se = v.std(ddof=1) / np.sqrt(len(v)) if len(v) > 1 else float("nan")
            ratios.append(f"{10 ** v.mean():.2f} (×/÷ {10**se:.2f})" if len(v) else "-")
        lines.append("| **ratio to random** | " + " | ".join(ratios) + " |")
        lines.append("")
    return "\n".join(lines) + "\n"


def overhead_table(path: Path) -> str:
    if not path.exists():
        return "(no results yet)\n"
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    sizes = sorted({r["trials"] for r in rows})
    optimizers = sorted({r["optimizer"] for r in rows})
    cell = {(r["optimizer"], r["trials"]): r for r in rows}  # a later measurement replaces an earlier one
    lines = [
        "| optimizer | " + " | ".join(f"{n} trials" for n in sizes) + " |",
        "| --- |" + " ---: |" * len(sizes),
    ]
    for o in optimizers:
        cells = []
        for n in sizes:
            r = cell.get((o, n))
            cells.append(f"{r['seconds']:.4f} s (load {r['load']:.1f})" if r else "-")
        lines.append(f"| {o} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def with_overrides(rows: list[dict], name: str, overrides: list[Path]) -> list[dict]:
    """Rows of optimizers rerun (after a change to their code) into an override folder replace all of theirs."""
    for folder in overrides:
        new = load(folder / name)
        rerun = {r["optimizer"] for r in new}
        rows = [r for r in rows if r["optimizer"] not in rerun] + new
    return rows


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--results", type=Path, default=RESULTS)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--override", type=Path, nargs="*", default=[], help="folders of reruns that replace rows")
    args = ap.parse_args(argv)
    tag = "quick-" if args.quick else ""
    print("## (a) Bayesmark-style: scikit-learn models, 16 batches of 8\n")
    a_rows = with_overrides(load(args.results / f"{tag}a_sklearn.jsonl"), f"{tag}a_sklearn.jsonl", args.override)
    print(score_table(a_rows, ref_evals=8))
    print("## (b) Synthetic functions, one point at a time\n")
    b_rows = with_overrides(load(args.results / f"{tag}b_synthetic.jsonl"), f"{tag}b_synthetic.jsonl", args.override)
    print(regret_table(b_rows, budgets=(20, 50) if not args.quick else (6, 12)))
    print("Normalized score on the synthetic functions, as in (a) (reference: random's median best of 10):\n")
    print(score_table(b_rows, ref_evals=10))
    print("## (c) Overhead: seconds per suggestion, 10 real knobs\n")
    print(overhead_table(args.results / f"{tag}c_overhead.jsonl"))


if __name__ == "__main__":
    main()
