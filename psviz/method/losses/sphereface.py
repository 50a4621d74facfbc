"""SphereFace / A-Softmax (Liu et al. 2017): a multiplicative angular margin on the positive logit."""

from __future__ import annotations

import math

import torch
from torch import Tensor

from ...base.checks import check_number, check_int
from .base import CosineSoftmaxLoss


class SphereFaceLoss(CosineSoftmaxLoss):
    """Cross-entropy over ``scale * cos`` with ``psi(theta)`` for the target class.

    psi(theta) = (-1)^k cos(m theta) - 2k for theta in [k pi/m, (k+1) pi/m] (margin m=4). Embeddings are
    L2-normalised as in the paper's other losses, so a fixed ``scale`` (default 23, as Norm-SoftMax) replaces the
    feature norm. The paper trains with ``(softmax_weight * cos + psi) / (1 + softmax_weight)`` as the target,
    annealing the weight down to 5; this class keeps it fixed (default 5; 0 gives pure A-Softmax). With Proxy
    Synthesis the margin also applies to each synthetic embedding against its synthetic proxy.
    """

    def __init__(self, n_classes: int, embedding_dim: int, *, margin: int = 4, scale: float = 23.0,
                 softmax_weight: float = 5.0, synthesis=None):
        super().__init__(n_classes, embedding_dim, scale=scale, synthesis=synthesis)
        self.margin = check_int(margin, "margin")
        self.softmax_weight = check_number(softmax_weight, "softmax_weight", low=0.0)

    def positive_logit(self, cos: Tensor) -> Tensor:
        m = self.margin
        theta = torch.acos(cos.clamp(-1.0 + 1e-7, 1.0 - 1e-7))
        k = torch.floor(m * theta / math.pi).clamp(0, m - 1).detach()
        sign = 1.0 - 2.0 * torch.remainder(k, 2.0)
        psi = sign * torch.cos(m * theta) - 2.0 * k
        return (self.softmax_weight * cos + psi) / (1.0 + self.softmax_weight)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, margin={self.margin}, softmax_weight={self.softmax_weight:g}"
