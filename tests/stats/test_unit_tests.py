"""The t-type test over units against hand computations of the prediction interval."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats as sps

from canarystats.stats.unit_tests import unit_t_test


def test_unit_t_test_with_one_canary_host_is_the_prediction_interval() -> None:
    base = np.array([10.0, 12.0, 11.0, 13.0])
    canary = 16.0
    t, df, p = unit_t_test([[canary]], [base])
    # Hand computation: (x - ybar) / (s sqrt(1 + 1/m)), Student t with m - 1 df, two-sided.
    s = np.std(base, ddof=1)
    want_t = (canary - base.mean()) / (s * np.sqrt(1 + 1 / 4))
    assert t[0] == pytest.approx(want_t)
    assert df[0] == 3
    assert p[0] == pytest.approx(2 * sps.t.sf(want_t, 3))


def test_unit_t_test_with_two_canary_hosts_uses_their_mean() -> None:
    base = np.array([1.0, 2.0, 4.0])
    canary = np.array([5.0, 7.0])
    t, _, p = unit_t_test([canary], [base], direction="increase")
    want_t = (6.0 - base.mean()) / (np.std(base, ddof=1) * np.sqrt(1 / 2 + 1 / 3))
    assert t[0] == pytest.approx(want_t)
    assert p[0] == pytest.approx(sps.t.sf(want_t, 2))
    _, _, p_dec = unit_t_test([canary], [base], direction="decrease")
    assert p_dec[0] == pytest.approx(sps.t.cdf(want_t, 2))
