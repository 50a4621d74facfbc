"""What the plots need from a trained run: embeddings of seen and unseen items, proxies, and a PS batch."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import Tensor

from .. import data as datasets
from ..data.holdout import HELDOUT
from ..method.synthesis import SynthesisResult, proxy_synthesis
from .build import plain_splits
from .embedding import embed
from .loop import FitResult


@dataclass
class EmbeddingExport:
    """L2-normalised embeddings [N, d] with labels, split tags ("seen"/"unseen"), and the real proxies.

    ``labels`` count within each split (seen label 3 and unseen label 3 are different classes); ``class_names``
    maps each split to its names. ``proxies`` are [C, d] (or [C, K, d] for SoftTriple), normalised too. ``items``
    (when known) is each row's index in its split (its parts joined, as `psviz.train.plain_splits` lists them), so a
    row can be traced back to its image.
    """

    embeddings: Tensor
    labels: Tensor
    splits: np.ndarray
    proxies: Tensor
    class_names: dict = field(default_factory=dict)
    items: Tensor | None = None

    def part(self, split: str) -> tuple[Tensor, Tensor]:
        """(embeddings, labels) of one split."""
        mask = torch.as_tensor(self.splits == split)
        if not mask.any():
            raise ValueError(f"no {split!r} rows in this export; it holds {sorted(set(self.splits.tolist()))}")
        return self.embeddings[mask], self.labels[mask]

    def keep_classes(self, split: str, labels) -> "EmbeddingExport":
        """A copy without the rows of ``split`` whose label is not in ``labels`` (other splits and proxies kept)."""
        wanted = torch.as_tensor(list(labels), dtype=torch.long)
        keep = torch.as_tensor(self.splits != split) | torch.isin(self.labels, wanted)
        return EmbeddingExport(self.embeddings[keep], self.labels[keep], self.splits[keep.numpy()], self.proxies,
                               dict(self.class_names), None if self.items is None else self.items[keep])

    def save(self, path: str | Path) -> Path:
        """Write a compressed .npz (plain arrays: it can be read without psviz)."""
        path = Path(path)
        names = {f"class_names_{k}": np.asarray(v, dtype=str) for k, v in self.class_names.items()}
        if self.items is not None:
            names["items"] = self.items.numpy()
        np.savez_compressed(path, embeddings=self.embeddings.numpy(), labels=self.labels.numpy(),
                            splits=self.splits.astype(str), proxies=self.proxies.numpy(), **names)
        return path

    @classmethod
    def load(cls, path: str | Path) -> "EmbeddingExport":
        """Read an export written by `save`; a file that is not one (another .npz, not an .npz, damaged) raises a
        one-line ValueError naming the file and what an export holds."""
        path = Path(path)
        with _open_npz(path) as stored:
            missing = [key for key in _EXPORT_KEYS if key not in stored.files]
            if missing:
                raise ValueError(f"{path} is not an embedding export: it lacks {', '.join(missing)} (it holds "
                                 f"{', '.join(stored.files) or 'nothing'}); {_EXPORT_HOLDS}")
            try:
                names = {k[len("class_names_"):]: stored[k].tolist() for k in stored.files
                         if k.startswith("class_names_")}
                items = torch.from_numpy(stored["items"]) if "items" in stored.files else None
                return cls(torch.from_numpy(stored["embeddings"]), torch.from_numpy(stored["labels"]),
                           stored["splits"], torch.from_numpy(stored["proxies"]), names, items)
            except Exception as error:  # a damaged member (zlib.error, bad CRC), object arrays, non-numeric data
                raise _not_an_export(path, error) from None


_EXPORT_KEYS = ("embeddings", "labels", "splits", "proxies")
_EXPORT_HOLDS = ("an export is an .npz written by EmbeddingExport.save, holding embeddings [N, d], labels [N], "
                 "splits [N] and proxies [C, d] or [C, K, d] (plus class_names_<split>)")


def _open_npz(path: Path) -> np.lib.npyio.NpzFile:
    """``path`` opened as an .npz; anything else (an .npy, text, a damaged zip) is a ValueError naming the file.
    A missing or unreadable file keeps its OSError."""
    with open(path, "rb") as file:
        head = file.read(4)
    if head not in (b"PK\x03\x04", b"PK\x05\x06"):  # a zip's first entry, or an empty zip
        raise ValueError(f"{path} is not an .npz file (a zip archive of arrays); {_EXPORT_HOLDS}")
    try:
        return np.load(path, allow_pickle=False)
    except Exception as error:  # a damaged zip: BadZipFile, EOFError, ...
        raise _not_an_export(path, error) from None


def _not_an_export(path: Path, error: Exception) -> ValueError:
    """A one-line ValueError for a file that cannot be read as an export, with the reason numpy or zipfile gave."""
    reason = " ".join(f"{type(error).__name__}: {error}".split())
    return ValueError(f"{path} cannot be read as an embedding export ({reason}); {_EXPORT_HOLDS}")


def _subset(n: int, limit: int | None, seed: int) -> list[int] | None:
    if limit is None or n <= limit:
        return None
    return sorted(torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:limit].tolist())


def export_embeddings(run: FitResult, splits=(datasets.SEEN, datasets.UNSEEN), *, max_per_split: int | None = None,
                      seed: int = 0, path: str | Path | None = None) -> EmbeddingExport:
    """Embed the seen and/or unseen split of a trained run (``max_per_split`` draws a seeded subset for big sets).

    For In-Shop, "unseen" means the query and gallery parts together; "heldout" are the seen-class items the run
    held out of training (``holdout_per_class``). With ``path`` the export is also saved.
    """
    if isinstance(splits, str):
        splits = (splits,)
    unknown = set(splits) - {datasets.SEEN, datasets.UNSEEN, HELDOUT}
    if unknown or not splits:
        raise ValueError(f"splits must be among 'seen', 'unseen' and 'heldout', got {list(splits)}")
    device = next(run.model.parameters()).device
    sources = plain_splits(run.config)
    if HELDOUT in splits and HELDOUT not in sources:
        raise ValueError("splits: this run holds no seen-class items out (config.holdout_per_class is 0)")
    rows, labels, tags, items, names = [], [], [], [], {}
    for split in splits:
        offset = 0
        for part in sources[split]:
            chosen = _subset(len(part), max_per_split, seed)
            e, y = embed(run.model, part, device, indices=chosen)
            rows.append(e)
            labels.append(y)
            tags.append(np.full(len(y), split))
            items.append(offset + (torch.arange(len(part)) if chosen is None else torch.as_tensor(chosen)))
            offset += len(part)
            names[split] = part.class_names
    proxies = F.normalize(run.loss.proxy_tensor().detach().float().cpu(), dim=-1)
    export = EmbeddingExport(F.normalize(torch.cat(rows), dim=-1), torch.cat(labels), np.concatenate(tags),
                             proxies, names, torch.cat(items))
    if path is not None:
        export.save(path)
    return export


def synthetic_batch(run: FitResult, *, batch_size: int | None = None, alpha: float | None = None,
                    mu: float | None = None, seed: int = 0, classes=None, **synthesis_options) -> SynthesisResult:
    """What PS makes on one batch of seen items: real and synthetic embeddings and proxies, with the pairs and λ.

    The batch is a seeded draw of ``batch_size`` seen items (default: the run's), embedded in eval mode; ``classes``
    (seen labels) draws it from those classes only. α and μ default to the run's. Pass ``lam=`` or ``partner=`` to
    fix them (see `psviz.proxy_synthesis`).
    """
    config = run.config
    device = next(run.model.parameters()).device
    train_set = plain_splits(config)[datasets.SEEN][0]
    pool = torch.arange(len(train_set))
    if classes is not None:
        pool = pool[torch.isin(train_set.targets, torch.as_tensor(list(classes), dtype=torch.long))]
        if len(pool) < 2:
            raise ValueError(f"classes: the seen split has {len(pool)} items of those classes; a batch needs two")
    n = min(batch_size or config.batch_size, len(pool))
    indices = pool[torch.randperm(len(pool), generator=torch.Generator().manual_seed(seed))[:n]].tolist()
    embeddings, labels = embed(run.model, train_set, device, indices=indices)
    generator = torch.Generator().manual_seed(seed)
    return proxy_synthesis(embeddings, run.loss.proxy_tensor().detach().float().cpu(), labels,
                           config.alpha if alpha is None else alpha, config.mu if mu is None else mu,
                           generator=generator, **synthesis_options)


__all__ = ["EmbeddingExport", "export_embeddings", "synthetic_batch"]
