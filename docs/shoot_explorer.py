"""Screenshots of the embedding explorer for the README: docs/images/explorer_neighbours.png and
explorer_selection.png, from the explorer.html a finished `psviz demo` wrote.

Run: .venv/bin/python docs/shoot_explorer.py [--demo-dir psviz-output/demo]

Needs Debian's chromium and playwright (the dev extras). The query and the box follow fixed rules, not what either
run shows there: the query is the unseen item nearest the centre of the baseline's map, the box holds the ~150 items
nearest that centre.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))
from explorer_driver import ROOT, api, box_around, box_select, click_neighbours, screen_positions  # noqa: E402
from browser_driver import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402  (the browser tests' Chromium and flags)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--demo-dir", type=Path, default=Path("psviz-output/demo"))
    args = parser.parse_args()
    path = (args.demo_dir / "explorer.html").resolve()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport={"width": 1400, "height": 1100})
        page.goto(path.as_uri())
        page.wait_for_selector(f"{ROOT}[data-ready='1']", timeout=120_000)
        positions = screen_positions(page)
        unseen = np.flatnonzero(np.asarray(api(page, "Array.from(x.d.split)")) == 1)
        centre = np.median(positions, axis=0)
        query = int(unseen[np.argmin(np.hypot(*(positions[unseen] - centre).T))])
        click_neighbours(page, query, positions[query])
        page.mouse.move(*positions[query])  # the tooltip too
        page.wait_for_timeout(300)
        page.locator(ROOT).screenshot(path=HERE / "images" / "explorer_neighbours.png")
        page.locator(".psx-button", has_text="Reset").click()
        box_select(page, *box_around(positions, centre, 150), positions)
        page.mouse.move(5, 5)
        page.wait_for_timeout(300)
        page.locator(ROOT).screenshot(path=HERE / "images" / "explorer_selection.png")
        browser.close()
    print("wrote docs/images/explorer_neighbours.png and explorer_selection.png")


if __name__ == "__main__":
    main()
