"""Which seen class the loss picks where: each run's decision regions and their confidence on the circle (2-D
embeddings), the sphere (3-D) or the toy data's input plane, with the margin measures; `psviz.viz` draws them."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F

from .. import data as datasets
from ..evaluate.geometry import boundary_measures
from ..evaluate.smoothness import boundary_smoothness
from ..train import FitResult, export_embeddings, plain_splits
from .projection.space import sphere_grid

SPACES = ("embedding", "input")


@dataclass
class BoundaryView:
    """Everything one panel draws: the region grid and its winners, points, proxies and the margin measures.

    ``kind`` is "circle" (grid = angles [n]), "sphere" (grid = unit vectors [n_lat, n_lon, 3]) or "input"
    (grid = (xs [nx], ys [ny]) and winner [ny, nx]). ``winner`` holds seen-class indices.
    """

    name: str
    kind: str
    grid: object
    winner: np.ndarray
    points: np.ndarray
    labels: np.ndarray
    splits: np.ndarray
    proxies: np.ndarray | None
    proxy_labels: np.ndarray | None
    class_names: dict
    measures: dict = field(default_factory=dict)
    confidence: np.ndarray | None = None  # the winner's softmax probability at each grid point, shaped as winner
    # log-probabilities of every seen class at each grid point [..., n_seen] (sphere views): where two classes tie
    scores: np.ndarray | None = None

    @property
    def n_seen(self) -> int:
        return len(self.class_names.get(datasets.SEEN, []))


def _scored(run: FitResult, embeddings: torch.Tensor, log_probabilities: bool = False):
    """(winning seen class, its softmax probability) of each embedding, by the loss's own scores; with
    ``log_probabilities``, also every class's log-probability [n, n_classes]."""
    loss = run.loss
    device = loss.proxies.device
    winners, confidence, logs = [], [], []
    for chunk in embeddings.split(8192):
        probabilities = loss.probabilities(chunk.to(device, loss.proxies.dtype)).float()
        top = probabilities.max(dim=1)
        winners.append(top.indices.cpu())
        confidence.append(top.values.cpu())
        if log_probabilities:
            logs.append(probabilities.clamp_min(1e-30).log().cpu())
    if log_probabilities:
        return torch.cat(winners), torch.cat(confidence), torch.cat(logs)
    return torch.cat(winners), torch.cat(confidence)


def _subsample(n: int, limit: int | None, seed: int) -> np.ndarray:
    if limit is None or n <= limit:
        return np.arange(n)
    return np.sort(np.random.default_rng(seed).choice(n, limit, replace=False))


def boundary_view(run: FitResult, *, space: str = "embedding", name: str = "", resolution: int | None = None,
                  max_points: int | None = 2000, seed: int = 0) -> BoundaryView:
    """Compute one run's decision regions and measures (see `BoundaryView`); the figure functions draw them.

    ``space="embedding"`` needs a 2-D or 3-D embedding; ``space="input"`` needs 2-D inputs (the toy dataset).
    """
    if not isinstance(run, FitResult):
        raise ValueError(f"runs must map names to psviz.train.FitResult objects, got {type(run).__name__}")
    if space not in SPACES:
        raise ValueError(f"space must be one of {', '.join(SPACES)}, got {space!r}")
    dim = run.config.embedding_dim
    export = export_embeddings(run)
    unseen_e, unseen_y = export.part(datasets.UNSEEN)
    regions, unseen_top = _scored(run, unseen_e)
    proxies = run.loss.proxy_tensor().detach().float().cpu()
    measures = boundary_measures(proxies, unseen_e, unseen_y, regions=regions)
    if run.loss.normalize:  # the smoothness of an unnormalised loss depends on a length the grid does not have
        measures.update(boundary_smoothness(run.loss))
    measures["unseen_confidence"] = float(unseen_top.mean())
    keep = _subsample(len(export.labels), max_points, seed)
    names = export.class_names
    proxies_flat = F.normalize(proxies.reshape(-1, dim), dim=-1).numpy()
    proxy_labels = np.repeat(np.arange(run.loss.n_classes), run.loss.proxies_per_class)
    if space == "input":
        return _input_view(run, name, resolution or 160, names, measures, keep)
    if dim == 2:
        angles = np.linspace(-np.pi, np.pi, resolution or 1440, endpoint=False)
        directions = torch.from_numpy(np.stack([np.cos(angles), np.sin(angles)], 1)).float()
        winner, confidence = (t.numpy() for t in _scored(run, directions))
        kind, grid, scores = "circle", angles, None
    elif dim == 3:
        n = resolution or 90
        x, y, z = sphere_grid(n, 2 * n)
        grid = np.stack([x, y, z], axis=-1)
        winner, confidence, scores = (t.numpy().reshape(*x.shape, -1) for t in
                                      _scored(run, torch.from_numpy(grid.reshape(-1, 3)).float(), True))
        winner, confidence = winner[..., 0], confidence[..., 0]
        kind = "sphere"
    else:
        raise ValueError(f"space='embedding' draws 2-D or 3-D embeddings; this run's embedding_dim is {dim} "
                         f"(use psviz.viz.umap_seen_unseen for higher dimensions)")
    return BoundaryView(name, kind, grid, winner, export.embeddings[keep].numpy(), export.labels[keep].numpy(),
                        export.splits[keep], proxies_flat, proxy_labels, names, measures, confidence,
                        scores if kind == "sphere" else None)


def _input_view(run, name, resolution, names, measures, keep) -> BoundaryView:
    parts = plain_splits(run.config)
    sets = parts[datasets.SEEN] + parts[datasets.UNSEEN]
    inputs = [torch.stack([s[i][0] for i in range(len(s))]) for s in sets]
    if inputs[0].dim() != 2 or inputs[0].shape[1] != 2:
        raise ValueError(f"space='input' needs 2-D inputs (the toy dataset with dim=2); {run.config.dataset} "
                         f"items have shape {tuple(inputs[0].shape[1:])}")
    points = torch.cat(inputs).numpy()
    labels = np.concatenate([s.targets.numpy() for s in sets])
    splits = np.concatenate([np.full(len(s), datasets.SEEN if i == 0 else datasets.UNSEEN)
                             for i, s in enumerate(sets)])
    low, high = points.min(0) - 0.3, points.max(0) + 0.3
    xs, ys = np.linspace(low[0], high[0], resolution), np.linspace(low[1], high[1], resolution)
    grid = torch.from_numpy(np.stack(np.meshgrid(xs, ys), -1).reshape(-1, 2)).float()
    model = run.model
    device = next(model.parameters()).device
    was_training = model.training
    model.eval()
    with torch.no_grad():
        embedded = torch.cat([model(chunk.to(device)).float().cpu() for chunk in grid.split(8192)])
    model.train(was_training)
    winner, confidence = (t.numpy().reshape(resolution, resolution) for t in _scored(run, embedded))
    keep = keep[keep < len(points)]
    return BoundaryView(name, "input", (xs, ys), winner, points[keep], labels[keep], splits[keep], None, None,
                        names, measures, confidence)


def views_of(runs, *, space: str, resolution: int | None, max_points: int | None) -> list[BoundaryView]:
    """One `BoundaryView` per run of ``runs`` (name -> FitResult or BoundaryView), named, all of one kind of space."""
    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs must be a non-empty dict of name -> FitResult (or BoundaryView)")
    views = [run if isinstance(run, BoundaryView) else
             boundary_view(run, space=space, name=name, resolution=resolution, max_points=max_points)
             for name, run in runs.items()]
    for name, view in zip(runs, views):
        view.name = view.name or name
    if len({v.kind for v in views}) > 1:
        raise ValueError(f"runs must all be drawn in one kind of space, got {sorted({v.kind for v in views})}")
    return views


__all__ = ["SPACES", "BoundaryView", "boundary_view", "views_of"]
