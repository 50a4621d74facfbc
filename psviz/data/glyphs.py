"""Glyphs: a many-class dataset rendered offline from the fonts matplotlib ships, one class per Unicode character.

Each image is one character drawn in one of matplotlib's DejaVu, STIX or Computer Modern fonts, grayscale 32x32.
Nothing is downloaded: the dataset is built once (about ten seconds) and cached as an npz under `cache_dir()`; of
processes that start together (training workers) one builds it and the others wait for it (`cache_lock.build_once`).
"""

from __future__ import annotations

import sys
import time
import unicodedata
from pathlib import Path

import numpy as np
import torch

from ..base.checks import check_int
from ..base.files import atomic_write
from .base import SEEN, UNSEEN, TensorSplit
from .cache_location import cache_dir
from .cache_lock import build_once, lock_path_for

VERSION = 1  # bump when the recipe changes, so that old caches are rebuilt rather than reused
SIZE = 32  # images are SIZE x SIZE
MIN_FONTS = 8
FAMILIES = ("DejaVu", "STIX", "cm")  # font file name prefixes; LastResortHE (one box per Unicode block) is left out
LOOKALIKE_RMS = 0.04  # two renderings closer than this (RMS, pixels in [0, 1]) count as the same shape
_PX_PER_EM = 32  # one size per font: the em square spans the box, so capitals fill about 3/4 of it
_FIT = 30  # ink box limit (a 1-pixel margin); only glyphs bigger than this are scaled down
_SUPERSAMPLE = 4  # draw at 4x and box-filter down, so that equal shapes give equal images whatever their offset
_KEYS = ("images", "labels", "codepoints", "fonts")

try:  # matplotlib >= 3.10
    from matplotlib.ft2font import LoadFlags as _LoadFlags

    _NO_HINTING = _LoadFlags.NO_HINTING
    _OUTLINE_FLAGS = _LoadFlags.NO_SCALE | _LoadFlags.NO_HINTING
except ImportError:  # older matplotlib
    from matplotlib.ft2font import LOAD_NO_HINTING as _NO_HINTING, LOAD_NO_SCALE

    _OUTLINE_FLAGS = LOAD_NO_SCALE | _NO_HINTING


def glyphs_path(min_fonts: int = MIN_FONTS) -> Path:
    """The cache file for a build keeping characters found in at least ``min_fonts`` fonts."""
    _check_min_fonts(min_fonts)
    suffix = "" if min_fonts == MIN_FONTS else f"-min{min_fonts}"
    return cache_dir() / f"glyphs-v{VERSION}{suffix}.npz"


def font_files() -> list[Path]:
    """The font files the dataset is drawn from, in a fixed order."""
    import matplotlib

    folder = Path(matplotlib.get_data_path()) / "fonts" / "ttf"
    return sorted(path for path in folder.glob("*.ttf") if path.name.startswith(FAMILIES))


def build_glyphs(min_fonts: int = MIN_FONTS) -> dict[str, np.ndarray]:
    """Render the dataset (deterministic; no cache): characters drawn in at least ``min_fonts`` fonts.

    Returns ``images`` uint8 [N, 1, 32, 32], ``labels`` [N] indexing ``codepoints`` [C] (sorted), and ``fonts`` [N]
    (the font file each image comes from). Renderings that are blank or the font's .notdef box are dropped, and of
    each group of look-alike characters (e.g. Latin A, Greek Alpha, Cyrillic A) only the lowest code point is kept.
    """
    from matplotlib.ft2font import FT2Font

    _check_min_fonts(min_fonts)
    paths = font_files()
    fonts = [FT2Font(str(path)) for path in paths]
    charmaps = [_charmap(font, path) for font, path in zip(fonts, paths)]
    coverage = np.bincount(np.concatenate([np.fromiter(m, np.int64, len(m)) for m in charmaps]))
    wanted = coverage >= min_fonts
    images, codes, font_ids = [], [], []
    for index, (font, charmap) in enumerate(zip(fonts, charmaps)):
        notdef = _outline(font, 0)
        for code in sorted(c for c in charmap if wanted[c]):
            image = _render(font, chr(code))
            if image.sum(dtype=np.int64) < 2 * 255:  # blank: less ink than two full pixels
                continue
            if notdef[1] and _outline(font, charmap[code]) == notdef:  # tofu: the .notdef box under another name
                continue
            images.append(image)
            codes.append(code)
            font_ids.append(index)
    if not images:
        raise ValueError(f"glyphs: no character is drawn in at least {min_fonts} fonts")
    images, codes, font_ids = np.stack(images), np.array(codes), np.array(font_ids)
    counts = np.bincount(codes)
    rows = np.flatnonzero(counts[codes] >= min_fonts)  # still enough fonts once blank and .notdef ones are gone
    codepoints, labels = np.unique(codes[rows], return_inverse=True)
    keep = _lookalike_representatives(images[rows], labels, font_ids[rows], codepoints.size)
    if keep.size < 2:
        raise ValueError(f"glyphs: only {keep.size} characters are drawn in at least {min_fonts} fonts")
    rows = rows[np.isin(labels, keep)]
    rows = rows[np.lexsort((font_ids[rows], codes[rows]))]
    codepoints = codepoints[keep]
    return {"images": images[rows][:, None], "labels": np.searchsorted(codepoints, codes[rows]),
            "codepoints": codepoints.astype(np.int32), "fonts": np.array([paths[i].stem for i in font_ids[rows]])}


def load_glyphs(split: str = SEEN, *, split_seed: int = 0, min_fonts: int = MIN_FONTS, classes: int | None = None,
                transform=None, rebuild: bool = False) -> TensorSplit:
    """One half of the characters: a seeded random half of the classes is seen, the rest unseen.

    ``classes`` keeps a seeded subset of that many characters before halving (200 gives 100 seen and 100 unseen,
    the shape of the CUB split); the same ``split_seed`` draws the subset.

    Images are uint8 [N, 1, 32, 32] (floats in [0, 1] when indexed); class names are the character and its code
    point, e.g. "A (U+0041)". The first call builds the cache (see `build_glyphs`); ``rebuild`` forces a new build.
    """
    if split not in (SEEN, UNSEEN):
        raise ValueError(f"split must be 'seen' or 'unseen', got {split!r}")
    if isinstance(split_seed, bool) or not isinstance(split_seed, (int, np.integer)) or split_seed < 0:
        raise ValueError(f"split_seed must be an integer >= 0, got {split_seed!r}")
    path = glyphs_path(min_fonts)
    arrays = build_once(lock_path_for(path), lambda: _read(path), lambda: _build_and_write(path, min_fonts),
                        "the glyphs dataset", rebuild=rebuild)
    n_classes = arrays["codepoints"].size
    if classes is not None:
        check_int(classes, "classes", minimum=2)
        if classes > n_classes:
            raise ValueError(f"classes={classes} is more than the {n_classes} characters glyphs has")
    order = np.random.default_rng(int(split_seed)).permutation(n_classes)[:classes]
    half = (order.size + 1) // 2
    kept = np.sort(order[:half] if split == SEEN else order[half:])
    rows = np.flatnonzero(np.isin(arrays["labels"], kept))
    labels = np.searchsorted(kept, arrays["labels"][rows])
    names = [f"{chr(c)} (U+{c:04X})" for c in arrays["codepoints"][kept].tolist()]
    return TensorSplit("glyphs", split, torch.from_numpy(arrays["images"][rows]), torch.from_numpy(labels), names,
                       transform)


def _build_and_write(path: Path, min_fonts: int) -> dict[str, np.ndarray]:
    """`build_glyphs`, cached at ``path``, and one line on stderr saying so (the build takes seconds)."""
    start = time.perf_counter()
    arrays = build_glyphs(min_fonts)
    _write(path, arrays)
    print(f"psviz: built glyphs dataset ({arrays['codepoints'].size} classes, {arrays['labels'].size} images) "
          f"in {time.perf_counter() - start:.1f}s, cached at {path}", file=sys.stderr)
    return arrays


def _check_min_fonts(min_fonts) -> None:
    if isinstance(min_fonts, bool) or not isinstance(min_fonts, (int, np.integer)) or min_fonts < 2:
        raise ValueError(f"min_fonts must be an integer >= 2 (a class needs two images), got {min_fonts!r}")
    if min_fonts > len(font_files()):
        raise ValueError(f"min_fonts must be at most {len(font_files())}, the number of fonts, got {min_fonts}")


def _charmap(font, path: Path) -> dict[int, int]:
    """Printable characters of one font: no whitespace, control, format, combining, private-use or unassigned."""
    from fontTools.agl import toUnicode

    charmap = {}
    for code, glyph in font.get_charmap().items():
        char = chr(code)
        if not char.isprintable() or char.isspace() or unicodedata.category(char)[0] in "CMZ":
            continue
        # The Computer Modern (BaKoMa) fonts map TeX's encoding, not Unicode: trust a code only where the glyph's
        # name says it is that character (e.g. cmr10 puts Gamma at U+00A1 and cmsy10 an arrow at "!").
        if path.name.startswith("cm") and toUnicode(font.get_glyph_name(glyph)) != char:
            continue
        charmap[code] = glyph
    return charmap


def _render(font, text: str) -> np.ndarray:
    """``text`` drawn antialiased at the font's size (smaller only if it would not fit), its ink centred, uint8."""
    big, limit = SIZE * _SUPERSAMPLE, _FIT * _SUPERSAMPLE
    size = float(_PX_PER_EM * _SUPERSAMPLE)
    for _ in range(4):
        font.set_size(size, 72)  # 72 dpi: the size in points is the size in pixels per em
        font.set_text(text, 0.0, _NO_HINTING)
        font.draw_glyphs_to_bitmap(antialiased=True)
        bitmap = np.asarray(font.get_image())
        rows, cols = np.flatnonzero(bitmap.any(axis=1)), np.flatnonzero(bitmap.any(axis=0))
        if rows.size == 0:
            return np.zeros((SIZE, SIZE), np.uint8)
        ink = bitmap[rows[0]: rows[-1] + 1, cols[0]: cols[-1] + 1]
        if max(ink.shape) <= limit:
            break
        size *= 0.99 * limit / max(ink.shape)
    else:
        raise RuntimeError(f"glyphs: cannot fit {text!r} from {font.fname} in {SIZE}x{SIZE}")
    canvas = np.zeros((big, big), np.uint16)
    top, left = (big - ink.shape[0]) // 2, (big - ink.shape[1]) // 2
    canvas[top: top + ink.shape[0], left: left + ink.shape[1]] = ink
    rows_summed = sum(canvas[i::_SUPERSAMPLE] for i in range(_SUPERSAMPLE))  # strided adds: 10x a 4-D sum's speed
    blocks = sum(rows_summed[:, i::_SUPERSAMPLE] for i in range(_SUPERSAMPLE))
    return ((blocks + _SUPERSAMPLE ** 2 // 2) // _SUPERSAMPLE ** 2).astype(np.uint8)


def _outline(font, glyph_id: int) -> tuple:
    """A glyph's advance and outline in font units, to tell a .notdef copy from a real glyph."""
    glyph = font.load_glyph(glyph_id, _OUTLINE_FLAGS)
    vertices, codes = font.get_path()
    return glyph.horiAdvance, np.asarray(vertices).tobytes(), np.asarray(codes).tobytes()


def _lookalike_representatives(images, labels, font_ids, n_classes: int) -> np.ndarray:
    """Class indices to keep: one (the lowest) per group of classes that look alike.

    Two classes look alike when their renderings are within `LOOKALIKE_RMS` in at least half the fonts that draw
    both; groups are the connected components of that relation. Distances are exact (integer sums), so the result
    does not depend on the BLAS or the number of threads.
    """
    limit = LOOKALIKE_RMS ** 2 * 255 ** 2 * SIZE * SIZE  # the same threshold on a sum of squared uint8 differences
    close = []
    for font in np.unique(font_ids):
        members = np.flatnonzero(font_ids == font)
        # 2x2 means never overstate the distance (4 * |pooled diff|^2 <= |diff|^2): a safe first pass, 4x cheaper.
        pooled = images[members].reshape(-1, SIZE // 2, 2, SIZE // 2, 2).sum(axis=(2, 4), dtype=np.float32) / 4
        pooled = pooled.reshape(len(members), -1)
        norms = (pooled * pooled).sum(axis=1)
        approx = 4 * (norms[:, None] + norms[None, :] - 2 * pooled @ pooled.T)
        first, second = np.nonzero(np.triu(approx < 1.1 * limit, k=1))  # 10% slack covers float32 rounding
        a, b = images[members[first]].astype(np.int32), images[members[second]].astype(np.int32)
        near = ((a - b) ** 2).sum(axis=(1, 2)) < limit
        close.append(labels[members[first[near]]] * n_classes + labels[members[second[near]]])
    pairs, votes = np.unique(np.concatenate(close), return_counts=True)
    present = np.zeros((n_classes, font_ids.max() + 1), bool)
    present[labels, font_ids] = True
    first, second = np.divmod(pairs, n_classes)
    shared = (present[first] & present[second]).sum(axis=1)
    parent = np.arange(n_classes)

    def root(node):
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for one, other in zip(first[2 * votes >= shared].tolist(), second[2 * votes >= shared].tolist()):
        one, other = root(one), root(other)
        parent[max(one, other)] = min(one, other)  # the lower index (lower code point) represents the group
    return np.flatnonzero([root(node) == node for node in range(n_classes)])


_READ: dict[tuple, dict[str, np.ndarray]] = {}  # the last file read, by (path, mtime, size)
_DAMAGED: set[tuple] = set()  # unreadable files already reported, by (path, mtime, size)


def _read(path: Path) -> dict[str, np.ndarray] | None:
    """The cached arrays, or None if there is no cache or it cannot be read (then it is rebuilt).

    Any failure while reading or checking the file counts as unreadable (a truncated zip, a damaged deflate stream
    raising zlib.error, a bad CRC, wrong arrays): the cache is only a copy of what `build_glyphs` makes.
    """
    if not path.is_file():
        return None
    stat = path.stat()
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key in _READ:  # a figure pass reopens the splits dozens of times: decompress the file once per process
        return _READ[key]
    try:
        with np.load(path, allow_pickle=False) as stored:
            arrays = {key: stored[key] for key in _KEYS}
        images, labels = arrays["images"], arrays["labels"]
        if (images.dtype != np.uint8 or images.shape[1:] != (1, SIZE, SIZE) or labels.shape != images.shape[:1]
                or arrays["fonts"].shape != labels.shape or labels.min() < 0
                or labels.max() >= arrays["codepoints"].size):
            raise ValueError("unexpected array shapes or labels")
        _READ.clear()
        _READ[key] = arrays  # callers index rows out of it (a copy), so the arrays are never handed out to change
        return arrays
    except Exception as error:  # whatever the damage, rebuilding is the answer
        if key not in _DAMAGED:  # once: the file is read again under the build lock before it is rebuilt
            _DAMAGED.add(key)
            print(f"psviz: cannot read the glyphs cache at {path} ({_describe(error)}); rebuilding it",
                  file=sys.stderr)
        return None


def _describe(error: Exception) -> str:
    """``error`` on one line with its type, qualified outside builtins ("zlib.error: ..." says more than "error")."""
    kind = type(error)
    name = kind.__name__ if kind.__module__ == "builtins" else f"{kind.__module__}.{kind.__name__}"
    return " ".join(f"{name}: {error}".split())


def _write(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Save atomically (a killed build leaves no half-written cache)."""
    atomic_write(path, lambda file: np.savez_compressed(file, **arrays))
