"""Finished runs as small JSON records keyed by their settings, so a sweep that stops can resume without redoing any."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import reprlib  # short reprs of what a damaged record holds (nested lists included)
import sys
from pathlib import Path

from ..base.files import atomic_write_text
from .config import TrainConfig

# settings that do not change what a run learns
_IGNORED = ("output_dir", "num_workers", "device")
# keys added after records were first stored: left out at their defaults, so older records keep their keys
_ADDED = {"holdout_per_class": 0, "train_per_class": None, "train_classes": None, "image_cache": "none"}
# what `run_record` writes; "seconds" and "measures" are optional extras
_RECORD_KEYS = ("config", "history", "metrics")


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


def _is_number(value) -> bool:
    """A JSON number (int or float, NaN included), not a bool."""
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _numbers_problem(values, what: str) -> str | None:
    """Why ``values`` is not a mapping of names to numbers (None when it is one)."""
    if not isinstance(values, dict):
        return f"{what} must be a mapping of names to numbers, got {type(values).__name__}"
    wrong = next((key for key, value in values.items() if not _is_number(value)), None)
    if wrong is not None:
        return f"{what} must hold numbers, got {reprlib.repr(values[wrong])} for {wrong!r}"
    return None


def _config_problem(config) -> str | None:
    """Why ``config`` is not a whole `TrainConfig` as a record stores it (keys in `_ADDED` may be absent)."""
    if not isinstance(config, dict):
        return f"config must be a mapping of settings, got {type(config).__name__}"
    absent = [f.name for f in dataclasses.fields(TrainConfig) if f.name not in config and f.name not in _ADDED]
    if absent:
        return f"config lacks {', '.join(absent)}"
    try:
        TrainConfig.from_dict(config)
    except (ValueError, TypeError) as error:
        return f"config: {error}"
    return None


def _history_problem(history) -> str | None:
    """Why ``history`` is not a list of per-epoch rows of numbers, each with an integer epoch."""
    if not isinstance(history, list):
        return f"history must be a list of per-epoch rows, got {type(history).__name__}"
    for index, row in enumerate(history):
        problem = _numbers_problem(row, f"history row {index}")
        if problem is None and (not isinstance(row.get("epoch"), int) or isinstance(row["epoch"], bool)):
            problem = f"history row {index} must hold an integer epoch, got {reprlib.repr(row.get('epoch'))}"
        if problem is not None:
            return problem
    return None


def _record_problem(record) -> str | None:
    """Why ``record`` does not have the shape `run_record` writes (None when it has), checked once where a record
    is read so that the reports can trust its types."""
    if not isinstance(record, dict):
        return f"a record must be a JSON object with {', '.join(_RECORD_KEYS)}, got {type(record).__name__}"
    missing = [key for key in _RECORD_KEYS if key not in record]
    if missing:
        return f"missing {', '.join(missing)}; a record holds {', '.join(_RECORD_KEYS)}"
    checks = [_config_problem(record["config"]), _history_problem(record["history"]),
              _numbers_problem(record["metrics"], "metrics")]
    if "seconds" in record and not _is_number(record["seconds"]):
        checks.append(f"seconds must be a number, got {reprlib.repr(record['seconds'])}")
    if "measures" in record:
        checks.append(_numbers_problem(record["measures"], "measures"))
    return next((problem for problem in checks if problem is not None), None)


class RecordStore:
    """One ``<run_key>.json`` per finished run in ``directory``, written atomically (a killed writer leaves none)."""

    def __init__(self, directory: str | Path):
        self.directory = Path(directory)
        self._reported: set = set()  # (path, problem) already reported, so repeated reads warn once

    def path(self, config: TrainConfig) -> Path:
        return self.directory / f"{run_key(config)}.json"

    def read(self, config: TrainConfig) -> dict | None:
        """The stored record of ``config``, or None (also for a damaged file, which is then simply redone)."""
        return self.read_key(run_key(config))

    def read_key(self, key: str) -> dict | None:
        """The record stored under ``key``, or None when there is none or it is unreadable or malformed; the last
        two are reported on stderr, naming the file, and count as not stored (a training command redoes the run)."""
        path = self.directory / f"{key}.json"
        if not path.is_file():
            return None
        try:
            record = json.loads(path.read_text())
        except (OSError, ValueError) as error:  # ValueError: not JSON, or not UTF-8 text
            problem = f"not readable as JSON: {type(error).__name__}: {error}"
        except RecursionError:  # brackets nested deeper than the parser goes
            problem = "not readable as JSON: its brackets are nested too deeply"
        else:
            problem = _record_problem(record)
            if problem is None:
                return record
        self._report(path, problem)
        return None

    def _report(self, path: Path, problem: str) -> None:
        """One stderr line per damaged record and problem, like the package's other notes about files it skips."""
        problem = " ".join(problem.split())
        if (path, problem) not in self._reported:
            self._reported.add((path, problem))
            print(f"psviz: skipping the run record {path} ({problem}); it counts as not stored, so training "
                  f"redoes that run", file=sys.stderr)

    def has(self, config: TrainConfig) -> bool:
        return self.read(config) is not None

    def write(self, config: TrainConfig, record: dict) -> Path:
        return atomic_write_text(self.path(config), json.dumps(record, indent=1, default=str))


__all__ = ["RecordStore", "run_key", "run_record"]
