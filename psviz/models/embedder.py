"""A full embedding network: ImageNet backbone, global pooling, one linear layer to the embedding."""

from __future__ import annotations

from pathlib import Path

from torch import Tensor, nn

from ..base.checks import check_int
from .backbones import build_backbone

POOLINGS = ("avg", "max", "avg+max")


class BackboneEmbedder(nn.Module):
    """Backbone -> global average and/or max pooling -> Linear(features, embedding_dim).

    ``pooling="avg+max"`` sums both poolings (Proxy-Anchor's head). ``freeze_bn`` keeps every BatchNorm layer of
    the backbone in eval mode with fixed affine parameters, as the paper's recipe does; `train()` respects it.
    ``input_style`` says which image normalisation the backbone expects ("imagenet" or "bn_inception").
    """

    def __init__(self, backbone: str, embedding_dim: int = 512, *, pooling: str = "avg",
                 weights: str | Path | None = None, freeze_bn: bool = True):
        super().__init__()
        check_int(embedding_dim, "embedding_dim")
        if pooling not in POOLINGS:
            raise ValueError(f"pooling must be one of {', '.join(POOLINGS)}, got {pooling!r}")
        self.backbone = build_backbone(backbone, weights)
        self.backbone_name = backbone
        self.pooling = pooling
        self.embedding = nn.Linear(self.backbone.out_channels, embedding_dim)
        nn.init.kaiming_normal_(self.embedding.weight, mode="fan_out")
        nn.init.zeros_(self.embedding.bias)
        self.embedding_dim = embedding_dim
        self.freeze_bn = freeze_bn
        self.input_style = "bn_inception" if backbone == "bn_inception" else "imagenet"
        if freeze_bn:
            for module in self._batchnorms():
                for parameter in module.parameters():
                    parameter.requires_grad_(False)
        self.train()

    def _batchnorms(self):
        return [m for m in self.backbone.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]

    def train(self, mode: bool = True):
        super().train(mode)
        if self.freeze_bn:
            for module in self._batchnorms():
                module.eval()
        return self

    def forward(self, images: Tensor) -> Tensor:
        features = self.backbone(images)
        if self.pooling == "avg":
            pooled = features.mean(dim=(2, 3))
        elif self.pooling == "max":
            pooled = features.amax(dim=(2, 3))
        else:
            pooled = features.mean(dim=(2, 3)) + features.amax(dim=(2, 3))
        return self.embedding(pooled)
