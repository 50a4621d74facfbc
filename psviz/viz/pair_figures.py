"""All the figures for a baseline-vs-PS pair of runs, written as HTML (and PNG) files named for what they show; what
they are drawn from is `psviz.analysis.pair_data`."""

from __future__ import annotations

from pathlib import Path

from ..analysis.pair_data import PairFigureData, pair_figure_data
from ..base.names import WITH_PS
from ..data.holdout import HELDOUT
from .boundaries import decision_boundaries
from .curves import recall_at_k, training_curves
from .density import synthetic_density
from .figure_files import save_figure
from .gallery import retrieval_gallery
from .gap import generalisation_gap
from .landscape import confidence_landscape
from .seen_unseen import umap_seen_unseen
from .synthetic import synthetic_embeddings


def draw_pair_figures(data: PairFigureData, *, gallery_queries: int = 6, backend: str = "plotly") -> dict:
    """{file stem: figure} drawn from `pair_figure_data`'s data."""
    ps_config = data.runs[WITH_PS].config
    figures = {"synthetic_embeddings": synthetic_embeddings(
        data.batch, class_names=data.seen_names, backend=backend,
        title=f"What Proxy Synthesis makes: one {ps_config.dataset} batch")}
    if data.boundaries is not None:
        figures["decision_boundaries"] = decision_boundaries(data.boundaries, backend=backend)
        figures["confidence_landscape"] = confidence_landscape(data.boundaries, backend=backend)
    figures["umap_seen_unseen"] = umap_seen_unseen(data.projections, backend=backend)
    figures["synthetic_vs_unseen"] = synthetic_density(data.projections, measures=data.measures, backend=backend)
    if all(any(f"{HELDOUT}/map@r" in row for row in run.history) for run in data.runs.values()):
        figures["generalisation_gap"] = generalisation_gap(data.runs, backend=backend)
    figures["recall_at_k"] = recall_at_k(data.runs, backend=backend)
    if sum("unseen/map@r" in row for row in data.runs[WITH_PS].history) > 1:
        figures["training_curves"] = training_curves(data.runs, backend=backend)
    if data.gallery_set is not None:
        figures["retrieval_gallery"] = retrieval_gallery(data.gallery_set, data.gallery_embeddings,
                                                         queries=gallery_queries, seed=data.seed, backend=backend)
    return figures


def write_pair_figures(runs: dict, output_dir: str | Path, *, png: bool = True, boundary_runs: dict | None = None,
                       umap_points: int = 2000, seed: int = 0, measures: dict | None = None) -> list[Path]:
    """Write every figure as ``<name>.html`` (sharing one plotly.min.js) and, with ``png``, ``<name>.png``."""
    output_dir = Path(output_dir)
    data = pair_figure_data(runs, boundary_runs=boundary_runs, umap_points=umap_points, seed=seed, measures=measures)
    written = [save_figure(fig, output_dir / f"{name}.html", plotlyjs="directory")
               for name, fig in draw_pair_figures(data).items()]
    if png:
        written += [save_figure(fig, output_dir / f"{name}.png")
                    for name, fig in draw_pair_figures(data, backend="matplotlib").items()]
    return written


__all__ = ["draw_pair_figures", "write_pair_figures"]
