"""2-D maps of embeddings, computed once and cached: what the pictures (`psviz.viz`) draw and the explorer places.

- `umap`: UMAP fitted on the seen classes (unseen items and overlays placed by the fitted map), cached by a hash of
  its inputs (`UMAPCache`, `UMAP_CACHE`), and maps of two runs turned onto each other (`align`, `align_to_first`);
- `maps`: one run's map of the explorer's items by UMAP, PCA or t-SNE (`project`);
- `space`: rows onto the circle, the sphere or a PCA plane (`Space`), and a grid of the sphere (`sphere_grid`);
- `runtime`, `kernels`: how umap-learn runs: its compiled code cached on disk, its small-data distances compiled.
"""

from .maps import PROJECTIONS, project, seen_classes
from .space import Space, sphere_grid
from .umap import UMAP_CACHE, UMAPCache, UMAPProjection, align, align_to_first, umap_project

__all__ = ["PROJECTIONS", "Space", "UMAPCache", "UMAPProjection", "UMAP_CACHE", "align", "align_to_first", "project",
           "seen_classes", "sphere_grid", "umap_project"]
