"""Ruling a regression out: is the canary's shift surely smaller than the minimum practical effect?

A regression test asks whether the canary is worse than the baseline; an early pass needs the
converse: evidence that the canary is *not worse by the minimum practical effect or more*.  This
is a non-inferiority test (a one-sided test against a margin): with the canary hosts' mean unit
``c``, the baseline hosts' ``b`` and the pooled spread ``s`` of both cohorts' units, the null
``c - b >= margin`` (harm upward) is rejected when ``t = (c - b - margin) / (s sqrt(1/k + 1/m))``
is far below 0, on ``k + m - 2`` degrees of freedom (Student's two-sample t against a margin).
For a metric where harm goes either way both margins must be ruled out (an intersection-union
test: the larger of the two p-values).

The test to fail (:func:`canarystats.stats.unit_tests.unit_location_test`) pools the spread too,
and adds the worst canary host against the baseline's spread alone, so that one broken canary
host cannot hide in the yardstick it widens.  Ruling a regression out needs no such part:
canary hosts that disagree (one slow, the others fine) are less evidence of "no regression",
so their spread counts.  Under a shift shared by every canary host the pooled t is exact, with
more degrees of freedom than the baseline's alone;
simulated with canary hosts twice as noisy as the baseline's (3 + 6 hosts at the margin, a
nominal 3.5 %), the baseline's spread alone ruled the canary out 12 % of the time, the pooled
spread 7.7 %; one broken host carrying the whole margin, 3.5 % against 0.2 %.

For a count, :func:`rate_margin_test` does the same on the exposure-adjusted rate ratio: the
null "the canary's rate is at least ``tolerance`` times the baseline's" is rejected when the
log of the observed ratio lies far enough below ``log(tolerance)`` (a Wald test on the two
Poisson totals; Gu, Ng, Tang & Schucany 2008 compare it with the exact conditional test).

References
----------
Wellek, S. (2010). Testing Statistical Hypotheses of Equivalence and Noninferiority, 2nd ed.
Berger, R. L. (1982). Multiparameter hypothesis testing and acceptance sampling.
Technometrics 24(4).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from canarystats.stats.rows import quietly
from canarystats.stats.unit_tests import Direction, direction_codes, pooled_sd

__all__ = ["rate_margin_test", "unit_margin_test"]


def unit_margin_test(
    canary_units: ArrayLike,
    baseline_units: ArrayLike,
    margin: float | ArrayLike,
    *,
    direction: Direction | Sequence[str] = "either",
) -> NDArray[np.float64]:
    """p-values that the canary's shift is smaller than ``margin`` in the direction of harm.

    Parameters
    ----------
    canary_units, baseline_units : array_like
        ``(metric, host)`` summaries (levels, or each host's change), NaN for a non-unit.
    margin : float or array_like
        The minimum practical effect per metric, on the units' scale, at least 0.
    direction : {"either", "increase", "decrease"} or sequence of them
        Which shift is harmful.

    Returns
    -------
    ndarray
        Per metric, the p-value of the null "the canary is worse by ``margin`` or more"; small
        when the data rule that out (Student's two-sample t with the pooled spread of both
        cohorts' units, ``k + m - 2`` degrees of freedom).  NaN without canary units or with
        fewer than two baseline units.  Units without spread decide on the shift alone (0 or 1).

    Examples
    --------
    A canary host level with the baseline hosts, against a margin of 2 units:

    >>> p = unit_margin_test([[10.1]], [[10.0, 9.9, 10.2, 9.8, 10.1]], 2.0, direction="increase")
    >>> bool(p[0] < 0.01)
    True
    >>> bool(unit_margin_test([[12.5]], [[10.0, 9.9, 10.2, 9.8, 10.1]], 2.0,
    ...                       direction="increase")[0] > 0.5)
    True
    """
    c = np.atleast_2d(np.asarray(canary_units, dtype=np.float64))
    b = np.atleast_2d(np.asarray(baseline_units, dtype=np.float64))
    rows = c.shape[0]
    code = direction_codes(direction, rows)
    d = np.broadcast_to(np.asarray(margin, dtype=np.float64), (rows,))
    if np.any(d < 0):
        raise ValueError("margin must be at least 0")
    k = np.sum(~np.isnan(c), axis=1).astype(np.float64)
    m = np.sum(~np.isnan(b), axis=1).astype(np.float64)
    cm, bm = quietly(np.nanmean, c, axis=1), quietly(np.nanmean, b, axis=1)
    diff = cm - bm
    df = k + m - 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        se = pooled_sd(c, b) * np.sqrt(1.0 / k + 1.0 / m)
        up = _below(diff - d, se, df)  # null: shift >= +margin
        down = _below(-(diff + d), se, df)  # null: shift <= -margin
    p = np.where(code > 0, up, np.where(code < 0, down, np.fmax(up, down)))
    p[(k < 1) | (m < 2)] = np.nan
    return np.asarray(p, dtype=np.float64)


def rate_margin_test(
    canary_events: ArrayLike,
    canary_exposure: ArrayLike,
    baseline_events: ArrayLike,
    baseline_exposure: ArrayLike,
    tolerance: float,
    *,
    direction: Direction = "increase",
    canary_burstiness: ArrayLike = 1.0,
    baseline_burstiness: ArrayLike = 1.0,
    min_diff: ArrayLike = 0.0,
) -> NDArray[np.float64]:
    """z-statistics that a count's rate ratio lies inside ``tolerance`` in the direction of harm.

    Parameters
    ----------
    canary_events, canary_exposure, baseline_events, baseline_exposure : array_like
        Totals per metric (any shape, broadcast together): events, and exposure in a unit
        proportional to the expected events (requests, host-buckets).
    tolerance : float
        The rate ratio (canary over baseline) above 1 that counts as a regression; harm
        downward is the ratio ``1 / tolerance``.
    direction : {"either", "increase", "decrease"}
        Which change is harmful.
    canary_burstiness, baseline_burstiness : array_like
        Each side's variance of events over Poisson's, at least 1
        (:func:`canarystats.stats.counts.burstiness`): events that come in bursts are fewer
        independent witnesses, and ruling a regression out on them as if they were Poisson
        passes a canary at its tolerance far more often than the level says (a third of the
        time at a nominal 10 % with bursts of five).
    min_diff : array_like
        The smallest difference of rates (events per unit of exposure: the metric's absolute
        minimum effect) that is a regression, default 0; a regression must reach both margins.

    Returns
    -------
    ndarray
        Large when the data rule a regression of ``tolerance`` or more out: ``(log tolerance -
        log ratio) / se`` for harm upward, with half an event added to each side (so an empty
        side is finite) and ``se^2 = b_c / c + b_b / b`` (quasi-Poisson); for ``either`` the
        smaller of the two sides.  Where ``min_diff`` is the wider margin at the baseline's
        rate, ``(rate_b + min_diff - rate_c) / se`` with the variance at the margin
        (score-type), or the ratio's statistic where larger.  NaN without exposure on either
        side.  Approximately standard normal at the margin, so it can be read against a
        group-sequential boundary (:mod:`canarystats.stats.sequential`).

    Examples
    --------
    900 errors in 300,000 requests beside 1,800 in 600,000: the same rate, and a rise of 25 %
    ruled out far beyond z = 2:

    >>> float(rate_margin_test(900, 3e5, 1800, 6e5, 1.25).round(2))
    5.46
    >>> bool(rate_margin_test(9, 3e3, 18, 6e3, 1.25) < 1)
    True

    The same errors in bursts weighing ten events each rule out far less:

    >>> float(rate_margin_test(900, 3e5, 1800, 6e5, 1.25, canary_burstiness=10,
    ...                        baseline_burstiness=10).round(2))
    1.73

    Three errors in a day of host-seconds beside one: a ratio of 1.25 is not ruled out, a rise
    of 1 error an hour (1 / 3600 per host-second) is:

    >>> bool(rate_margin_test(3, 86400, 1, 86400, 1.25) < 0)
    True
    >>> bool(rate_margin_test(3, 86400, 1, 86400, 1.25, min_diff=1 / 3600) > 3)
    True
    """
    c, ec, b, eb, bc, bb, d = np.broadcast_arrays(
        *(
            np.asarray(x, dtype=np.float64)
            for x in (
                canary_events,
                canary_exposure,
                baseline_events,
                baseline_exposure,
                canary_burstiness,
                baseline_burstiness,
                min_diff,
            )
        )
    )
    _check_margins(bc, bb, tolerance, d)
    code = int(direction_codes(direction, 1)[0])
    usable = (ec > 0) & (eb > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        rate_c, rate_b = (c + 0.5) / ec, (b + 0.5) / eb
        log_ratio = np.log(rate_c) - np.log(rate_b)
        se = np.sqrt(bc / (c + 0.5) + bb / (b + 0.5))
    room = np.log(tolerance)
    up = (room - log_ratio) / se  # rules out a ratio of tolerance or more
    down = (log_ratio + room) / se  # rules out a ratio of 1 / tolerance or less
    if np.any(d > 0):
        up, down = _wider_absolute(up, down, rate_c, rate_b, (ec, eb, bc, bb), d, tolerance)
    z = up if code > 0 else down if code < 0 else np.fmin(up, down)
    return np.asarray(np.where(usable, z, np.nan), dtype=np.float64)


def _check_margins(
    bc: NDArray[np.float64], bb: NDArray[np.float64], tolerance: float, d: NDArray[np.float64]
) -> None:
    if np.any(bc < 1) or np.any(bb < 1):
        raise ValueError("burstiness must be at least 1")
    if not tolerance > 1:
        raise ValueError("tolerance must be above 1")
    if not np.all(d >= 0):
        raise ValueError("min_diff must be at least 0")


def _wider_absolute(
    up: NDArray[np.float64],
    down: NDArray[np.float64],
    rate_c: NDArray[np.float64],
    rate_b: NDArray[np.float64],
    weights: tuple[NDArray[np.float64], ...],
    d: NDArray[np.float64],
    tolerance: float,
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The statistics of :func:`rate_margin_test` where the absolute margin is the wider one.

    There the regression to rule out is a difference of at least ``d`` (on the rates' own
    scale).  Either statistic is valid (the harm lies beyond both margins); the larger keeps a
    wider margin from ever ruling out less than a narrower one.  The variance is taken at the
    margin (the canary's rate there), not at the estimate: a canary with fewer events than the
    margin allows would otherwise look surer than it is.
    """
    ec, eb, bc, bb = weights
    with np.errstate(divide="ignore", invalid="ignore"):
        se_up = np.sqrt(bc * (rate_b + d) / ec + bb * rate_b / eb)
        se_down = np.sqrt(bc * np.fmax(rate_b - d, 0.0) / ec + bb * rate_b / eb)
        up_diff, down_diff = (rate_b + d - rate_c) / se_up, (rate_c - rate_b + d) / se_down
    up = np.where(d > (tolerance - 1) * rate_b, np.fmax(up, up_diff), up)
    down = np.where(d > (1 - 1 / tolerance) * rate_b, np.fmax(down, down_diff), down)
    return up, down


def _below(
    x: NDArray[np.float64], se: NDArray[np.float64], df: NDArray[np.float64]
) -> NDArray[np.float64]:
    """P(T <= x / se) with T ~ t(df): small when ``x`` is surely below 0; exact 0/1 for se = 0."""
    flat = ~(se > 0)
    t = np.where(flat, 0.0, x / np.where(flat, 1.0, se))
    p = sps.t.cdf(t, np.where(df >= 1, df, 1.0))
    return np.where(flat, np.where(x < 0, 0.0, 1.0), p)
