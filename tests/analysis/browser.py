"""Opens an HTML file in Debian's headless Chromium (driven by playwright, nothing downloaded) and says what a
reader would see: console errors, page errors, dialogs, and every image's size."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ..chromium import CHROMIUM, CHROMIUM_ARGS


def open_in_chromium(path: str | Path, screenshot: str | Path | None = None) -> dict:
    """{"errors": [...], "dialogs": [...], "images": [{"alt", "complete", "width", "height", "visible"}], "requests"}"""
    sync_api = pytest.importorskip("playwright.sync_api", reason="the browser tests need playwright (the dev extra)")
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is missing: `make chromium` installs Debian's chromium")
    seen: dict = {"errors": [], "dialogs": [], "requests": []}
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            page.on("console", lambda m: seen["errors"].append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: seen["errors"].append(f"uncaught: {e}"))
            page.on("dialog", lambda d: (seen["dialogs"].append(d.message), d.dismiss()))
            page.on("request", lambda r: seen["requests"].append(r.url))
            page.goto(Path(path).resolve().as_uri())
            page.wait_for_load_state("load")
            seen["images"] = page.evaluate(
                """() => Array.from(document.images).map(i => {
                    i.scrollIntoView();
                    const r = i.getBoundingClientRect();
                    const s = getComputedStyle(i);
                    return {alt: i.alt, complete: i.complete, width: i.naturalWidth, height: i.naturalHeight,
                            visible: r.width > 100 && r.height > 100 && s.visibility !== 'hidden' && s.display !== 'none'};
                })"""
            )
            if screenshot:
                page.evaluate("window.scrollTo(0, 0)")
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()
    return seen
