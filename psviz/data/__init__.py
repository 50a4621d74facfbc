"""Class-disjoint datasets: train on the seen classes, evaluate on the unseen ones.

`load(name, split, root=None, **options)` returns one split as a `MetricDataset`; `available()` lists the names and
`info(name)` says what each is and which splits it has.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from ..base.registry import Registry
from .base import SEEN, UNSEEN, ImageFileSplit, MetricDataset, TensorSplit, contiguous_labels
from .cache_location import cache_dir
from .decoded_cache import DecodedImageSplit, decoded_split
from .fake_cub import write_cub_layout
from .sampler import ClassBalancedBatchSampler


@dataclass(frozen=True)
class DatasetInfo:
    """A registry entry: where the loader lives, which splits it has, and a line on what it is."""

    name: str
    module: str
    function: str
    splits: tuple[str, ...]
    description: str
    needs_root: bool = False

    def loader(self):
        return getattr(importlib.import_module(self.module, __name__), self.function)


_STANDARD = (SEEN, UNSEEN)
DATASET_REGISTRY: Registry[DatasetInfo] = Registry("dataset", {
    info.name: info
    for info in [
        DatasetInfo("toy", ".toy", "load_toy", _STANDARD,
                    "Gaussian clusters in 2-D/3-D input space, seen and unseen classes interleaved (instant)"),
        DatasetInfo("digits", ".digits", "load_digits", _STANDARD,
                    "scikit-learn's bundled 8x8 handwritten digits; seen 0-4, unseen 5-9 (no download)"),
        DatasetInfo("fashion-mnist", ".fashion_mnist", "load_fashion_mnist", _STANDARD,
                    "Fashion-MNIST 28x28; seen: T-shirt/top, Trouser, Pullover, Dress, Coat; unseen: Sandal, Shirt, "
                    "Sneaker, Bag, Ankle boot"),
        DatasetInfo("glyphs", ".glyphs", "load_glyphs", _STANDARD,
                    "many-class 32x32 glyphs rendered offline from matplotlib's fonts, one class per character; "
                    "built once and cached (the embedded default)"),
        DatasetInfo("cub200", ".benchmarks", "load_cub200", _STANDARD,
                    "CUB-200-2011 from root (classes 1-100 seen, 101-200 unseen)", needs_root=True),
        DatasetInfo("cars196", ".benchmarks", "load_cars196", _STANDARD,
                    "CARS196 from root (classes 1-98 seen, 99-196 unseen)", needs_root=True),
        DatasetInfo("sop", ".benchmarks", "load_sop", _STANDARD,
                    "Stanford Online Products from root (Ebay_train.txt seen, Ebay_test.txt unseen)", needs_root=True),
        DatasetInfo("inshop", ".benchmarks", "load_inshop", (SEEN, "query", "gallery"),
                    "In-Shop Clothes from root (train seen; unseen as query and gallery)", needs_root=True),
        DatasetInfo("folder", ".benchmarks", "load_folder", _STANDARD,
                    "a class-per-folder layout under root/seen and root/unseen", needs_root=True),
    ]
})


def available() -> list[str]:
    """The dataset names `load` accepts (case, '-', '_' and spaces are ignored when matching)."""
    return DATASET_REGISTRY.available()


def info(name: str) -> DatasetInfo:
    """The registry entry for ``name``; an unknown name raises ValueError listing the valid ones."""
    return DATASET_REGISTRY.get(name)


def load(name: str, split: str = SEEN, root=None, **options) -> MetricDataset:
    """One split of dataset ``name``; ``root`` is where a benchmark's files are (see `info(name).description`)."""
    entry = info(name)
    if split not in entry.splits:
        raise ValueError(f"dataset {entry.name!r} has no split {split!r}; choose one of: {', '.join(entry.splits)}")
    if entry.needs_root and root is None:
        raise ValueError(f"dataset {entry.name!r} needs root=, the folder holding its files ({entry.description})")
    if root is not None:
        options["root"] = root
    return entry.loader()(split, **options)


__all__ = ["DATASET_REGISTRY", "DatasetInfo", "available", "info", "load", "MetricDataset", "TensorSplit",
           "ImageFileSplit", "ClassBalancedBatchSampler", "contiguous_labels", "cache_dir", "SEEN", "UNSEEN",
           "DecodedImageSplit", "decoded_split", "write_cub_layout"]
