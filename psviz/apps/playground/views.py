"""The Playground's figures of both runs, drawn from a `Snapshot`: their confidence landscapes and their per-epoch
curves, each patched in place after an epoch (the PS batch is `batch`'s).

The landscapes are a cheap cousin of `psviz.viz.confidence_landscape` (same colours, via `psviz.viz.landscape.coded`,
on a coarse grid): a 3-D embedding is drawn as a map of the whole sphere (longitude x latitude), a 2-D one round
the circle, so a redraw moves numbers only and stays within the Playground's 200 ms an epoch.
"""

from __future__ import annotations

import html

import numpy as np
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from ... import data as datasets
from ...analysis.boundaries import BoundaryView
from ...base.names import ARMS, BASELINE, WITH_PS
from ...base.percent import percent
from ...viz.landscape import BAND, SEEN_R, UNSEEN_R, UNSEEN_STEP, coded
from ...viz.style import MARKS, arm_colour, class_colours
from .session import Frame, Snapshot

HEIGHT = {"landscape": 380, "curves": 440}
# the curves, in the order of their panels: history key, panel title
CURVES = (
    ("unseen/recall@1", "unseen Recall@1 (%)"),
    ("unseen/map@r", "unseen MAP@R (%)"),
    ("gap", "gap: held-out − unseen"),
    ("transition_width", "transition width (%)"),
    ("unseen_confidence", "confidence on unseen (%)"),
    ("unseen_closer_to_synthetic", "unseen nearer synthetic (%)"),
)
# what the short panel titles mean, for the table under them
MEANINGS = {
    "gap": "MAP@R of held-out seen-class items minus MAP@R of unseen items (points)",
    "transition_width": "share of the way between neighbouring proxies where the loss is unsure",
    "unseen_confidence": "mean top probability the loss gives unseen items",
    "unseen_closer_to_synthetic": "unseen items nearer a synthetic point than any proxy",
}


def structure(snapshot: Snapshot) -> tuple:
    """What fixes a figure's traces: a snapshot with another key needs a new figure, one with the same key a patch."""
    s = snapshot.settings
    return s.classes, s.emb, s.loss, s.seed, s.noise, snapshot.batch.n_synthetic


# ---- the confidence landscapes ---------------------------------------------------------------------------------

def boundary_view(frame: Frame, class_names: dict) -> BoundaryView:
    """A frame as the `psviz.viz` landscape functions know it."""
    kind = frame.landscape.kind
    return BoundaryView(frame.name, kind, frame.landscape.axes, frame.landscape.winner, frame.points, frame.labels,
                        frame.splits, frame.proxies, frame.proxy_labels, class_names, {}, frame.landscape.confidence)


def _lon_lat(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    rows = rows / np.maximum(np.linalg.norm(rows, axis=1, keepdims=True), 1e-12)
    return np.degrees(np.arctan2(rows[:, 1], rows[:, 0])), np.degrees(np.arcsin(np.clip(rows[:, 2], -1, 1)))


def _point_sets(view: BoundaryView):
    """(kind, rows, labels, colours) of the seen points, the unseen points (drawn on top) and the proxies."""
    n_seen = view.n_seen
    for split, kind in ((datasets.SEEN, "seen"), (datasets.UNSEEN, "unseen")):
        mask = view.splits == split
        yield kind, view.points[mask], view.labels[mask], class_colours(view.labels[mask], split, n_seen)
    yield "proxy", view.proxies, view.proxy_labels, class_colours(view.proxy_labels)


def _marker(kind: str, colours) -> dict:
    if kind == "proxy":
        return dict(symbol="diamond", size=10, color=colours, line=dict(width=1.5, color="#222222"))
    if kind == "unseen":
        return dict(symbol="circle-open", size=6, color=colours, line=dict(width=1.6, color=colours))
    return dict(symbol="circle", size=4, color=colours, line=dict(width=0.4, color="#333333"))


def _positions(view: BoundaryView, kind: str, rows: np.ndarray, labels: np.ndarray) -> dict:
    """Where points are drawn: (longitude, latitude) on the sphere's map; on the circle by direction, seen points
    inside the band, proxies on it and each unseen class on a ring outside."""
    if view.kind == "sphere":
        lon, lat = _lon_lat(rows)
        return {"x": lon, "y": lat}
    theta = np.degrees(np.arctan2(rows[:, 1], rows[:, 0]))
    if kind == "unseen":
        step = min(UNSEEN_STEP, 0.3 / max(len(view.class_names[datasets.UNSEEN]), 1))
        radius = UNSEEN_R + step * labels
    else:
        radius = np.full(len(rows), SEEN_R if kind == "seen" else float(np.mean(BAND)))
    return {"r": radius, "theta": theta}


def _cells(view: BoundaryView) -> tuple[dict, dict]:
    """(fixed, changing) parts of the landscape's trace."""
    values, scale, total = coded(view)
    if view.kind == "sphere":
        lon, lat = view.grid
        return (dict(type="heatmap", x=lon, y=lat, colorscale=scale, zmin=0, zmax=total, showscale=False,
                     hoverinfo="skip", name="landscape", showlegend=False), {"z": values})
    (angles,) = view.grid
    return (dict(type="barpolar", theta=angles, r=np.full(len(angles), BAND[1] - BAND[0]), base=BAND[0],
                 width=float(angles[1] - angles[0]), hoverinfo="skip", name="landscape", showlegend=False,
                 marker=dict(colorscale=scale, cmin=0, cmax=total, showscale=False, line=dict(width=0))),
            {"marker.color": values})


def _landscape_parts(snapshot: Snapshot) -> list[tuple[int, dict, dict]]:
    """(column, fixed, changing) of every landscape trace, arm by arm: the cells, seen points, unseen points and
    proxies."""
    parts = []
    for col, (name, frame) in enumerate(snapshot.frames.items(), start=1):
        view = boundary_view(frame, snapshot.class_names)
        parts.append((col, *_cells(view)))
        for kind, rows, labels, colours in _point_sets(view):
            fixed = dict(type="scatter" if view.kind == "sphere" else "scatterpolar", mode="markers",
                         name=MARKS[kind].name, legendgroup=kind, showlegend=col == 1, marker=_marker(kind, colours),
                         hoverinfo="skip")
            parts.append((col, fixed, _positions(view, kind, rows, labels)))
    return parts


def _landscape_title(name: str, frame: Frame) -> str:
    row = frame.history[-1]
    return (f"<b>{name}</b> · unseen MAP@R {percent(row['unseen/map@r']):.1f}<br><sup>transition width "
            f"{percent(row['transition_width']):.0f}% · confidence on unseen "
            f"{percent(row['unseen_confidence']):.0f}%</sup>")


def landscape_figure(snapshot: Snapshot) -> go.Figure:
    """Both runs' confidence landscapes side by side: colour is the seen class the loss picks, paleness its doubt;
    seen points, proxies and, on top, unseen points."""
    sphere = snapshot.settings.emb == 3
    spec = {} if sphere else {"type": "polar"}
    fig = make_subplots(rows=1, cols=2, specs=[[spec, spec]], horizontal_spacing=0.08,
                        subplot_titles=[_landscape_title(n, f) for n, f in snapshot.frames.items()])
    for col, fixed, changing in _landscape_parts(snapshot):
        trace = dict(fixed)
        kind = trace.pop("type")
        for key, value in changing.items():
            _nested_set(trace, key, value)
        fig.add_trace({"heatmap": go.Heatmap, "barpolar": go.Barpolar, "scatter": go.Scatter,
                       "scatterpolar": go.Scatterpolar}[kind](**trace), row=1, col=col)
    if sphere:
        fig.update_xaxes(range=[-180, 180], tickvals=[-180, -90, 0, 90, 180], title="longitude (°)", showgrid=False,
                         zeroline=False)
        fig.update_yaxes(range=[-90, 90], tickvals=[-90, -45, 0, 45, 90], showgrid=False, zeroline=False)
        fig.update_yaxes(title="latitude (°)", col=1)
    else:
        fig.update_polars(radialaxis=dict(range=[0, UNSEEN_R + 0.32], visible=False),
                          angularaxis=dict(showticklabels=False, showgrid=False), bgcolor="white")
    fig.update_annotations(font_size=13)
    _common_layout(fig, "landscape")
    fig.update_layout(legend=dict(orientation="h", x=0.5, xanchor="center", y=-0.14 if sphere else -0.02,
                                  yanchor="top"))
    return fig


def _nested_set(trace: dict, dotted: str, value) -> None:
    *path, last = dotted.split(".")
    for key in path:
        trace = trace.setdefault(key, {})
    trace[last] = value


def landscape_patch(fig: go.Figure, snapshot: Snapshot) -> None:
    """Move a `landscape_figure`'s cells and points to ``snapshot`` (same `structure`), in place."""
    for trace, (_, _, changing) in zip(fig.data, _landscape_parts(snapshot)):
        update = {}
        for key, value in changing.items():
            _nested_set(update, key, value)
        trace.update(update)
    # new annotations, not new text in the old ones: Panel compares the layout with the one it sent, which shares
    # the old annotation objects
    fig.layout.annotations = [{**annotation.to_plotly_json(), "text": _landscape_title(name, frame)}
                              for annotation, (name, frame) in zip(fig.layout.annotations, snapshot.frames.items())]


def _common_layout(fig: go.Figure, which: str) -> None:
    # uirevision: a redraw keeps what the reader did (a turned sphere, a zoom, legend clicks)
    fig.update_layout(template="plotly_white", height=HEIGHT[which], margin=dict(t=60, b=20, l=20, r=20),
                      uirevision=which, autosize=True, font=dict(size=12))


# ---- per-epoch curves and the measures now -----------------------------------------------------------------------

def _curve_points(frame: Frame, key: str) -> tuple[np.ndarray, np.ndarray]:
    rows = [row for row in frame.history if key in row]
    return np.array([row["epoch"] for row in rows]), percent(np.array([row[key] for row in rows], float))


def curves_figure(snapshot: Snapshot) -> go.Figure:
    """Unseen Recall@1 and MAP@R, the held-out-seen-minus-unseen gap and the three mechanism measures, per epoch,
    for both runs."""
    fig = make_subplots(rows=2, cols=3, subplot_titles=[title for _, title in CURVES], horizontal_spacing=0.08,
                        vertical_spacing=0.2)
    for index, (key, _) in enumerate(CURVES):
        for name, frame in snapshot.frames.items():
            x, y = _curve_points(frame, key)
            fig.add_trace(go.Scatter(x=x, y=y, mode="lines", name=name, legendgroup=name, showlegend=index == 0,
                                     line=dict(color=arm_colour(name), width=2)),
                          row=index // 3 + 1, col=index % 3 + 1)
    fig.update_xaxes(title="epoch", row=2, rangemode="tozero")
    fig.update_xaxes(rangemode="tozero")
    fig.update_annotations(font_size=12)
    _common_layout(fig, "curves")
    fig.update_layout(legend=dict(orientation="h", x=0.5, xanchor="center", y=1.12, yanchor="bottom"),
                      margin=dict(t=70, b=40, l=40, r=20))
    return fig


def curves_patch(fig: go.Figure, snapshot: Snapshot) -> None:
    """Extend a `curves_figure` to ``snapshot``'s epochs, in place."""
    traces = iter(fig.data)
    for key, _ in CURVES:
        for frame in snapshot.frames.values():
            x, y = _curve_points(frame, key)
            next(traces).update(x=x, y=y)


def curves_table(snapshot: Snapshot) -> str:
    """HTML: each curve's value now for the baseline and PS, and PS minus the baseline."""
    rows = []
    for key, title in CURVES:
        values = {name: percent(frame.history[-1][key]) for name, frame in snapshot.frames.items()}
        delta = values[WITH_PS] - values[BASELINE]
        tip = html.escape(MEANINGS.get(key, title), quote=True)
        rows.append(f"<tr title='{tip}'><td>{html.escape(title)}</td><td>{values[BASELINE]:.1f}</td>"
                    f"<td>{values[WITH_PS]:.1f}</td><td>{delta:+.1f}</td></tr>")
    head = "".join(f"<th>{html.escape(name)}</th>" for name, _ in ARMS)
    return (f"<table class='measures'><thead><tr><th>epoch {snapshot.epoch}</th>{head}<th>PS − baseline</th></tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>")


__all__ = ["CURVES", "boundary_view", "curves_figure", "curves_patch", "curves_table", "landscape_figure",
           "landscape_patch", "structure"]
