"""The standard image transforms of the paper's recipe, in torchvision's ImageNet or BN-Inception conventions."""

from __future__ import annotations

import torch
from torchvision.transforms import v2

from ..base.imagenet import IMAGENET_MEAN, IMAGENET_STD

# BN-Inception (Caffe) expects BGR channels on a 0-255 scale minus these per-channel means (B, G, R).
BN_INCEPTION_MEAN_BGR = (104.0, 117.0, 128.0)


class ToBGR255(torch.nn.Module):
    """RGB float image in [0, 1] -> BGR on a 0-255 scale with the Caffe means subtracted."""

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        bgr = image.flip(-3) * 255.0
        return bgr - torch.tensor(BN_INCEPTION_MEAN_BGR, dtype=bgr.dtype).view(3, 1, 1)


def _normalise(style: str):
    if style == "imagenet":
        return v2.Normalize(IMAGENET_MEAN, IMAGENET_STD)
    if style == "bn_inception":
        return ToBGR255()
    raise ValueError(f"style must be 'imagenet' or 'bn_inception', got {style!r}")


def resize_size(size: int = 224) -> int:
    """The shorter side the test transform resizes to before its centre crop of ``size``: size * 256/224."""
    return round(size * 256 / 224)


def _crops(train: bool, size: int) -> list:
    return ([v2.RandomResizedCrop(size, antialias=True), v2.RandomHorizontalFlip()] if train
            else [v2.Resize(resize_size(size), antialias=True), v2.CenterCrop(size)])


def image_transform(train: bool, size: int = 224, style: str = "imagenet"):
    """Train: RandomResizedCrop(size) + horizontal flip; test: Resize(`resize_size(size)`) + CenterCrop(size)."""
    return v2.Compose([v2.ToImage(), *_crops(train, size), v2.ToDtype(torch.float32, scale=True), _normalise(style)])


class GreyToRGB(torch.nn.Module):
    """A one-channel image [1, H, W] copied to three channels (RGB images pass unchanged)."""

    def forward(self, image: torch.Tensor) -> torch.Tensor:
        return image.expand(3, -1, -1) if image.shape[-3] == 1 else image


def tensor_image_transform(train: bool, size: int = 224, style: str = "imagenet"):
    """`image_transform` for images held as float tensors [C, H, W] in [0, 1] (glyphs, say) fed to an ImageNet
    backbone: grey copied to RGB, the same crops, the same normalisation."""
    return v2.Compose([GreyToRGB(), *_crops(train, size), _normalise(style)])


def small_image_augmentation():
    """Mild random affine jitter for small grayscale images (glyphs, Fashion-MNIST), on float tensors [C, H, W]."""
    return v2.RandomAffine(degrees=8, translate=(0.06, 0.06), scale=(0.9, 1.1), shear=5)
