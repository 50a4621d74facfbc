"""Measures behind the decision-boundary plots, on hand-made proxies and points whose answers are known."""

import itertools
import math

import numpy as np
import pytest
import torch

from psviz.evaluate import angular_gaps, boundary_measures, nearest_proxy, region_sharing


def on_circle(degrees, radii=None):
    """[n, 2] float64 rows at the given angles (degrees), with optional lengths (the measures ignore length)."""
    radii = radii if radii is not None else [1.0] * len(degrees)
    return torch.tensor([[r * math.cos(math.radians(a)), r * math.sin(math.radians(a))]
                         for a, r in zip(degrees, radii)], dtype=torch.float64)


def circle_distance(a, b):
    """Angle between two directions on the circle, in degrees, in [0, 180]."""
    d = abs(a - b) % 360.0
    return min(d, 360.0 - d)


# ---- angular_gaps ------------------------------------------------------------------------------------------------

def test_square_gaps_are_right_angles_whatever_the_lengths():
    proxies = on_circle([0, 90, 180, 270], radii=[1.0, 2.0, 0.5, 7.0])
    gaps = angular_gaps(proxies)
    assert gaps.shape == (4,)
    assert torch.allclose(gaps.double(), torch.full((4,), 90.0, dtype=torch.float64), atol=1e-3)


@pytest.mark.parametrize("n", [2, 3, 5, 8, 12])
def test_regular_polygon_gaps_are_360_over_n(n):
    order = torch.randperm(n, generator=torch.Generator().manual_seed(n))  # row order must not matter
    proxies = on_circle([17.0 + 360.0 * i / n for i in range(n)])[order]
    expected = 180.0 if n == 2 else 360.0 / n
    assert torch.allclose(angular_gaps(proxies).double(), torch.full((n,), expected, dtype=torch.float64), atol=1e-3)


def test_irregular_gaps_match_brute_force():
    angles = [0.0, 10.0, 100.0, 250.0, 300.0]
    expected = [min(circle_distance(a, b) for j, b in enumerate(angles) if j != i) for i, a in enumerate(angles)]
    assert expected == [10.0, 10.0, 90.0, 50.0, 50.0]  # worked by hand
    gaps = angular_gaps(on_circle(angles, radii=[3, 1, 2, 5, 0.2]).float())
    assert gaps.dtype == torch.float32
    assert np.allclose(gaps.numpy(), expected, atol=1e-2)


def test_orthonormal_and_octahedron_proxies_are_90_degrees_apart():
    basis = torch.eye(5, dtype=torch.float64) * torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0])[:, None]
    assert np.allclose(angular_gaps(basis).numpy(), 90.0, atol=1e-3)
    octahedron = torch.cat([torch.eye(3), -torch.eye(3)])
    assert np.allclose(angular_gaps(octahedron).numpy(), 90.0, atol=1e-3)


def test_coincident_proxies_have_zero_gap():
    proxies = on_circle([0.0, 0.0, 120.0], radii=[1.0, 4.0, 1.0])
    assert np.allclose(angular_gaps(proxies).numpy(), [0.0, 0.0, 120.0], atol=0.1)


def test_several_centres_per_class_use_the_closest_pair_and_ignore_their_own_class():
    # class 0: 0° and 2° (close to each other: that must not count), class 1: 95° and 200°, class 2: 130° and 300°
    centres = [[0.0, 2.0], [95.0, 200.0], [130.0, 300.0]]
    proxies = torch.stack([on_circle(c) for c in centres])  # [C=3, K=2, d=2]
    expected = []
    for c, own in enumerate(centres):
        others = [b for o, cs in enumerate(centres) if o != c for b in cs]
        expected.append(min(circle_distance(a, b) for a in own for b in others))
    assert expected == [60.0, 35.0, 35.0]  # by hand: 0°..300°, 95°..130°, 130°..95°
    gaps = angular_gaps(proxies)
    assert gaps.shape == (3,)
    assert np.allclose(gaps.numpy(), expected, atol=1e-2)


def test_one_centre_per_class_as_c_k_d_equals_c_d():
    proxies = torch.randn(6, 4, generator=torch.Generator().manual_seed(1))
    assert torch.allclose(angular_gaps(proxies[:, None, :]), angular_gaps(proxies))


@pytest.mark.parametrize("bad, message", [
    (torch.tensor([[1.0, 0.0]]), "at least two classes"),
    (torch.ones(3, 1, 2)[:1], "at least two classes"),
    (torch.tensor([1.0, 0.0]), "2-D or 3-D"),
    (torch.eye(3, dtype=torch.long), "floating-point"),
    ([[1.0, 0.0], [0.0, 1.0]], "torch.Tensor"),
    (torch.empty(0, 2), "empty"),
])
def test_angular_gaps_rejects_bad_proxies(bad, message):
    with pytest.raises(ValueError, match=message):
        angular_gaps(bad)


# ---- nearest_proxy -----------------------------------------------------------------------------------------------

def test_nearest_proxy_on_the_circle_by_hand():
    proxies = on_circle([0, 90, 180, 270], radii=[1, 10, 0.1, 1])  # lengths must not matter, only directions
    points = on_circle([40, 50, 200, 359, 300, 135.5], radii=[1, 1, 5, 0.01, 3, 1])
    assert nearest_proxy(points, proxies).tolist() == [0, 1, 2, 0, 3, 2]


def test_nearest_proxy_matches_brute_force_in_many_dimensions():
    g = torch.Generator().manual_seed(0)
    embeddings = torch.randn(300, 7, generator=g) * torch.rand(300, 1, generator=g).add(0.1) * 5
    proxies = torch.randn(9, 7, generator=g) * torch.rand(9, 1, generator=g).add(0.1)
    e, p = embeddings.double().numpy(), proxies.double().numpy()
    cos = (e / np.linalg.norm(e, axis=1, keepdims=True)) @ (p / np.linalg.norm(p, axis=1, keepdims=True)).T
    got = nearest_proxy(embeddings, proxies)
    assert got.dtype == torch.long and got.shape == (300,)
    assert got.tolist() == cos.argmax(axis=1).tolist()


def test_nearest_proxy_with_several_centres_takes_the_best_centre():
    g = torch.Generator().manual_seed(3)
    embeddings = torch.randn(200, 4, generator=g)
    proxies = torch.randn(5, 3, 4, generator=g)
    expected = []
    for row in embeddings:
        best = max(itertools.product(range(5), range(3)),
                   key=lambda ck: float(torch.nn.functional.cosine_similarity(row, proxies[ck], dim=0)))
        expected.append(best[0])
    assert nearest_proxy(embeddings, proxies).tolist() == expected


def test_nearest_proxy_checks_shapes():
    with pytest.raises(ValueError, match="dimension 3"):
        nearest_proxy(torch.randn(4, 2), torch.randn(5, 3))
    with pytest.raises(ValueError, match="2-D"):
        nearest_proxy(torch.randn(4), torch.randn(5, 4))


# ---- region_sharing ----------------------------------------------------------------------------------------------

def test_region_sharing_by_hand():
    # class 0 lives mostly in region 5, class 1 mostly in region 7; one point of each strays into the other's
    labels = [0, 0, 0, 1, 1, 1]
    regions = [5, 5, 7, 7, 7, 5]
    assert region_sharing(torch.tensor(regions), torch.tensor(labels)) == pytest.approx(2 / 6)


def test_region_sharing_when_two_classes_pile_into_one_region():
    # classes 0 and 1 both have main region 3: their points in region 3 are shared; class 2 keeps region 9 alone;
    # class 1's stray point in region 4 belongs to nobody's main region, class 2's point in region 3 is shared
    labels = [0, 0, 1, 1, 1, 2, 2, 2]
    regions = [3, 3, 3, 3, 4, 9, 9, 3]
    assert region_sharing(np.array(regions), np.array(labels)) == pytest.approx(5 / 8)


def test_region_sharing_extremes():
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    assert region_sharing(torch.tensor([4, 4, 5, 5, 6, 6]), labels) == 0.0  # every class in its own region
    assert region_sharing(torch.zeros(6, dtype=torch.long), labels) == 1.0  # all in one region
    assert region_sharing(torch.tensor([1, 2, 3]), torch.tensor([0, 0, 0])) == 0.0  # a single class shares nothing


def test_region_sharing_checks_inputs():
    with pytest.raises(ValueError, match="one entry per region"):
        region_sharing(torch.tensor([0, 1, 2]), torch.tensor([0, 1]))
    with pytest.raises(ValueError, match="empty"):
        region_sharing(torch.tensor([], dtype=torch.long), torch.tensor([], dtype=torch.long))


# ---- boundary_measures -------------------------------------------------------------------------------------------

def test_boundary_measures_on_a_square_by_hand():
    proxies = on_circle([0, 90, 180, 270])
    # unseen class 0 at 10°, 20°, 80° (regions 0, 0, 1); class 1 at 5°, 30°, 100° (regions 0, 0, 1):
    # both have main region 0, so their four points in region 0 are shared
    unseen = on_circle([10, 20, 80, 5, 30, 100])
    labels = torch.tensor([0, 0, 0, 1, 1, 1])
    m = boundary_measures(proxies, unseen, labels)
    assert set(m) == {"mean_gap_deg", "min_gap_deg", "unseen_sharing"}
    assert m["mean_gap_deg"] == pytest.approx(90.0, abs=1e-3)
    assert m["min_gap_deg"] == pytest.approx(90.0, abs=1e-3)
    assert m["unseen_sharing"] == pytest.approx(4 / 6)
    # given regions replace the nearest proxy: here each class gets its own region
    given = boundary_measures(proxies, unseen, labels, regions=torch.tensor([0, 0, 0, 1, 1, 1]))
    assert given["unseen_sharing"] == 0.0 and given["mean_gap_deg"] == pytest.approx(90.0, abs=1e-3)


def test_boundary_measures_gap_statistics_on_irregular_proxies():
    angles = [0.0, 10.0, 100.0, 250.0, 300.0]  # gaps 10, 10, 90, 50, 50
    m = boundary_measures(on_circle(angles), on_circle([5.0, 95.0]), torch.tensor([0, 1]))
    assert m["mean_gap_deg"] == pytest.approx(42.0, abs=1e-2)
    assert m["min_gap_deg"] == pytest.approx(10.0, abs=1e-2)
    assert m["unseen_sharing"] == 0.0
