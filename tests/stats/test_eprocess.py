"""The count e-process: valid at any look (Ville), powerful against real regressions; and the
non-inferiority tests behind the early pass."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from canarystats.stats.counts import burstiness
from canarystats.stats.eprocess import anytime_p_values, rate_ratio_log_e
from canarystats.stats.noninferiority import rate_margin_test, unit_margin_test


def _poisson_paths(ratio: float, n: int, looks: int, seed: int) -> tuple[np.ndarray, ...]:
    """Increments of ``n`` canaries: baseline rate 4 events per look, canary ``ratio`` times."""
    rng = np.random.default_rng(seed)
    exposure = np.full((n, looks), 100.0)
    b = rng.poisson(4.0, (n, looks)).astype(float)
    c = rng.poisson(4.0 * ratio, (n, looks)).astype(float)
    return c, exposure, b, exposure


@pytest.mark.parametrize("null_ratio", [1.0, 1.25])
def test_false_alarms_at_the_tolerated_ratio_stay_below_alpha_over_all_looks(
    null_ratio: float,
) -> None:
    c, ec, b, eb = _poisson_paths(null_ratio, 4000, 30, seed=1)
    p = anytime_p_values(rate_ratio_log_e(c, ec, b, eb, null_ratio=null_ratio))
    ever = (p <= 0.05).any(axis=1).mean()
    assert ever <= 0.05 + 3 * np.sqrt(0.05 * 0.95 / 4000)


def test_a_doubled_rate_is_caught_and_a_tolerated_one_is_not() -> None:
    c, ec, b, eb = _poisson_paths(2.0, 500, 30, seed=2)
    p = anytime_p_values(rate_ratio_log_e(c, ec, b, eb, null_ratio=1.25))
    assert (p[:, -1] <= 0.05).mean() > 0.9
    # Below the tolerance the evidence is against the canary being worse: it never builds.
    c, ec, b, eb = _poisson_paths(1.0, 500, 30, seed=3)
    p = anytime_p_values(rate_ratio_log_e(c, ec, b, eb, null_ratio=1.25))
    assert (p[:, -1] <= 0.05).mean() < 0.01


def test_below_side_is_the_mirror_of_above() -> None:
    c, ec, b, eb = _poisson_paths(1.0, 3, 10, seed=4)
    up = rate_ratio_log_e(c, ec, b, eb, null_ratio=1.25, side="above")
    down = rate_ratio_log_e(b, eb, c, ec, null_ratio=0.8, side="below")
    np.testing.assert_allclose(up, down, rtol=1e-12, atol=1e-12)


@settings(max_examples=60, deadline=None)
@given(
    data=st.lists(
        st.tuples(st.integers(0, 50), st.integers(0, 50), st.floats(1, 1e4), st.floats(1, 1e4)),
        min_size=1,
        max_size=10,
    ),
    r0=st.floats(0.5, 3.0),
)
def test_anytime_p_values_never_increase_and_empty_looks_add_nothing(
    data: list[tuple[int, int, float, float]], r0: float
) -> None:
    c, b, ec, eb = (np.array([[row[i] for row in data]], dtype=float) for i in range(4))
    log_e = rate_ratio_log_e(c, ec, b, eb, null_ratio=r0)
    p = anytime_p_values(log_e)
    assert np.all(np.diff(p[0]) <= 0)
    assert np.all((p > 0) & (p <= 1))
    # An increment without events carries no evidence.
    zero = np.zeros_like(c)
    padded = rate_ratio_log_e(
        np.hstack([c, zero]),
        np.hstack([ec, ec]),
        np.hstack([b, zero]),
        np.hstack([eb, eb]),
        null_ratio=r0,
    )
    np.testing.assert_allclose(padded[0, -1], log_e[0, -1], rtol=1e-12, atol=1e-12)


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="negative"):
        rate_ratio_log_e([[-1]], [[1]], [[1]], [[1]], null_ratio=1.0)
    with pytest.raises(ValueError, match="null_ratio"):
        rate_ratio_log_e([[1]], [[1]], [[1]], [[1]], null_ratio=0.0)
    with pytest.raises(ValueError, match="side"):
        rate_ratio_log_e([[1]], [[1]], [[1]], [[1]], null_ratio=1.0, side="up")


def test_rate_margin_test_is_a_wald_test_against_the_tolerance() -> None:
    # Same rates, many events: far inside a 25 % tolerance.
    z = rate_margin_test(900, 3e5, 1800, 6e5, 1.25)
    se = np.sqrt(1 / 900.5 + 1 / 1800.5)
    want = (np.log(1.25) - (np.log(900.5 / 3e5) - np.log(1800.5 / 6e5))) / se
    assert float(z) == pytest.approx(want, rel=1e-12)
    # At the tolerance exactly it is about 0 (no evidence either way).
    assert abs(float(rate_margin_test(1250, 1e5, 2000, 2e5, 1.25))) < 0.05
    # "either": both sides must be ruled out, the smaller statistic decides.
    both = rate_margin_test(1250, 1e5, 2000, 2e5, 1.25, direction="either")
    assert float(both) <= float(rate_margin_test(1250, 1e5, 2000, 2e5, 1.25))
    assert np.isnan(rate_margin_test(3, 0, 3, 10, 1.25))


def test_rate_margin_test_holds_its_level_at_the_margin() -> None:
    rng = np.random.default_rng(5)
    c = rng.poisson(1.25 * 200, 20_000)
    b = rng.poisson(200, 20_000)
    z = rate_margin_test(c, 1.0, b, 1.0, 1.25)
    assert (z >= sps.norm.isf(0.05)).mean() <= 0.055


def test_an_absolute_margin_is_a_difference_of_rates_with_its_variance_at_the_margin() -> None:
    # 3 errors in 1,000 requests beside 2 in 2,000; harmless below +1 % of requests (d = 0.01):
    # the difference margin is the wider one (0.25 x 0.00125 < 0.01).
    rate_c, rate_b, d = 3.5 / 1000, 2.5 / 2000, 0.01
    want = (rate_b + d - rate_c) / np.sqrt((rate_b + d) / 1000 + rate_b / 2000)
    z = rate_margin_test(3, 1000, 2, 2000, 1.25, min_diff=d)
    assert float(z) == pytest.approx(want, rel=1e-12)
    assert float(rate_margin_test(3, 1000, 2, 2000, 1.25)) < 0  # the ratio alone: not ruled out
    # Where the ratio's margin is the wider one, a small absolute margin changes nothing.
    plain = rate_margin_test(900, 3e5, 1800, 6e5, 1.25)
    assert float(rate_margin_test(900, 3e5, 1800, 6e5, 1.25, min_diff=1e-5)) == float(plain)
    with pytest.raises(ValueError, match="min_diff"):
        rate_margin_test(1, 1, 1, 1, 1.25, min_diff=-1.0)


@pytest.mark.parametrize(
    ("rate_b", "exposure", "wider"),
    # (baseline rate per unit, canary exposure, how many times the absolute margin exceeds the
    # ratio's at that rate: 1 is where the two meet)
    [(0.002, 600, 10.0), (0.005, 600, 4.0), (0.02, 600, 1.0), (0.02, 600, 3.0), (0.2, 300, 2.0)],
)
def test_an_absolute_margin_holds_its_level_at_the_margin(
    rate_b: float, exposure: float, wider: float
) -> None:
    # Poisson canaries exactly at the edge of harm (the larger of the two margins), baseline
    # with twice the exposure: ruled out at most 10 % of the time at a nominal 10 %.
    rng = np.random.default_rng(11)
    d = wider * 0.25 * rate_b
    rate_c = max(1.25 * rate_b, rate_b + d)
    c = rng.poisson(rate_c * exposure, 20_000)
    b = rng.poisson(rate_b * 2 * exposure, 20_000)
    z = rate_margin_test(c, exposure, b, 2 * exposure, 1.25, min_diff=d)
    assert (z >= sps.norm.isf(0.10)).mean() <= 0.10 + 3 * np.sqrt(0.1 * 0.9 / 20_000)


@settings(max_examples=200, deadline=None)
@given(
    c=st.integers(0, 500),
    b=st.integers(0, 500),
    ec=st.floats(1.0, 1e5),
    eb=st.floats(1.0, 1e5),
    d1=st.floats(0.0, 1.0),
    d2=st.floats(0.0, 1.0),
    direction=st.sampled_from(["increase", "decrease", "either"]),
)
def test_a_wider_absolute_margin_never_rules_out_less(
    c: int, b: int, ec: float, eb: float, d1: float, d2: float, direction: str
) -> None:
    narrow, wide = sorted((d1, d2))
    kw = {"direction": direction}
    z_narrow = float(rate_margin_test(c, ec, b, eb, 1.25, min_diff=narrow, **kw))  # type: ignore[arg-type]
    z_wide = float(rate_margin_test(c, ec, b, eb, 1.25, min_diff=wide, **kw))  # type: ignore[arg-type]
    assert z_wide >= z_narrow - 1e-9
    assert float(rate_margin_test(c, ec, b, eb, 1.25, min_diff=0.0, **kw)) == float(  # type: ignore[arg-type]
        rate_margin_test(c, ec, b, eb, 1.25, **kw)  # type: ignore[arg-type]
    )


def _bursty(
    rng: np.random.Generator, rate: float, shape: tuple[int, ...], size: float
) -> np.ndarray:
    """Events per bucket arriving in bursts of geometric size (mean ``size``), ``rate`` a bucket."""
    bursts = rng.poisson(rate / size, shape)
    out = np.zeros(shape)
    some = bursts > 0
    out[some] = bursts[some] + rng.negative_binomial(bursts[some], 1.0 / size)
    return out


def test_rate_margin_test_weighs_bursts_and_then_holds_its_level_at_the_margin() -> None:
    # 3 canary hosts at the tolerated ratio beside 6 baseline hosts, 30 buckets, errors in
    # bursts of five: as Poisson events a quarter or more are "ruled out" at a nominal 10 %.
    rng = np.random.default_rng(7)
    runs, buckets = 5000, 30
    c = _bursty(rng, 2.0 * 1.25, (runs, 3, buckets), 5.0)
    b = _bursty(rng, 2.0, (runs, 6, buckets), 5.0)
    totals = (c.sum(axis=(1, 2)), 3.0 * buckets, b.sum(axis=(1, 2)), 6.0 * buckets)
    level = sps.norm.isf(0.10)
    plain = rate_margin_test(*totals, 1.25)
    assert (plain >= level).mean() > 0.25
    # As the sequential early pass weighs them: the larger cohort's burstiness for both.
    both = np.fmax(burstiness(c), burstiness(b))
    weighed = rate_margin_test(*totals, 1.25, canary_burstiness=both, baseline_burstiness=both)
    assert (weighed >= level).mean() <= 0.10 + 3 * np.sqrt(0.1 * 0.9 / runs)
    # Steady (Poisson) events keep a burstiness near 1 and the test as it was.
    steady_c = rng.poisson(2.5, (runs, 3, buckets)).astype(float)
    steady_b = rng.poisson(2.0, (runs, 6, buckets)).astype(float)
    steady = (steady_c.sum(axis=(1, 2)), 90.0, steady_b.sum(axis=(1, 2)), 180.0)
    z0 = rate_margin_test(*steady, 1.25)
    z1 = rate_margin_test(
        *steady,
        1.25,
        canary_burstiness=burstiness(steady_c),
        baseline_burstiness=burstiness(steady_b),
    )
    assert np.median(np.abs(z1 - z0)) < 0.1 * np.median(np.abs(z0))
    assert 0.07 <= (z1 >= level).mean() <= 0.105


@given(
    events=st.tuples(st.integers(0, 5000), st.integers(0, 5000)),
    bursts=st.tuples(st.floats(1.0, 50.0), st.floats(1.0, 50.0)),
    more=st.floats(0.0, 10.0),
)
def test_burstier_events_never_rule_out_more(
    events: tuple[int, int], bursts: tuple[float, float], more: float
) -> None:
    c, b = events
    bc, bb = bursts
    z = rate_margin_test(c, 100.0, b, 200.0, 1.25, canary_burstiness=bc, baseline_burstiness=bb)
    z_more = rate_margin_test(
        c, 100.0, b, 200.0, 1.25, canary_burstiness=bc + more, baseline_burstiness=bb + more
    )
    # More burstiness shrinks the statistic towards 0 from either side: evidence weighs less.
    assert abs(float(z_more)) <= abs(float(z)) + 1e-12
    assert np.sign(float(z_more)) in (0.0, np.sign(float(z)))


def test_rate_margin_test_refuses_burstiness_below_one() -> None:
    with pytest.raises(ValueError, match="burstiness"):
        rate_margin_test(5, 10, 5, 10, 1.25, canary_burstiness=0.5)


@pytest.mark.parametrize("k", [2, 3, 5])
def test_unit_margin_test_against_scipy_two_sample_t_test(k: int) -> None:
    rng = np.random.default_rng(6 + k)
    canary = rng.normal(10, 1, k)
    baseline = rng.normal(10, 1, 6)
    # Student's two-sample t (pooled spread) of the canary moved by its margin: scipy's
    # ttest_ind is the oracle, in both directions of harm.
    up = unit_margin_test(canary[None, :], baseline[None, :], 1.5, direction="increase")[0]
    want = sps.ttest_ind(canary - 1.5, baseline, equal_var=True, alternative="less").pvalue
    assert up == pytest.approx(want, rel=1e-10)
    down = unit_margin_test(canary[None, :], baseline[None, :], 1.5, direction="decrease")[0]
    want = sps.ttest_ind(canary + 1.5, baseline, equal_var=True, alternative="greater").pvalue
    assert down == pytest.approx(want, rel=1e-10)
    # Either way: both margins must be ruled out, the larger p-value.
    either = unit_margin_test(canary[None, :], baseline[None, :], 1.5, direction="either")[0]
    assert either == pytest.approx(max(up, down), rel=1e-12)


def test_unit_margin_test_of_one_canary_host_uses_the_baseline_spread() -> None:
    rng = np.random.default_rng(6)
    canary = rng.normal(10, 1, 1)
    baseline = rng.normal(10, 1, 6)
    p = unit_margin_test(canary[None, :], baseline[None, :], 1.5, direction="increase")[0]
    # One host has no spread of its own: the prediction-interval t on the baseline's 5 df.
    diff = canary.mean() - baseline.mean() - 1.5
    se = baseline.std(ddof=1) * np.sqrt(1 / 1 + 1 / 6)
    assert p == pytest.approx(sps.t.cdf(diff / se, 5), rel=1e-12)
