"""Proxy Synthesis on pytorch-metric-learning's proxy losses: the wrapped loss is PML's own loss over the real and
synthetic classes, equals psviz's loss where psviz has the same one, and keeps PML's parameters, state and modes."""

import io
import math
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

import psviz
from psviz import losses as psviz_losses
from psviz.integrations import pml as ps_pml
from psviz.method.synthesis import ProxySynthesis

losses = pytest.importorskip("pytorch_metric_learning.losses", reason="pytorch-metric-learning is a dev extra")
distances = pytest.importorskip("pytorch_metric_learning.distances")
reducers = pytest.importorskip("pytorch_metric_learning.reducers")

# PML's LargeMargin builds its binomial table through scipy on torch tensors; numpy 2 warns about that, not about us
pytestmark = pytest.mark.filterwarnings("ignore:__array_wrap__ must accept context:DeprecationWarning")

C, D, B, K = 6, 8, 12, 3


def _class_rows(loss) -> torch.Tensor:
    """The loss's weights as [C, d] or [C, K, d], written out per class here (not through the module's helpers)."""
    if isinstance(loss, (losses.ProxyNCALoss, losses.ProxyAnchorLoss)):
        return loss.proxies
    if isinstance(loss, losses.SoftTripleLoss):
        return loss.fc.t().reshape(-1, loss.centers_per_class, loss.fc.shape[0])
    if isinstance(loss, losses.SubCenterArcFaceLoss):
        return loss.W.t().reshape(-1, loss.sub_centers, loss.W.shape[0])
    return loss.W.t()


def _set_rows(loss, rows: torch.Tensor) -> None:
    flat = rows.reshape(-1, rows.shape[-1]).detach()
    with torch.no_grad():
        if isinstance(loss, (losses.ProxyNCALoss, losses.ProxyAnchorLoss)):
            loss.proxies.copy_(flat)
        elif isinstance(loss, losses.SoftTripleLoss):
            loss.fc.copy_(flat.t())
        else:
            loss.W.copy_(flat.t())


# (class, options): every supported loss, and custom distances / reducers / margins where PML allows them
CASES = [
    (losses.ProxyNCALoss, {}),
    (losses.ProxyNCALoss, {"softmax_scale": 3.0, "reducer": reducers.SumReducer()}),
    (losses.ProxyAnchorLoss, {}),
    (losses.ProxyAnchorLoss, {"margin": 0.2, "alpha": 16, "distance": distances.DotProductSimilarity()}),
    (losses.NormalizedSoftmaxLoss, {}),
    (losses.CosFaceLoss, {}),
    (losses.ArcFaceLoss, {}),
    (losses.SphereFaceLoss, {"scale": 2.0}),
    (losses.LargeMarginSoftmaxLoss, {}),
    (losses.SoftTripleLoss, {"centers_per_class": K}),
    (losses.SubCenterArcFaceLoss, {"sub_centers": K}),
]
RAW = (losses.SphereFaceLoss, losses.LargeMarginSoftmaxLoss)  # mixed as raw rows (their logits use vector norms)


def _make(cls, options, n_classes=C):
    loss = cls(num_classes=n_classes, embedding_size=D, **options)
    return loss.double()


def _batch(seed=0):
    generator = torch.Generator().manual_seed(seed)
    embeddings = torch.randn(B, D, generator=generator, dtype=torch.float64)
    labels = torch.randint(0, C, (B,), generator=generator)
    labels[:2] = torch.tensor([0, 1])
    return embeddings, labels


@pytest.mark.parametrize("cls, options", CASES, ids=lambda v: v.__name__ if isinstance(v, type) else str(sorted(v)))
@pytest.mark.parametrize("mu", [0.5, 1.0, 2.0])
def test_wrapped_loss_is_pml_over_real_and_synthetic_classes(cls, options, mu):
    torch.manual_seed(100)
    wrapped = ps_pml.with_proxy_synthesis(_make(cls, options), alpha=0.4, mu=mu)
    embeddings, labels = _batch()
    torch.manual_seed(7)
    got = wrapped(embeddings, labels)
    torch.manual_seed(7)  # the same draws: the pairing, then lambda
    mixed = psviz.proxy_synthesis(embeddings, _class_rows(wrapped), labels, 0.4, mu, normalize=cls not in RAW)
    assert mixed.n_synthetic == math.floor(mu * B)
    reference = _make(cls, options, n_classes=C + mixed.n_synthetic)
    _set_rows(reference, mixed.proxies)
    expected = reference(mixed.embeddings, mixed.labels)
    assert torch.allclose(got, expected, rtol=1e-10, atol=1e-12), (float(got), float(expected))


TWIN_CASES = [("norm_softmax", {"scale": 16.0}), ("proxy_nca", {"scale": 9.0}), ("proxy_anchor", {"margin": 0.2}),
              ("soft_triple", {"proxies_per_class": K, "tau": 0.0}), ("cosface", {"margin": 0.3, "scale": 30.0}),
              ("arcface", {"margin": 0.4, "scale": 30.0})]


@pytest.mark.parametrize("name, hyper", TWIN_CASES, ids=[n for n, _ in TWIN_CASES])
def test_wrapped_twin_equals_psviz_loss_with_ps(name, hyper):
    torch.manual_seed(3)
    ours = psviz_losses.create(name, C, D, synthesis=ProxySynthesis(0.6, 1.0), **hyper).double()
    twin = ps_pml.from_psviz(ours)
    embeddings, labels = _batch(1)
    for train in (True, False):
        ours.train(train)
        twin.train(train)
        torch.manual_seed(11)
        a = ours(embeddings.clone().requires_grad_(), labels)
        torch.manual_seed(11)
        b = twin(embeddings.clone().requires_grad_(), labels)
        assert torch.allclose(a, b, rtol=1e-9, atol=1e-10), (name, train, float(a), float(b))
    ours.train()
    twin.train()
    torch.manual_seed(5)
    ours(embeddings, labels).backward()
    torch.manual_seed(5)
    twin(embeddings, labels).backward()
    pml_grad = next(iter(twin.parameters())).grad
    ours_grad = ours.proxies.grad
    assert torch.allclose(ours_grad, pml_grad if pml_grad.shape == ours_grad.shape else pml_grad.t(), atol=1e-9)


def test_sphereface_twin_without_ps_on_unit_embeddings():
    ours = psviz_losses.create("sphereface", C, D, softmax_weight=0.0, scale=4.0).double()
    twin = ps_pml.from_psviz(ours)
    embeddings, labels = _batch(2)
    embeddings = F.normalize(embeddings, dim=1)  # PML's SphereFace scales by the embedding norm, psviz's by `scale`
    assert torch.allclose(ours(embeddings, labels), twin(embeddings, labels), rtol=1e-9)


@pytest.mark.parametrize("psviz_name, change, message", [
    ("softmax", {}, "has no pytorch-metric-learning twin"),
    ("soft_triple", {"tau": 0.2}, "has no tau term"),
    ("sphereface", {"softmax_weight": 5.0}, "has no softmax_weight term"),
])
def test_losses_without_an_exact_twin_are_refused(psviz_name, change, message):
    with pytest.raises(ValueError, match=message):
        ps_pml.from_psviz(psviz_losses.create(psviz_name, C, D, **change))


@pytest.mark.parametrize("cls, options", CASES[::2] + [CASES[-1]], ids=lambda v: getattr(v, "__name__", ""))
def test_gradients_reach_real_weights_and_embeddings_and_bf16_autocast_works(cls, options):
    loss = cls(num_classes=C, embedding_size=D, **options)
    wrapped = ps_pml.with_proxy_synthesis(loss)
    embeddings = torch.randn(B, D, requires_grad=True)
    labels = torch.arange(B) % C
    wrapped(embeddings, labels).backward()
    weights = next(iter(loss.parameters()))
    assert weights.grad is not None and weights.grad.abs().sum() > 0 and embeddings.grad.abs().sum() > 0
    weights.grad = None
    model = torch.nn.Linear(D, D)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = wrapped(model(embeddings.detach()), labels)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(weights.grad).all() and model.weight.grad is not None
    assert weights.dtype == torch.float32  # the real weights stay as they were


def test_same_parameters_state_dict_and_eval_mode():
    plain = losses.SoftTripleLoss(num_classes=C, embedding_size=D, centers_per_class=K)
    wrapped = ps_pml.with_proxy_synthesis(plain, mu=0.5)
    assert isinstance(wrapped, losses.SoftTripleLoss)
    assert [id(p) for p in wrapped.parameters()] == [id(p) for p in plain.parameters()]
    assert list(wrapped.state_dict()) == list(plain.state_dict()) == ["fc"]
    other = losses.SoftTripleLoss(num_classes=C, embedding_size=D, centers_per_class=K)
    wrapped.load_state_dict(other.state_dict())
    assert torch.equal(plain.fc, other.fc)  # shared: loading into one loads both
    buffer = io.BytesIO()
    torch.save(wrapped, buffer)
    buffer.seek(0)
    again = torch.load(buffer, weights_only=False)
    assert type(again).__name__ == "ProxySynthesisSoftTripleLoss" and torch.equal(again.fc, plain.fc)
    embeddings, labels = _batch()
    embeddings = embeddings.float()
    wrapped.eval()
    assert torch.equal(wrapped(embeddings, labels), plain(embeddings, labels))
    wrapped.train()
    assert not torch.equal(wrapped(embeddings, labels), plain(embeddings, labels))
    assert "alpha=0.4, mu=0.5" in repr(wrapped)


class Recorder(torch.nn.Module):
    """A weight regulariser that records the rows it is given and adds nothing."""

    def __init__(self):
        super().__init__()
        self.rows = []

    def forward(self, weights):
        self.rows.append(weights.shape[0])
        return weights.sum() * 0.0


@pytest.mark.parametrize("cls, options, rows", [
    (losses.ProxyAnchorLoss, {}, C), (losses.NormalizedSoftmaxLoss, {}, C),
    (losses.SoftTripleLoss, {"centers_per_class": K}, C * K), (losses.SubCenterArcFaceLoss, {"sub_centers": K}, C * K),
])
def test_regularisers_see_the_real_weights_only(cls, options, rows):
    recorder = Recorder()
    plain = cls(num_classes=C, embedding_size=D, weight_regularizer=recorder, **options)
    count = plain.num_classes
    loss = ps_pml.with_proxy_synthesis(plain)
    embeddings, labels = _batch()
    loss(embeddings.float(), labels)
    assert recorder.rows == [rows]
    assert loss.num_classes == count  # the class count PML reads is back to the real one after the call
    assert next(iter(loss.parameters())).shape == next(iter(cls(num_classes=C, embedding_size=D, **options)
                                                             .parameters())).shape


def test_what_is_refused_says_why():
    with pytest.raises(ValueError, match="supported: .*ArcFaceLoss.*ProxyAnchorLoss"):
        ps_pml.with_proxy_synthesis(losses.TripletMarginLoss())
    wrapped = ps_pml.with_proxy_synthesis(losses.ProxyAnchorLoss(num_classes=C, embedding_size=D))
    with pytest.raises(ValueError, match="already"):
        ps_pml.with_proxy_synthesis(wrapped)
    embeddings, labels = _batch()
    with pytest.raises(ValueError, match="indices_tuple"):
        wrapped(embeddings.float(), labels, indices_tuple=(torch.tensor([0]), torch.tensor([1]), torch.tensor([2])))
    with pytest.raises(ValueError, match="needs the labels"):
        wrapped(embeddings.float())
    with pytest.raises(ValueError, match="alpha"):
        ps_pml.with_proxy_synthesis(losses.ProxyAnchorLoss(num_classes=C, embedding_size=D), alpha=0)


def test_psviz_imports_without_pml_and_the_integration_says_how_to_install_it():
    code = ("import sys; sys.modules['pytorch_metric_learning'] = None\n"
            "import psviz, psviz.integrations.pml as p\n"
            "try:\n    p.with_proxy_synthesis(object())\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert "pip install 'psviz[pml]'" in out
