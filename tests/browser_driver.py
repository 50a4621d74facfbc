"""Debian's Chromium under playwright, as every browser test, docs/shoot_explorer.py and the browser benchmarks start
it: one path, one set of flags, one rule for a missing browser. Never `playwright install`: this drives the system
browser."""

from __future__ import annotations

import contextlib
import importlib.util
import os
import shutil
from pathlib import Path

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
# No network here: without the background-networking flags Chromium keeps dialling out and being refused.
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-unsafe-swiftshader"]  # software WebGL, so the 3-D plots draw without a GPU
# and a page that tries to reach any host but this machine fails at once, as it would offline
OFFLINE_FLAGS = [*CHROMIUM_FLAGS, "--host-resolver-rules=MAP * ~NOTFOUND , EXCLUDE 127.0.0.1"]


def require_browser() -> None:
    """Skip the test when Chromium or playwright is missing, or fail it under PSVIZ_REQUIRE_BROWSER=1 (.ci/run)."""
    missing = []
    if not Path(CHROMIUM).exists():
        missing.append("chromium (apt-get install chromium)")
    if importlib.util.find_spec("playwright") is None:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if missing:
        message = "browser test needs " + " and ".join(missing)
        if os.environ.get("PSVIZ_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)


@contextlib.contextmanager
def launched(flags=CHROMIUM_FLAGS):
    """A headless Chromium, closed when the block ends (also on an error)."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=flags)
        try:
            yield browser
        finally:
            browser.close()


def watched_page(browser, url: str, *, viewport=None, offline: bool = True):
    """A new page at ``url`` in its own context, and the list its script errors go to."""
    options = {"offline": offline} | ({"viewport": viewport} if viewport else {})
    page = browser.new_context(**options).new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.goto(url)
    return page, errors
