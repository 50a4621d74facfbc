"""Finished runs by their settings, so asking again for an (alpha, mu, seed, ...) already trained is instant."""

from __future__ import annotations

import hashlib
import json
from collections import OrderedDict
from pathlib import Path

from ..train import FitResult, TrainConfig, fit

# settings that do not change what a run learns
_IGNORED = ("output_dir", "num_workers", "device")


def run_key(config: TrainConfig) -> str:
    """A stable hash of everything in ``config`` that affects the result."""
    values = {k: v for k, v in config.to_dict().items() if k not in _IGNORED}
    if not values.get("ps"):  # alpha and mu do nothing without PS: one baseline serves every grid cell
        values.pop("alpha", None)
        values.pop("mu", None)
    return hashlib.sha1(json.dumps(values, sort_keys=True, default=str).encode()).hexdigest()[:16]


class RunCache:
    """Trained runs in memory (the last ``max_runs``, models included) and, with ``directory``, each run's
    config, history and final unseen metrics as JSON, which a later session (or an interrupted grid) reuses."""

    def __init__(self, max_runs: int = 16, directory: str | Path | None = None):
        self.max_runs = max_runs
        self.directory = Path(directory) if directory is not None else None
        self._runs: OrderedDict[str, FitResult] = OrderedDict()
        self.hits = self.misses = 0

    def fit(self, config: TrainConfig, **fit_options) -> FitResult:
        """The trained run for ``config``: from memory, or trained now (and remembered)."""
        key = run_key(config)
        if key in self._runs:
            self._runs.move_to_end(key)
            self.hits += 1
            return self._runs[key]
        self.misses += 1
        run = fit(config.replace(output_dir=None), **fit_options)
        if run.interrupted:
            return run
        self._runs[key] = run
        while len(self._runs) > self.max_runs:
            self._runs.popitem(last=False)
        self._write(key, config, run.history)
        return run

    def cached_run(self, config: TrainConfig) -> FitResult | None:
        """The run for ``config`` if it is in memory (no training)."""
        return self._runs.get(run_key(config))

    def record(self, config: TrainConfig, **fit_options) -> dict:
        """{"config", "history", "metrics"} for ``config``: from memory or disk, else trained now."""
        key = run_key(config)
        if key in self._runs:
            self.hits += 1
            run = self._runs[key]
            return _record(config, run.history)
        stored = self._read(key)
        if stored is not None:
            self.hits += 1
            return stored
        return _record(config, self.fit(config, **fit_options).history)

    def has(self, config: TrainConfig) -> bool:
        key = run_key(config)
        return key in self._runs or self._read(key) is not None

    def _write(self, key: str, config: TrainConfig, history: list) -> None:
        if self.directory is None:
            return
        self.directory.mkdir(parents=True, exist_ok=True)
        temp = self.directory / f".{key}.json.tmp"
        temp.write_text(json.dumps(_record(config, history), indent=1, default=str))
        temp.replace(self.directory / f"{key}.json")

    def _read(self, key: str) -> dict | None:
        if self.directory is None or not (self.directory / f"{key}.json").is_file():
            return None
        try:
            return json.loads((self.directory / f"{key}.json").read_text())
        except (OSError, json.JSONDecodeError):
            return None  # a damaged record is simply retrained

    def __len__(self) -> int:
        return len(self._runs)


def _record(config: TrainConfig, history: list) -> dict:
    rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in history]
    metrics = {}
    for row in reversed(rows):
        metrics = {k.split("/", 1)[1]: v for k, v in row.items() if k.startswith("unseen/")}
        if metrics:
            break
    return {"config": config.to_dict(), "history": rows, "metrics": metrics}


__all__ = ["RunCache", "run_key"]
