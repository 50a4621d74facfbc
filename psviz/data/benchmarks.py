"""The four image-retrieval benchmarks of the Proxy Synthesis paper, and any class-per-folder set, read from disk.

Each loader reads a user-given ``root`` in the dataset's original layout (root may be the dataset folder or its
parent), keeps the conventional class-disjoint split, and returns an `ImageFileSplit` with labels 0-based and
contiguous within the split. Nothing is downloaded: these sets need a licence acceptance or a manual fetch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Sequence

import numpy as np
import torch

from .base import SEEN, UNSEEN, ImageFileSplit, contiguous_labels

IMAGE_EXTENSIONS = {".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp"}
CUB_LAYOUT = "root/CUB_200_2011/{images.txt, image_class_labels.txt, images/}"
CARS_LAYOUT = "root/{cars_annos.mat, car_ims/} (root may also be their parent, e.g. holding CARS196/)"
SOP_LAYOUT = "root/Stanford_Online_Products/{Ebay_train.txt, Ebay_test.txt, <category>_final/}"
INSHOP_LAYOUT = "root/{Eval/list_eval_partition.txt, img/}"
FOLDER_LAYOUT = "root/seen/<class>/<image> and root/unseen/<class>/<image>"
CARS_FOLDERS = ("CARS196", "cars196", "Cars196", "stanford_cars", "Stanford_Cars", "cars")
INSHOP_FOLDERS = ("In-shop Clothes Retrieval Benchmark", "In-Shop", "InShop", "inshop", "in_shop")
INSHOP_STATUSES = ("train", "query", "gallery")


# --- shared helpers ---------------------------------------------------------------------------------------------

def _check_split(name: str, split: str, splits: Sequence[str]) -> None:
    if split not in splits:
        raise ValueError(f"{name}: no split {split!r}; choose one of: {', '.join(splits)}")


def _dataset_dir(name: str, root, folders: Sequence[str], marker: str, layout: str) -> Path:
    """The folder holding ``marker``: root itself or root/<one of folders>, so root may be the set or its parent."""
    if root is None:
        raise ValueError(f"{name}: needs root=, the folder holding its files; expected {layout}")
    root = Path(root).expanduser()
    for folder in (root, *(root / sub for sub in folders)):
        if (folder / marker).is_file():
            return folder
    inside = root if not folders or root.name.lower() in {f.lower() for f in folders} else root / folders[0]
    raise ValueError(f"{name}: missing {inside / marker}; expected {layout}")


def _read_lines(name: str, path: Path, layout: str) -> list[tuple[int, str]]:
    """The non-blank lines of a text file with their 1-based line numbers; a missing file says the layout."""
    if not path.is_file():
        raise ValueError(f"{name}: missing {path}; expected {layout}")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ValueError(f"{name}: cannot read {path}: {error}") from error
    return [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]


def _malformed(name: str, path: Path, number: int, problem: str) -> ValueError:
    return ValueError(f"{name}: malformed {path} line {number}: {problem}")


def _rows(name: str, path: Path, lines: list[tuple[int, str]], columns: Sequence[str]) -> list[tuple[int, list[str]]]:
    """Split whitespace-separated rows, insisting on one field per column name (errors give file and line)."""
    rows = []
    for number, line in lines:
        fields = line.split()
        if len(fields) != len(columns):
            raise _malformed(name, path, number, f"expected {len(columns)} fields ({' '.join(columns)}), got {line!r}")
        rows.append((number, fields))
    return rows


def _int(name: str, path: Path, number: int, value, what: str, low: int | None = None, high: int | None = None) -> int:
    """``value`` as an integer in [low, high], or an error naming the file, line (or entry) and field."""
    try:
        result = int(value)
    except (TypeError, ValueError):
        raise _malformed(name, path, number, f"{what} {value!r} is not an integer") from None
    if (low is not None and result < low) or (high is not None and result > high):
        bounds = f"{'' if low is None else low}..{'' if high is None else high}"
        raise _malformed(name, path, number, f"{what} {result} is outside {bounds}")
    return result


def _split_of(name: str, split: str, listing: Path, layout: str, paths: list[Path], raw_ids: list,
              names: dict | None, transform) -> ImageFileSplit:
    """An `ImageFileSplit` with contiguous labels; an empty split or a missing first image (wrong root?) is an error."""
    if not paths:
        raise ValueError(f"{name}/{split}: no images for this split in {listing}")
    if not paths[0].is_file():
        raise ValueError(f"{name}: image {paths[0]} listed in {listing} does not exist; is root right? "
                         f"expected {layout}")
    labels, classes = contiguous_labels(raw_ids)
    class_names = [names.get(c, str(c)) if names else str(c) for c in classes]
    return ImageFileSplit(name, split, paths, labels, class_names, transform)


# --- CUB-200-2011 -----------------------------------------------------------------------------------------------

def load_cub200(split: str = SEEN, *, root, transform=None) -> ImageFileSplit:
    """CUB-200-2011 birds: classes 1-100 seen (5,864 images), 101-200 unseen (5,924).

    Class names come from classes.txt when present (e.g. "001.Black_footed_Albatross"), else the class id.
    """
    name = "cub200"
    _check_split(name, split, (SEEN, UNSEEN))
    folder = _dataset_dir(name, root, ("CUB_200_2011",), "images.txt", CUB_LAYOUT)
    images_txt, labels_txt = folder / "images.txt", folder / "image_class_labels.txt"
    paths = {}
    for number, (image_id, rel) in _rows(name, images_txt, _read_lines(name, images_txt, CUB_LAYOUT),
                                         ("image_id", "path")):
        if image_id in paths:
            raise _malformed(name, images_txt, number, f"image_id {image_id} listed twice")
        paths[image_id] = folder / "images" / rel
    chosen, ids = [], []
    for number, (image_id, class_id) in _rows(name, labels_txt, _read_lines(name, labels_txt, CUB_LAYOUT),
                                              ("image_id", "class_id")):
        class_id = _int(name, labels_txt, number, class_id, "class_id", 1, 200)
        if image_id not in paths:
            raise _malformed(name, labels_txt, number, f"image_id {image_id} is not in {images_txt}")
        if (class_id <= 100) == (split == SEEN):
            chosen.append(paths[image_id])
            ids.append(class_id)
    names = {}
    classes_txt = folder / "classes.txt"
    if classes_txt.is_file():
        for number, (class_id, class_name) in _rows(name, classes_txt, _read_lines(name, classes_txt, CUB_LAYOUT),
                                                    ("class_id", "class_name")):
            names[_int(name, classes_txt, number, class_id, "class_id", 1, 200)] = class_name
    return _split_of(name, split, labels_txt, CUB_LAYOUT, chosen, ids, names, transform)


# --- CARS196 ----------------------------------------------------------------------------------------------------

def _mat_value(value):
    """One scalar or string out of whatever nesting `loadmat` produced (0-d, (1,), (1, 1) arrays or plain)."""
    array = np.asarray(value)
    return array.reshape(-1)[0] if array.size == 1 else value


def load_cars196(split: str = SEEN, *, root, transform=None) -> ImageFileSplit:
    """Stanford Cars: classes 1-98 seen (8,054 images), 99-196 unseen (8,131), train and test files together.

    Reads cars_annos.mat; bounding boxes and the ``test`` flag are ignored (the metric-learning split is by class).
    """
    from scipy.io import loadmat

    name = "cars196"
    _check_split(name, split, (SEEN, UNSEEN))
    folder = _dataset_dir(name, root, CARS_FOLDERS, "cars_annos.mat", CARS_LAYOUT)
    mat_path = folder / "cars_annos.mat"
    try:
        mat = loadmat(str(mat_path), squeeze_me=True)
    except Exception as error:  # scipy raises ValueError, OSError, MatReadError, ... on a bad file
        raise ValueError(f"{name}: cannot read {mat_path}: {error}; expected {CARS_LAYOUT}") from error
    annotations = mat.get("annotations")
    fields = getattr(getattr(annotations, "dtype", None), "names", None) or ()
    if "relative_im_path" not in fields or "class" not in fields:
        raise ValueError(f"{name}: malformed {mat_path}: expected a struct array 'annotations' with fields "
                         f"relative_im_path and class, got fields {list(fields)}")
    chosen, ids = [], []
    for index, record in enumerate(np.atleast_1d(annotations).reshape(-1), start=1):
        class_id = _int(name, mat_path, index, _mat_value(record["class"]), "class", 1, 196)
        if (class_id <= 98) == (split == SEEN):
            chosen.append(folder / str(_mat_value(record["relative_im_path"])))
            ids.append(class_id)
    names = {}
    if "class_names" in mat:
        listed = [str(_mat_value(n)) for n in np.atleast_1d(mat["class_names"]).reshape(-1)]
        if ids and max(ids) > len(listed):
            raise ValueError(f"{name}: malformed {mat_path}: class_names has {len(listed)} entries but class "
                             f"{max(ids)} is used")
        names = {i + 1: n for i, n in enumerate(listed)}
    return _split_of(name, split, mat_path, CARS_LAYOUT, chosen, ids, names, transform)


# --- Stanford Online Products -----------------------------------------------------------------------------------

def load_sop(split: str = SEEN, *, root, transform=None) -> ImageFileSplit:
    """Stanford Online Products: Ebay_train.txt seen (59,551 images, 11,318 products), Ebay_test.txt unseen
    (60,502, 11,316). Class names are the product (class) ids."""
    name = "sop"
    _check_split(name, split, (SEEN, UNSEEN))
    listing_name = "Ebay_train.txt" if split == SEEN else "Ebay_test.txt"
    folder = _dataset_dir(name, root, ("Stanford_Online_Products",), listing_name, SOP_LAYOUT)
    listing = folder / listing_name
    columns = ("image_id", "class_id", "super_class_id", "path")
    lines = _read_lines(name, listing, SOP_LAYOUT)
    if not lines or lines[0][1].split() != list(columns):
        number, line = lines[0] if lines else (1, "")
        raise _malformed(name, listing, number, f"expected the header {' '.join(columns)!r}, got {line!r}")
    chosen, ids = [], []
    for number, (_, class_id, _, rel) in _rows(name, listing, lines[1:], columns):
        ids.append(_int(name, listing, number, class_id, "class_id", 0))
        chosen.append(folder / rel)
    return _split_of(name, split, listing, SOP_LAYOUT, chosen, ids, None, transform)


# --- In-Shop Clothes --------------------------------------------------------------------------------------------

def load_inshop(split: str = SEEN, *, root, transform=None) -> ImageFileSplit:
    """In-Shop Clothes: "seen" = the train items (25,882 images, 3,997 items); "query" (14,218) and "gallery"
    (12,612) hold the 3,985 unseen items and share one label space, so an item has the same label in both."""
    name = "inshop"
    _check_split(name, split, (SEEN, "query", "gallery"))
    folder = _dataset_dir(name, root, INSHOP_FOLDERS, "Eval/list_eval_partition.txt", INSHOP_LAYOUT)
    listing = folder / "Eval" / "list_eval_partition.txt"
    columns = ("image_name", "item_id", "evaluation_status")
    lines = _read_lines(name, listing, INSHOP_LAYOUT)
    if len(lines) < 2 or lines[1][1].split() != list(columns):
        number, line = lines[1] if len(lines) > 1 else (len(lines) + 1, "")
        raise _malformed(name, listing, number, f"expected the header {' '.join(columns)!r}, got {line!r}")
    count = _int(name, listing, lines[0][0], lines[0][1], "the image count")
    rows = _rows(name, listing, lines[2:], columns)
    if count != len(rows):
        raise _malformed(name, listing, lines[0][0], f"says {count} images but {len(rows)} rows follow")
    wanted = ("train",) if split == SEEN else ("query", "gallery")
    chosen, ids, in_split = [], [], []
    for number, (rel, item_id, status) in rows:
        if status not in INSHOP_STATUSES:
            raise _malformed(name, listing, number, f"evaluation_status {status!r} is not one of "
                                                    f"{', '.join(INSHOP_STATUSES)}")
        if status in wanted:  # query and gallery take labels over their union, then keep their own rows
            chosen.append(folder / rel)
            ids.append(item_id)
            in_split.append(split == SEEN or status == split)
    if not any(in_split):
        raise ValueError(f"{name}/{split}: no images for this split in {listing}")
    labels, items = contiguous_labels(ids)
    keep = np.flatnonzero(in_split)
    paths = [chosen[i] for i in keep]
    if not paths[0].is_file():
        raise ValueError(f"{name}: image {paths[0]} listed in {listing} does not exist; is root right? "
                         f"expected {INSHOP_LAYOUT}")
    return ImageFileSplit(name, split, paths, labels[torch.as_tensor(keep)], items, transform)


# --- any class-per-folder set -----------------------------------------------------------------------------------

def load_folder(split: str = SEEN, *, root, transform=None) -> ImageFileSplit:
    """Images in root/<split>/<class>/ (jpg, jpeg, png, bmp, gif, webp; any case); class names are the folder
    names, classes and images in sorted order so labels are deterministic. Hidden files and folders are skipped."""
    name = "folder"
    _check_split(name, split, (SEEN, UNSEEN))
    if root is None:
        raise ValueError(f"{name}: needs root=, the folder holding seen/ and unseen/; expected {FOLDER_LAYOUT}")
    base = Path(root).expanduser() / split
    if not base.is_dir():
        raise ValueError(f"{name}: missing {base}; expected {FOLDER_LAYOUT}")
    paths, ids = [], []
    for class_dir in sorted(p for p in base.iterdir() if p.is_dir() and not p.name.startswith(".")):
        for image in sorted(p for p in class_dir.iterdir()
                            if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_EXTENSIONS):
            paths.append(image)
            ids.append(class_dir.name)
    if not paths:
        raise ValueError(f"{name}/{split}: no images in {base}; expected {FOLDER_LAYOUT} with extensions "
                         f"{', '.join(sorted(IMAGE_EXTENSIONS))}")
    return _split_of(name, split, base, FOLDER_LAYOUT, paths, ids, None, transform)


__all__ = ["load_cub200", "load_cars196", "load_sop", "load_inshop", "load_folder", "IMAGE_EXTENSIONS"]
