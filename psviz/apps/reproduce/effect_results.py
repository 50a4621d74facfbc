"""The effect map's numbers from stored records: one row per cell (the paired difference, its interval, the t, Holm
and sign-flip p-values), and the teaching default chosen by rule T on the baseline alone."""

from __future__ import annotations

import numpy as np
import pandas as pd

from ...analysis.stats import CONFIDENCE, holm, paired_row
from .effect_map import CORE_LOSS, TEACHING_RULE, Cell, EffectMapPlan, Level

FAMILYWISE = 1 - CONFIDENCE  # Holm's familywise error rate
PRIMARY, SECONDARY = "map@r", "recall@1"


def _paired_values(plan: EffectMapPlan, cell: Cell, long: int, read, metric: str) -> tuple[list, list, list]:
    """(seeds, baseline values, PS values) over the cell's seeds that both arms finished."""
    seeds, base, ps = [], [], []
    for seed in cell.level.seeds:
        records = [read(config) for config in plan.cell_configs(cell, long, seed)]
        if all(r is not None for r in records):
            seeds.append(seed)
            base.append(records[0]["metrics"][metric])
            ps.append(records[1]["metrics"][metric])
    return seeds, base, ps


def cell_row(plan: EffectMapPlan, cell: Cell, long: int, read, metric: str = PRIMARY) -> dict:
    """One cell's comparison (fractions): arm means, the paired difference with its t interval and p, and the exact
    sign-flip p."""
    seeds, base, ps = _paired_values(plan, cell, long, read, metric)
    epochs = plan.cell_configs(cell, long, 0)[0].epochs
    return {"dataset": cell.level.dataset, "classes": cell.level.classes, "level": cell.level.name, "loss": cell.loss,
            "length": cell.length, "epochs": epochs, "rho": cell.rho, "achieved_rho": cell.achieved_rho,
            "mu": cell.mu, "synthetic": cell.synthetic, "planned": len(cell.level.seeds), **paired_row(base, ps),
            "seeds": seeds}


def with_holm(frame: pd.DataFrame, familywise: float = FAMILYWISE, family_size: int | None = None) -> pd.DataFrame:
    """Adds Holm-adjusted p-values over the frame's rows as one family of ``family_size`` tests (default: the rows;
    cells not stored yet count as p = 1, which keeps the adjustment valid while a study is incomplete), the verdicts
    at ``familywise``, whether the t-test and the exact sign-flip test agree unadjusted, and whether each cell has
    every planned seed."""
    out = frame.copy()
    missing = max(0, (family_size or len(out)) - len(out))
    out["holm_p"] = holm([*out["p"].to_numpy(float), *[1.0] * missing])[:len(out)] if len(out) else []
    out["holm_significant"] = out["holm_p"] < familywise
    out["tests_agree"] = (out["p"] < familywise) == (out["sign_flip_p"] < familywise)
    out["complete"] = out["n"] == out["planned"]
    return out


def effect_table(plan: EffectMapPlan, read, lengths: dict[str, int], metric: str = PRIMARY) -> pd.DataFrame:
    """Every cell whose level has a length and at least one finished pair, with Holm across all the plan's cells (the
    pre-registered family; cells without runs count as p = 1)."""
    rows = [cell_row(plan, cell, lengths[cell.level.name], read, metric) for cell in plan.cells()
            if cell.level.name in lengths]
    frame = pd.DataFrame([row for row in rows if row["n"] > 0])
    return with_holm(frame, family_size=len(plan.cells())) if len(frame) else frame


def baseline_spread(plan: EffectMapPlan, level: Level, long: int, read, metric: str = PRIMARY) -> dict:
    """The Norm-SoftMax baseline at ``long`` over the level's seeds: mean, sample std and n of unseen ``metric``."""
    values = [r["metrics"][metric] for seed in level.seeds
              if (r := read(plan.config(level, CORE_LOSS, False, seed, long))) is not None]
    return {"level": level.name, "classes": level.classes, "mean": float(np.mean(values)) if values else np.nan,
            "std": float(np.std(values, ddof=1)) if len(values) > 1 else np.nan, "n": len(values),
            "planned": len(level.seeds)}


def teaching_level(plan: EffectMapPlan, read, lengths: dict[str, int], rule: dict = TEACHING_RULE
                   ) -> tuple[Level | None, pd.DataFrame, str]:
    """Rule T on the baseline alone: the smallest toy level whose baseline mean lies in [low, high] with a sample std
    of at most ``max_std``; if none, the one whose mean is closest to ``target``. (None, ..., why) until every toy
    level's baseline is complete."""
    toys = [level for level in plan.levels if level.dataset == "toy"]
    table = pd.DataFrame([baseline_spread(plan, level, lengths[level.name], read) for level in toys
                          if level.name in lengths])
    if len(table) < len(toys) or (table["n"] < table["planned"]).any():
        return None, table, "incomplete"
    table["qualifies"] = table["mean"].between(rule["low"], rule["high"]) & (table["std"] <= rule["max_std"])
    by_name = {level.name: level for level in toys}
    if table["qualifies"].any():
        return by_name[table.loc[table["qualifies"], "level"].iloc[0]], table, "in range"
    closest = (table["mean"] - rule["target"]).abs().idxmin()
    return by_name[table.loc[closest, "level"]], table, "closest to target"


__all__ = ["FAMILYWISE", "PRIMARY", "SECONDARY", "baseline_spread", "cell_row", "effect_table",
           "teaching_level", "with_holm"]
