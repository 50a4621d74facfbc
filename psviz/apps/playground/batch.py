"""One batch of the PS run as Proxy Synthesis mixes it, and the synthetic point the reader clicked: its two parents,
its λ, its synthetic proxy and its mixing path.

A 2-D embedding is drawn by `psviz.viz.synthetic_embeddings` (the circle); a 3-D one on the sphere's map, the
longitude x latitude plane the landscapes use, so the batch lines up with them and no WebGL scene has to be drawn
after every epoch.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
import torch
import torch.nn.functional as F

from ... import data as datasets
from ...method.synthesis import SynthesisResult
from ...viz.style import LINK_COLOUR, MARKS, SYNTHETIC_COLOUR, class_colours
from ...viz.synthetic import (EMBEDDING_PATHS, PROXY_PATHS, display_space, subtitle, synthetic_embeddings,
                             synthetic_points)
from .session import Snapshot

TITLE = "One batch of the PS run: click a synthetic point (×)"
HEIGHT = 440
CHOSEN_COLOUR = "#111111"
CHOSEN = ("chosen: its parents", "chosen: its synthetic proxy", "chosen: its mixing path")
CLICKABLE = (MARKS["synthetic"].name, MARKS["synthetic_proxy"].name)


class SphereMap:
    """3-D rows as (longitude, latitude) in degrees: the sphere's map (a `psviz.viz` Space for 2 axes)."""

    kind, n_axes = "map", 2

    def __call__(self, rows) -> np.ndarray:
        rows = F.normalize(torch.as_tensor(rows).detach().float().cpu().reshape(-1, 3), dim=-1).numpy()
        return np.degrees(np.stack([np.arctan2(rows[:, 1], rows[:, 0]), np.arcsin(np.clip(rows[:, 2], -1, 1))], 1))


def space_of(batch: SynthesisResult):
    """Where the batch is drawn: the sphere's map for 3-D embeddings, else `psviz.viz`'s display space."""
    return SphereMap() if batch.embeddings.shape[1] == 3 else display_space(batch)


def mixing_path(a: torch.Tensor, b: torch.Tensor, normalized: bool, steps: int = 33) -> torch.Tensor:
    """The rows a mix moves along as λ goes from 0 (b) to 1 (a): λa + (1 - λ)b, normalised when the batch is."""
    t = torch.linspace(0.0, 1.0, steps)[:, None]
    rows = torch.lerp(b.float()[None, :], a.float()[None, :], t)
    return F.normalize(rows, dim=-1) if normalized else rows


def _polyline(space, paths: list[torch.Tensor]) -> np.ndarray:
    """Paths drawn as one line with gaps between them; on the map, also a gap where a path crosses ±180°."""
    pieces = []
    for path in paths:
        xy = space(path)
        if isinstance(space, SphereMap):
            jumps = np.flatnonzero(np.abs(np.diff(xy[:, 0])) > 180) + 1
            xy = np.insert(xy, jumps, np.nan, axis=0)
        pieces += [xy, np.full((1, xy.shape[1]), np.nan)]
    return np.concatenate(pieces) if pieces else np.empty((0, space.n_axes))


def _coords(xy: np.ndarray, n_axes: int) -> dict:
    out = {"x": xy[:, 0], "y": xy[:, 1]}
    if n_axes == 3:
        out["z"] = xy[:, 2]
    return out


def chosen_parts(batch: SynthesisResult, chosen: int | None, space) -> list[dict]:
    """Coordinates of the chosen synthetic point's two parents, its synthetic proxy and its mixing paths (the
    embeddings' and the proxies'), in the order of `CHOSEN`; empty when none is chosen."""
    if chosen is None or not 0 <= chosen < batch.n_synthetic:
        return [_coords(np.empty((0, space.n_axes)), space.n_axes)] * 3
    a, b = batch.pairs[chosen].tolist()
    real = batch.embeddings[: batch.n_real].detach().float().cpu()
    proxies = batch.proxies[: batch.n_classes].detach().float().cpu()
    labels = batch.labels[: batch.n_real].cpu()
    synthetic_proxy = batch.synthetic_proxies[chosen].detach().float().cpu().reshape(-1, real.shape[1])
    paths = [mixing_path(real[a], real[b], batch.normalized)]
    if proxies.dim() == 2:  # SoftTriple's several proxies a class have no single path
        paths.append(mixing_path(proxies[labels[a]], proxies[labels[b]], batch.normalized))
    return [_coords(space(torch.stack([real[a], real[b]])), space.n_axes),
            _coords(space(synthetic_proxy), space.n_axes), _coords(_polyline(space, paths), space.n_axes)]


def batch_coordinates(batch: SynthesisResult, chosen: int | None, space) -> dict[str, dict]:
    """Where every moving trace of a `synthetic_figure` is drawn, by trace name: the mixing paths, the synthetic
    points and proxies, the real embeddings and proxies, and the chosen point's parts (`CHOSEN`)."""
    real = batch.embeddings[: batch.n_real].detach().float().cpu()
    labels = batch.labels[: batch.n_real].cpu()
    proxies = batch.proxies[: batch.n_classes].detach().float().cpu()
    pairs = batch.pairs.cpu().tolist()
    synthetic, synthetic_proxy = synthetic_points(batch, space, [str(c) for c in range(batch.n_classes)])
    coords = {EMBEDDING_PATHS: _polyline(space, [mixing_path(real[a], real[b], batch.normalized) for a, b in pairs]),
              MARKS["synthetic"].name: synthetic.xy, MARKS["synthetic_proxy"].name: synthetic_proxy.xy,
              MARKS["seen"].name: space(real), MARKS["proxy"].name: space(proxies.reshape(-1, real.shape[1]))}
    if proxies.dim() == 2 and pairs:
        class_pairs = sorted({tuple(sorted((int(labels[a]), int(labels[b])))) for a, b in pairs})
        coords[PROXY_PATHS] = _polyline(space, [mixing_path(proxies[c], proxies[d], batch.normalized)
                                                for c, d in class_pairs])
    out = {name: _coords(xy, space.n_axes) for name, xy in coords.items()}
    out.update(zip(CHOSEN, chosen_parts(batch, chosen, space)))
    return out


def _map_traces(batch: SynthesisResult, names: list[str], coords: dict) -> list:
    """The batch on the sphere's map, marked as `psviz.viz.synthetic_embeddings` marks it on the sphere: mixing
    paths, synthetic points and proxies under the real embeddings and proxies."""
    labels = batch.labels[: batch.n_real].tolist()
    owner = np.repeat(np.arange(batch.n_classes), len(coords[MARKS["proxy"].name]["x"]) // max(batch.n_classes, 1))
    synthetic, _ = synthetic_points(batch, SphereMap(), names)
    line = dict(color=LINK_COLOUR, width=1.5)
    traces = [go.Scatter(mode="lines", name=EMBEDDING_PATHS, line=line, hoverinfo="skip", **coords[EMBEDDING_PATHS])]
    if PROXY_PATHS in coords:
        traces.append(go.Scatter(mode="lines", name=PROXY_PATHS, line=dict(line, dash="dot"), hoverinfo="skip",
                                 **coords[PROXY_PATHS]))
    for kind, text in (("synthetic", synthetic.text),
                       ("synthetic_proxy", [t.replace("synthetic class", "proxy of synthetic class")
                                            for t in synthetic.text])):
        traces.append(go.Scatter(mode="markers", name=MARKS[kind].name, hovertext=text, hoverinfo="text",
                                 marker=dict(symbol=MARKS[kind].plotly_symbol, size=11, color=SYNTHETIC_COLOUR,
                                             line=dict(width=1.5, color=SYNTHETIC_COLOUR)),
                                 **coords[MARKS[kind].name]))
    traces.append(go.Scatter(mode="markers", name=MARKS["seen"].name, hoverinfo="text",
                             hovertext=[f"{names[y]} · seen · batch item {i}" for i, y in enumerate(labels)],
                             marker=dict(size=7, color=class_colours(labels), line=dict(width=0.5, color="#333333")),
                             **coords[MARKS["seen"].name]))
    traces.append(go.Scatter(mode="markers", name=MARKS["proxy"].name, hoverinfo="text",
                             hovertext=[f"proxy of {names[c]}" for c in owner],
                             marker=dict(symbol="diamond", size=11, color=class_colours(owner),
                                         line=dict(width=1.5, color="#222222")), **coords[MARKS["proxy"].name]))
    return traces


def synthetic_figure(snapshot: Snapshot, chosen: int | None = None) -> go.Figure:
    """The PS run's batch with the chosen synthetic point's parents, synthetic proxy and mixing path on top."""
    batch, names = snapshot.batch, snapshot.class_names[datasets.SEEN]
    space = space_of(batch)
    coords = batch_coordinates(batch, chosen, space)
    if isinstance(space, SphereMap):
        fig = go.Figure(_map_traces(batch, names, coords))
        fig.update_layout(title=dict(text=f"{TITLE}<br><sup>{subtitle(batch)} · on the sphere's map</sup>"))
        fig.update_xaxes(range=[-180, 180], tickvals=[-180, -90, 0, 90, 180], title="longitude (°)", zeroline=False)
        fig.update_yaxes(range=[-90, 90], tickvals=[-90, -45, 0, 45, 90], title="latitude (°)", zeroline=False)
    else:
        fig = synthetic_embeddings(batch, class_names=names, lam_steps=0, title=TITLE)
    kind = go.Scatter3d if space.n_axes == 3 else go.Scatter
    fig.add_trace(kind(mode="lines", name=CHOSEN[2], line=dict(color=CHOSEN_COLOUR, width=3), hoverinfo="skip",
                       **coords[CHOSEN[2]]))
    fig.add_trace(kind(mode="markers", name=CHOSEN[0], hoverinfo="skip", **coords[CHOSEN[0]],
                       marker=dict(symbol="circle-open", size=16, color=CHOSEN_COLOUR,
                                   line=dict(width=3, color=CHOSEN_COLOUR))))
    fig.add_trace(kind(mode="markers", name=CHOSEN[1], hoverinfo="skip", **coords[CHOSEN[1]],
                       marker=dict(symbol="star", size=16, color=CHOSEN_COLOUR)))
    fig.update_layout(template="plotly_white", height=HEIGHT, autosize=True, uirevision="synthetic",
                      margin=dict(t=60, b=10, l=10, r=10), title_font_size=14, hovermode="closest",
                      legend=dict(font=dict(size=10), itemsizing="constant", orientation="h", yref="container",
                                  y=0, yanchor="bottom", x=0.5, xanchor="center"))
    return fig


def synthetic_patch(fig: go.Figure, snapshot: Snapshot, chosen: int | None = None) -> None:
    """Move a `synthetic_figure`'s points and paths to ``snapshot`` (the same batch, later in training) and to the
    ``chosen`` synthetic point, in place."""
    coords = batch_coordinates(snapshot.batch, chosen, space_of(snapshot.batch))
    for trace in fig.data:
        if trace.name in coords:
            trace.update(coords[trace.name])


def chosen_synthetic(fig: go.Figure, batch: SynthesisResult, click: dict | None) -> int | None:
    """The synthetic class a plotly click on a `synthetic_figure` picked (a synthetic point or proxy), else None."""
    points = (click or {}).get("points") or []
    if not points:
        return None
    curve = points[0].get("curveNumber", -1)
    if not 0 <= curve < len(fig.data) or fig.data[curve].name not in CLICKABLE:
        return None
    index = int(points[0].get("pointNumber", -1))
    if fig.data[curve].name == MARKS["synthetic_proxy"].name and batch.synthetic_proxies.dim() == 3:
        index //= batch.synthetic_proxies.shape[1]  # SoftTriple: K synthetic proxies a synthetic class
    return index if 0 <= index < batch.n_synthetic else None


def chosen_text(batch: SynthesisResult, chosen: int | None, class_names) -> str:
    """HTML: which two batch items the chosen synthetic point mixes, with λ, and what its synthetic proxy mixes."""
    if chosen is None or not 0 <= chosen < batch.n_synthetic:
        return ("Click a synthetic point (×) or a synthetic proxy (☆) of the batch to see its two parents, its λ "
                "and its mixing path.")
    a, b = batch.pairs[chosen].tolist()
    labels = batch.labels[: batch.n_real].tolist()
    lam = batch.lam
    first, second = (html.escape(str(class_names[labels[i]])) for i in (a, b))
    return (f"<b>synthetic class {chosen + 1} of {batch.n_synthetic}</b>: λ = <b class='pg-lam'>{lam:.2f}</b><br>"
            f"its embedding = {lam:.2f} × <b class='pg-parent'>{first}</b> (batch item {a}) + {1 - lam:.2f} × "
            f"<b class='pg-parent'>{second}</b> (batch item {b})<br>"
            f"its proxy = {lam:.2f} × proxy of {first} + {1 - lam:.2f} × proxy of {second}")


__all__ = ["CHOSEN", "SphereMap", "batch_coordinates", "chosen_parts", "chosen_synthetic", "chosen_text", "mixing_path",
           "space_of", "synthetic_figure", "synthetic_patch"]
