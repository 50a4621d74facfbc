"""Which items each training step sees: one epoch's batches as a pure function of (seed, epoch, rank), and loading them."""

from __future__ import annotations

import ast
import contextlib
from dataclasses import dataclass

import torch

from .. import data as datasets
from .config import TrainConfig


@dataclass
class Batches:
    """One epoch's batches of indices, a pure function of (seed, epoch, rank), so a resumed run sees the same."""

    config: TrainConfig
    targets: torch.Tensor
    rank: int = 0
    world: int = 1

    def epoch(self, epoch: int) -> list[list[int]]:
        c = self.config
        if c.sampler == "balanced":
            sampler = datasets.ClassBalancedBatchSampler(
                self.targets, c.batch_size // c.samples_per_class, c.samples_per_class,
                n_batches=max(1, len(self.targets) // (c.batch_size * self.world)), seed=c.seed * 7919 + self.rank)
            sampler.set_epoch(epoch)
            return list(sampler)
        generator = torch.Generator().manual_seed(epoch_seed(c.seed, epoch))
        order = torch.randperm(len(self.targets), generator=generator)
        n = len(order) // c.batch_size  # drop the ragged last batch: BatchNorm and pairing want full batches
        if n == 0:
            raise ValueError(f"batch_size={c.batch_size} exceeds the {len(order)} training items")
        batches = mix_single_class_batches(order[: n * c.batch_size].view(n, c.batch_size),
                                           order[n * c.batch_size:], self.targets).tolist()
        per_rank = len(batches) // self.world  # every rank takes the same number of steps (DDP runs in lockstep)
        if per_rank == 0:
            raise ValueError(f"{len(batches)} batches cannot be shared by {self.world} processes; lower batch_size")
        return batches[self.rank::self.world][:per_rank]


def mix_single_class_batches(batches: torch.Tensor, spare: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``batches`` [n, B] of item indices, with every batch that holds one class given an item of another class.

    A random batch can hold a single class by chance (likely with small batches or few classes), and Proxy
    Synthesis cannot pair such a batch. Its last item is swapped with the first unused (``spare``) item of another
    class, else with an item of another batch that keeps two classes without it. Deterministic, and a no-op for
    batches that already mix classes, so runs without such a batch are unchanged.
    """
    labels = targets[batches]
    single = torch.nonzero((labels == labels[:, :1]).all(dim=1)).flatten().tolist()
    if not single or batches.shape[1] < 2 or torch.unique(targets).numel() < 2:
        return batches
    batches, spare = batches.clone(), spare.clone()
    for row in single:
        label = targets[batches[row, 0]]
        if (targets[batches[row]] != label).any():  # it gave an item to an earlier batch and mixes classes now
            continue
        others = torch.nonzero(targets[spare] != label).flatten()
        if others.numel():
            at = int(others[0])
            batches[row, -1], spare[at] = spare[at].clone(), batches[row, -1].clone()
            continue
        other, at = _donor(batches, row, label, targets)
        batches[row, -1], batches[other, at] = batches[other, at].clone(), batches[row, -1].clone()
    return batches


def _donor(batches: torch.Tensor, row: int, label, targets: torch.Tensor) -> tuple[int, int]:
    """(batch, position) of the first item of another class than ``label`` whose batch still holds another class
    than ``label`` when that item is swapped for one of class ``label``."""
    n = batches.shape[0]
    for step in range(1, n):
        other = (row + step) % n
        differs = (targets[batches[other]] != label).tolist()
        if sum(differs) > 1:  # once one is given away, another item of a class other than label stays
            return other, differs.index(True)
    raise RuntimeError("no batch can give an item of another class (the training data holds a single class)")


def epoch_seed(seed: int, epoch: int, rank: int = 0) -> int:
    """The seed of one epoch's batches and random stream on one rank, so a resumed run draws the same."""
    return (seed * 1_000_003 + epoch * 7_919 + rank * 104_729) % (2**63 - 1)


def collate(dataset, indices: list[int]):
    """One batch: the items at ``indices`` stacked (a transform-free tensor split is sliced in one go)."""
    if isinstance(dataset, datasets.TensorSplit) and dataset.transform is None:
        x, y = dataset.tensors_at(indices)
        return x, y
    items = [dataset[i] for i in indices]
    return torch.stack([x for x, _ in items]), torch.tensor([y for _, y in items])


def loader(dataset, batches: list[list[int]], num_workers: int):
    """The batches' (inputs, labels), in this process or in ``num_workers`` DataLoader workers."""
    if num_workers == 0:
        return (collate(dataset, b) for b in batches)
    return _own_errors(torch.utils.data.DataLoader(dataset, batch_sampler=batches, num_workers=num_workers,
                                                   persistent_workers=False))


def _own_errors(batches):
    """``batches``, with an error raised in a DataLoader worker as the worker raised it: torch re-raises it here
    with the worker's whole traceback as its message, which a one-line report would carry whole."""
    try:
        yield from batches
    except Exception as error:
        message = _worker_message(str(error))
        if message is None:
            raise
        if isinstance(error, KeyError):  # a KeyError prints the repr of its key
            with contextlib.suppress(ValueError, SyntaxError):
                message = ast.literal_eval(message)
        try:
            original = type(error)(message)
        except Exception:  # an exception type that takes other arguments: torch's message as it is
            raise error from None
        raise original from error


def _worker_message(text: str) -> str | None:
    """The original message inside torch's "Caught X in DataLoader worker process N. Original Traceback ..." (the
    lines after the traceback's last frame, less the exception's type); None for any other text."""
    lines = text.splitlines()
    frames = [i for i, line in enumerate(lines) if line.startswith("  File ")]
    if not text.startswith("Caught ") or "Original Traceback" not in text or not frames:
        return None
    tail = lines[frames[-1] + 1:]
    while tail and tail[0].startswith(" "):  # the frame's source line and its carets
        tail.pop(0)
    if not tail:
        return None
    _, sep, first = tail[0].partition(": ")
    return "\n".join([first if sep else "", *tail[1:]]).strip() or None


__all__ = ["Batches", "collate", "epoch_seed", "loader", "mix_single_class_batches"]
