"""On-disk caches are built once when processes start together: one builds under a lock file, the others wait and read.

Real processes (spawn, as `fit_in_workers` starts them) race on a fresh cache folder with a slow, counting builder.
"""

import multiprocessing
import os
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from psviz.base.files import atomic_write
from psviz.data import cache_lock, glyphs

BUILD_SECONDS = 1.5  # long enough that every racer arrives while the first one builds


def _load(path: Path):
    return np.load(path, allow_pickle=False) if path.is_file() else None


def _slow_build(path: Path, counter: Path, crash: bool = False):
    """Count the build in ``counter`` (one line each), wait, then write the cache atomically; ``crash`` dies instead."""
    with open(counter, "a") as file:
        file.write(f"{os.getpid()}\n")
    if crash:
        os._exit(3)  # a killed builder: no cleanup, the lock file stays behind
    time.sleep(BUILD_SECONDS)
    data = np.arange(1000, dtype=np.int64) * 7
    atomic_write(path, lambda file: np.save(file, data, allow_pickle=False))
    return data


def _racer(folder: str, slot: int, start, crash: bool = False) -> None:
    """One process: wait for the others, then load-or-build the cache; saves what it got and what it printed."""
    folder = Path(folder)
    sys.stderr = open(folder / f"stderr-{slot}.txt", "w", buffering=1)
    path = folder / "cache.npy"
    start.wait()
    data = cache_lock.build_once(cache_lock.lock_path_for(path), lambda: _load(path),
                                 lambda: _slow_build(path, folder / "builds.txt", crash), "the test cache")
    np.save(folder / f"got-{slot}.npy", data)


def _glyphs_racer(folder: str, slot: int, start) -> None:
    """One process loading glyphs into ``folder`` with a slow, counting stand-in for `build_glyphs`."""
    folder = Path(folder)
    os.environ["PSVIZ_CACHE"] = str(folder / "cache")
    sys.stderr = open(folder / f"stderr-{slot}.txt", "w", buffering=1)

    def build(min_fonts):
        with open(folder / "builds.txt", "a") as file:
            file.write(f"{os.getpid()}\n")
        time.sleep(BUILD_SECONDS)
        images = np.zeros((8, 1, glyphs.SIZE, glyphs.SIZE), np.uint8)
        images[:, :, 8:24, 8:24] = 200
        return {"images": images, "labels": np.repeat(np.arange(4), 2),
                "codepoints": np.array([65, 66, 67, 68], np.int32), "fonts": np.array(["DejaVuSans", "STIXGeneral"] * 4)}

    glyphs.build_glyphs = build
    start.wait()
    split = glyphs.load_glyphs("seen")
    np.save(folder / f"got-{slot}.npy", split.data.numpy())


def _race(target, folder: Path, count: int) -> None:
    """Start ``count`` spawned processes running ``target(folder, slot, barrier)`` together; all must succeed."""
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(count)
    processes = [context.Process(target=target, args=(str(folder), slot, start)) for slot in range(count)]
    for process in processes:
        process.start()
    for process in processes:
        process.join(120)
    assert [p.exitcode for p in processes] == [0] * count, [(folder / f"stderr-{i}.txt").read_text()
                                                            for i in range(count)]


def _builds(folder: Path) -> list[str]:
    return (folder / "builds.txt").read_text().split()


@pytest.mark.slow
def test_processes_starting_together_build_once_and_read_the_same_cache(tmp_path):
    _race(_racer, tmp_path, 3)
    assert len(_builds(tmp_path)) == 1  # without the lock: 3 builds
    got = [np.load(tmp_path / f"got-{slot}.npy") for slot in range(3)]
    assert all(np.array_equal(g, np.arange(1000) * 7) for g in got)
    printed = [(tmp_path / f"stderr-{slot}.txt").read_text() for slot in range(3)]
    waited = [text for text in printed if "psviz: waiting for another process to build the test cache" in text]
    assert len(waited) == 2 and all(text.count("\n") == 1 for text in waited)  # one line each, from the two waiters
    assert not (tmp_path / "cache.npy.lock").exists()  # the builder removed its lock file
    assert not list(tmp_path.glob(".cache.npy.*.tmp"))  # written atomically: no temporary file left


def test_a_lock_file_left_by_a_crashed_builder_blocks_nobody(tmp_path):
    context = multiprocessing.get_context("spawn")
    start = context.Barrier(1)  # kept referenced until the child has started: it unpickles it
    crashed = context.Process(target=_racer, args=(str(tmp_path), 0, start, True))
    crashed.start()
    crashed.join(60)
    assert crashed.exitcode == 3 and (tmp_path / "cache.npy.lock").exists() and not (tmp_path / "cache.npy").exists()
    path = tmp_path / "cache.npy"
    began = time.perf_counter()
    data = cache_lock.build_once(cache_lock.lock_path_for(path), lambda: _load(path),
                                 lambda: _slow_build(path, tmp_path / "builds.txt"), "the test cache")
    assert time.perf_counter() - began < BUILD_SECONDS + 5  # the dead process's lock was released by the kernel
    assert np.array_equal(data, np.arange(1000) * 7) and len(_builds(tmp_path)) == 2
    assert not (tmp_path / "cache.npy.lock").exists()


def test_a_failed_build_leaves_the_next_process_to_build(tmp_path):
    path, calls = tmp_path / "cache.npy", []

    def failing():
        calls.append("failed")
        raise OSError("disk full")

    with pytest.raises(OSError, match="disk full"):
        cache_lock.build_once(cache_lock.lock_path_for(path), lambda: _load(path), failing, "the test cache")
    assert calls == ["failed"] and os.listdir(tmp_path) == []  # no cache, no lock file
    data = cache_lock.build_once(cache_lock.lock_path_for(path), lambda: _load(path),
                                 lambda: calls.append("built") or np.zeros(3), "the test cache")
    assert calls == ["failed", "built"] and np.array_equal(data, np.zeros(3))


def test_a_waiter_whose_lock_file_was_removed_locks_the_new_one(tmp_path):
    """The holder removes the lock file before releasing it: whoever waited on that file must not count it as held."""
    lock = tmp_path / "cache.lock"
    stale = open(lock, "a")  # stands for a waiter's handle on the file that the holder is about to remove
    lock.unlink()
    lock.touch()
    assert not cache_lock._is_current(stale, lock)
    stale.close()
    with cache_lock.exclusive(lock, "the test cache"):
        assert lock.exists()
    assert not lock.exists()


@pytest.mark.slow
def test_glyphs_processes_starting_together_build_the_dataset_once(tmp_path):
    _race(_glyphs_racer, tmp_path, 2)
    assert len(_builds(tmp_path)) == 1
    got = [np.load(tmp_path / f"got-{slot}.npy") for slot in range(2)]
    assert got[0].shape == (4, 1, glyphs.SIZE, glyphs.SIZE) and np.array_equal(got[0], got[1])
    printed = "".join((tmp_path / f"stderr-{slot}.txt").read_text() for slot in range(2))
    assert printed.count("psviz: built glyphs dataset") == 1
    assert printed.count("psviz: waiting for another process to build the glyphs dataset") == 1
    assert os.listdir(tmp_path / "cache") == [f"glyphs-v{glyphs.VERSION}.npz"]  # the cache only: no lock, no temporary
