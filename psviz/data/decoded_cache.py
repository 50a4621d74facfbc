"""Image files decoded once and cached as uint8 at the resize size, so training stops paying for JPEG decoding.

Why: on a CPU worker, PIL's decode of a 500x375 JPEG and the resize of the full image cost most of an item's time
(`benchmarks/bench_loader.py`). Here every image of a split is decoded once, resized so that its shorter side is
``resize`` (256 for 224-pixel crops) with the same torchvision kernel the plain path's `v2.Resize` uses, and stored
as [3, h, w] uint8 in one ragged buffer: ``<key>.pixels.npy`` (flat, memory-mapped when read) and
``<key>.index.npy`` ([N, 3]: offset, height, width). CUB takes about 3 GB at 256, CARS196 about 5 GB.

What it changes: the evaluation transform gives the same tensors as the plain path to the bit (its Resize finds
the short side already at ``resize`` and does nothing, and CenterCrop only slices). The training transform's
RandomResizedCrop cuts from the 256-pixel image instead of the original one, so its pixels differ a little: that is
why a run's config names the cache (`TrainConfig.image_cache`) and it is part of the run's identity.

The key hashes the format version, ``resize``, ``draft``, the Pillow and torchvision versions (their decoders and
kernels make the pixels) and every file's path, size and mtime_ns, in order: a changed, added or removed file gives
a new key and a new cache. Both files are written with `atomic_write`, the index last, and a cache is used only
when both exist and agree with each other and with the split, so an interrupted build is never read. One process
builds a given cache at a time (a lock file beside it, `cache_lock.build_once`); the others, torchrun's other ranks
say, wait and then read it.
"""

from __future__ import annotations

import hashlib
import os
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import Tensor

from ..base.checks import check_int
from ..base.files import atomic_write
from .base import ImageFileSplit, MetricDataset
from .cache_location import cache_dir
from .cache_lock import build_once

FORMAT_VERSION = 1  # bump when the stored layout or the decode recipe changes
SUBFOLDER = "decoded"  # under cache_dir()


def resized_size(height: int, width: int, resize: int) -> tuple[int, int]:
    """(height, width) after `v2.Resize(resize)`: the shorter side becomes ``resize``, the longer one keeps the
    aspect ratio, rounded down (torchvision's rule)."""
    short, long = (width, height) if width <= height else (height, width)
    new_long = int(resize * long / short)
    return (new_long, resize) if width <= height else (resize, new_long)


def _open(path: Path, resize: int, draft: bool):
    """The image at ``path`` opened lazily; with ``draft`` JPEG decoding is set to shrink by 1/2, 1/4 or 1/8 as far
    as the shorter side stays >= ``resize`` (faster, pixels a little different from a full decode)."""
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(path)
        if draft:
            height, width = resized_size(image.height, image.width, resize)
            image.draft("RGB", (width, height))
        return image
    except (OSError, UnidentifiedImageError) as error:
        raise ValueError(f"cannot read image {path}: {error}") from error


def decode_resized(path: str | Path, resize: int, draft: bool = False) -> Tensor:
    """The image at ``path`` as uint8 [3, h, w], RGB, its shorter side ``resize``: PIL's decode, then torchvision's
    `v2.functional.resize` (bilinear, antialiased) on the uint8 tensor, as `image_transform`'s Resize does it."""
    from PIL import UnidentifiedImageError
    from torchvision.transforms.v2 import functional as F

    path = Path(path)
    resize = check_int(resize, "resize")
    try:
        with _open(path, resize, draft) as image:
            tensor = F.to_image(image.convert("RGB"))
    except (OSError, UnidentifiedImageError) as error:
        raise ValueError(f"cannot read image {path}: {error}") from error
    return F.resize(tensor.as_subclass(Tensor), [resize], antialias=True).contiguous()


def decoded_size(path: str | Path, resize: int, draft: bool = False) -> tuple[int, int]:
    """(height, width) that `decode_resized` gives for ``path``, read from the file's header only."""
    path = Path(path)
    with _open(path, resize, draft) as image:
        return resized_size(image.height, image.width, resize)


def cache_key(paths: Sequence[str | Path], resize: int, draft: bool = False) -> str:
    """A hash of what the cache's pixels depend on: the files (path, size, mtime_ns, in order), ``resize``,
    ``draft``, the format version and the Pillow and torchvision versions. A missing file is a ValueError."""
    import PIL
    import torchvision

    resize = check_int(resize, "resize")
    digest = hashlib.sha256(f"psviz-decoded v{FORMAT_VERSION} resize={resize} draft={bool(draft)} "
                            f"pillow={PIL.__version__} torchvision={torchvision.__version__}\n".encode())
    for path in paths:
        try:
            stat = os.stat(path)
        except OSError as error:
            raise ValueError(f"cannot read image {path}: {error.strerror}") from None
        digest.update(f"{os.path.abspath(path)}\0{stat.st_size}\0{stat.st_mtime_ns}\n".encode())
    return digest.hexdigest()[:32]


def read_index(pixels_path: Path, index_path: Path, count: int) -> np.ndarray | None:
    """The [count, 3] index of a whole cache (offset, height, width), or None when the files are missing, damaged or
    disagree (an interrupted build): such a cache is rebuilt, never read."""
    try:
        index = np.load(index_path, allow_pickle=False)
        pixels = np.load(pixels_path, mmap_mode="r", allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    if index.dtype != np.int64 or index.shape != (count, 3) or pixels.dtype != np.uint8 or pixels.ndim != 1:
        return None
    sizes = 3 * index[:, 1] * index[:, 2]
    if (index[:, 1:] < 1).any() or (index[:, 0] != np.cumsum(sizes) - sizes).any() or sizes.sum() != pixels.size:
        return None
    return index


def _decoded_array(path: Path, resize: int, draft: bool) -> np.ndarray:
    """`decode_resized` as a numpy array: what a decode process sends back (a tensor would travel as a shared-memory
    handle, one file descriptor each)."""
    return decode_resized(path, resize, draft).numpy()


def _decoded_items(paths: list[Path], resize: int, draft: bool, workers: int):
    """Each image's `decode_resized` pixels, in order; in ``workers`` processes when > 0."""
    if workers == 0:
        return (decode_resized(path, resize, draft) for path in paths)
    pool = ProcessPoolExecutor(workers, initializer=torch.set_num_threads, initargs=(1,))
    return _closing(pool, pool.map(_decoded_array, paths, [resize] * len(paths), [draft] * len(paths),
                                   chunksize=16))


def _closing(pool: ProcessPoolExecutor, items):
    """Yield ``items``, then shut ``pool`` down (also when the consumer stops early)."""
    try:
        yield from items
    finally:
        pool.shutdown(cancel_futures=True)


def _write_pixels(file, paths: list[Path], index: np.ndarray, items, bar) -> None:
    """The flat uint8 .npy: its header, then each image's bytes, checked against the size the index expects."""
    np.lib.format.write_array_header_1_0(file, {"descr": "|u1", "fortran_order": False,
                                                "shape": (int((3 * index[:, 1] * index[:, 2]).sum()),)})
    for path, (_, height, width), pixels in zip(paths, index, items):
        if tuple(pixels.shape) != (3, height, width):
            raise ValueError(f"image {path} changed while it was being cached: expected 3 x {height} x {width}, "
                             f"decoded {' x '.join(map(str, pixels.shape))}; build the cache again")
        file.write(np.asarray(pixels).tobytes())
        bar.update(1)


def build_cache(paths: Sequence[str | Path], resize: int, pixels_path: Path, index_path: Path, *,
                draft: bool = False, workers: int = 0, progress: bool = True, desc: str = "decoding") -> np.ndarray:
    """Decode every image once into the two cache files (see the module's docstring); returns the index.

    The header pass reads each file's size first, so the pixels stream to disk one image at a time (memory stays
    at one image); ``workers`` > 0 decodes in that many processes, in order.
    """
    from tqdm.auto import tqdm

    paths = [Path(p) for p in paths]
    shapes = np.array([decoded_size(path, resize, draft) for path in paths], dtype=np.int64).reshape(-1, 2)
    sizes = 3 * shapes[:, 0] * shapes[:, 1]
    index = np.column_stack([np.cumsum(sizes) - sizes, shapes]).astype(np.int64)
    with tqdm(total=len(paths), desc=desc, unit="image", delay=2, disable=not progress) as bar:
        items = _decoded_items(paths, resize, draft, workers)
        try:
            atomic_write(pixels_path, lambda file: _write_pixels(file, paths, index, items, bar))
        finally:
            items.close()  # stops the decode processes, if any, whether the write finished or not
    atomic_write(index_path, lambda file: np.save(file, index, allow_pickle=False))
    return index


class DecodedImageSplit(MetricDataset):
    """A split whose items come from a decoded cache: uint8 tensors [3, h, w], shorter side ``resize``, fed to the
    split's transform (torchvision's v2 transforms take them as images; `ToDtype(..., scale=True)` scales them).

    ``rows`` says which cache row each item is, so subsets share one cache. The memory map opens on first use in each
    process and is not pickled: DataLoader workers open their own.
    """

    def __init__(self, name: str, split: str, pixels_path: str | Path, index: np.ndarray, rows: Tensor,
                 targets: Tensor, class_names: Sequence[str], transform: Callable | None = None,
                 paths: Sequence[str | Path] | None = None, resize: int | None = None):
        super().__init__(name, split, targets, class_names, transform)
        self.pixels_path = Path(pixels_path)
        self.index = np.asarray(index, dtype=np.int64)
        self.rows = torch.as_tensor(rows, dtype=torch.long)
        self.paths = [Path(p) for p in paths] if paths is not None else None
        self.resize = resize
        self._pixels = None
        if len(self.rows) != len(self.targets) or (self.paths is not None and len(self.paths) != len(self.rows)):
            raise ValueError(f"{name}/{split}: {len(self.rows)} cache rows, {len(self.targets)} labels and "
                             f"{'no' if self.paths is None else len(self.paths)} paths must agree")
        if len(self.rows) and (int(self.rows.min()) < 0 or int(self.rows.max()) >= len(self.index)):
            raise ValueError(f"{name}/{split}: cache rows must lie in [0, {len(self.index)})")

    def __getstate__(self) -> dict:
        state = dict(self.__dict__)
        state["_pixels"] = None  # a memory map pickled would copy the whole cache
        return state

    def pixels(self) -> np.ndarray:
        """The flat uint8 buffer, memory-mapped read-only on first use."""
        if self._pixels is None:
            self._pixels = np.load(self.pixels_path, mmap_mode="r", allow_pickle=False)
        return self._pixels

    def load_item(self, index: int) -> Tensor:
        offset, height, width = (int(v) for v in self.index[int(self.rows[index])])
        flat = np.array(self.pixels()[offset:offset + 3 * height * width])  # a copy: the map is read-only
        return torch.from_numpy(flat).view(3, height, width)

    def _with_items(self, indices: Tensor, split: str, targets: Tensor, class_names: list) -> "DecodedImageSplit":
        paths = None if self.paths is None else [self.paths[i] for i in indices.tolist()]
        return DecodedImageSplit(self.name, split, self.pixels_path, self.index, self.rows[indices], targets,
                                 class_names, self.transform, paths, self.resize)


def decoded_split(split: ImageFileSplit, resize: int = 256, *, folder: str | Path | None = None,
                  draft: bool = False, workers: int = 0, progress: bool = True) -> DecodedImageSplit:
    """``split`` served from its decoded cache in ``folder`` (default: cache_dir()/decoded), built on first use or
    when any file changed; same labels, class names, split name, transform and order as ``split``."""
    if not isinstance(split, ImageFileSplit):
        raise ValueError(f"decoded_split takes an ImageFileSplit (images read from files), got "
                         f"{type(split).__name__}")
    check_int(workers, "workers", minimum=0)
    key = cache_key(split.paths, resize, draft)
    folder = Path(folder) if folder is not None else cache_dir() / SUBFOLDER
    stem = f"{split.name}-{split.split}-{resize}-{key}"
    pixels_path, index_path = folder / f"{stem}.pixels.npy", folder / f"{stem}.index.npy"
    index = build_once(folder / f"{stem}.lock", lambda: read_index(pixels_path, index_path, len(split)),
                       lambda: _build_split(split, resize, draft, workers, progress, key, pixels_path, index_path),
                       f"the decoded cache of {split.name}/{split.split}")
    return DecodedImageSplit(split.name, split.split, pixels_path, index, torch.arange(len(split)), split.targets,
                             split.class_names, split.transform, split.paths, resize)


def _build_split(split: ImageFileSplit, resize: int, draft: bool, workers: int, progress: bool, key: str,
                 pixels_path: Path, index_path: Path) -> np.ndarray:
    """Build the cache of ``split``; refuse it if any file changed while it was being decoded."""
    index = build_cache(split.paths, resize, pixels_path, index_path, draft=draft, workers=workers,
                        progress=progress, desc=f"decoding {split.name}/{split.split}")
    if cache_key(split.paths, resize, draft) != key:
        for path in (index_path, pixels_path):
            path.unlink(missing_ok=True)
        raise ValueError(f"{split.name}/{split.split}: image files changed while they were being cached; "
                         f"build the cache again")
    return index


__all__ = ["DecodedImageSplit", "FORMAT_VERSION", "build_cache", "cache_key", "decode_resized", "decoded_size",
           "decoded_split", "read_index", "resized_size"]
