"""The change test, the pre-window drift check and the rate-change test, against hand
calculations with scipy's t distribution."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from canarystats.stats.host_change import (
    host_change_test,
    moved_with_the_canary,
    positive_rows,
)


def _prediction_p(c: float, b: np.ndarray) -> float:
    """One canary unit against m baseline units: t with m - 1 degrees of freedom, one-sided up."""
    m = len(b)
    t = (c - b.mean()) / (b.std(ddof=1) * np.sqrt(1.0 + 1.0 / m))
    return float(sps.t.sf(t, m - 1))


def test_the_location_change_is_a_log_ratio_of_medians_tested_against_the_baselines() -> None:
    rng = np.random.default_rng(4)
    pre = 100 * np.exp(rng.normal(0, 0.3, (1, 5, 1))) * np.exp(rng.normal(0, 0.05, (1, 5, 21)))
    post = pre * np.exp(rng.normal(0, 0.03, (1, 5, 1)))  # each host moves a little
    post[:, 0] *= 1.3
    r = host_change_test(
        pre[:, :1], post[:, :1], pre[:, 1:], post[:, 1:], direction="increase", weights=(1, 0, 0)
    )
    change = np.log(np.median(post[0], axis=1) / np.median(pre[0], axis=1))
    assert r.p_location[0] == pytest.approx(_prediction_p(change[0], change[1:]), rel=1e-9)
    assert r.p_value[0] == pytest.approx(r.p_location[0], rel=1e-12)  # one component: weight 1
    np.testing.assert_allclose(r.canary.location[0, :1], change[:1], rtol=1e-12)


def test_changes_are_differences_where_the_metric_has_zeros() -> None:
    pre = np.zeros((1, 4, 10))
    post = np.zeros((1, 4, 10))
    pre[0, :, ::2] = [[1.0], [2.0], [0.0], [3.0]]
    post[0] = pre[0]
    post[0, 0] += 2.0
    assert positive_rows(pre, post).tolist() == [False]
    r = host_change_test(pre[:, :1], post[:, :1], pre[:, 1:], post[:, 1:], direction="increase")
    assert r.canary.location[0, 0] == pytest.approx(2.0)  # a difference of means


def test_baseline_hosts_that_moved_at_the_start_are_those_far_from_the_others() -> None:
    # median 0.01, MAD 0.01: 3.5 robust sd is 0.052 from the median
    out = moved_with_the_canary([[0.0, 0.01, -0.01, 0.02, 0.5], [0.0, 0.01, -0.01, 0.02, 0.06]])
    assert out.tolist() == [[False] * 4 + [True], [False] * 4 + [False]]
    # with a floor of 1 on the changes' scale, even the 0.5 jump is not worth reporting
    floored = moved_with_the_canary([[0.0, 0.01, -0.01, 0.02, 0.5]], floor=[1.0])
    assert floored.tolist() == [[False] * 5]


@settings(max_examples=30, deadline=None)
@given(st.lists(st.floats(0.2, 5.0), min_size=5, max_size=5), st.integers(0, 1000))
def test_a_constant_factor_per_host_changes_nothing(factors: list[float], seed: int) -> None:
    rng = np.random.default_rng(seed)
    pre = 50 * np.exp(rng.normal(0, 0.05, (2, 5, 15)))
    post = pre * np.exp(rng.normal(0, 0.05, (2, 5, 15)))
    f = np.asarray(factors)[None, :, None]
    a = host_change_test(pre[:, :1], post[:, :1], pre[:, 1:], post[:, 1:])
    b = host_change_test((pre * f)[:, :1], (post * f)[:, :1], (pre * f)[:, 1:], (post * f)[:, 1:])
    np.testing.assert_allclose(a.p_value, b.p_value, rtol=1e-6, atol=1e-12)
    np.testing.assert_allclose(a.effect_rel, b.effect_rel, rtol=1e-6, atol=1e-9)
