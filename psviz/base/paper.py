"""Published numbers of the Proxy Synthesis paper, as data, to set a run's results beside.

Source: Geonmo Gu, Byungsoo Ko, Han-Gyu Kim, "Proxy Synthesis: Learning with Synthetic Classes for Deep Metric
Learning", AAAI 2021, arXiv:2103.15454, Table 6: Recall@1 (%) on the unseen classes of four benchmarks, for eight
proxy-based losses trained without ("baseline") and with Proxy Synthesis. Seven rows use the released recipe
(BN-Inception, 512-d, Adam, batch 128, 130 epochs); the Proxy-anchor row uses Proxy-Anchor's own recipe (batch 180,
AdamW, GAP + GMP head, a warm-up epoch), so it is not comparable cell by cell with the other rows.

Also the released code's README (github.com/navervision/proxy-synthesis): CARS196, 8 runs per setting, mean and
standard deviation, for Norm-SoftMax and Proxy-NCA.

Keys are psviz's names: losses as in `psviz.method.losses.available()`, datasets as in `psviz.data.available()`.
"""

from __future__ import annotations

import math

import pandas as pd

from .names import BASELINE, WITH_PS
from .registry import Registry

SOURCE = ('Gu, Ko, Kim, "Proxy Synthesis: Learning with Synthetic Classes for Deep Metric Learning", AAAI 2021, '
          "arXiv:2103.15454, Table 6")
RELEASED_SOURCE = "README of the released code, github.com/navervision/proxy-synthesis (CARS196, 8 runs each)"

# The benchmark datasets of Table 6, in the paper's column order (psviz.data names).
BENCHMARKS = ("cub200", "cars196", "sop", "inshop")

# Synthetic classes per seen class per batch at the released mu = 1 and batch 128 on CUB: 128 / 100 = 1.28 (paper.md,
# "Derived facts"; psviz's arithmetic). PAPER_RHO is the rounded level the effect map and the toy default use.
CUB_RHO = 128 / 100
PAPER_RHO = 1.3

# Losses whose Table 6 row was trained with their own recipe rather than the released one.
OWN_RECIPE = ("proxy_anchor",)

# Table 6: loss -> dataset -> (baseline Recall@1 %, with-PS Recall@1 %).
TABLE6: dict[str, dict[str, tuple[float, float]]] = {
    "softmax":      {"cub200": (64.2, 64.9), "cars196": (81.5, 84.3), "sop": (76.3, 77.6), "inshop": (90.4, 90.9)},
    "norm_softmax": {"cub200": (64.9, 66.0), "cars196": (83.3, 84.7), "sop": (78.6, 79.6), "inshop": (90.4, 91.5)},
    "sphereface":   {"cub200": (65.4, 66.6), "cars196": (83.6, 85.1), "sop": (78.9, 79.4), "inshop": (90.3, 91.6)},
    "cosface":      {"cub200": (65.7, 66.6), "cars196": (83.6, 84.6), "sop": (78.6, 79.3), "inshop": (90.7, 91.4)},
    "arcface":      {"cub200": (66.1, 66.8), "cars196": (83.7, 84.7), "sop": (78.8, 79.7), "inshop": (91.0, 91.7)},
    "proxy_nca":    {"cub200": (65.1, 66.4), "cars196": (83.7, 84.5), "sop": (78.1, 79.1), "inshop": (90.0, 91.4)},
    "soft_triple":  {"cub200": (65.4, 66.6), "cars196": (84.5, 85.3), "sop": (78.3, 79.5), "inshop": (91.1, 91.8)},
    # Proxy-anchor: its own recipe (see the module docstring).
    "proxy_anchor": {"cub200": (68.4, 69.2), "cars196": (86.1, 86.9), "sop": (79.1, 79.8), "inshop": (91.5, 91.9)},
}

# The eight losses of Table 6, in its row order: what `psviz reproduce` trains. psviz's loss registry may hold
# more; a loss added there does not join the reproduction.
TABLE6_LOSSES = tuple(TABLE6)

# Released README, CARS196, 8 runs per setting: loss -> metric -> {BASELINE/WITH_PS: (mean %, std % or None)}.
# The README gives a standard deviation for Recall@1 only.
RELEASED_RUNS = 8
RELEASED_CARS196: dict[str, dict[str, dict[str, tuple[float, float | None]]]] = {
    "norm_softmax": {
        "recall@1": {BASELINE: (83.08, 0.21), WITH_PS: (84.25, 0.31)},
        "r_precision": {BASELINE: (35.23, None), WITH_PS: (36.76, None)},
        "map@r": {BASELINE: (24.92, None), WITH_PS: (26.51, None)},
    },
    "proxy_nca": {
        "recall@1": {BASELINE: (83.28, 0.36), WITH_PS: (84.21, 0.21)},
        "r_precision": {BASELINE: (35.70, None), WITH_PS: (36.66, None)},
        "map@r": {BASELINE: (25.35, None), WITH_PS: (26.42, None)},
    },
}


# `BENCHMARKS` found by any spelling (case, '-', '_' and spaces ignored), for `table6(dataset)`.
_BENCHMARK_LOOKUP: Registry[None] = Registry("Table 6 dataset", dict.fromkeys(BENCHMARKS))


def table6(dataset: str | None = None) -> pd.DataFrame:
    """Table 6 as one row per (loss, dataset): columns loss, dataset, baseline, with_ps, difference.

    Values are Recall@1 in percent on the unseen classes; ``difference`` = with_ps - baseline in percentage points,
    rounded to 1 decimal. ``dataset`` (one of `BENCHMARKS`) keeps that dataset's eight rows; None keeps all 32.
    ``df.attrs`` holds the source and a note on the Proxy-anchor row.
    """
    chosen = BENCHMARKS if dataset is None else (_BENCHMARK_LOOKUP.canonical(dataset),)
    rows = [{"loss": loss, "dataset": name, "baseline": base, "with_ps": ps, "difference": round(ps - base, 1)}
            for name in chosen for loss, cells in TABLE6.items() for base, ps in [cells[name]]]
    frame = pd.DataFrame(rows, columns=["loss", "dataset", "baseline", "with_ps", "difference"])
    frame.attrs["source"] = SOURCE
    frame.attrs["note"] = ("Recall@1 (%) on unseen classes; proxy_anchor was trained with Proxy-Anchor's own recipe, "
                           "the other losses with the released one")
    return frame


def released_cars196() -> pd.DataFrame:
    """The released README's CARS196 numbers (8 runs each): one row per (loss, metric) with columns loss, metric,
    baseline, baseline_std, with_ps, with_ps_std (NaN where the README gives none), difference (points, 2 d.p.)."""
    rows = []
    for loss, metrics in RELEASED_CARS196.items():
        for metric, cells in metrics.items():
            (base, base_std), (ps, ps_std) = cells[BASELINE], cells[WITH_PS]
            rows.append({"loss": loss, "metric": metric,
                         "baseline": base, "baseline_std": math.nan if base_std is None else base_std,
                         "with_ps": ps, "with_ps_std": math.nan if ps_std is None else ps_std,
                         "difference": round(ps - base, 2)})
    frame = pd.DataFrame(rows)
    frame.attrs["source"] = RELEASED_SOURCE
    return frame


__all__ = ["BENCHMARKS", "CUB_RHO", "OWN_RECIPE", "PAPER_RHO", "RELEASED_CARS196", "RELEASED_RUNS", "RELEASED_SOURCE", "SOURCE", "TABLE6", "TABLE6_LOSSES",
           "released_cars196", "table6"]
