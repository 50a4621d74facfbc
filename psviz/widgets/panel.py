"""The α / μ / λ panel: retrain a small model with and without PS and see every linked plot change."""

from __future__ import annotations

import time

import ipywidgets as widgets

from .. import data as datasets
from ..base.checks import check_number
from ..base.names import ARMS, WITH_PS
from ..base.paper import CUB_RHO
from ..base.percent import percent
from ..method import losses
from ..method.synthesis import RELEASED_ALPHA, n_synthetic_for, synthetic_per_class
from ..train import FitResult, TrainConfig, build_datasets, export_embeddings, preset, synthetic_batch
from ..train.presets import TOY_LONG_EPOCHS, TOY_SEEN_CLASSES, toy_budget
from ..viz.boundaries import decision_boundaries
from ..viz.curves import recall_at_k
from ..viz.explore import explorer
from ..viz.seen_unseen import umap_seen_unseen
from ..viz.synthetic import set_lambda, synthetic_embeddings
from ._errors import ErrorBox
from ._figures import FigureSlot, placeholder
from .cache import RunCache
from .live import LiveLandscape

PANEL_DATASETS = ("toy", "digits")  # the datasets small enough to retrain from a slider
FIGURES = ("synthetic", "boundaries", "umap", "recall")
TAB_TITLES = ("synthetic batch", "regions", "landscape", "UMAP", "Recall@K")
ALPHA_RANGE, MU_RANGE = (0.05, 4.0), (0.0, 2.0)  # the sliders' ends


def panel_config(dataset: str, *, loss: str, ps: bool, alpha: float, mu: float, seed: int,
                 epochs: int | None = None, embedding_dim: int | None = None,
                 seen_classes: int | None = None) -> TrainConfig:
    """The small run behind the panel: the dataset's preset with the chosen loss, PS settings and seed; for the toy,
    ``seen_classes`` picks one of the effect map's levels (its own length)."""
    if dataset not in PANEL_DATASETS:
        raise ValueError(f"dataset must be one of {', '.join(PANEL_DATASETS)}, got {dataset!r}")
    changes = dict(loss=loss, ps=ps, alpha=alpha, mu=mu, seed=seed)
    if seen_classes is not None:
        if dataset != "toy":
            raise ValueError(f"seen_classes applies to the toy only (dataset={dataset!r})")
        changes = {**toy_budget(seen_classes), **changes}
    if epochs is not None:
        changes["epochs"] = epochs
        changes["eval_every"] = epochs
    if embedding_dim is not None:
        changes["embedding_dim"] = embedding_dim
    return preset(dataset, **changes)


def check_panel_settings(dataset: str, loss: str, alpha: float, mu: float | None, seen_classes: int) -> tuple:
    """The panel's starting settings, refused by name when a menu does not list them or a slider cannot show them
    (the widgets would raise a bare TraitError, or clamp silently). Returns (alpha, mu), mu the preset's if None."""
    for name, value, allowed in (("dataset", dataset, PANEL_DATASETS), ("loss", loss, losses.available()),
                                 ("seen_classes", seen_classes, list(TOY_LONG_EPOCHS))):
        if value not in allowed:
            raise ValueError(f"{name} must be one of {', '.join(map(str, allowed))}, got {value!r}")
    mu = preset(dataset).mu if mu is None else mu  # the toy's default gives the paper's ρ
    for name, value, (low, high) in (("alpha", alpha, ALPHA_RANGE), ("mu", mu, MU_RANGE)):
        if not low <= check_number(value, name) <= high:
            raise ValueError(f"{name} must be within the slider's range {low:g} to {high:g}, got {value:g}")
    return float(alpha), float(mu)


def rho_text(mu: float, n_classes: int, batch_size: int) -> str:
    """'ρ = ⌊μB⌋ / C = 10 / 8 = 1.25 synthetic classes per seen class per batch': where a run sits on the effect
    map's axis, beside the paper's CUB value."""
    made = n_synthetic_for(mu, batch_size)
    return (f"ρ = ⌊μB⌋ / C = {made} / {n_classes} = <b>{synthetic_per_class(mu, n_classes, batch_size):.3g}</b> "
            f"synthetic classes per seen class per batch (the paper on CUB: {CUB_RHO:.2f})")


def seen_class_count(dataset: str, seen_classes: int | None = None) -> int:
    """C for the panel's runs: the toy's chosen level, or the preset dataset's seen classes."""
    if dataset == "toy":
        return TOY_SEEN_CLASSES if seen_classes is None else seen_classes
    config = preset(dataset)
    return len(datasets.load(config.dataset, datasets.SEEN, **config.dataset_options).class_names)


def on_step(slider) -> float:
    """The slider's value on its own grid: dragging back to a readout of 0.40 gives 0.4, not 0.39999999999999997,
    so the run cache finds the runs trained at 0.4."""
    steps = round((slider.value - slider.min) / slider.step)
    return round(slider.min + steps * slider.step, 10)


class ProxySynthesisPanel:
    """Sliders for α, μ and λ, a loss and a dataset menu, the toy's seen classes, and a Train button; four linked
    figures below. A line under the sliders says where μ puts the run on the effect map's ρ axis.

    Train fits the baseline and the PS run (both cached: going back to settings already trained is instant) and
    redraws the synthetic batch, the decision regions (2-D/3-D embeddings), the UMAP of seen vs unseen classes
    and Recall@K. The λ slider moves the synthetic points without retraining; Explore opens the embedding explorer
    of the current runs under the tabs. Errors show in the panel.
    Everything is reachable from Python (``panel.alpha.value = 1.0; panel.train()``) for scripts and tests.
    """

    def __init__(self, dataset: str = "toy", *, loss: str = "norm_softmax", alpha: float = RELEASED_ALPHA, mu: float | None = None,
                 seed: int = 0, epochs: int | None = None, embedding_dim: int | None = None,
                 seen_classes: int = TOY_SEEN_CLASSES, cache: RunCache | None = None, umap: bool = True):
        alpha, mu = check_panel_settings(dataset, loss, alpha, mu, seen_classes)
        self.cache = cache if cache is not None else RunCache()
        self.epochs, self.embedding_dim, self.show_umap = epochs, embedding_dim, umap
        style = {"description_width": "70px"}
        self.dataset = widgets.Dropdown(options=list(PANEL_DATASETS), value=dataset, description="dataset", style=style)
        self.loss = widgets.Dropdown(options=losses.available(), value=loss, description="loss", style=style)
        self.alpha = widgets.FloatSlider(value=alpha, min=ALPHA_RANGE[0], max=ALPHA_RANGE[1], step=0.05,
                                         description="α", continuous_update=False, style=style)
        self.mu = widgets.FloatSlider(value=mu, min=MU_RANGE[0], max=MU_RANGE[1], step=0.01, description="μ",
                                      continuous_update=False, style=style, readout_format=".2f")
        self.seen_classes = widgets.Dropdown(options=list(TOY_LONG_EPOCHS), value=seen_classes,
                                             description="seen C", style=style, disabled=dataset != "toy",
                                             layout=widgets.Layout(width="160px"),
                                             tooltip="seen classes of the toy: the effect map's rows")
        self.rho = widgets.HTML()
        self.lam = widgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.01, description="λ", style=style,
                                       disabled=True)
        self.seed = widgets.BoundedIntText(value=seed, min=0, max=10**6, description="seed", style=style,
                                           layout=widgets.Layout(width="160px"))
        self.train_button = widgets.Button(description="Train", button_style="primary", icon="play")
        self.explore_button = widgets.Button(description="Explore", icon="search", disabled=True,
                                             tooltip="open the embedding explorer for the current runs")
        self.explorer_box = widgets.VBox([])
        self.explorer = None
        self.status = widgets.HTML(value="Press <b>Train</b> to fit a baseline and a PS run.")
        self.errors = ErrorBox()
        self._update_rho()
        self.slots = {name: FigureSlot(placeholder("not trained yet")) for name in FIGURES}
        self.runs: dict[str, FitResult] = {}
        self.batch = None
        self._names = None
        self.train_button.on_click(lambda _: self.errors.guard(self.train))
        self.explore_button.on_click(lambda _: self.errors.guard(self.open_explorer))
        self.lam.observe(lambda change: self.errors.guard(self.move_lambda, change["new"]), names="value")
        for control in (self.alpha, self.mu, self.loss, self.dataset, self.seed, self.seen_classes):
            control.observe(lambda _: self.errors.guard(self._show_if_cached), names="value")
        # the landscape tab holds one live landscape per run, redrawn while the toy runs train
        self.landscape = widgets.HBox([widgets.HTML("Press <b>Train</b>: the confidence landscapes of both runs "
                                                    "are drawn here while they train (2-D and 3-D embeddings).")])
        self.live: dict = {}
        children = [self.slots["synthetic"].widget, self.slots["boundaries"].widget, self.landscape,
                    self.slots["umap"].widget, self.slots["recall"].widget]
        tabs = widgets.Tab(children=children)
        for i, title in enumerate(TAB_TITLES):
            tabs.set_title(i, title)
        self.tabs = tabs
        self.widget = widgets.VBox([
            widgets.HBox([self.dataset, self.seen_classes, self.loss, self.seed, self.train_button,
                          self.explore_button]),
            widgets.HBox([self.alpha, self.mu, self.lam]), self.rho,
            self.status, self.errors.widget, tabs, self.explorer_box,
        ])

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)

    @property
    def figures(self) -> dict:
        """The FigureWidget each tab shows now, by name (a redraw puts new ones in place)."""
        return {name: slot.figure for name, slot in self.slots.items()}

    def configs(self) -> dict[str, TrainConfig]:
        """The baseline and PS configs the controls describe now."""
        common = dict(loss=self.loss.value, alpha=on_step(self.alpha), mu=on_step(self.mu), seed=int(self.seed.value),
                      epochs=self.epochs, embedding_dim=self.embedding_dim,
                      seen_classes=self.seen_classes.value if self.dataset.value == "toy" else None)
        return {name: panel_config(self.dataset.value, ps=ps, **common) for name, ps in ARMS}

    def train(self) -> dict[str, FitResult]:
        """Fit (or fetch from the cache) both runs for the current settings and redraw every figure."""
        self.errors.clear()
        started = time.perf_counter()
        configs = self.configs()
        self.train_button.disabled = True
        try:
            runs = {}
            self._start_live(configs)
            for name, config in configs.items():
                cached = self.cache.cached_run(config) is not None
                self.status.value = f"{'fetching' if cached else 'training'} {name} ({config.dataset}, {config.loss})…"
                live = self.live.get(name)
                runs[name] = self.cache.fit(config, progress=False, callbacks=[live] if live and not cached else [])
                if live is not None:
                    live.finish(runs[name])
            self.status.value = "drawing…"
            self.redraw(runs)
        finally:
            self.train_button.disabled = False
        self.status.value = self._summary(runs, time.perf_counter() - started)
        return runs

    def _start_live(self, configs: dict) -> None:
        """Fresh live landscapes for runs whose embeddings can be drawn (2-D or 3-D); else a note in the tab."""
        dims = {c.embedding_dim for c in configs.values()}
        if not dims <= {2, 3}:
            self.live = {}
            self.landscape.children = (widgets.HTML(f"confidence landscapes are drawn for 2-D and 3-D embeddings; "
                                                    f"this run's is {dims.pop()}-D (use the toy dataset)"),)
            return
        self.live = {name: LiveLandscape(config, name=name) for name, config in configs.items()}
        for live in self.live.values():
            live.widget.layout = widgets.Layout(width="50%")
        self.landscape.children = tuple(live.widget for live in self.live.values())

    def _summary(self, runs, seconds: float) -> str:
        parts = []
        for name, run in runs.items():
            m = run.last_metrics()
            parts.append(f"{name}: R@1 {percent(m['recall@1']):.1f}, MAP@R {percent(m['map@r']):.1f}")
        return f"{' · '.join(parts)} (unseen classes; {seconds:.1f} s)"

    def _update_rho(self) -> None:
        toy = self.dataset.value == "toy"
        self.seen_classes.disabled = not toy
        n_classes = seen_class_count(self.dataset.value, self.seen_classes.value if toy else None)
        self.rho.value = rho_text(on_step(self.mu), n_classes, preset(self.dataset.value).batch_size)

    def _show_if_cached(self) -> None:
        """Redraw at once when the runs for the new settings were trained before; else ask for Train."""
        self._update_rho()
        configs = self.configs()
        found = {name: self.cache.cached_run(c) for name, c in configs.items()}
        if all(run is not None for run in found.values()):
            self._start_live(configs)
            for name, live in self.live.items():
                live.finish(found[name])
            self.redraw(found)
            self.status.value = self._summary(found, 0.0) + " · from the cache"
        else:
            self.status.value = "settings changed: press <b>Train</b>"

    def redraw(self, runs: dict[str, FitResult]) -> None:
        """Draw all four figures for a baseline and a PS run."""
        self.runs = runs
        self.explore_button.disabled = False
        self.explorer_box.children = ()  # an explorer of earlier runs would mislead
        ps_run = runs[WITH_PS]
        config = ps_run.config
        self._names = build_datasets(config)[0].class_names
        self.batch = synthetic_batch(ps_run, seed=int(self.seed.value))
        self.slots["synthetic"].show(synthetic_embeddings(self.batch, class_names=self._names, lam_steps=0))
        with self.lam.hold_trait_notifications():
            self.lam.disabled = self.batch.n_synthetic == 0
            self.lam.value = round(self.batch.lam, 2)
        if ps_run.config.embedding_dim in (2, 3):
            self.slots["boundaries"].show(decision_boundaries(runs))
        else:
            self.slots["boundaries"].show(placeholder(
                f"decision regions are drawn for 2-D and 3-D embeddings; this run's is "
                f"{ps_run.config.embedding_dim}-D (use the toy dataset)"))
        if self.show_umap:
            exports = {name: export_embeddings(run, max_per_split=1500) for name, run in runs.items()}
            self.slots["umap"].show(umap_seen_unseen(exports, synthetic={WITH_PS: self.batch}))
        self.slots["recall"].show(recall_at_k(runs, splits=("unseen",)))

    def open_explorer(self):
        """Show the embedding explorer (`psviz.viz.explorer`) of the current runs under the tabs, and return it."""
        if not self.runs:
            raise ValueError("train first: the explorer shows the current runs")
        summary = self.status.value
        self.status.value = "building the explorer…"
        try:
            self.explorer = explorer(self.runs, projection="umap" if self.show_umap else "pca",
                                     seed=int(self.seed.value))
        finally:
            self.status.value = summary  # the runs' scores stay in view; the explorer shows under the tabs
        self.explorer_box.children = (self.explorer,)
        return self.explorer

    def move_lambda(self, lam: float) -> None:
        """Move the synthetic points to ``lam`` (no retraining)."""
        if self.batch is None or self.batch.n_synthetic == 0:
            return
        set_lambda(self.figures["synthetic"], self.batch, lam, class_names=self._names)


__all__ = ["PANEL_DATASETS", "ProxySynthesisPanel", "on_step", "panel_config", "rho_text", "seen_class_count"]
