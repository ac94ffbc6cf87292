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
which costs ``O((n1 + n2) log(n1 n2))`` per row instead of ``O(n1 n2)``.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy.special import ndtr, ndtri

from canarystats.stats._arrays import BLOCK_VALUES, as_rows, scalar_or_rows
from canarystats.stats._compiled import rank_sum_compiled, select_compiled

Alternative = Literal["two-sided", "less", "greater"]
_ALTERNATIVES = ("two-sided", "less", "greater")

#: R's rule: the exact null distribution is used when both samples are smaller than this.
EXACT_MAX_N = 50
#: Elements per working block; rows are processed in chunks of about this many values so that
#: temporaries stay a small multiple of the input (issue 2: peak memory <= 3x the input).
_CHUNK_ELEMENTS = BLOCK_VALUES

#: Use the compiled kernels when numba is installed (tests and benchmarks switch them off to
#: exercise and measure the plain numpy paths).
USE_COMPILED = True

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
    if alternative not in _ALTERNATIVES:
        raise ValueError(f"alternative must be one of {_ALTERNATIVES}, got {alternative!r}")
    if not 0.0 < float(confidence) < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    if exact not in (None, True, False):
        raise ValueError(f"exact must be None, True or False, got {exact!r}")
    if not math.isfinite(float(mu)):
        raise ValueError(f"mu must be finite, got {mu!r}")
    x, one = as_rows(canary)
    y, one_b = as_rows(baseline)
    if one != one_b or x.shape[0] != y.shape[0]:
        raise ValueError(
            "canary and baseline must both be 1-D, or 2-D with the same number of rows; "
            f"got shapes {np.shape(canary)} and {np.shape(baseline)}"
        )
    rows = x.shape[0]
    out = {
        name: np.full(rows, np.nan)
        for name in ("u", "p_value", "estimate", "ci_low", "ci_high", "conf_level")
    }
    n1_all = np.zeros(rows, dtype=np.int64)
    n2_all = np.zeros(rows, dtype=np.int64)
    exact_all = np.zeros(rows, dtype=bool)
    width = max(1, x.shape[1] + y.shape[1])
    step = max(1, _CHUNK_ELEMENTS // width)
    for start in range(0, rows, step):
        sl = slice(start, min(rows, start + step))
        part = _mann_whitney_rows(
            x[sl], y[sl], alternative, float(confidence), exact, continuity, float(mu), conf_int
        )
        for name in out:
            out[name][sl] = part[name]
        n1_all[sl] = part["n1"]
        n2_all[sl] = part["n2"]
        exact_all[sl] = part["exact"]
    return MannWhitneyResult(
        u=scalar_or_rows(out["u"], one),
        p_value=scalar_or_rows(out["p_value"], one),
        estimate=scalar_or_rows(out["estimate"], one),
        ci_low=scalar_or_rows(out["ci_low"], one),
        ci_high=scalar_or_rows(out["ci_high"], one),
        n_canary=scalar_or_rows(n1_all, one),
        n_baseline=scalar_or_rows(n2_all, one),
        conf_level=scalar_or_rows(out["conf_level"], one),
        exact=scalar_or_rows(exact_all, one),
    )


def u_statistic(canary: FloatArray, baseline: FloatArray) -> tuple[FloatArray, IntArray, IntArray]:
    """U statistic of each row (ties counted half) and the non-missing sizes, for 2-D input."""
    xs = np.sort(canary, axis=1)
    ys = np.sort(baseline, axis=1)
    n1 = _count_valid(xs)
    n2 = _count_valid(ys)
    u, _, _ = _rank_sum(xs, ys, n1, n2)
    u[(n1 == 0) | (n2 == 0)] = np.nan
    return u, n1, n2


# --------------------------------------------------------------------------------------------
# one chunk of rows


def _count_valid(sorted_rows: FloatArray) -> IntArray:
    # NaN sorts last, so the valid values are a prefix.
    return sorted_rows.shape[1] - np.count_nonzero(np.isnan(sorted_rows), axis=1).astype(np.int64)


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
    n1 = _count_valid(xo)
    n2 = _count_valid(ys)
    # R ranks c(x - mu, y): the shifted canary, rounded as R rounds it.
    if mu != 0.0:
        xs = x - mu + 0.0
        xs.sort(axis=1)
    else:
        xs = xo
    u, tie_term, has_ties = _rank_sum(xs, ys, n1, n2)

    valid = (n1 > 0) & (n2 > 0)
    want_exact = (
        (n1 < EXACT_MAX_N) & (n2 < EXACT_MAX_N)
        if exact is None
        else np.full_like(valid, bool(exact))
    )
    use_exact = want_exact & ~has_ties & valid
    p = _asymptotic_p(u, n1, n2, tie_term, alternative, continuity)
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
# ranks


def _merge_order(a: FloatArray, b: FloatArray) -> tuple[FloatArray, IntArray]:
    """Row-wise merge of sorted ``a`` and sorted ``b``: the concatenation and the merge order.

    Both inputs are sorted runs (NaN last), so the stable sort is a linear merge; ties put
    ``a`` first.
    """
    z = np.concatenate([a, b], axis=1)
    return z, np.argsort(z, axis=1, kind="stable")


def _merge_positions(a: FloatArray, b: FloatArray) -> IntArray:
    """Positions of ``a``'s entries in the row-wise merge of sorted ``a`` and sorted ``b``.

    Ties put ``a`` first, so ``position[i] - i`` is the number of ``b`` values strictly below
    ``a[i]``.
    """
    _, order = _merge_order(a, b)
    pos = np.empty_like(order)
    np.put_along_axis(pos, order, np.arange(order.shape[1])[None, :], axis=1)
    return pos[:, : a.shape[1]]


def _rank_sum(
    xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray
) -> tuple[FloatArray, FloatArray, NDArray[np.bool_]]:
    """U of each row with average ranks, the tie term sum(t^3 - t) and whether any tie exists.

    ``xs`` and ys are sorted rows (NaN last).  In the merge (canary first at ties) the i-th
    canary value at position p has ``p - i`` baseline values strictly below it; summing over
    the canary gives U without ties.  Rows with ties get the half counts and the tie term from
    their groups of equal values.
    """
    if USE_COMPILED and rank_sum_compiled is not None:
        u_c, tie_c, ties_c = rank_sum_compiled(xs, ys, n1, n2)
        return u_c, tie_c, ties_c
    m, width = xs.shape[1], xs.shape[1] + ys.shape[1]
    z, order = _merge_order(xs, ys)
    is_x = order < m
    # Valid values come first in the merge (NaN sorts last), so masking positions past
    # n1 + n2 keeps exactly the valid canary values.
    pos = np.arange(width, dtype=np.float64)
    is_x &= pos[None, :] < (n1 + n2)[:, None]
    u = is_x.astype(np.float64) @ pos - n1 * (n1 - 1) / 2.0
    merged = np.take_along_axis(z, order, axis=1)
    has_ties = _has_adjacent_equal(merged)
    tie_term = np.zeros(xs.shape[0])
    tied = np.flatnonzero(has_ties)
    if tied.size:
        sizes, first = _groups(merged[tied])
        x_in_group = _group_totals(is_x[tied], sizes, first)
        valid = ~np.isnan(merged[tied])
        y_in_group = np.where(valid, sizes, 0) - x_in_group
        # Canary values in a group were counted as above none of the group's baseline values
        # (canary first at ties); each tied pair adds one half.
        u[tied] += 0.5 * np.where(is_x[tied], y_in_group, 0).sum(axis=1)
        tie_term[tied] = np.where(valid, sizes.astype(np.float64) ** 2 - 1.0, 0.0).sum(axis=1)
    return u, tie_term, has_ties


def _has_adjacent_equal(sorted_rows: FloatArray) -> NDArray[np.bool_]:
    if sorted_rows.shape[1] < 2:
        return np.zeros(sorted_rows.shape[0], dtype=bool)
    return np.any(sorted_rows[:, 1:] == sorted_rows[:, :-1], axis=1)


def _groups(sorted_rows: FloatArray) -> tuple[IntArray, IntArray]:
    """For each entry of sorted rows: the size of its group of equal values and the group's
    flat index of first entry (NaN entries are groups of one)."""
    rows, n = sorted_rows.shape
    new = np.ones((rows, n), dtype=bool)
    new[:, 1:] = sorted_rows[:, 1:] != sorted_rows[:, :-1]
    gid = np.cumsum(new.ravel()) - 1
    sizes = np.bincount(gid)
    return sizes[gid].reshape(rows, n), gid.reshape(rows, n)


def _group_totals(flags: NDArray[np.bool_], sizes: IntArray, gid: IntArray) -> IntArray:
    """For each entry: how many entries of its group have ``flags`` set."""
    totals = np.bincount(gid.ravel(), weights=flags.ravel().astype(np.float64))
    return totals[gid].astype(np.int64)


def _group_sizes_at(sorted_rows: FloatArray) -> IntArray:
    """For each entry of sorted rows, the size of its group of equal values (NaN: 1)."""
    return _groups(sorted_rows)[0]


def _tie_term(sorted_rows: FloatArray) -> FloatArray:
    """sum(t^3 - t) over the groups of equal values of each sorted row (NaN entries excluded)."""
    sizes = _group_sizes_at(sorted_rows).astype(np.float64)
    contrib = np.where(np.isnan(sorted_rows), 0.0, sizes * sizes - 1.0)
    # Each group of size t contributes t entries of (t^2 - 1): t^3 - t in all.
    return np.asarray(contrib.sum(axis=1), dtype=np.float64)


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
        within = _tie_term(xs[asy]) + _tie_term(ys[asy])
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


# --------------------------------------------------------------------------------------------
# selection of order statistics of the pairwise differences


def select_pairwise_differences(
    xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray, ranks: IntArray
) -> FloatArray:
    """The ``ranks``-th smallest pairwise differences ``x[i] - y[j]`` of each row.

    Parameters
    ----------
    xs, ys : ndarray
        Sorted rows (NaN last) with ``n1``/``n2`` valid values (each at least 1).
    ranks : ndarray of int
        (rows, K) 1-based ranks in ``1..n1*n2``.

    Returns
    -------
    ndarray
        (rows, K) selected differences, each computed as ``x[i] - y[j]`` for one pair.

    Notes
    -----
    The computed differences ``fl(x[i] - y[j])`` form a matrix sorted along both axes (rounding
    is monotone); it is never materialised.  With numba installed, a compiled kernel walks each
    row with two pointers and random pivots (Monahan 1984), ``O((n1 + n2) log(n1 n2))`` per
    row.  Otherwise a batched numpy path counts a pivot's rank for all rows at once by one
    merge of the sorted baseline with the thresholds ``x[i] - v`` (corrected where rounding
    moves the boundary), shrinks brackets around each target by interpolation, falling back to
    the weighted median of row medians (Johnson & Mizoguchi 1978), and materialises only the
    last ``O(n1 + n2)`` candidates.  Both give identical values.
    """
    xs = np.asarray(xs, dtype=np.float64)
    ys = np.asarray(ys, dtype=np.float64)
    rows, k_count = ranks.shape
    if rows == 0:
        return np.full((rows, k_count), np.nan)
    xs, ys, big = _finite_surrogates(xs, ys, n1, n2)
    if USE_COMPILED and select_compiled is not None:
        out = select_compiled(xs, ys, n1, n2, ranks)
    else:
        out = _select_numpy(xs, ys, n1, n2, ranks)
    if big is not None:
        out = np.where(out >= big[:, None] / 2, np.inf, out)
        out = np.where(out <= -big[:, None] / 2, -np.inf, out)
    return out


def _select_numpy(
    xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray, ranks: IntArray
) -> FloatArray:
    """The plain numpy path: every target of every row in one batched selection."""
    k_count = ranks.shape[1]
    rows = xs.shape[0]
    # All targets of all rows go through one selection: a target is a row of the stacked batch.
    coarse = _coarse_grid(xs, ys, n1, n2)
    out = _select(
        np.repeat(xs, k_count, axis=0),
        np.repeat(ys, k_count, axis=0),
        np.repeat(n1, k_count),
        np.repeat(n2, k_count),
        ranks.ravel().astype(np.int64),
        np.repeat(coarse, k_count, axis=0),
    ).reshape(rows, k_count)
    return out


def _finite_surrogates(
    xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    """Replace ±inf by ±BIG, larger than any finite difference, so differences stay ordered.

    ``inf - inf`` then counts as 0 (tied extremes) and anything involving one infinity exceeds
    every finite difference; selected values beyond BIG/2 are reported as ±inf again.
    """
    inf_x = np.isinf(xs)
    inf_y = np.isinf(ys)
    if not (inf_x.any() or inf_y.any()):
        return xs, ys, None
    finite_x = np.where(np.isfinite(xs), np.abs(xs), 0.0).max(axis=1, initial=0.0)
    finite_y = np.where(np.isfinite(ys), np.abs(ys), 0.0).max(axis=1, initial=0.0)
    scale = np.maximum(finite_x, finite_y)
    big = np.minimum(np.maximum(scale, 1.0) * 2.0**8, 2.0**1000)
    xs = np.where(inf_x, np.sign(xs) * big[:, None], xs)
    ys = np.where(inf_y, np.sign(ys) * big[:, None], ys)
    return xs, ys, big


def _run_starts(sorted_rows: FloatArray) -> IntArray:
    """For each entry of sorted rows, the index where its run of equal values starts."""
    rows, n = sorted_rows.shape
    idx = np.broadcast_to(np.arange(n), (rows, n))
    new = np.ones((rows, n), dtype=bool)
    new[:, 1:] = sorted_rows[:, 1:] != sorted_rows[:, :-1]
    return np.maximum.accumulate(np.where(new, idx, 0), axis=1)


def _below_counts(
    xs: FloatArray, ys: FloatArray, pivot: FloatArray, y_run_start: IntArray, y_run_end: IntArray
) -> IntArray:
    """For each row and each x[i]: how many y[j] have ``fl(x[i] - y[j]) <= pivot``.

    The differences as computed in floating point form a matrix sorted along both axes
    (rounding is monotone), and the selection works on these values.  The count of row i is
    that of ``y >= fl(x[i] - v)``, from one merge of the sorted thresholds with the sorted
    baseline; rounding can put the boundary off by the run of equal baseline values next to
    it, so the boundary is then checked on the computed differences themselves and moved by
    whole runs of equal values until it is right.  Entries of NaN x give garbage that callers
    mask.
    """
    thresh = xs - pivot[:, None]
    below = _merge_positions(thresh, ys) - np.arange(xs.shape[1])[None, :]
    n2 = _count_valid(ys)[:, None]
    last = max(ys.shape[1] - 1, 0)
    piv = pivot[:, None]
    for _ in range(ys.shape[1] + 1):
        moved = False
        # The largest y not counted: counted after all if its difference rounds onto v.
        j = below - 1
        jc = np.clip(j, 0, last)
        with np.errstate(invalid="ignore"):
            add = (j >= 0) & ((xs - np.take_along_axis(ys, jc, axis=1)) <= piv)
        if add.any():
            below = np.where(add, np.take_along_axis(y_run_start, jc, axis=1), below)
            moved = True
        # The smallest y counted: not counted after all if its difference exceeds v.
        jc = np.clip(below, 0, last)
        with np.errstate(invalid="ignore"):
            drop = (below < n2) & ((xs - np.take_along_axis(ys, jc, axis=1)) > piv)
        if drop.any():
            below = np.where(drop, np.take_along_axis(y_run_end, jc, axis=1), below)
            moved = True
        if not moved:
            break
    return np.asarray(n2 - below, dtype=np.int64)


def _run_ends(sorted_rows: FloatArray) -> IntArray:
    """For each entry of sorted rows, the index just past its run of equal values."""
    rows, n = sorted_rows.shape
    idx = np.broadcast_to(np.arange(1, n + 1), (rows, n))
    last = np.ones((rows, n), dtype=bool)
    last[:, :-1] = sorted_rows[:, :-1] != sorted_rows[:, 1:]
    rev = np.where(last, idx, n + 1)[:, ::-1]
    return np.minimum.accumulate(rev, axis=1)[:, ::-1]


_COARSE = 24


def _coarse_grid(xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray) -> FloatArray:
    """Sorted differences of ``g`` evenly spaced order statistics of each sample.

    A coarse copy of the sorted difference matrix: each coarse cell stands for a block of
    about ``n1 n2 / g^2`` differences, so a coarse quantile is within about ``2 g`` coarse
    positions of the true one.  It gives the first bracket of every target.
    """
    g = _COARSE
    frac = (np.arange(g) + 0.5) / g
    rows = np.arange(xs.shape[0])[:, None]
    ix = np.minimum((frac[None, :] * n1[:, None]).astype(np.int64), (n1 - 1)[:, None])
    iy = np.minimum((frac[None, :] * n2[:, None]).astype(np.int64), (n2 - 1)[:, None])
    coarse = (xs[rows, ix][:, :, None] - ys[rows, iy][:, None, :]).reshape(xs.shape[0], g * g)
    coarse.sort(axis=1)
    return coarse


def _select(
    xs: FloatArray, ys: FloatArray, n1: IntArray, n2: IntArray, k: IntArray, coarse: FloatArray
) -> FloatArray:
    """The k-th smallest ``fl(x[i] - y[j])`` of each row (rows sorted, NaN last, n >= 1)."""
    total_rows, m = xs.shape
    answer = np.full(total_rows, np.nan)
    y_run_start = _run_starts(ys)
    y_run_end = _run_ends(ys)
    rid = np.arange(total_rows)  # original row of each working row
    valid_x = np.arange(m)[None, :] < n1[:, None]
    # Materialise once at most this many candidates remain: sorting them costs about one count.
    cap = n1 + n2 + 32
    r = np.arange(total_rows)
    d_min = xs[r, 0] - ys[r, n2 - 1]
    d_max = xs[r, n1 - 1] - ys[r, 0]
    # Bracket: count(lo) < k <= count(hi); the per-x counts define the candidates between.
    lo_v = np.nextafter(d_min, -np.inf)
    hi_v = d_max.copy()
    lo_c = np.zeros(total_rows, dtype=np.int64)
    hi_c = n1 * n2
    lo_cnt = np.zeros((total_rows, m), dtype=np.int64)
    hi_cnt = np.where(valid_x, n2[:, None], 0)
    lo_next = d_min.copy()  # smallest difference above lo
    hi_top = d_max.copy()  # largest difference <= hi
    stalls = np.zeros(total_rows, dtype=np.int64)

    def count(rows_: IntArray, pivot: FloatArray) -> tuple[IntArray, IntArray]:
        cnt = np.where(
            valid_x[rows_],
            _below_counts(xs[rows_], ys[rows_], pivot, y_run_start[rows_], y_run_end[rows_]),
            0,
        )
        return cnt, cnt.sum(axis=1)

    def narrow(rows_: IntArray, pivot: FloatArray, cnt: IntArray, tot: IntArray) -> None:
        top, nxt = _neighbours(xs[rows_], ys[rows_], n2[rows_], cnt, valid_x[rows_])
        up = tot >= k[rows_]
        hs, ls = rows_[up], rows_[~up]
        hi_v[hs], hi_c[hs], hi_cnt[hs], hi_top[hs] = pivot[up], tot[up], cnt[up], top[up]
        lo_v[ls], lo_c[ls], lo_cnt[ls], lo_next[ls] = pivot[~up], tot[~up], cnt[~up], nxt[~up]

    def count_narrow(rows_: IntArray, pivots: FloatArray) -> None:
        """Count at one or more pivots per row (one merge for all) and narrow the brackets."""
        if pivots.ndim == 1:
            pivots = pivots[:, None]
        inside = (pivots > lo_v[rows_, None]) & (pivots < hi_v[rows_, None])
        rr = np.broadcast_to(rows_[:, None], pivots.shape)[inside]
        pv = pivots[inside]
        if rr.size == 0:
            return
        cnt, tot = count(rr, pv)
        # Narrow with the pivots in ascending order so the tightest one wins on each side.
        order = np.argsort(pv, kind="stable")
        for sel in (order,):
            rr_o, pv_o, cnt_o, tot_o = rr[sel], pv[sel], cnt[sel], tot[sel]
            up = tot_o >= k[rr_o]
            # lower ends: keep the largest pivot below; upper ends: the smallest above
            ls = np.flatnonzero(~up)
            hs = np.flatnonzero(up)[::-1]
            for group in (ls, hs):
                if group.size:
                    narrow(rr_o[group], pv_o[group], cnt_o[group], tot_o[group])

    # Start from the coarse bracket (exact counts at two coarse quantiles) when the matrix is
    # large.
    big_rows = np.flatnonzero(hi_c > cap)
    if big_rows.size:
        g2 = coarse.shape[1]
        centre = ((k[big_rows] - 0.5) / (n1[big_rows] * n2[big_rows]) * g2).astype(np.int64)
        width = 2 * _COARSE
        pick = np.stack([np.clip(centre - width, 0, g2 - 1), np.clip(centre + width, 0, g2 - 1)], 1)
        count_narrow(big_rows, np.take_along_axis(coarse[big_rows], pick, axis=1))

    act = rid
    for _ in range(400):
        # Settle what can be settled without another count.
        same = lo_next[act] == hi_top[act]
        answer[act[same]] = hi_top[act[same]]
        small = ~same & ((hi_c[act] - lo_c[act]) <= cap[act])
        if small.any():
            sm = act[small]
            answer[sm] = _select_band(
                xs[sm], ys[sm], lo_cnt[sm], hi_cnt[sm], n2[sm], k[sm] - lo_c[sm]
            )
        act = act[~same & ~small]
        if act.size == 0:
            break
        # Interpolate in the bracket (fast on smooth data); after two stalls take the weighted
        # median of row medians, a difference itself that removes a quarter of the candidates.
        before = hi_c[act] - lo_c[act]
        frac = (k[act] - lo_c[act] - 0.5) / np.maximum(before, 1)
        with np.errstate(invalid="ignore", over="ignore"):
            pivot = lo_v[act] + (hi_v[act] - lo_v[act]) * frac
        jm = (stalls[act] >= 2) | ~np.isfinite(pivot) | (pivot <= lo_v[act]) | (pivot >= hi_v[act])
        interp = ~jm
        if interp.any():
            # Two pivots, a little below and above the interpolated rank, so that one round
            # usually closes the bracket from both sides.
            sub = act[interp]
            span = np.maximum(hi_c[sub] - lo_c[sub], 1)
            delta = np.maximum(cap[sub] // 3, 1)
            lo_rank = np.maximum(k[sub] - delta, lo_c[sub] + 1)
            hi_rank = np.minimum(k[sub] + delta, hi_c[sub] - 1)
            width_v = hi_v[sub] - lo_v[sub]
            with np.errstate(invalid="ignore", over="ignore"):
                p1 = lo_v[sub] + width_v * ((lo_rank - lo_c[sub] - 0.5) / span)
                p2 = lo_v[sub] + width_v * ((hi_rank - lo_c[sub] + 0.5) / span)
            count_narrow(sub, np.stack([p1, p2], axis=1))
        if jm.any():
            sub = act[jm]
            pv = _weighted_median_pivot(xs[sub], ys[sub], n2[sub], lo_cnt[sub], hi_cnt[sub])
            cnt, tot = count(sub, pv)
            # The pivot is a difference that may sit in a run of equal ones: count those
            # strictly below too (a three-way partition), so a run never stalls the bracket.
            below_pv = np.nextafter(pv, -np.inf)
            cnt_lt, tot_lt = count(sub, below_pv)
            hit = (tot_lt < k[sub]) & (tot >= k[sub])
            answer[sub[hit]] = pv[hit]
            up = ~hit & (tot_lt >= k[sub])
            if up.any():
                narrow(sub[up], below_pv[up], cnt_lt[up], tot_lt[up])
            dn = ~hit & ~up
            if dn.any():
                narrow(sub[dn], pv[dn], cnt[dn], tot[dn])
            stalls[sub] = 0
            keep = np.ones(act.size, dtype=bool)
            keep[np.flatnonzero(jm)[hit]] = False
        else:
            keep = np.ones(act.size, dtype=bool)
        after = hi_c[act] - lo_c[act]
        stalls[act[interp]] = np.where(
            after[interp] * 2 > before[interp], stalls[act[interp]] + 1, 0
        )
        act = act[keep]
    else:  # pragma: no cover - the guaranteed pivot makes this unreachable
        raise RuntimeError("pairwise-difference selection did not converge")
    return answer


def _neighbours(
    xs: FloatArray, ys: FloatArray, n2: IntArray, cnt: IntArray, valid_x: NDArray[np.bool_]
) -> tuple[FloatArray, FloatArray]:
    """Largest difference counted (<= pivot) and smallest not counted, from per-x counts."""
    m = xs.shape[1]
    rows = np.arange(xs.shape[0])[:, None]
    # In row i the counted differences are x[i] - y[j] for the cnt largest y.
    j_top = n2[:, None] - cnt  # index of the smallest y counted
    j_next = j_top - 1  # the largest y not counted
    has_top = valid_x & (cnt > 0)
    has_next = valid_x & (j_next >= 0)
    y_top = ys[rows, np.clip(j_top, 0, ys.shape[1] - 1)]
    y_next = ys[rows, np.clip(j_next, 0, ys.shape[1] - 1)]
    top = np.where(has_top, xs - y_top, -np.inf).max(axis=1, initial=-np.inf)
    nxt = np.where(has_next, xs - y_next, np.inf).min(axis=1, initial=np.inf)
    del m
    return top, nxt


def _weighted_median_pivot(
    xs: FloatArray, ys: FloatArray, n2: IntArray, lo_cnt: IntArray, hi_cnt: IntArray
) -> FloatArray:
    """Weighted median of the middle candidates of each x row (Johnson & Mizoguchi's pivot).

    Candidates of row i are x[i] - y[j] for j in [n2 - hi_cnt, n2 - lo_cnt); the pivot is a
    candidate itself, and at least a quarter of all candidates lie on each side of it.
    """
    rows = np.arange(xs.shape[0])[:, None]
    j_start = n2[:, None] - hi_cnt
    j_stop = n2[:, None] - lo_cnt
    weight = np.maximum(j_stop - j_start, 0)
    j_mid = np.clip((j_start + j_stop - 1) // 2, 0, ys.shape[1] - 1)
    value = np.where(weight > 0, xs - ys[rows, j_mid], np.inf)
    order = np.argsort(value, axis=1)
    w_sorted = np.take_along_axis(weight, order, axis=1)
    cum = np.cumsum(w_sorted, axis=1)
    half = (cum[:, -1] + 1) // 2
    pick = np.argmax(cum >= half[:, None], axis=1)
    return np.take_along_axis(value, order, axis=1)[np.arange(xs.shape[0]), pick]


def _select_band(
    xs: FloatArray,
    ys: FloatArray,
    lo_cnt: IntArray,
    hi_cnt: IntArray,
    n2: IntArray,
    k_in_band: IntArray,
) -> FloatArray:
    """Materialise the candidates between the brackets and pick the k-th smallest of each row."""
    rows, m = xs.shape
    j_start = (n2[:, None] - hi_cnt).ravel()
    length = np.maximum(hi_cnt - lo_cnt, 0).ravel()
    total = length.reshape(rows, m).sum(axis=1)
    owner_x = np.repeat(np.arange(rows * m), length)
    offsets = np.repeat(np.cumsum(length) - length, length)
    j = np.repeat(j_start, length) + (np.arange(owner_x.size) - offsets)
    r = owner_x // m
    vals = xs.ravel()[owner_x] - ys[r, j]
    width = int(total.max()) if rows else 0
    padded = np.full((rows, max(width, 1)), np.inf)
    row_start = np.cumsum(total) - total
    col = np.arange(owner_x.size) - np.repeat(row_start, total)
    padded[r, col] = vals
    padded.sort(axis=1)
    pick = np.clip(k_in_band - 1, 0, max(width - 1, 0))
    return padded[np.arange(rows), pick]
