"""Helpers for testing code that uses knoblab (and for knoblab's own tests and benchmarks)."""
