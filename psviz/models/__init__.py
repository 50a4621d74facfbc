"""Embedding networks by name: small CPU models for the demos, ImageNet backbones for the paper's recipe.

`create(name, embedding_dim, **options)` builds one; `available()` lists the names.
"""

from __future__ import annotations

import inspect

from torch import nn

from .backbones import BACKBONES, build_backbone
from .bn_inception import BNInception
from .embedder import BackboneEmbedder
from .small import MLPEmbedder, SmallCNN

SMALL = {"mlp": MLPEmbedder, "small_cnn": SmallCNN}


def available() -> list[str]:
    """Model names for `create`: the small ones, then the ImageNet backbones."""
    return [*SMALL, *BACKBONES]


def create(name: str, embedding_dim: int, **options) -> nn.Module:
    """Build a model by name. Small models take their own options (e.g. ``in_features`` for "mlp");
    backbones take ``pooling``, ``weights`` (None, "imagenet" or a file) and ``freeze_bn``."""
    if name in SMALL:
        cls = SMALL[name]
    elif name in BACKBONES:
        cls = BackboneEmbedder
        options = {"backbone": name, **options}
    else:
        raise ValueError(f"unknown model {name!r}; choose one of: {', '.join(available())}")
    valid = set(inspect.signature(cls.__init__).parameters) - {"self", "embedding_dim"}
    unknown = sorted(set(options) - valid)
    if unknown:
        raise ValueError(f"model {name!r} has no option {', '.join(map(repr, unknown))}; "
                         f"valid: {', '.join(sorted(valid - {'backbone'}))}")
    return cls(embedding_dim=embedding_dim, **options)


__all__ = ["available", "create", "MLPEmbedder", "SmallCNN", "BackboneEmbedder", "BNInception", "build_backbone",
           "BACKBONES"]
