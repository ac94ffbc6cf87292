"""The host-level canary test: hosts as the units of the comparison, one call for every metric.

Pooling every point of every host (Kayenta's rule) treats 60 points of one canary host as 60
independent observations, so ordinary host-to-host differences look significant and healthy
canaries fail.  :func:`host_test` instead summarises each host's window
(:mod:`canarystats.stats.host_summaries`: location, trend, jitter) and judges a metric in three
steps, each a function of its own:

1. :func:`host_components` -- each summary of the canary hosts against the baseline hosts'
   (:mod:`canarystats.stats.unit_tests`: Student's two-sample t on both cohorts' pooled spread,
   the location also by its worst canary host, or Mann-Whitney over hosts where enough hosts
   let it reach small p-values), with each component's effect;
2. :func:`combine_components` -- Bonferroni over the components whose effect reaches the minimum
   practical effect (by default 8% of the baseline level), so a detectable but harmless
   difference does not fail a metric;
3. :func:`host_inconclusive_codes` -- which metrics have too little data or too few hosts for a
   decision (:class:`canarystats.stats.inconclusive.Inconclusive`).

Multiplicity across metrics is the caller's (:mod:`canarystats.stats.multiplicity`).  Inputs are
3-D arrays ``(metric, host, time)``, NaN-padded (NaN = missing point, a host row of all NaN = host
absent).  Canary and baseline may have different numbers of hosts and the same number of time
columns (the aligned grid of the window).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from canarystats.stats.components import (
    EQUAL_WEIGHTS,
    HostComponents,
    check_weights,
    combine_components,
)
from canarystats.stats.host_summaries import (
    HostSummaries,
    Jitter,
    Location,
    Trend,
    between_host_share,
    lag1_autocorrelation,
    summarize_hosts,
)
from canarystats.stats.inconclusive import Inconclusive, reason_sentences
from canarystats.stats.rows import as_cube, concat_rows, quietly, row_blocks
from canarystats.stats.unit_tests import (
    GAUGE_SPREAD,
    Direction,
    direction_codes,
    direction_names,
    unit_location_test,
    unit_rank_test,
    unit_t_test,
    use_rank_test,
)

UnitsTest = Literal["t", "mann-whitney", "auto"]

#: fewest baseline hosts whose spread can be estimated with any confidence (2 degrees of freedom)
MIN_BASELINE_HOSTS = 3


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
    inconclusive_code : ndarray of int8
        Why a metric is inconclusive, as an :class:`canarystats.stats.inconclusive.Inconclusive`
        code (0 where it is decided); ``reason`` is its sentence.
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
    inconclusive_code: NDArray[np.int8]
    units: str = "hosts"


@dataclass(frozen=True)
class _Settings:
    location: Location
    trend: bool
    jitter: bool
    units_test: UnitsTest
    min_points: int
    min_trend_points: int
    min_baseline_hosts: int
    jitter_measure: Jitter
    trend_fit: Trend
    weights: tuple[float, float, float]


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
    jitter_measure: Jitter = "rms",
    trend_fit: Trend = "window",
    weights: Sequence[float] = EQUAL_WEIGHTS,
    robust_rows: ArrayLike | None = None,
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
        Minimum practical effect: a component whose canary-minus-baseline difference is below
        ``min_abs_effect`` or ``min_rel_effect * |baseline centre|`` cannot fail the metric.
        The default, 8% of the baseline level, kept healthy false failures at or below 5% on
        the real-fleet evaluation (``benchmarks/quality.py``); 0 judges on significance alone.
    min_points : int
        Fewest points for a host to count as a unit.
    min_trend_points : int
        Fewest points for a host's trend; with fewer the trend component is off for that metric.
    min_baseline_hosts : int
        Fewest baseline hosts for a decision (3: the baseline's spread needs 2 degrees of freedom).
    jitter_measure, trend_fit, robust_rows
        How jitter and trend are measured, and where the median and robust jitter apply
        (:func:`summarize_hosts`).
    weights : sequence of 3 floats
        Weights of location, trend and jitter in the weighted Bonferroni combination
        (:func:`combine_components`); equal weights are plain Bonferroni.

    Returns
    -------
    HostTestResult

    Notes
    -----
    Each component is a :func:`canarystats.stats.unit_tests.unit_t_test` of canary host
    summaries against baseline host summaries on the pooled spread, the location a
    :func:`canarystats.stats.unit_tests.unit_location_test` (:func:`host_components`), combined
    by weighted
    Bonferroni over those whose effect reaches the minimum (:func:`combine_components`), which
    keeps the per-metric false-fail rate at most its nominal level; metrics without data or
    hosts enough are inconclusive (:func:`host_inconclusive_codes`).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> base = 10 + rng.normal(0, 1, (1, 5, 1)) + rng.normal(0, 0.5, (1, 5, 60))
    >>> res = host_test(base[:, :1] + 8, base[:, 1:])
    >>> bool(res.p_value[0] < 0.05), bool(res.inconclusive[0])
    (True, False)
    """
    c, b = _cubes(canary, baseline, units_test)
    rows = c.shape[0]
    code = direction_codes(direction, rows)
    min_abs = _per_row(min_abs_effect, rows, "min_abs_effect")
    min_rel = _per_row(min_rel_effect, rows, "min_rel_effect")
    w = check_weights(weights)
    settings = _Settings(
        *(location, trend, jitter, units_test, min_points, min_trend_points),
        *(min_baseline_hosts, jitter_measure, trend_fit, w),
    )
    robust = np.ones(rows, dtype=bool) if robust_rows is None else np.asarray(robust_rows, bool)
    # Rows are independent: a block at a time keeps the temporaries of the summaries small.
    parts = [
        _host_test_rows(c[sl], b[sl], code[sl], min_abs[sl], min_rel[sl], settings, robust[sl])
        for sl in row_blocks(rows, (c.shape[1] + b.shape[1]) * c.shape[2])
    ]
    return cast(HostTestResult, concat_rows(parts))


def _cubes(
    canary: ArrayLike, baseline: ArrayLike, units_test: str
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """Both cohorts as cubes of the same metrics and time columns (and a known units test)."""
    c = as_cube(canary, "canary")
    b = as_cube(baseline, "baseline")
    if c.shape[0] != b.shape[0] or c.shape[2] != b.shape[2]:
        raise ValueError(
            f"canary {c.shape} and baseline {b.shape} must have the same metrics and time columns"
        )
    if units_test not in ("t", "mann-whitney", "auto"):
        raise ValueError(f"units_test must be 't', 'mann-whitney' or 'auto', got {units_test!r}")
    return c, b


def _host_test_rows(
    c: NDArray[np.float64],
    b: NDArray[np.float64],
    code: NDArray[np.int64],
    min_abs: NDArray[np.float64],
    min_rel: NDArray[np.float64],
    s: _Settings,
    robust: NDArray[np.bool_],
) -> HostTestResult:
    """:func:`host_test` of one block of rows: summaries, components, combination, verdicts."""
    options = {
        "location": s.location,
        "min_points": s.min_points,
        "min_trend_points": s.min_trend_points,
        "jitter": s.jitter_measure,
        "trend": s.trend_fit,
        "robust_rows": robust,
    }
    cs = summarize_hosts(c, **options)  # type: ignore[arg-type]
    bs = summarize_hosts(b, **options)  # type: ignore[arg-type]
    comp = host_components(
        cs,
        bs,
        code,
        units_test=s.units_test,
        trend=s.trend,
        jitter=s.jitter,
        min_baseline_hosts=s.min_baseline_hosts,
    )
    p_value, practical, component = combine_components(comp, min_abs, min_rel, s.weights)
    codes = host_inconclusive_codes(
        c, b, comp.n_canary_hosts, comp.n_baseline_hosts, s.min_baseline_hosts
    )
    inconclusive = codes != Inconclusive.NONE
    p_value[inconclusive] = np.nan
    practical[inconclusive] = False
    component[inconclusive] = ""
    return HostTestResult(
        p_value=p_value,
        statistic=comp.statistic,
        df=comp.df,
        p_location=comp.p_location,
        p_trend=comp.p_trend,
        p_jitter=comp.p_jitter,
        location_test=comp.location_test,
        effect_abs=comp.effect_abs,
        effect_rel=comp.effect_rel,
        trend_effect_abs=comp.trend_effect_abs,
        jitter_effect_abs=comp.jitter_effect_abs,
        practical=practical,
        component=component,
        baseline_centre=comp.baseline_centre,
        baseline_scale=comp.baseline_scale,
        n_canary_hosts=comp.n_canary_hosts,
        n_baseline_hosts=comp.n_baseline_hosts,
        canary=cs,
        baseline=bs,
        between_host_share=between_host_share(bs),
        lag1_autocorrelation=lag1_autocorrelation(np.concatenate([c, b], axis=1)),
        inconclusive=inconclusive,
        reason=reason_sentences(
            codes,
            n_baseline_hosts=comp.n_baseline_hosts,
            min_points=s.min_points,
            min_baseline_hosts=s.min_baseline_hosts,
        ),
        inconclusive_code=codes,
    )


def host_components(
    cs: HostSummaries,
    bs: HostSummaries,
    code: NDArray[np.int64],
    *,
    units_test: UnitsTest = "auto",
    trend: bool = True,
    jitter: bool = True,
    min_baseline_hosts: int = MIN_BASELINE_HOSTS,
) -> HostComponents:
    """Test each component of every metric: canary hosts' summaries against the baseline's.

    Parameters
    ----------
    cs, bs : HostSummaries
        Canary and baseline host summaries (:func:`summarize_hosts`).
    code : ndarray of int
        Direction of harm per metric (:func:`canarystats.stats.unit_tests.direction_codes`).
    units_test, trend, jitter, min_baseline_hosts
        As in :func:`host_test`.  A trend or jitter measured on fewer than
        ``min_baseline_hosts`` baseline hosts gives a NaN p-value: no yardstick.

    Returns
    -------
    HostComponents

    Examples
    --------
    >>> cs = summarize_hosts([[[12.0, 12.5, 11.5]]])
    >>> bs = summarize_hosts([[[10.0, 10.5, 9.5], [10.2, 10.1, 9.9], [9.8, 9.9, 10.1]]])
    >>> comp = host_components(cs, bs, np.array([1]))
    >>> float(comp.effect_abs[0]), str(comp.location_test[0]), bool(comp.p_location[0] < 0.05)
    (2.0, 't', True)
    """
    k = np.sum(~np.isnan(cs.location), axis=1)
    m = np.sum(~np.isnan(bs.location), axis=1)
    t_loc, df, p_loc, location_test = _location_test(
        cs.location, bs.location, code, k, m, units_test
    )
    centre = quietly(np.nanmean, bs.location, axis=1)
    scale = quietly(np.nanstd, bs.location, axis=1, ddof=1)
    effect_abs = quietly(np.nanmean, cs.location, axis=1) - centre
    with np.errstate(divide="ignore", invalid="ignore"):
        effect_rel = np.where(centre != 0, effect_abs / np.abs(centre), np.nan)

    nan_rows = np.full(code.shape[0], np.nan)
    trend_effect = quietly(np.nanmean, cs.trend, axis=1) - quietly(np.nanmean, bs.trend, axis=1)
    p_trend = nan_rows.copy()
    if trend:
        _, _, p_trend = unit_t_test(
            cs.trend, bs.trend, direction=direction_names(code), spread=GAUGE_SPREAD
        )
        p_trend[np.sum(~np.isnan(bs.trend), axis=1) < min_baseline_hosts] = np.nan
    jitter_effect = quietly(np.nanmean, cs.jitter, axis=1) - quietly(np.nanmean, bs.jitter, axis=1)
    p_jitter = nan_rows.copy()
    if jitter:
        _, _, p_jitter = unit_t_test(
            _log_scale(cs.jitter, centre),
            _log_scale(bs.jitter, centre),
            direction=direction_names(np.ones_like(code)),
            spread=GAUGE_SPREAD,
        )
        p_jitter[np.sum(~np.isnan(bs.jitter), axis=1) < min_baseline_hosts] = np.nan
    return HostComponents(
        statistic=t_loc,
        df=df,
        p_location=p_loc,
        p_trend=p_trend,
        p_jitter=p_jitter,
        location_test=location_test,
        effect_abs=effect_abs,
        effect_rel=effect_rel,
        trend_effect_abs=trend_effect,
        jitter_effect_abs=jitter_effect,
        baseline_centre=centre,
        baseline_scale=scale,
        n_canary_hosts=k.astype(np.int64),
        n_baseline_hosts=m.astype(np.int64),
    )


def _location_test(
    c_loc: NDArray[np.float64],
    b_loc: NDArray[np.float64],
    code: NDArray[np.int64],
    k: NDArray[np.int64],
    m: NDArray[np.int64],
    units_test: UnitsTest,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64], NDArray[np.str_]]:
    """t statistic, df, p-value and test name of the location component."""
    rows = code.shape[0]
    t_loc, df, p_loc = unit_location_test(c_loc, b_loc, direction=direction_names(code))
    location_test = np.full(rows, "t", dtype=object)
    if units_test != "t":
        rank = (
            np.ones(rows, dtype=bool) if units_test == "mann-whitney" else use_rank_test(k, m, code)
        )
        rank &= (k > 0) & (m > 0)
        if rank.any():
            p_loc = p_loc.copy()
            p_loc[rank] = unit_rank_test(c_loc[rank], b_loc[rank], code[rank])
            location_test[rank] = "mann-whitney"
    return t_loc, df, p_loc, location_test.astype(str)


def host_inconclusive_codes(
    canary: ArrayLike,
    baseline: ArrayLike,
    n_canary_hosts: ArrayLike,
    n_baseline_hosts: ArrayLike,
    min_baseline_hosts: int = MIN_BASELINE_HOSTS,
) -> NDArray[np.int8]:
    """Why each metric supports no decision, as :class:`Inconclusive` codes (0: it does).

    Parameters
    ----------
    canary, baseline : array_like
        ``(metric, host, time)`` points of each cohort.
    n_canary_hosts, n_baseline_hosts : array_like of int
        Hosts with at least ``min_points`` points, per metric.
    min_baseline_hosts : int
        Fewest baseline hosts for a decision.

    Returns
    -------
    ndarray of int8
        No data beats too few hosts; no data on both sides beats one side.

    Examples
    --------
    >>> nan = float("nan")
    >>> codes = host_inconclusive_codes([[[nan]], [[1.0]]], [[[nan]], [[1.0]]], [0, 1], [0, 1])
    >>> [Inconclusive(c).name for c in codes]
    ['NO_DATA', 'TOO_FEW_BASELINE_HOSTS']
    """
    c = as_cube(canary, "canary")
    b = as_cube(baseline, "baseline")
    k = np.asarray(n_canary_hosts)
    m = np.asarray(n_baseline_hosts)
    c_any = np.any(~np.isnan(c), axis=(1, 2))
    b_any = np.any(~np.isnan(b), axis=(1, 2))
    codes = np.zeros(c.shape[0], dtype=np.int8)
    codes[m < min_baseline_hosts] = Inconclusive.TOO_FEW_BASELINE_HOSTS
    codes[k < 1] = Inconclusive.NO_CANARY_HOST
    codes[~b_any] = Inconclusive.NO_BASELINE_DATA
    codes[~c_any] = Inconclusive.NO_CANARY_DATA
    codes[~c_any & ~b_any] = Inconclusive.NO_DATA
    return codes


def _per_row(value: float | ArrayLike, n_rows: int, name: str) -> NDArray[np.float64]:
    arr = np.broadcast_to(np.asarray(value, dtype=np.float64), (n_rows,)).copy()
    if np.any(np.isnan(arr) | (arr < 0)):
        raise ValueError(f"{name} must be >= 0")
    return arr


def _log_scale(s: NDArray[np.float64], centre: NDArray[np.float64]) -> NDArray[np.float64]:
    # Scales are compared on a log scale (hosts differ multiplicatively in how noisy they are);
    # a floor of 1e-6 of the level keeps constant hosts finite.  The floor is relative only, so
    # a metric in tiny units (1e-17) keeps its hosts' scales apart as one in ordinary units does.
    level = np.abs(centre)
    floor = 1e-6 * np.where(level > 0, level, 1.0)[:, None]
    return np.log(np.maximum(s, floor))
