"""Exact cosine k-nearest-neighbour search in query chunks, with ties broken by index.

faiss (exact inner product, multithreaded BLAS) does the search on CPU; on CUDA tensors a chunked ``matmul`` +
``topk`` does. Either way the result is made deterministic afterwards:

* each row is put in (-similarity, index) order, so equal similarities come lowest index first;
* a tie that runs past the last fetched neighbour could hide a lower-index item the backend left out, so such rows
  are searched again with twice the k (up to the gallery size) until the fetched list ends strictly below the
  k-th similarity.

Guarantee: the neighbours of a query are exactly the first k of the gallery ordered by (-similarity, index), where
"similarity" is the float32 inner product the backend computed for that query. Backends (and faiss's BLAS and
non-BLAS kernels) may round the last bit differently, so they agree exactly where similarities are exact or differ
by more than rounding. Memory stays bounded: queries are processed in chunks sized from ``k`` (and, on the torch
path, from the gallery size), never as an N x N matrix. Chunks also hold at most ``QUERY_BUDGET`` queries, so a
progress bar over queries moves during a long search, not only at its end.
"""

from __future__ import annotations

from collections.abc import Iterator

import faiss
import numpy as np
import torch
from tqdm.auto import tqdm

from ..base.checks import check_int
from ._inputs import is_cuda, unit_rows_numpy, unit_rows_torch

__all__ = ["nearest_neighbours", "resolve_backend", "prepare", "iter_neighbours"]

BACKENDS = ("auto", "faiss", "torch")

# Elements of one chunk's [rows x k] result (float32 similarity + int64 index: 12 bytes each): ~100 MB.
RESULT_BUDGET = 2**23
# Elements of one chunk's [rows x gallery] similarity matrix on the torch path (float32): 256 MB.
MATRIX_BUDGET = 2**26
# faiss's BLAS path works on blocks of 4096 queries; chunks of whole blocks keep it at full speed.
FAISS_QUERY_BLOCK = 4096
# Queries of one chunk, whatever k: with a small k the result budget alone allowed ~10^6 queries per chunk, so a
# 10^5-item search was one chunk and its progress bar moved once, at the end. 16384 queries are four whole faiss
# blocks, so faiss splits the queries into the same blocks as without chunking (and, see _FaissSearch, keeps its
# kernel): it runs at full speed, the per-chunk Python work stays negligible, and a 10^5-item search moves the bar
# 7 times.
QUERY_BUDGET = 4 * FAISS_QUERY_BLOCK


def resolve_backend(backend: str, *arrays) -> str:
    """``"faiss"`` or ``"torch"``: ``"auto"`` picks torch when any input is a CUDA tensor, faiss otherwise."""
    if backend not in BACKENDS:
        raise ValueError(f"backend must be one of {BACKENDS}, got {backend!r}")
    if backend == "auto":
        return "torch" if any(is_cuda(a) for a in arrays) else "faiss"
    return backend


def prepare(x, name: str, backend: str, device: torch.device | None = None):
    """Checked, L2-normalised float32 rows: a numpy array for faiss, a tensor on ``device`` for torch."""
    if backend == "faiss":
        return unit_rows_numpy(x, name)
    if device is None:
        device = x.device if isinstance(x, torch.Tensor) else torch.device("cpu")
    return unit_rows_torch(x, name, device)


class _FaissSearch:
    """Top-k inner products of query rows against a gallery with faiss (CPU).

    faiss picks its kernel per call: BLAS once the call's queries x dimension reach
    ``distance_compute_blas_threshold`` (128000 in faiss 1.15), a per-query loop below. Chunking must not change
    that choice: in 2-D a 16384-query chunk would fall to the loop, about 3x slower per query. So the kernel is the
    one faiss would pick for all the queries at once, used for every chunk (and every re-search) of the search.
    """

    def __init__(self, queries: np.ndarray, gallery: np.ndarray):
        self.queries, self.gallery = queries, gallery
        self.blas = queries.shape[0] * queries.shape[1] >= faiss.cvar.distance_compute_blas_threshold

    def rows(self, ids: np.ndarray) -> np.ndarray:
        return self.queries[ids]

    def take(self, block: np.ndarray, rows: np.ndarray) -> np.ndarray:
        return block[rows]

    def __call__(self, block: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
        if not self.blas:
            return faiss.knn(block, self.gallery, k, metric=faiss.METRIC_INNER_PRODUCT)
        previous = faiss.cvar.distance_compute_blas_threshold
        faiss.cvar.distance_compute_blas_threshold = 0  # BLAS whatever the chunk's size; faiss's global, restored
        try:
            return faiss.knn(block, self.gallery, k, metric=faiss.METRIC_INNER_PRODUCT)
        finally:
            faiss.cvar.distance_compute_blas_threshold = previous

    def chunk_rows(self, k: int) -> int:
        """Queries per chunk: within both budgets, rounded down to whole faiss blocks when over one block."""
        rows = max(1, min(RESULT_BUDGET // k, QUERY_BUDGET))
        return rows - rows % FAISS_QUERY_BLOCK if rows > FAISS_QUERY_BLOCK else rows


class _TorchSearch:
    """Top-k inner products with ``matmul`` + ``topk`` on the tensors' device (CUDA, or CPU when asked)."""

    def __init__(self, queries: torch.Tensor, gallery: torch.Tensor):
        self.queries, self.gallery = queries, gallery

    def rows(self, ids: np.ndarray) -> torch.Tensor:
        return self.queries[torch.as_tensor(ids, device=self.queries.device)]

    def take(self, block: torch.Tensor, rows: np.ndarray) -> torch.Tensor:
        return block[torch.as_tensor(rows, device=block.device)]

    def __call__(self, block: torch.Tensor, k: int) -> tuple[np.ndarray, np.ndarray]:
        previous = torch.get_float32_matmul_precision()
        torch.set_float32_matmul_precision("highest")  # no TF32: its 10-bit mantissa would reorder neighbours
        try:
            values, indices = torch.topk(block @ self.gallery.T, k, dim=1, largest=True, sorted=True)
        finally:
            torch.set_float32_matmul_precision(previous)
        return values.cpu().numpy(), indices.cpu().numpy()

    def chunk_rows(self, k: int) -> int:
        """Queries per chunk: within the result, similarity-matrix and query budgets."""
        return max(1, min(RESULT_BUDGET // k, MATRIX_BUDGET // self.gallery.shape[0], QUERY_BUDGET))


def _order_ties(sims: np.ndarray, idx: np.ndarray) -> None:
    """Put every row in (-similarity, index) order, in place; rows already strictly decreasing are left alone."""
    rows = np.flatnonzero((sims[:, 1:] >= sims[:, :-1]).any(axis=1))
    if not rows.size:
        return
    s, i = sims[rows], idx[rows]
    unsorted = np.flatnonzero((s[:, 1:] > s[:, :-1]).any(axis=1))
    if unsorted.size:  # backends return rows sorted by similarity; this is only a safety net
        order = np.lexsort((i[unsorted], -s[unsorted]), axis=-1)
        s[unsorted] = np.take_along_axis(s[unsorted], order, axis=1)
        i[unsorted] = np.take_along_axis(i[unsorted], order, axis=1)
        sims[rows] = s
    # Rows are now non-increasing: sorting by (run of equal similarities, index) only reorders within runs. The key
    # is nearly sorted already, which numpy's stable sort (timsort for int64) handles in about linear time.
    runs = np.zeros(s.shape, np.int64)
    np.cumsum(s[:, 1:] != s[:, :-1], axis=1, out=runs[:, 1:])
    order = np.argsort((runs << 32) | i, axis=1, kind="stable")  # gallery indices < 2**32
    idx[rows] = np.take_along_axis(i, order, axis=1)


def _top(search, block, keep: int, n_gallery: int, fetch: int) -> tuple[np.ndarray, np.ndarray]:
    """First ``keep`` gallery items of each query row in (-similarity, index) order, exact at boundary ties."""
    sims, idx = search(block, fetch)
    if (idx < 0).any():
        raise RuntimeError("the kNN backend returned fewer neighbours than asked for")
    _order_ties(sims, idx)
    if fetch < n_gallery:
        # A row whose keep-th similarity equals its last fetched one may have left out an equal, lower-index item.
        unsure = np.flatnonzero(sims[:, keep - 1] == sims[:, fetch - 1])
        more = min(2 * fetch, n_gallery)
        step = search.chunk_rows(more)  # the wider search stays inside the memory budget too
        for part in np.array_split(unsure, -(-unsure.size // step)) if unsure.size else ():
            s, i = _top(search, search.take(block, part), keep, n_gallery, more)
            sims[part, :keep], idx[part, :keep] = s, i
    return sims[:, :keep], idx[:, :keep]


def _drop_self(sims: np.ndarray, idx: np.ndarray, query_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Remove each query's own index from its row (or the last entry when it is not there): one column less.

    Usually the query is its own first neighbour and the result is a view; other rows are shifted in place.
    """
    odd = np.flatnonzero(idx[:, 0] != query_ids)
    if odd.size:
        is_self = idx[odd] == query_ids[odd, None]
        where = np.where(is_self.any(axis=1), is_self.argmax(axis=1), idx.shape[1] - 1)
        before = np.arange(idx.shape[1] - 1) < where[:, None]
        # Row without its self entry: columns before it as they are, columns after it moved one to the left.
        for a in (sims, idx):
            a[odd, 1:] = np.where(before, a[odd, :-1], a[odd, 1:])
    return sims[:, 1:], idx[:, 1:]


def _plan(need: np.ndarray, rows_for, chunk_size: int | None) -> list[tuple[int, int]]:
    """Split queries sorted by ``need`` into [start, end) chunks small enough for the chunk's largest need."""

    def rows(keep: int) -> int:
        r = rows_for(keep)
        return r if chunk_size is None else min(r, chunk_size)

    chunks, start, m = [], 0, need.shape[0]
    while start < m:
        end = min(m, start + rows(int(need[start])))
        # need is sorted, so the chunk's largest is its last; shrinking can only lower it, so one shrink suffices.
        end = min(end, start + rows(int(need[end - 1])))
        chunks.append((start, end))
        start = end
    return chunks


def iter_neighbours(queries, gallery, need: np.ndarray, query_ids: np.ndarray, *, exclude_self: bool,
                    chunk_size: int | None = None, progress: bool = False,
                    ) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Yield ``(query_ids, similarities, indices)`` chunk by chunk, each row holding at least ``need`` neighbours.

    ``queries`` and ``gallery`` come from :func:`prepare` (same backend); ``need[j]`` is how many neighbours query
    ``query_ids[j]`` needs (at most the gallery size, less one with ``exclude_self``). Queries are grouped by need so
    that a few queries of a huge class do not make every chunk fetch a huge k. Within a chunk all rows have the
    chunk's largest need. ``progress`` shows a bar over queries, moved once per chunk, if the search runs past 2 s.
    """
    search = _FaissSearch(queries, gallery) if isinstance(queries, np.ndarray) else _TorchSearch(queries, gallery)
    n_gallery = gallery.shape[0]
    order = np.argsort(need, kind="stable")
    ids, need = query_ids[order], need[order] + int(exclude_self)  # need now counts the self-match
    rows_for = lambda keep: search.chunk_rows(min(keep + 1, n_gallery))  # noqa: E731
    with tqdm(total=ids.shape[0], desc="kNN search", unit="query", delay=2, disable=not progress) as bar:
        for start, end in _plan(need, rows_for, chunk_size):
            chunk_ids, keep = ids[start:end], int(need[end - 1])
            sims, idx = _top(search, search.rows(chunk_ids), keep, n_gallery, min(keep + 1, n_gallery))
            if exclude_self:
                sims, idx = _drop_self(sims, idx, chunk_ids)
            yield chunk_ids, sims, idx
            bar.update(end - start)


def nearest_neighbours(queries, k: int, *, gallery=None, chunk_size: int | None = None, backend: str = "auto",
                       progress: bool = False) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` most cosine-similar items of each query, ties broken by lower index: ``(similarities, indices)``.

    Without ``gallery`` the queries search each other and each query's own row is excluded (by index, not by
    value, so an identical duplicate is still found). Returns float32 and int64 numpy arrays of shape [n, k].
    ``progress`` (off by default, as suits a library call) shows a bar over queries once a search has run for 2 s.
    """
    backend = resolve_backend(backend, queries, gallery)
    device = next((a.device for a in (queries, gallery) if is_cuda(a)), None)
    q = prepare(queries, "queries", backend, device)
    g = q if gallery is None else prepare(gallery, "gallery", backend, q.device if backend == "torch" else None)
    if g.shape[1] != q.shape[1]:
        raise ValueError(f"gallery must have the queries' dimension {q.shape[1]}, got {g.shape[1]}")
    limit = g.shape[0] - (gallery is None)
    k = check_int(k, "k")
    if k > limit:
        what = "the gallery size" if gallery is not None else "the number of other queries"
        raise ValueError(f"k must be at most {limit} ({what}), got {k}")
    if chunk_size is not None:
        chunk_size = check_int(chunk_size, "chunk_size")
    n = q.shape[0]
    sims, idx = np.empty((n, k), np.float32), np.empty((n, k), np.int64)
    for ids, s, i in iter_neighbours(q, g, np.full(n, k), np.arange(n), exclude_self=gallery is None,
                                     chunk_size=chunk_size, progress=progress):
        sims[ids], idx[ids] = s[:, :k], i[:, :k]
    return sims, idx
