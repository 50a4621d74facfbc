"""A confidence landscape that redraws while a toy run trains, so a class can watch the regions form.

Pass it to `fit` as a callback. The untrained model's landscape (epoch 0) is drawn when the widget is made, so every
redraw during training only updates numbers in place. Redraws are spaced out so that they take at most ``budget``
(10%) of the training time, which leaves room for their indirect cost (caches, threads) within a 20% slowdown; the
final state is drawn once training ends (`finish`), outside the timed loop.
"""

from __future__ import annotations

import time

import ipywidgets as widgets
import torch

from ..analysis.boundaries import boundary_view
from ..base.names import arm_of
from ..base.percent import percent
from ..train import FitResult, TrainConfig, build, resolve_device
from ..viz.boundaries import plotly_camera
from ..viz.landscape import confidence_landscape, landscape_updates, panel_title
from ._figures import FigureSlot, placeholder


class LiveLandscape:
    """The confidence landscape of one training run, redrawn after epochs (`fit(config, callbacks=[live])`).

    ``budget`` bounds the share of training time spent drawing: a redraw happens only while the time drawn so far,
    plus the last redraw's cost, stays within ``budget`` times the time trained so far. ``redraws``,
    ``draw_seconds`` and ``train_seconds`` say what it did during training; ``setup_seconds`` is the cost of making
    the widget and its epoch-0 figure, before training.
    """

    def __init__(self, config: TrainConfig, *, name: str = "", space: str = "embedding", resolution: int = 360,
                 max_points: int = 400, budget: float = 0.1):
        if not isinstance(config, TrainConfig):
            raise ValueError(f"config must be a psviz.train.TrainConfig, got {type(config).__name__}")
        if space == "embedding" and config.embedding_dim not in (2, 3):
            raise ValueError(f"a live landscape draws 2-D or 3-D embeddings; this config's embedding_dim is "
                             f"{config.embedding_dim}")
        if not 0 < budget <= 1:
            raise ValueError(f"budget must be in (0, 1], got {budget}")
        self.config, self.name, self.space = config, name or arm_of(config.ps), space
        self.resolution = resolution if config.embedding_dim == 2 or space == "input" else max(20, resolution // 6)
        self.max_points, self.budget = max_points, budget
        self.slot = FigureSlot(placeholder(f"{self.name}: the landscape appears once training starts"))
        # shares a row evenly with other live landscapes (an HBox of two is baseline beside PS)
        self.widget = widgets.Box([self.slot.widget], layout=widgets.Layout(flex="1 1 0%", min_width="0",
                                                                            width="auto"))
        self.redraws, self.draw_seconds, self.train_seconds = 0, 0.0, 0.0
        self._mark, self._last_cost, self._drawn = None, 0.0, False
        self._camera = None  # the camera last aimed at the data (sphere); a camera the reader turned is left alone
        started = time.perf_counter()
        with torch.random.fork_rng(devices=[]):  # the same initial weights fit will build; the caller's RNG untouched
            parts = build(config, resolve_device(config.device))
        self._draw(FitResult(parts.model, parts.loss, [], config), 0, timed=False)
        self.redraws = 0
        self.setup_seconds = time.perf_counter() - started

    @property
    def figure(self):
        return self.slot.figure

    def on_step_end(self, **info) -> None:
        if self._mark is None:
            self._mark = time.perf_counter()

    def on_epoch_end(self, *, epoch, history, model, loss, metrics) -> None:
        now = time.perf_counter()
        if self._mark is not None:
            self.train_seconds += now - self._mark
        if self.draw_seconds + self._last_cost <= self.budget * self.train_seconds:
            self._draw(FitResult(model, loss, history, self.config), epoch)
        self._mark = time.perf_counter()

    def finish(self, run: FitResult) -> None:
        """Draw the trained run's final landscape (call after `fit` returns; not counted against the budget)."""
        last = run.history[-1]["epoch"] if run.history else 0
        self._draw(run, last, timed=False)

    def _draw(self, run: FitResult, epoch: int, timed: bool = True) -> None:
        started = time.perf_counter()
        was_training = run.model.training, run.loss.training
        view = boundary_view(run, space=self.space, name=self.name, resolution=self.resolution,
                             max_points=self.max_points)
        run.model.train(was_training[0])
        run.loss.train(was_training[1])
        unseen = next((row["unseen/map@r"] for row in reversed(run.history) if "unseen/map@r" in row), None)
        title = f"{self.name}: epoch {epoch}" + (" (before training)" if epoch == 0 else "")
        if unseen is not None:
            title += f" · unseen MAP@R {percent(unseen):.1f}"
        if not self._drawn:
            fresh = confidence_landscape({self.name: view}, title=title)
            fresh.update_layout(height=520)
            self.slot.show(fresh)
            self._drawn = True
            self._camera = self._eye() if view.kind == "sphere" else None
        else:  # only the arrays that change, as numbers: a fresh figure would cost several times the training
            with self.figure.batch_update():
                for trace, update in zip(self.figure.data, landscape_updates(view)):
                    if update:
                        trace.update(update)
                self.figure.layout.title.text = title
                self.figure.layout.annotations[0].text = panel_title(view, named=False)  # the title names the run
                if view.kind == "sphere" and self._eye() == self._camera:  # the reader has not turned it: keep
                    camera = plotly_camera(view)  # facing the points as they move
                    self.figure.layout.scene.camera = camera
                    self._camera = self._eye(camera["eye"])  # (read back, it would still be the old one here)
        self.redraws += 1
        cost = time.perf_counter() - started
        if timed:
            self.draw_seconds += cost
            self._last_cost = cost

    def _eye(self, eye: dict | None = None) -> tuple | None:
        """The scene camera's eye (``eye``, or the figure's now), rounded: what tells whether the reader turned it."""
        if eye is None:
            eye = self.figure.layout.scene.camera.eye
            eye = None if eye is None or eye.x is None else {"x": eye.x, "y": eye.y, "z": eye.z}
        return None if eye is None else tuple(round(float(eye[k]), 6) for k in "xyz")

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)


__all__ = ["LiveLandscape"]
