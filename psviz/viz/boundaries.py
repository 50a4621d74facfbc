"""Which proxy wins where: decision regions on the circle (2-D embeddings), on the sphere (3-D) or in the toy data's
input plane, with the unseen classes drawn on top, so one can see whether they land in the gaps between seen ones."""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from matplotlib.patches import Wedge
from mpl_toolkits.mplot3d.art3d import Poly3DCollection
from plotly.subplots import make_subplots

from .. import data as datasets
from ..analysis.boundaries import BoundaryView, views_of
from ..base.percent import percent
from ._space import camera_eye, cut_regions, facing_direction, sphere_triangles, view_angles
from .style import MARKS, check_backend, class_colour, class_colours, css_rgb, lay_out_titles, rgba

REGIONS = "region a seen proxy wins"
# radii the points are drawn at on the circle: seen inside, each unseen class on its own ring outside
SEEN_RADIUS, UNSEEN_RADIUS, UNSEEN_STEP = 0.88, 1.1, 0.05


def measures_caption(view: BoundaryView) -> str:
    m = view.measures
    return (f"proxy gap {m['mean_gap_deg']:.1f}° (min {m['min_gap_deg']:.1f}°), "
            f"unseen sharing {percent(m['unseen_sharing']):.0f}%")


def _display_points(view: BoundaryView) -> np.ndarray:
    """Points as drawn: inputs as they are; on the circle, by direction on their split's ring; on the sphere, lifted
    a little so they sit above the coloured surface."""
    if view.kind == "input":
        return view.points
    if view.kind == "sphere":
        radius = np.where(view.splits == datasets.UNSEEN, 1.04, 1.02)[:, None]
        return view.points / np.linalg.norm(view.points, axis=1, keepdims=True) * radius
    n_unseen = len(view.class_names.get(datasets.UNSEEN, [])) or 1
    step = min(UNSEEN_STEP, 0.28 / n_unseen)  # the rings stay inside the axes however many classes there are
    radius = np.where(view.splits == datasets.UNSEEN, UNSEEN_RADIUS + step * view.labels, SEEN_RADIUS)
    return view.points / np.linalg.norm(view.points, axis=1, keepdims=True) * radius[:, None]


def region_mesh(view: BoundaryView, values: np.ndarray | None = None):
    """A sphere view's grid as a triangle mesh cut along its region boundaries (see `psviz.viz._space.cut_regions`):
    (vertices [m, 3] on the unit sphere, triangles [t, 3], the class of each vertex [m], ``values`` [grid shape]
    interpolated to each vertex [m] or None), as float32 and int32. The grid's own points come first, in its order."""
    n_lat, n_lon, _ = view.grid.shape
    columns = [view.grid.reshape(-1, 3)] + ([] if values is None else [np.asarray(values, float).reshape(-1, 1)])
    scores = None if view.scores is None else view.scores.reshape(n_lat * n_lon, -1)
    triangles, labels, out = cut_regions(sphere_triangles(n_lat, n_lon), view.winner.reshape(-1),
                                         np.concatenate(columns, 1), scores)
    vertices = out[:, :3] / np.maximum(np.linalg.norm(out[:, :3], axis=1, keepdims=True), 1e-12)
    # 4-byte numbers: half the bytes a live redraw sends the browser, which redraws the whole mesh each time
    return (vertices.astype(np.float32), triangles.astype(np.int32), labels,
            None if values is None else out[:, 3].astype(np.float32))


def facing_view(view: BoundaryView) -> tuple[float, float] | None:
    """(elevation, azimuth) in degrees of a camera that faces a sphere view's points (their mean direction; the
    proxies' when there are no points), or None when they cover the sphere evenly. Both backends aim with it."""
    direction = facing_direction(view.points) if len(view.points) else None
    if direction is None and view.proxies is not None:
        direction = facing_direction(view.proxies)
    return None if direction is None else view_angles(direction)


def plotly_camera(view: BoundaryView) -> dict:
    """A plotly scene camera that faces the view's data (`facing_view`), z up; plotly's usual one otherwise."""
    angles = facing_view(view) or (20.0, 45.0)
    return dict(eye={k: float(v) for k, v in camera_eye(*angles).items()}, up=dict(x=0, y=0, z=1),
                center=dict(x=0, y=0, z=0))


def _runs_of(winner: np.ndarray) -> list[tuple[int, int, int]]:
    """(start, stop, class) of each run of equal winners along the circle (index ranges; the last may wrap)."""
    change = np.flatnonzero(np.diff(winner)) + 1
    starts = np.concatenate([[0], change])
    stops = np.concatenate([change, [len(winner)]])
    return [(int(a), int(b), int(winner[a])) for a, b in zip(starts, stops)]


def _point_text(view: BoundaryView) -> list[str]:
    return [f"{view.class_names[s][y]} · {s}" for y, s in zip(view.labels, view.splits)]


def _point_colours(view: BoundaryView, split: str, labels) -> list[str]:
    return class_colours(labels, split, view.n_seen)


# ---- plotly ------------------------------------------------------------------------------------------------------

def _tint(colour: str, share: float = 0.45) -> np.ndarray:
    """``colour`` mixed with white, keeping ``share`` of it (RGB floats): a region's colour pale enough for points
    to show on it."""
    return 1 - share + share * np.array(to_rgb(colour))


def _plotly_regions(view: BoundaryView, first: bool) -> list:
    names = view.class_names[datasets.SEEN]
    if view.kind == "circle":
        traces = []
        angles, step = view.grid, view.grid[1] - view.grid[0]
        for start, stop, c in _runs_of(view.winner):
            arc = np.linspace(angles[start] - step / 2, angles[stop - 1] + step / 2, max(2, stop - start + 1))
            x = np.concatenate([[0], 1.3 * np.cos(arc), [0]])
            y = np.concatenate([[0], 1.3 * np.sin(arc), [0]])
            traces.append(go.Scatter(x=x, y=y, fill="toself", mode="lines", line=dict(width=0),
                                     fillcolor=rgba(class_colour(c), 0.2), name=REGIONS, legendgroup="regions",
                                     showlegend=first and not traces, hoverinfo="text",
                                     hovertext=f"region of {names[c]}"))
        return traces
    n = view.n_seen
    scale = [[v, class_colour(c)] for c in range(n) for v in (c / n, (c + 1) / n)]
    if view.kind == "sphere":
        # opaque pale tints: a translucent sphere blends its front and back regions into brown and grey. The grid is
        # cut along the boundaries (`region_mesh`): each triangle has one class, so edges are smooth, not stepped
        tints = [[v, css_rgb(_tint(class_colour(c)))[0]] for c in range(n) for v in (c / n, (c + 1) / n)]
        vertices, triangles, labels, _ = region_mesh(view)
        return [go.Mesh3d(x=vertices[:, 0], y=vertices[:, 1], z=vertices[:, 2], i=triangles[:, 0],
                          j=triangles[:, 1], k=triangles[:, 2], intensity=labels + 0.5, intensitymode="vertex",
                          cmin=0, cmax=n, colorscale=tints, showscale=False, opacity=1.0, name=REGIONS,
                          showlegend=first, hoverinfo="skip", flatshading=False,
                          lighting=dict(ambient=0.9, diffuse=0.2, specular=0.0))]
    xs, ys = view.grid
    return [go.Heatmap(x=xs, y=ys, z=view.winner + 0.5, zmin=0, zmax=n, colorscale=scale, showscale=False,
                       opacity=0.3, name=REGIONS, showlegend=first, hoverinfo="skip")]


def _plotly_points(view: BoundaryView, first: bool) -> list:
    shown = _display_points(view)
    text = np.asarray(_point_text(view))
    three = view.kind == "sphere"
    traces = []
    for split, kind in ((datasets.SEEN, "seen"), (datasets.UNSEEN, "unseen")):
        mask = view.splits == split
        if not mask.any():
            continue
        mark = MARKS[kind]
        colours = _point_colours(view, split, view.labels[mask])
        marker = dict(symbol=mark.plotly_symbol_3d if three else mark.plotly_symbol, size=mark.size * (0.6 if three
                      else 1), color=colours, line=dict(width=1.5, color=colours))
        traces.append(_scatter(shown[mask], three, name=mark.name, marker=marker, hovertext=text[mask],
                               legendgroup=kind, showlegend=first))
    if view.proxies is not None:
        mark = MARKS["proxy"]
        at = view.proxies * (1.06 if three else 1.0)
        colours = class_colours(view.proxy_labels)
        names = view.class_names[datasets.SEEN]
        traces.append(_scatter(at, three, name=mark.name, legendgroup="proxy", showlegend=first,
                               marker=dict(symbol=mark.plotly_symbol_3d if three else mark.plotly_symbol,
                                           size=mark.size * (0.6 if three else 1), color=colours,
                                           line=dict(width=1.5, color="#222222")),
                               hovertext=[f"proxy of {names[c]}" for c in view.proxy_labels]))
    return traces


def _scatter(xy: np.ndarray, three: bool, **options):
    if three:
        return go.Scatter3d(x=xy[:, 0], y=xy[:, 1], z=xy[:, 2], mode="markers", hoverinfo="text", **options)
    return go.Scatter(x=xy[:, 0], y=xy[:, 1], mode="markers", hoverinfo="text", **options)


def _plotly(views: list[BoundaryView], title: str):
    three = views[0].kind == "sphere"
    spec = {"type": "scene"} if three else {}
    fig = make_subplots(rows=1, cols=len(views), specs=[[spec] * len(views)],
                        subplot_titles=[f"{v.name}<br><sup>{measures_caption(v)}</sup>" for v in views],
                        horizontal_spacing=0.06)
    for col, view in enumerate(views, start=1):
        for trace in _plotly_regions(view, col == 1) + _plotly_points(view, col == 1):
            fig.add_trace(trace, row=1, col=col)
        if view.kind == "circle":
            fig.update_xaxes(range=[-1.45, 1.45], row=1, col=col, showgrid=False, zeroline=False)
            fig.update_yaxes(range=[-1.45, 1.45], row=1, col=col, showgrid=False, zeroline=False,
                             scaleanchor=f"x{'' if col == 1 else col}", scaleratio=1)
        elif view.kind == "input":
            xs, ys = view.grid
            fig.update_xaxes(range=[xs[0], xs[-1]], row=1, col=col, title="input x₁")
            fig.update_yaxes(range=[ys[0], ys[-1]], row=1, col=col, title="input x₂",
                             scaleanchor=f"x{'' if col == 1 else col}", scaleratio=1)
    if three:
        fig.update_scenes(aspectmode="cube", xaxis_range=[-1.1, 1.1], yaxis_range=[-1.1, 1.1],
                          zaxis_range=[-1.1, 1.1], xaxis_visible=False, yaxis_visible=False, zaxis_visible=False)
        for col, view in enumerate(views, start=1):  # each camera faces its run's points, as matplotlib's does
            fig.layout[f"scene{'' if col == 1 else col}"].camera = plotly_camera(view)
    note = {"circle": "direction is what counts:<br>seen points on the inner ring, each unseen class on its own outer ring",
            "sphere": "each coloured patch is where one seen proxy scores highest (drag to turn it)",
            "input": "colours: the seen class the model assigns to each input"}[views[0].kind]
    # no fixed width: the figure takes its notebook column's width; the legend goes under the panels
    # the legend sits at the figure's foot (container coordinates): plotly makes room for it under the axis titles
    fig.update_layout(template="plotly_white", height=600, autosize=True, margin=dict(b=10, l=40, r=20),
                      legend=dict(orientation="h", yref="container", yanchor="bottom", y=0, x=0.5, xanchor="center",
                                  itemsizing="constant"))
    lay_out_titles(fig, title, note)
    return fig


# ---- matplotlib --------------------------------------------------------------------------------------------------

def _facing_camera(ax, points: np.ndarray) -> np.ndarray:
    """Which points of a sphere lie on the hemisphere a matplotlib 3-D axes' camera looks at."""
    elev, azim = np.radians(ax.elev), np.radians(ax.azim)
    eye = np.array([np.cos(elev) * np.cos(azim), np.cos(elev) * np.sin(azim), np.sin(elev)])
    return np.asarray(points) @ eye > 0


def _mpl_panel(fig, view: BoundaryView, index: int, total: int, first: bool):
    three = view.kind == "sphere"
    ax = fig.add_subplot(1, total, index, projection="3d" if three else None)
    n = view.n_seen
    if view.kind == "circle":
        angles, step = view.grid, view.grid[1] - view.grid[0]
        for start, stop, c in _runs_of(view.winner):
            a0, a1 = np.degrees(angles[start] - step / 2), np.degrees(angles[stop - 1] + step / 2)
            ax.add_patch(Wedge((0, 0), 1.3, a0, a1, color=class_colour(c), alpha=0.2, linewidth=0,
                               label=REGIONS if first and start == 0 else None))
        ax.set_xlim(-1.45, 1.45)
        ax.set_ylim(-1.45, 1.45)
        ax.set_aspect("equal")
    elif view.kind == "input":
        xs, ys = view.grid
        palette = np.array([to_rgb(class_colour(c)) for c in range(n)])
        ax.imshow(palette[view.winner], origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), alpha=0.3,
                  aspect="equal", interpolation="nearest")
    else:
        # opaque pale tints, as in the plotly sphere, on the grid cut along the boundaries (smooth region edges, not
        # steps of grid cells); matplotlib does not sort points against the surface, so only the points on the
        # hemisphere facing the camera are drawn
        palette = np.array([_tint(class_colour(c)) for c in range(n)])
        vertices, triangles, labels, _ = region_mesh(view)
        ax.computed_zorder = False  # draw in zorder: the sphere first, the front points over it
        ax.add_collection3d(Poly3DCollection(vertices[triangles], facecolors=palette[labels[triangles[:, 0]]],
                                             edgecolors="none", linewidths=0, antialiased=False, zorder=1))
        ax.set(xlim=(-1.05, 1.05), ylim=(-1.05, 1.05), zlim=(-1.05, 1.05))
        ax.set_box_aspect((1, 1, 1), zoom=1.35)
        ax.set_axis_off()
    if first and view.kind != "circle":  # a legend entry for the shading, as the circle's wedges have
        ax.scatter([], [], *([[]] if three else []), marker="s", s=60, color=class_colour(0), alpha=0.35,
                   label=REGIONS)
    shown = _display_points(view)
    if three and (angles := facing_view(view)) is not None:  # turn the camera to the data, as plotly's is
        ax.view_init(elev=angles[0], azim=angles[1])
    front = _facing_camera(ax, shown) if three else np.ones(len(shown), bool)
    for split, kind in ((datasets.SEEN, "seen"), (datasets.UNSEEN, "unseen")):
        mask = (view.splits == split) & front
        if mask.any():
            mark = MARKS[kind]
            colours = _point_colours(view, split, view.labels[mask])
            ax.scatter(*shown[mask].T, marker=mark.mpl_marker, s=14, facecolors=colours if mark.filled else "none",
                       edgecolors=colours, linewidths=0.8, label=mark.name if first else None, zorder=3)
    if view.proxies is not None:
        shown_proxies = view.proxies * (1.06 if three else 1.0)
        keep = _facing_camera(ax, shown_proxies) if three else np.ones(len(shown_proxies), bool)
        ax.scatter(*shown_proxies[keep].T, marker=MARKS["proxy"].mpl_marker, s=70,
                   c=class_colours(view.proxy_labels[keep]), edgecolors="#222222",
                   label=MARKS["proxy"].name if first else None, zorder=4)
    ax.set_title(f"{view.name}\n{measures_caption(view)}", fontsize=10)
    return ax


def _matplotlib(views: list[BoundaryView], title: str):
    fig = Figure(figsize=(5.2 * len(views), 5.4), layout="constrained")
    axes = [_mpl_panel(fig, view, i + 1, len(views), i == 0) for i, view in enumerate(views)]
    fig.suptitle(title)
    fig.legend(*axes[0].get_legend_handles_labels(), loc="outside lower center", ncol=4, fontsize=8)
    return fig


def decision_boundaries(runs, *, space: str = "embedding", resolution: int | None = None,
                        max_points: int | None = 2000, title: str | None = None, backend: str = "plotly"):
    """Side-by-side decision regions of each run (e.g. {"baseline": run, "with PS": run}), unseen classes on top.

    ``runs`` maps names to `psviz.train.FitResult` or to precomputed `BoundaryView` objects. Each panel's caption
    gives the mean and smallest angular gap between seen proxies and the share of unseen points whose region is
    another unseen class's main region (see `psviz.evaluate.boundary_measures`).
    """
    check_backend(backend)
    views = views_of(runs, space=space, resolution=resolution, max_points=max_points)
    title = title or {"circle": "Decision regions on the circle (2-D embedding)",
                      "sphere": "Decision regions on the sphere (3-D embedding)",
                      "input": "Decision regions in input space"}[views[0].kind]
    return _matplotlib(views, title) if backend == "matplotlib" else _plotly(views, title)


__all__ = ["REGIONS", "decision_boundaries", "measures_caption"]
