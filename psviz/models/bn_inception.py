"""BN-Inception (Ioffe & Szegedy 2015), the backbone of the Proxy Synthesis paper's recipe.

The layer table follows the Caffe BN-Inception that deep-metric-learning code uses (1024 channels at 7x7 for a 224 px
input; BGR input on a 0-255 scale), and the parameters carry that model's names (``conv1_7x7_s2``,
``inception_3a_1x1_bn``, ...), so its converted ImageNet state dict loads directly.
"""

from __future__ import annotations

import torch
from torch import Tensor, nn

WEIGHTS_URL = "http://data.lip6.fr/cadene/pretrainedmodels/bn_inception-52deb4733.pth"

# block: (1x1 out, (3x3 reduce, 3x3 out, stride), (double reduce, out 1, out 2, stride), (pool, proj, stride))
BLOCKS = {
    "3a": (64, (64, 64, 1), (64, 96, 96, 1), ("avg", 32, 1)),
    "3b": (64, (64, 96, 1), (64, 96, 96, 1), ("avg", 64, 1)),
    "3c": (None, (128, 160, 2), (64, 96, 96, 2), ("max", None, 2)),
    "4a": (224, (64, 96, 1), (96, 128, 128, 1), ("avg", 128, 1)),
    "4b": (192, (96, 128, 1), (96, 128, 128, 1), ("avg", 128, 1)),
    "4c": (128, (128, 160, 1), (128, 160, 160, 1), ("avg", 128, 1)),
    "4d": (96, (128, 192, 1), (160, 192, 192, 1), ("avg", 96, 1)),
    "4e": (None, (128, 192, 2), (192, 256, 256, 2), ("max", None, 2)),
    "5a": (352, (192, 320, 1), (160, 224, 224, 1), ("avg", 128, 1)),
    "5b": (352, (192, 320, 1), (192, 224, 224, 1), ("max", 128, 1)),
}


class BNInception(nn.Module):
    """Feature extractor: images [N, 3, H, W] (BGR, 0-255, mean-subtracted) -> feature maps [N, 1024, h, w]."""

    out_channels = 1024

    def __init__(self):
        super().__init__()
        self._conv("conv1_7x7_s2", 3, 64, 7, stride=2, padding=3)
        self._conv("conv2_3x3_reduce", 64, 64, 1)
        self._conv("conv2_3x3", 64, 192, 3, padding=1)
        channels = 192
        for block, (one, three, double, pool) in BLOCKS.items():
            prefix = f"inception_{block}"
            out = 0
            if one:
                self._conv(f"{prefix}_1x1", channels, one, 1)
                out += one
            self._conv(f"{prefix}_3x3_reduce", channels, three[0], 1)
            self._conv(f"{prefix}_3x3", three[0], three[1], 3, stride=three[2], padding=1)
            self._conv(f"{prefix}_double_3x3_reduce", channels, double[0], 1)
            self._conv(f"{prefix}_double_3x3_1", double[0], double[1], 3, padding=1)
            self._conv(f"{prefix}_double_3x3_2", double[1], double[2], 3, stride=double[3], padding=1)
            if pool[1]:
                self._conv(f"{prefix}_pool_proj", channels, pool[1], 1)
            channels = out + three[1] + double[2] + (pool[1] or channels)
        assert channels == self.out_channels

    def _conv(self, name: str, cin: int, cout: int, kernel: int, stride: int = 1, padding: int = 0) -> None:
        setattr(self, name, nn.Conv2d(cin, cout, kernel, stride=stride, padding=padding))
        setattr(self, f"{name}_bn", nn.BatchNorm2d(cout, eps=1e-5, momentum=0.1, affine=True))

    def _run(self, name: str, x: Tensor) -> Tensor:
        return torch.relu(getattr(self, f"{name}_bn")(getattr(self, name)(x)))

    @staticmethod
    def _pool(kind: str, stride: int, x: Tensor) -> Tensor:
        if kind == "max":
            padding = 1 if stride == 1 else 0
            return nn.functional.max_pool2d(x, 3, stride=stride, padding=padding, ceil_mode=True)
        return nn.functional.avg_pool2d(x, 3, stride=1, padding=1, ceil_mode=True, count_include_pad=True)

    def forward(self, x: Tensor) -> Tensor:
        x = self._run("conv1_7x7_s2", x)
        x = nn.functional.max_pool2d(x, 3, stride=2, ceil_mode=True)
        x = self._run("conv2_3x3", self._run("conv2_3x3_reduce", x))
        x = nn.functional.max_pool2d(x, 3, stride=2, ceil_mode=True)
        for block, (one, _, _, pool) in BLOCKS.items():
            prefix = f"inception_{block}"
            branches = [] if not one else [self._run(f"{prefix}_1x1", x)]
            branches.append(self._run(f"{prefix}_3x3", self._run(f"{prefix}_3x3_reduce", x)))
            double = self._run(f"{prefix}_double_3x3_reduce", x)
            double = self._run(f"{prefix}_double_3x3_2", self._run(f"{prefix}_double_3x3_1", double))
            branches.append(double)
            pooled = self._pool(pool[0], pool[2], x)
            branches.append(self._run(f"{prefix}_pool_proj", pooled) if pool[1] else pooled)
            x = torch.cat(branches, dim=1)
        return x
