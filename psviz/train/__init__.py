"""Training: a config, `fit(config)`, checkpoints that resume exactly, and presets for demos and the paper's recipe."""

from .checkpoint import load_checkpoint, save_checkpoint
from .config import ConfigError, TrainConfig
from .export import EmbeddingExport, export_embeddings, synthetic_batch
from .loop import FitResult, build, embed, evaluate, fit
from .mechanism import mechanism_measures, synthetic_points
from .presets import PRESETS, preset
from .runs import load_run

__all__ = ["ConfigError", "EmbeddingExport", "FitResult", "PRESETS", "TrainConfig", "build", "embed", "evaluate",
           "export_embeddings", "fit", "load_checkpoint", "load_run", "mechanism_measures", "preset", "save_checkpoint",
           "synthetic_batch", "synthetic_points"]
