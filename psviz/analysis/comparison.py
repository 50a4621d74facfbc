"""Runs of one setting under named arms, and the rows comparing them metric by metric in percent.

`Comparison` is what the figures, tables and measures take: the demo's glyphs pair, notebooks 02 and 03. Its rows
are the numbers `psviz demo` prints and the demo page (`psviz.viz.page`) lays out; the reproduction's own tables
are `psviz.analysis.stats`'s.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from ..base.names import BASELINE, RUN_METRICS, TABLE_METRICS, WITH_PS, folder_name
from ..base.percent import percent
from ..train import FitResult, export_embeddings, load_run, mechanism_measures
from ..train.mechanism import MEASURE_NAMES
from .stats import paired_row
from .text import measure_label, measure_shown


def comparison_rows(baseline: dict, with_ps: dict) -> list[dict]:
    """One run per arm: a row per metric of `RUN_METRICS` with each arm's value and the difference, in percent
    (points for the difference)."""
    return [{"metric": m, BASELINE: percent(baseline[m]), WITH_PS: percent(with_ps[m]),
             "difference": percent(with_ps[m] - baseline[m])} for m in RUN_METRICS if m in baseline and m in with_ps]


def paired_rows(pairs: list[tuple[dict, dict]], section: str) -> list[dict]:
    """``pairs`` of (baseline, PS) metric dicts, one per seed -> a row per metric of `TABLE_METRICS`: each arm's mean,
    the paired difference with its 95% t interval, and how many seeds PS was ahead on (percent and points)."""
    rows = []
    for metric in TABLE_METRICS:
        base = [percent(b[metric]) for b, _ in pairs]
        ps = [percent(p[metric]) for _, p in pairs]
        row = paired_row(base, ps)
        rows.append({"section": section, "metric": metric, BASELINE: row["baseline_mean"], WITH_PS: row["ps_mean"],
                     "difference": row["diff"], "ci_low": row["ci_low"], "ci_high": row["ci_high"], "n": row["n"],
                     "ps_ahead": sum(p > b for b, p in zip(base, ps))})
    return rows


class Comparison(dict):
    """Trained runs (`FitResult`) of one setting by arm name, usually `names.ARMS`' baseline and with PS.

    A dict, so every figure that takes a dict of runs takes a Comparison; it adds what is asked of the arms
    together: their metrics, histories, embeddings and mechanism measures, and the rows comparing them.
    """

    def __init__(self, runs: Mapping = (), /, **named):
        super().__init__(runs, **named)
        if not self:
            raise ValueError("a Comparison needs at least one run, e.g. Comparison({'baseline': run, 'with PS': run})")
        wrong = [name for name, run in self.items() if not isinstance(run, FitResult)]
        if wrong:
            raise ValueError(f"runs must be FitResults (psviz.train.fit or load_run); not for {wrong}")

    @classmethod
    def load(cls, run_dirs: Mapping[str, str | Path] | str | Path, checkpoint: str = "best", *,
             device: str | None = None) -> Comparison:
        """The runs saved in ``run_dirs`` (arm name -> run folder, or one folder with a folder per arm, as the
        demo's ``glyphs/`` holds ``baseline/`` and ``with_ps/``), reopened with `psviz.train.load_run`."""
        if isinstance(run_dirs, (str, Path)):
            folder = Path(run_dirs)
            run_dirs = {arm: folder / folder_name(arm) for arm in (BASELINE, WITH_PS)
                        if (folder / folder_name(arm)).is_dir()}
            if not run_dirs:
                raise ValueError(f"{folder} holds no {folder_name(BASELINE)}/ or {folder_name(WITH_PS)}/ run folder")
        return cls({name: load_run(where, checkpoint, device=device) for name, where in run_dirs.items()})

    def metrics(self, split: str = "unseen") -> dict[str, dict]:
        """Each arm's latest evaluated metrics of ``split`` (fractions)."""
        return {name: run.last_metrics(split) for name, run in self.items()}

    def histories(self) -> dict[str, list[dict]]:
        """Each arm's per-epoch history."""
        return {name: run.history for name, run in self.items()}

    def rows(self, split: str = "unseen") -> list[dict]:
        """`comparison_rows` of the baseline and the PS arm on ``split``."""
        missing = {BASELINE, WITH_PS} - set(self)
        if missing:
            raise ValueError(f"rows compare the arms {BASELINE!r} and {WITH_PS!r}; "
                             f"this Comparison lacks {sorted(missing)}")
        metrics = self.metrics(split)
        return comparison_rows(metrics[BASELINE], metrics[WITH_PS])

    def exports(self, **options) -> dict:
        """Each arm's embeddings (`psviz.train.export_embeddings`, same options for every arm)."""
        return {name: export_embeddings(run, **options) for name, run in self.items()}

    def measures(self, seed: int = 0) -> dict[str, dict]:
        """Each arm's mechanism measures (`psviz.train.mechanism_measures`; ``seed`` draws the batches the synthetic
        points are made from)."""
        return {name: mechanism_measures(run, seed=seed) for name, run in self.items()}

    def measures_table(self, seed: int = 0) -> pd.DataFrame:
        """The measures by name (percent where they are shares) and the final unseen R@1 and MAP@R, a column an arm,
        rounded to 2 decimals."""
        columns = {}
        for name, measures in self.measures(seed).items():
            column = {measure_label(k): measure_shown(k, v) for k, v in measures.items() if k in MEASURE_NAMES}
            last = self[name].last_metrics()
            column.update({"unseen R@1, %": percent(last["recall@1"]), "unseen MAP@R, %": percent(last["map@r"])})
            columns[name] = column
        return pd.DataFrame(columns).round(2)


__all__ = ["Comparison", "comparison_rows", "paired_rows"]
