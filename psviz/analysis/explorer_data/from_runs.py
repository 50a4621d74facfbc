"""From runs (or embedding exports) to `ExplorerData`: the same items embedded by each run, mapped, searched."""

from __future__ import annotations

import numpy as np

from ...base.checks import check_int
from ...method.synthesis import SynthesisResult
from ...train import FitResult, export_embeddings, plain_splits, synthetic_batch
from ...train.export import EmbeddingExport
from ..gallery import item_pixels
from ..projection import align_to_first, project, seen_classes
from ..projection.maps import LABELS
from .items import LAYERS, ExplorerData, check_export, check_same_items, split_neighbours
from .thumbnails import sprite_sheet, split_pixels


def check_runs(runs) -> dict:
    if isinstance(runs, (FitResult, EmbeddingExport)):
        runs = {"run": runs}
    if not isinstance(runs, dict) or not runs:
        raise ValueError("runs must be a non-empty dict of name -> psviz.train.FitResult or EmbeddingExport")
    kinds = {type(v) for v in runs.values()}
    if len(kinds) > 1 or not kinds <= {FitResult, EmbeddingExport}:
        raise ValueError(f"runs must all be FitResult or all EmbeddingExport, got "
                         f"{sorted(type(v).__name__ for v in runs.values())}")
    return {str(k): v for k, v in runs.items()}


def exports_of(runs: dict, max_classes: int | None, seed: int) -> dict:
    """Each run's export of every seen and unseen item, or of all the items of ``max_classes`` classes a split (a
    seeded draw, the same for every run): neighbours mean something only where a class keeps all its items."""
    if isinstance(next(iter(runs.values())), EmbeddingExport):
        exports = dict(runs)
    else:
        exports = {name: export_embeddings(run) for name, run in runs.items()}
    for name, export in exports.items():
        check_export(name, export)
    if max_classes is None:
        return exports
    max_classes = check_int(max_classes, "max_classes")
    first = next(iter(exports.values()))
    rng = np.random.default_rng(seed)
    for split in np.unique(np.asarray(first.splits).astype(str)):
        present = np.unique(first.part(split)[1].numpy())
        if len(present) > max_classes:
            kept = np.sort(rng.choice(present, max_classes, replace=False))
            exports = {name: export.keep_classes(split, kept.tolist()) for name, export in exports.items()}
    return exports


def synthetic_of(runs: dict, synthetic: dict | None, seed: int, classes=None) -> dict:
    """One PS batch per PS run: given, or drawn from each run trained with PS (from ``classes``, the seen classes
    shown, when the items are a draw of classes)."""
    if synthetic is not None:
        unknown = set(synthetic) - set(runs)
        if unknown or not all(isinstance(v, SynthesisResult) for v in synthetic.values()):
            raise ValueError(f"synthetic must map some of the runs ({sorted(runs)}) to psviz.SynthesisResult")
        return dict(synthetic)
    return {name: synthetic_batch(run, seed=seed, classes=classes) for name, run in runs.items()
            if isinstance(run, FitResult) and run.config.ps}


def thumbnails_of(runs: dict, export: EmbeddingExport, images, size: int, wanted: bool | None) -> np.ndarray | None:
    """[N, size, size, 3] thumbnails of the export's items: from the runs' datasets, or ``images`` (split ->
    dataset, the export's ``items`` indexing it). None when not ``wanted``, or (``wanted`` None) when no images are
    known or the items are not images (the toy set's 2-D points)."""
    if wanted is False:
        return None
    if images is None:
        run = next(iter(runs.values()))
        if not isinstance(run, FitResult):
            if wanted:
                raise ValueError("thumbnails of exports need images= (split -> psviz dataset)")
            return None
        images = plain_splits(run.config)
    if wanted is None and not all(is_image(parts) for parts in images.values()):
        return None
    if export.items is None:
        raise ValueError("thumbnails need the export's items (export_embeddings records them; an export built by "
                         "hand needs items=), or pass thumbnails=False")
    items, splits = export.items.numpy(), np.asarray(export.splits).astype(str)
    out = np.empty((len(items), size, size, 3), np.uint8)
    for split in np.unique(splits):
        rows = np.flatnonzero(splits == split)
        parts = images[split] if isinstance(images[split], (list, tuple)) else [images[split]]
        start = 0
        for part in parts:
            mine = rows[(items[rows] >= start) & (items[rows] < start + len(part))]
            if len(mine):
                out[mine] = split_pixels(part, items[mine] - start, size)
            start += len(part)
    return out


def is_image(parts) -> bool:
    """Whether a split's items can be drawn as images (psviz's vectors, such as the toy set's, cannot)."""
    part = parts[0] if isinstance(parts, (list, tuple)) else parts
    try:
        item_pixels(part.load_item(0))
    except ValueError:
        return False
    return True


def explorer_data(runs, *, projection: str = "umap", layers=tuple(LAYERS), k: int = 8, max_classes: int | None = None,
                  synthetic: dict | None = None, images=None, thumbnails: bool | None = None, thumb_size: int = 32,
                  seed: int = 0, title: str | None = None) -> ExplorerData:
    """Embed (or take) the same items for every run, map them, find their neighbours and draw their thumbnails."""
    runs = check_runs(runs)
    k, thumb_size = check_int(k, "k"), check_int(thumb_size, "thumb_size")
    unknown = set(layers) - set(LAYERS)
    if unknown:
        raise ValueError(f"layers must be among {', '.join(LAYERS)}, got {sorted(unknown)}")
    exports = exports_of(runs, max_classes, seed)
    check_same_items(exports)
    first = next(iter(exports.values()))
    shown = seen_classes(first).tolist() if max_classes is not None else None
    synthetic = synthetic_of(runs, synthetic, seed, shown)
    maps = align_to_first({name: project(export, projection, layers, synthetic.get(name), seed)
                           for name, export in exports.items()})
    splits = np.asarray(first.splits).astype(str)
    found = {name: split_neighbours(export.embeddings, splits, k) for name, export in exports.items()}
    pixels = thumbnails_of(runs, first, images, thumb_size, thumbnails)
    sprite, cols = sprite_sheet(pixels) if pixels is not None else (None, 0)
    items = first.items.numpy() if first.items is not None else np.arange(len(splits))
    return ExplorerData(list(exports), first.labels.numpy(), splits, items, dict(first.class_names),
                        {n: p.points for n, p in maps.items()}, {n: f[0] for n, f in found.items()},
                        {n: f[1] for n, f in found.items()}, {n: p.extras for n, p in maps.items()},
                        {n: p.extra_labels for n, p in maps.items()}, sprite, thumb_size if sprite else 0, cols,
                        LABELS[projection], title or f"{' vs '.join(exports)}: {LABELS[projection]} of the same items")
