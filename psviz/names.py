"""The names psviz gives its concepts, kept in one place so every module says the same thing."""

from __future__ import annotations

# The two runs a comparison holds: the same config without and with Proxy Synthesis. Dicts of runs, tables and
# figures key them by these names; `ARMS` pairs each with its `TrainConfig.ps`.
BASELINE = "baseline"
WITH_PS = "with PS"
ARMS = ((BASELINE, False), (WITH_PS, True))

__all__ = ["ARMS", "BASELINE", "WITH_PS"]
