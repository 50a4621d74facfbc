"""Every notebook in JupyterLab, in headless Chromium at 1400 x 1000 with the file browser open: run every cell and
find no error anywhere; in 01 and 04 move the sliders and see the plots follow, and in 04 see the panel's cache hit
when α returns to a value it was trained at. The visual check asserts what a screenshot would show a reader: no
output folded behind "Show more outputs", every plotly legend, subplot and widget tab title inside its cell, and no
3-D marker that needs a font Chromium may lack. A screenshot of every output cell goes to
test-artifacts/browser/<notebook>/ (or $PSVIZ_ARTIFACTS).

This is the session's one execution of each notebook: saved right after Run All Cells, it goes to `notebook_runs`
(conftest.py), and tests/test_notebooks.py checks that run instead of executing the notebook a second time.

Needs Debian's chromium (/usr/bin/chromium) and the playwright package (never `playwright install`: this drives
the system browser). Without chromium the test skips, unless PSVIZ_REQUIRE_BROWSER=1 (set by .ci/run) makes it fail.
"""

import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pytest

from browser_driver import CHROMIUM, CHROMIUM_FLAGS, require_browser
from explorer_driver import box_around, box_select, click_neighbours, hover, lone_item, screen_positions

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
RUN_ALL_TIMEOUT_S = 600


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = Path(os.environ.get("PSVIZ_ARTIFACTS", ROOT / "test-artifacts")) / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """JupyterLab on 127.0.0.1 with a token, serving copies of the notebooks (it autosaves; the originals stay clean)."""
    require_browser()
    home = tmp_path_factory.mktemp("lab")
    notebooks = home / "notebooks"
    shutil.copytree(ROOT / "notebooks", notebooks, ignore=shutil.ignore_patterns("psviz-output", ".ipynb_checkpoints"))
    quiet = home / "settings" / "@jupyterlab" / "apputils-extension"
    quiet.mkdir(parents=True)
    (quiet / "notification.jupyterlab-settings").write_text('{"fetchNews": "false", "checkForUpdates": false}')
    # every cell stays in the page (no windowing), so the visual check can measure the ones scrolled out of view
    tracker = home / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True)
    (tracker / "tracker.jupyterlab-settings").write_text('{"windowingMode": "none"}')
    port, token = _free_port(), secrets.token_hex(16)
    env = {**os.environ, "PSVIZ_FAST": "1", "JUPYTER_CONFIG_DIR": str(home / "config"),
           "JUPYTER_DATA_DIR": str(home / "data"), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"), "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces")}
    command = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ServerApp.ip=127.0.0.1",
               f"--ServerApp.port={port}", "--ServerApp.port_retries=0", f"--IdentityProvider.token={token}",
               f"--ServerApp.root_dir={notebooks}", "--LabApp.news_url=None",
               "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        command.append("--allow-root")
    log = open(home / "lab.log", "w")
    server = subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5) as response:
                    if response.status == 200:
                        break
            except OSError:
                pass
            if server.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"JupyterLab did not start:\n{(home / 'lab.log').read_text()[-3000:]}")
            time.sleep(0.5)
        yield {"base": base, "token": token, "notebooks": notebooks, "log": home / "lab.log"}
    finally:
        server.terminate()
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()
        log.close()


@pytest.fixture(scope="module")
def browser(lab, tmp_path_factory):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            str(tmp_path_factory.mktemp("chromium-profile")), executable_path=CHROMIUM, headless=True,
            args=CHROMIUM_FLAGS, viewport={"width": 1400, "height": 1000})
        try:
            yield context
        finally:
            context.close()


# ---- driving JupyterLab ------------------------------------------------------------------------------------------
NOTEBOOK = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the open tab: JupyterLab keeps earlier notebooks in the page
CELL_PROMPTS = f"""() => Array.from(document.querySelectorAll('{NOTEBOOK} .jp-CodeCell .jp-InputPrompt'))
                         .map(p => p.textContent.trim())"""


def _open(browser, lab, name: str):
    page = browser.new_page()
    page.set_default_timeout(60_000)
    page.goto(f"{lab['base']}/lab/tree/{name}?reset&token={lab['token']}")  # reset: no tabs from an earlier page
    page.wait_for_selector(f"{NOTEBOOK} .jp-CodeCell", timeout=120_000)
    page.wait_for_selector(f"{NOTEBOOK} .jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)
    _accept_kernel_dialog(page)
    if not page.locator("#filebrowser").is_visible():  # a teacher's layout: the file browser open beside the notebook
        page.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab[data-id='filebrowser']").click()
    page.wait_for_selector("#filebrowser", state="visible")
    return page


def _accept_kernel_dialog(page) -> bool:
    """Take the notebook's own kernel when JupyterLab asks: on a loaded machine the kernel list can arrive after the
    notebook opens, and JupyterLab then shows "Select Kernel" (preselected on the notebook's kernelspec)."""
    dialog = page.locator(".jp-Dialog", has_text="Select Kernel")
    if not (dialog.count() and dialog.first.is_visible()):
        return False
    dialog.first.locator(".jp-mod-accept").click()
    dialog.first.wait_for(state="detached")
    return True


def _run_all(page) -> None:
    """Run ▸ Run All Cells, then wait until every code cell shows an execution count and the kernel is idle."""
    started = f"() => ({CELL_PROMPTS})().some(p => p !== '[ ]:')"
    for attempt in range(3):  # the menu item is inert until the notebook panel is active: click into it first
        _accept_kernel_dialog(page)
        try:
            page.locator(f"{NOTEBOOK} .jp-Cell").first.click(timeout=20_000)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click()
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click()
            page.wait_for_function(started, timeout=30_000)
            break
        except Exception:  # noqa: BLE001 - a dialog in the way, or the menu was inert: try again
            if not _accept_kernel_dialog(page):
                page.keyboard.press("Escape")
    else:
        raise AssertionError("Run All Cells did not start the notebook")
    page.wait_for_function(f"""() => {{
        const prompts = ({CELL_PROMPTS})();
        return prompts.length > 0 && prompts.every(p => /^\\[\\d+\\]:$/.test(p));
    }}""", timeout=RUN_ALL_TIMEOUT_S * 1000, polling=1000)
    page.wait_for_selector(f"{NOTEBOOK} .jp-Notebook-ExecutionIndicator[data-status='idle']", timeout=120_000)


def _record_run(page, lab, name: str, notebook_runs: dict) -> None:
    """Save the notebook as Run All Cells left it and hand a copy to `notebook_runs` (conftest.py): the session's one
    top-to-bottom run of it, which tests/test_notebooks.py checks rather than run it again with nbclient."""
    saved = lab["notebooks"] / name
    page.keyboard.press("Control+s")
    deadline = time.monotonic() + 60
    while True:
        try:
            text = saved.read_text()
            cells = [c for c in json.loads(text)["cells"] if c["cell_type"] == "code"]
            if cells and all(c.get("execution_count") is not None for c in cells):
                break
        except (OSError, ValueError):  # caught mid-write: read it again
            pass
        assert time.monotonic() < deadline, f"JupyterLab did not save {name} after Run All Cells"
        page.wait_for_timeout(250)
    notebook_runs[Path(name).stem] = text


def _errors_shown(page) -> list[str]:
    """Error outputs and tracebacks anywhere in the notebook, including ones a widget shows."""
    return page.evaluate(f"""() => {{
        const found = [];
        for (const o of document.querySelectorAll('{NOTEBOOK} .jp-OutputArea-output')) {{
            const text = o.textContent || '';
            if (text.includes('Traceback (most recent call last)') || /\\b\\w+Error\\b:/.test(text.slice(0, 400)))
                found.push(text.slice(0, 300));
        }}
        return found;
    }}""")


def _saved_errors(page, lab, name: str) -> list[str]:
    """Save the notebook from the browser and read its outputs back: any 'error' output is a failed cell."""
    page.keyboard.press("Control+s")
    page.wait_for_timeout(1500)
    saved = json.loads((lab["notebooks"] / name).read_text())
    return [f"{o.get('ename')}: {o.get('evalue')}" for cell in saved["cells"] for o in cell.get("outputs", [])
            if o.get("output_type") == "error"]


# Plotly draws these 3-D marker symbols with font glyphs; on a machine without the font they are empty boxes
FONT_SYMBOLS_3D = {"x"}

LAYOUT_PROBLEMS = f"""() => {{
    const problems = [];
    const visible = (r) => r.width > 0 && r.height > 0;
    const cells = Array.from(document.querySelectorAll('{NOTEBOOK} .jp-CodeCell'));
    cells.forEach((cell, index) => {{
        const area = cell.querySelector('.jp-OutputArea');
        if (!area) return;
        const box = area.getBoundingClientRect();
        const inside = (what, el) => {{
            const r = el.getBoundingClientRect();
            if (visible(r) && (r.right > box.right + 1 || r.left < box.left - 1))
                problems.push(`cell ${{index + 1}}: ${{what}} spans x ${{Math.round(r.left)}}-${{Math.round(r.right)}}, `
                              + `the cell's output ${{Math.round(box.left)}}-${{Math.round(box.right)}}`);
        }};
        for (const plot of area.querySelectorAll('.js-plotly-plot')) {{
            const title = (plot.layout && plot.layout.title && plot.layout.title.text || '').slice(0, 50);
            inside(`the plot '${{title}}'`, plot.querySelector('.main-svg') || plot);
            for (const legend of plot.querySelectorAll('g.legend')) inside(`the legend of '${{title}}'`, legend);
            for (const sub of plot.querySelectorAll('.cartesianlayer .subplot, .polarlayer .polar, .gl-container > div'))
                inside(`a subplot of '${{title}}'`, sub);
            for (const trace of plot.data || []) {{
                if (trace.type !== 'scatter3d' || !trace.marker || trace.marker.symbol === undefined) continue;
                const symbols = [].concat(trace.marker.symbol);
                for (const bad of {sorted(FONT_SYMBOLS_3D)})
                    if (symbols.includes(bad))
                        problems.push(`cell ${{index + 1}}: 3-D trace '${{trace.name}}' uses the font glyph '${{bad}}'`);
            }}
        }}
        for (const label of area.querySelectorAll('.lm-TabBar-tabLabel'))
            if (label.scrollWidth > label.clientWidth + 1)
                problems.push(`cell ${{index + 1}}: the tab title '${{label.textContent}}' is cut off`);
    }});
    for (const trimmed of document.querySelectorAll('{NOTEBOOK} .jp-TrimmedOutputs'))
        problems.push(`outputs folded behind '${{trimmed.textContent.trim().slice(0, 40)}}'`);
    return problems;
}}"""


def _visual_check(page, artifacts: Path, name: str) -> list[str]:
    """Screenshot every code cell that has output into artifacts/<notebook>/, and return what the layout check
    found wrong (an empty list when everything reads)."""
    folder = artifacts / Path(name).stem
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    page.wait_for_timeout(1500)  # let plotly finish its last relayout
    problems = page.evaluate(LAYOUT_PROBLEMS)
    cells = page.locator(NOTEBOOK).locator(".jp-CodeCell")
    for index in range(cells.count()):
        output = cells.nth(index).locator(".jp-Cell-outputArea")
        if output.count() and output.first.locator(".jp-OutputArea-output").count():
            output.first.screenshot(path=folder / f"cell{index + 1:02d}.png")
    return problems


def _slider(page, label: str, index: int = 0):
    """The ipywidgets slider whose description is ``label`` (index picks among several with the same label)."""
    sliders = page.locator(NOTEBOOK).locator(".widget-slider")
    sliders = sliders.filter(has=page.locator(".widget-label", has_text=label))
    return sliders.nth(index)


def _plot_state(slider, which: int = 0) -> str:
    """What the plotly figure in the slider's own widget box shows now, as plotly.js holds it in the page."""
    return slider.evaluate(f"""(el) => {{
        const box = el.closest('.widget-vbox');
        const plot = box.querySelectorAll('.js-plotly-plot')[{which}];
        if (!plot || !plot.data) return null;
        return JSON.stringify([plot.data.map(t => [t.x, t.y, t.z]), plot.layout.title]);
    }}""")


def _drag(page, slider, fraction: float) -> None:
    """Drag the slider's handle by ``fraction`` of the track's width, as a mouse would."""
    track = slider.locator(".noUi-target").bounding_box()
    handle = slider.locator(".noUi-handle").bounding_box()
    x, y = handle["x"] + handle["width"] / 2, handle["y"] + handle["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    page.mouse.move(x + fraction * track["width"], y, steps=8)
    page.mouse.up()


def _move_and_check(page, slider, fraction: float, title_for=None, which: int = 0) -> tuple[str, str]:
    """Drag the slider; the readout must change, then the plot in its box, ending with the title ``title_for``
    gives for the new readout (the kernel redraws, then the browser: the plot is read until it stops changing)."""
    slider.scroll_into_view_if_needed()
    before_value = slider.locator(".widget-readout").text_content().strip()
    before = _plot_state(slider, which)
    assert before is not None, "the slider's plot did not render"
    _drag(page, slider, fraction)
    page.wait_for_function("([el, old]) => el.querySelector('.widget-readout').textContent.trim() !== old",
                           arg=[slider.element_handle(), before_value], timeout=10_000)
    after_value = slider.locator(".widget-readout").text_content().strip()
    deadline = time.monotonic() + 30
    state, previous = _plot_state(slider, which), None
    while state == before or state != previous:
        assert time.monotonic() < deadline, f"moving the slider {before_value} -> {after_value} left the plot as it was"
        page.wait_for_timeout(500)
        previous, state = state, _plot_state(slider, which)
    if title_for is not None:
        title = json.loads(state)[1]["text"]
        assert title_for(after_value) in title, f"plot title {title!r} does not follow the slider at {after_value}"
    return before_value, after_value


# ---- the tests ---------------------------------------------------------------------------------------------------
def test_notebook_01_sliders_move_the_plots(browser, lab, artifacts, notebook_runs):
    name = "01_what_proxy_synthesis_does.ipynb"
    page = _open(browser, lab, name)
    try:
        _run_all(page)
        _record_run(page, lab, name, notebook_runs)
        assert page.locator(NOTEBOOK).locator(".widget-slider").count() >= 2
        assert page.locator(NOTEBOOK).locator(".js-plotly-plot").count() >= 6
        lam = _slider(page, "λ")
        print("λ:", _move_and_check(page, lam, 0.25, title_for=lambda v: f"λ = {float(v):.2f}"))
        lam.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]").screenshot(
            path=artifacts / "notebook01_lambda.png")
        alpha = _slider(page, "α")
        print("α:", _move_and_check(page, alpha, 0.3, title_for=lambda v: f"Beta({float(v):g}, {float(v):g})"))
        alpha.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]").screenshot(
            path=artifacts / "notebook01_alpha.png")
        page.screenshot(path=artifacts / "notebook01_page.png")
        assert _visual_check(page, artifacts, name) == []
        assert _errors_shown(page) == []
        assert _saved_errors(page, lab, name) == []
    finally:
        page.screenshot(path=artifacts / "notebook01_final.png")
        page.close()


def test_notebook_04_panel_and_filled_heatmap(browser, lab, artifacts, notebook_runs):
    name = "04_ablation_alpha_mu.ipynb"
    page = _open(browser, lab, name)
    try:
        _run_all(page)
        _record_run(page, lab, name, notebook_runs)
        for label in ("α", "μ", "λ"):
            assert _slider(page, label).count() == 1, f"the panel's {label} slider is missing"
        heatmap = page.locator(NOTEBOOK).locator(".js-plotly-plot").filter(has=page.locator(".heatmaplayer .hm"))
        assert heatmap.count() == 1, "the grid's heatmap did not draw"
        cells = heatmap.first.evaluate("(el) => el.data.find(t => t.type === 'heatmap').z.flat()"
                                       ".filter(v => v !== null && !Number.isNaN(v)).length")
        assert cells == 4, "every cell of the fast grid (2 α × 2 μ) should be filled"
        heatmap.first.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]").screenshot(
            path=artifacts / "notebook04_heatmap.png")
        lam = _slider(page, "λ")
        print("λ:", _move_and_check(page, lam, -0.2, title_for=lambda v: f"λ = {float(v):.2f}"))
        lam.locator("xpath=ancestor::div[contains(@class,'widget-vbox')][1]").screenshot(
            path=artifacts / "notebook04_panel.png")
        _cache_hit_after_alpha_returns(page)
        assert _visual_check(page, artifacts, name) == []
        assert _errors_shown(page) == []
        assert _saved_errors(page, lab, name) == []
    finally:
        page.screenshot(path=artifacts / "notebook04_final.png")
        page.close()


def _cache_hit_after_alpha_returns(page) -> None:
    """α up by three keyboard steps, Train, three steps back: the panel must redraw from its cache, not ask for
    Train (0.4 + 3 x 0.05 - 3 x 0.05 is 0.39999999999999997 in floating point)."""
    alpha = _slider(page, "α")
    alpha.scroll_into_view_if_needed()
    start = alpha.locator(".widget-readout").text_content().strip()
    html = page.locator(NOTEBOOK).locator(".widget-html-content")
    for key in ["ArrowRight"] * 3:
        alpha.locator(".noUi-handle").focus()
        page.keyboard.press(key)
    html.filter(has_text="settings changed").first.wait_for(timeout=120_000)
    page.locator(NOTEBOOK).locator("button.widget-button", has_text="Train").first.click()
    html.filter(has_text="settings changed").first.wait_for(state="detached", timeout=300_000)
    html.filter(has_text="R@1").first.wait_for(timeout=120_000)
    for key in ["ArrowLeft"] * 3:
        alpha.locator(".noUi-handle").focus()
        page.keyboard.press(key)
    page.wait_for_function("([el, old]) => el.querySelector('.widget-readout').textContent.trim() === old",
                           arg=[alpha.element_handle(), start], timeout=30_000)
    html.filter(has_text="from the cache").first.wait_for(timeout=120_000)  # a redraw of every tab


def test_notebook_03_explorer_hover_box_click_and_selection_in_python(browser, lab, artifacts,
                                                                      notebook_runs):
    """The explorer widget in JupyterLab: a thumbnail on hover, a box's items in the grid, the neighbours on a click,
    and the selection read back in Python by re-running the cell that prints it."""
    name = "03_seen_vs_unseen.ipynb"
    page = _open(browser, lab, name)
    try:
        _run_all(page)
        _record_run(page, lab, name, notebook_runs)
        widget = page.locator(NOTEBOOK).locator(".psviz-explorer[data-ready='1']")
        widget.wait_for(timeout=60_000)
        # a later cell set explorer.clicked from Python: the widget shows that query's neighbours
        printed = page.locator(NOTEBOOK).locator(".jp-OutputArea-output", has_text="query: image").first.inner_text()
        query = re.search(r"query: image (\d+)", printed).group(1)
        heading = widget.locator(".psx-neighbours .psx-heading").inner_text()
        assert heading.startswith(f"Nearest 8 neighbours of item {query} "), heading
        widget.locator(".psx-maps").scroll_into_view_if_needed()
        box = widget.locator(".psx-maps").bounding_box()
        positions = screen_positions(page)
        item = lone_item(positions - [box["x"], box["y"]], (box["width"] / 2, box["height"]))
        at = positions[item]
        hover(page, item, at)
        shown, expected, _ = box_select(page, *box_around(positions, np.median(positions, axis=0), 40), positions)
        assert len(expected) >= 40 and shown == expected
        neighbours = click_neighbours(page, item, at)
        assert set(neighbours) == {"baseline", "with PS"} and all(len(v) == 8 for v in neighbours.values())
        widget.screenshot(path=artifacts / "notebook03_explorer.png")
        cell = page.locator(NOTEBOOK).locator(".jp-CodeCell", has_text="images selected").first
        cell.locator(".jp-InputArea-editor").click()
        page.keyboard.press("Control+Enter")  # run this cell again: the selection made above, read in Python
        cell.locator(".jp-OutputArea-output", has_text=f"{len(expected)} images selected").wait_for(timeout=60_000)
        assert _visual_check(page, artifacts, name) == []
        assert _errors_shown(page) == []
        assert _saved_errors(page, lab, name) == []
    finally:
        page.screenshot(path=artifacts / "03_seen_vs_unseen_final.png")
        page.close()


@pytest.mark.parametrize("name", ["02_decision_boundaries.ipynb", "05_full_models_on_gpu.ipynb",
                                  "06_proxy_synthesis_with_pml.ipynb"])
def test_notebook_reads_right_in_the_browser(browser, lab, artifacts, notebook_runs, name):
    page = _open(browser, lab, name)
    try:
        _run_all(page)
        _record_run(page, lab, name, notebook_runs)
        assert _visual_check(page, artifacts, name) == []
        assert _errors_shown(page) == []
        assert _saved_errors(page, lab, name) == []
    finally:
        page.screenshot(path=artifacts / f"{Path(name).stem}_final.png")
        page.close()
