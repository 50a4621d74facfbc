"""One builder per on-disk cache: a process that finds no cache locks a file beside it, looks again, and builds only
if the cache is still missing; processes that start together (training workers, torchrun ranks) wait and read it.

The lock is `fcntl.flock` on the lock file, which the kernel releases when its holder exits or crashes: a lock file
left behind by a killed builder blocks nobody (the next process locks that same file). The holder removes the file
before releasing it, so a cache folder keeps only caches; a waiter that then holds the lock of a removed file opens
and locks the new one instead (see `exclusive`), so two processes never both think they hold the lock. Without fcntl
(not POSIX) there is no lock: concurrent builders each build, and atomic writes still keep every cache whole.
"""

from __future__ import annotations

import contextlib
import os
import sys
from pathlib import Path
from typing import Callable, Iterator, TypeVar

try:
    import fcntl
except ImportError:  # pragma: no cover - not POSIX
    fcntl = None

T = TypeVar("T")


def lock_path_for(path: str | Path) -> Path:
    """The lock file of the cache at ``path``: the same name with ``.lock`` appended, in the same folder."""
    path = Path(path)
    return path.with_name(path.name + ".lock")


@contextlib.contextmanager
def exclusive(lock_path: str | Path, what: str) -> Iterator[None]:
    """Hold an exclusive inter-process lock on ``lock_path`` for the block; says once on stderr that it waits for
    another process to build ``what`` when the lock is taken. The lock file is removed when the block ends."""
    lock_path = Path(lock_path)
    if fcntl is None:  # pragma: no cover - not POSIX
        yield
        return
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    said = False
    while True:
        handle = open(lock_path, "a")
        try:
            try:
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                if not said:
                    print(f"psviz: waiting for another process to build {what}", file=sys.stderr, flush=True)
                    said = True
                fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
            if _is_current(handle, lock_path):
                break
        except BaseException:
            handle.close()
            raise
        handle.close()  # the previous holder removed this file while we waited: lock the one now at lock_path
    try:
        yield
    finally:
        with contextlib.suppress(OSError):
            lock_path.unlink()  # while still held, so that nobody can lock this file and think it is the lock
        handle.close()


def build_once(lock_path: str | Path, load: Callable[[], T | None], build: Callable[[], T], what: str, *,
               rebuild: bool = False) -> T:
    """``load()``'s cache if it has one (not None), else ``build()``'s, which must write the cache (atomically).

    The build runs under `exclusive` on ``lock_path`` after a second ``load()``, so of processes that start together
    one builds and the others wait and then load its cache. ``rebuild`` builds even when a cache exists (still one
    build at a time). A failed build raises in its process only: a waiter then finds no cache and builds itself.
    """
    if not rebuild:
        value = load()
        if value is not None:
            return value
    with exclusive(lock_path, what):
        value = None if rebuild else load()  # another process may have built it while we waited
        return build() if value is None else value


def _is_current(handle, lock_path: Path) -> bool:
    """Whether the open ``handle`` is still the file at ``lock_path`` (not removed or replaced meanwhile)."""
    try:
        here, there = os.fstat(handle.fileno()), os.stat(lock_path)
    except FileNotFoundError:
        return False
    return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


__all__ = ["build_once", "exclusive", "lock_path_for"]
