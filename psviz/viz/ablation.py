"""The α × μ ablation of Proxy Synthesis as a heatmap: mean ± std over seeds per cell, read against the baseline.

The heatmap takes the grid's records as they come in (a list of dicts or a DataFrame with ``alpha``, ``mu``,
``seed``, ``ps`` and the metric), so a grid runner can redraw after every finished run; the numbers are
`psviz.analysis.summarise_grid`'s. Values keep the records' unit (retrieval metrics are fractions); the heatmap shows
retrieval metrics in percent.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import plotly.colors
import plotly.graph_objects as go
from matplotlib import colormaps
from matplotlib.colors import Normalize
from matplotlib.figure import Figure

from ..analysis import summarise_grid
from ..base.names import is_retrieval_metric
from .curves import metric_label
from .style import check_backend


@dataclass
class _Grid:
    """The heatmap's content: α rows, μ columns, and per-cell mean/std/n (NaN and 0 where no run finished)."""

    alphas: list[float]
    mus: list[float]
    mean: np.ndarray
    std: np.ndarray
    n: np.ndarray
    baseline: tuple[float, float, int] | None

    def text(self, newline: str) -> list[list[str]]:
        filled = self.n[self.n > 0]
        show_n = filled.size and filled.min() != filled.max()
        rows = []
        for i in range(len(self.alphas)):
            rows.append([_cell_text(self.mean[i, j], self.std[i, j], self.n[i, j], show_n, newline)
                         for j in range(len(self.mus))])
        return rows


def _cell_text(mean: float, std: float, n: int, show_n: bool, newline: str) -> str:
    if n == 0:
        return ""
    text = f"{mean:.2f}" if np.isnan(std) else f"{mean:.2f} ± {std:.2f}"
    return text + (f"{newline}n={n}" if show_n else "")


def _axis_values(given, found, name: str) -> list[float]:
    if given is None:
        given = []
    try:
        given = [float(v) for v in given]
    except (TypeError, ValueError) as error:
        raise ValueError(f"{name} must be a list of numbers (the full grid's values), got {given!r}") from error
    return sorted(set(given) | {float(v) for v in found})


def _grid(summary: pd.DataFrame, alphas, mus, scale: float) -> _Grid:
    """The heatmap's content from `summarise_grid`, means and stds times ``scale`` (100 shows fractions in percent)."""
    summary = summary.assign(mean=scale * summary["mean"], std=scale * summary["std"])
    cells = summary[summary["ps"].astype(bool)]
    alphas = _axis_values(alphas, cells["alpha"], "alphas")
    mus = _axis_values(mus, cells["mu"], "mus")
    mean = np.full((len(alphas), len(mus)), np.nan)
    std, n = mean.copy(), np.zeros(mean.shape, dtype=int)
    for cell in cells.itertuples():
        i, j = alphas.index(float(cell.alpha)), mus.index(float(cell.mu))
        mean[i, j], std[i, j], n[i, j] = cell.mean, cell.std, cell.n
    base = summary[~summary["ps"].astype(bool)]
    baseline = None if base.empty else (float(base["mean"].iloc[0]), float(base["std"].iloc[0]),
                                         int(base["n"].iloc[0]))
    return _Grid(alphas, mus, mean, std, n, baseline)


def _limits(grid: _Grid) -> tuple[float, float] | None:
    """Colour limits symmetric about the baseline, so its value sits at the scale's neutral middle."""
    if grid.baseline is None:
        return None
    centre = grid.baseline[0]
    spread = np.nanmax(np.abs(grid.mean - centre)) if np.isfinite(grid.mean).any() else 0.0
    half = max(float(spread), 1e-6)
    return centre - half, centre + half


def _title(grid: _Grid, metric: str, newline: str) -> str:
    head = f"{metric_label(metric)} over α × μ, mean of seeds{newline}"
    if grid.baseline is None:
        return head + "no baseline yet"
    mean, std, n = grid.baseline
    spread = "" if np.isnan(std) else f" ± {std:.2f}"
    return head + f"baseline (no PS): {mean:.2f}{spread} (n={n})"


def ablation_heatmap(records, metric: str = "map@r", *, alphas=None, mus=None, backend: str = "plotly"):
    """Heatmap of ``metric`` with α as rows and μ as columns: mean ± std over seeds, coloured against the baseline.

    With a baseline the colour scale diverges about its mean (blue better, red worse for retrieval metrics); cells
    without a finished run stay empty. Pass the full grid's ``alphas``/``mus`` to keep the layout fixed while the
    grid fills up.
    """
    check_backend(backend)
    grid = _grid(summarise_grid(records, metric), alphas, mus, 100.0 if is_retrieval_metric(metric) else 1.0)
    if backend == "matplotlib":
        return _heatmap_matplotlib(grid, metric)
    return _heatmap_plotly(grid, metric)


def _plotly_scale(metric: str) -> list:
    scale = list(plotly.colors.diverging.RdBu)  # red (low) to blue (high)
    return scale if is_retrieval_metric(metric) else scale[::-1]  # for a loss, lower is better


def _heatmap_plotly(grid: _Grid, metric: str) -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=_title(grid, metric, "<br>"), template="plotly_white",
                      width=max(420, 130 * len(grid.mus) + 260), height=max(320, 80 * len(grid.alphas) + 180),
                      plot_bgcolor="#eeeeee")  # shows through missing cells
    if not grid.alphas or not grid.mus:
        fig.add_annotation(text="no PS runs yet", showarrow=False, x=0.5, y=0.5, xref="paper", yref="paper")
        fig.update_xaxes(visible=False)
        fig.update_yaxes(visible=False)
        return fig
    limits = _limits(grid)
    colorbar = dict(title=metric_label(metric))
    heatmap = dict(colorscale="Viridis")
    if limits is not None:
        low, high = limits
        colorbar.update(tickvals=[low, grid.baseline[0], high],
                        ticktext=[f"{low:.2f}", f"baseline {grid.baseline[0]:.2f}", f"{high:.2f}"])
        heatmap = dict(colorscale=_plotly_scale(metric), zmin=low, zmax=high)
    fig.add_trace(go.Heatmap(
        z=grid.mean, x=[f"{m:g}" for m in grid.mus], y=[f"{a:g}" for a in grid.alphas], text=grid.text("<br>"),
        texttemplate="%{text}", name="PS (α, μ)", colorbar=colorbar, xgap=2, ygap=2,
        hovertemplate="α=%{y}, μ=%{x}<br>%{text}<extra></extra>", **heatmap))
    fig.update_xaxes(title="μ (synthetic classes per batch / B)", type="category")
    fig.update_yaxes(title="α (λ ~ Beta(α, α))", type="category", autorange="reversed")
    return fig


def _heatmap_matplotlib(grid: _Grid, metric: str) -> Figure:
    fig = Figure(figsize=(max(4.5, 1.3 * len(grid.mus) + 2.5), max(3.2, 0.8 * len(grid.alphas) + 1.8)),
                 layout="constrained")
    ax = fig.add_subplot()
    ax.set_title(_title(grid, metric, "\n"), fontsize=10)
    if not grid.alphas or not grid.mus:
        ax.text(0.5, 0.5, "no PS runs yet", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        return fig
    limits = _limits(grid)
    if limits is None:
        cmap, norm = colormaps["viridis"], None
    else:
        cmap, norm = colormaps["RdBu" if is_retrieval_metric(metric) else "RdBu_r"], Normalize(*limits)
    cmap = cmap.with_extremes(bad=(0, 0, 0, 0))  # missing cells stay empty: the hatched background shows
    ax.patch.set(facecolor="#f4f4f4", edgecolor="#cccccc", hatch="//")
    image = ax.imshow(np.ma.masked_invalid(grid.mean), cmap=cmap, norm=norm, aspect="auto", label="PS (α, μ)")
    for i, row in enumerate(grid.text("\n")):
        for j, text in enumerate(row):
            if text:
                r, g, b, _ = image.cmap(image.norm(grid.mean[i, j]))
                ax.text(j, i, text, ha="center", va="center", fontsize=8,
                        color="black" if 0.299 * r + 0.587 * g + 0.114 * b > 0.5 else "white")
    ax.set_xticks(range(len(grid.mus)), [f"{m:g}" for m in grid.mus])
    ax.set_yticks(range(len(grid.alphas)), [f"{a:g}" for a in grid.alphas])
    ax.set(xlabel="μ (synthetic classes per batch / B)", ylabel="α (λ ~ Beta(α, α))")
    bar = fig.colorbar(image, ax=ax, label=metric_label(metric))
    if limits is not None:
        low, high = limits
        bar.set_ticks([low, grid.baseline[0], high], labels=[f"{low:.2f}", f"baseline {grid.baseline[0]:.2f}",
                                                              f"{high:.2f}"])
        bar.ax.axhline(grid.baseline[0], color="black", linewidth=1.5)
    return fig


__all__ = ["ablation_heatmap"]
