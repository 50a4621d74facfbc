"""scikit-learn's bundled 8x8 handwritten digits: 1,797 images, no download, trains in seconds."""

from __future__ import annotations

from typing import Sequence

import torch

from .base import SEEN, UNSEEN, TensorSplit


def load_digits(split: str = SEEN, *, seen_classes: Sequence[int] = (0, 1, 2, 3, 4), as_images: bool = False,
                transform=None) -> TensorSplit:
    """Seen = ``seen_classes`` (default 0-4), unseen = the other digits; pixels scaled to [0, 1].

    Items are 64-d vectors for an MLP, or [1, 8, 8] images with ``as_images``.
    """
    from sklearn.datasets import load_digits as sklearn_digits

    seen = sorted(set(int(c) for c in seen_classes))
    if not seen or len(seen) >= 10 or any(c < 0 or c > 9 for c in seen):
        raise ValueError(f"seen_classes must be a non-empty proper subset of 0..9, got {list(seen_classes)}")
    if split not in (SEEN, UNSEEN):
        raise ValueError(f"split must be 'seen' or 'unseen', got {split!r}")
    bunch = sklearn_digits()
    pixels = torch.as_tensor(bunch.data, dtype=torch.float32) / 16.0
    digits = torch.as_tensor(bunch.target, dtype=torch.long)
    classes = seen if split == SEEN else [c for c in range(10) if c not in seen]
    keep = torch.isin(digits, torch.tensor(classes))
    labels = torch.searchsorted(torch.tensor(classes), digits[keep])
    data = pixels[keep].reshape(-1, 1, 8, 8) if as_images else pixels[keep]
    return TensorSplit("digits", split, data, labels, [str(c) for c in classes], transform)
