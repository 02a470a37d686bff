"""Talos' `talos.model.normalizers` path."""

from ..utils.normalizers import lr_normalizer

__all__ = ["lr_normalizer"]
