"""The chance that a healthy canary passes early under a config's sequential plan.

A sequential plan passes a canary before its horizon once every gating metric has ruled out its
minimum practical effect (:mod:`canarystats.sequential.decide`).  Whether a healthy canary can
do that is set by the fleet, not by the canary: hosts that differ persistently, a percentile
that jumps, errors too rare to tell a 25 % rise from chance.  A team that wants its healthy
deploys through in half the horizon needs to know before it deploys whether the plan can do
that, and what to change if not (canary hosts, a pre-deploy window, a wider ``min_effect``).

From the same healthy hosts' data as :func:`canarystats.plan.plan`, for each gating metric and
number of canary hosts, the chance that a canary exactly like the baseline has ruled the
metric's regression out by each look:

* a gauge by the early-pass test the judge runs (Student's two-sample t of the hosts' window
  levels, or of each host's change from its past, on the log scale where the metric is
  positive, against the margin ``min_effect``): with ``k`` canary and ``m`` baseline hosts and
  the healthy hosts' spread ``s_L`` over the look's ``L`` buckets, the statistic is noncentral
  t with ``k + m - 2`` degrees of freedom and noncentrality ``margin / (s_L sqrt(1/k + 1/m))``,
  held against the look's Pocock-type boundary of ``pass_alpha``;
* a count by the rate test against its tolerance at the events the data's rate gives (its
  burstiness measured on the data), plus the chance that neither cohort has any event yet;
* over the looks, each metric's statistics as a Brownian path (their correlation from how the
  yardstick shrinks: where hosts differ persistently it hardly does, and a later look adds
  little), so the chance by a look counts every earlier chance to cross;
* over the metrics, the product (taken as independent: a little pessimistic where they move
  together), and none before ``min_duration`` or at the horizon itself (a pass there is not
  early).

The chances are estimates of the judge's behaviour on the data's fleet, not guarantees: a
fleet whose hosts drift apart differently from the data's will differ.

Examples
--------
>>> from canarystats.plan import _example_config, _example_frame, plan
>>> from dataclasses import replace
>>> from canarystats.config.sequential import SequentialPlan
>>> cfg = replace(_example_config(), sequential=SequentialPlan(horizon=1800, look_every=300))
>>> outlook = plan(cfg, _example_frame()).early_pass
>>> outlook.minutes
(5.0, 10.0, 15.0, 20.0, 25.0)

Hosts 2 % apart against a minimum effect of 8 %: half of healthy canaries pass at the first
look with data (the first 5 minutes are the restart's warm-up), whatever the canary hosts:

>>> outlook.half_by()
{1: 10.0, 2: 10.0, 3: 10.0, 4: 10.0}
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
from numpy.typing import NDArray
from scipy import stats as sps

from canarystats.config import CanaryConfig, MetricConfig
from canarystats.config.sequential import SequentialPlan
from canarystats.sequential.decide import information_rates, nominal_levels
from canarystats.sequential.early_pass import PASS_SPENDING
from canarystats.stats.counts import burstiness
from canarystats.stats.host_summaries import spread_across_hosts, window_changes, window_means
from canarystats.stats.noninferiority import rate_margin_test
from canarystats.stats.unit_tests import Direction
from canarystats.windows import warmups

__all__ = ["EarlyPassOutlook", "early_pass_outlook"]

#: Brownian paths drawn per metric and number of canary hosts (a fixed seed: the same plan
#: from the same data every time); the chances are read to a percent
_PATHS = 20_000


@dataclass(frozen=True)
class EarlyPassOutlook:
    """How likely a healthy canary passes early, per number of canary hosts and look.

    ``minutes`` are the looks before the horizon (data time since the canary start);
    ``by_metric[name][i, j]`` the chance that metric has ruled out its minimum practical effect
    at look ``j`` with ``canary_hosts[i]`` canary hosts; ``chance[i, j]`` that the canary has
    passed early by then: every gating metric ruled out at one look so far, at least the largest
    such chance at any one look (0 before ``min_duration``; NaN where a metric's chance is
    unknown: no data, or too little of it to measure how much hosts differ).
    """

    horizon_minutes: float
    pass_alpha: float
    canary_hosts: tuple[int, ...]
    minutes: tuple[float, ...]
    by_metric: dict[str, NDArray[np.float64]]
    chance: NDArray[np.float64]

    def half_by(self) -> dict[int, float | None]:
        """Per number of canary hosts, the first look by which half of healthy canaries pass
        early (None: none before the horizon)."""
        out: dict[int, float | None] = {}
        for i, k in enumerate(self.canary_hosts):
            ok = np.nan_to_num(self.chance[i], nan=0.0) >= 0.5
            out[k] = self.minutes[int(np.argmax(ok))] if ok.any() else None
        return out

    def half_horizon(self) -> int:
        """The index of the last look at or before half the horizon (the first look if none)."""
        halfway = self.horizon_minutes / 2
        return max((j for j, t in enumerate(self.minutes) if t <= halfway), default=0)

    def least_likely(self, n: int = 3) -> list[tuple[str, float]]:
        """The ``n`` metrics least likely to be ruled out at the last early look with the most
        canary hosts: what holds an early pass back."""
        last = [(name, float(c[-1, -1])) for name, c in self.by_metric.items() if c.size]
        known = sorted((x for x in last if math.isfinite(x[1])), key=lambda x: x[1])
        return known[:n]

    def as_dict(self) -> dict[str, Any]:
        """A JSON-safe dict (NaN becomes null)."""

        def safe(a: NDArray[np.float64]) -> list[list[float | None]]:
            return [[float(x) if math.isfinite(x) else None for x in row] for row in a]

        return {
            "pass_alpha": self.pass_alpha,
            "minutes": list(self.minutes),
            "canary_hosts": list(self.canary_hosts),
            "chance": safe(self.chance),
            "half_by": {str(k): v for k, v in self.half_by().items()},
            "by_metric": {name: safe(c) for name, c in self.by_metric.items()},
        }


def early_pass_outlook(
    config: CanaryConfig,
    gating: Sequence[MetricConfig],
    cube: NDArray[np.float64],
    exposure: NDArray[np.float64],
    row_of: dict[str, int],
    canary_hosts: Sequence[int],
    baseline_hosts: int,
    *,
    past: dict[str, int] | None = None,
) -> EarlyPassOutlook | None:
    """The early-pass outlook of ``config``'s sequential plan on healthy hosts' data.

    Parameters
    ----------
    config : CanaryConfig
        The config; None is returned without a ``sequential`` plan.
    gating : sequence of MetricConfig
        The gating metrics, with ``kind`` as the judge will see it (declared or inferred).
    cube, exposure : ndarray
        ``(metric, host, time)`` healthy hosts' values and each count's exposure per bucket, in
        config order (``row_of`` maps a metric's name to its row).
    canary_hosts : sequence of int
        Numbers of canary hosts to evaluate.
    baseline_hosts : int
        Baseline hosts the canary will be compared with.
    past : dict, optional
        Per gauge, the buckets of each host's own past (the design with a pre-deploy window);
        None: window levels.

    Returns
    -------
    EarlyPassOutlook or None
    """
    plan = config.sequential
    if plan is None or plan.n_looks < 2:
        return None
    times = np.asarray(plan.look_times(), dtype=np.float64)
    rates = information_rates(config, plan)
    ks = np.asarray(canary_hosts, dtype=np.float64)
    names = (m.name for m in config.metrics)
    left_out = dict(zip(names, warmups(config.metrics, config.judge), strict=True))
    by_metric: dict[str, NDArray[np.float64]] = {}
    for m in gating:
        values, r = cube[row_of[m.name]], rates[m.name]
        # Each look judges the data after the metric's warm-up (none for a count whose harm
        # is an increase), as the judge's information rates have it.
        w = 0 if m.kind == "count" and m.direction == "increase" else left_out[m.name]
        buckets = np.where(np.isfinite(r), (times - min(w, plan.horizon // 2)) / m.step, np.nan)
        args = (m, values, buckets, r, ks, baseline_hosts, plan)
        if m.kind == "count":
            by_metric[m.name] = _count_chance(*args, exposure[row_of[m.name]])
        else:
            by_metric[m.name] = _gauge_chance(*args, (past or {}).get(m.name, 0))
    early = times[:-1]
    joint = np.ones((len(ks), len(early)))
    for c in by_metric.values():
        joint = joint * c
    wait = max((m.min_duration or plan.min_duration for m in gating), default=0)
    joint[:, early < wait] = 0.0
    # A count with no event yet is ruled out and may not stay so once events come, so a
    # metric's chance is per look; passing by a look is at least passing at any look so far.
    joint = np.where(np.isnan(joint), np.nan, np.fmax.accumulate(np.nan_to_num(joint), axis=1))
    return EarlyPassOutlook(
        horizon_minutes=plan.horizon / 60.0,
        pass_alpha=plan.pass_alpha,
        canary_hosts=tuple(int(k) for k in ks),
        minutes=tuple(float(t) / 60.0 for t in early),
        by_metric=by_metric,
        chance=joint,
    )


def _gauge_chance(
    m: MetricConfig,
    values: NDArray[np.float64],
    buckets: NDArray[np.float64],
    rates: NDArray[np.float64],
    ks: NDArray[np.float64],
    m_hosts: int,
    plan: SequentialPlan,
    past: int,
) -> NDArray[np.float64]:
    """A gauge's chance of having ruled out its margin by each early look, per canary hosts."""
    finite = values[np.isfinite(values)]
    out = np.full((len(ks), len(buckets) - 1), np.nan)
    if finite.size == 0 or m_hosts < 2:
        return out
    ratio = bool(np.all(finite > 0))
    centre = abs(float(np.mean(finite)))
    rel, absolute = m.min_effect.relative, m.min_effect.absolute
    if ratio:
        margin = max(math.log1p(rel), math.log1p(absolute / centre) if centre > 0 else 0.0)
    else:
        margin = max(absolute, rel * centre)
    spreads = np.full(len(buckets), np.nan)
    for j, n in enumerate(buckets):
        if np.isfinite(n):
            spreads[j] = _spread(values, max(round(n), 1), past, ratio)
    df = ks[:, None] + m_hosts - 2.0
    with np.errstate(divide="ignore", invalid="ignore"):
        se = spreads[None, :] * np.sqrt(1.0 / ks[:, None] + 1.0 / m_hosts)
        ncp = np.where(se > 0, margin / se, np.inf)
    nominal = nominal_levels(rates, plan.pass_alpha, PASS_SPENDING)
    crit = sps.t.ppf(1.0 - nominal[None, :], df)
    one = np.asarray(sps.nct.sf(crit, df, np.minimum(ncp, 1e6)), dtype=np.float64)
    if m.direction == "either":  # both sides must be ruled out
        one = np.clip(2.0 * one - 1.0, 0.0, 1.0)
    one = np.where(np.isfinite(nominal)[None, :], one, 0.0)
    one = np.where(np.isnan(spreads)[None, :] & np.isfinite(nominal)[None, :], np.nan, one)
    for i in range(len(ks)):
        out[i] = _by_look(one[i], se[i], nominal)[:-1]
    return out


def _count_chance(
    m: MetricConfig,
    values: NDArray[np.float64],
    buckets: NDArray[np.float64],
    rates: NDArray[np.float64],
    ks: NDArray[np.float64],
    m_hosts: int,
    plan: SequentialPlan,
    exposure: NDArray[np.float64],
) -> NDArray[np.float64]:
    """A count's chance of having ruled out its tolerance by each early look."""
    out = np.full((len(ks), len(buckets) - 1), np.nan)
    if not np.any(np.isfinite(values)):
        return out
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        events, per = float(np.nanmean(values)), float(np.nanmean(exposure))
    burst = float(burstiness(np.nan_to_num(values, nan=0.0))[0])
    nominal = nominal_levels(rates, plan.pass_alpha, PASS_SPENDING)
    c = sps.norm.isf(nominal)
    for i, k in enumerate(ks):
        z = rate_margin_test(
            events * k * buckets,
            per * k * buckets,
            events * m_hosts * buckets,
            per * m_hosts * buckets,
            plan.tolerance_of(m.min_effect.relative),
            direction=cast(Direction, m.direction),
            canary_burstiness=burst,
            baseline_burstiness=burst,
            min_diff=m.min_effect.absolute,
        )
        one = np.where(np.isfinite(nominal), sps.norm.sf(c - z), 0.0)
        with np.errstate(invalid="ignore"):
            se = 1.0 / np.sqrt(buckets)  # a count's information grows with its exposure
        crossed = _by_look(one, se, nominal)
        # No event on either side yet rules the rise out (there is nothing to rule out); a
        # look inside the count's warm-up has no data and rules nothing out.
        quiet = np.where(
            np.isfinite(buckets), np.exp(-events * (k + m_hosts) * buckets / burst), 0.0
        )
        out[i] = (quiet + (1.0 - quiet) * crossed)[:-1]
    return out


def _by_look(
    one: NDArray[np.float64], se: NDArray[np.float64], nominal: NDArray[np.float64]
) -> NDArray[np.float64]:
    """The chance of crossing by each look, from each look's own chance ``one`` (a Brownian
    path: look ``i`` and ``j > i`` correlate as ``se_j / se_i``)."""
    used = np.isfinite(nominal) & np.isfinite(one) & np.isfinite(se)
    out = np.where(np.isnan(one) & np.isfinite(nominal), np.nan, 0.0)
    if not used.any():
        return out
    idx = np.flatnonzero(used)
    # Hosts without spread decide on the shift alone: such a look is all but uncorrelated
    # with a noisy one, and its own chance (0 or 1) holds.
    s = np.where(se[idx] > 0, se[idx], 1e-12 * max(float(np.max(se[idx])), 1.0))
    corr = np.minimum.outer(s, s) / np.maximum.outer(s, s)
    c = sps.norm.isf(nominal[idx])
    mu = c + sps.norm.ppf(np.clip(one[idx], 1e-12, 1.0 - 1e-12))
    rng = np.random.default_rng(0)
    draws = rng.multivariate_normal(mu, corr, size=_PATHS, method="eigh")
    crossed = np.logical_or.accumulate(draws > c, axis=1).mean(axis=0)
    for n, j in enumerate(idx):
        out[j:] = np.where(np.isnan(out[j:]), np.nan, np.fmax(out[j:], crossed[n]))
    return out


def _spread(values: NDArray[np.float64], length: int, past: int, ratio: bool) -> float:
    """How much healthy hosts' test units differ over ``length`` buckets: window levels (their
    logs where positive), or each host's change from its ``past`` buckets."""
    with warnings.catch_warnings(), np.errstate(divide="ignore", invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        if past:
            units = window_changes(values, length, past, ratio)
        else:
            units = window_means(values, length)
            units = np.log(units) if ratio else units
    return spread_across_hosts(units)
