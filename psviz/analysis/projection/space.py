"""Where rows land in display coordinates: the unit circle (2-D), the sphere (3-D) or a PCA plane (higher
dimensions), and a latitude/longitude grid of the sphere (where boundary views score the loss)."""

from __future__ import annotations

import numpy as np
import torch
from torch import Tensor

SPACE_KINDS = ("auto", "circle", "sphere", "pca")


class Space:
    """Maps d-dimensional rows to display coordinates (2 or 3 columns); linear, so paths stay paths."""

    def __init__(self, kind: str, dim: int, reference: Tensor | None = None):
        if kind not in SPACE_KINDS:
            raise ValueError(f"projection must be one of {', '.join(SPACE_KINDS)}, got {kind!r}")
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
            if not bool(torch.isfinite(reference).all()):
                raise ValueError("a PCA projection needs finite reference rows (embeddings); they hold NaN or inf")
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


def sphere_grid(n_lat: int = 60, n_lon: int = 120) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y, z arrays [n_lat, n_lon] of a latitude/longitude grid on the unit sphere."""
    lat = np.linspace(-np.pi / 2, np.pi / 2, n_lat)[:, None]
    lon = np.linspace(-np.pi, np.pi, n_lon)[None, :]
    return np.cos(lat) * np.cos(lon), np.cos(lat) * np.sin(lon), np.sin(lat) * np.ones_like(lon)


__all__ = ["SPACE_KINDS", "Space", "sphere_grid"]
