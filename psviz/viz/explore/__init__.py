"""An embedding explorer: linked maps of the same items for each run (baseline and PS side by side), with image
thumbnails on hover, box and lasso selection into an image grid, nearest neighbours on click and a class filter; in
JupyterLab (anywidget) and as one offline HTML file."""

from __future__ import annotations

from ...analysis.explorer_data import LAYERS, explorer_data
from ...analysis.projection import PROJECTIONS
from .widget import Explorer


def explorer(runs, *, projection: str = "umap", layers=tuple(LAYERS), k: int = 8, max_classes: int | None = None,
             synthetic: dict | None = None, images=None, thumbnails: bool | None = None, thumb_size: int = 32,
             seed: int = 0, title: str | None = None) -> Explorer:
    """An explorer widget of ``runs`` (name -> `FitResult`, or name -> `EmbeddingExport` of the same items).

    ``projection``: "umap" (fitted on seen items, unseen placed by the fitted map), "pca" or "tsne"; each run's map is
    turned onto the first. ``layers`` can leave out "proxies" or "synthetic" (one PS batch, drawn from each PS run
    or given as ``synthetic``: name -> `SynthesisResult`). ``k`` neighbours are searched in the full embedding among
    the items of the same split. ``max_classes`` keeps all the items of a seeded draw of that many classes a split
    (UMAP of all of glyphs' 32,000 items takes about two and a half minutes a run on 2 CPU cores). Thumbnails come from the runs' datasets, or from ``images``
    (split -> psviz dataset, indexed by the exports' ``items``) for exports; ``thumbnails`` None draws them when the
    items are images, False never.
    """
    return Explorer(explorer_data(runs, projection=projection, layers=layers, k=k, max_classes=max_classes,
                                  synthetic=synthetic, images=images, thumbnails=thumbnails, thumb_size=thumb_size,
                                  seed=seed, title=title))


__all__ = ["Explorer", "LAYERS", "PROJECTIONS", "explorer"]
