"""Compare runs (baseline vs PS): Recall@K curves and training curves over epochs (their tables in percent are
`psviz.analysis.metrics_table` and `difference_table`).

Each run may be given as a `psviz.train.FitResult`, its history (a list of per-epoch dicts), or one metrics row
(e.g. ``{"unseen/recall@1": 0.8, ...}``; a row without split prefixes, as `retrieval_metrics` returns, counts as
"unseen"); `psviz.analysis.runs` reads them. Metric values are fractions; figures show them in percent.
"""

from __future__ import annotations

import math

import plotly.graph_objects as go
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator
from plotly.subplots import make_subplots

from ..analysis.runs import SPLITS, check_runs, check_splits, latest_metrics, run_history
from ..base.names import is_retrieval_metric, metric_name
from ..base.percent import percent
from .style import check_backend, class_colour

# Dash per split, so colour is left to tell the runs apart.
_PLOTLY_DASH = {"unseen": "solid", "seen": "dash", "heldout": "dot"}
_MPL_DASH = {"unseen": "-", "seen": "--", "heldout": ":"}


def metric_label(metric: str) -> str:
    """A reader's name for a metric key: "unseen/map@r" -> "unseen MAP@R (%)", "loss" -> "loss"."""
    split, _, name = metric.rpartition("/")
    label = f"{split} {metric_name(name)}" if split else metric_name(name)
    return label + " (%)" if is_retrieval_metric(metric) else label


def _scale(metric: str, value: float) -> float:
    """``value`` as drawn: retrieval metrics (fractions) in percent, anything else as it is."""
    return percent(value) if is_retrieval_metric(metric) else value


def _present(value) -> bool:
    return value is not None and not (isinstance(value, float) and math.isnan(value))


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
                                  percent=[percent(v) for v in values]))
    return lines


def recall_at_k(results: dict, *, splits=SPLITS, backend: str = "plotly"):
    """Recall@K over K, one line per run and split: colour tells the runs apart, dash the splits."""
    check_backend(backend)
    splits = check_splits(splits)
    lines = _recall_lines(check_runs(results, "results"), splits)
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
    panels = _training_series(check_runs(histories, "histories"), metrics)
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


__all__ = ["metric_label", "recall_at_k", "training_curves"]
