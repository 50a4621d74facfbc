"""One process that trains every tab's runs for the server, so that training never holds the server's event loop.

Python runs one thread at a time: a training thread in the server process kept the event loop waiting (100-250 ms on
a busy 2-core machine), and with it every click and slider of every tab. Here each tab's `Player` thread sends its
requests (new runs, an epoch, a snapshot) to a `Trainer` process and waits on a pipe, which lets the loop run. The
trainer is started, and warmed up, with the server; its replies are the same `Snapshot` objects a local `Pair` gives.
"""

from __future__ import annotations

import itertools
import multiprocessing
import signal
import threading

from .session import Pair, Snapshot
from .state import Settings


def _serve(conn, threads: int) -> None:
    """The trainer process: answer requests until "quit" (or the server is gone)."""
    import torch

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C reaches the whole process group: the server stops us
    torch.set_num_threads(threads)
    pairs: dict[int, Pair] = {}
    while True:
        try:
            op, key, *args = conn.recv()
        except (EOFError, OSError):
            return
        if op == "quit":
            conn.send((True, None))
            return
        try:
            conn.send((True, _answer(pairs, op, key, args)))
        except Exception as error:  # noqa: BLE001 - the asking thread raises it; the trainer goes on
            conn.send((False, " ".join(f"{type(error).__name__}: {error}".split())))


def _answer(pairs: dict, op: str, key: int, args: list):
    if op == "new":
        pairs[key] = Pair(args[0])
        return None
    if op == "drop":
        pairs.pop(key, None)
        return None
    pair = pairs[key]
    if op == "step":
        pair.step()
        return None
    if op == "retarget":
        return pair.retarget(args[0])
    if op == "snapshot":
        return pair.snapshot(*args)
    raise ValueError(f"unknown request {op!r}")


class TrainerError(RuntimeError):
    """A request the trainer process could not answer (its message is the error it met)."""


class Trainer:
    """The trainer process and the pipe to it; `pair(settings)` makes runs that live there. Requests from several
    threads are answered one at a time (torch's random stream is one per process: each epoch reseeds it)."""

    def __init__(self, threads: int = 1):
        context = multiprocessing.get_context("spawn")  # no fork of a process with threads and an event loop
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, threads), name="psviz-playground-trainer",
                                        daemon=True)
        self._process.start()
        child.close()
        self._lock = threading.Lock()
        self._keys = itertools.count(1)

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    def call(self, op: str, key: int = 0, *args):
        with self._lock:
            try:
                self._conn.send((op, key, *args))
                ok, value = self._conn.recv()
            except (EOFError, OSError) as error:
                raise TrainerError(f"the trainer process has stopped ({type(error).__name__})") from None
        if not ok:
            raise TrainerError(value)
        return value

    def pair(self, settings: Settings) -> "RemotePair":
        return RemotePair(self, next(self._keys), settings)

    def close(self, timeout: float = 10.0) -> bool:
        """Stop the process; True once it has ended."""
        if self._process.is_alive():
            try:
                self.call("quit")
            except TrainerError:
                pass
            self._process.join(timeout)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(timeout)
        return not self._process.is_alive()


class RemotePair:
    """A `Pair` that lives in the trainer process: the same methods, each one request."""

    def __init__(self, trainer: Trainer, key: int, settings: Settings):
        self.trainer, self.key, self.settings, self.epoch = trainer, key, settings, 0
        trainer.call("new", key, settings)

    def step(self) -> None:
        self.trainer.call("step", self.key)
        self.epoch += 1

    def retarget(self, settings: Settings) -> bool:
        done = self.trainer.call("retarget", self.key, settings)
        if done:
            self.settings = settings
        return done

    def snapshot(self, playing: bool = False) -> Snapshot:
        return self.trainer.call("snapshot", self.key, playing)

    def close(self) -> None:
        try:
            self.trainer.call("drop", self.key)
        except TrainerError:
            pass


__all__ = ["RemotePair", "Trainer", "TrainerError"]
