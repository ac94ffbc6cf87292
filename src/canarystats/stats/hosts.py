"""Hosts as the units of a canary comparison: host window summaries and tests over them.

Points from one host are not independent witnesses: hosts of one service differ from each other
(placement, cache state, traffic share), and points within a host are autocorrelated.  Pooling every
point of every host (Kayenta's rule) treats 60 points of one canary host as 60 independent
observations, so ordinary host-to-host differences look significant and healthy canaries fail.
Here each host contributes one number per question:

* **location** -- the host's mean (or median) over the window;
* **trend** -- how far the host moved through the window (least-squares slope times the window
  length, in the metric's units): a memory leak climbing steadily, or a host degrading late in the
  window, while a daily ramp shared by every host cancels out;
* **jitter** -- the host's step-to-step variation (root mean square of successive differences
  over sqrt(2), von Neumann's estimator of the standard deviation that ignores slow movement): a
  crash loop that flaps, a host that oscillates.  One-sided: more jitter is worse.

Each canary summary is compared with the spread of the baseline hosts' summaries by a t-type test
(the prediction-interval argument: the baseline hosts estimate how much healthy hosts differ, with
``n_baseline - 1`` degrees of freedom), valid with one or two canary hosts and three or more
baseline hosts.  When enough hosts are present for an exact rank test to reach small p-values,
Mann-Whitney over the host summaries can replace the t-type test for the location.  The components
of one metric are combined by Bonferroni; multiplicity across metrics is the caller's
(:mod:`canarystats.stats.multiplicity`).  A minimum practical effect (by default 8% of the
baseline level) keeps a detectable but harmless difference from failing a metric.

Inputs are 3-D arrays ``(metric, host, time)``, NaN-padded (NaN = missing point, a host row of
all NaN = host absent), one call for every metric of a run.  Canary and baseline may have different
numbers of hosts and the same number of time columns (the aligned grid of the window).
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray
from scipy import stats as sps
from scipy.special import gammaln

from canarystats.stats._arrays import concat_rows, row_blocks

Direction = Literal["either", "increase", "decrease"]
Location = Literal["mean", "median"]
UnitsTest = Literal["t", "mann-whitney", "auto"]

#: fewest baseline hosts whose spread can be estimated with any confidence (2 degrees of freedom)
MIN_BASELINE_HOSTS = 3

_DIRECTION_CODES = {"either": 0, "increase": 1, "decrease": -1}


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
    """

    location: NDArray[np.float64]
    trend: NDArray[np.float64]
    spread: NDArray[np.float64]
    jitter: NDArray[np.float64]
    n_points: NDArray[np.int64]


@dataclass(frozen=True)
class HostTestResult:
    """Result of :func:`host_test`; every field is an array over metrics (rows).

    Attributes
    ----------
    p_value : ndarray
        Bonferroni combination over the components (location, trend, jitter) of the smallest
        p-value of a component whose effect reaches the minimum practical effect; 1 when no
        component does; NaN when the metric is inconclusive.  Feed it to
        :func:`canarystats.stats.multiplicity.adjust_p_values` across a run's gating metrics and
        fail a metric where the adjusted value is below alpha.
    statistic : ndarray
        t statistic of the location component (canary hosts' mean summary minus baseline centre,
        over the baseline hosts' standard error).
    df : ndarray
        Degrees of freedom of the t-type tests (baseline hosts - 1).
    p_location, p_trend, p_jitter : ndarray
        Each component's p-value (one-sided in the direction of harm, two-sided for ``either``);
        NaN for a component that is off or cannot be computed (too few points for a trend).
    location_test : ndarray of str
        ``"t"`` or ``"mann-whitney"``: the test used for the location.
    effect_abs, effect_rel : ndarray
        Shift of the canary hosts' mean location from the baseline hosts' mean location, absolute
        and relative to ``|baseline centre|`` (NaN for a zero centre).
    trend_effect_abs, jitter_effect_abs : ndarray
        Canary minus baseline mean trend (fitted rise across the window), and mean jitter.
    practical : ndarray of bool
        Whether the component that decides ``p_value`` has an effect beyond the minimum practical
        effect; False when none has.
    component : ndarray of str
        The component behind ``p_value``: ``"location"``, ``"trend"`` or ``"jitter"`` (``""``
        where no component reaches the minimum effect, or the metric is inconclusive).  With the
        sign of its effect it gives the label: a location or trend effect above 0 is High, below
        0 Low; more jitter is High.
    baseline_centre, baseline_scale : ndarray
        Mean and standard deviation (n-1) of the baseline hosts' locations.
    n_canary_hosts, n_baseline_hosts : ndarray of int
        Hosts used as units (hosts with at least ``min_points`` points).
    canary, baseline : HostSummaries
        The per-host summaries behind the tests.
    between_host_share : ndarray
        Share of the baseline's variance that lies between hosts (one-way ANOVA intra-class
        correlation, clipped at 0): near 1 means hosts differ much more than points within a host.
    lag1_autocorrelation : ndarray
        Lag-1 autocorrelation of the points around their host's mean, pooled over all hosts.
    inconclusive : ndarray of bool
        True where no decision is supported; ``reason`` says why.
    reason : ndarray of str
        One sentence for an inconclusive metric, ``""`` otherwise.
    units : str
        Always ``"hosts"``: the units of the tests.
    """

    p_value: NDArray[np.float64]
    statistic: NDArray[np.float64]
    df: NDArray[np.float64]
    p_location: NDArray[np.float64]
    p_trend: NDArray[np.float64]
    p_jitter: NDArray[np.float64]
    location_test: NDArray[np.str_]
    effect_abs: NDArray[np.float64]
    effect_rel: NDArray[np.float64]
    trend_effect_abs: NDArray[np.float64]
    jitter_effect_abs: NDArray[np.float64]
    practical: NDArray[np.bool_]
    component: NDArray[np.str_]
    baseline_centre: NDArray[np.float64]
    baseline_scale: NDArray[np.float64]
    n_canary_hosts: NDArray[np.int64]
    n_baseline_hosts: NDArray[np.int64]
    canary: HostSummaries
    baseline: HostSummaries
    between_host_share: NDArray[np.float64]
    lag1_autocorrelation: NDArray[np.float64]
    inconclusive: NDArray[np.bool_]
    reason: NDArray[np.str_]
    units: str = "hosts"


def _as_cube(values: ArrayLike, name: str) -> NDArray[np.float64]:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 2:
        arr = arr[None, :, :]
    if arr.ndim != 3:
        raise ValueError(
            f"{name} must be a 3-D array (metric, host, time), got {arr.ndim} dimensions"
        )
    return arr


def _quiet(func, *args, **kwargs):  # type: ignore[no-untyped-def]
    # All-NaN rows are expected (absent hosts); their NaN results are handled downstream.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return func(*args, **kwargs)


def summarize_hosts(
    values: ArrayLike,
    *,
    location: Location = "mean",
    min_points: int = 3,
    min_trend_points: int = 6,
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
    v = _as_cube(values, "values")
    present = ~np.isnan(v)
    n = present.sum(axis=2)
    loc = _quiet(np.nanmean if location == "mean" else np.nanmedian, v, axis=2)
    spread = _quiet(np.nanstd, v, axis=2, ddof=1)
    t = np.arange(v.shape[2], dtype=np.float64)
    # Least squares over each host's own points: centre time and value on that host's points.
    t_mean = _quiet(np.nanmean, np.where(present, t, np.nan), axis=2)
    v_mean = _quiet(np.nanmean, v, axis=2)
    dt = np.where(present, t - t_mean[..., None], 0.0)
    dv = np.where(present, v - v_mean[..., None], 0.0)
    sxx = np.sum(dt * dt, axis=2)
    with np.errstate(divide="ignore", invalid="ignore"):
        slope = np.sum(dt * dv, axis=2) / sxx
    # The rise is measured across the cohort's observed span of the window (the same for every
    # host of the metric), so trends of hosts with gaps stay comparable and NaN padding at the end
    # of a short window does not stretch it.
    cols = np.any(present, axis=1)
    first = np.argmax(cols, axis=1)
    last = v.shape[2] - 1 - np.argmax(cols[:, ::-1], axis=1)
    trend = slope * np.maximum(last - first, 0)[:, None]
    few = n < min_points
    loc[few] = np.nan
    spread[few] = np.nan
    trend[(n < max(min_trend_points, min_points)) | (sxx == 0)] = np.nan
    step = np.diff(v, axis=2)
    pairs = np.sum(~np.isnan(step), axis=2)
    jitter = np.sqrt(_quiet(np.nanmean, step * step, axis=2) / 2.0)
    jitter[pairs < min_points] = np.nan
    return HostSummaries(
        location=loc, trend=trend, spread=spread, jitter=jitter, n_points=n.astype(np.int64)
    )


def _directions(direction: Direction | Sequence[str], n_rows: int) -> NDArray[np.int64]:
    names = [direction] * n_rows if isinstance(direction, str) else list(direction)
    if len(names) != n_rows:
        raise ValueError(f"got {len(names)} directions for {n_rows} metrics")
    try:
        return np.array([_DIRECTION_CODES[d] for d in names], dtype=np.int64)
    except KeyError as exc:
        raise ValueError(f"direction must be one of {tuple(_DIRECTION_CODES)}, got {exc}") from None


def _per_row(value: float | ArrayLike, n_rows: int, name: str) -> NDArray[np.float64]:
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (n_rows,)).copy()
    if np.any(np.isnan(arr) | (arr < 0)):
        raise ValueError(f"{name} must be >= 0")
    return arr


def _sided_p(t: NDArray[np.float64], df: NDArray[np.float64], code: NDArray[np.int64]):  # type: ignore[no-untyped-def]
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
    code = _directions(direction, c.shape[0])
    k = np.sum(~np.isnan(c), axis=1).astype(np.float64)
    m = np.sum(~np.isnan(b), axis=1).astype(np.float64)
    cm = _quiet(np.nanmean, c, axis=1)
    bm = _quiet(np.nanmean, b, axis=1)
    sb = _quiet(np.nanstd, b, axis=1, ddof=1)
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


def _use_rank_test(
    k: NDArray[np.int64], m: NDArray[np.int64], code: NDArray[np.int64]
) -> NDArray[np.bool_]:
    # Mann-Whitney over hosts only when its smallest possible p-value (all canary hosts beyond all
    # baseline hosts) is at most 0.01, so it can still pass a multiplicity-adjusted threshold.
    # Two-sided, that takes 19 baseline hosts for two canary hosts and 199 for one; below that
    # the t-type test is the only one that can reject at all.
    n = (k + m).astype(np.float64)
    log_comb = gammaln(n + 1) - gammaln(k + 1.0) - gammaln(m + 1.0)
    smallest = np.where(code != 0, 1.0, 2.0) * np.exp(-log_comb)
    smallest[k < 1] = 1.0
    return smallest <= 0.01 * (1 + 1e-9)  # exp(-log C) is not exact


def _rank_p(
    canary_units: NDArray[np.float64], baseline_units: NDArray[np.float64], code: NDArray[np.int64]
) -> NDArray[np.float64]:
    from canarystats.stats.mannwhitney import mann_whitney

    out = np.full(canary_units.shape[0], np.nan)
    for sign, alt in ((0, "two-sided"), (1, "greater"), (-1, "less")):
        rows = code == sign
        if rows.any():
            res = mann_whitney(canary_units[rows], baseline_units[rows], alternative=alt)  # type: ignore[arg-type]
            out[rows] = np.asarray(res.p_value, dtype=np.float64)
    return out


def _log_scale(s: NDArray[np.float64], centre: NDArray[np.float64]) -> NDArray[np.float64]:
    # Scales are compared on a log scale (hosts differ multiplicatively in how noisy they are);
    # a floor of 1e-6 of the level keeps constant hosts finite.
    floor = 1e-6 * np.maximum(np.abs(centre), 1e-12)[:, None]
    return np.log(np.maximum(s, floor))


def _between_host_share(summ: HostSummaries) -> NDArray[np.float64]:
    loc = summ.location
    n = np.where(np.isnan(loc), 0, summ.n_points).astype(np.float64)
    hosts = np.sum(n > 0, axis=1)
    n_bar = _quiet(np.nanmean, np.where(n > 0, n, np.nan), axis=1)
    between = _quiet(np.nanvar, loc, axis=1, ddof=1)
    within = _quiet(np.nanmean, summ.spread**2, axis=1)
    # One-way ANOVA estimator of the intra-class correlation (ICC(1)).
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
    v = _as_cube(values, "values")
    d = v - _quiet(np.nanmean, v, axis=2)[..., None]
    pair = d[..., 1:] * d[..., :-1]
    num = np.nansum(pair, axis=(1, 2))
    den = np.nansum(d * d, axis=(1, 2))
    with np.errstate(divide="ignore", invalid="ignore"):
        out = num / den
    out[den == 0] = np.nan
    return out


def host_test(
    canary: ArrayLike,
    baseline: ArrayLike,
    *,
    direction: Direction | Sequence[str] = "either",
    location: Location = "mean",
    trend: bool = True,
    jitter: bool = True,
    units_test: UnitsTest = "auto",
    min_abs_effect: float | ArrayLike = 0.0,
    min_rel_effect: float | ArrayLike = 0.08,
    min_points: int = 3,
    min_trend_points: int = 6,
    min_baseline_hosts: int = MIN_BASELINE_HOSTS,
) -> HostTestResult:
    """Host-as-unit canary test of every metric of a run: location, trend and jitter per host.

    Parameters
    ----------
    canary, baseline : array_like
        ``(metric, host, time)`` NaN-padded points of each cohort on the same time grid (a 2-D
        ``(host, time)`` array is one metric).  A host row of NaN is an absent host.
    direction : {"either", "increase", "decrease"} or sequence of them, one per metric
        Which change is harmful; ``increase`` tests only for a canary above the baseline.
    location : {"mean", "median"}
        Per-host location summary.
    trend : bool
        Also compare how far each host moved through the window (leaks, late degradation).
    jitter : bool
        Also compare step-to-step variation (flapping, oscillation).  Always one-sided: more
        jitter than the baseline hosts is harmful whatever ``direction`` says.
    units_test : {"t", "mann-whitney", "auto"}
        Test of the location summaries.  ``auto`` uses exact Mann-Whitney over hosts where the host
        counts let it reach p <= 0.01, the t-type test otherwise (the usual 1-2 canary hosts).
    min_abs_effect, min_rel_effect : float or array_like (one per metric)
        Minimum practical effect: a component whose canary-minus-baseline difference (shift of
        the level, rise across the window, or jitter) is below ``min_abs_effect`` or below
        ``min_rel_effect * |baseline centre|`` cannot fail the metric, however small its p-value.
        The default, 8% of the baseline level, is the smallest that kept healthy false failures
        at or below 5% on the real-fleet evaluation (``benchmarks/quality.py``, training split);
        it also lets a tiny offset against perfectly constant baselines pass, which no estimate
        of the hosts' spread could judge.  Set 0 to judge on significance alone.
    min_points : int
        Fewest points for a host to count as a unit.
    min_trend_points : int
        Fewest points for a host's trend; with fewer the trend component is off for that metric.
    min_baseline_hosts : int
        Fewest baseline hosts for a decision (3: the baseline's spread needs 2 degrees of freedom).

    Returns
    -------
    HostTestResult

    Notes
    -----
    Each component is a :func:`unit_t_test` of canary host summaries against baseline host
    summaries.  Components are combined by Bonferroni (``p = min(1, c * min p_i)`` over the ``c``
    available components, counting only components whose effect reaches the minimum), which keeps
    the per-metric false-fail rate at most its nominal level.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> base = 10 + rng.normal(0, 1, (1, 5, 1)) + rng.normal(0, 0.5, (1, 5, 60))
    >>> res = host_test(base[:, :1] + 8, base[:, 1:])
    >>> bool(res.p_value[0] < 0.05), bool(res.inconclusive[0])
    (True, False)
    """
    c = _as_cube(canary, "canary")
    b = _as_cube(baseline, "baseline")
    if c.shape[0] != b.shape[0] or c.shape[2] != b.shape[2]:
        raise ValueError(
            f"canary {c.shape} and baseline {b.shape} must have the same metrics and time columns"
        )
    if units_test not in ("t", "mann-whitney", "auto"):
        raise ValueError(f"units_test must be 't', 'mann-whitney' or 'auto', got {units_test!r}")
    rows = c.shape[0]
    code = _directions(direction, rows)
    min_abs = _per_row(min_abs_effect, rows, "min_abs_effect")
    min_rel = _per_row(min_rel_effect, rows, "min_rel_effect")
    blocks = row_blocks(rows, (c.shape[1] + b.shape[1]) * c.shape[2])
    if len(blocks) > 1:
        # Rows are independent: a block at a time keeps the temporaries of the summaries small.
        names = _names(code)
        return cast(
            HostTestResult,
            concat_rows(
                [
                    host_test(
                        c[sl],
                        b[sl],
                        direction=names[sl],
                        location=location,
                        trend=trend,
                        jitter=jitter,
                        units_test=units_test,
                        min_abs_effect=min_abs[sl],
                        min_rel_effect=min_rel[sl],
                        min_points=min_points,
                        min_trend_points=min_trend_points,
                        min_baseline_hosts=min_baseline_hosts,
                    )
                    for sl in blocks
                ]
            ),
        )

    cs = summarize_hosts(
        c, location=location, min_points=min_points, min_trend_points=min_trend_points
    )
    bs = summarize_hosts(
        b, location=location, min_points=min_points, min_trend_points=min_trend_points
    )
    k = np.sum(~np.isnan(cs.location), axis=1)
    m = np.sum(~np.isnan(bs.location), axis=1)

    t_loc, df, p_loc = unit_t_test(cs.location, bs.location, direction=_names(code))
    location_test = np.full(rows, "t", dtype=object)
    if units_test != "t":
        rank = (
            np.ones(rows, dtype=bool)
            if units_test == "mann-whitney"
            else _use_rank_test(k, m, code)
        )
        rank &= (k > 0) & (m > 0)
        if rank.any():
            p_loc = p_loc.copy()
            p_loc[rank] = _rank_p(cs.location[rank], bs.location[rank], code[rank])
            location_test[rank] = "mann-whitney"

    centre = _quiet(np.nanmean, bs.location, axis=1)
    scale = _quiet(np.nanstd, bs.location, axis=1, ddof=1)
    effect_abs = _quiet(np.nanmean, cs.location, axis=1) - centre
    with np.errstate(divide="ignore", invalid="ignore"):
        effect_rel = np.where(centre != 0, effect_abs / np.abs(centre), np.nan)

    nan_rows = np.full(rows, np.nan)
    trend_effect = _quiet(np.nanmean, cs.trend, axis=1) - _quiet(np.nanmean, bs.trend, axis=1)
    p_trend = nan_rows.copy()
    if trend:
        _, _, p_trend = unit_t_test(cs.trend, bs.trend, direction=_names(code))
        # A trend measured on too few baseline hosts is no yardstick.
        p_trend[np.sum(~np.isnan(bs.trend), axis=1) < min_baseline_hosts] = np.nan
    jitter_effect = _quiet(np.nanmean, cs.jitter, axis=1) - _quiet(np.nanmean, bs.jitter, axis=1)
    p_jitter = nan_rows.copy()
    if jitter:
        _, _, p_jitter = unit_t_test(
            _log_scale(cs.jitter, centre),
            _log_scale(bs.jitter, centre),
            direction=_names(np.ones_like(code)),
        )
        p_jitter[np.sum(~np.isnan(bs.jitter), axis=1) < min_baseline_hosts] = np.nan

    floor = np.maximum(min_abs, min_rel * np.nan_to_num(np.abs(centre)))
    big = np.stack(
        [
            np.abs(effect_abs) >= floor,
            np.abs(trend_effect) >= floor,
            jitter_effect >= floor,
        ]
    )
    ps = np.stack([p_loc, p_trend, p_jitter])
    available = ~np.isnan(ps)
    n_comp = np.maximum(available.sum(axis=0), 1)
    gated = np.where(available & big, ps, np.inf)
    best = np.min(gated, axis=0)
    practical = np.isfinite(best)
    component = np.array(["location", "trend", "jitter"])[np.argmin(gated, axis=0)]
    component = np.where(practical, component, "")
    p_value = np.where(practical, np.minimum(1.0, n_comp * best), 1.0)

    reason = np.full(rows, "", dtype=object)
    c_any = np.any(~np.isnan(c), axis=(1, 2))
    b_any = np.any(~np.isnan(b), axis=(1, 2))
    too_few = m < min_baseline_hosts
    reason[too_few] = np.char.add(
        np.char.add("only ", m[too_few].astype(str)),
        f" baseline host(s) with at least {min_points} points; the host-aware test needs "
        f"{min_baseline_hosts} to estimate how much healthy hosts differ",
    )
    reason[k < 1] = f"no canary host has at least {min_points} points in the window"
    reason[~b_any] = "the baseline has no data in the window"
    reason[~c_any] = "the canary has no data in the window"
    reason[~c_any & ~b_any] = "no data in the window for either cohort"
    inconclusive = reason != ""
    p_value[inconclusive] = np.nan
    practical[inconclusive] = False
    component[inconclusive] = ""

    return HostTestResult(
        p_value=p_value,
        statistic=t_loc,
        df=df,
        p_location=p_loc,
        p_trend=p_trend,
        p_jitter=p_jitter,
        location_test=location_test.astype(str),
        effect_abs=effect_abs,
        effect_rel=effect_rel,
        trend_effect_abs=trend_effect,
        jitter_effect_abs=jitter_effect,
        practical=practical,
        component=component,
        baseline_centre=centre,
        baseline_scale=scale,
        n_canary_hosts=k.astype(np.int64),
        n_baseline_hosts=m.astype(np.int64),
        canary=cs,
        baseline=bs,
        between_host_share=_between_host_share(bs),
        lag1_autocorrelation=lag1_autocorrelation(np.concatenate([c, b], axis=1)),
        inconclusive=inconclusive,
        reason=reason.astype(str),
    )


def _names(code: NDArray[np.int64]) -> list[str]:
    """Direction names for direction codes (+1 increase, -1 decrease, 0 either)."""
    names = {0: "either", 1: "increase", -1: "decrease"}
    return [names[int(x)] for x in code]
