"""The plain-text report of a :class:`canarystats.plan.Plan`: the recommendation of each design,
what the config's sequential plan cannot do with the data's rates, then each metric's needs."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from canarystats.plan import MetricPlan, Plan

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
