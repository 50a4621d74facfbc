"""What every part of `psviz reproduce` builds its runs from: a `Job` (a part's name and a config) and the glyphs
budget.

The plans of the parts (`plan.Plan`, `regime.RegimePlan`, `effect_map.EffectMapPlan`, `pretrained.PretrainedPlan`)
all make jobs, and `Plan` holds the other three: this module is what they share, so none imports another's plan back.
"""

from __future__ import annotations

from dataclasses import dataclass

from ...base.names import BASELINE
from ...train import TrainConfig

def glyphs_budget(epochs: int) -> dict:
    """Glyphs (1,418 seen classes): an MLP on the 32 × 32 images, no augmentation. An MLP has no built-in
    translation invariance, so it can overfit the seen classes; its epoch costs 4 s on one core against the small
    CNN's 20 s, which is what lets the table, the long runs and the ablation fit in the time budget."""
    return dict(preset="glyphs", model="mlp", model_options={"hidden": [1024, 1024]}, augment=False,
                epochs=epochs, eval_every=epochs)


@dataclass(frozen=True)
class Job:
    """One run to do: which part of the reproduction it belongs to, and its config."""

    part: str  # "small", "curves", "ablation", "sweep", "regime", "effect-pilot", "effect-map", "pretrained-pilot", ...
    config: TrainConfig
    measures: bool = False  # also store `psviz.train.mechanism_measures` of the trained run

    @property
    def label(self) -> str:
        c = self.config
        arm = f"PS α={c.alpha:g} μ={c.mu:g}" if c.ps else BASELINE
        return f"{self.part}: {c.dataset} {c.loss} {arm} seed {c.seed} ({c.epochs} ep)"


__all__ = ["Job", "glyphs_budget"]
