"""What retrieval returns, as data: the items' images as pixels, for the gallery and the explorer's thumbnails."""

from __future__ import annotations

import numpy as np
import torch


def item_pixels(item) -> np.ndarray:
    """An item's raw input as uint8 pixels, [H, W, 3]: tensors in [0, 1] ([C, H, W], [H, W] or a flat square
    vector such as the 64 pixels of digits), arrays, or PIL images."""
    if hasattr(item, "convert"):  # PIL
        return np.asarray(item.convert("RGB"))
    pixels = np.asarray(item.detach().cpu() if isinstance(item, torch.Tensor) else item, dtype=np.float32)
    if pixels.ndim == 1:
        side = int(round(pixels.size ** 0.5))
        if side * side != pixels.size or side < 2:
            raise ValueError(f"dataset items must be images; got vectors of {pixels.size} values")
        pixels = pixels.reshape(side, side)
    if pixels.ndim == 3 and pixels.shape[0] in (1, 3) and pixels.shape[-1] not in (1, 3):
        pixels = pixels.transpose(1, 2, 0)  # channels last
    if pixels.ndim == 2:
        pixels = pixels[..., None]
    if pixels.ndim != 3 or pixels.shape[-1] not in (1, 3):
        raise ValueError(f"dataset items must be grey or RGB images, got shape {list(np.shape(item))}")
    low, high = float(pixels.min()), float(pixels.max())
    if low < 0 or high > 1:  # not in [0, 1] (e.g. normalised): stretch to the full range
        pixels = (pixels - low) / max(high - low, 1e-12)
    return np.repeat(np.round(pixels * 255).astype(np.uint8), 3 // pixels.shape[-1], axis=-1)


__all__ = ["item_pixels"]
