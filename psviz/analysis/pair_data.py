"""What the figures of a baseline-vs-PS pair are drawn from, computed once for both backends: the PS batch, each
run's UMAP map with its synthetic cloud, the decision regions of a 2-D/3-D pair and the gallery's embeddings."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .. import data as datasets
from ..base.names import BASELINE, WITH_PS
from ..method.synthesis import SynthesisResult
from ..train import FitResult, export_embeddings, plain_splits, synthetic_batch, synthetic_points
from .boundaries import boundary_view
from .projection import umap_project


@dataclass
class PairFigureData:
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


def pair_figure_data(runs: dict, *, boundary_runs: dict | None = None, umap_points: int = 2000, seed: int = 0,
                     measures: dict | None = None, cloud_points: int = 800) -> PairFigureData:
    """Embed, project and sample everything `psviz.viz.draw_pair_figures` draws for a baseline and a PS run.

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
    return PairFigureData(runs, batch, splits[datasets.SEEN][0].class_names, boundaries, projections, gallery_set,
                          gallery_embeddings, seed, measures)


__all__ = ["FOCUS_CLASSES", "MANY_CLASSES", "PairFigureData", "pair_figure_data"]
