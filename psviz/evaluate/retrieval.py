"""Retrieval metrics of deep metric learning: Recall@K, R-Precision and MAP@R over cosine similarity.

Recall@K is the metric-learning one (a query scores 1 when any of its K nearest shares its class); R-Precision and
MAP@R follow Musgrave, Belongie, Lim, "A Metric Learning Reality Check" (ECCV 2020). All are fractions in [0, 1].
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from ..base.checks import check_int
from ._inputs import as_labels, is_cuda
from .knn import iter_neighbours, prepare, resolve_backend

__all__ = ["K_PRESETS", "resolve_ks", "retrieval_metrics"]

# The Recall@K lists reported for each benchmark in the DML literature.
K_PRESETS: dict[str, tuple[int, ...]] = {
    "cub200": (1, 2, 4, 8),
    "cars196": (1, 2, 4, 8),
    "sop": (1, 10, 100, 1000),
    "inshop": (1, 10, 20, 30, 40, 50),
}


def resolve_ks(ks) -> tuple[int, ...]:
    """The sorted, distinct K values of ``ks``: a preset name from :data:`K_PRESETS`, an int, or ints."""
    if isinstance(ks, str):
        if ks not in K_PRESETS:
            raise ValueError(f"ks must be one of the presets {sorted(K_PRESETS)} or a list of ints, got {ks!r}")
        return K_PRESETS[ks]
    values = [ks] if not isinstance(ks, Iterable) else list(ks)
    if not values:
        raise ValueError("ks must not be empty")
    return tuple(sorted({check_int(k, "every K in ks") for k in values}))


# Columns whose relevance is always computed; rows with no same-class item among them look further.
_HEAD = 32


def _chunk_scores(idx: np.ndarray, query_codes: np.ndarray, gallery_codes: np.ndarray, r: np.ndarray,
                  ks: tuple[int, ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per-K hit counts, and each query's R-Precision and MAP@R, for one chunk of queries."""
    r_max = int(r.max())
    head = min(idx.shape[1], max(r_max, _HEAD))
    relevant = gallery_codes[idx[:, :head]] == query_codes[:, None]
    # Position of the first same-class neighbour (the row length when there is none) decides every Recall@K.
    first = np.where(relevant.any(axis=1), relevant.argmax(axis=1), idx.shape[1])
    late = np.flatnonzero(first == idx.shape[1])
    if late.size and head < idx.shape[1]:
        tail = gallery_codes[idx[late, head:]] == query_codes[late, None]
        first[late] = np.where(tail.any(axis=1), head + tail.argmax(axis=1), idx.shape[1])
    hits = np.array([np.count_nonzero(first < k) for k in ks])
    rel = relevant[:, :r_max] & (np.arange(r_max) < r[:, None])
    found = np.cumsum(rel, axis=1, dtype=np.int64)
    precision_at_hits = np.where(rel, found / np.arange(1, r_max + 1), 0.0)
    return hits, found[:, -1] / r, precision_at_hits.sum(axis=1) / r


def _prepared(embeddings, labels, gallery, gallery_labels, backend: str) -> tuple:
    """(queries, query labels, items, item labels): checked, L2-normalised rows for the backend and label arrays;
    without a gallery the queries are the items."""
    backend = resolve_backend(backend, embeddings, gallery)
    device = next((a.device for a in (embeddings, gallery) if is_cuda(a)), None)
    queries = prepare(embeddings, "embeddings", backend, device)
    query_labels = as_labels(labels, queries.shape[0], "labels")
    if gallery is None:
        return queries, query_labels, queries, query_labels
    items = prepare(gallery, "gallery", backend, queries.device if backend == "torch" else None)
    if items.shape[1] != queries.shape[1]:
        raise ValueError(f"gallery must have the embeddings' dimension {queries.shape[1]}, got {items.shape[1]}")
    return queries, query_labels, items, as_labels(gallery_labels, items.shape[0], "gallery_labels")


def retrieval_metrics(embeddings, labels, ks=(1, 2, 4, 8), *, gallery=None, gallery_labels=None,
                      chunk_size: int | None = None, backend: str = "auto", progress: bool = False) -> dict:
    """Recall@K, R-Precision and MAP@R of cosine retrieval, as fractions in [0, 1].

    Without ``gallery`` every item queries all the others (never itself) and R is the number of other items of
    its class. With ``gallery``/``gallery_labels`` (In-Shop's protocol) queries search the gallery only and R is the
    number of gallery items of the query's class. Queries with R = 0 count in ``n_skipped`` and in no metric.
    Neighbours with equal similarity are ranked lowest index first (see :mod:`psviz.evaluate.knn`).

    ``ks``: a preset name from :data:`K_PRESETS` or ints. ``chunk_size`` caps the queries searched at once (memory
    is bounded either way; results do not depend on it). ``backend``: ``"auto"`` (torch on CUDA tensors, faiss
    otherwise), ``"faiss"`` or ``"torch"``. ``progress`` (off by default, as suits a library call; the CLI and the
    trainer turn it on) shows a bar over queries, moved once per chunk, once a search has run for 2 s.

    Returns ``{"recall@K": ..., "r_precision": ..., "map@r": ..., "n_queries": int, "n_skipped": int}``.
    """
    ks = resolve_ks(ks)
    if (gallery is None) != (gallery_labels is None):
        raise ValueError("gallery and gallery_labels must be given together")
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size")
    queries, query_labels, items, item_labels = _prepared(embeddings, labels, gallery, gallery_labels, backend)

    classes, codes = np.unique(np.concatenate([query_labels, item_labels]), return_inverse=True)
    query_codes, item_codes = codes[: query_labels.shape[0]], codes[query_labels.shape[0]:]
    class_sizes = np.bincount(item_codes, minlength=classes.shape[0])
    if np.count_nonzero(class_sizes) < 2:
        raise ValueError(f"{'gallery_labels' if gallery is not None else 'labels'} must hold at least two classes")
    self_match = gallery is None
    n_items = items.shape[0] - self_match
    if ks[-1] > n_items:
        what = "the gallery size" if gallery is not None else "the number of other items (N - 1)"
        raise ValueError(f"every K in ks must be at most {what}, {n_items}; got K = {ks[-1]}")

    r = class_sizes[query_codes] - self_match
    active = np.flatnonzero(r > 0)
    if active.size == 0:
        raise ValueError("no query has another item of its class to retrieve: every query would be skipped")

    hits = np.zeros(len(ks), np.int64)
    # Per-query scores summed at the end in query order: the result does not depend on the chunking.
    r_precision, average_precision = np.zeros(r.shape[0]), np.zeros(r.shape[0])
    for ids, _, idx in iter_neighbours(queries, items, np.maximum(r[active], ks[-1]), active,
                                       exclude_self=self_match, chunk_size=chunk_size, progress=progress):
        h, r_precision[ids], average_precision[ids] = _chunk_scores(idx, query_codes[ids], item_codes, r[ids], ks)
        hits += h

    n = int(active.size)
    metrics = {f"recall@{k}": float(h / n) for k, h in zip(ks, hits)}
    metrics["r_precision"] = float(r_precision[active].sum() / n)
    metrics["map@r"] = float(average_precision[active].sum() / n)
    metrics["n_queries"] = n
    metrics["n_skipped"] = int(queries.shape[0] - n)
    return metrics
