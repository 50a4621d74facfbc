"""A generated image folder in the exact CUB-200-2011 layout, for tests and loader benchmarks without a download.

Real JPEG files of CUB's typical size (long side 500, the other side varied, one in five portrait) whose content is
cheap to make but costs what a photo costs to decode: a smooth random background, three ellipses whose colours and
sizes are fixed per class (so classes differ), and fine grain, which brings files to tens of KB as photos are.
Everything is a pure function of the seed. `load_cub200(root=...)` reads the folder unchanged.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import numpy as np

from ..base.checks import check_int
from ..base.files import atomic_write, atomic_write_text

FOLDER = "CUB_200_2011"
MARKER = ".psviz-fake-cub.json"  # written last: a folder without it (or with other settings) is not reused
VERSION = 1  # bump when the recipe changes, so that `ensure_cub_layout` rewrites older folders
PORTRAIT_EVERY = 5  # one image in five is portrait, as in CUB
GRAIN = 8  # standard deviation of the 2x2-pixel grain on the 0-255 scale


def class_ids(classes: int) -> list[int]:
    """CUB class ids for ``classes`` classes: the first half from 1 (seen, ids <= 100), the rest from 101 (unseen)."""
    seen = (classes + 1) // 2
    return [*range(1, seen + 1), *range(101, 101 + classes - seen)]


def image_sizes(count: int, size: tuple[int, int], rng: np.random.Generator) -> list[tuple[int, int]]:
    """(width, height) of ``count`` images: the long side ``max(size)``, the short side within 25% of ``min(size)``
    (at most the long side), one in `PORTRAIT_EVERY` portrait."""
    long, short = max(size), min(size)
    shorts = np.clip(np.round(short * rng.uniform(0.75, 1.25, count)), 1, long).astype(int)
    portrait = rng.random(count) < 1 / PORTRAIT_EVERY
    return [(int(s), long) if p else (long, int(s)) for s, p in zip(shorts, portrait)]


def class_look(seed: int, class_id: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """What makes a class: a background tint (RGB), three ellipse colours [3, 3] and their x and y radii [3, 2]
    as fractions of the image's width and height."""
    rng = np.random.default_rng([seed, class_id, 1])
    return rng.uniform(40, 200, 3), rng.integers(0, 256, (3, 3)), rng.uniform(0.08, 0.25, (3, 2))


def render_image(width: int, height: int, look: tuple, rng: np.random.Generator):
    """One RGB PIL image of a class's ``look`` (see `class_look`): a smooth background around its tint, its three
    ellipses placed at random, and 2x2-pixel grain."""
    from PIL import Image, ImageDraw

    tint, colours, radii = look
    background = tint + rng.normal(0, 45, (6, 8, 3))
    image = Image.fromarray(background.clip(0, 255).astype(np.uint8)).resize((width, height), Image.BICUBIC)
    draw = ImageDraw.Draw(image)
    for colour, (rx, ry) in zip(colours, radii):
        cx, cy = rng.uniform(0.3, 0.7) * width, rng.uniform(0.3, 0.7) * height
        draw.ellipse([cx - rx * width, cy - ry * height, cx + rx * width, cy + ry * height],
                     fill=tuple(int(c) for c in colour))
    grain = rng.normal(0, GRAIN, ((height + 1) // 2, (width + 1) // 2, 1)).astype(np.int16)
    grain = np.repeat(np.repeat(grain, 2, axis=0), 2, axis=1)[:height, :width]
    pixels = (np.asarray(image, dtype=np.int16) + grain).clip(0, 255).astype(np.uint8)
    return Image.fromarray(pixels)


def _check_arguments(classes: int, per_class: int, size, quality: int) -> tuple[int, int]:
    if isinstance(classes, bool) or not isinstance(classes, int) or not 2 <= classes <= 200:
        raise ValueError(f"classes must be an integer in 2..200 (CUB's class ids), got {classes!r}")
    check_int(per_class, "per_class")
    if (not isinstance(size, (tuple, list)) or len(size) != 2
            or not all(isinstance(s, int) and not isinstance(s, bool) and s >= 8 for s in size)):
        raise ValueError(f"size must be (width, height), two integers >= 8, got {size!r}")
    if isinstance(quality, bool) or not isinstance(quality, int) or not 1 <= quality <= 95:
        raise ValueError(f"quality must be a JPEG quality in 1..95, got {quality!r}")
    return int(size[0]), int(size[1])


def write_cub_layout(root, classes: int = 200, per_class: int = 20, size: tuple[int, int] = (500, 375),
                     seed: int = 0, quality: int = 90) -> Path:
    """Write ``classes`` x ``per_class`` JPEGs under root/CUB_200_2011 with images.txt, image_class_labels.txt and
    classes.txt; returns that folder. Deterministic in the arguments (about 6 ms an image on one core).

    The listing files are written after the images, and the marker last, so a folder cut short by an interruption
    has no marker and `load_cub200` sees what images.txt lists (or no images.txt at all).
    """
    size = _check_arguments(classes, per_class, size, quality)
    folder = Path(root).expanduser() / FOLDER
    rng = np.random.default_rng([seed, 0])
    images, labels, names = [], [], []
    for class_id in class_ids(classes):
        name = f"{class_id:03d}.Generated_bird_{class_id:03d}"
        names.append(f"{class_id} {name}")
        (folder / "images" / name).mkdir(parents=True, exist_ok=True)
        look = class_look(seed, class_id)
        for number, (width, height) in enumerate(image_sizes(per_class, size, rng), start=1):
            relative = f"{name}/Generated_bird_{class_id:03d}_{number:04d}.jpg"
            image = render_image(width, height, look, np.random.default_rng([seed, class_id, number, 2]))
            buffer = io.BytesIO()
            image.save(buffer, "JPEG", quality=quality)
            atomic_write(folder / "images" / relative, lambda file, data=buffer.getvalue(): file.write(data))
            images.append(f"{len(images) + 1} {relative}")
            labels.append(f"{len(labels) + 1} {class_id}")
    atomic_write_text(folder / "classes.txt", "\n".join(names) + "\n")
    atomic_write_text(folder / "image_class_labels.txt", "\n".join(labels) + "\n")
    atomic_write_text(folder / "images.txt", "\n".join(images) + "\n")
    settings = _settings(classes, per_class, size, seed, quality)
    atomic_write_text(folder / MARKER, json.dumps(settings, sort_keys=True))
    return folder


def _settings(classes: int, per_class: int, size, seed: int, quality: int) -> dict:
    return {"version": VERSION, "classes": classes, "per_class": per_class, "size": list(size), "seed": seed,
            "quality": quality}


def ensure_cub_layout(root, classes: int = 200, per_class: int = 20, size: tuple[int, int] = (500, 375),
                      seed: int = 0, quality: int = 90) -> Path:
    """The folder `write_cub_layout` makes with these arguments: reused when its marker says it was written whole
    with the same ones, else (re)written."""
    size = _check_arguments(classes, per_class, size, quality)
    marker = Path(root).expanduser() / FOLDER / MARKER
    try:
        same = json.loads(marker.read_text()) == _settings(classes, per_class, size, seed, quality)
    except (OSError, ValueError):
        same = False
    if same:
        return marker.parent
    marker.unlink(missing_ok=True)  # a rewrite cut short must not look whole
    return write_cub_layout(root, classes, per_class, size, seed, quality)


__all__ = ["class_ids", "class_look", "ensure_cub_layout", "image_sizes", "render_image", "write_cub_layout"]
