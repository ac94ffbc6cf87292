"""Tests over units: canary hosts' summaries against the spread of the baseline hosts'.

Each canary summary is compared with the spread of the baseline hosts' summaries by a t-type test
(the prediction-interval argument: the baseline hosts estimate how much healthy hosts differ, with
``n_baseline - 1`` degrees of freedom), valid with one or two canary hosts and three or more
baseline hosts.  When enough hosts are present for an exact rank test to reach small p-values,
Mann-Whitney over the host summaries can replace the t-type test (:func:`use_rank_test` says
where).  Inputs are ``(metric, unit)`` arrays, NaN for a host that is not a unit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps
from scipy.special import gammaln

from canarystats.stats.mannwhitney import mann_whitney
from canarystats.stats.rows import quietly

Direction = Literal["either", "increase", "decrease"]

_DIRECTION_CODES = {"either": 0, "increase": 1, "decrease": -1}


def direction_codes(direction: Direction | Sequence[str], n_rows: int) -> NDArray[np.int64]:
    """Direction names as codes, one per metric: +1 increase, -1 decrease, 0 either.

    Examples
    --------
    >>> direction_codes("increase", 2).tolist(), direction_codes(["either", "decrease"], 2).tolist()
    ([1, 1], [0, -1])
    """
    names = [direction] * n_rows if isinstance(direction, str) else list(direction)
    if len(names) != n_rows:
        raise ValueError(f"got {len(names)} directions for {n_rows} metrics")
    try:
        return np.array([_DIRECTION_CODES[d] for d in names], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"direction must be one of {tuple(_DIRECTION_CODES)}, got {exc}") from None


def direction_names(code: NDArray[np.int64]) -> list[str]:
    """Direction names for direction codes (+1 increase, -1 decrease, 0 either).

    Examples
    --------
    >>> direction_names(np.array([1, 0, -1]))
    ['increase', 'either', 'decrease']
    """
    names = {0: "either", 1: "increase", -1: "decrease"}
    return [names[int(x)] for x in code]


def _sided_p(
    t: NDArray[np.float64], df: NDArray[np.float64], code: NDArray[np.int64]
) -> NDArray[np.float64]:
    upper = sps.t.sf(t, df)
    lower = sps.t.cdf(t, df)
    two = np.minimum(1.0, 2.0 * np.minimum(upper, lower))
    return np.where(code > 0, upper, np.where(code < 0, lower, two))


def unit_t_test(
    canary_units: ArrayLike,
    baseline_units: ArrayLike,
    *,
    direction: Direction | Sequence[str] = "either",
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """t-type test of the canary units' mean against the spread of the baseline units.

    Parameters
    ----------
    canary_units, baseline_units : array_like
        ``(metric, host)`` summaries, NaN for a host that is not a unit.
    direction : {"either", "increase", "decrease"} or sequence of them (one per metric)
        ``increase``: only a canary above the baseline counts (one-sided); ``either``: two-sided.

    Returns
    -------
    t, df, p : ndarray
        ``t = (mean(canary) - mean(baseline)) / (s_b * sqrt(1/k + 1/m))`` with ``s_b`` the standard
        deviation of the ``m`` baseline units and ``k`` canary units; ``df = m - 1``.  When the
        baseline units are all equal, ``t`` is 0 (p = 1) for an equal canary and infinite (p = 0)
        otherwise.  NaN where there are no canary units or fewer than two baseline units.

    Notes
    -----
    The canary mean and the baseline spread are independent under the null of exchangeable hosts,
    so ``t`` follows Student's t with ``m - 1`` degrees of freedom whatever the number of canary
    hosts -- the prediction-interval argument for one future observation (k = 1).  Only the
    baseline estimates the spread: a broken canary host must not widen the yardstick it is measured
    with.

    Examples
    --------
    >>> t, df, p = unit_t_test([[2.0]], [[0.0, 1.0, -1.0]])
    >>> round(float(t[0]), 3), float(df[0]), round(float(p[0]), 3)
    (1.732, 2.0, 0.225)
    """
    c = np.asarray(canary_units, dtype=np.float64)
    b = np.asarray(baseline_units, dtype=np.float64)
    if c.ndim == 1:
        c, b = c[None, :], b[None, :]
    code = direction_codes(direction, c.shape[0])
    k = np.sum(~np.isnan(c), axis=1).astype(np.float64)
    m = np.sum(~np.isnan(b), axis=1).astype(np.float64)
    cm = quietly(np.nanmean, c, axis=1)
    bm = quietly(np.nanmean, b, axis=1)
    sb = quietly(np.nanstd, b, axis=1, ddof=1)
    diff = cm - bm
    scale = np.maximum(np.abs(bm), np.abs(cm))
    # Equal-to-rounding baselines (constant series) have no spread: decide on the difference alone.
    tiny = 1e-12 * np.where(scale > 0, scale, 1.0)
    flat = sb <= tiny
    with np.errstate(divide="ignore", invalid="ignore"):
        t = diff / (sb * np.sqrt(1.0 / k + 1.0 / m))
        t = np.where(flat, np.where(np.abs(diff) <= tiny, 0.0, np.sign(diff) * np.inf), t)
    df = m - 1.0
    bad = (k < 1) | (m < 2)
    t[bad] = np.nan
    df[bad] = np.nan
    p = _sided_p(t, np.where(bad, 1.0, df), code)
    p[bad] = np.nan
    return t, df, p


def use_rank_test(
    k: NDArray[np.int64], m: NDArray[np.int64], code: NDArray[np.int64]
) -> NDArray[np.bool_]:
    """Whether Mann-Whitney over ``k`` canary and ``m`` baseline units can reject, per metric.

    Parameters
    ----------
    k, m : ndarray of int
        Canary and baseline units of each metric.
    code : ndarray of int
        Direction codes (:func:`direction_codes`); 0 is two-sided.

    Returns
    -------
    ndarray of bool
        True where the rank test's smallest possible p-value (every canary unit beyond every
        baseline unit) is at most 0.01, so it can still pass a multiplicity-adjusted threshold.

    Notes
    -----
    Two-sided, that takes 19 baseline hosts for two canary hosts and 199 for one; below that
    the t-type test is the only one that can reject at all.

    Examples
    --------
    >>> use_rank_test(np.array([2, 2]), np.array([18, 19]), np.array([0, 0])).tolist()
    [False, True]
    """
    n = (k + m).astype(np.float64)
    log_comb = gammaln(n + 1) - gammaln(k + 1.0) - gammaln(m + 1.0)
    smallest = np.where(code != 0, 1.0, 2.0) * np.exp(-log_comb)
    smallest[k < 1] = 1.0
    return smallest <= 0.01 * (1 + 1e-9)  # exp(-log C) is not exact


def unit_rank_test(
    canary_units: NDArray[np.float64], baseline_units: NDArray[np.float64], code: NDArray[np.int64]
) -> NDArray[np.float64]:
    """Mann-Whitney p-value of the canary units against the baseline units, per metric.

    Parameters
    ----------
    canary_units, baseline_units : ndarray
        ``(metric, unit)`` summaries, NaN for a host that is not a unit.
    code : ndarray of int
        Direction codes (:func:`direction_codes`): +1 tests for a greater canary, -1 for a
        smaller one, 0 two-sided.

    Returns
    -------
    ndarray
        Exact p-values where there are no ties (as :func:`canarystats.stats.mann_whitney`
        decides); NaN where a side has no unit.

    Examples
    --------
    >>> p = unit_rank_test(np.array([[9.0, 8.0]]), np.array([[1.0, 2.0, 3.0]]), np.array([1]))
    >>> round(float(p[0]), 3)
    0.1
    """
    out = np.full(canary_units.shape[0], np.nan)
    for sign, alt in ((0, "two-sided"), (1, "greater"), (-1, "less")):
        rows = code == sign
        if rows.any():
            res = mann_whitney(canary_units[rows], baseline_units[rows], alternative=alt)  # type: ignore[arg-type]
            out[rows] = np.asarray(res.p_value, dtype=np.float64)
    return out
