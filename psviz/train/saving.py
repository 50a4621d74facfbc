"""What a run saves and when: its position, the checkpoint it writes, and the policy of writing last.pt / best.pt."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import torch
from tqdm.auto import tqdm

from .checkpoint import BEST, LAST, restore_scheduler, save_checkpoint, scheduler_state
from .history import write_history

FORMAT = "psviz-checkpoint-1"


@dataclass
class Position:
    """Where a run stands: epochs and steps done, the history, the best unseen MAP@R so far, and (resuming
    mid-epoch) the random states to continue from."""

    epoch: int = 0
    step: int = 0
    history: list = field(default_factory=list)
    best: float | None = None
    rng: dict | None = None

    @classmethod
    def from_state(cls, state: dict | None) -> "Position":
        """The position a checkpoint stored (the start, without one)."""
        if state is None:
            return cls()
        return cls(state["epoch"], state["step"], state["history"], state["best_map_r"], state)


def checkpoint_state(config, parts, position: Position) -> dict:
    """Everything a resumed run needs to continue exactly: weights, optimizer, schedule, position, random states."""
    state = {
        "format": FORMAT,
        "config": config.to_dict(),
        "model": parts.model.state_dict(),
        "loss": parts.loss.state_dict(),
        "optimizer": parts.optimizer.state_dict(),
        "scheduler": scheduler_state(parts.scheduler),
        "epoch": position.epoch,
        "step": position.step,
        "history": position.history,
        "best_map_r": position.best,
        "rng_cpu": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["rng_cuda"] = torch.cuda.get_rng_state_all()
    if parts.scaler is not None:
        state["scaler"] = parts.scaler.state_dict()
    return state


def restore_state(parts, state: dict) -> None:
    """Load a checkpoint's weights, optimizer, schedule and loss scaler into freshly built parts."""
    parts.model.load_state_dict(state["model"])
    parts.loss.load_state_dict(state["loss"])
    parts.optimizer.load_state_dict(state["optimizer"])
    restore_scheduler(parts.scheduler, state["scheduler"])
    if parts.scaler is not None and "scaler" in state:
        parts.scaler.load_state_dict(state["scaler"])


class CheckpointPolicy:
    """last.pt after every evaluation and on a stop, best.pt when the unseen MAP@R improves, history.json beside
    them; nothing without a run folder (``run_dir`` None: no folder, or not the process that owns it)."""

    def __init__(self, run_dir: Path | None, config, parts):
        self.run_dir, self.config, self.parts = run_dir, config, parts

    @property
    def saves(self) -> bool:
        return self.run_dir is not None

    def evaluated(self, position: Position) -> None:
        """After an evaluation (the last history row holds it): keep the best score, write the checkpoints."""
        score = position.history[-1]["unseen/map@r"]
        improved = position.best is None or score > position.best
        position.best = score if improved else position.best
        if not self.saves:
            return
        state = checkpoint_state(self.config, self.parts, position)
        save_checkpoint(state, self.run_dir / LAST)
        if improved:
            save_checkpoint(state, self.run_dir / BEST)
        write_history(self.run_dir, position.history)

    def stopped(self, position: Position) -> None:
        """After a requested stop (between steps, so the state is consistent): save last.pt where the run stands."""
        if not self.saves:
            return
        save_checkpoint(checkpoint_state(self.config, self.parts, position), self.run_dir / LAST)
        write_history(self.run_dir, position.history)
        tqdm.write(f"interrupted: saved {self.run_dir / LAST} at epoch {position.epoch + 1}, step {position.step}; "
                   f"continue with resume=True (psviz train ... --resume)")


__all__ = ["CheckpointPolicy", "FORMAT", "Position", "checkpoint_state", "restore_state"]
