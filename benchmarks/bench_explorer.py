"""The embedding explorer at glyphs' full size, in headless Chromium: file size, opening time, hover to thumbnail,
a 1,000-item box to a filled grid.

    python benchmarks/bench_explorer.py                 # trains a glyphs pair (1 epoch each), then measures
    python benchmarks/bench_explorer.py --runs psviz-output/demo/regime/baseline psviz-output/demo/regime/with_ps

Targets (issue 19): hover under 100 ms, 1,000 selected items in the grid under 1 s, the offline file open under 5 s
and under 30 MB. The maps use PCA unless --projection says otherwise: the page's speed does not depend on how the
2-D positions were found, and UMAP of 35,000 items takes minutes. Times are wall-clock from Playwright's input to
the page showing the result (so they include the driver's round trip); each is the median of its repeats.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from explorer_driver import box_around, box_select, hover, screen_positions  # noqa: E402
from browser_driver import CHROMIUM, CHROMIUM_FLAGS  # noqa: E402  (the browser tests' Chromium and flags)


def runs_for(paths, folder: Path) -> dict:
    from psviz.base.names import ARMS
    from psviz.train import fit, load_run, preset

    if paths:
        return dict(zip(("baseline", "with PS"), (load_run(p) for p in paths)))
    print("training a glyphs pair, 1 epoch each…", flush=True)
    return {name: fit(preset("glyphs", ps=ps, epochs=1, output_dir=str(folder / name)), progress=False)
            for name, ps in ARMS}


def spread_items(positions: np.ndarray, count: int, seed: int = 0) -> list[int]:
    """Items whose nearest other item (on screen) is at least 2 px away, so a pointer on one hits that one."""
    rng = np.random.default_rng(seed)
    chosen = []
    for i in rng.permutation(len(positions)):
        d = np.hypot(*(positions - positions[i]).T)
        d[i] = np.inf
        if d.min() >= 2:
            chosen.append(int(i))
        if len(chosen) == count:
            break
    return chosen


def measure(path: Path, repeats: int) -> dict:
    from playwright.sync_api import sync_playwright

    out = {"open": [], "hover": [], "select": [], "selected": []}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        for _ in range(3):
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            started = time.perf_counter()
            page.goto(path.as_uri())
            page.wait_for_selector(".psviz-explorer[data-ready='1']", timeout=120_000)
            out["open"].append(time.perf_counter() - started)
            page.close()
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(path.as_uri())
        page.wait_for_selector(".psviz-explorer[data-ready='1']", timeout=120_000)
        positions = screen_positions(page)
        for item in spread_items(positions, 20):
            out["hover"].append(hover(page, item, positions[item]))
        centre = np.median(positions, axis=0)
        for shift in range(repeats):
            corner, other = box_around(positions, centre + [15 * shift, 0], 1000)
            shown, expected, seconds = box_select(page, corner, other, positions)
            assert shown == expected, "the grid does not hold the items in the box"
            out["select"].append(seconds)
            out["selected"].append(len(expected))
            page.locator(".psx-button", has_text="Reset").click()  # an empty grid before the next box
        browser.close()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs=2, metavar=("BASELINE", "WITH_PS"), help="two run folders to explore")
    parser.add_argument("--projection", default="pca")
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    from psviz import viz

    with tempfile.TemporaryDirectory() as folder:
        runs = runs_for(args.runs, Path(folder))
        started = time.perf_counter()
        explorer = viz.explorer(runs, projection=args.projection)
        built = time.perf_counter() - started
        path = explorer.save(Path(folder) / "explorer.html")
        size = path.stat().st_size / 1e6
        found = measure(path, args.repeats)
    median = {k: statistics.median(v) for k, v in found.items()}
    print(f"\nitems: {len(explorer.explorer_data):,} in each of 2 maps ({args.projection}); built in {built:.1f} s")
    print("| measure | median | repeats | target |\n|---|---|---|---|")
    print(f"| offline file size | {size:.1f} MB | 1 | < 30 MB |")
    print(f"| open the file (to the first drawing) | {median['open']:.2f} s | {len(found['open'])} | < 5 s |")
    print(f"| hover to thumbnail | {1000 * median['hover']:.0f} ms | {len(found['hover'])} | < 100 ms |")
    print(f"| box of {median['selected']:.0f} items to a filled grid | {median['select']:.2f} s | "
          f"{len(found['select'])} | < 1 s |")


if __name__ == "__main__":
    main()
