"""Stopping a run cleanly: SIGINT (Ctrl-C) and SIGTERM ask the trainer to stop after the step and save."""

from __future__ import annotations

import signal
import threading


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (Ctrl-C's SIGINT, or SIGTERM from kill or a scheduler); ``signum`` says which."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


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


__all__ = ["Interrupted", "StopFlag"]
