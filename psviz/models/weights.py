"""What the pretrained backbones share: reading a weights file safely, and the input Inception-style weights expect.

`backbones` (torchvision, BN-Inception) and `efficientnet` (EfficientNet-Lite0) both load local weights files and
both feed Inception-normalised images, so these live below both of them.
"""

from __future__ import annotations

from pathlib import Path

import torch
from torch import Tensor

from ..base.files import safe_torch_load
from ..base.imagenet import IMAGENET_MEAN, IMAGENET_STD


def inception_input(x: Tensor) -> Tensor:
    """ImageNet-normalised images [N, 3, H, W] renormalised to mean 0.5 and std 0.5 per channel, the input
    GoogLeNet's pretrained (Inception-style) weights were trained on."""
    mean = torch.tensor(IMAGENET_MEAN, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    std = torch.tensor(IMAGENET_STD, device=x.device, dtype=x.dtype).view(1, 3, 1, 1)
    return x * (std / 0.5) + (mean - 0.5) / 0.5


def read_state_dict(path: str | Path) -> dict[str, Tensor]:
    """Load a weights file safely (no pickled code runs) and unwrap common containers and DataParallel prefixes."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"weights file {path} does not exist (weights= takes 'imagenet', a file path or None)")
    state = safe_torch_load(path, "weights file")
    for key in ("state_dict", "model"):
        if isinstance(state, dict) and isinstance(state.get(key), dict):
            state = state[key]
    if not isinstance(state, dict):
        raise ValueError(f"{path} holds a {type(state).__name__}, not a state dict")
    return {k.removeprefix("module."): v for k, v in state.items()}


__all__ = ["inception_input", "read_state_dict"]
