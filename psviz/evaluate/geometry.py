"""Measures behind the decision-boundary pictures: how far apart the proxies sit, and whether unseen classes
have to share a proxy's region (the gaps Proxy Synthesis is meant to leave for them)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..base.checks import check_float_tensor


def _class_centres(proxies: Tensor) -> Tensor:
    """[C, d] or [C, K, d] proxies as unit rows, [C, K, d] (K = 1 for one proxy per class)."""
    check_float_tensor(proxies, "proxies", (2, 3))
    proxies = proxies.detach().float()
    if proxies.dim() == 2:
        proxies = proxies[:, None, :]
    return F.normalize(proxies, dim=-1)


def angular_gaps(proxies: Tensor) -> Tensor:
    """Degrees from each class's proxy (its nearest centre, for K per class) to the nearest proxy of another class.

    Half a gap is the angular margin a point on the line between the two proxies has to either; the mean over
    classes says how much room the embedding leaves between seen classes.
    """
    centres = _class_centres(proxies)
    n_classes, k, d = centres.shape
    if n_classes < 2:
        raise ValueError(f"proxies: angular gaps need at least two classes, got {n_classes}")
    flat = centres.reshape(-1, d)
    cos = (flat @ flat.T).clamp(-1.0, 1.0)
    owner = torch.arange(n_classes).repeat_interleave(k)
    cos[owner[:, None] == owner[None, :]] = -2.0  # exclude a class's own centres
    nearest = cos.max(dim=1).values.view(n_classes, k).max(dim=1).values
    return torch.rad2deg(torch.arccos(nearest))


def nearest_proxy(embeddings: Tensor, proxies: Tensor) -> Tensor:
    """The class whose proxy (best centre) is most cosine-similar to each embedding: the region it falls in."""
    check_float_tensor(embeddings, "embeddings", (2,))
    centres = _class_centres(proxies)
    if embeddings.shape[1] != centres.shape[2]:
        raise ValueError(f"embeddings must have the proxies' dimension {centres.shape[2]}, "
                         f"got shape {tuple(embeddings.shape)}")
    cos = torch.einsum("nd,ckd->nck", F.normalize(embeddings.detach().float(), dim=-1), centres)
    return cos.max(dim=2).values.argmax(dim=1)


def region_sharing(regions: Tensor, labels: Tensor) -> float:
    """Share of points whose region is also the main region of another class (regions: one id per point).

    A class's main region is where most of its points fall. For unseen classes in a seen-class partition, a high
    share means unseen classes pile into the same proxy's region and retrieval cannot separate them.
    """
    regions = torch.as_tensor(regions).long().reshape(-1)
    labels = torch.as_tensor(labels).long().reshape(-1)
    if labels.shape != regions.shape:
        raise ValueError(f"labels must have one entry per region id ({len(regions)}), got shape {tuple(labels.shape)}")
    if len(regions) == 0:
        raise ValueError("regions must not be empty")
    classes = labels.unique()
    main = torch.stack([regions[labels == c].mode().values for c in classes])
    main_of = dict(zip(classes.tolist(), main.tolist()))
    shared = torch.zeros(len(regions), dtype=torch.bool)
    for c in classes.tolist():
        others = {main_of[o] for o in classes.tolist() if o != c}
        mask = labels == c
        shared[mask] = torch.isin(regions[mask], torch.tensor(sorted(others), dtype=torch.long))
    return float(shared.float().mean())


def boundary_measures(proxies: Tensor, unseen_embeddings: Tensor, unseen_labels: Tensor,
                      regions: Tensor | None = None) -> dict:
    """Mean and smallest angular gap between seen proxies (degrees), and the unseen points' region sharing.

    ``regions`` (the winning seen class of each unseen point) defaults to the nearest proxy; pass
    ``loss.logits(embeddings).argmax(1)`` to use a loss's own scores (the plain Softmax's are not cosines).
    """
    gaps = angular_gaps(proxies)
    if regions is None:
        regions = nearest_proxy(unseen_embeddings, proxies)
    return {"mean_gap_deg": float(gaps.mean()), "min_gap_deg": float(gaps.min()),
            "unseen_sharing": region_sharing(regions, unseen_labels)}


__all__ = ["angular_gaps", "boundary_measures", "nearest_proxy", "region_sharing"]
