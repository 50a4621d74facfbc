"""The one-slider teaching widgets: λ along a batch's mixing paths, and α's Beta(α, α) with λ draws."""

import numpy as np
import pytest
import torch

from psviz import proxy_synthesis
from psviz.viz import synthetic_embeddings
from psviz.widgets import BetaSlider, LambdaSlider


def _batch(dim: int = 3):
    generator = torch.Generator().manual_seed(0)
    embeddings = torch.nn.functional.normalize(torch.randn(8, dim, generator=generator), dim=1)
    proxies = torch.nn.functional.normalize(torch.randn(4, dim, generator=generator), dim=1)
    labels = torch.tensor([0, 0, 1, 1, 2, 2, 3, 3])
    return proxy_synthesis(embeddings, proxies, labels, alpha=0.4, mu=1.0, generator=generator)


def _trace(fig, name):
    return next(t for t in fig.data if t.name == name)


@pytest.mark.parametrize("dim", [2, 3])
def test_lambda_slider_moves_the_synthetic_points_to_the_remixed_batch(dim):
    batch = _batch(dim)
    widget = LambdaSlider(batch)
    assert widget.slider.value == pytest.approx(batch.lam, abs=0.005)
    assert not widget.figure.layout.sliders  # the widget's slider replaces plotly's own
    widget.slider.value = 0.9
    assert "λ = 0.90" in widget.figure.layout.title.text
    expected = synthetic_embeddings(batch, lam=0.9)
    for name in ("synthetic embedding", "synthetic proxy"):
        for axis in "xyz"[:dim]:
            moved = np.asarray(getattr(_trace(widget.figure, name), axis), dtype=float)
            np.testing.assert_allclose(moved, np.asarray(getattr(_trace(expected, name), axis), dtype=float),
                                       atol=1e-6)
    real = np.asarray(_trace(widget.figure, "seen-class embedding").x, dtype=float)
    np.testing.assert_allclose(real, np.asarray(_trace(expected, "seen-class embedding").x, dtype=float), atol=1e-6)
    assert widget.errors.last is None


def test_beta_slider_draws_lambda_with_the_synthesis_sampler_and_redraws_on_alpha():
    widget = BetaSlider(alpha=0.4, samples=300, seed=3)
    again = BetaSlider(alpha=0.4, samples=300, seed=3)
    np.testing.assert_array_equal(widget.draws(0.4), again.draws(0.4))  # seeded
    bars = np.asarray(widget.figure.data[0].y, dtype=float)
    widget.alpha.value = 3.0
    assert widget.errors.last is None
    assert "Beta(3, 3)" in widget.figure.layout.title.text
    after = np.asarray(widget.figure.data[0].y, dtype=float)
    assert not np.allclose(bars, after)
    centre = np.asarray(widget.figure.data[0].x, dtype=float)
    middle = np.abs(centre - 0.5) < 0.2
    assert after[middle].sum() > bars[middle].sum()  # a large α moves the draws to the middle


def test_beta_slider_rejects_a_bad_sample_count():
    with pytest.raises(ValueError, match="samples"):
        BetaSlider(samples=0)
