"""Evaluate embeddings as DML papers do: Recall@K, R-Precision, MAP@R (retrieval) and NMI (clustering).

Metrics are fractions in [0, 1]; similarity is cosine. See :func:`retrieval_metrics` and :func:`nmi`.
"""

from .clustering import kmeans_assignments, nmi, nmi_score
from .knn import nearest_neighbours
from .retrieval import K_PRESETS, resolve_ks, retrieval_metrics

__all__ = [
    "K_PRESETS",
    "kmeans_assignments",
    "nearest_neighbours",
    "nmi",
    "nmi_score",
    "resolve_ks",
    "retrieval_metrics",
]
