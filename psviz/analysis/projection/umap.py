"""UMAP maps of an export's rows (fitted on the seen classes, unseen placed by the fitted map) with overlaid proxies
and synthetic points, cached by a hash of their inputs so a redraw is instant; maps of two runs turned onto each other.
"""

from __future__ import annotations

import hashlib
import warnings
from collections import OrderedDict
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from scipy.linalg import orthogonal_procrustes

from ... import data as datasets
from ...base.files import atomic_write
from ...method.synthesis import SynthesisResult
from ...train.export import EmbeddingExport
from .runtime import fast_distances

FIT_ON = ("seen", "both")
OVERLAYS = ("proxies", "synthetic")


@dataclass
class UMAPProjection:
    """2-D coordinates of an export's rows (``points``, with labels and split tags) and of any overlaid ``extras``
    (e.g. "proxies", "synthetic", "synthetic_proxies"), all placed by one fitted UMAP."""

    points: np.ndarray
    labels: np.ndarray
    splits: np.ndarray
    class_names: dict
    extras: dict = field(default_factory=dict)
    extra_labels: dict = field(default_factory=dict)
    fit_on: str = "seen"

    def transformed(self, rotation: np.ndarray, shift: np.ndarray) -> "UMAPProjection":
        move = lambda xy: xy @ rotation + shift  # noqa: E731
        return UMAPProjection(move(self.points), self.labels, self.splits, self.class_names,
                              {k: move(v) for k, v in self.extras.items()}, self.extra_labels, self.fit_on)


class UMAPCache:
    """Finished UMAP layouts by a hash of their inputs and settings: in memory (the last ``max_items``) and, with
    ``directory``, as .npz files that survive a kernel restart."""

    def __init__(self, max_items: int = 32, directory: str | Path | None = None):
        self.max_items = max_items
        self.directory = Path(directory) if directory is not None else None
        self._items: OrderedDict[str, dict] = OrderedDict()
        self.hits = self.misses = 0

    def get(self, key: str) -> dict | None:
        if key in self._items:
            self._items.move_to_end(key)
            self.hits += 1
            return self._items[key]
        if self.directory is not None and (self.directory / f"{key}.npz").is_file():
            with np.load(self.directory / f"{key}.npz", allow_pickle=False) as stored:
                value = {k: stored[k] for k in stored.files}
            self._remember(key, value)
            self.hits += 1
            return value
        self.misses += 1
        return None

    def put(self, key: str, value: dict) -> None:
        self._remember(key, value)
        if self.directory is not None:
            atomic_write(self.directory / f"{key}.npz", lambda file: np.savez_compressed(file, **value))

    def _remember(self, key: str, value: dict) -> None:
        self._items[key] = value
        self._items.move_to_end(key)
        while len(self._items) > self.max_items:
            self._items.popitem(last=False)

    def clear(self) -> None:
        self._items.clear()
        self.hits = self.misses = 0

    def __len__(self) -> int:
        return len(self._items)


UMAP_CACHE = UMAPCache()


def _key(arrays: dict, settings: dict) -> str:
    digest = hashlib.sha1(repr(sorted(settings.items())).encode())
    for name in sorted(arrays):
        array = np.ascontiguousarray(arrays[name])
        digest.update(name.encode() + str(array.shape).encode() + str(array.dtype).encode())
        digest.update(array.tobytes())
    return digest.hexdigest()


def _extras_of(export: EmbeddingExport, overlay, synthetic: SynthesisResult | None,
               proxy_classes=None, cloud=None) -> tuple[dict, dict]:
    extras, labels = {}, {}
    for item in overlay:
        if item not in OVERLAYS:
            raise ValueError(f"overlay items must be among {', '.join(OVERLAYS)}, got {item!r}")
    if "proxies" in overlay:
        proxies = export.proxies
        classes = np.arange(proxies.shape[0]) if proxy_classes is None else np.asarray(sorted(proxy_classes), int)
        proxies = proxies[torch.as_tensor(classes)]
        k = proxies.shape[1] if proxies.dim() == 3 else 1
        extras["proxies"] = proxies.reshape(-1, proxies.shape[-1])
        labels["proxies"] = np.repeat(classes, k)
    if synthetic is not None:
        if not isinstance(synthetic, SynthesisResult):
            raise ValueError(f"synthetic must hold psviz.SynthesisResult objects, got {type(synthetic).__name__}")
        if synthetic.embeddings.shape[1] != export.embeddings.shape[1]:
            raise ValueError(f"synthetic batch has dimension {synthetic.embeddings.shape[1]}, the export "
                             f"{export.embeddings.shape[1]}")
        extras["synthetic"] = synthetic.synthetic_embeddings
        labels["synthetic"] = np.arange(synthetic.n_synthetic)
        syn_proxies = synthetic.synthetic_proxies
        extras["synthetic_proxies"] = syn_proxies.reshape(-1, syn_proxies.shape[-1])
        labels["synthetic_proxies"] = np.repeat(np.arange(synthetic.n_synthetic),
                                                syn_proxies.shape[1] if syn_proxies.dim() == 3 else 1)
    if cloud is not None:
        cloud = torch.as_tensor(cloud)
        if cloud.dim() != 2 or cloud.shape[1] != export.embeddings.shape[1]:
            raise ValueError(f"cloud must be synthetic points [S, {export.embeddings.shape[1]}], got shape "
                             f"{tuple(cloud.shape)}")
        extras["synthetic_cloud"] = cloud
        labels["synthetic_cloud"] = np.arange(len(cloud))
    return ({k: torch.nn.functional.normalize(v.detach().float().cpu(), dim=-1).numpy() for k, v in extras.items()},
            labels)


def umap_project(export: EmbeddingExport, *, fit_on: str = "seen", overlay=("proxies",),
                 synthetic: SynthesisResult | None = None, proxy_classes=None, cloud=None, n_neighbors: int = 15,
                 min_dist: float = 0.1, seed: int = 0, cache: UMAPCache | None = UMAP_CACHE) -> UMAPProjection:
    """Fit UMAP on the seen rows (``fit_on="seen"``: unseen rows are placed by the fitted map's ``transform``, as a
    new class would be) or on all rows (``"both"``), and place proxies / a PS batch (``synthetic``) the same way.

    ``proxy_classes`` limits the overlaid proxies to those seen classes (for data with many classes). ``cloud``
    ([S, d] synthetic embeddings, e.g. `psviz.train.synthetic_points`) is placed too, as extra "synthetic_cloud",
    for `psviz.viz.synthetic_density`.
    Results are cached by a hash of the inputs and settings; pass ``cache=None`` to recompute.
    """
    if not isinstance(export, EmbeddingExport):
        raise ValueError(f"export must be a psviz.train.EmbeddingExport, got {type(export).__name__}")
    if fit_on not in FIT_ON:
        raise ValueError(f"fit_on must be one of {', '.join(FIT_ON)}, got {fit_on!r}")
    rows = export.embeddings.detach().float().cpu().numpy()
    splits = np.asarray(export.splits).astype(str)
    fit_mask = splits == datasets.SEEN if fit_on == "seen" else np.ones(len(rows), bool)
    if fit_mask.sum() <= n_neighbors:
        raise ValueError(f"UMAP needs more than n_neighbors={n_neighbors} rows to fit on, the export has "
                         f"{int(fit_mask.sum())} ({fit_on})")
    extras, extra_labels = _extras_of(export, overlay, synthetic, proxy_classes, cloud)
    settings = dict(fit_on=fit_on, n_neighbors=n_neighbors, min_dist=min_dist, seed=seed, version=2)
    key = _key({"rows": rows, "splits": splits, **{f"extra_{k}": v for k, v in extras.items()}}, settings)
    layout = cache.get(key) if cache is not None else None
    if layout is None:
        layout = _fit(rows, fit_mask, extras, n_neighbors, min_dist, seed)
        if cache is not None:
            cache.put(key, layout)
    return UMAPProjection(layout["points"], export.labels.numpy(), splits, dict(export.class_names),
                          {k: layout[f"extra_{k}"] for k in extras}, extra_labels, fit_on)


def _fit(rows, fit_mask, extras, n_neighbors, min_dist, seed) -> dict:
    with fast_distances() as umap, warnings.catch_warnings():  # umap imported here: only these maps need it
        warnings.filterwarnings("ignore", message=".*n_jobs value.*")  # seeded UMAP runs single-threaded
        # a PCA start (as our t-SNE's): umap's spectral start is not reproducible when repeated items form a component
        # whose graph is regular; ARPACK's all-ones start is then an eigenvector, and it restarts from its own
        # unseeded generator (lmcinnes/umap#544, #1277)
        reducer = umap.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, metric="euclidean", init="pca",
                            random_state=seed)
        points = np.empty((len(rows), 2), dtype=np.float32)
        points[fit_mask] = reducer.fit_transform(rows[fit_mask])
        rest = np.concatenate([rows[~fit_mask]] + list(extras.values()))
        placed = reducer.transform(rest) if len(rest) else np.empty((0, 2), np.float32)
    n_rest = int((~fit_mask).sum())
    points[~fit_mask] = placed[:n_rest]
    layout, start = {"points": points}, n_rest
    for name, values in extras.items():
        layout[f"extra_{name}"] = placed[start:start + len(values)]
        start += len(values)
    return layout


def align_to_first(projections: dict) -> dict:
    """Every projection of ``projections`` (name -> UMAPProjection) turned onto the first with `align`."""
    first = next(iter(projections.values()))
    return {name: (p if p is first else align(first, p)) for name, p in projections.items()}


def align(reference: UMAPProjection, other: UMAPProjection) -> UMAPProjection:
    """Rotate/reflect and shift ``other`` onto ``reference`` (same rows in the same order), so side-by-side maps
    of two runs can be compared point for point; UMAP's orientation is otherwise arbitrary."""
    if reference.points.shape != other.points.shape or not np.array_equal(reference.labels, other.labels):
        return other
    a = reference.points - reference.points.mean(0)
    b = other.points - other.points.mean(0)
    rotation, _ = orthogonal_procrustes(b, a)
    return other.transformed(rotation, reference.points.mean(0) - other.points.mean(0) @ rotation)


__all__ = ["FIT_ON", "OVERLAYS", "UMAPCache", "UMAPProjection", "UMAP_CACHE", "align", "align_to_first",
           "umap_project"]
