"""The explorer's offline file in headless Chromium: it opens from disk without a network or a kernel; hovering an
item shows its thumbnail, a box lists exactly the items inside it, a click shows the neighbours the data hold.
(The same checks run on the widget in JupyterLab in test_browser.py, notebook 03.)"""

import pytest

import numpy as np

from browser_driver import launched, require_browser, watched_page
from explorer_driver import box_around, box_select, click_neighbours, hover, lone_item, screen_positions
from psviz import viz

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def page(tmp_path_factory, digits_runs):
    require_browser()
    explorer = viz.explorer(digits_runs, projection="pca", k=6)
    path = explorer.save(tmp_path_factory.mktemp("explorer") / "explorer.html")
    with launched() as browser:
        page, errors = watched_page(browser, path.as_uri(), viewport={"width": 1400, "height": 1000})
        page.wait_for_selector(".psviz-explorer[data-ready='1']", timeout=60_000)
        yield page, explorer, errors


def test_hover_box_and_click_in_the_offline_file(page):
    page, explorer, errors = page
    positions = screen_positions(page)
    item = lone_item(positions, (1400, 1000))
    at = positions[item]
    hover(page, item, at)
    assert page.locator(".psx-tooltip").inner_text().startswith(explorer.explorer_data.class_of(item))
    shown, expected, _ = box_select(page, *box_around(positions, np.median(positions, axis=0), 80), positions)
    assert len(expected) >= 80 and shown == expected
    counts = page.locator(".psx-selection .psx-heading").inner_text()
    assert counts.startswith(f"Selection: {len(expected)} items")
    assert click_neighbours(page, item, at) == explorer.neighbours(item)
    page.locator(".psx-button", has_text="Reset").click()
    assert page.locator(".psx-selection").get_attribute("data-count") == "0"
    assert page.locator(".psx-nn-row").count() == 0
    assert errors == []


def test_a_lasso_selects_the_items_inside_its_outline(page):
    from matplotlib.path import Path as Outline

    page, explorer, errors = page
    positions = screen_positions(page)
    cx, cy = np.median(positions, axis=0)
    corners = [(cx - 90, cy - 60), (cx + 80, cy - 40), (cx + 10, cy + 90)]
    page.locator(".psx-button", has_text="Lasso").click()
    page.mouse.move(*corners[0])
    page.mouse.down()
    for corner in corners[1:] + corners[:1]:  # straight strokes, back to the start: the outline is the triangle
        page.mouse.move(*corner, steps=8)
    page.mouse.up()
    expected = set(np.flatnonzero(Outline(corners).contains_points(positions)).tolist())
    page.wait_for_function("(n) => document.querySelector('.psx-selection').dataset.count === String(n)",
                           arg=len(expected))
    shown = page.evaluate("() => Array.from(document.querySelectorAll('.psx-grid .psx-thumb'))"
                          ".map(t => Number(t.dataset.item))")
    assert len(expected) > 20 and set(shown) == expected
    page.locator(".psx-button", has_text="Box select").click()
    page.locator(".psx-button", has_text="Reset").click()
    assert errors == []


def test_the_class_filter_keeps_a_class_and_its_neighbours(page):
    page, explorer, errors = page
    data = explorer.explorer_data
    name = data.class_names["unseen"][1]
    page.locator(".psx-filter-input").fill(f"{name} · unseen")
    page.locator(".psx-filter-input").dispatch_event("change")
    members = [i for i in range(len(data)) if data.splits[i] == "unseen" and data.labels[i] == 1]
    kept = set(members) | {int(j) for run in data.runs for i in members for j in data.neighbours[run][i]}
    shown = page.evaluate("() => { const x = document.querySelector('.psviz-explorer').psvizExplorer;"
                          " return Array.from(x.subset).flatMap((on, i) => on ? [i] : []); }")
    assert set(shown) == kept
    assert f"{len(members)} items" in page.locator(".psx-status").inner_text()
    assert errors == []
