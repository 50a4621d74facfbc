"""Files read and written safely: writes are atomic, and .pt/.pth files are read without running code.

`atomic_write` writes a temporary file beside the target and renames it over the target, so a killed writer leaves
the old file or none, never half of one. `safe_torch_load` reads with torch.load(weights_only=True). Its errors say what is wrong in a line: a damaged file (a zip archive, torch's format, that is cut short or fails its
checksums) raises `DamagedFile`; a file torch refuses gets torch's reason without its advice to load with
``weights_only=False``, which would let the file run code.
"""

from __future__ import annotations

import errno
import os
import pickle
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import IO

import torch

__all__ = ["DamagedFile", "atomic_write", "atomic_write_text", "safe_torch_load", "zip_damage"]

# Every zip archive torch writes starts with a local file header.
ZIP_MAGIC = b"PK\x03\x04"
# How torch reports bytes it cannot read: a zip archive its reader rejects (after zipfile found no damage), a file
# in its legacy format that ends early.
_DAMAGE_SIGNS = ("PytorchStreamReader failed reading zip archive", "unexpected EOF")
# Lines of torch's weights_only error that advise loading unsafely or allowlisting globals: never repeated.
_TORCH_ADVICE = ("weights_only", "Weights only load failed", "documentation of torch.load", "trust")


def atomic_write(path: str | Path, write: Callable[[IO[bytes]], None], *, sync: bool = False) -> Path:
    """Call ``write(file)`` on a temporary file in ``path``'s folder, then rename it over ``path``.

    ``sync`` flushes it to disk before the rename (for checkpoints, whose loss would cost a run). The file gets the
    usual permissions (0o644 less the umask), not mkstemp's private ones.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as file:
            write(file)
            if sync:
                file.flush()
                os.fsync(file.fileno())
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)
        _replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    return path


def _replace(temporary: str, path: Path) -> None:
    """Rename ``temporary`` over ``path``; a folder at ``path`` is an error that names it (os.replace's names the
    temporary file, which is then deleted)."""
    try:
        os.replace(temporary, path)
    except OSError as error:
        if path.is_dir():
            raise IsADirectoryError(errno.EISDIR, "a folder is in the way of the file to write; move or delete the "
                                                  "folder", str(path)) from None
        if error.errno is None:
            raise
        raise OSError(error.errno, error.strerror, str(path)) from error


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically (see `atomic_write`)."""
    return atomic_write(path, lambda file: file.write(text.encode("utf-8")))


class DamagedFile(ValueError):
    """A file whose bytes are cut short or corrupted: no loader can read it, whatever it trusts."""


def zip_damage(path: str | Path) -> str | None:
    """Why ``path``, a zip archive, cannot be read whole; None when it can, or when it is no zip at all.

    torch reads a truncated archive with an obscure error and a corrupted tensor without one, so checksums are
    checked first. A file that neither starts nor ends like a zip is left to torch (its legacy format, a pickle).
    """
    path = Path(path)
    with path.open("rb") as file:
        head = file.read(len(ZIP_MAGIC))
    if not head:
        return "the file is empty"
    try:
        if not zipfile.is_zipfile(path):
            return "the zip archive has no directory at its end" if head == ZIP_MAGIC else None
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except Exception as error:  # garbled headers raise BadZipFile, NotImplementedError, OSError, zlib.error...
        return f"the zip archive cannot be read: {error}"
    return None if bad is None else f"{bad} fails its CRC check"


def _short_reason(error: Exception) -> str:
    """torch's own cause of ``error`` in one sentence, without its advice (e.g. to load with weights_only=False)."""
    text = str(error).replace("\x1b[1m", "").replace("\x1b[0m", "").split("WeightsUnpickler error:")[-1]
    for line in text.splitlines():
        line = line.split(". ")[0].strip().rstrip(".")
        if line and not any(words in line for words in _TORCH_ADVICE):
            return f"{type(error).__name__}: {line}"
    return type(error).__name__


def _is_damage(error: Exception) -> bool:
    """Whether torch failed because the bytes are cut short or garbled (not because it refused what they hold)."""
    return isinstance(error, EOFError) or any(sign in str(error) for sign in _DAMAGE_SIGNS)


def safe_torch_load(path: str | Path, what: str):
    """The contents of ``path`` (tensors and plain data only, on the CPU); ``what`` names the file in errors.

    Raises `DamagedFile` (a ValueError) for a truncated or corrupted file, ValueError for one that is missing, would
    need code to load, or is no torch file.
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{what} {path} does not exist")
    damage = zip_damage(path)
    if damage:
        raise DamagedFile(f"{what} {path} is damaged (truncated or corrupted: {damage})")
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except Exception as error:
        reason = _short_reason(error)
        if _is_damage(error):
            raise DamagedFile(f"{what} {path} is damaged (truncated or corrupted: {reason})") from error
        if isinstance(error, pickle.UnpicklingError) and "Weights only load failed" in str(error):
            # from None: torch's own message, shown with a traceback, would advise weights_only=False
            raise ValueError(f"cannot load {what} {path} safely: it holds objects other than tensors and plain data, "
                             f"which could run code when read ({reason}); save only tensors and plain data "
                             f"(e.g. a state_dict), and do not load files from untrusted sources") from None
        raise ValueError(f"cannot load {what} {path}: it is not a torch file, or it is damaged ({reason})") from error
