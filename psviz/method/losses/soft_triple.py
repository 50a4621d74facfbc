"""SoftTriple (Qian et al. 2019): K centres (proxies) per class, softly assigned, with a small margin."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ...base.checks import check_number
from .base import ProxyLoss


class SoftTripleLoss(ProxyLoss):
    """Cross-entropy over ``la * (S_c - margin * [c = y])``, S_c = sum_k softmax_k(cos_ck / gamma) cos_ck.

    Defaults from the paper: K=10 centres, la=20, gamma=0.1, margin=0.01, tau=0.2 for the regulariser that
    merges redundant centres. The centres are the loss's proxies: K is ``proxies_per_class``, as for every proxy
    loss, and ``proxies`` holds all centres, [n_classes * K, d], class-major (row c*K + k).
    With Proxy Synthesis, centre k of a synthetic class mixes centre k of each source class; the regulariser
    runs over the real centres only (synthetic classes live for one batch).
    """

    def __init__(self, n_classes: int, embedding_dim: int, *, proxies_per_class: int = 10, la: float = 20.0,
                 gamma: float = 0.1, margin: float = 0.01, tau: float = 0.2, synthesis=None):
        super().__init__(n_classes, embedding_dim, proxies_per_class=proxies_per_class, synthesis=synthesis)
        self.la = check_number(la, "la", low=0.0, low_open=True)
        self.gamma = check_number(gamma, "gamma", low=0.0, low_open=True)
        self.margin = check_number(margin, "margin", low=0.0)
        self.tau = check_number(tau, "tau", low=0.0)

    def proxy_tensor(self) -> Tensor:
        # Always [C, K, d], even for K = 1, so the operator mixes centre by centre.
        return self.proxies.view(self.n_classes, self.proxies_per_class, self.embedding_dim)

    def class_similarity(self, embeddings: Tensor, centres: Tensor) -> Tensor:
        """S [B, C']: each class's centres' cosines, weighted by a softmax over them at temperature gamma."""
        cos = torch.einsum("bd,ckd->bck", embeddings, centres)
        weights = torch.softmax(cos / self.gamma, dim=-1)
        return (weights * cos).sum(dim=-1)

    def class_scores(self, embeddings: Tensor, proxies: Tensor) -> Tensor:
        return self.la * self.class_similarity(embeddings, proxies)

    def compute_loss(self, embeddings: Tensor, proxies: Tensor, labels: Tensor) -> Tensor:
        similarity = self.class_similarity(embeddings, proxies)
        similarity = similarity - self.margin * F.one_hot(labels, similarity.shape[1]).to(similarity.dtype)
        return F.cross_entropy(self.la * similarity, labels)

    def regularizer(self) -> Tensor | float:
        k = self.proxies_per_class
        if self.tau == 0 or k == 1:
            return 0.0
        centres = F.normalize(self.proxy_tensor(), dim=-1)
        cos = centres @ centres.transpose(1, 2)
        i, j = torch.triu_indices(k, k, offset=1, device=cos.device)
        distances = torch.sqrt((2.0 + 1e-5 - 2.0 * cos[:, i, j]).clamp_min(0.0))
        return self.tau * distances.sum() / (self.n_classes * k * (k - 1))

    def extra_repr(self) -> str:
        return (f"{super().extra_repr()}, proxies_per_class={self.proxies_per_class}, la={self.la:g}, "
                f"gamma={self.gamma:g}, margin={self.margin:g}, tau={self.tau:g}")
