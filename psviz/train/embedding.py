"""Embeddings of a dataset from a model in eval mode: in this process, or shared among torchrun's processes."""

from __future__ import annotations

import contextlib

import torch
import torch.distributed as torch_dist
from torch import nn

from .batches import loader


@torch.no_grad()
def embed(model: nn.Module, dataset, device: torch.device, *, batch_size: int = 512, num_workers: int = 0,
          autocast=None, indices: list[int] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Embeddings (float32, on CPU) and labels of ``dataset`` (or of ``indices`` of it), model in eval mode."""
    was_training = model.training
    model.eval()
    order = list(range(len(dataset))) if indices is None else list(indices)
    chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    outputs, labels = [], []
    try:
        for x, y in loader(dataset, chunks, num_workers):
            with autocast or contextlib.nullcontext():
                outputs.append(model(x.to(device, non_blocking=True)).float().cpu())
            labels.append(y)
    finally:
        model.train(was_training)
    if not outputs:
        return torch.empty(0, getattr(model, "embedding_dim", 0)), torch.empty(0, dtype=torch.long)
    return torch.cat(outputs), torch.cat(labels)


def embed_all(model: nn.Module, dataset, device: torch.device, *, context=None, **options
              ) -> tuple[torch.Tensor, torch.Tensor]:
    """`embed` over the whole dataset; under torchrun (``context``) each rank embeds every world-th item and rank 0
    gets all embeddings back in dataset order (the other ranks keep their share)."""
    if context is None:
        return embed(model, dataset, device, **options)
    indices = list(range(context.rank, len(dataset), context.world))
    embeddings, labels = embed(model, dataset, device, indices=indices, **options)
    gathered = [None] * context.world
    torch_dist.all_gather_object(gathered, (indices, embeddings, labels))
    if not context.is_main:
        return embeddings, labels
    order = torch.tensor([i for part in gathered for i in part[0]])
    all_embeddings = torch.cat([part[1] for part in gathered])
    all_labels = torch.cat([part[2] for part in gathered])
    position = torch.argsort(order)
    return all_embeddings[position], all_labels[position]


__all__ = ["embed", "embed_all"]
