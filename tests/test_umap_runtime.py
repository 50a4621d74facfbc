"""How psviz runs umap: its numba code cached on disk across processes, and its small-data distances compiled, with
the same results as umap alone."""

import os
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def umap():
    from psviz.analysis.projection.runtime import import_umap

    return import_umap()


def test_compiled_distances_equal_scikit_learns_bit_for_bit(umap):
    from sklearn.metrics import pairwise_distances
    from umap.distances import euclidean

    from psviz.analysis.projection import kernels

    rng = np.random.default_rng(0)
    for rows, columns, dim in ((37, 23, 64), (5, 90, 3), (120, 1, 17)):
        x = rng.normal(size=(rows, dim)).astype(np.float32)
        y = (rng.normal(size=(columns, dim)) * 3).astype(np.float32)
        expected = pairwise_distances(x, y, metric=euclidean)
        got = kernels.pairwise(x, y)
        assert got.dtype == expected.dtype == np.float32 and np.array_equal(got, expected)
        assert np.array_equal(kernels.pairwise(x, None), pairwise_distances(x, metric=euclidean))


def _maps(umap, fit_rows, placed_rows):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reducer = umap.UMAP(n_neighbors=10, random_state=0).fit(fit_rows)
        return reducer.embedding_.copy(), reducer.transform(placed_rows)


def test_umap_within_fast_distances_gives_the_same_maps(umap):
    from psviz.analysis.projection.runtime import fast_distances
    from sklearn.metrics import pairwise_distances

    rng = np.random.default_rng(1)
    fit_rows = rng.normal(size=(300, 16)).astype(np.float32)
    placed_rows = rng.normal(size=(80, 16)).astype(np.float32)
    plain = _maps(umap, fit_rows, placed_rows)
    with fast_distances():
        assert umap.umap_.pairwise_distances is not pairwise_distances
        fast = _maps(umap, fit_rows, placed_rows)
        other = np.ones((3, 2))  # float64, another metric: scikit-learn's own path, as before
        assert np.array_equal(umap.umap_.pairwise_distances(other, metric="manhattan"),
                              pairwise_distances(other, metric="manhattan"))
    assert np.array_equal(plain[0], fast[0]) and np.array_equal(plain[1], fast[1])
    assert umap.umap_.pairwise_distances is pairwise_distances  # put back after the block
    with pytest.raises(RuntimeError), fast_distances():
        raise RuntimeError("inside")
    assert umap.umap_.pairwise_distances is pairwise_distances


CHECK_CACHE = """
import numpy as np, warnings
from psviz.analysis.projection.runtime import import_umap
umap = import_umap()
warnings.simplefilter("ignore")
print(type(umap.umap_.smooth_knn_dist._cache).__name__)
if FIT:
    print(umap.UMAP(n_neighbors=5, random_state=0).fit_transform(np.random.default_rng(0).normal(size=(60, 4)).astype(np.float32)).tobytes().hex())
"""


def _run(env: dict, fit: bool = True) -> list[str]:
    done = subprocess.run([sys.executable, "-c", f"FIT = {fit}\n{CHECK_CACHE}"], cwd=ROOT, env={**os.environ, **env},
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return done.stdout.split()


@pytest.mark.slow
def test_umap_code_is_cached_on_disk_for_the_next_process_unless_turned_off(tmp_path):
    cache = tmp_path / "numba"
    first = _run({"NUMBA_CACHE_DIR": str(cache), "PSVIZ_NUMBA_CACHE": "1"})
    stored = {p.name for p in cache.rglob("*.nbi")}
    assert first[0] == "FunctionCache" and any(name.startswith("umap_") for name in stored), stored
    second = _run({"NUMBA_CACHE_DIR": str(cache), "PSVIZ_NUMBA_CACHE": "1"})  # loads what the first compiled
    assert second == first
    assert _run({"PSVIZ_NUMBA_CACHE": "0"}, fit=False) == ["NullCache"]
