"""The effect map (docs/PREREGISTRATION.md, study A): where PS changes unseen MAP@R, over seen classes C and synthetic
classes per seen class per batch ρ = ⌊μB⌋ / C, by loss and training length.

Two stages. The pilot trains the Norm-SoftMax baseline of each dataset level long, and rule L (`long_epochs`)
reads its length off the baseline's curves alone. The map then trains both arms of every cell at those lengths.
Constants here are the pre-registration's plan as data; `tests/test_preregistration.py` checks they agree.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import numpy as np

from ...base.paper import PAPER_RHO
from ...method.synthesis import RELEASED_ALPHA, RELEASED_MU, mu_for_rho, n_synthetic_for
from ...train import TrainConfig, preset
from .jobs import Job, glyphs_budget
from .regime import smooth

RHO_LEVELS = (0.25, 1.3, 4, 16)
MAX_MU = 16  # cells asking for more than 16 B synthetic classes a batch are left out as too costly
LOSSES = ("norm_softmax", "cosface", "proxy_anchor")
CORE_LOSS = "norm_softmax"
SHORT_FRACTION = 0.25
WINDOW = 3
TOLERANCE = 0.005  # rule L: the first epoch within 0.5 points of the smoothed curve's maximum
LONG, SHORT = "long", "short"
TEN, FIVE = tuple(range(10)), tuple(range(5))


@dataclass(frozen=True)
class Level:
    """One dataset level: the dataset, its number of seen classes C and what the pilot and the map train."""

    dataset: str
    classes: int
    batch_size: int
    seeds: tuple
    pilot_seeds: tuple
    pilot_epochs: int
    pilot_eval_every: int
    extra_mu: tuple = ()  # μ values trained on the core grid besides the ρ levels (the released μ = 1)

    @property
    def name(self) -> str:
        return f"{self.dataset}-{self.classes}"


def _toy_level(classes: int) -> Level:
    return Level("toy", classes, 64, TEN, FIVE, 300, 15)


LEVELS = (
    *(_toy_level(c) for c in (4, 8, 12, 24)),
    Level("glyphs", 50, 128, TEN, (0, 1, 2), 1200, 60),
    Level("glyphs", 200, 128, TEN, (0, 1, 2), 300, 15),
    Level("glyphs", 1418, 128, FIVE, (0, 1, 2), 60, 3, extra_mu=(1.0,)),
)
TEACHING_RULE = {"low": 0.40, "high": 0.85, "max_std": 0.05, "target": 0.625}
GLYPHS_SEEN = 1418  # all of glyphs' seen classes: no subset


def budget(level: Level, epochs: int, eval_every: int | None = None) -> dict:
    """The level's training budget as a preset and changes (everything but the loss, the arm and the seed)."""
    eval_every = epochs if eval_every is None else eval_every
    if level.dataset == "toy":
        return dict(preset="toy", dataset_options={"n_classes": 2 * level.classes, "dim": 3}, model="mlp",
                    model_options={"hidden": [64, 64]}, embedding_dim=3, lr=1e-2, batch_size=level.batch_size,
                    ks=[1, 2, 4], holdout_per_class=20, epochs=epochs, eval_every=eval_every)
    subset = None if level.classes == GLYPHS_SEEN else level.classes
    return dict(glyphs_budget(epochs), batch_size=level.batch_size, holdout_per_class=2, train_classes=subset,
                eval_every=eval_every)


@dataclass(frozen=True)
class Cell:
    """One comparison of the map: PS at ``mu`` against the baseline, same level, loss, length and seeds."""

    level: Level
    loss: str
    length: str  # LONG or SHORT
    rho: float  # the nominal level (NaN for an extra μ)
    mu: float

    @property
    def synthetic(self) -> int:
        return n_synthetic_for(self.mu, self.level.batch_size)

    @property
    def achieved_rho(self) -> float:
        return self.synthetic / self.level.classes

    @property
    def label(self) -> str:
        return (f"{self.level.name} {self.loss} {self.length} ρ={self.achieved_rho:.3g} (μ={self.mu:.4g}, "
                f"{self.synthetic} synthetic)")


def mu_for(rho: float, level: Level) -> float | None:
    """μ giving S = max(1, round(ρ·C)) synthetic classes a batch; None when S exceeds `MAX_MU`·B."""
    mu = mu_for_rho(rho, level.classes, level.batch_size)
    return None if mu > MAX_MU else mu


def level_cells(level: Level) -> list[Cell]:
    """The fractional design at one level: the core ρ grid (Norm-SoftMax, long), the other losses at the paper's
    ρ (long), and Norm-SoftMax short at the paper's ρ."""
    core = [Cell(level, CORE_LOSS, LONG, rho, mu) for rho in RHO_LEVELS if (mu := mu_for(rho, level)) is not None]
    core += [Cell(level, CORE_LOSS, LONG, float("nan"), mu) for mu in level.extra_mu]
    paper_mu = mu_for(PAPER_RHO, level)
    others = [Cell(level, loss, LONG, PAPER_RHO, paper_mu) for loss in LOSSES if loss != CORE_LOSS]
    return core + others + [Cell(level, CORE_LOSS, SHORT, PAPER_RHO, paper_mu)]


def short_epochs(long: int) -> int:
    return max(1, round(long * SHORT_FRACTION))


def unseen_curves(records: list[dict], metric: str = "map@r") -> tuple[np.ndarray, np.ndarray]:
    """(epochs [E], values [S, E]): each record's unseen ``metric`` at the epochs every record evaluated."""
    per_seed = [{h["epoch"]: h[f"unseen/{metric}"] for h in r["history"] if f"unseen/{metric}" in h}
                for r in records]
    if not per_seed:
        raise ValueError("no records to read a curve from")
    epochs = sorted(set.intersection(*(set(rows) for rows in per_seed)))
    return np.array(epochs), np.array([[rows[e] for e in epochs] for rows in per_seed], float)


def smoothed_mean(records: list[dict], window: int = WINDOW) -> tuple[np.ndarray, np.ndarray]:
    """(centre epochs, M): each record's unseen MAP@R smoothed over ``window`` evaluations, then the mean over
    records (seeds); the curve rules L and P read."""
    epochs, values = unseen_curves(records)
    return smooth(epochs[None].astype(float), window)[0], smooth(values, window).mean(axis=0)


def long_epochs(records: list[dict], window: int = WINDOW, tolerance: float = TOLERANCE) -> int:
    """Rule L, on baseline records alone: the smallest centre epoch where the seed-mean unseen MAP@R, smoothed over
    ``window`` evaluations, is within ``tolerance`` of its maximum."""
    if any(r["config"]["ps"] for r in records):
        raise ValueError("rule L reads the baseline alone; a PS record was passed")
    centres, mean = smoothed_mean(records, window)
    first = int(np.flatnonzero(mean >= mean.max() - tolerance)[0])
    return max(1, int(round(centres[first])))


@dataclass
class EffectMapPlan:
    """Study A's runs. ``tiny()`` is the same pipeline at a test-sized budget."""

    levels: tuple = LEVELS
    alpha: float = RELEASED_ALPHA
    lengths: dict = field(default_factory=dict)  # level name -> long epochs, when fixed by hand (tests)

    @classmethod
    def tiny(cls) -> "EffectMapPlan":
        """Two toy levels, two seeds, a 6-epoch pilot: end to end in seconds."""
        return cls(levels=tuple(replace(_toy_level(c), seeds=(0, 1), pilot_seeds=(0, 1), pilot_epochs=6,
                                        pilot_eval_every=1) for c in (4, 8)))

    def config(self, level: Level, loss: str, ps: bool, seed: int, epochs: int, eval_every: int | None = None,
               mu: float = RELEASED_MU) -> TrainConfig:
        values = budget(level, epochs, eval_every)
        return preset(values.pop("preset"), loss=loss, ps=ps, alpha=self.alpha, mu=mu, seed=seed, **values)

    def pilot_config(self, level: Level, seed: int) -> TrainConfig:
        return self.config(level, CORE_LOSS, False, seed, level.pilot_epochs, level.pilot_eval_every)

    def pilot_jobs(self) -> list[Job]:
        return [Job("effect-pilot", self.pilot_config(level, seed)) for level in self.levels
                for seed in level.pilot_seeds]

    def long_lengths(self, read) -> dict[str, int]:
        """Rule L per level whose pilot is stored (``read(config)`` returns a record or None)."""
        out = dict(self.lengths)
        for level in self.levels:
            records = [read(self.pilot_config(level, seed)) for seed in level.pilot_seeds]
            if level.name not in out and all(r is not None for r in records):
                out[level.name] = long_epochs(records)
        return out

    def cells(self) -> list[Cell]:
        return [cell for level in self.levels for cell in level_cells(level)]

    def cell_configs(self, cell: Cell, long: int, seed: int) -> tuple[TrainConfig, TrainConfig]:
        """(baseline, PS) configs of one cell and seed: identical but for ``ps`` and μ."""
        epochs = long if cell.length == LONG else short_epochs(long)
        return (self.config(cell.level, cell.loss, False, seed, epochs),
                self.config(cell.level, cell.loss, True, seed, epochs, mu=cell.mu))

    def map_jobs(self, lengths: dict[str, int]) -> list[Job]:
        """Both arms of every cell whose level has a length (the baseline is shared by the cells of a level,
        loss and length, and stored once)."""
        return [Job("effect-map", config) for cell in self.cells() if cell.level.name in lengths
                for seed in cell.level.seeds for config in self.cell_configs(cell, lengths[cell.level.name], seed)]

    def as_dict(self) -> dict:
        """The plan in the shape of the pre-registration's YAML block (its ``effect_map`` part)."""
        datasets = {}
        for level in self.levels:
            entry = datasets.setdefault(level.dataset, {"levels": [], "batch_size": level.batch_size, "seeds": {},
                                                        "pilot_seeds": list(level.pilot_seeds), "pilot_epochs": {},
                                                        "pilot_eval_every": {}, "extra_mu": {}})
            entry["levels"].append(level.classes)
            entry["seeds"][level.classes] = list(level.seeds)
            entry["pilot_epochs"][level.classes] = level.pilot_epochs
            entry["pilot_eval_every"][level.classes] = level.pilot_eval_every
            if level.extra_mu:
                entry["extra_mu"][level.classes] = level.extra_mu[0]
        return {"alpha": self.alpha, "rho_levels": list(RHO_LEVELS), "paper_rho": PAPER_RHO, "max_mu": MAX_MU,
                "losses": list(LOSSES), "core_loss": CORE_LOSS, "short_fraction": SHORT_FRACTION, "window": WINDOW,
                "tolerance": TOLERANCE, "datasets": datasets, "teaching_rule": dict(TEACHING_RULE)}


__all__ = ["CORE_LOSS", "Cell", "EffectMapPlan", "LEVELS", "LONG", "LOSSES", "Level", "MAX_MU",
           "PAPER_RHO", "RHO_LEVELS", "SHORT", "TEACHING_RULE", "budget", "level_cells", "long_epochs", "mu_for",
           "short_epochs", "smoothed_mean", "unseen_curves"]
