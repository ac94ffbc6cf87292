"""The monitor gate in reports: a group of its own, each monitor with its one sentence.

Every format shows the same facts (:class:`~canarystats.monitors.MonitorGate` computed them):
the group's score, whether the monitors were checked, and per monitor where it fired, when,
and its link.  Monitors that fail the canary come first.
"""

from __future__ import annotations

from canarystats.monitors.results import MonitorGate, MonitorResult
from canarystats.report.context import score_text

__all__ = ["monitor_heading", "monitors_in_order"]

_ORDER = {"fail": 0, "unjudged": 1, "pass": 2}


def monitor_heading(gate: MonitorGate) -> str:
    """One line: the monitors group, its score, and what it found.

    Examples
    --------
    >>> monitor_heading(MonitorGate(checked=False, level="alert", reason="Not checked."))
    'monitors (not checked): Not checked.'
    """
    if not gate.checked:
        return f"monitors (not checked): {gate.reason}"
    if not gate.monitors:
        return f"monitors: {gate.reason}"
    score = "n/a" if gate.score is None else score_text(gate.score)
    counts = [
        f"{sum(m.state == state for m in gate.monitors)} {words}"
        for state, words in (
            ("canary", "fired on canary hosts"),
            ("environment", "fired on canary hosts and others"),
            ("elsewhere", "fired elsewhere only"),
        )
        if any(m.state == state for m in gate.monitors)
    ]
    found = "; ".join(counts) if counts else "none fired"
    return f"monitors: score {score}/100 over {len(gate.monitors)} checked; {found}"


def monitors_in_order(gate: MonitorGate) -> list[MonitorResult]:
    """The monitors, those failing the canary first, then the unjudged, then the passing.

    Examples
    --------
    >>> monitors_in_order(MonitorGate(checked=True, level="alert", reason="."))
    []
    """
    return sorted(gate.monitors, key=lambda m: _ORDER.get(m.outcome, 1))
