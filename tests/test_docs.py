"""The reference manual documents every public name: each module's public names (its `__all__`, or the classes
and functions it defines when it has none) are on a page of docs/api/ (directly, or re-exported by a module that
is), each with a docstring, and so is every public method and property of their classes. `make docs` builds the
manual with warnings as errors; this test is the fast half of that check."""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import re
from pathlib import Path

import pytest

import knoblab

pytest.importorskip("keras")  # the Keras layer's pages import it

API = Path(__file__).resolve().parents[1] / "docs" / "api"

# modules whose public-looking names are the package's own plumbing, each with the reason it is not in the manual
INTERNAL = {
    "knoblab.cli": "the command line, documented by `knoblab --help` and the README",
    "knoblab.dashboard.app": "the dashboard's web server; knoblab.dashboard is its public face",
    "knoblab.dashboard.data": "the dashboard's queries",
    "knoblab.dashboard.importance": "the dashboard's background importances",
    "knoblab.executors.base": "helpers shared by executors; its contract (Executor, Event, ...) is in knoblab.executors",
    "knoblab.heartbeat": "keeps running trials alive inside the loop",
    "knoblab.keras.hygiene": "per-trial thread, seed and memory hygiene inside Scan",
    "knoblab.observations": "how strategies read finished trials",
    "knoblab.results": "builds Experiment.results",
    "knoblab.storage.sql": "the SQL back end; SQLStorage is in knoblab.storage",
    "knoblab.tracking.common": "what the tracking callbacks share",
    "knoblab.analysis.evaluate": "evaluate_best's helpers; its public names are re-exported by knoblab.analysis",
    "knoblab.analysis.frame": "the analysis table builder; TrialTable is re-exported by knoblab.analysis",
    "knoblab.analysis.reduce": "the rules behind Analysis.suggest_space; SpaceSuggestion is in knoblab.analysis",
    "knoblab.keras.pbt": "PBT's checkpoint plumbing inside Scan",
    "knoblab.schedulers.asha": "ASHA and SuccessiveHalving are re-exported by knoblab.schedulers",
    "knoblab.schedulers.base": "the scheduler contract is re-exported by knoblab.schedulers",
    "knoblab.strategies.auto": "AutoStrategy is on the strategies page; the rest is its rule",
    "knoblab.strategies.gp": "GPSearch is on the strategies page; the rest is its numerics",
    "knoblab.strategies.grid": "GridSearch is re-exported by knoblab.strategies; the rest is its shuffle",
}


def documented_modules() -> list[str]:
    """Modules a page documents with their members (`.. automodule::` without `:no-members:`)."""
    names = []
    for page in sorted(API.glob("*.rst")):
        for match in re.finditer(r"^\.\. automodule:: (\S+)\n((?:   :.*\n)*)", page.read_text(), re.M):
            if ":no-members:" not in match.group(2):
                names.append(match.group(1))
    return names


def documented_objects() -> list[str]:
    """Classes and functions a page documents one by one (`.. autoclass::`, `.. autofunction::`, ...)."""
    text = "".join(page.read_text() for page in sorted(API.glob("*.rst")))
    return re.findall(r"^\.\. auto(?:class|function|exception):: (\S+)", text, re.M)


def public_names(module) -> list[str]:
    if hasattr(module, "__all__"):
        return [n for n in module.__all__ if not n.startswith("__")]
    return [
        n
        for n, v in vars(module).items()
        if not n.startswith("_") and (inspect.isclass(v) or inspect.isfunction(v)) and v.__module__ == module.__name__
    ]


def all_modules() -> list[str]:
    found = ["knoblab"]
    for info in pkgutil.walk_packages(knoblab.__path__, "knoblab."):
        if not any(part.startswith("_") for part in info.name.split(".")):
            found.append(info.name)
    return found


def undocumented_members(cls) -> list[str]:
    """Public methods and properties defined by a knoblab class that have no docstring of their own or inherited."""
    missing = []
    for name, member in vars(cls).items():
        if name.startswith("_"):
            continue
        func = member.fget if isinstance(member, property) else getattr(member, "__func__", member)
        if not (inspect.isfunction(func) or isinstance(member, property)):
            continue
        if not inspect.getdoc(getattr(cls, name)) and not any(
            inspect.getdoc(getattr(base, name, None)) for base in cls.__mro__[1:] if hasattr(base, name)
        ):
            missing.append(f"{cls.__module__}.{cls.__qualname__}.{name}")
    return missing


def test_every_public_name_is_in_the_manual_with_a_docstring():
    pages = documented_modules()
    assert "knoblab.experiment" in pages and "knoblab.tracking" in pages
    in_manual: dict[int, str] = {}
    problems: list[str] = []
    for name in pages:
        module = importlib.import_module(name)
        if not inspect.getdoc(module):
            problems.append(f"module {name} has no docstring")
        for n in public_names(module):
            obj = getattr(module, n, None)
            if obj is None and n not in vars(module):
                problems.append(f"{name}.__all__ names {n!r}, which it does not have")
                continue
            in_manual[id(obj)] = f"{name}.{n}"
            if (inspect.isclass(obj) or inspect.isroutine(obj)) and not inspect.getdoc(obj):
                problems.append(f"{name}.{n} has no docstring")
            if inspect.isclass(obj) and obj.__module__.startswith("knoblab"):
                problems += [f"{m} has no docstring" for m in undocumented_members(obj)]
    for path in documented_objects():
        module, _, n = path.rpartition(".")
        obj = getattr(importlib.import_module(module), n)
        in_manual[id(obj)] = path
        if not inspect.getdoc(obj):
            problems.append(f"{path} has no docstring")
        if inspect.isclass(obj):
            problems += [f"{m} has no docstring" for m in undocumented_members(obj)]
    for name in all_modules():
        if name in pages or name in INTERNAL:
            continue
        module = importlib.import_module(name)
        for n in public_names(module):
            obj = getattr(module, n)
            if (inspect.isclass(obj) or inspect.isroutine(obj)) and id(obj) not in in_manual:
                problems.append(f"{name}.{n} is public but on no page of docs/api/ (add its module to a page)")
    assert not problems, "\n".join(problems)


def test_the_internal_list_names_real_modules():
    modules = set(all_modules())
    assert set(INTERNAL) <= modules, set(INTERNAL) - modules
    assert not set(INTERNAL) & set(documented_modules())
