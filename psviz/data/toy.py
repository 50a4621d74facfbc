"""Toy data: Gaussian clusters in 2-D or 3-D input space, seen and unseen classes interleaved around the circle/sphere."""

from __future__ import annotations

import math

import torch

from ..base.checks import check_number, check_int
from .base import SEEN, UNSEEN, TensorSplit


def class_centres(n_classes: int, dim: int) -> torch.Tensor:
    """Evenly spread unit centres: a circle for dim=2, a Fibonacci lattice on the sphere for dim=3."""
    index = torch.arange(n_classes, dtype=torch.float64)
    if dim == 2:
        angle = 2 * math.pi * index / n_classes
        return torch.stack([angle.cos(), angle.sin()], dim=1).float()
    z = 1 - 2 * (index + 0.5) / n_classes
    radius = (1 - z * z).sqrt()
    angle = math.pi * (3 - math.sqrt(5)) * index
    return torch.stack([radius * angle.cos(), radius * angle.sin(), z], dim=1).float()


def load_toy(split: str = SEEN, *, n_classes: int = 8, dim: int = 2, per_class: int = 100, spread: float = 0.15,
             seed: int = 0, transform=None) -> TensorSplit:
    """Even-numbered classes are seen, odd ones unseen, so every unseen class sits between two seen ones.

    Points are centre + N(0, spread^2) per coordinate; the same seed gives the same points. Class names are the
    global class numbers ("c0", "c1", ...) so seen and unseen splits can be told apart in one plot.
    """
    check_int(n_classes, "n_classes", minimum=4)
    if dim not in (2, 3):
        raise ValueError(f"dim must be 2 or 3 (points that can be drawn), got {dim!r}")
    check_int(per_class, "per_class")
    spread = check_number(spread, "spread", low=0.0, low_open=True)
    if split not in (SEEN, UNSEEN):
        raise ValueError(f"split must be 'seen' or 'unseen', got {split!r}")
    generator = torch.Generator().manual_seed(seed)
    centres = class_centres(n_classes, dim)
    points = centres.repeat_interleave(per_class, dim=0)
    points = points + spread * torch.randn(points.shape, generator=generator)
    global_labels = torch.arange(n_classes).repeat_interleave(per_class)
    classes = list(range(0 if split == SEEN else 1, n_classes, 2))
    keep = torch.isin(global_labels, torch.tensor(classes))
    labels = torch.searchsorted(torch.tensor(classes), global_labels[keep])
    return TensorSplit("toy", split, points[keep], labels, [f"c{c}" for c in classes], transform)
