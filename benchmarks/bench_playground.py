"""The Playground's speed as a reader meets it, in headless Chromium: the first page's load, an epoch plus its redraw
while playing, and how soon the app answers a slider or a button while it trains.

    python benchmarks/bench_playground.py                 # about 2 minutes on 2 cores
    python benchmarks/bench_playground.py --loads 2 --epochs 15 --presses 6   # a quick look
    python benchmarks/bench_playground.py --screenshot docs/images/playground.png --query lesson=1  # the docs' picture

Targets (issue 31): first page <= 3 s; epoch + redraw <= 200 ms while playing; a slider or button answered within
100 ms while training. It starts `psviz playground --no-browser` on a free port, drives Debian's chromium with
playwright (no browser download), and times everything inside the page with `performance.now()`:

- **first page**: navigation start to the first frame that shows both runs' landscapes, the PS batch and the curves
  (a fresh browser context each time, so nothing is cached);
- **epoch + redraw**: the time between two epochs shown by the epoch counter while playing (the next epoch is
  trained only once the last one is drawn on the server's side; each counted epoch also redrew the landscapes);
- **control answer**: a key press on the μ slider to the frame where the ρ line under it shows the new value, and a
  click on pause (or play) to the frame where the buttons show the new state, both while the runs train.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync"]

sys.path.insert(0, str(ROOT / "tests"))
from playground_driver import FIND, SYNTHETIC_TARGET  # noqa: E402

# Finds elements in Panel's shadow roots; records, frame by frame, when the epoch counter, the ρ line and the
# buttons change (one query per frame within each element's own shadow root, found again only when Panel redraws it).
WATCH = """() => {
""" + FIND + """  const roots = {epoch: find('.pg-epoch').getRootNode(), rho: find('.pg-rho').getRootNode()};
  let pause = find('.pg-pause');
  const rec = window.__pg = {epochs: [], rho: [], pause: [], restart: [], afterplot: 0, keys: [], clicks: []};
  const plot = inside('.pg-landscape', '.js-plotly-plot');
  if (plot && plot.on) plot.on('plotly_afterplot', () => { rec.afterplot += 1; });
  let epoch = null, rho = null, disabled = null, restarting = false;
  const tick = () => {
    const now = performance.now();
    for (const [key, sel] of [['epoch', '.pg-epoch'], ['rho', '.pg-rho']])
      if (!roots[key].host.isConnected) roots[key] = find(sel).getRootNode();
    const e = roots.epoch.querySelector('.pg-epoch'), r = roots.rho.querySelector('.pg-rho');
    if (e && e.dataset.epoch !== epoch) { epoch = e.dataset.epoch; rec.epochs.push([now, +epoch]); }
    const again = roots.epoch.textContent.includes('restarting');
    if (again && !restarting) rec.restart.push(now);
    restarting = again;
    if (r && r.textContent !== rho) { rho = r.textContent; rec.rho.push([now, rho]); }
    if (!pause.isConnected) pause = find('.pg-pause');  // Panel may draw the button anew
    const b = pause && pause.shadowRoot.querySelector('button');
    if (b && b.disabled !== disabled) { disabled = b.disabled; rec.pause.push([now, disabled]); }
    requestAnimationFrame(tick);
  };
  requestAnimationFrame(tick);
  document.addEventListener('keydown', () => rec.keys.push(performance.now()), true);
  document.addEventListener('pointerdown', () => rec.clicks.push(performance.now()), true);
}"""
DRAWN = """() => {
""" + FIND + """  const all = ['.pg-landscape', '.pg-synthetic', '.pg-curves'].map((s) => inside(s, '.js-plotly-plot .main-svg'));
  return all.every((x) => x) && inside('.pg-landscape', '.js-plotly-plot').querySelectorAll('.point').length > 0
    ? performance.now() : null;
}"""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int) -> subprocess.Popen:
    command = [sys.executable, "-m", "psviz.apps.cli", "playground", "--no-browser", "--port", str(port)]
    server = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env={**os.environ, "PYTHONUNBUFFERED": "1"})
    deadline = time.monotonic() + 180
    for line in server.stdout:
        if "Ctrl-C stops it" in line:
            return server
        if time.monotonic() > deadline:
            break
    server.kill()
    raise RuntimeError("the playground did not start")


def quantiles(values: list[float]) -> str:
    values = sorted(values)
    p90 = values[min(len(values) - 1, round(0.9 * (len(values) - 1)))]
    return f"median {statistics.median(values):.0f} ms, p90 {p90:.0f} ms, max {values[-1]:.0f} ms (n={len(values)})"


LONG_RUN = 1000  # epochs of the measured runs (the Playground's largest is EPOCH_RANGE[1])


def first_page(browser, url: str, loads: int) -> list[float]:
    times = []
    for _ in range(loads):
        context = browser.new_context(viewport={"width": 1400, "height": 900})
        page = context.new_page()
        page.goto(url, wait_until="commit")
        times.append(page.wait_for_function(DRAWN, polling="raf", timeout=60_000).json_value())
        context.close()
    return times


def playing(page, epochs: int) -> tuple[list[float], dict]:
    page.evaluate(WATCH)
    page.locator(".pg-play button").click()
    page.wait_for_function(f"() => window.__pg.epochs.length > {epochs + 2}", timeout=120_000, polling=200)
    record = page.evaluate("window.__pg")
    marks = record["epochs"][2:]  # the first epochs after play include the click's round trip
    gaps = [b[0] - a[0] for a, b in zip(marks, marks[1:]) if b[1] == a[1] + 1]
    return gaps, record


SETTLED = "() => {" + FIND + " const e = find('.pg-epoch'); return e && +e.dataset.epoch > 0 && " \
    "!e.parentNode.textContent.includes('restarting'); }"


def _answer(page, act, series: str, since: str) -> float:
    """ms from the last ``since`` event (a key press or a click) that ``act`` makes to the next entry of
    ``series``, once the runs train again after any restart before it."""
    page.wait_for_function(SETTLED, timeout=60_000, polling=50)
    before = page.evaluate(f"window.__pg.{series}.length")
    act()
    page.wait_for_function(f"() => window.__pg.{series}.length > {before}", timeout=30_000, polling=50)
    record = page.evaluate("window.__pg")
    entry = record[series][-1]
    page.wait_for_timeout(400)
    return (entry[0] if isinstance(entry, list) else entry) - record[since][-1]


def answers(page, presses: int) -> dict[str, list[float]]:
    """How soon each control is answered while the runs keep training, in ms: in the page (the ρ line, the buttons'
    state) and by the server (the epoch counter's "restarting…" after a new μ or a reset)."""
    out = {"slider, in the page": [], "slider, by the server": [], "button, in the page": [],
           "button, by the server": []}
    handle = page.locator(".pg-control-mu .noUi-handle")
    for i in range(presses):
        key = "ArrowRight" if i % 2 == 0 else "ArrowLeft"
        out["slider, in the page"].append(_answer(page, lambda: handle.press(key), "rho", "keys"))
        key = "ArrowLeft" if i % 2 == 0 else "ArrowRight"
        out["slider, by the server"].append(_answer(page, lambda: handle.press(key), "restart", "keys"))
    for i in range(presses):
        button = page.locator(".pg-pause button" if i % 2 == 0 else ".pg-play button")
        out["button, in the page"].append(_answer(page, button.click, "pause", "clicks"))
    if page.locator(".pg-play button").is_enabled():  # an odd number of clicks left it paused
        page.locator(".pg-play button").click()
    for i in range(presses):
        out["button, by the server"].append(_answer(page, page.locator(".pg-reset button").click, "restart",
                                                    "clicks"))
    return out


def screenshot(browser, url: str, path: Path, epochs: int = 25) -> None:
    """The app at 1400 x 900 mid-training (``epochs`` in, paused) with a synthetic point clicked."""
    page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
    page.goto(url)
    page.wait_for_function(DRAWN, polling="raf", timeout=60_000)
    page.locator(".pg-play button").click()
    page.wait_for_function(f"() => {{ {FIND} return +find('.pg-epoch').dataset.epoch >= {epochs}; }}",
                           timeout=300_000, polling=200)
    page.locator(".pg-pause button").click()
    page.wait_for_timeout(1500)
    target = page.evaluate(SYNTHETIC_TARGET)
    page.mouse.click(target["x"], target["y"])
    page.locator(".pg-chosen .pg-lam").wait_for()
    page.mouse.move(5, 895)  # no hover label in the picture
    page.wait_for_timeout(800)
    page.screenshot(path=str(path))
    page.context.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--loads", type=int, default=5, help="first-page loads (default: %(default)s)")
    parser.add_argument("--epochs", type=int, default=40, help="epochs timed while playing (default: %(default)s)")
    parser.add_argument("--presses", type=int, default=10, help="slider presses and button clicks (default: %(default)s)")
    parser.add_argument("--screenshot", type=Path, default=None,
                        help="only save the app mid-training, a synthetic point clicked, to this PNG (the docs' "
                             "docs/images/playground.png); no timings")
    parser.add_argument("--query", default="", help="with --screenshot: the link's query string, e.g. lesson=1")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    started_load = os.getloadavg()
    port = free_port()
    server = start_server(port)
    url = f"http://127.0.0.1:{port}/playground"
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=FLAGS)
            version = browser.version
            if args.screenshot is not None:
                screenshot(browser, url + (f"?{args.query}" if args.query else ""), args.screenshot)
                browser.close()
                return 0
            loads = first_page(browser, url, args.loads)
            page = browser.new_context(viewport={"width": 1400, "height": 900}).new_page()
            # training must outlast the measurements: a run that reached its last epoch answers a reset without
            # the "restarting…" the benchmark waits for
            page.goto(f"{url}?epochs={LONG_RUN}")
            page.wait_for_function(DRAWN, polling="raf", timeout=60_000)
            gaps, record = playing(page, args.epochs)
            answered = answers(page, args.presses)
            browser.close()
    finally:
        server.send_signal(signal.SIGINT)
        server.wait(30)
    import panel
    import torch

    print(f"machine: {os.cpu_count()} cores; load average (1, 5, 15 min) "
          f"{' '.join(f'{x:.1f}' for x in started_load)} at the start, "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())} at the end; Chromium {version} (headless, software "
          f"rendering), panel {panel.__version__}, torch {torch.__version__}, nice {os.nice(0)}")
    print(f"first page (navigation to all figures drawn): {quantiles(loads)}")
    print(f"epoch + redraw while playing: {quantiles(gaps)}; landscape redraws {record['afterplot']} for "
          f"{len(record['epochs'])} epochs shown")
    what = {"slider, in the page": "μ key press to the ρ line", "slider, by the server": "μ key press to "
            "'restarting…'", "button, in the page": "pause / play click to the buttons' state",
            "button, by the server": "reset click to 'restarting…'"}
    for name, times in answered.items():
        print(f"{name} while training ({what[name]}): {quantiles(times)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
