"""How knoblab's objects show themselves in a notebook: the HTML that `Experiment`, `Analysis`, `SpaceSuggestion`
and `Scan` return from `_repr_html_`, and the PNG of a figure. Every string from the user (names, knob values,
notes, reasons) is HTML-escaped. Imports nothing heavy: a figure is drawn only when one is shown."""

from __future__ import annotations

import base64
import html
import io
import math
import numbers
from collections import Counter
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

    from .analysis import Analysis, SpaceSuggestion
    from .experiment import Experiment

__all__ = ["experiment_html", "analysis_html", "suggestion_html", "figure_png", "figure_html"]

_STYLE = (
    "<style>.knoblab table{border-collapse:collapse;font-size:12px;margin:4px 0}"
    ".knoblab th,.knoblab td{border:1px solid #ddd;padding:2px 6px;text-align:left}"
    ".knoblab td.n{text-align:right;font-variant-numeric:tabular-nums}.knoblab th{background:#f4f4f4}"
    ".knoblab .muted{color:#777}.knoblab h4{margin:6px 0 2px}</style>"
)


def _e(x: Any) -> str:
    return html.escape(str(x), quote=True)


def _fmt(v: Any) -> str:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return ""
    if isinstance(v, float):
        return f"{v:.4g}"
    return str(v)


def _table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> str:
    """A small HTML table of plain rows (numbers right-aligned), or "none"."""
    if not rows:
        return "<p class='muted'>none</p>"
    columns = columns or list(dict.fromkeys(k for row in rows for k in row))
    head = "".join(f"<th>{_e(c)}</th>" for c in columns)
    body = []
    for row in rows:
        cells = []
        for c in columns:
            v = row.get(c)
            numeric = isinstance(v, numbers.Number) and not isinstance(v, bool)
            cells.append(f"<td class='n'>{_e(_fmt(v))}</td>" if numeric else f"<td>{_e(_fmt(v))}</td>")
        body.append("<tr>" + "".join(cells) + "</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def _frame(df: pd.DataFrame, n: int, index: bool = False) -> str:
    view = df.head(n).reset_index() if index else df.head(n)
    return _table([dict(zip(view.columns, row, strict=True)) for row in view.itertuples(index=False)])


def _box(title: str, body: str) -> str:
    return f"<div class='knoblab'>{_STYLE}<h4>{_e(title)}</h4>{body}</div>"


def experiment_html(exp: Experiment, top: int = 5) -> str:
    """An experiment at a glance: what it optimizes, where it lives, trials by state, the best ones."""
    from .trial import TrialState

    trials = exp.storage.get_trials(exp.id)
    counts = Counter(str(t.state) for t in trials)
    strategy = getattr(exp.strategy, "choice", None) or getattr(exp.strategy, "name", type(exp.strategy).__name__)
    facts = [
        ("optimizes", f"{'minimum' if exp.direction == 'min' else 'maximum'} of {exp.metric}"),
        ("strategy", strategy),
        ("round", exp.round),
        ("trials", ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "none yet"),
        ("storage", repr(exp.storage)),
    ]
    body = "<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{_e(v)}</td></tr>" for k, v in facts) + "</table>"
    done = [(t, t.value) for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    done.sort(key=lambda pair: pair[1] if exp.direction == "min" else -pair[1])
    if done:
        rows = [{"trial": t.number, exp.metric: value, **t.params} for t, value in done[:top]]
        body += f"<h4>best {min(top, len(done))} of {len(done)} complete</h4>" + _table(rows)
    return _box(f"experiment {exp.name}", body)


def analysis_html(a: Analysis, top: int = 5) -> str:
    """An analysis at a glance: its summary in words, the best trials, the strongest correlations, and the
    optimization history drawn inline."""
    lines = "".join(f"<p>{_e(line)}</p>" for line in a.summary().splitlines())
    body = lines
    if len(a.table):
        body += f"<h4>best {min(top, len(a.best))} trials</h4>" + _frame(a.best, top, index=True)
        c = a.correlations.dropna(subset=["rho"])
        if len(c):
            body += "<h4>strongest rank correlations</h4>" + _frame(c, top)
    try:
        from .plots.analysis import optimization_history

        body += figure_html(optimization_history(a))
    except ImportError:  # matplotlib is the analysis extra's
        pass
    return _box(f"analysis of {a.experiment.name}, rounds {a.round_numbers}", body)


def suggestion_html(s: SpaceSuggestion) -> str:
    """A suggested space: each change with its reason, then what is kept and why."""
    changes = [
        {"knob": c.knob, "action": c.action, "before": c.before, "after": c.after, "why": c.why} for c in s.changes
    ]
    body = _table(changes) if changes else "<p class='muted'>no change suggested</p>"
    if s.kept:
        body += "<h4>kept</h4><ul>" + "".join(f"<li>{_e(c.why)}</li>" for c in s.kept) + "</ul>"
    return _box(f"suggested space after round {s.base_round} ({len(s.changes)} changes)", body)


def figure_png(fig: Any, dpi: int = 90) -> bytes:
    """A matplotlib figure as PNG bytes (what a notebook shows inline)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    return buf.getvalue()


def figure_html(fig: Any, dpi: int = 90) -> str:
    """A matplotlib figure as an inline <img> (base64 PNG), for HTML that must stand alone."""
    data = base64.b64encode(figure_png(fig, dpi)).decode("ascii")
    return f"<img src='data:image/png;base64,{data}' style='max-width:100%'/>"
