"""Softmax: a linear classifier without bias, cross-entropy on raw dot products."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor

from .base import ProxyLoss


class SoftmaxLoss(ProxyLoss):
    """Plain softmax cross-entropy; the class weight vectors are the proxies (no bias, nothing normalised).

    With Proxy Synthesis the raw embeddings and raw weight vectors are mixed (no L2 normalisation, since this
    loss uses none); a synthetic class's weight is lam * w_a + (1 - lam) * w_b.
    """

    normalize = False

    def __init__(self, n_classes: int, embedding_dim: int, *, synthesis=None):
        super().__init__(n_classes, embedding_dim, synthesis=synthesis)

    def class_scores(self, embeddings: Tensor, proxies: Tensor) -> Tensor:
        return embeddings @ proxies.T

    def compute_loss(self, embeddings: Tensor, proxies: Tensor, labels: Tensor) -> Tensor:
        return F.cross_entropy(embeddings @ proxies.T, labels)
