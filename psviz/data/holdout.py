"""Held-out items of the seen classes: a few images per training class that the model never trains on.

They measure how well the embedding does on *new images of the classes it trained on*, so the seen-minus-unseen
gap compares like with like (new images either way; only the classes differ) and tracks overfitting to the seen
classes, not memorisation of the training images.
"""

from __future__ import annotations

import torch
from torch import Tensor

from ..base.checks import check_int

HELDOUT = "heldout"  # the split name of held-out seen-class items (history keys "heldout/map@r", ...)


def rank_within_class(targets: Tensor, seed: int = 0) -> Tensor:
    """A seeded random rank 0, 1, ... of every item among the items of its class (vectorised)."""
    targets = torch.as_tensor(targets, dtype=torch.long)
    key = torch.rand(len(targets), generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    order = torch.argsort(targets.double() * 2 + key, stable=True)  # by class, then by the random key
    ordered = targets[order]
    start = torch.searchsorted(ordered, ordered, side="left")
    rank = torch.empty_like(targets)
    rank[order] = torch.arange(len(targets)) - start
    return rank


def holdout_indices(targets: Tensor, per_class: int, *, train_limit: int | None = None,
                    seed: int = 0) -> tuple[Tensor, Tensor]:
    """(training indices, held-out indices): ``per_class`` random items of each class are held out.

    A class keeps at least one training item (a held-out query needs one to retrieve), so a class of n items holds
    out at most n - 1. ``train_limit`` keeps at most that many training items per class. The choice depends on
    ``seed`` only, never on the training seed, so every run of a comparison holds out the same items.
    """
    targets = torch.as_tensor(targets, dtype=torch.long)
    if per_class != 0:
        check_int(per_class, "holdout_per_class")
    if train_limit is not None:
        check_int(train_limit, "train_per_class")
    rank = rank_within_class(targets, seed)
    sizes = torch.bincount(targets)[targets]
    held = rank < torch.clamp(sizes - 1, max=per_class)
    train = ~held
    if train_limit is not None:
        train &= (rank - torch.clamp(sizes - 1, max=per_class)) < train_limit
    return torch.nonzero(train).flatten(), torch.nonzero(held).flatten()


def class_subset(targets: Tensor, n_classes: int, seed: int = 0) -> Tensor:
    """Indices of the items of a seeded random choice of ``n_classes`` classes (all of them when there are fewer)."""
    targets = torch.as_tensor(targets, dtype=torch.long)
    check_int(n_classes, "train_classes")
    classes = torch.unique(targets)
    if n_classes < len(classes):
        order = torch.randperm(len(classes), generator=torch.Generator().manual_seed(seed))
        classes = classes[order[:n_classes]].sort().values
    return torch.nonzero(torch.isin(targets, classes)).flatten()


__all__ = ["HELDOUT", "class_subset", "holdout_indices", "rank_within_class"]
