"""The eight proxy-based losses of the Proxy Synthesis paper's Table 6, each `loss(embeddings, labels) -> scalar`.

Pick one by name with `create("norm_softmax", n_classes, embedding_dim, ...)`; `available()` lists the names.
"""

from __future__ import annotations

import inspect

from ...base.registry import Registry
from .arcface import ArcFaceLoss
from .base import CosineSoftmaxLoss, ProxyLoss
from .cosface import CosFaceLoss
from .norm_softmax import NormSoftmaxLoss
from .proxy_anchor import ProxyAnchorLoss
from .proxy_nca import ProxyNCALoss
from .soft_triple import SoftTripleLoss
from .softmax import SoftmaxLoss
from .sphereface import SphereFaceLoss

LOSSES: Registry[type[ProxyLoss]] = Registry("loss", {
    "softmax": SoftmaxLoss,
    "norm_softmax": NormSoftmaxLoss,
    "sphereface": SphereFaceLoss,
    "cosface": CosFaceLoss,
    "arcface": ArcFaceLoss,
    "proxy_nca": ProxyNCALoss,
    "soft_triple": SoftTripleLoss,
    "proxy_anchor": ProxyAnchorLoss,
})

__all__ = ["LOSSES", "available", "create", "get", "hyperparameters", "ProxyLoss", "CosineSoftmaxLoss",
           *(cls.__name__ for _, cls in LOSSES.items())]


def available() -> list[str]:
    """The loss names `create` accepts (case, '-', '_' and spaces are ignored when matching)."""
    return LOSSES.available()


def get(name: str) -> type[ProxyLoss]:
    """The loss class registered under ``name``; an unknown name raises ValueError listing the valid ones."""
    return LOSSES.get(name)


def hyperparameters(name: str) -> dict[str, object]:
    """A loss's own hyper-parameters and their defaults, e.g. for a config file or a widget."""
    signature = inspect.signature(get(name).__init__)
    skip = {"self", "n_classes", "embedding_dim", "synthesis"}
    return {k: p.default for k, p in signature.parameters.items() if k not in skip}


def create(name: str, n_classes: int, embedding_dim: int, *, synthesis=None, **hyper) -> ProxyLoss:
    """Build a loss by name; unknown hyper-parameters raise ValueError listing the loss's valid ones."""
    valid = hyperparameters(name)
    unknown = sorted(set(hyper) - set(valid))
    if unknown:
        raise ValueError(f"loss {name!r} has no hyper-parameter {', '.join(map(repr, unknown))}; "
                         f"valid: {', '.join(valid) or 'none'}")
    return get(name)(n_classes, embedding_dim, synthesis=synthesis, **hyper)
