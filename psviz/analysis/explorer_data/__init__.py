"""What the embedding explorer (`psviz.viz.explorer`) shows, as plain numpy: the same items embedded by each run, each
run's 2-D map and nearest neighbours, overlays, and every item's thumbnail in one sprite sheet.

- `items`: `ExplorerData`, the checks on the exports and the neighbours within a split;
- `from_runs`: runs (or embedding exports) to `ExplorerData` (`explorer_data`);
- `thumbnails`: the items' images, scaled, as one PNG sprite sheet.
"""

from .from_runs import explorer_data
from .items import LAYERS, SPLITS, ExplorerData, split_neighbours

__all__ = ["ExplorerData", "LAYERS", "SPLITS", "explorer_data", "split_neighbours"]
