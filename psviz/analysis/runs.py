"""Runs as their metrics: a run-like (a `psviz.train.FitResult`, its history as a list of per-epoch dicts, or one
metrics row) read as a history, and each split's latest metrics. A row without split prefixes, as
`psviz.evaluate.retrieval_metrics` returns it, counts as "unseen". Values stay fractions.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from ..base.names import is_retrieval_metric

SPLITS = ("unseen", "seen", "heldout")  # heldout: seen-class items kept out of training (holdout_per_class)


def run_history(run, name: str = "run") -> list[dict]:
    """The per-epoch rows of a run-like: a FitResult (anything with ``.history``), a list of dicts, or one dict."""
    history = getattr(run, "history", run)
    if isinstance(history, Mapping):
        history = [history]
    if not isinstance(history, Sequence) or isinstance(history, str) or \
            not all(isinstance(row, Mapping) for row in history):
        raise ValueError(f"run {name!r} must be a FitResult, a history (list of dicts) or one metrics dict, "
                         f"got {type(run).__name__}")
    return [_prefixed(row) for row in history]


def _prefixed(row: Mapping) -> dict:
    """The row with split prefixes: metrics without any (as `retrieval_metrics` returns them) count as unseen."""
    if any("/" in key for key in row) or not any(is_retrieval_metric(key) for key in row):
        return dict(row)
    return {(f"unseen/{k}" if is_retrieval_metric(k) or k.startswith("n_") else k): v for k, v in row.items()}


def latest_metrics(run, name: str = "run") -> dict[str, dict[str, float]]:
    """{split: {metric: value}} from the latest row of the run that holds that split's metrics (fractions)."""
    found: dict[str, dict[str, float]] = {}
    for row in reversed(run_history(run, name)):
        for split in {key.split("/", 1)[0] for key in row if "/" in key} - found.keys():
            found[split] = {key.split("/", 1)[1]: value for key, value in row.items()
                            if key.startswith(split + "/")}
    return found


def check_runs(results, argument: str) -> dict:
    """``results`` with string run names; a ValueError naming ``argument`` unless it is a non-empty dict."""
    if not isinstance(results, Mapping) or not results:
        raise ValueError(f"{argument} must be a non-empty dict of run name -> FitResult, history or metrics row, "
                         f"got {type(results).__name__ if not isinstance(results, Mapping) else 'an empty dict'}")
    return {str(name): run for name, run in results.items()}


def check_splits(splits) -> tuple[str, ...]:
    """``splits`` (one name or several, among `SPLITS`) as a tuple."""
    splits = (splits,) if isinstance(splits, str) else tuple(splits)
    if not splits or any(s not in SPLITS for s in splits):
        raise ValueError(f"splits must name one or both of {SPLITS}, got {list(splits)}")
    return splits


__all__ = ["SPLITS", "check_runs", "check_splits", "latest_metrics", "run_history"]
