"""One self-contained HTML report of an analysis: tables and plots inline (PNG as base64), no script, no server,
nothing fetched, so it opens offline and can be mailed. Every string that comes from the user (experiment name,
knob names and values, notes, reasons) is HTML-escaped."""

from __future__ import annotations

import base64
import html
import io
import math
import numbers
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

if TYPE_CHECKING:
    from . import Analysis

__all__ = ["figures", "write_report", "render_report"]


def figures(a: Analysis) -> list[tuple[str, Any, str]]:
    """(title, figure, caption) of every plot worth showing for this analysis, in report order."""
    from ..plots import analysis as P
    from .frame import is_numeric_knob

    out: list[tuple[str, Any, str]] = []
    t = a.table
    if len(a.objectives) > 1:
        out.append(("Pareto front", P.pareto_scatter(a), "Every complete trial's objectives; the front in red."))
    out.append(("optimization history", P.optimization_history(a), "Every trial's metric, and the best so far."))
    if len(a.all_rounds.rounds.unique()) > 1:
        out.append(("rounds compared", P.rounds_kde(a), "Did a narrower round move the distribution of results?"))
    if len(t) == 0:
        return out
    varying = t.varying()
    out.append(("rank correlations", P.correlation_bars(a), "Spearman's rho of each knob (or value) with the metric."))
    if len(t) >= 5 and varying:
        try:
            out.append(("importances", P.importance_bars(a), "Variance each knob explains alone (fANOVA)."))
        except ImportError:
            pass
    ranked = [k for k in dict.fromkeys(a.correlations.dropna(subset=["rho"])["knob"]) if k in varying]
    ranked += [k for k in varying if k not in ranked]
    for knob in ranked[:3]:
        out.append((f"{a.metric} by {knob}", P.metric_kde(a, knob), f"Density of the metric per value of {knob}."))
    finite = [k for k in ranked if not is_numeric_knob(t, k) or t.knobs[k].nunique() <= 6]
    if len(finite) >= 2:
        x, hue = finite[0], finite[1]
        out.append((f"{a.metric} by {x} and {hue}", P.grouped_bars(a, x, hue), "Mean ± standard error."))
    if len(a.gaps):
        out.append(("training vs validation", P.train_val_scatter(a), "Overfitting shows above the diagonal."))
        out.append(("learning curves", P.learning_curves(a), "The best trials, epoch by epoch."))
    if len(varying) >= 2:
        out.append(("parallel coordinates", P.parallel_coordinates(a), "Every trial across every knob."))
        numeric = [k for k in ranked if is_numeric_knob(t, k)]
        pair = (numeric + [k for k in ranked if k not in numeric])[:2]
        out.append((f"{a.metric} over {pair[0]} and {pair[1]}", P.metric_contour(a, *pair), "Interpolated."))
    return out


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=90)
    return base64.b64encode(buf.getvalue()).decode("ascii")


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _table(df: pd.DataFrame, float_format: str = "{:.4g}", index: bool = False) -> str:
    if df is None or len(df) == 0:
        return "<p class='muted'>none</p>"

    def fmt(v: Any) -> str:
        if isinstance(v, float):
            return "" if math.isnan(v) else float_format.format(v)
        if isinstance(v, dict):
            return ", ".join(f"{k} {fmt(x)}" for k, x in v.items())
        return "" if v is None or v is pd.NA else str(v)

    def cell(v: Any) -> str:
        numeric = isinstance(v, numbers.Number) and not isinstance(v, bool | np.bool_)
        return f"<td class='n'>{_e(fmt(v))}</td>" if numeric else f"<td>{_e(fmt(v))}</td>"

    view = df.reset_index() if index else df
    head = "".join(f"<th>{_e(c)}</th>" for c in view.columns)
    rows = "".join("<tr>" + "".join(cell(v) for v in row) + "</tr>" for row in view.itertuples(index=False))
    return f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>"


_CSS = """
body{font-family:system-ui,-apple-system,Segoe UI,Roboto,sans-serif;margin:2em auto;max-width:1100px;color:#222;
padding:0 1em}h1{font-size:1.6em}h2{font-size:1.25em;border-bottom:1px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;font-size:.85em;margin:.5em 0}th,td{border:1px solid #ddd;padding:.25em .5em;
text-align:left}td.n{text-align:right;font-variant-numeric:tabular-nums}th{background:#f4f4f4}.muted{color:#777}
figure{margin:1em 0}figure img{max-width:100%;height:auto;border:1px solid #eee}figcaption{color:#555;font-size:.9em}
pre{background:#f7f7f7;padding:.8em;overflow-x:auto;font-size:.85em}.warn{color:#a40}
"""


def render_report(a: Analysis, *, suggestion: bool = True) -> str:
    """The report as one HTML string."""
    exp = a.experiment
    parts: list[str] = []
    title = f"knoblab report: {exp.name}"
    parts.append(f"<h1>{_e(title)}</h1>")
    generated = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    parts.append(
        f"<p class='muted'>{_e(exp.direction)} {_e(exp.metric)} · rounds analysed {_e(a.round_numbers)} · "
        f"generated {_e(generated)}</p>"
    )
    parts.append(f"<pre>{_e(a.summary())}</pre>")

    parts.append("<h2>rounds</h2>")
    lineage = pd.DataFrame(
        [
            {
                "round": r["round"],
                "parent": r["parent"],
                "reason": r.get("reason", ""),
                "changes": " | ".join(r.get("changes", [])),
                "started": r.get("created_at", ""),
            }
            for r in exp.rounds
        ]
    )
    parts.append(_table(lineage))
    parts.append(_table(a.rounds))
    parts.append(
        "<p class='muted'>p_better: one-sided Mann-Whitney p-value that the round's results beat its parent's. "
        "entropy: 0 when every trial gives the same result, 1 when results spread evenly.</p>"
    )

    looks = exp.record.attrs.get("test_evaluations", [])
    if looks:
        parts.append("<h2>test set looks</h2>")
        parts.append(
            f"<p class='warn'>The test set was scored {len(looks)} time(s). Only the first score of a test set is "
            "an unbiased estimate; decisions taken after it make later ones optimistic.</p>"
        )
        parts.append(_table(pd.DataFrame(looks)))

    if len(a.objectives) > 1:
        parts.append("<h2>Pareto front</h2>")
        ref = ", ".join(f"{m} = {v:.4g}" for m, v in (a.reference_point or {}).items())
        hv = a.hypervolume
        parts.append(
            f"<p>{len(a.front_trials)} trials that no other beats in every objective "
            f"({_e(', '.join(f'{d} {m}' for m, d in a.objectives))}), among those meeting the outcome constraints. "
            f"Hypervolume {'' if hv is None else f'{hv:.4g}'} (reference point {_e(ref)}).</p>"
        )
        parts.append(_table(a.pareto_front, index=True))

    parts.append("<h2>best trials</h2>")
    if len(a.objectives) > 1:
        parts.append(f"<p class='muted'>by {_e(a.metric)} alone (exp.analyze(metric=...) for another)</p>")
    parts.append(_table(a.best, index=True))

    if len(a.table):
        parts.append("<h2>rank correlations</h2>")
        parts.append(_table(a.correlations))
        try:
            imp = a.importances
            parts.append("<h2>importances</h2>")
            r2 = imp.attrs.get("r2", math.nan)
            parts.append(_table(imp))
            if isinstance(r2, float) and math.isfinite(r2):
                parts.append(f"<p class='muted'>random forest out-of-bag R² = {r2:.2f}</p>")
        except ImportError as e:
            parts.append(f"<p class='muted'>{_e(e)}</p>")
        parts.append("<h2>per value</h2>")
        parts.append(_table(a.per_value))
        if len(a.gaps):
            g = a.gaps
            parts.append("<h2>training vs validation</h2>")
            reg = a.gap_regression
            parts.append(
                f"<p>{_e(g.attrs['pair'][1])} vs {_e(g.attrs['pair'][0])} at the {_e(g.attrs['at'])} epoch: "
                f"{int(g['overfit'].sum())} of {len(g)} trials overfit (validation worse by more than "
                f"{a.tolerance:.0%}); regression slope {reg['slope']:.3g}, intercept {reg['intercept']:.3g}, "
                f"r = {reg['r']:.3g}. Median KL divergence of validation vs training curves: "
                f"{a.kl.median() if len(a.kl) else float('nan'):.3g} nats.</p>"
            )

    parts.append("<h2>plots</h2>")
    for caption, fig, text in figures(a):
        parts.append(
            f"<figure><img alt='{_e(caption)}' src='data:image/png;base64,{_png(fig)}'>"
            f"<figcaption><b>{_e(caption)}</b>: {_e(text)}</figcaption></figure>"
        )

    if suggestion and len(a.table):
        parts.append("<h2>suggested next space</h2>")
        s = a.suggest_space()
        parts.append(f"<pre>{_e(s)}</pre>")
        parts.append(f"<p class='muted'>{_e(s.method)}</p>")

    body = "\n".join(parts)
    return (
        "<!DOCTYPE html>\n<html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        "<meta http-equiv='Content-Security-Policy' content=\"default-src 'none'; img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{_e(title)}</title><style>{_CSS}</style></head><body>\n{body}\n</body></html>\n"
    )


def write_report(a: Analysis, path: str | Path, **kwargs: Any) -> str:
    """Writes the report to `path` (UTF-8); returns the path."""
    path = Path(path)
    path.write_text(render_report(a, **kwargs), encoding="utf-8")
    return str(path)
