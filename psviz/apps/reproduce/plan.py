"""What `psviz reproduce` trains on the small datasets: the budgets, the seeds and the list of runs.

The budget is the same for the baseline and PS in every comparison; only ``ps`` (and, in the ablation, α and μ)
changes between the two arms. The default plan (259 runs) took 58 min from scratch on a 2-core CPU with two worker
processes.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

from ...base.paper import TABLE6_LOSSES
from ...method import losses
from ...method.synthesis import RELEASED_ALPHA, RELEASED_MU
from ...train import TrainConfig, preset
from .effect_map import EffectMapPlan
from .jobs import Job, glyphs_budget
from .pretrained import PretrainedPlan
from .regime import RegimePlan

# parts whose runs are chosen from an earlier part's stored baseline runs
STAGED_PARTS = ("regime", "effect-map", "pretrained")
ABLATION_ALPHAS = (0.1, 0.4, 1.0, 2.0)
ABLATION_MUS = (0.25, 0.5, 1.0, 2.0)


# dataset -> budget: a preset plus changes. Each run evaluates once, at its end.
SMALL_BUDGETS: dict[str, dict] = {
    "glyphs": glyphs_budget(5),
    "fashion-mnist": dict(preset="fashion-mnist", dataset_options={"max_per_class": 1000}, epochs=3, eval_every=3),
    "digits": dict(preset="digits", epochs=20, eval_every=20),
}
SMALL_SEEDS = {"glyphs": (0, 1, 2), "fashion-mnist": (0, 1, 2, 3, 4), "digits": (0, 1, 2, 3, 4)}
# the long Norm-SoftMax budget on glyphs (in a 60-epoch probe the baseline flattened from epoch 20 on)
CURVE_EPOCHS = 120
CURVE_EVAL_EVERY = 4


@dataclass
class Plan:
    """The whole small-data reproduction. ``tiny()`` is the same pipeline at a test-sized budget."""

    budgets: dict = field(default_factory=lambda: dict(SMALL_BUDGETS))
    seeds: dict = field(default_factory=lambda: dict(SMALL_SEEDS))
    losses: tuple = TABLE6_LOSSES
    curve_dataset: str = "glyphs"
    curve_loss: str = "norm_softmax"
    curve_epochs: int = CURVE_EPOCHS
    curve_eval_every: int = CURVE_EVAL_EVERY
    ablation_dataset: str = "glyphs"
    ablation_loss: str = "norm_softmax"
    ablation_alphas: tuple = ABLATION_ALPHAS
    ablation_mus: tuple = ABLATION_MUS
    regime: RegimePlan = field(default_factory=RegimePlan)
    effect_map: EffectMapPlan = field(default_factory=EffectMapPlan)
    pretrained: PretrainedPlan = field(default_factory=PretrainedPlan)

    @classmethod
    def tiny(cls, dataset: str = "digits", seeds=(0,), **changes) -> "Plan":
        """One seed, one epoch, one dataset, a 2 × 2 ablation: the pipeline end to end in seconds (for tests)."""
        budget = dict(SMALL_BUDGETS[dataset], epochs=1, eval_every=1)
        plan = cls(budgets={dataset: budget}, seeds={dataset: tuple(seeds)}, curve_dataset=dataset, curve_epochs=2,
                   curve_eval_every=1,
                   ablation_dataset=dataset, ablation_alphas=(0.4, 2.0), ablation_mus=(0.5, 1.0),
                   regime=RegimePlan.tiny(), effect_map=EffectMapPlan.tiny(),
                   pretrained=PretrainedPlan.tiny())
        return replace(plan, **changes)

    def __post_init__(self):
        unknown = [name for name in self.losses if name not in losses.available()]
        if unknown:
            raise ValueError(f"losses: unknown {unknown}; choose from {losses.available()}")
        for dataset in self.budgets:
            if not self.seeds.get(dataset):
                raise ValueError(f"seeds: no seeds given for {dataset!r}")
        for name in ("curve_dataset", "ablation_dataset"):
            if getattr(self, name) not in self.budgets:
                raise ValueError(f"{name}={getattr(self, name)!r} has no budget; budgets are for {list(self.budgets)}")

    def config(self, dataset: str, loss: str, ps: bool, seed: int, *, alpha: float = RELEASED_ALPHA,
               mu: float = RELEASED_MU, epochs: int | None = None, eval_every: int | None = None) -> TrainConfig:
        """The run's config: the dataset's budget, identical for both arms apart from ``ps`` (and α, μ)."""
        budget = dict(self.budgets[dataset])
        name = budget.pop("preset")
        if epochs is not None:
            budget["epochs"] = epochs
            budget["eval_every"] = epochs if eval_every is None else eval_every
        return preset(name, loss=loss, ps=ps, alpha=alpha, mu=mu, seed=seed, **budget)

    def small_jobs(self) -> list[Job]:
        return [Job("small", self.config(d, loss, ps, seed))
                for d in self.budgets for loss in self.losses for seed in self.seeds[d] for ps in (False, True)]

    def curve_jobs(self) -> list[Job]:
        """The long Norm-SoftMax runs, evaluated every ``curve_eval_every`` epochs (the per-epoch curve)."""
        d = self.curve_dataset
        return [Job("curves", self.config(d, self.curve_loss, ps, seed, epochs=self.curve_epochs,
                                      eval_every=self.curve_eval_every))
                for seed in self.seeds[d] for ps in (False, True)]

    def ablation_jobs(self) -> list[Job]:
        """α × μ with the short budget; the baseline is the small table's run (same config, stored once)."""
        d = self.ablation_dataset
        jobs = [Job("ablation", self.config(d, self.ablation_loss, False, seed)) for seed in self.seeds[d]]
        jobs += [Job("ablation", self.config(d, self.ablation_loss, True, seed, alpha=a, mu=m))
                 for a in self.ablation_alphas for m in self.ablation_mus for seed in self.seeds[d]]
        return jobs

    def jobs(self, parts=("curves", "small", "ablation")) -> list[Job]:
        """The jobs of fixed parts ("sweep" and "effect-pilot" included; "regime" and "effect-map" depend on their
        baseline stage's results: see `psviz.apps.reproduce.regime.select` and `EffectMapPlan.long_lengths`)."""
        make = {"small": self.small_jobs, "curves": self.curve_jobs, "ablation": self.ablation_jobs,
                "sweep": self.regime.sweep_jobs, "effect-pilot": self.effect_map.pilot_jobs,
                "pretrained-pilot": self.pretrained.pilot_jobs}
        bad = [p for p in parts if p not in make]
        if bad:
            raise ValueError(f"parts: unknown {bad}; choose from {[*make, *STAGED_PARTS]}")
        return [job for part in parts for job in make[part]()]


__all__ = ["ABLATION_ALPHAS", "ABLATION_MUS", "CURVE_EPOCHS", "CURVE_EVAL_EVERY", "Plan", "SMALL_BUDGETS", "SMALL_SEEDS",
           "STAGED_PARTS"]
