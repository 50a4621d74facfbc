"""Compare runs (baseline vs PS): Recall@K curves, a metrics table in percent, and training curves over epochs.

Each run may be given as a `psviz.train.FitResult`, its history (a list of per-epoch dicts), or one metrics row
(e.g. ``{"unseen/recall@1": 0.8, ...}``; a row without split prefixes, as `retrieval_metrics` returns, counts as
"unseen"). Metric values are fractions; figures and tables show them in percent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import pandas as pd
import plotly.graph_objects as go
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from plotly.subplots import make_subplots

from ..names import is_retrieval_metric
from .style import check_backend, class_colour

SPLITS = ("unseen", "seen", "heldout")  # heldout: seen-class items kept out of training (holdout_per_class)
# Dash per split, so colour is left to tell the runs apart.
_PLOTLY_DASH = {"unseen": "solid", "seen": "dash", "heldout": "dot"}
_MPL_DASH = {"unseen": "-", "seen": "--", "heldout": ":"}


def metric_label(metric: str) -> str:
    """A reader's name for a metric key: "unseen/map@r" -> "unseen MAP@R (%)", "loss" -> "loss"."""
    split, _, name = metric.rpartition("/")
    pretty = {"map@r": "MAP@R", "r_precision": "R-Precision"}.get(name, name)
    if name.startswith("recall@"):
        pretty = "Recall@" + name.split("@", 1)[1]
    label = f"{split} {pretty}" if split else pretty
    return label + " (%)" if is_retrieval_metric(metric) else label


def _scale(metric: str, value: float) -> float:
    """``value`` as drawn: retrieval metrics (fractions) in percent, anything else as it is."""
    return 100.0 * value if is_retrieval_metric(metric) else value


def run_history(run, name: str = "run") -> list[dict]:
    """The per-epoch rows of a run-like: a FitResult (anything with ``.history``), a list of dicts, or one dict."""
    history = getattr(run, "history", run)
    if isinstance(history, Mapping):
        history = [history]
    if not isinstance(history, Sequence) or isinstance(history, str) or \
            not all(isinstance(row, Mapping) for row in history):
        raise ValueError(f"run {name!r} must be a FitResult, a history (list of dicts) or one metrics dict, "
                         f"got {type(run).__name__}")
    return [_prefixed(row) for row in history]


def _prefixed(row: Mapping) -> dict:
    """The row with split prefixes: metrics without any (as `retrieval_metrics` returns them) count as unseen."""
    if any("/" in key for key in row) or not any(is_retrieval_metric(key) for key in row):
        return dict(row)
    return {(f"unseen/{k}" if is_retrieval_metric(k) or k.startswith("n_") else k): v for k, v in row.items()}


def latest_metrics(run, name: str = "run") -> dict[str, dict[str, float]]:
    """{split: {metric: value}} from the latest row of the run that holds that split's metrics (fractions)."""
    found: dict[str, dict[str, float]] = {}
    for row in reversed(run_history(run, name)):
        for split in {key.split("/", 1)[0] for key in row if "/" in key} - found.keys():
            found[split] = {key.split("/", 1)[1]: value for key, value in row.items()
                            if key.startswith(split + "/")}
    return found


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


def _check_runs(results, argument: str) -> dict:
    if not isinstance(results, Mapping) or not results:
        raise ValueError(f"{argument} must be a non-empty dict of run name -> FitResult, history or metrics row, "
                         f"got {type(results).__name__ if not isinstance(results, Mapping) else 'an empty dict'}")
    return {str(name): run for name, run in results.items()}


def _check_splits(splits) -> tuple[str, ...]:
    splits = (splits,) if isinstance(splits, str) else tuple(splits)
    if not splits or any(s not in SPLITS for s in splits):
        raise ValueError(f"splits must name one or both of {SPLITS}, got {list(splits)}")
    return splits


def _recalls(metrics: dict) -> tuple[list[int], list[float]]:
    """Sorted K values and their Recall@K (fractions) from one split's metrics."""
    pairs = sorted((int(key.split("@", 1)[1]), value) for key, value in metrics.items() if key.startswith("recall@"))
    return [k for k, _ in pairs], [v for _, v in pairs]


def _recall_lines(results: dict, splits: tuple[str, ...]) -> list[dict]:
    lines = []
    for i, (name, run) in enumerate(results.items()):
        metrics = latest_metrics(run, name)
        for split in splits:
            ks, values = _recalls(metrics.get(split, {}))
            if ks:
                lines.append(dict(name=f"{name} · {split}", run=name, split=split, colour=class_colour(i), ks=ks,
                                  percent=[100.0 * v for v in values]))
    return lines


def recall_at_k(results: dict, *, splits=SPLITS, backend: str = "plotly"):
    """Recall@K over K, one line per run and split: colour tells the runs apart, dash the splits."""
    check_backend(backend)
    splits = _check_splits(splits)
    lines = _recall_lines(_check_runs(results, "results"), splits)
    if not lines:
        raise ValueError(f"results hold no Recall@K for splits {list(splits)}: "
                         "pass runs that were evaluated (history rows with e.g. 'unseen/recall@1')")
    ks = sorted({k for line in lines for k in line["ks"]})
    return _recall_matplotlib(lines, ks) if backend == "matplotlib" else _recall_plotly(lines, ks)


def _recall_plotly(lines: list[dict], ks: list[int]) -> go.Figure:
    fig = go.Figure([
        go.Scatter(x=line["ks"], y=line["percent"], name=line["name"], mode="lines+markers",
                   line=dict(color=line["colour"], dash=_PLOTLY_DASH[line["split"]]),
                   hovertemplate="Recall@%{x}: %{y:.2f}%<extra>" + line["name"] + "</extra>")
        for line in lines])
    fig.update_xaxes(type="log", tickvals=ks, ticktext=[str(k) for k in ks], title="K")
    fig.update_yaxes(title="Recall@K (%)")
    fig.update_layout(title="Recall@K", template="plotly_white", width=620, height=420)
    return fig


def _recall_matplotlib(lines: list[dict], ks: list[int]) -> Figure:
    fig = Figure(figsize=(6.2, 4.2), layout="constrained")
    ax = fig.add_subplot()
    for line in lines:
        ax.plot(line["ks"], line["percent"], _MPL_DASH[line["split"]], marker="o", color=line["colour"],
                label=line["name"])
    ax.set_xscale("log", base=2)
    ax.set_xticks(ks, [str(k) for k in ks])
    ax.minorticks_off()
    ax.set(xlabel="K", ylabel="Recall@K (%)", title="Recall@K")
    ax.grid(alpha=0.3)
    ax.legend()
    return fig


def metrics_table(results: dict, *, splits=SPLITS) -> pd.DataFrame:
    """Each run's latest metrics in percent: index (run, split), columns recall@K..., r_precision, map@r."""
    results, splits = _check_runs(results, "results"), _check_splits(splits)
    rows, index = [], []
    for name, run in results.items():
        metrics = latest_metrics(run, name)
        for split in splits:
            values = metrics.get(split, {})
            if any(is_retrieval_metric(key) for key in values):
                rows.append({key: 100.0 * value for key, value in values.items() if is_retrieval_metric(key)})
                index.append((name, split))
    if not rows:
        raise ValueError(f"results hold no retrieval metrics for splits {list(splits)}")
    ks = sorted({int(key.split("@", 1)[1]) for row in rows for key in row if key.startswith("recall@")})
    columns = [f"recall@{k}" for k in ks] + [c for c in ("r_precision", "map@r") if any(c in row for row in rows)]
    return pd.DataFrame(rows, index=pd.MultiIndex.from_tuples(index, names=["run", "split"]), columns=columns)


def difference_table(results: dict, *, splits=SPLITS, baseline: str | None = None) -> pd.DataFrame:
    """For exactly two runs: the other run minus ``baseline`` (default: the first run), in percentage points.

    Index: split; columns as in `metrics_table`; ``df.attrs["label"]`` says which run minus which.
    """
    results = _check_runs(results, "results")
    if len(results) != 2:
        raise ValueError(f"results must hold exactly two runs to take a difference, got {len(results)}")
    names = list(results)
    baseline = names[0] if baseline is None else baseline
    if baseline not in names:
        raise ValueError(f"baseline must be one of the runs {names}, got {baseline!r}")
    other = names[1] if baseline == names[0] else names[0]
    table = metrics_table(results, splits=splits)
    present = table.index.get_level_values("run")
    if baseline not in present or other not in present:
        raise ValueError(f"both runs need metrics for a difference; only {sorted(set(present))} have some")
    diff = table.loc[other] - table.loc[baseline]
    diff = diff.dropna(how="all")
    diff.attrs["label"] = f"{other} − {baseline} (percentage points)"
    return diff


def _check_metrics(metrics) -> tuple[str, ...]:
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    if not metrics or not all(isinstance(m, str) for m in metrics):
        raise ValueError(f"metrics must be one or more history keys such as 'loss' or 'unseen/map@r', "
                         f"got {list(metrics)}")
    return metrics


def _training_series(histories: dict, metrics: tuple[str, ...]) -> list[list[dict]]:
    """For each metric, one series per run that has it: epochs and (percent) values."""
    runs = {name: run_history(run, name) for name, run in histories.items()}
    panels = []
    for metric in metrics:
        series = []
        for i, (name, rows) in enumerate(runs.items()):
            points = [(row.get("epoch", n + 1), _scale(metric, row[metric])) for n, row in enumerate(rows)
                      if _present(row.get(metric))]
            if points:
                series.append(dict(run=name, colour=class_colour(i), epochs=[p[0] for p in points],
                                   values=[p[1] for p in points]))
        if not series:
            raise ValueError(f"metrics: no run has {metric!r} in its history (keys present: "
                             f"{sorted({k for rows in runs.values() for row in rows for k in row})})")
        panels.append(series)
    return panels


def training_curves(histories: dict, *, metrics=("loss", "unseen/map@r"), backend: str = "plotly"):
    """One panel per metric over epochs, one line per run (same colour everywhere); rows lacking it are skipped."""
    check_backend(backend)
    metrics = _check_metrics(metrics)
    panels = _training_series(_check_runs(histories, "histories"), metrics)
    if backend == "matplotlib":
        return _training_matplotlib(panels, metrics)
    return _training_plotly(panels, metrics)


def _training_plotly(panels: list[list[dict]], metrics: tuple[str, ...]) -> go.Figure:
    fig = make_subplots(rows=1, cols=len(metrics), subplot_titles=[metric_label(m) for m in metrics])
    shown = set()
    for col, series_list in enumerate(panels, start=1):
        for series in series_list:
            fig.add_trace(go.Scatter(
                x=series["epochs"], y=series["values"], name=series["run"], legendgroup=series["run"],
                showlegend=series["run"] not in shown, mode="lines+markers", line=dict(color=series["colour"]),
                hovertemplate="epoch %{x}: %{y:.4g}<extra>" + series["run"] + "</extra>"), row=1, col=col)
            shown.add(series["run"])
        last = max(max(series["epochs"]) for series in series_list)
        fig.update_xaxes(title="epoch", tick0=0, dtick=max(1, math.ceil(last / 10)), row=1, col=col)
    fig.update_layout(template="plotly_white", width=max(460, 420 * len(metrics)), height=380)
    return fig


def _training_matplotlib(panels: list[list[dict]], metrics: tuple[str, ...]) -> Figure:
    fig = Figure(figsize=(4.4 * len(metrics), 3.8), layout="constrained")
    axes = fig.subplots(1, len(metrics), squeeze=False)[0]
    handles = {}
    for ax, metric, series_list in zip(axes, metrics, panels):
        for series in series_list:
            (line,) = ax.plot(series["epochs"], series["values"], marker="o", color=series["colour"],
                              label=series["run"])
            handles.setdefault(series["run"], line)
        ax.set(xlabel="epoch", title=metric_label(metric))
        ax.xaxis.set_major_locator(MaxNLocator(integer=True))
        ax.grid(alpha=0.3)
    fig.legend(list(handles.values()), list(handles), loc="outside right upper")
    return fig


__all__ = ["difference_table", "latest_metrics", "metric_label", "metrics_table", "recall_at_k", "run_history",
           "training_curves"]
