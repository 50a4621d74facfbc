"""The `psviz` command line: train, evaluate, errors."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from psviz.cli import main

ROOT = Path(__file__).resolve().parents[1]


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
    from psviz.demo import comparison_rows, format_table, summary_line

    base = {"recall@1": 0.50, "recall@2": 0.6, "recall@4": 0.7, "recall@8": 0.8, "r_precision": 0.3, "map@r": 0.20}
    better = {**base, "recall@1": 0.53, "map@r": 0.21}
    rows = comparison_rows(base, better)
    assert [r["metric"] for r in rows] == ["recall@1", "recall@2", "recall@4", "recall@8", "r_precision", "map@r"]
    assert rows[0]["difference"] == pytest.approx(3.0) and rows[-1]["difference"] == pytest.approx(1.0)
    assert "helped" in summary_line(rows) and "+3.00" in summary_line(rows)
    assert "hurt" in summary_line(comparison_rows(better, base))
    assert "mixed" in summary_line(comparison_rows(base, {**base, "recall@1": 0.55, "map@r": 0.1}))
    assert "recall@1" in format_table(rows) and "+3.00" in format_table(rows)


def test_demo_end_to_end_writes_its_table(tmp_path, capsys):
    assert main(["demo", "--output-dir", str(tmp_path), "--epochs", "1", "--regime-epochs", "2", "--no-progress",
                 "--umap-points", "300", "--explorer-classes", "12"]) == 0
    out = capsys.readouterr().out
    assert "short budget" in out and "overfitting regime" in out and "mechanism measures" in out
    assert out.count("Proxy Synthesis ") >= 2  # one verdict line per budget
    assert {"table.csv", "table.md", "summary.json", "baseline", "with_ps", "regime"} <= \
        {p.name for p in tmp_path.iterdir()}
    summary = json.loads((tmp_path / "summary.json").read_text())
    rows = summary["rows"]
    assert [r["budget"] for r in rows] == ["short"] * 6 + ["regime"] * 6
    assert all(0 <= r["baseline"] <= 100 and 0 <= r["with PS"] <= 100 for r in rows)
    assert set(summary["measures"]) == {"baseline", "with PS"}
    assert 0 <= summary["measures"]["with PS"]["unseen_confidence"] <= 1
    assert (tmp_path / "with_ps" / "best.pt").is_file() and (tmp_path / "regime" / "with_ps" / "last.pt").is_file()
    figures = {"synthetic_embeddings", "decision_boundaries", "confidence_landscape", "umap_seen_unseen",
               "synthetic_vs_unseen", "generalisation_gap", "recall_at_k", "retrieval_gallery"}
    for name in figures:
        assert (tmp_path / f"{name}.html").stat().st_size > 1000 and (tmp_path / f"{name}.png").is_file()
        assert f"{name}.html" in out
    assert (tmp_path / "plotly.min.js").is_file()  # shared by the HTML files, so they open offline
    explorer = (tmp_path / "explorer.html").read_text()
    assert '"runs":["baseline","with PS"]' in explorer and "explorer.html" in out
    # the default trains each pair in two worker processes; one after the other in this process gives the same bits
    assert main(["demo", "--output-dir", str(tmp_path / "one"), "--epochs", "1", "--regime-epochs", "2",
                 "--no-progress", "--no-figures", "--workers", "1"]) == 0
    assert json.loads((tmp_path / "one" / "summary.json").read_text()) == summary
    assert (tmp_path / "one" / "table.csv").read_bytes() == (tmp_path / "table.csv").read_bytes()
