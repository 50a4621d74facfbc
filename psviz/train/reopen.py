"""Reopen a finished (or interrupted) run from its folder: config, model and loss with their trained weights."""

from __future__ import annotations

import warnings
from pathlib import Path

from .checkpoint import BEST, LAST, load_checkpoint
from .config import ConfigError, TrainConfig
from .build import build, resolve_device
from .loop import FitResult
from .run_folder import CONFIG, SETTINGS, config_differences, describe_differences


class RunFolderWarning(UserWarning):
    """A run folder whose files disagree (config.yaml against the checkpoint that is loaded)."""


def load_run(run_dir: str | Path, checkpoint: str = "best", *, device: str | None = None) -> FitResult:
    """The run in ``run_dir`` as a `FitResult`, weights from its ``best`` or ``last`` checkpoint (safe loader).

    ``best`` falls back to ``last`` when the run never evaluated. The config is the one stored inside the checkpoint
    (the one its weights were trained with); a config.yaml that says otherwise gets a `RunFolderWarning`.
    ``device`` overrides the run's own (e.g. "cpu" to inspect a GPU run on a laptop).
    """
    run_dir = Path(run_dir)
    if checkpoint not in ("best", "last"):
        raise ValueError(f"checkpoint must be 'best' or 'last', got {checkpoint!r}")
    path = run_dir / (BEST if checkpoint == "best" else LAST)
    if checkpoint == "best" and not path.is_file():
        path = run_dir / LAST
    if not path.is_file():
        what = "no config.yaml" if not (run_dir / CONFIG).is_file() else "no checkpoint: it never saved one"
        raise ValueError(f"{run_dir} is not a psviz run folder ({what})")
    state = load_checkpoint(path)
    config = _trained_config(run_dir, path, state)
    config = config.replace(output_dir=str(run_dir), **({} if device is None else {"device": device}))
    parts = build(config, resolve_device(config.device))
    parts.model.load_state_dict(state["model"])
    parts.loss.load_state_dict(state["loss"])
    parts.model.eval()
    parts.loss.eval()
    history = [row for row in state.get("history", []) if not row.get("partial")]
    return FitResult(parts.model, parts.loss, history, config, run_dir)


def _trained_config(run_dir: Path, path: Path, state: dict) -> TrainConfig:
    """The checkpoint's config (config.yaml's for a checkpoint without one), warning where the two disagree."""
    on_disk = _config_yaml(run_dir, path, state)
    if state.get("config") is None:
        if on_disk is None:
            raise ValueError(f"{path} holds no config and {run_dir} has no config.yaml: cannot rebuild the model")
        return on_disk
    config = TrainConfig.from_dict(state["config"])
    if on_disk is not None:
        differences = config_differences(config.to_dict(), on_disk.to_dict(), ignore=SETTINGS)
        if differences:
            warnings.warn(RunFolderWarning(
                f"{run_dir / CONFIG} disagrees with {path.name}, which was trained with another config "
                f"({describe_differences(differences)}, as checkpoint -> config.yaml); using the checkpoint's"),
                stacklevel=3)
    return config


def _config_yaml(run_dir: Path, path: Path, state: dict) -> TrainConfig | None:
    """config.yaml's config: None without one, or when it cannot be read but the checkpoint holds its own config,
    which then serves (with a warning naming the file)."""
    file = run_dir / CONFIG
    if not file.is_file():
        return None
    try:
        return TrainConfig.load(file)
    except ConfigError as error:
        if state.get("config") is None:
            raise
        reason = " ".join(str(error).replace(str(file), CONFIG).split())
        warnings.warn(RunFolderWarning(f"{file} cannot be read ({reason}); using the config stored in "
                                       f"{path.name}"), stacklevel=4)
        return None
