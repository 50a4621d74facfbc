"""Rows comparing the two arms (baseline, with PS) metric by metric, in percent: one run per arm, or a pair per seed.

These are the numbers `psviz demo` prints, notebook 03 shows and the demo page (`psviz.viz.page`) lays out; the
reproduction's own tables are `psviz.analysis.stats`'s.
"""

from __future__ import annotations

from ..names import BASELINE, RUN_METRICS, TABLE_METRICS, WITH_PS
from ..percent import percent
from .stats import paired_row


def comparison_rows(baseline: dict, with_ps: dict) -> list[dict]:
    """One run per arm: a row per metric of `RUN_METRICS` with each arm's value and the difference, in percent
    (points for the difference)."""
    return [{"metric": m, BASELINE: percent(baseline[m]), WITH_PS: percent(with_ps[m]),
             "difference": percent(with_ps[m] - baseline[m])} for m in RUN_METRICS if m in baseline and m in with_ps]


def paired_rows(pairs: list[tuple[dict, dict]], section: str) -> list[dict]:
    """``pairs`` of (baseline, PS) metric dicts, one per seed -> a row per metric of `TABLE_METRICS`: each arm's mean,
    the paired difference with its 95% t interval, and how many seeds PS was ahead on (percent and points)."""
    rows = []
    for metric in TABLE_METRICS:
        base = [percent(b[metric]) for b, _ in pairs]
        ps = [percent(p[metric]) for _, p in pairs]
        row = paired_row(base, ps)
        rows.append({"section": section, "metric": metric, BASELINE: row["baseline_mean"], WITH_PS: row["ps_mean"],
                     "difference": row["diff"], "ci_low": row["ci_low"], "ci_high": row["ci_high"], "n": row["n"],
                     "ps_ahead": sum(p > b for b, p in zip(base, ps))})
    return rows


__all__ = ["comparison_rows", "paired_rows"]
