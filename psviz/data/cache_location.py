"""Where psviz keeps data it builds once (e.g. the glyphs dataset): $PSVIZ_CACHE, else $XDG_CACHE_HOME/psviz."""

from __future__ import annotations

import os
from pathlib import Path


def cache_dir() -> Path:
    """The psviz cache folder, created if missing."""
    root = os.environ.get("PSVIZ_CACHE")
    if root:
        path = Path(root)
    else:
        path = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "psviz"
    path.mkdir(parents=True, exist_ok=True)
    return path
