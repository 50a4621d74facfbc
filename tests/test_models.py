"""Small and full embedding networks: shapes, gradients, frozen BatchNorm, weights loading, the registry."""

import pickle
import urllib.error

import pytest
import torch

from psviz import models
from psviz.models import backbones

FULL = ["resnet18", "resnet34", "resnet50", "resnet101", "googlenet", "bn_inception"]


def test_registry():
    assert models.available() == ["mlp", "small_cnn", *FULL, "efficientnet_lite0"]
    with pytest.raises(ValueError, match="unknown model 'vit'.*resnet50"):
        models.create("vit", 8)
    with pytest.raises(ValueError, match="no option 'depth'"):
        models.create("resnet18", 8, depth=3)


@pytest.mark.parametrize("size", [28, 32])
def test_small_cnn_and_mlp(size):
    cnn = models.create("small_cnn", 3)
    x = torch.randn(5, 1, size, size, requires_grad=True)
    out = cnn(x)
    assert out.shape == (5, 3)
    out.sum().backward()
    assert x.grad.abs().sum() > 0 and all(p.grad is not None for p in cnn.parameters())
    mlp = models.create("mlp", 2, in_features=64, hidden=(32,))
    assert mlp(torch.randn(7, 64)).shape == (7, 2)


@pytest.mark.slow
@pytest.mark.parametrize("name", FULL)
def test_full_models_forward_backward_and_frozen_bn(name):
    torch.manual_seed(0)
    model = models.create(name, 16, pooling="avg+max")
    model.train()
    bns = [m for m in model.backbone.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)]
    assert bns and all(not m.training for m in bns)
    before = {k: v.clone() for k, v in model.state_dict().items() if "running" in k}
    images = torch.randn(2, 3, 64, 64)
    out = model(images)
    assert out.shape == (2, 16)
    out.pow(2).sum().backward()
    after = {k: v for k, v in model.state_dict().items() if "running" in k}
    assert all(torch.equal(before[k], after[k]) for k in before), "frozen BN statistics moved"
    assert all(p.grad is None for m in bns for p in m.parameters())
    assert model.embedding.weight.grad.abs().sum() > 0
    convs = [m for m in model.backbone.modules() if isinstance(m, torch.nn.Conv2d)]
    assert convs[0].weight.grad.abs().sum() > 0
    assert model.input_style == ("bn_inception" if name == "bn_inception" else "imagenet")


def test_unfrozen_bn_updates_statistics():
    model = models.create("resnet18", 8, freeze_bn=False).train()
    bn = model.backbone.model.bn1
    before = bn.running_mean.clone()
    model(torch.randn(2, 3, 64, 64))
    assert bn.training and not torch.equal(before, bn.running_mean)


def test_bn_inception_shape_at_224():
    features = models.BNInception()
    with torch.no_grad():
        assert features(torch.randn(1, 3, 224, 224)).shape == (1, 1024, 7, 7)


@pytest.mark.parametrize("name", ["resnet18", "bn_inception"])
def test_weights_from_a_local_file(tmp_path, name):
    torch.manual_seed(1)
    source = models.create(name, 8)
    state = (source.backbone.model if name != "bn_inception" else source.backbone).state_dict()
    state = {**state, ("fc.weight" if name != "bn_inception" else "last_linear.weight"): torch.zeros(1000, 4)}
    path = tmp_path / "weights.pth"
    torch.save({"state_dict": {f"module.{k}": v for k, v in state.items()}}, path)
    loaded = models.create(name, 8, weights=str(path))
    for (k, a), b in zip(source.backbone.state_dict().items(), loaded.backbone.state_dict().values()):
        assert torch.equal(a, b), k


def test_weights_that_do_not_fit_are_refused(tmp_path):
    path = tmp_path / "other.pth"
    torch.save(models.create("resnet18", 8).backbone.model.state_dict(), path)
    with pytest.raises(ValueError, match="do not fit"):
        models.create("resnet50", 8, weights=str(path))
    with pytest.raises(ValueError, match="does not exist"):
        models.create("resnet18", 8, weights=str(tmp_path / "missing.pth"))


class _RunsCode:
    def __reduce__(self):
        return (print, ("this pickle runs code",))


def test_a_weights_file_cannot_run_code(tmp_path, capfd):
    path = tmp_path / "evil.pth"
    with open(path, "wb") as handle:
        pickle.dump({"conv1.weight": _RunsCode()}, handle, protocol=2)
    with pytest.raises(ValueError, match="cannot load weights file .* safely"):
        models.create("resnet18", 8, weights=str(path))
    assert "this pickle runs code" not in capfd.readouterr().out


@pytest.mark.parametrize("name", ["resnet50", "bn_inception"])
def test_imagenet_weights_offline_say_how_to_proceed(monkeypatch, name):
    def offline(*args, **kwargs):
        raise urllib.error.URLError("no network")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", offline)
    with pytest.raises(ValueError, match="weights='path/to/file.pth'") as info:
        models.create(name, 8, weights="imagenet")
    assert "http" in str(info.value) and "weights=None" in str(info.value)


def test_bad_options():
    with pytest.raises(ValueError, match="pooling"):
        models.create("resnet18", 8, pooling="gem")
    with pytest.raises(ValueError, match="embedding_dim"):
        models.create("small_cnn", 0)
    with pytest.raises(ValueError, match="backbone"):
        backbones.build_backbone("resnet999")


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", FULL)
def test_full_models_on_cuda_with_bf16_and_channels_last(name):
    torch.manual_seed(0)
    model = models.create(name, 64, freeze_bn=True)
    x = torch.randn(4, 3, 128, 128)
    reference = model.eval()(x)
    model = model.cuda().to(memory_format=torch.channels_last).train()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        out = model(x.cuda().to(memory_format=torch.channels_last))
    assert out.shape == (4, 64) and torch.isfinite(out).all()
    out.float().sum().backward()
    assert all(p.grad is not None and torch.isfinite(p.grad).all() for p in model.parameters() if p.requires_grad)
    # frozen BN: train mode uses the running statistics, so the output is the eval-mode one up to bf16 rounding
    assert torch.allclose(out.float().cpu(), reference, atol=0.1 * reference.abs().max().item())


@pytest.mark.slow
def test_full_models_move_between_devices_and_dtypes():
    # nn.Module.to/cuda/half go through Module._apply: a submodule must not shadow it
    for name in FULL:
        model = models.create(name, 8).double()
        assert all(p.dtype == torch.float64 for p in model.parameters()), name


def test_googlenet_input_renormalisation_matches_torchvision():
    """psviz's own copy of GoogLeNet's input transform (the pretrained weights' normalisation) equals torchvision's."""
    import torchvision

    from psviz.models.weights import inception_input

    reference = torchvision.models.googlenet(weights=None, init_weights=False, aux_logits=False, transform_input=True)
    x = torch.randn(2, 3, 8, 8, dtype=torch.float64)
    assert torch.allclose(inception_input(x), reference._transform_input(x), atol=1e-12)
