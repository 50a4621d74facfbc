"""`fit(config)`: one trainer for small CPU runs and full GPU runs, with evaluation, checkpoints and resume."""

from __future__ import annotations

import contextlib
import copy
import json
import signal
import threading
import time
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

import torch
from torch import nn
from tqdm.auto import tqdm

from .. import data as datasets
from .. import losses, models
from ..data.holdout import HELDOUT, class_subset, holdout_indices
from ..evaluate import retrieval_metrics
from ..files import atomic_write_text
from ..synthesis import ProxySynthesis
from . import distributed, run_folder
from .checkpoint import BEST, LAST, restore_scheduler, save_checkpoint, scheduler_state
from .config import ConfigError, TrainConfig


@dataclass
class FitResult:
    """What a run leaves: the trained model and loss (with its proxies), the per-epoch history and where it saved."""

    model: nn.Module
    loss: losses.ProxyLoss
    history: list[dict]
    config: TrainConfig
    run_dir: Path | None = None
    interrupted: bool = False

    def last_metrics(self, split: str = "unseen") -> dict:
        """The latest evaluated metrics of ``split`` ("unseen" or "seen"), without the prefix."""
        for row in reversed(self.history):
            found = {k.split("/", 1)[1]: v for k, v in row.items() if k.startswith(split + "/")}
            if found:
                return found
        return {}


@dataclass
class Batches:
    """One epoch's batches of indices, a pure function of (seed, epoch, rank), so a resumed run sees the same."""

    config: TrainConfig
    targets: torch.Tensor
    rank: int = 0
    world: int = 1

    def epoch(self, epoch: int) -> list[list[int]]:
        c = self.config
        if c.sampler == "balanced":
            sampler = datasets.ClassBalancedBatchSampler(
                self.targets, c.batch_size // c.samples_per_class, c.samples_per_class,
                n_batches=max(1, len(self.targets) // (c.batch_size * self.world)), seed=c.seed * 7919 + self.rank)
            sampler.set_epoch(epoch)
            return list(sampler)
        generator = torch.Generator().manual_seed(_mix(c.seed, epoch))
        order = torch.randperm(len(self.targets), generator=generator)
        n = len(order) // c.batch_size  # drop the ragged last batch: BatchNorm and pairing want full batches
        if n == 0:
            raise ValueError(f"batch_size={c.batch_size} exceeds the {len(order)} training items")
        batches = mix_single_class_batches(order[: n * c.batch_size].view(n, c.batch_size),
                                           order[n * c.batch_size:], self.targets).tolist()
        per_rank = len(batches) // self.world  # every rank takes the same number of steps (DDP runs in lockstep)
        if per_rank == 0:
            raise ValueError(f"{len(batches)} batches cannot be shared by {self.world} processes; lower batch_size")
        return batches[self.rank::self.world][:per_rank]


def mix_single_class_batches(batches: torch.Tensor, spare: torch.Tensor, targets: torch.Tensor) -> torch.Tensor:
    """``batches`` [n, B] of item indices, with every batch that holds one class given an item of another class.

    A random batch can hold a single class by chance (likely with small batches or few classes), and Proxy
    Synthesis cannot pair such a batch. Its last item is swapped with the first unused (``spare``) item of another
    class, else with an item of another batch that keeps two classes without it. Deterministic, and a no-op for
    batches that already mix classes, so runs without such a batch are unchanged.
    """
    labels = targets[batches]
    single = torch.nonzero((labels == labels[:, :1]).all(dim=1)).flatten().tolist()
    if not single or batches.shape[1] < 2 or torch.unique(targets).numel() < 2:
        return batches
    batches, spare = batches.clone(), spare.clone()
    for row in single:
        label = targets[batches[row, 0]]
        if (targets[batches[row]] != label).any():  # it gave an item to an earlier batch and mixes classes now
            continue
        others = torch.nonzero(targets[spare] != label).flatten()
        if others.numel():
            at = int(others[0])
            batches[row, -1], spare[at] = spare[at].clone(), batches[row, -1].clone()
            continue
        other, at = _donor(batches, row, label, targets)
        batches[row, -1], batches[other, at] = batches[other, at].clone(), batches[row, -1].clone()
    return batches


def _donor(batches: torch.Tensor, row: int, label, targets: torch.Tensor) -> tuple[int, int]:
    """(batch, position) of the first item of another class than ``label`` whose batch still holds another class
    than ``label`` when that item is swapped for one of class ``label``."""
    n = batches.shape[0]
    for step in range(1, n):
        other = (row + step) % n
        differs = (targets[batches[other]] != label).tolist()
        if sum(differs) > 1:  # once one is given away, another item of a class other than label stays
            return other, differs.index(True)
    raise RuntimeError("no batch can give an item of another class (the training data holds a single class)")


def _mix(seed: int, epoch: int, rank: int = 0) -> int:
    return (seed * 1_000_003 + epoch * 7_919 + rank * 104_729) % (2**63 - 1)


@dataclass
class Parts:
    """Everything built from a config."""

    train_set: datasets.MetricDataset
    eval_sets: dict
    model: nn.Module
    loss: losses.ProxyLoss
    optimizer: torch.optim.Optimizer
    scheduler: torch.optim.lr_scheduler.LRScheduler
    scaler: torch.amp.GradScaler | None = None
    ks: tuple = ()


def _eval_copy(dataset: datasets.MetricDataset, transform) -> datasets.MetricDataset:
    clone = copy.copy(dataset)
    clone.transform = transform
    return clone


def build_datasets(config: TrainConfig):
    """(training split with its train transform, {name: (queries, gallery or None)} for evaluation)."""
    entry = datasets.info(config.dataset)
    files = entry.needs_root
    style = "bn_inception" if config.model == "bn_inception" else "imagenet"
    if files:
        from ..data.transforms import image_transform

        train_tf = image_transform(True, config.image_size, style) if config.augment else \
            image_transform(False, config.image_size, style)
        eval_tf = image_transform(False, config.image_size, style)
    else:
        from ..data.transforms import small_image_augmentation

        train_tf, eval_tf = (small_image_augmentation() if config.augment else None), None
    options = dict(config.dataset_options)
    if config.root is not None:
        options["root"] = config.root
    load = lambda split, tf: datasets.load(entry.name, split, transform=tf, **options)  # noqa: E731
    train_set = load(datasets.SEEN, train_tf)
    if config.train_classes is not None:
        train_set = train_set.subset(class_subset(train_set.targets, config.train_classes), relabel=True)
    heldout = None
    if config.holdout_per_class or config.train_per_class is not None:
        train_index, held_index = holdout_indices(train_set.targets, config.holdout_per_class,
                                                  train_limit=config.train_per_class)
        if config.holdout_per_class:
            heldout = train_set.subset(held_index, HELDOUT)
            heldout.transform = eval_tf
        train_set = train_set.subset(train_index)
    if "query" in entry.splits:
        eval_sets = {"unseen": (load("query", eval_tf), load("gallery", eval_tf))}
    else:
        eval_sets = {"unseen": (load(datasets.UNSEEN, eval_tf), None)}
    if heldout is not None:  # new images of the seen classes, searched among the training images
        eval_sets[HELDOUT] = (heldout, _eval_copy(train_set, eval_tf))
    if config.eval_seen:
        eval_sets["seen"] = (_eval_copy(train_set, eval_tf), None)
    return train_set, eval_sets


def _input_options(config: TrainConfig, train_set) -> dict:
    """Model options, with the input size of the small models read off the data when the config leaves it out."""
    options = dict(config.model_options)
    if config.model in ("mlp", "small_cnn") and len(train_set):
        sample = train_set[0][0]
        if config.model == "mlp":
            options.setdefault("in_features", int(sample.numel()))
        elif sample.dim() == 3:
            options.setdefault("in_channels", int(sample.shape[0]))
    return options


def build(config: TrainConfig, device: torch.device) -> Parts:
    """Datasets, model, loss, optimizer and schedule from a config (deterministic given config.seed)."""
    train_set, eval_sets = build_datasets(config)
    per_batch = config.batch_size // config.samples_per_class
    if config.sampler == "balanced" and per_batch > train_set.n_classes:
        raise ConfigError(f"batch_size / samples_per_class = {per_batch} classes a batch, but the seen split of "
                          f"{config.dataset} has {train_set.n_classes} classes; raise samples_per_class")
    _check_data(config, train_set, eval_sets)
    torch.manual_seed(config.seed)
    model = models.create(config.model, config.embedding_dim, **_input_options(config, train_set))
    _check_batchnorm(config, model)
    synthesis = ProxySynthesis(config.alpha, config.mu) if config.ps else None
    loss = losses.create(config.loss, train_set.n_classes, config.embedding_dim, synthesis=synthesis,
                         **config.loss_options)
    model.to(device)
    if config.channels_last and device.type == "cuda":
        model.to(memory_format=torch.channels_last)
    loss.to(device)
    groups = [{"params": [p for p in model.parameters() if p.requires_grad], "lr": config.lr},
              {"params": list(loss.parameters()), "lr": config.proxy_lr}]
    if config.optimizer == "sgd":
        optimizer = torch.optim.SGD(groups, momentum=config.momentum, weight_decay=config.weight_decay)
    else:
        cls = torch.optim.Adam if config.optimizer == "adam" else torch.optim.AdamW
        optimizer = cls(groups, eps=config.adam_eps, weight_decay=config.weight_decay)
    scheduler = torch.optim.lr_scheduler.MultiStepLR(optimizer, config.lr_milestones, config.lr_gamma)
    scaler = torch.amp.GradScaler("cuda") if config.amp == "fp16" and device.type == "cuda" else None
    return Parts(train_set, eval_sets, model, loss, optimizer, scheduler, scaler, tuple(config.ks))


def _check_data(config: TrainConfig, train_set, eval_sets: dict) -> None:
    """Refuse, before training, what the data cannot give: two classes for PS, or a K beyond a split's items."""
    if config.ps and train_set.n_classes < 2:
        raise ConfigError(f"ps=true needs at least two seen classes to mix; the training split of {config.dataset} "
                          f"has {train_set.n_classes}")
    for split, (queries, gallery) in eval_sets.items():
        n_items = retrievable_items(queries, gallery)
        too_big = [k for k in config.ks if k > n_items]
        if too_big:
            raise ConfigError(f"ks: {too_big} exceed the {n_items} items a query of the {split} split of "
                              f"{config.dataset} can retrieve; every K must be at most {n_items}")


def _check_batchnorm(config: TrainConfig, model: nn.Module) -> None:
    """BatchNorm layers that train need two items a batch (one gives no variance): refuse batch_size=1."""
    if config.batch_size > 1:
        return
    model.train()  # a model that freezes its BatchNorm layers puts them in eval mode here
    if any(isinstance(m, nn.modules.batchnorm._BatchNorm) and m.training for m in model.modules()):
        raise ConfigError(f"batch_size=1: model {config.model!r} has BatchNorm layers, which need at least two "
                          f"items a batch to train; use batch_size >= 2")


def resolve_device(name: str, local_rank: int | None = None) -> torch.device:
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but no CUDA device is available (use device=cpu or auto)")
    if name == "cuda" and local_rank is not None:
        name = f"cuda:{local_rank}"
    return torch.device(name)


def _autocast(config: TrainConfig, device: torch.device):
    if config.amp == "none" or device.type != "cuda":
        return contextlib.nullcontext()
    return torch.autocast("cuda", dtype=torch.bfloat16 if config.amp == "bf16" else torch.float16)


def _to_device(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    if channels_last and device.type == "cuda" and x.dim() == 4:
        return x.to(device, memory_format=torch.channels_last, non_blocking=True)
    return x.to(device, non_blocking=True)


def _collate(dataset, indices: list[int]):
    if isinstance(dataset, datasets.TensorSplit) and dataset.transform is None:
        x, y = dataset.tensors_at(indices)
        return x, y
    items = [dataset[i] for i in indices]
    return torch.stack([x for x, _ in items]), torch.tensor([y for _, y in items])


def _loader(dataset, batches: list[list[int]], num_workers: int):
    if num_workers == 0:
        return (_collate(dataset, b) for b in batches)
    return torch.utils.data.DataLoader(dataset, batch_sampler=batches, num_workers=num_workers,
                                       persistent_workers=False)


@torch.no_grad()
def embed(model: nn.Module, dataset, device: torch.device, *, batch_size: int = 512, num_workers: int = 0,
          autocast=None, indices: list[int] | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Embeddings (float32, on CPU) and labels of ``dataset`` (or of ``indices`` of it), model in eval mode."""
    was_training = model.training
    model.eval()
    order = list(range(len(dataset))) if indices is None else list(indices)
    chunks = [order[i:i + batch_size] for i in range(0, len(order), batch_size)]
    outputs, labels = [], []
    try:
        for x, y in _loader(dataset, chunks, num_workers):
            with autocast or contextlib.nullcontext():
                outputs.append(model(x.to(device, non_blocking=True)).float().cpu())
            labels.append(y)
    finally:
        model.train(was_training)
    if not outputs:
        return torch.empty(0, getattr(model, "embedding_dim", 0)), torch.empty(0, dtype=torch.long)
    return torch.cat(outputs), torch.cat(labels)


def retrievable_items(queries, gallery) -> int:
    """How many items one query of an evaluation split can retrieve: the gallery, or the other queries."""
    return len(gallery) if gallery is not None else len(queries) - 1


def evaluate(model: nn.Module, eval_sets: dict, ks: Iterable[int], device: torch.device, *,
             num_workers: int = 0, autocast=None, dist=None, progress: bool = False) -> dict:
    """Recall@K, R-Precision and MAP@R per evaluation split, keys like "unseen/map@r" (rank 0 holds them).

    A K larger than a split's retrievable items is left out of that split, with a warning that says so.
    """
    ks, results = list(ks), {}
    for split, (queries, gallery) in eval_sets.items():
        runs = [queries] if gallery is None else [queries, gallery]
        embedded = [distributed.embed_all(model, ds, device, num_workers=num_workers, autocast=autocast, dist=dist)
                    if dist is not None else embed(model, ds, device, num_workers=num_workers, autocast=autocast)
                    for ds in runs]
        if dist is not None and not dist.is_main:
            continue
        (e, y) = embedded[0]
        n_items = len(embedded[1][0]) if gallery is not None else len(e) - 1
        valid_ks = [k for k in ks if k <= n_items]
        if len(valid_ks) < len(ks):
            skipped = ", ".join(f"Recall@{k}" for k in ks if k > n_items)
            warnings.warn(f"{split}: {skipped} left out: a query can retrieve only {n_items} items", stacklevel=2)
        kwargs = {} if gallery is None else {"gallery": embedded[1][0], "gallery_labels": embedded[1][1]}
        metrics = retrieval_metrics(e, y, valid_ks or [1], progress=progress, **kwargs)
        for key, value in metrics.items():
            results[f"{split}/{key}"] = value
    return results


class Interrupted(KeyboardInterrupt):
    """A run stopped by a signal (Ctrl-C's SIGINT, or SIGTERM from kill or a scheduler); ``signum`` says which."""

    def __init__(self, signum: int = signal.SIGINT):
        super().__init__(signal.Signals(signum).name)
        self.signum = int(signum)


class _StopFlag:
    """SIGINT (and SIGTERM, when the run has a folder to save to) ask the loop to stop after the current step, save,
    and raise `Interrupted`; a second signal stops at once."""

    def __init__(self, signals=(signal.SIGINT,)):
        self.signals = tuple(signals)
        self.requested = None  # the signal number once one arrived
        self._previous = {}

    def __enter__(self):
        if threading.current_thread() is threading.main_thread():
            for signum in self.signals:
                self._previous[signum] = signal.getsignal(signum)
                signal.signal(signum, self._handle)
        return self

    def _handle(self, signum, frame):
        if self.requested is not None:
            raise Interrupted(signum)
        self.requested = signum

    def __exit__(self, *exc):
        for signum, previous in self._previous.items():
            signal.signal(signum, previous)
        return False


def _checkpoint_state(config, parts: Parts, epoch: int, step: int, history: list, best: float | None) -> dict:
    state = {
        "format": "psviz-checkpoint-1",
        "config": config.to_dict(),
        "model": parts.model.state_dict(),
        "loss": parts.loss.state_dict(),
        "optimizer": parts.optimizer.state_dict(),
        "scheduler": scheduler_state(parts.scheduler),
        "epoch": epoch,
        "step": step,
        "history": history,
        "best_map_r": best,
        "rng_cpu": torch.get_rng_state(),
    }
    if torch.cuda.is_available():
        state["rng_cuda"] = torch.cuda.get_rng_state_all()
    if parts.scaler is not None:
        state["scaler"] = parts.scaler.state_dict()
    return state


def _restore(parts: Parts, state: dict) -> None:
    parts.model.load_state_dict(state["model"])
    parts.loss.load_state_dict(state["loss"])
    parts.optimizer.load_state_dict(state["optimizer"])
    restore_scheduler(parts.scheduler, state["scheduler"])
    if parts.scaler is not None and "scaler" in state:
        parts.scaler.load_state_dict(state["scaler"])


def _call(callbacks, event: str, **info) -> None:
    for callback in callbacks:
        method = getattr(callback, f"on_{event}", None)
        if method is not None:
            method(**info)
        elif callable(callback) and event == "epoch_end":
            callback(**info)


def fit(config: TrainConfig | dict, *, callbacks: Iterable = (), resume: bool = False, overwrite: bool = False,
        progress: bool = True) -> FitResult:
    """Train on the seen classes of ``config.dataset``; evaluate on the unseen ones every ``eval_every`` epochs.

    ``callbacks``: objects with ``on_step_end(**info)`` / ``on_epoch_end(**info)`` methods, or plain functions
    called after each epoch with ``epoch``, ``history``, ``model``, ``loss`` and ``metrics``. With
    ``config.output_dir`` set, the run writes config.yaml, history.json, last.pt (after each evaluation, and on
    Ctrl-C or SIGTERM) and best.pt (best unseen MAP@R) there. The folder belongs to this run while it trains (a
    second writer is refused) and must be empty: ``resume=True`` continues the run stored there (same config, up to
    `run_folder.RESUMABLE`), ``overwrite=True`` deletes its files and starts afresh.
    """
    if isinstance(config, dict):
        config = TrainConfig.from_dict(config)
    run_dir = Path(config.output_dir) if config.output_dir else None
    if resume and run_dir is None:
        raise ValueError("resume=True needs config.output_dir, the folder of the run to continue")
    if resume and overwrite:
        raise ValueError("resume=True continues the stored run and overwrite=True deletes it: choose one")
    dist = distributed.Context.from_env(config.device)
    device = resolve_device(config.device, dist.local_rank if dist else None)
    parts = build(config, device)  # a config the data or model cannot take fails here, before the folder is touched
    with contextlib.ExitStack() as claim:
        state = None
        if run_dir is not None and (dist is None or dist.is_main):  # rank 0 owns the folder; the others read it
            claim.enter_context(run_folder.locked(run_folder.make_folder(run_dir)))
            state = run_folder.prepare(run_dir, config, resume=resume, overwrite=overwrite)
        elif resume and run_dir is not None:
            state = run_folder.resume_state(run_dir, config)
        return _train(config, parts, dist, device, list(callbacks), state, progress)


def _train(config: TrainConfig, parts: Parts, dist, device: torch.device, callbacks: list, state: dict | None,
           progress: bool) -> FitResult:
    run_dir = Path(config.output_dir) if config.output_dir else None
    main = dist is None or dist.is_main
    epoch, step, history, best, rng = 0, 0, [], None, None
    if state is not None:
        _restore(parts, state)
        epoch, step, history, best = state["epoch"], state["step"], state["history"], state["best_map_r"]
        rng = state
    if main and run_dir is not None:
        config.to_yaml(run_dir / run_folder.CONFIG)
    trainable = distributed.wrap(parts.model, parts.loss, dist, device)
    batches = Batches(config, parts.train_set.targets, dist.rank if dist else 0, dist.world if dist else 1)
    autocast = _autocast(config, device)
    interrupted = False
    # one bar for the whole run (one line in a notebook, however many epochs), over all its steps
    per_epoch = len(batches.epoch(0))
    bar = tqdm(total=config.epochs * per_epoch, initial=epoch * per_epoch + step, unit="step",
               desc=f"{config.loss}{' + PS' if config.ps else ''} on {config.dataset}",
               disable=not (progress and main), leave=True)
    shown = {"epoch": f"{epoch}/{config.epochs}"}
    signals = (signal.SIGINT, signal.SIGTERM) if main and run_dir is not None else (signal.SIGINT,)
    with _StopFlag(signals) as stop:
        try:
            while epoch < config.epochs:
                epoch_batches = batches.epoch(epoch)
                if step == 0:  # every epoch's random stream depends on (seed, epoch, rank) only
                    torch.manual_seed(_mix(config.seed, epoch, dist.rank if dist else 0))
                elif rng is not None:  # resuming mid-epoch: continue the random streams exactly where they stopped
                    torch.set_rng_state(rng["rng_cpu"])
                    if "rng_cuda" in rng and torch.cuda.is_available():
                        torch.cuda.set_rng_state_all(rng["rng_cuda"])
                rng = None
                parts.model.train()
                parts.loss.train()
                started, total, count = time.perf_counter(), 0.0, 0
                prior = history[-1] if history and history[-1].get("epoch") == epoch + 1 else None
                if prior is not None:  # a partly done epoch: keep its running loss
                    total, count = prior.get("_loss_sum", 0.0), prior.get("_loss_count", 0)
                    history.pop()
                for x, y in _loader(parts.train_set, epoch_batches[step:], config.num_workers):
                    x, y = _to_device(x, device, config.channels_last), y.to(device, non_blocking=True)
                    with autocast:
                        value = trainable(x, y)
                    parts.optimizer.zero_grad(set_to_none=True)
                    if parts.scaler is not None:
                        parts.scaler.scale(value).backward()
                        parts.scaler.step(parts.optimizer)
                        parts.scaler.update()
                    else:
                        value.backward()
                        parts.optimizer.step()
                    step += 1
                    step_loss = value.item()
                    total, count = total + step_loss, count + 1
                    parts.loss.raise_pending()  # input checks deferred on CUDA (free after .item()'s sync)
                    bar.update(1)
                    bar.set_postfix({**shown, "epoch": f"{epoch + 1}/{config.epochs}", "loss": f"{total / count:.3f}"},
                                    refresh=False)
                    _call(callbacks, "step_end", epoch=epoch, step=step, loss=step_loss)
                    if stop.requested is not None:
                        history.append({"epoch": epoch + 1, "loss": total / count, "_loss_sum": total,
                                        "_loss_count": count, "partial": True})
                        raise Interrupted(stop.requested)
                distributed.sync_buffers(parts.model, dist)
                parts.scheduler.step()
                epoch, step = epoch + 1, 0
                row = {"epoch": epoch, "loss": total / max(count, 1),
                       "lr": parts.optimizer.param_groups[0]["lr"], "proxy_lr": parts.optimizer.param_groups[1]["lr"],
                       "seconds": time.perf_counter() - started}
                metrics = {}
                if epoch % config.eval_every == 0 or epoch == config.epochs:
                    metrics = evaluate(parts.model, parts.eval_sets, parts.ks, device,
                                       num_workers=config.num_workers, autocast=autocast, dist=dist,
                                       progress=progress and main)
                    row.update(metrics)
                history.append(row)
                if "unseen/map@r" in row:
                    shown.update({"unseen R@1": f"{row['unseen/recall@1']:.3f}",
                                  "MAP@R": f"{row['unseen/map@r']:.3f}"})
                    bar.set_postfix({**shown, "epoch": f"{epoch}/{config.epochs}", "loss": f"{row['loss']:.3f}"})
                if main and metrics and run_dir is not None:
                    improved = best is None or row["unseen/map@r"] > best
                    best = row["unseen/map@r"] if improved else best
                    state = _checkpoint_state(config, parts, epoch, 0, history, best)
                    save_checkpoint(state, run_dir / LAST)
                    if improved:
                        save_checkpoint(state, run_dir / BEST)
                    _write_history(run_dir, history)
                _call(callbacks, "epoch_end", epoch=epoch, history=history, model=parts.model, loss=parts.loss,
                      metrics=metrics)
        except KeyboardInterrupt:
            interrupted = True
            # Only a stop requested through the flag happens between steps, where the state is consistent; a hard
            # interrupt (a second Ctrl-C) keeps the last checkpoint written after an evaluation.
            if main and run_dir is not None and stop.requested is not None:
                save_checkpoint(_checkpoint_state(config, parts, epoch, step, history, best), run_dir / LAST)
                _write_history(run_dir, history)
                tqdm.write(f"interrupted: saved {run_dir / LAST} at epoch {epoch + 1}, step {step}; "
                           f"continue with resume=True (psviz train ... --resume)")
            raise
        finally:
            bar.close()
            if dist is not None:
                dist.close()
    return FitResult(parts.model, parts.loss, [r for r in history if not r.get("partial")], config, run_dir,
                     interrupted)


def _write_history(run_dir: Path, history: list[dict]) -> None:
    rows = [{k: v for k, v in r.items() if not k.startswith("_")} for r in history]
    atomic_write_text(run_dir / run_folder.HISTORY, json.dumps(rows, indent=1))


__all__ = ["FitResult", "Interrupted", "fit", "build", "embed", "evaluate", "resolve_device"]
