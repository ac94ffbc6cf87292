"""The plain-text report of a :class:`canarystats.plan.Plan`: the recommendation of each design,
what the config's sequential plan cannot do with the data's rates, then each metric's needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from canarystats.plan import MetricPlan, Plan
    from canarystats.plan_early_pass import EarlyPassOutlook

__all__ = ["plan_text"]

_ADJUSTMENTS = {
    "hommel": "Hommel",
    "holm": "Holm",
    "bonferroni": "Bonferroni",
    "bh": "Benjamini-Hochberg",
}


def plan_text(p: Plan) -> str:
    """A short plain-text report: the recommendation, then each metric's needs.

    Examples
    --------
    >>> from canarystats.plan import _example_config, _example_frame, plan
    >>> print(plan_text(plan(_example_config(), _example_frame())).splitlines()[1])
    Baseline: 6 hosts, 120 minutes of data (durations up to that are evaluated).
    """
    how = _ADJUSTMENTS.get(p.multiplicity)
    over = "metric" if p.family == 1 else "metrics"
    family = f" ({how} over {p.family} {over})" if how else " (no adjustment)"
    lines = [
        f"Plan for {p.config_name}: detect a {p.relative_change * 100:g}% regression "
        f"with {p.target_power * 100:g}% power at alpha {p.alpha:g}{family}.",
        f"Baseline: {p.baseline_hosts} hosts, {p.data_minutes} minutes of data "
        f"(durations up to that are evaluated).",
    ]
    lines += _design_lines(p.metrics, p.recommendation, p.canary_hosts, p.data_minutes)
    if p.recommendation_with_past:
        lines.append(
            f"With each host's own {p.pre_window / 60:g} minutes before the deploy "
            "(canaries that existed before it: --start T0 with a pre-deploy window):"
        )
        lines += _design_lines(
            p.metrics_with_past, p.recommendation_with_past, p.canary_hosts, p.data_minutes
        )
    lines += _rare_lines(p)
    lines += _early_lines(p)
    lines += _metric_lines(p.metrics, "window levels")
    if p.metrics_with_past:
        lines += _metric_lines(p.metrics_with_past, "each host against its own past")
    return "\n".join(lines) + "\n"


def _rare_lines(p: Plan) -> list[str]:
    """The counts the config's sequential plan can never pass early at the data's rates."""
    if not p.too_rare_to_pass_early:
        return []
    rare = list(p.too_rare_to_pass_early)
    one = len(rare) == 1
    names = rare[0] if one else ", ".join(rare[:-1]) + " and " + rare[-1]
    return [
        f"Sequential plan (horizon {p.sequential_horizon / 60:g} min): {names} "
        f"{'is' if one else 'are'} too rare in the data to rule out a rise of "
        f"{'its' if one else 'their'} rate within the horizon, even with {p.canary_hosts[-1]} "
        "canary hosts: a canary that errs as often as the baseline does not pass early on "
        f"{'it' if one else 'them'}; an absolute min_effect on {'it' if one else 'each'} (a rise "
        "in events per host and step, or per unit of its exposure, that does not matter) lets "
        "it."
    ]


def _early_lines(p: Plan) -> list[str]:
    """How likely a healthy canary passes early under the config's sequential plan."""
    o = p.early_pass
    if o is None or not o.minutes:
        return []
    lines = [
        f"Early pass (sequential plan: horizon {o.horizon_minutes:g} min, pass_alpha "
        f"{o.pass_alpha:g}): the chance that a healthy canary has ruled out every metric's "
        "minimum practical effect, by look (metrics taken as independent):"
    ]
    designs = [("window levels", o)]
    if p.early_pass_with_past is not None:
        designs.append(("each host against its own past", p.early_pass_with_past))
    for design, outlook in designs:
        lines.append(f"  {design}:")
        unknown = [n for n, c in outlook.by_metric.items() if np.isnan(c[-1, -1])]
        if unknown:
            lines.append(
                f"    unknown: the plan's data ({p.data_minutes} minutes) is too short to "
                f"measure how much hosts differ over the looks for {', '.join(unknown)}; give "
                "more data"
            )
            continue
        lines += [f"    {line}" for line in _outlook_lines(outlook)]
        held = outlook.least_likely()
        if held:
            k, last = outlook.canary_hosts[-1], outlook.minutes[-1]
            named = ", ".join(f"{name} {_percent(c)}" for name, c in held)
            lines.append(
                f"    least likely to be ruled out (the chance at minute {last:g} with {k} canary "
                f"hosts): {named}"
            )
    return lines


def _outlook_lines(o: EarlyPassOutlook) -> list[str]:
    """Per number of canary hosts: the chance by half the horizon and by the last early look,
    and the look by which half of healthy canaries pass early."""
    half, last = o.half_horizon(), len(o.minutes) - 1
    at = [half] if half == last else [half, last]
    lines = []
    for i, (k, by) in enumerate(zip(o.canary_hosts, o.half_by().values(), strict=True)):
        hosts = "canary host" if k == 1 else "canary hosts"
        chances = ", ".join(f"{_percent(o.chance[i, j])} by minute {o.minutes[j]:g}" for j in at)
        median = f"by minute {by:g}" if by is not None else "not before the horizon"
        lines.append(f"{k} {hosts}: {chances}; half of them pass early {median}")
    return lines


def _percent(x: float) -> str:
    return "unknown" if x != x else f"{x * 100:.0f}%"


def _design_lines(
    metrics: Sequence[MetricPlan],
    recommendation: dict[int, int | None],
    canary_hosts: Sequence[int],
    data_minutes: int,
) -> list[str]:
    """The recommendation of one design, naming the metrics it cannot reach at all."""
    lines = []
    never = [m.name for m in metrics if all(v is None for v in m.minutes_needed.values())]
    if metrics and len(never) == len(metrics):
        return [
            f"  no metric is reachable with up to {canary_hosts[-1]} canary hosts in "
            f"{data_minutes} minutes (see below)"
        ]
    if never:
        lines.append(
            f"  not reachable with up to {canary_hosts[-1]} canary hosts in {data_minutes} "
            f"minutes: {', '.join(never)} (see below); for the others:"
        )
    for k, minutes in recommendation.items():
        hosts = "canary host" if k == 1 else "canary hosts"
        need = (
            f"not reachable within {data_minutes} minutes"
            if minutes is None
            else f"run at least {minutes} minutes"
        )
        lines.append(f"  {k} {hosts}: {need}")
    return lines


def _metric_lines(metrics: Sequence[MetricPlan], design: str) -> list[str]:
    """Each metric's minutes needed by number of canary hosts, under one design."""
    lines = [f"Per metric (minutes needed by number of canary hosts, {design}):"]
    for m in metrics:
        needs = ", ".join(f"{k}: {'-' if v is None else v}" for k, v in m.minutes_needed.items())
        note = f"  ({m.note})" if m.note else ""
        kind = " (a count)" if m.kind == "count" else ""
        lines.append(f"  {m.name}{kind}: {needs}{note}")
    return lines
