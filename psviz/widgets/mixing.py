"""Small one-slider widgets for teaching: λ along one PS batch's mixing paths, and α's effect on Beta(α, α)."""

from __future__ import annotations

import ipywidgets as widgets
import numpy as np
import plotly.graph_objects as go
import torch

from ..base.checks import check_int
from ..method.synthesis import RELEASED_ALPHA, SynthesisResult, sample_lambda
from ..viz.beta import beta_density
from ..viz.synthetic import set_lambda, synthetic_embeddings
from ._errors import ErrorBox
from ._figures import FigureSlot, figure_widget


class LambdaSlider:
    """One PS batch with a λ slider: the synthetic embeddings and proxies slide along their mixing paths.

    The batch's pairs stay fixed; only λ changes (`SynthesisResult.with_lambda`), so nothing is retrained.
    """

    def __init__(self, result: SynthesisResult, *, class_names=None, title: str = "One batch with Proxy Synthesis"):
        self.result, self.class_names = result, class_names
        # lam_steps=0: no plotly slider, the ipywidgets one below replaces it
        self.figure = figure_widget(synthetic_embeddings(result, class_names=class_names, title=title, lam_steps=0))
        self.slider = widgets.FloatSlider(value=round(result.lam, 2), min=0.0, max=1.0, step=0.01, description="λ",
                                          readout_format=".2f")
        self.errors = ErrorBox()
        self.slider.observe(lambda change: self.errors.guard(self.move, change["new"]), names="value")
        self.widget = widgets.VBox([self.slider, self.errors.widget, self.figure])

    def move(self, lam: float) -> None:
        set_lambda(self.figure, self.result, lam, class_names=self.class_names)

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)


class BetaSlider:
    """An α slider over the density of λ ~ Beta(α, α), with a histogram of λ drawn by `psviz.sample_lambda`."""

    def __init__(self, alpha: float = RELEASED_ALPHA, *, samples: int = 2000, seed: int = 0):
        self.samples = check_int(samples, "samples")
        self.seed = int(seed)
        self.alpha = widgets.FloatSlider(value=alpha, min=0.05, max=4.0, step=0.05, description="α",
                                         continuous_update=False)
        self.errors = ErrorBox()
        self.slot = FigureSlot(self._figure(alpha))
        self.alpha.observe(lambda change: self.errors.guard(self.redraw, change["new"]), names="value")
        self.widget = widgets.VBox([self.alpha, self.errors.widget, self.slot.widget])

    @property
    def figure(self):
        return self.slot.figure

    def draws(self, alpha: float) -> np.ndarray:
        """``samples`` values of λ, drawn the way Proxy Synthesis draws them (one per batch), from ``seed``."""
        generator = torch.Generator().manual_seed(self.seed)
        return np.array([sample_lambda(alpha, generator) for _ in range(self.samples)])

    def _figure(self, alpha: float) -> go.Figure:
        lam = self.draws(alpha)
        fig = beta_density([alpha], samples=lam)
        fig.update_layout(title=f"λ ~ Beta({alpha:g}, {alpha:g}): {np.mean((lam < 0.1) | (lam > 0.9)):.0%} of "
                                f"{self.samples} draws are within 0.1 of 0 or 1")
        return fig

    def redraw(self, alpha: float) -> None:
        self.slot.show(self._figure(alpha))

    def _ipython_display_(self):
        from IPython.display import display
        display(self.widget)


__all__ = ["BetaSlider", "LambdaSlider"]
