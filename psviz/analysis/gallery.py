"""What retrieval returns, as data: each query's nearest neighbours per run with their classes (the rows the
retrieval gallery draws), and items' images as pixels (for the gallery and the explorer's thumbnails)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import torch

from ..evaluate import nearest_neighbours


def _check_dataset(dataset) -> None:
    if not all(hasattr(dataset, a) for a in ("load_item", "targets", "class_names", "__len__")):
        raise ValueError(f"dataset must be a psviz MetricDataset (e.g. psviz.data.load('digits', 'unseen')), "
                         f"got {type(dataset).__name__}")


def _check_embeddings(embeddings, n_items: int) -> dict[str, torch.Tensor]:
    if not isinstance(embeddings, Mapping) or not embeddings:
        raise ValueError("embeddings must be a non-empty dict of run name -> [N, d] tensor")
    checked = {}
    for name, values in embeddings.items():
        values = torch.as_tensor(values)
        if values.dim() != 2 or len(values) != n_items:
            raise ValueError(f"embeddings[{name!r}] must be [N, d] with N = len(dataset) = {n_items}, "
                             f"got shape {list(values.shape)}")
        checked[str(name)] = values
    return checked


def _check_k(k, n_items: int) -> int:
    if isinstance(k, bool) or not isinstance(k, (int, np.integer)) or not 1 <= k < n_items:
        raise ValueError(f"k must be an integer in [1, {n_items - 1}] (fewer than the {n_items} items), got {k!r}")
    return int(k)


def _query_indices(queries, n_items: int, seed: int) -> list[int]:
    """A seeded random draw of ``queries`` items, or the given indices, checked against the dataset's size."""
    if isinstance(queries, (int, np.integer)) and not isinstance(queries, bool):
        if not 1 <= queries <= n_items:
            raise ValueError(f"queries must be a count in [1, {n_items}] or a list of indices, got {queries}")
        return np.random.default_rng(seed).choice(n_items, int(queries), replace=False).tolist()
    if isinstance(queries, torch.Tensor | np.ndarray):
        queries = queries.tolist()
    if not isinstance(queries, Sequence) or isinstance(queries, str) or not queries or \
            not all(isinstance(q, (int, np.integer)) and not isinstance(q, bool) for q in queries):
        raise ValueError(f"queries must be a count or a non-empty list of item indices, got {queries!r}")
    bad = [int(q) for q in queries if not 0 <= q < n_items]
    if bad:
        raise ValueError(f"queries must be indices in [0, {n_items}), got {bad}")
    return [int(q) for q in queries]


def _rows(dataset, embeddings: dict, queries: list[int], k: int) -> list[dict]:
    """One row per (query, run): the query, its k neighbours, their classes and whether each matches."""
    targets = torch.as_tensor(dataset.targets).tolist()
    found = {name: nearest_neighbours(values, k) for name, values in embeddings.items()}
    rows = []
    for q in queries:
        for name, (sims, idx) in found.items():
            neighbours = idx[q].tolist()
            rows.append(dict(run=name, query=q, label=targets[q], neighbours=neighbours,
                             similarities=sims[q].tolist(), labels=[targets[j] for j in neighbours],
                             matches=[targets[j] == targets[q] for j in neighbours]))
    return rows


def retrieval_rows(dataset, embeddings: dict, *, queries=5, k: int = 5, seed: int = 0) -> list[dict]:
    """One row per (query, run) of `psviz.viz.retrieval_gallery`: the query, its ``k`` nearest neighbours (cosine,
    query excluded), their classes, similarities and whether each matches, after checking every argument."""
    _check_dataset(dataset)
    n_items = len(dataset)
    embeddings = _check_embeddings(embeddings, n_items)
    k = _check_k(k, n_items)
    return _rows(dataset, embeddings, _query_indices(queries, n_items, seed), k)


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


__all__ = ["item_pixels", "retrieval_rows"]
