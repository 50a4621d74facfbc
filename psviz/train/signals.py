"""Stopping a run cleanly: SIGINT (Ctrl-C) and SIGTERM ask the trainer to stop after the step and save."""

from __future__ import annotations

import contextlib
import os
import signal
import threading


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (Ctrl-C's SIGINT, or SIGTERM from kill or a scheduler); ``signum`` says which."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)

    def __reduce__(self):
        """Rebuilt from the signal number (its args hold the name), so that it travels back from a worker process:
        one that cannot be unpickled there breaks the pool, whose processes then wait out their join timeout."""
        return type(self), (self.signum,), self.__dict__


class StopFlag:
    """SIGINT (and SIGTERM, when the run has a folder to save to) ask the loop to stop after the current step, save,
    and raise `Interrupted`; a second signal stops at once."""

    def __init__(self, signals=(signal.SIGINT,)):
        self.signals = tuple(signals)
        self.requested = None  # the signal number once one arrived
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in self.signals:
                self._previous[signum] = signal.getsignal(signum)
                signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested is not None:
            raise Interrupted(signum)
        self.requested = signum

    def __exit__(self, *exc):
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        return False


@contextlib.contextmanager
def sigint_held():
    """SIGINT held back in this thread while worker processes start inside the block: they inherit the mask, so a
    Ctrl-C while they import (which would print a traceback from each) waits until `leave_terminal_group` drops it.
    A SIGINT that reaches this process meanwhile is delivered when the block ends."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    held = signal.SIGINT in signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        if not held:
            signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})


def leave_terminal_group() -> bool:
    """In a worker process (started under `sigint_held`): leave the terminal's process group, so that Ctrl-C reaches
    only the parent, which stops its workers itself; drop a SIGINT that arrived while the worker started, and take
    SIGINT again. Returns whether one had arrived: then the parent is stopping, and the worker should not start."""
    if hasattr(os, "setpgrp"):
        os.setpgrp()
    if not hasattr(signal, "pthread_sigmask"):
        return False
    pending = signal.SIGINT in signal.sigpending()
    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)  # discards the pending SIGINT, which would raise here
    signal.pthread_sigmask(signal.SIG_UNBLOCK, {signal.SIGINT})
    signal.signal(signal.SIGINT, previous)
    return pending


__all__ = ["Interrupted", "StopFlag", "leave_terminal_group", "sigint_held"]
