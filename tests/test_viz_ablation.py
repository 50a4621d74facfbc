"""The α × μ summary and heatmap from a small real grid: two baseline seeds, (0.4, 1) twice and (1, 0.5) once."""

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest
from matplotlib.figure import Figure

import psviz.train as train
from psviz.analysis import summarise_grid
from psviz.viz.ablation import ablation_heatmap

GRID = [(False, 0.4, 1.0, 0), (False, 0.4, 1.0, 1), (True, 0.4, 1.0, 0), (True, 0.4, 1.0, 1), (True, 1.0, 0.5, 0)]


@pytest.fixture(scope="module")
def records():
    out = []
    for ps, alpha, mu, seed in GRID:
        run = train.fit(train.preset("digits", epochs=1, ps=ps, alpha=alpha, mu=mu, seed=seed), progress=False)
        out.append(dict(alpha=alpha, mu=mu, seed=seed, ps=ps, **run.last_metrics("unseen")))
    return out


def _values(records, ps, alpha=None, mu=None, metric="map@r"):
    """The runs' ``metric`` in percent, as the heatmap shows it."""
    return np.array([100 * r[metric] for r in records
                     if r["ps"] == ps and (not ps or (r["alpha"], r["mu"]) == (alpha, mu))])


def test_summarise_grid(records):
    summary = summarise_grid(records)
    assert list(summary.columns) == ["ps", "alpha", "mu", "mean", "std", "n"]
    assert list(summary["ps"]) == [False, True, True]
    assert summary.loc[0, ["alpha", "mu"]].isna().all()  # baseline: α and μ do not apply
    for row in summary.itertuples():
        values = _values(records, row.ps, row.alpha, row.mu)
        assert row.n == len(values)
        assert 100 * row.mean == pytest.approx(values.mean())  # the summary keeps the records' fractions
        if len(values) > 1:
            assert 100 * row.std == pytest.approx(values.std(ddof=1))
        else:
            assert math.isnan(row.std)
    pd.testing.assert_frame_equal(summarise_grid(pd.DataFrame(records)), summary)
    prefixed = [{("unseen/map@r" if k == "map@r" else k): v for k, v in r.items()} for r in records]
    pd.testing.assert_frame_equal(summarise_grid(prefixed), summary)  # history rows name it "unseen/map@r"
    r1 = summarise_grid(records, "recall@1")
    assert 100 * r1.loc[0, "mean"] == pytest.approx(_values(records, False, metric="recall@1").mean())


def test_heatmap_cells_missing_cells_and_baseline_centre(records):
    fig = ablation_heatmap(records)
    (heatmap,) = fig.data
    assert isinstance(heatmap, go.Heatmap)
    assert list(heatmap.y) == ["0.4", "1"] and list(heatmap.x) == ["0.5", "1"]
    z = np.array(heatmap.z, dtype=float)
    assert z.shape == (2, 2)
    assert np.isnan(z[0, 0]) and np.isnan(z[1, 1])  # (0.4, 0.5) and (1, 1) were never run
    assert z[0, 1] == pytest.approx(_values(records, True, 0.4, 1.0).mean())
    assert z[1, 0] == pytest.approx(_values(records, True, 1.0, 0.5).mean())
    baseline = _values(records, False).mean()
    assert (heatmap.zmin + heatmap.zmax) / 2 == pytest.approx(baseline)
    assert heatmap.zmin <= np.nanmin(z) and np.nanmax(z) <= heatmap.zmax
    assert f"{baseline:.2f}" in fig.layout.title.text
    assert f"baseline {baseline:.2f}" in heatmap.colorbar.ticktext
    pair = _values(records, True, 0.4, 1.0)
    assert heatmap.text[0][1].startswith(f"{pair.mean():.2f} ± {pair.std(ddof=1):.2f}")
    assert heatmap.text[0][0] == ""
    assert "n=2" in heatmap.text[0][1] and "n=1" in heatmap.text[1][0]  # cells differ in n, so n is shown


def test_heatmap_while_the_grid_fills_up(records):
    baseline_only = ablation_heatmap(records[:2])
    assert not baseline_only.data and "no PS runs yet" in baseline_only.layout.annotations[0].text
    assert not ablation_heatmap([]).data
    one = ablation_heatmap(records[2:3])  # one PS run, no baseline yet
    assert np.array(one.data[0].z).shape == (1, 1)
    assert one.data[0].zmin is None and "no baseline yet" in one.layout.title.text
    assert "±" not in one.data[0].text[0][0] and "n=" not in one.data[0].text[0][0]
    full = ablation_heatmap(records[:3], alphas=[0.4, 1.0, 2.0], mus=[0.5, 1.0])
    z = np.array(full.data[0].z, dtype=float)
    assert z.shape == (3, 2) and np.isnan(z).sum() == 5


def test_heatmap_matplotlib(records):
    fig = ablation_heatmap(records, backend="matplotlib")
    assert isinstance(fig, Figure)
    ax, bar = fig.axes
    (image,) = ax.images
    data = image.get_array()
    assert data.shape == (2, 2) and data.mask.tolist() == [[True, False], [False, True]]
    assert len(ax.texts) == 2
    baseline = _values(records, False).mean()
    assert any(t.get_text() == f"baseline {baseline:.2f}" for t in bar.get_yticklabels())
    assert image.norm.vmin + image.norm.vmax == pytest.approx(2 * baseline)
    empty = ablation_heatmap(records[:2], backend="matplotlib")
    assert not empty.axes[0].images and "no PS runs yet" in empty.axes[0].texts[0].get_text()


@pytest.mark.parametrize("call, message", [
    (lambda r: summarise_grid(5), "records"),
    (lambda r: summarise_grid(r, metric="nmi"), "nmi"),
    (lambda r: summarise_grid([{**r[0], "ps": "yes"}]), "ps"),
    (lambda r: summarise_grid([{"ps": True, "mu": 1.0, "map@r": 0.5}]), "alpha"),
    (lambda r: summarise_grid([{**r[2], "alpha": None}]), "alpha"),
    (lambda r: ablation_heatmap(r, alphas=["a"]), "alphas"),
    (lambda r: ablation_heatmap(r, backend="bokeh"), "backend"),
])
def test_bad_input_raises(records, call, message):
    with pytest.raises(ValueError, match=message):
        call(records)
