"""Numbers from runs, between training and pictures: summaries over seeds, paired differences, the maps and regions
the figures draw, and the text that reports them.

Nothing here trains or draws: it reads what training stored (runs, histories, metric dicts, run records) and returns
numbers, tables, maps or lines of text, which the pictures (`psviz.viz`), the reproduction's reports
(`psviz.apps.reproduce`), the demo and the notebooks share.

- `stats`: per-run records to tables: each arm's mean ± sample std, the paired-by-seed difference, Holm, sign flips;
- `grid`: the α × μ grid's summary per cell (`summarise_grid`);
- `runs`: run-likes (a FitResult, a history, one metrics row) as histories and latest metrics per split;
- `tables`: runs side by side as pandas tables in percent (`metrics_table`, `difference_table`);
- `curves`: per-seed curves lined up on shared epochs (`aligned_curves`) and the generalisation gap (`gap_series`);
- `comparison`: `Comparison`, the runs of one setting by arm (metrics, histories, embeddings, measures), and
  baseline-versus-PS rows in percent, for one pair or a pair per seed;
- `text`: those rows as fixed-width tables and one-line verdicts;
- `projection`: UMAP maps (fitted on seen classes, cached, turned onto each other), PCA and t-SNE maps, and how
  umap-learn runs (`runtime`, `kernels`);
- `boundaries`: each run's decision regions, their confidence and margin measures (`boundary_view`);
- `explorer_data`: what the embedding explorer shows: each run's map and neighbours of the same items, thumbnails;
- `gallery`: each query's nearest neighbours per run (`retrieval_rows`) and items as pixels (`item_pixels`);
- `pair_data`: what the figures of a baseline-vs-PS pair are drawn from (`pair_figure_data`).
"""

from .boundaries import BoundaryView, boundary_view
from .comparison import Comparison, comparison_rows, paired_rows
from .curves import aligned_curves, gap_series
from .explorer_data import ExplorerData, explorer_data
from .gallery import item_pixels, retrieval_rows
from .grid import SUMMARY_COLUMNS, summarise_grid
from .pair_data import PairFigureData, pair_figure_data
from .projection import UMAP_CACHE, UMAPCache, UMAPProjection, align, align_to_first, umap_project
from .runs import latest_metrics, run_history
from .stats import (ablation_cells, compare, curve_summary, curves_frame, holm, in_percent, paired_difference,
                    paired_row, runs_frame, sign_flip_p, significant, spread)
from .tables import difference_table, metrics_table
from .text import format_interval_table, format_measures, format_table, interval_line, summary_line

__all__ = ["BoundaryView", "Comparison", "ExplorerData", "PairFigureData", "SUMMARY_COLUMNS", "UMAPCache",
           "UMAPProjection", "UMAP_CACHE", "ablation_cells", "align", "align_to_first", "aligned_curves",
           "boundary_view", "compare", "comparison_rows", "curve_summary", "curves_frame", "difference_table",
           "explorer_data", "format_interval_table", "format_measures", "format_table", "gap_series", "holm",
           "in_percent", "interval_line", "item_pixels", "latest_metrics", "metrics_table", "paired_difference",
           "paired_row", "paired_rows", "pair_figure_data", "retrieval_rows", "run_history", "runs_frame",
           "sign_flip_p", "significant", "spread", "summarise_grid", "summary_line", "umap_project"]
