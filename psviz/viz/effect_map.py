"""Pictures of the effect map: a forest plot of every cell's paired difference, and a heatmap of the difference over
seen classes C and synthetic classes per seen class ρ for each dataset.

Both take the table `psviz.apps.reproduce.effect_results.effect_table` makes (fractions; one row per cell with ``diff``,
``ci_low``, ``ci_high``, ``holm_significant``, ...) and draw it in points.
"""

from __future__ import annotations

import io
import math

import numpy as np
import pandas as pd
from matplotlib.figure import Figure

from ..base.percent import percent

_NEEDED = ("level", "loss", "length", "achieved_rho", "diff", "ci_low", "ci_high", "holm_significant")
LOSS_NAMES = {"norm_softmax": "Norm-SoftMax", "cosface": "CosFace", "proxy_anchor": "Proxy-Anchor"}
HELPS, HURTS, NEITHER = "#1A7F37", "#C62828", "#7A7A7A"


class ShownFigure(Figure):
    """A matplotlib figure that shows itself as a PNG in a notebook even where pyplot's inline backend is not on."""

    def _repr_png_(self) -> bytes:
        buffer = io.BytesIO()
        self.savefig(buffer, format="png", dpi=100)
        return buffer.getvalue()


def _check(table: pd.DataFrame) -> pd.DataFrame:
    if not isinstance(table, pd.DataFrame):
        raise ValueError(f"table must be a DataFrame from effect_table, got {type(table).__name__}")
    missing = [c for c in _NEEDED if c not in table.columns]
    if missing:
        raise ValueError(f"table lacks the columns {missing} (make it with psviz.reproduce.effect_table)")
    if table.empty:
        raise ValueError("table has no cells to draw")
    return table


def cell_label(row) -> str:
    """'toy-4 · Norm-SoftMax long · ρ 1.25'."""
    return (f"{row['level']} · {LOSS_NAMES.get(row['loss'], row['loss'])} {row['length']} · "
            f"ρ {row['achieved_rho']:.3g}")


def verdict_colour(row) -> str:
    """Green where PS is Holm-significantly ahead, red where it is Holm-significantly behind, grey otherwise."""
    if not row["holm_significant"]:
        return NEITHER
    return HELPS if row["diff"] > 0 else HURTS


def effect_forest(table: pd.DataFrame, *, metric_name: str = "unseen MAP@R") -> Figure:
    """One row per cell: PS − baseline in points with its 95% interval; filled and coloured where Holm-significant."""
    table = _check(table).reset_index(drop=True)
    height = 1.2 + 0.26 * len(table)
    fig = ShownFigure(figsize=(8.5, height), layout="constrained")
    ax = fig.add_subplot()
    y = np.arange(len(table))[::-1]
    for yi, (_, row) in zip(y, table.iterrows()):
        colour = verdict_colour(row)
        ax.plot([percent(row["ci_low"]), percent(row["ci_high"])], [yi, yi], color=colour, lw=1.6)
        ax.plot(percent(row["diff"]), yi, "o", ms=6, color=colour,
                markerfacecolor=colour if row["holm_significant"] else "white")
    ax.axvline(0, color="black", lw=0.8)
    ax.set_yticks(y, [cell_label(r) for _, r in table.iterrows()], fontsize=8)
    ax.set_ylim(-0.7, len(table) - 0.3)
    ax.set_xlabel(f"PS − baseline, {metric_name} (points; 95% paired t interval)")
    ax.grid(axis="x", alpha=0.3)
    handles = [ax.plot([], [], "o", color=HELPS, label="PS ahead (Holm)")[0],
               ax.plot([], [], "o", color=HURTS, label="PS behind (Holm)")[0],
               ax.plot([], [], "o", color=NEITHER, markerfacecolor="white", label="not significant")[0]]
    ax.legend(handles=handles, loc="lower left", fontsize=8, framealpha=0.9)
    return fig


def heat_grid(table: pd.DataFrame, dataset: str) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """(difference, Holm flag, achieved ρ) over C (rows) × nominal ρ (columns) for ``dataset``'s core cells
    (Norm-SoftMax, long); an extra μ cell (nominal ρ NaN) gets a column named by its achieved ρ."""
    core = _check(table)
    core = core[(core["dataset"] == dataset) & (core["loss"] == "norm_softmax") & (core["length"] == "long")]
    column = [f"{r:g}" if not math.isnan(r) else f"μ=1 ({a:.2g})" for r, a in zip(core["rho"], core["achieved_rho"])]
    core = core.assign(column=column)
    order = sorted(set(column), key=lambda c: float(c.split("(")[-1].rstrip(")")) if "(" in c else float(c))
    grids = [core.pivot_table(index="classes", columns="column", values=value, aggfunc="first").reindex(columns=order)
             for value in ("diff", "holm_significant", "achieved_rho")]
    return grids[0], grids[1], grids[2]


def effect_heatmaps(table: pd.DataFrame) -> Figure:
    """For each dataset, PS − baseline in points over seen classes C × synthetic classes per seen class ρ (Norm-SoftMax,
    long); the colour scale is shared and centred on 0, a bold ✱ marks Holm-significant cells."""
    datasets = list(dict.fromkeys(_check(table)["dataset"]))
    grids = {d: heat_grid(table, d) for d in datasets}
    bound = max(1.0, max(float(np.nanmax(np.abs(percent(g[0].to_numpy(float))))) for g in grids.values()))
    fig = ShownFigure(figsize=(5.2 * len(datasets), 4.0), layout="constrained")
    axes = fig.subplots(1, len(datasets), squeeze=False)[0]
    for ax, dataset in zip(axes, datasets):
        diff, flag, rho = grids[dataset]
        image = ax.imshow(percent(diff.to_numpy(float)), cmap="RdBu", vmin=-bound, vmax=bound, aspect="auto")
        for (i, j), value in np.ndenumerate(percent(diff.to_numpy(float))):
            if not math.isnan(value):
                star = "✱" if flag.iloc[i, j] is True or flag.iloc[i, j] == 1 else ""
                ax.text(j, i, f"{value:+.1f}{star}\nρ {rho.iloc[i, j]:.3g}", ha="center", va="center", fontsize=9,
                        color="white" if abs(value) > 0.6 * bound else "black",
                        fontweight="bold" if star else "normal")
        ax.set_xticks(range(diff.shape[1]), [c.split(" ")[0] if "(" in c else c for c in diff.columns])
        ax.set_yticks(range(diff.shape[0]), [str(c) for c in diff.index])
        ax.set_xlabel("synthetic classes per seen class per batch, ρ (nominal)")
        ax.set_ylabel("seen classes C")
        ax.set_title(f"{dataset}: PS − baseline, unseen MAP@R (points)", fontsize=10)
    fig.colorbar(image, ax=list(axes), shrink=0.85, label="points (blue: PS ahead)")
    return fig


__all__ = ["HELPS", "HURTS", "NEITHER", "ShownFigure", "cell_label", "effect_forest", "effect_heatmaps", "heat_grid",
           "verdict_colour"]
