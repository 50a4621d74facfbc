"""Do synthetic classes sit where unseen classes land? Compare each item's nearest proxy with its nearest synthetic
point (paper.md: synthetic classes "mimic unseen classes"; Figure 3 shows both filling the gaps between seen ones)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor

from ..base.checks import check_float_tensor

_CHUNK = 4096


def _nearest_cosine(rows: Tensor, targets: Tensor) -> Tensor:
    out = [(chunk @ targets.T).max(dim=1).values for chunk in rows.split(_CHUNK)]
    return torch.cat(out)


def synthetic_proximity(embeddings: Tensor, proxies: Tensor, synthetic: Tensor) -> dict:
    """For each embedding: its cosine to the nearest seen proxy and to the nearest synthetic point.

    ``proxies`` [C, d] or [C, K, d] (every centre counts), ``synthetic`` [S, d] (e.g. the synthetic embeddings PS makes
    from batches of the same model's seen embeddings); all rows are L2-normalised here. Returns
    ``share_closer_to_synthetic`` (the share of embeddings whose nearest synthetic point is strictly closer than
    their nearest proxy), ``mean_proxy_cosine``, ``mean_synthetic_cosine`` and ``n_items``.

    Fed unseen-class embeddings, a high share says unseen classes land in the room synthetic classes occupy rather
    than on seen proxies; the same share for held-out seen-class items is the reference it should be compared with.
    """
    check_float_tensor(embeddings, "embeddings", (2,))
    check_float_tensor(proxies, "proxies", (2, 3))
    check_float_tensor(synthetic, "synthetic", (2,))
    d = embeddings.shape[1]
    if proxies.shape[-1] != d or synthetic.shape[1] != d:
        raise ValueError(f"embeddings ({d}-D), proxies {tuple(proxies.shape)} and synthetic "
                         f"{tuple(synthetic.shape)} must share their last dimension")
    rows = F.normalize(embeddings.detach().double().cpu(), dim=-1)
    if not torch.isfinite(rows).all():
        raise ValueError("embeddings hold NaN or infinite values")
    to_proxy = _nearest_cosine(rows, F.normalize(proxies.detach().double().cpu().reshape(-1, d), dim=-1))
    to_synthetic = _nearest_cosine(rows, F.normalize(synthetic.detach().double().cpu(), dim=-1))
    return {"share_closer_to_synthetic": float((to_synthetic > to_proxy).double().mean()),
            "mean_proxy_cosine": float(to_proxy.mean()),
            "mean_synthetic_cosine": float(to_synthetic.mean()),
            "n_items": int(len(rows))}


__all__ = ["synthetic_proximity"]
