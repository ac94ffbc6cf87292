"""Counts as rates: the exact conditional test against scipy's binomtest, quiet hosts, hosts,
bursts."""

from __future__ import annotations

import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from numpy.typing import NDArray
from scipy.stats import binom, binomtest, chisquare
from scipy.stats import t as student_t

from canarystats.stats.counts import (
    binomial_tail,
    burstiness,
    count_rate_test,
    fill_quiet_buckets,
)

nan = np.nan


def test_canary_errors_against_a_zero_error_baseline_fail() -> None:
    # One canary host with 6 errors in 60 buckets, three baseline hosts with none.  Under equal
    # rates the canary's share of 6 events is Binomial(6, 1/4): P(all 6) = 0.25**6.
    canary = np.zeros((1, 1, 60))
    canary[0, 0, [5, 17, 30, 31, 44, 50]] = 1.0
    baseline = np.zeros((1, 3, 60))
    res = count_rate_test(canary, baseline)
    assert res.p_value[0] == pytest.approx(0.25**6)
    assert res.p_value[0] < 0.05
    assert res.rate_ratio[0] == np.inf
    assert not res.inconclusive[0]


def test_zero_baseline_with_quiet_hosts_that_send_no_points_still_fails() -> None:
    # Datadog sends a counter's zeros only shortly after its last event: the healthy baseline
    # hosts have no points at all, the canary has nulls between its errors.
    canary = np.full((1, 2, 30), nan)
    canary[0, 0, [3, 4, 20]] = [2.0, 1.0, 3.0]
    canary[0, 1, [7]] = 1.0
    baseline = np.full((1, 4, 30), nan)
    filled_c = fill_quiet_buckets(canary, [True, True])
    filled_b = fill_quiet_buckets(baseline, [True, True, True, True])
    res = count_rate_test(filled_c, filled_b, overdispersion=False)
    # exposure 2 x 30 vs 4 x 30 host-buckets -> p0 = 1/3; 7 events, all on the canary.
    assert res.p_value[0] == pytest.approx(binomtest(7, 7, 1 / 3, alternative="greater").pvalue)
    assert res.p_value[0] < 0.01
    # Weighed by the canary's burstiness (2 and 3 errors in single buckets), still a failure.
    assert count_rate_test(filled_c, filled_b).p_value[0] < 0.05
    # Without the zero-fill the baseline has no exposure and the test must not pretend to judge.
    unfilled = count_rate_test(filled_c, baseline)
    assert unfilled.inconclusive[0]
    assert "baseline has no exposure" in unfilled.reason[0]


def test_no_errors_anywhere_passes_and_is_not_missing_data() -> None:
    res = count_rate_test(np.zeros((1, 1, 10)), np.zeros((1, 3, 10)))
    assert res.p_value[0] == 1.0
    assert not res.inconclusive[0]


@settings(max_examples=80, deadline=None)
@given(
    st.integers(0, 40),
    st.integers(0, 40),
    st.integers(1, 5),
    st.integers(1, 8),
    st.sampled_from(["increase", "decrease"]),
)
def test_poisson_exact_test_equals_scipy_binomtest(
    xc: int, xb: int, ec: int, eb: int, direction: str
) -> None:
    res = count_rate_test(
        np.array([[[xc]]], dtype=float),
        np.array([[[xb]]], dtype=float),
        canary_exposure=[[float(ec)]],
        baseline_exposure=[[float(eb)]],
        direction=direction,  # type: ignore[arg-type]
        overdispersion=False,
    )
    alt = "greater" if direction == "increase" else "less"
    want = binomtest(xc, xc + xb, ec / (ec + eb), alternative=alt).pvalue if xc + xb else 1.0
    assert res.p_raw[0] == pytest.approx(want, rel=1e-9, abs=1e-12)


@settings(max_examples=80, deadline=None)
@given(st.integers(0, 60), st.integers(0, 60), st.floats(0.01, 0.99))
def test_binomial_tail_equals_scipy_for_integer_counts(x: int, extra: int, p0: float) -> None:
    n = x + extra
    assert binomial_tail(x, n, p0, upper=True) == pytest.approx(binom.sf(x - 1, n, p0), abs=1e-12)
    assert binomial_tail(x, n, p0, upper=False) == pytest.approx(binom.cdf(x, n, p0), abs=1e-12)


def test_two_sided_is_twice_the_smaller_tail() -> None:
    res = count_rate_test([[[9.0]]], [[[1.0]]], direction="either", overdispersion=False)
    # p0 = 1/2, n = 10: P(X >= 9) = 11/1024
    assert res.p_raw[0] == pytest.approx(2 * 11 / 1024)


def test_requests_are_the_exposure_when_given() -> None:
    canary = [[[10.0]]]
    # Same error rate (1%) on 3x the traffic: a pass.
    same = count_rate_test(
        canary, [[[30.0]]], canary_exposure=[[1000.0]], baseline_exposure=[[3000.0]]
    )
    assert same.p_value[0] > 0.3
    assert same.rate_ratio[0] == pytest.approx(1.0)
    # Ten times the baseline's error rate: a failure.
    worse = count_rate_test(
        canary, [[[30.0]]], canary_exposure=[[1000.0]], baseline_exposure=[[30000.0]]
    )
    assert worse.p_value[0] < 1e-4
    assert worse.rate_ratio[0] == pytest.approx(10.0)


def test_per_bucket_exposure_is_summed_per_host() -> None:
    errors = np.array([[[1.0, 0.0], [0.0, 0.0]]])
    requests = np.array([[[100.0, 100.0], [50.0, nan]]])
    res = count_rate_test(
        errors[:, :1],
        errors[:, 1:],
        canary_exposure=requests[:, :1],
        baseline_exposure=requests[:, 1:],
    )
    assert res.canary_exposure[0] == 200.0
    assert res.baseline_exposure[0] == 50.0


def test_dispersion_is_pearsons_chi_square_over_the_baseline_hosts() -> None:
    baseline = np.array([[[10.0], [30.0], [20.0]]])
    res = count_rate_test([[[20.0]]], baseline)
    # equal exposure, mean 20: chi2 = (100 + 100 + 0) / 20 = 10 over 2 df -> phi = 5
    assert res.dispersion[0] == pytest.approx(5.0)
    # Host rates on the log scale (half an event added), canary against the baseline hosts'
    # prediction interval: t = (x - mean) / (sd * sqrt(1 + 1/3)) with 2 degrees of freedom.
    y = np.log([10.5, 30.5, 20.5])
    t = (np.log(20.5) - y.mean()) / (y.std(ddof=1) * np.sqrt(1 + 1 / 3))
    assert res.p_hosts[0] == pytest.approx(student_t.sf(t, 2))
    assert res.p_events[0] == pytest.approx(binomtest(20, 80, 0.25, alternative="greater").pvalue)
    # The count metric fails only where both tests reject: its p-value is the larger.
    assert res.p_raw[0] == pytest.approx(max(res.p_hosts[0], res.p_events[0]))


def test_a_canary_host_beyond_the_spread_of_busy_hosts_fails() -> None:
    baseline = np.array([[[1000.0], [1040.0], [980.0], [1010.0]]])
    res = count_rate_test([[[1400.0]]], baseline)
    assert res.p_value[0] < 0.01


def test_overdispersed_healthy_hosts_stay_near_nominal_only_with_the_host_test() -> None:
    rng = np.random.default_rng(3)
    runs = 2000
    # Each host has its own error rate (gamma around 5 per bucket): real fleets are not Poisson.
    rates = rng.gamma(shape=4.0, scale=5.0 / 4.0, size=(runs, 6, 1))
    counts = rng.poisson(np.broadcast_to(rates, (runs, 6, 30))).astype(float)
    with_phi = count_rate_test(counts[:, :1], counts[:, 1:]).p_value
    without = count_rate_test(counts[:, :1], counts[:, 1:], overdispersion=False).p_value
    # 2000 runs: a standard error of 0.005 around 0.05.
    assert np.mean(with_phi < 0.05) <= 0.065
    assert np.mean(without < 0.05) > 0.2


def test_minimum_rate_ratio_lets_a_small_increase_pass() -> None:
    canary = [[[1200.0]]]
    baseline = [[[1000.0]]]
    strict = count_rate_test(canary, baseline, overdispersion=False)
    assert strict.p_value[0] < 0.001  # 20% more errors is detectable with these counts
    lenient = count_rate_test(canary, baseline, overdispersion=False, min_rate_ratio=1.5)
    assert lenient.p_value[0] == 1.0
    assert not lenient.practical[0]


def test_batched_rows_equal_single_rows() -> None:
    rng = np.random.default_rng(5)
    c = rng.poisson(2.0, size=(4, 2, 10)).astype(float)
    b = rng.poisson(2.0, size=(4, 3, 10)).astype(float)
    batch = count_rate_test(c, b).p_value
    single = [count_rate_test(c[i], b[i]).p_value[0] for i in range(4)]
    np.testing.assert_allclose(batch, single)


def test_canary_without_exposure_is_inconclusive_with_its_reason() -> None:
    res = count_rate_test(np.full((1, 1, 5), nan), np.zeros((1, 3, 5)))
    assert res.inconclusive[0]
    assert np.isnan(res.p_value[0])
    assert "canary has no exposure" in res.reason[0]


@settings(max_examples=60, deadline=None)
@given(
    st.lists(st.one_of(st.just(nan), st.floats(0, 100)), min_size=6, max_size=6),
    st.lists(st.booleans(), min_size=2, max_size=2),
)
def test_fill_quiet_buckets_only_touches_missing_buckets_of_known_hosts(
    values: list[float], known: list[bool]
) -> None:
    counts = np.array(values).reshape(2, 3)
    out = fill_quiet_buckets(counts, known)
    present = ~np.isnan(counts)
    np.testing.assert_array_equal(out[present], counts[present])
    for h in range(2):
        if known[h]:
            assert not np.isnan(out[h]).any()
        else:
            np.testing.assert_array_equal(np.isnan(out[h]), np.isnan(counts[h]))


def test_negative_counts_are_rejected() -> None:
    with pytest.raises(ValueError, match="negative"):
        count_rate_test([[[-1.0]]], [[[0.0]]])


def test_burstiness_is_pearsons_chi_square_of_each_hosts_buckets_against_scipy() -> None:
    hosts = np.array([[0.0, 3.0, 0.0, 1.0, 0.0, 8.0], [1.0, 1.0, 2.0, 0.0, 1.0, 1.0]])
    quiet = np.zeros(6)  # no events: no rate to vary around, so not part of the estimate
    counts = np.vstack([hosts, quiet])[None]
    # scipy's chi-square goodness of fit against equal expected counts is Pearson's statistic
    # of the buckets around the host's mean, with buckets - 1 degrees of freedom.
    chi2 = sum(chisquare(h).statistic for h in hosts)
    assert burstiness(counts)[0] == pytest.approx(chi2 / (2 * 5))
    # Missing buckets are left out of the host's mean and its degrees of freedom.
    gappy = counts.copy()
    gappy[0, 1, 0] = nan
    expected = (chisquare(hosts[0]).statistic + chisquare(hosts[1, 1:]).statistic) / (5 + 4)
    assert burstiness(gappy)[0] == pytest.approx(expected)


@given(
    st.lists(
        st.lists(st.integers(0, 40), min_size=2, max_size=12),
        min_size=1,
        max_size=4,
    ).filter(lambda hosts: len({len(h) for h in hosts}) == 1),
    st.randoms(use_true_random=False),
)
def test_burstiness_is_at_least_one_and_blind_to_the_order_of_buckets(
    hosts: list[list[int]], rnd: random.Random
) -> None:
    counts = np.array(hosts, dtype=float)[None]
    b = burstiness(counts)[0]
    assert b >= 1.0
    shuffled = counts.copy()
    for row in shuffled[0]:
        rnd.shuffle(row)
    assert burstiness(shuffled)[0] == pytest.approx(b)
    # The same events spread evenly over a host's buckets are no burst at all.
    even = np.repeat(counts.mean(axis=2, keepdims=True), counts.shape[2], axis=2)
    assert burstiness(even)[0] == pytest.approx(1.0)


def test_bursty_healthy_canaries_stay_below_nominal_while_a_steady_rise_still_fails() -> None:
    rng = np.random.default_rng(5)
    runs, hosts, buckets = 2000, 5, 30

    def fleet() -> NDArray[np.float64]:
        # Rare errors, and now and then a burst of ~10 in one bucket of one host.
        steady = rng.poisson(0.05, (runs, hosts, buckets)).astype(float)
        burst = rng.random((runs, hosts, buckets)) < 0.01
        return steady + burst * (1 + rng.geometric(0.1, (runs, hosts, buckets)))

    healthy = fleet()
    weighed = count_rate_test(healthy[:, :1], healthy[:, 1:])
    plain = count_rate_test(healthy[:, :1], healthy[:, 1:], overdispersion=False)
    # 2000 runs: a standard error of 0.005 around 0.05.
    assert np.mean(weighed.p_value < 0.05) <= 0.05
    assert np.mean(plain.p_value < 0.05) > 0.1
    # A canary that throws one more error a bucket, steadily, is still caught almost always.
    sick = fleet()
    canary = sick[:, :1] + rng.poisson(1.0, (runs, 1, buckets))
    assert np.mean(count_rate_test(canary, sick[:, 1:]).p_value < 0.05) > 0.4
