"""Host window summaries against hand computations: location, trend, jitter, autocorrelation."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from canarystats.stats.host_summaries import (
    coarse_median_rows,
    lag1_autocorrelation,
    summarize_hosts,
)


def test_summaries_of_a_straight_line_and_a_flapping_host() -> None:
    line = np.arange(10, dtype=float) * 0.5 + 3.0  # rises 4.5 across the window
    flap = np.tile([0.0, 2.0], 5)  # successive differences of 2: jitter = sqrt(4 / 2)
    s = summarize_hosts(np.stack([line, flap])[None])
    np.testing.assert_allclose(s.location[0], [line.mean(), 1.0])
    assert s.trend[0, 0] == pytest.approx(4.5)
    assert s.jitter[0, 1] == pytest.approx(np.sqrt(2.0))
    assert s.jitter[0, 0] == pytest.approx(0.5 / np.sqrt(2.0))
    np.testing.assert_array_equal(s.n_points[0], [10, 10])


def test_summaries_skip_missing_points_and_drop_hosts_with_too_few() -> None:
    v = np.array([[[1.0, np.nan, 3.0, 5.0], [np.nan, np.nan, 7.0, np.nan]]])
    s = summarize_hosts(v, min_points=2, min_trend_points=3)
    assert s.location[0, 0] == pytest.approx(3.0)
    assert np.isnan(s.location[0, 1])
    # slope through (0, 1), (2, 3), (3, 5): tbar 5/3, ybar 3, sxy = 10/3 + 0 + 8/3 = 6,
    # sxx = 25/9 + 1/9 + 16/9 = 14/3 -> 9/7; the cohort's observed span is 3 steps
    assert s.trend[0, 0] == pytest.approx(9 / 7 * 3)


def test_lag1_autocorrelation_recovers_an_ar1_coefficient() -> None:
    rng = np.random.default_rng(1)
    eps = rng.normal(size=(1, 20, 400))
    series = np.empty_like(eps)
    series[..., 0] = eps[..., 0] / np.sqrt(1 - 0.7**2)
    for t in range(1, 400):
        series[..., t] = 0.7 * series[..., t - 1] + eps[..., t]
    series += rng.normal(0.0, 5.0, size=(1, 20, 1))  # host offsets
    # Host offsets are removed before the autocorrelation; 8000 points give an error of ~0.01.
    assert lag1_autocorrelation(series)[0] == pytest.approx(0.7, abs=0.04)


@settings(max_examples=60, deadline=None)
@given(
    values=st.lists(st.integers(0, 12), min_size=3, max_size=40),
    hosts=st.integers(1, 5),
    factor=st.integers(1, 1000),
    seed=st.integers(0, 2**16),
)
def test_coarse_medians_are_blind_to_order_and_to_whole_units(
    values: list[int], hosts: int, factor: int, seed: int
) -> None:
    # Whole numbers in a whole unit (a depth, or the same depth in thousandths); the order of
    # points within a host, of hosts, and which cube holds a host, do not matter.
    cube = np.resize(np.asarray(values, dtype=np.float64), (1, hosts, len(values)))
    answer = coarse_median_rows(cube).tolist()
    rng = np.random.default_rng(seed)
    shuffled = rng.permuted(cube[:, rng.permutation(hosts)], axis=2)
    assert coarse_median_rows(shuffled * factor).tolist() == answer
    assert coarse_median_rows(cube[:, :1], cube[:, 1:]).tolist() == answer
    # Fractions are never coarse: a median of rounded values keeps resisting spikes.
    assert coarse_median_rows(cube + 0.5).tolist() == [False]


def test_coarse_medians_need_most_hosts_to_share_a_median() -> None:
    rng = np.random.default_rng(3)
    requests = np.round(8000.0 * np.exp(rng.normal(0.0, 0.05, (1, 6, 60))))
    depths = rng.poisson(6.0, (1, 6, 60)).astype(np.float64)
    assert coarse_median_rows(requests).tolist() == [False]  # whole, but medians differ
    assert coarse_median_rows(depths).tolist() == [True]
    # Two hosts sharing a median among six do not make the row coarse.
    mixed = np.concatenate([depths[:, :2], requests[:, 2:]], axis=1)
    assert coarse_median_rows(mixed).tolist() == [False]
    # A host without data (all NaN) does not count as a host.
    half_missing = np.where(np.arange(6)[None, :, None] < 3, np.nan, depths)
    assert coarse_median_rows(half_missing).tolist() == [True]
    assert coarse_median_rows(depths[:, :1]).tolist() == [False]  # one host: nothing to tie
