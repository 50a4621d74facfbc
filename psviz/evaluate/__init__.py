"""Evaluate embeddings as DML papers do: Recall@K, R-Precision, MAP@R (retrieval) and NMI (clustering), and measure
the mechanism Proxy Synthesis claims: boundary smoothness, confidence on unseen classes, synthetic proximity.

Metrics are fractions in [0, 1]; similarity is cosine. See :func:`retrieval_metrics` and :func:`nmi`.
"""

from .clustering import kmeans_assignments, nmi, nmi_score
from .geometry import angular_gaps, boundary_measures, nearest_proxy, region_sharing
from .knn import nearest_neighbours
from .proximity import synthetic_proximity
from .retrieval import K_PRESETS, resolve_ks, retrieval_metrics
from .smoothness import boundary_smoothness, top_probabilities, unseen_confidence

__all__ = [
    "K_PRESETS",
    "angular_gaps",
    "boundary_measures",
    "boundary_smoothness",
    "kmeans_assignments",
    "nearest_neighbours",
    "nearest_proxy",
    "nmi",
    "nmi_score",
    "region_sharing",
    "resolve_ks",
    "retrieval_metrics",
    "synthetic_proximity",
    "top_probabilities",
    "unseen_confidence",
]
