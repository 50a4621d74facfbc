"""Proxy Synthesis for pytorch-metric-learning (PML): `with_proxy_synthesis(loss)` adds PS to a PML proxy loss.

    loss = losses.NormalizedSoftmaxLoss(num_classes=100, embedding_size=128)
    loss = with_proxy_synthesis(loss, alpha=0.4, mu=1.0)        # same parameters, same call, same state_dict
    loss(embeddings, labels)                                   # training: real + synthetic classes; eval: plain PML

The wrapped loss is an instance of a subclass of the PML loss's class that shares its parameters. In training mode
it runs `psviz.proxy_synthesis` (the same operator and RNG as psviz's losses) on the embeddings and the loss's class
weights, then PML's own forward over the C real plus S synthetic classes, with the augmented weights in PML's layout
(``proxies`` [C, d], ``W`` [d, C] or ``fc`` [d, C*K]); gradients reach the real weights through the mix.
"""

from __future__ import annotations

import math
from contextlib import contextmanager
from dataclasses import dataclass

import torch
from torch import Tensor, nn

from ..method.synthesis import RELEASED_ALPHA, RELEASED_MU, ProxySynthesis

INSTALL = "pip install 'psviz[pml]' (or pip install pytorch-metric-learning)"
# PML's proxy losses, most specific class first (SubCenterArcFace is an ArcFace, ArcFace a LargeMargin, ...)
SUPPORTED = ("SubCenterArcFaceLoss", "ArcFaceLoss", "CosFaceLoss", "SphereFaceLoss", "LargeMarginSoftmaxLoss",
             "NormalizedSoftmaxLoss", "SoftTripleLoss", "ProxyAnchorLoss", "ProxyNCALoss")


def pml_losses():
    """pytorch_metric_learning.losses, or an ImportError that says how to install it."""
    try:
        from pytorch_metric_learning import losses
    except ImportError as error:
        raise ImportError(f"psviz.integrations.pml needs pytorch-metric-learning: {INSTALL}") from error
    return losses


@dataclass(frozen=True)
class Layout:
    """Where a PML loss keeps its class weights and how PS should mix them."""

    attribute: str  # "proxies" ([C, d]), "W" or "fc" ([d, C*K])
    centres: str | None  # the attribute holding centres per class (SoftTriple, SubCenterArcFace), or None
    raw: bool  # LargeMargin and SphereFace scale logits by vector norms: mix raw rows, keep every norm PML computes

    def per_class(self, loss) -> int:
        return int(getattr(loss, self.centres)) if self.centres else 1


def layout_of(loss) -> Layout:
    """The class-weight layout of a supported PML loss; anything else is refused, listing the supported losses."""
    losses = pml_losses()
    kind = next((name for name in SUPPORTED if isinstance(loss, getattr(losses, name))), None)
    if kind is None:
        raise ValueError(f"with_proxy_synthesis needs a pytorch-metric-learning proxy loss (class weights per class), "
                         f"got {type(loss).__name__}; supported: {', '.join(sorted(SUPPORTED))}")
    if kind in ("ProxyAnchorLoss", "ProxyNCALoss"):
        return Layout("proxies", None, False)
    if kind == "SoftTripleLoss":
        return Layout("fc", "centers_per_class", False)
    centres = "sub_centers" if kind == "SubCenterArcFaceLoss" else None
    return Layout("W", centres, kind in ("SphereFaceLoss", "LargeMarginSoftmaxLoss"))


def class_rows(weights: Tensor, layout: Layout, per_class: int) -> Tensor:
    """PML's weights as the operator mixes them: [C, d], or [C, K, d] with K centres per class (class-major)."""
    rows = weights if layout.attribute == "proxies" else weights.t()
    return rows if per_class == 1 else rows.reshape(-1, per_class, rows.shape[-1])


def pml_weights(rows: Tensor, layout: Layout) -> Tensor:
    """Rows [C', (K,) d] back in the PML layout of ``layout``."""
    rows = rows.reshape(-1, rows.shape[-1])
    return rows if layout.attribute == "proxies" else rows.t()


@contextmanager
def substituted(loss: nn.Module, attribute: str, weights: Tensor, n_classes: int, real_rows: int, real_batch: int):
    """For one forward: ``weights`` in place of the parameter, the class count PML reads raised to C + S, and the
    regularisers handed the real weights and embeddings only."""
    saved = loss._parameters[attribute]
    counts = {name: getattr(loss, name) for name in ("num_classes", "proxy_labels") if name in loss.__dict__}
    weight_reg, embedding_reg = type(loss).add_weight_regularization_to_loss_dict, getattr(
        type(loss), "add_embedding_regularization_to_loss_dict", None)
    loss._parameters[attribute] = weights
    if "num_classes" in counts:
        loss.num_classes = n_classes
    if "proxy_labels" in counts:
        loss.proxy_labels = torch.arange(n_classes)
    loss.__dict__["add_weight_regularization_to_loss_dict"] = (
        lambda loss_dict, w: weight_reg(loss, loss_dict, w[:real_rows]))
    if embedding_reg is not None:
        loss.__dict__["add_embedding_regularization_to_loss_dict"] = (
            lambda loss_dict, e: embedding_reg(loss, loss_dict, e[:real_batch]))
    try:
        yield
    finally:
        loss._parameters[attribute] = saved
        for name, value in counts.items():
            setattr(loss, name, value)
        loss.__dict__.pop("add_weight_regularization_to_loss_dict", None)
        loss.__dict__.pop("add_embedding_regularization_to_loss_dict", None)


class ProxySynthesisMixin:
    """Put before a PML loss class: PS in training mode, plain PML in eval mode (see `with_proxy_synthesis`)."""

    def forward(self, embeddings, labels=None, indices_tuple=None, ref_emb=None, ref_labels=None):
        if not self.training:
            return super().forward(embeddings, labels, indices_tuple, ref_emb, ref_labels)
        if labels is None:
            raise ValueError("Proxy Synthesis needs the labels: call loss(embeddings, labels)")
        if indices_tuple is not None or ref_emb is not None or ref_labels is not None:
            raise ValueError("with Proxy Synthesis the loss takes (embeddings, labels) only: a miner's indices_tuple "
                             "and ref_emb/ref_labels refer to the real batch, not to the synthetic rows")
        layout, synthesis = self.ps_layout, self.proxy_synthesis
        weights = self._parameters[layout.attribute]
        k = layout.per_class(self)
        # like psviz's losses: the batch in the weights' dtype; under autocast the matmuls still run in low precision
        mixed = synthesis(embeddings.to(weights.dtype), class_rows(weights, layout, k), labels.to(weights.device),
                          normalize=not layout.raw)
        n_classes = mixed.proxies.shape[0]
        with substituted(self, layout.attribute, pml_weights(mixed.proxies, layout), n_classes,
                         (n_classes - mixed.n_synthetic) * k, mixed.n_real):
            return super().forward(mixed.embeddings, mixed.labels)

    def extra_repr(self) -> str:
        return f"proxy_synthesis=(alpha={self.proxy_synthesis.alpha:g}, mu={self.proxy_synthesis.mu:g})"


_CLASSES: dict[type, type] = {}


def wrapped_class(base: type) -> type:
    """``ProxySynthesis<Base>``: the mixin over a PML loss class, made once and importable from this module (so a
    wrapped loss pickles)."""
    if base not in _CLASSES:
        name = f"ProxySynthesis{base.__name__}"
        cls = type(name, (ProxySynthesisMixin, base), {"__module__": __name__, "__qualname__": name})
        globals()[name] = _CLASSES[base] = cls
    return _CLASSES[base]


def with_proxy_synthesis(loss, alpha: float = RELEASED_ALPHA, mu: float = RELEASED_MU):
    """``loss`` (a PML proxy loss) with Proxy Synthesis: same call, same parameters (shared, so an optimizer built
    on either works), same state_dict keys. PS runs in training mode only; regularisers see the real weights."""
    layout = layout_of(loss)
    if isinstance(loss, ProxySynthesisMixin):
        raise ValueError("this loss has Proxy Synthesis already")
    cls = wrapped_class(type(loss))
    wrapped = cls.__new__(cls)
    for key, value in loss.__dict__.items():
        wrapped.__dict__[key] = type(value)(value) if isinstance(value, (dict, list)) else value
    nn.Module.__setattr__(wrapped, "proxy_synthesis", ProxySynthesis(alpha, mu))
    wrapped.ps_layout = layout
    return wrapped


# psviz loss -> (PML class, psviz hyper-parameter -> PML keyword with its conversion), and what must hold for the two
# to be one loss. psviz's plain Softmax has no PML twin (PML has no unnormalised softmax proxy loss).
TWINS = {
    "norm_softmax": ("NormalizedSoftmaxLoss", {"scale": ("temperature", lambda s: 1.0 / s)}, ""),
    "proxy_nca": ("ProxyNCALoss", {"scale": ("softmax_scale", float)}, ""),
    "proxy_anchor": ("ProxyAnchorLoss", {"alpha": ("alpha", float), "margin": ("margin", float)}, ""),
    "soft_triple": ("SoftTripleLoss", {"proxies_per_class": ("centers_per_class", int), "la": ("la", float),
                                       "gamma": ("gamma", float), "margin": ("margin", float)}, "tau=0"),
    "cosface": ("CosFaceLoss", {"margin": ("margin", float), "scale": ("scale", float)}, ""),
    "arcface": ("ArcFaceLoss", {"margin": ("margin", math.degrees), "scale": ("scale", float)}, ""),
    "sphereface": ("SphereFaceLoss", {"margin": ("margin", int), "scale": ("scale", float)},
                   "softmax_weight=0, unit-norm embeddings"),
}


def psviz_name(loss) -> str:
    from ..method.losses import LOSSES

    for name, cls in LOSSES.items():
        if type(loss) is cls:
            return name
    raise ValueError(f"loss must be one of psviz's losses ({', '.join(TWINS)}), got {type(loss).__name__}")


def from_psviz(loss):
    """The PML twin of a psviz loss: the same loss with PML's names and units and a copy of its proxies (wrapped
    with Proxy Synthesis when ``loss`` has it), so one can be checked against the other."""
    name = psviz_name(loss)
    if name not in TWINS:
        raise ValueError(f"psviz's {name!r} has no pytorch-metric-learning twin (PML has no unnormalised softmax "
                         f"proxy loss); twins exist for {', '.join(TWINS)}")
    class_name, keywords, condition = TWINS[name]
    if name == "soft_triple" and loss.tau != 0 or name == "sphereface" and loss.softmax_weight != 0:
        raise ValueError(f"PML's {class_name} has no {'tau' if name == 'soft_triple' else 'softmax_weight'} term: "
                         f"build psviz's {name} with {condition.split(',')[0]} to compare the two")
    options = {key: convert(getattr(loss, attribute)) for attribute, (key, convert) in keywords.items()}
    twin = getattr(pml_losses(), class_name)(num_classes=loss.n_classes, embedding_size=loss.embedding_dim, **options)
    twin = twin.to(loss.proxies.dtype)
    layout = layout_of(twin)
    with torch.no_grad():
        twin._parameters[layout.attribute].copy_(pml_weights(loss.proxies.detach(), layout))
    if loss.synthesis is not None:
        twin = with_proxy_synthesis(twin, loss.synthesis.alpha, loss.synthesis.mu)
    return twin


__all__ = ["INSTALL", "ProxySynthesisMixin", "SUPPORTED", "TWINS", "from_psviz", "layout_of", "pml_losses",
           "with_proxy_synthesis"]
