"""What keeps a canary from passing early, in one sentence for its report.

A healthy canary that waits for the horizon costs a team that deploys many times a day its
time, and the cause is rarely visible from the verdict alone: one metric whose hosts differ too
much to rule out its minimum practical effect, or an error count with so few events that a rise
of its rate by the plan's ``count_tolerance`` cannot be told from chance for hours.  The second
has a remedy in the config (an absolute ``min_effect`` on the count: a difference of rates that
does not matter), so the sentence names it where the events so far could not rule the tolerance
out even if both cohorts erred at exactly the same rate.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import cast

import numpy as np

from canarystats.config import MetricConfig
from canarystats.config.sequential import SequentialPlan
from canarystats.sequential.looks import Look, LookMetric
from canarystats.stats.noninferiority import rate_margin_test
from canarystats.stats.sequential import Spending, boundaries
from canarystats.stats.unit_tests import Direction

__all__ = ["PASS_SPENDING", "held_back", "too_few_events", "too_rare_to_pass_early"]

#: how ``pass_alpha`` is spent, and the guard on a count's e-process: Pocock-type, so that a
#: healthy canary passes early; the plan's ``spending`` is for failing on gauges, where the
#: early looks' one-shot p-values are least sure
PASS_SPENDING: Spending = "pocock"

#: metrics named in the sentence before "and N more"
_NAMED = 4


def held_back(
    gating: Sequence[MetricConfig],
    last: Look,
    pass_p: Mapping[str, Sequence[float]],
    ruled_out: Sequence[str],
    plan: SequentialPlan,
    *,
    done: bool,
) -> str:
    """The sentence saying what held an early pass back at the last look.

    ``last`` is the latest look, ``pass_p`` each metric's repeated p-values to pass early up to
    it; ``done`` is True at the horizon (the sentence says the canary did not pass early), False
    while undecided (what must still happen); ``ruled_out`` names the metrics that ruled their
    regression out at ``last``.  Empty when nothing was held back or no metric gates.

    Examples
    --------
    >>> from canarystats.config import load_config
    >>> from canarystats.sequential.looks import Look, LookMetric
    >>> cfg = load_config({"name": "c", "sequential": {}, "metrics": [
    ...     {"name": "latency", "query": "q"}, {"name": "errors", "query": "e", "kind": "count"}]})
    >>> look = Look(1, 300, {"latency": LookMetric("gauge", p_fail=0.5, p_pass=0.4),
    ...                      "errors": LookMetric("count", canary_events=2, canary_exposure=30,
    ...                                           baseline_events=3, baseline_exposure=60)})
    >>> print(held_back(cfg.metrics, look, {"latency": [0.4], "errors": [0.9]}, [],
    ...                 cfg.sequential, done=False))  # doctest: +NORMALIZE_WHITESPACE
    To pass early, latency (p 0.4) and errors (p 0.9) must still rule out their minimum
    practical effect at pass_alpha 0.1; errors has too few events (2 canary, 3 baseline so
    far) to rule out a rate ratio of 1.25 within the horizon even at equal rates: an absolute
    min_effect on it (a rise in events per host and step, or per unit of its exposure, that
    does not matter) lets it pass early.
    """
    if not gating:
        return ""
    held = [m for m in gating if m.name not in ruled_out]
    if not held:
        if done:
            return ""
        wait = max(m.min_duration or plan.min_duration for m in gating)
        return (
            "Every metric has ruled out its minimum practical effect; an early pass waits for "
            f"min_duration (minute {wait / 60:g})."
        )
    items = [_p_named(m.name, pass_p[m.name][-1]) for m in held[:_NAMED]]
    if len(held) > _NAMED:
        named = ", ".join(items) + f" and {len(held) - _NAMED} more"
    else:
        named = " and ".join([", ".join(items[:-1]), items[-1]] if len(items) > 1 else items)
    lead = (
        f"It did not pass early: by the last look {named} had not ruled out"
        if done
        else f"To pass early, {named} must still rule out"
    )
    whose = "their" if len(held) > 1 else "its"
    sentence = f"{lead} {whose} minimum practical effect at pass_alpha {plan.pass_alpha:g}"
    rare = [m for m in held if too_few_events(m, last, plan)]
    for m in rare[:_NAMED]:
        lm = last.metrics[m.name]
        tolerance = plan.tolerance_of(m.min_effect.relative)
        sentence += (
            f"; {m.name} has too few events ({lm.canary_events:g} canary, "
            f"{lm.baseline_events:g} baseline{'' if done else ' so far'}) to rule out a rate "
            f"ratio of {tolerance:g} within the horizon even at equal rates: an absolute "
            "min_effect on it (a rise in events per host and step, or per unit of its exposure, "
            "that does not matter) lets it pass early"
        )
    return sentence + "."


def too_few_events(m: MetricConfig, look: Look, plan: SequentialPlan) -> bool:
    """Whether a count without an absolute ``min_effect`` could not rule out its tolerance by
    the horizon even if the canary erred at exactly the baseline's rate from here on.

    The events so far are projected to the horizon in proportion to data time, and the
    projected statistic at equal rates is held against the early pass's last boundary
    (Pocock-type spending of ``pass_alpha``): below it, no amount of waiting within the plan
    passes the count early.

    Examples
    --------
    >>> from canarystats.config import load_config
    >>> from canarystats.sequential.looks import Look, LookMetric
    >>> cfg = load_config({"name": "c", "sequential": {}, "metrics": [
    ...     {"name": "errors", "query": "e", "kind": "count"}]})
    >>> def at(events):
    ...     return Look(1, 300, {"errors": LookMetric("count", canary_events=events,
    ...         canary_exposure=30, baseline_events=2 * events, baseline_exposure=60)})
    >>> too_few_events(cfg.metrics[0], at(5), cfg.sequential)
    True
    >>> too_few_events(cfg.metrics[0], at(100), cfg.sequential)
    False
    """
    lm = look.metrics[m.name]
    if lm.kind != "count" or m.min_effect.absolute > 0 or look.at <= 0:
        return False
    if lm.canary_exposure <= 0 or lm.baseline_exposure <= 0:
        return False
    grow = max(plan.horizon / look.at, 1.0)
    even = lm.baseline_events * lm.canary_exposure / lm.baseline_exposure
    burst = max(lm.canary_burstiness, lm.baseline_burstiness, 1.0)
    z = rate_margin_test(
        grow * even,
        grow * lm.canary_exposure,
        grow * lm.baseline_events,
        grow * lm.baseline_exposure,
        plan.tolerance_of(m.min_effect.relative),
        direction=cast(Direction, m.direction),
        canary_burstiness=burst,
        baseline_burstiness=burst,
    )
    rates = np.asarray(plan.look_times(), dtype=np.float64) / plan.horizon
    last = boundaries(rates, alpha=plan.pass_alpha, spending=PASS_SPENDING)[-1]
    return bool(np.all(np.asarray(z) < last))


def _p_named(name: str, p: float) -> str:
    return f"{name} (p {p:.3g})" if math.isfinite(p) else f"{name} (no data)"


def too_rare_to_pass_early(
    m: MetricConfig,
    plan: SequentialPlan,
    *,
    events_per_bucket: float,
    canary_hosts: int,
    baseline_hosts: int,
) -> bool:
    """Whether a count at its usual rate could never pass early under ``plan``: its events in
    the whole horizon, spread evenly over ``canary_hosts`` and ``baseline_hosts`` hosts and
    equal in rate, would be too few to rule out its tolerance (:func:`too_few_events`).
    ``events_per_bucket`` is one host's expected events per bucket; even events are the best
    case, so bursts only make it rarer.

    Examples
    --------
    >>> from canarystats.config import load_config
    >>> cfg = load_config({"name": "c", "step": 60, "sequential": {}, "metrics": [
    ...     {"name": "errors", "query": "e", "kind": "count"}]})
    >>> rare = dict(plan=cfg.sequential, canary_hosts=3, baseline_hosts=6)
    >>> too_rare_to_pass_early(cfg.metrics[0], events_per_bucket=0.1, **rare)  # 6 an hour
    True
    >>> too_rare_to_pass_early(cfg.metrics[0], events_per_bucket=10.0, **rare)
    False
    """
    buckets = plan.horizon / m.step
    c_exposure, b_exposure = canary_hosts * buckets, baseline_hosts * buckets
    look = Look(
        1,
        plan.horizon,
        {
            m.name: LookMetric(
                "count",
                canary_events=events_per_bucket * c_exposure,
                canary_exposure=c_exposure,
                baseline_events=events_per_bucket * b_exposure,
                baseline_exposure=b_exposure,
            )
        },
    )
    return too_few_events(m, look, plan)
