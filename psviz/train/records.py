"""Finished runs as small JSON records keyed by their settings, so a sweep that stops can resume without redoing any."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from .config import TrainConfig

# settings that do not change what a run learns
_IGNORED = ("output_dir", "num_workers", "device")
# keys added after records were first stored: left out at their defaults, so older records keep their keys
_ADDED = {"holdout_per_class": 0, "train_per_class": None, "train_classes": None}


def run_key(config: TrainConfig) -> str:
    """A stable hash of everything in ``config`` that affects the result."""
    values = {k: v for k, v in config.to_dict().items()
              if k not in _IGNORED and not (k in _ADDED and v == _ADDED[k])}
    if not values.get("ps"):  # alpha and mu do nothing without PS: one baseline serves every grid cell
        values.pop("alpha", None)
        values.pop("mu", None)
    return hashlib.sha1(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:16]


def run_record(config: TrainConfig, history: list, **extra) -> dict:
    """{"config", "history", "metrics"} of a finished run; metrics are the last evaluated unseen ones."""
    rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in history]
    metrics = {}
    for row in reversed(rows):
        metrics = {k.split("/", 1)[1]: v for k, v in row.items() if k.startswith("unseen/")}
        if metrics:
            break
    return {"config": config.to_dict(), "history": rows, "metrics": metrics, **extra}


class RecordStore:
    """One ``<run_key>.json`` per finished run in ``directory``, written atomically (a killed writer leaves none)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)

    def path(self, config: TrainConfig) -> Path:
        return self.directory / f"{run_key(config)}.json"

    def read(self, config: TrainConfig) -> dict | None:
        """The stored record of ``config``, or None (also for a damaged file, which is then simply redone)."""
        return self.read_key(run_key(config))

    def read_key(self, key: str) -> dict | None:
        path = self.directory / f"{key}.json"
        if not path.is_file():
            return None
        try:
            return json.loads(path.read_text())
        except (OSError, json.JSONDecodeError):
            return None

    def has(self, config: TrainConfig) -> bool:
        return self.read(config) is not None

    def write(self, config: TrainConfig, record: dict) -> Path:
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.path(config)
        temp = path.with_name(f".{path.name}.tmp")
        temp.write_text(json.dumps(record, indent=1, default=str))
        temp.replace(path)
        return path


__all__ = ["RecordStore", "run_key", "run_record"]
