"""Training behind the Playground: a baseline and a PS run of the same settings, one epoch at a time, with what the
views draw after each epoch; and a `Player` that runs them on a background thread (play, pause, step, reset).

The runs are psviz's own trainer (`psviz.train.build`, `train_epoch`, `evaluate_epoch`, `mechanism_measures`), so a
lesson's numbers are the ones `psviz train` gives with the exported config. Nothing here needs Panel.
"""

from __future__ import annotations

import itertools
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import torch

from ... import data as datasets
from ...base.names import ARMS, WITH_PS
from ...method.synthesis import SynthesisResult
from ...train import FitResult, export_embeddings, mechanism_measures, synthetic_batch
from ...train.batches import Batches
from ...train.build import autocast_for, build
from ...train.distributed import wrap
from ...train.embedding import embed
from ...train.epoch import RunBar, Session, evaluate_epoch, train_epoch
from ...train.saving import Position
from ...train.signals import StopFlag
from .state import Settings, train_config

# torch's global random stream is shared by every thread: one run builds or trains an epoch at a time (each epoch
# reseeds the stream from (seed, epoch)), so two browser tabs training at once stay deterministic
TRAINING = threading.Lock()
MAX_POINTS = 150  # items per split drawn on a landscape
CIRCLE_STEPS = 240  # landscape cells around the circle (2-D embeddings)
SPHERE_STEPS = (36, 72)  # latitude x longitude cells of the sphere's map (3-D embeddings): 5 degrees each
# the per-epoch numbers the views plot, besides the retrieval metrics
MEASURES = ("transition_width", "unseen_confidence", "unseen_closer_to_synthetic")


@dataclass
class Landscape:
    """Which seen class the loss picks (``winner``) and its probability (``confidence``) on a grid of directions:
    ``kind`` "circle" (``axes`` = (angles in degrees,)) or "sphere" (``axes`` = (longitudes, latitudes), the grid
    [latitude, longitude])."""

    kind: str
    axes: tuple
    winner: np.ndarray
    confidence: np.ndarray


@dataclass
class Frame:
    """One run as the views draw it after an epoch: its history, its landscape, a sample of its seen and unseen
    embeddings (unit rows) and its proxies (unit rows, with each one's class)."""

    name: str
    history: list[dict]
    landscape: Landscape
    points: np.ndarray
    labels: np.ndarray
    splits: np.ndarray
    proxies: np.ndarray
    proxy_labels: np.ndarray


@dataclass
class Snapshot:
    """Both runs after the same epoch, and one batch of the PS run as Proxy Synthesis mixes it."""

    settings: Settings
    epoch: int
    frames: dict[str, Frame]
    batch: SynthesisResult
    class_names: dict
    playing: bool = False
    run: int = 0  # which runs of its player drew it: the player counts each fresh start

    @property
    def done(self) -> bool:
        return self.epoch >= self.settings.epochs


def direction_grid(dim: int) -> tuple[tuple, torch.Tensor]:
    """(axes in degrees, unit directions [n, dim]) of the landscape's cells: angles round the circle, or a latitude x
    longitude grid of cell centres on the sphere."""
    if dim == 2:
        angles = (np.arange(CIRCLE_STEPS) + 0.5) * 360 / CIRCLE_STEPS - 180
        radians = np.radians(angles)
        return (angles,), torch.from_numpy(np.stack([np.cos(radians), np.sin(radians)], 1)).float()
    n_lat, n_lon = SPHERE_STEPS
    lat = (np.arange(n_lat) + 0.5) * 180 / n_lat - 90
    lon = (np.arange(n_lon) + 0.5) * 360 / n_lon - 180
    la, lo = np.radians(lat)[:, None], np.radians(lon)[None, :]
    grid = np.stack(np.broadcast_arrays(np.cos(la) * np.cos(lo), np.cos(la) * np.sin(lo), np.sin(la)), -1)
    return (lon, lat), torch.from_numpy(grid.reshape(-1, 3)).float()


class Arm:
    """One run of the pair, trained an epoch at a time by psviz's epoch runner; ``history`` holds a row per epoch
    (epoch 0: before training) with the unseen and held-out metrics and the mechanism measures."""

    def __init__(self, name: str, settings: Settings, ps: bool):
        self.name, self.config = name, train_config(settings, ps)
        device = torch.device("cpu")
        with TRAINING:
            self.parts = build(self.config, device, progress=False)
        self.position = Position()
        batches = Batches(self.config, self.parts.train_set.targets)
        bar = RunBar(self.config, len(batches.epoch(0)), self.position, enabled=False)
        self.session = Session(self.config, self.parts, device, None, wrap(self.parts.model, self.parts.loss, None,
                                                                            device),
                               batches, autocast_for(self.config, device), [], bar)
        self.history = []
        self.history.append(self._row({"epoch": 0}))

    @property
    def run(self) -> FitResult:
        return FitResult(self.parts.model, self.parts.loss, self.history, self.config)

    @property
    def epoch(self) -> int:
        return self.position.epoch

    def train_one(self) -> dict:
        """Train one epoch, evaluate, and return (and keep) its history row."""
        with TRAINING:
            row = train_epoch(self.session, self.position, StopFlag(()))
        self.history.append(self._row(row))
        return self.history[-1]

    def _row(self, row: dict) -> dict:
        metrics = evaluate_epoch(self.session, self.position.epoch)
        measures = mechanism_measures(self.run)
        row = {**row, **metrics, **{key: measures[key] for key in MEASURES}}
        row["gap"] = row["heldout/map@r"] - row["unseen/map@r"]
        return row

    def frame(self) -> Frame:
        """What the views draw of this run now."""
        export = export_embeddings(self.run, (datasets.SEEN, datasets.UNSEEN), max_per_split=MAX_POINTS)
        proxies = export.proxies
        proxy_labels = np.repeat(np.arange(proxies.shape[0]), proxies.shape[1] if proxies.dim() == 3 else 1)
        return Frame(self.name, list(self.history), self.landscape(), export.embeddings.numpy(),
                     export.labels.numpy(), export.splits, proxies.reshape(-1, proxies.shape[-1]).numpy(),
                     proxy_labels)

    def landscape(self) -> Landscape:
        """The loss's pick and confidence over the grid of directions (at the embeddings' mean length for a loss that
        does not normalise them)."""
        axes, directions = direction_grid(self.config.embedding_dim)
        loss = self.parts.loss
        with torch.no_grad():
            top = loss.probabilities(directions * self._radius()).max(dim=1)
        shape = (len(axes[1]), len(axes[0])) if len(axes) == 2 else (len(axes[0]),)
        return Landscape("circle" if len(axes) == 1 else "sphere", axes, top.indices.numpy().reshape(shape),
                         top.values.float().numpy().reshape(shape))

    def _radius(self) -> float:
        if self.parts.loss.normalize:
            return 1.0
        rows, _ = embed(self.parts.model, self.parts.train_set, torch.device("cpu"),
                        indices=list(range(min(256, len(self.parts.train_set)))))
        return float(rows.norm(dim=1).mean())


class Pair:
    """The baseline and the PS run of one `Settings`, from the same seed, trained epoch by epoch side by side."""

    def __init__(self, settings: Settings):
        self.settings = settings
        self.arms = {name: Arm(name, settings, ps) for name, ps in ARMS}

    @property
    def epoch(self) -> int:
        return self.arms[WITH_PS].epoch

    def step(self) -> None:
        """One epoch of each run."""
        for arm in self.arms.values():
            arm.train_one()

    def retarget(self, settings: Settings) -> bool:
        """Take settings that change only where training stops or what is hidden (no new runs); False when the
        runs themselves would differ."""
        if settings.changed(epochs=self.settings.epochs, hide=self.settings.hide) != self.settings:
            return False
        self.settings = settings
        return True

    def close(self) -> None:
        """Nothing to let go of (a `worker.RemotePair` frees its runs in the trainer process)."""

    def snapshot(self, playing: bool = False) -> Snapshot:
        """Both runs as the views draw them now, with one seeded batch of the PS run mixed by Proxy Synthesis."""
        ps_arm = self.arms[WITH_PS]
        batch = synthetic_batch(ps_arm.run, seed=self.settings.seed)
        frames = {name: arm.frame() for name, arm in self.arms.items()}
        names = {datasets.SEEN: ps_arm.parts.train_set.class_names,
                 datasets.UNSEEN: ps_arm.parts.eval_sets[datasets.UNSEEN][0].class_names}
        return Snapshot(self.settings, self.epoch, frames, batch, names, playing)


# ---- the background player -------------------------------------------------------------------------------------

_PLAYERS: "weakref.WeakSet[Player]" = weakref.WeakSet()
_NUMBERS = itertools.count(1)


@dataclass
class _Queue:
    """What the player is asked to do next (read and written under its condition)."""

    playing: bool = False
    steps: int = 0
    reset: tuple | None = None  # (settings, fresh)
    closed: bool = False


class Player:
    """Trains a `Pair` on a thread of its own: `play` runs epochs until `pause` (or the settings' last epoch), `step`
    runs one, `reset` starts fresh runs from new settings (and keeps playing if it was). After every epoch and
    reset, ``show(snapshot)`` is called on that thread; the next epoch waits for it to return, so every epoch is
    drawn, and for ``min_period`` seconds since the last one began. ``report(error)`` hears of a failed epoch.
    ``make(settings)`` makes the runs of a reset: a `Pair` here, or one in a trainer process (`worker.Trainer.pair`).
    """

    def __init__(self, pair, show: Callable[[Snapshot], None], *, report: Callable[[Exception], None] = None,
                 min_period: float = 0.0, make: Callable = Pair):
        self.pair, self.show, self.report, self.min_period, self.make = pair, show, report, min_period, make
        self._queue, self._runs = _Queue(), 0
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._loop, name=f"psviz-playground-{next(_NUMBERS)}", daemon=True)
        _PLAYERS.add(self)
        self._thread.start()

    @property
    def playing(self) -> bool:
        return self._queue.playing

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    @property
    def closing(self) -> bool:
        """Asked to stop: a `show` waiting on a tab can give up."""
        return self._queue.closed

    def _ask(self, **changes) -> None:
        with self._wake:
            for key, value in changes.items():
                setattr(self._queue, key, value)
            self._wake.notify_all()

    def play(self) -> None:
        self._ask(playing=True)

    def pause(self) -> None:
        self._ask(playing=False)

    def step(self) -> None:
        """One epoch more (pauses a playing run)."""
        with self._wake:
            self._queue.playing = False
            self._queue.steps += 1
            self._wake.notify_all()

    def reset(self, settings: Settings, fresh: bool = False) -> None:
        """Runs from ``settings``: fresh ones, unless only the last epoch or the hidden controls change and ``fresh``
        is false (then the same runs go on)."""
        self._ask(reset=(settings, fresh), steps=0)

    def close(self, timeout: float = 10.0) -> bool:
        """Stop the thread after its current epoch; True when it has ended."""
        self._ask(closed=True)
        if threading.current_thread() is not self._thread:
            self._thread.join(timeout)
        return not self._thread.is_alive()

    def _next(self):
        """Wait for the next job: None (closed), (settings, fresh) (a reset) or "epoch"."""
        with self._wake:
            while True:
                queue = self._queue
                if queue.closed:
                    return None
                if queue.reset is not None:
                    job, queue.reset = queue.reset, None
                    return job
                if queue.steps or (queue.playing and self.pair.epoch < self.pair.settings.epochs):
                    queue.steps = max(0, queue.steps - 1)
                    return "epoch"
                queue.playing = False
                self._wake.wait()

    def _loop(self) -> None:
        while (job := self._next()) is not None:
            started = time.perf_counter()
            try:
                if job == "epoch":
                    self.pair.step()
                elif job[1] or not self.pair.retarget(job[0]):
                    old, self.pair = self.pair, self.make(job[0])
                    old.close()
                    self._runs += 1
                self.show(replace(self.pair.snapshot(playing=self.playing), run=self._runs))
            except Exception as error:  # noqa: BLE001 - a failed epoch pauses the player and is shown, not raised
                self.pause()
                if self.report is not None:
                    self.report(error)
            self._rest(started)
        self.pair.close()

    def _rest(self, started: float) -> None:
        """Keep epochs at least ``min_period`` apart while playing (a pause, reset or close cuts the wait short)."""
        with self._wake:
            left = self.min_period - (time.perf_counter() - started)
            if left > 0 and self._queue.playing and self._queue.reset is None and not self._queue.closed:
                self._wake.wait(left)


def close_all(timeout: float = 10.0) -> tuple[int, int]:
    """Stop every player's thread (the server's Ctrl-C): (how many ended, how many are still running)."""
    players = [p for p in list(_PLAYERS) if p.alive]
    for player in players:
        player._ask(closed=True)
    ended = sum(player.close(timeout) for player in players)
    return ended, len(players) - ended


__all__ = ["Arm", "Frame", "Landscape", "MEASURES", "Pair", "Player", "Snapshot", "TRAINING", "close_all",
           "direction_grid"]
