"""What every psviz dataset split is: a torch Dataset of (input, label) with class names and its split's tag."""

from __future__ import annotations

from pathlib import Path
from typing import Callable, Sequence

import numpy as np
import torch
from torch import Tensor
from torch.utils.data import Dataset

SEEN, UNSEEN = "seen", "unseen"


def contiguous_labels(raw: Sequence) -> tuple[Tensor, list]:
    """Map arbitrary class ids to 0..n-1 in sorted order; returns (labels, the original id of each label)."""
    raw = np.asarray(raw)
    classes, labels = np.unique(raw, return_inverse=True)
    return torch.as_tensor(labels.reshape(-1), dtype=torch.long), classes.tolist()


class MetricDataset(Dataset):
    """One split of a class-disjoint dataset: ``targets`` are 0-based and contiguous within the split.

    ``class_names[label]`` names each label; ``split`` says which part this is ("seen", "unseen", "query",
    "gallery", ...); ``name`` is the dataset's registry name. Subclasses implement `load_item(index)`.
    """

    def __init__(self, name: str, split: str, targets: Tensor, class_names: Sequence[str],
                 transform: Callable | None = None):
        self.name = name
        self.split = split
        self.targets = torch.as_tensor(targets, dtype=torch.long)
        self.class_names = [str(c) for c in class_names]
        self.transform = transform
        if len(self.targets) and (int(self.targets.min()) < 0 or int(self.targets.max()) >= len(self.class_names)):
            raise ValueError(f"{name}/{split}: labels must lie in [0, {len(self.class_names)})")

    @property
    def n_classes(self) -> int:
        return len(self.class_names)

    def __len__(self) -> int:
        return len(self.targets)

    def load_item(self, index: int):
        raise NotImplementedError

    def subset(self, indices, split: str | None = None, *, relabel: bool = False) -> "MetricDataset":
        """The items at ``indices`` as a split of the same kind and transform. With ``relabel`` only the classes
        present are kept, relabelled 0..n-1 in order (their names follow); else labels and names stay as they are."""
        indices = torch.as_tensor(indices, dtype=torch.long)
        targets, names = self.targets[indices], self.class_names
        if relabel:
            present = torch.unique(targets)
            targets = torch.searchsorted(present, targets)
            names = [self.class_names[c] for c in present.tolist()]
        return self._with_items(indices, split or self.split, targets, names)

    def _with_items(self, indices: Tensor, split: str, targets: Tensor, class_names: list) -> "MetricDataset":
        raise NotImplementedError(f"{type(self).__name__} cannot be subset")

    def __getitem__(self, index: int):
        x = self.load_item(index)
        if self.transform is not None:
            x = self.transform(x)
        return x, int(self.targets[index])

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name={self.name!r}, split={self.split!r}, items={len(self)}, "
                f"classes={self.n_classes})")


class TensorSplit(MetricDataset):
    """A split held in memory as one tensor ``data`` [N, ...]: float vectors, or uint8 images [N, C, H, W].

    Items come out as float32; uint8 images are scaled to [0, 1] (stored as uint8 to keep memory small).
    """

    def __init__(self, name: str, split: str, data: Tensor, targets: Tensor, class_names: Sequence[str],
                 transform: Callable | None = None):
        super().__init__(name, split, targets, class_names, transform)
        self.data = torch.as_tensor(data)
        if len(self.data) != len(self.targets):
            raise ValueError(f"{name}/{split}: {len(self.data)} items but {len(self.targets)} labels")

    @staticmethod
    def _as_float(x: Tensor) -> Tensor:
        return x.float().div_(255.0) if x.dtype == torch.uint8 else x.float()

    def load_item(self, index: int):
        return self._as_float(self.data[index])

    def tensors_at(self, indices) -> tuple[Tensor, Tensor]:
        """A batch (float32 inputs, labels) by indexing the stored tensor once, without the transform."""
        indices = torch.as_tensor(indices, dtype=torch.long)
        return self._as_float(self.data[indices]), self.targets[indices]

    def _with_items(self, indices: Tensor, split: str, targets: Tensor, class_names: list) -> "TensorSplit":
        return TensorSplit(self.name, split, self.data[indices], targets, class_names, self.transform)

    def tensors(self) -> tuple[Tensor, Tensor]:
        """The whole split as (float32 inputs, labels), without the transform: for fast full-split evaluation."""
        return self._as_float(self.data), self.targets


class ImageFileSplit(MetricDataset):
    """A split of image files on disk, opened with PIL as RGB when indexed; an unreadable image names its path."""

    def __init__(self, name: str, split: str, paths: Sequence[Path | str], targets: Tensor,
                 class_names: Sequence[str], transform: Callable | None = None):
        super().__init__(name, split, targets, class_names, transform)
        self.paths = [Path(p) for p in paths]
        if len(self.paths) != len(self.targets):
            raise ValueError(f"{name}/{split}: {len(self.paths)} images but {len(self.targets)} labels")

    def _with_items(self, indices: Tensor, split: str, targets: Tensor, class_names: list) -> "ImageFileSplit":
        return ImageFileSplit(self.name, split, [self.paths[i] for i in indices.tolist()], targets, class_names,
                              self.transform)

    def load_item(self, index: int):
        from PIL import Image, UnidentifiedImageError

        path = self.paths[index]
        try:
            with Image.open(path) as image:
                return image.convert("RGB")
        except (OSError, UnidentifiedImageError) as error:
            raise ValueError(f"{self.name}: cannot read image {path}: {error}") from error
