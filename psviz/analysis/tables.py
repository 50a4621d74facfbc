"""Runs side by side as pandas tables in percent: each run's latest retrieval metrics, and one run minus the other."""

from __future__ import annotations

import pandas as pd

from ..base.names import is_retrieval_metric
from ..base.percent import percent
from .runs import SPLITS, check_runs, check_splits, latest_metrics


def metrics_table(results: dict, *, splits=SPLITS) -> pd.DataFrame:
    """Each run's latest metrics in percent: index (run, split), columns recall@K..., r_precision, map@r."""
    results, splits = check_runs(results, "results"), check_splits(splits)
    rows, index = [], []
    for name, run in results.items():
        metrics = latest_metrics(run, name)
        for split in splits:
            values = metrics.get(split, {})
            if any(is_retrieval_metric(key) for key in values):
                rows.append({key: percent(value) for key, value in values.items() if is_retrieval_metric(key)})
                index.append((name, split))
    if not rows:
        raise ValueError(f"results hold no retrieval metrics for splits {list(splits)}")
    ks = sorted({int(key.split("@", 1)[1]) for row in rows for key in row if key.startswith("recall@")})
    columns = [f"recall@{k}" for k in ks] + [c for c in ("r_precision", "map@r") if any(c in row for row in rows)]
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["run", "split"]), columns=columns)


def difference_table(results: dict, *, splits=SPLITS, baseline: str | None = None) -> pd.DataFrame:
    """For exactly two runs: the other run minus ``baseline`` (default: the first run), in percentage points.

    Index: split; columns as in `metrics_table`; ``df.attrs["label"]`` says which run minus which.
    """
    results = check_runs(results, "results")
    if len(results) != 2:
        raise ValueError(f"results must hold exactly two runs to take a difference, got {len(results)}")
    names = list(results)
    baseline = names[0] if baseline is None else baseline
    if baseline not in names:
        raise ValueError(f"baseline must be one of the runs {names}, got {baseline!r}")
    other = names[1] if baseline == names[0] else names[0]
    table = metrics_table(results, splits=splits)
    present = table.index.get_level_values("run")
    if baseline not in present or other not in present:
        raise ValueError(f"both runs need metrics for a difference; only {sorted(set(present))} have some")
    diff = table.loc[other] - table.loc[baseline]
    diff = diff.dropna(how="all")
    diff.attrs["label"] = f"{other} − {baseline} (percentage points)"
    return diff


__all__ = ["difference_table", "metrics_table"]
