"""Evaluation during and after training: Recall@K, R-Precision and MAP@R of each evaluation split."""

from __future__ import annotations

import warnings
from typing import Iterable

import torch
from torch import nn

from ..evaluate import retrieval_metrics
from .embedding import embed_all


def retrievable_items(queries, gallery) -> int:
    """How many items one query of an evaluation split can retrieve: the gallery, or the other queries."""
    return len(gallery) if gallery is not None else len(queries) - 1


def evaluate(model: nn.Module, eval_sets: dict, ks: Iterable[int], device: torch.device, *,
             num_workers: int = 0, autocast=None, context=None, progress: bool = False) -> dict:
    """Recall@K, R-Precision and MAP@R per evaluation split, keys like "unseen/map@r".

    ``eval_sets`` maps a split name to (queries, gallery or None). Under torchrun (``context``) every rank embeds
    its share and rank 0 alone computes and holds the metrics. A K larger than a split's retrievable items is left
    out of that split, with a warning that says so.
    """
    ks, results = list(ks), {}
    for split, (queries, gallery) in eval_sets.items():
        embedded = [embed_all(model, part, device, context=context, num_workers=num_workers, autocast=autocast)
                    for part in ([queries] if gallery is None else [queries, gallery])]
        if context is not None and not context.is_main:
            continue
        n_items = len(embedded[-1][0]) - (gallery is None)
        valid_ks = [k for k in ks if k <= n_items]
        if len(valid_ks) < len(ks):
            skipped = ", ".join(f"Recall@{k}" for k in ks if k > n_items)
            warnings.warn(f"{split}: {skipped} left out: a query can retrieve only {n_items} items", stacklevel=2)
        kwargs = {} if gallery is None else {"gallery": embedded[1][0], "gallery_labels": embedded[1][1]}
        metrics = retrieval_metrics(*embedded[0], valid_ks or [1], progress=progress, **kwargs)
        results.update({f"{split}/{key}": value for key, value in metrics.items()})
    return results


__all__ = ["evaluate", "retrievable_items"]
