"""Markdown tables: written from a DataFrame of strings, and read back (so tests can check what a report says)."""

from __future__ import annotations

import math

import pandas as pd


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


def to_markdown(frame: pd.DataFrame) -> str:
    """A pipe table of ``frame`` (values as they print; '|' escaped)."""
    cells = [[str(v).replace("|", "\\|") for v in row] for row in frame.itertuples(index=False)]
    header = [str(c).replace("|", "\\|") for c in frame.columns]
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(row) + " |" for row in cells]
    return "\n".join(lines)


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


__all__ = ["difference", "mean_std", "parse_difference", "parse_mean_std", "read_tables", "to_markdown"]
