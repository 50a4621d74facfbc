"""Fractions to percent: metrics are fractions in [0, 1] in code and become percent (differences: percentage points)
only where text, tables or axes show them, through this one function."""

from __future__ import annotations


def percent(fraction):
    """``fraction`` (a float, array, tensor or pandas object) in percent; a difference of fractions in points."""
    return 100 * fraction


__all__ = ["percent"]
