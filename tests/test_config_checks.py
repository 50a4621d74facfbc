"""Configs that cannot work are refused before training, naming the key; batches that PS cannot pair are redrawn."""

import warnings

import pytest
import torch

from psviz.train import ConfigError, fit, preset
from psviz.train import build, evaluate
from psviz.train.batches import Batches, mix_single_class_batches

CPU = torch.device("cpu")


@pytest.mark.parametrize("key, value", [
    ("lr", float("nan")), ("lr_gamma", float("inf")), ("alpha", float("nan")), ("mu", float("inf")),
    ("proxy_lr", float("-inf")), ("weight_decay", float("nan")), ("adam_eps", float("inf")),
    ("momentum", float("nan")), ("loss_options.scale", float("nan")), ("dataset_options.spread", float("inf")),
])
def test_nan_and_infinity_are_refused_naming_the_key(key, value):
    name, _, option = key.partition(".")
    change = {name: {option: value}} if option else {name: value}
    with pytest.raises(ConfigError, match=f"^{key.replace('.', '[.]')} must be a finite number"):
        preset("toy", **change)


def test_nan_from_the_command_line_is_refused():
    with pytest.raises(ConfigError, match="^lr must be a finite number, got nan"):
        preset("digits").with_overrides(["lr=nan"])
    with pytest.raises(ConfigError, match="^lr_gamma must be a finite number, got inf"):
        preset("digits").with_overrides(["lr_gamma=.inf"])


@pytest.mark.parametrize("dataset", ["digits", "toy", "glyphs"])
def test_a_root_for_a_built_in_dataset_is_refused(dataset):
    with pytest.raises(ConfigError, match=f"root: dataset '{dataset}' takes no root folder"):
        preset("digits", dataset=dataset, root="some/folder")


def test_dataset_options_are_checked_against_the_loader():
    with pytest.raises(ConfigError, match=r"dataset_options: dataset 'digits' has no option \['foo'\]; valid: "
                                          r"\['as_images', 'seen_classes'\]"):
        preset("digits", dataset_options={"foo": 1})
    with pytest.raises(ConfigError, match="has no option \\['root'\\]"):
        preset("digits", dataset_options={"root": "x"})
    assert preset("toy", dataset_options={"n_classes": 6, "spread": 0.2}).dataset_options["n_classes"] == 6
    assert preset("digits", dataset="fashion-mnist", root="/somewhere").root == "/somewhere"  # it takes a root


def test_ps_needs_batches_that_can_hold_two_classes():
    with pytest.raises(ConfigError, match="batch_size must be >= 2 with ps=true"):
        preset("digits", batch_size=1)
    with pytest.raises(ConfigError, match="64 / 64 = 1 class; lower samples_per_class to at most 32"):
        preset("digits", sampler="balanced", samples_per_class=64, batch_size=64)
    # without PS, or with mu so small that no synthetic class is made, nothing needs pairing
    assert preset("digits", sampler="balanced", samples_per_class=64, batch_size=64, ps=False)
    assert preset("digits", batch_size=1, mu=0.5)
    with pytest.raises(ConfigError, match="at least two seen classes"):
        build(preset("digits", train_classes=1), CPU)


def test_batch_size_one_with_batchnorm_fails_before_training():
    with pytest.raises(ConfigError, match="batch_size=1: model 'mlp' has BatchNorm layers"):
        build(preset("digits", batch_size=1, ps=False), CPU)
    assert build(preset("digits", batch_size=1, ps=False, model_options={"hidden": []}), CPU)  # no BatchNorm: fine


def test_ks_beyond_the_items_are_refused_before_training():
    with pytest.raises(ConfigError, match=r"ks: \[2000\] exceed the 895 items a query of the unseen split"):
        build(preset("digits", ks=[1, 2000]), CPU)


def test_evaluate_says_which_recall_it_left_out():
    parts = build(preset("digits"), CPU)
    with pytest.warns(UserWarning, match="unseen: Recall@2000 left out: a query can retrieve only 895 items"):
        metrics = evaluate(parts.model, parts.eval_sets, [1, 2000], CPU)
    assert "unseen/recall@1" in metrics and "unseen/recall@2000" not in metrics
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        evaluate(parts.model, parts.eval_sets, [1, 8], CPU)


def test_single_class_batches_get_an_item_of_another_class():
    targets = torch.tensor([0, 0, 0, 0, 1, 1, 1, 1, 0, 1])
    batches = torch.tensor([[0, 1], [2, 3], [4, 5], [6, 7]])  # every batch holds one class
    mixed = mix_single_class_batches(batches, torch.tensor([8, 9]), targets)
    assert all(len(set(targets[row].tolist())) == 2 for row in mixed)
    used = mixed.flatten().tolist()
    assert len(set(used)) == len(used) and set(used) <= set(range(10))  # still distinct items of the data
    ready = torch.tensor([[0, 4], [1, 5]])  # already mixed: returned as it is
    assert torch.equal(mix_single_class_batches(ready, torch.tensor([2]), targets), ready)
    donated = mix_single_class_batches(torch.tensor([[0, 1], [4, 5], [2, 6]]), torch.tensor([], dtype=torch.long),
                                       targets)  # no spare: another batch gives one and keeps two classes
    assert all(len(set(targets[row].tolist())) == 2 for row in donated)


@pytest.mark.slow
def test_small_random_batches_with_ps_train_through_every_epoch():
    """Two seen classes and batches of 4: about one batch in eight would hold a single class and stop PS."""
    config = preset("toy", dataset_options={"n_classes": 4}, batch_size=4, epochs=3, eval_every=3,
                    holdout_per_class=0)
    targets = build(config, CPU).train_set.targets
    for epoch in range(3):
        for batch in Batches(config, targets).epoch(epoch):
            assert targets[batch].unique().numel() == 2
    result = fit(config, progress=False)
    assert result.history[-1]["epoch"] == 3 and "unseen/map@r" in result.history[-1]


def test_batches_that_already_mix_classes_are_unchanged():
    """The default presets never draw a single-class batch, so their runs stay what they were."""
    config = preset("digits")
    targets = build(config, CPU).train_set.targets
    generator = torch.Generator().manual_seed((config.seed * 1_000_003 + 0) % (2**63 - 1))
    order = torch.randperm(len(targets), generator=generator)
    n = len(order) // config.batch_size
    assert Batches(config, targets).epoch(0) == order[: n * config.batch_size].view(n, -1).tolist()
