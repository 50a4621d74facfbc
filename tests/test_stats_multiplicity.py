"""Multiplicity and small-sample helpers of psviz.analysis.stats, checked against hand-worked values."""

import numpy as np
import pytest

from psviz.analysis.stats import holm, sign_flip_p


def test_holm_by_hand():
    # sorted: 0.005 x 4 = 0.02, 0.01 x 3 = 0.03, 0.03 x 2 = 0.06, 0.04 x 1 = 0.04 -> 0.06 (monotone)
    assert np.allclose(holm([0.01, 0.04, 0.03, 0.005]), [0.03, 0.06, 0.06, 0.02])


def test_holm_caps_at_one_keeps_nan_and_leaves_one_p_alone():
    adjusted = holm([0.6, np.nan, 0.02])  # m = 2: 0.02 x 2 = 0.04, 0.6 x 1 = 0.6
    assert np.allclose(adjusted[[0, 2]], [0.6, 0.04]) and np.isnan(adjusted[1])
    assert np.allclose(holm([0.5, 0.7]), [1.0, 1.0])  # 0.5 x 2 = 1.0, 0.7 -> max(1.0, 0.7), both capped at 1
    assert np.allclose(holm([0.03]), [0.03])
    assert holm([]).shape == (0,)


def test_sign_flip_p_by_hand():
    # all five differences positive: only the observed pattern and its mirror reach |mean| = 3
    assert sign_flip_p([1, 2, 3, 4, 5]) == pytest.approx(2 / 32)
    # mean 0: every one of the 4 patterns is at least as extreme
    assert sign_flip_p([1, -1]) == 1.0
    # [1, 2, -4]: observed |sum| 1; the 8 patterns give sums ±1, ±3, ±5, ±7, all at least 1
    assert sign_flip_p([1, 2, -4]) == 1.0
    # [1, 3]: sums ±4 (2 patterns) and ±2 (2 patterns); observed 4 -> 2 / 4
    assert sign_flip_p([1, 3]) == 0.5


def test_sign_flip_p_on_no_pairs_is_nan_and_on_too_many_refuses():
    assert np.isnan(sign_flip_p([]))
    with pytest.raises(ValueError, match="2\\^n"):
        sign_flip_p(np.ones(21))
