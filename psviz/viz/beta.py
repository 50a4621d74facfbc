"""The mixing weight's distribution: Beta(α, α) densities, optionally with a histogram of λ draws over them."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure
from scipy import stats

from ..base.checks import check_number
from .style import _PALETTE, check_backend

DENSITY_CAP = 4.0  # Beta(α, α) with α < 1 is infinite at 0 and 1: the y axis stops here so the middle stays readable


def beta_curves(alphas, points: int = 401) -> tuple[np.ndarray, dict[float, np.ndarray]]:
    """λ on (0, 1) and the Beta(α, α) density at each λ, for each α."""
    alphas = [check_number(a, "alpha", low=0.0, low_open=True) for a in np.atleast_1d(alphas).tolist()]
    lam = np.linspace(0.0, 1.0, points)[1:-1]
    return lam, {a: stats.beta.pdf(lam, a, a) for a in alphas}


def _histogram(samples, bins: int) -> tuple[np.ndarray, np.ndarray]:
    samples = np.asarray(samples, dtype=float).reshape(-1)
    if samples.size == 0 or not np.all((samples >= 0) & (samples <= 1)):
        raise ValueError("samples must be a non-empty array of λ values in [0, 1]")
    density, edges = np.histogram(samples, bins=bins, range=(0.0, 1.0), density=True)
    return density, edges


def beta_density(alphas=(0.1, 0.4, 1.0, 2.0), *, samples=None, bins: int = 40, backend: str = "plotly"):
    """One line per α of the density of λ ~ Beta(α, α); ``samples`` (drawn λ values) add a histogram behind them.

    Small α puts λ near 0 or 1 (synthetic points close to one source), α = 1 is uniform, large α pulls λ to 0.5.
    """
    check_backend(backend)
    lam, curves = beta_curves(alphas)
    histogram = _histogram(samples, bins) if samples is not None else None
    title = "How α shapes the mixing weight λ ~ Beta(α, α)"
    if backend == "matplotlib":
        fig = Figure(figsize=(6.4, 3.6))
        ax = fig.subplots()
        if histogram is not None:
            density, edges = histogram
            ax.bar(edges[:-1], density, width=np.diff(edges), align="edge", color="#cccccc", label="λ drawn")
        for i, (a, y) in enumerate(curves.items()):
            ax.plot(lam, y, color=_PALETTE[i % len(_PALETTE)], label=f"α = {a:g}")
        ax.set(xlim=(0, 1), ylim=(0, DENSITY_CAP), xlabel="λ", ylabel="density", title=title)
        ax.legend(fontsize=8)
        fig.tight_layout()
        return fig
    fig = go.Figure()
    if histogram is not None:
        density, edges = histogram
        fig.add_bar(x=(edges[:-1] + edges[1:]) / 2, y=density, width=np.diff(edges), name="λ drawn",
                    marker_color="#cccccc")
    for i, (a, y) in enumerate(curves.items()):
        fig.add_scatter(x=lam, y=y, mode="lines", name=f"α = {a:g}", line=dict(color=_PALETTE[i % len(_PALETTE)]))
    fig.update_layout(template="plotly_white", title=title, xaxis_title="λ", yaxis_title="density", height=360,
                      xaxis_range=[0, 1], yaxis_range=[0, DENSITY_CAP], bargap=0)
    return fig


__all__ = ["DENSITY_CAP", "beta_curves", "beta_density"]
