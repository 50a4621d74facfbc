"""UMAP maps of seen and unseen classes (the paper's Figure 3 on your data), drawn from the cached maps of
`psviz.analysis.projection` so a redraw is instant."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure
from plotly.subplots import make_subplots

from .. import data as datasets
from ..analysis.projection import UMAP_CACHE, UMAPCache, UMAPProjection, align_to_first, umap_project
from ..train.export import EmbeddingExport
from .style import MARKS, SYNTHETIC_COLOUR, check_backend, class_colours


def _layers(projection: UMAPProjection):
    """(kind, xy, colours, hover text, legend name) for each group of points, in drawing order: synthetic points
    first (under everything), then seen and unseen points, proxies last."""
    names = projection.class_names
    n_seen = len(names.get(datasets.SEEN, []))
    if "synthetic" in projection.extras:
        for kind, key in (("synthetic", "synthetic"), ("synthetic_proxy", "synthetic_proxies")):
            labels = projection.extra_labels[key]
            yield (kind, projection.extras[key], SYNTHETIC_COLOUR, [f"synthetic class {c}" for c in labels],
                   MARKS[kind].name)
    for split in (datasets.SEEN, datasets.UNSEEN):
        mask = projection.splits == split
        if mask.any():
            labels = projection.labels[mask]
            yield (split, projection.points[mask], class_colours(labels, split, n_seen),
                   [f"{names.get(split, [])[y] if y < len(names.get(split, [])) else y} · {split}" for y in labels],
                   MARKS[split].name)
    seen_names = names.get(datasets.SEEN, [])
    label_of = lambda c: seen_names[c] if c < len(seen_names) else f"class {c}"  # noqa: E731
    if "proxies" in projection.extras:
        labels = projection.extra_labels["proxies"]
        yield ("proxy", projection.extras["proxies"], class_colours(labels),
               [f"proxy of {label_of(c)}" for c in labels], MARKS["proxy"].name)


def _shrink(n: int) -> float:
    """Smaller marks when a layer holds many points, so hundreds of proxies do not hide the embeddings."""
    return float(np.clip((60 / max(n, 1)) ** 0.5, 0.45, 1.0))


# (size, line width, opacity) per kind in a map: unseen points large and hollow so they read at a glance, proxies
# outlined so the seen points under them stay visible, synthetic points small and light under everything.
_STYLE = {"seen": (6.0, 0.0, 0.7), "unseen": (8.0, 1.8, 1.0), "proxy": (9.0, 2.0, 1.0),
          "synthetic": (6.0, 1.2, 0.5), "synthetic_proxy": (8.0, 1.2, 0.5)}
_SYMBOLS = {"proxy": ("diamond-open", "D")}


def _style(kind: str, n: int) -> tuple[float, float, float]:
    size, width, opacity = _STYLE[kind]
    floor = 0.85 if kind == "unseen" else 0.45
    return size * max(_shrink(n), floor), width, opacity


def _plotly(projections: dict, title: str, ranges):
    fig = make_subplots(rows=1, cols=len(projections), subplot_titles=list(projections), horizontal_spacing=0.05)
    in_legend = set()
    for col, projection in enumerate(projections.values(), start=1):
        for kind, xy, colours, text, name in _layers(projection):
            mark = MARKS[kind]
            size, width, opacity = _style(kind, len(xy))
            symbol = _SYMBOLS.get(kind, (mark.plotly_symbol,))[0]
            fig.add_trace(go.Scattergl(x=xy[:, 0], y=xy[:, 1], mode="markers", name=name, legendgroup=kind,
                                       showlegend=kind not in in_legend, hovertext=text, hoverinfo="text",
                                       marker=dict(symbol=symbol, size=size, color=colours, opacity=opacity,
                                                   line=dict(width=width, color=colours))),
                          row=1, col=col)
            in_legend.add(kind)
        fig.update_xaxes(range=ranges[0], row=1, col=col, showticklabels=False, title="UMAP 1")
        fig.update_yaxes(range=ranges[1], row=1, col=col, showticklabels=False, title="UMAP 2" if col == 1 else None)
    fig.update_layout(title=title, template="plotly_white", height=580, autosize=True, margin=dict(t=90, b=50),
                      legend=dict(orientation="h", yanchor="top", y=-0.06, x=0.5, xanchor="center",
                                  itemsizing="constant"))
    return fig


def _matplotlib(projections: dict, title: str, ranges):
    fig = Figure(figsize=(5.4 * len(projections), 5.8), layout="constrained")
    in_legend = set()
    for i, (name, projection) in enumerate(projections.items()):
        ax = fig.add_subplot(1, len(projections), i + 1)
        for kind, xy, colours, _, label in _layers(projection):
            mark = MARKS[kind]
            size, width, opacity = _style(kind, len(xy))
            marker = _SYMBOLS.get(kind, (None, mark.mpl_marker))[1]
            hollow = kind in ("unseen", "proxy", "synthetic_proxy")
            ax.scatter(xy[:, 0], xy[:, 1], marker=marker, s=(0.8 * size) ** 2,
                       facecolors="none" if hollow else colours, edgecolors=colours if hollow else None,
                       linewidths=max(width, 0.8) if hollow or marker == "x" else 0, alpha=opacity,
                       label=None if kind in in_legend else label)
            in_legend.add(kind)
        ax.set_xlim(*ranges[0])
        ax.set_ylim(*ranges[1])
        ax.set_xticks([])
        ax.set_yticks([])
        ax.set_title(name)
    fig.suptitle(title)
    fig.legend(loc="outside lower center", ncol=5, fontsize=9, markerscale=1.3)
    return fig


def umap_seen_unseen(exports, *, fit_on: str = "seen", overlay=("proxies",), synthetic: dict | None = None,
                     proxy_classes=None, align_maps: bool = True, n_neighbors: int = 15, min_dist: float = 0.1, seed: int = 0,
                     cache: UMAPCache | None = UMAP_CACHE, title: str | None = None, backend: str = "plotly"):
    """UMAP maps of seen (filled) and unseen (hollow) classes for each run, side by side on shared axes.

    ``exports`` maps names to `EmbeddingExport` (or one export). ``overlay`` adds the runs' proxies; ``synthetic``
    (name -> `SynthesisResult`, e.g. from `psviz.train.synthetic_batch`) adds one PS batch's synthetic points.
    With ``align_maps`` each map is rotated onto the first (same rows), so the panels compare point for point.
    """
    check_backend(backend)
    if isinstance(exports, (EmbeddingExport, UMAPProjection)):
        exports = {"": exports}
    if not isinstance(exports, dict) or not exports:
        raise ValueError("exports must be a non-empty dict of name -> EmbeddingExport")
    synthetic = synthetic or {}
    unknown = set(synthetic) - set(exports)
    if unknown:
        raise ValueError(f"synthetic has runs that exports lacks: {sorted(unknown)}")
    projections = {}
    for name, export in exports.items():
        projections[name] = export if isinstance(export, UMAPProjection) else umap_project(
            export, fit_on=fit_on, overlay=overlay, synthetic=synthetic.get(name), proxy_classes=proxy_classes,
            n_neighbors=n_neighbors,
            min_dist=min_dist, seed=seed, cache=cache)
    if align_maps:
        projections = align_to_first(projections)
    every = np.concatenate([np.concatenate([p.points, *p.extras.values()]) for p in projections.values()])
    pad = 0.04 * (every.max(0) - every.min(0))
    ranges = [(every.min(0)[i] - pad[i], every.max(0)[i] + pad[i]) for i in range(2)]
    fitted = "fitted on seen classes; unseen placed by the fitted map" if fit_on == "seen" else "fitted on all classes"
    title = title or f"UMAP of seen and unseen classes ({fitted})"
    return _matplotlib(projections, title, ranges) if backend == "matplotlib" else _plotly(projections, title,
                                                                                          ranges)


__all__ = ["umap_seen_unseen"]
