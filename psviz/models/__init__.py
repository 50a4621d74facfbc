"""Embedding networks by name: small CPU models for the demos, ImageNet backbones for the paper's recipe.

`create(name, embedding_dim, **options)` builds one; `available()` lists the names.
"""

from __future__ import annotations

import inspect
from typing import NamedTuple

from torch import nn

from ..base.registry import Registry
from .backbones import BACKBONES, build_backbone
from .bn_inception import BNInception
from .embedder import BackboneEmbedder
from .small import MLPEmbedder, SmallCNN

SMALL = {"mlp": MLPEmbedder, "small_cnn": SmallCNN}


class ModelEntry(NamedTuple):
    """What `create` builds for one name: the class, and the options the name fixes (a backbone's own name)."""

    cls: type[nn.Module]
    fixed_options: dict


MODELS: Registry[ModelEntry] = Registry("model", {
    **{name: ModelEntry(cls, {}) for name, cls in SMALL.items()},
    **{name: ModelEntry(BackboneEmbedder, {"backbone": name}) for name in BACKBONES},
})


def available() -> list[str]:
    """Model names for `create`: the small ones, then the ImageNet backbones."""
    return MODELS.available()


def create(name: str, embedding_dim: int, **options) -> nn.Module:
    """Build a model by name (case, '-', '_' and spaces ignored). Small models take their own options (e.g.
    ``in_features`` for "mlp"); backbones take ``pooling``, ``weights`` (None, "imagenet" or a file) and
    ``freeze_bn``."""
    entry = MODELS.get(name)
    options = {**entry.fixed_options, **options}
    valid = set(inspect.signature(entry.cls.__init__).parameters) - {"self", "embedding_dim"}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ValueError(f"model {name!r} has no option {', '.join(map(repr, unknown))}; "
                         f"valid: {', '.join(sorted(valid - {'backbone'}))}")
    return entry.cls(embedding_dim=embedding_dim, **options)


__all__ = ["MODELS", "ModelEntry", "available", "create", "MLPEmbedder", "SmallCNN", "BackboneEmbedder", "BNInception",
           "build_backbone", "BACKBONES"]
