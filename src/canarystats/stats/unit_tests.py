"""Tests over units: canary hosts' summaries against the baseline hosts'.

The canary hosts' mean summary is compared with the baseline hosts' by a t-type test whose
yardstick is how much healthy hosts differ: the baseline hosts' spread alone (the
prediction-interval argument, ``n_baseline - 1`` degrees of freedom) or both cohorts' pooled
(Student's two-sample t, as ``scipy.stats.ttest_ind`` and R's ``t.test(var.equal = TRUE)``),
valid with one or two canary hosts and three or more baseline hosts.  When enough hosts are
present for an exact rank test to reach small p-values, Mann-Whitney over the host summaries
can replace the t-type test (:func:`use_rank_test` says where).  Inputs are ``(metric, unit)``
arrays, NaN for a host that is not a unit.
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
#: the yardstick of :func:`unit_t_test`
Spread = Literal["baseline", "pooled"]
#: the yardstick of the judge's host tests of gauges (levels, and each host's change): both
#: cohorts' pooled spread; ``docs/methods.md`` has the measurements behind the choice
GAUGE_SPREAD: Spread = "pooled"
#: :func:`unit_location_test`'s weight of the canary hosts' mean; its worst host has the rest
MEAN_WEIGHT = 0.75

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
    spread: Spread = "baseline",
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """t-type test of the canary units' mean against the baseline units' mean.

    Parameters
    ----------
    canary_units, baseline_units : array_like
        ``(metric, host)`` summaries, NaN for a host that is not a unit.
    direction : {"either", "increase", "decrease"} or sequence of them (one per metric)
        ``increase``: only a canary above the baseline counts (one-sided); ``either``: two-sided.
    spread : {"baseline", "pooled"}
        The yardstick: the baseline units' standard deviation (``m - 1`` degrees of freedom),
        or both cohorts' pooled around their own means (Student's two-sample t, ``k + m - 2``
        degrees of freedom, :func:`pooled_sd`).

    Returns
    -------
    t, df, p : ndarray
        ``t = (mean(canary) - mean(baseline)) / (s * sqrt(1/k + 1/m))`` with ``k`` canary and
        ``m`` baseline units.  When the spread is 0, ``t`` is 0 (p = 1) for an equal canary
        and infinite (p = 0) otherwise.  NaN where there are no canary units or fewer than two
        baseline units.

    Notes
    -----
    Under the null of exchangeable hosts the canary mean and either spread are independent, so
    ``t`` follows Student's t on its degrees of freedom whatever the number of canary hosts.
    The baseline's spread alone is the prediction-interval argument (a broken canary host
    cannot widen the yardstick it is measured with); the pooled spread has ``k - 1`` more
    degrees of freedom and is not thrown by one canary host that always differed from the
    rest, which the baseline's alone reads as a regression.  The judge's host tests of gauges
    use the pooled spread (``docs/methods.md`` has the measurements), the count test's hosts
    part the baseline's.

    Examples
    --------
    >>> t, df, p = unit_t_test([[2.0]], [[0.0, 1.0, -1.0]])
    >>> round(float(t[0]), 3), float(df[0]), round(float(p[0]), 3)
    (1.732, 2.0, 0.225)
    >>> t, df, p = unit_t_test([[2.0, 3.0]], [[0.0, 1.0, -1.0]], spread="pooled")
    >>> round(float(t[0]), 3), float(df[0]), round(float(p[0]), 3)
    (3.0, 3.0, 0.058)
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
    if spread == "pooled":
        sb, df = pooled_sd(c, b), k + m - 2.0
    elif spread == "baseline":
        sb, df = quietly(np.nanstd, b, axis=1, ddof=1), m - 1.0
    else:
        raise ValueError(f"spread must be 'baseline' or 'pooled', got {spread!r}")
    with np.errstate(divide="ignore", invalid="ignore"):
        t = _studentized(cm - bm, sb, np.sqrt(1.0 / k + 1.0 / m), np.fmax(np.abs(bm), np.abs(cm)))
    bad = (k < 1) | (m < 2)
    t[bad] = np.nan
    df[bad] = np.nan
    p = _sided_p(t, np.where(bad, 1.0, df), code)
    p[bad] = np.nan
    return t, df, p


def unit_location_test(
    canary_units: ArrayLike,
    baseline_units: ArrayLike,
    *,
    direction: Direction | Sequence[str] = "either",
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """The host tests' location: the canary hosts' mean on the pooled spread, or its worst host.

    Two valid tests, combined by weighted Bonferroni (``MEAN_WEIGHT`` and the rest):

    * the canary hosts' mean against the baseline's, on both cohorts' pooled spread
      (:func:`unit_t_test` with ``spread="pooled"``): a regression every canary host shares;
    * the worst canary host against the baseline hosts' spread alone (:func:`worst_unit_test`):
      a regression that shows on one canary host, which the pooled spread absorbs (one host of
      three twice as slow: a mean shift of a third, and a yardstick widened by the same host).

    With one canary host the two are the same test, so it alone decides.

    Returns
    -------
    t, df, p : ndarray
        The mean test's statistic and degrees of freedom, and the combined p-value.

    Examples
    --------
    One canary host of three twice its peers' level:

    >>> canary, baseline = [[2.0, 1.0, 1.05]], [[1.0, 0.95, 1.02, 0.98, 1.03]]
    >>> float(unit_t_test(canary, baseline, direction="increase", spread="pooled")[2][0]) > 0.05
    True
    >>> float(unit_location_test(canary, baseline, direction="increase")[2][0]) < 0.001
    True
    """
    t, df, p_mean = unit_t_test(canary_units, baseline_units, direction=direction, spread="pooled")
    p_worst = worst_unit_test(canary_units, baseline_units, direction=direction)
    k = np.sum(~np.isnan(np.atleast_2d(np.asarray(canary_units, dtype=np.float64))), axis=1)
    both = np.fmin(p_mean / MEAN_WEIGHT, p_worst / (1.0 - MEAN_WEIGHT))
    p = np.where((k >= 2) & np.isfinite(p_mean), np.minimum(1.0, both), p_mean)
    return t, df, np.asarray(p, dtype=np.float64)


def worst_unit_test(
    canary_units: ArrayLike,
    baseline_units: ArrayLike,
    *,
    direction: Direction | Sequence[str] = "either",
) -> NDArray[np.float64]:
    """p-value of the most extreme canary host against the baseline hosts' spread alone.

    Each canary host ``i`` is one future observation of the baseline hosts' distribution under
    the null: ``t_i = (c_i - mean(baseline)) / (s_b sqrt(1 + 1/m))`` on ``m - 1`` degrees of
    freedom (the prediction interval), and the smallest of the ``k`` p-values times ``k``
    (Bonferroni) is the p-value.  NaN without canary hosts or with fewer than two baseline
    hosts.

    Examples
    --------
    >>> p = worst_unit_test([[2.0, 1.0]], [[1.0, 0.9, 1.1, 1.0]], direction="increase")
    >>> bool(p[0] < 0.01)
    True
    """
    c = np.atleast_2d(np.asarray(canary_units, dtype=np.float64))
    b = np.atleast_2d(np.asarray(baseline_units, dtype=np.float64))
    code = direction_codes(direction, c.shape[0])
    k = np.sum(~np.isnan(c), axis=1).astype(np.float64)
    m = np.sum(~np.isnan(b), axis=1).astype(np.float64)
    bm = quietly(np.nanmean, b, axis=1)[:, None]
    sb = quietly(np.nanstd, b, axis=1, ddof=1)[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        t = _studentized(
            c - bm, sb, np.sqrt(1.0 + 1.0 / m)[:, None], np.fmax(np.abs(bm), np.abs(c))
        )
    df = np.broadcast_to(np.where(m >= 2, m - 1.0, 1.0)[:, None], t.shape)
    rows = np.broadcast_to(code[:, None], t.shape)
    p_host = _sided_p(t.ravel(), df.ravel(), rows.ravel()).reshape(t.shape)
    p_host = np.where(np.isnan(c), np.inf, p_host)
    with np.errstate(invalid="ignore"):  # no canary host: 0 * inf, NaN below
        p = np.minimum(1.0, k * np.min(p_host, axis=1, initial=np.inf))
    p[(k < 1) | (m < 2) | ~np.isfinite(p)] = np.nan
    return np.asarray(p, dtype=np.float64)


def _studentized(
    diff: NDArray[np.float64],
    spread: NDArray[np.float64],
    factor: NDArray[np.float64],
    scale: NDArray[np.float64],
) -> NDArray[np.float64]:
    """``diff / (spread * factor)``; where the spread is rounding error of ``scale`` (constant
    series), decided on the difference alone: 0 for an equal canary, else infinite."""
    tiny = 1e-12 * np.where(scale > 0, scale, 1.0)
    t = diff / (spread * factor)
    flat = np.where(np.abs(diff) <= tiny, 0.0, np.sign(diff) * np.inf)
    return np.asarray(np.where(spread <= tiny, flat, t), dtype=np.float64)


def pooled_sd(canary_units: ArrayLike, baseline_units: ArrayLike) -> NDArray[np.float64]:
    """Both cohorts' standard deviation pooled around each cohort's own mean, per row.

    ``sqrt((SS_canary + SS_baseline) / (k + m - 2))``: a single canary host adds no squares
    (and no degree of freedom).  NaN where ``k + m - 2 < 1``.

    Examples
    --------
    >>> round(float(pooled_sd([[2.0, 3.0]], [[0.0, 1.0, -1.0]])[0]), 4)
    0.9129
    """
    c = np.atleast_2d(np.asarray(canary_units, dtype=np.float64))
    b = np.atleast_2d(np.asarray(baseline_units, dtype=np.float64))
    k = np.sum(~np.isnan(c), axis=1).astype(np.float64)
    m = np.sum(~np.isnan(b), axis=1).astype(np.float64)
    squares = np.zeros(c.shape[0])
    for x in (c, b):
        centre = quietly(np.nanmean, x, axis=1)
        squares = squares + np.nansum((x - centre[:, None]) ** 2, axis=1)
    df = k + m - 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(df >= 1, np.sqrt(squares / df), np.nan)


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
