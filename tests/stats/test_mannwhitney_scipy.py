"""mann_whitney agrees with scipy.stats.mannwhitneyu on U and the p-value.

scipy's ``method="auto"`` chooses differently from R (exact only below 9 values), so every call
names the method: ``"exact"`` (only without ties: scipy's exact null distribution ignores ties,
while R and canarystats then take the normal approximation) or ``"asymptotic"`` with the same
continuity correction.  scipy's ``statistic`` is the U of its first sample, R's W.
"""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats as sps

from canarystats.stats import mann_whitney

ALTERNATIVES = ["two-sided", "less", "greater"]
SIZES = [(1, 1), (1, 6), (3, 4), (7, 9), (12, 5), (20, 25), (49, 30), (60, 80)]


def _sample(seed: int, n1: int, n2: int, ties: bool) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    x = rng.normal(0.3, 1.0, n1)
    y = rng.normal(0.0, 1.0, n2)
    if ties:
        x, y = np.round(x * 2) / 2, np.round(y * 2) / 2
    return x, y


def _assert_same(got_u: object, got_p: object, ref: object) -> None:
    np.testing.assert_array_equal(got_u, ref.statistic)
    np.testing.assert_allclose(got_p, ref.pvalue, rtol=1e-9, atol=1e-300)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("n1,n2", SIZES)
def test_exact_path_matches_scipy_exact_without_ties(n1: int, n2: int, alternative: str) -> None:
    x, y = _sample(n1 * 100 + n2, n1, n2, ties=False)
    ref = sps.mannwhitneyu(x, y, alternative=alternative, method="exact")
    res = mann_whitney(x, y, alternative=alternative, exact=True)
    assert res.exact is True
    _assert_same(res.u, res.p_value, ref)


@pytest.mark.parametrize("continuity", [True, False])
@pytest.mark.parametrize("ties", [False, True])
@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("n1,n2", SIZES[2:])
def test_asymptotic_path_matches_scipy_asymptotic(
    n1: int, n2: int, alternative: str, ties: bool, continuity: bool
) -> None:
    x, y = _sample(n1 * 1000 + n2, n1, n2, ties=ties)
    ref = sps.mannwhitneyu(
        x, y, alternative=alternative, method="asymptotic", use_continuity=continuity
    )
    res = mann_whitney(x, y, alternative=alternative, exact=False, continuity=continuity)
    assert res.exact is False
    _assert_same(res.u, res.p_value, ref)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_default_rule_with_ties_is_scipy_asymptotic(alternative: str) -> None:
    # R's rule: ties force the normal approximation even for small samples.
    x, y = np.array([1.0, 2.0, 2.0, 5.0]), np.array([2.0, 3.0, 4.0])
    ref = sps.mannwhitneyu(x, y, alternative=alternative, method="asymptotic")
    res = mann_whitney(x, y, alternative=alternative)
    assert res.exact is False
    _assert_same(res.u, res.p_value, ref)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
@pytest.mark.parametrize("method", ["exact", "asymptotic"])
def test_2d_equal_rows_match_scipy_axis_1(method: str, alternative: str) -> None:
    rng = np.random.default_rng(7)
    x = rng.normal(0.2, 1.0, (30, 11))
    y = rng.normal(0.0, 1.0, (30, 13))
    x[::3] += 1.5  # some rows with a real shift, so p-values spread out
    ref = sps.mannwhitneyu(x, y, axis=1, alternative=alternative, method=method)
    res = mann_whitney(x, y, alternative=alternative, exact=method == "exact")
    assert np.asarray(res.u).shape == (30,)
    _assert_same(res.u, res.p_value, ref)


@pytest.mark.parametrize("alternative", ALTERNATIVES)
def test_2d_ragged_nan_padded_rows_match_scipy_row_by_row(alternative: str) -> None:
    rng = np.random.default_rng(11)
    rows = 25
    x = rng.normal(0.2, 1.0, (rows, 70))
    y = np.round(rng.normal(0.0, 1.0, (rows, 60)) * 4) / 4  # ties in every row
    n1 = rng.integers(5, 71, rows)
    n2 = rng.integers(5, 61, rows)
    for i in range(rows):
        x[i, n1[i] :] = np.nan
        y[i, n2[i] :] = np.nan
    res = mann_whitney(x, y, alternative=alternative, exact=False)
    ref = sps.mannwhitneyu(
        x, y, axis=1, alternative=alternative, method="asymptotic", nan_policy="omit"
    )
    _assert_same(res.u, res.p_value, ref)
    for i in range(rows):
        one = sps.mannwhitneyu(
            x[i, : n1[i]], y[i, : n2[i]], alternative=alternative, method="asymptotic"
        )
        assert np.asarray(res.u)[i] == one.statistic
        assert np.asarray(res.p_value)[i] == pytest.approx(one.pvalue, rel=1e-9, abs=1e-300)


small_ints = st.lists(st.integers(-6, 6), min_size=2, max_size=25)


@settings(max_examples=60, deadline=None)
@given(x=small_ints, y=small_ints, alternative=st.sampled_from(ALTERNATIVES), c=st.booleans())
def test_asymptotic_matches_scipy_on_arbitrary_tied_integers(
    x: list[int], y: list[int], alternative: str, c: bool
) -> None:
    xs, ys = np.array(x, float), np.array(y, float)
    if np.unique(np.concatenate([xs, ys])).size == 1:
        return  # all tied: the normal approximation has no variance (scipy and R give NaN)
    ref = sps.mannwhitneyu(xs, ys, alternative=alternative, method="asymptotic", use_continuity=c)
    res = mann_whitney(xs, ys, alternative=alternative, exact=False, continuity=c)
    _assert_same(res.u, res.p_value, ref)
