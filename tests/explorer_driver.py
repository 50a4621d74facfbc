"""Drives a psviz explorer in a page as a person would (hover, drag a box, click) and checks what it shows against
what the page's own coordinates and the explorer's data say it should. Shared by the browser tests and
benchmarks/bench_explorer.py."""

from __future__ import annotations

import time

import numpy as np

ROOT = ".psviz-explorer"


def api(page, call: str):
    """Evaluate ``call`` on the explorer object of the first explorer in the page (``x`` is the explorer)."""
    return page.evaluate(f"() => {{ const x = document.querySelector('{ROOT}').psvizExplorer; return {call}; }}")


def screen_positions(page, run: int = 0) -> np.ndarray:
    """[N, 2] page coordinates of every item in map ``run``."""
    return np.asarray(api(page, f"Array.from({{length: x.n}}, (_, i) => x.screenOf({run}, i))"))


def lone_item(positions: np.ndarray, page_size) -> int:
    """An item well inside the viewport whose nearest other item is farthest away, so a pointer on it hits it."""
    inside = ((positions[:, 0] > 60) & (positions[:, 0] < page_size[0] - 60) &
              (positions[:, 1] > 60) & (positions[:, 1] < page_size[1] - 60))
    gaps = np.full(len(positions), -1.0)
    for i in np.flatnonzero(inside):
        d = np.hypot(*(positions - positions[i]).T)
        d[i] = np.inf
        gaps[i] = d.min()
    return int(np.argmax(gaps))


def hover(page, item: int, at) -> float:
    """Move the pointer onto ``item``; the tooltip must show its thumbnail. Returns the seconds it took."""
    page.mouse.move(at[0] + 40, at[1] + 40)
    started = time.perf_counter()
    page.mouse.move(at[0], at[1])
    page.wait_for_function(f"""() => {{ const t = document.querySelector('{ROOT} .psx-tooltip');
        return t && t.style.display !== 'none' && t.dataset.item === '{item}' && t.querySelector('.psx-thumb'); }}""",
                           polling="raf")
    return time.perf_counter() - started


def box_select(page, corner, other, positions: np.ndarray) -> tuple[set, set, float]:
    """Drag a box from ``corner`` to ``other``; returns (items the grid shows, items whose positions lie in the
    box, seconds from releasing the button to a filled grid)."""
    x0, x1 = sorted([corner[0], other[0]])
    y0, y1 = sorted([corner[1], other[1]])
    expected = set(np.flatnonzero((positions[:, 0] >= x0) & (positions[:, 0] <= x1) &
                                  (positions[:, 1] >= y0) & (positions[:, 1] <= y1)).tolist())
    page.mouse.move(*corner)
    page.mouse.down()
    page.mouse.move(*other, steps=6)
    started = time.perf_counter()
    page.mouse.up()
    page.wait_for_function(f"""(n) => {{ const p = document.querySelector('{ROOT} .psx-selection');
        return p && p.dataset.count === String(n) && p.querySelectorAll('.psx-grid .psx-thumb').length === Math.min(n, 2000); }}""",
                           arg=len(expected), polling="raf")
    seconds = time.perf_counter() - started
    shown = page.evaluate(f"() => Array.from(document.querySelectorAll('{ROOT} .psx-grid .psx-thumb'))"
                          ".map(t => Number(t.dataset.item))")
    return set(shown), expected, seconds


def click_neighbours(page, item: int, at) -> dict:
    """Click ``item``; returns {run name: [neighbour items]} as the neighbours panel shows them."""
    page.mouse.click(at[0], at[1])
    page.wait_for_function(f"() => document.querySelectorAll('{ROOT} .psx-nn-row').length > 0")
    return page.evaluate(f"""() => Object.fromEntries(Array.from(document.querySelectorAll('{ROOT} .psx-nn-row'))
        .map(row => [row.dataset.run, Array.from(row.querySelectorAll('.psx-nn')).map(c => Number(c.dataset.item))]))""")


def box_around(positions: np.ndarray, centre, count: int) -> tuple[tuple, tuple]:
    """A square box centred on ``centre`` holding about ``count`` items (for timing a selection of that size)."""
    d = np.max(np.abs(positions - np.asarray(centre)), axis=1)
    half = float(np.sort(d)[min(count, len(d)) - 1]) + 0.5
    return (centre[0] - half, centre[1] - half), (centre[0] + half, centre[1] + half)
