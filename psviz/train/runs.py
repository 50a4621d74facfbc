"""Reopen a finished (or interrupted) run from its folder: config, model and loss with their trained weights."""

from __future__ import annotations

from pathlib import Path

from .checkpoint import BEST, LAST, load_checkpoint
from .config import TrainConfig
from .loop import FitResult, build, resolve_device


def load_run(run_dir: str | Path, checkpoint: str = "best", *, device: str | None = None) -> FitResult:
    """The run in ``run_dir`` as a `FitResult`, weights from its ``best`` or ``last`` checkpoint (safe loader).

    ``best`` falls back to ``last`` when the run never evaluated. ``device`` overrides the run's own (e.g. "cpu"
    to inspect a GPU run on a laptop).
    """
    run_dir = Path(run_dir)
    if checkpoint not in ("best", "last"):
        raise ValueError(f"checkpoint must be 'best' or 'last', got {checkpoint!r}")
    config_path = run_dir / "config.yaml"
    if not config_path.is_file():
        raise ValueError(f"{run_dir} is not a psviz run folder (no config.yaml)")
    config = TrainConfig.load(config_path)
    if device is not None:
        config = config.replace(device=device)
    path = run_dir / (BEST if checkpoint == "best" else LAST)
    if checkpoint == "best" and not path.is_file():
        path = run_dir / LAST
    state = load_checkpoint(path)
    parts = build(config, resolve_device(config.device))
    parts.model.load_state_dict(state["model"])
    parts.loss.load_state_dict(state["loss"])
    parts.model.eval()
    parts.loss.eval()
    history = [row for row in state.get("history", []) if not row.get("partial")]
    return FitResult(parts.model, parts.loss, history, config, run_dir)
