"""Effect sizes and descriptive statistics against independent computations.

Oracles: hand computations written out here, Python's ``statistics`` module (its ``inclusive``
quantiles are R's type 7), brute-force pairwise comparison for CLES, and scipy's U.
"""

from __future__ import annotations

import math
import statistics
import warnings

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from canarystats.stats import cles, describe, mean_ratio, median_ratio

SETTINGS = settings(max_examples=50, deadline=None)
finite = st.floats(-1e6, 1e6, allow_nan=False, allow_infinity=False, allow_subnormal=False)
sample = st.lists(finite, min_size=1, max_size=30)


def _cles_brute(c: list[float], b: list[float]) -> float:
    wins = sum((ci > bi) + 0.5 * (ci == bi) for ci in c for bi in b)
    return wins / (len(c) * len(b))


def _pad(rows: list[list[float]]) -> np.ndarray:
    out = np.full((len(rows), max(len(r) for r in rows)), np.nan)
    for i, r in enumerate(rows):
        out[i, : len(r)] = r
    return out


# --- hand-computed cases ------------------------------------------------------------------------


def test_mean_ratio_by_hand() -> None:
    # means 14/4 = 3.5 and 7/4 = 1.75
    assert mean_ratio([1.0, 2.0, 5.0, 6.0], [1.0, 1.0, 2.0, 3.0]) == 2.0


def test_median_ratio_by_hand() -> None:
    # medians: (2 + 5) / 2 = 3.5 and (1 + 2) / 2 = 1.5... with an odd baseline: 2
    assert median_ratio([1.0, 2.0, 5.0, 60.0], [0.5, 2.0, 9.0]) == 3.5 / 2.0


def test_cles_by_hand_counts_ties_half() -> None:
    # pairs (3,1) win, (3,3) tie, (4,1) win, (4,3) win: (1 + 0.5 + 1 + 1) / 4
    assert cles([3.0, 4.0], [1.0, 3.0]) == 0.875
    assert cles([1.0], [1.0]) == 0.5
    assert cles([0.0, 0.0], [5.0]) == 0.0
    assert cles([5.0], [0.0, 0.0]) == 1.0


def test_describe_by_hand() -> None:
    d = describe([4.0, 1.0, 3.0, 2.0], percentiles=[0, 25, 50, 95, 100])
    assert d.n == 4
    assert d.mean == 2.5
    assert d.median == 2.5
    assert d.std == pytest.approx(math.sqrt(5.0 / 3.0), rel=1e-15)  # sum of squares 5, n-1 = 3
    assert (d.min, d.max, d.sum) == (1.0, 4.0, 10.0)
    # R type 7: h = (n - 1) p + 1 on the sorted values, interpolated linearly.
    assert d.percentiles[0] == 1.0
    assert d.percentiles[25] == pytest.approx(1.75, rel=1e-15)
    assert d.percentiles[50] == 2.5
    assert d.percentiles[95] == pytest.approx(3.85, rel=1e-15)
    assert d.percentiles[100] == 4.0


def test_describe_default_percentiles() -> None:
    assert set(describe([1.0, 2.0]).percentiles) == {50, 95, 99}


def test_describe_rejects_percentile_outside_0_100() -> None:
    with pytest.raises(ValueError, match="101"):
        describe([1.0, 2.0], percentiles=[101])


# --- zero baselines and missing data --------------------------------------------------------


def test_ratios_are_nan_for_zero_baseline() -> None:
    assert math.isnan(mean_ratio([1.0, 2.0], [0.0, 0.0]))
    assert math.isnan(mean_ratio([1.0, 2.0], [-1.0, 1.0]))  # mean 0
    assert math.isnan(median_ratio([1.0, 2.0], [0.0, 0.0, 5.0]))  # median 0


def test_ratio_against_a_tiny_baseline_emits_no_warning() -> None:
    # 1 / 2.2e-309 overflows: the library must not leak numpy's RuntimeWarning to its users.
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        mean_ratio([1.0], [2.2250738585072e-309])
        median_ratio([1.0], [2.2250738585072e-309])


def test_ratios_and_cles_are_nan_without_values() -> None:
    assert math.isnan(mean_ratio([math.nan, math.nan], [1.0]))
    assert math.isnan(median_ratio([1.0], [math.nan]))
    assert math.isnan(cles([math.nan], [1.0, 2.0]))


def test_nan_is_dropped_everywhere() -> None:
    c = [1.0, math.nan, 4.0, 7.0]
    b = [math.nan, 2.0, 2.0, math.nan, 3.0]
    c_clean, b_clean = [1.0, 4.0, 7.0], [2.0, 2.0, 3.0]
    assert mean_ratio(c, b) == mean_ratio(c_clean, b_clean) == 4.0 / (7.0 / 3.0)
    assert median_ratio(c, b) == median_ratio(c_clean, b_clean) == 2.0
    assert cles(c, b) == cles(c_clean, b_clean) == _cles_brute(c_clean, b_clean)
    d = describe(c, percentiles=[50])
    assert (d.n, d.mean, d.median, d.min, d.max, d.sum) == (3, 4.0, 4.0, 1.0, 7.0, 12.0)


def test_describe_of_an_empty_row() -> None:
    d = describe(np.array([[1.0, 2.0], [math.nan, math.nan]]), percentiles=[50])
    assert list(d.n) == [2, 0]
    assert d.sum[1] == 0.0
    for value in (d.mean, d.median, d.std, d.min, d.max, d.percentiles[50]):
        assert math.isnan(value[1])


def test_cles_keeps_infinities_as_extremes() -> None:
    assert cles([math.inf], [1e308, 5.0]) == 1.0
    assert cles([-math.inf, 0.0], [-1.0]) == 0.5
    assert cles([math.inf], [math.inf]) == 0.5


# --- against independent libraries, 1-D and 2-D -----------------------------------------------


@SETTINGS
@given(c=sample, b=sample)
def test_effects_match_independent_computations(c: list[float], b: list[float]) -> None:
    bm, bmed = statistics.fmean(b), statistics.median(b)

    def ratio(num: float, den: float) -> float:
        # the documented contract: NaN against a zero baseline and where the ratio overflows
        try:
            out = num / den
        except ZeroDivisionError:
            return math.nan
        return out if math.isfinite(out) else math.nan

    expected_mean = ratio(statistics.fmean(c), bm)
    expected_median = ratio(statistics.median(c), bmed)
    got_mean, got_median = mean_ratio(c, b), median_ratio(c, b)
    if math.isnan(expected_mean):
        assert math.isnan(got_mean)
    else:
        # numpy's pairwise summation and the exact fsum behind fmean may differ in the last bits;
        # a mean near 0 (cancellation) amplifies that by sum|v| / |sum v|.
        def amplification(v: list[float]) -> float:
            total = abs(math.fsum(v))
            return math.fsum(map(abs, v)) / total if total else 1.0

        rel = 1e-12 * (amplification(c) + amplification(b))
        assert got_mean == pytest.approx(expected_mean, rel=rel, abs=0)
    if math.isnan(expected_median):
        assert math.isnan(got_median)
    else:
        assert got_median == pytest.approx(expected_median, rel=1e-12)
    assert cles(c, b) == pytest.approx(_cles_brute(c, b), rel=1e-12)
    u = sps.mannwhitneyu(c, b, method="asymptotic").statistic
    assert cles(c, b) == pytest.approx(u / (len(c) * len(b)), rel=1e-12)


@SETTINGS
@given(v=st.lists(finite, min_size=2, max_size=40))
def test_describe_matches_statistics_module(v: list[float]) -> None:
    pct = [1, 10, 50, 95, 99]
    d = describe(v, percentiles=pct)
    scale = max(1.0, max(abs(a) for a in v))
    assert d.n == len(v)
    assert d.mean == pytest.approx(statistics.fmean(v), rel=1e-12, abs=1e-12 * scale)
    assert d.median == statistics.median(v)
    assert d.std == pytest.approx(statistics.stdev(v), rel=1e-9, abs=1e-9 * scale)
    assert (d.min, d.max) == (min(v), max(v))
    assert d.sum == pytest.approx(math.fsum(v), rel=1e-12, abs=1e-12 * scale * len(v))
    # method="inclusive" is R's type 7, numpy's "linear".
    qs = statistics.quantiles(v, n=100, method="inclusive")
    for p in pct:
        assert d.percentiles[p] == pytest.approx(qs[p - 1], rel=1e-12, abs=1e-12 * scale)


@SETTINGS
@given(pairs=st.lists(st.tuples(sample, sample), min_size=1, max_size=6))
def test_2d_equals_row_by_row(pairs: list[tuple[list[float], list[float]]]) -> None:
    c = _pad([p[0] for p in pairs])
    b = _pad([p[1] for p in pairs])
    mr, mdr, cl = mean_ratio(c, b), median_ratio(c, b), cles(c, b)
    dc = describe(c, percentiles=[5, 50, 99])
    for i, (ci, bi) in enumerate(pairs):
        np.testing.assert_allclose(mr[i], mean_ratio(ci, bi), rtol=1e-12, err_msg="mean_ratio")
        np.testing.assert_array_equal(mdr[i], median_ratio(ci, bi), err_msg="median_ratio")
        np.testing.assert_array_equal(cl[i], cles(ci, bi), err_msg="cles")
        one = describe(ci, percentiles=[5, 50, 99])
        for name in ("n", "median", "min", "max"):
            np.testing.assert_array_equal(getattr(dc, name)[i], getattr(one, name), err_msg=name)
        # Sums over a NaN-padded row may be accumulated in another order: last-bit
        # differences, relative to the largest value summed (a mean of 23 from values near 1e6
        # carries their rounding, not its own).
        scale = max([abs(x) for x in ci if x == x] + [1e-300])
        for name in ("mean", "std", "sum"):
            np.testing.assert_allclose(
                getattr(dc, name)[i],
                getattr(one, name),
                rtol=1e-12,
                atol=1e-12 * scale * max(len(ci), 1),
                err_msg=name,
            )
        for p in (5, 50, 99):
            np.testing.assert_array_equal(dc.percentiles[p][i], one.percentiles[p], err_msg=str(p))


def test_1d_gives_python_scalars() -> None:
    assert isinstance(mean_ratio([1.0], [2.0]), float)
    assert isinstance(cles([1.0], [2.0]), float)
    d = describe([1.0, 2.0])
    assert isinstance(d.n, int) and isinstance(d.mean, float)
