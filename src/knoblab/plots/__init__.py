"""Matplotlib figures for reports and notebooks; each function returns a Figure."""
