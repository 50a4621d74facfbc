"""Fill an α × μ heatmap as runs finish: every (α, μ, seed) with PS plus a baseline per seed, cached."""

from __future__ import annotations

import itertools
import threading
import time

import ipywidgets as widgets

from ..base.checks import check_number
from ..base.names import BASELINE
from ..method.synthesis import RELEASED_ALPHA, RELEASED_MU
from ..viz.ablation import ablation_heatmap
from ._errors import ErrorBox
from ._figures import FigureSlot, placeholder
from .cache import RunCache
from .panel import panel_config


def cell_label(cell: dict) -> str:
    """How the status line names a grid cell: the baseline, or its α and μ."""
    return BASELINE if not cell["ps"] else f"α={cell['alpha']:g}, μ={cell['mu']:g}"


class AblationGrid:
    """Runs baseline and PS over a grid of α and μ (and seeds) on a small dataset and draws the unseen ``metric``.

    ``run()`` works through the cells in order, skipping ones already in the cache (with ``directory``, also
    ones finished in an earlier session), and redraws the heatmap and the progress bar after each; ``start()``
    does the same in a background thread so the notebook stays responsive, and Stop ends it after the current
    run. A failing cell is listed in the panel and the grid goes on.
    """

    def __init__(self, dataset: str = "digits", *, alphas=(0.1, 0.4, 1.0, 2.0), mus=(0.25, 0.5, 1.0, 2.0),
                 seeds=(0,), loss: str = "norm_softmax", metric: str = "map@r", epochs: int | None = None,
                 cache: RunCache | None = None, directory=None):
        self.alphas = [check_number(a, "alphas", low=0.0, low_open=True) for a in alphas]
        self.mus = [check_number(m, "mus", low=0.0) for m in mus]
        if not self.alphas or not self.mus or not list(seeds):
            raise ValueError("alphas, mus and seeds must each hold at least one value")
        self.seeds = [int(s) for s in seeds]
        self.dataset, self.loss, self.metric, self.epochs = dataset, loss, metric, epochs
        panel_config(dataset, loss=loss, ps=True, alpha=RELEASED_ALPHA, mu=RELEASED_MU, seed=0,
                     epochs=epochs)  # fail early
        self.cache = cache if cache is not None else RunCache(max_runs=1, directory=directory)
        self.records: list[dict] = []
        self.failures: list[tuple[dict, BaseException]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.progress = widgets.IntProgress(value=0, min=0, max=len(self.cells()), description="runs")
        self.status = widgets.HTML(value=f"{len(self.cells())} runs to do: press <b>Run grid</b>.")
        self.errors = ErrorBox()
        self.failure_list = widgets.HTML(value="")
        self.slot = FigureSlot(placeholder("no runs finished yet"))
        self.run_button = widgets.Button(description="Run grid", button_style="primary", icon="play")
        self.stop_button = widgets.Button(description="Stop", icon="stop", disabled=True)
        self.run_button.on_click(lambda _: self.errors.guard(self.start))
        self.stop_button.on_click(lambda _: self.stop())
        self.widget = widgets.VBox([widgets.HBox([self.run_button, self.stop_button, self.progress]), self.status,
                                    self.errors.widget, self.failure_list, self.slot.widget])

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)

    @property
    def figure(self):
        """The heatmap's FigureWidget as it is now."""
        return self.slot.figure

    def cells(self) -> list[dict]:
        """Every run of the grid: a baseline per seed first, then each (α, μ, seed) with PS."""
        base = [dict(ps=False, alpha=None, mu=None, seed=s) for s in self.seeds]
        grid = [dict(ps=True, alpha=a, mu=m, seed=s) for a, m, s in itertools.product(self.alphas, self.mus,
                                                                                      self.seeds)]
        return base + grid

    def config(self, cell: dict):
        return panel_config(self.dataset, loss=self.loss, ps=cell["ps"], alpha=cell["alpha"] or RELEASED_ALPHA,
                            mu=cell["mu"] if cell["mu"] is not None else RELEASED_MU, seed=cell["seed"], epochs=self.epochs)

    def run(self) -> list[dict]:
        """Work through the grid (cached cells are instant) and return one record per finished run."""
        self._stop.clear()
        self.records, self.failures = [], []
        cells = self.cells()
        started = time.perf_counter()
        self.progress.value = 0
        for i, cell in enumerate(cells):
            if self._stop.is_set():
                self.status.value = f"stopped after {i} of {len(cells)} runs"
                break
            self.status.value = f"run {i + 1}/{len(cells)}: {cell_label(cell)}, seed {cell['seed']}…"
            try:
                record = self.cache.record(self.config(cell), progress=False)
            except Exception as error:  # noqa: BLE001 - a failing cell is reported, the rest still runs
                self.failures.append((cell, error))
                self.errors.show(error)
                self.failure_list.value = "failed: " + "; ".join(
                    f"{cell_label(c)}, seed {c['seed']} ({type(e).__name__}: {e})" for c, e in self.failures)
            else:
                self.records.append({**cell, **record["metrics"]})
                self._redraw()
            self.progress.value = i + 1
        else:
            self.status.value = (f"done: {len(self.records)} runs, {len(self.failures)} failed, "
                                 f"{time.perf_counter() - started:.0f} s")
        return self.records

    def _redraw(self) -> None:
        self.slot.show(ablation_heatmap(self.records, self.metric, alphas=self.alphas, mus=self.mus))

    def start(self) -> threading.Thread:
        """Run the grid in a background thread (one at a time)."""
        if self._thread is not None and self._thread.is_alive():
            raise RuntimeError("the grid is already running; press Stop first")

        def work():
            self.run_button.disabled, self.stop_button.disabled = True, False
            try:
                self.errors.guard(self.run)
            finally:
                self.run_button.disabled, self.stop_button.disabled = False, True

        self._thread = threading.Thread(target=work, name="psviz-grid", daemon=True)
        self._thread.start()
        return self._thread

    def stop(self) -> None:
        """Ask a running grid to stop after its current run."""
        self._stop.set()

    def wait(self, timeout: float | None = None) -> None:
        if self._thread is not None:
            self._thread.join(timeout)


__all__ = ["AblationGrid"]
