"""Each run's 2-D map of the items (UMAP, PCA or t-SNE) with its overlays, turned onto the first run's map so that
the same item sits in about the same place in every panel."""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from ... import data as datasets
from ...method.synthesis import SynthesisResult
from ...train.export import EmbeddingExport
from .space import Space
from .umap import UMAP_CACHE, UMAPProjection, umap_project

PROJECTIONS = ("umap", "pca", "tsne")
LABELS = {"umap": "UMAP", "pca": "PCA", "tsne": "t-SNE"}


def seen_classes(export: EmbeddingExport) -> np.ndarray:
    """The seen classes among the items: only their proxies are drawn (a draw of classes leaves the others out)."""
    seen = np.asarray(export.splits).astype(str) == datasets.SEEN
    return np.unique(export.labels.numpy()[seen])


def overlay_rows(export: EmbeddingExport, layers, synthetic: SynthesisResult | None) -> dict:
    """The rows drawn over the items, L2-normalised: the proxies of the items' seen classes and, for a PS run, one
    batch's synthetic embeddings and proxies."""
    rows = {}
    if "proxies" in layers:
        proxies = export.proxies[torch.as_tensor(seen_classes(export))]
        rows["proxies"] = proxies.reshape(-1, proxies.shape[-1])
    if synthetic is not None and "synthetic" in layers:
        rows["synthetic"] = synthetic.synthetic_embeddings
        rows["synthetic_proxies"] = synthetic.synthetic_proxies.reshape(-1, synthetic.synthetic_proxies.shape[-1])
    return {k: F.normalize(v.detach().float().cpu(), dim=-1) for k, v in rows.items()}


def proxy_labels(export: EmbeddingExport) -> np.ndarray:
    k = export.proxies.shape[1] if export.proxies.dim() == 3 else 1
    return np.repeat(seen_classes(export), k)


def project(export: EmbeddingExport, projection: str, layers, synthetic: SynthesisResult | None, seed: int,
            cache=UMAP_CACHE) -> UMAPProjection:
    """One run's map: UMAP fitted on the seen items (unseen items and overlays placed by the fitted map, as a new
    class would be), PCA of the items, or t-SNE of items and overlays together (t-SNE cannot place new points)."""
    if projection not in PROJECTIONS:
        raise ValueError(f"projection must be one of {', '.join(PROJECTIONS)}, got {projection!r}")
    extras = overlay_rows(export, layers, synthetic)
    labels = {"proxies": proxy_labels(export)} if "proxies" in extras else {}
    if projection == "umap":
        overlay = ("proxies",) if "proxies" in layers else ()
        found = umap_project(export, overlay=overlay, synthetic=synthetic if "synthetic" in extras else None,
                             proxy_classes=seen_classes(export).tolist(), seed=seed, cache=cache)
        return UMAPProjection(found.points, found.labels, found.splits, found.class_names,
                              {k: v for k, v in found.extras.items() if k in extras}, labels, found.fit_on)
    rows = export.embeddings.detach().float().cpu()
    stacked = torch.cat([rows, *extras.values()]).numpy()
    if projection == "pca":
        placed = Space("pca", rows.shape[1], reference=rows)(torch.from_numpy(stacked))
    else:
        placed = tsne(stacked, seed)
    points, start, placed_extras = placed[:len(rows)], len(rows), {}
    for key, values in extras.items():
        placed_extras[key] = placed[start:start + len(values)]
        start += len(values)
    return UMAPProjection(points, export.labels.numpy(), np.asarray(export.splits).astype(str),
                         dict(export.class_names), placed_extras, labels, "both")


def tsne(rows: np.ndarray, seed: int) -> np.ndarray:
    from sklearn.manifold import TSNE

    perplexity = float(min(30, max(2, (len(rows) - 1) // 3)))
    return TSNE(2, perplexity=perplexity, init="pca", random_state=seed).fit_transform(rows).astype(np.float32)


__all__ = ["LABELS", "PROJECTIONS", "project", "seen_classes"]
