"""One batch as Proxy Synthesis sees it: real embeddings and proxies, synthetic ones, and the paths they mix along."""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import plotly.graph_objects as go
import torch
from matplotlib.figure import Figure

from ..analysis.projection import Space, sphere_grid
from ..method.synthesis import SynthesisResult
from ._space import mixing_paths, unit_circle, with_breaks
from .style import LINK_COLOUR, MARKS, SYNTHETIC_COLOUR, check_backend, class_colours

# trace names, which double as legend entries
EMBEDDING_PATHS = "mixing path (embeddings)"
PROXY_PATHS = "mixing path (proxies)"


@dataclass
class _Points:
    xy: np.ndarray
    labels: np.ndarray
    text: list


def _names(class_names, n_classes: int) -> list[str]:
    if class_names is None:
        return [f"class {c}" for c in range(n_classes)]
    if len(class_names) < n_classes:
        raise ValueError(f"class_names must name all {n_classes} real classes, got {len(class_names)}")
    return [str(c) for c in class_names]


def _flat_proxies(proxies: torch.Tensor) -> tuple[torch.Tensor, np.ndarray]:
    """[C, d] or [C, K, d] as rows [C*K, d] with each row's class."""
    if proxies.dim() == 2:
        return proxies, np.arange(proxies.shape[0])
    c, k, d = proxies.shape
    return proxies.reshape(c * k, d), np.repeat(np.arange(c), k)


def _check_result(result) -> SynthesisResult:
    if not isinstance(result, SynthesisResult):
        raise ValueError(f"result must be a psviz.SynthesisResult (from psviz.proxy_synthesis or "
                         f"psviz.train.synthetic_batch), got {type(result).__name__}")
    return result


PROXY_MODES = ("auto", "all", "batch")
MANY_PROXIES = 60  # above this many classes, "auto" draws only the proxies of the batch's classes


def drawn_classes(result: SynthesisResult, proxies: str = "auto") -> np.ndarray | None:
    """The real classes whose proxies are drawn: None for all, else the batch's own classes."""
    if proxies not in PROXY_MODES:
        raise ValueError(f"proxies must be one of {', '.join(PROXY_MODES)}, got {proxies!r}")
    if proxies == "all" or (proxies == "auto" and result.n_classes <= MANY_PROXIES):
        return None
    return np.unique(result.labels[: result.n_real].cpu().numpy())


def display_space(result: SynthesisResult, projection: str = "auto", proxies: str = "auto") -> Space:
    """The circle, sphere or PCA plane (fitted on the batch's real embeddings and drawn proxies) a batch is drawn in."""
    real = result.embeddings[: result.n_real]
    rows, owner = _flat_proxies(result.proxies[: result.n_classes])
    classes = drawn_classes(result, proxies)
    if classes is not None:
        rows = rows[torch.as_tensor(np.isin(owner, classes))]
    return Space(projection, real.shape[1], torch.cat([real, rows]).detach().float().cpu())


def subtitle(result: SynthesisResult, proxies: str = "auto") -> str:
    """What the figure shows, with λ, and a warning when λ sits near 0 or 1."""
    classes = drawn_classes(result, proxies)
    shown = result.n_classes if classes is None else len(classes)
    text = (f"{result.n_real} real embeddings, {shown} proxies, {result.n_synthetic} synthetic classes, "
            f"λ = {result.lam:.2f}")
    if classes is not None:
        text += f" · only the batch's own classes' proxies are drawn ({result.n_classes - shown:,} others left out)"
    if result.n_synthetic and min(result.lam, 1 - result.lam) < 0.1:
        text += (f"<br>λ = {result.lam:.2f} is near {round(result.lam):d}: each synthetic point sits almost on one of "
                 f"its two sources (drag λ to see the mixing paths)")
    return text


def synthetic_points(result: SynthesisResult, space: Space, names: list[str]) -> tuple[_Points, _Points]:
    """Display coordinates and hover text of the synthetic embeddings and the synthetic proxies."""
    pairs = result.pairs.cpu().numpy()
    labels = result.labels.cpu().numpy()
    lam = result.lam
    text = [f"synthetic class {i}: {lam:.2f} × {names[labels[a]]} + {1 - lam:.2f} × {names[labels[b]]}"
            for i, (a, b) in enumerate(pairs)]
    syn_proxies, owner = _flat_proxies(result.synthetic_proxies)
    return (_Points(space(result.synthetic_embeddings), np.arange(result.n_synthetic), text),
            _Points(space(syn_proxies), owner, [text[i].replace("synthetic class", "proxy of synthetic class")
                                                for i in owner]))


def _real_points(result: SynthesisResult, space: Space, names: list[str],
                 proxies_mode: str = "auto") -> tuple[_Points, _Points]:
    labels = result.labels[: result.n_real].cpu().numpy()
    real = _Points(space(result.embeddings[: result.n_real]), labels,
                   [f"{names[y]} · seen · batch item {i}" for i, y in enumerate(labels)])
    proxies, owner = _flat_proxies(result.proxies[: result.n_classes])
    classes = drawn_classes(result, proxies_mode)
    if classes is not None:
        keep = np.isin(owner, classes)
        proxies, owner = proxies[torch.as_tensor(keep)], owner[keep]
    return real, _Points(space(proxies), owner, [f"proxy of {names[c]}" for c in owner])


def _paths(result: SynthesisResult, space: Space) -> tuple[np.ndarray, np.ndarray | None]:
    """Polylines (NaN-separated) from each synthetic embedding's two sources, and likewise for proxies (K = 1).

    Normalised mixes move along the great-circle arc between their sources (on the circle, the arc of the circle
    itself), so that is what is drawn; raw mixes move along the straight segment.
    """
    pairs = result.pairs.cpu()
    along_arc = result.normalized
    real = result.embeddings[: result.n_real].detach().float().cpu()
    emb = mixing_paths(real[pairs[:, 0]], real[pairs[:, 1]], along_arc)
    emb_xy = with_breaks(space(emb).reshape(emb.shape[0], emb.shape[1], space.n_axes))
    proxies = result.proxies[: result.n_classes].detach().float().cpu()
    if proxies.dim() == 3 or len(pairs) == 0:
        return emb_xy, None
    labels = result.labels[: result.n_real].cpu()
    # one path per distinct pair of classes: several synthetic proxies may share it
    class_pairs = torch.unique(torch.stack([labels[pairs[:, 0]], labels[pairs[:, 1]]], dim=1).sort(dim=1).values,
                               dim=0)
    prox = mixing_paths(proxies[class_pairs[:, 0]], proxies[class_pairs[:, 1]], along_arc)
    return emb_xy, with_breaks(space(prox).reshape(len(class_pairs), -1, space.n_axes))


def lambda_grid(steps: int) -> list[float]:
    """Evenly spaced λ stops in [0, 1] for the slider (evenly spaced labels; it starts at the stop nearest the
    batch's own λ, which the figure shows until the slider moves)."""
    return [round(float(v), 4) for v in np.linspace(0.0, 1.0, steps)]


# ---- plotly ------------------------------------------------------------------------------------------------------

def _scatter(points: _Points, kind: str, n_axes: int, colours, **extra):
    mark = MARKS[kind]
    marker = dict(symbol=mark.plotly_symbol if n_axes == 2 else mark.plotly_symbol_3d,
                  size=mark.size if n_axes == 2 else mark.size * 0.6, color=colours, opacity=mark.opacity,
                  line=dict(width=1.5 if mark.filled else 1.5, color="#222222" if kind == "proxy" else colours))
    coords = dict(x=points.xy[:, 0], y=points.xy[:, 1])
    if n_axes == 3:
        coords["z"] = points.xy[:, 2]
        return go.Scatter3d(mode="markers", name=mark.name, marker=marker, hovertext=points.text,
                            hoverinfo="text", **coords, **extra)
    return go.Scatter(mode="markers", name=mark.name, marker=marker, hovertext=points.text, hoverinfo="text",
                      **coords, **extra)


def _line(xy: np.ndarray, name: str, n_axes: int, dash: str):
    coords = dict(x=xy[:, 0], y=xy[:, 1])
    line = dict(color=LINK_COLOUR, width=1.5, dash=dash)
    if n_axes == 3:
        return go.Scatter3d(mode="lines", name=name, line=line, hoverinfo="skip", z=xy[:, 2], **coords)
    return go.Scatter(mode="lines", name=name, line=line, hoverinfo="skip", **coords)


def _restyle_args(syn: _Points, syn_proxy: _Points, n_axes: int) -> dict:
    args = {"x": [syn.xy[:, 0], syn_proxy.xy[:, 0]], "y": [syn.xy[:, 1], syn_proxy.xy[:, 1]],
            "hovertext": [syn.text, syn_proxy.text]}
    if n_axes == 3:
        args["z"] = [syn.xy[:, 2], syn_proxy.xy[:, 2]]
    return args


def _plotly(result, space, names, lam_steps, title, proxies_mode="auto"):
    real, proxies = _real_points(result, space, names, proxies_mode)
    syn, syn_proxy = synthetic_points(result, space, names)
    emb_paths, proxy_paths = _paths(result, space)
    n_axes = space.n_axes
    traces = []
    if space.kind == "sphere":
        x, y, z = sphere_grid(30, 60)
        traces.append(go.Surface(x=x, y=y, z=z, opacity=0.12, showscale=False, hoverinfo="skip", name="unit sphere",
                                 colorscale=[[0, "#cccccc"], [1, "#cccccc"]]))
    elif space.kind == "circle" and result.normalized:
        circle = unit_circle()
        traces.append(go.Scatter(x=circle[:, 0], y=circle[:, 1], mode="lines", name="unit circle",
                                 line=dict(color="#bbbbbb", width=1), hoverinfo="skip", showlegend=False))
    traces.append(_line(emb_paths, EMBEDDING_PATHS, n_axes, "solid"))
    if proxy_paths is not None:
        traces.append(_line(proxy_paths, PROXY_PATHS, n_axes, "dot"))
    traces.append(_scatter(syn, "synthetic", n_axes, SYNTHETIC_COLOUR))  # under the real points and proxies
    traces.append(_scatter(syn_proxy, "synthetic_proxy", n_axes, SYNTHETIC_COLOUR))
    traces.append(_scatter(real, "seen", n_axes, class_colours(real.labels)))
    traces.append(_scatter(proxies, "proxy", n_axes, class_colours(proxies.labels)))
    fig = go.Figure(traces)
    syn_index = [i for i, t in enumerate(fig.data) if t.name in (MARKS["synthetic"].name,
                                                                 MARKS["synthetic_proxy"].name)]
    if lam_steps and result.n_synthetic:
        steps = []
        grid = lambda_grid(lam_steps)
        for value in grid:
            mixed = result.with_lambda(value)
            moved = synthetic_points(mixed, space, names)
            steps.append(dict(method="update", label=f"{value:.2f}",
                              args=[_restyle_args(*moved, n_axes),
                                    {"title.text": f"{title}<br><sup>{subtitle(mixed, proxies_mode)}</sup>"},
                                    syn_index]))
        nearest = int(np.argmin(np.abs(np.array(grid) - result.lam)))
        fig.update_layout(sliders=[dict(active=nearest, steps=steps, currentvalue=dict(prefix="λ = "),
                                        pad=dict(t=40))])
    fig.update_layout(title=dict(text=f"{title}<br><sup>{subtitle(result, proxies_mode)}</sup>"),
                      template="plotly_white", legend=dict(itemsizing="constant"), height=620,
                      meta={"psviz_title": title, "psviz_proxies": proxies_mode})
    if n_axes == 2:
        fig.update_yaxes(scaleanchor="x", scaleratio=1)
        if space.kind == "pca":
            fig.update_xaxes(title="PC 1")
            fig.update_yaxes(title="PC 2")
    else:
        fig.update_scenes(aspectmode="data")
    return fig


# ---- matplotlib --------------------------------------------------------------------------------------------------

def _mpl_points(ax, points: _Points, kind: str, colours, n_axes: int):
    mark = MARKS[kind]
    coords = [points.xy[:, i] for i in range(n_axes)]
    face = colours if mark.filled else "none"
    edge = "#222222" if kind == "proxy" else colours
    synthetic = kind.startswith("synthetic")
    if mark.mpl_marker == "x":  # an unfilled line marker takes its colour from the face
        face, edge = colours, None
    ax.scatter(*coords, marker=mark.mpl_marker, s=mark.size ** 2 * (0.7 if kind == "seen" else 1.0), c=None,
               facecolors=face, edgecolors=edge, linewidths=1.0, label=mark.name, alpha=mark.opacity,
               zorder=2 if synthetic else 3)


def _matplotlib(result, space, names, title, proxies_mode="auto"):
    real, proxies = _real_points(result, space, names, proxies_mode)
    syn, syn_proxy = synthetic_points(result, space, names)
    emb_paths, proxy_paths = _paths(result, space)
    n_axes = space.n_axes
    fig = Figure(figsize=(7.5, 6.5), layout="constrained")
    ax = fig.add_subplot(projection="3d" if n_axes == 3 else None)
    if space.kind == "sphere":
        x, y, z = sphere_grid(20, 40)
        ax.plot_wireframe(x, y, z, color="#dddddd", linewidth=0.4)
    elif space.kind == "circle" and result.normalized:
        circle = unit_circle()
        ax.plot(circle[:, 0], circle[:, 1], color="#bbbbbb", linewidth=1)
    ax.plot(*[emb_paths[:, i] for i in range(n_axes)], color="#777777", alpha=0.5, linewidth=1, label=EMBEDDING_PATHS)
    if proxy_paths is not None:
        ax.plot(*[proxy_paths[:, i] for i in range(n_axes)], color="#777777", alpha=0.6, linewidth=1, linestyle=":",
                label=PROXY_PATHS)
    _mpl_points(ax, real, "seen", class_colours(real.labels), n_axes)
    _mpl_points(ax, proxies, "proxy", class_colours(proxies.labels), n_axes)
    _mpl_points(ax, syn, "synthetic", SYNTHETIC_COLOUR, n_axes)
    _mpl_points(ax, syn_proxy, "synthetic_proxy", SYNTHETIC_COLOUR, n_axes)
    if n_axes == 2:
        ax.set_aspect("equal")
        if space.kind == "pca":
            ax.set_xlabel("PC 1")
            ax.set_ylabel("PC 2")
    ax.set_title(f"{title}\n" + subtitle(result, proxies_mode).replace("<br>", "\n").replace(" · ", "\n"),
                 fontsize=9)
    fig.legend(*ax.get_legend_handles_labels(), loc="outside lower center", ncol=3, fontsize=8)
    return fig


def synthetic_embeddings(result: SynthesisResult, *, class_names=None, lam: float | None = None,
                         lam_steps: int = 21, projection: str = "auto", proxies: str = "auto",
                         title: str = "What Proxy Synthesis makes", backend: str = "plotly"):
    """Real embeddings and proxies of one batch, the synthetic ones PS makes from them, and their mixing paths.

    2-D embeddings are drawn on the unit circle, 3-D on the sphere, higher ones in the batch's PCA plane
    (``projection`` forces one). ``lam`` re-mixes the same pairs; the plotly figure carries a λ slider with
    ``lam_steps`` stops that moves the synthetic points along their paths (it works in a saved HTML file too).
    ``proxies``: "all", "batch" (only the batch's own classes' proxies, which also fit the PCA plane) or "auto"
    (batch when there are more than 60 classes, so a batch of glyphs is not buried under 1,418 proxies).
    """
    result = _check_result(result)
    check_backend(backend)
    if lam is not None:
        result = result.with_lambda(lam)
    names = _names(class_names, result.n_classes)
    space = display_space(result, projection, proxies)
    if backend == "matplotlib":
        return _matplotlib(result, space, names, title, proxies)
    return _plotly(result, space, names, lam_steps, title, proxies)


def set_lambda(fig, result: SynthesisResult, lam: float, *, class_names=None, projection: str = "auto") -> None:
    """Move the synthetic points of a `synthetic_embeddings` plotly figure (or FigureWidget) to another λ, in place."""
    result = _check_result(result).with_lambda(lam)
    meta = fig.layout.meta if isinstance(fig.layout.meta, dict) else {}
    mode = meta.get("psviz_proxies", "auto")
    space = display_space(result, projection, mode)
    syn, syn_proxy = synthetic_points(result, space, _names(class_names, result.n_classes))
    traces = {t.name: t for t in fig.data}
    missing = [MARKS[k].name for k in ("synthetic", "synthetic_proxy") if MARKS[k].name not in traces]
    if missing:
        raise ValueError(f"fig has no {' or '.join(missing)} trace: pass a figure made by synthetic_embeddings")
    updates = {MARKS["synthetic"].name: syn, MARKS["synthetic_proxy"].name: syn_proxy}
    with fig.batch_update():
        for name, points in updates.items():
            trace = traces[name]
            trace.x, trace.y = points.xy[:, 0], points.xy[:, 1]
            if space.n_axes == 3:
                trace.z = points.xy[:, 2]
            trace.hovertext = points.text
        if "psviz_title" in meta:
            fig.layout.title.text = f"{meta['psviz_title']}<br><sup>{subtitle(result, mode)}</sup>"
        elif fig.layout.title.text:  # a figure made elsewhere: only λ's value changes
            fig.layout.title.text = re.sub(r"λ = [0-9.]+", f"λ = {result.lam:.2f}", fig.layout.title.text)


__all__ = ["EMBEDDING_PATHS", "MANY_PROXIES", "PROXY_MODES", "PROXY_PATHS", "display_space", "drawn_classes",
           "lambda_grid", "set_lambda", "subtitle", "synthetic_embeddings", "synthetic_points"]
