"""The report writer behind `psviz demo`: every figure for a baseline/PS pair, as HTML and PNG."""

import numpy as np
import pytest
import torch

from psviz import proxy_synthesis
from psviz.train import export_embeddings
from psviz.analysis.pair_data import FOCUS_CLASSES, _focus_classes, pair_figure_data
from psviz.viz.pair_figures import draw_pair_figures, write_pair_figures
from psviz.analysis.projection import umap_project

pytestmark = pytest.mark.filterwarnings("ignore::UserWarning")


@pytest.mark.slow
def test_write_pair_figures_draws_every_figure_in_both_formats(digits_runs, toy_runs, tmp_path):
    written = write_pair_figures(digits_runs, tmp_path, boundary_runs=toy_runs, umap_points=300)
    names = {p.name for p in written}
    stems = ["synthetic_embeddings", "decision_boundaries", "confidence_landscape", "umap_seen_unseen",
             "synthetic_vs_unseen", "recall_at_k", "training_curves", "retrieval_gallery"]
    assert names == {f"{s}.{ext}" for s in stems for ext in ("html", "png")}
    assert all(p.stat().st_size > 1000 for p in written)
    assert (tmp_path / "plotly.min.js").is_file()
    html = (tmp_path / "decision_boundaries.html").read_text()
    assert "plotly.min.js" in html and "unseen-class embedding" in html


def test_report_without_boundary_runs_leaves_regions_out_for_a_32d_embedding(digits_runs):
    data = pair_figure_data(digits_runs, umap_points=200)
    figures = draw_pair_figures(data)
    assert "decision_boundaries" not in figures
    umap = figures["umap_seen_unseen"]
    counts = {t.name: len(t.x) for t in umap.data if t.xaxis == "x2"}  # the PS panel
    assert counts["synthetic embedding"] == data.batch.n_synthetic
    assert counts["proxy"] == digits_runs["with PS"].loss.n_classes


def test_report_needs_a_baseline_and_a_ps_run(digits_runs):
    with pytest.raises(ValueError, match="baseline"):
        pair_figure_data({"a": digits_runs["baseline"], "b": digits_runs["with PS"]})
    with pytest.raises(ValueError, match="FitResult"):
        pair_figure_data({"baseline": digits_runs["baseline"], "with PS": "run"})


def test_many_classes_focus_on_the_batch_classes_and_as_many_unseen():
    labels = torch.arange(40).repeat(2)
    batch = proxy_synthesis(torch.randn(80, 8), torch.randn(100, 8), labels, generator=torch.Generator().manual_seed(0))
    assert _focus_classes(batch, 50, 50, seed=0) is None  # few classes: everything is drawn
    seen, unseen = _focus_classes(batch, 100, 300, seed=0)
    assert seen == list(range(FOCUS_CLASSES)) and len(unseen) == FOCUS_CLASSES
    assert len(set(unseen)) == FOCUS_CLASSES and max(unseen) < 300
    assert _focus_classes(batch, 100, 300, seed=0) == (seen, unseen)


def test_keep_classes_and_proxy_classes_limit_what_is_mapped(digits_runs):
    export = export_embeddings(digits_runs["with PS"])
    kept = export.keep_classes("seen", [0, 2]).keep_classes("unseen", [1])
    seen = kept.labels[torch.as_tensor(kept.splits == "seen")]
    unseen = kept.labels[torch.as_tensor(kept.splits == "unseen")]
    assert set(seen.tolist()) == {0, 2} and set(unseen.tolist()) == {1}
    assert len(seen) == int(torch.isin(export.labels[torch.as_tensor(export.splits == "seen")],
                                       torch.tensor([0, 2])).sum())
    assert torch.equal(kept.proxies, export.proxies)
    projection = umap_project(kept, proxy_classes=[2, 0], n_neighbors=10)
    assert projection.extras["proxies"].shape == (2, 2)
    assert np.array_equal(projection.extra_labels["proxies"], [0, 2])
