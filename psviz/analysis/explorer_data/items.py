"""What the explorer is given: the items, each run's 2-D map and K nearest neighbours, overlays and thumbnails.

Everything here is plain numpy, so the data can be tested without a browser; `psviz.viz.explore.page.payload` packs
it for the page.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from ... import data as datasets
from ...evaluate import nearest_neighbours

SPLITS = (datasets.SEEN, datasets.UNSEEN)
LAYERS = {"seen": "seen items", "unseen": "unseen items", "proxies": "proxies",
          "synthetic": "one PS batch's synthetic points and proxies"}


@dataclass
class ExplorerData:
    """The items of the maps, in one order shared by every run: ``labels`` within ``splits``, ``items`` (the index of
    each item in its split, for its image), each run's 2-D ``maps`` [N, 2] and overlays, and each run's ``neighbours``
    [N, K] (indices into the items, the nearest first) with cosine ``similarities``, searched among the items of the
    same split in the full embedding. ``sprite`` is a PNG of every item's thumbnail, ``thumb_cols`` to a row."""

    runs: list
    labels: np.ndarray
    splits: np.ndarray
    items: np.ndarray
    class_names: dict
    maps: dict
    neighbours: dict
    similarities: dict
    overlays: dict = field(default_factory=dict)
    overlay_labels: dict = field(default_factory=dict)
    sprite: bytes | None = None
    thumb_size: int = 0
    thumb_cols: int = 0
    projection: str = "UMAP"
    title: str = ""

    def __len__(self) -> int:
        return len(self.labels)

    def class_of(self, index: int) -> str:
        split = str(self.splits[index])
        names = self.class_names.get(split, [])
        label = int(self.labels[index])
        return names[label] if label < len(names) else f"class {label}"


def check_export(name: str, export) -> None:
    """One export the explorer can map: as many labels and split tags as embedding rows, finite embeddings, and only
    the seen and unseen splits (the page has no layer for others, such as held-out items)."""
    n = export.embeddings.shape[0]
    for field_name in ("labels", "splits", "items"):
        value = getattr(export, field_name)
        if value is not None and len(value) != n:
            raise ValueError(f"export {name!r}: {field_name} has {len(value)} rows but embeddings has {n}; "
                             f"they must match row for row")
    if not bool(torch.isfinite(export.embeddings).all()):
        raise ValueError(f"export {name!r}: embeddings hold NaN or infinite values; the explorer needs finite ones")
    other = sorted(set(np.asarray(export.splits).astype(str).tolist()) - set(SPLITS))
    if other:
        raise ValueError(f"export {name!r}: splits holds {other}, but the explorer shows only {list(SPLITS)} items; "
                         f"export with splits=(\"seen\", \"unseen\") or drop those rows")


def check_same_items(exports: dict) -> None:
    """The maps are linked item by item, so every export must hold the same rows in the same order."""
    first_name, first = next(iter(exports.items()))
    for name, export in exports.items():
        same = (export.embeddings.shape[0] == first.embeddings.shape[0]
                and torch.equal(export.labels, first.labels) and np.array_equal(export.splits, first.splits))
        if same and first.items is not None and export.items is not None:
            same = torch.equal(export.items, first.items)
        if not same:
            raise ValueError(f"the exports must hold the same items in the same order to be linked; {name!r} differs "
                             f"from {first_name!r} (export both with the same max_per_split and seed)")


def split_neighbours(embeddings: torch.Tensor, splits: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Each item's ``k`` nearest neighbours among the other items of its own split (cosine, the full embedding), as
    indices into all the items: retrieval is evaluated within a split, and seen label 3 is not unseen label 3."""
    n = len(splits)
    index, similarity = np.full((n, k), -1, np.int64), np.zeros((n, k), np.float32)
    for split in np.unique(splits):
        rows = np.flatnonzero(splits == split)
        if len(rows) <= k:
            raise ValueError(f"k={k} neighbours need more than {k} {split} items; the explorer has {len(rows)}")
        sims, found = nearest_neighbours(embeddings[torch.as_tensor(rows)], k)
        index[rows], similarity[rows] = rows[found], sims
    return index, similarity


__all__ = ["ExplorerData", "LAYERS", "SPLITS", "check_export", "check_same_items", "split_neighbours"]
