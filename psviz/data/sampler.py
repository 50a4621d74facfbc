"""Class-balanced batches: P classes x K images each, so every batch has positives and several classes to mix."""

from __future__ import annotations

import torch
from torch import Tensor
from torch.utils.data import Sampler

from ..base.checks import check_int


class ClassBalancedBatchSampler(Sampler[list[int]]):
    """Yields batches of ``classes_per_batch`` distinct classes with ``samples_per_class`` indices each.

    A class with fewer than K items is sampled with replacement. One epoch is ``n_batches`` batches (default:
    about one pass over the data). Batches depend only on ``seed`` and the epoch (`set_epoch`), so a resumed or
    repeated run sees the same batches.
    """

    def __init__(self, targets: Tensor, classes_per_batch: int, samples_per_class: int, *,
                 n_batches: int | None = None, seed: int = 0):
        self.targets = torch.as_tensor(targets, dtype=torch.long)
        self.classes_per_batch = check_int(classes_per_batch, "classes_per_batch")
        self.samples_per_class = check_int(samples_per_class, "samples_per_class")
        classes, counts = torch.unique(self.targets, return_counts=True)
        if self.classes_per_batch > len(classes):
            raise ValueError(f"classes_per_batch={classes_per_batch} but the data has only {len(classes)} classes")
        self.classes = classes
        order = torch.argsort(self.targets, stable=True)
        self.members = list(torch.split(order, counts.tolist()))
        batch_size = self.classes_per_batch * self.samples_per_class
        default = max(1, len(self.targets) // batch_size)
        self.n_batches = default if n_batches is None else check_int(n_batches, "n_batches")
        self.seed = seed
        self.epoch = 0

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.n_batches

    def __iter__(self):
        generator = torch.Generator().manual_seed(self.seed * 1_000_003 + self.epoch)
        k = self.samples_per_class
        for _ in range(self.n_batches):
            chosen = torch.randperm(len(self.classes), generator=generator)[: self.classes_per_batch]
            batch = []
            for c in chosen.tolist():
                members = self.members[c]
                if len(members) >= k:
                    picks = torch.randperm(len(members), generator=generator)[:k]
                else:
                    picks = torch.randint(len(members), (k,), generator=generator)
                batch.extend(members[picks].tolist())
            yield batch
