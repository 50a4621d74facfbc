"""Proxy Synthesis operator: equations, pairing, counts, gradients, validation and reproducibility."""

import math
from fractions import Fraction

import pytest
import torch
from scipy import stats

import psviz
from psviz import ProxySynthesis, proxy_synthesis, random_partner, roll_partner, sample_lambda


def make_batch(batch=12, n_classes=4, dim=5, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    embeddings = torch.randn(batch, dim, generator=g, dtype=dtype)
    proxies = torch.randn(n_classes, dim, generator=g, dtype=dtype)
    labels = torch.arange(batch) % n_classes  # neighbours always differ: roll pairing is valid
    return embeddings, proxies, labels


def unit(v):
    """v / |v| in plain Python floats: an independent float64 re-computation."""
    values = [float(x) for x in v]
    norm = math.sqrt(sum(x * x for x in values))
    return [x / norm for x in values]


def test_equations_match_direct_float64_recomputation():
    e, p, y = make_batch()
    partner = torch.tensor([3, 2, 5, 0, 1, 7, 4, 6, 9, 11, 8, 10])
    out = proxy_synthesis(e, p, y, lam=0.3, partner=partner)
    batch, n_classes = e.shape[0], p.shape[0]
    assert out.n_real == batch and out.n_synthetic == batch and out.lam == 0.3
    for i in range(batch):
        j = int(partner[i])
        ei, ej = unit(e[i]), unit(e[j])
        pi, pj = unit(p[y[i]]), unit(p[y[j]])
        expect_e = unit([0.3 * a + 0.7 * b for a, b in zip(ei, ej)])
        expect_p = unit([0.3 * a + 0.7 * b for a, b in zip(pi, pj)])
        assert torch.allclose(out.embeddings[batch + i], torch.tensor(expect_e, dtype=e.dtype), atol=1e-12)
        assert torch.allclose(out.proxies[n_classes + i], torch.tensor(expect_p, dtype=e.dtype), atol=1e-12)
        assert int(out.labels[batch + i]) == n_classes + i
    # Real rows come first, L2-normalised and otherwise unchanged.
    assert torch.allclose(out.embeddings[:batch], e / e.norm(dim=1, keepdim=True), atol=1e-12)
    assert torch.allclose(out.proxies[:n_classes], p / p.norm(dim=1, keepdim=True), atol=1e-12)
    assert torch.equal(out.labels[:batch], y)
    assert torch.allclose(out.embeddings.norm(dim=1), torch.ones(2 * batch, dtype=e.dtype))
    assert torch.allclose(out.proxies.norm(dim=1), torch.ones(n_classes + batch, dtype=e.dtype))
    assert torch.equal(out.pairs, torch.stack([torch.arange(batch), partner], dim=1))


def test_released_pairing_is_a_roll_by_one():
    e, p, y = make_batch(batch=8)
    partner = roll_partner(8)
    assert partner.tolist() == [7, 0, 1, 2, 3, 4, 5, 6]
    lam = 0.8
    out = proxy_synthesis(e, p, y, lam=lam, partner=partner)
    en = torch.nn.functional.normalize(e, dim=1)
    pn = torch.nn.functional.normalize(p, dim=1)[y]
    # The released code's formula: lam * E + (1 - lam) * roll(E, 1), same for the gathered proxies.
    released_e = torch.nn.functional.normalize(lam * en + (1 - lam) * torch.roll(en, 1, dims=0), dim=1)
    released_p = torch.nn.functional.normalize(lam * pn + (1 - lam) * torch.roll(pn, 1, dims=0), dim=1)
    assert torch.allclose(out.synthetic_embeddings, released_e, atol=1e-12)
    assert torch.allclose(out.synthetic_proxies, released_p, atol=1e-12)


def test_random_pairing_never_mixes_a_class_with_itself():
    g = torch.Generator().manual_seed(1)
    for trial in range(400):
        batch = int(torch.randint(2, 40, (1,), generator=g))
        n_classes = int(torch.randint(2, 4, (1,), generator=g))
        labels = torch.randint(0, n_classes, (batch,), generator=g)
        if (labels == labels[0]).all():
            labels[0] = (labels[0] + 1) % n_classes
        pairings = int(torch.randint(1, 4, (1,), generator=g))
        partner = random_partner(labels, pairings, generator=g)
        assert partner.shape == (pairings * batch,)
        source = torch.arange(pairings * batch) % batch
        assert (labels[partner] != labels[source]).all(), f"trial {trial}: {labels} {partner}"


def test_random_pairing_is_uniform_over_other_classes():
    labels = torch.tensor([0, 0, 1, 1, 1, 2])
    g = torch.Generator().manual_seed(0)
    draws = torch.stack([random_partner(labels, generator=g) for _ in range(3000)])
    counts = torch.bincount(draws[:, 0], minlength=6).double() / 3000  # sample 0 may pick 2, 3, 4 or 5
    assert counts[:2].sum() == 0
    assert torch.allclose(counts[2:], torch.full((4,), 0.25, dtype=torch.double), atol=0.03)


@pytest.mark.parametrize("batch", [7, 10, 100])
@pytest.mark.parametrize("mu", [0.0, 0.25, 0.29, 0.5, 1.0, 1.5, 2.0, 3.7])
def test_mu_gives_exactly_floor_mu_b_synthetic_classes(batch, mu):
    e, p, y = make_batch(batch=batch, dtype=torch.float32)
    out = proxy_synthesis(e, p, y, mu=mu, generator=torch.Generator().manual_seed(0))
    expected = math.floor(Fraction(str(mu)) * batch)
    assert out.n_synthetic == expected
    assert out.embeddings.shape == (batch + expected, 5)
    assert out.proxies.shape == (4 + expected, 5)
    assert out.labels[batch:].tolist() == list(range(4, 4 + expected))
    assert out.partner.shape == (batch * math.ceil(expected / batch),)
    if expected:
        source, mate = out.pairs.T
        assert (y[source] != y[mate]).all()


def test_mu_above_one_draws_independent_pairings():
    e, p, y = make_batch(batch=32, n_classes=8)
    out = proxy_synthesis(e, p, y, mu=3.0, generator=torch.Generator().manual_seed(0))
    blocks = out.partner.view(3, 32)
    assert not torch.equal(blocks[0], blocks[1]) and not torch.equal(blocks[1], blocks[2])
    # Synthetic i and i + B share a source but generally not a partner, so they are different classes.
    assert not torch.allclose(out.synthetic_embeddings[:32], out.synthetic_embeddings[32:64])


def test_gradcheck_through_synthesis():
    e, p, y = make_batch(batch=6, n_classes=3, dim=4)
    e.requires_grad_(True)
    p.requires_grad_(True)
    partner = torch.tensor([1, 2, 0, 4, 5, 3])

    def fn(emb, prox):
        out = proxy_synthesis(emb, prox, y, lam=0.35, partner=partner, mu=1.0)
        return out.embeddings, out.proxies

    assert torch.autograd.gradcheck(fn, (e, p))


def test_gradients_reach_embeddings_and_proxies():
    e, p, y = make_batch(dtype=torch.float32)
    e.requires_grad_(True)
    p.requires_grad_(True)
    out = proxy_synthesis(e, p, y, generator=torch.Generator().manual_seed(3))
    (out.synthetic_embeddings.sum() + out.synthetic_proxies.sum() * 2).backward()
    assert e.grad.abs().sum() > 0 and p.grad.abs().sum() > 0


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_dtypes_are_kept(dtype):
    e, p, y = make_batch(dtype=dtype)
    out = proxy_synthesis(e, p, y, generator=torch.Generator().manual_seed(0))
    assert out.embeddings.dtype == dtype and out.proxies.dtype == dtype


def test_cpu_autocast_bfloat16():
    e, p, y = make_batch(dtype=torch.float32)
    layer = torch.nn.Linear(5, 5)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        emb = layer(e)
        assert emb.dtype == torch.bfloat16
        out = proxy_synthesis(emb, p, y, generator=torch.Generator().manual_seed(0))
        loss = (out.embeddings.float() @ out.proxies.T.float()).logsumexp(1).mean()
    assert torch.isfinite(out.embeddings).all()
    loss.backward()
    assert layer.weight.grad is not None and torch.isfinite(layer.weight.grad).all()


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_matches_cpu():
    e, p, y = make_batch(dtype=torch.float32)
    partner = roll_partner(12)
    cpu = proxy_synthesis(e, p, y, lam=0.6, partner=partner)
    gpu = proxy_synthesis(e.cuda(), p.cuda(), y.cuda(), lam=0.6, partner=partner.cuda())
    assert torch.allclose(cpu.embeddings, gpu.embeddings.cpu(), atol=1e-6)
    drawn = proxy_synthesis(e.cuda(), p.cuda(), y.cuda(), generator=torch.Generator("cuda").manual_seed(0))
    assert drawn.partner.is_cuda and (y.cuda()[drawn.pairs[:, 0]] != y.cuda()[drawn.pairs[:, 1]]).all()
    with torch.autocast("cuda", dtype=torch.bfloat16):
        emb = torch.nn.Linear(5, 5).cuda()(e.cuda())
        assert torch.isfinite(proxy_synthesis(emb, p.cuda(), y.cuda()).embeddings).all()


def test_multi_centre_proxies_mix_centre_by_centre():
    e, _, y = make_batch(batch=6, n_classes=3, dim=4)
    centres = torch.randn(3, 2, 4, dtype=torch.float64)
    partner = torch.tensor([1, 2, 0, 4, 5, 3])
    out = proxy_synthesis(e, centres, y, lam=0.25, partner=partner)
    assert out.proxies.shape == (3 + 6, 2, 4)
    cn = torch.nn.functional.normalize(centres, dim=-1)
    for i in range(6):
        for k in range(2):
            mix = 0.25 * cn[y[i], k] + 0.75 * cn[y[partner[i]], k]
            assert torch.allclose(out.proxies[3 + i, k], mix / mix.norm(), atol=1e-12)


def test_normalize_false_mixes_raw_vectors():
    e, p, y = make_batch()
    partner = roll_partner(12)
    out = proxy_synthesis(e, p, y, lam=0.4, partner=partner, normalize=False)
    assert torch.equal(out.embeddings[:12], e)
    assert torch.allclose(out.synthetic_embeddings, 0.4 * e + 0.6 * e[partner])
    assert torch.allclose(out.synthetic_proxies, 0.4 * p[y] + 0.6 * p[y[partner]])


def test_same_seed_same_result():
    e, p, y = make_batch(dtype=torch.float32)
    a = proxy_synthesis(e, p, y, mu=1.5, generator=torch.Generator().manual_seed(42))
    b = proxy_synthesis(e, p, y, mu=1.5, generator=torch.Generator().manual_seed(42))
    c = proxy_synthesis(e, p, y, mu=1.5, generator=torch.Generator().manual_seed(43))
    assert a.lam == b.lam and torch.equal(a.partner, b.partner) and torch.equal(a.embeddings, b.embeddings)
    assert a.lam != c.lam or not torch.equal(a.partner, c.partner)
    torch.manual_seed(7)
    d = proxy_synthesis(e, p, y)
    torch.manual_seed(7)
    f = proxy_synthesis(e, p, y)
    assert d.lam == f.lam and torch.equal(d.partner, f.partner)


@pytest.mark.parametrize("alpha", [0.1, 0.4, 1.0, 2.0])
def test_lambda_follows_beta_alpha_alpha(alpha):
    g = torch.Generator().manual_seed(0)
    draws = [sample_lambda(alpha, g) for _ in range(2000)]
    assert min(draws) >= 0.0 and max(draws) <= 1.0
    assert stats.kstest(draws, "beta", args=(alpha, alpha)).pvalue > 1e-3


def test_module_holds_settings_and_runs_the_operator():
    module = ProxySynthesis(alpha=0.4, mu=0.5)
    assert "alpha=0.4, mu=0.5" in repr(module)
    e, p, y = make_batch()
    out = module(e, p, y, lam=0.5, partner=roll_partner(12))
    assert out.n_synthetic == 6 and out.lam == 0.5
    assert psviz.ProxySynthesis is ProxySynthesis


def _bad_inputs():
    e, p, y = make_batch()
    same = torch.zeros(12, dtype=torch.long)
    nan = e.clone()
    nan[3, 1] = float("nan")
    inf_p = p.clone()
    inf_p[0, 0] = float("inf")
    self_pair = torch.arange(12)
    return [
        ("alpha", dict(embeddings=e, proxies=p, labels=y, alpha=0.0)),
        ("alpha", dict(embeddings=e, proxies=p, labels=y, alpha=-1.0)),
        ("alpha", dict(embeddings=e, proxies=p, labels=y, alpha=float("nan"))),
        ("mu", dict(embeddings=e, proxies=p, labels=y, mu=-0.1)),
        ("embeddings", dict(embeddings=e[0], proxies=p, labels=y)),
        ("embeddings", dict(embeddings=e[None], proxies=p, labels=y)),
        ("embeddings", dict(embeddings=e.long(), proxies=p, labels=y)),
        ("proxies", dict(embeddings=e, proxies=p[:, :3], labels=y)),
        ("proxies", dict(embeddings=e, proxies=p[0], labels=y)),
        ("labels", dict(embeddings=e, proxies=p, labels=y[:5])),
        ("labels", dict(embeddings=e, proxies=p, labels=y.float())),
        ("labels", dict(embeddings=e, proxies=p, labels=y + 1)),
        ("labels", dict(embeddings=e, proxies=p, labels=y - 1)),
        ("embeddings", dict(embeddings=nan, proxies=p, labels=y)),
        ("proxies", dict(embeddings=e, proxies=inf_p, labels=y)),
        ("labels", dict(embeddings=e, proxies=p, labels=same)),
        ("lam", dict(embeddings=e, proxies=p, labels=y, lam=1.5)),
        ("lam", dict(embeddings=e, proxies=p, labels=y, lam=-0.01)),
        ("partner", dict(embeddings=e, proxies=p, labels=y, partner=self_pair)),
        ("partner", dict(embeddings=e, proxies=p, labels=y, partner=roll_partner(12) + 100)),
        ("partner", dict(embeddings=e, proxies=p, labels=y, partner=roll_partner(11))),
        ("partner", dict(embeddings=e, proxies=p, labels=y, mu=2.0, partner=roll_partner(12))),
        ("partner", dict(embeddings=e, proxies=p, labels=y, partner=roll_partner(12).float())),
    ]


@pytest.mark.parametrize("name,kwargs", _bad_inputs(), ids=lambda v: v if isinstance(v, str) else "")
def test_bad_input_raises_value_error_naming_the_argument(name, kwargs):
    with pytest.raises(ValueError, match=name):
        proxy_synthesis(**kwargs)


def test_module_rejects_bad_settings():
    with pytest.raises(ValueError, match="alpha"):
        ProxySynthesis(alpha=0)
    with pytest.raises(ValueError, match="mu"):
        ProxySynthesis(mu=-1)


def test_one_class_batch_is_fine_when_no_synthetic_is_made():
    e, p, _ = make_batch()
    out = proxy_synthesis(e, p, torch.zeros(12, dtype=torch.long), mu=0.0)
    assert out.n_synthetic == 0 and out.embeddings.shape == (12, 5)


def test_check_false_skips_the_value_tests_but_not_the_shapes():
    e, p, y = make_batch()
    e = e.clone()
    e[0, 0] = float("nan")
    out = proxy_synthesis(e, p, y, check=False)  # a loss that tested its inputs already passes check=False
    assert torch.isnan(out.embeddings[0]).all()
    with pytest.raises(ValueError, match="labels"):
        proxy_synthesis(e, p, y[:5], check=False)
