"""``plan(config, baseline_frame)``: how long, and with how many hosts, a canary must run.

From recent data of healthy hosts, the plan estimates the power of the ``hosts`` method's test
to detect a given relative regression of each gating metric, for a grid of canary durations and
numbers of canary hosts, at the configured false-alarm rate (``judge.alpha`` after the
``judge.multiplicity`` adjustment over the config's gating metrics).

The power is analytic, on the host-level test the judge runs (:mod:`canarystats.stats.hosts`):

* the yardstick is how much healthy hosts' window means differ.  For each duration ``L`` it is
  measured directly: the hosts' means over every non-overlapping window of ``L`` buckets of the
  data, their variance across hosts, averaged over the windows.  Host-to-host differences do not
  shrink with a longer window, so the gain from waiting longer levels off, while more baseline
  hosts (degrees of freedom) and more canary hosts (the canary mean) keep helping;
* the location component's t statistic ``(canary mean - baseline mean) / (s_L sqrt(1/k + 1/m))``
  with ``k`` canary and ``m`` baseline hosts follows a noncentral t with ``k + m - 2`` degrees
  of freedom under a shift (the pooled spread); it must pass ``alpha / (family * components)``
  (the Bonferroni bound that Holm's first step and the judge's combination of location, trend
  and jitter apply), times the mean's weight in the location with two or more canary hosts
  (the worst canary host's part adds power the plan does not count), one-sided for a metric
  with a direction;
* counts are planned on the hosts' log rates (the host part of the count test) and, as the
  count test also requires, the exact test of the events (normal approximation of the binomial);
  the power is the smaller of the two.

A change below a metric's ``min_effect`` can never fail it, so its power is 0.  Trend and jitter
components (leaks, flapping) add power the plan does not count: it answers for a step change.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import pandas as pd
from numpy.typing import NDArray
from scipy import stats as sps

from canarystats.align import HostCubes, align_hosts, fill_count_rows
from canarystats.config import CanaryConfig, MetricConfig
from canarystats.errors import DataError
from canarystats.kinds import count_rows
from canarystats.plan_early_pass import EarlyPassOutlook, early_pass_outlook
from canarystats.sequential.early_pass import too_rare_to_pass_early
from canarystats.stats.host_summaries import spread_across_hosts, window_changes, window_means
from canarystats.stats.hosts import MIN_BASELINE_HOSTS
from canarystats.stats.unit_tests import MEAN_WEIGHT

#: candidate canary durations in minutes (those the data covers are evaluated)
DURATIONS_MIN = (5, 10, 15, 20, 30, 45, 60, 90, 120, 180, 240, 360, 480, 720, 1440)
DEFAULT_CANARY_HOSTS = (1, 2, 3, 4)


@dataclass(frozen=True)
class MetricPlan:
    """The plan of one gating metric.

    ``power[i, j]`` is the power with ``canary_hosts[i]`` canary hosts and ``minutes[j]`` minutes
    (NaN where the data cannot say); ``minutes_needed`` maps each number of canary hosts to the
    shortest evaluated duration reaching the target power (None: none does).  ``note`` says why
    a metric cannot reach it, or is empty.
    """

    name: str
    kind: str
    direction: str
    level: float
    change: float
    host_spread: NDArray[np.float64]
    power: NDArray[np.float64]
    minutes_needed: dict[int, int | None]
    note: str


@dataclass(frozen=True)
class Plan:
    """How long and with how many canary hosts a canary must run; see :func:`plan`."""

    config_name: str
    relative_change: float
    target_power: float
    alpha: float
    multiplicity: str
    family: int
    baseline_hosts: int
    data_minutes: int
    canary_hosts: tuple[int, ...]
    minutes: tuple[int, ...]
    metrics: tuple[MetricPlan, ...]
    recommendation: dict[int, int | None] = field(default_factory=dict)
    """Shortest duration per number of canary hosts at which every metric that can reach the
    power at all (with some number of canary hosts) reaches it; the others are named in
    :meth:`to_text` and carry a note."""
    pre_window: int = 0
    """Seconds of pre-deploy window of the second design (the config's ``judge.pre_window``)."""
    metrics_with_past: tuple[MetricPlan, ...] = ()
    """The metrics' plans where each host is judged against its own pre-deploy window (gauges;
    counts are judged on their rates either way); empty, and ``with_pre_window`` None in
    :meth:`to_dict`, where the pre-deploy window is 0 (or shorter than a bucket)."""
    recommendation_with_past: dict[int, int | None] = field(default_factory=dict)
    """:attr:`recommendation` of the design with a pre-deploy window."""
    sequential_horizon: int = 0
    """Seconds to the config's sequential horizon (0 without a ``sequential`` plan)."""
    too_rare_to_pass_early: tuple[str, ...] = ()
    """The gating counts whose events at the data's rate would be too few to rule out a rise
    of their rate within that horizon even with the most canary hosts evaluated, so a canary
    never passes early on them
    (:func:`canarystats.sequential.early_pass.too_rare_to_pass_early`)."""
    early_pass: EarlyPassOutlook | None = None
    """How likely a healthy canary passes early under the config's sequential plan, judged on
    window levels (:mod:`canarystats.plan_early_pass`); None without a plan."""
    early_pass_with_past: EarlyPassOutlook | None = None
    """The same where each host is judged against its own pre-deploy window."""

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict of the plan (NaN becomes null).

        Examples
        --------
        >>> import json
        >>> p = plan(_example_config(), _example_frame())
        >>> sorted(p.to_dict())[:3]
        ['alpha', 'baseline_hosts', 'canary_hosts']
        >>> _ = json.dumps(p.to_dict(), allow_nan=False)
        """

        def safe(x: float) -> float | None:
            return float(x) if math.isfinite(x) else None

        return {
            "config": self.config_name,
            "relative_change": self.relative_change,
            "power": self.target_power,
            "alpha": self.alpha,
            "multiplicity": self.multiplicity,
            "family": self.family,
            "baseline_hosts": self.baseline_hosts,
            "data_minutes": self.data_minutes,
            "canary_hosts": list(self.canary_hosts),
            "minutes": list(self.minutes),
            "recommendation": {str(k): v for k, v in self.recommendation.items()},
            "sequential": None
            if not self.sequential_horizon
            else {
                "horizon_s": self.sequential_horizon,
                "too_rare_to_pass_early": list(self.too_rare_to_pass_early),
                "early_pass": None if self.early_pass is None else self.early_pass.as_dict(),
                "early_pass_with_past": None
                if self.early_pass_with_past is None
                else self.early_pass_with_past.as_dict(),
            },
            "with_pre_window": None
            if not self.metrics_with_past
            else {
                "pre_window_s": self.pre_window,
                "recommendation": {str(k): v for k, v in self.recommendation_with_past.items()},
                "metrics": [
                    {
                        "name": m.name,
                        "host_spread": [safe(x) for x in m.host_spread],
                        "minutes_needed": {str(k): v for k, v in m.minutes_needed.items()},
                        "note": m.note,
                    }
                    for m in self.metrics_with_past
                ],
            },
            "metrics": [
                {
                    "name": m.name,
                    "kind": m.kind,
                    "direction": m.direction,
                    "level": safe(m.level),
                    "change": safe(m.change),
                    "host_spread": [safe(x) for x in m.host_spread],
                    "power": [[safe(x) for x in row] for row in m.power],
                    "minutes_needed": {str(k): v for k, v in m.minutes_needed.items()},
                    "note": m.note,
                }
                for m in self.metrics
            ],
        }

    def to_text(self) -> str:
        """A short plain-text report: the recommendation, then each metric's needs
        (:func:`canarystats.plan_text.plan_text`).

        Examples
        --------
        >>> print(plan(_example_config(), _example_frame()).to_text().splitlines()[0])
        Plan for web: detect a 10% regression with 80% power at alpha 0.05 (Hommel over 1 metric).
        """
        from canarystats.plan_text import plan_text

        return plan_text(self)


def plan(
    config: CanaryConfig,
    baseline_frame: pd.DataFrame,
    *,
    relative_change: float = 0.1,
    power: float = 0.8,
    canary_hosts: Sequence[int] = DEFAULT_CANARY_HOSTS,
    baseline_hosts: int | None = None,
    minutes: Sequence[int] | None = None,
) -> Plan:
    """Estimate how long, and with how many canary hosts, a canary must run to see a regression.

    Parameters
    ----------
    config : CanaryConfig
        The canary config; its gating (non-muted) metrics, ``min_effect``, ``direction``,
        ``judge.alpha`` and ``judge.multiplicity`` are used.
    baseline_frame : pandas.DataFrame
        Recent tidy data of healthy hosts (either cohort; every host counts as a healthy peer),
        longer than the longest duration to evaluate.
    relative_change : float
        The regression to detect, relative to each metric's level (0.1: 10% worse, in the
        metric's harmful direction; an increase for ``either``).
    power : float
        Target probability of failing a canary with that regression.
    canary_hosts : sequence of int
        Numbers of canary hosts to evaluate.
    baseline_hosts : int, optional
        Baseline hosts the canary will be compared with; default: the hosts in the data.
    minutes : sequence of int, optional
        Durations to evaluate; default :data:`DURATIONS_MIN` up to the data's span.

    Returns
    -------
    Plan

    Raises
    ------
    canarystats.errors.DataError
        When the data has fewer than 3 hosts, or no metric of the config.

    Examples
    --------
    >>> p = plan(_example_config(), _example_frame(), relative_change=0.1)
    >>> p.baseline_hosts, p.recommendation[4] is not None
    (6, True)
    """
    if not relative_change > 0.0:
        raise ValueError(f"relative_change must be positive, got {relative_change}")
    if not 0.0 < power < 1.0:
        raise ValueError(f"power must lie in (0, 1), got {power}")
    ks = tuple(sorted({int(k) for k in canary_hosts}))
    if not ks or ks[0] < 1:
        raise ValueError("canary_hosts must list numbers of hosts >= 1")
    if all(m.muted for m in config.metrics):
        raise DataError(f"{config.source}: every metric is muted; there is nothing to plan for")
    cubes, cube, n_hosts, counts = _healthy_hosts(config, baseline_frame)
    # Planned as the judge will judge them: an undeclared metric whose values look like a
    # count (sparse whole numbers) is a count there, and so here.
    gating = tuple(
        replace(m, kind="count") if counts[i] else m
        for i, m in enumerate(config.metrics)
        if not m.muted
    )
    m_hosts = n_hosts if baseline_hosts is None else int(baseline_hosts)
    step_min = {m.name: m.step / 60.0 for m in config.metrics}
    span, grid = _durations(config, cubes, minutes)
    family = len(gating)
    alpha = config.judge.alpha
    if config.judge.multiplicity != "none":
        alpha = alpha / family
    row_of = {m.name: i for i, m in enumerate(config.metrics)}
    exposure = _exposures(config.metrics, cube, row_of)
    plans, with_past = [], []
    for metric in gating:
        i = row_of[metric.name]
        args = (metric, cube[i], exposure[i], step_min[metric.name], grid, ks, m_hosts)
        plans.append(_metric_plan(*args, relative_change, power, alpha))
        past = round(config.judge.pre_window / metric.step)
        if past > 0:  # a pre-window of 0 (or under a bucket) plans window levels only
            with_past.append(_metric_plan(*args, relative_change, power, alpha, past=past))
    return Plan(
        config_name=config.name,
        relative_change=relative_change,
        target_power=power,
        alpha=config.judge.alpha,
        multiplicity=config.judge.multiplicity,
        family=family,
        baseline_hosts=m_hosts,
        data_minutes=span,
        canary_hosts=ks,
        minutes=grid,
        metrics=tuple(plans),
        recommendation=_recommendation(plans, ks, grid, power),
        pre_window=config.judge.pre_window,
        metrics_with_past=tuple(with_past),
        recommendation_with_past=_recommendation(with_past, ks, grid, power) if with_past else {},
        **_sequential(config, gating, cube, exposure, row_of, ks, m_hosts),
    )


def _sequential(
    config: CanaryConfig,
    gating: tuple[MetricConfig, ...],
    cube: NDArray[np.float64],
    exposure: NDArray[np.float64],
    row_of: dict[str, int],
    ks: tuple[int, ...],
    m_hosts: int,
) -> dict[str, Any]:
    """The plan's fields on the config's sequential plan: its horizon, the counts too rare to
    pass early, and the early-pass outlook on window levels and with each gauge's past."""
    args = (config, gating, cube, exposure, row_of, ks, m_hosts)
    pasts = {m.name: round(config.judge.pre_window / m.step) for m in gating if m.kind != "count"}
    with_past = any(v > 0 for v in pasts.values())
    return {
        "sequential_horizon": config.sequential.horizon if config.sequential else 0,
        "too_rare_to_pass_early": _too_rare(config, gating, cube, row_of, ks[-1], m_hosts),
        "early_pass": early_pass_outlook(*args),
        "early_pass_with_past": early_pass_outlook(*args, past=pasts) if with_past else None,
    }


def _too_rare(
    config: CanaryConfig,
    gating: tuple[MetricConfig, ...],
    cube: NDArray[np.float64],
    row_of: dict[str, int],
    canary_hosts: int,
    baseline_hosts: int,
) -> tuple[str, ...]:
    """The gating counts the config's sequential plan could never pass early at their rates."""
    seq = config.sequential
    if seq is None:
        return ()
    out = []
    for m in gating:
        values = cube[row_of[m.name]]
        if m.kind != "count" or not np.any(np.isfinite(values)):
            continue
        per_bucket = float(np.nanmean(values))
        hosts = {"canary_hosts": canary_hosts, "baseline_hosts": baseline_hosts}
        if too_rare_to_pass_early(m, seq, events_per_bucket=per_bucket, **hosts):
            out.append(m.name)
    return tuple(out)


def _durations(
    config: CanaryConfig, cubes: HostCubes, minutes: Sequence[int] | None
) -> tuple[int, tuple[int, ...]]:
    """The minutes the data covers, and the durations to evaluate within them."""
    span = int(np.max(cubes.columns * np.array([m.step for m in config.metrics]) // 60))
    grid = tuple(
        int(x) for x in (minutes if minutes is not None else DURATIONS_MIN) if int(x) <= span
    )
    if not grid:
        raise DataError(
            f"the plan's data covers {span} minutes; give at least {DURATIONS_MIN[0]} minutes"
        )
    return span, grid


def _healthy_hosts(
    config: CanaryConfig, frame: pd.DataFrame
) -> tuple[HostCubes, NDArray[np.float64], int, NDArray[np.bool_]]:
    """The data's cubes, every host of both cohorts as one cube, the most hosts a metric has,
    and which metrics are counts (declared, or inferred from their values as the judge does)."""
    cubes = align_hosts(frame, config.metrics, fill_counts=False)
    counts, _ = count_rows(cubes, config.metrics)
    fill_count_rows(cubes, counts)
    # Every host of the recent data is a healthy peer, whichever cohort it was fetched as.
    cube = np.concatenate([cubes.canary, cubes.baseline], axis=1)
    present = np.any(~np.isnan(cube), axis=2)
    n_hosts = int(np.max(present.sum(axis=1))) if present.size else 0
    if n_hosts < MIN_BASELINE_HOSTS:
        raise DataError(
            f"the plan's data has {n_hosts} host(s); it needs at least {MIN_BASELINE_HOSTS} "
            "healthy hosts to measure how much hosts differ"
        )
    return cubes, cube, n_hosts, counts


def _recommendation(
    plans: Sequence[MetricPlan], ks: tuple[int, ...], grid: tuple[int, ...], power: float
) -> dict[int, int | None]:
    """Per number of canary hosts, the shortest duration at which every deciding metric has
    the power (None: no duration does).

    Metrics that reach the power with some number of canary hosts set the recommendation; the
    others are named in the report instead of making every answer "never".
    """
    deciding = [p for p in plans if any(v is not None for v in p.minutes_needed.values())]
    recommendation: dict[int, int | None] = {}
    for a, k in enumerate(ks):
        ok = np.ones(len(grid), dtype=bool) if deciding else np.zeros(len(grid), dtype=bool)
        for p in deciding:
            ok &= np.nan_to_num(p.power[a], nan=0.0) >= power
        recommendation[k] = grid[int(np.argmax(ok))] if ok.any() else None
    return recommendation


def _exposures(
    metrics: tuple[MetricConfig, ...], cube: NDArray[np.float64], row_of: dict[str, int]
) -> NDArray[np.float64]:
    # Per-bucket exposure of each count metric: its requests metric, else one per bucket.
    out = np.where(np.isnan(cube), np.nan, 1.0)
    for i, m in enumerate(metrics):
        if m.exposure is not None and m.exposure in row_of:
            out[i] = cube[row_of[m.exposure]]
    return out


def _spreads(
    values: NDArray[np.float64],
    exposure: NDArray[np.float64],
    step_min: float,
    grid: tuple[int, ...],
    past: int,
    relative: bool,
    count: bool,
) -> NDArray[np.float64]:
    """How much healthy hosts' test units differ, per duration: window levels (log rates for a
    count), or each host's change from its ``past`` buckets before (``past > 0``)."""
    spreads = np.full(len(grid), np.nan)
    for j, minutes in enumerate(grid):
        length = max(round(minutes / step_min), 1)
        if past:
            means = window_changes(values, length, past, relative)
        elif count:
            means = np.log(window_means(values, length, exposure))
        else:
            means = window_means(values, length)
        spreads[j] = spread_across_hosts(means)
    return spreads


def _metric_plan(
    metric: MetricConfig,
    values: NDArray[np.float64],
    exposure: NDArray[np.float64],
    step_min: float,
    grid: tuple[int, ...],
    ks: tuple[int, ...],
    m_hosts: int,
    relative_change: float,
    target: float,
    alpha: float,
    past: int = 0,
) -> MetricPlan:
    count = metric.kind == "count"
    relative = bool(np.nanmin(values) > 0) if np.any(np.isfinite(values)) else False
    changes = past > 0 and not count
    sign = -1.0 if metric.direction == "decrease" else 1.0
    two_sided = metric.direction == "either"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        if count:
            level = float(np.nansum(values) / np.nansum(exposure))
            per_bucket = float(np.nanmean(values))  # one host's events (the level is per exposure)
        else:
            level = float(np.nanmean(np.nanmean(values, axis=1)))
    change = relative_change * abs(level)
    spreads = _spreads(values, exposure, step_min, grid, past if changes else 0, relative, count)
    k = np.array(ks, dtype=np.float64)[:, None]
    lengths = np.array([max(round(x / step_min), 1) for x in grid], dtype=np.float64)[None, :]
    components = 1 + (lengths >= 4) + (lengths >= 6)  # location, jitter, trend as the judge has
    a = alpha / components
    if two_sided:
        a = a / 2.0
    crit, df = _critical(a, k, m_hosts, count=count)
    delta = math.log1p(relative_change) if count or (changes and relative) else change
    with np.errstate(divide="ignore", invalid="ignore"):
        ncp = delta / (spreads[None, :] * np.sqrt(1.0 / k + 1.0 / m_hosts))
    ncp = np.where(spreads[None, :] == 0, np.inf, ncp)
    pw = np.asarray(sps.nct.sf(crit, df, np.minimum(ncp, 1e6)), dtype=np.float64)
    pw = np.where(np.isnan(spreads)[None, :], np.nan, pw)
    note = ""
    if count:
        events_pw = _events_power(per_bucket * lengths, k, m_hosts, relative_change, a)
        hosts_pw, pw = pw, np.fmin(pw, events_pw)
        if level <= 0:
            pw[:] = np.nan
            note = "no regression to scale: the baseline has no events (any events are judged)"
    if np.all(np.isnan(values)):
        pw = np.full_like(pw, np.nan)
        note = "no data for this metric in the plan's data"
    if not note and sign < 0 and relative_change >= 1:
        pw = np.full_like(pw, np.nan)
        note = f"a {relative_change * 100:g}% decrease is below zero: plan a change under 1"
    floor = max(metric.min_effect.relative, metric.min_effect.absolute / abs(level) if level else 0)
    if not note and relative_change < floor:
        pw = np.zeros_like(pw)
        note = f"{relative_change * 100:g}% is below the metric's minimum effect ({floor * 100:g}%)"
    if not note and m_hosts < MIN_BASELINE_HOSTS:
        pw = np.full_like(pw, np.nan)
        note = f"{m_hosts} baseline hosts: the judge needs {MIN_BASELINE_HOSTS}"
    needed: dict[int, int | None] = {}
    for a_i, kk in enumerate(ks):
        ok = np.nan_to_num(pw[a_i], nan=0.0) >= target
        needed[kk] = grid[int(np.argmax(ok))] if ok.any() else None
    if not note and np.all(np.isnan(spreads)):
        have = f"the plan's data ({values.shape[1] * step_min:g} minutes)"
        note = (
            f"{have} holds no window after each host's past of {past * step_min:g} minutes; "
            "give more data"
            if changes
            else f"{have} has fewer than two hosts with this metric"
        )
    if not note and all(v is None for v in needed.values()):
        what = "healthy hosts" + ("' changes" if changes else "' rates" if count else "")
        best = f"best power {np.nanmax(pw) * 100:.0f}% (with {ks[-1]} canary hosts)"
        note = (
            f"{best}: {what} differ too much for this change; more baseline or canary hosts "
            "help more than waiting"
        )
        if count and not np.nanmax(events_pw) >= target:
            # The events are short (too): a count tells a small rise from chance only over
            # many events, however alike the hosts are.
            hosts_too = f", and {what} differ too much" if not np.nanmax(hosts_pw) >= target else ""
            note = (
                f"{best}: too few events ({per_bucket * 60.0 / step_min:.3g} per host per hour in "
                f"the data) to tell a {relative_change * 100:g}% rise from chance within "
                f"{grid[-1]} minutes{hosts_too}"
            )
    return MetricPlan(
        name=metric.name,
        kind=metric.kind,
        direction=metric.direction,
        level=level,
        change=change,
        host_spread=spreads,
        power=pw,
        minutes_needed=needed,
        note=note,
    )


def _critical(
    a: NDArray[np.float64], k: NDArray[np.float64], m_hosts: int, *, count: bool
) -> tuple[NDArray[np.float64], NDArray[np.float64]]:
    """The location test's one-sided critical t and degrees of freedom per (hosts, duration)."""
    if count:  # the count test's hosts part: the baseline's spread, m - 1 degrees of freedom
        a_t, df = a, np.full_like(k, float(m_hosts - 1))
    else:  # the pooled mean's share of the location (its worst host adds power not counted)
        a_t, df = a * np.where(k >= 2, MEAN_WEIGHT, 1.0), k + m_hosts - 2.0
    return np.asarray(sps.t.ppf(1.0 - a_t, df), dtype=np.float64), df


def _events_power(
    per_host: NDArray[np.float64],
    k: NDArray[np.float64],
    m_hosts: int,
    relative_change: float,
    a: NDArray[np.float64],
) -> NDArray[np.float64]:
    """Power of the count test's exact events part (normal approximation of the binomial): the
    canary's share of the events against ``p0 = k / (k + m)``, with ``per_host`` events per
    host per window (``(1, duration)``) and ``k`` canary hosts (``(hosts, 1)``)."""
    p0 = k / (k + m_hosts)
    r = 1.0 + relative_change
    n_events = per_host * (k * r + m_hosts)
    p1 = k * r / (k * r + m_hosts)
    z = sps.norm.ppf(1.0 - a)
    with np.errstate(divide="ignore", invalid="ignore"):
        z_pow = (n_events * (p1 - p0) - z * np.sqrt(n_events * p0 * (1 - p0))) / np.sqrt(
            n_events * p1 * (1 - p1)
        )
    return np.asarray(sps.norm.cdf(z_pow), dtype=np.float64)


def _example_config() -> CanaryConfig:
    from canarystats.config import load_config

    return load_config({"name": "web", "metrics": [{"name": "latency", "query": "q"}]})


def _example_frame() -> pd.DataFrame:
    # Six healthy hosts, one point a minute for two hours: levels 100 +- 2, noise sd 1.
    rng = np.random.default_rng(0)
    hosts, minutes = 6, 120
    level = 100 + rng.normal(0, 2, (hosts, 1)) + rng.normal(0, 1, (hosts, minutes))
    t0 = pd.Timestamp("2026-03-01", tz="UTC")
    return pd.DataFrame(
        {
            "metric": "latency",
            "cohort": "baseline",
            "host": np.repeat([f"h{i}" for i in range(hosts)], minutes),
            "timestamp": np.tile(t0 + pd.to_timedelta(np.arange(minutes), unit="min"), hosts),
            "value": level.ravel(),
        }
    )
