"""Norm-SoftMax (Zhai & Wu 2018): softmax over scaled cosine similarities to unit-norm proxies."""

from __future__ import annotations

from .base import CosineSoftmaxLoss


class NormSoftmaxLoss(CosineSoftmaxLoss):
    """Cross-entropy over ``scale * cos(e, p_c)``; default scale 23 as in the released Proxy Synthesis code."""

    def __init__(self, n_classes: int, embedding_dim: int, *, scale: float = 23.0, synthesis=None):
        super().__init__(n_classes, embedding_dim, scale=scale, synthesis=synthesis)
