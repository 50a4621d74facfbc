"""Proxy-NCA (Movshovitz-Attias et al. 2017) in the released Proxy Synthesis code's form."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from ...base.checks import check_number
from .base import ProxyLoss


class ProxyNCALoss(ProxyLoss):
    """Softmax over ``-scale * ||e - p_c||^2`` between unit vectors, the positive included in the denominator.

    Default scale 12, as released. On the sphere ||e - p||^2 = 2 - 2 e.p, so this equals Norm-SoftMax with scale
    2 * scale. Synthetic proxies are extra classes: each is its synthetic embedding's positive and a negative for
    every other embedding.
    """

    def __init__(self, n_classes: int, embedding_dim: int, *, scale: float = 12.0, synthesis=None):
        super().__init__(n_classes, embedding_dim, synthesis=synthesis)
        self.scale = check_number(scale, "scale", low=0.0, low_open=True)

    def class_scores(self, embeddings: Tensor, proxies: Tensor) -> Tensor:
        squared_distance = (2.0 - 2.0 * embeddings @ proxies.T).clamp_min(0.0)
        return -self.scale * squared_distance

    def compute_loss(self, embeddings: Tensor, proxies: Tensor, labels: Tensor) -> Tensor:
        return F.cross_entropy(self.class_scores(embeddings, proxies), labels)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, scale={self.scale:g}"
