"""`fit(config)`: one trainer for small CPU runs and full GPU runs, with evaluation, checkpoints and resume.

The parts it joins each live in a module of their own: `build` (what a config makes), `batches` (which items a
step sees), `epoch` (the epoch runner and the evaluation step), `saving` (the checkpoint policy), `run_folder` (who
may write where) and `signals` (stopping cleanly).
"""

from __future__ import annotations

import contextlib
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from torch import nn

from ..method import losses
from . import distributed, run_folder
from .batches import Batches
from .build import Parts, autocast_for, build, resolve_device
from .config import TrainConfig
from .epoch import RunBar, Session, call, evaluate_epoch, train_epoch
from .history import last_metrics
from .saving import CheckpointPolicy, Position, restore_state
from .signals import StopFlag


@dataclass
class FitResult:
    """What a run leaves: the trained model and loss (with its proxies), the per-epoch history and where it saved."""

    model: nn.Module
    loss: losses.ProxyLoss
    history: list[dict]
    config: TrainConfig
    run_dir: Path | None = None
    interrupted: bool = False

    def last_metrics(self, split: str = "unseen") -> dict:
        """The latest evaluated metrics of ``split`` ("unseen" or "seen"), without the prefix."""
        return last_metrics(self.history, split)


def fit(config: TrainConfig | dict, *, callbacks: Iterable = (), resume: bool = False, overwrite: bool = False,
        progress: bool = True) -> FitResult:
    """Train on the seen classes of ``config.dataset``; evaluate on the unseen ones every ``eval_every`` epochs.

    ``callbacks``: objects with ``on_step_end(**info)`` / ``on_epoch_end(**info)`` methods, or plain functions
    called after each epoch with ``epoch``, ``history``, ``model``, ``loss`` and ``metrics``. With
    ``config.output_dir`` set, the run writes config.yaml, history.json, last.pt (after each evaluation, and on
    Ctrl-C or SIGTERM) and best.pt (best unseen MAP@R) there. The folder belongs to this run while it trains (a
    second writer is refused) and must be empty: ``resume=True`` continues the run stored there (same config, up to
    `run_folder.RESUMABLE`), ``overwrite=True`` deletes its files and starts afresh.
    """
    if isinstance(config, dict):
        config = TrainConfig.from_dict(config)
    run_dir = Path(config.output_dir) if config.output_dir else None
    if resume and run_dir is None:
        raise ValueError("resume=True needs config.output_dir, the folder of the run to continue")
    if resume and overwrite:
        raise ValueError("resume=True continues the stored run and overwrite=True deletes it: choose one")
    context = distributed.Context.from_env(config.device)
    device = resolve_device(config.device, context.local_rank if context else None)
    # a config the data or model cannot take fails here, before the folder is touched
    parts = build(config, device, progress=progress and (context is None or context.is_main))
    with contextlib.ExitStack() as claim:
        state = None
        if run_dir is not None and (context is None or context.is_main):  # rank 0 owns the folder; others read it
            claim.enter_context(run_folder.locked(run_folder.make_folder(run_dir)))
            state = run_folder.prepare(run_dir, config, resume=resume, overwrite=overwrite)
        elif resume and run_dir is not None:
            state = run_folder.resume_state(run_dir, config)
        return _train(config, parts, context, device, list(callbacks), state, progress)


def _train(config: TrainConfig, parts: Parts, context, device, callbacks: list, state: dict | None,
           progress: bool) -> FitResult:
    """Train from ``state`` (None: from the start) to ``config.epochs``, evaluating and saving on the way."""
    main = context is None or context.is_main
    run_dir = Path(config.output_dir) if config.output_dir and main else None
    position = Position.from_state(state)
    if state is not None:
        restore_state(parts, state)
    if run_dir is not None:
        config.to_yaml(run_dir / run_folder.CONFIG)
    session = _session(config, parts, context, device, callbacks, position, progress and main)
    policy = CheckpointPolicy(run_dir, config, parts)
    with StopFlag((signal.SIGINT, signal.SIGTERM) if policy.saves else (signal.SIGINT,)) as stop:
        try:
            while position.epoch < config.epochs:
                row = train_epoch(session, position, stop)
                metrics = evaluate_epoch(session, position.epoch)
                position.history.append({**row, **metrics})
                session.bar.epoch_end(position.history[-1])
                if metrics:
                    policy.evaluated(position)
                call(callbacks, "epoch_end", epoch=position.epoch, history=position.history, model=parts.model,
                     loss=parts.loss, metrics=metrics)
        except KeyboardInterrupt:
            if stop.requested is not None:  # between steps: a consistent state to save
                policy.stopped(position)
            raise
        finally:
            session.bar.close()
            if context is not None:
                context.close()
    history = [row for row in position.history if not row.get("partial")]
    return FitResult(parts.model, parts.loss, history, config, Path(config.output_dir) if config.output_dir else None)


def _session(config, parts, context, device, callbacks, position, progress: bool) -> Session:
    batches = Batches(config, parts.train_set.targets, context.rank if context else 0, context.world if context else 1)
    bar = RunBar(config, len(batches.epoch(0)), position, enabled=progress)
    return Session(config, parts, device, context, distributed.wrap(parts.model, parts.loss, context, device), batches,
                   autocast_for(config, device), callbacks, bar, progress)


__all__ = ["FitResult", "fit"]
