"""Checkpoints: written atomically (temp file, then rename) and read with a loader that never runs pickled code."""

from __future__ import annotations

import errno
from pathlib import Path

import torch

from ..base.files import DamagedFile, atomic_write, safe_torch_load

LAST, BEST = "last.pt", "best.pt"
# how torch's zip writer says a write failed (a full disk, a quota): "[enforce fail at inline_container.cc:...]"
_WRITE_FAILED = ("inline_container", "PytorchStreamWriter", "file write failed")


def save_checkpoint(state: dict, path: str | Path) -> Path:
    """Write ``state`` to ``path`` so that an interrupted save leaves the previous file intact.

    A write that fails for want of space (torch's writer reports it as a RuntimeError, the file system as an
    OSError) raises an OSError that names the checkpoint and says that the files saved before are whole.
    """
    try:
        return atomic_write(path, lambda file: torch.save(state, file), sync=True)
    except (OSError, RuntimeError) as error:
        if isinstance(error, RuntimeError) and not any(sign in str(error) for sign in _WRITE_FAILED):
            raise
        full = isinstance(error, RuntimeError) or error.errno in (errno.ENOSPC, errno.EDQUOT)
        reason = " ".join(f"{type(error).__name__}: {error}".split())
        raise OSError(f"cannot write the checkpoint {path} ({'disk full? ' if full else ''}{reason}); nothing "
                      f"already saved is lost (the run's earlier checkpoints are as they were), and --resume "
                      f"(resume=True) continues from the last one once {'space is freed' if full else 'that is fixed'}"
                      ) from error


def load_checkpoint(path: str | Path) -> dict:
    """Read a checkpoint with ``torch.load(weights_only=True)``: tensors and plain data only, never code.

    A truncated or corrupted file raises `DamagedFile` (a ValueError) that names the run folder's other checkpoint.
    """
    path = Path(path)
    try:
        state = safe_torch_load(path, "checkpoint")
    except DamagedFile as error:
        raise DamagedFile(f"{error}; {_fallback(path)}") from None
    if not isinstance(state, dict) or "model" not in state:
        raise ValueError(f"{path} is not a psviz checkpoint (no 'model' entry)")
    return state


def _fallback(path: Path) -> str:
    """What to use instead of the damaged checkpoint ``path``: the other checkpoint of its run folder, if any."""
    others = [name for name in (LAST, BEST) if name != path.name and (path.parent / name).is_file()]
    if not others:
        return f"the run folder {path.parent} has no other checkpoint ({LAST} or {BEST}): train the run again"
    name = others[0]
    return f"the run folder also has {name} (psviz evaluate {path.parent} --checkpoint {Path(name).stem})"


def scheduler_state(scheduler) -> dict:
    """MultiStepLR keeps its milestones in a Counter, which the safe loader refuses: store a plain dict."""
    state = scheduler.state_dict()
    if "milestones" in state:
        state["milestones"] = dict(state["milestones"])
    return state


def restore_scheduler(scheduler, state: dict) -> None:
    from collections import Counter

    state = dict(state)
    if "milestones" in state:
        state["milestones"] = Counter(state["milestones"])
    scheduler.load_state_dict(state)
