"""The Playground's settings: one frozen dataclass, read from a URL's query string (bad keys and values ignored and
named), written back to one, and turned into the `psviz train` config that runs the same experiment.

Nothing here needs Panel or a browser: the app calls these pure functions, and the tests do too.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field, replace
from urllib.parse import parse_qsl, urlencode

from ...base.paper import PAPER_RHO
from ...method import losses
from ...method.synthesis import RELEASED_ALPHA, mu_for_rho, n_synthetic_for, synthetic_per_class
from ...train.config import TrainConfig
from ...train.presets import TOY_BATCH, TOY_LONG_EPOCHS, TOY_SEEN_CLASSES, toy_budget
from .lessons import LESSONS

SEEN_LEVELS = tuple(TOY_LONG_EPOCHS)  # the effect map's toy levels: 4, 8, 12, 24 seen classes
EMBEDDINGS = (2, 3)
LEARNING_RATES = (0.0003, 0.001, 0.003, 0.01, 0.03, 0.1)
NOISE_RANGE = (0.05, 0.5)  # the toy's spread: the standard deviation of each cluster, per coordinate
ALPHA_RANGE = (0.05, 4.0)
MU_RANGE = (0.0, 6.0)  # 6 gives the effect map's largest ρ (16) at 24 seen classes
MU_STEP = 1 / TOY_BATCH  # one more synthetic class a batch per step
SEED_RANGE = (0, 1_000_000)
EPOCH_RANGE = (1, 1000)
# the controls a lesson can hide (`hide=loss,lr`): one per setting
CONTROLS = ("classes", "noise", "emb", "loss", "alpha", "mu", "lr", "seed", "epochs")
DEFAULT_NOISE = 0.15  # psviz.data.toy's default spread


class SettingsError(ValueError):
    """A setting out of its range: the message names the key and what it accepts."""


@dataclass(frozen=True)
class Settings:
    """What a lesson fixes: the toy data, the method, the optimiser, the seed, where training stops, and which
    controls are hidden. ``mu`` and ``epochs`` default to the seen-class level's (ρ ≈ 1.3, the long length)."""

    classes: int = TOY_SEEN_CLASSES
    noise: float = DEFAULT_NOISE
    emb: int = 3
    loss: str = "norm_softmax"
    alpha: float = RELEASED_ALPHA
    mu: float | None = None
    lr: float = 0.01
    seed: int = 0
    epochs: int | None = None
    hide: frozenset = field(default_factory=frozenset)
    lesson: int = 0  # the lesson the link opened (`lessons.LESSONS`, from 1); 0: none

    def __post_init__(self):
        for key in CONTROLS:
            value = getattr(self, key)
            if value is not None:
                try:
                    object.__setattr__(self, key, _SPECS[key].check(value))
                except SettingsError as error:
                    raise SettingsError(f"{key}: {error}") from None
        if self.mu is None:
            object.__setattr__(self, "mu", default_mu(self.classes))
        if self.epochs is None:
            object.__setattr__(self, "epochs", TOY_LONG_EPOCHS[self.classes])
        unknown = set(self.hide) - set(CONTROLS)
        if unknown:
            raise SettingsError(f"hide: no control {sorted(unknown)}; the controls are {', '.join(CONTROLS)}")
        object.__setattr__(self, "hide", frozenset(self.hide))
        try:
            object.__setattr__(self, "lesson", _LESSON.check(self.lesson))
        except SettingsError as error:
            raise SettingsError(f"lesson: {error}") from None

    def changed(self, **changes) -> "Settings":
        """A copy with ``changes`` (validated like any settings)."""
        return replace(self, **changes)

    def with_classes(self, classes: int) -> "Settings":
        """Another seen-class level: its own length, and the μ that keeps ρ where it was."""
        return self.changed(classes=classes, epochs=TOY_LONG_EPOCHS[_SPECS["classes"].check(classes)],
                            mu=mu_keeping_rho(self.mu, self.classes, classes))

    @property
    def rho(self) -> float:
        """ρ = ⌊μB⌋ / C: synthetic classes a batch makes per seen class (the effect map's axis)."""
        return synthetic_per_class(self.mu, self.classes, TOY_BATCH)


def default_mu(classes: int) -> float:
    """The μ that gives the paper's ρ ≈ 1.3 at ``classes`` seen classes and the toy's batch of 64."""
    return mu_for_rho(PAPER_RHO, classes, TOY_BATCH)


def mu_keeping_rho(mu: float, old_classes: int, new_classes: int) -> float:
    """The μ that keeps ρ (synthetic classes per seen class) where it was when the seen classes change."""
    rho = synthetic_per_class(mu, old_classes, TOY_BATCH)
    return min(MU_RANGE[1], mu_for_rho(rho, new_classes, TOY_BATCH)) if rho > 0 else 0.0


def rho_text(settings: Settings) -> str:
    """'ρ = 10 / 8 = 1.25 synthetic classes per seen class per batch': where μ puts the run on the effect map. ρ is
    rounded half up to hundredths in whole numbers, as the page's script (`controls.RHO_JS`) writes it too."""
    made = n_synthetic_for(settings.mu, TOY_BATCH)
    hundredths = (200 * made + settings.classes) // (2 * settings.classes)
    return (f"ρ = ⌊μB⌋ / C = {made} / {settings.classes} = {hundredths / 100:g} synthetic classes per seen class "
            f"per batch of {TOY_BATCH}")


# ---- one spec per key: how to read it from text and what it accepts ----------------------------------------------

@dataclass(frozen=True)
class _Spec:
    kind: type
    accepts: str
    low: float | None = None
    high: float | None = None
    choices: tuple = ()

    def check(self, value):
        """``value`` as this key's type, or SettingsError naming what the key accepts."""
        if self.kind is str:
            return _loss_name(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise SettingsError(f"must be a number ({self.accepts}), got {value!r}")
        if self.kind is int and value != int(value):
            raise SettingsError(f"must be a whole number ({self.accepts}), got {value!r}")
        value = self.kind(value)
        if not math.isfinite(value) or self.choices and value not in self.choices or (
                self.low is not None and not self.low <= value <= self.high):
            raise SettingsError(f"must be {self.accepts}, got {value:g}")
        return value

    def read(self, text: str):
        if self.kind is str:
            return self.check(text)
        try:
            number = float(text)
        except ValueError:
            raise SettingsError(f"must be {self.accepts}, got {_clip(repr(text))}") from None
        return self.check(number)


def _loss_name(value) -> str:
    try:
        return losses.LOSSES.canonical(str(value))
    except ValueError:
        raise SettingsError(f"must be one of {', '.join(losses.available())}, got {_clip(repr(value))}") from None


def _listed(values) -> str:
    return ", ".join(f"{v:g}" for v in values[:-1]) + f" or {values[-1]:g}"


_SPECS = {
    "classes": _Spec(int, f"one of {_listed(SEEN_LEVELS)}", choices=SEEN_LEVELS),
    "noise": _Spec(float, f"from {NOISE_RANGE[0]:g} to {NOISE_RANGE[1]:g}", *NOISE_RANGE),
    "emb": _Spec(int, "2 or 3", choices=EMBEDDINGS),
    "loss": _Spec(str, "a loss name"),
    "alpha": _Spec(float, f"from {ALPHA_RANGE[0]:g} to {ALPHA_RANGE[1]:g}", *ALPHA_RANGE),
    "mu": _Spec(float, f"from {MU_RANGE[0]:g} to {MU_RANGE[1]:g}", *MU_RANGE),
    "lr": _Spec(float, f"one of {_listed(LEARNING_RATES)}", choices=LEARNING_RATES),
    "seed": _Spec(int, f"a whole number from {SEED_RANGE[0]} to {SEED_RANGE[1]:,}", *SEED_RANGE),
    "epochs": _Spec(int, f"a whole number from {EPOCH_RANGE[0]} to {EPOCH_RANGE[1]}", *EPOCH_RANGE),
}
_LESSON = _Spec(int, f"a lesson from 1 to {len(LESSONS)} (0 for none)", 0, len(LESSONS))
KEYS = (*CONTROLS, "hide", "lesson")
SHOWN = 40  # characters of an ignored value that a note repeats


# ---- the URL ---------------------------------------------------------------------------------------------------

def _last(value) -> str:
    """One query value as text: the last of a repeated key, bytes decoded (Bokeh's session arguments are bytes)."""
    if isinstance(value, (list, tuple)):
        value = value[-1] if value else ""
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    return str(value)


def _clip(text: str) -> str:
    return text if len(text) <= SHOWN else text[: SHOWN - 1] + "…"


def parse_query(query: Mapping) -> tuple[Settings, list[str]]:
    """Settings from a query string's keys (a mapping of key to text, bytes or a list of them), and a note for each
    key or value ignored: an unknown key, a value out of range, a control `hide` does not know. What is ignored
    takes its default; nothing raises."""
    values, ignored = {}, []
    query = {_last(key): _last(raw) for key, raw in query.items()}
    if "lesson" in query:  # the lesson's settings first; the link's own keys then change them
        try:
            number = _LESSON.read(query["lesson"])
        except SettingsError as error:
            ignored.append(f"lesson={_clip(query['lesson'])} ({error})")
        else:
            values = as_dict(parse_query(dict(parse_qsl(LESSONS[number - 1].query)))[0]) if number else {}
            values["lesson"] = number
        del query["lesson"]
    for key, text in query.items():
        if key not in KEYS:
            ignored.append(f"{_clip(key)} (not a setting; the settings are {', '.join(KEYS)})")
        elif key == "hide":
            names = [n.strip() for n in text.split(",") if n.strip()]
            unknown = [n for n in names if n not in CONTROLS]
            if unknown:
                ignored.append(f"hide={_clip(','.join(unknown))} (no such control; hide takes "
                               f"{', '.join(CONTROLS)})")
            values["hide"] = frozenset(n for n in names if n in CONTROLS)
        else:
            try:
                values[key] = _SPECS[key].read(text)
            except SettingsError as error:
                ignored.append(f"{key}={_clip(text)} ({error})")
    return Settings(**values), ignored


def to_query(settings: Settings) -> dict[str, str]:
    """The query keys that give back ``settings`` (every setting, so a link stays a lesson if defaults change)."""
    out = {}
    for key in CONTROLS:
        value = getattr(settings, key)
        out[key] = value if isinstance(value, str) else f"{value:.10g}"
    if settings.hide:
        out["hide"] = ",".join(c for c in CONTROLS if c in settings.hide)
    if settings.lesson:
        out["lesson"] = str(settings.lesson)
    return out


def query_string(settings: Settings) -> str:
    """``classes=8&noise=0.15&...``: the part of a lesson link after the ``?``."""
    return urlencode(to_query(settings), safe=",")


# ---- the same experiment from the command line -----------------------------------------------------------------

def train_config(settings: Settings, ps: bool = True) -> TrainConfig:
    """The `psviz train` config of one arm: the toy preset at the settings' level, evaluated after every epoch as the
    Playground does (`psviz.train.fit` with it gives the Playground's numbers)."""
    values = toy_budget(settings.classes)
    values.update(dataset_options={"n_classes": 2 * settings.classes, "dim": settings.emb, "spread": settings.noise},
                  embedding_dim=settings.emb, loss=settings.loss, alpha=settings.alpha, mu=settings.mu,
                  lr=settings.lr, seed=settings.seed, epochs=settings.epochs, eval_every=1, ps=ps)
    return TrainConfig.from_dict(values)


def config_yaml(settings: Settings) -> str:
    """The YAML of the PS arm's config, headed by the commands that train it and its baseline."""
    header = [
        "# Proxy Synthesis Playground: the run with PS of the lesson",
        f"#   ?{query_string(settings)}",
        "# Train it, and the baseline beside it, from the command line:",
        "#   psviz train --config playground.yaml --set output_dir=runs/with_ps",
        "#   psviz train --config playground.yaml --set ps=false --set output_dir=runs/baseline",
    ]
    return "\n".join(header) + "\n" + train_config(settings, ps=True).to_yaml()


def as_dict(settings: Settings) -> dict:
    """The settings as plain values (``hide`` as a sorted list)."""
    values = asdict(settings)
    values["hide"] = sorted(settings.hide)
    return values


__all__ = ["CONTROLS", "EMBEDDINGS", "KEYS", "LEARNING_RATES", "MU_STEP", "SEEN_LEVELS", "Settings", "SettingsError",
           "as_dict", "config_yaml", "default_mu", "mu_keeping_rho", "parse_query", "query_string", "rho_text",
           "to_query", "train_config"]
