"""psviz.base.registry: one lenient name lookup for losses, datasets, models, presets and the paper's benchmarks, which
gives back the canonical name so a config, its run key and its cache entry have one spelling."""

import ast
from pathlib import Path

import pytest

import psviz
from psviz import data, losses, models, paper
from psviz.base.registry import Registry
from psviz.train import ConfigError, TrainConfig, preset
from psviz.train.records import run_key

PACKAGE = Path(psviz.__file__).resolve().parent


def _colours() -> Registry:
    return Registry("colour", {"light_blue": 1, "dark-red": 2, "green": 3})


def test_registration_order_and_lenient_names():
    colours = _colours()
    assert colours.available() == list(colours) == ["light_blue", "dark-red", "green"] and len(colours) == 3
    for spelling in ("light_blue", "Light-Blue", "LIGHT BLUE", "lightblue", " light__blue "):
        assert colours.canonical(spelling) == "light_blue"
        assert colours.get(spelling) == 1
        assert spelling in colours
    assert colours.canonical("Dark_Red") == "dark-red" and colours.get("DarkRed") == 2
    assert colours.register("blue", 4) == 4 and colours.available()[-1] == "blue"
    assert colours.items()[-1] == ("blue", 4)


def test_unknown_names_say_the_kind_the_choices_and_a_close_one():
    colours = _colours()
    with pytest.raises(ValueError) as caught:
        colours.get("light-blu")
    assert str(caught.value) == ("unknown colour 'light-blu'; choose one of: light_blue, dark-red, green "
                                 "(did you mean 'light_blue'?)")
    with pytest.raises(ValueError, match=r"^unknown colour 'purple'; choose one of: light_blue, dark-red, green$"):
        colours.canonical("purple")
    for bad in ("", 3, None, ["green"]):
        with pytest.raises(ValueError, match="unknown colour"):
            colours.canonical(bad)
        assert bad not in colours


def test_a_second_spelling_of_a_registered_name_is_refused():
    colours = _colours()
    with pytest.raises(ValueError, match="colour 'Green' is already registered as 'green'"):
        colours.register("Green", 5)
    assert colours.get("green") == 3


def test_the_registry_is_a_base_module():
    tree = ast.parse((PACKAGE / "base" / "registry.py").read_text())
    imported = [node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)]
    imported += [alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names]
    assert not [name for name in imported if name.startswith("psviz") or not name or name.startswith(".")]
    assert all(node.level == 0 for node in ast.walk(tree) if isinstance(node, ast.ImportFrom))


@pytest.mark.parametrize("module", ["method/losses/__init__.py", "data/__init__.py", "base/paper.py",
                                    "models/__init__.py", "train/presets.py"])
def test_lookups_use_the_registry_not_their_own_key(module):
    tree = ast.parse((PACKAGE / module).read_text())
    assert "_key" not in {node.name for node in ast.walk(tree) if isinstance(node, ast.FunctionDef)}
    assert "Registry" in {alias.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
                          for alias in node.names}


def test_every_lookup_forgives_the_same_spellings():
    assert losses.get("Norm SoftMax") is losses.NormSoftmaxLoss
    assert losses.LOSSES.canonical("Proxy-NCA") == "proxy_nca"
    assert data.info("Fashion_MNIST").name == data.DATASET_REGISTRY.canonical("FASHION MNIST") == "fashion-mnist"
    assert models.MODELS.canonical("Small-CNN") == "small_cnn" and models.MODELS.canonical("BN-Inception") == (
        "bn_inception")
    assert isinstance(models.create("MLP", 2, in_features=4), models.MLPEmbedder)
    assert preset("Fashion_MNIST") == preset("fashion-mnist")
    assert paper.table6("CUB 200").equals(paper.table6("cub200"))


@pytest.mark.parametrize("lookup, name, message", [
    (losses.get, "triplet", "unknown loss 'triplet'; choose one of: softmax, norm_softmax"),
    (data.info, "mnist", "unknown dataset 'mnist'; choose one of: toy, digits"),
    (lambda name: models.create(name, 2), "vit", "unknown model 'vit'; choose one of: mlp, small_cnn"),
    (preset, "digit", "unknown preset 'digit'; choose one of: toy, digits"),
    (paper.table6, "cub", "unknown Table 6 dataset 'cub'; choose one of: cub200, cars196, sop, inshop"),
])
def test_every_lookup_names_its_kind_when_the_name_is_unknown(lookup, name, message):
    with pytest.raises(ValueError) as caught:
        lookup(name)
    assert str(caught.value).startswith(message)


def test_unknown_preset_is_a_config_error_with_a_hint():
    with pytest.raises(ConfigError, match=r"unknown preset 'paper-resnet'.*\(did you mean 'paper-resnet50'\?\)"):
        preset("paper-resnet")


def test_config_stores_canonical_names_so_the_run_key_matches():
    loose = TrainConfig(loss="Norm-SoftMax")
    assert loose.loss == "norm_softmax"
    assert run_key(loose) == run_key(TrainConfig(loss="norm_softmax"))
    spelt = TrainConfig(dataset="Fashion_MNIST", model="Small-CNN", loss="Proxy Anchor")
    assert (spelt.dataset, spelt.model, spelt.loss) == ("fashion-mnist", "small_cnn", "proxy_anchor")
    assert run_key(spelt) == run_key(TrainConfig(dataset="fashion-mnist", model="small_cnn", loss="proxy_anchor"))


@pytest.mark.parametrize("key, value, message", [
    ("loss", "triplet", "loss: unknown loss 'triplet'; choose one of:"),
    ("dataset", "mnist", "dataset: unknown dataset 'mnist'; choose one of:"),
    ("model", "vit", "model: unknown model 'vit'; choose one of:"),
])
def test_config_names_the_key_of_an_unknown_name(key, value, message):
    with pytest.raises(ConfigError, match=f"^{message}"):
        TrainConfig(**{key: value})
