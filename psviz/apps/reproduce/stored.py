"""The demo's two settings in the reproduction's stored records: the effect map's toy cell and the small table's
glyphs Norm-SoftMax runs.

`psviz demo` trains the toy cell afresh and quotes these records beside it; the README's tables are checked against
them (tests/test_readme.py). The records are in a clone of the repository, not in an installed package.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from ...analysis import paired_rows
from ...base.paper import PAPER_RHO
from ...base.percent import percent
from ...train.presets import TOY_LONG_EPOCHS, TOY_SEEN_CLASSES
from ...train.records import RecordStore
from .effect_map import CORE_LOSS, LONG, EffectMapPlan, level_cells
from .effect_results import effect_table
from .plan import SMALL_SEEDS, Plan

STORED_RUNS = Path(__file__).resolve().parents[3] / "results" / "small" / "runs"  # in a clone of the repository


def toy_cell():
    """(plan, cell, epochs): the effect map's cell the demo's verdict trains: the toy preset's level, Norm-SoftMax,
    long, at the paper's ρ."""
    plan = EffectMapPlan()
    level = next(lv for lv in plan.levels if lv.dataset == "toy" and lv.classes == TOY_SEEN_CLASSES)
    cell = next(c for c in level_cells(level) if c.loss == CORE_LOSS and c.length == LONG and c.rho == PAPER_RHO)
    return plan, cell, TOY_LONG_EPOCHS[TOY_SEEN_CLASSES]


def stored_effect_table(runs: Path = STORED_RUNS) -> pd.DataFrame:
    """The effect map's unseen MAP@R table (`effect_table`, Holm over all its cells) from the records in ``runs``, at
    the long lengths rule L chose from them."""
    plan, read = EffectMapPlan(), RecordStore(runs).read
    return effect_table(plan, read, plan.long_lengths(read))


def stored_toy_line(runs: Path = STORED_RUNS) -> str | None:
    """The same cell in the effect map's stored records (docs/RESULTS.md, "When PS helps"), with its Holm-adjusted p
    over the whole pre-registered family; None where the records are not here (an installed package)."""
    if not runs.is_dir():
        return None
    plan, cell, long = toy_cell()
    table = stored_effect_table(runs)
    match = table[(table["level"] == cell.level.name) & (table["loss"] == cell.loss) &
                  (table["length"] == cell.length) & (table["mu"] == cell.mu)] if len(table) else table
    if not len(match):
        return None
    row = match.iloc[0]
    return (f"The effect map's stored runs of this cell (docs/RESULTS.md, \"When PS helps\"): "
            f"{percent(row['diff']):+.2f} [{percent(row['ci_low']):+.2f}, {percent(row['ci_high']):+.2f}] over "
            f"{int(row['n'])} seeds; Holm-adjusted over the map's {len(plan.cells())} cells, p = {row['holm_p']:.2g} "
            f"({'significant' if row['holm_significant'] else 'not significant'} at 0.05 once all are counted).")


def stored_glyphs_rows(runs: Path = STORED_RUNS) -> list[dict] | None:
    """`paired_rows` of the small table's stored glyphs Norm-SoftMax runs (every seed it has), or None."""
    if not runs.is_dir():
        return None
    read, plan = RecordStore(runs).read, Plan()
    pairs = [tuple(read(plan.config("glyphs", "norm_softmax", ps, seed)) for ps in (False, True))
             for seed in SMALL_SEEDS["glyphs"]]
    pairs = [(b["metrics"], p["metrics"]) for b, p in pairs if b is not None and p is not None]
    return paired_rows(pairs, "glyphs, stored") if pairs else None


__all__ = ["STORED_RUNS", "stored_effect_table", "stored_glyphs_rows", "stored_toy_line", "toy_cell"]
