"""`psviz reproduce`: the plan, the statistics, the Markdown, and the pipeline end to end at a tiny budget."""

import json
import math
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import torch

from psviz import losses, paper
from psviz.analysis.stats import compare, in_percent, paired_difference, runs_frame
from psviz.apps.cli import main
from psviz.apps.reproduce import NotReady, Plan, check_ready, run_benchmark
from psviz.apps.reproduce import markdown as md
from psviz.train.records import RecordStore, run_key

from markdown_tables import parse_difference, parse_mean_std, read_tables

# ---- statistics -------------------------------------------------------------------------------------------------


def test_paired_difference_matches_a_hand_computed_t_interval():
    # differences 1, 2, 3: mean 2, sample sd 1, t(0.975, df=2) = 4.3027, so half-width 4.3027 / sqrt(3) = 2.4841;
    # t statistic 2 * sqrt(3) = 3.4641 with 2 df gives p = 0.0742
    result = paired_difference([10.0, 20.0, 30.0], [11.0, 22.0, 33.0])
    assert result["diff"] == pytest.approx(2.0)
    assert result["ci_low"] == pytest.approx(2.0 - 2.4841, abs=1e-3)
    assert result["ci_high"] == pytest.approx(2.0 + 2.4841, abs=1e-3)
    assert result["p"] == pytest.approx(0.0742, abs=5e-4)
    assert result["n"] == 3


def test_paired_difference_with_one_pair_has_no_interval_and_unequal_lengths_fail():
    one = paired_difference([1.0], [3.0])
    assert one["diff"] == 2.0 and math.isnan(one["ci_low"]) and math.isnan(one["p"])
    with pytest.raises(ValueError, match="equal lengths"):
        paired_difference([1.0, 2.0], [1.0])


def _record(dataset, loss, ps, seed, map_r, r1=0.9, alpha=0.4, mu=1.0):
    return {"config": {"dataset": dataset, "loss": loss, "ps": ps, "alpha": alpha, "mu": mu, "seed": seed,
                       "epochs": 3}, "metrics": {"recall@1": r1, "r_precision": map_r + 0.1, "map@r": map_r},
            "history": [], "seconds": 1.0}


def test_compare_pairs_by_seed_and_reports_sample_std():
    rng = np.random.default_rng(0)
    base = rng.uniform(0.4, 0.6, 5)
    records = [_record("digits", "cosface", False, s, base[s]) for s in range(5)]
    records += [_record("digits", "cosface", True, s, base[s] + 0.02 + 0.001 * s) for s in range(5)]
    table = in_percent(compare(runs_frame(records))).set_index("metric")  # the records hold fractions
    row = table.loc["map@r"]
    assert row["baseline_std"] == pytest.approx(100 * base.std(ddof=1))
    assert row["diff"] == pytest.approx(2.2)  # 2 points plus 0.1 * mean(0..4)
    assert row["significant"] and row["ci_low"] > 0 and row["n"] == 5
    # shuffled seeds between arms would break the pairing: the seed, not the order, pairs the runs
    shuffled = in_percent(compare(runs_frame(records[5:][::-1] + records[:5]))).set_index("metric")
    assert shuffled.loc["map@r", "diff"] == pytest.approx(2.2)
    assert shuffled.loc["recall@1", "diff"] == pytest.approx(0.0) and not shuffled.loc["recall@1", "significant"]


# ---- markdown ---------------------------------------------------------------------------------------------------


def test_markdown_round_trip_and_cell_parsers():
    frame = pd.DataFrame({"a|b": ["x|y", "2"], "c": [md.mean_std(97.1, 0.214), md.difference(0.35, -0.1, 0.8, True)]})
    text = "intro\n\n" + md.to_markdown(frame) + "\n\nmore text\n"
    (table,) = read_tables(text)
    assert list(table.columns) == ["a|b", "c"] and table.iloc[0, 0] == "x|y"
    assert parse_mean_std(table.iloc[0, 1]) == (97.1, 0.21)
    assert parse_difference(table.iloc[1, 1]) == (0.35, -0.1, 0.8, True)
    assert math.isnan(parse_mean_std(md.mean_std(5.0, float("nan")))[1])
    assert parse_difference(md.difference(-1.5, float("nan"), float("nan"), False))[0] == -1.5
    with pytest.raises(ValueError, match="cells"):
        read_tables("| a | b |\n|---|---|\n| 1 |\n")


# ---- the plan ---------------------------------------------------------------------------------------------------


def test_default_plan_covers_the_issue_and_gives_both_arms_the_same_budget():
    plan = Plan()
    assert set(plan.losses) == set(losses.available()) and len(plan.losses) == 8
    assert len(plan.seeds["glyphs"]) >= 3 and len(plan.seeds["fashion-mnist"]) >= 5 and len(plan.seeds["digits"]) >= 5
    small = plan.small_jobs()
    assert len(small) == 2 * 8 * (3 + 5 + 5)
    by_arm = {}
    for job in small:
        values = job.config.to_dict()
        assert values["alpha"] == 0.4 and values["mu"] == 1.0
        by_arm.setdefault(values.pop("ps"), []).append(values)
    assert by_arm[False] == by_arm[True]  # everything but `ps` identical, run for run
    ablation = plan.ablation_jobs()
    cells = {(j.config.alpha, j.config.mu) for j in ablation if j.config.ps}
    assert cells == {(a, m) for a in (0.1, 0.4, 1.0, 2.0) for m in (0.25, 0.5, 1.0, 2.0)}
    assert len(ablation) == 16 * 3 + 3
    # the ablation's baseline runs are the small table's glyphs Norm-SoftMax baselines: stored once
    small_keys = {run_key(j.config) for j in small}
    assert all(run_key(j.config) in small_keys for j in ablation if not j.config.ps)
    curves = plan.curve_jobs()
    assert all(j.config.epochs > plan.budgets["glyphs"]["epochs"] and j.config.loss == "norm_softmax" for j in curves)


def test_plan_rejects_unknown_losses_and_missing_seeds():
    with pytest.raises(ValueError, match="unknown"):
        Plan(losses=("softmax", "triplet"))
    with pytest.raises(ValueError, match="no seeds"):
        Plan.tiny(seeds=())
    with pytest.raises(ValueError, match="parts"):
        Plan.tiny().jobs(("small", "everything"))


# ---- end to end -------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tiny_report(tmp_path_factory):
    """`psviz reproduce --tiny`: digits, one seed, one epoch, 8 losses, 2 long runs and a 2 x 2 ablation."""
    folder = tmp_path_factory.mktemp("reproduce")
    args = ["reproduce", "--tiny", "--results-dir", str(folder / "small"), "--doc", str(folder / "RESULTS.md"),
            "--images", str(folder / "images"), "--workers", "1", "--no-progress"]
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        assert main(args) == 0
    finally:
        torch.set_num_threads(before)  # later tests compare against subprocesses with the default thread count
    return folder, args


@pytest.mark.slow
def test_tiny_pipeline_writes_csvs_figures_and_a_table_that_parses(tiny_report):
    folder, _ = tiny_report
    for name in ("runs", "comparison", "curves", "curves_summary", "ablation_runs", "ablation"):
        assert (folder / "small" / f"{name}.csv").is_file()
    assert (folder / "images" / "reproduce_training_length.png").stat().st_size > 10_000
    assert (folder / "images" / "reproduce_ablation.png").stat().st_size > 10_000
    runs = pd.read_csv(folder / "small" / "runs.csv")
    assert len(runs) == 16 and set(runs["loss"]) == set(losses.available())
    assert runs["map@r"].between(0, 100).all() and runs["map@r"].nunique() > 1
    text = (folder / "RESULTS.md").read_text()
    assert "INCOMPLETE" not in text and "psviz reproduce --tiny" in text
    assert "### Toy: the sweep" in text and "toy-8-2d-64" in text
    tables = read_tables(text)
    digits = next(t for t in tables if "MAP@R baseline" in t.columns)
    assert list(digits["loss"]) == list(losses.available())
    comparison = pd.read_csv(folder / "small" / "comparison.csv")
    for _, row in digits.iterrows():
        expected = comparison[(comparison["loss"] == row["loss"]) & (comparison["metric"] == "map@r")].iloc[0]
        assert parse_mean_std(row["MAP@R baseline"])[0] == pytest.approx(expected["baseline_mean"], abs=0.006)
        assert parse_mean_std(row["MAP@R PS"])[0] == pytest.approx(expected["ps_mean"], abs=0.006)
        assert parse_difference(row["Δ MAP@R [95% CI]"])[0] == pytest.approx(expected["diff"], abs=0.006)
    ablation = next(t for t in tables if "Δ vs baseline [95% CI]" in t.columns)
    assert len(ablation) == 1 + 4 and ablation.iloc[0]["α"] == "baseline"
    paper_table = next(t for t in tables if "cub200" in t.columns)
    base, ps = paper.TABLE6["norm_softmax"]["cub200"]
    assert paper_table.set_index("loss").loc["norm_softmax", "cub200"].startswith(f"{base:.1f} → {ps:.1f}")


@pytest.mark.slow
def test_tiny_pipeline_resumes_without_redoing_finished_runs(tiny_report, capsys):
    folder, args = tiny_report
    store = RecordStore(folder / "small" / "runs")
    records = sorted(store.directory.glob("*.json"))
    # 16 table runs (one baseline shared with the ablation), 2 long, 3 more ablation; the regime part: 4 sweep
    # baselines (2 toy candidates x 2 seeds) and the PS arm of the explained candidate (its baselines are the sweep's)
    assert len(records) == 27
    victim = records[0]
    before = {p.name: p.stat().st_mtime_ns for p in records}
    victim.unlink()
    assert main(args) == 0
    assert "runs: 1 trained, 26 already stored, 0 failed" in capsys.readouterr().out
    after = {p.name: p.stat().st_mtime_ns for p in sorted(store.directory.glob("*.json"))}
    assert set(after) == set(before)
    assert all(after[name] == before[name] for name in before if name != victim.name)


@pytest.mark.slow
def test_report_marks_missing_runs(tiny_report, tmp_path):
    folder, _ = tiny_report
    store = tmp_path / "small" / "runs"
    store.mkdir(parents=True)
    for path in sorted((folder / "small" / "runs").glob("*.json"))[:10]:
        (store / path.name).write_text(path.read_text())
    assert main(["reproduce", "--tiny", "--report-only", "--results-dir", str(tmp_path / "small"),
                 "--doc", str(tmp_path / "RESULTS.md"), "--images", str(tmp_path / "images")]) == 0
    text = (tmp_path / "RESULTS.md").read_text()
    assert "INCOMPLETE: 10 of 27 planned runs are stored" in text
    read_tables(text)  # still parses


# ---- the full-scale path ----------------------------------------------------------------------------------------


def test_full_path_stops_early_with_what_is_missing(tmp_path, capsys):
    with pytest.raises(NotReady, match="must be one of"):
        check_ready("mnist", tmp_path)
    with pytest.raises(NotReady, match="images.txt") as caught:
        check_ready("cub200", tmp_path)
    if not torch.cuda.is_available():
        assert "CUDA GPU" in str(caught.value)
    assert main(["reproduce", "--benchmark", "cars196"]) == 2
    err = capsys.readouterr().err
    assert "--root DIR" in err and "cannot run the cars196 reproduction" in err
    assert main(["reproduce", "--benchmark", "cub200", "--root", str(tmp_path), "--losses", "triplet"]) == 2
    assert "unknown ['triplet']" in capsys.readouterr().err


@pytest.mark.slow
def test_full_path_runs_end_to_end_on_a_fake_cub_and_sits_beside_table6(tmp_path):
    from test_data_benchmarks import make_cub

    make_cub(tmp_path / "data")
    changes = dict(model_options={"weights": None, "pooling": "avg", "freeze_bn": False}, image_size=32, epochs=1,
                   batch_size=4, eval_every=1, num_workers=0, device="cpu", ks=[1])  # 4 items a query can find
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        table = run_benchmark("cub200", tmp_path / "data", ["norm_softmax"], seeds=(0,), model="resnet50",
                              results_dir=tmp_path / "results", require_gpu=False, progress=False, **changes)
    finally:
        torch.set_num_threads(before)
    assert set(table["metric"]) == {"recall@1", "r_precision", "map@r"}
    text = (tmp_path / "results" / "cub200" / "RESULTS.md").read_text()
    (row,) = read_tables(text)[0].to_dict("records")
    base, ps = paper.TABLE6["norm_softmax"]["cub200"]
    assert (row["paper baseline"], row["paper PS"]) == (f"{base:.1f}", f"{ps:.1f}")
    records = list((tmp_path / "results" / "cub200" / "runs").glob("*.json"))
    assert len(records) == 2 and {json.loads(p.read_text())["config"]["ps"] for p in records} == {False, True}
    # the records hold fractions; the CSV and the report show percent, like the paper's table beside them
    stored = {json.loads(p.read_text())["config"]["ps"]: json.loads(p.read_text())["metrics"] for p in records}
    csv = pd.read_csv(tmp_path / "results" / "cub200" / "comparison.csv").set_index("metric")
    assert csv.loc["map@r", "baseline_mean"] == pytest.approx(100 * stored[False]["map@r"], abs=1e-3)
    assert row["R@1 baseline"].startswith(f"{100 * stored[False]['recall@1']:.2f}")


# ---- pieces -----------------------------------------------------------------------------------------------------


def test_record_store_round_trips_and_treats_a_damaged_record_as_missing(tmp_path):
    plan = Plan.tiny()
    config = plan.small_jobs()[0].config
    store = RecordStore(tmp_path / "runs")
    assert store.read(config) is None and not store.has(config)
    store.write(config, {"config": config.to_dict(), "metrics": {"map@r": 0.5}, "history": []})
    assert store.read(config)["metrics"] == {"map@r": 0.5}
    assert not list(store.directory.glob(".*.tmp"))  # written through a temporary file, then renamed
    assert store.read(config.replace(output_dir="/elsewhere", num_workers=2)) is not None  # ignored settings
    assert store.read(config.replace(seed=1)) is None
    store.path(config).write_text('{"config": ')
    assert store.read(config) is None


def test_length_curves_draws_both_arms_and_the_paired_difference():
    from psviz.viz import length_curves

    summary = pd.DataFrame({"epoch": [2, 4, 6], "baseline_mean": [0.50, 0.55, 0.53], "baseline_std": [0.01] * 3,
                            "ps_mean": [0.49, 0.555, 0.56], "ps_std": [0.005] * 3, "diff": [-0.01, 0.005, 0.03],
                            "ci_low": [-0.02, -0.005, 0.02], "ci_high": [0.0, 0.015, 0.04]})  # fractions, drawn in %
    fig = length_curves(summary, short_epoch=2)
    top, bottom = fig.axes
    lines = {line.get_label(): list(np.asarray(line.get_ydata(), float)) for line in top.get_lines()}
    assert lines["baseline (no PS)"] == pytest.approx([50.0, 55.0, 53.0])
    assert lines["with Proxy Synthesis"] == pytest.approx([49.0, 55.5, 56.0])
    assert any("epoch 4" in t.get_text() for t in top.texts)  # the baseline's peak is marked
    (difference,) = [line for line in bottom.get_lines() if line.get_label().startswith("PS")]
    assert list(np.asarray(difference.get_ydata(), float)) == pytest.approx([-1.0, 0.5, 3.0])
    with pytest.raises(ValueError, match="ci_low"):
        length_curves(summary.drop(columns="ci_low"))


# ---- the committed results ---------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_committed_results_are_what_the_command_writes_from_the_committed_runs(tmp_path):
    """docs/RESULTS.md must be the command's output: rewriting it from results/small/runs gives the same tables."""
    committed = (ROOT / "docs" / "RESULTS.md").read_text()
    # --report-only reads the records from --results-dir/runs: point it at a copy of the committed ones
    shutil.copytree(ROOT / "results" / "small" / "runs", tmp_path / "small" / "runs", dirs_exist_ok=True)
    assert main(["reproduce", "--report-only", "--results-dir", str(tmp_path / "small"), "--doc",
                 str(tmp_path / "RESULTS.md"), "--images", str(tmp_path / "images")]) == 0
    rewritten = (tmp_path / "RESULTS.md").read_text()
    assert "INCOMPLETE" not in committed
    old, new = read_tables(committed), read_tables(rewritten)
    assert len(old) == len(new) >= 6
    for before, after in zip(old, new):
        pd.testing.assert_frame_equal(before, after)
    for name in ("comparison", "ablation", "curves_summary"):
        pd.testing.assert_frame_equal(pd.read_csv(ROOT / "results" / "small" / f"{name}.csv"),
                                      pd.read_csv(tmp_path / "small" / f"{name}.csv"))


def test_committed_results_name_the_plain_command_and_paths_in_the_repository():
    """RESULTS.md tells a reader the command to rerun and where the records are: never a folder of the machine that
    wrote it (a temporary copy of the runs, a home directory)."""
    committed = (ROOT / "docs" / "RESULTS.md").read_text()
    commands = set(re.findall(r"`(psviz reproduce[^`]*)`", committed))
    assert commands and all(" /" not in command and "--results-dir" not in command for command in commands), commands
    links = re.findall(r"`(\.\./[^`]*)`", committed)
    assert links and all((ROOT / "docs" / link).resolve().is_relative_to(ROOT) for link in links), links
    assert "/tmp/" not in committed and "/home/" not in committed and "/root/" not in committed


@pytest.mark.slow
def test_a_dataset_that_cannot_load_is_skipped_with_its_reason(tmp_path, monkeypatch, capsys):
    from psviz.apps.reproduce import small

    def refuse(name, split, **options):
        raise ValueError(f"{name}: no files here")

    monkeypatch.setattr("psviz.data.load", refuse)
    assert small.unavailable(Plan.tiny()) == {"digits": "digits: no files here"}
    small.reproduce_small(Plan.tiny(), results_dir=tmp_path / "small", doc=tmp_path / "RESULTS.md",
                          images=tmp_path / "images", workers=1, progress=False)
    out = capsys.readouterr().out
    # the digits runs are skipped; the regime part trains on the toy, which needs no files
    assert "skipping digits: digits: no files here" in out and "runs: 6 trained" in out
    assert "INCOMPLETE: 6 of 27" in (tmp_path / "RESULTS.md").read_text()
