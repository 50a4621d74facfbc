"""Finished runs by their settings, so asking again for an (alpha, mu, seed, ...) already trained is instant."""

from __future__ import annotations

from collections import OrderedDict
from pathlib import Path

from ..train import FitResult, TrainConfig, fit
from ..train.records import RecordStore, run_key, run_record

__all__ = ["RunCache", "run_key"]


class RunCache:
    """Trained runs in memory (the last ``max_runs``, models included) and, with ``directory``, each run's
    config, history and final unseen metrics as JSON, which a later session (or an interrupted grid) reuses."""

    def __init__(self, max_runs: int = 16, directory: str | Path | None = None):
        self.max_runs = max_runs
        self.directory = Path(directory) if directory is not None else None
        self._store = RecordStore(self.directory) if self.directory is not None else None
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
        self._write(config, run.history)
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
            return run_record(config, run.history)
        stored = self._read(key)
        if stored is not None:
            self.hits += 1
            return stored
        return run_record(config, self.fit(config, **fit_options).history)

    def has(self, config: TrainConfig) -> bool:
        key = run_key(config)
        return key in self._runs or self._read(key) is not None

    def _write(self, config: TrainConfig, history: list) -> None:
        """Store the run's record on disk, when the cache has a directory."""
        if self._store is not None:
            self._store.write(config, run_record(config, history))

    def _read(self, key: str) -> dict | None:
        return None if self._store is None else self._store.read_key(key)

    def __len__(self) -> int:
        return len(self._runs)
