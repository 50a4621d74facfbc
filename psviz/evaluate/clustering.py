"""Clustering quality: NMI between the classes and a seeded k-means (faiss) on the L2-normalised embeddings."""

from __future__ import annotations

from numbers import Integral

import faiss
import numpy as np
from sklearn.cluster import kmeans_plusplus
from sklearn.metrics import normalized_mutual_info_score

from ..base.checks import check_int
from ._inputs import as_labels, unit_rows_numpy

__all__ = ["kmeans_assignments", "nmi", "nmi_score"]

INITS = ("k-means++", "random")
MAX_SEED = 2**31 - 1  # faiss's k-means takes its seed as a C int


def kmeans_assignments(embeddings, n_clusters: int, *, seed: int = 0, niter: int = 20,
                       init: str = "k-means++") -> np.ndarray:
    """Cluster index of each row after faiss k-means on the L2-normalised embeddings (deterministic for a seed).

    ``init="k-means++"`` seeds the centres with scikit-learn's greedy k-means++, so that well-separated clusters are
    found reliably (a few passes over the data per cluster); ``"random"`` is faiss's own draw of ``n_clusters`` points, as in most published
    DML evaluation code, cheaper but liable to merge two clusters and split another.
    """
    return _assign(unit_rows_numpy(embeddings, "embeddings"), n_clusters, seed, niter, init)


def _assign(x: np.ndarray, n_clusters: int, seed: int, niter: int, init: str) -> np.ndarray:
    n_clusters = check_int(n_clusters, "n_clusters")
    if n_clusters > x.shape[0]:
        raise ValueError(f"n_clusters must be at most the number of embeddings ({x.shape[0]}), got {n_clusters}")
    seed, niter = _check_seed(seed), check_int(niter, "niter")
    if init not in INITS:
        raise ValueError(f"init must be one of {INITS}, got {init!r}")
    # min/max points per centroid: no warning for few points a class, and no subsampling of the data.
    kmeans = faiss.Kmeans(x.shape[1], n_clusters, niter=niter, seed=seed, verbose=False,
                          min_points_per_centroid=1, max_points_per_centroid=x.shape[0])
    start = kmeans_plusplus(x, n_clusters, random_state=seed)[0] if init == "k-means++" else None
    kmeans.train(x, init_centroids=start)
    return kmeans.index.search(x, 1)[1][:, 0]


def _check_seed(seed) -> int:
    """``seed`` as an int in faiss's range (a C int, which scikit-learn's k-means++ also takes)."""
    if isinstance(seed, (bool, np.bool_)) or not isinstance(seed, Integral) or not 0 <= seed <= MAX_SEED:
        raise ValueError(f"seed must be an integer from 0 to {MAX_SEED} (2**31 - 1, the range of faiss's k-means), "
                         f"got {seed!r}")
    return int(seed)


def nmi_score(labels_true, labels_pred) -> float:
    """Normalised mutual information with arithmetic-mean normalisation (scikit-learn's, on a sparse contingency
    table, so 10^4 classes cost no 10^8-cell matrix), after checking the labels."""
    t = as_labels(labels_true, None, "labels_true")
    p = as_labels(labels_pred, t.shape[0], "labels_pred")
    if t.shape[0] == 0:
        raise ValueError("labels_true must not be empty")
    return float(normalized_mutual_info_score(t, p))


def nmi(embeddings, labels, *, seed: int = 0, niter: int = 20, init: str = "k-means++") -> float:
    """NMI between ``labels`` and k-means with one cluster per class on the L2-normalised embeddings, in [0, 1]."""
    x = unit_rows_numpy(embeddings, "embeddings")
    y = as_labels(labels, x.shape[0], "labels")
    n_classes = np.unique(y).shape[0]
    if n_classes < 2:
        raise ValueError("labels must hold at least two classes")
    return nmi_score(y, _assign(x, n_classes, seed, niter, init))
