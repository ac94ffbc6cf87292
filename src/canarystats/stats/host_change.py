"""Each host against its own past: the change of every host since the canary start, canary hosts'
changes against the baseline hosts' changes (difference in differences).

Hosts of one service differ persistently (hardware, placement, traffic share), so a canary 20%
slower than its peers can sit within their spread.  Every host that existed before the deploy
carries the strongest evidence there is: its own level on the old version just before.  Taking
each host's change from its pre-deploy window to the canary window cancels its persistent offset,
and comparing the canary hosts' changes with the baseline hosts' changes over the same minutes
cancels what moved for everyone (the daily ramp, a shared dependency).

Components, each a per-host change tested like :func:`canarystats.stats.host_test` tests levels
(:func:`canarystats.stats.unit_tests.unit_t_test` on both cohorts' pooled spread; the location
also by its worst canary host, :func:`canarystats.stats.unit_tests.unit_location_test`):

* **location** -- the host's level (median by default) in the canary window against its level
  before: the log ratio for a positive metric (hosts differ multiplicatively), else the
  difference;
* **trend** -- where the host's fitted line ends the canary window, against its level before:
  a leak ends far above the host's past, a host that restarted and re-grew its caches ends where
  it was;
* **jitter** -- the host's step-to-step variation now against before, as a share of its level.

Components are combined by weighted Bonferroni (:func:`canarystats.stats.hosts.combine_components`)
over those whose effect reaches the minimum practical effect.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import NamedTuple, cast

import numpy as np
from numpy.typing import ArrayLike, NDArray

from canarystats.stats.components import HostComponents, check_weights, combine_components
from canarystats.stats.host_summaries import (
    HostSummaries,
    Jitter,
    Location,
    between_host_share,
    lag1_autocorrelation,
    mostly_tied,
    summarize_hosts,
    whole_rows,
)
from canarystats.stats.hosts import MIN_BASELINE_HOSTS, HostTestResult, host_inconclusive_codes
from canarystats.stats.inconclusive import Inconclusive, reason_sentences
from canarystats.stats.rows import as_cube, concat_rows, quietly, row_blocks
from canarystats.stats.unit_tests import (
    GAUGE_SPREAD,
    Direction,
    direction_codes,
    direction_names,
    unit_location_test,
    unit_t_test,
)

__all__ = [
    "CHANGE_WEIGHTS",
    "PreWindowDrift",
    "host_change_test",
    "moved_with_the_canary",
    "positive_rows",
    "pre_window_drift",
]

#: component weights of the change test: location 0.6, trend 0.2, jitter 0.2
CHANGE_WEIGHTS = (0.6, 0.2, 0.2)


def positive_rows(*cubes: ArrayLike) -> NDArray[np.bool_]:
    """Rows whose every value, in every cube given, is above 0: their changes are log ratios.

    Examples
    --------
    >>> positive_rows([[[1.0, 2.0]], [[0.0, 3.0]]]).tolist()
    [True, False]
    """
    rows: NDArray[np.bool_] | None = None
    for cube in cubes:
        c = as_cube(cube, "values")
        flat = c.reshape(c.shape[0], -1)
        with np.errstate(invalid="ignore"):
            ok = ~np.any(flat <= 0, axis=1) & np.any(flat > 0, axis=1)
        rows = ok if rows is None else rows & ok
    return np.zeros(0, dtype=bool) if rows is None else rows


def host_change_test(
    canary_pre: ArrayLike,
    canary: ArrayLike,
    baseline_pre: ArrayLike,
    baseline: ArrayLike,
    *,
    direction: Direction | Sequence[str] = "either",
    relative: ArrayLike | None = None,
    min_abs_effect: float | ArrayLike = 0.0,
    min_rel_effect: float | ArrayLike = 0.08,
    location: Location = "median",
    jitter_measure: Jitter = "robust",
    weights: Sequence[float] = CHANGE_WEIGHTS,
    min_points: int = 3,
    min_trend_points: int = 6,
    min_baseline_hosts: int = MIN_BASELINE_HOSTS,
) -> HostTestResult:
    """Difference-in-differences host test of every metric of a run.

    Parameters
    ----------
    canary_pre, canary, baseline_pre, baseline : array_like
        ``(metric, host, time)`` points of each cohort before the canary start and in the canary
        window.  A host keeps its slot in both windows of its cohort (the windows may have
        different numbers of time columns).
    direction : {"either", "increase", "decrease"} or sequence of them, one per metric
        Which change is harmful.
    relative : array_like of bool, optional
        Rows whose changes are log ratios (default: :func:`positive_rows` of the four cubes);
        other rows compare differences.
    min_abs_effect, min_rel_effect : float or array_like
        Minimum practical effect, as in :func:`canarystats.stats.host_test`: in the metric's
        unit, and as a share of the baseline hosts' level in the canary window.
    location, jitter_measure : str
        Per-host level and jitter (:func:`canarystats.stats.summarize_hosts`); the defaults
        resist the occasional spike of a latency percentile.
    weights : sequence of 3 floats
        Weighted-Bonferroni weights of location, trend and jitter.
    min_points, min_trend_points, min_baseline_hosts : int
        As in :func:`canarystats.stats.host_test`, a window's points each.

    Returns
    -------
    HostTestResult
        ``canary`` and ``baseline`` hold each host's changes on the scale tested; the effects
        are canary-minus-baseline changes in the metric's unit at the baseline's level
        (``baseline_centre``): ``(centre + effect_abs) / centre`` is the canary's change
        relative to the baseline's.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(1)
    >>> level = 100 * np.exp(rng.normal(0, 0.2, (1, 6, 1)))  # hosts differ by ~20%
    >>> pre = level * np.exp(rng.normal(0, 0.02, (1, 6, 30)))
    >>> post = level * np.exp(rng.normal(0, 0.02, (1, 6, 30)))
    >>> post[:, 0] *= 1.2  # the canary host is 20% slower than it was
    >>> r = host_change_test(pre[:, :1], post[:, :1], pre[:, 1:], post[:, 1:],
    ...                      direction="increase")
    >>> bool(r.p_value[0] < 0.01), str(r.component[0]), round(float(r.effect_rel[0]), 2)
    (True, 'location', 0.2)
    """
    cubes = _checked(canary_pre, canary, baseline_pre, baseline)
    rows = cubes[1].shape[0]
    rel = positive_rows(*cubes) if relative is None else np.asarray(relative, dtype=bool)
    code = direction_codes(direction, rows)
    min_abs = np.broadcast_to(np.asarray(min_abs_effect, dtype=np.float64), (rows,))
    min_rel = np.broadcast_to(np.asarray(min_rel_effect, dtype=np.float64), (rows,))
    options = {
        "location": location,
        "min_points": min_points,
        "min_trend_points": min_trend_points,
        "jitter": jitter_measure,
        "trend": "late",
    }
    w = check_weights(weights)
    width = sum(c.shape[1] * c.shape[2] for c in cubes)
    parts = []
    for sl in row_blocks(rows, width):
        summaries = _robust_summaries([c[sl] for c in cubes], rel[sl], options)
        parts.append(
            _change_rows(
                [c[sl] for c in cubes],
                summaries,
                rel[sl],
                code[sl],
                (min_abs[sl], min_rel[sl]),
                w,
                (min_points, min_baseline_hosts),
            )
        )
    return cast(HostTestResult, concat_rows(parts))


def _robust_summaries(
    cubes: list[NDArray[np.float64]], rel: NDArray[np.bool_], options: Mapping[str, object]
) -> list[HostSummaries]:
    """Each cube's summaries: the median and the robust jitter where changes are ratios, except
    in rows of whole numbers where medians leave most baseline hosts' changes tied (a queue
    depth's median is 6 before and after on every host: a change of exactly 0) -- there no
    spread is left to compare with, and the mean and the root-mean-square jitter apply.  The
    check is on changes, so a host's persistent factor cannot alter it."""
    summaries = [summarize_hosts(c, robust_rows=rel, **options) for c in cubes]  # type: ignore[arg-type]
    with np.errstate(divide="ignore", invalid="ignore"):
        moved = np.log(summaries[3].location / summaries[2].location)
    coarse = rel & whole_rows(*cubes) & mostly_tied(moved)
    if not coarse.any():
        return summaries
    # Only the location and the jitter depend on the robust choice: redo them for those rows.
    plain = np.zeros(int(coarse.sum()), dtype=bool)
    out = []
    for c, s in zip(cubes, summaries, strict=True):
        redo = summarize_hosts(c[coarse], robust_rows=plain, **options)  # type: ignore[arg-type]
        location, jitter = s.location.copy(), s.jitter.copy()
        location[coarse], jitter[coarse] = redo.location, redo.jitter
        out.append(dataclasses.replace(s, location=location, jitter=jitter))
    return out


def _checked(*cubes: ArrayLike) -> list[NDArray[np.float64]]:
    """The four cubes (canary pre, canary, baseline pre, baseline), checked to fit together."""
    names = ("canary_pre", "canary", "baseline_pre", "baseline")
    out = [as_cube(x, name) for x, name in zip(cubes, names, strict=True)]
    if any(c.shape[0] != out[1].shape[0] for c in out):
        raise ValueError("the four cubes must have the same metrics (rows)")
    if out[0].shape[1] != out[1].shape[1] or out[2].shape[1] != out[3].shape[1]:
        raise ValueError("a cohort's two windows must have the same host slots")
    return out


def _changes(
    pre: HostSummaries, post: HostSummaries, rel: NDArray[np.bool_]
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.float64]]:
    """Each host's location, end and jitter change: log ratios (share of level) where ``rel``."""
    r = rel[:, None]
    end = post.end if post.end is not None else np.full_like(post.location, np.nan)
    with np.errstate(divide="ignore", invalid="ignore"):
        level = np.where(r, np.abs(pre.location), 1.0)
        loc = np.where(r, np.log(post.location / pre.location), post.location - pre.location)
        trend = np.where(r, np.log(end / pre.location), end - pre.location)
        jitter = (post.jitter - pre.jitter) / level
    # A log ratio of a non-positive level is no change at all: the host is not a unit.
    bad = r & ~((pre.location > 0) & (post.location > 0))
    loc[bad] = np.nan
    trend[r & ~(end > 0)] = np.nan
    return loc, trend, jitter


def _change_rows(
    cubes: list[NDArray[np.float64]],
    summaries: list[HostSummaries],
    rel: NDArray[np.bool_],
    code: NDArray[np.int64],
    floors: tuple[NDArray[np.float64], NDArray[np.float64]],
    weights: tuple[float, float, float],
    limits: tuple[int, int],
) -> HostTestResult:
    """:func:`host_change_test` of one block of rows."""
    min_points, min_baseline_hosts = limits
    c_pre, c_post, b_pre, b_post = summaries
    c_loc, c_trend, c_jit = _changes(c_pre, c_post, rel)
    b_loc, b_trend, b_jit = _changes(b_pre, b_post, rel)
    names = direction_names(code)
    t_loc, df, p_loc = unit_location_test(c_loc, b_loc, direction=names)
    _, _, p_trend = unit_t_test(c_trend, b_trend, direction=names, spread=GAUGE_SPREAD)
    up = direction_names(np.ones_like(code))
    _, _, p_jit = unit_t_test(c_jit, b_jit, direction=up, spread=GAUGE_SPREAD)
    p_trend[np.sum(~np.isnan(b_trend), axis=1) < min_baseline_hosts] = np.nan
    p_jit[np.sum(~np.isnan(b_jit), axis=1) < min_baseline_hosts] = np.nan
    centre = quietly(np.nanmean, b_post.location, axis=1)
    pre_centre = quietly(np.nanmean, b_pre.location, axis=1)

    def effect(c: NDArray[np.float64], b: NDArray[np.float64]) -> NDArray[np.float64]:
        d = quietly(np.nanmean, c, axis=1) - quietly(np.nanmean, b, axis=1)
        return np.where(rel, np.abs(centre) * np.expm1(d), d)

    effect_abs = effect(c_loc, b_loc)
    with np.errstate(divide="ignore", invalid="ignore"):
        effect_rel = np.where(centre != 0, effect_abs / np.abs(centre), np.nan)
        jitter_effect = quietly(np.nanmean, c_jit, axis=1) - quietly(np.nanmean, b_jit, axis=1)
    k = np.sum(~np.isnan(c_loc), axis=1).astype(np.int64)
    m = np.sum(~np.isnan(b_loc), axis=1).astype(np.int64)
    comp = HostComponents(
        statistic=t_loc,
        df=df,
        p_location=p_loc,
        p_trend=p_trend,
        p_jitter=p_jit,
        location_test=np.full(len(code), "t"),
        effect_abs=effect_abs,
        effect_rel=effect_rel,
        trend_effect_abs=effect(c_trend, b_trend),
        jitter_effect_abs=np.where(rel, np.abs(pre_centre) * jitter_effect, jitter_effect),
        baseline_centre=centre,
        baseline_scale=quietly(np.nanstd, b_loc, axis=1, ddof=1),
        n_canary_hosts=k,
        n_baseline_hosts=m,
    )
    p_value, practical, component = combine_components(comp, floors[0], floors[1], weights)
    codes = host_inconclusive_codes(cubes[1], cubes[3], k, m, min_baseline_hosts)
    inconclusive = codes != Inconclusive.NONE
    p_value[inconclusive] = np.nan
    practical[inconclusive] = False
    component[inconclusive] = ""

    def changed(
        s: HostSummaries,
        loc: NDArray[np.float64],
        trend: NDArray[np.float64],
        jit: NDArray[np.float64],
    ) -> HostSummaries:
        return HostSummaries(loc, trend, s.spread, jit, s.n_points, s.end)

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
        n_canary_hosts=k,
        n_baseline_hosts=m,
        canary=changed(c_post, c_loc, c_trend, c_jit),
        baseline=changed(b_post, b_loc, b_trend, b_jit),
        between_host_share=between_host_share(b_post),
        lag1_autocorrelation=lag1_autocorrelation(np.concatenate([cubes[1], cubes[3]], axis=1)),
        inconclusive=inconclusive,
        reason=reason_sentences(
            codes, n_baseline_hosts=m, min_points=min_points, min_baseline_hosts=min_baseline_hosts
        ),
        inconclusive_code=codes,
    )


class PreWindowDrift(NamedTuple):
    """How far the canary moved within its own pre-deploy window, per row.

    ``p_value`` is the two-sided p-value of the canary hosts' moves against the baseline hosts'
    moves; ``drift`` the canary hosts' mean move minus the baseline hosts' mean move, on the
    changes' scale (a log ratio where the changes are ratios, else a difference).
    """

    p_value: NDArray[np.float64]
    drift: NDArray[np.float64]


def pre_window_drift(
    canary_pre: ArrayLike, baseline_pre: ArrayLike, relative: ArrayLike
) -> PreWindowDrift:
    """Whether the canary already moved within its pre-deploy window: p-value and size per row.

    Each host's change from the first half of its pre-deploy window to the second half (log
    ratio of the medians where ``relative``, else the difference of means), the canary hosts'
    changes against the spread of the baseline hosts' (two-sided t-type test).  A small p-value
    with a drift of practical size says the canary's past is a poor yardstick: it was drifting
    before the deploy.

    Examples
    --------
    >>> flat = np.full((1, 3, 20), 100.0) + np.arange(3)[None, :, None]
    >>> drift = flat[:, :1].copy()
    >>> drift[..., 10:] += 30.0
    >>> noisy = flat + np.random.default_rng(0).normal(0, 1, flat.shape)
    >>> check = pre_window_drift(drift, noisy, [True])
    >>> bool(check.p_value[0] < 0.01), round(float(np.expm1(check.drift[0])), 1)
    (True, 0.3)
    """
    c, b = as_cube(canary_pre, "canary_pre"), as_cube(baseline_pre, "baseline_pre")
    rel = np.asarray(relative, dtype=bool).reshape(c.shape[0])
    cols = np.any(~np.isnan(np.concatenate([c, b], axis=1)), axis=1)
    first = np.argmax(cols, axis=1)
    last = c.shape[2] - 1 - np.argmax(cols[:, ::-1], axis=1)
    mid = (first + last + 1) / 2.0
    early = np.arange(c.shape[2])[None, None, :] < mid[:, None, None]

    def halves(x: NDArray[np.float64], robust: NDArray[np.bool_]) -> NDArray[np.float64]:
        a = summarize_hosts(np.where(early, x, np.nan), location="median", robust_rows=robust)
        z = summarize_hosts(np.where(early, np.nan, x), location="median", robust_rows=robust)
        with np.errstate(divide="ignore", invalid="ignore"):
            return np.where(rel[:, None], np.log(z.location / a.location), z.location - a.location)

    # Medians where they leave the baseline hosts' moves untied (as in the change test).
    b_moves = halves(b, rel)
    coarse = rel & whole_rows(c, b) & mostly_tied(b_moves)
    robust = rel & ~coarse
    if coarse.any():
        b_moves = halves(b, robust)
    c_moves = halves(c, robust)
    _, _, p = unit_t_test(c_moves, b_moves, direction="either")
    drift = quietly(np.nanmean, c_moves, axis=1) - quietly(np.nanmean, b_moves, axis=1)
    return PreWindowDrift(p, drift)


def moved_with_the_canary(
    changes: ArrayLike, *, floor: ArrayLike = 0.0, cut: float = 3.5
) -> NDArray[np.bool_]:
    """Baseline hosts whose change at the canary start stands out from the other baseline hosts'.

    A host whose change lies more than ``cut`` robust standard deviations (1.4826 x the median
    absolute deviation) and at least ``floor`` (per row, on the changes' scale) from the baseline
    hosts' median change moved at the start too -- a deploy that reached it, a restart -- and
    widens the yardstick the canary is measured with.

    Examples
    --------
    >>> moved_with_the_canary([[0.01, -0.02, 0.0, 0.02, 0.4]]).tolist()
    [[False, False, False, False, True]]
    """
    x = np.asarray(changes, dtype=np.float64)
    x = x[None, :] if x.ndim == 1 else x
    with np.errstate(invalid="ignore"):
        centre = quietly(np.nanmedian, x, axis=1)[:, None]
        mad = 1.4826 * quietly(np.nanmedian, np.abs(x - centre), axis=1)[:, None]
        gap = np.abs(x - centre)
        out = (gap > cut * mad) & (gap >= np.asarray(floor, dtype=np.float64).reshape(-1, 1))
    return np.asarray(out & (mad > 0) & ~np.isnan(x), dtype=bool)
