"""The mechanism measures (boundary smoothness, confidence, synthetic proximity) against hand-made cases whose
answers are known in closed form or by brute force in float64; then the same measures on real toy runs."""

import math

import numpy as np
import pytest
import torch

from psviz import losses
from psviz.data.holdout import class_subset, holdout_indices, rank_within_class
from psviz.evaluate import boundary_smoothness, synthetic_proximity, top_probabilities, unseen_confidence
from psviz.evaluate.smoothness import great_circle, neighbour_pairs


def on_circle(degrees):
    return torch.tensor([[math.cos(math.radians(a)), math.sin(math.radians(a))] for a in degrees],
                        dtype=torch.float64)


def loss_with(name, proxies, **hyper):
    """A float64 psviz loss whose proxies are the given rows ([C, d] or [C, K, d])."""
    if proxies.dim() == 3:
        hyper["proxies_per_class"] = proxies.shape[1]
    loss = losses.create(name, proxies.shape[0], proxies.shape[-1], **hyper).double()
    with torch.no_grad():
        loss.proxies.copy_(proxies.reshape(-1, proxies.shape[-1]))
    return loss.eval()


# ---- the path and the pairs ----------------------------------------------------------------------------------------

def test_great_circle_is_evenly_spaced_in_angle_and_ends_at_both_points():
    a, b = on_circle([10.0]), on_circle([130.0])
    path = great_circle(a, b, 13)[0]
    angles = torch.rad2deg(torch.atan2(path[:, 1], path[:, 0]))
    assert torch.allclose(angles, torch.linspace(10.0, 130.0, 13, dtype=torch.float64), atol=1e-9)
    assert torch.allclose(path.norm(dim=1), torch.ones(13, dtype=torch.float64))


def test_neighbour_pairs_join_each_class_to_its_nearest_once():
    # 0 and 1 are 10° apart; class 2 is nearest to 1 (90°) and farther from 0 (100°)
    a, b, pairs = neighbour_pairs(on_circle([0.0, 10.0, 100.0]).float())
    assert pairs.tolist() == [[0, 1], [1, 2]]
    assert torch.allclose(a.double(), on_circle([0.0, 10.0]), atol=1e-6)
    assert torch.allclose(b.double(), on_circle([10.0, 100.0]), atol=1e-6)


def test_neighbour_pairs_of_several_centres_take_the_closest_two():
    centres = torch.stack([on_circle([0.0, 170.0]), on_circle([60.0, 200.0])]).float()  # [2 classes, 2 centres, 2]
    a, b, pairs = neighbour_pairs(centres)
    assert pairs.tolist() == [[0, 1]]
    assert torch.allclose(a.double(), on_circle([170.0]), atol=1e-6)  # 170° and 200° are 30° apart
    assert torch.allclose(b.double(), on_circle([200.0]), atol=1e-6)


# ---- boundary_smoothness -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("theta, scale", [(60.0, 23.0), (100.0, 10.0), (40.0, 64.0)])
def test_two_classes_match_the_closed_form(theta, scale):
    """Two unit proxies theta apart, Norm-SoftMax: along the arc p_top = sigmoid(s |cos(t θ) - cos((1 - t) θ)|)."""
    steps, threshold = 65, 0.9
    loss = loss_with("norm_softmax", on_circle([0.0, theta]), scale=scale)
    t = np.linspace(0.0, 1.0, steps)
    rad = math.radians(theta)
    gap = scale * np.abs(np.cos(t * rad) - np.cos((1 - t) * rad))
    top = 1 / (1 + np.exp(-gap))
    assert np.min(np.abs(top - threshold)) > 1e-6  # no grid point sits on the threshold
    zone = top < threshold
    entropy = -(top * np.log(top) + (1 - top) * np.log(1 - top))
    found = boundary_smoothness(loss, threshold, steps=steps)
    assert found["n_pairs"] == 1
    assert found["transition_width"] == pytest.approx(zone.mean(), abs=1e-12)
    assert found["transition_degrees"] == pytest.approx(zone.mean() * theta, rel=1e-6)
    assert found["zone_entropy"] == pytest.approx(entropy[zone].mean(), rel=1e-6)
    assert found["mean_pair_degrees"] == pytest.approx(theta, rel=1e-6)


def test_a_higher_scale_gives_a_narrower_zone():
    proxies = on_circle([0.0, 90.0, 180.0, 270.0])
    widths = [boundary_smoothness(loss_with("norm_softmax", proxies, scale=s))["transition_width"]
              for s in (4.0, 16.0, 64.0)]
    assert widths[0] > widths[1] > widths[2] > 0


def test_no_zone_gives_zero_entropy_and_threshold_is_checked():
    loss = loss_with("norm_softmax", on_circle([0.0, 180.0]), scale=1e4)
    found = boundary_smoothness(loss, 0.9, steps=4)  # t = 0, 1/3, 2/3, 1: never near the tie at t = 1/2
    assert found["transition_width"] == 0.0 and found["zone_entropy"] == 0.0
    with pytest.raises(ValueError, match="threshold"):
        boundary_smoothness(loss, 1.5)
    with pytest.raises(ValueError, match="psviz loss"):
        boundary_smoothness(torch.nn.Linear(2, 2))


# ---- confidence ----------------------------------------------------------------------------------------------------

def test_unseen_confidence_is_the_mean_top_softmax_probability():
    proxies = on_circle([0.0, 120.0, 240.0])
    embeddings = on_circle([0.0, 60.0, 200.0, 300.0])
    for name, scale in (("norm_softmax", 23.0), ("proxy_nca", 12.0)):
        loss = loss_with(name, proxies, scale=scale)
        cos = embeddings @ proxies.T
        logits = scale * cos if name == "norm_softmax" else -scale * (2 - 2 * cos)
        expected = torch.softmax(logits, dim=1).max(dim=1).values
        assert torch.allclose(top_probabilities(loss, embeddings), expected, atol=1e-12)
        assert unseen_confidence(loss, embeddings) == pytest.approx(float(expected.mean()), abs=1e-12)


def test_proxy_anchor_confidence_uses_its_alpha_as_the_scale():
    proxies, embeddings = on_circle([0.0, 90.0]), on_circle([30.0])
    loss = loss_with("proxy_anchor", proxies, alpha=8.0)
    expected = torch.softmax(8.0 * (embeddings @ proxies.T), dim=1).max()
    assert unseen_confidence(loss, embeddings) == pytest.approx(float(expected), abs=1e-12)


def test_confidence_refuses_non_finite_embeddings():
    loss = loss_with("norm_softmax", on_circle([0.0, 90.0]))
    with pytest.raises(ValueError, match="NaN"):
        unseen_confidence(loss, torch.tensor([[float("nan"), 1.0]], dtype=torch.float64))


# ---- synthetic_proximity -------------------------------------------------------------------------------------------

def test_synthetic_proximity_matches_brute_force():
    g = torch.Generator().manual_seed(0)
    e, p, s = (torch.randn(n, 5, generator=g, dtype=torch.float64) * 3 for n in (200, 7, 11))
    unit = lambda x: x / x.norm(dim=1, keepdim=True)  # noqa: E731
    to_p = (unit(e) @ unit(p).T).max(dim=1).values
    to_s = (unit(e) @ unit(s).T).max(dim=1).values
    found = synthetic_proximity(e.float(), p.float(), s.float())
    assert found["n_items"] == 200
    assert found["share_closer_to_synthetic"] == pytest.approx(float((to_s > to_p).double().mean()), abs=1e-12)
    assert found["mean_proxy_cosine"] == pytest.approx(float(to_p.mean()), abs=1e-6)
    assert found["mean_synthetic_cosine"] == pytest.approx(float(to_s.mean()), abs=1e-6)


def test_synthetic_proximity_hand_made_and_with_several_centres():
    embeddings = on_circle([0.0, 45.0, 90.0])
    proxies = torch.stack([on_circle([0.0, 10.0]), on_circle([90.0, 80.0])])  # [2, 2, 2]: every centre counts
    synthetic = on_circle([44.0, 47.0])
    found = synthetic_proximity(embeddings, proxies, synthetic)
    assert found["share_closer_to_synthetic"] == pytest.approx(1 / 3)  # only the item at 45°
    tie = synthetic_proximity(on_circle([0.0]), on_circle([10.0]), on_circle([-10.0]))
    assert tie["share_closer_to_synthetic"] == 0.0  # strictly closer, so a tie counts for the proxy
    with pytest.raises(ValueError, match="last dimension"):
        synthetic_proximity(embeddings, proxies, torch.zeros(2, 3, dtype=torch.float64))


# ---- held-out seen items ------------------------------------------------------------------------------------------

def test_rank_within_class_is_a_permutation_per_class_and_seeded():
    targets = torch.tensor([2, 0, 2, 1, 0, 2, 2, 0])
    rank = rank_within_class(targets, seed=3)
    for c in range(3):
        assert sorted(rank[targets == c].tolist()) == list(range(int((targets == c).sum())))
    assert torch.equal(rank, rank_within_class(targets, seed=3))
    assert not all(torch.equal(rank, rank_within_class(targets, seed=s)) for s in range(4, 10))


def test_holdout_indices_hold_out_per_class_keep_one_and_limit_training():
    targets = torch.tensor([0] * 10 + [1] * 3 + [2] * 1)
    train, held = holdout_indices(targets, 2)
    assert set(train.tolist()).isdisjoint(held.tolist())
    assert sorted(train.tolist() + held.tolist()) == list(range(14))
    assert torch.bincount(targets[held], minlength=3).tolist() == [2, 2, 0]  # a class of 1 keeps its item
    train, held = holdout_indices(targets, 2, train_limit=4)
    assert torch.bincount(targets[train], minlength=3).tolist() == [4, 1, 1]
    assert torch.equal(holdout_indices(targets, 2)[1], holdout_indices(targets, 2)[1])
    with pytest.raises(ValueError, match="holdout_per_class"):
        holdout_indices(targets, -1)


def test_class_subset_keeps_whole_classes():
    targets = torch.arange(10).repeat_interleave(3)
    picked = class_subset(targets, 4, seed=1)
    classes = targets[picked].unique()
    assert len(classes) == 4 and len(picked) == 12
    assert torch.equal(class_subset(targets, 40), torch.arange(30))
