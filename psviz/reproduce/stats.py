"""Per-run records to tables: mean ± sample std per arm, and the paired-by-seed difference with its 95% CI."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
from scipy import stats

METRICS = ("recall@1", "r_precision", "map@r")
CONFIDENCE = 0.95


def runs_frame(records: list[dict]) -> pd.DataFrame:
    """One row per run: dataset, loss, ps, alpha, mu, seed, epochs, the metrics in percent, seconds."""
    rows = []
    for record in records:
        c, m = record["config"], record.get("metrics", {})
        rows.append({"dataset": c["dataset"], "loss": c["loss"], "ps": bool(c["ps"]),
                     "alpha": c["alpha"] if c["ps"] else np.nan, "mu": c["mu"] if c["ps"] else np.nan,
                     "seed": c["seed"], "epochs": c["epochs"],
                     **{k: 100.0 * m[k] if k in m else np.nan for k in METRICS},
                     "seconds": record.get("seconds", np.nan)})
    columns = ["dataset", "loss", "ps", "alpha", "mu", "seed", "epochs", *METRICS, "seconds"]
    return pd.DataFrame(rows, columns=columns)


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


def _pairs(frame: pd.DataFrame, metric: str) -> tuple[np.ndarray, np.ndarray]:
    """Baseline and PS values for the seeds both arms finished, in seed order."""
    table = frame.pivot_table(index="seed", columns="ps", values=metric, aggfunc="first")
    if False not in table.columns or True not in table.columns:
        return np.array([]), np.array([])
    table = table.dropna(subset=[False, True])
    return table[False].to_numpy(), table[True].to_numpy()


def compare(frame: pd.DataFrame, by=("dataset", "loss"), metrics=METRICS) -> pd.DataFrame:
    """One row per group and metric: each arm's mean, sample std (ddof=1) and n, and the paired difference."""
    rows = []
    for keys, group in frame.groupby(list(by), sort=False):
        keys = keys if isinstance(keys, tuple) else (keys,)
        for metric in metrics:
            arms = {ps: group.loc[group["ps"] == ps, metric].dropna() for ps in (False, True)}
            base, ps = _pairs(group, metric)
            row = dict(zip(by, keys), metric=metric)
            for ps_on, name in ((False, "baseline"), (True, "ps")):
                values = arms[ps_on]
                row[f"{name}_mean"] = values.mean() if len(values) else np.nan
                row[f"{name}_std"] = values.std(ddof=1) if len(values) > 1 else np.nan
                row[f"{name}_n"] = len(values)
            row.update(paired_difference(base, ps))
            row["significant"] = bool(row["p"] < 1 - CONFIDENCE) if not math.isnan(row["p"]) else False
            rows.append(row)
    return pd.DataFrame(rows)


def ablation_cells(frame: pd.DataFrame, metric: str = "map@r") -> pd.DataFrame:
    """Per (α, μ) cell: mean ± sample std over seeds, and the paired difference to the baseline's same seeds."""
    base = frame[~frame["ps"]].set_index("seed")[metric]
    rows = []
    for (alpha, mu), cell in frame[frame["ps"]].groupby(["alpha", "mu"]):
        values = cell.set_index("seed")[metric]
        seeds = sorted(set(values.dropna().index) & set(base.dropna().index))
        row = {"alpha": alpha, "mu": mu, "mean": values.mean(),
               "std": values.std(ddof=1) if len(values) > 1 else np.nan, "n": len(values)}
        row.update({k: v for k, v in paired_difference(base[seeds], values[seeds]).items() if k != "n"})
        row["significant"] = bool(row["p"] < 1 - CONFIDENCE) if not math.isnan(row["p"]) else False
        rows.append(row)
    return pd.DataFrame(rows)


def curves_frame(records: list[dict], metric: str = "map@r") -> pd.DataFrame:
    """Unseen ``metric`` (percent) per epoch, run and arm: columns ps, seed, epoch, value."""
    rows = [{"ps": bool(r["config"]["ps"]), "seed": r["config"]["seed"], "epoch": h["epoch"],
             "value": 100.0 * h[f"unseen/{metric}"]}
            for r in records for h in r["history"] if f"unseen/{metric}" in h]
    return pd.DataFrame(rows, columns=["ps", "seed", "epoch", "value"])


def curve_summary(curves: pd.DataFrame) -> pd.DataFrame:
    """Per epoch: each arm's mean and sample std over seeds, and the paired difference with its 95% CI."""
    rows = []
    for epoch, group in curves.groupby("epoch"):
        row = {"epoch": epoch}
        for ps, name in ((False, "baseline"), (True, "ps")):
            values = group.loc[group["ps"] == ps, "value"]
            row[f"{name}_mean"] = values.mean()
            row[f"{name}_std"] = values.std(ddof=1) if len(values) > 1 else np.nan
        base, ps = _pairs(group, "value")
        row.update(paired_difference(base, ps))
        rows.append(row)
    return pd.DataFrame(rows)


__all__ = ["CONFIDENCE", "METRICS", "ablation_cells", "compare", "curve_summary", "curves_frame",
           "paired_difference", "runs_frame"]
