"""Every item's image as one PNG sprite sheet: the page shows a thumbnail by offsetting into it (one image, one
decode), which keeps 35,000 thumbnails to a few MB and makes a grid of a thousand of them quick to fill."""

from __future__ import annotations

import io

import numpy as np
import torch
from tqdm.auto import tqdm

from ..gallery import item_pixels

MAX_SIDE = 16384  # browsers decode images up to about this many pixels a side


def split_pixels(dataset, indices: np.ndarray, size: int) -> np.ndarray:
    """The items ``indices`` of a psviz dataset as uint8 thumbnails [n, size, size, 3].

    Images held in memory as uint8 (glyphs, digits, Fashion-MNIST) are taken in one slice; others (image folders)
    are opened one by one with a progress bar."""
    stored = getattr(dataset, "data", None)
    if isinstance(stored, torch.Tensor) and stored.dtype == torch.uint8 and stored.dim() == 4:
        pixels = stored[torch.as_tensor(indices, dtype=torch.long)].permute(0, 2, 3, 1).numpy()
        if pixels.shape[-1] == 1:
            pixels = np.repeat(pixels, 3, axis=-1)
        return np.stack([fit(p, size) for p in pixels]) if pixels.shape[1:3] != (size, size) else pixels
    shown = tqdm(indices, desc=f"thumbnails ({dataset.split})", leave=False, disable=len(indices) < 5000)
    return np.stack([fit(item_pixels(dataset.load_item(int(i))), size) for i in shown])


def fit(pixels: np.ndarray, size: int) -> np.ndarray:
    """An [H, W, 3] uint8 image scaled (aspect kept) and centred on a white size x size square."""
    from PIL import Image

    height, width = pixels.shape[:2]
    if (height, width) == (size, size):
        return pixels
    scale = size / max(height, width)
    image = Image.fromarray(pixels).resize((max(1, round(width * scale)), max(1, round(height * scale))),
                                           Image.Resampling.BILINEAR)
    square = np.full((size, size, 3), 255, np.uint8)
    top, left = (size - image.height) // 2, (size - image.width) // 2
    square[top:top + image.height, left:left + image.width] = np.asarray(image)
    return square


def sprite_sheet(thumbnails: np.ndarray) -> tuple[bytes, int]:
    """[n, s, s, 3] uint8 thumbnails as one PNG (grey when every image is grey), row-major, and its column count."""
    from PIL import Image

    n, size = len(thumbnails), thumbnails.shape[1]
    cols = max(1, int(np.ceil(np.sqrt(n))))
    rows = int(np.ceil(n / cols))
    if max(cols, rows) * size > MAX_SIDE:
        raise ValueError(f"{n} thumbnails of {size} px do not fit one {MAX_SIDE}-px sprite sheet; pass a smaller "
                         f"thumb_size or fewer items (max_classes)")
    grey = bool(np.all(thumbnails[..., :1] == thumbnails))
    sheet = np.full((rows * size, cols * size, 3), 255, np.uint8)
    padded = np.full((rows * cols, size, size, 3), 255, np.uint8)
    padded[:n] = thumbnails
    sheet[:] = padded.reshape(rows, cols, size, size, 3).transpose(0, 2, 1, 3, 4).reshape(rows * size, cols * size, 3)
    buffer = io.BytesIO()
    Image.fromarray(sheet[..., 0] if grey else sheet).save(buffer, "PNG", compress_level=6)
    return buffer.getvalue(), cols


__all__ = ["fit", "sprite_sheet", "split_pixels"]
