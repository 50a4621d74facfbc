"""Recall@K curves, metrics tables (`psviz.analysis.tables`) and training curves built from two small real runs
(baseline and PS).

The runs are conftest's shared ``digits_runs``: 3 epochs, evaluated every epoch on unseen and seen classes.
"""

import pandas as pd
import plotly.graph_objects as go
import pytest
from matplotlib.figure import Figure

from psviz.analysis import difference_table, latest_metrics, metrics_table
from psviz.viz.curves import recall_at_k, training_curves

NAMES = ("baseline", "with PS")


@pytest.fixture(scope="module")
def runs(digits_runs):
    assert tuple(digits_runs) == NAMES
    return digits_runs


@pytest.fixture(scope="module")
def sparse(runs):
    """The runs' histories as if evaluated at epochs 2 and 3 only: epoch 1's row keeps its loss, loses its metrics."""
    return {name: [{k: v for k, v in row.items() if row["epoch"] > 1 or "/" not in k} for row in run.history]
            for name, run in runs.items()}


def _last_evaluated(run) -> dict:
    return [row for row in run.history if "unseen/map@r" in row][-1]


def test_recall_at_k_draws_one_line_per_run_and_split(runs):
    fig = recall_at_k(runs)
    ks = list(runs["baseline"].config.ks)
    assert isinstance(fig, go.Figure)
    assert [t.name for t in fig.data] == [f"{n} · {s}" for n in NAMES for s in ("unseen", "seen")]
    for trace in fig.data:
        run, split = trace.name.split(" · ")
        row = _last_evaluated(runs[run])
        assert list(trace.x) == ks
        assert list(trace.y) == pytest.approx([100 * row[f"{split}/recall@{k}"] for k in ks])
    assert list(fig.layout.xaxis.tickvals) == ks
    assert fig.layout.xaxis.type == "log"
    colours = {t.name: t.line.color for t in fig.data}
    dashes = {t.name: t.line.dash for t in fig.data}
    assert colours["baseline · unseen"] == colours["baseline · seen"] != colours["with PS · unseen"]
    assert dashes["baseline · unseen"] == dashes["with PS · unseen"] != dashes["baseline · seen"]


def test_recall_at_k_skips_missing_splits_and_takes_latest_evaluated_row(runs):
    unseen_only = [{k: v for k, v in row.items() if not k.startswith("seen/")} for row in runs["baseline"].history]
    unseen_only.append({"epoch": 4, "loss": 0.1})  # a later row without evaluation
    fig = recall_at_k({"baseline": unseen_only, "with PS": runs["with PS"]})
    assert [t.name for t in fig.data] == ["baseline · unseen", "with PS · unseen", "with PS · seen"]
    row = _last_evaluated(runs["baseline"])
    assert list(fig.data[0].y) == pytest.approx([100 * row[f"unseen/recall@{k}"] for k in fig.data[0].x])
    assert len(recall_at_k(runs, splits="unseen").data) == 2


def test_single_rows_and_unprefixed_metrics_are_runs_too(runs):
    row = _last_evaluated(runs["with PS"])
    plain = {k.split("/", 1)[1]: v for k, v in row.items() if k.startswith("unseen/")}  # as retrieval_metrics gives
    assert latest_metrics(plain)["unseen"] == latest_metrics(row)["unseen"]
    fig = recall_at_k({"row": row, "plain": plain}, splits=("unseen",))
    assert list(fig.data[0].y) == list(fig.data[1].y)


def test_recall_at_k_matplotlib(runs):
    fig = recall_at_k(runs, backend="matplotlib")
    assert isinstance(fig, Figure)
    (ax,) = fig.axes
    assert [line.get_label() for line in ax.lines] == [f"{n} · {s}" for n in NAMES for s in ("unseen", "seen")]
    assert list(ax.get_xticks()) == list(runs["baseline"].config.ks)
    assert {line.get_linestyle() for line in ax.lines} == {"-", "--"}
    assert [t.get_text() for t in ax.get_legend().get_texts()] == [line.get_label() for line in ax.lines]


def test_metrics_table_is_latest_metrics_in_percent(runs):
    table = metrics_table(runs)
    ks = runs["baseline"].config.ks
    assert list(table.index) == [(n, s) for n in NAMES for s in ("unseen", "seen")]
    assert table.index.names == ["run", "split"]
    assert list(table.columns) == [f"recall@{k}" for k in ks] + ["r_precision", "map@r"]
    for (name, split), values in table.iterrows():
        row = _last_evaluated(runs[name])
        assert list(values) == pytest.approx([100 * row[f"{split}/{c}"] for c in table.columns])


def test_difference_table(runs):
    table = metrics_table(runs, splits=("unseen",))
    diff = difference_table(runs, splits=("unseen",))
    assert list(diff.index) == ["unseen"]
    pd.testing.assert_series_equal(diff.loc["unseen"], table.loc[("with PS", "unseen")] -
                                   table.loc[("baseline", "unseen")], check_names=False)
    flipped = difference_table(runs, splits=("unseen",), baseline="with PS")
    assert list(flipped.loc["unseen"]) == pytest.approx(list(-diff.loc["unseen"]))
    assert "with PS − baseline" in diff.attrs["label"]


def test_training_curves_plotly(runs, sparse):
    fig = training_curves(sparse)
    loss = [t for t in fig.data if t.xaxis == "x"]
    map_r = [t for t in fig.data if t.xaxis == "x2"]
    assert [t.name for t in loss] == [t.name for t in map_r] == list(NAMES)
    for trace in loss:
        history = runs[trace.name].history
        assert list(trace.x) == [row["epoch"] for row in history]
        assert list(trace.y) == pytest.approx([row["loss"] for row in history])
    for trace in map_r:
        evaluated = [row for row in sparse[trace.name] if "unseen/map@r" in row]
        assert len(evaluated) == len(runs[trace.name].history) - 1  # epoch 1 is skipped
        assert list(trace.x) == [row["epoch"] for row in evaluated]
        assert list(trace.y) == pytest.approx([100 * row["unseen/map@r"] for row in evaluated])
    assert [t.name for t in fig.data if t.showlegend] == list(NAMES)
    assert [t.line.color for t in loss] == [t.line.color for t in map_r]
    assert loss[0].line.color != loss[1].line.color
    assert len(training_curves(runs, metrics=("loss", "unseen/map@r", "seen/recall@1")).layout.annotations) == 3


def test_training_curves_matplotlib(runs, sparse):
    fig = training_curves(sparse, metrics=("loss", "unseen/recall@1"), backend="matplotlib")
    assert len(fig.axes) == 2
    assert [[line.get_label() for line in ax.lines] for ax in fig.axes] == [list(NAMES)] * 2
    assert [len(ax.lines[0].get_xdata()) for ax in fig.axes] == [len(runs["baseline"].history),
                                                                  len(runs["baseline"].history) - 1]
    evaluated = [row for row in sparse["baseline"] if "unseen/recall@1" in row]
    assert list(fig.axes[1].lines[0].get_ydata()) == pytest.approx([100 * r["unseen/recall@1"] for r in evaluated])
    (legend,) = fig.legends
    assert [t.get_text() for t in legend.get_texts()] == list(NAMES)


@pytest.mark.parametrize("call, message", [
    (lambda r: recall_at_k({}), "results"),
    (lambda r: recall_at_k([r["baseline"]]), "results"),
    (lambda r: recall_at_k({"bad": 3}), "run 'bad'"),
    (lambda r: recall_at_k(r, splits=("train",)), "splits"),
    (lambda r: recall_at_k(r, backend="bokeh"), "backend"),
    (lambda r: recall_at_k({"b": [{"epoch": 1, "loss": 1.0}]}), "no Recall@K"),
    (lambda r: metrics_table({"b": [{"epoch": 1, "loss": 1.0}]}), "no retrieval metrics"),
    (lambda r: difference_table({"b": r["baseline"]}), "exactly two"),
    (lambda r: difference_table(r, baseline="nope"), "baseline"),
    (lambda r: training_curves(r, metrics=("unseen/nmi",)), "unseen/nmi"),
    (lambda r: training_curves(r, metrics=()), "metrics"),
    (lambda r: training_curves({}, metrics=("loss",)), "histories"),
])
def test_bad_input_raises(runs, call, message):
    with pytest.raises(ValueError, match=message):
        call(runs)
