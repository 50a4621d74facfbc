"""Fashion-MNIST, read from Debian's dataset-fashion-mnist package, a folder, or downloaded by torchvision."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import torch

from .base import SEEN, UNSEEN, TensorSplit
from .cache_location import cache_dir

DEBIAN_DIR = Path("/usr/share/datasets/fashion-mnist")
CLASS_NAMES = ["T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
               "Ankle boot"]
SEEN_CLASSES = (0, 1, 2, 3, 4)  # clothes; the unseen half is mostly footwear and bags, plus Shirt
FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
         "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}


def read_idx(path: Path) -> np.ndarray:
    """Read an IDX file (the MNIST format), gzipped or not."""
    opener = gzip.open if path.suffix == ".gz" else open
    try:
        with opener(path, "rb") as handle:
            raw = handle.read()
        magic, ndim = int.from_bytes(raw[:4], "big"), raw[3]
        if magic >> 8 != 0x08:  # 0x08 = unsigned byte data
            raise ValueError(f"not an unsigned-byte IDX file (magic {magic:#x})")
        shape = [int.from_bytes(raw[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
        return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)
    except (OSError, ValueError, EOFError) as error:
        raise ValueError(f"fashion-mnist: cannot read {path}: {error}") from error


def _find(folder: Path, stem: str) -> Path | None:
    for candidate in (folder / f"{stem}.gz", folder / stem, folder / "FashionMNIST" / "raw" / stem,
                      folder / "FashionMNIST" / "raw" / f"{stem}.gz"):
        if candidate.is_file():
            return candidate
    return None


def _folder_with_files(folders) -> Path | None:
    stems = [stem for pair in FILES.values() for stem in pair]
    for folder in folders:
        if folder is not None and all(_find(Path(folder), stem) for stem in stems):
            return Path(folder)
    return None


def _download(root: Path) -> Path:
    from torchvision.datasets import FashionMNIST

    try:
        for train in (True, False):
            FashionMNIST(str(root), train=train, download=True)
    except Exception as error:  # torchvision raises several kinds when offline
        raise ValueError(
            "fashion-mnist: no local copy found and the download failed "
            f"({type(error).__name__}: {error}). Install Debian's package (apt-get install dataset-fashion-mnist), "
            "or put the four IDX files (train/t10k images and labels, .gz or not) in a folder and pass root=FOLDER."
        ) from error
    return root


def load_fashion_mnist(split: str = SEEN, *, root=None, max_per_class: int | None = None,
                       transform=None) -> TensorSplit:
    """Seen: T-shirt/top, Trouser, Pullover, Dress, Coat; unseen: Sandal, Shirt, Sneaker, Bag, Ankle boot.

    Each split holds all 70,000 images' worth of its classes (train and test files together, 7,000 per class),
    or the first ``max_per_class`` of each class. Images are uint8 [N, 1, 28, 28], returned as floats in [0, 1].
    """
    if split not in (SEEN, UNSEEN):
        raise ValueError(f"split must be 'seen' or 'unseen', got {split!r}")
    folder = _folder_with_files([DEBIAN_DIR, root])
    if folder is None:
        folder = _download(Path(root) if root is not None else cache_dir() / "fashion-mnist")
    images = np.concatenate([read_idx(_find(folder, FILES[part][0])) for part in ("train", "test")])
    targets = np.concatenate([read_idx(_find(folder, FILES[part][1])) for part in ("train", "test")])
    if len(images) != len(targets):
        raise ValueError(f"fashion-mnist: {len(images)} images but {len(targets)} labels in {folder}")
    classes = list(SEEN_CLASSES) if split == SEEN else [c for c in range(10) if c not in SEEN_CLASSES]
    keep = np.isin(targets, classes)
    if max_per_class is not None:
        rank = np.zeros(len(targets), dtype=np.int64)
        for c in classes:
            where = np.flatnonzero(targets == c)
            rank[where] = np.arange(len(where))
        keep &= rank < max_per_class
    labels = np.searchsorted(classes, targets[keep])
    data = torch.from_numpy(images[keep].copy()).unsqueeze(1)
    return TensorSplit("fashion-mnist", split, data, torch.from_numpy(labels),
                       [CLASS_NAMES[c] for c in classes], transform)
