"""Per-run records to tables: mean ± sample std per arm, and the paired-by-seed difference with its 95% CI.

Every value stays in the unit the records hold it in (retrieval metrics are fractions in [0, 1]); `in_percent` turns
a table into percent where it is rendered (the CSVs, the Markdown), and figures scale their own axes.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

from ..base.names import ARMS, BASELINE, TABLE_METRICS, WITH_PS, column
from ..base.percent import percent
from .grid import summarise_grid

CONFIDENCE = 0.95
SPREAD = ("mean", "std", "n")  # what `spread` gives for a sample


def runs_frame(records: list[dict]) -> pd.DataFrame:
    """One row per run: dataset, loss, ps, alpha, mu, seed, epochs, the table metrics (fractions), seconds."""
    rows = []
    for record in records:
        c, m = record["config"], record.get("metrics", {})
        rows.append({"dataset": c["dataset"], "loss": c["loss"], "ps": bool(c["ps"]),
                     "alpha": c["alpha"] if c["ps"] else np.nan, "mu": c["mu"] if c["ps"] else np.nan,
                     "seed": c["seed"], "epochs": c["epochs"], **{k: m.get(k, np.nan) for k in TABLE_METRICS},
                     "seconds": record.get("seconds", np.nan)})
    columns = ["dataset", "loss", "ps", "alpha", "mu", "seed", "epochs", *TABLE_METRICS, "seconds"]
    return pd.DataFrame(rows, columns=columns)


def spread(values) -> dict:
    """{"mean", "std", "n"} of ``values`` with NaN left out; the std is the sample std (ddof=1), NaN below two."""
    values = pd.Series(values, dtype=float).dropna()
    return {"mean": values.mean(), "std": values.std(ddof=1) if len(values) > 1 else np.nan, "n": len(values)}


def significant(p: float) -> bool:
    """Whether a paired difference with two-sided p-value ``p`` is significant at `CONFIDENCE` (NaN: no)."""
    return bool(p < 1 - CONFIDENCE) if not math.isnan(p) else False


def paired_difference(baseline, with_ps, confidence: float = CONFIDENCE) -> dict:
    """PS − baseline paired by seed: mean, t-interval and two-sided paired t-test p (NaN below two pairs)."""
    base, ps = np.asarray(baseline, float), np.asarray(with_ps, float)
    if base.shape != ps.shape:
        raise ValueError(f"paired samples need equal lengths, got {base.size} and {ps.size}")
    diff = ps - base
    n = diff.size
    if n == 0:
        return {"diff": np.nan, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "n": 0}
    mean = float(diff.mean())
    if n < 2:
        return {"diff": mean, "ci_low": np.nan, "ci_high": np.nan, "p": np.nan, "n": 1}
    sd = float(diff.std(ddof=1))
    half = float(stats.t.ppf(0.5 + confidence / 2, n - 1)) * sd / math.sqrt(n)
    p = float(stats.ttest_rel(ps, base).pvalue) if sd > 0 else (0.0 if mean != 0 else 1.0)
    return {"diff": mean, "ci_low": mean - half, "ci_high": mean + half, "p": p, "n": n}


def holm(pvalues) -> np.ndarray:
    """Holm–Bonferroni step-down adjusted p-values, in the input's order: the i-th smallest of m p-values times
    (m − i + 1), made monotone (never below an adjusted p of a smaller p-value) and capped at 1. NaN stays NaN and is
    not counted in m."""
    p = np.asarray(pvalues, float).ravel()
    adjusted = np.full(p.shape, np.nan)
    found = np.flatnonzero(~np.isnan(p))
    order = found[np.argsort(p[found], kind="stable")]
    scaled = (len(order) - np.arange(len(order))) * p[order]
    adjusted[order] = np.minimum(np.maximum.accumulate(scaled), 1.0)
    return adjusted


def sign_flip_p(differences) -> float:
    """Exact two-sided paired sign-flip permutation p-value: the share of all 2^n sign patterns of the ``n`` paired
    ``differences`` whose mean is at least as far from 0 as the observed mean (within 1e-12). With n pairs it is never
    below 2 / 2^n (NaN for no pairs)."""
    d = np.asarray(differences, float).ravel()
    if d.size == 0:
        return float("nan")
    if d.size > 20:
        raise ValueError(f"an exact sign-flip test enumerates 2^n patterns; n = {d.size} is too many (at most 20)")
    bits = (np.arange(2 ** d.size)[:, None] >> np.arange(d.size)) & 1
    means = np.abs(((1 - 2 * bits) * d).mean(axis=1))
    return float(np.mean(means >= abs(d.mean()) - 1e-12))


def paired_row(baseline: list, with_ps: list) -> dict:
    """Both arms' means, the paired difference (`paired_difference`) and the exact sign-flip p of values paired by
    seed (NaN where nothing is paired)."""
    return {"baseline_mean": float(np.mean(baseline)) if baseline else np.nan,
            "ps_mean": float(np.mean(with_ps)) if with_ps else np.nan, **paired_difference(baseline, with_ps),
            "sign_flip_p": sign_flip_p(np.subtract(with_ps, baseline)) if baseline else np.nan}


def _pairs(frame: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Baseline and PS values for the seeds both arms finished, in seed order."""
    table = frame.pivot_table(index="seed", columns="ps", values=metric, aggfunc="first")
    if False not in table.columns or True not in table.columns:
        return np.array([]), np.array([])
    table = table.dropna(subset=[False, True])
    return table[False].to_numpy(), table[True].to_numpy()


def _arm_spreads(frame: pd.DataFrame, value: str, statistics=SPREAD) -> dict:
    """Each arm's `spread` of the ``value`` column, as columns baseline_mean, baseline_std, ..., ps_n."""
    out = {}
    for arm, ps in ARMS:
        found = spread(frame.loc[frame["ps"] == ps, value])
        out.update({column(arm, statistic): found[statistic] for statistic in statistics})
    return out


def compare(frame: pd.DataFrame, by=("dataset", "loss"), metrics=TABLE_METRICS) -> pd.DataFrame:
    """One row per group and metric: each arm's mean, sample std (ddof=1) and n, and the paired difference."""
    rows = []
    for keys, group in frame.groupby(list(by), sort=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        for metric in metrics:
            row = {**dict(zip(by, keys)), "metric": metric, **_arm_spreads(group, metric),
                   **paired_difference(*_pairs(group, metric))}
            row["significant"] = significant(row["p"])
            rows.append(row)
    return pd.DataFrame(rows)


def _difference_by_seed(baseline: pd.Series, values: pd.Series) -> dict:
    """The paired difference of two series indexed by seed, over the seeds both have, with its significance."""
    seeds = sorted(set(values.dropna().index) & set(baseline.dropna().index))
    row = {k: v for k, v in paired_difference(baseline[seeds], values[seeds]).items() if k != "n"}
    return {**row, "significant": significant(row["p"])}


def ablation_cells(frame: pd.DataFrame, metric: str = "map@r") -> pd.DataFrame:
    """Per (α, μ) cell: mean ± sample std over seeds (`summarise_grid`, which the heatmap draws), and the
    paired difference to the baseline's runs of the same seeds."""
    cells = summarise_grid(frame, metric)
    cells = cells[cells["ps"].astype(bool)].drop(columns="ps").reset_index(drop=True)
    base = frame[~frame["ps"]].set_index("seed")[metric]
    differences = []
    for alpha, mu in zip(cells["alpha"], cells["mu"]):
        cell = frame[frame["ps"] & (frame["alpha"] == alpha) & (frame["mu"] == mu)]
        differences.append(_difference_by_seed(base, cell.set_index("seed")[metric]))
    return pd.concat([cells, pd.DataFrame(differences, index=cells.index)], axis=1)


def curves_frame(records: list[dict], metric: str = "map@r") -> pd.DataFrame:
    """Unseen ``metric`` (a fraction) per epoch, run and arm: columns ps, seed, epoch, value."""
    rows = [{"ps": bool(r["config"]["ps"]), "seed": r["config"]["seed"], "epoch": h["epoch"],
             "value": h[f"unseen/{metric}"]}
            for r in records for h in r["history"] if f"unseen/{metric}" in h]
    return pd.DataFrame(rows, columns=["ps", "seed", "epoch", "value"])


def curve_summary(curves: pd.DataFrame) -> pd.DataFrame:
    """Per epoch: each arm's mean and sample std over seeds, and the paired difference with its 95% CI."""
    rows = [{"epoch": epoch, **_arm_spreads(group, "value", ("mean", "std")),
             **paired_difference(*_pairs(group, "value"))}
            for epoch, group in curves.groupby("epoch")]
    return pd.DataFrame(rows)


# The columns of these tables that hold metric values (fractions): the CSVs and reports show them in percent.
_METRIC_COLUMNS = {*TABLE_METRICS, "value", "mean", "std", "diff", "ci_low", "ci_high",
                   *(column(arm, statistic) for arm in (BASELINE, WITH_PS) for statistic in ("mean", "std"))}


def in_percent(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of one of these tables with its metric values in percent (p-values, counts and flags unchanged)."""
    return frame.assign(**{name: percent(frame[name]) for name in frame.columns if name in _METRIC_COLUMNS})


__all__ = ["CONFIDENCE", "SPREAD", "ablation_cells", "compare", "curve_summary", "curves_frame", "holm", "in_percent",
           "paired_difference", "paired_row", "runs_frame", "sign_flip_p", "significant", "spread"]
