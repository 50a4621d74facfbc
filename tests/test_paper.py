"""psviz.base.paper: the paper's Table 6 and the released CARS196 runs, keyed by psviz's own loss and dataset names."""

import math

import pandas as pd
import pytest

import psviz
from psviz import paper

BENCHMARKS = ["cub200", "cars196", "sop", "inshop"]


def test_every_psviz_loss_has_a_row_for_each_benchmark():
    frame = paper.table6()
    assert list(frame.columns) == ["loss", "dataset", "baseline", "with_ps", "difference"]
    assert len(frame) == 8 * 4
    assert sorted(frame["loss"].unique()) == sorted(psviz.losses.available())
    assert sorted(frame["dataset"].unique()) == sorted(BENCHMARKS)
    assert not frame.duplicated(["loss", "dataset"]).any()
    assert set(BENCHMARKS) <= set(psviz.data.available())  # the keys are names psviz.data.load accepts


def test_differences_are_positive_and_within_the_papers_range():
    frame = paper.table6()
    assert (frame["difference"] > 0).all()
    assert frame["difference"].min() == pytest.approx(0.4)  # Proxy-anchor on In-Shop
    assert frame["difference"].max() == pytest.approx(2.8)  # Softmax on CARS196
    assert ((frame["difference"] >= 0.4 - 1e-9) & (frame["difference"] <= 2.8 + 1e-9)).all()


def test_difference_is_with_ps_minus_baseline_rounded():
    frame = paper.table6()
    for row in frame.itertuples():
        assert row.difference == round(row.with_ps - row.baseline, 1)
        assert row.difference == pytest.approx(row.with_ps - row.baseline, abs=1e-9)
        assert row.baseline < row.with_ps <= 100


@pytest.mark.parametrize("loss,dataset,baseline,with_ps", [
    ("softmax", "cub200", 64.2, 64.9),
    ("norm_softmax", "cars196", 83.3, 84.7),
    ("sphereface", "inshop", 90.3, 91.6),
    ("arcface", "sop", 78.8, 79.7),
    ("proxy_nca", "cub200", 65.1, 66.4),
    ("soft_triple", "cars196", 84.5, 85.3),
    ("proxy_anchor", "sop", 79.1, 79.8),
    ("cosface", "inshop", 90.7, 91.4),
])
def test_cells_match_the_paper(loss, dataset, baseline, with_ps):
    frame = paper.table6()
    row = frame[(frame["loss"] == loss) & (frame["dataset"] == dataset)]
    assert len(row) == 1
    assert row["baseline"].item() == baseline
    assert row["with_ps"].item() == with_ps


def test_filtering_by_dataset_keeps_its_eight_losses():
    everything = paper.table6()
    for dataset in BENCHMARKS:
        frame = paper.table6(dataset)
        assert len(frame) == 8 and set(frame["dataset"]) == {dataset}
        assert list(frame.index) == list(range(8))
        expected = everything[everything["dataset"] == dataset].reset_index(drop=True)
        pd.testing.assert_frame_equal(frame, expected)
    cub = paper.table6("cub200").set_index("loss")
    assert cub.loc["norm_softmax", "with_ps"] == 66.0
    assert cub.loc["proxy_anchor", "baseline"] == 68.4


def test_dataset_names_match_like_psviz_data():
    pd.testing.assert_frame_equal(paper.table6("CARS-196"), paper.table6("cars196"))
    pd.testing.assert_frame_equal(paper.table6("In_Shop"), paper.table6("inshop"))


@pytest.mark.parametrize("bad", ["cub", "toy", "digits", "", 200, ["cub200"]])
def test_bad_dataset_raises_naming_the_valid_ones(bad):
    with pytest.raises(ValueError) as error:
        paper.table6(bad)
    message = str(error.value)
    assert all(name in message for name in BENCHMARKS)


def test_table_names_its_source_and_the_proxy_anchor_recipe():
    frame = paper.table6()
    assert "2103.15454" in frame.attrs["source"] and "Table 6" in frame.attrs["source"]
    assert "proxy_anchor" in frame.attrs["note"]
    assert paper.OWN_RECIPE == ("proxy_anchor",)
    assert "own recipe" in paper.__doc__ and "arXiv:2103.15454" in paper.__doc__


def test_released_cars196_runs():
    frame = paper.released_cars196()
    assert len(frame) == 6 and paper.RELEASED_RUNS == 8
    assert set(frame["loss"]) == {"norm_softmax", "proxy_nca"} <= set(psviz.losses.available())
    assert set(frame["metric"]) == {"recall@1", "r_precision", "map@r"}
    cell = frame.set_index(["loss", "metric"])
    assert cell.loc[("norm_softmax", "recall@1"), "baseline"] == 83.08
    assert cell.loc[("norm_softmax", "recall@1"), "baseline_std"] == 0.21
    assert cell.loc[("norm_softmax", "recall@1"), "with_ps_std"] == 0.31
    assert cell.loc[("proxy_nca", "recall@1"), "baseline_std"] == 0.36
    assert cell.loc[("proxy_nca", "map@r"), "with_ps"] == 26.42
    assert cell.loc[("norm_softmax", "r_precision"), "difference"] == pytest.approx(1.53)
    assert math.isnan(cell.loc[("proxy_nca", "map@r"), "baseline_std"])
    assert (frame["difference"] > 0).all()
    # The released runs and Table 6 are separate experiments: close, not equal.
    table = paper.table6("cars196").set_index("loss")
    for loss in ("norm_softmax", "proxy_nca"):
        assert abs(cell.loc[(loss, "recall@1"), "baseline"] - table.loc[loss, "baseline"]) < 1.0


def test_the_reproduction_trains_table_6s_losses_not_every_registered_one(monkeypatch):
    """A ninth loss in psviz's registry would have no Table 6 row: `psviz reproduce` keeps to the paper's eight."""
    from psviz import losses
    from psviz.apps.reproduce import Plan

    assert paper.TABLE6_LOSSES == tuple(paper.TABLE6) and len(paper.TABLE6_LOSSES) == 8
    assert set(paper.TABLE6_LOSSES) <= set(losses.available())
    monkeypatch.setattr(losses, "available", lambda: [*paper.TABLE6_LOSSES, "a_ninth_loss"])
    assert Plan().losses == paper.TABLE6_LOSSES
