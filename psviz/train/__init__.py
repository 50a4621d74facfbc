"""Training: a config, `fit(config)`, checkpoints that resume exactly, and presets for demos and the paper's recipe."""

from .build import build, build_datasets, plain_splits, resolve_device
from .checkpoint import load_checkpoint, save_checkpoint
from .config import ConfigError, TrainConfig
from .embedding import embed
from .evaluation import evaluate
from .export import EmbeddingExport, export_embeddings, synthetic_batch
from .loop import FitResult, fit
from .mechanism import mechanism_measures, synthetic_points
from .presets import PRESETS, preset
from .reopen import RunFolderWarning, load_run
from .signals import Interrupted
from .workers import FinishedRun, fit_in_workers

__all__ = ["ConfigError", "EmbeddingExport", "FinishedRun", "FitResult", "Interrupted", "PRESETS", "RunFolderWarning",
           "TrainConfig", "build", "build_datasets", "embed", "evaluate", "export_embeddings", "fit", "fit_in_workers",
           "load_checkpoint", "load_run", "mechanism_measures", "plain_splits", "preset", "resolve_device",
           "save_checkpoint", "synthetic_batch", "synthetic_points"]
