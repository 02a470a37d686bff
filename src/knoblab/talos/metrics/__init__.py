"""Talos' `talos.metrics` path; the metrics themselves are `knoblab.talos.utils.metrics`."""
