"""Reliability: long kNN searches report progress chunk by chunk, and damaged checkpoints say so plainly.

kNN: chunks are bounded in queries (``QUERY_BUDGET``), not only in results, so a bar over queries moves during a
long search; the bar is off unless asked for. Checkpoints: a truncated or corrupted file is reported as damaged with
the run folder's other checkpoint, an unsafe pickle is still refused, and torch's advice to load with
``weights_only=False`` is never passed on.
"""

from __future__ import annotations

import os
import pickle
import time

import numpy as np
import pytest
import torch

from psviz.evaluate import knn as knn_module
from psviz.evaluate import nearest_neighbours, retrieval_metrics
from psviz.train import load_checkpoint, save_checkpoint
from psviz.train.checkpoint import BEST, LAST

# ---- kNN search: chunks bounded in queries, progress per chunk, off by default ---------------------------------


def circle_points(n: int, seed: int) -> np.ndarray:
    """``n`` random 2-D items (the case where a small k once made the whole search one chunk)."""
    return np.random.default_rng(seed).standard_normal((n, 2)).astype(np.float32)


def sign_vectors(n: int, seed: int) -> np.ndarray:
    """Rows of +-1 in 16 dimensions: unit rows have coordinates +-1/4, so every similarity is exact in float32 and
    results cannot differ by rounding between faiss kernels; many exact ties exercise the tie handling."""
    return np.random.default_rng(seed).choice([-1.0, 1.0], size=(n, 16)).astype(np.float32)


@pytest.fixture
def bars(monkeypatch):
    """Every progress bar the kNN search makes (real tqdm bars, recording their updates)."""
    made = []

    class RecordingBar(knn_module.tqdm):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.off = self.disable  # close() sets disable, so keep the flag the bar was made with
            self.steps = []
            made.append(self)

        def update(self, n=1):
            self.steps.append(n)
            return super().update(n)

    monkeypatch.setattr(knn_module, "tqdm", RecordingBar)
    return made


@pytest.fixture
def slow_faiss(monkeypatch):
    """faiss searching 16k queries a second, so 50k queries outlast the bar's 2 s delay."""
    real = knn_module.faiss.knn

    def slow(block, gallery, k, metric):
        time.sleep(block.shape[0] / 16_384)
        return real(block, gallery, k, metric=metric)

    monkeypatch.setattr(knn_module.faiss, "knn", slow)


def test_a_large_search_with_a_small_k_runs_in_chunks_of_at_most_the_query_budget():
    queries, gallery = circle_points(50_000, 1), circle_points(2_000, 2)
    budget = knn_module.QUERY_BUDGET
    assert budget % knn_module.FAISS_QUERY_BLOCK == 0  # whole faiss blocks: faiss at full speed
    q, g = (knn_module.prepare(a, "x", "faiss") for a in (queries, gallery))
    chunks = [ids for ids, _, _ in knn_module.iter_neighbours(q, g, np.full(50_000, 4), np.arange(50_000),
                                                              exclude_self=False)]
    sizes = [ids.shape[0] for ids in chunks]
    assert len(sizes) == -(-50_000 // budget) >= 4
    assert max(sizes) <= budget and all(size % knn_module.FAISS_QUERY_BLOCK == 0 for size in sizes[:-1])
    assert np.array_equal(np.sort(np.concatenate(chunks)), np.arange(50_000))  # every query exactly once


def test_chunks_of_a_large_low_dimensional_search_keep_faiss_on_its_blas_kernel(monkeypatch):
    # faiss uses BLAS when a call's queries x dimension reach its threshold, a slower per-query loop below: in 2-D
    # a 16384-query chunk alone would fall below it although the whole search would not (about 3x slower per query).
    faiss = knn_module.faiss
    default = faiss.cvar.distance_compute_blas_threshold
    queries, gallery = circle_points(80_000, 12), circle_points(1_000, 13)
    if queries.size < default:
        pytest.skip(f"this faiss searches 80000 2-D queries without BLAS (threshold {default})")
    calls, real = [], faiss.knn

    def spy(block, gallery, k, metric):
        calls.append((block.size, faiss.cvar.distance_compute_blas_threshold))  # BLAS when size >= threshold
        return real(block, gallery, k, metric=metric)

    monkeypatch.setattr(faiss, "knn", spy)
    nearest_neighbours(queries[:5_000], 3, gallery=gallery)
    assert calls and all(threshold == default for _, threshold in calls)  # a small search: faiss's own choice
    calls.clear()
    nearest_neighbours(queries, 3, gallery=gallery)
    assert len(calls) >= 80_000 // knn_module.QUERY_BUDGET
    assert all(size >= threshold for size, threshold in calls)  # every chunk on BLAS, as the whole search
    assert faiss.cvar.distance_compute_blas_threshold == default  # faiss's setting is restored


def test_results_do_not_depend_on_the_query_budget(monkeypatch):
    x = sign_vectors(1_500, 3)
    y = np.random.default_rng(4).integers(0, 40, 1_500)
    want_sims, want_idx = nearest_neighbours(x, 5)
    want_metrics = retrieval_metrics(x, y, (1, 2, 4))
    rows = []
    real = knn_module.faiss.knn

    def spy(block, gallery, k, metric):
        rows.append(block.shape[0])
        return real(block, gallery, k, metric=metric)

    monkeypatch.setattr(knn_module.faiss, "knn", spy)
    monkeypatch.setattr(knn_module, "QUERY_BUDGET", 64)
    sims, idx = nearest_neighbours(x, 5)
    assert len(rows) >= 1_500 // 64 and max(rows) <= 64  # the bound splits the search
    assert np.array_equal(idx, want_idx) and np.array_equal(sims, want_sims)
    assert retrieval_metrics(x, y, (1, 2, 4)) == want_metrics
    assert retrieval_metrics(x, y, (1, 2, 4), backend="torch") == want_metrics


def test_progress_moves_once_per_chunk_and_reaches_the_total(bars):
    queries, gallery = circle_points(50_000, 5), circle_points(2_000, 6)
    nearest_neighbours(queries, 3, gallery=gallery, progress=True)
    (bar,) = bars
    assert not bar.off and bar.total == 50_000 and bar.n == 50_000
    assert len(bar.steps) >= 4 and max(bar.steps) <= knn_module.QUERY_BUDGET


def test_library_searches_show_no_progress_by_default(bars, slow_faiss, capsys):
    x = circle_points(50_000, 7)
    y = np.arange(50_000) % 400  # 5 gallery items per class: R = 5, a small k as in the slow report
    gallery, gallery_labels = circle_points(2_000, 8), np.arange(2_000) % 400
    started = time.perf_counter()
    retrieval_metrics(x, y, (1, 2), gallery=gallery, gallery_labels=gallery_labels)
    assert time.perf_counter() - started > 2.5  # slow enough that an enabled bar would have shown
    nearest_neighbours(x[:100], 3)
    assert len(bars) == 2 and all(bar.off for bar in bars)
    assert "kNN search" not in capsys.readouterr().err


def test_a_slow_search_with_progress_shows_a_bar_that_reaches_the_total(bars, slow_faiss, capsys):
    x = circle_points(50_000, 9)
    y = np.arange(50_000) % 400
    gallery, gallery_labels = circle_points(2_000, 10), np.arange(2_000) % 400
    retrieval_metrics(x, y, (1, 2), gallery=gallery, gallery_labels=gallery_labels, progress=True)
    err = capsys.readouterr().err
    assert "kNN search" in err and "50000/50000" in err
    (bar,) = bars
    assert len(bar.steps) >= 4 and sum(bar.steps) == bar.n == 50_000


def test_a_quick_search_with_progress_prints_nothing(capsys):
    nearest_neighbours(circle_points(500, 11), 3, progress=True)
    assert "kNN search" not in capsys.readouterr().err


# ---- checkpoints: damaged files named as such, unsafe pickles still refused -------------------------------------


def run_folder(tmp_path, *names: str):
    """A run folder holding the given checkpoints (with a tensor big enough that its middle is tensor data)."""
    folder = tmp_path / "runs" / "x"
    for name in names:
        save_checkpoint({"model": {"w": torch.arange(40_000, dtype=torch.float32)}, "epoch": 3}, folder / name)
    return folder


def truncate(path) -> None:
    """Keep the first half of the file's bytes, as a full disk or a killed copy would."""
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def flip_middle(path) -> None:
    """Invert 16 bytes in the middle of the file, as a bad disk or a faulty transfer would."""
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle: middle + 16] = bytes(b ^ 0xFF for b in data[middle: middle + 16])
    path.write_bytes(bytes(data))


def load_error(path) -> str:
    with pytest.raises(ValueError) as caught:
        load_checkpoint(path)
    return str(caught.value)


def test_a_truncated_checkpoint_is_damaged_and_the_error_names_the_other_checkpoint(tmp_path):
    folder = run_folder(tmp_path, BEST, LAST)
    truncate(folder / BEST)
    message = load_error(folder / BEST)
    assert message.startswith(f"checkpoint {folder / BEST} is damaged (truncated or corrupted")
    assert f"the run folder also has {LAST} (psviz evaluate {folder} --checkpoint last)" in message
    assert "weights_only" not in message and "\n" not in message
    assert load_checkpoint(folder / LAST)["epoch"] == 3  # the other one still loads


def test_a_checkpoint_with_flipped_bytes_is_damaged_not_silently_loaded(tmp_path):
    folder = run_folder(tmp_path, LAST, BEST)
    flip_middle(folder / LAST)
    message = load_error(folder / LAST)
    assert message.startswith(f"checkpoint {folder / LAST} is damaged (truncated or corrupted")
    assert "CRC" in message
    assert f"the run folder also has {BEST} (psviz evaluate {folder} --checkpoint best)" in message
    assert "weights_only" not in message


def test_a_damaged_checkpoint_without_another_says_there_is_none(tmp_path):
    folder = run_folder(tmp_path, LAST)
    truncate(folder / LAST)
    message = load_error(folder / LAST)
    assert "is damaged (truncated or corrupted" in message
    assert f"has no other checkpoint ({LAST} or {BEST})" in message and "also has" not in message
    flip_middle(folder / LAST)  # now cut short and corrupted: still damaged, not unsafe
    assert "is damaged" in load_error(folder / LAST)


class _MakesADirectory:
    """Unpickled without the safe loader, this object would create a directory: code run by reading a file."""

    def __init__(self, path):
        self.path = path

    def __reduce__(self):
        return (os.mkdir, (str(self.path),))


@pytest.mark.parametrize("form", ["raw pickle", "torch zip"])
def test_an_intact_checkpoint_that_would_run_code_is_refused_as_unsafe(tmp_path, form):
    folder = run_folder(tmp_path, BEST)
    marker = tmp_path / "code-ran"
    state = {"model": _MakesADirectory(marker)}
    if form == "raw pickle":
        (folder / LAST).write_bytes(pickle.dumps(state, protocol=2))
    else:
        torch.save(state, folder / LAST)  # an intact zip archive whose pickle calls os.mkdir
    message = load_error(folder / LAST)
    assert message.startswith(f"cannot load checkpoint {folder / LAST} safely")
    assert "could run code" in message and "mkdir" in message
    assert "damaged" not in message and "weights_only" not in message and "\n" not in message
    assert not marker.exists()
