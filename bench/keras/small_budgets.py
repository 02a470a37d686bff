"""knoblab's GP at small budgets on the synthetic functions of bench part (b): regret at 8, 16, 32 (and 20, 50)
evaluations, the GP as it is now against itself before issue 13 and against random search, paired by seed.

    python -m bench.keras.small_budgets [--now bench/results/gp_v3/b_synthetic.jsonl]

"before": knoblab-auto's rows of bench/results/v2 (the GP with clip(d + 1, 5, 10) Sobol points); "random":
knoblab-random's of bench/results/b_synthetic.jsonl; "now": a rerun of knoblab-auto with this code
(`python -m bench.run --part b --optimizers knoblab-auto --results bench/results/gp_v3`). On these functions
`auto` chooses the GP.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

from ..report import regret_table


def _rows(path: Path, optimizer: str, name: str) -> list[dict]:
    rows = [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    return [{**r, "optimizer": name} for r in rows if r["optimizer"] == optimizer]


def paired(rows: list[dict], a: str, b: str, budgets) -> str:
    """Mean ± standard error over (function, seed) of log10 regret(a) - log10 regret(b): below 0, a is better."""
    best = {}
    for r in rows:
        opt = r.get("optimum")
        best[r["problem"]] = min(best.get(r["problem"], np.inf), opt if opt is not None else min(r["losses"]))
    curves = {(r["problem"], r["optimizer"], r["seed"]): np.minimum.accumulate(r["losses"]) for r in rows}
    lines = [
        f"| evaluations | log10 regret {a} - {b} (paired) | pairs | {a} better in |",
        "| ---: | ---: | ---: | ---: |",
    ]
    for k in budgets:
        d = []
        for (p, o, s), c in curves.items():
            if o == a and (p, b, s) in curves:
                other = curves[(p, b, s)]
                d.append(np.log10(max(c[k - 1] - best[p], 1e-8)) - np.log10(max(other[k - 1] - best[p], 1e-8)))
        d = np.array(d)
        se = d.std(ddof=1) / np.sqrt(len(d)) if len(d) > 1 else float("nan")
        lines.append(f"| {k} | {d.mean():+.2f} ± {se:.2f} | {len(d)} | {int((d < 0).sum())} of {len(d)} |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--now", type=Path, default=Path("bench/results/gp_v3/b_synthetic.jsonl"))
    ap.add_argument("--before", type=Path, default=Path("bench/results/v2/b_synthetic.jsonl"))
    ap.add_argument("--random", type=Path, default=Path("bench/results/b_synthetic.jsonl"))
    args = ap.parse_args(argv)
    now = _rows(args.now, "knoblab-auto", "gp-now")
    cells = {(r["problem"], r["seed"]) for r in now}
    rows = now + [
        r
        for r in _rows(args.before, "knoblab-auto", "gp-before")
        + _rows(args.random, "knoblab-random", "knoblab-random")
        if (r["problem"], r["seed"]) in cells
    ]
    seeds = sorted({s for _, s in cells})
    print(f"{len(cells)} (function, seed) cells, seeds {seeds}\n")
    print(regret_table(rows, budgets=(8, 16, 32, 50)))
    print(paired(rows, "gp-now", "knoblab-random", (8, 16, 32, 50)))
    print()
    print(paired(rows, "gp-now", "gp-before", (8, 16, 32, 50)))


if __name__ == "__main__":
    main()
