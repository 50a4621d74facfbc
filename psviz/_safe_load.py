"""One safe way to read .pt/.pth files: torch.load(weights_only=True), so a file can never run code."""

from __future__ import annotations

from pathlib import Path

import torch


def safe_torch_load(path: str | Path, what: str):
    """The contents of ``path`` (tensors and plain data only, on the CPU); ``what`` names the file in errors."""
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} {path} does not exist")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        raise ValueError(f"cannot load {what} {path} safely (only tensors and plain data are read): {error}") from error
