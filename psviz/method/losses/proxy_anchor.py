"""Proxy-Anchor (Kim et al. 2020): each proxy is an anchor pulling its positives and pushing its negatives."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ...base.checks import check_number
from .base import ProxyLoss, _at_least_float32


class ProxyAnchorLoss(ProxyLoss):
    """Proxy-Anchor loss with the paper's defaults alpha=32, margin delta=0.1.

    loss = 1/|P+| sum_{p in P+} log(1 + sum_{x in X_p+} exp(-alpha (s(x,p) - delta)))
         + 1/|P|  sum_{p in P}  log(1 + sum_{x in X_p-} exp( alpha (s(x,p) + delta)))
    where P+ are the proxies with at least one positive in the batch. With Proxy Synthesis every synthetic proxy
    has exactly one positive (its synthetic embedding), so it counts in P+ and in P, and is a negative anchor for
    every other embedding, real or synthetic.
    """

    def __init__(self, n_classes: int, embedding_dim: int, *, alpha: float = 32.0, margin: float = 0.1,
                 synthesis=None):
        super().__init__(n_classes, embedding_dim, synthesis=synthesis)
        self.alpha = check_number(alpha, "alpha", low=0.0, low_open=True)
        self.margin = check_number(margin, "margin", low=0.0)

    def class_scores(self, embeddings: Tensor, proxies: Tensor) -> Tensor:
        return embeddings @ proxies.T

    @torch.no_grad()
    def probabilities(self, embeddings: Tensor) -> Tensor:
        # Proxy-Anchor is no softmax loss; its log-sum-exp terms run at temperature 1/alpha, so that is the scale.
        return torch.softmax(self.alpha * _at_least_float32(self.logits(embeddings)), dim=1)

    def compute_loss(self, embeddings: Tensor, proxies: Tensor, labels: Tensor) -> Tensor:
        cos = embeddings @ proxies.T
        positive = F.one_hot(labels, cos.shape[1]).bool()
        pos_logits = (-self.alpha * (cos - self.margin)).masked_fill(~positive, float("-inf"))
        neg_logits = (self.alpha * (cos + self.margin)).masked_fill(positive, float("-inf"))
        has_positive = positive.any(dim=0)
        # log(1 + sum exp(z)) per proxy, written as a logsumexp with a zero column so empty sets give log(1) = 0.
        zeros = cos.new_zeros(1, cos.shape[1])
        pos_term = torch.logsumexp(torch.cat([zeros, pos_logits]), dim=0)[has_positive].sum() / has_positive.sum()
        neg_term = torch.logsumexp(torch.cat([zeros, neg_logits]), dim=0).sum() / cos.shape[1]
        return pos_term + neg_term

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, alpha={self.alpha:g}, margin={self.margin:g}"
