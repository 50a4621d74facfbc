"""ArcFace (Deng et al. 2019): an additive angular margin on the positive logit."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ...base.checks import check_number
from .base import CosineSoftmaxLoss


class ArcFaceLoss(CosineSoftmaxLoss):
    """Cross-entropy over ``scale * cos`` with ``cos(theta + margin)`` for the target class (m=0.5 rad, s=64).

    Where theta + margin would pass pi, the target logit is ``cos(theta) - margin * sin(margin)`` so it keeps
    falling with theta (the usual ArcFace fallback). With Proxy Synthesis the margin also applies to each
    synthetic embedding against its synthetic proxy.
    """

    def __init__(self, n_classes: int, embedding_dim: int, *, margin: float = 0.5, scale: float = 64.0,
                 synthesis=None):
        super().__init__(n_classes, embedding_dim, scale=scale, synthesis=synthesis)
        self.margin = check_number(margin, "margin", low=0.0, high=math.pi / 2)

    def positive_logit(self, cos: Tensor) -> Tensor:
        m = self.margin
        sin = torch.sqrt((1.0 - cos * cos).clamp_min(1e-12))
        shifted = cos * math.cos(m) - sin * math.sin(m)
        return torch.where(cos > math.cos(math.pi - m), shifted, cos - m * math.sin(m))

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, margin={self.margin:g}"
