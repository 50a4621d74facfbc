"""The epoch runner: one epoch's steps (forward, backward, optimizer), and the evaluation due after it."""

from __future__ import annotations

import time
from dataclasses import dataclass

import torch
from torch import nn
from tqdm.auto import tqdm

from . import distributed
from .batches import Batches, epoch_seed, loader
from .build import Parts, to_device
from .config import TrainConfig
from .evaluation import evaluate
from .saving import Position
from .signals import Interrupted, StopFlag


class RunBar:
    """One tqdm bar over all the steps of a run (one line in a notebook), with the epoch, the running loss and the
    latest unseen scores."""

    def __init__(self, config: TrainConfig, per_epoch: int, position: Position, enabled: bool):
        self.epochs = config.epochs
        self.bar = tqdm(total=config.epochs * per_epoch, initial=position.epoch * per_epoch + position.step,
                        unit="step", desc=f"{config.loss}{' + PS' if config.ps else ''} on {config.dataset}",
                        disable=not enabled, leave=True)
        self.shown = {"epoch": f"{position.epoch}/{config.epochs}"}

    def step(self, epoch: int, running_loss: float) -> None:
        self.bar.update(1)
        self.bar.set_postfix({**self.shown, "epoch": f"{epoch + 1}/{self.epochs}", "loss": f"{running_loss:.3f}"},
                             refresh=False)

    def epoch_end(self, row: dict) -> None:
        if "unseen/map@r" not in row:
            return
        self.shown.update({"unseen R@1": f"{row['unseen/recall@1']:.3f}", "MAP@R": f"{row['unseen/map@r']:.3f}"})
        self.bar.set_postfix({**self.shown, "epoch": f"{row['epoch']}/{self.epochs}", "loss": f"{row['loss']:.3f}"})

    def close(self) -> None:
        self.bar.close()


@dataclass
class Session:
    """What one `fit` call trains with: the built parts, where they run, and who hears of each step."""

    config: TrainConfig
    parts: Parts
    device: torch.device
    context: distributed.Context | None
    trainable: nn.Module  # model and loss as one module (DDP-wrapped under torchrun)
    batches: Batches
    autocast: object
    callbacks: list
    bar: RunBar
    progress: bool = False  # progress bars of the evaluations

    @property
    def rank(self) -> int:
        return self.context.rank if self.context is not None else 0


def call(callbacks, event: str, **info) -> None:
    """Tell each callback of ``event``: its ``on_<event>`` method, or a plain function after each epoch."""
    for callback in callbacks:
        method = getattr(callback, f"on_{event}", None)
        if method is not None:
            method(**info)
        elif callable(callback) and event == "epoch_end":
            callback(**info)


def _seed(session: Session, position: Position) -> None:
    """An epoch's random stream depends on (seed, epoch, rank) only; mid-epoch, a resumed run continues the stored
    streams exactly where they stopped."""
    if position.step == 0:
        torch.manual_seed(epoch_seed(session.config.seed, position.epoch, session.rank))
    elif position.rng is not None:
        torch.set_rng_state(position.rng["rng_cpu"])
        if "rng_cuda" in position.rng and torch.cuda.is_available():
            torch.cuda.set_rng_state_all(position.rng["rng_cuda"])
    position.rng = None


def _running_loss(position: Position) -> tuple[float, int]:
    """(sum, count) of the epoch's losses so far: a partly done epoch's partial row is taken back from the history."""
    prior = position.history[-1] if position.history else None
    if prior is None or prior.get("epoch") != position.epoch + 1:
        return 0.0, 0
    position.history.pop()
    return prior.get("_loss_sum", 0.0), prior.get("_loss_count", 0)


def _step(session: Session, x: torch.Tensor, y: torch.Tensor) -> float:
    """One optimizer step on a batch; returns its loss."""
    parts, config = session.parts, session.config
    x, y = to_device(x, session.device, config.channels_last), y.to(session.device, non_blocking=True)
    with session.autocast:
        value = session.trainable(x, y)
    parts.optimizer.zero_grad(set_to_none=True)
    if parts.scaler is not None:
        parts.scaler.scale(value).backward()
        parts.scaler.step(parts.optimizer)
        parts.scaler.update()
    else:
        value.backward()
        parts.optimizer.step()
    loss = value.item()
    parts.loss.raise_pending()  # input checks deferred on CUDA (free after .item()'s sync)
    return loss


def train_epoch(session: Session, position: Position, stop: StopFlag) -> dict:
    """Train epoch ``position.epoch`` from step ``position.step`` to its end and return its history row.

    A stop requested by a signal ends the epoch after the current step: a partial row (with the running loss) goes
    to the history and `Interrupted` is raised, so the caller can save a checkpoint that resumes exactly.
    """
    config, parts = session.config, session.parts
    epoch_batches = session.batches.epoch(position.epoch)
    _seed(session, position)
    parts.model.train()
    parts.loss.train()
    started = time.perf_counter()
    total, count = _running_loss(position)
    for x, y in loader(parts.train_set, epoch_batches[position.step:], config.num_workers):
        loss = _step(session, x, y)
        position.step += 1
        total, count = total + loss, count + 1
        session.bar.step(position.epoch, total / count)
        call(session.callbacks, "step_end", epoch=position.epoch, step=position.step, loss=loss)
        if stop.requested is not None:
            position.history.append({"epoch": position.epoch + 1, "loss": total / count, "_loss_sum": total,
                                     "_loss_count": count, "partial": True})
            raise Interrupted(stop.requested)
    distributed.sync_buffers(parts.model, session.context)
    parts.scheduler.step()
    position.epoch, position.step = position.epoch + 1, 0
    return {"epoch": position.epoch, "loss": total / max(count, 1), "lr": parts.optimizer.param_groups[0]["lr"],
            "proxy_lr": parts.optimizer.param_groups[1]["lr"], "seconds": time.perf_counter() - started}


def evaluate_epoch(session: Session, epoch: int) -> dict:
    """The evaluation due after ``epoch`` (every ``eval_every`` epochs, and after the last): its metrics, or {} when
    none is due (or on a rank other than 0, which only helps to embed)."""
    config, parts = session.config, session.parts
    if epoch % config.eval_every and epoch != config.epochs:
        return {}
    return evaluate(parts.model, parts.eval_sets, parts.ks, session.device, num_workers=config.num_workers,
                    autocast=session.autocast, context=session.context, progress=session.progress)


__all__ = ["RunBar", "Session", "call", "evaluate_epoch", "train_epoch"]
