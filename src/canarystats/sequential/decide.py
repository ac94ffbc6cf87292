"""The sequential decision: fail at a boundary, pass early when a regression is ruled out.

At every look each gating metric carries two running p-values, both valid however many looks
are taken:

* **to fail** -- a gauge's one-shot p-value at each look (in the direction of harm) becomes a
  z-statistic, and its *repeated p-value* (the smallest alpha whose alpha-spending boundary the
  path has crossed so far, :func:`canarystats.stats.sequential.repeated_p_values`) is compared
  across the run's metrics with the one-shot judge's multiplicity procedure.  A count's is the
  anytime-valid p-value of an e-process on its exposure-adjusted rate ratio against the plan's
  ``count_tolerance`` (:mod:`canarystats.stats.eprocess`), confirmed by the one-shot count
  test.  A gauge that crosses fails at the next look that still shows it (or at the horizon
  when it first crosses there).  An absolute threshold crossed at a look fails the metric
  outright.
* **to pass early** -- the same for the converse: a gauge's non-inferiority p-value (its shift is
  below its minimum practical effect) with its own spending at ``pass_alpha``; for a count,
  the same on a Wald statistic that its rate ratio is inside the tolerance, or its rate within
  its absolute ``min_effect`` where that is the wider margin
  (:func:`canarystats.stats.noninferiority.rate_margin_test`).  A canary passes early when *every*
  gating metric has ruled its regression out (an intersection-union test, which needs no
  multiplicity correction), no sooner than each metric's ``min_duration``, and never while a
  metric has no data.  A count with no event on either side yet has nothing to rule out.

The canary fails at the first look where a metric crosses (and the score falls below the pass
score), passes early as above, and otherwise is decided at the horizon like the one-shot judge
(pass, or no verdict without data).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any, cast

import numpy as np
from scipy import stats as sps

from canarystats.config import CanaryConfig, MetricConfig
from canarystats.config.sequential import SequentialPlan
from canarystats.labels import FAILING, Label, Verdict
from canarystats.results import Judgment, json_safe
from canarystats.score import ScoredMetric, score
from canarystats.sequential.early_pass import PASS_SPENDING, held_back
from canarystats.sequential.looks import Look, LookMetric
from canarystats.stats.eprocess import anytime_p_values, rate_ratio_log_e
from canarystats.stats.multiplicity import AdjustMethod, adjust_p_values
from canarystats.stats.noninferiority import rate_margin_test
from canarystats.stats.sequential import Spending, boundaries, repeated_p_values
from canarystats.stats.unit_tests import Direction
from canarystats.windows import warmups

__all__ = [
    "UNDECIDED",
    "Decision",
    "MetricPath",
    "decide",
    "information_rates",
    "nominal_levels",
    "path_as_dict",
]

#: the decision while no boundary has been reached and the horizon is ahead
UNDECIDED = "undecided"


@dataclass(frozen=True)
class MetricPath:
    """One metric's path over the looks so far (lists, one entry per look).

    ``p_look`` is the p-value at each look (for a count: the anytime p-value), ``p_fail`` the
    repeated p-value, ``p_adjusted`` after the multiplicity procedure across metrics,
    ``boundary`` the nominal p-value a gauge had to reach at each look on its own (the
    spending boundary at ``alpha``), ``p_pass`` the repeated non-inferiority p-value.
    ``status`` is ``failed``, ``crossed`` (a gauge past its boundary, failing at the next look
    that still shows the regression), ``ruled out``, ``open`` or ``no data`` at each look.
    """

    name: str
    kind: list[str] = field(default_factory=list)
    p_look: list[float] = field(default_factory=list)
    p_fail: list[float] = field(default_factory=list)
    p_adjusted: list[float] = field(default_factory=list)
    boundary: list[float] = field(default_factory=list)
    p_pass: list[float] = field(default_factory=list)
    status: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Decision:
    """What the looks so far decide.

    ``verdict`` is ``pass``, ``marginal``, ``fail``, ``nodata`` or ``undecided``; ``look`` the
    1-based look that decided (the last look taken while undecided), ``at`` its seconds after
    the start, ``early`` whether a pass came before the horizon, ``failed`` the metrics that
    crossed, ``reason`` one sentence, ``judgment`` the one-shot judgment at that look with
    the sequential labels (None before any look), and ``held_back`` what kept a canary that
    did not pass early from it (empty where nothing did or it is moot:
    :func:`canarystats.sequential.early_pass.held_back`).
    """

    verdict: str
    look: int
    at: int
    early: bool
    failed: tuple[str, ...]
    reason: str
    paths: dict[str, MetricPath]
    judgment: Judgment | None
    held_back: str = ""

    def said(self) -> str:
        """The reason with what held an early pass back, as plain text reports say it."""
        return f"{self.reason} {self.held_back}" if self.held_back else self.reason


def decide(
    config: CanaryConfig, plan: SequentialPlan, looks: Sequence[Look], alpha: float
) -> Decision:
    """Decide on the looks taken so far (in order, without gaps, from look 1).

    Examples
    --------
    >>> from canarystats.config import load_config
    >>> cfg = load_config({"name": "c", "sequential": {}, "metrics": [{"name": "m", "query": "q"}]})
    >>> decide(cfg, cfg.sequential, [], 0.05).verdict
    'undecided'
    """
    gating = [m for m in config.metrics if not m.muted]
    paths = {m.name: MetricPath(m.name) for m in config.metrics}
    if not looks:
        return Decision(UNDECIDED, 0, 0, False, (), "No look is due yet.", paths, None)
    rates = information_rates(config, plan)
    fail_p = _fail_p_values(gating, plan, looks, rates, alpha)
    pass_p = _pass_p_values(gating, plan, looks, rates)
    nominal = {name: nominal_levels(r, alpha, plan.spending) for name, r in rates.items()}
    first_cross: dict[str, int] = {}
    for n, look in enumerate(looks):
        family = np.array([fail_p[m.name][n] for m in gating], dtype=np.float64)
        method = cast(AdjustMethod, config.judge.multiplicity)
        adjusted = np.asarray(adjust_p_values(family, method), dtype=np.float64)
        crossed = [
            m for m, p in zip(gating, adjusted, strict=True) if math.isfinite(p) and p <= alpha
        ]
        confirmed = _confirmed(crossed, look, n, first_cross, alpha, last=look.k == plan.n_looks)
        failed = [m.name for m in gating if m.name in confirmed or look.metrics[m.name].breached]
        ruled_out = [m.name for m in gating if _ruled_out(m, look, pass_p[m.name][n], plan)]
        seen = {
            "failed": failed,
            "no data": [m.name for m in config.metrics if look.metrics[m.name].kind == "none"],
            "crossed": [m.name for m in crossed],
            "ruled out": ruled_out,
        }
        _extend(paths, config, look, n, fail_p, pass_p, adjusted, gating, nominal, seen)
        verdict, judgment = _labelled(config, look, failed)
        minute = f"minute {look.at / 60:g} of {plan.horizon / 60:g}"
        if failed and verdict in (Verdict.FAIL, Verdict.MARGINAL):
            why = f"Failed at {minute} on {', '.join(failed)}."
            return Decision(
                str(verdict), look.k, look.at, False, tuple(failed), why, paths, judgment
            )
        early = len(ruled_out) == len(gating) and len(gating) > 0 and look.k < plan.n_looks
        if early and all(look.at >= (m.min_duration or plan.min_duration) for m in gating):
            why = f"Passed early at {minute}: every metric ruled out its minimum practical effect."
            return Decision("pass", look.k, look.at, True, (), why, paths, judgment)
        if look.k == plan.n_looks:
            if verdict == Verdict.NODATA:
                why = f"No verdict at the horizon ({plan.horizon / 60:g} min): " + (
                    judgment.reason if judgment is not None else "no data."
                )
                return Decision(str(verdict), look.k, look.at, False, (), why, paths, judgment)
            why = (
                f"Judged at the horizon ({plan.horizon / 60:g} min): no regression crossed "
                "its boundary and held."
            )
            held = held_back(gating, look, pass_p, ruled_out, plan, done=True)
            return Decision(str(verdict), look.k, look.at, False, (), why, paths, judgment, held)
    last = looks[-1]
    nxt = plan.look_times()[last.k] if last.k < plan.n_looks else plan.horizon
    why = (
        f"Undecided at minute {last.at / 60:g} of {plan.horizon / 60:g}: no boundary reached; "
        f"the next look is at minute {nxt / 60:g}."
    )
    held = held_back(gating, last, pass_p, ruled_out, plan, done=False)
    judgment = _labelled(config, last, [])[1]
    return Decision(UNDECIDED, last.k, last.at, False, (), why, paths, judgment, held)


def _confirmed(
    crossed: Sequence[MetricConfig],
    look: Look,
    n: int,
    first_cross: dict[str, int],
    alpha: float,
    *,
    last: bool,
) -> set[str]:
    """The crossed metrics that fail at look ``n``; records where each first crossed.

    A count fails as it crosses (its e-process is built for that).  A gauge that crosses its
    boundary fails at the next look that still shows the regression (its one-look p-value at
    most ``alpha``), or at the horizon when it first crosses there.  One-look p-values of
    spiky gauges (percentiles, a restart's tail) are a little optimistic, and a transient spike
    crosses once and fades; a regression persists.  Requiring a second sight only removes
    failures, so the error control over the looks stands.  Measured on synthetic fleets with
    restarted canaries (seeds 8, 9 and 201, 300 healthy cases): healthy deploys stopped 14 -> 8,
    regressions caught 241 -> 239, a decision a look later.
    """
    out: set[str] = set()
    for m in crossed:
        lm = look.metrics[m.name]
        if lm.kind != "gauge":
            out.add(m.name)
            continue
        first = first_cross.setdefault(m.name, n)
        if (first < n and lm.p_fail <= alpha) or (first == n and last):
            out.add(m.name)
    return out


def information_rates(config: CanaryConfig, plan: SequentialPlan) -> dict[str, np.ndarray]:
    """Each metric's information rate at each look: its share of the data it will have judged.

    A gauge leaves out its warm-up, so its information grows from the warm-up's end: look ``k``
    at ``a_k`` seconds has rate ``(a_k - w) / (horizon - w)``, NaN at or before the warm-up (no
    data, no alpha spent).  A count whose harm is an increase is judged through its warm-up.

    Examples
    --------
    >>> from canarystats.config import load_config
    >>> cfg = load_config({"name": "c", "sequential": {"horizon": "20m", "look_every": "5m"},
    ...                    "metrics": [{"name": "m", "query": "q"}]})
    >>> information_rates(cfg, cfg.sequential)["m"].round(3).tolist()
    [nan, 0.333, 0.667, 1.0]
    """
    times = np.asarray(plan.look_times(), dtype=np.float64)
    out = {}
    for m, warmup in zip(config.metrics, warmups(config.metrics, config.judge), strict=True):
        w = 0 if m.kind == "count" and m.direction == "increase" else min(warmup, plan.horizon // 2)
        r = (times - w) / (plan.horizon - w)
        out[m.name] = np.where(r > 0, r, np.nan)
    return out


def nominal_levels(rates: np.ndarray, alpha: float, spending: str) -> np.ndarray:
    """The one-look p-value each boundary amounts to (NaN where no alpha is spent)."""
    out = np.full(rates.shape, np.nan)
    ok = ~np.isnan(rates)
    if ok.any():
        out[ok] = sps.norm.sf(boundaries(rates[ok], alpha=alpha, spending=cast(Spending, spending)))
    return out


def _spent(z: np.ndarray, rates: np.ndarray, spending: str) -> list[float]:
    """Repeated p-values of a path of z-statistics over the looks that spend alpha."""
    out = np.full(z.shape, np.nan)
    ok = ~np.isnan(rates)
    if ok.any():
        out[ok] = repeated_p_values(z[ok][None, :], rates[ok], spending=cast(Spending, spending))[0]
    # Before the first look that spends alpha, nothing can be rejected yet.
    out = np.where(np.isnan(out) & ~ok, 1.0, out)
    return [float(x) for x in out]


def _fail_p_values(
    gating: Sequence[MetricConfig],
    plan: SequentialPlan,
    looks: Sequence[Look],
    rates: dict[str, np.ndarray],
    alpha: float,
) -> dict[str, list[float]]:
    """Each gating metric's repeated (gauge) or anytime (count) p-value to fail, per look."""
    out: dict[str, list[float]] = {}
    for m in gating:
        series = [look.metrics[m.name] for look in looks]
        if any(s.kind == "count" for s in series):
            # The e-process assumes Poisson events, but errors come in bursts and some hosts
            # err more than others: the one-shot count test (hosts, their past, bursts) must
            # agree, read against Pocock-type boundaries since a burst fills a short window.
            # The larger p-value of the two is valid because the e-process's is.
            tolerance = plan.tolerance_of(m.min_effect.relative)
            anytime = _count_p(series, m.direction, tolerance)
            guard = _gauge_p([s.p_fail for s in series], rates[m.name], PASS_SPENDING)
            out[m.name] = [float(np.fmax(a, b)) for a, b in zip(anytime, guard, strict=True)]
        else:
            out[m.name] = _gauge_p([s.p_fail for s in series], rates[m.name], plan.spending)
    return out


def _pass_p_values(
    gating: Sequence[MetricConfig],
    plan: SequentialPlan,
    looks: Sequence[Look],
    rates: dict[str, np.ndarray],
) -> dict[str, list[float]]:
    """Each gating metric's running p-value that its regression is ruled out, per look."""
    out: dict[str, list[float]] = {}
    for m in gating:
        series = [look.metrics[m.name] for look in looks]
        if any(s.kind == "count" for s in series):
            out[m.name] = _count_pass_p(series, m, plan, rates[m.name])
        else:
            out[m.name] = _gauge_p([s.p_pass for s in series], rates[m.name], PASS_SPENDING)
    return out


def _gauge_p(p_looks: Sequence[float], rates: np.ndarray, spending: str) -> list[float]:
    """Repeated p-values of a path of one-sided p-values (a look without one adds nothing)."""
    p = np.asarray(p_looks, dtype=np.float64)
    # A one-sided p-value as a z-statistic; no value at a look is no evidence (z = -inf).
    z = np.where(np.isnan(p), -np.inf, sps.norm.isf(np.clip(p, 1e-300, 1.0)))
    if np.all(np.isnan(p)):
        return [math.nan] * len(p)
    return _spent(z, rates[: len(p)], spending)


def _count_pass_p(
    series: Sequence[LookMetric], m: MetricConfig, plan: SequentialPlan, rates: np.ndarray
) -> list[float]:
    """Repeated p-values that a count's rate is inside the tolerance, per look.

    The looks are planned in data time, so the early pass spends ``pass_alpha`` over them like
    a gauge (a Wald statistic on the totals so far, its variance widened by the cohorts'
    burstiness up to that look); only the fail side needs the anytime e-process, which stays
    valid however a count's events bunch up between looks.  A regression must exceed the rate
    ratio ``count_tolerance`` (or the metric's relative ``min_effect``, where wider) and the
    metric's absolute ``min_effect`` (a difference of rates, as in the one-shot count test), so
    a rare error that doubles can be ruled out as harmless.
    """
    cum = _totals(series)
    if cum[-1, 0] + cum[-1, 2] == 0:
        return [0.0] * len(series)  # nothing happened on either side: nothing to rule out
    seen = np.array([s.kind == "count" for s in series])
    # Under the margin both cohorts' events come from one process, and the chi-square estimate
    # of a burst process falls short more often than not (heavy tails): each look uses the
    # larger of the two cohorts' burstiness for both (measured on bursts of five at the
    # margin: a nominal 10 % ruled out 10-11 % of the time, 12-14 % with each cohort's own).
    # (Looks that are not counts are masked out below.)
    burst = np.array(
        [max(s.canary_burstiness, s.baseline_burstiness, 1.0) for s in series], dtype=np.float64
    )
    z = rate_margin_test(
        cum[:, 0],
        cum[:, 1],
        cum[:, 2],
        cum[:, 3],
        plan.tolerance_of(m.min_effect.relative),
        direction=cast(Direction, m.direction),
        canary_burstiness=burst,
        baseline_burstiness=burst,
        min_diff=m.min_effect.absolute,
    )
    z = np.where(seen & np.isfinite(z), z, -np.inf)
    return _spent(z, rates[: len(series)], PASS_SPENDING)


def _totals(series: Sequence[LookMetric]) -> np.ndarray:
    """Each look's cumulative (canary events, exposure, baseline events, exposure)."""
    cum = np.array(
        [
            [s.canary_events, s.canary_exposure, s.baseline_events, s.baseline_exposure]
            if s.kind == "count"
            else [math.nan] * 4
            for s in series
        ],
        dtype=np.float64,
    )
    # Looks without data repeat the last totals: their increment is empty.
    return np.fmax.accumulate(np.nan_to_num(cum, nan=0.0), axis=0)


def _count_p(series: Sequence[LookMetric], direction: str, tolerance: float) -> list[float]:
    """Anytime p-values of a count's e-process that its ratio is beyond the tolerance."""
    inc = np.diff(_totals(series), axis=0, prepend=0.0)
    c, ec, b, eb = (inc[:, i][None, :] for i in range(4))
    up, down = tolerance, 1.0 / tolerance
    sides = {"increase": [("above", up)], "decrease": [("below", down)]}.get(
        direction, [("above", up), ("below", down)]
    )
    ps = [
        anytime_p_values(rate_ratio_log_e(c, ec, b, eb, null_ratio=r0, side=s))[0]
        for s, r0 in sides
    ]
    if len(ps) == 1:
        return [float(x) for x in ps[0]]
    combined = np.minimum(1.0, 2.0 * np.minimum(ps[0], ps[1]))
    return [float(x) for x in combined]


def _ruled_out(m: MetricConfig, look: Look, p_pass: float, plan: SequentialPlan) -> bool:
    lm = look.metrics[m.name]
    if lm.kind == "none" or lm.breached:
        return False
    return math.isfinite(p_pass) and p_pass <= plan.pass_alpha


def _extend(
    paths: dict[str, MetricPath],
    config: CanaryConfig,
    look: Look,
    n: int,
    fail_p: dict[str, list[float]],
    pass_p: dict[str, list[float]],
    adjusted: np.ndarray,
    gating: Sequence[MetricConfig],
    nominal: dict[str, np.ndarray],
    seen: dict[str, list[str]],
) -> None:
    """Record look ``n`` in every metric's path; ``seen`` names the metrics that failed, had no
    data, crossed their boundary and ruled out their regression at it (the first that applies
    is the status)."""
    adj = {m.name: float(a) for m, a in zip(gating, adjusted, strict=True)}
    for m in config.metrics:
        path, lm = paths[m.name], look.metrics[m.name]
        path.kind.append(lm.kind)
        running = fail_p[m.name][n] if m.name in fail_p else math.nan
        path.p_look.append(lm.p_fail if lm.kind == "gauge" else running)
        path.p_fail.append(fail_p[m.name][n] if m.name in fail_p else math.nan)
        path.p_adjusted.append(adj.get(m.name, math.nan))
        bound = nominal[m.name][look.k - 1]
        path.boundary.append(float(bound) if lm.kind == "gauge" else math.nan)
        path.p_pass.append(pass_p[m.name][n] if m.name in pass_p else math.nan)
        status = next(
            (
                name
                for name in ("failed", "no data", "crossed", "ruled out")
                if m.name in seen[name]
            ),
            "open",
        )
        path.status.append(status)


def _labelled(
    config: CanaryConfig, look: Look, failed: Sequence[str]
) -> tuple[Verdict, Judgment | None]:
    """The verdict of a look's sequential labels, and its one-shot judgment relabelled.

    A metric that crossed is High or Low (by the sign of its effect, or its direction); every
    other judged metric is Pass -- at a look the one-shot label alone is not a decision, the
    boundary is.  Unjudged metrics keep their label.  The verdict is scored from the labels the
    look recorded, so a look read back from a state file scores the same.
    """
    labels = {m.name: _sequential_label(m, look.metrics[m.name], failed) for m in config.metrics}
    scored = score(
        [
            ScoredMetric(m.name, labels[m.name], m.groups, m.critical, m.muted)
            for m in config.metrics
        ],
        config.groups,
        config.judge.pass_score,
        config.judge.marginal_score,
    )
    j = look.judgment
    if j is None:
        return scored.verdict, None
    judgment = replace(
        j,
        metrics=tuple(replace(r, classification=labels[r.name]) for r in j.metrics),
        verdict=scored.verdict,
        score=scored.score,
        reason=scored.reason,
        group_scores=scored.group_scores,
    )
    return scored.verdict, judgment


def _sequential_label(m: MetricConfig, lm: LookMetric, failed: Sequence[str]) -> Label:
    if m.name in failed:
        return _failing_label(m.direction, lm)
    label = Label(lm.label)
    if label in FAILING and label != Label.NODATA_FAIL:
        return Label.PASS
    return label


def _failing_label(direction: str, lm: LookMetric | None) -> Label:
    if lm is not None and lm.label in (Label.HIGH, Label.LOW):
        return Label(lm.label)
    if direction == "decrease" or (direction == "either" and lm is not None and lm.sign < 0):
        return Label.LOW
    return Label.HIGH


def path_as_dict(path: MetricPath) -> dict[str, Any]:
    """A metric's path as JSON-ready lists (NaN as None)."""
    return dict(json_safe(path.__dict__))
