"""The reproduction's figures: the numbers the reports computed, drawn and saved as PNGs beside docs/RESULTS.md.

The one module of `psviz.apps.reproduce` that imports the pictures layer (`psviz.viz`), and only when it draws: reading
records and computing the tables needs no plotting library (tests/test_architecture.py checks that no other module of
reproduce imports viz).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...base.names import BASELINE, DATASET_TITLES, WITH_PS
from .plan import Plan
from .regime_report import RegimeResults


def write_figures(results, plan: Plan, images: str | Path) -> dict[str, Path]:
    """The training-length, ablation and regime figures of ``results`` (a `psviz.apps.reproduce.report.SmallResults`),
    each drawn from fractions, with axes in percent."""
    from ...viz import ablation_heatmap, length_curves, save_figure

    images = Path(images)
    written = {}
    if len(results.curve_summary):
        short = plan.budgets[plan.curve_dataset]["epochs"]
        fig = length_curves(results.curve_summary, short_epoch=short,
                            title=f"{plan.curve_loss} on {plan.curve_dataset}: unseen MAP@R per epoch "
                                  f"(mean ± 1 sample std over {results.curves['seed'].nunique()} seeds)")
        written["curves"] = save_figure(fig, images / "reproduce_training_length.png")
    if len(results.ablation_runs):
        fig = ablation_heatmap(results.ablation_runs, "map@r", alphas=plan.ablation_alphas, mus=plan.ablation_mus,
                               backend="matplotlib")
        written["ablation"] = save_figure(fig, images / "reproduce_ablation.png")
    if results.regime is not None:
        written["regime"] = write_regime_figures(results.regime, images)
    return written


def write_regime_figures(results: RegimeResults, images: str | Path) -> dict[str, Path]:
    """docs/images/regime_<dataset>_gap.png for each chosen regime with both arms stored."""
    from ...viz import generalisation_gap, save_figure

    written = {}
    for dataset, arms in results.chosen.items():
        if not arms.records[BASELINE] or not arms.records[WITH_PS]:
            continue
        runs = {arm: [r["history"] for r in records] for arm, records in arms.records.items()}
        fig = generalisation_gap(runs, backend="matplotlib",
                                 title=f"{DATASET_TITLES.get(dataset, dataset)}, regime '{arms.candidate.name}': "
                                       f"held-out seen vs unseen MAP@R")
        written[dataset] = save_figure(fig, Path(images) / f"regime_{dataset}_gap.png")
    return written


def write_effect_figures(table: pd.DataFrame, images: Path) -> dict[str, Path]:
    """The effect map's forest plot and heatmaps of ``table`` (`psviz.apps.reproduce.effect_table`), as
    ``images``/effect_map_forest.png and effect_map_heatmap.png."""
    from ...viz.effect_map import effect_forest, effect_heatmaps

    images.mkdir(parents=True, exist_ok=True)
    figures = {"effect_forest": images / "effect_map_forest.png", "effect_heatmap": images / "effect_map_heatmap.png"}
    effect_forest(table).savefig(figures["effect_forest"], dpi=110)
    effect_heatmaps(table).savefig(figures["effect_heatmap"], dpi=110)
    return figures


__all__ = ["write_effect_figures", "write_figures", "write_regime_figures"]
