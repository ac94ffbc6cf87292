"""Host window summaries: one number per host and question, the units of the host-level tests.

Points from one host are not independent witnesses: hosts of one service differ from each other
(placement, cache state, traffic share), and points within a host are autocorrelated.  So each
host contributes one number per question:

* **location** -- the host's mean (or median) over the window;
* **trend** -- how far the host moved through the window (least-squares slope times the window
  length, in the metric's units): a memory leak climbing steadily, or a host degrading late in the
  window, while a daily ramp shared by every host cancels out.  ``trend="late"`` fits the slope
  to the later half of the window only, so a host that is still climbing at the end (a leak)
  counts and one that climbed back after a restart and levelled off (caches and memory
  re-growing) does not;
* **end** -- the level the host's fitted line reaches at the end of the window, compared with the
  host's own past by the change test;
* **jitter** -- the host's step-to-step variation: a crash loop that flaps, a host that
  oscillates.  ``jitter="rms"`` is the root mean square of successive differences over sqrt(2)
  (von Neumann's estimator of the standard deviation that ignores slow movement);
  ``jitter="robust"`` is the median absolute successive difference scaled to the same standard
  deviation for Gaussian noise (x 1.0483), so one latency spike does not make a host "jittery".

Two diagnostics say how far pooling points would mislead: the share of the variance that lies
between hosts, and the lag-1 autocorrelation of the points within a host.

Inputs are 3-D arrays ``(metric, host, time)``, NaN-padded (NaN = missing point, a host row of
all NaN = host absent); the time columns are the aligned grid of the window.

For planning, :func:`window_means` and :func:`window_changes` cut one metric's ``(host, time)``
history of healthy hosts into every window of a given length: how much hosts' units differ at
that length is what the tests' power rests on.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from typing import Literal

import numpy as np
from numpy.typing import ArrayLike, NDArray

from canarystats.stats.rows import as_cube, quietly

Location = Literal["mean", "median"]
Jitter = Literal["rms", "robust"]
Trend = Literal["window", "late"]

#: median |x_t - x_(t-1)| of Gaussian noise of sd 1 is 0.6745 * sqrt(2); its inverse scales the
#: robust jitter to the standard deviation the root-mean-square estimator gives
_ROBUST_JITTER_SCALE = 1.0 / (0.6744897501960817 * np.sqrt(2.0))
#: share of the window, at its end, that the late trend is fitted to
LATE_SHARE = 0.5


@dataclass(frozen=True)
class HostSummaries:
    """Per-host window summaries, each an array ``(metric, host)``; NaN where a host lacks data.

    Attributes
    ----------
    location : ndarray
        Mean (or median) of each host's points in the window.
    trend : ndarray
        Least-squares slope of the host's points against the time column, times the number of
        steps between the metric's first and last observed column: the fitted rise across the
        window, in the metric's units.
        NaN for hosts with fewer than ``min_trend_points`` points.
    spread : ndarray
        Sample standard deviation (n-1) of the host's points.
    jitter : ndarray
        Root mean square of the differences between consecutive points over sqrt(2): the
        standard deviation of fast, step-to-step movement.  NaN with fewer than ``min_points``
        consecutive pairs.
    n_points : ndarray of int
        Non-missing points of each host.
    end : ndarray
        The host's fitted level at the last observed column of the window (from the line the
        trend is fitted with); NaN where the trend is.
    """

    location: NDArray[np.float64]
    trend: NDArray[np.float64]
    spread: NDArray[np.float64]
    jitter: NDArray[np.float64]
    n_points: NDArray[np.int64]
    end: NDArray[np.float64] | None = None


def summarize_hosts(
    values: ArrayLike,
    *,
    location: Location = "mean",
    min_points: int = 3,
    min_trend_points: int = 6,
    jitter: Jitter = "rms",
    trend: Trend = "window",
    robust_rows: ArrayLike | None = None,
) -> HostSummaries:
    """Summarize each host's window: location, rise across the window, spread, jitter, count.

    Parameters
    ----------
    values : array_like
        ``(metric, host, time)`` points, NaN-padded; a 2-D ``(host, time)`` array is one metric.
        The time columns are the aligned grid of the window, equally spaced.
    location : {"mean", "median"}
        Per-host location.  The mean adds up what a host did (errors, latency); the median
        resists a single spike.
    min_points : int
        Hosts with fewer non-missing points get NaN summaries (they are not units).
    min_trend_points : int
        Hosts with fewer points get a NaN trend: a slope through a handful of points is noise.
    jitter : {"rms", "robust"}
        How step-to-step variation is measured (see the module's notes).
    trend : {"window", "late"}
        Fit the trend to the whole window, or to its later half only (see the module's notes);
        either way the rise is expressed across the whole observed span.
    robust_rows : array_like of bool, optional
        Rows (metrics) where ``location="median"`` and ``jitter="robust"`` apply; the others
        get the mean and the root-mean-square jitter.  A median, or a median step, of discrete
        data (whole numbers, many zeros) is often exactly the same on every host, which leaves
        no spread between hosts to compare with (:func:`coarse_median_rows`).  Default: every row.

    Returns
    -------
    HostSummaries

    Examples
    --------
    >>> s = summarize_hosts([[[1.0, 2.0, 3.0], [5.0, 5.0, 5.0]]], min_trend_points=3)
    >>> s.location.tolist(), s.trend.tolist()
    ([[2.0, 5.0]], [[2.0, 0.0]])
    """
    if location not in ("mean", "median"):
        raise ValueError(f"location must be 'mean' or 'median', got {location!r}")
    if jitter not in ("rms", "robust") or trend not in ("window", "late"):
        raise ValueError("jitter must be 'rms' or 'robust' and trend 'window' or 'late'")
    v = as_cube(values, "values")
    present = ~np.isnan(v)
    n = present.sum(axis=2)
    robust = (
        np.ones(v.shape[0], dtype=bool)
        if robust_rows is None
        else np.asarray(robust_rows, dtype=bool).reshape(v.shape[0])
    )
    loc = quietly(np.nanmean, v, axis=2)
    if location == "median" and robust.any():
        loc[robust] = quietly(np.nanmedian, v[robust], axis=2)
    spread = quietly(np.nanstd, v, axis=2, ddof=1)
    # The rise is measured across the cohort's observed span of the window (the same for every
    # host of the metric), so trends of hosts with gaps stay comparable and NaN padding at the end
    # of a short window does not stretch it.
    cols = np.any(present, axis=1)
    first = np.argmax(cols, axis=1)
    last = v.shape[2] - 1 - np.argmax(cols[:, ::-1], axis=1)
    fitted = present
    if trend == "late":
        t = np.arange(v.shape[2], dtype=np.float64)
        cut = first + (1.0 - LATE_SHARE) * (last - first)
        fitted = present & (t[None, None, :] >= cut[:, None, None])
    slope, end, sxx = _line(v, fitted, last)
    trend_ = slope * np.maximum(last - first, 0)[:, None]
    few = n < min_points
    loc[few] = np.nan
    spread[few] = np.nan
    no_trend = (fitted.sum(axis=2) < max(min_trend_points, min_points)) | (sxx == 0)
    trend_[no_trend] = np.nan
    end[no_trend] = np.nan
    step = np.diff(v, axis=2)
    pairs = np.sum(~np.isnan(step), axis=2)
    jit = np.sqrt(quietly(np.nanmean, step * step, axis=2) / 2.0)
    if jitter == "robust" and robust.any():
        jit[robust] = quietly(np.nanmedian, np.abs(step[robust]), axis=2) * _ROBUST_JITTER_SCALE
    jit[pairs < min_points] = np.nan
    return HostSummaries(
        location=loc,
        trend=trend_,
        spread=spread,
        jitter=jit,
        n_points=n.astype(np.int64),
        end=end,
    )


def _line(
    v: NDArray[np.float64], points: NDArray[np.bool_], last: NDArray[np.int64]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Least-squares slope of each host's ``points`` against the time column, the fitted level
    at column ``last`` of its metric, and the sum of squared time deviations (0: no slope)."""
    t = np.arange(v.shape[2], dtype=np.float64)
    # Least squares over each host's own points: centre time and value on that host's points.
    t_mean = quietly(np.nanmean, np.where(points, t, np.nan), axis=2)
    v_mean = quietly(np.nanmean, np.where(points, v, np.nan), axis=2)
    dt = np.where(points, t - t_mean[..., None], 0.0)
    dv = np.where(points, v - v_mean[..., None], 0.0)
    sxx = np.sum(dt * dt, axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.sum(dt * dv, axis=2) / sxx
        end = v_mean + slope * (last[:, None] - t_mean)
    return slope, end, sxx


def coarse_median_rows(*cubes: ArrayLike) -> NDArray[np.bool_]:
    """Rows of whole numbers where most hosts' medians equal another host's: a median too coarse
    to tell the hosts apart.

    A median of whole numbers (jobs per bucket, queue depths) is one of them, so hosts of one
    service often share it exactly: every baseline host's median queue depth is 6, and a canary
    at 7 stands out from a spread of zero though the means (6.0-6.4 against 6.4) say nothing
    happened.  Such rows are summarised by the mean and the root-mean-square jitter instead
    (``robust_rows`` of :func:`summarize_hosts`).  Whole numbers whose medians differ from host
    to host (requests in thousands, memory in bytes) keep the median, and so do rounded values
    such as latency percentiles from a histogram's buckets, whose spikes the median resists.

    Parameters
    ----------
    *cubes : array_like
        ``(metric, host, time)`` NaN-padded, the same rows in each; every host of every cube
        (a cohort, a window) contributes its median.

    Returns
    -------
    ndarray of bool
        Per row: every value is a whole number, at least two hosts have data and at least half
        of them have a median equal to another's.

    Examples
    --------
    >>> canary = [[[6.0, 6.0, 7.0]], [[6.1, 6.4, 7.2]], [[310.0, 312.0, 330.0]]]
    >>> baseline = [[[5.0, 6.0, 6.0]], [[6.1, 6.4, 8.0]], [[305.0, 318.0, 320.0]]]
    >>> coarse_median_rows(canary, baseline).tolist()
    [True, False, False]
    """
    values = [as_cube(c, "values") for c in cubes]
    if not values:
        return np.zeros(0, dtype=bool)
    whole = whole_rows(*values)
    out = np.zeros(whole.shape, dtype=bool)
    if not whole.any():
        return out
    medians = [quietly(np.nanmedian, v[whole], axis=2) for v in values]
    out[whole] = mostly_tied(np.concatenate(medians, axis=1))
    return out


def whole_rows(*cubes: ArrayLike) -> NDArray[np.bool_]:
    """Rows whose every value, in every cube given, is a whole number (NaN aside).

    Examples
    --------
    >>> whole_rows([[[6.0, np.nan]], [[6.5, 7.0]]], [[[5.0, 6.0]], [[6.0, 8.0]]]).tolist()
    [True, False]
    """
    rows: NDArray[np.bool_] | None = None
    for cube in cubes:
        c = as_cube(cube, "values")
        flat = c.reshape(c.shape[0], -1)
        ok = np.all(np.isnan(flat) | (flat == np.floor(flat)), axis=1)
        rows = ok if rows is None else rows & ok
    return np.zeros(0, dtype=bool) if rows is None else rows


def mostly_tied(values: ArrayLike) -> NDArray[np.bool_]:
    """Rows of ``(row, unit)`` values, NaN where a unit has none, where at least two units have
    a value and at least half of them equal another unit's.

    Examples
    --------
    >>> mostly_tied([[6.0, 6.0, 7.0, np.nan], [0.1, 0.2, 0.3, 0.3]]).tolist()
    [True, True]
    >>> mostly_tied([[0.1, 0.2, 0.3, 0.3, 0.4]]).tolist()
    [False]
    """
    m = np.sort(np.asarray(values, dtype=np.float64), axis=1)  # NaN (no value) last
    same = m[:, 1:] == m[:, :-1]
    tied = np.zeros(m.shape, dtype=bool)
    tied[:, 1:] |= same
    tied[:, :-1] |= same
    units = np.sum(~np.isnan(m), axis=1)
    return np.asarray((units >= 2) & (2 * tied.sum(axis=1) >= units), dtype=bool)


def between_host_share(summ: HostSummaries) -> NDArray[np.float64]:
    """Share of the variance of the hosts' points that lies between hosts, per metric.

    The one-way ANOVA estimator of the intra-class correlation (ICC(1)), clipped at 0: near 1
    means hosts differ much more than points within a host do, so pooling points would treat
    host differences as evidence.  NaN with fewer than two hosts.

    Examples
    --------
    >>> s = summarize_hosts([[[1.0, 1.1, 0.9], [5.0, 5.1, 4.9]]])
    >>> round(float(between_host_share(s)[0]), 3)
    0.999
    """
    loc = summ.location
    n = np.where(np.isnan(loc), 0, summ.n_points).astype(np.float64)
    hosts = np.sum(n > 0, axis=1)
    n_bar = quietly(np.nanmean, np.where(n > 0, n, np.nan), axis=1)
    between = quietly(np.nanvar, loc, axis=1, ddof=1)
    within = quietly(np.nanmean, summ.spread**2, axis=1)
    with np.errstate(divide="ignore", invalid="ignore"):
        sigma_b = np.maximum(0.0, between - within / n_bar)
        share = sigma_b / (sigma_b + within)
    share[(hosts < 2) | ~np.isfinite(share)] = np.nan
    share[(sigma_b == 0) & (within == 0)] = 0.0
    return share


def lag1_autocorrelation(values: ArrayLike) -> NDArray[np.float64]:
    """Lag-1 autocorrelation of the points around their host's mean, pooled over hosts.

    Parameters
    ----------
    values : array_like
        ``(metric, host, time)`` NaN-padded; pairs with a missing neighbour are skipped.

    Returns
    -------
    ndarray
        One value per metric: ``sum(d_t d_{t+1}) / sum(d_t^2)`` over all hosts, ``d`` the
        deviation from the host mean.  NaN without variation.

    Examples
    --------
    >>> round(float(lag1_autocorrelation([[[1.0, 2.0, 1.0, 2.0]]])[0]), 2)
    -0.75
    """
    v = as_cube(values, "values")
    d = v - quietly(np.nanmean, v, axis=2)[..., None]
    pair = d[..., 1:] * d[..., :-1]
    num = np.nansum(pair, axis=(1, 2))
    den = np.nansum(d * d, axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    out[den == 0] = np.nan
    return out


def window_means(
    values: NDArray[np.float64], length: int, weights: NDArray[np.float64] | None = None
) -> NDArray[np.float64]:
    """Each host's mean over every complete non-overlapping window of ``length`` buckets.

    Parameters
    ----------
    values : ndarray
        ``(host, time)``, NaN for a missing bucket.
    length : int
        Buckets per window.
    weights : ndarray, optional
        ``(host, time)`` exposure: the window's value is then ``(sum(values) + 0.5) /
        sum(weights)``, the log-rate input of the count test (before the log).

    Returns
    -------
    ndarray
        ``(host, window)``; NaN for a window without data.

    Examples
    --------
    >>> window_means(np.array([[1.0, 3.0, 5.0, 7.0, 9.0]]), 2).tolist()
    [[2.0, 6.0]]
    """
    n_win = values.shape[1] // length
    v = values[:, : n_win * length].reshape(values.shape[0], n_win, length)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if weights is None:
            return np.asarray(np.nanmean(v, axis=2))
        w = weights[:, : n_win * length].reshape(values.shape[0], n_win, length)
        events = np.nansum(v, axis=2)
        total = np.nansum(w, axis=2)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(total > 0, (events + 0.5) / total, np.nan)


def window_changes(
    values: NDArray[np.float64], length: int, past: int, relative: bool
) -> NDArray[np.float64]:
    """Each host's change from ``past`` buckets to the ``length`` buckets that follow, at every
    non-overlapping position: the unit of the judge's test where hosts have a pre-deploy window.

    ``relative``: log ratio of the means (a positive metric), else their difference.

    Examples
    --------
    >>> window_changes(np.array([[1.0, 1.0, 2.0, 2.0, 4.0, 4.0]]), 2, 2, True).round(3).tolist()
    [[0.693, 0.693]]
    """
    starts = list(range(past, values.shape[1] - length + 1, length))
    out = np.full((values.shape[0], len(starts)), np.nan)
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        for j, t in enumerate(starts):
            pre = np.nanmean(values[:, t - past : t], axis=1)
            post = np.nanmean(values[:, t : t + length], axis=1)
            out[:, j] = np.log(post / pre) if relative else post - pre
    return out


def spread_across_hosts(units: NDArray[np.float64]) -> float:
    """How much hosts' units differ: the root mean over windows of the variance across hosts.

    ``units`` is ``(host, window)`` (:func:`window_means`, :func:`window_changes`); NaN where
    no window has two hosts.

    Examples
    --------
    >>> spread_across_hosts(np.array([[1.0, 2.0], [3.0, 2.0]]))
    1.0
    """
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        var = np.nanvar(units, axis=0, ddof=1)  # across hosts, per window
        return math.sqrt(float(np.nanmean(var))) if np.any(np.isfinite(var)) else math.nan
