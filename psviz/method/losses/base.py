"""The common shape of every proxy loss: proxies as a parameter, `loss(embeddings, labels)`, optional PS."""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F
from torch import Tensor, nn

from ...base.checks import (DeferredFlags, check_float_tensor, check_labels_shape, check_number, check_int,
                       raise_flagged)
from ..synthesis import ProxySynthesis, n_synthetic_for


def _at_least_float32(x: Tensor) -> Tensor:
    return x.float() if x.dtype in (torch.float16, torch.bfloat16) else x


class ProxyLoss(nn.Module):
    """Base class: holds ``proxies`` [n_classes * proxies_per_class, embedding_dim] and applies Proxy Synthesis.

    Subclasses implement `compute_loss` (on prepared rows, where synthetic classes are just extra classes) and
    `class_scores` (the per-class score the loss ranks classes by, before any margin). With ``synthesis`` set, PS
    runs in `forward` in training mode only; in eval mode the loss sees the real classes alone.
    """

    #: cosine losses L2-normalise embeddings and proxies; the plain Softmax loss does not.
    normalize: bool = True

    def __init__(self, n_classes: int, embedding_dim: int, *, proxies_per_class: int = 1,
                 synthesis: ProxySynthesis | None = None):
        super().__init__()
        self.n_classes = check_int(n_classes, "n_classes")
        self.embedding_dim = check_int(embedding_dim, "embedding_dim")
        self.proxies_per_class = check_int(proxies_per_class, "proxies_per_class")
        if synthesis is not None and not isinstance(synthesis, ProxySynthesis):
            raise ValueError(f"synthesis must be a psviz.ProxySynthesis or None, got {type(synthesis).__name__}")
        self.synthesis = synthesis
        self._deferred = DeferredFlags()
        self.proxies = nn.Parameter(torch.empty(n_classes * proxies_per_class, embedding_dim))
        self.reset_parameters()

    def reset_parameters(self) -> None:
        # Unit-norm-ish random proxies: cosine losses ignore the norm, and the plain softmax starts well scaled.
        nn.init.normal_(self.proxies, std=1.0 / math.sqrt(self.embedding_dim))

    def proxy_tensor(self) -> Tensor:
        """Proxies in the layout the synthesis operator mixes: [C, d], or [C, K, d] with K centres per class."""
        if self.proxies_per_class == 1:
            return self.proxies
        return self.proxies.view(self.n_classes, self.proxies_per_class, self.embedding_dim)

    def forward(self, embeddings: Tensor, labels: Tensor) -> Tensor:
        self._check_inputs(embeddings, labels)
        # A half-precision model may feed a float32 loss; under autocast the matmuls still run in low precision.
        embeddings = embeddings.to(self.proxies.dtype)
        proxies = self.proxy_tensor()
        if self.synthesis is not None and self.training:
            # _check_inputs tested the values already (one device sync for both)
            mixed = self.synthesis(embeddings, proxies, labels, normalize=self.normalize, check=False)
            embeddings, proxies, labels = mixed.embeddings, mixed.proxies, mixed.labels
        else:
            embeddings, proxies = self.prepare(embeddings, proxies)
        return self.compute_loss(embeddings, proxies, labels) + self.regularizer()

    def prepare(self, embeddings: Tensor, proxies: Tensor) -> tuple[Tensor, Tensor]:
        """L2-normalise rows for cosine losses (exactly what the synthesis operator does to real rows)."""
        if self.normalize:
            return F.normalize(embeddings, dim=-1), F.normalize(proxies, dim=-1)
        return embeddings, proxies

    @torch.no_grad()
    def logits(self, embeddings: Tensor) -> Tensor:
        """Scores [B, n_classes] of each embedding against the real classes, without margins; argmax = class."""
        check_float_tensor(embeddings, "embeddings", (2,))
        self._check_dim(embeddings)
        embeddings, proxies = self.prepare(embeddings.to(self.proxies.dtype), self.proxy_tensor())
        return self.class_scores(embeddings, proxies)

    @torch.no_grad()
    def probabilities(self, embeddings: Tensor) -> Tensor:
        """Softmax [B, n_classes] over the real classes of the scores the loss trains with (margins left out):
        how confidently the loss assigns each embedding to a seen class (see `psviz.evaluate.unseen_confidence`)."""
        return torch.softmax(_at_least_float32(self.logits(embeddings)), dim=1)

    def compute_loss(self, embeddings: Tensor, proxies: Tensor, labels: Tensor) -> Tensor:
        raise NotImplementedError

    def class_scores(self, embeddings: Tensor, proxies: Tensor) -> Tensor:
        raise NotImplementedError

    def regularizer(self) -> Tensor | float:
        """Extra term on the real proxies (SoftTriple's centre merging); 0 for most losses."""
        return 0.0

    def _check_dim(self, embeddings: Tensor) -> None:
        if embeddings.shape[1] != self.embedding_dim:
            raise ValueError(f"embeddings must have {self.embedding_dim} columns (embedding_dim), "
                             f"got shape {tuple(embeddings.shape)}")

    def _check_inputs(self, embeddings: Tensor, labels: Tensor) -> None:
        check_float_tensor(embeddings, "embeddings", (2,))
        self._check_dim(embeddings)
        check_labels_shape(labels, embeddings.shape[0])
        if labels.device != embeddings.device:
            raise ValueError(f"labels ({labels.device}) must be on the embeddings' device ({embeddings.device})")
        pairing = (self.synthesis is not None and self.training
                   and n_synthetic_for(self.synthesis.mu, embeddings.shape[0]) > 0)
        flags = torch.stack([~torch.isfinite(embeddings).all(), ((labels < 0) | (labels >= self.n_classes)).any(),
                             (labels == labels[0]).all() & pairing])
        messages = [
            "embeddings hold NaN or infinite values",
            lambda: f"labels must lie in [0, {self.n_classes}) (n_classes), got values in "
                    f"[{int(labels.min())}, {int(labels.max())}]",
            "labels: Proxy Synthesis needs at least two different classes in the batch",
        ]
        if embeddings.is_cuda and torch.is_grad_enabled():
            # Training on a GPU: a sync here would stall the step; the verdict comes at `raise_pending`.
            self._deferred.submit(flags, messages, " (found in a training batch; checked after the step)")
        else:
            raise_flagged(flags, messages)

    def raise_pending(self) -> None:
        """Raise the ValueError of a CUDA training batch whose input checks failed (no-op otherwise).

        On CUDA with gradients on, the input checks run without a device sync and report here, or at the next
        call at the latest; `psviz.train.fit` calls this after every step.
        """
        self._deferred.raise_pending()

    def extra_repr(self) -> str:
        return f"n_classes={self.n_classes}, embedding_dim={self.embedding_dim}"


class CosineSoftmaxLoss(ProxyLoss):
    """Cross-entropy over scale * cosine to each class proxy, with an optional margin on the positive logit.

    Subclasses override `positive_logit(cos)` (the target class's cosine after the margin). Synthetic classes are
    ordinary extra classes, so the margin applies to their positive logits too.
    """

    def __init__(self, n_classes: int, embedding_dim: int, *, scale: float, synthesis=None, **kwargs):
        super().__init__(n_classes, embedding_dim, synthesis=synthesis, **kwargs)
        self.scale = check_number(scale, "scale", low=0.0, low_open=True)

    def class_scores(self, embeddings: Tensor, proxies: Tensor) -> Tensor:
        return self.scale * embeddings @ proxies.T

    def positive_logit(self, cos: Tensor) -> Tensor:
        return cos

    def compute_loss(self, embeddings: Tensor, proxies: Tensor, labels: Tensor) -> Tensor:
        cos = embeddings @ proxies.T
        target = cos.gather(1, labels[:, None])
        cos = cos.scatter(1, labels[:, None], self.positive_logit(target))
        return F.cross_entropy(self.scale * cos, labels)

    def extra_repr(self) -> str:
        return f"{super().extra_repr()}, scale={self.scale:g}"
