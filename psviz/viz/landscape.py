"""Confidence landscapes: which seen class the loss picks everywhere (colour) and how sure it is (lightness).

Argmax regions alone cannot show whether a boundary is smooth; here a pale band is where the loss hesitates between
classes, a saturated one where it is sure. Unseen-class points are drawn on top, so one can see whether new classes
land where the loss is sure of an old class (the overconfidence Proxy Synthesis is meant to soften) or in pale gaps.
"""

from __future__ import annotations

import numpy as np
import plotly.graph_objects as go
from matplotlib.colors import to_rgb
from matplotlib.figure import Figure
from plotly.subplots import make_subplots

from .. import data as datasets
from ..analysis.boundaries import BoundaryView, views_of
from ..base.percent import percent
from .boundaries import plotly_camera, region_mesh
from .style import MARKS, check_backend, class_colour, class_colours, css_rgb, lay_out_titles

SEEN_R, BAND = 0.8, (0.88, 1.0)  # circle: seen points inside the band, the band, unseen rings outside it
UNSEEN_R, UNSEEN_STEP = 1.08, 0.045
NOTE = "colour: the seen class the loss picks · pale: the loss is unsure (top probability near 1 / #classes)"
NOTE_HTML = NOTE.replace(" · ", "<br>")  # two short lines: fits a figure half a notebook column wide
# The share of a class's colour the landscape reaches where the loss is sure: a tint, so that seen points, drawn in
# the full colour of their class, read as the filled dots of the legend where they sit in their own class's region
# (at full colour they vanished into it, and only their dark outlines showed, as rings).
DEEPEST = 0.6


def _strength(confidence, n_classes: int) -> np.ndarray:
    """How far each top probability is from chance (1 / n_classes, 0) towards certainty (1)."""
    floor = 1.0 / max(n_classes, 1)
    return np.clip((np.asarray(confidence, float) - floor) / max(1.0 - floor, 1e-9), 0.0, 1.0)


def _fade(rgb: np.ndarray, strength) -> np.ndarray:
    """``rgb`` tinted to `DEEPEST` at ``strength`` 1, white at 0."""
    return 1.0 - (1.0 - rgb) * DEEPEST * np.asarray(strength)[..., None]


def shade(winner: np.ndarray, confidence: np.ndarray, n_classes: int) -> np.ndarray:
    """RGB floats [..., 3]: the winner's colour (tinted to `DEEPEST`), faded to white as its probability falls to
    1 / n_classes."""
    palette = np.array([to_rgb(class_colour(c)) for c in range(n_classes)])
    return _fade(palette[np.asarray(winner)], _strength(confidence, n_classes))


LEVELS = 16  # lightness steps of the coded colours the browser draws the landscape with


def _code(winner, confidence, n: int) -> np.ndarray:
    steps = np.rint(_strength(confidence, n) * (LEVELS - 1)).astype(int)
    return np.asarray(winner) * LEVELS + steps + 0.5


def coded(view: BoundaryView) -> tuple[np.ndarray, list, int]:
    """(values, colour scale, cmax): each grid point's winner and lightness step as one number, value = winner *
    LEVELS + step + 0.5, with a stepped scale whose bins are the `shade` colours. Numbers reach the browser (and a
    redraw) far faster than one CSS colour string per point."""
    n = view.n_seen
    values = _code(view.winner, view.confidence, n)
    total = n * LEVELS
    scale = []
    for c in range(n):
        colours = css_rgb(_fade(np.array(to_rgb(class_colour(c))), np.arange(LEVELS) / (LEVELS - 1)))
        for step, colour in enumerate(colours):
            scale += [[(c * LEVELS + step) / total, colour], [(c * LEVELS + step + 1) / total, colour]]
    return values, scale, total


SHADES = 256  # plotly.js draws a mesh's colours from its colour scale sampled at this many points (a texture)


def _guard(n_classes: int) -> float:
    """The share of each class's stretch of the sphere's colour scale left unused at either end, a little more than
    two texture samples: the browser's lookup then never reaches the next class's colours."""
    return min(0.4, max(0.05, 2.5 * n_classes / SHADES))


def sphere_scale(n_classes: int) -> list:
    """The colour scale of the sphere's landscape, over 0..n_classes: for each class c, from white (chance) at
    c + guard to its `shade` where the loss is sure at c + 1 - guard, held flat in the guards. Continuous, so lightness
    changes smoothly along the mesh; it has no steps for the browser's coarse lookup to blur (see `coded`)."""
    guard, scale = _guard(n_classes), []
    for c in range(n_classes):
        pale, deep = css_rgb(_fade(np.array(to_rgb(class_colour(c))), np.array([0.0, 1.0])))
        scale += [[c / n_classes, pale], [(c + guard) / n_classes, pale],
                  [(c + 1 - guard) / n_classes, deep], [(c + 1) / n_classes, deep]]
    return scale


def sphere_values(labels, confidence, n_classes: int) -> np.ndarray:
    """Positions on `sphere_scale` (0..n_classes): the class, and within its stretch how sure the loss is."""
    guard = _guard(n_classes)
    return np.asarray(labels) + guard + (1 - 2 * guard) * _strength(confidence, n_classes)


def caption(view: BoundaryView, sep: str = " · ") -> str:
    """The panel's measures in words (see `psviz.evaluate.boundary_smoothness` and `unseen_confidence`)."""
    m = view.measures
    parts = []
    if "transition_width" in m:
        parts.append(f"unsure on {percent(m['transition_width']):.0f}% of the way between neighbouring proxies "
                     f"({m['transition_degrees']:.0f}°)")
    if "unseen_confidence" in m:
        parts.append(f"confidence on unseen points {m['unseen_confidence']:.2f}")
    return sep.join(parts)


def _unit(points: np.ndarray) -> np.ndarray:
    return points / np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-12)


def _lon_lat(points: np.ndarray) -> np.ndarray:
    """Longitude and latitude (degrees) of 3-D directions, as `sphere_grid` lays the sphere out."""
    p = _unit(points)
    return np.degrees(np.stack([np.arctan2(p[:, 1], p[:, 0]), np.arcsin(np.clip(p[:, 2], -1, 1))], axis=1))


def _degrees(xy: np.ndarray) -> np.ndarray:
    """The direction of each 2-D row, in degrees (plotly's polar angle)."""
    xy = _unit(xy)
    return np.degrees(np.arctan2(xy[:, 1], xy[:, 0]))


def _ring_positions(view: BoundaryView) -> tuple[np.ndarray, np.ndarray]:
    """(angle in degrees, radius) of each point on the circle: seen inside the band, each unseen class a ring."""
    theta = _degrees(view.points)
    n_unseen = len(view.class_names.get(datasets.UNSEEN, [])) or 1
    step = min(UNSEEN_STEP, 0.3 / n_unseen)
    radius = np.where(view.splits == datasets.UNSEEN, UNSEEN_R + step * view.labels, SEEN_R)
    return theta, radius


def _groups(view: BoundaryView):
    """(kind, mask, colours) of the seen and unseen points, unseen last so they are drawn on top."""
    for split, kind in ((datasets.SEEN, "seen"), (datasets.UNSEEN, "unseen")):
        mask = view.splits == split
        if mask.any():
            yield kind, mask, class_colours(view.labels[mask], split, view.n_seen)


def _hover(view: BoundaryView, mask) -> list[str]:
    return [f"{view.class_names[s][y]} · {s}" for y, s in zip(view.labels[mask], view.splits[mask])]


# ---- plotly ------------------------------------------------------------------------------------------------------

def _marker(kind: str, colours, three: bool = False) -> dict:
    mark = MARKS[kind]
    size = {"seen": 5, "unseen": 7, "proxy": 9}[kind] * (0.8 if three else 1.0)
    if kind == "proxy":
        return dict(symbol="diamond", size=size, color=colours, line=dict(width=1.5, color="#222222"))
    if kind == "unseen":
        return dict(symbol=mark.plotly_symbol_3d if three else "circle-open", size=size, color=colours,
                    line=dict(width=2, color=colours))
    return dict(symbol="circle", size=size, color=colours, line=dict(width=0.5, color="#333333"))


def _plotly_circle(fig, view: BoundaryView, col: int, first: bool) -> None:
    angles = np.degrees(view.grid)
    width = float(angles[1] - angles[0])
    values, scale, total = coded(view)
    fig.add_trace(go.Barpolar(r=np.full(len(angles), BAND[1] - BAND[0]), base=BAND[0], theta=angles,
                              width=width, marker=dict(color=values, colorscale=scale, cmin=0, cmax=total,
                                                       showscale=False, line=dict(width=0)),
                              hovertext=[f"{view.class_names[datasets.SEEN][c]}: p = {p:.2f}"
                                         for c, p in zip(view.winner, view.confidence)],
                              hoverinfo="text", showlegend=False, name="landscape"), row=1, col=col)
    theta, radius = _ring_positions(view)
    for kind, mask, colours in _groups(view):
        fig.add_trace(go.Scatterpolar(r=radius[mask], theta=theta[mask], mode="markers", name=MARKS[kind].name,
                                      marker=_marker(kind, colours), legendgroup=kind, showlegend=first,
                                      hovertext=_hover(view, mask), hoverinfo="text"), row=1, col=col)
    if view.proxies is not None:
        names = view.class_names[datasets.SEEN]
        fig.add_trace(go.Scatterpolar(r=np.full(len(view.proxies), np.mean(BAND)), theta=_degrees(view.proxies),
                                      mode="markers", name=MARKS["proxy"].name, legendgroup="proxy", showlegend=first,
                                      marker=_marker("proxy", class_colours(view.proxy_labels)),
                                      hovertext=[f"proxy of {names[c]}" for c in view.proxy_labels],
                                      hoverinfo="text"), row=1, col=col)


def sphere_mesh(view: BoundaryView) -> dict:
    """The sphere's landscape as Mesh3d data: the grid cut along the region boundaries (`region_mesh`), each vertex
    placed on `sphere_scale` (`sphere_values`) with its own side's class, so a triangle never blends two classes'
    colours and region edges run smoothly where the classes tie, not in steps of grid cells. The grid's own points
    come first."""
    vertices, triangles, labels, confidence = region_mesh(view, view.confidence)
    return dict(x=vertices[:, 0], y=vertices[:, 1], z=vertices[:, 2], i=triangles[:, 0], j=triangles[:, 1],
                k=triangles[:, 2], intensity=sphere_values(labels, confidence, view.n_seen).astype(np.float32))


def _sphere_positions(view: BoundaryView) -> tuple[np.ndarray, np.ndarray | None]:
    """Points and proxies as drawn on the sphere: lifted above the landscape (unseen points and proxies highest)."""
    points = _unit(view.points) * np.where(view.splits == datasets.UNSEEN, 1.05, 1.02)[:, None]
    return points, None if view.proxies is None else _unit(view.proxies) * 1.07


def _plotly_sphere(fig, view: BoundaryView, col: int, first: bool) -> None:
    fig.add_trace(go.Mesh3d(**sphere_mesh(view), intensitymode="vertex", colorscale=sphere_scale(view.n_seen),
                            cmin=0, cmax=view.n_seen,
                            showscale=False, flatshading=False, hoverinfo="skip", showlegend=False,
                            lighting=dict(ambient=1.0, diffuse=0.0, specular=0.0), name="landscape"), row=1, col=col)
    points, proxies = _sphere_positions(view)
    for kind, mask, point_colours in _groups(view):
        fig.add_trace(go.Scatter3d(x=points[mask, 0], y=points[mask, 1], z=points[mask, 2], mode="markers",
                                   name=MARKS[kind].name, marker=_marker(kind, point_colours, three=True),
                                   legendgroup=kind, showlegend=first, hovertext=_hover(view, mask),
                                   hoverinfo="text"), row=1, col=col)
    if proxies is not None:
        fig.add_trace(go.Scatter3d(x=proxies[:, 0], y=proxies[:, 1], z=proxies[:, 2], mode="markers", name=MARKS["proxy"].name,
                                   legendgroup="proxy", showlegend=first, hoverinfo="skip",
                                   marker=_marker("proxy", class_colours(view.proxy_labels), three=True)),
                      row=1, col=col)


def _plotly_input(fig, view: BoundaryView, col: int, first: bool) -> None:
    xs, ys = view.grid
    image = np.rint(255 * shade(view.winner, view.confidence, view.n_seen)).astype(np.uint8)
    fig.add_trace(go.Image(z=image, x0=xs[0], dx=xs[1] - xs[0], y0=ys[0], dy=ys[1] - ys[0], hoverinfo="skip",
                           name="landscape"), row=1, col=col)
    for kind, mask, colours in _groups(view):
        fig.add_trace(go.Scatter(x=view.points[mask, 0], y=view.points[mask, 1], mode="markers",
                                 name=MARKS[kind].name, marker=_marker(kind, colours), legendgroup=kind,
                                 showlegend=first, hovertext=_hover(view, mask), hoverinfo="text"), row=1, col=col)
    anchor = "x" if col == 1 else f"x{col}"
    fig.update_xaxes(range=[xs[0], xs[-1]], title="input x₁", row=1, col=col, showgrid=False, zeroline=False)
    fig.update_yaxes(range=[ys[0], ys[-1]], autorange=False, title="input x₂" if col == 1 else None, row=1, col=col,
                     scaleanchor=anchor, scaleratio=1, showgrid=False, zeroline=False)


def landscape_updates(view: BoundaryView) -> list[dict]:
    """What changes between two states of one run's panel, trace by trace in the order `confidence_landscape` draws
    them: the landscape's values and the points' positions (names, colours and hover text stay as first drawn)."""
    if view.kind == "circle":
        updates = [{"marker.color": coded(view)[0]}]
        theta, radius = _ring_positions(view)
        updates += [{"r": radius[mask], "theta": theta[mask]} for _, mask, _ in _groups(view)]
        if view.proxies is not None:
            updates.append({"theta": _degrees(view.proxies)})
        return updates
    if view.kind == "sphere":
        updates = [sphere_mesh(view)]
        points, proxies = _sphere_positions(view)
        updates += [{"x": points[mask, 0], "y": points[mask, 1], "z": points[mask, 2]} for _, mask, _ in _groups(view)]
        if proxies is not None:
            updates.append({"x": proxies[:, 0], "y": proxies[:, 1], "z": proxies[:, 2]})
        return updates
    image = np.rint(255 * shade(view.winner, view.confidence, view.n_seen)).astype(np.uint8)
    return [{"z": image}] + [{} for _ in _groups(view)]  # input points are the data: they do not move


def panel_title(view: BoundaryView, named: bool = True) -> str:
    """A panel's title: the run's name (unless the figure's title gives it) over its measures."""
    return (f"<b>{view.name}</b><br>" if named else "") + f"<sup>{caption(view, '<br>')}</sup>"


WHERE = {"circle": "on the circle (2-D embedding)<br>seen points inside, each unseen class on a ring outside",
         "sphere": "on the sphere (3-D embedding; drag to turn it)", "input": "in the input plane"}


def _plotly(views: list[BoundaryView], title: str) -> go.Figure:
    kind = views[0].kind
    spec = {"circle": {"type": "polar"}, "sphere": {"type": "scene"}, "input": {}}[kind]
    # a one-run figure whose title already names the run (the live landscape's) does not name it again
    named = len(views) > 1 or not title.startswith(views[0].name)
    fig = make_subplots(rows=1, cols=len(views), specs=[[spec] * len(views)], horizontal_spacing=0.08,
                        subplot_titles=[panel_title(v, named) for v in views])
    draw = {"circle": _plotly_circle, "sphere": _plotly_sphere, "input": _plotly_input}[kind]
    for col, view in enumerate(views, start=1):
        draw(fig, view, col, col == 1)
    if kind == "circle":
        fig.update_polars(radialaxis=dict(range=[0, UNSEEN_R + 0.32], visible=False),
                          angularaxis=dict(showticklabels=False, showgrid=False), bgcolor="white")
    if kind == "sphere":
        fig.update_scenes(aspectmode="cube", xaxis_visible=False, yaxis_visible=False, zaxis_visible=False)
        for col, view in enumerate(views, start=1):  # each camera faces its run's points, as matplotlib's does
            fig.layout[f"scene{'' if col == 1 else col}"].camera = plotly_camera(view)
    # the note is the legend's title, and the legend sits at the figure's foot (container coordinates): plotly makes
    # room for it under the plot and its axis titles, however many rows it wraps to in a narrow column
    fig.update_layout(template="plotly_white", height=620, autosize=True, margin=dict(b=10, l=20, r=20),
                      legend=dict(orientation="h", yref="container", yanchor="bottom", y=0, x=0.5, xanchor="center",
                                  itemsizing="constant", title=dict(text=NOTE_HTML, side="top center",
                                                                    font=dict(size=12))))
    lay_out_titles(fig, title, WHERE[kind])
    return fig


# ---- matplotlib --------------------------------------------------------------------------------------------------

def _mpl_points(ax, view: BoundaryView, coords) -> None:
    for kind, mask, colours in _groups(view):
        filled = kind == "seen"
        ax.scatter(*(c[mask] for c in coords), marker="o", s=12 if filled else 24,
                   facecolors=colours if filled else "none", edgecolors="#333333" if filled else colours,
                   linewidths=0.4 if filled else 1.3, label=MARKS[kind].name, zorder=3)


def _mpl_panel(fig, view: BoundaryView, index: int, total: int):
    kind = view.kind
    projection = {"circle": "polar", "sphere": None, "input": None}[kind]
    ax = fig.add_subplot(1, total, index, projection=projection)
    colours = shade(view.winner, view.confidence, view.n_seen)
    if kind == "circle":
        step = view.grid[1] - view.grid[0]
        ax.bar(view.grid, BAND[1] - BAND[0], width=step * 1.02, bottom=BAND[0], color=colours, linewidth=0)
        theta, radius = _ring_positions(view)
        _mpl_points(ax, view, (np.radians(theta), radius))
        if view.proxies is not None:
            p = _unit(view.proxies)
            ax.scatter(np.arctan2(p[:, 1], p[:, 0]), np.full(len(p), np.mean(BAND)), marker="D", s=34,
                       c=class_colours(view.proxy_labels), edgecolors="#222222", linewidths=1.0, zorder=4,
                       label=MARKS["proxy"].name)
        ax.set_ylim(0, UNSEEN_R + 0.32)
        ax.set_axis_off()
    elif kind == "sphere":  # a static 3-D sphere hides its far side: draw the whole sphere as a latitude map
        ax.imshow(colours, origin="lower", extent=(-180, 180, -90, 90), interpolation="nearest", aspect="auto")
        _mpl_points(ax, view, _lon_lat(view.points).T)
        if view.proxies is not None:
            ax.scatter(*_lon_lat(view.proxies).T, marker="D", s=34, c=class_colours(view.proxy_labels),
                       edgecolors="#222222", linewidths=1.0, zorder=4, label=MARKS["proxy"].name)
        ax.set(xlim=(-180, 180), ylim=(-90, 90), xticks=range(-180, 181, 90), yticks=range(-90, 91, 45),
               xlabel="longitude (°)", ylabel="latitude (°)")
    else:
        xs, ys = view.grid
        ax.imshow(colours, origin="lower", extent=(xs[0], xs[-1], ys[0], ys[-1]), interpolation="nearest")
        _mpl_points(ax, view, view.points.T)
        ax.set(xlabel="input x₁", ylabel="input x₂")
    ax.set_title(f"{view.name}\n{caption(view, chr(10))}", fontsize=9)
    return ax


def _matplotlib(views: list[BoundaryView], title: str) -> Figure:
    wide = views[0].kind == "sphere"
    # "compressed" for the square input-plane images: "constrained" left them over the titles and the legend
    fig = Figure(figsize=((6.4 if wide else 5.0) * len(views), 4.6 if wide else 5.6),
                 layout="compressed" if views[0].kind == "input" else "constrained")
    axes = [_mpl_panel(fig, view, i + 1, len(views)) for i, view in enumerate(views)]
    fig.suptitle(title)
    handles, labels = axes[0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="outside lower center", ncol=3, fontsize=8, title=NOTE, title_fontsize=8)
    if views[0].kind == "input":  # the layout of the square images settles on a second pass: take the first one here,
        fig.draw_without_rendering()  # so the one drawing a notebook makes is right (not over titles and legend)
    return fig


def confidence_landscape(runs, *, space: str = "embedding", resolution: int | None = None,
                         max_points: int | None = 2000, title: str | None = None, backend: str = "plotly"):
    """Side-by-side confidence landscapes of each run (e.g. {"baseline": run, "with PS": run}).

    Colour is the seen class the loss scores highest, lightness its softmax probability, on the circle (2-D
    embeddings), the sphere (3-D) or, with ``space="input"``, the toy data's input plane; seen points, proxies and,
    on top, unseen points. ``runs`` maps names to `psviz.train.FitResult` or `BoundaryView` objects. Each caption
    gives the transition zone of `psviz.evaluate.boundary_smoothness` and the mean confidence on unseen points.
    """
    check_backend(backend)
    views = views_of(runs, space=space, resolution=resolution, max_points=max_points)
    for name, view in zip(runs, views):
        if view.confidence is None:
            raise ValueError(f"runs[{name!r}]: this view has no confidence; make it with psviz.analysis.boundary_view")
    title = title or "Where the loss is sure, and where it hesitates"
    return _matplotlib(views, title) if backend == "matplotlib" else _plotly(views, title)


__all__ = ["DEEPEST", "LEVELS", "NOTE", "caption", "coded", "confidence_landscape", "landscape_updates",
           "panel_title", "shade", "sphere_mesh", "sphere_scale", "sphere_values"]
