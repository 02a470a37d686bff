"""A live dashboard over a storage: experiments, trials and training curves in the browser, with steering.

Needs the `dashboard` extra (FastAPI, uvicorn, plotly): `pip install 'knoblab[dashboard]'`; run `knoblab dashboard`.
"""

from __future__ import annotations

from .app import create_app, is_loopback, serve

__all__ = ["create_app", "serve", "is_loopback"]
