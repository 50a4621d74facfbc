"""The overfitting-regime search: the criterion on hand-made baseline curves, the choice, and the plan's jobs."""

import numpy as np
import pytest

from psviz.apps.reproduce import Plan
from psviz.apps.reproduce.regime import (MAX_SEED_STD, MIN_DROP, TOY_CANDIDATES, Candidate, RegimePlan, judge, select,
                                    smooth)


def record(unseen, heldout, *, seed=0, ps=False, every=2):
    """A run record whose history holds the given unseen / held-out MAP@R (in percent) every ``every`` epochs."""
    history = [{"epoch": every * (i + 1), "unseen/map@r": u / 100, "heldout/map@r": h / 100}
               for i, (u, h) in enumerate(zip(unseen, heldout))]
    return {"config": {"ps": ps, "seed": seed}, "history": history}


def rise_and_fall(seed, noise=0.2, level=60.0):
    """Unseen MAP@R rises to a peak at the 6th evaluation then falls 4 points; held-out keeps rising."""
    rng = np.random.default_rng(seed)
    unseen = np.concatenate([np.linspace(50, 60, 6), np.linspace(59.5, 56, 8)]) + level - 60
    heldout = np.linspace(60, 80, 14)
    return record(unseen + rng.normal(0, noise, 14), heldout + rng.normal(0, noise, 14), seed=seed)


def test_smooth_is_a_moving_average():
    assert np.allclose(smooth(np.array([[1.0, 2.0, 3.0, 4.0]]), 3), [[2.0, 3.0]])
    assert np.allclose(smooth(np.array([[1.0, 2.0]]), 3), [[1.0, 2.0]])  # too short: unchanged


def test_a_clear_peak_and_a_growing_gap_overfit():
    verdict = judge("clear", [rise_and_fall(s) for s in range(3)])
    assert verdict.overfits, verdict.reasons
    assert verdict.peak_epoch < verdict.last_epoch
    assert verdict.drop > 0.03 and verdict.gap_growth > 0.05 and verdict.gap_slope > 0  # fractions of MAP@R


def test_a_curve_still_rising_does_not_overfit():
    rising = [record(np.linspace(40, 60, 14) + s, np.linspace(50, 80, 14), seed=s) for s in range(3)]
    verdict = judge("rising", rising)
    assert not verdict.overfits
    assert any("highest at the end" in r for r in verdict.reasons)


def test_a_drop_within_seed_noise_does_not_count():
    # two seeds fall 6 points, one rises 6: the mean falls 2, but not beyond 2 standard errors
    runs = [rise_and_fall(0), rise_and_fall(1)]
    climbing = record(np.concatenate([np.linspace(50, 60, 6), np.linspace(61, 68, 8)]), np.linspace(60, 80, 14),
                      seed=2)
    verdict = judge("noisy", runs + [climbing])
    assert not verdict.overfits
    assert any("2 SE" in r for r in verdict.reasons)


def test_a_small_drop_below_the_minimum_does_not_count():
    flat = [record(np.concatenate([np.linspace(50, 60, 6), np.full(8, 60 - 100 * MIN_DROP / 2)]) + 0.01 * s,
                   np.linspace(60, 80, 14), seed=s) for s in range(3)]
    assert not judge("small", flat).overfits


def test_seeds_that_disagree_on_the_level_are_not_reproducible():
    runs = [rise_and_fall(s, level=level) for s, level in enumerate((40.0, 60.0, 80.0))]
    verdict = judge("spread", runs)
    assert verdict.end_std > MAX_SEED_STD and not verdict.reproducible and not verdict.overfits


def test_the_criterion_refuses_ps_runs():
    with pytest.raises(ValueError, match="baseline alone"):
        judge("ps", [record([1, 2, 3], [2, 3, 4], ps=True)])


def _plan(kinds):
    """A toy regime plan whose candidates are named after the curve kind their stored records will have."""
    candidates = tuple(Candidate(f"{i}-{kind}", {**TOY_CANDIDATES[0].budget, "epochs": 10 + i}, kind)
                       for i, kind in enumerate(kinds))
    return RegimePlan(candidates={"toy": candidates}, sweep_seeds={"toy": (0, 1, 2)},
                      regime_seeds={"toy": (0, 1)}, explain=())


def _reader(plan, missing=()):
    by_epochs = {c.budget["epochs"]: c.note for c in plan.candidates["toy"]}

    def read(config):
        kind = by_epochs[config.epochs]
        if kind in missing:
            return None
        if kind == "overfits":
            return rise_and_fall(config.seed)
        if kind == "steady":
            return record(np.linspace(40, 60, 14) + 0.1 * config.seed, np.linspace(50, 80, 14), seed=config.seed)
        return rise_and_fall(config.seed, level=30.0 + 25.0 * config.seed)  # "wild": seeds disagree
    return read


def test_select_takes_the_first_overfitting_candidate_in_order():
    plan = _plan(["wild", "steady", "overfits", "overfits"])
    found = select(plan, _reader(plan))["toy"]
    assert found.why == "overfits" and found.chosen.name == "2-overfits"
    assert [v.candidate for v in found.verdicts] == ["0-wild", "1-steady", "2-overfits", "3-overfits"]


def test_select_falls_back_to_the_first_reproducible_candidate_for_the_toy():
    plan = _plan(["wild", "steady", "steady"])
    found = select(plan, _reader(plan))["toy"]
    assert found.why == "reproducible" and found.chosen.name == "1-steady"
    no_fallback = select(RegimePlan(**{**plan.__dict__, "fallback": ()}), _reader(plan))["toy"]
    assert no_fallback.chosen is None and no_fallback.why == ""


def test_select_stops_at_a_candidate_with_missing_runs():
    plan = _plan(["steady", "wild", "overfits"])
    found = select(plan, _reader(plan, missing=("wild",)))["toy"]
    assert not found.complete and found.chosen is None
    assert [v.candidate for v in found.verdicts] == ["0-steady"]


def test_sweep_trains_baselines_only_and_the_regime_both_arms_alike():
    plan = Plan().regime
    sweep = plan.sweep_jobs()
    assert sweep and not any(job.config.ps for job in sweep) and all(job.measures for job in sweep)
    assert {job.config.dataset for job in sweep} == {"glyphs", "toy"}
    arms = plan.arm_jobs("glyphs", plan.candidates["glyphs"][0])
    assert len(arms) == 2 * len(plan.regime_seeds["glyphs"]) >= 10
    for base, ps in zip(arms[::2], arms[1::2]):
        a, b = base.config.to_dict(), ps.config.to_dict()
        assert {k for k in a if a[k] != b[k]} == {"ps"}
    assert all(job.config.holdout_per_class > 0 for job in sweep)


def test_toy_candidates_spell_out_every_setting_the_preset_could_change():
    for candidate in TOY_CANDIDATES:
        assert {"dataset_options", "model_options", "embedding_dim", "batch_size", "lr", "epochs", "eval_every",
                "ks"} <= set(candidate.budget)


def test_the_stored_sweep_chooses_the_regime_notebook_03_trains():
    """The committed run records (results/small/runs) are what chose `REGIME`; the sweep's toy fallback is
    still the 3-D embedding it chose (the toy preset now follows rule T of the effect map: tests/test_effect_map.py)."""
    from pathlib import Path

    from psviz.apps.reproduce.regime import REGIME
    from psviz.train.records import RecordStore

    store = RecordStore(Path(__file__).resolve().parent.parent / "results" / "small" / "runs")
    plan = Plan().regime
    found = select(plan, store.read)
    assert found["glyphs"].complete and found["glyphs"].why == "overfits"
    assert found["glyphs"].chosen.name == REGIME
    assert found["toy"].complete and found["toy"].chosen.name == "toy-8-3d-64" and found["toy"].why == "reproducible"
