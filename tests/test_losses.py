"""The eight proxy losses: values against loop-based float64 references, PS handling, gradients, registry."""

import math

import pytest
import torch

from psviz import ProxySynthesis, losses, proxy_synthesis

N_CLASSES, DIM, BATCH = 4, 6, 10


def batch(dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    embeddings = torch.randn(BATCH, DIM, generator=g, dtype=dtype)
    labels = torch.tensor([0, 1, 2, 3, 0, 1, 2, 0, 1, 1])
    return embeddings, labels


def make(name, dtype=torch.float64, synthesis=None, **hyper):
    torch.manual_seed(123)
    loss = losses.create(name, N_CLASSES, DIM, synthesis=synthesis, **hyper)
    return loss.to(dtype)


# ---- independent references: plain Python loops over samples, classes and centres -------------------------

def unit(v):
    return v / v.norm()


def cross_entropy(logits, target):
    return -logits[target] + torch.logsumexp(logits, dim=0)


def ref_softmax(loss, e, p, y):
    return torch.stack([cross_entropy(torch.stack([e[i] @ p[c] for c in range(len(p))]), y[i])
                        for i in range(len(e))]).mean()


def ref_margin_softmax(positive_fn, scale):
    def ref(loss, e, p, y):
        terms = []
        for i in range(len(e)):
            cos = [unit(e[i]) @ unit(p[c]) for c in range(len(p))]
            logits = [scale * (positive_fn(c_) if c == y[i] else c_) for c, c_ in enumerate(cos)]
            terms.append(cross_entropy(torch.stack(logits), y[i]))
        return torch.stack(terms).mean()
    return ref


def arc_positive(m):
    def f(cos):
        theta = torch.acos(cos)
        return torch.cos(theta + m) if theta + m <= math.pi else cos - m * math.sin(m)
    return f


def sphere_positive(m, weight):
    def f(cos):
        theta = float(torch.acos(cos))
        k = min(int(m * theta // math.pi), m - 1)
        psi = (-1) ** k * torch.cos(m * torch.acos(cos)) - 2 * k
        return (weight * cos + psi) / (1 + weight)
    return f


def ref_proxy_nca(scale):
    def ref(loss, e, p, y):
        terms = []
        for i in range(len(e)):
            logits = [-scale * ((unit(e[i]) - unit(p[c])) ** 2).sum() for c in range(len(p))]
            terms.append(cross_entropy(torch.stack(logits), y[i]))
        return torch.stack(terms).mean()
    return ref


def ref_soft_triple(k, la, gamma, margin, tau):
    def ref(loss, e, p, y):
        centres = p.reshape(-1, k, DIM)
        terms = []
        for i in range(len(e)):
            sims = []
            for c in range(len(centres)):
                cos = torch.stack([unit(e[i]) @ unit(centres[c, j]) for j in range(k)])
                weights = torch.exp(cos / gamma) / torch.exp(cos / gamma).sum()
                sims.append((weights * cos).sum() - (margin if c == y[i] else 0.0))
            terms.append(cross_entropy(la * torch.stack(sims), y[i]))
        real = loss.proxies.reshape(N_CLASSES, k, DIM)
        reg = sum(torch.sqrt(2 + 1e-5 - 2 * unit(real[c, a]) @ unit(real[c, b]))
                  for c in range(N_CLASSES) for a in range(k) for b in range(a + 1, k))
        return torch.stack(terms).mean() + tau * reg / (N_CLASSES * k * (k - 1))
    return ref


def ref_proxy_anchor(alpha, margin):
    def ref(loss, e, p, y):
        pos_terms, neg_terms = [], []
        for c in range(len(p)):
            sims = [unit(e[i]) @ unit(p[c]) for i in range(len(e))]
            pos = [torch.exp(-alpha * (s - margin)) for i, s in enumerate(sims) if y[i] == c]
            neg = [torch.exp(alpha * (s + margin)) for i, s in enumerate(sims) if y[i] != c]
            if pos:
                pos_terms.append(torch.log(1 + torch.stack(pos).sum()))
            neg_terms.append(torch.log(1 + (torch.stack(neg).sum() if neg else 0.0)))
        return torch.stack(pos_terms).sum() / len(pos_terms) + torch.stack(neg_terms).sum() / len(p)
    return ref


REFERENCES = {
    "softmax": ({}, ref_softmax),
    "norm_softmax": ({}, ref_margin_softmax(lambda c: c, 23.0)),
    "sphereface": ({}, ref_margin_softmax(sphere_positive(4, 5.0), 23.0)),
    "cosface": ({}, ref_margin_softmax(lambda c: c - 0.35, 64.0)),
    "arcface": ({}, ref_margin_softmax(arc_positive(0.5), 64.0)),
    "proxy_nca": ({}, ref_proxy_nca(12.0)),
    "soft_triple": ({"proxies_per_class": 3}, ref_soft_triple(3, 20.0, 0.1, 0.01, 0.2)),
    "proxy_anchor": ({}, ref_proxy_anchor(32.0, 0.1)),
}
# Smaller scales keep the reference comparison and gradcheck away from saturated softmaxes.
SOFT = {"softmax": {}, "norm_softmax": {"scale": 4.0}, "sphereface": {"scale": 4.0, "softmax_weight": 1.0},
        "cosface": {"scale": 4.0}, "arcface": {"scale": 4.0}, "proxy_nca": {"scale": 2.0},
        "soft_triple": {"proxies_per_class": 3, "la": 4.0}, "proxy_anchor": {"alpha": 4.0}}
ALL = losses.available()


def test_registry_lists_the_eight_losses():
    assert ALL == ["softmax", "norm_softmax", "sphereface", "cosface", "arcface", "proxy_nca", "soft_triple",
                   "proxy_anchor"]
    assert set(REFERENCES) == set(ALL)


@pytest.mark.parametrize("name", ALL)
def test_value_matches_reference_without_ps(name):
    hyper, ref = REFERENCES[name]
    loss = make(name, **hyper)
    e, y = batch()
    assert torch.allclose(loss(e, y), ref(loss, e, loss.proxies.detach(), y), rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ALL)
def test_value_with_ps_treats_synthetic_classes_as_extra_classes(name):
    hyper, ref = REFERENCES[name]
    loss = make(name, synthesis=ProxySynthesis(alpha=0.4, mu=0.7), **hyper)
    e, y = batch()
    torch.manual_seed(5)
    value = loss(e, y)
    # Same RNG state: the same lambda and pairing; then the reference loss on the real + synthetic rows.
    torch.manual_seed(5)
    mixed = proxy_synthesis(e, loss.proxy_tensor().detach(), y, 0.4, 0.7, normalize=loss.normalize)
    assert mixed.n_synthetic == 7
    proxies = mixed.proxies.reshape(-1, DIM)
    expected = ref(loss, mixed.embeddings, proxies, mixed.labels)
    assert torch.allclose(value, expected, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("name", ALL)
def test_ps_off_and_mu_zero_give_the_same_value(name):
    e, y = batch(dtype=torch.float32)
    off = make(name, dtype=torch.float32)
    zero = make(name, dtype=torch.float32, synthesis=ProxySynthesis(mu=0.0))
    assert torch.equal(off.proxies, zero.proxies)
    assert torch.equal(off(e, y), zero(e, y))


@pytest.mark.parametrize("name", ALL)
def test_ps_runs_in_training_only(name):
    e, y = batch()
    plain = make(name)
    with_ps = make(name, synthesis=ProxySynthesis(mu=1.0))
    assert not torch.allclose(with_ps(e, y), plain(e, y))
    with_ps.eval()
    assert torch.equal(with_ps(e, y), plain(e, y))


@pytest.mark.parametrize("use_ps", [False, True], ids=["plain", "ps"])
@pytest.mark.parametrize("name", ALL)
def test_gradcheck(name, use_ps):
    loss = make(name, synthesis=ProxySynthesis(mu=1.0) if use_ps else None, **SOFT[name])
    e, y = batch()
    proxies = loss.proxies.detach().clone()

    def fn(emb, prox):
        torch.manual_seed(0)  # PS draws lambda and the pairing: the same ones at every evaluation
        return torch.func.functional_call(loss, {"proxies": prox}, (emb, y))

    assert torch.autograd.gradcheck(fn, (e.requires_grad_(True), proxies.requires_grad_(True)))


@pytest.mark.parametrize("name", ALL)
def test_gradients_flow_to_embeddings_and_proxies_with_ps(name):
    loss = make(name, dtype=torch.float32, synthesis=ProxySynthesis())
    e, y = batch(dtype=torch.float32)
    e.requires_grad_(True)
    loss(e, y).backward()
    assert e.grad.abs().sum() > 0 and loss.proxies.grad.abs().sum() > 0


@pytest.mark.parametrize("name", ALL)
def test_half_precision_embeddings_and_cpu_autocast(name):
    loss = make(name, dtype=torch.float32, synthesis=ProxySynthesis())
    e, y = batch(dtype=torch.float32)
    value = loss(e.to(torch.bfloat16).requires_grad_(True), y)
    assert value.dtype == torch.float32 and torch.isfinite(value)
    net = torch.nn.Linear(DIM, DIM)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        value = loss(net(e), y)
    value.backward()
    assert torch.isfinite(value) and torch.isfinite(net.weight.grad).all() and net.weight.grad.abs().sum() > 0


def test_proxy_nca_equals_norm_softmax_at_twice_the_scale():
    e, y = batch()
    nca = make("proxy_nca", scale=5.0)
    norm = make("norm_softmax", scale=10.0)
    assert torch.equal(nca.proxies, norm.proxies)
    assert torch.allclose(nca(e, y), norm(e, y), rtol=1e-12)


def test_defaults_match_the_released_code_and_papers():
    assert losses.hyperparameters("norm_softmax") == {"scale": 23.0}
    assert losses.hyperparameters("proxy_nca") == {"scale": 12.0}
    assert losses.hyperparameters("cosface") == {"margin": 0.35, "scale": 64.0}
    assert losses.hyperparameters("arcface") == {"margin": 0.5, "scale": 64.0}
    assert losses.hyperparameters("sphereface") == {"margin": 4, "scale": 23.0, "softmax_weight": 5.0}
    assert losses.hyperparameters("soft_triple") == {"proxies_per_class": 10, "la": 20.0, "gamma": 0.1,
                                                     "margin": 0.01, "tau": 0.2}
    assert losses.hyperparameters("proxy_anchor") == {"alpha": 32.0, "margin": 0.1}
    ps = ProxySynthesis()
    assert (ps.alpha, ps.mu) == (0.4, 1.0)


@pytest.mark.parametrize("name", ALL)
def test_proxies_parameter_shape(name):
    loss = losses.create(name, 7, 5)
    k = 10 if name == "soft_triple" else 1
    assert isinstance(loss.proxies, torch.nn.Parameter) and loss.proxies.shape == (7 * k, 5)


@pytest.mark.parametrize("name", ALL)
def test_logits_rank_each_proxy_first_for_its_own_class(name):
    loss = make(name)
    centres = loss.proxy_tensor().detach()
    points = centres if centres.dim() == 2 else centres[:, 0]  # SoftTriple: one centre of each class
    logits = loss.logits(points)
    assert logits.shape == (N_CLASSES, N_CLASSES)
    if name != "softmax":  # raw dot products need not favour a proxy's own class
        assert torch.equal(logits.argmax(dim=1), torch.arange(N_CLASSES))


def test_registry_lookup_by_loose_names_and_errors():
    assert isinstance(losses.create("Norm-Softmax", 3, 4), losses.NormSoftmaxLoss)
    assert isinstance(losses.create("ProxyAnchor", 3, 4), losses.ProxyAnchorLoss)
    with pytest.raises(ValueError, match="unknown loss 'triplet'.*norm_softmax"):
        losses.create("triplet", 3, 4)
    with pytest.raises(ValueError, match="no hyper-parameter 'temperature'.*scale"):
        losses.create("norm_softmax", 3, 4, temperature=0.05)


@pytest.mark.parametrize("name", ALL)
def test_bad_inputs_raise_value_error(name):
    loss = make(name, dtype=torch.float32)
    e, y = batch(dtype=torch.float32)
    with pytest.raises(ValueError, match="embeddings"):
        loss(e[:, :3], y)
    with pytest.raises(ValueError, match="embeddings"):
        loss(e[0], y)
    with pytest.raises(ValueError, match="labels"):
        loss(e, y[:4])
    with pytest.raises(ValueError, match="labels"):
        loss(e, y + N_CLASSES)
    bad = e.clone()
    bad[0, 0] = float("nan")
    with pytest.raises(ValueError, match="embeddings"):
        loss(bad, y)


@pytest.mark.parametrize("name,hyper,argument", [
    ("norm_softmax", {"scale": 0.0}, "scale"),
    ("cosface", {"margin": -0.1}, "margin"),
    ("arcface", {"margin": 2.0}, "margin"),
    ("sphereface", {"margin": 1.5}, "margin"),
    ("soft_triple", {"proxies_per_class": 0}, "proxies_per_class"),
    ("soft_triple", {"gamma": 0.0}, "gamma"),
    ("proxy_anchor", {"alpha": -1.0}, "alpha"),
    ("proxy_nca", {"scale": float("inf")}, "scale"),
])
def test_bad_hyperparameters_raise_value_error(name, hyper, argument):
    with pytest.raises(ValueError, match=argument):
        losses.create(name, 3, 4, **hyper)


def test_bad_construction_arguments():
    with pytest.raises(ValueError, match="n_classes"):
        losses.NormSoftmaxLoss(0, 4)
    with pytest.raises(ValueError, match="embedding_dim"):
        losses.NormSoftmaxLoss(3, 2.5)
    with pytest.raises(ValueError, match="synthesis"):
        losses.NormSoftmaxLoss(3, 4, synthesis=0.4)


@pytest.mark.parametrize("name", ALL)
def test_training_a_linear_embedder_with_ps_separates_toy_classes(name):
    """A linear embedder on clustered inputs, trained with PS on: the real-class loss falls, nearest proxies match."""
    torch.manual_seed(0)
    loss = losses.create(name, 4, 8, synthesis=ProxySynthesis())
    labels = torch.arange(32) % 4
    inputs = torch.randn(4, 16)[labels] + 0.3 * torch.randn(32, 16)
    net = torch.nn.Linear(16, 8)
    optimizer = torch.optim.Adam([{"params": net.parameters()}, {"params": [loss.proxies], "lr": 0.1}], lr=0.01)
    loss.eval()
    before = loss(net(inputs), labels).item()
    loss.train()
    for _ in range(150):
        optimizer.zero_grad()
        loss(net(inputs), labels).backward()
        optimizer.step()
    loss.eval()
    assert loss(net(inputs), labels).item() < 0.5 * before
    assert torch.equal(loss.logits(net(inputs).detach()).argmax(1), labels)


def test_ps_in_a_loss_needs_two_classes_unless_it_makes_no_synthetic():
    e, y = batch(dtype=torch.float32)
    one_class = torch.zeros_like(y)
    loss = make("norm_softmax", dtype=torch.float32, synthesis=ProxySynthesis(mu=1.0))
    with pytest.raises(ValueError, match="two different classes"):
        loss(e, one_class)
    assert torch.isfinite(loss.eval()(e, one_class))  # eval mode: no PS
    few = make("norm_softmax", dtype=torch.float32, synthesis=ProxySynthesis(mu=0.5 / len(y)))
    assert torch.isfinite(few(e, one_class))  # floor(mu * B) = 0: nothing to pair


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_training_checks_report_after_the_step_without_a_sync():
    e, y = batch(dtype=torch.float32)
    loss = make("norm_softmax", dtype=torch.float32, synthesis=ProxySynthesis()).cuda()
    bad = e.clone().cuda().requires_grad_()
    with torch.no_grad():
        bad[0, 0] = float("nan")
    value = loss(bad, y.cuda())  # no sync: the verdict is pending
    with pytest.raises(ValueError, match="NaN.*checked after the step"):
        loss.raise_pending()
    loss.raise_pending()  # reported once
    loss(e.cuda(), y.cuda()).backward()
    loss.raise_pending()  # a good batch reports nothing
    with pytest.raises(ValueError, match="two different classes"):
        loss(e.cuda(), torch.zeros_like(y).cuda())
        loss.raise_pending()
    with torch.no_grad(), pytest.raises(ValueError, match="NaN"):  # without gradients it checks at once
        loss(bad.detach(), y.cuda())
    assert torch.isnan(value)  # what the check warned about
