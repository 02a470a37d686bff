"""Tables of the Keras comparison: test accuracy of each tool's selected configuration, epochs, seconds, overhead.

    python -m bench.keras.report [--results bench/results/keras/results.jsonl ...] [--full-trials ...]
                                 [--score mean] [--replaced-as " (before)"]

Mean ± standard error over seeds; paired differences (same task, budget and seed) against knoblab's default and
against Keras Tuner Hyperband; "all tasks" pairs every (task, seed). `--score first` (the default) scores a row by
its first retraining, `--score mean` by the mean of its retrainings (`test_accuracies`, run.py --retrains or
rescore.py); rows without them are left out, and the report says how many.
"""

from __future__ import annotations

import argparse
import json
import math
from collections import defaultdict
from pathlib import Path

from .full_trials import DEFAULT_OUT as FULL_OUT
from .run import DEFAULT_OUT

ORDER = ["knoblab-default", "knoblab-random", "kt-hyperband", "kt-bayesian", "optuna-tpe-hyperband", "talos-random"]


def _load(path: Path) -> list[dict]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def mean_se(xs: list[float]) -> tuple[float, float]:
    n = len(xs)
    m = sum(xs) / n
    se = math.sqrt(sum((x - m) ** 2 for x in xs) / (n - 1) / n) if n > 1 else float("nan")
    return m, se


def _fmt(xs: list[float], digits: int = 3, sign: bool = False) -> str:
    if not xs:
        return "-"
    m, se = mean_se(xs)
    return f"{m:+.{digits}f} ± {se:.{digits}f}" if sign else f"{m:.{digits}f} ± {se:.{digits}f}"


def _paired(cells: dict, tool: str, ref: str) -> list[float]:
    a, b = cells.get(tool, {}), cells.get(ref, {})
    return [a[k] - b[k] for k in sorted(set(a) & set(b))]


def score(row: dict, how: str) -> float:
    """A row's test accuracy: its first retraining, or the mean of all of them."""
    if how == "first":
        return row["test_accuracy"]
    accs = row["test_accuracies"]
    return sum(accs) / len(accs)


def comparison(rows: list[dict], how: str = "first") -> str:
    out = []
    if how == "mean":
        several = [r for r in rows if len(r.get("test_accuracies", [])) > 1]
        if len(several) < len(rows):
            out.append(f"\n({len(rows) - len(several)} rows with one retraining left out of --score mean)")
        rows = several
        retrains = sorted({len(r["test_accuracies"]) for r in rows})
        out.append(f"\nscore: mean test accuracy over {'/'.join(map(str, retrains))} retrainings of each pick")
    budgets = sorted({r["budget"] for r in rows})
    tasks = sorted({r["task"] for r in rows})
    for budget in budgets:
        # only (task, seed) cells that every tool of this budget has finished: the means compare like with like
        at = [r for r in rows if r["budget"] == budget]
        names = {r["tool"] for r in at}
        have: dict[tuple, set] = defaultdict(set)
        for r in at:
            have[(r["task"], r["seed"])].add(r["tool"])
        whole = {cell for cell, got in have.items() if got == names}
        if len(whole) < len(have):
            out.append(
                f"\n({budget} epochs: {len(have) - len(whole)} (task, seed) cells not finished by every tool left out)"
            )
        for task in [*tasks, "all tasks"]:
            sel = [r for r in at if (r["task"], r["seed"]) in whole and (task == "all tasks" or r["task"] == task)]
            if not sel:
                continue
            acc: dict[str, dict] = defaultdict(dict)
            for r in sel:
                acc[r["tool"]][(r["task"], r["seed"])] = score(r, how)
            seeds = sorted({r["seed"] for r in sel})
            out.append(f"\n#### {task}, {budget} epochs ({len(seeds)} seeds: {seeds[0]}-{seeds[-1]})\n")
            out.append(
                "| tool | test accuracy | - knoblab default (paired) | - KT Hyperband (paired) | epochs | fits "
                "| search s | s outside fit per fit |"
            )
            out.append("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
            tools = [t for t in ORDER if t in acc] + sorted(set(acc) - set(ORDER))
            for tool in tools:
                mine = [r for r in sel if r["tool"] == tool]
                out.append(
                    f"| {tool} (n={len(mine)}) | {_fmt(list(acc[tool].values()))} "
                    f"| {_fmt(_paired(acc, tool, 'knoblab-default'), sign=True)} "
                    f"| {_fmt(_paired(acc, tool, 'kt-hyperband'), sign=True)} "
                    f"| {sum(r['epochs'] for r in mine) / len(mine):.0f} "
                    f"| {sum(r['fits'] for r in mine) / len(mine):.1f} "
                    f"| {sum(r['search_seconds'] for r in mine) / len(mine):.0f} "
                    f"| {sum(r['overhead_per_fit'] for r in mine) / len(mine):.2f} |"
                )
    return "\n".join(out)


def full_trials(rows: list[dict], how: str = "first") -> str:
    out = ["\n#### knoblab GP against random search at 8, 16, 32 full trials\n"]
    if how == "mean":
        several = [r for r in rows if len(r.get("test_accuracies", [])) > 1]
        if len(several) < len(rows):
            out.append(f"({len(rows) - len(several)} rows with one retraining left out of --score mean)\n")
        rows = several
        if not rows:
            return out[0] + "no rows with several retrainings"
    out.append("| task | full trials | GP | random | GP - random (paired) | seeds |")
    out.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    tasks = sorted({r["task"] for r in rows})
    for task in [*tasks, "all tasks"]:
        for k in sorted({r["full_trials"] for r in rows}):
            sel = [r for r in rows if r["full_trials"] == k and (task == "all tasks" or r["task"] == task)]
            acc: dict[str, dict] = defaultdict(dict)
            for r in sel:
                acc[r["strategy"]][(r["task"], r["seed"])] = score(r, how)
            pairs = _paired(acc, "gp", "random")
            out.append(
                f"| {task} | {k} | {_fmt(list(acc['gp'].values()))} | {_fmt(list(acc['random'].values()))} "
                f"| {_fmt(pairs, sign=True)} | {len(pairs)} |"
            )
    return "\n".join(out)


def merge(files: list[list[dict]], replaced_as: str | None = None) -> list[dict]:
    """The rows of several results files; a later file's row replaces an earlier one's for the same (task, tool,
    budget, seed), e.g. a tool rerun after a change. With `replaced_as`, each replaced row stays, renamed to its
    tool name + that suffix, so the old and the new version compare side by side on the same cells."""
    cells: dict[tuple, dict] = {}
    replaced: list[dict] = []
    for rows in files:
        for r in rows:
            key = (r["task"], r["tool"], r["budget"], r["seed"])
            if key in cells:
                replaced.append(cells[key])
            cells[key] = r
    if replaced_as:
        return [*cells.values(), *({**r, "tool": r["tool"] + replaced_as} for r in replaced)]
    return list(cells.values())


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--results", type=Path, nargs="+", default=[DEFAULT_OUT], help="one or more results files")
    ap.add_argument("--full-trials", type=Path, nargs="+", default=[FULL_OUT], help="one or more files")
    ap.add_argument("--score", choices=["first", "mean"], default="first")
    ap.add_argument(
        "--replaced-as",
        metavar="SUFFIX",
        help="keep the rows a later results file replaces, as tool name + SUFFIX (default: drop them)",
    )
    args = ap.parse_args(argv)
    rows = merge([_load(path) for path in args.results], args.replaced_as)
    if rows:
        print(comparison(rows, args.score))
    ft = [r for path in args.full_trials for r in _load(path)]
    if ft:
        print(full_trials(ft, args.score))
    if not rows and not ft:
        print(f"no results in {' '.join(map(str, [*args.results, *args.full_trials]))}")


if __name__ == "__main__":
    main()
