"""Where points are drawn: the unit circle (2-D), the sphere (3-D) or a PCA plane (higher dimensions)."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

SPACES = ("auto", "circle", "sphere", "pca")


class Space:
    """Maps d-dimensional rows to display coordinates (2 or 3 columns); linear, so paths stay paths."""

    def __init__(self, kind: str, dim: int, reference: Tensor | None = None):
        if kind not in SPACES:
            raise ValueError(f"projection must be one of {', '.join(SPACES)}, got {kind!r}")
        if kind == "auto":
            kind = {2: "circle", 3: "sphere"}.get(dim, "pca")
        if kind == "circle" and dim != 2 or kind == "sphere" and dim != 3:
            raise ValueError(f"projection={kind!r} needs {2 if kind == 'circle' else 3}-D embeddings, got {dim}-D")
        if kind == "pca" and dim < 2:
            raise ValueError(f"projection='pca' needs at least 2-D embeddings, got {dim}-D")
        self.kind, self.dim = kind, dim
        self.mean = torch.zeros(dim)
        self.basis = torch.eye(dim)
        if kind == "pca":
            if reference is None or len(reference) < 2:
                raise ValueError("a PCA projection needs at least two reference rows")
            reference = reference.detach().float().cpu()
            self.mean = reference.mean(dim=0)
            # right singular vectors of the centred rows: the two directions of largest spread
            _, _, vh = torch.linalg.svd(reference - self.mean, full_matrices=False)
            self.basis = vh[:2].T

    @property
    def n_axes(self) -> int:
        return 3 if self.kind == "sphere" else 2

    def __call__(self, rows: Tensor) -> np.ndarray:
        rows = rows.detach().float().cpu().reshape(-1, self.dim)
        return ((rows - self.mean) @ self.basis).numpy()


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


def sphere_grid(n_lat: int = 60, n_lon: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y, z arrays [n_lat, n_lon] of a latitude/longitude grid on the unit sphere."""
    lat = np.linspace(-np.pi / 2, np.pi / 2, n_lat)[:, None]
    lon = np.linspace(-np.pi, np.pi, n_lon)[None, :]
    return np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat) * np.ones_like(lon)


__all__ = ["SPACES", "Space", "mixing_paths", "sphere_grid", "unit_circle", "with_breaks"]
