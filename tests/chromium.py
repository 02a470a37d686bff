"""Debian's Chromium as the browser tests launch it (through playwright, never a downloaded browser): without the
background-networking flags it keeps dialing hosts this closed network refuses."""

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
