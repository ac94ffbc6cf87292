"""The shift interval of the host tests inverts their own statistic: it clears 0 exactly where
the two-sided location p-value is below its level, for window levels and for changes alike."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from canarystats.stats import host_test
from canarystats.stats.host_change import host_change_test
from canarystats.stats.shift_interval import shift_interval

cases = st.tuples(
    st.integers(1, 3),  # canary hosts
    st.integers(3, 8),  # baseline hosts
    st.floats(-0.5, 0.5),  # canary shift, as a share of the level
    st.integers(0, 2**32 - 1),
    st.sampled_from([0.9, 0.95, 0.98]),
)


def _fleet(k: int, m: int, shift: float, seed: int, points: int = 8) -> np.ndarray:
    rng = np.random.default_rng(seed)
    level = 100.0 * np.exp(rng.normal(0.0, 0.1, (1, k + m, 1)))
    values = level * np.exp(rng.normal(0.0, 0.05, (1, k + m, points)))
    values[:, :k] *= 1.0 + shift
    return values


def _mean_p(r) -> float:  # type: ignore[no-untyped-def]
    # The two-sided p-value of the canary hosts' mean (the location adds its worst host).
    return float(2.0 * sps.t.sf(abs(float(r.statistic[0])), float(r.df[0])))


def _agrees(low: float, high: float, p: float, confidence: float) -> bool:
    alpha = 1.0 - confidence
    if abs(p - alpha) < 1e-9:  # on the boundary either answer is right
        return True
    return (not low <= 0.0 <= high) == (p < alpha)


@settings(max_examples=150, deadline=None)
@given(cases)
def test_the_level_interval_clears_zero_exactly_where_the_test_rejects(case) -> None:  # type: ignore[no-untyped-def]
    k, m, shift, seed, confidence = case
    values = _fleet(k, m, shift, seed)
    r = host_test(
        values[:, :k], values[:, k:], direction="either", units_test="t", trend=False, jitter=False
    )
    low, high = shift_interval(r, confidence=confidence)
    assert low[0] <= r.effect_abs[0] <= high[0]
    assert _agrees(low[0], high[0], _mean_p(r), confidence)


@settings(max_examples=150, deadline=None)
@given(cases)
def test_the_change_interval_clears_zero_exactly_where_the_change_test_rejects(case) -> None:  # type: ignore[no-untyped-def]
    k, m, shift, seed, confidence = case
    before = _fleet(k, m, 0.0, seed)
    after = before * np.exp(np.random.default_rng(seed + 1).normal(0.0, 0.05, before.shape))
    after[:, :k] *= 1.0 + shift
    r = host_change_test(
        before[:, :k], after[:, :k], before[:, k:], after[:, k:], direction="either"
    )
    low, high = shift_interval(r, confidence=confidence, ratio_rows=[True])
    assert low[0] <= r.effect_abs[0] <= high[0]
    assert _agrees(low[0], high[0], _mean_p(r), confidence)


def test_the_interval_is_the_textbook_t_interval_of_the_level_shift() -> None:
    canary = np.array([[[12.0, 12.5, 11.5], [13.0, 12.0, 12.5]]])
    baseline = np.array(
        [[[10.0, 10.5, 9.5], [10.2, 10.1, 9.9], [9.8, 9.9, 10.1], [10.4, 10.0, 10.3]]]
    )
    r = host_test(canary, baseline, direction="increase", trend=False, jitter=False)
    low, high = shift_interval(r, confidence=0.95)
    c, b = canary.mean(axis=2)[0], baseline.mean(axis=2)[0]
    # Student's two-sample interval (pooled spread, k + m - 2 degrees of freedom), by scipy.
    textbook = sps.ttest_ind(c, b, equal_var=True).confidence_interval(0.95)
    assert low[0] == pytest.approx(textbook.low)
    assert high[0] == pytest.approx(textbook.high)


def test_rank_tested_or_untested_rows_have_no_interval() -> None:
    rng = np.random.default_rng(3)
    many = rng.normal(10.0, 1.0, (1, 40, 6))
    r = host_test(many[:, :12], many[:, 12:], direction="either", units_test="mann-whitney")
    low, high = shift_interval(r, confidence=0.95)
    assert np.isnan(low[0]) and np.isnan(high[0])
    with pytest.raises(ValueError, match="confidence"):
        shift_interval(r, confidence=1.0)
