"""The names psviz gives its concepts, kept in one place so every module says the same thing."""

from __future__ import annotations

# The two runs a comparison holds: the same config without and with Proxy Synthesis. Dicts of runs, tables and
# figures key them by these names; `ARMS` pairs each with its `TrainConfig.ps`.
BASELINE = "baseline"
WITH_PS = "with PS"
ARMS = ((BASELINE, False), (WITH_PS, True))


def arm_of(ps: bool) -> str:
    """The arm a run belongs to, from its `TrainConfig.ps`."""
    return WITH_PS if ps else BASELINE


# Where an arm's name cannot hold a space, these spellings stand for it: the folders `psviz demo` writes its runs to,
# and the column prefix of the statistics tables (and of the CSVs committed under results/), as they always were.
_FOLDER_NAMES = {BASELINE: "baseline", WITH_PS: "with_ps"}
_COLUMN_PREFIXES = {BASELINE: "baseline", WITH_PS: "ps"}


def folder_name(arm: str) -> str:
    """The folder an arm's run is saved in: "baseline" or "with_ps"."""
    return _FOLDER_NAMES[arm]


def column(arm: str, statistic: str) -> str:
    """The column holding ``statistic`` of ``arm`` in a statistics table: "baseline_mean", "ps_std", ..."""
    return f"{_COLUMN_PREFIXES[arm]}_{statistic}"


# Every retrieval metric a run evaluates at the default ks (1, 2, 4, 8): what `psviz demo` prints for each arm.
RUN_METRICS = ("recall@1", "recall@2", "recall@4", "recall@8", "r_precision", "map@r")
# The metrics the comparison tables of `psviz reproduce` report (Recall@1 as the paper's Table 6 does, and the two
# metrics that see the whole ranking), with the short names their Markdown headers give them.
TABLE_METRICS = ("recall@1", "r_precision", "map@r")
TABLE_METRIC_NAMES = {"recall@1": "R@1", "r_precision": "R-Prec", "map@r": "MAP@R"}


def metric_name(key: str) -> str:
    """A reader's name for a metric key: "map@r" -> "MAP@R", "recall@4" -> "Recall@4", "r_precision" ->
    "R-Precision", "nmi" -> "NMI"; any other key as it is."""
    if key.startswith("recall@"):
        return "Recall@" + key.split("@", 1)[1]
    return {"map@r": "MAP@R", "r_precision": "R-Precision", "nmi": "NMI"}.get(key, key)


def is_retrieval_metric(key: str) -> bool:
    """Whether a metric key, with or without a split prefix ("unseen/map@r"), names Recall@K, R-Precision or MAP@R.

    psviz keeps these as fractions in [0, 1] everywhere (records, histories, statistics) and shows them in percent
    where it renders text, tables and axes; other keys (loss, counts) are shown as they are.
    """
    name = key.rsplit("/", 1)[-1]
    return name.startswith("recall@") or name in ("r_precision", "map@r")


# Mechanism measures (`psviz.train.mechanism_measures`) that are shares: fractions in the records, shown in percent.
PERCENT_MEASURES = ("transition_width", "unseen_confidence", "heldout_confidence", "unseen_closer_to_synthetic",
                    "heldout_closer_to_synthetic")

# How reports title the datasets they have sections for (others go by their psviz.data name).
DATASET_TITLES = {"glyphs": "Glyphs", "fashion-mnist": "Fashion-MNIST", "digits": "Digits", "toy": "Toy"}

__all__ = ["ARMS", "BASELINE", "DATASET_TITLES", "PERCENT_MEASURES", "RUN_METRICS", "TABLE_METRICS",
           "TABLE_METRIC_NAMES", "WITH_PS", "arm_of", "column", "folder_name", "is_retrieval_metric", "metric_name"]
