"""Everything a run is built from its config: datasets, model, loss, optimizer and schedule, checked before training."""

from __future__ import annotations

import contextlib
import copy
from dataclasses import dataclass

import torch
from torch import nn

from .. import data as datasets
from .. import models
from ..data.holdout import HELDOUT, class_subset, holdout_indices
from ..method import losses
from ..method.synthesis import ProxySynthesis
from .config import ConfigError, TrainConfig
from .evaluation import retrievable_items


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


def eval_copy(dataset: datasets.MetricDataset, transform) -> datasets.MetricDataset:
    """A shallow copy of ``dataset`` with another transform (its items unaugmented, as evaluation sees them)."""
    clone = copy.copy(dataset)
    clone.transform = transform
    return clone


def _loader(name: str, config: TrainConfig, progress: bool = True):
    """``load(split, transform)``: one split of the config's dataset, served from its decoded cache (built on first
    use, shorter side at the test transform's resize, with a bar unless ``progress`` is false) when
    ``config.image_cache`` is "decoded"."""
    options = dict(config.dataset_options)
    if config.root is not None:
        options["root"] = config.root

    def load(split: str, transform):
        dataset = datasets.load(name, split, transform=transform, **options)
        if config.image_cache == "decoded":
            from ..data.transforms import resize_size

            dataset = datasets.decoded_split(dataset, resize_size(config.image_size), progress=progress)
        return dataset

    return load


def build_datasets(config: TrainConfig, progress: bool = True):
    """(training split with its train transform, {name: (queries, gallery or None)} for evaluation); ``progress``:
    a bar while a decoded image cache is built."""
    entry = datasets.info(config.dataset)
    files = entry.needs_root
    style = "bn_inception" if config.model == "bn_inception" else "imagenet"
    if files or config.model in models.BACKBONES:  # an ImageNet backbone gets the recipe's crops on any images
        from ..data.transforms import image_transform, tensor_image_transform

        make = image_transform if files else tensor_image_transform
        train_tf = make(config.augment, config.image_size, style)
        eval_tf = make(False, config.image_size, style)
    else:
        from ..data.transforms import small_image_augmentation

        train_tf, eval_tf = (small_image_augmentation() if config.augment else None), None
    load = _loader(entry.name, config, progress)
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
        eval_sets[HELDOUT] = (heldout, eval_copy(train_set, eval_tf))
    if config.eval_seen:
        eval_sets["seen"] = (eval_copy(train_set, eval_tf), None)
    return train_set, eval_sets


def plain_splits(config: TrainConfig) -> dict[str, list]:
    """The run's seen split (its training items, without training augmentation), its unseen part(s) and, when the
    config holds items out, the held-out seen-class items: as evaluation sees them."""
    train_set, eval_sets = build_datasets(config.replace(eval_seen=False))
    queries, gallery = eval_sets[datasets.UNSEEN]
    parts = {datasets.SEEN: [eval_copy(train_set, queries.transform)],
             datasets.UNSEEN: [d for d in (queries, gallery) if d is not None]}
    if HELDOUT in eval_sets:
        parts[HELDOUT] = [eval_sets[HELDOUT][0]]
    return parts


def _input_options(config: TrainConfig, train_set) -> dict:
    """Model options, with the input size of the small models read off the data when the config leaves it out."""
    options = dict(config.model_options)
    if config.model in ("mlp", "small_cnn") and len(train_set):
        sample = train_set[0][0]
        if config.model == "mlp":
            size = int(sample.numel())
            _check_input(options, "in_features", size, f"an item of {config.dataset} holds {size} values")
            options.setdefault("in_features", size)
        elif sample.dim() == 3:
            channels = int(sample.shape[0])
            _check_input(options, "in_channels", channels,
                         f"an item of {config.dataset} has {channels} channel{'s' if channels != 1 else ''}")
            options.setdefault("in_channels", channels)
    return options


def _check_input(options: dict, name: str, actual: int, what: str) -> None:
    """A model option that sizes the input must match the data (else the first step fails, with the run folder
    already written)."""
    if name in options and options[name] != actual:
        raise ConfigError(f"model_options: {name}={options[name]!r} does not match the data: {what}; leave "
                          f"{name} out (it is read off the data) or set it to {actual}")


def _model(config: TrainConfig, train_set) -> nn.Module:
    """The config's model, its input size read off the data; a bad option is a `ConfigError` naming it."""
    options = _input_options(config, train_set)
    try:
        return models.create(config.model, config.embedding_dim, **options)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"model_options: {error}") from error


def build(config: TrainConfig, device: torch.device, progress: bool = True) -> Parts:
    """Datasets, model, loss, optimizer and schedule from a config (deterministic given config.seed)."""
    train_set, eval_sets = build_datasets(config, progress)
    per_batch = config.batch_size // config.samples_per_class
    if config.sampler == "balanced" and per_batch > train_set.n_classes:
        raise ConfigError(f"batch_size / samples_per_class = {per_batch} classes a batch, but the seen split of "
                          f"{config.dataset} has {train_set.n_classes} classes; raise samples_per_class")
    _check_data(config, train_set, eval_sets)
    torch.manual_seed(config.seed)
    model = _model(config, train_set)
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
    """The torch device of a config's ``device`` ("auto" picks CUDA when there is one), per local rank."""
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "cpu"
    if name.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device {name!r} asked for, but no CUDA device is available (use device=cpu or auto)")
    if name == "cuda" and local_rank is not None:
        name = f"cuda:{local_rank}"
    return torch.device(name)


def autocast_for(config: TrainConfig, device: torch.device):
    """The mixed-precision context of ``config.amp`` on CUDA; a no-op on the CPU or with amp="none"."""
    if config.amp == "none" or device.type != "cuda":
        return contextlib.nullcontext()
    return torch.autocast("cuda", dtype=torch.bfloat16 if config.amp == "bf16" else torch.float16)


def to_device(x: torch.Tensor, device: torch.device, channels_last: bool) -> torch.Tensor:
    """A batch on ``device``, in channels-last layout for 4-D CUDA inputs when asked."""
    if channels_last and device.type == "cuda" and x.dim() == 4:
        return x.to(device, memory_format=torch.channels_last, non_blocking=True)
    return x.to(device, non_blocking=True)


__all__ = ["Parts", "autocast_for", "build", "build_datasets", "eval_copy", "plain_splits", "resolve_device", "to_device"]
