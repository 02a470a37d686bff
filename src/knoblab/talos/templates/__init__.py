"""Talos' templates: datasets, params dicts, model functions and pipelines (a Scan of each), on Keras 3."""

from . import datasets, models, params, pipelines

__all__ = ["datasets", "models", "params", "pipelines"]
