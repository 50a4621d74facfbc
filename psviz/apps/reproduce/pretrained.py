"""The paper's protocol in miniature (docs/PREREGISTRATION.md, study B): EfficientNet-Lite0 from ImageNet weights,
fine-tuned on 100 seen glyph classes at 64 px, against the same network from a random initialisation.

Two stages, as the effect map: the pilot trains the pretrained Norm-SoftMax baseline at three learning rates, and
rule P (`choose`) reads the learning rate and the length off its curves and timings alone; then both arms of every
(loss, start) cell train at that budget.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...base.percent import percent
from ...train import TrainConfig, preset
from .effect_map import long_epochs, smoothed_mean
from .jobs import Job

IMAGENET, SCRATCH = "imagenet", "scratch"
PILOT_LRS = (1e-4, 3e-4, 1e-3)
PROXY_LR_FACTOR = 100  # proxies at 100x the learning rate, as Proxy-Anchor's recipe (paper.md)
STEP_AT = (50, 130)  # the released recipe's one step: x0.1 at epoch 50 of 130
MAX_RUN_SECONDS = 360


@dataclass(frozen=True)
class Choice:
    """Rule P's outcome: the learning rate, the length, and why (the pilot's numbers)."""

    lr: float
    epochs: int
    reason: str


def step_epoch(epochs: int) -> int:
    """The epoch of the one ×0.1 step: the released recipe's 50 / 130 of the run, at least 1."""
    return max(1, round(epochs * STEP_AT[0] / STEP_AT[1]))


def _pilot_timing(records: list[dict]) -> tuple[float, float]:
    """(seconds per training epoch, seconds per evaluation) from pilot records: the history's epoch times, and the
    rest of each run's time spread over its evaluations."""
    epoch = float(np.mean([h["seconds"] for r in records for h in r["history"] if "seconds" in h]))
    evals = [(r["seconds"] - sum(h.get("seconds", 0) for h in r["history"]))
             / max(1, sum(1 for h in r["history"] if "unseen/map@r" in h)) for r in records]
    return epoch, float(np.mean(evals))


def choose(records_by_lr: dict[float, list[dict]], max_seconds: float = MAX_RUN_SECONDS) -> Choice:
    """Rule P on the pilot's baseline records alone: the learning rate whose smoothed seed-mean unseen MAP@R reaches the
    highest maximum, rule L's length at that rate, shortened if a run evaluated once at its end would take longer than
    ``max_seconds``."""
    if any(r["config"]["ps"] for records in records_by_lr.values() for r in records):
        raise ValueError("rule P reads the baseline alone; a PS record was passed")
    peaks = {lr: float(smoothed_mean(records)[1].max()) for lr, records in records_by_lr.items()}
    lr = max(peaks, key=peaks.get)
    epochs = long_epochs(records_by_lr[lr])
    per_epoch, per_eval = _pilot_timing(records_by_lr[lr])
    fits = max(1, int((max_seconds - per_eval) // per_epoch))
    peaks_text = ", ".join(f"{k:g}: {percent(v):.2f}" for k, v in peaks.items())
    reason = (f"highest smoothed unseen MAP@R peak by learning rate ({peaks_text}); rule L gives {epochs} epochs; "
              f"{per_epoch:.1f} s an epoch and {per_eval:.1f} s an evaluation fit {fits} epochs in {max_seconds:g} s")
    return Choice(lr, min(epochs, fits), reason)


@dataclass
class PretrainedPlan:
    """Study B's runs. ``tiny()`` is the same pipeline at a test-sized budget."""

    losses: tuple = ("norm_softmax", "proxy_anchor")
    starts: tuple = (IMAGENET, SCRATCH)
    seeds: tuple = (0, 1, 2, 3, 4)
    pilot_lrs: tuple = PILOT_LRS
    pilot_seeds: tuple = (0, 1)
    pilot_epochs: int = 16
    pilot_eval_every: int = 2
    changes: dict = field(default_factory=dict)  # budget changes for tests (a smaller image, fewer classes)

    @classmethod
    def tiny(cls) -> "PretrainedPlan":
        """One loss, the pretrained start, one seed, 8 classes at 32 px, a 3-epoch pilot at two rates: end to end in
        seconds."""
        return cls(losses=("norm_softmax",), starts=(IMAGENET,), seeds=(0,), pilot_lrs=(1e-4, 1e-3), pilot_seeds=(0,),
                   pilot_epochs=3, pilot_eval_every=1,
                   changes={"image_size": 32, "dataset_options": {"classes": 8}, "batch_size": 16})

    def config(self, loss: str, ps: bool, seed: int, lr: float, epochs: int, *, start: str = IMAGENET,
               eval_every: int | None = None, step: bool = True) -> TrainConfig:
        config = preset("pretrained-small", loss=loss, ps=ps, seed=seed, lr=lr, proxy_lr=PROXY_LR_FACTOR * lr,
                        epochs=epochs, eval_every=eval_every or epochs,
                        lr_milestones=[step_epoch(epochs)] if step else [], **self.changes)
        if start == SCRATCH:
            config = config.replace(model_options={**config.model_options, "weights": None})
        return config

    def pilot_config(self, lr: float, seed: int) -> TrainConfig:
        return self.config("norm_softmax", False, seed, lr, self.pilot_epochs, eval_every=self.pilot_eval_every,
                           step=False)

    def pilot_jobs(self) -> list[Job]:
        return [Job("pretrained-pilot", self.pilot_config(lr, seed)) for lr in self.pilot_lrs
                for seed in self.pilot_seeds]

    def choose(self, read) -> Choice | None:
        """Rule P once every pilot run is stored (``read(config)`` returns a record or None), else None."""
        found = {lr: [read(self.pilot_config(lr, seed)) for seed in self.pilot_seeds] for lr in self.pilot_lrs}
        if any(r is None for records in found.values() for r in records):
            return None
        return choose(found)

    def cell_configs(self, loss: str, start: str, seed: int, choice: Choice) -> tuple[TrainConfig, TrainConfig]:
        """(baseline, PS) of one cell and seed at the chosen budget: identical but for ``ps``."""
        return tuple(self.config(loss, ps, seed, choice.lr, choice.epochs, start=start) for ps in (False, True))

    def jobs(self, choice: Choice) -> list[Job]:
        return [Job("pretrained", config) for start in self.starts for loss in self.losses for seed in self.seeds
                for config in self.cell_configs(loss, start, seed, choice)]

    def as_dict(self) -> dict:
        """The plan in the shape of the pre-registration's YAML block (its ``pretrained`` part)."""
        base = preset("pretrained-small")
        return {"model": base.model, "embedding_dim": base.embedding_dim, "image_size": base.image_size,
                "classes": base.dataset_options["classes"], "batch_size": base.batch_size, "alpha": base.alpha,
                "mu": base.mu, "losses": list(self.losses), "starts": list(self.starts), "seeds": list(self.seeds),
                "pilot_lrs": list(self.pilot_lrs), "pilot_seeds": list(self.pilot_seeds),
                "pilot_epochs": self.pilot_epochs, "pilot_eval_every": self.pilot_eval_every,
                "max_run_seconds": MAX_RUN_SECONDS, "step_at": list(STEP_AT)}


__all__ = ["Choice", "IMAGENET", "MAX_RUN_SECONDS", "PILOT_LRS", "PretrainedPlan", "SCRATCH", "STEP_AT", "choose",
           "step_epoch"]
