"""How psviz runs umap-learn: its compiled code cached on disk, and its small-data distances in compiled code.

umap-learn 0.5 compiles its numba functions afresh in every process (its decorators do not ask for ``cache=True``),
which costs a new process 10-20 s before its first map on 2 cores. Importing umap through `import_umap` makes
those decorators cache their machine code on disk (numba's own cache: beside umap's sources, else the user-wide
numba cache, or ``NUMBA_CACHE_DIR``), so a later process (the next ``psviz demo``, a new notebook kernel) loads it
instead. The code and its results are the same; numba recompiles by itself when umap's sources change.
Set ``PSVIZ_NUMBA_CACHE=0`` to import umap untouched.

`fast_distances` is the other half: within it, umap's small-data path measures its pairs in compiled code
(`psviz.analysis.projection.kernels`) instead of one Python call per pair, with the same values.
"""

from __future__ import annotations

import functools
import os
import sys
import threading
from contextlib import contextmanager

import numpy as np

OPT_OUT = "PSVIZ_NUMBA_CACHE"
_LOCK = threading.Lock()


def numba_cache_enabled() -> bool:
    """False when ``PSVIZ_NUMBA_CACHE`` is 0, false, no or off."""
    return os.environ.get(OPT_OUT, "1").strip().lower() not in ("0", "false", "no", "off")


def _caching(decorator):
    """``decorator`` (numba.njit or numba.jit) with ``cache=True`` unless the caller chose otherwise."""

    @functools.wraps(decorator)
    def with_cache(*args, **options):
        options.setdefault("cache", True)
        return decorator(*args, **options)

    return with_cache


def import_umap():
    """The umap module; on its first import in this process its numba functions are set to cache on disk."""
    if "umap" in sys.modules or not numba_cache_enabled():
        import umap

        return umap
    import numba

    with _LOCK:
        plain = numba.njit, numba.jit
        numba.njit, numba.jit = _caching(numba.njit), _caching(numba.jit)
        try:
            import umap
        finally:
            numba.njit, numba.jit = plain
    return umap


def _compiled_when_euclidean(plain, euclidean, kernels):
    """scikit-learn's `pairwise_distances` (``plain``), except for umap's euclidean on 2-D float32 arrays."""

    @functools.wraps(plain)
    def pairwise_distances(X, Y=None, metric="euclidean", **options):
        arrays = [X] if Y is None else [X, Y]
        if metric is euclidean and not options and all(
                isinstance(a, np.ndarray) and a.ndim == 2 and a.dtype == np.float32 for a in arrays):
            return kernels.pairwise(X, Y)
        return plain(X, Y, metric=metric, **options)

    return pairwise_distances


@contextmanager
def fast_distances():
    """Within this block, umap's small-data fit and transform take their distances from `kernels`."""
    umap = import_umap()
    from umap import distances

    from . import kernels

    module = umap.umap_
    with _LOCK:
        plain = module.pairwise_distances
        module.pairwise_distances = _compiled_when_euclidean(plain, distances.euclidean, kernels)
    try:
        yield umap
    finally:
        module.pairwise_distances = plain


__all__ = ["OPT_OUT", "fast_distances", "import_umap", "numba_cache_enabled"]
