"""psviz.analysis.Comparison: the runs of one setting by arm, and what is asked of the arms together."""

import pandas as pd
import pytest

from psviz.analysis import Comparison, comparison_rows, format_measures
from psviz.base.names import BASELINE, PERCENT_MEASURES, WITH_PS
from psviz.train.mechanism import MEASURE_NAMES


def test_a_comparison_is_the_dict_of_runs_every_figure_takes(toy3_runs):
    pair = Comparison(toy3_runs)
    assert isinstance(pair, dict) and list(pair) == [BASELINE, WITH_PS] and pair[WITH_PS] is toy3_runs[WITH_PS]
    assert pair.metrics() == {name: run.last_metrics() for name, run in toy3_runs.items()}
    assert pair.histories()[BASELINE] is toy3_runs[BASELINE].history


def test_rows_are_the_comparison_rows_of_the_two_arms(toy3_runs):
    pair = Comparison(toy3_runs)
    base, ps = (toy3_runs[name].last_metrics() for name in (BASELINE, WITH_PS))
    assert pair.rows() == comparison_rows(base, ps)
    by_metric = {row["metric"]: row for row in pair.rows()}
    assert by_metric["map@r"]["difference"] == pytest.approx(100 * (ps["map@r"] - base["map@r"]))
    with pytest.raises(ValueError, match="lacks \\['with PS'\\]"):
        Comparison({BASELINE: toy3_runs[BASELINE]}).rows()


def test_the_measures_table_shows_shares_in_percent_and_the_final_scores(toy3_runs):
    pair = Comparison(toy3_runs)
    measures = pair.measures(seed=0)
    table = pair.measures_table(seed=0)
    assert isinstance(table, pd.DataFrame) and list(table.columns) == [BASELINE, WITH_PS]
    share = next(k for k in PERCENT_MEASURES if k in measures[WITH_PS])
    assert table.loc[MEASURE_NAMES[share] + ", %", WITH_PS] == pytest.approx(100 * measures[WITH_PS][share], abs=0.006)
    assert table.loc["unseen MAP@R, %", BASELINE] == pytest.approx(
        100 * toy3_runs[BASELINE].last_metrics()["map@r"], abs=0.006)
    assert "(%)" in format_measures(measures)


def test_embeddings_come_for_every_arm_with_the_same_options(toy3_runs):
    exports = Comparison(toy3_runs).exports(splits=("unseen",), max_per_split=20)
    assert set(exports) == {BASELINE, WITH_PS}
    assert all(len(export.labels) == 20 for export in exports.values())


def test_saved_runs_reopen_as_a_comparison(tmp_path):
    from psviz.base.names import ARMS, folder_name
    from psviz.train import fit, preset

    dirs = {name: tmp_path / folder_name(name) for name, _ in ARMS}
    trained = {name: fit(preset("toy", ps=ps, epochs=2, output_dir=str(dirs[name])), progress=False)
               for name, ps in ARMS}
    reopened = Comparison.load(dirs, "last")
    assert reopened.metrics() == {name: run.last_metrics() for name, run in trained.items()}
    # or from the folder that holds both, as the demo's glyphs/ does
    assert Comparison.load(tmp_path, "last").metrics() == reopened.metrics()
    assert Comparison.load(str(tmp_path), "last").metrics() == reopened.metrics()
    with pytest.raises(ValueError, match="holds no baseline/ or with_ps/ run folder"):
        Comparison.load(tmp_path / "baseline" / "nothing")


@pytest.mark.parametrize("runs, message", [({}, "at least one run"), ({"a": object()}, "must be FitResults")])
def test_bad_runs_get_one_clear_line(runs, message):
    with pytest.raises(ValueError, match=message):
        Comparison(runs)
