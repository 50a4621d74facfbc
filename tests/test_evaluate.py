"""Tests of psviz.evaluate: retrieval metrics against a brute-force float64 reference, hand-made cases, ties, NMI.

The random data has integer coordinates and rows of squared norm exactly 4096, so every cosine similarity is a
multiple of 1/4096: float32 (faiss, torch) and float64 (the reference) compute the same values bit for bit and the
comparison can be exact, ties included, whatever the summation order.
"""

from __future__ import annotations

import math
from functools import lru_cache

import numpy as np
import pytest
import torch
from sklearn.metrics import normalized_mutual_info_score

from psviz.evaluate import (
    K_PRESETS,
    kmeans_assignments,
    nearest_neighbours,
    nmi,
    nmi_score,
    resolve_ks,
    retrieval_metrics,
)
from psviz.evaluate import knn as knn_module

# ----------------------------------------------------------------------------------------------------------------
# Reference and data
# ----------------------------------------------------------------------------------------------------------------


def reference_metrics(embeddings, labels, ks, gallery=None, gallery_labels=None) -> dict:
    """Brute force in float64: full similarity matrix, stable sort by (-similarity, index), count per query."""
    q = np.asarray(embeddings, np.float64)
    q = q / np.linalg.norm(q, axis=1, keepdims=True)
    self_match = gallery is None
    g = q if self_match else np.asarray(gallery, np.float64)
    g = g / np.linalg.norm(g, axis=1, keepdims=True)
    gl = np.asarray(labels if self_match else gallery_labels)
    sims = q @ g.T
    hits, r_precisions, average_precisions, skipped = {k: 0 for k in ks}, [], [], 0
    for i in range(q.shape[0]):
        order = np.lexsort((np.arange(g.shape[0]), -sims[i]))  # primary -sim, then index
        if self_match:
            order = order[order != i]
        rel = gl[order] == labels[i]
        r = int(rel.sum())
        if r == 0:
            skipped += 1
            continue
        for k in ks:
            hits[k] += bool(rel[:k].any())
        r_precisions.append(rel[:r].sum() / r)
        average_precisions.append(sum(rel[:j + 1].sum() / (j + 1) for j in range(r) if rel[j]) / r)
    n = len(r_precisions)
    out = {f"recall@{k}": hits[k] / n for k in ks}
    out.update({"r_precision": float(np.mean(r_precisions)), "map@r": float(np.mean(average_precisions)),
                "n_queries": n, "n_skipped": skipped})
    return out


@lru_cache(maxsize=None)
def four_squares(r: int) -> tuple[int, int, int, int]:
    """Four non-negative integers whose squares sum to r (Lagrange: always possible)."""
    for a in range(math.isqrt(r), -1, -1):
        for b in range(math.isqrt(r - a * a), -1, -1):
            for c in range(math.isqrt(r - a * a - b * b), -1, -1):
                rest = r - a * a - b * b - c * c
                d = math.isqrt(rest)
                if d * d == rest:
                    return a, b, c, d
    raise AssertionError(r)


def exact_rows(rng, centres, labels, noise):
    """Integer rows of squared norm exactly 64**2 near their class centre: cosines are exact in float32."""
    v = centres[labels] + noise * rng.standard_normal((labels.shape[0], centres.shape[1]))
    v = np.rint(v * 56 / np.linalg.norm(v, axis=1, keepdims=True))
    rest = 64**2 - (v * v).sum(axis=1).astype(int)  # > 0: rounding moves the norm by at most sqrt(dim) / 2
    pad = np.array([four_squares(int(r)) for r in rest]) * rng.choice([-1, 1], size=(labels.shape[0], 4))
    rows = np.hstack([v, pad])
    return rows * 2.0 ** rng.integers(-3, 4, size=(rows.shape[0], 1))  # powers of two: exact, and not unit norm


def clustered(rng, sizes, dim=12, noise=0.9):
    """Exact clustered data with the given class sizes, items in random order."""
    labels = rng.permutation(np.repeat(np.arange(len(sizes)), sizes))
    centres = rng.standard_normal((len(sizes), dim))
    return exact_rows(rng, centres, labels, noise), labels


def assert_same(got: dict, want: dict) -> None:
    assert got.keys() == want.keys()
    for key, value in want.items():
        assert got[key] == pytest.approx(value, abs=1e-12), key


def test_test_data_has_exact_cosines():
    # The premise of the exact comparisons below: every cosine is a multiple of 1/4096, in float64 and float32.
    x, _ = clustered(np.random.default_rng(0), [20] * 10)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    scaled = (unit @ unit.T) * 4096
    np.testing.assert_array_equal(scaled, np.round(scaled))
    unit32 = unit.astype(np.float32)
    np.testing.assert_array_equal(unit32 @ unit32.T, (unit @ unit.T).astype(np.float32))


SIZE_CASES = {
    "uniform": [8] * 12,
    "singletons": [1, 1, 1, 5, 3, 2, 7, 1, 4, 9, 1, 6],
    "skewed": [40, 1, 2, 3, 2, 1, 25, 6, 1, 4],
    "two-classes": [30, 31],
    "many-small": [2] * 40 + [3] * 20 + [1] * 10,
}

# ----------------------------------------------------------------------------------------------------------------
# Against the reference
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("backend", ["faiss", "torch"])
@pytest.mark.parametrize("case", list(SIZE_CASES))
@pytest.mark.parametrize("ks", [(1, 2, 4, 8), (1, 3, 17, 40)])
def test_matches_reference_without_gallery(case, ks, backend):
    rng = np.random.default_rng([list(SIZE_CASES).index(case), ks[-1]])
    x, y = clustered(rng, SIZE_CASES[case])
    got = retrieval_metrics(x, y, ks, backend=backend, progress=False)
    assert_same(got, reference_metrics(x, y, ks))
    assert got["n_skipped"] == sum(s == 1 for s in SIZE_CASES[case])


@pytest.mark.parametrize("backend", ["faiss", "torch"])
@pytest.mark.parametrize("seed", range(4))
def test_matches_reference_with_gallery(seed, backend):
    rng = np.random.default_rng(100 + seed)
    n_classes = 15
    centres = rng.standard_normal((n_classes, 12))
    # Class 0 has one gallery item, class 1 none (its queries are skipped), the rest several.
    gallery_sizes = np.concatenate([[1, 0], rng.integers(1, 12, n_classes - 2)])
    gallery_labels = rng.permutation(np.repeat(np.arange(n_classes), gallery_sizes))
    labels = rng.integers(0, n_classes, 120)
    labels[:3] = [0, 1, 1]
    x = exact_rows(rng, centres, labels, 0.9)
    g = exact_rows(rng, centres, gallery_labels, 0.9)
    ks = (1, 2, 4, 8, int(g.shape[0]))
    got = retrieval_metrics(x, labels, ks, gallery=g, gallery_labels=gallery_labels, backend=backend,
                            progress=False)
    want = reference_metrics(x, labels, ks, g, gallery_labels)
    assert_same(got, want)
    assert got["n_skipped"] == np.count_nonzero(labels == 1) and got["recall@" + str(g.shape[0])] == 1.0


@pytest.mark.parametrize("backend", ["faiss", "torch"])
def test_heavy_ties_match_reference(backend):
    # +-1 vectors: cosines take 65 values only, so most neighbour lists end inside a run of ties.
    rng = np.random.default_rng(7)
    labels = rng.integers(0, 9, 250)
    centres = rng.choice([-1.0, 1.0], size=(9, 64))
    flips = np.where(rng.random((250, 64)) < 0.3, -1.0, 1.0)
    x = centres[labels] * flips
    for ks in [(1, 2, 4, 8), (1, 10, 100, 249)]:
        assert_same(retrieval_metrics(x, labels, ks, backend=backend, progress=False),
                    reference_metrics(x, labels, ks))


def test_huge_class_needs_more_neighbours_than_k():
    # R (199) is far above max K, and the whole set but one class: the search must reach the gallery size.
    rng = np.random.default_rng(3)
    x, y = clustered(rng, [200, 3, 1, 4, 2], noise=1.5)
    want = reference_metrics(x, y, (1, 2))
    assert_same(retrieval_metrics(x, y, (1, 2), progress=False), want)
    assert_same(retrieval_metrics(x, y, (1, 2), chunk_size=7, progress=False), want)


def test_chunking_does_not_change_results(monkeypatch):
    rng = np.random.default_rng(11)
    x, y = clustered(rng, SIZE_CASES["skewed"])
    base = retrieval_metrics(x, y, (1, 5, 20), progress=False)
    for chunk_size in (1, 2, 13, 10_000):
        assert retrieval_metrics(x, y, (1, 5, 20), chunk_size=chunk_size, progress=False) == base
    # A tiny memory budget: many chunks, each with its own k (queries grouped by R).
    monkeypatch.setattr(knn_module, "RESULT_BUDGET", 200)
    assert retrieval_metrics(x, y, (1, 5, 20), progress=False) == base
    assert retrieval_metrics(x, y, (1, 5, 20), backend="torch", progress=False) == base


def test_chunks_respect_memory_budget(monkeypatch):
    # Never an N x N search: every faiss call is limited to RESULT_BUDGET result elements (or one query row).
    calls = []
    real = knn_module.faiss.knn

    def spy(block, gallery, k, metric):
        calls.append((block.shape[0], k))
        return real(block, gallery, k, metric=metric)

    monkeypatch.setattr(knn_module.faiss, "knn", spy)
    monkeypatch.setattr(knn_module, "RESULT_BUDGET", 500)
    rng = np.random.default_rng(5)
    x, y = clustered(rng, [60, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5, 5])
    assert_same(retrieval_metrics(x, y, (1, 2, 4), progress=False), reference_metrics(x, y, (1, 2, 4)))
    assert len(calls) > 3
    assert all(rows * k <= 500 or rows == 1 for rows, k in calls)
    assert max(k for _, k in calls) >= 60 and min(k for _, k in calls) <= 10  # large k only for the large class


# ----------------------------------------------------------------------------------------------------------------
# Hand-made cases
# ----------------------------------------------------------------------------------------------------------------


def at_angles(degrees, radii=None):
    radians = np.deg2rad(np.asarray(degrees, np.float64))
    r = np.ones_like(radians) if radii is None else np.asarray(radii, np.float64)
    return np.stack([np.cos(radians), np.sin(radians)], axis=1) * r[:, None]


def test_hand_made_without_gallery():
    # Points at 0, 15, 35, 90, 110 degrees (lengths vary: only the angle counts), labels A B B A B.
    # Neighbours by angle: 0 -> 1 2 3 4 | 1 -> 0 2 3 4 | 2 -> 1 0 3 4 | 3 -> 4 2 1 0 | 4 -> 3 2 1 0
    # Relevance:          0: 0 0 1 0   | 1: 0 1 0 1   | 2: 1 0 0 1   | 3: 0 0 0 1   | 4: 0 1 1 0
    # R = 1 for class A (0, 3), 2 for class B (1, 2, 4).
    # Recall@1 = 1/5 (query 2); Recall@2 = 3/5 (1, 2, 4); Recall@4 = 5/5.
    # R-Precision: 0, 1/2, 1/2, 0, 1/2 -> 0.3.  MAP@R: 0, (1/2)/2, 1/2, 0, (1/2)/2 -> 1/5 = 0.2.
    x = at_angles([0, 15, 35, 90, 110], radii=[1, 3, 0.5, 2, 7])
    y = np.array([0, 1, 1, 0, 1])
    got = retrieval_metrics(x, y, (1, 2, 4), progress=False)
    assert got == pytest.approx({"recall@1": 0.2, "recall@2": 0.6, "recall@4": 1.0, "r_precision": 0.3,
                                 "map@r": 0.2, "n_queries": 5, "n_skipped": 0})


def test_hand_made_with_gallery():
    # Gallery at 0 (A), 40 (B), 80 (A), 200 (C, a class of one) degrees.
    # q0 at 30 (A, R=2): g1 g0 g2 g3 -> rel 0 1 1 0: R@1 0, R@2 1, RP 1/2, MAP (0 + 1/2)/2 = 1/4.
    # q1 at 70 (B, R=1): g2 g1 g0 g3 -> rel 0 1 0 0: R@1 0, R@2 1, RP 0, MAP 0.
    # q2 at 60 (D): no gallery item of its class -> skipped.
    # q3 at 190 (C, R=1): g3 g2 g1 g0 -> rel 1 0 0 0: R@1 1, RP 1, MAP 1.
    # Recall@1 = 1/3, Recall@2 = 1, RP = 1.5/3 = 0.5, MAP@R = 1.25/3.
    g, gl = at_angles([0, 40, 80, 200]), np.array([0, 1, 0, 2])
    x, y = at_angles([30, 70, 60, 190]), np.array([0, 1, 3, 2])
    got = retrieval_metrics(x, y, (1, 2), gallery=g, gallery_labels=gl, progress=False)
    assert got == pytest.approx({"recall@1": 1 / 3, "recall@2": 1.0, "r_precision": 0.5, "map@r": 1.25 / 3,
                                 "n_queries": 3, "n_skipped": 1})


@pytest.mark.parametrize("backend", ["faiss", "torch"])
def test_ties_broken_by_index_and_self_excluded_by_index(backend):
    # Items 0 1 2 are identical, 3 4 identical; labels A B A B A.
    # Ties go lowest index first and a query drops itself, not a twin:
    # 0 -> 1 2 3 4 rel 0 1 0 1 | 1 -> 0 2 3 4 rel 0 0 1 0 | 2 -> 0 1 3 4 rel 1 0 0 1
    # 3 -> 4 0 1 2 rel 0 0 1 0 | 4 -> 3 0 1 2 rel 0 1 0 1;   R = 2 (A), 1 (B).
    # Recall@1 = 1/5 (query 2), Recall@2 = 3/5 (0, 2, 4); RP = (1/2 + 0 + 1/2 + 0 + 1/2)/5 = 0.3;
    # MAP@R = (1/4 + 0 + 1/2 + 0 + 1/4)/5 = 0.2. (Highest-index-first would give query 0 a hit at 1.)
    x = np.array([[1.0, 0], [1, 0], [1, 0], [0, 1], [0, 1]])
    y = np.array([0, 1, 0, 1, 0])
    got = retrieval_metrics(x, y, (1, 2), backend=backend, progress=False)
    assert got == pytest.approx({"recall@1": 0.2, "recall@2": 0.6, "r_precision": 0.3, "map@r": 0.2,
                                 "n_queries": 5, "n_skipped": 0})
    _, idx = nearest_neighbours(x, 4, backend=backend)
    np.testing.assert_array_equal(idx, [[1, 2, 3, 4], [0, 2, 3, 4], [0, 1, 3, 4], [4, 0, 1, 2], [3, 0, 1, 2]])


@pytest.mark.parametrize("backend", ["faiss", "torch"])
@pytest.mark.parametrize("n, chunk_size", [(40, 16), (400, 200)])  # faiss's per-query and BLAS kernels
def test_ties_across_the_kth_neighbour(n, chunk_size, backend):
    # All rows identical (1024 ones: every cosine is exactly 1), so every neighbour ties with every other and the
    # backend's own top-k may keep any of them.
    x = np.ones((n, 1024), np.float32)
    for k in (1, 5, 33):
        _, idx = nearest_neighbours(x, k, backend=backend, chunk_size=chunk_size)
        for i in (0, 1, k, n - 1):
            np.testing.assert_array_equal(idx[i], [j for j in range(n) if j != i][:k])
        _, idx = nearest_neighbours(x[:3], k, gallery=x, backend=backend)
        np.testing.assert_array_equal(idx, np.tile(np.arange(k), (3, 1)))


def test_drop_self_removes_the_query_index_wherever_it_is():
    sims = np.array([[0.9, 0.8, 0.7, 0.6]] * 3, np.float32)
    idx = np.array([[3, 7, 5, 1]] * 3)
    got_sims, got_idx = knn_module._drop_self(sims, idx, np.array([3, 7, 9]))  # first, inside, absent
    np.testing.assert_array_equal(got_idx, [[7, 5, 1], [3, 5, 1], [3, 7, 5]])
    np.testing.assert_array_equal(got_sims, np.array([[0.8, 0.7, 0.6], [0.9, 0.7, 0.6], [0.9, 0.8, 0.7]], np.float32))


def test_order_ties_sorts_rows_by_similarity_then_index():
    sims = np.array([[0.9, 0.5, 0.5, 0.5, 0.1], [0.5, 0.9, 0.9, 0.1, 0.1], [0.9, 0.8, 0.7, 0.6, 0.5]], np.float32)
    idx = np.array([[3, 8, 1, 5, 0], [4, 7, 2, 9, 6], [4, 3, 2, 1, 0]])
    knn_module._order_ties(sims, idx)  # tied runs; an unsorted row; a row left as it is
    np.testing.assert_array_equal(idx, [[3, 1, 5, 8, 0], [2, 7, 4, 6, 9], [4, 3, 2, 1, 0]])
    np.testing.assert_array_equal(sims, np.array([[0.9, 0.5, 0.5, 0.5, 0.1], [0.9, 0.9, 0.5, 0.1, 0.1],
                                                  [0.9, 0.8, 0.7, 0.6, 0.5]], np.float32))


def test_nearest_neighbours_match_reference_order():
    rng = np.random.default_rng(2)
    x, _ = clustered(rng, [10] * 10)
    unit = x / np.linalg.norm(x, axis=1, keepdims=True)
    sims = unit @ unit.T
    got_sims, got_idx = nearest_neighbours(x, 9, chunk_size=17)
    for i in range(x.shape[0]):
        order = np.lexsort((np.arange(x.shape[0]), -sims[i]))
        order = order[order != i][:9]
        np.testing.assert_array_equal(got_idx[i], order)
        np.testing.assert_array_equal(got_sims[i], sims[i, order].astype(np.float32))


# ----------------------------------------------------------------------------------------------------------------
# Inputs, presets, devices
# ----------------------------------------------------------------------------------------------------------------


def test_accepts_torch_tensors_and_other_dtypes():
    rng = np.random.default_rng(4)
    x, y = clustered(rng, [6] * 8)
    want = retrieval_metrics(x, y, progress=False)
    assert retrieval_metrics(torch.from_numpy(x).float(), torch.from_numpy(y), progress=False) == want
    assert retrieval_metrics(x.astype(np.float32), y.astype(np.int32), progress=False) == want
    assert retrieval_metrics(torch.from_numpy(x), torch.from_numpy(y), backend="torch", progress=False) == want
    assert retrieval_metrics((x * 8).astype(np.int64), y, progress=False) == want  # rows are integers * 2**-3


def test_extreme_magnitudes_are_normalised_not_overflowed():
    rng = np.random.default_rng(9)
    x, y = clustered(rng, [5] * 6)
    want = retrieval_metrics(x, y, progress=False)
    for scale in (2.0**100, 2.0**-120, 2.0**200):  # squares overflow / underflow float32; beyond float32
        scaled = x * scale
        assert retrieval_metrics(scaled, y, progress=False) == want
        assert retrieval_metrics(torch.from_numpy(scaled), y, backend="torch", progress=False) == want


def test_presets():
    assert K_PRESETS["cub200"] == K_PRESETS["cars196"] == (1, 2, 4, 8)
    assert K_PRESETS["sop"] == (1, 10, 100, 1000)
    assert K_PRESETS["inshop"] == (1, 10, 20, 30, 40, 50)
    assert resolve_ks("sop") == (1, 10, 100, 1000)
    assert resolve_ks([8, 1, 4, 1]) == (1, 4, 8) and resolve_ks(5) == (5,)
    rng = np.random.default_rng(6)
    x, y = clustered(rng, [10] * 6)
    named = retrieval_metrics(x, y, "cub200", progress=False)
    assert list(named)[:4] == ["recall@1", "recall@2", "recall@4", "recall@8"]
    assert named == retrieval_metrics(x, y, (1, 2, 4, 8), progress=False)
    x_big, y_big = clustered(rng, [6] * 200)
    want = reference_metrics(x_big, y_big, K_PRESETS["sop"])
    assert_same(retrieval_metrics(x_big, y_big, "sop", progress=False), want)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device (torch.cuda.is_available() is False)")
def test_cuda_tensors_use_torch_and_match_cpu():
    rng = np.random.default_rng(8)
    x, y = clustered(rng, SIZE_CASES["singletons"])
    g, gl = clustered(rng, [5] * 12)
    want = retrieval_metrics(x, y, (1, 2, 4), progress=False)
    assert retrieval_metrics(torch.from_numpy(x).cuda(), torch.from_numpy(y).cuda(), (1, 2, 4),
                             progress=False) == want
    want = retrieval_metrics(x, y, (1, 2, 4), gallery=g, gallery_labels=gl, progress=False)
    assert retrieval_metrics(torch.from_numpy(x).cuda(), y, (1, 2, 4), gallery=torch.from_numpy(g).cuda(),
                             gallery_labels=gl, progress=False) == want
    x_tie = torch.ones(300, 64, device="cuda")
    np.testing.assert_array_equal(nearest_neighbours(x_tie, 5)[1][7], [0, 1, 2, 3, 4])


GOOD_X = np.eye(4)[[0, 0, 1, 1, 2, 3]] + 0.1
GOOD_Y = np.array([0, 0, 1, 1, 2, 2])


@pytest.mark.parametrize("args, kwargs, match", [
    ((GOOD_X, GOOD_Y[:5]), {}, "labels"),
    ((GOOD_X[:, 0], GOOD_Y), {}, "2-D"),
    ((GOOD_X[None], GOOD_Y), {}, "2-D"),
    ((np.where(np.arange(24).reshape(6, 4) == 5, np.nan, GOOD_X), GOOD_Y), {}, "NaN"),
    ((np.where(np.arange(24).reshape(6, 4) == 5, np.inf, GOOD_X), GOOD_Y), {}, "inf"),
    ((np.where(np.arange(6)[:, None] == 2, 0.0, GOOD_X), GOOD_Y), {}, "row 2 is all zeros"),
    ((np.zeros((0, 4)), np.zeros(0, int)), {}, "empty"),
    ((np.zeros((6, 0)), GOOD_Y), {}, "empty"),
    ((GOOD_X.astype(complex), GOOD_Y), {}, "real"),
    ((GOOD_X, GOOD_Y.astype(float)), {}, "integers"),
    ((GOOD_X, GOOD_Y[:, None]), {}, "labels"),
    ((GOOD_X, np.zeros(6, int)), {}, "two classes"),
    ((GOOD_X, np.arange(6), (1, 2)), {}, "every query would be skipped"),
    ((GOOD_X, GOOD_Y, (1, 6)), {}, "at most"),
    ((GOOD_X, GOOD_Y, (0, 1)), {}, "K"),
    ((GOOD_X, GOOD_Y, (-1,)), {}, "K"),
    ((GOOD_X, GOOD_Y, (1.5,)), {}, "K"),
    ((GOOD_X, GOOD_Y, (True,)), {}, "K"),
    ((GOOD_X, GOOD_Y, ()), {}, "ks"),
    ((GOOD_X, GOOD_Y, "cub"), {}, "presets"),
    ((GOOD_X, GOOD_Y), {"gallery": GOOD_X}, "together"),
    ((GOOD_X, GOOD_Y), {"gallery_labels": GOOD_Y}, "together"),
    ((GOOD_X, GOOD_Y), {"gallery": GOOD_X[:, :3], "gallery_labels": GOOD_Y}, "dimension"),
    ((GOOD_X, GOOD_Y, (1, 7)), {"gallery": GOOD_X, "gallery_labels": GOOD_Y}, "at most"),
    ((GOOD_X, GOOD_Y), {"gallery": GOOD_X, "gallery_labels": GOOD_Y[:4]}, "gallery_labels"),
    ((GOOD_X, GOOD_Y), {"gallery": GOOD_X, "gallery_labels": np.ones(6, int)}, "two classes"),
    ((GOOD_X, GOOD_Y), {"gallery": np.full((6, 4), np.nan), "gallery_labels": GOOD_Y}, "gallery contains NaN"),
    ((GOOD_X, GOOD_Y), {"chunk_size": 0}, "chunk_size"),
    ((GOOD_X, GOOD_Y), {"backend": "gpu"}, "backend"),
])
def test_bad_input_raises(args, kwargs, match):
    with pytest.raises(ValueError, match=match):
        retrieval_metrics(*args, progress=False, **kwargs)


@pytest.mark.parametrize("backend", ["faiss", "torch"])
def test_bad_tensor_input_raises(backend):
    x = torch.from_numpy(GOOD_X).float()
    with pytest.raises(ValueError, match="NaN"):
        retrieval_metrics(torch.where(x > 1, torch.nan, x), GOOD_Y, backend=backend)
    with pytest.raises(ValueError, match="row 3 is all zeros"):
        retrieval_metrics(x * (torch.arange(6) != 3)[:, None], GOOD_Y, backend=backend)
    with pytest.raises(ValueError, match="2-D"):
        retrieval_metrics(x[0], GOOD_Y, backend=backend)
    with pytest.raises(ValueError, match="labels"):
        retrieval_metrics(x, torch.zeros(5, dtype=torch.long), backend=backend)


def test_nearest_neighbours_bad_input():
    with pytest.raises(ValueError, match="k must be at most 5"):
        nearest_neighbours(GOOD_X, 6)
    with pytest.raises(ValueError, match="k must be"):
        nearest_neighbours(GOOD_X, 0)
    with pytest.raises(ValueError, match="dimension"):
        nearest_neighbours(GOOD_X, 1, gallery=GOOD_X[:, :2])


# ----------------------------------------------------------------------------------------------------------------
# NMI
# ----------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("seed", range(5))
def test_nmi_score_matches_sklearn(seed):
    rng = np.random.default_rng(seed)
    n = int(rng.integers(5, 300))
    truth = rng.integers(0, int(rng.integers(2, 30)), n) * 7 - 3  # arbitrary label values
    pred = np.where(rng.random(n) < 0.6, truth, rng.integers(0, 20, n))
    assert nmi_score(truth, pred) == pytest.approx(normalized_mutual_info_score(truth, pred), abs=1e-12)
    assert nmi_score(truth, np.zeros(n, int)) == pytest.approx(normalized_mutual_info_score(truth, np.zeros(n, int)))
    assert nmi_score(truth, truth * 5 + 1) == pytest.approx(1.0)  # renaming clusters changes nothing


def test_nmi_equals_sklearn_on_the_same_assignment():
    rng = np.random.default_rng(12)
    x, y = clustered(rng, [12] * 10, noise=1.2)
    assignment = kmeans_assignments(x, 10, seed=3)
    value = nmi(x, y, seed=3)
    assert value == pytest.approx(normalized_mutual_info_score(y, assignment), abs=1e-12)
    assert 0.3 < value < 1.0  # noisy clusters: informative but not perfect
    assert nmi(torch.from_numpy(x), torch.from_numpy(y), seed=3) == value  # deterministic, tensors accepted
    assert nmi(x, y, seed=3, init="random") == pytest.approx(
        normalized_mutual_info_score(y, kmeans_assignments(x, 10, seed=3, init="random")), abs=1e-12)


def test_nmi_is_one_on_separated_clusters():
    rng = np.random.default_rng(13)
    centres = rng.standard_normal((15, 32))
    y = rng.permutation(np.repeat(np.arange(15), 9))
    x = centres[y] + 1e-3 * rng.standard_normal((y.shape[0], 32))
    assert nmi(x, y) == pytest.approx(1.0)
    assert nmi(x, rng.permutation(y)) < 0.5  # labels unrelated to the clusters


def test_nmi_bad_input():
    with pytest.raises(ValueError, match="two classes"):
        nmi(GOOD_X, np.zeros(6, int))
    with pytest.raises(ValueError, match="labels"):
        nmi(GOOD_X, GOOD_Y[:4])
    with pytest.raises(ValueError, match="NaN"):
        nmi(np.full((6, 4), np.nan), GOOD_Y)
    with pytest.raises(ValueError, match="init"):
        nmi(GOOD_X, GOOD_Y, init="kmeans")
    with pytest.raises(ValueError, match="n_clusters"):
        kmeans_assignments(GOOD_X, 7)
