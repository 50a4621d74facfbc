"""CosFace (Wang et al. 2018): an additive cosine margin on the positive logit."""

from __future__ import annotations

from torch import Tensor

from ...base.checks import check_number
from .base import CosineSoftmaxLoss


class CosFaceLoss(CosineSoftmaxLoss):
    """Cross-entropy over ``scale * cos`` with ``cos - margin`` for the target class (defaults m=0.35, s=64).

    With Proxy Synthesis the margin also applies to each synthetic embedding against its synthetic proxy.
    """

    def __init__(self, n_classes: int, embedding_dim: int, *, margin: float = 0.35, scale: float = 64.0,
                 synthesis=None):
        super().__init__(n_classes, embedding_dim, scale=scale, synthesis=synthesis)
        self.margin = check_number(margin, "margin", low=0.0)

    def positive_logit(self, cos: Tensor) -> Tensor:
        return cos - self.margin

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, margin={self.margin:g}"
