"""What the monitor gate found: per monitor, which groups fired where, and what it means.

Plain frozen values, like :mod:`canarystats.results`: a :class:`MonitorGate` rides on the
:class:`~canarystats.results.Judgment` and reports render it as a group of its own.
:mod:`canarystats.monitors.gate` computes them; nothing here decides anything.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["MONITOR_GROUP", "MonitorFiring", "MonitorGate", "MonitorResult"]

#: the name of the monitors' group in ``group_scores`` and in reports
MONITOR_GROUP = "monitors"


@dataclass(frozen=True)
class MonitorFiring:
    """One monitor group that was triggered during the canary window.

    ``cohort`` is ``canary`` or ``baseline`` where the group's host is one of that cohort's,
    ``other`` for another host, ``""`` for a group without a host (a simple monitor);
    ``triggered``/``resolved`` are ISO 8601 UTC (None: not known, or still firing).
    """

    group: str
    host: str | None
    cohort: str
    status: str
    triggered: str | None
    resolved: str | None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return dict(self.__dict__)


@dataclass(frozen=True)
class MonitorResult:
    """One monitor's part in the verdict.

    ``state`` is ``canary`` (fired on canary hosts only), ``environment`` (on canary hosts and
    on others), ``elsewhere`` (on other hosts only) or ``quiet``; ``outcome`` is what that
    means for the deploy, in the words of :func:`canarystats.labels.outcome`: ``fail``,
    ``unjudged`` or ``pass``; ``reason`` says it in one sentence with the monitor's link.
    """

    monitor_id: int
    name: str
    url: str
    state: str
    outcome: str
    reason: str
    firings: tuple[MonitorFiring, ...] = ()

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict."""
        return {
            "monitor_id": self.monitor_id,
            "name": self.name,
            "url": self.url,
            "state": self.state,
            "outcome": self.outcome,
            "reason": self.reason,
            "firings": [f.to_dict() for f in self.firings],
        }


@dataclass(frozen=True)
class MonitorGate:
    """The monitor gate of a run.

    ``checked`` is False where the config names monitors but no states were given (then
    ``reason`` says so and the verdict is the metrics'); ``window`` is the canary window the
    groups were checked against (ISO 8601 UTC); ``score`` is the monitors' group score (100
    times the passing share of the judged monitors; None when none was judged).

    Examples
    --------
    >>> MonitorGate(checked=False, level="alert", reason="not checked").to_dict()["checked"]
    False
    """

    checked: bool
    level: str
    reason: str
    window: tuple[str, str] | None = None
    monitors: tuple[MonitorResult, ...] = ()
    score: float | None = None

    @property
    def failed(self) -> tuple[MonitorResult, ...]:
        """The monitors that fail the canary."""
        return tuple(m for m in self.monitors if m.outcome == "fail")

    def to_dict(self) -> dict[str, Any]:
        """A JSON-safe dict, as ``monitors`` of the JSON report."""
        return {
            "checked": self.checked,
            "level": self.level,
            "reason": self.reason,
            "window": None if self.window is None else list(self.window),
            "score": self.score,
            "monitors": [m.to_dict() for m in self.monitors],
        }
