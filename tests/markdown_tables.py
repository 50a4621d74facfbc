"""Read back the Markdown that `psviz reproduce` writes: pipe tables as DataFrames, and the numbers in their cells.

Tests use these to check what a report says against the CSVs it was written from.
"""

from __future__ import annotations

import math

import pandas as pd


def read_tables(text: str) -> list[pd.DataFrame]:
    """Every pipe table in ``text``, as DataFrames of strings (header row as columns)."""
    tables, block = [], []
    for line in text.splitlines() + [""]:
        if line.startswith("|"):
            block.append(line)
            continue
        if len(block) >= 2 and set(block[1].replace("|", "").strip()) <= set("-: "):
            rows = [_cells(row) for row in block]
            width = len(rows[0])
            bad = [r for r in rows[2:] if len(r) != width]
            if bad:
                raise ValueError(f"a table row has {len(bad[0])} cells, its header {width}: {bad[0]}")
            tables.append(pd.DataFrame(rows[2:], columns=rows[0]))
        block = []
    return tables


def _cells(line: str) -> list[str]:
    """The cells of one table row, '\\|' read as a '|' inside a cell."""
    inner = line.strip()[1:-1] if line.strip().endswith("|") else line.strip()[1:]
    parts, current, escaped = [], "", False
    for ch in inner:
        if escaped:
            current, escaped = current + ch, False
        elif ch == "\\":
            escaped = True
        elif ch == "|":
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    return parts + [current.strip()]


def parse_mean_std(text: str) -> tuple[float, float]:
    """'97.10 ± 0.21' -> (97.10, 0.21); '97.10' -> (97.10, nan)."""
    mean, _, std = text.partition("±")
    return float(mean), float(std) if std.strip() else math.nan


def parse_difference(text: str) -> tuple[float, float, float, bool]:
    """'+0.35 [-0.10, +0.80] *' -> (0.35, -0.10, 0.80, True)."""
    significant = text.rstrip().endswith("*")
    text = text.rstrip(" *")
    head, _, interval = text.partition("[")
    if interval:
        low, high = (float(v) for v in interval.rstrip("]").split(","))
    else:
        low = high = math.nan
    return float(head), low, high, significant
