"""All the figures for a baseline-vs-PS pair of runs, written as HTML (and PNG) files named for what they show."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .. import data as datasets
from ..analysis.boundaries import boundary_view
from ..analysis.projection import umap_project
from ..data.holdout import HELDOUT
from ..names import BASELINE, WITH_PS
from ..synthesis import SynthesisResult
from ..train import FitResult, export_embeddings, plain_splits, synthetic_batch, synthetic_points
from .boundaries import decision_boundaries
from .curves import recall_at_k, training_curves
from .density import synthetic_density
from .figure_files import save_figure
from .gallery import retrieval_gallery
from .gap import generalisation_gap
from .landscape import confidence_landscape
from .seen_unseen import umap_seen_unseen
from .synthetic import synthetic_embeddings


@dataclass
class ReportData:
    """What the report's figures are drawn from, computed once for both backends."""

    runs: dict
    batch: SynthesisResult
    seen_names: list
    boundaries: dict | None
    projections: dict
    gallery_set: object | None
    gallery_embeddings: dict | None
    seed: int
    measures: dict | None = None  # name -> psviz.train.mechanism_measures of each run (captions)


def _check_pair(runs: dict, argument: str = "runs") -> None:
    if not isinstance(runs, dict) or set(runs) != {BASELINE, WITH_PS}:
        raise ValueError(f"{argument} must be a dict with keys {BASELINE!r} and {WITH_PS!r}, got "
                         f"{sorted(runs) if isinstance(runs, dict) else type(runs).__name__}")
    for name, run in runs.items():
        if not isinstance(run, FitResult):
            raise ValueError(f"{argument}[{name!r}] must be a psviz.train.FitResult, got {type(run).__name__}")


MANY_CLASSES = 60
FOCUS_CLASSES = 24


def _focus_classes(batch: SynthesisResult, n_seen: int, n_unseen: int, seed: int):
    """With many classes a map of all of them is noise: keep the PS batch's seen classes (so its synthetic points
    mix classes that are drawn) and as many unseen classes, drawn at random; None when there are few classes."""
    if n_seen <= MANY_CLASSES and n_unseen <= MANY_CLASSES:
        return None
    seen = sorted(set(batch.labels[: batch.n_real].tolist()))[:FOCUS_CLASSES]
    rng = np.random.default_rng(seed)
    unseen = sorted(rng.choice(n_unseen, min(len(seen), n_unseen), replace=False).tolist())
    return seen, unseen


def prepare_report(runs: dict, *, boundary_runs: dict | None = None, umap_points: int = 2000, seed: int = 0,
                   measures: dict | None = None, cloud_points: int = 800) -> ReportData:
    """Embed, project and sample everything the figures need for a baseline and a PS run.

    With many classes (glyphs), the UMAP shows the PS batch's seen classes and as many random unseen ones, all their
    items; otherwise up to ``umap_points`` items per split. Each run's map also places ``cloud_points`` synthetic
    points made from its own seen embeddings (of the drawn classes), for the Figure-3 density view; ``measures``
    (name -> `psviz.train.mechanism_measures`) captions it. Decision regions and confidence landscapes need 2-D/3-D
    embeddings: they come from ``boundary_runs`` (a toy pair, say) when given, else from ``runs`` when their
    embeddings are small enough, else they are left out.
    """
    _check_pair(runs)
    ps_run = runs[WITH_PS]
    splits = plain_splits(ps_run.config)
    many = len(splits[datasets.SEEN][0].class_names) > MANY_CLASSES
    # with many classes a batch of 128 is 128 mixing paths in one plane: a smaller one can be followed by eye
    batch = synthetic_batch(ps_run, seed=seed, batch_size=FOCUS_CLASSES if many else None)
    pair = boundary_runs if boundary_runs is not None else (
        runs if ps_run.config.embedding_dim in (2, 3) else None)
    boundaries = None
    if pair is not None:
        _check_pair(pair, "boundary_runs")
        boundaries = {name: boundary_view(run, name=name) for name, run in pair.items()}
    focus = _focus_classes(batch, len(splits[datasets.SEEN][0].class_names),
                           len(splits[datasets.UNSEEN][0].class_names), seed)
    one_unseen_set = len(splits[datasets.UNSEEN]) == 1  # a gallery searches one set (not In-Shop's two parts)
    projections, gallery_embeddings = {}, {}
    for name, run in runs.items():
        export = export_embeddings(run, max_per_split=None if focus else umap_points, seed=seed)
        if one_unseen_set:  # the full export already holds every unseen item, in dataset order
            gallery_embeddings[name] = (export.part(datasets.UNSEEN)[0] if focus else
                                        export_embeddings(run, datasets.UNSEEN).embeddings)
        if focus:
            export = export.keep_classes(datasets.SEEN, focus[0]).keep_classes(datasets.UNSEEN, focus[1])
        cloud = synthetic_points(run, cloud_points, seed=seed, classes=focus[0] if focus else None)
        projections[name] = umap_project(export, synthetic=batch if name == WITH_PS else None,
                                         proxy_classes=focus[0] if focus else None, cloud=cloud, seed=seed)
    gallery_set = splits[datasets.UNSEEN][0] if one_unseen_set else None
    gallery_embeddings = gallery_embeddings or None
    return ReportData(runs, batch, splits[datasets.SEEN][0].class_names, boundaries, projections, gallery_set,
                      gallery_embeddings, seed, measures)


def report_figures(data: ReportData, *, gallery_queries: int = 6, backend: str = "plotly") -> dict:
    """{file stem: figure} drawn from `prepare_report`'s data."""
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


def write_report(runs: dict, output_dir: str | Path, *, png: bool = True, boundary_runs: dict | None = None,
                 umap_points: int = 2000, seed: int = 0, measures: dict | None = None) -> list[Path]:
    """Write every figure as ``<name>.html`` (sharing one plotly.min.js) and, with ``png``, ``<name>.png``."""
    output_dir = Path(output_dir)
    data = prepare_report(runs, boundary_runs=boundary_runs, umap_points=umap_points, seed=seed, measures=measures)
    written = [save_figure(fig, output_dir / f"{name}.html", plotlyjs="directory")
               for name, fig in report_figures(data).items()]
    if png:
        written += [save_figure(fig, output_dir / f"{name}.png")
                    for name, fig in report_figures(data, backend="matplotlib").items()]
    return written


__all__ = ["ReportData", "prepare_report", "report_figures", "write_report"]
