"""The t-type test over units against hand computations of the prediction interval."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from canarystats.stats.host_change import host_change_test
from canarystats.stats.unit_tests import (
    MEAN_WEIGHT,
    pooled_sd,
    unit_location_test,
    unit_t_test,
    worst_unit_test,
)


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


units = st.lists(st.floats(-50, 50, allow_nan=False), min_size=1, max_size=5)


@pytest.mark.filterwarnings("ignore:Precision loss:RuntimeWarning")  # scipy, near-equal data
@settings(max_examples=200, deadline=None)
@given(canary=units, baseline=st.lists(st.floats(-50, 50), min_size=2, max_size=12))
def test_the_pooled_spread_is_students_two_sample_t(canary: list[float], baseline: list[float]):  # type: ignore[no-untyped-def]
    c, b = np.array(canary), np.array(baseline)
    assume(len(c) + len(b) > 2)
    # A spread of rounding error is "no spread" here (decided on the difference alone).
    assume(float(pooled_sd([c], [b])[0]) > 1e-6 * (1 + np.abs(np.concatenate([c, b])).max()))
    t, df, p = unit_t_test([c], [b], direction="either", spread="pooled")
    oracle = sps.ttest_ind(c, b, equal_var=True)
    assert float(df[0]) == len(c) + len(b) - 2
    assert float(t[0]) == pytest.approx(float(oracle.statistic), rel=1e-9, abs=1e-9)
    assert float(p[0]) == pytest.approx(float(oracle.pvalue), rel=1e-7, abs=1e-12)


@settings(max_examples=200, deadline=None)
@given(canary=units, baseline=st.lists(st.floats(-50, 50), min_size=3, max_size=12))
def test_the_worst_host_is_each_canary_hosts_prediction_interval_times_k(  # type: ignore[no-untyped-def]
    canary: list[float], baseline: list[float]
):
    c, b = np.array(canary), np.array(baseline)
    assume(np.std(b) > 1e-6 * (1 + np.abs(b).max()))
    s, m = b.std(ddof=1), len(b)
    by_hand = [sps.t.sf((x - b.mean()) / (s * np.sqrt(1 + 1 / m)), m - 1) for x in c]
    p = worst_unit_test([c], [b], direction="increase")
    assert float(p[0]) == pytest.approx(min(1.0, len(c) * min(by_hand)), rel=1e-9, abs=1e-15)
    # The location combines it with the pooled mean by weighted Bonferroni.
    _, _, p_mean = unit_t_test([c], [b], direction="increase", spread="pooled")
    _, _, p_loc = unit_location_test([c], [b], direction="increase")
    if len(c) == 1:
        assert float(p_loc[0]) == pytest.approx(float(p_mean[0]))
    else:
        want = min(1.0, float(p_mean[0]) / MEAN_WEIGHT, float(p[0]) / (1 - MEAN_WEIGHT))
        assert float(p_loc[0]) == pytest.approx(want)


def test_one_broken_canary_host_fails_with_a_past_though_the_pooled_mean_absorbs_it() -> None:
    # Three canary hosts, one of them twice as slow since the deploy; six baseline hosts.
    rng = np.random.default_rng(12)
    level = 100 * np.exp(rng.normal(0, 0.05, (1, 9, 1)))
    pre = level * np.exp(rng.normal(0, 0.03, (1, 9, 30)))
    post = level * np.exp(rng.normal(0, 0.03, (1, 9, 30)))
    post[:, 0] *= 2.0
    r = host_change_test(pre[:, :3], post[:, :3], pre[:, 3:], post[:, 3:], direction="increase")
    changes_c, changes_b = r.canary.location, r.baseline.location
    _, _, p_mean = unit_t_test(changes_c, changes_b, direction="increase", spread="pooled")
    assert p_mean[0] > 0.05  # the broken host's own spread hides it from the mean
    assert r.p_value[0] < 0.001 and str(r.component[0]) == "location"
