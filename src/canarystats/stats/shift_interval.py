"""The confidence interval of a host test's shift: canary hosts' mean against the baseline's.

The host-level tests (:func:`canarystats.stats.host_test` on window levels,
:func:`canarystats.stats.host_change.host_change_test` on each host's change since the canary
start) compare the canary hosts' mean summary with the baseline hosts' by a t-type statistic
on both cohorts' pooled spread, ``k + m - 2`` degrees of freedom
(:func:`canarystats.stats.unit_tests.unit_t_test`; the location adds the worst canary host,
:func:`canarystats.stats.unit_tests.unit_location_test`).  Inverting the mean's statistic gives
the interval of the shift, so the interval and that test never disagree: at ``confidence``
``1 - a``, a two-sided interval clears 0 exactly where the mean's two-sided p-value is below
``a``.

Where the change of a positive metric is a log ratio the interval is found on that scale and
carried back to the metric's unit at the baseline's level, like the shift itself.  Rows whose
location was tested by ranks (Mann-Whitney over host summaries) or not at all have no interval
(NaN): a rank test's shift interval over a handful of hosts would be too coarse to show.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps

from canarystats.stats.hosts import HostTestResult
from canarystats.stats.unit_tests import pooled_sd

__all__ = ["shift_interval"]


def shift_interval(
    result: HostTestResult, *, confidence: float, ratio_rows: ArrayLike | None = None
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Two-sided ``confidence`` interval of each row's shift, in the metric's unit.

    Parameters
    ----------
    result : HostTestResult
        A host test's result; its ``effect_abs`` is the shift the interval surrounds.
    confidence : float
        Two-sided confidence level, in (0, 1).
    ratio_rows : array_like of bool, optional
        Rows whose test compared log ratios (the change test of a positive metric): the shift
        is ``centre * expm1(d)`` of a difference ``d`` of log ratios.  Default: none.

    Returns
    -------
    (low, high) : ndarray
        Per row; NaN where the location was not tested by the t-type statistic.

    Examples
    --------
    >>> from canarystats.stats import host_test
    >>> canary = [[[12.0, 12.5, 11.5]]]
    >>> baseline = [[[10.0, 10.5, 9.5], [10.2, 10.1, 9.9], [9.8, 9.9, 10.1]]]
    >>> r = host_test(canary, baseline, direction="either", trend=False, jitter=False)
    >>> low, high = shift_interval(r, confidence=0.95)
    >>> round(float(r.effect_abs[0]), 2), round(float(low[0]), 2), round(float(high[0]), 2)
    (2.0, 1.67, 2.33)
    """
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence must be in (0, 1), got {confidence!r}")
    rows = np.asarray(result.effect_abs, dtype=np.float64).shape[0]
    ratio = (
        np.zeros(rows, dtype=bool)
        if ratio_rows is None
        else np.asarray(ratio_rows, dtype=bool).reshape(rows)
    )
    k = np.asarray(result.n_canary_hosts, dtype=np.float64)
    m = np.asarray(result.n_baseline_hosts, dtype=np.float64)
    df = np.asarray(result.df, dtype=np.float64)
    scale = pooled_sd(result.canary.location, result.baseline.location)
    centre = np.abs(np.asarray(result.baseline_centre, dtype=np.float64))
    shift = np.asarray(result.effect_abs, dtype=np.float64)
    tested = (np.asarray(result.location_test).astype(str) == "t") & (k >= 1) & (m >= 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        q = sps.t.ppf(0.5 + confidence / 2.0, np.where(tested, df, 1.0))
        half = q * scale * np.sqrt(1.0 / k + 1.0 / m)
        # On the scale the test compared: log ratios where the row's changes are ratios.
        d = np.where(ratio, np.log1p(shift / centre), shift)
        low = np.where(ratio, centre * np.expm1(d - half), d - half)
        high = np.where(ratio, centre * np.expm1(d + half), d + half)
    bad = ~tested | ~np.isfinite(low) | ~np.isfinite(high)
    low[bad] = np.nan
    high[bad] = np.nan
    return low, high
