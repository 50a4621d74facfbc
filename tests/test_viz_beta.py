"""The Beta(α, α) density figure that explains what α does to λ."""

import numpy as np
import pytest
from scipy import integrate

from psviz.viz import beta_density
from psviz.viz.beta import DENSITY_CAP, beta_curves


def test_curves_are_densities_symmetric_about_one_half():
    lam, curves = beta_curves([0.4, 1.0, 2.0], points=2001)
    for alpha, y in curves.items():
        np.testing.assert_allclose(y, y[::-1], rtol=1e-6)
        if alpha >= 1:  # α < 1 has its mass in the infinite tails the grid leaves out
            assert integrate.trapezoid(y, lam) == pytest.approx(1.0, abs=2e-3)
    np.testing.assert_allclose(curves[1.0], 1.0)  # α = 1 is uniform
    middle = np.argmin(np.abs(lam - 0.5))
    assert curves[2.0][middle] == pytest.approx(1.5, rel=1e-6)  # Beta(2, 2) density at 1/2 is 6/4
    assert curves[0.4][middle] < 1 < curves[2.0][middle]


@pytest.mark.parametrize("backend", ["plotly", "matplotlib"])
def test_figure_has_a_line_per_alpha_and_a_histogram_of_samples(backend):
    samples = np.random.default_rng(0).beta(0.4, 0.4, 5000)
    fig = beta_density([0.1, 0.4, 2.0], samples=samples, bins=20, backend=backend)
    if backend == "plotly":
        names = [t.name for t in fig.data]
        assert names == ["λ drawn", "α = 0.1", "α = 0.4", "α = 2"]
        heights = np.asarray(fig.data[0].y, dtype=float)
        assert fig.layout.yaxis.range == (0, DENSITY_CAP)
    else:
        ax = fig.axes[0]
        assert [t.get_text() for t in ax.get_legend().get_texts()] == ["α = 0.1", "α = 0.4", "α = 2", "λ drawn"]
        heights = np.array([p.get_height() for p in ax.patches])
    assert len(heights) == 20
    assert np.sum(heights) / 20 == pytest.approx(1.0)  # a density histogram: bars integrate to one
    assert heights[0] > heights[10] and heights[-1] > heights[10]  # α = 0.4 piles λ up near 0 and 1


def test_bad_input_is_refused():
    with pytest.raises(ValueError, match="alpha"):
        beta_density([0.0])
    with pytest.raises(ValueError, match="samples"):
        beta_density([1.0], samples=[0.2, 1.5])
