"""The demo's index.html in headless Chromium, offline from disk: every figure it shows loads, every link it holds
points at a file the demo wrote, and the explorer it links opens and draws."""

from pathlib import Path
from urllib.parse import urlparse
from urllib.request import url2pathname

import pytest

from browser_driver import launched, require_browser, watched_page

pytestmark = pytest.mark.browser


def test_the_demo_page_shows_every_figure_and_links_the_explorer(demo_output):
    require_browser()
    folder, _ = demo_output
    written = {p.stem for p in folder.glob("*.png")}
    with launched() as browser:
        page, errors = watched_page(browser, (folder / "index.html").as_uri(), viewport={"width": 1200, "height": 900})
        page.wait_for_load_state("load")
        images = page.evaluate("Array.from(document.images).map(i => [i.getAttribute('src'), i.naturalWidth])")
        assert {Path(src).stem for src, _ in images} == written  # every PNG the demo drew is on the page
        assert all(width > 100 for _, width in images), images  # and each one decoded
        links = page.evaluate("Array.from(document.links).map(a => a.href)")
        targets = {Path(url2pathname(urlparse(href).path)) for href in links}
        assert targets and all(t.is_file() and t.parent == folder for t in targets), targets
        assert folder / "explorer.html" in targets
        assert {folder / f"{stem}.html" for stem in written} <= targets  # each figure's interactive version
        page.get_by_text("Open the explorer").click()
        page.wait_for_selector(".psviz-explorer[data-ready='1']", timeout=60_000)
        assert errors == []
