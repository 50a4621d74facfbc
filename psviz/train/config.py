"""One run = one `TrainConfig`: a flat dataclass that round-trips to YAML/JSON and names the key of any bad value."""

from __future__ import annotations

import dataclasses
import difflib
import inspect
import json
import math
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path

import yaml

from .. import data, models
from ..base.files import atomic_write_text
from ..method import losses
from ..method.synthesis import RELEASED_ALPHA, RELEASED_MU, n_synthetic_for


# how image files are served: "none" decodes each file when it is read; "decoded" serves them from a decoded cache
IMAGE_CACHES = ("none", "decoded")
# how deep lists and mappings may nest in a config value (options dicts and lists need two or three levels)
MAX_DEPTH = 32
# the largest seed every generator a run seeds takes: faiss's k-means takes a C int, and the balanced sampler's
# stream, seed * 7919 * 1_000_003, must stay below 2**64 for torch
MAX_SEED = 2**31 - 1


class ConfigError(ValueError):
    """A bad configuration: the message names the key and what is wrong with it."""


@dataclass
class TrainConfig:
    """Everything a training run needs. Options dicts go to the dataset, model and loss constructors."""

    # data: the seen split trains, the unseen split evaluates
    dataset: str = "digits"
    dataset_options: dict = field(default_factory=dict)
    root: str | None = None
    augment: bool = False
    image_size: int = 224
    # "decoded": image files decoded once into a uint8 cache at the test resize (image_size * 256/224), which training
    # crops from; faster loading, slightly different training pixels (see psviz.data.decoded_cache)
    image_cache: str = "none"
    holdout_per_class: int = 0  # seen-class items kept out of training, evaluated as "heldout" (see psviz.data.holdout)
    train_per_class: int | None = None  # at most this many training items per seen class (None: all)
    train_classes: int | None = None  # train on a seeded subset of this many seen classes (None: all)
    # model
    model: str = "mlp"
    model_options: dict = field(default_factory=dict)
    embedding_dim: int = 64
    # loss and Proxy Synthesis
    loss: str = "norm_softmax"
    loss_options: dict = field(default_factory=dict)
    ps: bool = True
    alpha: float = RELEASED_ALPHA
    mu: float = RELEASED_MU
    # optimisation
    optimizer: str = "adam"
    lr: float = 1e-3
    proxy_lr: float = 1e-2
    weight_decay: float = 1e-4
    adam_eps: float = 1e-8
    momentum: float = 0.9
    lr_milestones: list = field(default_factory=list)
    lr_gamma: float = 0.1
    batch_size: int = 64
    sampler: str = "random"
    samples_per_class: int = 4
    epochs: int = 10
    # evaluation
    eval_every: int = 1
    eval_seen: bool = False
    ks: list = field(default_factory=lambda: [1, 2, 4, 8])
    # run
    seed: int = 0
    device: str = "auto"
    amp: str = "none"
    channels_last: bool = False
    num_workers: int = 0
    output_dir: str | None = None

    def __post_init__(self):
        if isinstance(self.ks, str):  # a preset name such as "sop"
            from ..evaluate import K_PRESETS

            if self.ks not in K_PRESETS:
                raise ConfigError(f"ks must be a list of integers or one of {sorted(K_PRESETS)}, got {self.ks!r}")
            self.ks = list(K_PRESETS[self.ks])
        self.validate()

    # ---- validation -------------------------------------------------------------------------------------------
    def validate(self) -> "TrainConfig":
        hints = typing.get_type_hints(TrainConfig)
        for f in dataclasses.fields(self):  # first, as the checks below walk nested values recursively
            if _deeper_than(getattr(self, f.name), MAX_DEPTH):
                raise ConfigError(f"{f.name}: nested more than {MAX_DEPTH} levels deep (lists or mappings inside "
                                  f"one another); a config's values are flat or a few levels deep")
        for f in dataclasses.fields(self):
            _check_type(f.name, getattr(self, f.name), hints[f.name])
            _check_finite(f.name, getattr(self, f.name))
        _choice("optimizer", self.optimizer, ("adam", "adamw", "sgd"))
        _choice("sampler", self.sampler, ("random", "balanced"))
        _choice("device", self.device, ("auto", "cpu", "cuda"), prefix_ok=("cuda:",))
        _choice("amp", self.amp, ("none", "bf16", "fp16"))
        _choice("image_cache", self.image_cache, IMAGE_CACHES)
        for name in ("lr", "proxy_lr", "adam_eps", "alpha", "lr_gamma"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("weight_decay", "mu", "momentum"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        for name in ("image_size", "embedding_dim", "batch_size", "samples_per_class", "epochs", "eval_every"):
            if getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1, got {getattr(self, name)}")
        if self.num_workers < 0:
            raise ConfigError(f"num_workers must be >= 0, got {self.num_workers}")
        if not 0 <= self.seed <= MAX_SEED:
            raise ConfigError(f"seed must be an integer from 0 to {MAX_SEED} (2**31 - 1), got {self.seed}")
        if self.holdout_per_class < 0:
            raise ConfigError(f"holdout_per_class must be >= 0, got {self.holdout_per_class}")
        for name in ("train_per_class", "train_classes"):
            if getattr(self, name) is not None and getattr(self, name) < 1:
                raise ConfigError(f"{name} must be >= 1 or null, got {getattr(self, name)}")
        self._check_batches()
        if any(not isinstance(m, int) or m < 1 for m in self.lr_milestones):
            raise ConfigError(f"lr_milestones must be epochs >= 1, got {self.lr_milestones}")
        if not self.ks or any(not isinstance(k, int) or k < 1 for k in self.ks):
            raise ConfigError(f"ks must be a non-empty list of integers >= 1, got {self.ks}")
        self._use_canonical_names()
        self._check_dataset_options()
        if self.image_cache != "none" and not data.info(self.dataset).needs_root:
            raise ConfigError(f"image_cache={self.image_cache!r} caches image files; dataset {self.dataset!r} is not "
                              f"read from files (it is held in memory already): use image_cache='none'")
        unknown = set(self.loss_options) - set(losses.hyperparameters(self.loss))
        if unknown:
            raise ConfigError(f"loss_options: {self.loss!r} has no hyper-parameter {sorted(unknown)}; valid: "
                              f"{sorted(losses.hyperparameters(self.loss))}")
        return self

    def _use_canonical_names(self) -> None:
        """Store dataset, loss and model under their registered names ("Norm-SoftMax" -> "norm_softmax"), so one
        run has one config and one run key however its names were spelt; an unknown name raises ConfigError."""
        for key, registry in (("dataset", data.DATASET_REGISTRY), ("loss", losses.LOSSES), ("model", models.MODELS)):
            try:
                setattr(self, key, registry.canonical(getattr(self, key)))
            except ValueError as error:
                raise ConfigError(f"{key}: {error}") from None

    def _check_batches(self) -> None:
        """With PS on, every batch must be able to hold two classes: the operator mixes pairs of classes."""
        if self.sampler == "balanced" and self.batch_size % self.samples_per_class:
            raise ConfigError(f"batch_size ({self.batch_size}) must be a multiple of samples_per_class "
                              f"({self.samples_per_class}) with the balanced sampler")
        if not self.ps or n_synthetic_for(self.mu, self.batch_size) == 0:
            return
        if self.batch_size < 2:
            raise ConfigError("batch_size must be >= 2 with ps=true: Proxy Synthesis mixes pairs of items of two "
                              "classes")
        if self.sampler == "balanced" and self.batch_size // self.samples_per_class < 2:
            raise ConfigError(f"with ps=true and the balanced sampler a batch needs two classes, but batch_size / "
                              f"samples_per_class = {self.batch_size} / {self.samples_per_class} = 1 class; lower "
                              f"samples_per_class to at most {self.batch_size // 2}")

    def _check_dataset_options(self) -> None:
        """``root`` and ``dataset_options`` must be parameters of the dataset's loader (so they fail here, not there)."""
        entry = data.info(self.dataset)
        parameters = inspect.signature(entry.loader()).parameters
        if any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values()):
            return
        accepted = sorted(set(parameters) - {"split", "transform"})
        if self.root is not None and "root" not in accepted:
            raise ConfigError(f"root: dataset {entry.name!r} takes no root folder (it is built in: "
                              f"{entry.description})")
        unknown = sorted(set(self.dataset_options) - set(accepted))
        if unknown:
            raise ConfigError(f"dataset_options: dataset {entry.name!r} has no option {unknown}; valid: "
                              f"{[a for a in accepted if a != 'root'] or 'none'}")

    # ---- round trips ------------------------------------------------------------------------------------------
    def to_dict(self) -> dict:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, values: dict) -> "TrainConfig":
        if not isinstance(values, dict):
            raise ConfigError(f"a config must be a mapping of keys to values, got {type(values).__name__}")
        known = [f.name for f in dataclasses.fields(cls)]
        for key in values:
            if key not in known:
                close = difflib.get_close_matches(str(key), known, n=1)
                raise ConfigError(f"unknown key {key!r}" + (f" (did you mean {close[0]!r}?)" if close else ""))
        return cls(**values)

    def to_yaml(self, path: str | Path | None = None) -> str:
        text = yaml.safe_dump(self.to_dict(), sort_keys=False)
        if path is not None:
            atomic_write_text(path, text)  # a run folder's config.yaml is whole or absent, never half written
        return text

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), indent=2)

    @classmethod
    def load(cls, path: str | Path) -> "TrainConfig":
        """Read a .yaml/.yml/.json file."""
        path = Path(path)
        try:
            text = path.read_text()
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"cannot read config file {path}: {error}") from None
        kind = "JSON" if path.suffix == ".json" else "YAML"
        try:
            values = json.loads(text) if kind == "JSON" else yaml.load(text, Loader=_ConfigLoader)
        except RecursionError:
            raise ConfigError(f"{path} is nested too deeply to read: a config's values are nested at most "
                              f"{MAX_DEPTH} levels deep") from None
        except (json.JSONDecodeError, yaml.YAMLError) as error:
            raise ConfigError(f"{path} is not valid {kind}: {error}") from None
        if isinstance(values, dict):
            values = {k: _numeric(v) for k, v in values.items()}
        try:
            return cls.from_dict(values or {})
        except ConfigError as error:
            raise ConfigError(f"{path}: {error}") from None

    def replace(self, **changes) -> "TrainConfig":
        """A copy with ``changes`` applied (validated like any config)."""
        return self.from_dict({**self.to_dict(), **changes})

    def with_overrides(self, assignments: list[str]) -> "TrainConfig":
        """Apply command-line ``key=value`` strings; values are parsed as YAML (so 1e-3, true, [1, 2] work)."""
        changes = {}
        for assignment in assignments:
            key, sep, raw = assignment.partition("=")
            if not sep or not key.strip():
                raise ConfigError(f"--set takes key=value, got {assignment!r}")
            try:
                changes[key.strip()] = _numeric(yaml.load(raw, Loader=_ConfigLoader)) if raw.strip() else None
            except _AliasError as error:
                raise ConfigError(f"--set {key.strip()}: {error}") from None
            except RecursionError:
                raise ConfigError(f"--set {key.strip()}: nested too deeply to read (at most {MAX_DEPTH} "
                                  f"levels)") from None
            except yaml.YAMLError:
                changes[key.strip()] = raw
        return self.replace(**changes)


class _AliasError(yaml.YAMLError):
    """An alias (``*name``) in a config's YAML."""


class _ConfigLoader(yaml.SafeLoader):
    """PyYAML's safe loader without aliases. An alias repeats a node without copying it, so a few lines of aliases
    of aliases stand for billions of values (a "billion laughs" file), which validation would then walk; a config
    has no use for them. Anchors alone (``&name``) are harmless and pass."""

    def compose_node(self, parent, index):
        if self.check_event(yaml.AliasEvent):
            event = self.peek_event()
            raise _AliasError(f"alias *{event.anchor} at line {event.start_mark.line + 1}, column "
                              f"{event.start_mark.column + 1}: a psviz config takes no YAML aliases (they can "
                              f"expand a small file into billions of values); write the value out")
        return super().compose_node(parent, index)


def _deeper_than(value, limit: int) -> bool:
    """Whether lists, tuples or dicts nest inside ``value`` more than ``limit`` levels deep (walked without
    recursion, so any depth is measured)."""
    stack = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if isinstance(item, (dict, list, tuple)):
            if depth >= limit:
                return True
            stack.extend((child, depth + 1) for child in (item.values() if isinstance(item, dict) else item))
    return False


def _numeric(value):
    """PyYAML reads 3e-4 (no dot) as a string: take numeric-looking strings as floats."""
    if isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return value
    return value


def _check_type(name: str, value, hint) -> None:
    origin = typing.get_origin(hint)
    allowed = typing.get_args(hint) if origin in (typing.Union, types.UnionType) else (hint,)
    for option in allowed:
        base = typing.get_origin(option) or option
        if option is type(None) and value is None:
            return
        if base is float and isinstance(value, (int, float)) and not isinstance(value, bool):
            return
        if base is int and isinstance(value, int) and not isinstance(value, bool):
            return
        if base not in (float, int) and base is not type(None) and isinstance(value, base):
            return
    names = " or ".join("null" if a is type(None) else (typing.get_origin(a) or a).__name__ for a in allowed)
    raise ConfigError(f"{name} must be {names}, got {type(value).__name__} {value!r}")


def _check_finite(name: str, value) -> None:
    """No NaN or infinity anywhere in a value, nested option dicts and lists included (the key path is named)."""
    if isinstance(value, float) and not math.isfinite(value):
        raise ConfigError(f"{name} must be a finite number, got {value}")
    if isinstance(value, dict):
        for key, item in value.items():
            _check_finite(f"{name}.{key}", item)
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            _check_finite(f"{name}[{index}]", item)


def _choice(name: str, value: str, options: tuple[str, ...], prefix_ok: tuple[str, ...] = ()) -> None:
    if value not in options and not value.startswith(prefix_ok or ("\0",)):
        raise ConfigError(f"{name} must be one of {', '.join(options)}, got {value!r}")
