"""The `psviz` command line: train, evaluate, errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from psviz.apps.cli import main

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_train_then_evaluate(tmp_path, capsys):
    run = tmp_path / "run"
    assert main(["train", "--config", "digits", "--set", "epochs=2", "--set", f"output_dir={run}",
                 "--no-progress"]) == 0
    out = capsys.readouterr().out
    assert "unseen classes of digits after 2 epochs" in out and "map@r" in out
    assert main(["evaluate", str(run), "--checkpoint", "last", "--seen", "--nmi"]) == 0
    out = capsys.readouterr().out
    for key in ["unseen/recall@1", "unseen/map@r", "seen/map@r", "unseen/nmi"]:
        value = float(next(line for line in out.splitlines() if line.strip().startswith(key)).split()[-1])
        assert 0 < value <= 1


def test_train_from_a_config_file(tmp_path, capsys):
    config = tmp_path / "mine.yaml"
    config.write_text(f"dataset: toy\nmodel: mlp\nembedding_dim: 3\nepochs: 2\noutput_dir: {tmp_path / 'r'}\n")
    assert main(["train", "--config", str(config), "--no-progress"]) == 0
    assert (tmp_path / "r" / "last.pt").is_file()


def test_bad_config_is_one_clear_message_not_a_traceback(tmp_path, capsys):
    assert main(["train", "--config", "digits", "--set", "epochz=3"]) == 2
    err = capsys.readouterr().err
    assert "unknown key 'epochz' (did you mean 'epochs'?)" in err and "Traceback" not in err
    assert main(["train", "--config", "nope"]) == 2
    assert "neither a file nor a preset" in capsys.readouterr().err
    bad = tmp_path / "bad.yaml"
    bad.write_text("loss: [unclosed\n")
    assert main(["train", "--config", str(bad)]) == 2
    assert "not valid YAML" in capsys.readouterr().err
    assert main(["evaluate", str(tmp_path)]) == 2
    assert "not a psviz run folder" in capsys.readouterr().err


def test_module_entry_point_runs():
    done = subprocess.run([sys.executable, "-m", "psviz", "--help"], capture_output=True, text=True, cwd=ROOT)
    assert done.returncode == 0 and "train" in done.stdout and "demo" in done.stdout


def test_demo_comparison_table_and_summary_line():
    from psviz.analysis import comparison_rows, format_table, summary_line

    base = {"recall@1": 0.50, "recall@2": 0.6, "recall@4": 0.7, "recall@8": 0.8, "r_precision": 0.3, "map@r": 0.20}
    better = {**base, "recall@1": 0.53, "map@r": 0.21}
    rows = comparison_rows(base, better)
    assert [r["metric"] for r in rows] == ["recall@1", "recall@2", "recall@4", "recall@8", "r_precision", "map@r"]
    assert rows[0]["difference"] == pytest.approx(3.0) and rows[-1]["difference"] == pytest.approx(1.0)
    assert "helped" in summary_line(rows) and "+3.00" in summary_line(rows)
    assert "hurt" in summary_line(comparison_rows(better, base))
    assert "mixed" in summary_line(comparison_rows(base, {**base, "recall@1": 0.55, "map@r": 0.1}))
    assert "Recall@1" in format_table(rows) and "+3.00" in format_table(rows)


@pytest.mark.slow
def test_demo_end_to_end_writes_its_tables_figures_and_page(demo_output):
    folder, out = demo_output
    assert "The verdict over 2 seeds" in out and "One glyphs pair" in out
    assert "over 2 seeds (95% paired t interval, unadjusted)" in out  # the toy's verdict comes with its interval
    assert f"Open {(folder / 'index.html').resolve()}" in out.strip().splitlines()[-1]  # the page is the last line
    summary = json.loads((folder / "summary.json").read_text())
    toy = [r for r in summary["rows"] if r["section"] == "toy"]
    assert [r["metric"] for r in toy] == ["recall@1", "r_precision", "map@r"] and all(r["n"] == 2 for r in toy)
    for row in toy:
        assert row["ci_low"] <= row["difference"] <= row["ci_high"]
        assert row["difference"] == pytest.approx(row["with PS"] - row["baseline"])
    glyphs = [r for r in summary["rows"] if r["section"] == "glyphs, seed 0"]
    assert len(glyphs) == 6 and all(0 <= r["baseline"] <= 100 and 0 <= r["with PS"] <= 100 for r in glyphs)
    assert len(list((folder / "toy" / "runs").glob("*.json"))) == 4  # 2 seeds x 2 arms, stored as records
    assert (folder / "glyphs" / "with_ps" / "last.pt").is_file() and (folder / "toy" / "with_ps" / "last.pt").is_file()
    figures = {"synthetic_embeddings", "decision_boundaries", "confidence_landscape", "umap_seen_unseen",
               "synthetic_vs_unseen", "recall_at_k", "retrieval_gallery"}
    for name in figures:
        assert (folder / f"{name}.html").stat().st_size > 1000 and (folder / f"{name}.png").is_file()
    assert (folder / "plotly.min.js").is_file()  # shared by the HTML files, so they open offline
    assert '"runs":["baseline","with PS"]' in (folder / "explorer.html").read_text()
    page = (folder / "index.html").read_text()
    assert all(f"src='{name}.png'" in page for name in figures) and "href='explorer.html'" in page


def test_the_demo_verdict_is_the_stored_effect_map_cell():
    """The toy verdict trains the effect map's own cell: its configs are the ones whose records are stored."""
    from psviz.apps.reproduce.stored import STORED_RUNS, toy_cell
    from psviz.train import preset
    from psviz.train.records import RecordStore

    plan, cell, long = toy_cell()
    baseline, with_ps = plan.cell_configs(cell, long, 0)
    assert with_ps.replace(eval_every=1) == preset("toy", ps=True, seed=0).replace(eval_every=1)
    # the baseline's μ is unused (no PS) and stored as the default 1.0
    assert baseline.replace(eval_every=1, mu=with_ps.mu) == preset("toy", ps=False, seed=0).replace(eval_every=1)
    store = RecordStore(STORED_RUNS)
    assert all(store.read(c) is not None for seed in cell.level.seeds for c in plan.cell_configs(cell, long, seed))


@pytest.mark.slow  # the one second run of the demo, on purpose: one worker against demo_output's default
def test_demo_with_one_worker_gives_the_same_table(demo_output, tmp_path):
    from psviz.apps.cli import main

    folder, _ = demo_output
    assert main(["demo", "--output-dir", str(tmp_path), "--seeds", "2", "--epochs", "1", "--no-progress",
                 "--no-figures", "--workers", "1"]) == 0
    assert json.loads((tmp_path / "summary.json").read_text())["rows"] == \
        json.loads((folder / "summary.json").read_text())["rows"]
    assert "Figures were not drawn" in (tmp_path / "index.html").read_text()