"""Markdown for the reports: cells formatted from numbers, rows of the statistics tables, pipe tables.

The formatters write numbers as they are given: callers pass percent (see `psviz.analysis.stats.in_percent`).
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import pandas as pd

from ...analysis.stats import significant as is_significant
from ...base.names import BASELINE, WITH_PS, column


def relative_link(path: str | Path, doc: str | Path) -> str:
    """``path`` as a link from the Markdown file ``doc`` (relative to its folder)."""
    return Path(os.path.relpath(path, Path(doc).parent)).as_posix()


def mean_std(mean: float, std: float) -> str:
    """'97.10 ± 0.21' ('97.10' with one seed, '–' when nothing finished)."""
    if mean is None or (isinstance(mean, float) and math.isnan(mean)):
        return "–"
    return f"{mean:.2f}" if std is None or math.isnan(std) else f"{mean:.2f} ± {std:.2f}"


def difference(diff: float, low: float, high: float, significant: bool) -> str:
    """'+0.35 [-0.10, +0.80]', with ' *' when significant; no interval with fewer than two pairs."""
    if diff is None or math.isnan(diff):
        return "–"
    text = f"{diff:+.2f}" if math.isnan(low) else f"{diff:+.2f} [{low:+.2f}, {high:+.2f}]"
    return text + (" *" if significant else "")


def paired_cell(row) -> str:
    """The paired difference of a statistics row (diff, ci_low, ci_high, p) as `difference` writes it."""
    return difference(row["diff"], row["ci_low"], row["ci_high"], is_significant(row["p"]))


def arm_cells(row, baseline_header: str = BASELINE, ps_header: str = "PS", delta_header: str = "Δ [95% CI]") -> dict:
    """A statistics row's cells under the given headers: each arm's mean ± std, then the paired difference."""
    return {baseline_header: mean_std(row[column(BASELINE, "mean")], row[column(BASELINE, "std")]),
            ps_header: mean_std(row[column(WITH_PS, "mean")], row[column(WITH_PS, "std")]),
            delta_header: paired_cell(row)}


def curve_table(summary: pd.DataFrame) -> str:
    """`psviz.analysis.stats.curve_summary` (in percent) as a table: one row per evaluated epoch."""
    return to_markdown(pd.DataFrame([{"epoch": int(r["epoch"]), **arm_cells(r)} for _, r in summary.iterrows()]))


def to_markdown(frame: pd.DataFrame) -> str:
    """A pipe table of ``frame`` (values as they print; '|' escaped)."""
    cells = [[str(v).replace("|", "\\|") for v in row] for row in frame.itertuples(index=False)]
    header = [str(c).replace("|", "\\|") for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


__all__ = ["arm_cells", "curve_table", "difference", "mean_std", "paired_cell", "relative_link", "to_markdown"]
