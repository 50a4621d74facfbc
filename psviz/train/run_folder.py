"""A run folder belongs to one run: one live writer (a lock), no silent reuse, and resume only of the same config."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path

from .checkpoint import BEST, LAST, load_checkpoint
from .config import TrainConfig
from .history import HISTORY

try:  # POSIX: a lock the kernel drops when its process dies, however it dies
    import fcntl
except ImportError:  # pragma: no cover - Windows
    fcntl = None

LOCK = ".psviz.lock"
CONFIG = "config.yaml"
RUN_FILES = (CONFIG, HISTORY, LAST, BEST)
# Keys a resumed run may change: where the folder is, which device and loader workers it uses, and how many epochs
# it trains in all. None of them changes a step already taken.
RESUMABLE = ("output_dir", "device", "num_workers", "epochs")
# Keys that name a place or a machine rather than what the weights learned (ignored when checking a checkpoint).
SETTINGS = ("output_dir", "device", "num_workers")


class RunFolderError(ValueError):
    """A run folder that cannot be used as asked: in use, holding another run, or not writable."""


def config_differences(stored: dict, config: dict, ignore: tuple[str, ...] = ()) -> dict[str, tuple]:
    """``{key: (stored value, new value)}`` for every key the two configs set differently (defaults fill gaps)."""
    defaults = TrainConfig().to_dict()
    differences = {}
    for key in sorted(set(stored) | set(config)):
        if key in ignore:
            continue
        old, new = stored.get(key, defaults.get(key)), config.get(key, defaults.get(key))
        if old != new:
            differences[key] = (old, new)
    return differences


def describe_differences(differences: dict[str, tuple]) -> str:
    """``lr: 0.001 -> 0.01, ps: True -> False``: one line for an error message."""
    return ", ".join(f"{key}: {old!r} -> {new!r}" for key, (old, new) in differences.items())


def _is_run_file(name: str) -> bool:
    """A file psviz writes into a run folder: its four files and their temporary siblings."""
    return name in RUN_FILES or (name.startswith(".") and name.endswith(".tmp")
                                 and any(name[1:].startswith(f) for f in RUN_FILES))


def make_folder(run_dir: str | Path) -> Path:
    """Create ``run_dir`` (and parents); a path that is a file, lies under a file or cannot be written is one error."""
    path = Path(run_dir)
    try:
        path.mkdir(parents=True, exist_ok=True)
    except FileExistsError:
        raise RunFolderError(f"output_dir {path} is a file, not a folder; choose another output_dir") from None
    except NotADirectoryError:
        raise RunFolderError(f"output_dir {path} lies under a file ({_first_file(path)}); "
                             f"choose another output_dir") from None
    except OSError as error:
        raise RunFolderError(f"output_dir {path}: cannot create the folder ({error.strerror})") from None
    if not path.is_dir():
        raise RunFolderError(f"output_dir {path} is not a folder; choose another output_dir")
    return path


def _first_file(path: Path) -> Path:
    for parent in reversed(path.parents):
        if parent.exists() and not parent.is_dir():
            return parent
    return path


@contextlib.contextmanager
def locked(run_dir: Path):
    """Hold the folder's lock for the block; a second live writer gets `RunFolderError` naming the holder's pid."""
    path = run_dir / LOCK
    handle = _acquire(path, run_dir)
    try:
        yield path
    finally:
        with contextlib.suppress(OSError):
            path.unlink()  # unlinked while still held, so a waiting process re-checks the inode and retries
        handle.close()


def _acquire(path: Path, run_dir: Path):
    while True:
        try:
            handle = open(path, "a+")
        except OSError as error:
            raise RunFolderError(f"output_dir {run_dir} cannot be written ({error.strerror})") from None
        if fcntl is None:  # pragma: no cover - without POSIX locks the pid in the file is only informative
            break
        try:
            fcntl.flock(handle.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            holder = handle.read().strip() or "unknown"
            handle.close()
            raise RunFolderError(f"output_dir {run_dir} is in use by another psviz run (process {holder}); wait for "
                                 f"it to finish, stop it, or choose another output_dir") from None
        try:  # the holder before us may have unlinked the file we opened: lock the one at the path, or retry
            same = os.path.samestat(os.fstat(handle.fileno()), os.stat(path))
        except FileNotFoundError:
            same = False
        if same:
            break
        handle.close()
    handle.seek(0)
    handle.truncate()
    handle.write(f"{os.getpid()}\n")
    handle.flush()
    return handle


def resume_state(run_dir: Path, config: TrainConfig) -> dict | None:
    """The checkpoint to resume ``config`` from (None: start afresh); refuses a config other than the stored one.

    The stored config is the checkpoint's own (else config.yaml's); only the `RESUMABLE` keys may differ.
    """
    state = load_checkpoint(run_dir / LAST) if (run_dir / LAST).is_file() else None
    stored = state.get("config") if state is not None else None
    if stored is None and (run_dir / CONFIG).is_file():
        stored = TrainConfig.load(run_dir / CONFIG).to_dict()
    if stored is not None:
        differences = config_differences(stored, config.to_dict(), ignore=RESUMABLE)
        if differences:
            raise RunFolderError(f"cannot resume the run in {run_dir} with another config; differing keys: "
                                 f"{describe_differences(differences)} (give the stored values, or start a new "
                                 f"run elsewhere)")
    return state


def prepare(run_dir: Path, config: TrainConfig, *, resume: bool, overwrite: bool) -> dict | None:
    """Check the (locked) folder for a new or resumed run; returns the checkpoint state to resume from, if any.

    A new run needs an empty folder, or ``overwrite``, which deletes the previous run's files first (and only
    those: a folder with other files is refused). A resumed run goes through `resume_state`.
    """
    if resume:
        return resume_state(run_dir, config)
    entries = sorted(p.name for p in run_dir.iterdir() if p.name != LOCK)
    if not entries:
        return None
    if not overwrite:
        raise RunFolderError(f"output_dir {run_dir} is not empty ({', '.join(entries[:5])}"
                             f"{', ...' if len(entries) > 5 else ''}); continue that run with --resume "
                             f"(resume=True), replace it with --overwrite (overwrite=True), or choose another "
                             f"output_dir")
    foreign = [name for name in entries if not _is_run_file(name)]
    if foreign:
        raise RunFolderError(f"output_dir {run_dir} holds files psviz did not write ({', '.join(foreign[:5])}); "
                             f"--overwrite deletes only a run's own files, so choose another output_dir")
    for name in entries:
        (run_dir / name).unlink()
    return None


__all__ = ["RunFolderError", "config_differences", "describe_differences", "locked", "make_folder", "prepare",
           "resume_state"]
