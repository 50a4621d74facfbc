"""Figures of what Proxy Synthesis does: plotly by default (interactive in JupyterLab), matplotlib on request.

Every function takes data (a `SynthesisResult`, runs, exports, histories, metric rows) and returns a figure; nothing
here trains or computes metrics, maps or tables: the numbers come from `psviz.analysis` (UMAP maps and their cache,
decision regions, the explorer's data, metric tables, the gap series, a report's data). Colours and marks are shared
(see `psviz.viz.style`).
"""

from .ablation import ablation_heatmap
from .beta import beta_density
from .boundaries import decision_boundaries
from .curves import recall_at_k, training_curves
from .density import synthetic_density
from .effect_map import effect_forest, effect_heatmaps
from .explore import Explorer, explorer
from .figure_files import save_figure
from .gap import generalisation_gap
from .gallery import retrieval_gallery
from .landscape import confidence_landscape
from .reproduction import length_curves
from .pair_figures import draw_pair_figures, write_pair_figures
from .seen_unseen import umap_seen_unseen
from .style import MARKS, class_colour
from .synthetic import set_lambda, synthetic_embeddings

__all__ = [
    "Explorer",
    "MARKS",
    "ablation_heatmap",
    "beta_density",
    "class_colour",
    "confidence_landscape",
    "decision_boundaries",
    "effect_forest",
    "effect_heatmaps",
    "explorer",
    "generalisation_gap",
    "length_curves",
    "recall_at_k",
    "draw_pair_figures",
    "retrieval_gallery",
    "save_figure",
    "set_lambda",
    "synthetic_density",
    "synthetic_embeddings",
    "training_curves",
    "umap_seen_unseen",
    "write_pair_figures",
]
