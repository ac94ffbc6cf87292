"""Mann-Whitney U test with the Hodges-Lehmann shift estimate and an exact-bound interval.

Semantics are those of R's ``wilcox.test(x = canary, y = baseline, conf.int = TRUE)`` with two
deliberate improvements:

* every interval bound is an exact pairwise difference ``canary[i] - baseline[j]``: on the
  asymptotic path R finds the crossing of its step function with ``uniroot(tol = 1e-4)``, an
  absolute tolerance that flips decisions on metrics of small magnitude (error rates); here the
  crossing is located exactly, at the pairwise difference where R's step function jumps;
* ``estimate`` is always the Hodges-Lehmann estimate, the median of all pairwise differences
  (R uses it on the exact path only).

Everything is batched: 2-D inputs hold one metric per row, NaN-padded to ragged lengths, and one
call decides every row on its own (exact or asymptotic), without a Python loop over rows.  The
pairwise differences are never materialised: the needed order statistics are selected over the
implicit sorted difference matrix with exact counting (Johnson & Mizoguchi 1978; Monahan 1984),
which costs ``O((n1 + n2) log(n1 n2))`` per row instead of ``O(n1 n2)``
(:mod:`canarystats.stats.pairwise`); the rank sums come from :mod:`canarystats.stats.ranks`.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

from canarystats.stats.pairwise import select_pairwise_differences
from canarystats.stats.ranks import count_valid, rank_sum, tie_term
from canarystats.stats.rows import as_rows, row_blocks, scalar_or_rows

Alternative = Literal["two-sided", "less", "greater"]
_ALTERNATIVES = ("two-sided", "less", "greater")

#: R's rule: the exact null distribution is used when both samples are smaller than this.
EXACT_MAX_N = 50
FloatArray = NDArray[np.float64]
IntArray = NDArray[np.int64]


@dataclass(frozen=True)
class MannWhitneyResult:
    """Result of :func:`mann_whitney`: scalars for 1-D input, arrays over rows for 2-D input.

    Attributes
    ----------
    u : R's W, the Mann-Whitney U statistic of the canary (pairs canary > baseline, ties half).
    p_value : p-value of the chosen alternative.
    estimate : Hodges-Lehmann shift, the median of all pairwise differences canary - baseline.
    ci_low, ci_high : bounds of the shift's confidence interval; each is a pairwise difference
        (``-inf``/``+inf`` for the open side of a one-sided interval).
    n_canary, n_baseline : number of non-missing values used.
    conf_level : confidence actually achieved (R lowers it when the requested level cannot be
        reached by the exact distribution of tiny samples, "Requested conf.level not achievable").
    exact : whether the exact null distribution was used (no ties, both n below 50 by default).
    """

    u: Any
    p_value: Any
    estimate: Any
    ci_low: Any
    ci_high: Any
    n_canary: Any
    n_baseline: Any
    conf_level: Any
    exact: Any


def mann_whitney(
    canary: ArrayLike,
    baseline: ArrayLike,
    *,
    alternative: Alternative = "two-sided",
    confidence: float = 0.95,
    exact: bool | None = None,
    continuity: bool = True,
    mu: float = 0.0,
    conf_int: bool = True,
) -> MannWhitneyResult:
    """Mann-Whitney (Wilcoxon rank-sum) test of canary against baseline, with the shift interval.

    Parameters
    ----------
    canary, baseline : array_like
        1-D samples, or 2-D arrays with one row per metric (NaN-padded to ragged lengths; both
        with the same number of rows).  NaN means missing and is dropped; ``±inf`` are kept as
        the most extreme values.
    alternative : {"two-sided", "less", "greater"}
        "greater": the canary is stochastically greater than the baseline (shift > ``mu``).
    confidence : float
        Confidence level of the interval, in (0, 1).
    exact : bool or None
        Use the exact null distribution.  ``None`` is R's rule: exact when both samples have
        fewer than 50 values and there are no ties.  With ties the normal approximation is
        always used (as R does, which warns).
    continuity : bool
        Continuity correction of the normal approximation (R's ``correct``).
    mu : float
        Shift under the null hypothesis (affects ``u`` and ``p_value``, not the interval).
    conf_int : bool
        Compute ``estimate``, ``ci_low`` and ``ci_high`` (NaN otherwise; the test alone is
        cheaper).

    Returns
    -------
    MannWhitneyResult
        With fields ``u``, ``p_value``, ``estimate``, ``ci_low``, ``ci_high``, ``n_canary``,
        ``n_baseline``, ``conf_level`` and ``exact``.

    Notes
    -----
    The statistic is ``U = #(c > b) + #(c == b) / 2`` over all pairs.  The asymptotic p-value
    uses the tie-corrected variance ``n1 n2 / 12 * ((N + 1) - sum(t^3 - t) / (N (N - 1)))`` and
    an optional 0.5 continuity correction; the exact one the permutation distribution of U
    without ties.  The interval inverts the test (Bauer 1972): on the exact path its bounds are
    the ``q``-th smallest and largest pairwise differences with ``q`` from the exact quantile;
    on the asymptotic path they are the pairwise differences where the standardised statistic,
    a step function of the shift, crosses the normal quantile -- the same points R's
    ``uniroot`` approximates to within ``1e-4``.  Rows without values on either side give NaN.
    A pairwise difference of two equal infinities counts as 0 (they are tied ranks).

    References
    ----------
    R Core Team, ``wilcox.test`` (src/library/stats/R/wilcox.test.R).
    Hollander, Wolfe & Chicken (2014), Nonparametric Statistical Methods, 3rd ed., §4.3.
    Johnson & Mizoguchi (1978), Selecting the Kth element in X + Y and X1 + X2 + ... + Xm.
    Monahan (1984), Fast computation of the Hodges-Lehmann location estimator.

    Examples
    --------
    R's ``wilcox.test(c(10, 20, 30, 40), c(1, 2, 3, 4), conf.int = TRUE)`` gives W = 16,
    p = 0.02857 and the interval [6, 39]:

    >>> r = mann_whitney([10, 20, 30, 40], [1, 2, 3, 4])
    >>> r.u, round(r.p_value, 5), r.ci_low, r.ci_high, r.estimate
    (16.0, 0.02857, 6.0, 39.0, 22.5)
    """
    _check_options(alternative, confidence, exact, mu)
    x, one = as_rows(canary)
    y, one_b = as_rows(baseline)
    if one != one_b or x.shape[0] != y.shape[0]:
        raise ValueError(
            "canary and baseline must both be 1-D, or 2-D with the same number of rows; "
            f"got shapes {np.shape(canary)} and {np.shape(baseline)}"
        )
    out = _in_blocks(x, y, alternative, float(confidence), exact, continuity, float(mu), conf_int)
    return MannWhitneyResult(
        u=scalar_or_rows(out["u"], one),
        p_value=scalar_or_rows(out["p_value"], one),
        estimate=scalar_or_rows(out["estimate"], one),
        ci_low=scalar_or_rows(out["ci_low"], one),
        ci_high=scalar_or_rows(out["ci_high"], one),
        n_canary=scalar_or_rows(out["n1"], one),
        n_baseline=scalar_or_rows(out["n2"], one),
        conf_level=scalar_or_rows(out["conf_level"], one),
        exact=scalar_or_rows(out["exact"], one),
    )


def _check_options(alternative: str, confidence: float, exact: bool | None, mu: float) -> None:
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"alternative must be one of {_ALTERNATIVES}, got {alternative!r}")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if exact not in (None, True, False):
        raise ValueError(f"exact must be None, True or False, got {exact!r}")
    if not math.isfinite(float(mu)):
        raise ValueError(f"mu must be finite, got {mu!r}")


def _in_blocks(
    x: FloatArray,
    y: FloatArray,
    alternative: str,
    confidence: float,
    exact: bool | None,
    continuity: bool,
    mu: float,
    conf_int: bool,
) -> dict[str, NDArray[Any]]:
    """:func:`_mann_whitney_rows` over every row, a block of rows at a time.

    Rows are independent; blocks keep the temporaries a small multiple of the input whatever
    the number of rows.
    """
    rows = x.shape[0]
    out: dict[str, NDArray[Any]] = {
        name: np.full(rows, np.nan)
        for name in ("u", "p_value", "estimate", "ci_low", "ci_high", "conf_level")
    }
    out["n1"] = np.zeros(rows, dtype=np.int64)
    out["n2"] = np.zeros(rows, dtype=np.int64)
    out["exact"] = np.zeros(rows, dtype=bool)
    for sl in row_blocks(rows, x.shape[1] + y.shape[1]) if rows else []:
        part = _mann_whitney_rows(
            x[sl], y[sl], alternative, confidence, exact, continuity, mu, conf_int
        )
        for name, values in out.items():
            values[sl] = part[name]
    return out


# --------------------------------------------------------------------------------------------
# one chunk of rows


def _mann_whitney_rows(
    x: FloatArray,
    y: FloatArray,
    alternative: str,
    confidence: float,
    exact: bool | None,
    continuity: bool,
    mu: float,
    conf_int: bool,
) -> dict[str, Any]:
    # -0.0 and +0.0 must be one value for ranks; adding 0.0 turns -0.0 into +0.0 (and makes
    # the copy that is then sorted in place).
    xo = x + 0.0
    xo.sort(axis=1)
    ys = y + 0.0
    ys.sort(axis=1)
    n1 = count_valid(xo)
    n2 = count_valid(ys)
    # R ranks c(x - mu, y): the shifted canary, rounded as R rounds it.
    if mu != 0.0:
        xs = x - mu + 0.0
        xs.sort(axis=1)
    else:
        xs = xo
    u, ties, has_ties = rank_sum(xs, ys, n1, n2)

    valid = (n1 > 0) & (n2 > 0)
    want_exact = (
        (n1 < EXACT_MAX_N) & (n2 < EXACT_MAX_N)
        if exact is None
        else np.full_like(valid, bool(exact))
    )
    use_exact = want_exact & ~has_ties & valid
    p = _asymptotic_p(u, n1, n2, ties, alternative, continuity)
    rows_exact = np.flatnonzero(use_exact)
    if rows_exact.size:
        p[rows_exact] = _exact_p(u[rows_exact], n1[rows_exact], n2[rows_exact], alternative)
    u = np.where(valid, u, np.nan)
    p = np.where(valid, p, np.nan)

    result: dict[str, Any] = {
        "u": u,
        "p_value": p,
        "n1": n1,
        "n2": n2,
        "exact": use_exact,
        "estimate": np.full(len(u), np.nan),
        "ci_low": np.full(len(u), np.nan),
        "ci_high": np.full(len(u), np.nan),
        "conf_level": np.where(valid, confidence, np.nan),
    }
    if conf_int and valid.any():
        _interval(xo, ys, n1, n2, valid, use_exact, alternative, confidence, continuity, result)
    return result


# --------------------------------------------------------------------------------------------
# p-values


def _correction(dz: FloatArray, alternative: str, continuity: bool) -> FloatArray:
    """R's continuity correction of ``U - n1 n2 / 2``: half a unit towards the alternative."""
    if not continuity:
        return np.zeros_like(dz)
    if alternative == "two-sided":
        return np.asarray(np.sign(dz) * 0.5, dtype=np.float64)
    return np.full_like(dz, 0.5 if alternative == "greater" else -0.5)


def _asymptotic_p(
    u: FloatArray,
    n1: IntArray,
    n2: IntArray,
    tie_term: FloatArray,
    alternative: str,
    continuity: bool,
) -> FloatArray:
    a = n1.astype(np.float64)
    b = n2.astype(np.float64)
    n = a + b
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma = np.sqrt((a * b / 12.0) * ((n + 1.0) - tie_term / (n * (n - 1.0))))
        dz = u - a * b / 2.0
        z = (dz - _correction(dz, alternative, continuity)) / sigma
    if alternative == "less":
        return np.asarray(ndtr(z), dtype=np.float64)
    if alternative == "greater":
        return np.asarray(ndtr(-z), dtype=np.float64)
    return np.asarray(2.0 * np.minimum(ndtr(z), ndtr(-z)), dtype=np.float64)


@functools.cache
def _null_pmf(m: int, n: int) -> FloatArray:
    """Exact null distribution of U for sizes (m, n) without ties: P(U = k), k = 0..m*n.

    Recurrence on the largest observation: it is a canary value with probability m/(m+n) and
    then beats all n baseline values, so ``P_{m,n}(k) = m/(m+n) P_{m-1,n}(k-n) +
    n/(m+n) P_{m,n-1}(k)``.  Only additions of positive terms: no cancellation.  The
    distribution is symmetric in (m, n), so it is cached under the sorted pair.
    """
    if m > n:
        return _null_pmf(n, m)
    if m == 0:
        return np.ones(1)
    pmf = np.zeros(m * n + 1)
    left = _null_pmf(m - 1, n)  # length (m-1)n + 1
    pmf[n : n + left.size] += (m / (m + n)) * left
    if n > 0:
        right = _null_pmf(m, n - 1) if m <= n - 1 else _null_pmf(n - 1, m)
        pmf[: right.size] += (n / (m + n)) * right
    return pmf


@functools.cache
def _null_cdf(m: int, n: int) -> FloatArray:
    return np.cumsum(_null_pmf(m, n))


def _lower_tail(q: IntArray, m: int, n: int) -> FloatArray:
    """P(U <= q) summed from the nearer tail, as R's ``pwilcox`` does, to keep precision."""
    cdf = _null_cdf(m, n)
    mn = m * n
    q = np.asarray(q, dtype=np.int64)
    out = np.empty(q.shape)
    low = q <= mn / 2.0
    qi = np.clip(q, -1, mn)
    out[low] = np.where(qi[low] >= 0, cdf[np.maximum(qi[low], 0)], 0.0)
    # P(U <= q) = 1 - P(U >= q + 1) = 1 - P(U <= mn - q - 1) by symmetry.
    hi_q = mn - qi[~low] - 1
    out[~low] = 1.0 - np.where(hi_q >= 0, cdf[np.maximum(hi_q, 0)], 0.0)
    return out


def _exact_p(u: FloatArray, n1: IntArray, n2: IntArray, alternative: str) -> FloatArray:
    p = np.empty(len(u))
    pairs = np.stack([n1, n2], axis=1)
    for m, n in np.unique(pairs, axis=0):  # one loop per distinct pair of sizes, not per row
        sel = (n1 == m) & (n2 == n)
        w = np.rint(u[sel]).astype(np.int64)
        mn = int(m) * int(n)
        cdf = _null_cdf(int(m), int(n))
        # P(U <= W) and P(U >= W) = P(U <= mn - W) by symmetry; a summed CDF can pass 1 by an
        # ulp, and a probability must not.
        lower = np.minimum(cdf[w], 1.0)
        upper = np.minimum(cdf[mn - w], 1.0)
        if alternative == "less":
            p[sel] = lower
        elif alternative == "greater":
            p[sel] = upper
        else:
            p[sel] = np.minimum(1.0, 2.0 * np.where(w > mn / 2.0, upper, lower))
    return p


def _qwilcox(prob: float, m: int, n: int) -> int:
    """R's ``qwilcox``: the smallest q with P(U <= q) >= prob, with R's 10-epsilon fuzz."""
    cdf = _null_cdf(m, n)
    eps = 10 * np.finfo(float).eps
    if prob <= 0.5:
        return int(np.searchsorted(cdf, prob - eps, side="left"))
    # Upper half: count from the top for precision, as R does.
    q = int(np.searchsorted(cdf, 1.0 - prob + eps, side="right"))
    return m * n - q


# --------------------------------------------------------------------------------------------
# the interval and the estimate


def _interval(
    xs: FloatArray,
    ys: FloatArray,
    n1: IntArray,
    n2: IntArray,
    valid: NDArray[np.bool_],
    use_exact: NDArray[np.bool_],
    alternative: str,
    confidence: float,
    continuity: bool,
    result: dict[str, Any],
) -> None:
    rows = xs.shape[0]
    mn = n1 * n2
    alpha = 1.0 - confidence
    k_lo = np.ones(rows, dtype=np.int64)
    k_hi = np.maximum(mn, 1)
    conf = np.full(rows, confidence)

    # Exact path: the q-th smallest and largest differences, q from the exact quantile.
    ex = np.flatnonzero(use_exact)
    if ex.size:
        level = alpha / 2.0 if alternative == "two-sided" else alpha
        pairs = np.stack([n1[ex], n2[ex]], axis=1)
        for m, n in np.unique(pairs, axis=0):
            sel = ex[(n1[ex] == m) & (n2[ex] == n)]
            qu = _qwilcox(level, int(m), int(n))
            if qu == 0:
                qu = 1
            achieved = float(_lower_tail(np.array([qu - 1]), int(m), int(n))[0])
            if alternative == "two-sided":
                achieved *= 2.0
            k_lo[sel] = qu
            k_hi[sel] = int(m) * int(n) - qu + 1
            if achieved - alpha > alpha / 2.0:
                conf[sel] = 1.0 - achieved

    # Asymptotic path: where the standardised statistic, a step function of the shift, crosses
    # the normal quantile.  Between consecutive pairwise differences only the within-sample ties
    # enter the variance, so sigma there is constant.
    asy = np.flatnonzero(valid & ~use_exact)
    if asy.size:
        a = n1[asy].astype(np.float64)
        b = n2[asy].astype(np.float64)
        n = a + b
        within = tie_term(xs[asy]) + tie_term(ys[asy])
        with np.errstate(divide="ignore", invalid="ignore"):
            sigma = np.sqrt((a * b / 12.0) * ((n + 1.0) - within / (n * (n - 1.0))))
        if alternative in ("two-sided", "greater"):
            zq = ndtri(1.0 - alpha / 2.0) if alternative == "two-sided" else ndtri(1.0 - alpha)
            k_lo[asy] = _crossing(a * b, sigma, float(zq), alternative, continuity)
        if alternative in ("two-sided", "less"):
            zq = ndtri(alpha / 2.0) if alternative == "two-sided" else ndtri(alpha)
            k_hi[asy] = _crossing(a * b, sigma, float(zq), alternative, continuity)

    k_mid_lo = (mn + 1) // 2
    k_mid_hi = mn // 2 + 1
    ranks = np.stack([k_lo, k_hi, k_mid_lo, k_mid_hi], axis=1)
    ranks = np.clip(ranks, 1, np.maximum(mn, 1)[:, None])
    sel = np.flatnonzero(valid)
    values = np.full((rows, 4), np.nan)
    values[sel] = select_pairwise_differences(xs[sel], ys[sel], n1[sel], n2[sel], ranks[sel])
    low, high = values[:, 0], values[:, 1]
    if alternative == "greater":
        high = np.where(valid, np.inf, np.nan)
    if alternative == "less":
        low = np.where(valid, -np.inf, np.nan)
    # 0.5 a + 0.5 b rounds once, like (a + b) / 2, and cannot overflow.
    with np.errstate(invalid="ignore"):
        estimate = np.where(
            values[:, 2] == values[:, 3], values[:, 2], 0.5 * values[:, 2] + 0.5 * values[:, 3]
        )
    result["ci_low"] = low
    result["ci_high"] = high
    result["estimate"] = estimate
    result["conf_level"] = np.where(valid, conf, np.nan)


def _crossing(
    mn: FloatArray, sigma: FloatArray, zq: float, alternative: str, continuity: bool
) -> IntArray:
    """Smallest count c of pairwise differences <= d at which W(d) falls below ``zq``.

    For d between pairwise differences with c of them <= d, U = mn - c and
    ``W = (mn/2 - c - correction) / sigma``; the interval bound is the c-th smallest difference.
    ``W`` is non-increasing in c; the correction shifts the crossing by at most one, so the
    candidates around the uncorrected solution are checked exactly.
    """
    base = np.floor(mn / 2.0 - zq * sigma - 1.0)
    best = mn.astype(np.int64)  # never below: W stays above zq (R returns mumax)
    found = np.zeros(mn.shape, dtype=bool)
    for off in range(5):
        c = base + off
        dz = mn / 2.0 - c
        take = ((dz - _correction(dz, alternative, continuity)) < zq * sigma) & ~found
        best[take] = c[take].astype(np.int64)
        found |= take
    # Below already before the smallest difference: R returns mumin, the first difference.
    return np.clip(best, 1, np.maximum(mn, 1).astype(np.int64))
