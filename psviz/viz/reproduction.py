"""The training-length figure of `psviz reproduce`: unseen MAP@R per epoch, baseline vs PS, mean ± std over seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

_ARMS = (("baseline", "baseline (no PS)", "#444444"), ("ps", "with Proxy Synthesis", "#2E91E5"))


def length_curves(summary: pd.DataFrame, *, short_epoch: int | None = None, title: str = "",
                  metric_label: str = "unseen MAP@R (%)") -> Figure:
    """Two panels: each arm's mean with a ±1 std band, then PS − baseline (paired) with its 95% CI band.

    ``summary`` has columns epoch, baseline_mean, baseline_std, ps_mean, ps_std, diff, ci_low, ci_high (as
    `psviz.reproduce.stats.curve_summary` makes it). ``short_epoch`` draws the short budget as a dotted line.
    """
    needed = {"epoch", "baseline_mean", "baseline_std", "ps_mean", "ps_std", "diff", "ci_low", "ci_high"}
    missing = needed - set(summary.columns)
    if missing:
        raise ValueError(f"summary lacks columns {sorted(missing)}")
    if summary.empty:
        raise ValueError("summary has no epochs to draw")
    fig = Figure(figsize=(8.5, 6.2), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    epochs = summary["epoch"].to_numpy()
    for key, label, colour in _ARMS:
        mean = summary[f"{key}_mean"].to_numpy(float)
        std = np.nan_to_num(summary[f"{key}_std"].to_numpy(float))
        top.plot(epochs, mean, marker="o", markersize=3, color=colour, label=label)
        top.fill_between(epochs, mean - std, mean + std, color=colour, alpha=0.18, linewidth=0)
    peak = int(summary["baseline_mean"].idxmax())
    top.annotate(f"baseline peak: epoch {epochs[peak]}", (epochs[peak], summary["baseline_mean"].iloc[peak]),
                 xytext=(0, 12), textcoords="offset points", ha="center", fontsize=8)
    top.set(ylabel=metric_label, title=title or "Unseen classes during training (mean ± 1 sample std over seeds)")
    top.legend(loc="lower right", fontsize=8)
    bottom.axhline(0, color="black", linewidth=0.8)
    bottom.plot(epochs, summary["diff"], marker="o", markersize=3, color="#B68100", label="PS − baseline (paired)")
    bottom.fill_between(epochs, summary["ci_low"], summary["ci_high"], color="#B68100", alpha=0.2, linewidth=0,
                        label="95% CI of the paired difference")
    bottom.set(xlabel="epoch", ylabel="difference (points)")
    bottom.legend(loc="best", fontsize=8)
    if short_epoch is not None:
        for ax in (top, bottom):
            ax.axvline(short_epoch, color="grey", linestyle=":", linewidth=1)
        top.annotate("short budget", (short_epoch, 0.02), xycoords=("data", "axes fraction"), xytext=(3, 0),
                     textcoords="offset points", fontsize=8, color="grey")
    for ax in (top, bottom):
        ax.grid(alpha=0.3)
    return fig


__all__ = ["length_curves"]
