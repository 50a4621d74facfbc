"""Multi-process training under `torchrun`: DDP over the model and the loss's proxies, gathered evaluation."""

from __future__ import annotations

import os
from dataclasses import dataclass

import torch
import torch.distributed as torch_dist
from torch import nn


@dataclass
class Context:
    """This process's place in a `torchrun` job (None is returned instead when running alone)."""

    rank: int
    world: int
    local_rank: int

    @property
    def is_main(self) -> bool:
        return self.rank == 0

    @classmethod
    def from_env(cls, device: str = "auto") -> "Context | None":
        world = int(os.environ.get("WORLD_SIZE", "1"))
        if world <= 1:
            return None
        local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        use_cuda = device != "cpu" and torch.cuda.is_available()
        if use_cuda:
            torch.cuda.set_device(local_rank)
        if not torch_dist.is_initialized():
            torch_dist.init_process_group("nccl" if use_cuda else "gloo")
        return cls(torch_dist.get_rank(), torch_dist.get_world_size(), local_rank)

    def close(self) -> None:
        if torch_dist.is_initialized():
            torch_dist.barrier()
            torch_dist.destroy_process_group()


class Joint(nn.Module):
    """Model and loss as one module, so DDP averages the proxies' gradients along with the network's."""

    def __init__(self, model: nn.Module, loss: nn.Module):
        super().__init__()
        self.model = model
        self.loss = loss

    def forward(self, inputs: torch.Tensor, labels: torch.Tensor) -> torch.Tensor:
        return self.loss(self.model(inputs), labels)


def wrap(model: nn.Module, loss: nn.Module, context: Context | None, device: torch.device) -> nn.Module:
    joint = Joint(model, loss)
    if context is None:
        return joint
    device_ids = [device.index] if device.type == "cuda" else None
    return nn.parallel.DistributedDataParallel(joint, device_ids=device_ids)


def sync_buffers(module: nn.Module, context: Context | None) -> None:
    """Give every rank rank 0's buffers (BatchNorm statistics): DDP syncs them only before each forward."""
    if context is None:
        return
    for buffer in module.buffers():
        torch_dist.broadcast(buffer, src=0)
