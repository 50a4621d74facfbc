"""Records of an α × μ grid to a summary: mean ± sample std and n of a metric per (α, μ) cell, baseline first.

The records come as they are stored or as they arrive (a list of dicts or a DataFrame with ``alpha``, ``mu``,
``seed``, ``ps`` and the metric), so a grid runner can summarise after every finished run; the heatmap
(`psviz.viz.ablation_heatmap`) and the reproduction's tables (`psviz.analysis.stats.ablation_cells`) read the same
summary. Values keep the records' unit (retrieval metrics are fractions).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

SUMMARY_COLUMNS = ["ps", "alpha", "mu", "mean", "std", "n"]


def _frame(records) -> pd.DataFrame:
    if isinstance(records, pd.DataFrame):
        return records.copy()
    if isinstance(records, Sequence) and not isinstance(records, str) and \
            all(isinstance(r, Mapping) for r in records):
        return pd.DataFrame(list(records))
    raise ValueError(f"records must be a list of dicts or a DataFrame (columns alpha, mu, seed, ps and the metric), "
                     f"got {type(records).__name__}")


def _metric_column(frame: pd.DataFrame, metric: str) -> str:
    """The column holding ``metric``; "map@r" also finds "unseen/map@r", as history rows name it."""
    if not isinstance(metric, str):
        raise ValueError(f"metric must be a column name such as 'map@r', got {metric!r}")
    for column in (metric, f"unseen/{metric}"):
        if column in frame.columns:
            return column
    raise ValueError(f"metric {metric!r} is not a column of records; columns: {list(frame.columns)}")


def _checked(frame: pd.DataFrame, metric: str) -> pd.DataFrame:
    """Columns ps, alpha, mu, value (as the records hold it), rows without a value dropped."""
    column = _metric_column(frame, metric)
    ps = frame["ps"] if "ps" in frame.columns else pd.Series(True, index=frame.index)
    if not ps.map(lambda v: isinstance(v, (bool, np.bool_))).all():
        raise ValueError(f"records: ps must be True or False in every row, got {sorted(set(map(repr, ps)))}")
    missing = [c for c in ("alpha", "mu") if c not in frame.columns]
    if missing and ps.any():
        raise ValueError(f"records: PS rows need columns alpha and mu; missing {missing}")
    out = pd.DataFrame({"ps": ps.astype(bool)})
    try:
        for c in ("alpha", "mu"):
            out[c] = pd.to_numeric(frame[c]) if c in frame.columns else np.nan
        out["value"] = pd.to_numeric(frame[column])
    except (TypeError, ValueError) as error:
        raise ValueError(f"records: alpha, mu and {column} must be numbers ({error})") from error
    if out.loc[out["ps"], ["alpha", "mu"]].isna().any(axis=None):
        raise ValueError("records: every row with ps=True needs an alpha and a mu")
    return out.dropna(subset=["value"])  # a run not evaluated yet


def summarise_grid(records, metric: str = "map@r") -> pd.DataFrame:
    """Mean, sample std (ddof=1, NaN for one seed) and n of ``metric`` per (α, μ), baseline (ps=False) row first.

    Columns ps, alpha, mu, mean, std, n; the baseline row has alpha and mu NaN. Values are in the records' unit:
    retrieval metrics are fractions.
    """
    frame = _frame(records)
    if frame.empty:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    rows = _checked(frame, metric)
    base = rows.loc[~rows["ps"], "value"]
    parts = []
    if len(base):
        parts.append(pd.DataFrame([{"ps": False, "alpha": np.nan, "mu": np.nan, "mean": base.mean(),
                                    "std": base.std(ddof=1), "n": len(base)}]))
    ps_rows = rows[rows["ps"]]
    if len(ps_rows):
        cells = ps_rows.groupby(["alpha", "mu"])["value"].agg(mean="mean", std=lambda v: v.std(ddof=1), n="size")
        parts.append(cells.reset_index().assign(ps=True))
    if not parts:
        return pd.DataFrame(columns=SUMMARY_COLUMNS)
    summary = pd.concat(parts, ignore_index=True)[SUMMARY_COLUMNS]
    summary["n"] = summary["n"].astype(int)
    summary.attrs.update(metric=metric)
    return summary


__all__ = ["SUMMARY_COLUMNS", "summarise_grid"]
