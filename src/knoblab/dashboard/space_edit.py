"""An edited space from the new-round form (or its JSON), read with one clear error that names the knob at fault."""

from __future__ import annotations

import numbers
from typing import Any

from ..space import Space

__all__: list[str] = []  # the dashboard's own plumbing (its public face is knoblab.dashboard)

KINDS = {
    "real": ("low", "high", "log"),
    "int": ("low", "high", "log", "step"),
    "categorical": (),  # choices, or (a long tuple) linspace
    "bool": (),
    "fixed": ("value",),
    "branch": ("options",),
}
EXAMPLE = '{"kind": "real", "low": 0.0001, "high": 0.1, "log": true}'


def _is_number(x: Any) -> bool:
    return isinstance(x, numbers.Real) and not isinstance(x, bool)


def _check(description: dict[str, Any]) -> None:
    for name, d in description.items():
        knob = f"knob {name!r}"
        if not isinstance(d, dict):
            raise ValueError(f"{knob}: got {d!r}; describe it as a dict such as {EXAMPLE}")
        kind = d.get("kind")
        if kind not in KINDS:
            raise ValueError(f"{knob}: unknown kind {kind!r}; allowed: {', '.join(KINDS)}")
        missing = [k for k in KINDS[kind] if k not in d]
        if missing:
            raise ValueError(f"{knob}: a {kind} knob needs {' and '.join(missing)} (e.g. {EXAMPLE})")
        if kind in ("real", "int"):
            for end in ("low", "high"):
                if not _is_number(d[end]):
                    raise ValueError(f"{knob}: {end} must be a number, got {d[end]!r}")
            if d["low"] >= d["high"]:
                raise ValueError(f"{knob}: low {d['low']} is not below high {d['high']}; low must be < high")
            if not isinstance(d["log"], bool):
                raise ValueError(f"{knob}: log must be true or false, got {d['log']!r}")
        if kind == "categorical" and "linspace" not in d:
            if "choices" not in d:
                raise ValueError(
                    f"{knob}: a categorical knob needs choices (e.g. {{'kind': 'categorical', 'choices': [1, 2]}})"
                )
            if not isinstance(d["choices"], list) or not d["choices"]:
                raise ValueError(f"{knob}: keep at least one value (choices: got {d['choices']!r})")
        if kind == "branch":
            options = d["options"]
            if not isinstance(options, list) or not options:
                raise ValueError(f"{knob}: keep at least one branch (options: got {options!r})")
            for option in options:
                if not (isinstance(option, list | tuple) and len(option) == 2 and isinstance(option[1], dict)):
                    raise ValueError(f"{knob}: each option is [value, {{sub-knobs}}], got {option!r}")
                _check(option[1])


def read_space(description: Any) -> Space:
    """The Space of an edited description (as `Space.describe()` writes it); ValueError naming the knob at fault."""
    if not isinstance(description, dict) or not description:
        raise ValueError(f"space: give the edited space as a dict of knob descriptions, got {description!r}")
    _check(description)
    try:
        return Space.from_description(description)
    except (KeyError, AttributeError, IndexError) as e:  # past _check, a shape this form does not know
        raise ValueError(f"space: cannot read it ({type(e).__name__}: {e})") from None
