"""The training-length figure of `psviz reproduce`: unseen MAP@R per epoch, baseline vs PS, mean ± std over seeds."""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..base.names import BASELINE, WITH_PS, column
from ..base.percent import percent

_ARMS = ((BASELINE, "baseline (no PS)", "#444444"), (WITH_PS, "with Proxy Synthesis", "#2E91E5"))
_DIFFERENCE = ("diff", "ci_low", "ci_high")


def length_curves(summary: pd.DataFrame, *, short_epoch: int | None = None, title: str = "",
                  metric_label: str = "unseen MAP@R (%)") -> Figure:
    """Two panels: each arm's mean with a ±1 std band, then PS − baseline (paired) with its 95% CI band, in percent.

    ``summary`` has columns epoch, baseline_mean, baseline_std, ps_mean, ps_std, diff, ci_low, ci_high, in fractions
    (as `psviz.analysis.stats.curve_summary` makes it). ``short_epoch`` draws the short budget as a dotted line.
    """
    needed = {"epoch", *_DIFFERENCE, *(column(arm, s) for arm, _, _ in _ARMS for s in ("mean", "std"))}
    missing = needed - set(summary.columns)
    if missing:
        raise ValueError(f"summary lacks columns {sorted(missing)}")
    if summary.empty:
        raise ValueError("summary has no epochs to draw")
    shown = summary.assign(**{name: percent(summary[name]) for name in needed - {"epoch"}})
    fig = Figure(figsize=(8.5, 6.2), layout="constrained")
    top, bottom = fig.subplots(2, 1, sharex=True, height_ratios=(3, 2))
    epochs = shown["epoch"].to_numpy()
    for arm, label, colour in _ARMS:
        mean = shown[column(arm, "mean")].to_numpy(float)
        std = np.nan_to_num(shown[column(arm, "std")].to_numpy(float))
        top.plot(epochs, mean, marker="o", markersize=3, color=colour, label=label)
        top.fill_between(epochs, mean - std, mean + std, color=colour, alpha=0.18, linewidth=0)
    baseline = shown[column(BASELINE, "mean")]
    peak = int(baseline.idxmax())
    top.annotate(f"baseline peak: epoch {epochs[peak]}", (epochs[peak], baseline.iloc[peak]),
                 xytext=(0, 12), textcoords="offset points", ha="center", fontsize=8)
    top.set(ylabel=metric_label, title=title or "Unseen classes during training (mean ± 1 sample std over seeds)")
    top.legend(loc="lower right", fontsize=8)
    bottom.axhline(0, color="black", linewidth=0.8)
    bottom.plot(epochs, shown["diff"], marker="o", markersize=3, color="#B68100", label="PS − baseline (paired)")
    bottom.fill_between(epochs, shown["ci_low"], shown["ci_high"], color="#B68100", alpha=0.2, linewidth=0,
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
