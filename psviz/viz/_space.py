"""Display geometry: mixing paths, the unit circle, the sphere's mesh cut along region boundaries, and cameras that
face the data. Where rows land (`Space`, `sphere_grid`) is `psviz.analysis.projection.space`."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor


def mixing_paths(a: Tensor, b: Tensor, normalized: bool, steps: int = 33) -> Tensor:
    """Rows along the path from b (t=0) to a (t=1) that mixing moves along: [n, steps, d].

    Normalised mixes normalize(lerp(b, a, lam)) trace the great-circle arc between b and a, sampled evenly in
    angle (slerp) so long arcs stay smooth; raw mixes trace the straight segment.
    """
    a, b = a.detach().double(), b.detach().double()
    t = torch.linspace(0.0, 1.0, steps, dtype=torch.float64)[None, :, None]
    if not normalized:
        return torch.lerp(b[:, None, :], a[:, None, :], t).float()
    a, b = F.normalize(a, dim=-1), F.normalize(b, dim=-1)
    omega = torch.arccos((a * b).sum(-1).clamp(-1.0, 1.0))[:, None, None]
    sin = torch.sin(omega)
    safe = sin > 1e-6
    wa = torch.where(safe, torch.sin(t * omega) / sin.clamp_min(1e-6), t)
    wb = torch.where(safe, torch.sin((1 - t) * omega) / sin.clamp_min(1e-6), 1 - t)
    return F.normalize(wa * a[:, None, :] + wb * b[:, None, :], dim=-1).float()


def with_breaks(paths: np.ndarray) -> np.ndarray:
    """[n, steps, m] polylines as one [n * (steps + 1), m] array with NaN rows between them (one plotly trace)."""
    n, steps, m = paths.shape
    out = np.full((n, steps + 1, m), np.nan)
    out[:, :steps] = paths
    return out.reshape(-1, m)


def unit_circle(n: int = 361) -> np.ndarray:
    angle = np.linspace(0.0, 2 * np.pi, n)
    return np.stack([np.cos(angle), np.sin(angle)], axis=1)


def sphere_triangles(n_lat: int, n_lon: int) -> np.ndarray:
    """Triangles [2 (n_lat - 1) (n_lon - 1), 3] of a `sphere_grid`, as indices into its flattened [n_lat * n_lon] points:
    two per cell."""
    index = np.arange(n_lat * n_lon).reshape(n_lat, n_lon)
    a, b = index[:-1, :-1].ravel(), index[1:, :-1].ravel()
    c, d = index[:-1, 1:].ravel(), index[1:, 1:].ravel()
    return np.concatenate([np.stack([a, b, c], 1), np.stack([b, d, c], 1)])


def edge_crossing(values: np.ndarray, labels: np.ndarray, scores: np.ndarray | None, u: np.ndarray,
                  v: np.ndarray) -> np.ndarray:
    """Where the boundary crosses each mesh edge u -> v whose labels differ: ``values`` interpolated to the zero of
    the score difference s_a - s_b (a, b the two labels), or at the edge's middle without ``scores``."""
    t = np.full(len(u), 0.5)
    if scores is not None:
        a, b = labels[u], labels[v]
        du = scores[u, a] - scores[u, b]  # >= 0: a wins at u
        dv = scores[v, a] - scores[v, b]  # <= 0: b wins at v
        span = du - dv
        ok = np.isfinite(span) & (span > 1e-12)
        t = np.where(ok, np.clip(du / np.where(ok, span, 1.0), 0.0, 1.0), 0.5)
    return values[u] + t[:, None] * (values[v] - values[u])


def cut_regions(triangles: np.ndarray, labels: np.ndarray, values: np.ndarray,
                scores: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A triangle mesh cut along the boundaries between its points' labels, so that each triangle has one label.

    ``triangles`` [t, 3] index the points, ``labels`` [n] are their classes and ``values`` [n, k] whatever is
    interpolated along the mesh (positions, confidence). A triangle whose corners disagree is split where the classes
    tie: on each edge from a point won by class a to one won by class b, at the zero of the linearly interpolated
    score difference s_a - s_b (``scores`` [n, classes], e.g. log-probabilities; without them, at the edge's middle),
    and a triangle with three classes also at its centre. Each cut point is made once per side, with that side's
    label, so drawing a colour per point never blends two classes: region edges follow the boundary in straight
    pieces across each triangle instead of in steps of whole grid cells.

    Returns (triangles [t', 3], labels [n'], values [n', k]); the first n points are the input points, unchanged.
    """
    triangles, labels = np.asarray(triangles), np.asarray(labels)
    values = np.asarray(values, float).reshape(len(labels), -1)
    corner = labels[triangles]
    same01, same12, same02 = (corner[:, 0] == corner[:, 1]), (corner[:, 1] == corner[:, 2]), (corner[:, 0] == corner[:, 2])
    whole = same01 & same12
    out_values, out_labels, out_triangles = [values], [labels], [triangles[whole]]
    count = len(labels)

    def add(at: np.ndarray, label: np.ndarray) -> np.ndarray:
        nonlocal count
        out_values.append(at)
        out_labels.append(label)
        count += len(label)
        return np.arange(count - len(label), count)

    def crossing(u: np.ndarray, v: np.ndarray) -> np.ndarray:
        return edge_crossing(values, labels, scores, u, v)

    two = ~whole & (same01 | same12 | same02)
    if two.any():
        tri, rows = triangles[two], np.arange(int(two.sum()))
        odd = np.where(same12[two], 0, np.where(same02[two], 1, 2))  # the corner whose class differs
        o, p, q = tri[rows, odd], tri[rows, (odd + 1) % 3], tri[rows, (odd + 2) % 3]
        on_op, on_oq = crossing(o, p), crossing(o, q)
        op_o, oq_o = add(on_op, labels[o]), add(on_oq, labels[o])
        op_p, oq_p = add(on_op, labels[p]), add(on_oq, labels[p])
        out_triangles += [np.stack([o, op_o, oq_o], 1), np.stack([op_p, p, q], 1), np.stack([op_p, q, oq_p], 1)]
    three = ~(same01 | same12 | same02)
    if three.any():
        tri = triangles[three]
        centre = values[tri].mean(axis=1)
        cuts = [crossing(tri[:, i], tri[:, (i + 1) % 3]) for i in range(3)]  # on edges 0-1, 1-2, 2-0
        for i in range(3):  # corner i's region: corner, cut on its next edge, centre, cut on its previous edge
            label = labels[tri[:, i]]
            after, before = add(cuts[i], label), add(cuts[(i + 2) % 3], label)
            middle = add(centre, label)
            out_triangles += [np.stack([tri[:, i], after, middle], 1), np.stack([tri[:, i], middle, before], 1)]
    return np.concatenate(out_triangles), np.concatenate(out_labels), np.concatenate(out_values)


def facing_direction(points: np.ndarray) -> np.ndarray | None:
    """The unit mean direction of 3-D ``points`` (each taken as a direction): where a camera looking at the sphere
    sees most of them. None when they spread so evenly that no side holds most of them."""
    points = np.asarray(points, float).reshape(-1, 3)
    if not len(points):
        return None
    centre = (points / np.maximum(np.linalg.norm(points, axis=1, keepdims=True), 1e-12)).mean(0)
    norm = np.linalg.norm(centre)
    return centre / norm if norm > 0.1 else None


MAX_ELEVATION = 80.0  # degrees: a camera straight above the pole would have no "up" to turn around


def view_angles(direction: np.ndarray) -> tuple[float, float]:
    """(elevation, azimuth) in degrees of a camera looking at the origin from ``direction`` (matplotlib's
    ``view_init``), the elevation kept within +-MAX_ELEVATION so the camera keeps z as its up."""
    x, y, z = np.asarray(direction, float) / np.linalg.norm(direction)
    elevation = float(np.clip(np.degrees(np.arcsin(np.clip(z, -1, 1))), -MAX_ELEVATION, MAX_ELEVATION))
    return elevation, float(np.degrees(np.arctan2(y, x)))


def camera_eye(elevation: float, azimuth: float, distance: float = 1.6) -> dict:
    """A plotly scene camera's eye at ``distance`` from the centre, from the angles of `view_angles`."""
    e, a = np.radians(elevation), np.radians(azimuth)
    return dict(x=distance * np.cos(e) * np.cos(a), y=distance * np.cos(e) * np.sin(a), z=distance * np.sin(e))


__all__ = ["MAX_ELEVATION", "camera_eye", "cut_regions", "facing_direction", "mixing_paths", "sphere_triangles",
           "unit_circle", "view_angles", "with_breaks"]
