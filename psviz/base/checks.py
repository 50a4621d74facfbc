"""Input checks shared by the synthesis operator and the losses: clear ValueErrors that name the argument."""

from __future__ import annotations

import math
from numbers import Integral, Real

import numpy as np
import torch
from torch import Tensor


def check_number(value, name: str, *, low: float | None = None, high: float | None = None,
                 low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a float after checking it is a finite real number inside the given bounds."""
    if isinstance(value, bool) or not isinstance(value, Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    value = float(value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    if low is not None and (value <= low if low_open else value < low):
        raise ValueError(f"{name} must be {'>' if low_open else '>='} {low:g}, got {value:g}")
    if high is not None and (value >= high if high_open else value > high):
        raise ValueError(f"{name} must be {'<' if high_open else '<='} {high:g}, got {value:g}")
    return value


def check_int(value, name: str, *, minimum: int = 1) -> int:
    """Return ``value`` as an int after checking it is an integer of at least ``minimum``: a Python or numpy integer
    (numpy's come from arrays and data files), not a bool and not a float, even a whole one."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, Integral) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    return int(value)


# The name the losses, models and data loaders import; the same check.
def check_float_tensor(x, name: str, ranks: tuple[int, ...]) -> Tensor:
    """Check ``x`` is a floating-point tensor of one of the given ranks, with no empty dimension."""
    if not isinstance(x, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(x).__name__}")
    if x.dim() not in ranks:
        shapes = " or ".join(f"{r}-D" for r in ranks)
        raise ValueError(f"{name} must be {shapes}, got shape {tuple(x.shape)}")
    if not x.is_floating_point():
        raise ValueError(f"{name} must be a floating-point tensor, got {x.dtype}")
    if x.numel() == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(x.shape)}")
    return x


def check_labels_shape(labels, batch_size: int, name: str = "labels") -> Tensor:
    """Check ``labels`` is a 1-D integer tensor of length ``batch_size``."""
    if not isinstance(labels, Tensor):
        raise ValueError(f"{name} must be a torch.Tensor, got {type(labels).__name__}")
    if labels.dim() != 1 or labels.shape[0] != batch_size:
        raise ValueError(f"{name} must have shape [{batch_size}] (one per embedding), got {tuple(labels.shape)}")
    if labels.is_floating_point() or labels.is_complex() or labels.dtype == torch.bool:
        raise ValueError(f"{name} must be an integer tensor, got {labels.dtype}")
    return labels


def raise_flagged(flags: Tensor, messages: list) -> None:
    """Raise ValueError for the first true entry of ``flags`` (one device sync for all checks).

    A message may be a callable, so that building it (which may read tensors) costs nothing when all is well.
    """
    for flag, message in zip(flags.tolist(), messages):
        if flag:
            raise ValueError(message() if callable(message) else message)


class DeferredFlags:
    """Value checks on CUDA without a device sync: flags are copied to pinned host memory in the background and
    raised by the next `raise_pending()` (a training loop calls it after its own per-step sync, so it costs nothing).
    """

    def __init__(self):
        self._pending = None

    def submit(self, flags: Tensor, messages: list, note: str = "") -> None:
        self.raise_pending()
        host = torch.empty(flags.shape, dtype=torch.bool, pin_memory=True)
        host.copy_(flags, non_blocking=True)
        done = torch.cuda.Event()
        done.record()
        self._pending = (host, done, messages, note)

    def raise_pending(self) -> None:
        if self._pending is None:
            return
        host, done, messages, note = self._pending
        self._pending = None
        done.synchronize()
        for flag, message in zip(host.tolist(), messages):
            if flag:
                raise ValueError((message() if callable(message) else message) + note)
