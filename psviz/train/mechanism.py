"""The mechanism measures of a trained run: boundary smoothness, confidence on new items, synthetic proximity.

One call, `mechanism_measures(run)`, gives the numbers that `psviz reproduce`, the demo and the notebooks report for a
baseline and a PS run alike (for a baseline, the synthetic points are the ones PS *would* make from its embeddings).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from .. import data as datasets
from ..data.holdout import HELDOUT
from ..evaluate.geometry import angular_gaps
from ..evaluate.proximity import synthetic_proximity
from ..evaluate.smoothness import boundary_smoothness, unseen_confidence
from .build import plain_splits
from .embedding import embed
from .export import export_embeddings, synthetic_batch
from .loop import FitResult


def synthetic_points(run: FitResult, n_points: int | None = None, *, seed: int = 0, classes=None) -> Tensor:
    """Synthetic embeddings [S, d] that PS makes (with the run's α and μ) from seeded batches of its seen items.

    Batches are drawn until there are ``n_points`` (default: as many as the run has proxies, so that neither
    proxies nor synthetic points win a nearest-point contest by their number alone); each batch draws its own λ.
    ``classes`` draws the batches from those seen classes only. The model is in eval mode, so this is what PS would
    make from the trained embedding now.
    """
    if not isinstance(run, FitResult):
        raise ValueError(f"run must be a psviz.train.FitResult, got {type(run).__name__}")
    target = run.loss.proxies.shape[0] if n_points is None else int(n_points)
    rows, made, index = [], 0, 0
    while made < max(target, 1):
        batch = synthetic_batch(run, seed=seed + index, mu=max(run.config.mu, 1.0), classes=classes)
        if batch.n_synthetic == 0:
            raise ValueError("synthetic_points: a batch made no synthetic class (mu = 0)")
        rows.append(batch.synthetic_embeddings)
        made += batch.n_synthetic
        index += 1
    return torch.cat(rows)[: max(target, 1)]


def _embedding_radius(run: FitResult) -> float:
    """Mean norm of the run's raw seen embeddings (a loss that does not normalise scores them at that length)."""
    seen = plain_splits(run.config)[datasets.SEEN][0]
    device = next(run.model.parameters()).device
    rows, _ = embed(run.model, seen, device, indices=list(range(min(len(seen), 512))))
    return float(rows.norm(dim=1).mean())


def mechanism_measures(run: FitResult, *, threshold: float = 0.9, seed: int = 0) -> dict:
    """All mechanism measures of one run, as plain floats (fractions, degrees, nats).

    ``transition_width``, ``transition_degrees``, ``zone_entropy``: `psviz.evaluate.boundary_smoothness` of the loss;
    ``unseen_confidence`` (and ``heldout_confidence`` when the run holds seen items out): the mean top probability
    over the seen classes; ``unseen_closer_to_synthetic`` (and ``heldout_closer_to_synthetic``): the share of items
    nearer a synthetic point than any proxy (`psviz.evaluate.synthetic_proximity`); ``mean_gap_deg``: the mean
    angle from each seen proxy to its nearest neighbour's.
    """
    loss = run.loss
    radius = 1.0 if loss.normalize else _embedding_radius(run)
    out = {f: v for f, v in boundary_smoothness(loss, threshold, radius=radius).items() if f != "n_pairs"}
    splits = [datasets.UNSEEN] + ([HELDOUT] if run.config.holdout_per_class else [])
    export = export_embeddings(run, splits)
    synthetic = synthetic_points(run, seed=seed)
    for split in splits:
        embeddings, _ = export.part(split)
        if not loss.normalize:
            embeddings = embeddings * radius
        out[f"{split}_confidence"] = unseen_confidence(loss, embeddings)
        out[f"{split}_closer_to_synthetic"] = synthetic_proximity(embeddings, export.proxies,
                                                                  synthetic)["share_closer_to_synthetic"]
    out["mean_gap_deg"] = float(angular_gaps(export.proxies).mean())
    return {k: (float(v) if isinstance(v, float) and math.isfinite(v) else v) for k, v in out.items()}


MEASURE_NAMES = {
    "transition_width": "transition zone, share of the path",
    "transition_degrees": "transition zone, degrees",
    "zone_entropy": "entropy in the zone, nats",
    "mean_pair_degrees": "angle between neighbouring proxies, degrees",
    "unseen_confidence": "confidence on unseen items",
    "heldout_confidence": "confidence on held-out seen items",
    "unseen_closer_to_synthetic": "unseen items nearer a synthetic point than a proxy",
    "heldout_closer_to_synthetic": "held-out seen items nearer a synthetic point than a proxy",
    "mean_gap_deg": "mean gap between seen proxies, degrees",
}

__all__ = ["MEASURE_NAMES", "mechanism_measures", "synthetic_points"]
