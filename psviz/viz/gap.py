"""Overfitting the seen classes, per epoch: held-out seen-class MAP@R against unseen-class MAP@R, and their gap.

A gap that keeps growing while the unseen score stalls or falls is the overfitting the paper says Proxy Synthesis
regularises against (paper.md: training on the seen classes alone can overfit them).
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.figure import Figure
from plotly.subplots import make_subplots

from ..analysis.curves import gap_series
from ..base.names import metric_name
from ..base.percent import percent
from .style import arm_colour, check_backend, rgba


def _subtitle(series: dict) -> str:
    seeds = {s["n_seeds"] for s in series.values()}
    n = seeds.pop() if len(seeds) == 1 else None
    return f"mean ± 1 sample std over {n} seeds" if n and n > 1 else "one seed per run"


def _panels(metric: str, reference_name: str) -> list[tuple[str, str]]:
    label = metric_name(metric)
    return [("unseen", f"unseen {label} (%)"), ("reference", f"{reference_name} {label} (%)"),
            ("gap", f"gap: {reference_name} − unseen (points)")]


def _plotly(series: dict, metric: str, reference_name: str, title: str) -> go.Figure:
    panels = _panels(metric, reference_name)
    fig = make_subplots(rows=1, cols=3, horizontal_spacing=0.07, subplot_titles=[t for _, t in panels])
    for i, (name, s) in enumerate(series.items()):
        colour = arm_colour(name, i)
        x = s["epochs"]
        for col, (key, what) in enumerate(panels, start=1):
            mean, std = percent(s[f"{key}_mean"]), percent(s[f"{key}_std"])
            if s["n_seeds"] > 1:
                fig.add_trace(go.Scatter(x=np.concatenate([x, x[::-1]]), y=np.concatenate([mean + std, (mean - std)[::-1]]),
                                         fill="toself", fillcolor=rgba(colour, 0.15), line=dict(width=0),
                                         hoverinfo="skip", showlegend=False, legendgroup=name), row=1, col=col)
            fig.add_trace(go.Scatter(x=x, y=mean, mode="lines+markers", name=name, legendgroup=name,
                                     showlegend=col == 1, line=dict(color=colour), marker=dict(size=5),
                                     hovertemplate=f"{name}, {what}<br>epoch %{{x}}: %{{y:.2f}}<extra></extra>"),
                          row=1, col=col)
    for col in (1, 2, 3):
        fig.update_xaxes(title="epoch", row=1, col=col)
    fig.update_layout(title=dict(text=f"{title}<br><sup>{_subtitle(series)}</sup>"), template="plotly_white",
                      height=420, autosize=True, margin=dict(t=110, b=60),
                      legend=dict(orientation="h", yanchor="top", y=-0.2, x=0.5, xanchor="center"))
    return fig


def _matplotlib(series: dict, metric: str, reference_name: str, title: str) -> Figure:
    panels = _panels(metric, reference_name)
    fig = Figure(figsize=(12, 4.0), layout="constrained")
    axes = fig.subplots(1, 3)
    for i, (name, s) in enumerate(series.items()):
        colour = arm_colour(name, i)
        x = s["epochs"]
        for ax, (key, _) in zip(axes, panels):
            mean, std = percent(s[f"{key}_mean"]), percent(s[f"{key}_std"])
            ax.plot(x, mean, marker="o", markersize=3, color=colour, label=name if ax is axes[0] else None)
            if s["n_seeds"] > 1:
                ax.fill_between(x, mean - std, mean + std, color=colour, alpha=0.15, linewidth=0)
    for ax, (_, what) in zip(axes, panels):
        ax.set(xlabel="epoch", title=what)
        ax.grid(alpha=0.3)
    fig.suptitle(f"{title}\n({_subtitle(series)})", fontsize=11)
    fig.legend(loc="outside lower center", ncol=len(series), fontsize=9)
    return fig


def generalisation_gap(runs: dict, *, metric: str = "map@r", reference: str = "heldout", title: str | None = None,
                       backend: str = "plotly"):
    """Per epoch, each run's held-out seen-class and unseen-class ``metric`` and the gap between them.

    ``runs`` maps names (e.g. "baseline", "with PS") to a `FitResult`, a history, or a list of them over seeds
    (then mean ± 1 sample std bands). ``reference="heldout"`` uses the seen-class items the run held out of training
    (``holdout_per_class``); ``"seen"`` uses the training items themselves (``eval_seen``), which also counts
    memorisation.
    """
    check_backend(backend)
    series = gap_series(runs, metric=metric, reference=reference)
    reference_name = "held-out seen" if reference == "heldout" else "seen (training items)"
    title = title or "Overfitting the seen classes: does the gap to unseen classes keep growing?"
    draw = _matplotlib if backend == "matplotlib" else _plotly
    return draw(series, metric, reference_name, title)


__all__ = ["generalisation_gap"]
