"""A run's history: one row per epoch (loss, learning rates, seconds, and the metrics of evaluated epochs)."""

from __future__ import annotations

import json
from pathlib import Path

from ..base.files import atomic_write_text

HISTORY = "history.json"


def last_metrics(history: list[dict], split: str = "unseen") -> dict:
    """The latest evaluated metrics of ``split`` ("unseen", "seen" or "heldout"), keys without the split prefix."""
    for row in reversed(history):
        found = {k.split("/", 1)[1]: v for k, v in row.items() if k.startswith(split + "/")}
        if found:
            return found
    return {}


def public_rows(history: list[dict]) -> list[dict]:
    """The rows without the trainer's own bookkeeping (keys starting with "_", kept only in checkpoints)."""
    return [{k: v for k, v in row.items() if not k.startswith("_")} for row in history]


def write_history(run_dir: Path, history: list[dict]) -> None:
    """history.json in ``run_dir``, written atomically."""
    atomic_write_text(Path(run_dir) / HISTORY, json.dumps(public_rows(history), indent=1))


__all__ = ["HISTORY", "last_metrics", "public_rows", "write_history"]
