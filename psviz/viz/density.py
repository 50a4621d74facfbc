"""The paper's Figure 3 as a test: where the synthetic points are dense, and whether the unseen classes land there.

Synthetic points are drawn as a density (so hundreds of them read as a region, not a heap of marks), seen points and
small outlined proxies under it stay visible, and the unseen items go on top. paper.md, Figure 3: the authors read
their t-SNE as synthetic classes occupying the room where unseen classes land; this figure lets a reader check that
on their own runs, with the measured share beside each panel.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure
from plotly.subplots import make_subplots
from scipy.ndimage import gaussian_filter

from .. import data as datasets
from ..analysis.projection import UMAPProjection
from ..base.percent import percent
from .style import MARKS, check_backend, class_colours, rgba

CLOUD = "synthetic_cloud"
DENSITY_COLOUR = "#7B3FA0"
DENSITY_NAME = "where synthetic points are dense"


def density_grid(points: np.ndarray, ranges, bins: int = 90, smooth: float = 1.6) -> tuple:
    """(x centres, y centres, density [bins, bins] scaled to a maximum of 1) of 2-D points, Gaussian-smoothed."""
    hist, xe, ye = np.histogram2d(points[:, 0], points[:, 1], bins=bins, range=ranges)
    density = gaussian_filter(hist.T, smooth)
    density = density / density.max() if density.max() > 0 else density
    return (xe[:-1] + xe[1:]) / 2, (ye[:-1] + ye[1:]) / 2, density


def _check(projections) -> dict:
    if isinstance(projections, UMAPProjection):
        projections = {"": projections}
    if not isinstance(projections, dict) or not projections:
        raise ValueError("projections must be a non-empty dict of name -> UMAPProjection")
    for name, p in projections.items():
        if not isinstance(p, UMAPProjection):
            raise ValueError(f"projections[{name!r}] must be a UMAPProjection (psviz.analysis.umap_project), "
                             f"got {type(p).__name__}")
        if CLOUD not in p.extras or not len(p.extras[CLOUD]):
            raise ValueError(f"projections[{name!r}] has no synthetic points: make it with "
                             f"umap_project(..., cloud=psviz.train.synthetic_points(run))")
    return projections


def _ranges(projections: dict):
    every = np.concatenate([np.concatenate([p.points, p.extras[CLOUD]]) for p in projections.values()])
    low, high = np.percentile(every, 0.5, axis=0), np.percentile(every, 99.5, axis=0)
    pad = 0.06 * (high - low)
    return [(low[i] - pad[i], high[i] + pad[i]) for i in range(2)]


def caption(measures: dict | None) -> str:
    """The measured shares (in the full embedding, not the map) under a panel."""
    if not measures or "unseen_closer_to_synthetic" not in measures:
        return ""
    share = percent(measures['unseen_closer_to_synthetic'])
    text = f"unseen items nearer a synthetic point than any proxy: {share:.0f}%"
    if "heldout_closer_to_synthetic" in measures:
        text += f" (held-out seen items: {percent(measures['heldout_closer_to_synthetic']):.0f}%)"
    return text


def _split(projection: UMAPProjection, split: str):
    mask = projection.splits == split
    n_seen = len(projection.class_names.get(datasets.SEEN, []))
    return projection.points[mask], class_colours(projection.labels[mask], split, n_seen), mask


def _plotly(projections: dict, measures: dict, ranges, title: str) -> go.Figure:
    fig = make_subplots(rows=1, cols=len(projections), horizontal_spacing=0.05, subplot_titles=[
        f"<b>{name}</b><br><sup>{caption(measures.get(name))}</sup>" for name in projections])
    scale = [[0.0, rgba(DENSITY_COLOUR, 0.0)], [0.15, rgba(DENSITY_COLOUR, 0.12)], [1.0, rgba(DENSITY_COLOUR, 0.6)]]
    for col, (name, p) in enumerate(projections.items(), start=1):
        first = col == 1
        xs, ys, density = density_grid(p.extras[CLOUD], ranges)
        fig.add_trace(go.Contour(x=xs, y=ys, z=density, colorscale=scale, showscale=False, hoverinfo="skip",
                                 contours=dict(start=0.1, end=1.0, size=0.15, coloring="fill"),
                                 line=dict(width=0.6, color=rgba(DENSITY_COLOUR, 0.5)), name=DENSITY_NAME,
                                 showlegend=first, legendgroup="density"), row=1, col=col)
        seen, colours, _ = _split(p, datasets.SEEN)
        fig.add_trace(go.Scattergl(x=seen[:, 0], y=seen[:, 1], mode="markers", name=MARKS["seen"].name,
                                   legendgroup="seen", showlegend=first, hoverinfo="skip",
                                   marker=dict(size=6, color=colours, opacity=0.75, line=dict(width=0))),
                      row=1, col=col)
        if "proxies" in p.extras:
            proxy_colours = class_colours(p.extra_labels["proxies"])
            fig.add_trace(go.Scattergl(x=p.extras["proxies"][:, 0], y=p.extras["proxies"][:, 1], mode="markers",
                                       name=MARKS["proxy"].name, legendgroup="proxy", showlegend=first,
                                       hoverinfo="skip", marker=dict(symbol="diamond-open", size=7,
                                                                     color=proxy_colours, line=dict(width=1.5))),
                          row=1, col=col)
        unseen, colours, mask = _split(p, datasets.UNSEEN)
        names = p.class_names.get(datasets.UNSEEN, [])
        fig.add_trace(go.Scattergl(x=unseen[:, 0], y=unseen[:, 1], mode="markers", name=MARKS["unseen"].name,
                                   legendgroup="unseen", showlegend=first, hoverinfo="text",
                                   hovertext=[f"{names[y]} · unseen" if y < len(names) else "unseen"
                                              for y in p.labels[mask]],
                                   marker=dict(symbol="circle-open", size=8, color=colours, line=dict(width=2))),
                      row=1, col=col)
        fig.update_xaxes(range=ranges[0], showticklabels=False, showgrid=False, zeroline=False, title="UMAP 1",
                         row=1, col=col)
        fig.update_yaxes(range=ranges[1], showticklabels=False, showgrid=False, zeroline=False,
                         title="UMAP 2" if first else None, row=1, col=col)
    fig.update_layout(title=dict(text=title), template="plotly_white", height=600, autosize=True,
                      margin=dict(t=110, b=50),
                      legend=dict(orientation="h", yanchor="top", y=-0.06, x=0.5, xanchor="center",
                                  itemsizing="constant"))
    return fig


def _matplotlib(projections: dict, measures: dict, ranges, title: str) -> Figure:
    from matplotlib.colors import LinearSegmentedColormap, to_rgba
    from matplotlib.patches import Patch

    cmap = LinearSegmentedColormap.from_list("density", [to_rgba(DENSITY_COLOUR, 0.0), to_rgba(DENSITY_COLOUR, 0.6)])
    fig = Figure(figsize=(5.6 * len(projections), 6.0), layout="constrained")
    handles = None
    for i, (name, p) in enumerate(projections.items()):
        ax = fig.add_subplot(1, len(projections), i + 1)
        xs, ys, density = density_grid(p.extras[CLOUD], ranges)
        ax.contourf(xs, ys, density, levels=np.arange(0.1, 1.01, 0.15), cmap=cmap, vmin=0.0, vmax=1.0)
        ax.contour(xs, ys, density, levels=np.arange(0.1, 1.01, 0.15), colors=[to_rgba(DENSITY_COLOUR, 0.5)],
                   linewidths=0.5)
        seen, colours, _ = _split(p, datasets.SEEN)
        a = ax.scatter(seen[:, 0], seen[:, 1], s=12, c=colours, alpha=0.75, linewidths=0, label=MARKS["seen"].name)
        b = None
        if "proxies" in p.extras:
            b = ax.scatter(*p.extras["proxies"].T, marker="D", s=22, facecolors="none",
                           edgecolors=class_colours(p.extra_labels["proxies"]), linewidths=1.2,
                           label=MARKS["proxy"].name)
        unseen, colours, _ = _split(p, datasets.UNSEEN)
        c = ax.scatter(unseen[:, 0], unseen[:, 1], s=26, facecolors="none", edgecolors=colours, linewidths=1.3,
                       label=MARKS["unseen"].name)
        ax.set(xlim=ranges[0], ylim=ranges[1], xticks=[], yticks=[], xlabel="UMAP 1")
        ax.set_title(f"{name}\n{caption(measures.get(name))}", fontsize=9)
        handles = [Patch(color=to_rgba(DENSITY_COLOUR, 0.45), label=DENSITY_NAME), a] + ([b] if b else []) + [c]
    fig.suptitle(title, fontsize=11)
    fig.legend(handles=handles, loc="outside lower center", ncol=4, fontsize=9)
    return fig


def synthetic_density(projections, *, measures: dict | None = None, title: str | None = None,
                      backend: str = "plotly"):
    """One panel per run: the density of its synthetic points, its seen points and proxies, unseen items on top.

    ``projections`` maps run names to `UMAPProjection` objects made with ``cloud=`` synthetic points (for a
    baseline, the points PS *would* make from its embeddings); ``measures`` (name -> `mechanism_measures` dict) adds
    the measured shares under each panel. Distances in a UMAP map are distorted: the shares, measured in the full
    embedding, are the numbers to trust.
    """
    check_backend(backend)
    projections = _check(projections)
    ranges = _ranges(projections)
    title = title or "Do unseen classes land where the synthetic classes are? (the paper's Figure 3, measured)"
    draw = _matplotlib if backend == "matplotlib" else _plotly
    return draw(projections, measures or {}, ranges, title)


__all__ = ["CLOUD", "caption", "density_grid", "synthetic_density"]
