"""Turn user inputs (numpy arrays or torch tensors) into checked unit-norm float32 rows and integer labels.

Every problem is a ``ValueError`` naming the argument, so that bad input never turns into a wrong metric.
"""

from __future__ import annotations

import numpy as np
import torch


# Rows whose squared norm falls outside [2**-100, inf) in float32 lose precision (underflow) or overflow; they are
# rescaled by a power of two, which is exact, before normalising.
_TINY_SQUARED_NORM = 2.0**-100


def is_cuda(x) -> bool:
    """True when ``x`` is a torch tensor on a CUDA device."""
    return isinstance(x, torch.Tensor) and x.is_cuda


def _check_matrix_shape(shape, dtype_ok: bool, dtype, name: str) -> None:
    if len(shape) != 2:
        raise ValueError(f"{name} must be 2-D (items x dimensions), got shape {tuple(shape)}")
    if shape[0] == 0 or shape[1] == 0:
        raise ValueError(f"{name} must not be empty, got shape {tuple(shape)}")
    if not dtype_ok:
        raise ValueError(f"{name} must hold real numbers, got dtype {dtype}")


def _rescue_rows(rows: np.ndarray, where: np.ndarray, name: str) -> np.ndarray:
    """float32 copies of rows whose float32 squared norm overflowed or underflowed, scaled by an exact power of two.

    Raises ValueError for a row holding NaN/inf or only zeros (``where`` gives their row numbers for the message).
    """
    rows = np.asarray(rows, np.float64)
    finite = np.isfinite(rows)
    peak = np.abs(np.where(finite, rows, 0)).max(axis=1)
    broken = np.flatnonzero(~finite.all(axis=1) | (peak == 0))
    if broken.size:
        i = broken[0]
        if not finite[i].all():
            raise ValueError(f"{name} contains NaN or inf (row {where[i]})")
        raise ValueError(f"{name} row {where[i]} is all zeros: its cosine similarity is undefined")
    return (rows * np.ldexp(1.0, -np.frexp(peak)[1])[:, None]).astype(np.float32)


def unit_rows_numpy(x, name: str) -> np.ndarray:
    """A new C-contiguous float32 array holding the rows of ``x`` divided by their L2 norms."""
    if isinstance(x, torch.Tensor):
        x = x.detach().cpu()
        x = (x.float() if x.dtype in (torch.bfloat16, torch.float16) else x).numpy()
    a = np.asarray(x)
    _check_matrix_shape(a.shape, a.dtype.kind in "fiu", a.dtype, name)
    with np.errstate(over="ignore", invalid="ignore"):  # out-of-range rows are found and rescued below
        out = np.array(a, dtype=np.float32, order="C")
        squared = np.einsum("ij,ij->i", out, out)
    bad = np.flatnonzero(~(squared >= _TINY_SQUARED_NORM) | ~np.isfinite(squared))  # NaN fails the first test
    if bad.size:
        out[bad] = rescued = _rescue_rows(a[bad], bad, name)
        squared[bad] = np.einsum("ij,ij->i", rescued, rescued)
    out /= np.sqrt(squared)[:, None]
    return out


def unit_rows_torch(x, name: str, device: torch.device) -> torch.Tensor:
    """A new contiguous float32 tensor on ``device`` holding the rows of ``x`` divided by their L2 norms."""
    if isinstance(x, torch.Tensor):
        x = x.detach()
        _check_matrix_shape(x.shape, not (x.is_complex() or x.dtype == torch.bool), x.dtype, name)
        t = x.to(device=device, dtype=torch.float32, copy=True).contiguous()
    else:
        x = np.asarray(x)
        _check_matrix_shape(x.shape, x.dtype.kind in "fiu", x.dtype, name)
        t = torch.tensor(x, dtype=torch.float32, device=device)
    squared = (t * t).sum(dim=1)
    bad = torch.nonzero(~(squared >= _TINY_SQUARED_NORM) | ~torch.isfinite(squared)).flatten()
    if bad.numel():
        where = bad.cpu().numpy()
        rows = x[where] if isinstance(x, np.ndarray) else x[bad.to(x.device)].double().cpu().numpy()
        rescued = torch.from_numpy(_rescue_rows(rows, where, name)).to(device)
        t[bad] = rescued
        squared[bad] = (rescued * rescued).sum(dim=1)
    t /= squared.sqrt()[:, None]
    return t


def as_labels(y, n: int | None, name: str) -> np.ndarray:
    """``y`` as a 1-D integer numpy array, of length ``n`` (one label per embedding) unless ``n`` is None."""
    if isinstance(y, torch.Tensor):
        y = y.detach().cpu().numpy()
    a = np.asarray(y)
    if a.ndim != 1 or (n is not None and a.shape[0] != n):
        want = f"({n},) (one label per embedding row)" if n is not None else "(n,)"
        raise ValueError(f"{name} must have shape {want}, got {a.shape}")
    if a.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integers, got dtype {a.dtype}")
    return a


__all__ = ["as_labels", "is_cuda", "unit_rows_numpy", "unit_rows_torch"]
